"""What the bucket journal, the lease and the pins re-reads cost a 10,000-object apply (issue 22),
measured with ONE binary: an HTTP-aware logging proxy between s3-prune and the S3 server records
every request (method, path, status, bytes each way, and the time from the request's arrival
at the proxy to its response leaving it, the added latency included) and sorts out those on
`<prefix>.s3-prune/` (journal parts under runs/, the lease, pins.json).

Each round runs the same apply twice, in turn:
  journal  every request goes to the server (as in production);
  free     the proxy answers every `.s3-prune/` request itself, at once, from memory (with the
           same If-None-Match / If-Match conditions): the run as if its journal, lease and pins
           cost nothing — what a binary without them would take, minus its JSON work.
  nojournal (with --variants journal,nojournal,free) the proxy answers only the journal
           (`.s3-prune/runs/`) itself; the lease and the pins go to the server: the run as if
           its journal alone cost nothing.
The state's cost = (wall journal - wall free) / wall journal, the journal's alone = (wall
journal - wall nojournal) / wall journal, per round and from the medians.
An apply: 200 deployments × 100 objects (the newest 100 kept; a bucket per variant, the deleted
deployments put back and the kept ones touched between runs), `s3-prune apply BUCKET 100
--endpoint-url PROXY --yes --json --max-delete 1000`: 10,000 objects deleted (checked).
Also per run, from the proxy's log:
  - state requests: count, bytes sent, summed duration (by kind: journal PUTs, lease, pins GETs)
  - share A = summed state-request time / wall (an upper bound: many overlap other requests)
  - share B = time during which a state request was in flight and NO other request was (a
    lower bound of the time the run waited on its state)

    python3 bench/journal_share.py S3_PRUNE_BINARY --server garage|localstack [--delays 0,20] [--runs 3]
        [--variants journal,free | journal,nojournal,free]
    python3 bench/journal_share.py --server garage --reanalyse /tmp/s3p-journal-share   (phases again)

Phases per run (the scan is the same work in both variants and, on LocalStack, its noise
swamps the rest, so the lease-to-exit part is compared too): scan (first request to the first
lease request), before the first delete (lease, start.json and folders.json; runs before
2026-12-08: the first intent), deleting (first to
last DeleteObjects), after the last delete (last answer, end.json, lease read and removal).

--server garage reads /tmp/garage-bench/env (bench/garage-node.sh start writes it): endpoint,
key, secret, region. --server localstack: 127.0.0.1:4566, test/test, us-east-1 (the binary is
pointed at the proxy with --endpoint-url, path-style, as --localstack would). Latency: the
proxy holds each request DELAY ms before forwarding it and each response DELAY ms before
returning it (this kernel has no netem). Request logs of every run go to
/tmp/s3p-journal-share/<server>-<delay>ms-<variant>-<round>.tsv, the figures
to /tmp/s3p-journal-share/<server>-results.json.

Needs boto3 (LocalStack's venv has it: ~/.cache/s3-prune/localstack/bin/python ...).
"""
import argparse
import asyncio
import concurrent.futures
import hashlib
import json
import os
import statistics
import subprocess
import time

import boto3
from botocore.config import Config

from loop_server import LoopServer

DEPLOYMENTS, FILES, RETAIN = 200, 100, 100
LOGDIR = "/tmp/s3p-journal-share"


# ---- the proxy -----------------------------------------------------------------------------

async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return head, lines[0], headers


async def read_body(reader, headers, no_body=False):
    if no_body:
        return b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            line = await reader.readuntil(b"\r\n")
            out += line
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    t = await reader.readuntil(b"\r\n")
                    out += t
                    if t == b"\r\n":
                        return out
            out += await reader.readexactly(size + 2)
    n = int(headers.get("content-length", 0) or 0)
    return await reader.readexactly(n) if n else b""


