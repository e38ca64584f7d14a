"""Independent S3 access for the browser tests (boto3 from the LocalStack venv), so results are
checked through the S3 API and not through s3-prune itself.

usage: s3tool.py keys BUCKET            -> JSON list of keys
       s3tool.py put BUCKET KEY [ISO]    -> put KEY (with x-amz-meta-deployed-at=ISO if given)
       s3tool.py putbody BUCKET KEY TEXT -> put KEY with TEXT as its body
       s3tool.py create BUCKET / versioned BUCKET -> a new bucket (versioning enabled)
       s3tool.py runs BUCKET N           -> N finished runs in the bucket's journal, one a
                                            minute up to an hour ago, as another machine's CLI
                                            would have recorded them
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
elif cmd == "runs":
    import datetime
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    for i in range(int(sys.argv[3])):
        at = start + datetime.timedelta(minutes=i)
        run = at.strftime("%Y%m%dT%H%M%S") + f"{at.microsecond // 1000:03d}Z-{i:08x}"
        record = {
            "who": "ci@elsewhere", "source": "cli", "started_at": at.isoformat(), "duration_ms": 900,
            "bucket": bucket, "prefix": "", "policy": {"retain": 3}, "plan_fingerprint": f"fp{i}",
            "deleted": [{"id": f"old{i}", "objects": 2, "bytes": 20}], "deleted_objects": 2,
            "deleted_bytes": 20, "failures": [], "status": "finished", "run": run, "host": "elsewhere",
        }
        s3.put_object(Bucket=bucket, Key=f".s3-prune/runs/{run}/end.json", Body=json.dumps(record).encode())
else:
    sys.exit(f"unknown command {cmd}")
