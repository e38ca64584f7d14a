#!/usr/bin/env bash
# The dashboard under load (not part of `make test`): bash bench/load.sh
# Builds the release binary with the site (or measures S3P_BIN), installs wrk (Debian) if missing, starts LocalStack
# if it is not running, and runs bench/load.py (2,000 deployments; S3P_LOAD_DEPLOYMENTS=N).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
scripts/setup.sh all
if ! command -v wrk >/dev/null; then
  echo "load: installing wrk (Debian)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
# S3P_BIN=target/dist/s3-prune-…-x86_64-unknown-linux-musl measures the shipped binary (what users
# run); without it, a release build of this tree.
if [ -z "${S3P_BIN:-}" ]; then
  make --no-print-directory site
  cargo build --release -p server
fi
echo "load: measuring ${S3P_BIN:-target/release/s3-prune}" >&2
started=0
if ! scripts/localstack.sh status >/dev/null 2>&1; then scripts/localstack.sh start; started=1; fi
cleanup() { if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi; }
trap cleanup EXIT
"$CACHE/localstack/bin/python" bench/load.py
