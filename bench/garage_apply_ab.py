"""Whole `s3-prune apply` vs `s5cmd rm` (given the folder list) at 100,000 objects on Garage,
A B A B, with the request mix of every run.

The same work as bench.py's L delete row (1,000 deployments of 100 objects; the oldest 500 =
50,000 objects deleted; the doomed re-seeded with s5cmd and one object of each kept deployment
touched before every run; the server settled first; +DELAY ms each way through a userspace
proxy), but the two tools alternate (s3-prune, s5cmd, s3-prune, s5cmd, ...) instead of running
their runs back to back, and the proxy records every request: method, path, the keys in each
DeleteObjects body, when it reached the proxy and when its answer went back to the client. From
that each run gets its request mix, the DeleteObjects batch sizes, how many requests were in
flight, and (for s3-prune) its phases: scan, the listing again of the doomed deployments, the
deletes, the journal.

    bash bench/garage-node.sh start
    ~/.cache/s3-prune/bench-tools/bin/python bench/garage_apply_ab.py BINARY [--runs 3]
        [--delay 20] [--env /tmp/garage-bench/env] [--json OUT.json] [--perf]

Tools: s5cmd and boto3 from bench/garage.sh's tools venv (~/.cache/s3-prune/bench-tools).
Server CPU: from /proc of S3P_BENCH_SERVER_PID (the env file's). --perf: after the timed runs,
one more pair with `perf record -F 999 -g` of the server (top of the report printed; that pair
is not in the summary, perf slows the server).
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("--runs", type=int, default=3)
p.add_argument("--delay", type=int, default=20, help="ms added each way")
p.add_argument("--env", default="/tmp/garage-bench/env")
p.add_argument("--deployments", type=int, default=1000)
p.add_argument("--per", type=int, default=100)
p.add_argument("--json")
p.add_argument("--bucket", help="a bucket this script seeded before (skips the first seeding)")
p.add_argument("--plan-runs", type=int, default=0,
               help="after the pairs, this many `s3-prune plan` runs (apply's scan alone) on the reset bucket")
p.add_argument("--perf", action="store_true",
               help="one more pair after the timed runs, under perf record (not in the summary)")
p.add_argument("--tools", default=os.path.expanduser("~/.cache/s3-prune/bench-tools"))
a = p.parse_args()

for line in open(a.env):
    if "=" in line:
        k, v = line.strip().split("=", 1)
        os.environ[k] = v
os.environ["S3P_BIN"] = os.path.abspath(a.binary)
os.environ["S3P_BENCH_TOOLS"] = a.tools
os.environ.setdefault("S3P_BENCH_SERVER", "Garage")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (reads the environment above at import)

REQ = re.compile(rb"(GET|PUT|POST|DELETE|HEAD) (/[^ \r\n]*) HTTP/1\.1\r\n")
KEY = re.compile(rb"<Key>")
STATUS = re.compile(rb"HTTP/1\.1 (\d{3}) ")


class LoggingProxy(bench.Proxy):
    """bench.Proxy's delaying TCP proxy, recording each request (see the module's doc)."""

    def __init__(self, delay_ms):
        self.records = []  # dicts: t_req, t_resp, method, path, keys, status
        self.lock = threading.Lock()
        super().__init__(delay_ms)

    def take(self):
        with self.lock:
            r, self.records = self.records, []
        return r

    def connection(self):
        conn = {"up_tail": b"", "down_tail": b"", "pending": collections.deque(), "last_delete": None}

        def scan(tail_name, data, pattern_list):
            buf = conn[tail_name] + data
            old = len(conn[tail_name])
            hits = []
            for pat in pattern_list:
                hits += [(m.end(), pat, m) for m in pat.finditer(buf) if m.end() > old]
            conn[tail_name] = buf[-300:]
            return sorted(hits, key=lambda h: h[0])

        def up(data, now):
            for _, pat, m in scan("up_tail", data, (REQ, KEY)):
                if pat is REQ:
                    rec = {"t_req": now, "t_resp": None, "method": m.group(1).decode(),
                           "path": m.group(2).decode(errors="replace"), "keys": 0, "status": None}
                    conn["pending"].append(rec)
                    conn["last_delete"] = rec if rec["method"] == "POST" and "delete" in rec["path"] else None
                    with self.lock:
                        self.records.append(rec)
                elif conn["last_delete"] is not None:
                    conn["last_delete"]["keys"] += 1

        def down(data, now):
            for _, _, m in scan("down_tail", data, (STATUS,)):
                code = int(m.group(1))
                if code == 100 or not conn["pending"]:
                    continue
                rec = conn["pending"].popleft()
                rec["status"] = code
                rec["t_resp"] = now + self.delay

        return up, down


def kind(rec, bucket):
    m, path = rec["method"], rec["path"]
    base, _, query = path.partition("?")
    q = dict(x.partition("=")[::2] for x in query.split("&") if x)
    key = base[len(f"/{bucket}/"):] if base.startswith(f"/{bucket}/") else ""
    journal = key.startswith(".s3-prune") or q.get("prefix", "").startswith(".s3-prune")
    if m == "POST" and "delete" in q:
        return "DeleteObjects"
    if m == "GET" and q.get("list-type") == "2":
        what = "ListObjectsV2 " + ("delimiter" if "delimiter" in q else "prefix")
        return what + (" .s3-prune/" if journal else "")
    if m == "GET" and not key:
        return "GET bucket ?" + ",".join(sorted(q)) if q else "GET bucket"
    name = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(m, m)
    return name + (" .s3-prune/" if journal else (" (bucket)" if not key else ""))


def inflight_stats(recs, t0, t1):
    """Mean and max requests in flight between t0 and t1 (time-weighted)."""
    ev = []
    for r in recs:
        if r["t_resp"] is None:
            continue
        s, e = max(r["t_req"], t0), min(r["t_resp"], t1)
        if e > s:
            ev += [(s, 1), (e, -1)]
    ev.sort()
    cur = mx = 0
    area = 0.0
    last = t0
    for t, d in ev:
        area += cur * (t - last)
        last = t
        cur += d
        mx = max(mx, cur)
    return (area / (t1 - t0) if t1 > t0 else 0.0), mx


def analyse(recs, bucket, t_start, wall):
    mix = collections.Counter(kind(r, bucket) for r in recs)
    dels = [r for r in recs if kind(r, bucket) == "DeleteObjects"]
    sizes = collections.Counter(r["keys"] for r in dels)
    out = {"requests": len(recs), "mix": dict(mix.most_common()),
           "delete_batches": len(dels), "keys_sent": sum(r["keys"] for r in dels),
           "batch_sizes": {str(k): v for k, v in sorted(sizes.items())},
           "non_2xx": dict(collections.Counter(f"{kind(r, bucket)} {r['status']}" for r in recs
                                               if r["status"] and r["status"] >= 300)),
           "no_answer_seen": sum(1 for r in recs if r["status"] is None)}
    if dels:
        d0 = min(r["t_req"] for r in dels)
        d1 = max(r["t_resp"] or r["t_req"] for r in dels)
        lat = sorted((r["t_resp"] - r["t_req"]) for r in dels if r["t_resp"])
        mean_all, max_all = inflight_stats(recs, d0, d1)
        mean_del, max_del = inflight_stats(dels, d0, d1)
        out["phases"] = {
            "first_request_s": round(min(r["t_req"] for r in recs) - t_start, 3),
            "first_delete_s": round(d0 - t_start, 3),
            "last_delete_answer_s": round(d1 - t_start, 3),
            "wall_s": round(wall, 3),
            "delete_window_s": round(d1 - d0, 3),
            "requests_before_first_delete": sum(1 for r in recs if r["t_req"] < d0),
            "requests_after_last_delete": sum(1 for r in recs if r["t_req"] > d1),
            "in_flight_during_deletes_mean": round(mean_all, 1), "in_flight_during_deletes_max": max_all,
            "deletes_in_flight_mean": round(mean_del, 1), "deletes_in_flight_max": max_del,
            "delete_latency_median_s": round(statistics.median(lat), 3) if lat else None,
            "delete_latency_max_s": round(lat[-1], 3) if lat else None,
        }
        # request kinds before the first DeleteObjects, during the delete window, after
        for name, sel in (("before_deletes", lambda r: r["t_req"] < d0),
                          ("during_deletes", lambda r: d0 <= r["t_req"] <= d1),
                          ("after_deletes", lambda r: r["t_req"] > d1)):
            out["phases"][name] = dict(collections.Counter(kind(r, bucket) for r in recs if sel(r)).most_common())
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    deployments, per = a.deployments, a.per
    keep = deployments // 2
    doomed = list(range(deployments - keep))
    bucket = a.bucket or f"ab-l-{int(time.time())}"
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} load {loadavg()}; {bench.SERVER} at {bench.ENDPOINT}, "
          f"server pid {bench.SERVER_PID}; binary {bench.S3P}; +{a.delay} ms each way", flush=True)
    if not a.bucket:
        took = bench.seed_s5cmd(bucket, deployments, per)
        print(f"seeded {bucket}: {deployments * per:,} objects in {took:.0f} s", flush=True)

    def reset():
        # A busy Garage drops some of s5cmd's 64 concurrent PUTs now and then (50,514 of 100,000
        # objects after one re-seed): the doomed half is written again until it is all there.
        for _ in range(3):
            bench.seed_s5cmd(bucket, deployments, per, ids=doomed)
            bench.seed(bucket, deployments, 1, ids=range(deployments - keep, deployments))
            n = bench.count_keys(bucket)
            # s3-prune's journal (.s3-prune/...) stays in the bucket between runs
            if n >= deployments * per:
                return
            print(f"re-seed left {n:,} objects: again", flush=True)
        raise RuntimeError(f"re-seeding left {n:,} of {deployments * per:,} objects")

    proxy = LoggingProxy(a.delay)
    cmds = bench.delete_cmds(bucket, proxy.url, doomed, keep)
    tools = {"s3-prune": cmds["s3-prune"], "s5cmd rm": cmds["s5cmd rm"]}
    print("s3-prune: " + " ".join(tools["s3-prune"][0]), flush=True)
    print(f"s5cmd rm: {' '.join(tools['s5cmd rm'][0])} < ({len(doomed)} lines 'rm s3://{bucket}/depNNNNN/*')", flush=True)
    results = {name: [] for name in tools}
    profiled = {}
    for i in range(a.runs + (1 if a.perf else 0)):
        for name, (cmd, env, stdin) in tools.items():
            reset()
            waited = bench.settle()
            proxy.take()
            la = loadavg()
            c0, s0 = bench.client_cpu(), bench.server_cpu()
            t_start = time.monotonic()
            clock = time.strftime('%H:%M:%S')
            if i == a.runs:  # the extra pair under perf
                dt, mb = bench.perf_around(f"{name}'s run (+{a.delay} ms)", lambda: bench.run(cmd, env, stdin))
            else:
                dt, mb = bench.run(cmd, env, stdin)
            ccpu = bench.client_cpu() - c0
            scpu = (bench.server_cpu() - s0) if s0 is not None else None
            time.sleep(0.2)
            recs = proxy.take()
            an = analyse(recs, bucket, t_start, dt)
            left = bench.count_keys(bucket)
            row = {"tool": name, "run": i + 1, "clock": clock, "load": la, "settle_s": round(waited, 1),
                   "wall_s": round(dt, 3), "client_cpu_s": round(ccpu, 2),
                   "server_cpu_s": None if scpu is None else round(scpu, 2), "peak_rss_mb": round(mb, 1),
                   "objects_left": left, **an,
                   "requests_log": [{"t_req": round(r["t_req"] - t_start, 4),
                                     "t_resp": None if r["t_resp"] is None else round(r["t_resp"] - t_start, 4),
                                     "method": r["method"], "path": r["path"], "keys": r["keys"],
                                     "status": r["status"]} for r in recs]}
            (results[name] if i < a.runs else profiled.setdefault(name, [])).append(row)
            print(f"{'(perf) ' if i == a.runs else ''}{name} run {i + 1} at {clock} (load {la}): {dt:.2f} s, server CPU {row['server_cpu_s']} s, "
                  f"client CPU {ccpu:.2f} s, {an['requests']} requests {json.dumps(an['mix'])}, "
                  f"DeleteObjects {an['delete_batches']} x sizes {json.dumps(an['batch_sizes'])}, "
                  f"non-2xx {json.dumps(an['non_2xx'])}; objects left {left:,}", flush=True)
            if "phases" in an:
                print("   phases: " + json.dumps(an["phases"]), flush=True)

    plan_cmd = [bench.S3P, "plan", bucket, str(keep), "--endpoint-url", proxy.url, "--json",
                "--max-delete", "1000000"]
    plans = []
    if a.plan_runs:
        reset()
    for i in range(a.plan_runs):
        bench.settle()
        proxy.take()
        la = loadavg()
        s0 = bench.server_cpu()
        t_start = time.monotonic()
        dt, mb = bench.run(plan_cmd)
        scpu = bench.server_cpu() - s0 if s0 is not None else None
        time.sleep(0.2)
        recs = proxy.take()
        mix = dict(collections.Counter(kind(r, bucket) for r in recs).most_common())
        mean, mx = inflight_stats(recs, t_start, t_start + dt)
        lat = sorted(r["t_resp"] - r["t_req"] for r in recs if r["t_resp"])
        plans.append({"run": i + 1, "load": la, "wall_s": round(dt, 3), "server_cpu_s": scpu, "mix": mix,
                      "in_flight_mean": round(mean, 1), "in_flight_max": mx,
                      "latency_median_s": round(statistics.median(lat), 3) if lat else None})
        print(f"s3-prune plan (scan alone) run {i + 1} (load {la}): {dt:.2f} s, server CPU "
              f"{None if scpu is None else round(scpu, 2)} s, {len(recs)} requests {json.dumps(mix)}, in flight "
              f"mean {mean:.1f} max {mx}, latency median {plans[-1]['latency_median_s']} s", flush=True)
    if plans:
        print("plan: " + " ".join(plan_cmd))

    print(f"\n--- summary ({a.runs} runs each, A B A B; load now {loadavg()})")
    med = {}
    for name, rows in results.items():
        if not rows:
            continue
        w = [r["wall_s"] for r in rows]
        s = [r["server_cpu_s"] for r in rows if r["server_cpu_s"] is not None]
        med[name] = statistics.median(w)
        print(f"{name}: wall {', '.join(f'{x:.2f}' for x in w)} s -> median {med[name]:.2f}, "
              f"spread {min(w):.2f}-{max(w):.2f} ({(max(w) - min(w)) / med[name] * 100:.0f} % of median); "
              f"server CPU {', '.join(f'{x:.2f}' for x in s)} s (median {statistics.median(s):.2f})" if s else "")
    if a.runs:
        pairs = [b["wall_s"] / a_["wall_s"] for a_, b in zip(results["s3-prune"], results["s5cmd rm"])]
        print(f"s5cmd rm / s3-prune per pair: {', '.join(f'{x:.2f}' for x in pairs)}; ratio of medians "
              f"{med['s5cmd rm'] / med['s3-prune']:.2f}x (target >= 1.5x)")
    for r in bench.PERF_REPORTS:
        print(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bucket": bucket, "delay_ms": a.delay, "results": results, "under_perf": profiled, "plan_runs": plans,
                       "perf": bench.PERF_REPORTS}, f, indent=1)


if __name__ == "__main__":
    main()
