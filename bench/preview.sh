#!/usr/bin/env bash
# Browser preview timing: seeds a bucket with N deployments in LocalStack, serves the dashboard
# and times re-plan + render after a control change (bench/preview.mjs). Expects LocalStack up.
# usage: bench/preview.sh BINARY N [N…]     e.g. bench/preview.sh target/release/s3-prune 2000 10000
#        RULES=1 bench/preview.sh BINARY 2000  three rules, one of them per group (200 groups):
#        main-* (every 10th), pr-G-* (8 of 10, G = 0..199), hotfix-* (the rest)
#        TRACE=1 bench/preview.sh …  also prints where a change's time goes (bench/preview-trace.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
BIN="$1"; shift
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; true' EXIT
for N in "$@"; do
  BUCKET="bench-preview-$N-$(date +%s)"
  t0=$(date +%s)
  "$CACHE/localstack/bin/python" - "$BUCKET" "$N" "${RULES:-0}" <<'PY'
import sys, concurrent.futures, datetime, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
b, n, rules = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
def name(i):
    if not rules:
        return f"d{i:05}"
    if i % 10 == 0:
        return f"main-{i:05}"
    if i % 10 == 9:
        return f"hotfix-{i:05}"
    return f"pr-{(i // 10) % 200}-{i:05}"
s3.create_bucket(Bucket=b)
now = datetime.datetime.now(datetime.timezone.utc)
def put(i):
    at = (now - datetime.timedelta(hours=2 * i)).isoformat()
    s3.put_object(Bucket=b, Key=f"{name(i)}/index.html", Body=b"x" * (1000 + i), Metadata={"deployed-at": at})
# LocalStack occasionally drops a concurrent PUT: fill in until every deployment is there.
todo = list(range(n))
while todo:
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        list(ex.map(put, todo))
    have = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, Delimiter="/"):
        have.update(p["Prefix"] for p in page.get("CommonPrefixes", []))
    todo = [i for i in range(n) if f"{name(i)}/" not in have]
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
  Q="bucket=$BUCKET"
  if [ "${RULES:-0}" = 1 ]; then
    # production,main-*,,10,30 ; previews,pr-*,^(pr-\d+)-,1, ; rest,*,,3,  (the URL's compact form)
    Q="$Q&rules=production%2Cmain-*%2C%2C10%2C30%3Bpreviews%2Cpr-*%2C%255E(pr-%255Cd%252B)-%2C1%2C%3Brest%2C*%2C%2C3%2C"
  fi
  S3P_NODE_MODULES="$CACHE/node/node_modules" node bench/preview.mjs "http://127.0.0.1:3999/?$Q&token=$TOKEN"
  if [ "${TRACE:-0}" = 1 ]; then
    S3P_NODE_MODULES="$CACHE/node/node_modules" node bench/preview-trace.mjs "http://127.0.0.1:3999/?$Q&token=$TOKEN"
  fi
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
done
