#!/usr/bin/env bash
# Installs what `make demo` / `make test` need, once per machine.
# Everything lands under $S3P_CACHE (default ~/.cache/s3-prune), outside the clone, with a
# version stamp per tool so a fresh clone reuses it and a version bump reinstalls it.
set -euo pipefail
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
mkdir -p "$CACHE/bin" "$CACHE/stamps"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,"",$0); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"
BINARYEN_VERSION=132.0.0
LOCALSTACK_VERSION=4.13.1
PLAYWRIGHT_VERSION=1.65.1
# Accessibility checks in the Playwright suite.
AXE_VERSION=4.11.0
# A real OpenID Provider (OpenID-certified, for Node) the sign-in tests run against.
OIDC_PROVIDER_VERSION=9.13.3
# `make dist` only: static musl binaries for x86_64 and aarch64.
ZIGLANG_VERSION=0.15.2
CARGO_ZIGBUILD_VERSION=0.24.1

stamp_ok() { [ -f "$CACHE/stamps/$1" ] && [ "$(cat "$CACHE/stamps/$1")" = "$2" ]; }
stamp() { echo "$2" > "$CACHE/stamps/$1"; }
log() { echo "setup: $*" >&2; }

want="${1:-all}"

rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  # the browser bundle builds its own std, for size (Makefile: WASM_STD)
  if ! rustup component list --installed | grep -q '^rust-src'; then
    log "adding rust component rust-src"
    rustup component add rust-src
  fi
}

wasm_bindgen() {
  if stamp_ok wasm-bindgen "$WASM_BINDGEN_VERSION" && [ -x "$CACHE/bin/wasm-bindgen" ]; then return; fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (1-2 min, once)"
  # Without --locked: the CLI's own lockfile pins a crate version the registry no longer serves.
  # Built unoptimised: 1 min 20 s instead of ~3-5 min on a bare machine's 2 cores, and it
  # still turns the bundle in 1.7 s (0.4 s optimised) into the same bytes (compared with cmp).
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_LTO=false \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$CACHE" --force
  stamp wasm-bindgen "$WASM_BINDGEN_VERSION"
}

binaryen() {
  # The npm build of binaryen; Debian's v108 silently corrupts Leptos wasm.
  if stamp_ok binaryen "$BINARYEN_VERSION" && [ -x "$CACHE/node/node_modules/.bin/wasm-opt" ]; then return; fi
  log "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  mkdir -p "$CACHE/node"
  (cd "$CACHE/node" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$CACHE/node" && npm install --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  ln -sf "$CACHE/node/node_modules/.bin/wasm-opt" "$CACHE/bin/wasm-opt"
  stamp binaryen "$BINARYEN_VERSION"
}

localstack() {
  if stamp_ok localstack "$LOCALSTACK_VERSION" && [ -x "$CACHE/localstack/bin/python" ]; then return; fi
  log "installing localstack-core $LOCALSTACK_VERSION into a venv (~1 min, once)"
  rm -rf "$CACHE/localstack"
  python3 -m venv "$CACHE/localstack"
  "$CACHE/localstack/bin/pip" install -q "localstack-core[runtime]==$LOCALSTACK_VERSION" \
    'cbor2<6' 'pyopenssl<26' 'cryptography<47' service_identity
  stamp localstack "$LOCALSTACK_VERSION"
}

chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  log "installing Debian chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
}

playwright() {
  if stamp_ok playwright "$PLAYWRIGHT_VERSION+axe-$AXE_VERSION" && [ -d "$CACHE/node/node_modules/@playwright/test" ] \
    && [ -f "$CACHE/node/node_modules/axe-core/axe.min.js" ]; then
    :
  else
    log "installing @playwright/test $PLAYWRIGHT_VERSION and axe-core $AXE_VERSION (browser: Debian chromium, never downloaded)"
    mkdir -p "$CACHE/node"
    (cd "$CACHE/node" && [ -f package.json ] || echo '{"private":true}' > package.json)
    (cd "$CACHE/node" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund "@playwright/test@$PLAYWRIGHT_VERSION" "axe-core@$AXE_VERSION" >/dev/null)
    stamp playwright "$PLAYWRIGHT_VERSION+axe-$AXE_VERSION"
  fi
}

oidc_provider() {
  if stamp_ok oidc-provider "$OIDC_PROVIDER_VERSION" && [ -f "$CACHE/node/node_modules/oidc-provider/package.json" ]; then
    return
  fi
  log "installing oidc-provider $OIDC_PROVIDER_VERSION (the sign-in tests' identity provider)"
  mkdir -p "$CACHE/node"
  (cd "$CACHE/node" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$CACHE/node" && npm install --no-audit --no-fund "oidc-provider@$OIDC_PROVIDER_VERSION" >/dev/null)
  stamp oidc-provider "$OIDC_PROVIDER_VERSION"
}

apt_install() {
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# Cross builds for `make dist`: zig (PyPI `ziglang`) as the C compiler and linker for both musl
# targets, driven by cargo-zigbuild; qemu-user to run the aarch64 binary once as a check.
dist() {
  for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  done
  if ! { stamp_ok ziglang "$ZIGLANG_VERSION" && [ -x "$CACHE/bin/zig" ]; }; then
    log "installing ziglang $ZIGLANG_VERSION into a venv (once)"
    rm -rf "$CACHE/zig"
    python3 -m venv "$CACHE/zig"
    "$CACHE/zig/bin/pip" install -q "ziglang==$ZIGLANG_VERSION"
    # cargo-zigbuild runs `zig` from PATH.
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$CACHE/zig/bin/python" > "$CACHE/bin/zig"
    chmod +x "$CACHE/bin/zig"
    stamp ziglang "$ZIGLANG_VERSION"
  fi
  if ! { stamp_ok cargo-zigbuild "$CARGO_ZIGBUILD_VERSION" && [ -x "$CACHE/bin/cargo-zigbuild" ]; }; then
    log "installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION (~2 min, once)"
    cargo install cargo-zigbuild --version "$CARGO_ZIGBUILD_VERSION" --locked --root "$CACHE" --force
    stamp cargo-zigbuild "$CARGO_ZIGBUILD_VERSION"
  fi
  command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || apt_install qemu-user
}

case "$want" in
  all)
    # wasm-bindgen is a 1-2 minute compile (CPU); the rest is downloads (network, disk): both at
    # once, so a bare machine waits for the longer of the two, not their sum.
    rust
    wasm_bindgen & compiling=$!
    localstack; binaryen; chromium; playwright; oidc_provider
    wait "$compiling" || { log "installing wasm-bindgen-cli failed"; exit 1; }
    ;;
  rust) rust ;;
  wasm-bindgen) wasm_bindgen ;;
  binaryen) binaryen ;;
  localstack) localstack ;;
  chromium) chromium ;;
  playwright) playwright ;;
  oidc-provider) oidc_provider ;;
  dist) dist ;;
  *) echo "usage: $0 [all|rust|wasm-bindgen|binaryen|localstack|chromium|playwright|oidc-provider|dist]" >&2; exit 2 ;;
esac
