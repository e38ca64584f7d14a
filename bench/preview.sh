#!/usr/bin/env bash
# Browser preview timing: seeds a bucket with N deployments in LocalStack, serves the dashboard
# and times re-plan + render after a control change (bench/preview.mjs). Expects LocalStack up.
# usage: bench/preview.sh BINARY N [N…]     e.g. bench/preview.sh target/release/s3-prune 2000 10000
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
BIN="$1"; shift
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; true' EXIT
for N in "$@"; do
  BUCKET="bench-preview-$N-$(date +%s)"
  t0=$(date +%s)
  "$CACHE/localstack/bin/python" - "$BUCKET" "$N" <<'PY'
import sys, concurrent.futures, datetime, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
b, n = sys.argv[1], int(sys.argv[2])
s3.create_bucket(Bucket=b)
now = datetime.datetime.now(datetime.timezone.utc)
def put(i):
    at = (now - datetime.timedelta(hours=2 * i)).isoformat()
    s3.put_object(Bucket=b, Key=f"d{i:05}/index.html", Body=b"x" * (1000 + i), Metadata={"deployed-at": at})
# LocalStack occasionally drops a concurrent PUT: fill in until every deployment is there.
todo = list(range(n))
while todo:
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        list(ex.map(put, todo))
    have = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, Delimiter="/"):
        have.update(p["Prefix"] for p in page.get("CommonPrefixes", []))
    todo = [i for i in range(n) if f"d{i:05}/" not in have]
PY
  echo "seeded $N deployments in $(( $(date +%s) - t0 )) s" >&2
  TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  echo "$TOKEN" > /tmp/s3p-bench-token
  "$BIN" serve --addr 127.0.0.1:3999 --localstack --bucket "$BUCKET" --date-source meta:deployed-at \
    --max-delete 100000 --token-file /tmp/s3p-bench-token --audit-db /tmp/s3p-bench-audit.sqlite \
    2>/tmp/s3p-bench-serve.log &
  SERVE_PID=$!
  # up once it answers (401: no session yet)
  for _ in $(seq 1 50); do [ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:3999/")" = 401 ] && break; sleep 0.2; done
  S3P_NODE_MODULES="$CACHE/node/node_modules" node bench/preview.mjs "http://127.0.0.1:3999/?bucket=$BUCKET&token=$TOKEN"
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
done
