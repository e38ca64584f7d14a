"""Peak memory of an apply on a versioned bucket, at two sizes: the delete markers go to the run
journal batch by batch, so the process's peak RSS should not grow with the run. Seeds a
versioned LocalStack bucket with DEPLOYMENTS deployments of 100 objects, applies `keep 1` with
the given binary under /usr/bin/time -v, and prints the peak RSS, the wall time, the objects
deleted and the size of the JSON answer (what the scheduled job bounds separately).

    python3 bench/rss_versioned.py S3_PRUNE_BINARY [DEPLOYMENTS ...]   (default: 100 1000)

Needs boto3 (LocalStack's venv has it: ~/.cache/s3-prune/localstack/bin/python ...).
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import time

from lsclient import client

FILES = 100


def seed(s3, bucket, deployments):
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = [f"d{d:05}/f{f:03}.js" for d in range(deployments) for f in range(FILES)]
    with concurrent.futures.ThreadPoolExecutor(48) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 64), keys))
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key="zz-new/index.html", Body=b"x")


def main():
    binary = sys.argv[1]
    sizes = [int(a) for a in sys.argv[2:]] or [100, 1000]
    s3 = client()
    for n in sizes:
        bucket = f"rss-{os.getpid()}-{n}"
        t = time.monotonic()
        seed(s3, bucket, n)
        seeded = time.monotonic() - t
        out = subprocess.run(
            ["/usr/bin/time", "-v", binary, "apply", bucket, "1", "--localstack", "--yes",
             "--max-delete", str(n),
             "--json", "--audit-db", f"/tmp/s3p-rss-{os.getpid()}.sqlite"],
            capture_output=True, check=True)
        err = out.stderr.decode()
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err).group(1)
        deleted = re.search(rb'"deleted_objects": (\d+)', out.stdout).group(1).decode()
        print(f"{n * FILES:>9,} objects (seeded in {seeded:.0f} s): deleted {int(deleted):,}, "
              f"peak RSS {rss / 1024:.1f} MB, wall {wall}, JSON answer {len(out.stdout) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
