#!/usr/bin/env bash
# `make test`: lint, unit, property, LocalStack integration and Playwright tests.
# Starts LocalStack if it is not running, and stops it again if it started it.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
# One-shot builds: incremental state would only cost disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
step() { printf '\n==> %s\n' "$*"; }

started=0
if ! scripts/localstack.sh status >/dev/null 2>&1; then
  scripts/localstack.sh start
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then scripts/localstack.sh stop; fi; }
trap cleanup EXIT

step "browser bundle (built into the server binary, so it comes first)"
make --no-print-directory site
step "format"
cargo fmt --all --check
step "clippy (native, deny warnings)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
step "clippy (wasm: frontend + app/hydrate, deny warnings)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
step "retention compiles to wasm32"
cargo check -p retention --target wasm32-unknown-unknown
step "unit, property and LocalStack integration tests"
# Most integration tests wait on LocalStack or on LastModified ticking: more threads than cores.
RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}" cargo test --workspace --exclude frontend
step "Playwright against s3-prune serve + LocalStack"
# The binary `cargo test` just built for the integration tests (target/debug/s3-prune): a
# separate `cargo build -p server` would compile much of the stack again with another feature
# set (it did: ~2 min). The harness copies it out of the repo and serves from there.
test -x target/debug/s3-prune || { echo "target/debug/s3-prune is missing: cargo test builds it" >&2; exit 1; }
ln -sfn "$CACHE/node/node_modules" end2end/node_modules
(cd end2end && S3P_CACHE="$CACHE" node node_modules/@playwright/test/cli.js test)
step "all tests passed"
