"""A synthetic VERSIONED S3 endpoint for memory measurements of a huge apply (issue 22), the
versioned sibling of bench/bench.py's `Synthetic`/`SyntheticBig`: GetBucketVersioning answers
Enabled, and the bucket holds deployments `dep{d:05}/assets/file{k:07}.css` generated on the fly
(never a Python list of keys). Per object the server keeps one byte of state (bit 0: its
version `v<hex index>` exists, bit 1: a delete marker `m<hex index>` lies on top) and one byte
counting the deletes that took effect on it, so it answers like a real versioned bucket
(a deleted key leaves ListObjectsV2, its marker shows in ListObjectVersions) and can prove that
every key was deleted exactly once.

Answered: ListObjectsV2 (prefix, delimiter, start-after, continuation token, max-keys ≤ 1,000),
ListObjectVersions (key/version-id markers, 1,000 entries a page), DeleteObjects (quiet or
verbose: a delete without VersionId makes a marker, DeleteMarker=true with its
DeleteMarkerVersionId; a delete with a VersionId removes that version or marker),
PutObject / GetObject / HeadObject / DeleteObject of objects outside the generated key space
(s3-prune's `.s3-prune/` state: lease, journal parts, pins) held in a dict, with ETags and
`If-None-Match: *` / `If-Match: ETAG` conditions (412 when they fail), GetBucketVersioning,
GetBucketLifecycleConfiguration (404 NoSuchLifecycleConfiguration), GetBucketLocation, HeadBucket.
Anything else is printed loudly (`UNHANDLED ...`) and answered 501 NotImplemented.

    python3 bench/synthetic_versioned.py serve SHAPE [--port P] [--log]
        the endpoint alone (bucket `synthetic`), for probing with a binary; --log prints
        every request (method, target, status, ms)
    python3 bench/synthetic_versioned.py run BINARY SHAPE [--purge] [--unversioned] [--log] [--out DIR]
        starts the endpoint, runs `BINARY apply synthetic 1 --endpoint-url ... --yes --json`
        (+ --purge-versions) under /usr/bin/time -v, then prints peak RSS, wall time, objects
        deleted, the journal objects written (count, bytes), the --json answer's size, the
        requests per operation, and the server-side check: every key of the doomed
        deployments deleted exactly once, none of the kept one touched; and VmRSS every 5 s
        with the keys deleted so far. --unversioned: GetBucketVersioning answers "never
        enabled" (the binary then sends quiet deletes, no markers), for comparison.
    LSPY bench/synthetic_versioned.py localstack BINARY SHAPE [--purge]   (small shapes only)
        the same shape seeded into a real versioned LocalStack bucket, the same apply with
        --localstack, and the same figures read back (journal parts, markers and versions per
        key): the check that the synthetic answers give what a real versioned bucket gives.
        LSPY: a python with boto3 (~/.cache/s3-prune/localstack/bin/python).

SHAPE: `big` = one old deployment of 5,000,000 objects + one newer of 100; `many` = 50,000 old
deployments of 100 objects + one newer of 100; `NxM` = N old deployments of M objects + one
newer of 100 (e.g. `1x10000`, `100x100` for small checks).

`serve` and `run` need only the Python standard library. Not part of `make test`.
"""
import argparse
import bisect
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

BUCKET = "synthetic"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = '<?xml version="1.0" encoding="UTF-8"?>'
KEY_RE = re.compile(r"dep(\d{5})/assets/file(\d{7})\.css\Z")
OBJ_RE = re.compile(rb"<Object>(.*?)</Object>", re.S)
KEY_IN = re.compile(rb"<Key>(.*?)</Key>", re.S)
VID_IN = re.compile(rb"<VersionId>(.*?)</VersionId>", re.S)
NONZERO = re.compile(rb"[^\x00]")
TOP = "\U0010ffff"  # sorts after any character of a key: cp + TOP is after every key under cp


def shape_sizes(shape):
    if shape == "big":
        return [5_000_000, 100]
    if shape == "many":
        return [100] * 50_000 + [100]
    n, m = shape.split("x")
    return [int(m)] * int(n) + [100]