class Proxy(LoopServer):
    """HTTP/1.1 proxy: one upstream connection per client connection, requests in turn."""

    def __init__(self, upstream, delay_ms):
        self.upstream = upstream
        self.delay = delay_ms / 1000.0
        self.records = []  # (method, path, status, t0, t1, req bytes, resp bytes)
        # True: requests on `.s3-prune/` are answered here at once (an in-memory store with the
        # same conditions: If-None-Match: *, If-Match), never reaching the server: the run
        # as if its state cost nothing — the baseline the real runs are compared with.
        self.fake_state = False
        # What "state" is when faked: every `.s3-prune/` request, or only the journal's.
        self.fake_under = "/.s3-prune/"
        self.state = {}
        super().__init__()

    async def _client(self, cr, cw):
        try:
            ur, uw = await asyncio.open_connection(*self.upstream)
        except OSError:
            cw.close()
            return
        try:
            while True:
                try:
                    head, line, headers = await read_head(cr)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                t0 = time.monotonic()
                if headers.get("expect", "").lower() == "100-continue":
                    # answered here (the body is forwarded whole): drop the header upstream
                    cw.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await cw.drain()
                    head = b"\r\n".join(l for l in head.split(b"\r\n")
                                        if not l.lower().startswith(b"expect:"))
                body = await read_body(cr, headers)
                method, path = line.split(" ")[:2]
                if self.fake_state and self.fake_under in path.split("?")[0]:
                    status, resp = self._state(method, path, headers, body)
                    cw.write(resp)
                    await cw.drain()
                    self.records.append((method, path, status, t0, time.monotonic(), len(head) + len(body), len(resp)))
                    continue
                if self.delay:
                    await asyncio.sleep(self.delay)
                uw.write(head + body)
                await uw.drain()
                rhead, rline, rheaders = await read_head(ur)
                status = int(rline.split(" ")[1])
                rbody = await read_body(ur, rheaders, method == "HEAD" or status in (204, 304) or 100 <= status < 200)
                if self.delay:
                    await asyncio.sleep(self.delay)
                cw.write(rhead + rbody)
                await cw.drain()
                self.records.append((method, path, status, t0, time.monotonic(), len(head) + len(body),
                                     len(rhead) + len(rbody)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for w in (uw, cw):
                try:
                    w.close()
                except Exception:
                    pass

    def _state(self, method, path, headers, body):
        """A `.s3-prune/` request answered from memory: (status, raw response)."""
        key = path.split("?")[0]
        have = self.state.get(key)

        def reply(status, reason, extra=b"", payload=b""):
            return status, (f"HTTP/1.1 {status} {reason}\r\nx-amz-request-id: proxy\r\n".encode() + extra
                            + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)

        def err(status, reason, code):
            x = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{code}</Message></Error>'
            return reply(status, reason, b"Content-Type: application/xml\r\n", x.encode())

        if method == "PUT":
            if headers.get("if-none-match", "").strip() == "*" and have is not None:
                return err(412, "Precondition Failed", "PreconditionFailed")
            im = headers.get("if-match")
            if im is not None and (have is None or (im.strip() != "*" and im.strip() != have[1])):
                return err(412 if have else 404, "Precondition Failed" if have else "Not Found",
                           "PreconditionFailed" if have else "NoSuchKey")
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            self.state[key] = (body, etag)
            return reply(200, "OK", f"ETag: {etag}\r\n".encode())
        if method in ("GET", "HEAD"):
            if have is None:
                return err(404, "Not Found", "NoSuchKey") if method == "GET" else reply(404, "Not Found")
            data, etag = have
            r = reply(200, "OK", f"ETag: {etag}\r\nContent-Type: application/json\r\n".encode(),
                      data if method == "GET" else b"")
            return r if method == "GET" else (200, r[1].replace(b"Content-Length: 0", f"Content-Length: {len(data)}".encode()))
        if method == "DELETE":
            self.state.pop(key, None)
            return reply(204, "No Content")
        return err(501, "Not Implemented", "NotImplemented")

    def take(self):
        r, self.records = self.records, []
        return r


def kind(method, path):
    p = path.split("?")[0]
    if "/.s3-prune/" not in p and ".s3-prune" not in path:
        return None
    if "/runs/" in p:
        return "journal " + method
    if p.endswith("/lease"):
        return "lease " + method
    if p.endswith("/pins.json"):
        return "pins " + method
    return "state other " + method


def analyse(records, wall):
    state = [r for r in records if kind(r[0], r[1])]
    other = [r for r in records if not kind(r[0], r[1])]
    by = {}
    for r in state:
        k = kind(r[0], r[1])
        c = by.setdefault(k, [0, 0, 0.0])
        c[0] += 1
        c[1] += r[5] if r[0] == "PUT" else 0
        c[2] += r[4] - r[3]
    # time during which a state request was in flight and no other request was
    events = []
    for r in records:
        s = 1 if kind(r[0], r[1]) else 0
        events.append((r[3], 0, s))
        events.append((r[4], 1, s))
    events.sort(key=lambda e: (e[0], -e[1]))  # ends before starts at the same instant
    n_state = n_other = 0
    last = None
    exclusive = 0.0
    for t, end, s in events:
        if last is not None and n_state > 0 and n_other == 0:
            exclusive += t - last
        last = t
        d = -1 if end else 1
        if s:
            n_state += d
        else:
            n_other += d
    state_s = sum(r[4] - r[3] for r in state)
    # phases, from the first request: the scan (until the first lease request: no state
    # request but the pins read happens in it), lease + start and folders (until the first
    # DeleteObjects), the deletes, and the end (last answer, end.json, lease read and removal)
    t0 = min(r[3] for r in records)
    lease_t = min((r[3] for r in state if "lease" in kind(r[0], r[1])), default=t0)
    dels = [r for r in other if r[0] == "POST"]
    first_del = min(r[3] for r in dels)
    last_del = max(r[4] for r in dels)
    end = max(r[4] for r in records)
    phases = {"scan_s": lease_t - t0, "before_first_delete_s": first_del - lease_t,
              "deleting_s": last_del - first_del, "after_last_delete_s": end - last_del,
              "apply_s": end - lease_t}
    return {
        **phases,
        "wall_s": wall,
        "requests": len(records),
        "state_requests": len(state),
        "state_put_bytes": sum(r[5] for r in state if r[0] == "PUT"),
        "state_resp_bytes": sum(r[6] for r in state),
        "state_sum_s": state_s,
        "share_a": state_s / wall,
        "exclusive_s": exclusive,
        "share_b": exclusive / wall,
        "all_sum_s": sum(r[4] - r[3] for r in records),
        "deletes": sum(1 for r in other if r[0] == "POST"),
        "lists": sum(1 for r in other if r[0] == "GET" and "list-type=2" in r[1]),
        "by_kind": {k: {"n": v[0], "put_bytes": v[1], "sum_s": round(v[2], 4)} for k, v in sorted(by.items())},
    }


# ---- runs ----------------------------------------------------------------------------------

def s3client(endpoint, key, secret, region):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name=region, config=Config(max_pool_connections=32, retries={"max_attempts": 10},
                                                          s3={"addressing_style": "path"}))


def put_all(s3, bucket, keys):
    for _ in range(5):
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 64), keys))
        present = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="d"):
            present |= {o["Key"] for o in page.get("Contents", [])}
        keys = [k for k in keys if k not in present]
        if not keys:
            return
        print(f"seed: {len(keys)} PUTs did not stick, putting them again", flush=True)
    raise RuntimeError("the server keeps losing PUTs")


