# s3-prune: `make demo` and `make test` are all a newcomer needs (see README).
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/s3-prune
export S3P_CACHE := $(CACHE)
export PATH := $(CACHE)/bin:$(PATH)
SITE := target/site
BIN := target/debug/s3-prune
DEMO_BUCKET ?= demo-bucket
WASM := target/wasm32-unknown-unknown/wasm-release/frontend.wasm
# Flattened and re-relooped before two -Oz passes: 4.1 KB less brotli than one -Oz, the browser
# preview as fast (BENCHMARKS.md, fifteenth session). --low-memory-unused lets wasm-opt fold
# constant additions into loads' offsets: rustc lays the stack out first (data from 1 MiB), so the
# lowest KiB is only ever reached by a stack already overflowing; -11.4 KB raw, -2.5 KB brotli
# (BENCHMARKS.md, twenty-first session).
WASM_OPT_PASSES := --flatten --rereloop -Oz -Oz --low-memory-unused
# The browser's std and core built with the bundle, for size: a panic traps at once (no message
# formatting, no panic locations) and core's size-optimised paths. -30 KB brotli, from 381.4 to
# 348.2 KB (BENCHMARKS.md, seventeenth session). These are unstable flags of the stable compiler,
# so only this build is told it may use them (RUSTC_BOOTSTRAP=1); it needs the toolchain's
# rust-src (`make setup`). RUSTFLAGS replaces .cargo/config.toml's list: the cfg is repeated.
# Tested with rustc 1.95.0. Unstable flags may change in a later compiler: if it refuses them,
# `make site WASM_STD= WASM_RUSTFLAGS="--cfg erase_components"` builds the bundle the stable way
# (~34 KB brotli larger, over the CI's size guard).
WASM_STD := -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
WASM_RUSTFLAGS := --cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none
# rustc's default wasm32 features, which wasm-opt must be told about
WASM_OPT_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue

.PHONY: all setup localstack-start localstack-stop site server demo test dist install image

all: site server

setup:
	@scripts/setup.sh all

localstack-start:
	@scripts/localstack.sh start

localstack-stop:
	@scripts/localstack.sh stop

# The dashboard's browser half: the same layout cargo-leptos makes (target/site/pkg/s3-prune.*).
# The files are rewritten only when the wasm or the css changed: the server embeds them, and a
# rewrite would rebuild it.
site:
	@scripts/setup.sh rust
	RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(WASM_RUSTFLAGS)" cargo build -p frontend --target wasm32-unknown-unknown --profile wasm-release $(WASM_STD)
	@$(MAKE) --no-print-directory $(SITE)/pkg/.built

$(SITE)/pkg/.built: $(WASM) style/main.css scripts/compress-site.mjs Makefile
	mkdir -p $(SITE)/pkg
	wasm-bindgen --target web --no-typescript --out-name s3-prune --out-dir $(SITE)/pkg $(WASM)
	wasm-opt $(WASM_OPT_PASSES) $(WASM_OPT_FEATURES) $(SITE)/pkg/s3-prune_bg.wasm -o $(SITE)/pkg/s3-prune_bg.wasm
	cp style/main.css $(SITE)/pkg/s3-prune.css
	node scripts/compress-site.mjs $(SITE)/pkg
	@touch $@

server:
	cargo build -p server

# Seeds a demo bucket in LocalStack and serves the dashboard on http://127.0.0.1:3000.
demo: setup localstack-start site server
	$(BIN) demo $(DEMO_BUCKET) --localstack
	@echo "Open the sign-in link printed below, then try ?bucket=$(DEMO_BUCKET)&retain=5&days=30 (Ctrl-C stops it; make localstack-stop stops LocalStack)"
	$(BIN) serve --bucket $(DEMO_BUCKET) --localstack --date-source meta:deployed-at

# Everything CI runs: lint, unit, property, LocalStack and browser tests.
test: setup
	@scripts/test.sh

# Release files in target/dist/: static x86_64 and aarch64 binaries, the Lambda zip per
# architecture, the man page, completions and SHA256SUMS (see scripts/dist.sh).
dist: site
	@scripts/dist.sh

# The dashboard as a container image (Dockerfile): the x86_64 binary from `make dist`.
CONTAINER ?= $(shell command -v podman || command -v docker)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
image:
	@test -x target/dist/s3-prune-$(VERSION)-x86_64-unknown-linux-musl || { echo "run make dist first"; exit 1; }
	@test -n "$(CONTAINER)" || { echo "needs podman or docker"; exit 1; }
	rm -rf target/container && mkdir -p target/container/data
	cp target/dist/s3-prune-$(VERSION)-x86_64-unknown-linux-musl target/container/s3-prune
	cp /etc/ssl/certs/ca-certificates.crt target/container/
	$(CONTAINER) build -t s3-prune:$(VERSION) -t s3-prune:latest -f Dockerfile target/container

# From a clone: `make install` builds the browser files and installs ~/.cargo/bin/s3-prune.
install:
	@for t in rust wasm-bindgen binaryen; do scripts/setup.sh $$t; done
	@$(MAKE) --no-print-directory site
	cargo install --locked --path server