class Space:
    """The generated objects: deployment d holds sizes[d] keys; deployment d is dated d
    minutes after 2026-01-01 (the last one, the newest, a day after the others)."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.offsets = [0]
        for s in sizes:
            self.offsets.append(self.offsets[-1] + s)
        self.n = self.offsets[-1]
        self.state = bytearray(b"\x01") * self.n  # bit 0: version; bit 1: delete marker
        self.dels = bytearray(self.n)  # deletes that took effect (saturating at 255)
        base = datetime(2026, 1, 1, tzinfo=timezone.utc)
        last = len(sizes) - 1
        self.dates = [(base + timedelta(minutes=d if d < last else d + 24 * 60))
                      .strftime("%Y-%m-%dT%H:%M:%S.000Z") for d in range(len(sizes))]
        self.marker_date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.lock = threading.Lock()
        self.repeats = 0  # deletes of a key/version already gone
        self.markers_removed = 0
        self.foreign = []  # keys outside the space asked to be deleted

    def dep(self, i):
        return bisect.bisect_right(self.offsets, i) - 1

    def key(self, i):
        d = self.dep(i)
        return f"dep{d:05}/assets/file{i - self.offsets[d]:07}.css"

    def index(self, key):
        m = KEY_RE.match(key)
        if not m:
            return None
        d, k = int(m.group(1)), int(m.group(2))
        if d >= len(self.sizes) or k >= self.sizes[d]:
            return None
        return self.offsets[d] + k

    def lower(self, s):
        """First index whose key is >= s."""
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) < s:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def upper(self, s):
        """First index whose key is > s."""
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) <= s:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def prefix_range(self, prefix):
        if not prefix:
            return 0, self.n
        return self.lower(prefix), self.lower(prefix + TOP)


class Store:
    """Objects outside the space (s3-prune's state), and the counters of a run."""

    def __init__(self):
        self.objects = {}  # key -> (body, etag, last-modified http date, content type)
        self.lock = threading.Lock()
        self.puts = Counter()  # key -> PUTs that stored it
        self.put_bytes = 0
        self.refused = 0  # conditional PUTs answered 412
        self.ops = Counter()
        self.op_ms = Counter()
        self.unhandled = []


def xml_reply(h, status, body, extra=None):
    b = (XML + body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/xml")
    h.send_header("Content-Length", str(len(b)))
    h.send_header("x-amz-request-id", "synthetic")
    for k, v in (extra or {}).items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(b)


def error(h, status, code, message=""):
    xml_reply(h, status, f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
                         f"<RequestId>synthetic</RequestId></Error>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    space: Space = None
    store: Store = None
    log = False
    versioned = True  # --unversioned: GetBucketVersioning says never enabled (for comparison)

    def log_message(self, *a):
        pass

    # ---- plumbing ----------------------------------------------------------------------

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        enc = self.headers.get("Content-Encoding", "")
        sha = self.headers.get("x-amz-content-sha256", "")
        if "aws-chunked" in enc or sha.startswith("STREAMING-"):
            out, pos = b"", 0
            while True:
                eol = data.index(b"\r\n", pos)
                size = int(data[pos:eol].split(b";")[0], 16)
                if size == 0:
                    break
                out += data[eol + 2:eol + 2 + size]
                pos = eol + 2 + size + 2
            data = out
        return data

    def route(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query, keep_blank_values=True)
        parts = u.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, key, q

    def handle_one(self):
        t = time.monotonic()
        bucket, key, q = self.route()
        self._status = None
        op = self.dispatch(bucket, key, q)
        ms = (time.monotonic() - t) * 1000
        st = self.store
        with st.lock:
            st.ops[op] += 1
            st.op_ms[op] += ms
        if self.log:
            print(f"{self.command} {self.path[:160]} -> {op} {self._status} {ms:.1f} ms",
                  file=sys.stderr, flush=True)

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one

    def unhandled(self, bucket, key, q):
        msg = f"UNHANDLED {self.command} {self.path} (bucket {bucket!r}, key {key!r})"
        print("!" * 20 + " " + msg, file=sys.stderr, flush=True)
        self.store.unhandled.append(msg)
        if self.command in ("PUT", "POST"):
            self.body()
        error(self, 501, "NotImplemented", msg)
        return "UNHANDLED"

    def dispatch(self, bucket, key, q):
        if bucket != BUCKET:
            if self.command in ("PUT", "POST"):
                self.body()
            error(self, 404, "NoSuchBucket", bucket)
            return "NoSuchBucket"
        c = self.command
        if not key:
            if c == "GET" and "versioning" in q:
                status = "<Status>Enabled</Status>" if self.versioned else ""
                xml_reply(self, 200, f'<VersioningConfiguration xmlns="{NS}">{status}</VersioningConfiguration>')
                return "GetBucketVersioning"
            if c == "GET" and "lifecycle" in q:
                error(self, 404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
                return "GetBucketLifecycleConfiguration"
            if c == "GET" and "location" in q:
                xml_reply(self, 200, f'<LocationConstraint xmlns="{NS}"/>')
                return "GetBucketLocation"
            if c == "GET" and q.get("list-type") == ["2"]:
                return self.list_v2(q)
            if c == "GET" and "versions" in q:
                return self.list_versions(q)
            if c == "POST" and "delete" in q:
                return self.delete_objects()
            if c == "HEAD":
                xml_reply(self, 200, "")
                return "HeadBucket"
            return self.unhandled(bucket, key, q)
        extra = set(q) - {"x-id"}
        if c == "PUT" and not extra and "x-amz-copy-source" not in self.headers:
            return self.put_object(key)
        if c in ("GET", "HEAD") and not extra - {"partNumber"}:
            return self.get_object(key)
        if c == "DELETE" and not extra:
            return self.delete_object(key)
        return self.unhandled(bucket, key, q)

    # ---- state objects -----------------------------------------------------------------

    def put_object(self, key):
        body = self.body()
        st = self.store
        if self.space.index(key) is not None:
            print(f"!!!!!!!!!!!!!!!!!!!! PUT into the generated space: {key}", file=sys.stderr, flush=True)
            st.unhandled.append(f"PUT {key}")
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        inm, im = self.headers.get("If-None-Match"), self.headers.get("If-Match")
        with st.lock:
            have = st.objects.get(key)
            if inm is not None and inm.strip() == "*" and have is not None:
                st.refused += 1
                error(self, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
                return "PutObject (412)"
            if im is not None:
                if have is None:
                    error(self, 404, "NoSuchKey", key)
                    return "PutObject (If-Match, 404)"
                if im.strip() != "*" and im.strip() != have[1]:
                    st.refused += 1
                    error(self, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
                    return "PutObject (412)"
            st.objects[key] = (body, etag, formatdate(usegmt=True),
                               self.headers.get("Content-Type", "binary/octet-stream"))
            st.puts[key] += 1
            st.put_bytes += len(body)
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("x-amz-version-id", "s" + etag.strip('"')[:16])
        self.send_header("Content-Length", "0")
        self.end_headers()
        return "PutObject"

    def get_object(self, key):
        op = "HeadObject" if self.command == "HEAD" else "GetObject"
        with self.store.lock:
            have = self.store.objects.get(key)
        if have is None:
            i = self.space.index(key)
            if i is not None and self.space.state[i] == 1:
                d = self.space.dep(i)
                body = b"x" * (100 + (i - self.space.offsets[d]) % 100)
                lm = datetime.strptime(self.space.dates[d], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=timezone.utc)
                have = (body, '"x"', formatdate(lm.timestamp(), usegmt=True), "text/css")
        if have is None:
            if self.command == "HEAD":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                error(self, 404, "NoSuchKey", "The specified key does not exist.")
            return op + " (404)"
        body, etag, lm, ctype = have
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", lm)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)
        return op

    def delete_object(self, key):
        with self.store.lock:
            gone = self.store.objects.pop(key, None)
        if gone is None and self.space.index(key) is not None:
            print(f"!!!!!!!!!!!!!!!!!!!! DeleteObject of a generated key: {key}", file=sys.stderr, flush=True)
            self.store.unhandled.append(f"DELETE {key}")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return "DeleteObject"

    # ---- listings ----------------------------------------------------------------------

    def list_v2(self, q):
        sp, st = self.space, self.store
        g = lambda name: q.get(name, [""])[0]
        prefix, delim = g("prefix"), g("delimiter")
        max_keys = min(int(g("max-keys") or 1000), 1000)
        token = g("continuation-token")
        after = bytes.fromhex(token).decode() if token else g("start-after")
        lo, hi = sp.prefix_range(prefix)
        with st.lock:
            skeys = sorted(k for k in st.objects if k.startswith(prefix))

        def first_v(after):  # first current generated index with key > after
            i = max(lo, sp.upper(after)) if after else lo
            j = sp.state.find(1, i, hi)
            return None if j < 0 else j

        def first_s(after):
            return bisect.bisect_right(skeys, after) if after else 0

        v, s = first_v(after), first_s(after)
        contents, cps, last, count = [], [], None, 0
        while True:
            kv = sp.key(v) if v is not None else None
            ks = skeys[s] if s < len(skeys) else None
            if kv is None and ks is None:
                more = False
                break
            if count >= max_keys:
                more = True
                break
            from_v = ks is None or (kv is not None and kv < ks)
            k = kv if from_v else ks
            if delim:
                rest = k[len(prefix):]
                j = rest.find(delim)
                if j >= 0:
                    cp = prefix + rest[:j + len(delim)]
                    cps.append(f"<CommonPrefixes><Prefix>{escape(cp)}</Prefix></CommonPrefixes>")
                    count += 1
                    last = cp + TOP
                    v, s = first_v(last), first_s(last)
                    continue
            if from_v:
                d = sp.dep(v)
                contents.append(f"<Contents><Key>{kv}</Key><LastModified>{sp.dates[d]}</LastModified>"
                                f"<ETag>&quot;x&quot;</ETag><Size>{100 + (v - sp.offsets[d]) % 100}</Size>"
                                f"<StorageClass>STANDARD</StorageClass></Contents>")
                j = sp.state.find(1, v + 1, hi)
                v = None if j < 0 else j
            else:
                body, etag, lm, _ = st.objects.get(ks, (b"", '"gone"', None, None))
                contents.append(f"<Contents><Key>{escape(ks)}</Key><LastModified>{sp.marker_date}</LastModified>"
                                f"<ETag>{escape(etag)}</ETag><Size>{len(body)}</Size>"
                                f"<StorageClass>STANDARD</StorageClass></Contents>")
                s += 1
            last = k
            count += 1
        nxt = f"<NextContinuationToken>{last.encode().hex()}</NextContinuationToken>" if more else ""
        ct = f"<ContinuationToken>{token}</ContinuationToken>" if token else ""
        xml_reply(self, 200, f'<ListBucketResult xmlns="{NS}"><Name>{BUCKET}</Name><Prefix>{escape(prefix)}</Prefix>'
                             f"<KeyCount>{count}</KeyCount><MaxKeys>{max_keys}</MaxKeys>"
                             + (f"<Delimiter>{escape(delim)}</Delimiter>" if delim else "")
                             + f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{ct}{nxt}"
                             + "".join(contents) + "".join(cps) + "</ListBucketResult>")
        return "ListObjectsV2"

    def list_versions(self, q):
        sp, st = self.space, self.store
        g = lambda name: q.get(name, [""])[0]
        prefix = g("prefix")
        if g("delimiter"):
            return self.unhandled(BUCKET, "", q)
        max_keys = min(int(g("max-keys") or 1000), 1000)
        km, vm = g("key-marker"), g("version-id-marker")
        lo, hi = sp.prefix_range(prefix)
        with st.lock:
            skeys = sorted(k for k in st.objects if k.startswith(prefix))
        # state objects: one version each ("null"), listed before the generated keys they precede
        entries = []  # (key, xml) in order

        def gen_entries(i):
            """The entries of generated key i, newest first: its marker, then its version."""
            s = sp.state[i]
            d = sp.dep(i)
            k = sp.key(i)
            out = []
            if s & 2:
                out.append((f"m{i:08x}", f"<DeleteMarker><Key>{k}</Key><VersionId>m{i:08x}</VersionId>"
                                         f"<IsLatest>true</IsLatest><LastModified>{sp.marker_date}</LastModified>"
                                         f"</DeleteMarker>"))
            if s & 1:
                out.append((f"v{i:08x}", f"<Version><Key>{k}</Key><VersionId>v{i:08x}</VersionId>"
                                         f"<IsLatest>{'false' if s & 2 else 'true'}</IsLatest>"
                                         f"<LastModified>{sp.dates[d]}</LastModified><ETag>&quot;x&quot;</ETag>"
                                         f"<Size>{100 + (i - sp.offsets[d]) % 100}</Size>"
                                         f"<StorageClass>STANDARD</StorageClass></Version>"))
            return k, out

        # where to start
        if km:
            i = max(lo, sp.lower(km))
            skip_vid = None
            if i < hi and sp.key(i) == km:
                if vm:
                    skip_vid = vm
                else:
                    i += 1
            s = bisect.bisect_right(skeys, km)
        else:
            i, skip_vid, s = lo, None, 0
        nonzero = lambda i: (lambda m: None if m is None or m.start() >= hi else m.start())(NONZERO.search(sp.state, i))
        v = nonzero(i) if i < hi else None
        more, last_key, last_vid, count = False, None, None, 0
        body = []
        while True:
            kv = sp.key(v) if v is not None else None
            ks = skeys[s] if s < len(skeys) else None
            if kv is None and ks is None:
                break
            if ks is not None and (kv is None or ks < kv):
                if count >= max_keys:
                    more = True
                    break
                b, etag, lm, _ = st.objects.get(ks, (b"", '"gone"', None, None))
                body.append(f"<Version><Key>{escape(ks)}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>"
                            f"<LastModified>{sp.marker_date}</LastModified><ETag>{escape(etag)}</ETag>"
                            f"<Size>{len(b)}</Size><StorageClass>STANDARD</StorageClass></Version>")
                last_key, last_vid, count = ks, "null", count + 1
                s += 1
                continue
            k, out = gen_entries(v)
            if skip_vid is not None and k == km:
                ids = [vid for vid, _ in out]
                out = out[ids.index(skip_vid) + 1:] if skip_vid in ids else out
            skip_vid = None
            stop = False
            for vid, x in out:
                if count >= max_keys:
                    more, stop = True, True
                    break
                body.append(x)
                last_key, last_vid, count = k, vid, count + 1
            if stop:
                break
            v = nonzero(v + 1) if v + 1 < hi else None
        nxt = (f"<NextKeyMarker>{escape(last_key)}</NextKeyMarker><NextVersionIdMarker>{last_vid}</NextVersionIdMarker>"
               if more else "")
        xml_reply(self, 200, f'<ListVersionsResult xmlns="{NS}"><Name>{BUCKET}</Name><Prefix>{escape(prefix)}</Prefix>'
                             f"<KeyMarker>{escape(km)}</KeyMarker><VersionIdMarker>{escape(vm)}</VersionIdMarker>"
                             f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{'true' if more else 'false'}</IsTruncated>"
                             + nxt + "".join(body) + "</ListVersionsResult>")
        return "ListObjectVersions"

    # ---- deletes -----------------------------------------------------------------------

    def delete_objects(self):
        raw = self.body()
        sp, st = self.space, self.store
        quiet = b"<Quiet>true</Quiet>" in raw
        out = []
        kinds = Counter()
        with sp.lock:
            for obj in OBJ_RE.findall(raw):
                key = unquote_xml(KEY_IN.search(obj).group(1).decode())
                vm = VID_IN.search(obj)
                vid = unquote_xml(vm.group(1).decode()) if vm else None
                i = sp.index(key)
                if i is None:
                    # never expected: s3-prune must only send doomed generated keys
                    print(f"!!!!!!!!!!!!!!!!!!!! DeleteObjects of a key outside the generated space: {key} {vid}",
                          file=sys.stderr, flush=True)
                    sp.foreign.append((key, vid))
                    if not quiet:
                        out.append(f"<Deleted><Key>{escape(key)}</Key></Deleted>")
                    continue
                s = sp.state[i]
                if vid is None:
                    kinds["marker made"] += 1
                    if s == 1:
                        sp.state[i] = 3
                        sp.dels[i] = min(255, sp.dels[i] + 1)
                        mid = f"m{i:08x}"
                    else:  # a second marker: S3 would stack another one
                        sp.repeats += 1
                        sp.dels[i] = min(255, sp.dels[i] + 1)
                        mid = f"m{i:08x}-again"
                    if not quiet:
                        out.append(f"<Deleted><Key>{key}</Key><DeleteMarker>true</DeleteMarker>"
                                   f"<DeleteMarkerVersionId>{mid}</DeleteMarkerVersionId></Deleted>")
                elif vid == f"v{i:08x}":
                    kinds["version removed"] += 1
                    if s & 1:
                        sp.state[i] = s & ~1
                        sp.dels[i] = min(255, sp.dels[i] + 1)
                    else:
                        sp.repeats += 1
                    if not quiet:
                        out.append(f"<Deleted><Key>{key}</Key><VersionId>{vid}</VersionId></Deleted>")
                elif vid == f"m{i:08x}":
                    kinds["marker removed"] += 1
                    if s & 2:
                        sp.state[i] = s & ~2
                        sp.markers_removed += 1
                    else:
                        sp.repeats += 1
                    if not quiet:
                        out.append(f"<Deleted><Key>{key}</Key><VersionId>{vid}</VersionId><DeleteMarker>true</DeleteMarker>"
                                   f"<DeleteMarkerVersionId>{vid}</DeleteMarkerVersionId></Deleted>")
                else:
                    print(f"!!!!!!!!!!!!!!!!!!!! DeleteObjects of an unknown version: {key} {vid}", file=sys.stderr, flush=True)
                    sp.foreign.append((key, vid))
                    if not quiet:
                        out.append(f"<Deleted><Key>{key}</Key><VersionId>{escape(vid)}</VersionId></Deleted>")
        with st.lock:
            for k, n in kinds.items():
                st.ops[f"  DeleteObjects keys: {k}"] += n
        xml_reply(self, 200, f'<DeleteResult xmlns="{NS}">' + "".join(out) + "</DeleteResult>")
        return "DeleteObjects"


def unquote_xml(s):
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def start(shape, log=False, port=0, versioned=True):
    Handler.versioned = versioned
    Handler.space = Space(shape_sizes(shape))
    Handler.store = Store()
    Handler.log = log
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def check(space, doomed_deps, purge):
    """Every key of the doomed deployments deleted exactly once, none of the others touched;
    returns (ok, lines)."""
    lines, ok = [], True
    for d in range(len(space.sizes)):
        lo, hi = space.offsets[d], space.offsets[d + 1]
        dels = space.dels[lo:hi]
        states = space.state[lo:hi]
        n = hi - lo
        if d in doomed_deps:
            once = dels.count(1)
            want_state = 0 if purge else 3
            good = once == n and states.count(want_state) == n
        else:
            good = dels.count(0) == n and states.count(1) == n
        if not good:
            ok = False
            lines.append(f"  dep{d:05}: {n:,} keys, deleted once {dels.count(1):,}, never {dels.count(0):,}, "
                         f"state counts {dict((s, states.count(s)) for s in range(4))}")
    lines.insert(0, f"server check: {'OK' if ok else 'FAILED'}: {len(doomed_deps):,} doomed deployments "
                    f"({sum(space.sizes[d] for d in doomed_deps):,} keys) each key deleted exactly once "
                    f"({'version removed' if purge else 'delete marker made'}), kept deployment untouched; "
                    f"repeats {space.repeats}, markers removed {space.markers_removed}, "
                    f"foreign keys/versions {len(space.foreign)}")
    if space.foreign:
        ok = False
    return ok, lines


def run(args):
    sizes = shape_sizes(args.shape)
    server, url = start(args.shape, log=args.log, versioned=not args.unversioned)
    sp, st = Handler.space, Handler.store
    out_dir = args.out or tempfile.mkdtemp(prefix="s3p-synv-")
    os.makedirs(out_dir, exist_ok=True)
    cmd = ["/usr/bin/time", "-v", args.binary, "apply", BUCKET, "1", "--endpoint-url", url, "--yes",
           "--json", "--max-delete", str(len(sizes)), "--audit-db", os.path.join(out_dir, "audit.sqlite")]
    if args.purge:
        cmd.append("--purge-versions")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
    env.pop("AWS_ENDPOINT_URL", None)
    print("$ " + " ".join(cmd[2:]), flush=True)
    t = time.monotonic()
    timeline = []  # (seconds, VmRSS MB, keys deleted so far) every 5 s: growth or plateau
    with open(os.path.join(out_dir, "answer.json"), "wb") as so, open(os.path.join(out_dir, "stderr.txt"), "wb") as se:
        proc = subprocess.Popen(cmd, stdout=so, stderr=se, env=env, cwd=out_dir)
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    kid = f.read().split()[0]
                with open(f"/proc/{kid}/status") as f:
                    rss_kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
                done = sp.n - sp.dels.count(0)
                timeline.append((round(time.monotonic() - t), round(rss_kb / 1024, 1), done))
            except (OSError, IndexError, StopIteration):
                pass
            for _ in range(50):
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        rc = proc.returncode
    wall = time.monotonic() - t
    server.shutdown()
    err = open(os.path.join(out_dir, "stderr.txt"), errors="replace").read()
    answer = open(os.path.join(out_dir, "answer.json"), "rb").read()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err)
    try:
        doc = json.loads(answer)
    except ValueError:
        doc = {}
    journal = {k: len(v[0]) for k, v in st.objects.items() if "/runs/" in k}
    part_of = lambda k: re.sub(r"-\d+\.json$", "", k.rsplit("/", 1)[1])
    parts = Counter(part_of(k) for k in journal)
    res = {
        "shape": args.shape, "objects": sp.n, "versioned": not args.unversioned, "purge": args.purge, "exit": rc,
        "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
        "wall": elapsed.group(1) if elapsed else f"{wall:.1f} s", "wall_s": round(wall, 1),
        "deleted_objects": doc.get("deleted_objects"),
        "json_answer_bytes": len(answer),
        "journal_objects": len(journal), "journal_bytes": sum(journal.values()),
        "journal_parts": dict(parts),
        "journal_part_bytes": {name: {"n": parts[name], "max": max(v for k, v in journal.items() if part_of(k) == name),
                                      "sum": sum(v for k, v in journal.items() if part_of(k) == name)}
                               for name in parts},
        "state_puts": sum(st.puts.values()), "state_put_bytes": st.put_bytes, "refused_412": st.refused,
        "requests": dict(sorted(st.ops.items())),
        "unhandled": st.unhandled,
        "rss_timeline_s_mb_deleted": timeline,
    }
    doomed = set(range(len(sizes) - 1))
    ok, lines = check(sp, doomed, args.purge)
    res["server_check_ok"] = ok
    print(json.dumps(res, indent=1))
    print("\n".join(lines))
    print(f"(binary's stdout/stderr in {out_dir})")
    if rc != 0:
        print(err[-3000:])
    return 0 if ok and rc == 0 and not st.unhandled else 1


def localstack(args):
    """The same small shape in a real versioned LocalStack bucket, the same apply (same flags,
    --localstack instead of the endpoint), and the same figures, read back with boto3: to
    check that the synthetic server's answers give the binary what a real versioned S3 does."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import concurrent.futures
    from lsclient import client
    sizes = shape_sizes(args.shape)
    space = Space(sizes)
    s3 = client()
    bucket = f"synv-{os.getpid()}-{args.shape.replace('x', '-')}{'-purge' if args.purge else ''}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    t = time.monotonic()
    old = [space.key(i) for i in range(space.offsets[-2])]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 100), old))
    time.sleep(1.1)
    new = [space.key(i) for i in range(space.offsets[-2], space.n)]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 100), new))
    print(f"seeded {bucket}: {space.n:,} objects in {time.monotonic() - t:.0f} s", flush=True)
    out_dir = args.out or tempfile.mkdtemp(prefix="s3p-synv-ls-")
    os.makedirs(out_dir, exist_ok=True)
    cmd = ["/usr/bin/time", "-v", args.binary, "apply", bucket, "1", "--localstack", "--yes", "--json",
           "--max-delete", str(len(sizes)), "--audit-db", os.path.join(out_dir, "audit.sqlite")]
    if args.purge:
        cmd.append("--purge-versions")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    env.pop("AWS_ENDPOINT_URL", None)
    print("$ " + " ".join(cmd[2:]), flush=True)
    with open(os.path.join(out_dir, "answer.json"), "wb") as so, open(os.path.join(out_dir, "stderr.txt"), "wb") as se:
        rc = subprocess.call(cmd, stdout=so, stderr=se, env=env, cwd=out_dir)
    err = open(os.path.join(out_dir, "stderr.txt"), errors="replace").read()
    answer = open(os.path.join(out_dir, "answer.json"), "rb").read()
    doc = json.loads(answer) if rc == 0 else {}
    state = [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=".s3-prune/")
             for o in page.get("Contents", [])]
    journal = [o for o in state if "/runs/" in o["Key"]]
    versions, markers = Counter(), Counter()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="dep"):
        for v in page.get("Versions", []):
            versions[v["Key"]] += 1
        for m in page.get("DeleteMarkers", []):
            markers[m["Key"]] += 1
    current = sum(page.get("KeyCount", 0) for page in
                  s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="dep"))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    res = {
        "bucket": bucket, "exit": rc, "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
        "wall": re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err).group(1),
        "deleted_objects": doc.get("deleted_objects"), "json_answer_bytes": len(answer),
        "journal_objects": len(journal), "journal_bytes": sum(o["Size"] for o in journal),
        "journal_parts": dict(Counter(re.sub(r"-\d+\.json$", "", o["Key"].rsplit("/", 1)[1]) for o in journal)),
        "state_objects_left": [o["Key"] for o in state if "/runs/" not in o["Key"]],
        "current_objects_left": current,
        "old_keys_with_one_marker_and_one_version": sum(1 for k in old if markers[k] == 1 and versions[k] == 1),
        "old_keys_with_no_version_and_no_marker": sum(1 for k in old if markers[k] == 0 and versions[k] == 0),
        "new_keys_untouched": sum(1 for k in new if markers[k] == 0 and versions[k] == 1),
    }
    print(json.dumps(res, indent=1))
    if rc != 0:
        print(err[-3000:])
    return rc


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("shape")
    s.add_argument("--port", type=int, default=4599)
    s.add_argument("--log", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("binary")
    r.add_argument("shape")
    r.add_argument("--purge", action="store_true")
    r.add_argument("--log", action="store_true")
    r.add_argument("--unversioned", action="store_true")
    r.add_argument("--out")
    ls = sub.add_parser("localstack")
    ls.add_argument("binary")
    ls.add_argument("shape")
    ls.add_argument("--purge", action="store_true")
    ls.add_argument("--out")
    a = p.parse_args()
    if a.cmd == "localstack":
        return localstack(a)
    if a.cmd == "serve":
        server, url = start(a.shape, a.log, a.port)
        print(f"synthetic versioned bucket '{BUCKET}' at {url} ({Handler.space.n:,} objects)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
