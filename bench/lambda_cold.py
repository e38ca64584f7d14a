"""The scheduled job's cold start: a fresh process of the binary per run, as Lambda starts a new
execution environment, under a minimal Lambda Runtime API (bench/lambda_runtime.py, shared with
bench/lambda_answer.py), against a small LocalStack bucket. Per run it measures, from just
before exec:

  init            exec -> the first `GET /2018-06-01/runtime/invocation/next`
  first response  exec -> the `POST .../invocation/<id>/response` (or `/error`) of the one event

and the process's peak RSS and CPU time (wait4's rusage of the process itself; under --qemu it is
qemu-user's, which includes the emulator). The function's environment is that of
server/tests/it/lambda.rs: S3_PRUNE_LOCALSTACK=1, S3_PRUNE_BUCKET, S3_PRUNE_RETAIN,
S3_PRUNE_MAX_DELETE, the event `{}` (or `{"dry_run": true}`).

    python3 bench/lambda_cold.py BINARY [--runs 10] [--deployments 50] [--files 10]
        [--mode noop|roll|dry] [--qemu qemu-aarch64] [--no-bucket] [--bucket EXISTING]

--mode (default noop):
  noop  apply (event `{}`) with S3_PRUNE_RETAIN = DEPLOYMENTS: every deployment is kept, nothing
        is deleted, so every run sees the same bucket (no re-seeding).
  roll  apply with S3_PRUNE_RETAIN = DEPLOYMENTS: before each run one newer deployment of FILES
        objects is PUT, so the run deletes the oldest one (FILES objects) -- a scheduled run
        after one deploy. The bucket keeps DEPLOYMENTS + 1 deployments before every run.
  dry   plan only (event `{"dry_run": true}`), RETAIN = DEPLOYMENTS - 5 (5 would go).
--no-bucket: only `init` (no S3_PRUNE_BUCKET, no event served: the process is stopped once it
        asks for one); shows what the runtime costs before any S3 work.
--qemu CMD: run the binary as `CMD BINARY` (qemu-user for a foreign architecture).

Needs LocalStack on 127.0.0.1:4566 (scripts/localstack.sh start) and boto3 (LocalStack's venv:
~/.cache/s3-prune/localstack/bin/python bench/lambda_cold.py ...).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_runtime import NEXT, RuntimeHandler, lambda_env, serve  # noqa: E402

REQUEST_ID = "bench-cold-1"


class Runtime(RuntimeHandler):
    """One event, then every further /next is held until the run ends."""
    event = b"{}"
    serve_event = True

    def do_GET(self):
        st = self.server.state
        if self.path != NEXT:
            self.not_found()
            return
        now = time.monotonic()
        with st["lock"]:
            first = st["next"] is None
            if first:
                st["next"] = now
        st["got_next"].set()
        if not first or not self.serve_event:
            st["stop"].wait()
            return
        self.send_event(self.event, REQUEST_ID)

    def do_POST(self):
        st = self.server.state
        body = self.read_body()
        now = time.monotonic()  # the whole answer is in: the function's work is done
        self.accepted()
        with st["lock"]:
            if st["answer"] is None:
                st["answer"] = (self.path.rsplit("/", 1)[-1], body, now)
        st["answered"].set()


def one_run(binary, qemu, env_extra, serve_event, event, timeout):
    """A fresh process under a fresh runtime server; (init s, answer s or None, kind, body,
    peak RSS KB, user+sys CPU s)."""
    handler = type("R", (Runtime,), {"event": event, "serve_event": serve_event})
    server = serve(handler)  # its first request comes from the process started below
    server.handle_error = lambda *a: None  # a held /next reset by the stopped process
    server.state = {"lock": threading.Lock(), "next": None, "answer": None,
                    "got_next": threading.Event(), "answered": threading.Event(),
                    "stop": threading.Event()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_PRUNE_"))}
    env.update(**lambda_env(server), **env_extra)
    log = open(f"/tmp/s3p-lambda-cold-{os.getpid()}.log", "ab")
    argv = ([qemu] if qemu else []) + [binary]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd="/tmp", stdout=log, stderr=log)
    st = server.state
    done = st["answered"] if serve_event else st["got_next"]
    done.wait(timeout)
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    st["stop"].set()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = status
    server.shutdown()
    server.server_close()
    log.close()
    init = None if st["next"] is None else st["next"] - t0
    kind, body, t_ans = st["answer"] or (None, b"", None)
    answer = None if t_ans is None else t_ans - t0
    return init, answer, kind, body, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def summary(name, xs, unit="ms", scale=1000.0, fmt="{:.1f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return f"{name}: no data"
    f = lambda v: fmt.format(v * scale)
    return (f"{name}: median {f(statistics.median(xs))} {unit}, min {f(min(xs))}, max {f(max(xs))} "
            f"(n={len(xs)}; runs: {', '.join(f(x) for x in xs)})")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--deployments", type=int, default=50)
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--mode", choices=["noop", "roll", "dry"], default="noop")
    p.add_argument("--qemu")
    p.add_argument("--no-bucket", action="store_true")
    p.add_argument("--bucket")
    p.add_argument("--timeout", type=float, default=300)
    a = p.parse_args()
    binary = os.path.abspath(a.binary)
    with open("/proc/loadavg") as f:
        load0 = " ".join(f.read().split()[:3])
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} load {load0}; binary {binary} "
          f"({os.path.getsize(binary) / 1e6:.1f} MB){' under ' + a.qemu if a.qemu else ''}", flush=True)

    env_extra, event = {}, b"{}"
    s3 = bucket = None
    if not a.no_bucket:
        from lsclient import client
        from put_checked import put_checked
        s3 = client()
        bucket = a.bucket
        if not bucket:
            bucket = f"lambda-cold-{os.getpid()}"
            s3.create_bucket(Bucket=bucket)
            keys = [f"d{d:05}/f{f:03}.js" for d in range(a.deployments) for f in range(a.files)]
            t = time.monotonic()
            put_checked(s3, bucket, keys, b"x" * 64, 16)
            print(f"seeded {bucket}: {a.deployments} deployments x {a.files} objects in "
                  f"{time.monotonic() - t:.1f} s", flush=True)
        retain = a.deployments - 5 if a.mode == "dry" else a.deployments
        env_extra = dict(S3_PRUNE_LOCALSTACK="1", S3_PRUNE_BUCKET=bucket,
                         S3_PRUNE_RETAIN=str(retain), S3_PRUNE_MAX_DELETE=str(a.deployments))
        if a.mode == "dry":
            event = b'{"dry_run": true}'
        print(f"mode {a.mode}: S3_PRUNE_RETAIN={retain}, event {event.decode()}", flush=True)
    else:
        env_extra = dict(S3_PRUNE_RETAIN="1")
        print("no bucket: S3_PRUNE_BUCKET unset, no event served; init only", flush=True)

    inits, answers, rsss, cpus = [], [], [], []
    for i in range(a.runs):
        if a.mode == "roll" and not a.no_bucket:
            time.sleep(1.1)  # LastModified has 1 s resolution: the new deployment is newest
            new = [f"n{i:05}-{os.getpid()}/f{f:03}.js" for f in range(a.files)]
            put_checked(s3, bucket, new, b"y" * 64, 16)
        init, answer, kind, body, rss, cpu = one_run(binary, a.qemu, env_extra, not a.no_bucket,
                                                     event, a.timeout)
        inits.append(init)
        answers.append(answer)
        rsss.append(rss)
        cpus.append(cpu)
        line = f"run {i + 1}: init {init * 1000:.1f} ms" if init is not None else f"run {i + 1}: no /next"
        if not a.no_bucket:
            try:
                doc = json.loads(body) if body else {}
            except ValueError:
                doc = {}
            what = {k: doc.get(k) for k in ("deleted_objects", "dry_run") if k in doc}
            if "summary" in doc:
                what["plan_delete"] = doc["summary"].get("delete")
            if kind != "response":
                what["answer"] = body[:300].decode(errors="replace")
            line += (f", first response {answer * 1000:.1f} ms ({kind}, {len(body)} B, {json.dumps(what)})"
                     if answer is not None else ", no answer")
        line += f", peak RSS {rss / 1024:.1f} MB, CPU {cpu * 1000:.0f} ms"
        print(line, flush=True)

    with open("/proc/loadavg") as f:
        load1 = " ".join(f.read().split()[:3])
    print(f"--- {a.runs} runs, {'no bucket' if a.no_bucket else f'mode {a.mode}, {a.deployments} x {a.files} objects'}"
          f"{', under ' + a.qemu if a.qemu else ''}; load before {load0}, after {load1}")
    print(summary("init (exec -> first /next)", inits))
    if not a.no_bucket:
        print(summary("first response (exec -> POST response)", answers))
    print(summary("peak RSS", [r / 1024 for r in rsss], unit="MB", scale=1.0))
    print(summary("CPU user+sys", cpus, unit="ms", fmt="{:.0f}"))
    if bucket and a.mode == "roll":
        left = sum(pg.get("KeyCount", 0) for pg in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))
        print(f"objects left in {bucket}: {left}")
    return 0 if all(x is not None for x in (answers if not a.no_bucket else inits)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
