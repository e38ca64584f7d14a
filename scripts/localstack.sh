#!/usr/bin/env bash
# Starts or stops a LocalStack S3 (no Docker) on 127.0.0.1:4566 for demo and tests.
# `start` is idempotent: an already healthy LocalStack on the port is reused.
set -euo pipefail
CACHE="${S3P_CACHE:-$HOME/.cache/s3-prune}"
STATE="${S3P_LOCALSTACK_DIR:-$CACHE/localstack-run}"
PORT="${S3P_LOCALSTACK_PORT:-4566}"
URL="http://127.0.0.1:$PORT/_localstack/health"

# Healthy once S3 answers a request: the health page says "available" before S3's handlers are
# loaded, and requests sent at once in that window fail with "no handler for operation" (seen in
# CI: the first tests' CreateBucket calls got 501). One S3 request, alone, loads them (a listing
# of a bucket that does not exist: S3's NoSuchBucket; `GET /` is answered by the gateway itself).
healthy() {
  curl -fsS --max-time 2 "$URL" 2>/dev/null | grep -Eq '"s3": *"(running|available)"' &&
    curl -s --max-time 30 "http://127.0.0.1:$PORT/s3-prune-ready-check" | grep -q NoSuchBucket
}

case "${1:-}" in
  start)
    if healthy; then echo "localstack: already running on :$PORT" >&2; exit 0; fi
    mkdir -p "$STATE/fs"
    OVERRIDE_IN_DOCKER=0 SERVICES=s3 EAGER_SERVICE_LOADING=1 GATEWAY_LISTEN="127.0.0.1:$PORT" \
      FILESYSTEM_ROOT="$STATE/fs" SKIP_SSL_CERT_DOWNLOAD=1 DNS_ADDRESS=0 DISABLE_EVENTS=1 \
      nohup "$CACHE/localstack/bin/python" -m localstack.runtime.main > "$STATE/localstack.log" 2>&1 &
    echo $! > "$STATE/pid"
    for _ in $(seq 1 120); do
      if healthy; then echo "localstack: ready on :$PORT (pid $(cat "$STATE/pid"))" >&2; exit 0; fi
      if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
        echo "localstack: failed to start; last lines of $STATE/localstack.log:" >&2
        tail -20 "$STATE/localstack.log" >&2; exit 1
      fi
      sleep 0.5
    done
    echo "localstack: not healthy after 60 s; see $STATE/localstack.log" >&2; exit 1 ;;
  stop)
    if [ -f "$STATE/pid" ]; then
      pid="$(cat "$STATE/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$STATE/pid"
      echo "localstack: stopped" >&2
    fi ;;
  status) if healthy; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
