# s3-prune: `make demo` and `make test` are all a newcomer needs (see README).
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/s3-prune
export S3P_CACHE := $(CACHE)
export PATH := $(CACHE)/bin:$(PATH)
SITE := target/site
BIN := target/debug/s3-prune
DEMO_BUCKET ?= demo-bucket
WASM := target/wasm32-unknown-unknown/wasm-release/frontend.wasm
# rustc's default wasm32 features, which wasm-opt must be told about
WASM_OPT_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue

.PHONY: all setup localstack-start localstack-stop site server demo test lambda-zip

all: site server

setup:
	@scripts/setup.sh all

localstack-start:
	@scripts/localstack.sh start

localstack-stop:
	@scripts/localstack.sh stop

# The dashboard's browser half: the same layout cargo-leptos makes (target/site/pkg/s3-prune.*).
site:
	cargo build -p frontend --target wasm32-unknown-unknown --profile wasm-release
	mkdir -p $(SITE)/pkg
	wasm-bindgen --target web --no-typescript --out-name s3-prune --out-dir $(SITE)/pkg $(WASM)
	wasm-opt -Oz $(WASM_OPT_FEATURES) $(SITE)/pkg/s3-prune_bg.wasm -o $(SITE)/pkg/s3-prune_bg.wasm
	cp style/main.css $(SITE)/pkg/s3-prune.css
	node scripts/compress-site.mjs $(SITE)/pkg

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

# The scheduled job's code: a static x86_64 `bootstrap` in target/lambda/bootstrap.zip
# (provided.al2023; set architecture = "x86_64" in Terraform). Needs Debian's musl-tools.
lambda-zip:
	rustup target add x86_64-unknown-linux-musl
	command -v musl-gcc >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq musl-tools || sudo apt-get install -y -qq musl-tools; }
	CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release -p server --target x86_64-unknown-linux-musl
	mkdir -p target/lambda
	cp target/x86_64-unknown-linux-musl/release/s3-prune target/lambda/bootstrap
	cd target/lambda && python3 -c "import zipfile; z = zipfile.ZipFile('bootstrap.zip', 'w', zipfile.ZIP_DEFLATED); z.write('bootstrap'); z.close()"
	@ls -l target/lambda/bootstrap target/lambda/bootstrap.zip