def seed(s3, bucket):
    """A bucket of 200 deployments of 100 objects (new), or, when it exists, the deployments
    the last apply deleted put back and one object of each kept one re-put, so the kept ones
    are still the newest: every apply deletes 10,000 objects of 100 deployments."""
    names = [f"d{d:03}" for d in range(DEPLOYMENTS)]
    try:
        s3.create_bucket(Bucket=bucket)
        put_all(s3, bucket, [f"{n}/f{f:03}.js" for n in names for f in range(FILES)])
        return
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    left = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/"):
        left |= {p["Prefix"].rstrip("/") for p in page.get("CommonPrefixes", [])}
    gone = [n for n in names if n not in left]
    put_all(s3, bucket, [f"{n}/f{f:03}.js" for n in gone for f in range(FILES)])
    time.sleep(1.1)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: s3.put_object(Bucket=bucket, Key=f"{n}/f000.js", Body=b"x" * 64),
                      [n for n in names if n in left]))


def settle(pid, limit=60.0):
    """Waits until the server process is idle (< 5 % of a core over 0.5 s): Garage indexes
    after a seed, and that work would land in the apply's time."""
    if not pid:
        time.sleep(2)
        return

    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    t = time.time()
    while time.time() - t < limit:
        c0 = cpu()
        time.sleep(0.5)
        if cpu() - c0 < 0.025:
            return


def load_tsv(path):
    """A run's request log as written below: records as `analyse` takes them."""
    out = []
    with open(path) as f:
        next(f)
        for line in f:
            m, pth, st, start, ms, rq, rs = line.rstrip("\n").split("\t")
            t0 = float(start) / 1000
            out.append((m, pth, int(st), t0, t0 + float(ms) / 1000, int(rq), int(rs)))
    return out


