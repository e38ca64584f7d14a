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

# Clippy runs inside the real builds: clippy-driver as the workspace's rustc wrapper (what
# `cargo clippy` does, but with code generation), warnings denied. A separate `cargo clippy`
# would check every dependency once more (~3 min native, ~1 min wasm on 2 cores) only to
# build it again for the tests.
CLIPPY_DRIVER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
linted() {
  RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}

step "format"
cargo fmt --all --check
step "browser bundle, clippy on the wasm side (retention, audit, app/hydrate, frontend: all wasm32)"
# Built into the server binary, so it comes first.
linted make --no-print-directory site
step "build the native side with clippy (deny warnings), then unit, property and LocalStack tests"
linted cargo test --workspace --exclude frontend --no-run
if command -v cargo-nextest >/dev/null 2>&1; then
  # One pool for every test of every binary, each in its own process, 12 at once
  # (.config/nextest.toml): `cargo test` runs the binaries one after another, so the bucket's
  # and the dashboard's LocalStack tests (~80 s) waited for the CLI's. Doc tests run after.
  linted cargo nextest run --workspace --exclude frontend --no-fail-fast \
    ${RUST_TEST_THREADS:+--test-threads "$RUST_TEST_THREADS"}
  linted cargo test --workspace --exclude frontend --doc
else
  # Most integration tests wait on LocalStack or on LastModified ticking: more threads than cores.
  RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}" linted cargo test --workspace --exclude frontend
fi
step "Playwright against s3-prune serve + LocalStack"
# The binary `cargo test` just built for the integration tests (target/debug/s3-prune): a
# separate `cargo build -p server` would compile much of the stack again with another feature
# set (it did: ~2 min). The harness copies it out of the repo and serves from there.
test -x target/debug/s3-prune || { echo "target/debug/s3-prune is missing: cargo test builds it" >&2; exit 1; }
ln -sfn "$CACHE/node/node_modules" end2end/node_modules
(cd end2end && S3P_CACHE="$CACHE" node node_modules/@playwright/test/cli.js test)
step "all tests passed"
