"""The boto3 client the LocalStack benchmarks share (127.0.0.1:4566, path-style, test keys)."""
import boto3
from botocore.config import Config


def client():
    return boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
        config=Config(max_pool_connections=64, s3={"addressing_style": "path"}),
    )
