#!/usr/bin/env python3
"""Randomized equivalence: with its cache on, the proxy must answer exactly like the origin.

A seeded random sequence of S3 operations (PutObject of 0..300 KiB, a few multipart
uploads with 5 MiB parts, GET whole / Range (valid, suffix, open-ended, unsatisfiable) /
?partNumber, HEAD, conditional reads, DeleteObject, CopyObject, DeleteObjects) runs twice
over the same keys: through the caching proxy on one bucket and straight to moto on a twin
bucket. Every answer pair must agree on status, body bytes, ETag, Content-Length,
Content-Range, x-amz-mp-parts-count and S3 error code. Reads go signed (boto3, Range
signed: forwarded whole) or unsigned (raw HTTP, Range narrowed to the missing bytes), so
hits, partial hits and misses all take part.

One moto gap (DESIGN.md §5: where moto differs from S3, test the S3 behaviour): moto
ignores ?partNumber=N of a multipart object and answers 200 with the whole object, where S3
answers 206 with part N (Content-Range, x-amz-mp-parts-count, the whole object's ETag). The proxy knows the
part layout of a multipart upload completed through it and answers ?partNumber=N from the
cache as S3 does. So while a key's latest write is a multipart upload through the proxy,
the test models its parts, and the proxy's answer to ?partNumber=N for N within them is
compared with S3's expected answer instead of moto's. Any other write, delete or copy onto
the key forgets the parts, even one that fails: the proxy drops its cached copy of a key
after any such write, successful or not (a failed CopyObject leaves the object unchanged
but its layout unknown; with S3 the forwarded ?partNumber=N would still be right).
?partNumber=N beyond the parts, and of keys without them, is forwarded, so it is compared
with moto as before. Right after each multipart upload, HEAD, whole GET, a Range across
the part boundary and each ?partNumber are read once.

The seed is random and printed; S3HC_EQUIV_SEED=<n> replays a run, S3HC_EQUIV_OPS=<n>
changes its length. moto's auth is off for the whole class (unsigned reads, percent-encoded
keys: DESIGN.md §5), and the twin buckets are public-read so anonymous reads pass.
"""

import collections
import os
import random
import re
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.s3compare import ProxyVsDirectTestCase, capture, http_request  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
OPERATIONS = int(os.environ.get("S3HC_EQUIV_OPS", "2500"))
MAX_SIZE = 300 * KIB
MULTIPART_UPLOADS = 3          # moto is slow with 5 MiB parts: only a handful
KEYS = [f"k{i}" for i in range(8)] + ["dir/with space", "ünï/çødé"]
_CODE_RE = re.compile(rb"<Code>([^<]*)</Code>")

# Relative weights of the operations of the main run.
WEIGHTS = {
    "put": 14, "get": 16, "get_range": 26, "get_part": 4, "head": 10, "conditional": 6,
    "delete": 5, "copy": 5, "delete_objects": 3,
}


def choose_seed():
    seed = os.environ.get("S3HC_EQUIV_SEED")
    return int(seed) if seed else random.SystemRandom().randrange(1 << 32)


Answer = collections.namedtuple(
    "Answer", "status body etag content_length content_range code extra parts_count",
    defaults=(None,))


class Side:
    """One half of the comparison: a bucket, the boto3 client and the endpoint for it."""

    def __init__(self, name, client, endpoint, bucket):
        self.name, self.client, self.endpoint, self.bucket = name, client, endpoint, bucket

    def url(self, key, query=""):
        path = f"/{self.bucket}/{urllib.parse.quote(key, safe='/~')}"
        return self.endpoint + path + (f"?{query}" if query else "")


def normalized(status, body, headers, code, extra=None):
    """The compared fields. An error answer is compared by status and S3 error code: its
    XML body (request ids, moto's extra elements) and that body's Content-Length are the
    answerer's own, and moto adds the object's ETag and size to a HEAD's 412, which S3 does
    not. A 304 keeps its ETag."""
    if status >= 400:
        return Answer(status, b"", None, None, None, code, extra)
    if status == 304:
        return Answer(status, b"", headers.get("etag"), None, None, None, extra)
    return Answer(status, body, headers.get("etag"), headers.get("content-length"),
                  headers.get("content-range"), code, extra,
                  headers.get("x-amz-mp-parts-count"))


