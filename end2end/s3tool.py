"""Independent S3 access for the browser tests (boto3 from the LocalStack venv), so results are
checked through the S3 API and not through s3-prune itself.

usage: s3tool.py keys BUCKET            -> JSON list of keys
       s3tool.py put BUCKET KEY [ISO]    -> put KEY (with x-amz-meta-deployed-at=ISO if given)
       s3tool.py putbody BUCKET KEY TEXT -> put KEY with TEXT as its body
       s3tool.py create BUCKET / versioned BUCKET -> a new bucket (versioning enabled)
"""
import json
import sys

import boto3

s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
cmd, bucket = sys.argv[1], sys.argv[2]
if cmd == "keys":
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    print(json.dumps(sorted(keys)))
elif cmd == "put":
    meta = {"deployed-at": sys.argv[4]} if len(sys.argv) > 4 else {}
    s3.put_object(Bucket=bucket, Key=sys.argv[3], Body=b"late deployment", Metadata=meta)
elif cmd == "putbody":
    s3.put_object(Bucket=bucket, Key=sys.argv[3], Body=sys.argv[4].encode())
elif cmd == "rm":
    s3.delete_object(Bucket=bucket, Key=sys.argv[3])
elif cmd == "create":
    s3.create_bucket(Bucket=bucket)
elif cmd == "versioned":
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
else:
    sys.exit(f"unknown command {cmd}")
