#!/usr/bin/env bash
# The dashboard under load (not part of `make test`): bash bench/load.sh
# Builds the release binary with the site, installs wrk (Debian) if missing, starts LocalStack
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
make --no-print-directory site
cargo build --release -p server
started=0
if ! scripts/localstack.sh status >/dev/null 2>&1; then scripts/localstack.sh start; started=1; fi
cleanup() { if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi; }
trap cleanup EXIT
"$CACHE/localstack/bin/python" bench/load.py