def from_capture(raw, extra=None):
    """The compared fields of a boto3 answer."""
    return normalized(raw.status, raw.body, raw.headers, raw.error_code, extra)


def from_http(raw):
    """The compared fields of a raw HTTP answer (error code parsed from the XML body; a
    HEAD's error has no body, so its code is the status, as botocore reports it)."""
    code = None
    if raw.status >= 300:
        match = _CODE_RE.search(raw.body)
        code = match.group(1).decode() if match else None
    return normalized(raw.status, raw.body, raw.headers, code)


def describe(answer):
    body = f"{len(answer.body)} bytes"
    return (f"status={answer.status} code={answer.code} etag={answer.etag} "
            f"length={answer.content_length} range={answer.content_range} body={body} "
            f"parts_count={answer.parts_count} extra={answer.extra}")


def expected_part(parts, number, etag):
    """S3's answer to GET ?partNumber=number of a completed multipart upload of `parts`
    (number within them)."""
    first = sum(map(len, parts[:number - 1]))
    part = parts[number - 1]
    content_range = f"bytes {first}-{first + len(part) - 1}/{sum(map(len, parts))}"
    return Answer(206, part, etag, str(len(part)), content_range, None, None, str(len(parts)))


class CacheEquivalenceTest(ProxyVsDirectTestCase):

    @classmethod
    def proxy_config(cls):
        cls.cache_path = tempfile.mkdtemp(prefix="s3hc-equiv-cache-")
        cls.addClassCleanup(shutil.rmtree, cls.cache_path, True)
        mirror_path = tempfile.mkdtemp(prefix="s3hc-equiv-mirror-")
        cls.addClassCleanup(shutil.rmtree, mirror_path, True)
        # Small blocks: reads cross block boundaries inside the 0..300 KiB objects. The local
        # metadata mirror is on, so every lookup goes through it, and cache I/O runs on the
        # event loops, so answers of 64 KiB and more go out with sendfile (the default thread
        # pool mode is what test_read_cache.py runs).
        return {"cache": {"dir": cls.cache_path, "block_size": 65536, "mirror_dir": mirror_path,
                          "io_threads": 0}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.origin.set_auth(False)

    def make_sides(self, tag):
        base = self.unique_name(tag)
        sides = (Side("direct", self.direct, self.origin.endpoint_url, base + "-d"),
                 Side("proxied", self.proxied, self.proxy.endpoint_url, base + "-p"))
        for side in sides:
            side.client.create_bucket(Bucket=side.bucket, ACL="public-read")
        return sides

    # ---- the run ----------------------------------------------------------

    def run_random_operations(self, tag, operations, weights, multipart_uploads):
        seed = choose_seed()
        print(f"\n{self.id()}: seed {seed} (S3HC_EQUIV_SEED={seed} replays it), "
              f"{operations} operations", file=sys.stderr, flush=True)
        rng = random.Random(seed)
        self.rng = rng
        self.sides = self.make_sides(tag)
        self.model = {}  # key -> (size, etag) as the origin has it (from the direct answers)
        # key -> the parts (bytes) of its latest write while that is a multipart upload
        # through the proxy: the proxy knows their layout (see the module docstring).
        self.layouts = {}
        self.s3_expected = 0  # answers compared with S3's expected answer (moto gap)
        self.history = collections.deque(maxlen=12)
        self.seed = seed
        names = list(weights)
        cumulative = [weights[n] for n in names]
        multipart_at = set(rng.sample(range(operations), multipart_uploads))
        counts = collections.Counter()
        before = self.proxy.metrics()
        started = time.monotonic()
        for index in range(operations):
            name = "multipart" if index in multipart_at else rng.choices(names, cumulative)[0]
            counts[name] += 1
            getattr(self, "op_" + name)(index)
        elapsed = time.monotonic() - started
        after = self.proxy.metrics()
        reads = {result: after.get(f's3hc_cache_reads_total{{result="{result}"}}', 0)
                 - before.get(f's3hc_cache_reads_total{{result="{result}"}}', 0)
                 for result in ("hit", "miss", "partial", "revalidated", "bypass")}
        print(f"{self.id()}: {operations} operations in {elapsed:.1f}s {dict(counts)}; "
              f"cache reads {reads}; {self.s3_expected} ?partNumber answers compared with "
              f"S3's", file=sys.stderr, flush=True)
        # The run exercised the cache: hits and partial hits, not just forwarding.
        self.assertGreater(reads["hit"], operations // 20, f"seed {seed}: too few hits")
        self.assertGreater(reads["partial"], 0, f"seed {seed}: no partial hit")
        if multipart_uploads:
            self.assertGreater(self.s3_expected, 0, f"seed {seed}: no ?partNumber from a layout")
        self.assertEqual(after.get("s3hc_cache_corrupt_reads_total", 0)
                         - before.get("s3hc_cache_corrupt_reads_total", 0), 0)

    def both(self, index, what, operation, expected=None):
        """operation(side) -> Answer on both sides; they must be equal. Returns the direct one.
        expected: S3's answer where moto's differs (a moto gap), compared with the proxy's
        answer instead of the direct one."""
        direct, proxied = (operation(side) for side in self.sides)
        self.history.append(f"#{index} {what}")
        wanted = direct if expected is None else expected
        if wanted != proxied:
            differing = [field for field in Answer._fields
                         if getattr(wanted, field) != getattr(proxied, field)]
            label = "direct: " if expected is None else "S3:     "
            moto = "" if expected is None else f"\n  (moto:  {describe(direct)})"
            self.fail(f"seed {self.seed}, operation #{index} {what}: answers differ in "
                      f"{differing}\n  {label} {describe(wanted)}\n  proxied: {describe(proxied)}"
                      f"{moto}\n  X-Cache: {self.last_x_cache}\n  recent operations:\n    "
                      + "\n    ".join(self.history))
        return direct

    last_x_cache = None

    def read(self, side, key, method="GET", headers=None, query="", params=None, unsigned=False):
        """One read, signed through boto3 (params) or unsigned raw HTTP (headers)."""
        if unsigned:
            raw = http_request(side.url(key, query), method, headers=headers or {})
            answer = from_http(raw)
        else:
            operation = "get_object" if method == "GET" else "head_object"
            raw = capture(side.client, lambda c: getattr(c, operation)(
                Bucket=side.bucket, Key=key, **(params or {})))
            answer = from_capture(raw)
        if side.name == "proxied":
            self.last_x_cache = raw.headers.get("x-cache")
        return answer

    # ---- operations -------------------------------------------------------

    def random_key(self, existing_bias=0.85):
        existing = [k for k in KEYS if k in self.model]
        if existing and self.rng.random() < existing_bias:
            return self.rng.choice(existing)
        return self.rng.choice(KEYS)

    def random_size(self):
        roll = self.rng.random()
        if roll < 0.06:
            return 0
        if roll < 0.15:
            return self.rng.randrange(1, 100)
        return self.rng.randrange(1, MAX_SIZE + 1)

    def op_put(self, index):
        key = self.rng.choice(KEYS)
        data = self.rng.randbytes(self.random_size())
        if self.rng.random() < 0.3:  # compressible
            data = (b"line of text %d\n" * (len(data) // 16 + 1))[:len(data)]
        content_type = self.rng.choice([None, "text/plain", "application/octet-stream"])
        extra = {"ContentType": content_type} if content_type else {}

        def put(side):
            raw = capture(side.client, lambda c: c.put_object(
                Bucket=side.bucket, Key=key, Body=data, **extra))
            return from_capture(raw)._replace(body=b"", content_length=None)
        self.layouts.pop(key, None)  # even if it fails: see the module docstring
        answer = self.both(index, f"PUT {key!r} {len(data)} bytes", put)
        if answer.status == 200:
            self.model[key] = (len(data), answer.etag)

    def op_multipart(self, index):
        key = self.rng.choice(KEYS)
        parts = [self.rng.randbytes(5 * MIB), self.rng.randbytes(self.rng.randrange(1, 200 * KIB))]

        def upload(side):
            c, b = side.client, side.bucket
            upload_id = c.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
            etags = [c.upload_part(Bucket=b, Key=key, UploadId=upload_id, PartNumber=n,
                                   Body=part)["ETag"] for n, part in enumerate(parts, start=1)]
            raw = capture(c, lambda c: c.complete_multipart_upload(
                Bucket=b, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                           for n, e in enumerate(etags, start=1)]}))
            return Answer(raw.status, b"", raw.parsed and raw.parsed.get("ETag"), None, None,
                          raw.error_code, tuple(etags))
        answer = self.both(index, f"multipart upload {key!r}", upload)
        if answer.status == 200:
            self.model[key] = (sum(map(len, parts)), answer.etag)
            self.layouts[key] = parts
            self.read_multipart_object(index, key)

    def read_multipart_object(self, index, key):
        """Each kind of read of a multipart upload just completed through the proxy."""
        parts = self.layouts[key]
        boundary = len(parts[0])
        for unsigned in (False, True):
            self.both(index, f"HEAD {key!r} after multipart unsigned={unsigned}",
                      lambda side: self.read(side, key, method="HEAD", unsigned=unsigned))
            self.both(index, f"GET {key!r} after multipart unsigned={unsigned}",
                      lambda side: self.read(side, key, unsigned=unsigned))
            range_header = f"bytes={boundary - 1000}-{boundary + 999}"
            self.both(index, f"GET {key!r} Range {range_header} after multipart "
                             f"unsigned={unsigned}",
                      lambda side: self.read(side, key, headers={"Range": range_header},
                                             params={"Range": range_header},
                                             unsigned=unsigned))
            for part in range(1, len(parts) + 2):
                self.read_part(index, key, part, unsigned)

    def op_get(self, index):
        key = self.random_key()
        unsigned = self.rng.random() < 0.5
        headers = {"Cache-Control": "no-cache"} if unsigned and self.rng.random() < 0.05 else {}
        self.both(index, f"GET {key!r} unsigned={unsigned} {headers}",
                  lambda side: self.read(side, key, headers=headers, unsigned=unsigned))

    def random_range(self, size):
        """A Range header value: valid, suffix, open-ended or unsatisfiable."""
        rng = self.rng
        kind = rng.choices(["valid", "suffix", "open", "past_end", "unsatisfiable"],
                           [50, 15, 15, 8, 12])[0]
        if size == 0:
            kind = "unsatisfiable" if kind == "valid" else kind
        if kind == "valid":
            first = rng.randrange(size)
            last = min(size - 1, first + rng.choice([0, 1, 99, 4095, 65535, 65536,
                                                     rng.randrange(size)]))
            return f"bytes={first}-{last}"
        if kind == "suffix":
            return f"bytes=-{rng.randrange(1, max(2, size + 1))}"
        if kind == "open":
            return f"bytes={rng.randrange(max(1, size))}-"
        if kind == "past_end":
            first = rng.randrange(max(1, size))
            return f"bytes={first}-{size + rng.randrange(1, 100000)}"
        first = size + rng.randrange(0, 1000)
        return rng.choice([f"bytes={first}-", f"bytes={first}-{first + rng.randrange(100)}"])

    def op_get_range(self, index):
        key = self.random_key(existing_bias=0.95)
        size = self.model.get(key, (self.rng.randrange(MAX_SIZE), None))[0]
        range_header = self.random_range(size)
        unsigned = self.rng.random() < 0.6
        self.both(index, f"GET {key!r} Range {range_header} unsigned={unsigned}",
                  lambda side: self.read(side, key, headers={"Range": range_header},
                                         params={"Range": range_header}, unsigned=unsigned))

    def op_get_part(self, index):
        if self.layouts and self.rng.random() < 0.5:
            key = self.rng.choice(sorted(self.layouts))
        else:
            key = self.random_key()
        part = self.rng.randrange(1, 4)
        unsigned = self.rng.random() < 0.5
        self.read_part(index, key, part, unsigned)

    def read_part(self, index, key, part, unsigned):
        """GET ?partNumber=part: compared with S3's answer where the proxy knows the key's
        part layout and moto ignores partNumber, else with moto's."""
        parts = self.layouts.get(key)
        expected = None
        if parts and part <= len(parts):
            expected = expected_part(parts, part, self.model[key][1])
            self.s3_expected += 1
        self.both(index, f"GET {key!r} ?partNumber={part} unsigned={unsigned}"
                         f"{' (S3 expected)' if expected else ''}",
                  lambda side: self.read(side, key, query=f"partNumber={part}",
                                         params={"PartNumber": part}, unsigned=unsigned),
                  expected=expected)

    def op_head(self, index):
        key = self.random_key()
        unsigned = self.rng.random() < 0.5
        self.both(index, f"HEAD {key!r} unsigned={unsigned}",
                  lambda side: self.read(side, key, method="HEAD", unsigned=unsigned))

    def op_conditional(self, index):
        key = self.random_key(existing_bias=0.95)
        etag = self.model.get(key, (0, '"00000000000000000000000000000000"'))[1]
        other = '"0123456789abcdef0123456789abcdef"'
        header, param = self.rng.choice([("If-Match", "IfMatch"),
                                         ("If-None-Match", "IfNoneMatch")])
        value = self.rng.choice([etag, other])
        method = self.rng.choice(["GET", "HEAD"])
        headers, params = {header: value}, {param: value}
        if method == "GET" and self.rng.random() < 0.3:
            size = self.model.get(key, (1000, None))[0]
            headers["Range"] = params["Range"] = self.random_range(size)
        unsigned = self.rng.random() < 0.5
        self.both(index, f"{method} {key!r} {headers} unsigned={unsigned}",
                  lambda side: self.read(side, key, method=method, headers=headers,
                                         params=params, unsigned=unsigned))

    def op_delete(self, index):
        key = self.random_key()

        def delete(side):
            return from_capture(capture(side.client, lambda c: c.delete_object(
                Bucket=side.bucket, Key=key)))
        self.layouts.pop(key, None)  # even if it fails: see the module docstring
        answer = self.both(index, f"DELETE {key!r}", delete)
        if answer.status == 204:
            self.model.pop(key, None)

    def op_copy(self, index):
        source, target = self.random_key(), self.rng.choice(KEYS)
        replace = source == target or self.rng.random() < 0.3
        extra = {"MetadataDirective": "REPLACE", "Metadata": {"n": str(index)}} if replace else {}

        def copy(side):
            raw = capture(side.client, lambda c: c.copy_object(
                Bucket=side.bucket, Key=target,
                CopySource={"Bucket": side.bucket, "Key": source}, **extra))
            etag = (raw.parsed or {}).get("CopyObjectResult", {}).get("ETag")
            return Answer(raw.status, b"", etag, None, None, raw.error_code, None)
        # S3 copies an object of up to 5 GiB as one part; a failed copy: module docstring.
        self.layouts.pop(target, None)
        answer = self.both(index, f"COPY {source!r} -> {target!r}", copy)
        if answer.status == 200 and source in self.model:
            self.model[target] = (self.model[source][0], answer.etag)

    def op_delete_objects(self, index):
        """Reads the keys (caching them), deletes them in one DeleteObjects, reads again."""
        keys = self.rng.sample(KEYS, self.rng.randrange(1, 4))
        existing = [k for k in KEYS if k in self.model]
        if existing and not any(k in self.model for k in keys):
            keys.append(self.rng.choice(existing))
        for key in keys:
            self.both(index, f"GET {key!r} before DeleteObjects",
                      lambda side: self.read(side, key))

        def delete_objects(side):
            raw = capture(side.client, lambda c: c.delete_objects(
                Bucket=side.bucket, Delete={"Objects": [{"Key": k} for k in keys]}))
            parsed = raw.parsed or {}
            deleted = tuple(sorted(d["Key"] for d in parsed.get("Deleted", [])))
            errors = tuple(sorted((e["Key"], e["Code"]) for e in parsed.get("Errors", [])))
            return Answer(raw.status, b"", None, None, None, raw.error_code, (deleted, errors))
        for key in keys:
            self.layouts.pop(key, None)  # even if it fails: see the module docstring
        answer = self.both(index, f"DeleteObjects {keys!r}", delete_objects)
        for key in answer.extra[0] if answer.extra else ():
            self.model.pop(key, None)
        for key in keys:
            self.both(index, f"GET {key!r} after DeleteObjects",
                      lambda side: self.read(side, key))
            self.both(index, f"HEAD {key!r} after DeleteObjects",
                      lambda side: self.read(side, key, method="HEAD"))

    # ---- tests ------------------------------------------------------------

    def test_random_operations(self):
        self.run_random_operations("equiv", OPERATIONS, WEIGHTS, MULTIPART_UPLOADS)


if __name__ == "__main__":
    unittest.main()
