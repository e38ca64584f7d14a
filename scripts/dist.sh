#!/usr/bin/env bash
# `make dist`: release binaries, Lambda zips, man page, completions and SHA256SUMS in target/dist/.
#
# Static musl binaries for x86_64 and aarch64, cross-linked by zig (cargo-zigbuild), with the
# dashboard's browser files built in (`make site` runs first). Each binary is run once with
# --version as a check: natively, or under qemu-user for aarch64.
# DIST_TARGETS="x86_64-unknown-linux-musl" builds one target only.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
export PATH="$CACHE/bin:$PATH"
export CARGO_INCREMENTAL=0
TARGETS="${DIST_TARGETS:-x86_64-unknown-linux-musl aarch64-unknown-linux-musl}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
DIST=target/dist
log() { printf '\n==> %s\n' "$*"; }

scripts/setup.sh dist
rm -rf "$DIST"
mkdir -p "$DIST"

# Lambda's name for each architecture (the Terraform module's `architecture`).
lambda_arch() { case "$1" in x86_64-*) echo x86_64 ;; aarch64-*) echo arm64 ;; esac; }

for target in $TARGETS; do
  log "s3-prune $VERSION for $target"
  cargo zigbuild --locked --profile ship -p server --target "$target"
  bin="$DIST/s3-prune-$VERSION-$target"
  cp "target/$target/ship/s3-prune" "$bin"
  # Static: no interpreter, so it runs on any Linux (and FROM scratch).
  if file "$bin" | grep -q 'dynamically linked'; then
    echo "error: $bin is dynamically linked" >&2
    exit 1
  fi
  case "$target" in
    x86_64-*) "$bin" --version ;;
    aarch64-*)
      if command -v qemu-aarch64 >/dev/null; then qemu-aarch64 "$bin" --version
      else echo "note: qemu-aarch64 missing, $bin not run"; fi ;;
  esac
  # The Lambda function: the same binary named `bootstrap` (provided.al2023 runtime).
  zip="$DIST/s3-prune-$VERSION-lambda-$(lambda_arch "$target").zip"
  python3 - "$bin" "$zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo('bootstrap', date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # an executable file
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, open(src, 'rb').read())
PY
done

# Man page and completions, from a binary this machine runs: the x86_64 one just built, else the
# aarch64 one under qemu (DIST_TARGETS=aarch64-… alone), else a debug build of this checkout.
x86="$DIST/s3-prune-$VERSION-x86_64-unknown-linux-musl"
arm="$DIST/s3-prune-$VERSION-aarch64-unknown-linux-musl"
if [ -x "$x86" ] && [ "$(uname -m)" = x86_64 ]; then host=("$x86")
elif [ -x "$arm" ] && [ "$(uname -m)" = aarch64 ]; then host=("$arm")
elif [ -x "$arm" ] && command -v qemu-aarch64 >/dev/null; then host=(qemu-aarch64 "$arm")
else
  cargo build --locked -q -p server
  host=(target/debug/s3-prune)
fi
"${host[@]}" man > "$DIST/s3-prune.1"
for shell in bash zsh fish; do "${host[@]}" completions "$shell" > "$DIST/s3-prune.$shell"; done

(cd "$DIST" && sha256sum -- * | grep -v ' SHA256SUMS$' > SHA256SUMS)
log "target/dist"
ls -l "$DIST"
