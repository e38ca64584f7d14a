"""The dashboard under a team's load (issue 15's figures): a release `s3-prune serve` of a bucket
of 2,000 deployments dated by `meta:deployed-at`, behind the request-counting proxy of bench.py.
Prints: the first scan (time, S3 requests, HEADs), the page's size on the wire, 32 signed-in
clients loading the page (wrk: req/s, p50, p99), 16 concurrent Rescans (S3 requests and time
against one scan's), a Rescan of the unchanged bucket (listings, HEADs), the server's peak RSS.
Run by bench/load.sh (LocalStack running, release binary and wrk installed). S3P_BIN picks the
binary (e.g. the shipped musl one), S3P_LOAD_BUCKET a bucket seeded before, S3P_LOAD_PASSES=new
runs only the every-URL-new pass."""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Proxy, S3P)

DEPLOYMENTS = int(os.environ.get("S3P_LOAD_DEPLOYMENTS", "2000"))
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def http(url, method="GET", headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def cpu_secs(pid):
    """A process's user + system CPU so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    bucket = os.environ.get("S3P_LOAD_BUCKET")  # a bucket seeded by an earlier run
    if not bucket:
        bucket = f"load-{int(time.time())}"
        t = time.time()
        subprocess.run([bench.S3P, "demo", bucket, "--deployments", str(DEPLOYMENTS), "--localstack"],
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
        print(f"seeded {DEPLOYMENTS} deployments in {time.time() - t:.0f} s", flush=True)
    proxy = bench.Proxy(0)
    token = os.urandom(16).hex()
    tf = tempfile.NamedTemporaryFile("w", delete=False)
    tf.write(token)
    tf.close()
    server = subprocess.Popen(
        [bench.S3P, "serve", "--addr", "127.0.0.1:0", "--localstack", "--bucket", bucket,
         "--date-source", "meta:deployed-at", "--token-file", tf.name],
        env=dict(ENV, AWS_ENDPOINT_URL=proxy.url, S3_PRUNE_LOG="warn"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    addr = None
    for line in server.stderr:
        m = re.search(r"dashboard on (http://[0-9.:]+)", line)
        if m:
            addr = m.group(1)
            break
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    try:
        status, headers, _ = http(f"{addr}/?token={token}")
        cookie = headers["set-cookie"].split(";")[0]
        api = {"Cookie": cookie, "Origin": addr, "Content-Type": "application/json"}

        def scan(rescan):
            body = json.dumps({"bucket": None, "rescan": rescan}).encode()
            return http(f"{addr}/api/scan_bucket", "POST", api, body)

        def counted(f):
            r0, h0, t0 = proxy.requests, proxy.heads, time.time()
            out = f()
            return out, proxy.requests - r0, proxy.heads - h0, time.time() - t0

        (st, _, _), reqs, heads, took = counted(lambda: scan(False))
        assert st == 200, st
        one_scan = (reqs, took)
        print(f"first scan: {took:.2f} s, {reqs} S3 requests ({heads} HEAD)", flush=True)

        page = f"{addr}/?bucket={bucket}"  # (/ redirects there with one bucket)
        _, _, page_plain = http(page, headers={"Cookie": cookie})
        _, h, page_br = http(page, headers={"Cookie": cookie, "Accept-Encoding": "br"})
        _, h2, page_gz = http(page, headers={"Cookie": cookie, "Accept-Encoding": "gzip"})
        enc = {k.lower(): v for k, v in h.items()}.get("content-encoding")
        print(f"page: {len(page_plain):,} B uncompressed, {len(page_br):,} B {enc}, "
              f"{len(page_gz):,} B gzip", flush=True)

        distinct = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distinct.lua")
        passes = [("brotli", ["-H", "Accept-Encoding: br"]), ("uncompressed", []),
                  ("brotli, every URL new", ["-H", "Accept-Encoding: br", "-s", distinct])]
        # S3P_LOAD_PASSES=new: only the pass with every URL new (an A B A B of two builds).
        only = os.environ.get("S3P_LOAD_PASSES")
        if only == "new":
            passes = passes[2:]
        for name, extra in passes:
            cpu0, n0 = cpu_secs(server.pid), proxy.requests
            wrk = subprocess.run(["wrk", "-t2", "-c32", "-d20s", "--latency", "-H", f"Cookie: {cookie}",
                                  *extra, page], capture_output=True, text=True)
            cpu, s3 = cpu_secs(server.pid) - cpu0, proxy.requests - n0
            done = re.search(r"(\d+) requests in", wrk.stdout)
            pages = int(done.group(1)) if done else 0
            if pages:
                # The server's own CPU (user + system) per page, and the S3 requests a page made:
                # LocalStack and this proxy share the machine, so S3 reads cost them CPU too.
                print(f"  server CPU {cpu * 1000 / pages:.2f} ms a page, {s3 / pages:.3f} S3 requests a page",
                      flush=True)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout)
            lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", wrk.stdout, re.M))
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
            errs = re.search(r"Socket errors: (.*)", wrk.stdout)
            print(f"32 clients loading the page ({name}), 20 s: {rps.group(1) if rps else '?'} req/s, "
                  f"p50 {lat.get('50')}, p99 {lat.get('99')}, "
                  f"{bad.group(1) if bad else 0} answers not 2xx/3xx"
                  f"{', socket errors ' + errs.group(1) if errs else ''}", flush=True)

        time.sleep(5.5)  # past the Rescan spacing
        results = []
        def one():
            results.append(scan(True)[0])
        def burst():
            ts = [threading.Thread(target=one) for _ in range(16)]
            [t.start() for t in ts]
            [t.join() for t in ts]
        _, reqs, heads, took = counted(burst)
        print(f"16 concurrent Rescans: {reqs} S3 requests ({heads} HEAD) in {took:.2f} s, "
              f"answers {sorted(set(results))}; one scan: {one_scan[0]} requests in {one_scan[1]:.2f} s",
              flush=True)

        time.sleep(5.5)
        (st, _, _), reqs, heads, took = counted(lambda: scan(True))
        print(f"Rescan of the unchanged bucket: {reqs} S3 requests, {heads} HEAD, {took:.2f} s", flush=True)

        with open(f"/proc/{server.pid}/status") as f:
            hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
        print(f"server peak RSS: {hwm / 1024:.0f} MB", flush=True)
    finally:
        server.terminate()
        os.unlink(tf.name)


if __name__ == "__main__":
    main()
