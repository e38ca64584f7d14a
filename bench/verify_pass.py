"""What the verifying pass costs: a doomed deployment of more than 2,000 keys is listed whole
before any of it is sent (so a deployment changed since the plan is left whole), then listed
again as it is deleted. This measures, against LocalStack, the time of one listing pass over such
a deployment (what the verifying pass adds) beside the time of the apply that deletes it (start,
the scan, the verifying pass, the deleting pass, the DeleteObjects and the journal), and `plan`
for scale.

    python3 bench/verify_pass.py S3_PRUNE_BINARY [ROUNDS] [OBJECTS] [B_BINARY]

With B_BINARY (a build from before the verifying pass: `git worktree add /tmp/old <rev>` and
build it the same way) each round also times B's apply on its own freshly seeded bucket, A and B
in turn, and prints the ratio A/B per round and its median.

Needs boto3 (LocalStack's venv has it: ~/.cache/s3-prune/localstack/bin/python ...).
"""
import concurrent.futures
import math
import os
import statistics
import subprocess
import sys
import time

from lsclient import client


def seed(s3, bucket, objects):
    s3.create_bucket(Bucket=bucket)
    keys = [f"old/assets/f{i:06}.js" for i in range(objects)]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 64), keys))
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key="new/index.html", Body=b"x")


def list_pass(s3, bucket):
    """One listing of the doomed deployment, as the verifying pass makes it (1,000 keys a page)."""
    t = time.monotonic()
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="old/"):
        n += page.get("KeyCount", 0)
    return time.monotonic() - t, n


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.monotonic() - t


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    objects = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    other = sys.argv[4] if len(sys.argv) > 4 else None
    s3 = client()
    b_applies = []
    db = f"/tmp/s3p-bench-verify-{os.getpid()}.sqlite"
    plans, applies, passes = [], [], []
    for r in range(rounds):
        bucket = f"verify-{os.getpid()}-{r}"
        seed(s3, bucket, objects)
        dt, n = list_pass(s3, bucket)
        assert n == objects, n
        passes.append(dt)
        plans.append(timed([binary, "plan", bucket, "1", "--localstack", "--json"]))
        applies.append(timed([binary, "apply", bucket, "1", "--localstack", "--json", "--yes",
                              "--audit-db", db]))
        left = s3.list_objects_v2(Bucket=bucket, Prefix="old/").get("KeyCount", 0)
        assert left == 0, f"{left} objects left"
        if other:
            seed(s3, bucket + "-b", objects)
            b_applies.append(timed([other, "apply", bucket + "-b", "1", "--localstack", "--json",
                                    "--yes", "--audit-db", db]))
            print(f"  B apply {b_applies[-1]:.2f} s, A/B {applies[-1] / b_applies[-1]:.3f}")
        print(f"round {r + 1}: one listing pass {passes[-1]:.2f} s, plan {plans[-1]:.2f} s, "
              f"apply {applies[-1]:.2f} s")
    lp, ap = statistics.median(passes), statistics.median(applies)
    lists = math.ceil(objects / 1000)
    print(f"\n{objects:,} objects in one doomed deployment, {rounds} rounds (medians):")
    print(f"  plan (start, scan, handover check): {statistics.median(plans):.2f} s")
    print(f"  one listing pass of the deployment: {lp:.2f} s")
    print(f"  apply (scan + verifying pass + deleting pass + deletes): {ap:.2f} s")
    print(f"  the verifying pass adds {lists} ListObjectsV2 requests (1 per 1,000 keys) "
          f"beside {lists} DeleteObjects: ~{lp:.2f} s, {100 * lp / ap:.0f} % of the apply")
    if other:
        ratios = [a / b for a, b in zip(applies, b_applies)]
        print(f"  A/B per round: {', '.join(f'{r:.3f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.3f} (B median {statistics.median(b_applies):.2f} s)")


if __name__ == "__main__":
    main()
