"""PUTs that are checked, for the benchmarks that seed a bucket: every key is PUT, the bucket is
listed, and what did not stick is PUT again (LocalStack has been seen to drop a few hundred of
20,000 concurrent PUTs)."""
import concurrent.futures


def put_checked(s3, bucket, keys, body, workers):
    """PUTs `body` at every key of `keys` with `workers` threads, then again at the keys the
    bucket does not list, up to five rounds in all; RuntimeError when some are still missing."""
    for _ in range(5):
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys))
        present = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            present |= {o["Key"] for o in page.get("Contents", [])}
        keys = [k for k in keys if k not in present]
        if not keys:
            return
        print(f"seed: {len(keys)} PUTs did not stick, putting them again", flush=True)
    raise RuntimeError("LocalStack keeps losing PUTs")
