"""What the bucket journal and the lease cost an apply: the same 10,000-object apply (100 of 200
deployments of 100 objects) by two s3-prune binaries, A and B, in turn (A B A B ...), each on a
freshly seeded bucket, with the ratio per pair. A is typically this tree's build and B one from
before the journal (`git worktree add /tmp/old <rev>` and build it the same way).

    python3 bench/journal.py A_BINARY B_BINARY [PAIRS]

Talks to LocalStack on 127.0.0.1:4566 (`make localstack-start`); needs boto3 (LocalStack's venv
has it: ~/.cache/s3-prune/localstack/bin/python bench/journal.py ...). Prints the wall time of
each apply, the medians, the ratio A/B per pair and its median, and the requests of a run.
"""
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time

from lsclient import client

DEPLOYMENTS, FILES, RETAIN = 200, 100, "100"


def seed(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    keys = [f"d{d:03}/f{f:03}.js" for d in range(DEPLOYMENTS) for f in range(FILES)]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 64), keys))


def apply(binary, bucket):
    t = time.monotonic()
    out = subprocess.run(
        [binary, "apply", bucket, RETAIN, "--localstack", "--yes", "--json",
         "--audit-db", f"/tmp/s3p-bench-journal-{os.getpid()}.sqlite"],
        capture_output=True, check=True,
    )
    wall = time.monotonic() - t
    deleted = json.loads(out.stdout)["deleted_objects"]
    assert deleted == DEPLOYMENTS // 2 * FILES, deleted
    return wall


def main():
    a, b = sys.argv[1], sys.argv[2]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    s3 = client()
    times = {"A": [], "B": []}
    for p in range(pairs):
        for name, binary in (("A", a), ("B", b)):
            bucket = f"bench-journal-{os.getpid()}-{p}-{name.lower()}"
            seed(s3, bucket)
            wall = apply(binary, bucket)
            times[name].append(wall)
            print(f"pair {p + 1} {name}: {wall:.3f} s", flush=True)
    ratios = [x / y for x, y in zip(times["A"], times["B"])]
    print(f"A median {statistics.median(times['A']):.3f} s, B median {statistics.median(times['B']):.3f} s")
    print("A/B per pair: " + ", ".join(f"{r:.3f}" for r in ratios) + f"; median {statistics.median(ratios):.3f}")
    journal = [o for o in s3.list_objects_v2(Bucket=f"bench-journal-{os.getpid()}-0-a", Prefix=".s3-prune/")
               .get("Contents", [])]
    print(f"journal objects of one A run: {len(journal)} ({sum(o['Size'] for o in journal)} bytes)")


if __name__ == "__main__":
    main()
