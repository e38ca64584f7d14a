#!/usr/bin/env bash
# How fast a plan reads an S3 Inventory report (not part of `make test`): bash bench/inventory.sh
# Writes a report of S3P_INV_ROWS objects (default 1,000,000, in 1,000 deployments) as
# S3P_INV_FILES data files (default 4), once gzip CSV and once Parquet, into LocalStack
# (started if not running), then folds each S3P_INV_RUNS times (default 3) as `plan --inventory`
# does (bucket/examples/inventory_bench.rs) and writes bench/results-inventory.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
ROWS="${S3P_INV_ROWS:-1000000}"
FILES="${S3P_INV_FILES:-4}"
RUNS="${S3P_INV_RUNS:-3}"
cargo build -q --release -p bucket --example inventory_bench
BIN=target/release/examples/inventory_bench
started=0
if ! scripts/localstack.sh status >/dev/null 2>&1; then scripts/localstack.sh start; started=1; fi
cleanup() { if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi; }
trap cleanup EXIT
OUT=bench/results-inventory.md
{
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, LocalStack, release build."
  echo
  echo "A report of $ROWS objects in 1,000 deployments, $FILES data files, folded as \`plan --inventory\` does"
  echo "(fetched from LocalStack, MD5-checked, parsed, counted per deployment; $RUNS runs each):"
  echo
  echo '```'
} > "$OUT"
t0=$(date +%s)
"$BIN" write "$ROWS" "$FILES" > /tmp/s3p-inv-bench.txt
echo "written in $(( $(date +%s) - t0 )) s:" >&2
cat /tmp/s3p-inv-bench.txt >&2
while read -r format at mb; do
  for _ in $(seq "$RUNS"); do
    echo "$format ($mb MB of data files): $("$BIN" read "$at")" | tee -a "$OUT"
  done
done < /tmp/s3p-inv-bench.txt
echo '```' >> "$OUT"
echo "== results in $OUT"
