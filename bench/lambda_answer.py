"""The scheduled job's answer at 100,000 objects (issue 22): the binary run as the Lambda under a
minimal Lambda Runtime API, against a versioned LocalStack bucket of 1,000 deployments of 100
objects (+ one newer deployment), keep 1. Measures the size of the answer POSTed to
`/runtime/invocation/<id>/response` (target < 64 KB) and the process's peak RSS
(`/usr/bin/time -v` around the binary, stopped with SIGTERM once it answered), then checks that
`s3-prune history BUCKET --json --localstack`, run from another directory (/tmp), lists that run
with source `lambda`.

    python3 bench/lambda_answer.py S3_PRUNE_BINARY [DEPLOYMENTS] [--bucket EXISTING] [--keep-answer FILE]

DEPLOYMENTS defaults to 1000 (of 100 objects each). --bucket skips seeding and uses a bucket
seeded before (by this script: keys d{NNNNN}/f{NNN}.js + zz-new/index.html). The runtime
(bench/lambda_runtime.py, shared with bench/lambda_cold.py): the documented endpoints
`GET /2018-06-01/runtime/invocation/next` (the event once, then it holds the request until the
process is stopped), `POST .../<id>/response` and `.../<id>/error`; the invocation's deadline is
15 min ahead (Lambda's maximum). The function's environment is that of
server/tests/it/lambda.rs: S3_PRUNE_LOCALSTACK=1, S3_PRUNE_BUCKET, S3_PRUNE_RETAIN=1,
S3_PRUNE_MAX_DELETE=DEPLOYMENTS, the event `{}`.

Talks to LocalStack on 127.0.0.1:4566 (`make localstack-start`); needs boto3 (LocalStack's venv
has it: ~/.cache/s3-prune/localstack/bin/python bench/lambda_answer.py ...).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import threading
import time

from lambda_runtime import NEXT, RuntimeHandler, lambda_env, serve
from lsclient import client
from put_checked import put_checked

FILES = 100
REQUEST_ID = "bench-lambda-1"


def seed(s3, bucket, deployments):
    """Versioned bucket, DEPLOYMENTS × 100 objects, then a newer one; every PUT checked."""
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = [f"d{d:05}/f{f:03}.js" for d in range(deployments) for f in range(FILES)]
    put_checked(s3, bucket, keys, b"x" * 64, 48)
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key="zz-new/index.html", Body=b"x")


class Runtime(RuntimeHandler):
    event = b"{}"
    served = False
    answer = None  # (kind, body bytes, monotonic time)
    answered = threading.Event()
    stop = threading.Event()

    def do_GET(self):
        if self.path != NEXT:
            self.not_found()
            return
        cls = type(self)
        if cls.served:
            cls.stop.wait()  # no second event: held until the process is stopped
            return
        cls.served = True
        self.send_event(cls.event, REQUEST_ID)

    def do_POST(self):
        body = self.read_body()
        kind = self.path.rsplit("/", 1)[-1]
        self.accepted()
        cls = type(self)
        if cls.answer is None:
            cls.answer = (kind, body, time.monotonic(), self.path)
        cls.answered.set()


def child_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("deployments", nargs="?", type=int, default=1000)
    p.add_argument("--bucket")
    p.add_argument("--keep-answer")
    a = p.parse_args()
    binary = os.path.abspath(a.binary)
    s3 = client()
    bucket = a.bucket
    if not bucket:
        bucket = f"lambda-answer-{os.getpid()}-{a.deployments}"
        t = time.monotonic()
        seed(s3, bucket, a.deployments)
        print(f"seeded {bucket}: {a.deployments * FILES:,} objects + 1 newer in {time.monotonic() - t:.0f} s", flush=True)

    server = serve(Runtime)
    env = dict(os.environ, **lambda_env(server), S3_PRUNE_LOCALSTACK="1", S3_PRUNE_BUCKET=bucket,
               S3_PRUNE_RETAIN="1", S3_PRUNE_MAX_DELETE=str(a.deployments))
    env.pop("AWS_ENDPOINT_URL", None)
    logs = open(f"/tmp/s3p-lambda-answer-{os.getpid()}.log", "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-v", binary], env=env, cwd="/tmp",
                            stdout=subprocess.DEVNULL, stderr=logs)
    if not Runtime.answered.wait(1200):
        print("no answer within 20 min")
    kid = child_of(proc.pid)
    if kid:
        os.kill(kid, signal.SIGTERM)
    Runtime.stop.set()
    proc.wait()
    server.shutdown()
    logs.close()
    err = open(logs.name, errors="replace").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
    kind, body, t_answer, path = Runtime.answer
    print(f"answer: POST {path} ({kind}), {len(body):,} bytes ({len(body) / 1024:.1f} KB), "
          f"{t_answer - t0:.1f} s after start; peak RSS {rss / 1024:.1f} MB (stderr of the function: {logs.name})")
    if a.keep_answer:
        with open(a.keep_answer, "wb") as f:
            f.write(body)
    doc = json.loads(body)
    audit = doc.get("audit", doc)
    summary = {k: (v if not isinstance(v, (list, dict)) else f"<{type(v).__name__} of {len(v)}>")
               for k, v in (audit.items() if isinstance(audit, dict) else [])}
    print("answer fields: " + json.dumps({k: (v if not isinstance(v, (list, dict)) else f"<{type(v).__name__} of {len(v)}>")
                                          for k, v in doc.items()}))
    print("audit fields: " + json.dumps(summary))
    # where the bytes are: the answer's fields by size (compact JSON), and the lists' lengths
    sizes = sorted(((len(json.dumps(v, separators=(",", ":"))), k) for k, v in doc.items()), reverse=True)[:6]
    print("largest answer fields (bytes of compact JSON): " + ", ".join(f"{k} {n:,}" for n, k in sizes))
    sizes = sorted(((len(json.dumps(v, separators=(",", ":"))), k) for k, v in (audit.items() if isinstance(audit, dict) else [])), reverse=True)[:4]
    print("largest audit fields (bytes of compact JSON): " + ", ".join(f"{k} {n:,}" for n, k in sizes))
    lists = {k: len(v) for k, v in list(doc.items()) + list(audit.items()) if isinstance(v, list)}
    print("list lengths in the answer: " + json.dumps(lists) + " (README: at most 100 entries per list)")

    runs = [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=".s3-prune/runs/")
            for o in page.get("Contents", [])]
    print(f"journal in the bucket: {len(runs)} objects, {sum(o['Size'] for o in runs):,} bytes")
    left = sum(page.get("KeyCount", 0) for page in
               s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="d"))
    print(f"current objects left under d*: {left}")

    hist = subprocess.run([binary, "history", bucket, "--json", "--localstack"], cwd="/tmp", capture_output=True,
                          env=dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test"))
    print(f"$ (cd /tmp && s3-prune history {bucket} --json --localstack) -> exit {hist.returncode}")
    try:
        h = json.loads(hist.stdout)
    except ValueError:
        print(hist.stdout.decode()[:2000], hist.stderr.decode()[-2000:])
        return 1
    items = h if isinstance(h, list) else h.get("runs", [])
    for r in items:
        row = {k: r.get(k) for k in ("id", "source", "who", "status", "started", "deleted", "restorable")}
        row["deleted_deployments"] = len(r.get("deleted_deployments") or [])
        print("  " + json.dumps(row))
    ok = any(r.get("source") == "lambda" for r in items)
    print(f"history lists a run with source lambda: {ok}")
    return 0 if ok and kind == "response" else 1


if __name__ == "__main__":
    raise SystemExit(main())
