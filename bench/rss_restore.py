"""Peak memory of `s3-prune restore --run ID` against the size of the run it undoes: restore
should work through the run's journal part by part, so its peak RSS should not grow with the
number of objects the run deleted.

Each case builds its run for real, without a real bucket of millions of objects: it starts
bench/synthetic_versioned.py's endpoint (a versioned bucket generated on the fly, one byte of
state per object) with SHAPE, runs `BINARY apply synthetic 1 --yes` on it (the journal, with
every delete marker, is written into the endpoint), then `BINARY restore synthetic --run ID`
under /usr/bin/time -v, sampling VmRSS every second. It prints the peak RSS, the wall time, the
requests per operation, and the endpoint's check: every marker the apply made is gone again
(every key current), no key of the kept deployment touched.

    python3 bench/rss_restore.py BINARY [CASE ...]
        CASE: SHAPE (a finished run) or SHAPE:kill (the apply killed with SIGKILL once half the
        keys are deleted: restore then searches the run's folders too); SHAPE as in
        synthetic_versioned.py (`NxM` = N old deployments of M objects, plus one newer of 100).
        Default: 1x10000 1x100000 1x1000000 1000x100 1x1000000:kill

Needs only the Python standard library. Not part of `make test`.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_versioned as sv  # noqa: E402

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
ENV.pop("AWS_ENDPOINT_URL", None)


def vm_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def child_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def case(binary, spec, out_dir):
    shape, _, mode = spec.partition(":")
    kill = mode == "kill"
    server, url = sv.start(shape)
    sp, st = sv.Handler.space, sv.Handler.store
    doomed = sp.offsets[-2]  # keys of the old deployments
    audit = os.path.join(out_dir, f"audit-{shape}-{mode or 'done'}.sqlite")
    # The markers are dated by the endpoint's clock as the apply begins.
    sp.marker_date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    apply = [binary, "apply", sv.BUCKET, "1", "--endpoint-url", url, "--yes", "--json",
             "--max-delete", str(len(sp.sizes)), "--audit-db", audit]
    t = time.monotonic()
    with open(os.path.join(out_dir, "apply.out"), "wb") as so, open(os.path.join(out_dir, "apply.err"), "wb") as se:
        proc = subprocess.Popen(apply, stdout=so, stderr=se, env=ENV, cwd=out_dir)
        while proc.poll() is None:
            if kill and sp.n - sp.dels.count(0) >= doomed // 2:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.2)
    apply_s = time.monotonic() - t
    deleted = sp.n - sp.dels.count(0)
    runs = sorted({k.split("/runs/")[1].split("/")[0] for k in st.objects if "/runs/" in k})
    assert len(runs) == 1, runs
    run = runs[0]
    parts = Counter(k.rsplit("/", 1)[1].split("-")[0] for k in st.objects if f"/runs/{run}/" in k)
    journal_bytes = sum(len(v[0]) for k, v in st.objects.items() if f"/runs/{run}/" in k)
    if not kill and proc.returncode != 0:
        print(open(os.path.join(out_dir, "apply.err"), errors="replace").read()[-2000:])
        raise SystemExit(f"{spec}: the apply failed ({proc.returncode})")
    st.ops.clear()
    restore = ["/usr/bin/time", "-v", binary, "restore", sv.BUCKET, "--run", run, "--endpoint-url", url,
               "--audit-db", audit]
    samples = []
    t = time.monotonic()
    with open(os.path.join(out_dir, "restore.out"), "wb") as so, open(os.path.join(out_dir, "restore.err"), "wb") as se:
        proc = subprocess.Popen(restore, stdout=so, stderr=se, env=ENV, cwd=out_dir)
        while proc.poll() is None:
            kid = child_of(proc.pid)
            rss = vm_rss_kb(kid) if kid else None
            if rss:
                samples.append((round(time.monotonic() - t), round(rss / 1024, 1),
                                sp.markers_removed))
            time.sleep(1)
    wall = time.monotonic() - t
    server.shutdown()
    err = open(os.path.join(out_dir, "restore.err"), errors="replace").read()
    out = open(os.path.join(out_dir, "restore.out"), errors="replace").read()
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    # Every key is current again; the kept deployment (the last) untouched.
    current = sp.state.count(1, 0, doomed)
    still_marked = sp.state.count(2, 0, doomed) + sp.state.count(3, 0, doomed)
    ok = (proc.returncode == 0 and current == doomed and sp.markers_removed == deleted
          and sp.state.count(1, doomed, sp.n) == sp.n - doomed and not sp.foreign and not st.unhandled)
    return {
        "case": spec, "objects": sp.n, "deleted": deleted, "apply_s": round(apply_s),
        "journal_parts": dict(parts), "journal_mb": round(journal_bytes / 1e6, 1),
        "restore_exit": proc.returncode,
        "peak_rss_mb": round(int(peak.group(1)) / 1024, 1) if peak else None,
        "wall_s": round(wall, 1), "markers_removed": sp.markers_removed,
        "keys_still_under_a_marker": still_marked, "repeats": sp.repeats,
        "requests": dict(sorted((k, v) for k, v in st.ops.items() if not k.startswith(" "))),
        "rss_timeline_s_mb_removed": samples[:: max(1, len(samples) // 12)],
        "check": "OK" if ok else "FAILED",
        "stdout_tail": out[-600:] if not ok else out[-200:],
        "stderr_tail": err[-1500:] if not ok else "",
    }


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    specs = sys.argv[2:] or ["1x10000", "1x100000", "1x1000000", "1000x100", "1x1000000:kill"]
    rows = []
    for spec in specs:
        out_dir = tempfile.mkdtemp(prefix=f"s3p-rssr-{spec.replace(':', '-')}-")
        r = case(binary, spec, out_dir)
        r["dir"] = out_dir
        rows.append(r)
        for k, v in r.items():
            print(f"  {k}: {v}")
        print(flush=True)
    print("| run | objects deleted | journal | restore peak RSS | restore wall | check |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(f"| {r['case']} | {r['deleted']:,} | {sum(r['journal_parts'].values()):,} parts, "
              f"{r['journal_mb']} MB | **{r['peak_rss_mb']} MB** | {r['wall_s']} s | {r['check']} |")
    return 0 if all(r["check"] == "OK" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
