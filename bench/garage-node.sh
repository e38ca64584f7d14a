#!/usr/bin/env bash
# A single-node Garage (the Rust S3-compatible store bench/garage.sh measures against; it starts
# its node with this script) for benchmarks that need only the server, not bench.py's whole run:
#   bash bench/garage-node.sh start   # config, metadata and data under $GARAGE_BENCH_DIR
#                                     # (default /tmp/garage-bench), S3 API on 127.0.0.1:3900,
#                                     # a key `s3p-bench` allowed to create buckets; writes
#                                     # $GARAGE_BENCH_DIR/env (S3P_BENCH_KEY, S3P_BENCH_SECRET, ...)
#   bash bench/garage-node.sh stop    # stops the node and removes the directory
# The garage binary comes from the tool cache (~/.cache/s3-prune/garage/bin/garage; bench/garage.sh
# installs it: `cargo install garage@2.5.0 --locked --root ~/.cache/s3-prune/garage`).
set -euo pipefail
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
G="$CACHE/garage/bin/garage"
DIR="${GARAGE_BENCH_DIR:-/tmp/garage-bench}"
CONF="$DIR/garage.toml"
garage() { "$G" -c "$CONF" "$@"; }

case "${1:-}" in
  start)
    [ -x "$G" ] || { echo "no $G: install it first (see bench/garage.sh)" >&2; exit 1; }
    if [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
      echo "garage: already running (pid $(cat "$DIR/pid")), env in $DIR/env" >&2; exit 0
    fi
    mkdir -p "$DIR"
    cat > "$CONF" <<CONF
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:3900"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:3903"
admin_token = "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
CONF
    nohup "$G" -c "$CONF" server > "$DIR/server.log" 2>&1 &
    echo $! > "$DIR/pid"
    for _ in $(seq 50); do garage status >/dev/null 2>&1 && break; sleep 0.2; done
    NODE="$(garage node id -q | cut -d@ -f1)"
    garage layout assign -z dc1 -c 10G "$NODE" >/dev/null
    garage layout apply --version 1 >/dev/null
    KEYINFO="$(garage key create s3p-bench)"
    KEY="$(echo "$KEYINFO" | awk '/Key ID/{print $NF}')"
    SECRET="$(echo "$KEYINFO" | awk '/Secret key/{print $NF}')"
    garage key allow --create-bucket s3p-bench >/dev/null
    cat > "$DIR/env" <<ENV
S3P_BENCH_S3=127.0.0.1:3900
S3P_BENCH_KEY=$KEY
S3P_BENCH_SECRET=$SECRET
S3P_BENCH_REGION=garage
S3P_BENCH_SERVER_PID=$(cat "$DIR/pid")
ENV
    echo "garage: running (pid $(cat "$DIR/pid")) on 127.0.0.1:3900, env in $DIR/env" >&2 ;;
  stop)
    if [ -f "$DIR/pid" ]; then
      pid="$(cat "$DIR/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$DIR"
    echo "garage: stopped" >&2 ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