def phase_table(server, delay, runs):
    """Median [min–max] of each phase per variant, and journal − each other variant of the medians."""
    lines = [f"PHASES {server} +{delay} ms (s, median [min–max] over {len(runs['journal'])} runs):"]
    keys = ["scan_s", "before_first_delete_s", "deleting_s", "after_last_delete_s", "apply_s"]
    for v in runs:
        lines.append(f"  {v:9}" + " | ".join(
            f"{k[:-2]} {statistics.median(r[k] for r in runs[v]):.3f} [{min(r[k] for r in runs[v]):.3f}–{max(r[k] for r in runs[v]):.3f}]"
            for k in keys))
    for v in [v for v in runs if v != "journal"]:
        d = {k: statistics.median(r[k] for r in runs["journal"]) - statistics.median(r[k] for r in runs[v]) for k in keys}
        lines.append(f"  journal − {v}: " + " | ".join(f"{k[:-2]} {x:+.3f}" for k, x in d.items())
                     + f"; apply (lease to exit) share {d['apply_s'] / statistics.median(r['apply_s'] for r in runs['journal']):.1%}")
    return "\n".join(lines)


def reanalyse(server, logdir):
    """Phases and shares again from the request logs of earlier runs (wall = the log's span)."""
    import glob
    by = {}
    for path in sorted(glob.glob(f"{logdir}/{server}-*ms-*-*.tsv")):
        delay, variant, _ = os.path.basename(path)[len(server) + 1:-4].split("-")  # 20ms-free-3
        records = load_tsv(path)
        wall = max(r[4] for r in records) - min(r[3] for r in records)
        by.setdefault(delay.rstrip("ms"), {"journal": []}).setdefault(variant, []).append(analyse(records, wall))
    for delay, runs in sorted(by.items(), key=lambda kv: int(kv[0])):
        print(phase_table(server, delay, runs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary", nargs="?")
    p.add_argument("--reanalyse", metavar="LOGDIR", help="only print the phases of the logs in LOGDIR")
    p.add_argument("--server", choices=["garage", "localstack"], required=True)
    p.add_argument("--delays", default="0,20")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--variants", default="journal,free",
                   help="journal,free (the state's cost) or journal,nojournal,free (the journal's alone too)")
    a = p.parse_args()
    variants = a.variants.split(",")
    if variants[0] != "journal" or not set(variants) <= {"journal", "nojournal", "free"} or len(variants) < 2:
        p.error("--variants: journal first, then free and/or nojournal")
    if a.reanalyse:
        return reanalyse(a.server, a.reanalyse)
    binary = os.path.abspath(a.binary)
    if a.server == "garage":
        env = dict(l.strip().split("=", 1) for l in open("/tmp/garage-bench/env") if "=" in l)
        host, port = env["S3P_BENCH_S3"].split(":")
        key, secret, region, pid = env["S3P_BENCH_KEY"], env["S3P_BENCH_SECRET"], env["S3P_BENCH_REGION"], env.get("S3P_BENCH_SERVER_PID")
    else:
        host, port, key, secret, region = "127.0.0.1", "4566", "test", "test", "us-east-1"
        try:
            pid = open(os.path.expanduser("~/.cache/s3-prune/localstack-run/pid")).read().strip()
        except OSError:
            pid = None
    s3 = s3client(f"http://{host}:{port}", key, secret, region)
    os.makedirs(LOGDIR, exist_ok=True)
    results = {}
    for delay in [int(x) for x in a.delays.split(",")]:
        proxy = Proxy((host, int(port)), delay)
        runs = {v: [] for v in variants}
        for i in range(a.runs):
            for variant in variants:
                # one bucket per variant, re-seeded between its runs (see seed)
                bucket = f"jshare-{a.server}-{os.getpid()}-{delay}-{variant}"
                t = time.monotonic()
                seed(s3, bucket)
                seeded = time.monotonic() - t
                settle(pid)
                proxy.fake_state = variant != "journal"
                proxy.fake_under = "/.s3-prune/runs/" if variant == "nojournal" else "/.s3-prune/"
                proxy.state = {}
                proxy.take()
                cmd = [binary, "apply", bucket, str(RETAIN), "--endpoint-url", proxy.url, "--yes", "--json",
                       "--max-delete", "1000", "--audit-db", f"/tmp/s3p-journal-share-{os.getpid()}.sqlite"]
                e = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION=region)
                e.pop("AWS_ENDPOINT_URL", None)
                t = time.monotonic()
                out = subprocess.run(cmd, capture_output=True, env=e, cwd="/tmp")
                wall = time.monotonic() - t
                time.sleep(0.2)
                records = proxy.take()
                if out.returncode != 0:
                    print(out.stderr.decode()[-3000:])
                    raise SystemExit(f"apply failed with exit {out.returncode}")
                doc = json.loads(out.stdout)
                assert doc["deleted_objects"] == (DEPLOYMENTS - RETAIN) * FILES, doc["deleted_objects"]
                res = analyse(records, wall)
                res["seed_s"] = round(seeded, 1)
                res["warnings"] = [l for l in out.stderr.decode().splitlines() if "WARN" in l][:5]
                runs[variant].append(res)
                with open(f"{LOGDIR}/{a.server}-{delay}ms-{variant}-{i + 1}.tsv", "w") as f:
                    t0 = min(r[3] for r in records)
                    f.write("method\tpath\tstatus\tstart_ms\tms\treq_bytes\tresp_bytes\n")
                    for r in sorted(records, key=lambda r: r[3]):
                        f.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{(r[3] - t0) * 1000:.1f}\t{(r[4] - r[3]) * 1000:.1f}\t{r[5]}\t{r[6]}\n")
                print(f"{a.server} +{delay} ms {variant} run {i + 1}: wall {wall:.3f} s, {res['requests']} requests "
                      f"({res['lists']} lists, {res['deletes']} DeleteObjects), state {res['state_requests']} req "
                      f"{res['state_put_bytes']:,} B PUT, summed {res['state_sum_s']:.3f} s (A {res['share_a']:.1%}), "
                      f"alone in flight {res['exclusive_s']:.3f} s (B {res['share_b']:.1%}); "
                      + json.dumps(res["by_kind"]), flush=True)
                for w in res["warnings"]:
                    print("   warning: " + w[:300])
        results[delay] = runs
        labels = {"journal": "journal written to the server", "free": "state answered by the proxy (free)",
                  "nojournal": "journal answered by the proxy, lease and pins by the server"}
        for v in variants:
            print(summary(a.server, delay, runs[v], labels[v]), flush=True)
        print(phase_table(a.server, delay, runs), flush=True)
        for v in variants[1:]:
            pairs = [j["wall_s"] / f["wall_s"] for j, f in zip(runs["journal"], runs[v])]
            cost = [(j["wall_s"] - f["wall_s"]) / j["wall_s"] for j, f in zip(runs["journal"], runs[v])]
            mj = statistics.median(r["wall_s"] for r in runs["journal"])
            mf = statistics.median(r["wall_s"] for r in runs[v])
            print(f"COST {a.server} +{delay} ms, journal vs {v}: journal/{v} per pair " + ", ".join(f"{x:.3f}" for x in pairs)
                  + f" (median {statistics.median(pairs):.3f}); share of the run per pair "
                  + ", ".join(f"{x:.1%}" for x in cost)
                  + f" (median {statistics.median(cost):.1%})"
                  + f"; from the medians: ({mj:.3f} - {mf:.3f}) / {mj:.3f} = {(mj - mf) / mj:.1%}", flush=True)
        for v in variants:
            s3_delete_bucket(s3, f"jshare-{a.server}-{os.getpid()}-{delay}-{v}")
    with open(f"{LOGDIR}/{a.server}-results.json", "w") as f:
        json.dump(results, f, indent=1)


def med(xs):
    return statistics.median(xs), min(xs), max(xs)


def summary(server, delay, runs, label):
    def f(k, fmt):
        m, lo, hi = med([r[k] for r in runs])
        return f"{fmt(m)} [{fmt(lo)}–{fmt(hi)}]"
    s = lambda x: f"{x:.3f}"
    pct = lambda x: f"{x:.1%}"
    n = lambda x: f"{x:,.0f}"
    return (f"SUMMARY {server} +{delay} ms, {label}, {len(runs)} runs: wall {f('wall_s', s)} s | requests {f('requests', n)} | "
            f"state requests {f('state_requests', n)}, PUT bytes {f('state_put_bytes', n)} | state summed {f('state_sum_s', s)} s "
            f"share A {f('share_a', pct)} | alone in flight {f('exclusive_s', s)} s share B {f('share_b', pct)} | "
            f"all requests summed {f('all_sum_s', s)} s")


def s3_delete_bucket(s3, bucket):
    """Empties and removes a run's bucket (journal and leftovers), so the server stays small."""
    try:
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except Exception as e:  # a leftover bucket is harmless
        print(f"(could not remove {bucket}: {e})")


if __name__ == "__main__":
    main()
