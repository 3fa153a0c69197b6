#!/usr/bin/env python3
"""The read cache end to end: s3hc-proxy with a cache directory in front of moto.

Each test proves one behaviour of the cache by what the origin saw (moto's access log),
what the proxy counted (s3hc_cache_* metrics), the X-Cache header and the bytes the
client got, which must always be the object's bytes:
  - hits: a second GET/HEAD costs no origin request;
  - partial hits: only the missing bytes are fetched (unsigned Range), a signed Range is
    forwarded whole, small cached gaps are fetched again with their neighbours;
  - ?partNumber=N of a multipart upload made through the proxy is answered from the cache
    as S3 answers it (206, the part, Content-Range, x-amz-mp-parts-count), checked against
    S3's behaviour since moto ignores partNumber (DESIGN.md §5); of an upload the proxy did
    not see it is forwarded, and caches the object when the answer is the whole of it;
  - writes through the proxy (overwrite, delete, copy, multipart) never leave a stale read;
  - expiry: changes at the origin show after the TTL, unchanged objects are revalidated
    (304, no re-download), deleted ones dropped; TTL 0 lets the origin refuse a bad key;
  - corrupt or vanished cache files are never served;
  - odd keys are stored under hash names inside the cache directory only.

moto runs with strict SigV4; requests that must be unsigned (anonymous, presigned) or
whose paths are percent-encoded run inside origin.auth_disabled() (DESIGN.md §5), and
anonymous reads go to public-read buckets (moto checks their ACL even with auth off).
Tests for features not there yet are marked expectedFailure with a "lead:" note.
"""

import os
import shutil
import socket
import sys
import tempfile
import time
import unittest
import urllib.parse
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.cache_dir import CacheDir, corrupt_middle, layout_pattern  # noqa: E402
from support.proxy import series_key  # noqa: E402
from support.s3compare import (  # noqa: E402
    ProxyVsDirectTestCase, capture, comparable, deterministic_bytes, http_request, md5_etag,
    multipart_etag)

KIB = 1024
MIB = 1024 * KIB
# Of a 3 x 5 MiB multipart object: the end of part 1 and the start of part 2.
ACROSS_PARTS_1_2 = (4 * MIB, 6 * MIB)

# Short names for the cache series the tests look at.
CACHE_SERIES = {
    "hit": ("s3hc_cache_reads_total", {"result": "hit"}),
    "miss": ("s3hc_cache_reads_total", {"result": "miss"}),
    "revalidated": ("s3hc_cache_reads_total", {"result": "revalidated"}),
    "partial": ("s3hc_cache_reads_total", {"result": "partial"}),
    "bypass": ("s3hc_cache_reads_total", {"result": "bypass"}),
    "served_bytes": ("s3hc_cache_served_bytes_total", {}),
    "fill_bytes": ("s3hc_cache_fill_bytes_total", {}),
    "fills_committed": ("s3hc_cache_fills_total", {"result": "committed"}),
    "fills_failed": ("s3hc_cache_fills_total", {"result": "failed"}),
    "corrupt": ("s3hc_cache_corrupt_reads_total", {}),
    "invalidations": ("s3hc_cache_invalidations_total", {}),
}
# Headers that describe the object: a cached answer must carry the origin's values.
OBJECT_HEADERS = ("etag", "content-length", "content-range", "content-type", "last-modified")


class CacheTestCase(ProxyVsDirectTestCase):
    """moto + a caching proxy per class, the cache directory in a fresh temp dir.
    CACHE: settings added to the proxy's cache section."""

    CACHE = {}

    @classmethod
    def proxy_config(cls):
        # The cache directory is a child of a temp dir of its own, so a test can check that
        # the proxy created nothing beside it.
        cls.cache_parent = tempfile.mkdtemp(prefix="s3hc-cache-test-")
        cls.addClassCleanup(shutil.rmtree, cls.cache_parent, True)
        cls.cache_path = os.path.join(cls.cache_parent, "cache")
        cls.cache_dir = CacheDir(cls.cache_path)
        return {"cache": dict({"dir": cls.cache_path}, **cls.CACHE)}

    def new_bucket(self, tag, public=False):
        """A bucket created straight at moto; returns its name. public: readable by
        anonymous requests (moto checks the bucket ACL of unsigned requests even with its
        auth off)."""
        bucket = self.unique_name(tag)
        self.direct.create_bucket(Bucket=bucket, **({"ACL": "public-read"} if public else {}))
        return bucket

    # ---- requests ---------------------------------------------------------

    def get(self, bucket, key, client=None, **params):
        return capture(client or self.proxied,
                       lambda c: c.get_object(Bucket=bucket, Key=key, **params))

    def head(self, bucket, key, client=None, **params):
        return capture(client or self.proxied,
                       lambda c: c.head_object(Bucket=bucket, Key=key, **params))

    def raw(self, bucket, key, method="GET", headers=None):
        """An unsigned request to the proxy (no Authorization): moto's auth must be off and
        the bucket public."""
        url = self.proxy.endpoint_url + self.path(bucket, key)
        return http_request(url, method, headers=headers or {})

    @staticmethod
    def path(bucket, key):
        return f"/{bucket}/{urllib.parse.quote(key, safe='/~')}"

    # ---- observations -----------------------------------------------------

    def state(self, bucket=None, key=None):
        """Cache metrics and origin request counts now (for changes())."""
        samples = self.proxy.metrics()
        state = {name: samples.get(series_key(metric, labels), 0.0)
                 for name, (metric, labels) in CACHE_SERIES.items()}
        state["origin"] = self.origin.s3_request_count()
        if bucket is not None:
            path = self.path(bucket, key)
            state["origin_get"] = self.origin.s3_request_count("GET", path)
            state["origin_head"] = self.origin.s3_request_count("HEAD", path)
        return state

    def changes(self, before, bucket=None, key=None):
        """How each value of state() grew since `before` (taken with the same bucket/key)."""
        after = self.state(bucket, key)
        return {name: after[name] - before[name] for name in before}

    def assert_x_cache(self, response, expected, what=""):
        self.assertEqual(response.headers.get("x-cache"), expected,
                         f"{what}: X-Cache (status {response.status})")

    def assert_body(self, response, expected, what=""):
        if response.body != expected:
            self.fail(f"{what}: body of {len(response.body)} bytes differs from the expected "
                      f"{len(expected)} bytes (status {response.status})")

    def assert_same_object_headers(self, direct, proxied, what=""):
        """Status, error code, body and the headers describing the object are identical.
        An error is compared by status and S3 error code only: its XML body is the
        answerer's own, and moto adds the object's ETag and size to a HEAD's 412, which
        S3 does not."""
        self.assertEqual(proxied.status, direct.status, f"{what}: status")
        self.assertEqual(proxied.error_code, direct.error_code, f"{what}: error code")
        if direct.status >= 400:
            return
        for name in OBJECT_HEADERS:
            if direct.status == 304 and name != "etag":
                continue
            self.assertEqual(proxied.headers.get(name), direct.headers.get(name),
                             f"{what}: header {name}")
        self.assert_body(proxied, direct.body, what)

    def client_with_headers(self, endpoint_url, headers):
        """A boto3 client that adds `headers` (a dict the caller may change between calls)
        to every GetObject and HeadObject request, before signing them."""
        client = self.origin.client(endpoint_url)

        def add_headers(request, **_):
            for name, value in headers.items():
                request.headers[name] = value
        client.meta.events.register("before-sign.s3.GetObject", add_headers)
        client.meta.events.register("before-sign.s3.HeadObject", add_headers)
        return client

    def put_direct(self, bucket, key, data, **extra):
        self.direct.put_object(Bucket=bucket, Key=key, Body=data, **extra)


class HitTest(CacheTestCase):
    """Fresh hits (default TTLs): no origin request once the object is cached."""

    def test_second_get_is_served_without_origin_request(self):
        bucket = self.new_bucket("hit")
        data = deterministic_bytes(300 * KIB + 7, seed=1)
        self.put_direct(bucket, "k", data, ContentType="application/x-test",
                        Metadata={"colour": "blue"})
        before = self.state(bucket, "k")
        first = self.get(bucket, "k")
        self.assert_x_cache(first, "MISS", "first GET")
        self.assert_body(first, data, "first GET")
        second = self.get(bucket, "k")
        self.assert_x_cache(second, "HIT", "second GET")
        self.assert_body(second, data, "second GET")
        delta = self.changes(before, bucket, "k")
        self.assertEqual(delta["origin_get"], 1, "the origin must see only the first GET")
        self.assertEqual(delta["origin"], 1)
        self.assertEqual(delta["fill_bytes"], len(data))
        self.assertEqual(delta["hit"], 1)
        self.assertEqual(delta["served_bytes"], len(data))
        direct = self.get(bucket, "k", client=self.direct)
        self.assert_same_object_headers(direct, second, "GET hit vs direct")
        self.assertEqual(second.headers.get("x-amz-meta-colour"), "blue")
        self.assertEqual(second.etag, md5_etag(data))

    def test_head_is_cached_and_head_after_get_is_a_hit(self):
        bucket = self.new_bucket("head")
        data = deterministic_bytes(10 * KIB, seed=2)
        self.put_direct(bucket, "h", data, ContentType="text/x-head")
        self.put_direct(bucket, "g", data[::-1])
        direct = self.head(bucket, "h", client=self.direct)

        before = self.state(bucket, "h")
        first, second = self.head(bucket, "h"), self.head(bucket, "h")
        self.assert_x_cache(first, "MISS", "first HEAD")
        self.assert_x_cache(second, "HIT", "second HEAD")
        self.assertEqual(self.changes(before, bucket, "h")["origin_head"], 1)
        for answer in (first, second):
            self.assert_same_object_headers(direct, answer, "HEAD vs direct")
        self.assertEqual(second.headers.get("content-type"), "text/x-head")

        before = self.state(bucket, "g")
        got = self.get(bucket, "g")
        head = self.head(bucket, "g")
        delta = self.changes(before, bucket, "g")
        self.assertEqual((delta["origin_get"], delta["origin_head"]), (1, 0))
        self.assert_x_cache(head, "HIT", "HEAD after GET")
        self.assert_body(got, data[::-1])
        self.assert_same_object_headers(self.head(bucket, "g", client=self.direct), head,
                                        "HEAD after GET vs direct")

    def test_get_after_head_fetches_the_bytes_then_hits(self):
        """A HEAD caches the size but no bytes: the next GET must still bring the bytes."""
        bucket = self.new_bucket("headget")
        data = deterministic_bytes(200 * KIB, seed=3)
        self.put_direct(bucket, "o", data)
        self.head(bucket, "o")
        before = self.state(bucket, "o")
        first = self.get(bucket, "o")
        second = self.get(bucket, "o")
        delta = self.changes(before, bucket, "o")
        self.assertEqual(first.status, 200)
        self.assert_body(first, data, "GET after HEAD")
        self.assert_same_object_headers(self.get(bucket, "o", client=self.direct), first,
                                        "GET after HEAD vs direct")
        self.assert_x_cache(second, "HIT", "second GET after HEAD")
        self.assert_body(second, data, "second GET after HEAD")
        self.assertEqual(delta["origin_get"], 1)
        self.assertEqual(delta["fill_bytes"], len(data))

    def test_empty_object(self):
        bucket = self.new_bucket("empty")
        self.put_direct(bucket, "zero", b"")
        before = self.state(bucket, "zero")
        first, second = self.get(bucket, "zero"), self.get(bucket, "zero")
        head = self.head(bucket, "zero")
        delta = self.changes(before, bucket, "zero")
        self.assert_x_cache(first, "MISS", "first GET")
        self.assert_x_cache(second, "HIT", "second GET")
        self.assert_x_cache(head, "HIT", "HEAD after GET")
        self.assertEqual((delta["origin_get"], delta["origin_head"]), (1, 0))
        for answer in (first, second):
            self.assert_same_object_headers(self.get(bucket, "zero", client=self.direct), answer,
                                            "empty GET")
            self.assertEqual((answer.status, answer.body, answer.etag), (200, b"", md5_etag(b"")))
        self.assertEqual(head.headers["content-length"], "0")
        # Any range of an empty object is unsatisfiable: whatever S3 (moto) says, the proxy says.
        for range_header in ("bytes=0-0", "bytes=-5", "bytes=0-"):
            direct = self.get(bucket, "zero", client=self.direct, Range=range_header)
            proxied = self.get(bucket, "zero", Range=range_header)
            self.assert_same_object_headers(direct, proxied, f"empty object {range_header}")

    def test_cache_control_no_cache_goes_to_origin_every_time(self):
        bucket = self.new_bucket("nocache")
        old, new = deterministic_bytes(5000, seed=4), deterministic_bytes(6000, seed=5)
        self.put_direct(bucket, "n", old)
        self.get(bucket, "n")  # cached
        headers = {}
        client = self.client_with_headers(self.proxy.endpoint_url, headers)
        for name, value in (("Cache-Control", "no-cache"), ("Pragma", "no-cache"),
                            ("Cache-Control", "max-age=0, no-cache")):
            headers.clear()
            headers[name] = value
            before = self.state(bucket, "n")
            for _ in range(2):
                answer = self.get(bucket, "n", client=client)
                self.assert_x_cache(answer, "BYPASS", f"{name}: {value}")
                self.assertEqual(answer.headers.get("cache-status"),
                                 "s3hc; fwd=request; fwd-status=200; stored")
                self.assert_body(answer, old, f"{name}: {value}")
            delta = self.changes(before, bucket, "n")
            self.assertEqual(delta["origin_get"], 2, f"{name}: {value}: origin asked each time")
            self.assertEqual(delta["bypass"], 2)
            self.assertEqual(delta["hit"], 0)
        # The bypass answer refreshes the cache: after a change at the origin, a no-cache
        # read brings the new version and plain reads then hit it.
        self.put_direct(bucket, "n", new)
        self.assert_body(self.get(bucket, "n"), old, "plain GET within the TTL (stale by design)")
        headers.clear()
        headers["Cache-Control"] = "no-cache"
        self.assert_body(self.get(bucket, "n", client=client), new, "no-cache GET")
        after = self.get(bucket, "n")
        self.assert_x_cache(after, "HIT", "plain GET after the no-cache one")
        self.assert_body(after, new, "plain GET after the no-cache one")
        headers["Cache-Control"] = "no-cache"
        head = self.head(bucket, "n", client=client)
        self.assert_x_cache(head, "BYPASS", "no-cache HEAD")
        self.assertEqual(head.etag, md5_etag(new))

    def test_client_conditionals_answer_like_the_origin(self):
        """If-* headers on a cached object: same status, ETag and body as direct to moto.
        (Not combined If-Match + If-Unmodified-Since or If-None-Match + If-Modified-Since:
        moto evaluates both where S3 lets the ETag condition decide; unit tests cover S3's
        rules.)"""
        bucket = self.new_bucket("cond")
        data = deterministic_bytes(40 * KIB, seed=6)
        self.put_direct(bucket, "c", data)
        self.get(bucket, "c")
        self.get(bucket, "c", Range="bytes=0-99")
        etag, other = md5_etag(data), '"0123456789abcdef0123456789abcdef"'
        past = datetime.fromtimestamp(time.time() - 86400, timezone.utc)
        future = datetime.fromtimestamp(time.time() + 86400, timezone.utc)
        modified = self.head(bucket, "c", client=self.direct).parsed["LastModified"]
        conditions = [
            {"IfMatch": etag}, {"IfMatch": other}, {"IfNoneMatch": etag}, {"IfNoneMatch": other},
            {"IfModifiedSince": past}, {"IfModifiedSince": future},
            {"IfModifiedSince": modified},
            {"IfUnmodifiedSince": past}, {"IfUnmodifiedSince": future},
            {"IfUnmodifiedSince": modified},
            {"IfMatch": etag, "Range": "bytes=100-199"},
            {"IfNoneMatch": etag, "Range": "bytes=100-199"},
            {"IfMatch": other, "Range": "bytes=100-199"},
        ]
        for params in conditions:
            what = f"GET {params}"
            direct = self.get(bucket, "c", client=self.direct, **params)
            proxied = self.get(bucket, "c", **params)
            self.assert_same_object_headers(direct, proxied, what)
            direct = self.head(bucket, "c", client=self.direct,
                               **{k: v for k, v in params.items() if k != "Range"})
            proxied = self.head(bucket, "c", **{k: v for k, v in params.items() if k != "Range"})
            self.assert_same_object_headers(direct, proxied, "HEAD " + what)
        # A matching If-Range (no boto3 parameter: added before signing). Not a failing one:
        # moto ignores If-Range and sends the range where S3 sends the whole object.
        headers = {"If-Range": etag}
        direct, proxied = (self.get(bucket, "c", client=self.client_with_headers(url, headers),
                                    Range="bytes=100-199")
                           for url in (None, self.proxy.endpoint_url))
        self.assert_same_object_headers(direct, proxied, f"If-Range: {etag}")
        self.assert_body(proxied, data[100:200], "If-Range")
        # The cache still answers plain reads with the object.
        final = self.get(bucket, "c")
        self.assert_body(final, data, "plain GET after the conditional ones")
        self.assert_x_cache(final, "HIT", "plain GET after the conditional ones")

    def test_uncacheable_reads_are_forwarded(self):
        """versionId, response-* overrides and sub-resources reach the origin every time,
        even with the object cached."""
        bucket = self.new_bucket("uncache")
        self.direct.put_bucket_versioning(Bucket=bucket,
                                          VersioningConfiguration={"Status": "Enabled"})
        data = deterministic_bytes(3000, seed=7)
        version = self.direct.put_object(Bucket=bucket, Key="u", Body=data)["VersionId"]
        self.put_direct(bucket, "u", data[::-1])  # the current version is another one
        self.assert_x_cache(self.get(bucket, "u"), "MISS", "first GET")
        reads = {
            "versionId": lambda c: c.get_object(Bucket=bucket, Key="u", VersionId=version),
            "versionId HEAD": lambda c: c.head_object(Bucket=bucket, Key="u",
                                                      VersionId=version),
            "response-content-type": lambda c: c.get_object(
                Bucket=bucket, Key="u", ResponseContentType="text/x-override"),
            "tagging": lambda c: c.get_object_tagging(Bucket=bucket, Key="u"),
            "acl": lambda c: c.get_object_acl(Bucket=bucket, Key="u"),
        }
        # response-content-type is percent-encoded in the query (moto gap, DESIGN.md §5).
        with self.origin.auth_disabled():
            for name, operation in reads.items():
                for _ in range(2):
                    direct = capture(self.direct, operation)
                    before = self.state()
                    proxied = capture(self.proxied, operation)
                    delta = self.changes(before)
                    self.assertEqual(delta["origin"], 1, f"{name}: origin requests")
                    self.assertEqual(delta["hit"], 0, name)
                    self.assertEqual(proxied.status, direct.status, name)
                    self.assertEqual(comparable(proxied)[2], comparable(direct)[2], name)
            old = capture(self.proxied, reads["versionId"])
            override = capture(self.proxied, reads["response-content-type"])
            direct_override = capture(self.direct, reads["response-content-type"])
        self.assert_body(old, data, "GET ?versionId of the old version")
        self.assert_same_object_headers(direct_override, override, "response-content-type")
        self.assert_body(override, data[::-1], "response-content-type")
        self.assert_x_cache(self.get(bucket, "u"), "HIT", "plain GET still cached")


class PartialFetchTest(CacheTestCase):
    """Partial hits fetch only the missing bytes when Range is not signed."""

    CACHE = {"merge_gap_bytes": 262144}

    def check_range(self, answer, data, first, last, what):
        self.assertEqual(answer.status, 206, what)
        self.assertEqual(answer.headers.get("content-range"), f"bytes {first}-{last}/{len(data)}",
                         what)
        self.assertEqual(answer.headers.get("content-length"), str(last - first + 1), what)
        self.assert_body(answer, data[first:last + 1], what)

    def test_unsigned_ranges_fetch_only_missing_bytes(self):
        bucket = self.new_bucket("partial", public=True)
        size = 600_000
        data = deterministic_bytes(size, seed=10)
        self.put_direct(bucket, "p", data)
        steps = [  # (Range or None for the whole object, expected fill bytes, origin GETs, X-Cache)
            ("bytes=0-99999", 100_000, 1, "MISS"),
            ("bytes=50000-199999", 100_000, 1, "PARTIAL"),  # only 100000-199999 is missing
            (None, 400_000, 1, "PARTIAL"),                  # only 200000-599999 is missing
            (None, 0, 0, "HIT"),
            ("bytes=123-456788", 0, 0, "HIT"),
            ("bytes=-1000", 0, 0, "HIT"),
        ]
        with self.origin.auth_disabled():
            for range_header, fill, fetches, x_cache in steps:
                what = range_header or "whole object"
                before = self.state(bucket, "p")
                answer = self.raw(bucket, "p", headers={"Range": range_header} if range_header
                                  else {})
                delta = self.changes(before, bucket, "p")
                self.assertEqual(delta["fill_bytes"], fill, f"{what}: bytes fetched and cached")
                self.assertEqual(delta["origin_get"], fetches, f"{what}: origin GETs")
                self.assertEqual(delta["origin"], fetches, f"{what}: origin requests")
                self.assert_x_cache(answer, x_cache, what)
                if range_header is None:
                    self.assertEqual(answer.status, 200, what)
                    self.assertEqual(answer.headers.get("content-length"), str(size))
                    self.assertNotIn("content-range", answer.headers)
                    self.assert_body(answer, data, what)
                else:
                    first, last = {"bytes=0-99999": (0, 99999),
                                   "bytes=50000-199999": (50000, 199999),
                                   "bytes=123-456788": (123, 456788),
                                   "bytes=-1000": (size - 1000, size - 1)}[range_header]
                    self.check_range(answer, data, first, last, what)
                self.assertEqual(answer.etag, md5_etag(data), what)
            partial = self.state()["partial"]
            self.assertGreaterEqual(partial, 2, "two partial hits counted")
        self.assertEqual(self.cache_dir.find(bucket, "p").held(), [(0, size - 1)])

    def test_long_cached_prefix_is_authorized_by_a_probe(self):
        """A gap after more than 8 MiB of cached bytes: the origin is first asked for one byte
        of it (its verdict before anything is sent), the gap itself when its turn comes."""
        bucket = self.new_bucket("probe", public=True)
        size = 12 * MIB
        data = deterministic_bytes(size, seed=11)
        self.put_direct(bucket, "big", data)
        with self.origin.auth_disabled():
            self.raw(bucket, "big", headers={"Range": "bytes=0-%d" % (9 * MIB - 1)})
            before = self.state(bucket, "big")
            answer = self.raw(bucket, "big")
            delta = self.changes(before, bucket, "big")
        self.assertEqual(answer.status, 200)
        self.assert_body(answer, data, "whole object after a long cached prefix")
        self.assertEqual(delta["origin_get"], 2, "a one-byte probe, then the gap")
        self.assertEqual(delta["fill_bytes"], 3 * MIB, "only the gap is cached")
        self.assertEqual(self.cache_dir.find(bucket, "big").held(), [(0, size - 1)])

    def test_presigned_range_fetches_only_missing_bytes(self):
        """A SigV4 presigned URL signs the host only: its Range can be narrowed."""
        bucket = self.new_bucket("presigned")
        data = deterministic_bytes(100_000, seed=11)
        self.put_direct(bucket, "q", data)
        presigner = self.origin.client(self.proxy.endpoint_url, signature_version="s3v4")
        url = presigner.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "q"}, ExpiresIn=600)
        with self.origin.auth_disabled():
            before = self.state(bucket, "q")
            first = http_request(url, headers={"Range": "bytes=0-39999"})
            second = http_request(url, headers={"Range": "bytes=30000-69999"})
            whole = http_request(url)
            delta = self.changes(before, bucket, "q")
        self.check_range(first, data, 0, 39999, "first presigned range")
        self.check_range(second, data, 30000, 69999, "overlapping presigned range")
        self.assertEqual(whole.status, 200)
        self.assert_body(whole, data, "presigned whole object")
        self.assertEqual(delta["fill_bytes"], len(data), "each byte fetched once")
        self.assertEqual(delta["origin_get"], 3)

    def test_object_changed_at_origin_is_never_mixed(self):
        """Part of the object cached, then the object replaced straight at the origin (same
        size): a partial hit's fetch is pinned to the cached ETag, so the client gets the new
        version whole, never cached old bytes stitched to new ones; the new version is
        cached in place of the old."""
        bucket = self.new_bucket("mixed", public=True)
        old, new = deterministic_bytes(200_000, seed=14), deterministic_bytes(200_000, seed=15)
        self.put_direct(bucket, "x", old)
        with self.origin.auth_disabled():
            self.raw(bucket, "x", headers={"Range": "bytes=0-49999"})
            self.put_direct(bucket, "x", new)
            before = self.state(bucket, "x")
            whole = self.raw(bucket, "x")
            delta = self.changes(before, bucket, "x")
            self.assertEqual(whole.status, 200)
            self.assert_body(whole, new, "whole object after the change")
            self.assertEqual(whole.etag, md5_etag(new))
            # The pinned fetch of the missing bytes (refused: 412) and the whole new version.
            self.assertLessEqual(delta["origin_get"], 2)
            self.assertEqual(delta["fills_committed"], 1, "the new version cached")
            before = self.state(bucket, "x")
            ranged = self.raw(bucket, "x", headers={"Range": "bytes=40000-59999"})
            delta = self.changes(before, bucket, "x")
        self.check_range(ranged, new, 40000, 59999, "range after the change")
        self.assertEqual(ranged.etag, md5_etag(new))
        self.assert_x_cache(ranged, "HIT", "range of the new version, cached by the GET before")
        self.assertEqual(delta["origin_get"], 0)
        self.assertEqual(self.cache_dir.find(bucket, "x").etag, md5_etag(new))

    def test_signed_range_is_forwarded_whole(self):
        """boto3 signs Range: the proxy cannot narrow it and forwards it as is."""
        bucket = self.new_bucket("signed")
        size = 600_000
        data = deterministic_bytes(size, seed=12)
        self.put_direct(bucket, "s", data)
        steps = [  # (Range, fill bytes, origin GETs, X-Cache)
            ("bytes=0-99999", 100_000, 1, "MISS"),
            ("bytes=50000-199999", 150_000, 1, "MISS"),   # forwarded whole
            ("bytes=0-199999", 0, 0, "HIT"),              # held by the two together
            ("bytes=150000-250000", 100_001, 1, "MISS"),
        ]
        for range_header, fill, fetches, x_cache in steps:
            before = self.state(bucket, "s")
            answer = self.get(bucket, "s", Range=range_header)
            delta = self.changes(before, bucket, "s")
            self.assertEqual(delta["fill_bytes"], fill, f"{range_header}: bytes cached")
            self.assertEqual(delta["origin_get"], fetches, f"{range_header}: origin GETs")
            self.assert_x_cache(answer, x_cache, range_header)
            first, last = (int(n) for n in range_header[6:].split("-"))
            self.check_range(answer, data, first, last, range_header)
        # A whole-object GET carries no Range, so only the missing bytes are fetched.
        before = self.state(bucket, "s")
        whole = self.get(bucket, "s")
        delta = self.changes(before, bucket, "s")
        self.assertEqual(delta["fill_bytes"], size - 250_001)
        self.assertEqual(delta["origin_get"], 1)
        self.assertEqual(whole.status, 200)
        self.assert_body(whole, data, "whole object")
        self.assert_same_object_headers(self.get(bucket, "s", client=self.direct), whole,
                                        "whole object vs direct")
        self.assert_x_cache(self.get(bucket, "s"), "HIT", "whole object again")

    def test_merge_gap(self):
        """A cached stretch shorter than merge_gap_bytes between two missing parts is
        fetched again with them (one request); a longer one splits the fetch in two."""
        bucket = self.new_bucket("gap", public=True)
        size = 1_000_000
        data = deterministic_bytes(size, seed=13)
        self.put_direct(bucket, "m", data)
        steps = [  # (Range, fill bytes, origin GETs)
            ("bytes=100000-149999", 50_000, 1),
            # missing 0-99999 and 150000-299999 around 50000 cached bytes: one fetch 0-299999
            ("bytes=0-299999", 300_000, 1),
            ("bytes=400000-799999", 400_000, 1),
            # missing 300000-399999 and 800000-999999 around 400000 cached bytes: two fetches
            ("bytes=0-999999", 300_000, 2),
            ("bytes=0-999999", 0, 0),
        ]
        with self.origin.auth_disabled():
            for range_header, fill, fetches in steps:
                before = self.state(bucket, "m")
                answer = self.raw(bucket, "m", headers={"Range": range_header})
                delta = self.changes(before, bucket, "m")
                self.assertEqual(delta["origin_get"], fetches, f"{range_header}: origin GETs")
                self.assertEqual(delta["fill_bytes"], fill, f"{range_header}: bytes cached")
                first, last = (int(n) for n in range_header[6:].split("-"))
                self.check_range(answer, data, first, last, range_header)
        self.assertEqual(self.cache_dir.find(bucket, "m").held(), [(0, size - 1)])

    def upload_parts(self, client, bucket, key, parts):
        """A multipart upload of `parts` with `client`; returns CompleteMultipartUpload's ETag."""
        upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        etags = [client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n,
                                    Body=part)["ETag"]
                 for n, part in enumerate(parts, start=1)]
        return client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                       for n, e in enumerate(etags, start=1)]})["ETag"]

    def part_as_the_origin_answers(self, bucket, number, what):
        """GET ?partNumber=`number` of object "mp" through the proxy answers as the origin
        does (headers and parts count). Returns (the proxy's answer, metric deltas)."""
        direct = self.get(bucket, "mp", client=self.direct, PartNumber=number)
        before = self.state(bucket, "mp")
        proxied = self.get(bucket, "mp", PartNumber=number)
        delta = self.changes(before, bucket, "mp")
        self.assert_same_object_headers(direct, proxied, what)
        self.assertEqual(proxied.headers.get("x-amz-mp-parts-count"),
                         direct.headers.get("x-amz-mp-parts-count"), what)
        return proxied, delta

    def assert_range_across_parts_hits(self, bucket, data, etag):
        """A signed range across the end of part 1 into part 2 of 3 x 5 MiB object "mp" is
        a hit with the right bytes and no origin request. Returns the answer."""
        overlapping = ACROSS_PARTS_1_2
        what = "range across parts 1-2 after partNumber"
        before = self.state(bucket, "mp")
        answer = self.get(bucket, "mp", Range="bytes=%d-%d" % overlapping)
        delta = self.changes(before, bucket, "mp")
        self.assert_x_cache(answer, "HIT", what)
        self.check_range(answer, data, *overlapping, what)
        self.assertEqual(answer.etag, etag, what)
        self.assertEqual((delta["origin_get"], delta["origin"]), (0, 0), f"{what}: origin")
        return answer

    def test_multipart_object_part_number_then_range(self):
        """3 parts x 5 MiB uploaded through the proxy, then ?partNumber=2 and a range, all
        from the cache. The proxy knows the part layout, so it answers ?partNumber=N as S3
        does: 206, the part's bytes, Content-Range, x-amz-mp-parts-count and the whole
        object's ETag. moto ignores partNumber of a multipart object (200, whole object: a
        moto gap, DESIGN.md §5), so the answer is checked against S3's behaviour, not
        against moto."""
        bucket = self.new_bucket("mpu")
        parts = [deterministic_bytes(5 * MIB, seed=20 + i) for i in range(3)]
        data = b"".join(parts)
        etag = self.upload_parts(self.proxied, bucket, "mp", parts)
        self.assertEqual(etag, multipart_etag(parts), "CompleteMultipartUpload's ETag")
        before = self.state(bucket, "mp")
        proxied = self.get(bucket, "mp", PartNumber=2)
        delta = self.changes(before, bucket, "mp")
        what = "GET ?partNumber=2"
        self.assertEqual(proxied.status, 206, what)
        self.assert_body(proxied, parts[1], what)
        self.assertEqual(proxied.headers.get("content-range"),
                         f"bytes {5 * MIB}-{10 * MIB - 1}/{len(data)}", what)
        self.assertEqual(proxied.headers.get("content-length"), str(5 * MIB), what)
        self.assertEqual(proxied.headers.get("x-amz-mp-parts-count"), "3", what)
        self.assertEqual(proxied.etag, etag, what)
        self.assertTrue(proxied.etag.endswith('-3"'), proxied.etag)
        self.assertEqual(proxied.parsed.get("PartsCount"), 3, f"{what}: boto3's PartsCount")
        self.assert_x_cache(proxied, "HIT", what)
        self.assertEqual((delta["origin_get"], delta["origin"]), (0, 0), f"{what}: origin")

        answer = self.assert_range_across_parts_hits(bucket, data, etag)
        self.assertNotIn("x-amz-mp-parts-count", answer.headers)

        # The first and the last part, from the cache too.
        for number, first in ((1, 0), (3, 10 * MIB)):
            what = f"GET ?partNumber={number}"
            answer = self.get(bucket, "mp", PartNumber=number)
            self.assertEqual(answer.status, 206, what)
            self.assert_body(answer, parts[number - 1], what)
            self.assertEqual(answer.headers.get("content-range"),
                             f"bytes {first}-{first + 5 * MIB - 1}/{len(data)}", what)
            self.assertEqual(answer.headers.get("x-amz-mp-parts-count"), "3", what)
            self.assert_x_cache(answer, "HIT", what)

        # A part beyond the layout is the origin's to answer (S3: 416 InvalidPartNumber;
        # moto: the whole object), and the layout is still known afterwards.
        what = "GET ?partNumber=4"
        _, delta = self.part_as_the_origin_answers(bucket, 4, what)
        self.assertEqual(delta["origin_get"], 1, f"{what}: forwarded")
        before = self.state(bucket, "mp")
        again = self.get(bucket, "mp", PartNumber=2)
        delta = self.changes(before, bucket, "mp")
        self.assertEqual((again.status, again.headers.get("content-range")),
                         (206, f"bytes {5 * MIB}-{10 * MIB - 1}/{len(data)}"),
                         "GET ?partNumber=2 after ?partNumber=4")
        self.assert_body(again, parts[1], "GET ?partNumber=2 after ?partNumber=4")
        self.assert_x_cache(again, "HIT", "GET ?partNumber=2 after ?partNumber=4")
        self.assertEqual(delta["origin_get"], 0)

    def test_part_number_of_object_uploaded_at_origin_then_range(self):
        """3 parts x 5 MiB uploaded straight to moto: the proxy does not know the part layout,
        so ?partNumber=2 is forwarded and answered as the origin answers it (moto: the
        whole object), which caches the object; an overlapping range is then a hit."""
        bucket = self.new_bucket("mpo")
        parts = [deterministic_bytes(5 * MIB, seed=24 + i) for i in range(3)]
        data = b"".join(parts)
        etag = self.upload_parts(self.direct, bucket, "mp", parts)
        what = "GET ?partNumber=2 of an upload the proxy did not see"
        proxied, delta = self.part_as_the_origin_answers(bucket, 2, what)
        self.assertEqual(proxied.etag, etag, what)
        self.assert_x_cache(proxied, "MISS", what)
        self.assertEqual(delta["origin_get"], 1, f"{what}: forwarded")

        answer = self.assert_range_across_parts_hits(bucket, data, etag)
        self.assert_same_object_headers(
            self.get(bucket, "mp", client=self.direct, Range="bytes=%d-%d" % ACROSS_PARTS_1_2),
            answer, "range across parts 1-2 vs direct")

        # The layout is still unknown: ?partNumber=2 goes to the origin again.
        _, delta = self.part_as_the_origin_answers(bucket, 2, "GET ?partNumber=2 again")
        self.assertEqual(delta["origin_get"], 1, "GET ?partNumber=2 again: forwarded")


class InvalidationTest(CacheTestCase):
    """Writes through the proxy never leave a stale read (default TTLs, so a stale entry
    would be served if it survived)."""

    def cached(self, bucket, key, data):
        """GET twice through the proxy: the second must be a hit with `data`."""
        self.get(bucket, key)
        answer = self.get(bucket, key)
        self.assert_x_cache(answer, "HIT", f"{key} cached")
        self.assert_body(answer, data, f"{key} cached")

    def assert_reads(self, bucket, key, data, what):
        """GET and HEAD through the proxy give the current object (or 404 for None)."""
        got, head = self.get(bucket, key), self.head(bucket, key)
        if data is None:
            self.assertEqual((got.status, got.error_code), (404, "NoSuchKey"), what)
            self.assertEqual(head.status, 404, what)
            return
        self.assert_body(got, data, what)
        self.assertEqual(got.etag, md5_etag(data), what)
        self.assertEqual((head.status, head.etag, head.headers.get("content-length")),
                         (200, md5_etag(data), str(len(data))), "HEAD " + what)

    def test_form_upload_drops_the_cached_object(self):
        """PostObject (an HTML form upload; the key is a field of the multipart body)."""
        bucket = self.new_bucket("formpost", public=True)
        old, new = deterministic_bytes(30 * KIB, seed=90), deterministic_bytes(20 * KIB, seed=91)
        self.put_direct(bucket, "uploads/f.bin", old)
        self.cached(bucket, "uploads/f.bin", old)
        boundary = "s3hcFormBoundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
                f"uploads/${{filename}}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + new + f"\r\n--{boundary}--\r\n".encode()
        with self.origin.auth_disabled():
            posted = http_request(self.proxy.endpoint_url + f"/{bucket}", "POST", body,
                                  {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        self.assertLess(posted.status, 300, posted.body[:300])
        self.assert_body(self.get(bucket, "uploads/f.bin"), new,
                         "GET through the proxy after the form upload")

    def test_overwrite_through_proxy(self):
        bucket = self.new_bucket("overwrite")
        old, new = deterministic_bytes(30 * KIB, seed=30), deterministic_bytes(20 * KIB, seed=31)
        self.put_direct(bucket, "o", old)
        self.cached(bucket, "o", old)
        self.head(bucket, "o")
        self.proxied.put_object(Bucket=bucket, Key="o", Body=new)
        self.assert_reads(bucket, "o", new, "after overwrite")
        # A range cached before the overwrite is gone too.
        self.get(bucket, "o", Range="bytes=0-999")
        self.proxied.put_object(Bucket=bucket, Key="o", Body=old)
        answer = self.get(bucket, "o", Range="bytes=0-999")
        self.assertEqual(answer.status, 206)
        self.assert_body(answer, old[:1000], "range after the second overwrite")

    def test_delete_through_proxy(self):
        bucket = self.new_bucket("delete")
        data = deterministic_bytes(1000, seed=32)
        self.put_direct(bucket, "d", data)
        self.cached(bucket, "d", data)
        self.head(bucket, "d")
        deleted = capture(self.proxied, lambda c: c.delete_object(Bucket=bucket, Key="d"))
        self.assertEqual(deleted.status, 204)
        self.assert_reads(bucket, "d", None, "after delete")
        self.assertIsNone(self.cache_dir.find(bucket, "d"), "record left after the delete")
        self.put_direct(bucket, "d", data[:10])
        self.assert_reads(bucket, "d", data[:10], "after re-create")

    def test_copy_onto_cached_key(self):
        bucket = self.new_bucket("copy")
        src, dst = deterministic_bytes(9000, seed=33), deterministic_bytes(7000, seed=34)
        self.put_direct(bucket, "src", src)
        self.put_direct(bucket, "dst", dst)
        self.cached(bucket, "dst", dst)
        self.cached(bucket, "src", src)
        self.proxied.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket,
                                                                       "Key": "src"})
        self.assert_reads(bucket, "dst", src, "copy destination")
        self.assert_reads(bucket, "src", src, "copy source")
        # Copy from another bucket onto a cached key.
        other = self.new_bucket("copy-other")
        self.put_direct(other, "x", dst)
        self.proxied.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": other,
                                                                       "Key": "x"})
        self.assert_reads(bucket, "dst", dst, "copy from another bucket")

    def test_multipart_upload_over_cached_key(self):
        bucket = self.new_bucket("mpover")
        old = deterministic_bytes(4000, seed=35)
        new_part = deterministic_bytes(3000, seed=36)  # one part: the last may be small
        self.put_direct(bucket, "m", old)
        self.cached(bucket, "m", old)
        upload = self.proxied.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
        # The upload is still open: the object has not changed, and reads say so.
        self.assert_reads(bucket, "m", old, "during the upload")
        etag = self.proxied.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=1,
                                        Body=new_part)["ETag"]
        self.assert_reads(bucket, "m", old, "after UploadPart")
        self.proxied.complete_multipart_upload(
            Bucket=bucket, Key="m", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        got = self.get(bucket, "m")
        self.assert_body(got, new_part, "after CompleteMultipartUpload")
        self.assertTrue(got.etag.endswith('-1"'), got.etag)
        self.assertEqual(self.head(bucket, "m").etag, got.etag)

    def test_delete_objects_drops_every_key(self):
        bucket = self.new_bucket("multidel")
        keys = {"a": b"alpha", "b/c": b"bravo-charlie", "keep": b"kept"}
        for key, data in keys.items():
            self.put_direct(bucket, key, data)
            self.cached(bucket, key, data)
        answer = capture(self.proxied, lambda c: c.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b/c"}]}))
        self.assertEqual(answer.status, 200)
        self.assert_reads(bucket, "a", None, "a after DeleteObjects")
        self.assert_reads(bucket, "b/c", None, "b/c after DeleteObjects")
        self.assert_reads(bucket, "keep", keys["keep"], "key not in DeleteObjects")

    def test_read_after_put_is_a_hit(self):
        bucket = self.new_bucket("wt")
        data = deterministic_bytes(50 * KIB, seed=37)
        self.proxied.put_object(Bucket=bucket, Key="w", Body=data, ContentType="text/x-wt")
        before = self.state(bucket, "w")
        got, head = self.get(bucket, "w"), self.head(bucket, "w")
        delta = self.changes(before, bucket, "w")
        self.assert_body(got, data, "GET after PUT")
        self.assertEqual(got.headers.get("content-type"), "text/x-wt")
        self.assert_x_cache(got, "HIT", "GET after PUT")
        self.assert_x_cache(head, "HIT", "HEAD after PUT")
        self.assertEqual((delta["origin_get"], delta["origin_head"]), (0, 0))
        self.assert_same_object_headers(self.get(bucket, "w", client=self.direct), got,
                                        "GET after PUT vs direct")

    def test_read_after_multipart_upload_is_a_hit(self):
        bucket = self.new_bucket("wtmpu")
        parts = [deterministic_bytes(5 * MIB, seed=38), deterministic_bytes(1000, seed=39)]
        upload = self.proxied.create_multipart_upload(Bucket=bucket, Key="w")["UploadId"]
        etags = [self.proxied.upload_part(Bucket=bucket, Key="w", UploadId=upload,
                                          PartNumber=n, Body=part)["ETag"]
                 for n, part in enumerate(parts, start=1)]
        self.proxied.complete_multipart_upload(
            Bucket=bucket, Key="w", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                       for n, e in enumerate(etags, start=1)]})
        before = self.state(bucket, "w")
        got = self.get(bucket, "w")
        delta = self.changes(before, bucket, "w")
        self.assert_body(got, b"".join(parts), "GET after multipart upload")
        self.assert_x_cache(got, "HIT", "GET after multipart upload")
        self.assertEqual(delta["origin_get"], 0)


class ExpiryTest(CacheTestCase):
    """Short TTLs: changes at the origin show once the TTL has passed."""

    TTL_MS = 1500
    CACHE = {"get_ttl_ms": TTL_MS, "head_ttl_ms": TTL_MS, "put_ttl_ms": TTL_MS}

    def wait_past_ttl(self, since):
        remaining = since + self.TTL_MS / 1000 + 0.2 - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def within_ttl(self, since):
        """Fails (rather than letting a slow step make a stale-read check meaningless)
        when a step meant to run inside the TTL ran past it."""
        elapsed = time.monotonic() - since
        self.assertLess(elapsed, self.TTL_MS / 1000 * 0.8,
                        "test too slow for its TTL: the stale-read check would mean nothing")

    def test_change_at_origin_is_stale_until_ttl(self):
        bucket = self.new_bucket("stale")
        old, new = deterministic_bytes(8000, seed=40), deterministic_bytes(12000, seed=41)
        self.put_direct(bucket, "s", old)
        started = time.monotonic()
        self.assert_x_cache(self.get(bucket, "s"), "MISS", "first GET")
        self.put_direct(bucket, "s", new)  # straight to the origin: the proxy cannot know
        stale = self.get(bucket, "s")
        stale_head = self.head(bucket, "s")
        self.within_ttl(started)
        self.assert_x_cache(stale, "HIT", "GET within the TTL")
        self.assert_body(stale, old, "GET within the TTL serves the cached version")
        self.assertEqual((stale_head.etag, stale_head.headers["content-length"]),
                         (md5_etag(old), str(len(old))))
        self.wait_past_ttl(started)
        fresh = self.get(bucket, "s")
        self.assert_x_cache(fresh, "MISS", "GET after the TTL")
        self.assert_body(fresh, new, "GET after the TTL")
        self.assert_same_object_headers(self.get(bucket, "s", client=self.direct), fresh,
                                        "GET after the TTL vs direct")
        again = self.get(bucket, "s")
        self.assert_x_cache(again, "HIT", "GET after the refresh")
        self.assert_body(again, new, "GET after the refresh")
        head = self.head(bucket, "s")
        self.assertEqual((head.etag, head.headers["content-length"]),
                         (md5_etag(new), str(len(new))))
        self.assertEqual(self.cache_dir.find(bucket, "s").etag, md5_etag(new))

    def test_unchanged_object_is_revalidated_without_download(self):
        bucket = self.new_bucket("reval")
        data = deterministic_bytes(150 * KIB, seed=42)
        self.put_direct(bucket, "r", data)
        started = time.monotonic()
        self.get(bucket, "r")
        self.head(bucket, "r")
        self.wait_past_ttl(started)
        before = self.state(bucket, "r")
        answer = self.get(bucket, "r")
        delta = self.changes(before, bucket, "r")
        self.assert_x_cache(answer, "REVALIDATED", "GET after the TTL")
        self.assert_body(answer, data, "revalidated GET")
        self.assertEqual(answer.status, 200)
        self.assertEqual(delta["origin_get"], 1, "one conditional GET")
        self.assertEqual(delta["fill_bytes"], 0, "nothing downloaded again")
        self.assertEqual(delta["revalidated"], 1)
        self.assert_same_object_headers(self.get(bucket, "r", client=self.direct), answer,
                                        "revalidated GET vs direct")
        # Confirmed: fresh again for another TTL.
        refreshed = time.monotonic()
        self.assert_x_cache(self.get(bucket, "r"), "HIT", "GET right after revalidation")
        # A range and a HEAD after the next expiry are revalidated too.
        self.wait_past_ttl(refreshed)
        before = self.state(bucket, "r")
        ranged = self.get(bucket, "r", Range="bytes=1000-1999")
        head = self.head(bucket, "r")
        delta = self.changes(before, bucket, "r")
        self.assert_x_cache(ranged, "REVALIDATED", "range after the TTL")
        self.assertEqual((ranged.status, ranged.headers.get("content-range")),
                         (206, f"bytes 1000-1999/{len(data)}"))
        self.assert_body(ranged, data[1000:2000], "revalidated range")
        self.assertIn(head.headers.get("x-cache"), ("REVALIDATED", "HIT"))
        self.assertEqual((head.status, head.etag), (200, md5_etag(data)))
        self.assertEqual(delta["fill_bytes"], 0)
        self.assertEqual(delta["origin_get"], 1)

    def test_object_deleted_at_origin_is_dropped_after_ttl(self):
        bucket = self.new_bucket("gone")
        data = deterministic_bytes(5000, seed=43)
        self.put_direct(bucket, "g", data)
        started = time.monotonic()
        self.get(bucket, "g")
        self.direct.delete_object(Bucket=bucket, Key="g")
        self.assert_body(self.get(bucket, "g"), data, "within the TTL")
        self.within_ttl(started)
        self.wait_past_ttl(started)
        before = self.state(bucket, "g")
        gone = self.get(bucket, "g")
        self.assertEqual((gone.status, gone.error_code), (404, "NoSuchKey"))
        self.assertGreaterEqual(self.changes(before, bucket, "g")["invalidations"], 1)
        self.assertIsNone(self.cache_dir.find(bucket, "g"), "record kept after a 404")
        before = self.state(bucket, "g")
        self.assertEqual(self.get(bucket, "g").status, 404)
        self.assertEqual(self.changes(before, bucket, "g")["origin_get"], 1)


class ZeroTtlTest(CacheTestCase):
    """TTL 0: every read is revalidated with the client's own signature, so the origin
    decides every access even when the bytes are cached."""

    CACHE = {"get_ttl_ms": 0, "head_ttl_ms": 0, "put_ttl_ms": 0}

    def test_revoked_key_is_refused_although_cached(self):
        bucket = self.new_bucket("revoked")
        data = deterministic_bytes(64 * KIB, seed=50)
        self.put_direct(bucket, "secret", data)
        bad = self.origin.client(self.proxy.endpoint_url, secret_access_key="wrong")
        self.assert_x_cache(self.get(bucket, "secret"), "MISS", "first GET")
        for round_number in range(3):
            what = f"round {round_number}"
            before = self.state(bucket, "secret")
            refused = self.get(bucket, "secret", client=bad)
            refused_range = self.get(bucket, "secret", client=bad, Range="bytes=0-9")
            refused_head = self.head(bucket, "secret", client=bad)
            good = self.get(bucket, "secret")
            delta = self.changes(before, bucket, "secret")
            for answer in (refused, refused_range):
                self.assertEqual((answer.status, answer.error_code),
                                 (403, "SignatureDoesNotMatch"), what)
                self.assertNotIn(data[:64], answer.body, what)
            self.assertEqual(refused_head.status, 403, what)
            self.assert_x_cache(good, "REVALIDATED", what)
            self.assert_body(good, data, what)
            self.assertEqual(delta["origin_get"], 3, f"{what}: each GET asked the origin")
            self.assertEqual(delta["origin_head"], 1, what)
            self.assertEqual(delta["fill_bytes"], 0, what)
            self.assertEqual(delta["hit"], 0, f"{what}: no read may skip the origin")
        direct = self.get(bucket, "secret", client=self.origin.client(secret_access_key="wrong"))
        self.assertEqual((direct.status, direct.error_code), (403, "SignatureDoesNotMatch"))


class CorruptionTest(CacheTestCase):
    """Cache files that fail their checksum or vanished are never served. (The RAM tier is
    off: an object it holds is answered from memory, with the right bytes, without reading the
    damaged file; RamTierTest in test_fleet.py covers that.)"""
    CACHE = {"ram_size": "0"}

    def cache_object(self, bucket, key, data):
        self.put_direct(bucket, key, data)
        self.assert_x_cache(self.get(bucket, key), "MISS", "first GET")
        cached = self.cache_dir.find(bucket, key)
        self.assertIsNotNone(cached, "no record after the first GET")
        self.assertEqual(len(cached.ranges), 1, cached)
        return cached.range_paths()[0]

    def check_served_from_origin(self, bucket, key, data, what):
        before = self.state(bucket, key)
        answer = self.get(bucket, key)
        delta = self.changes(before, bucket, key)
        self.assert_body(answer, data, what)
        self.assertEqual(answer.status, 200, what)
        self.assertEqual(answer.etag, md5_etag(data), what)
        self.assert_x_cache(answer, "MISS", what)
        self.assertEqual(delta["corrupt"], 1, f"{what}: s3hc_cache_corrupt_reads_total")
        self.assertEqual(delta["origin_get"], 1, what)
        # The origin's answer is cached again in place of the dropped bytes.
        self.assertEqual(delta["fills_committed"], 1, f"{what}: refill committed")
        following = self.get(bucket, key)
        self.assert_body(following, data, f"{what}: next GET")
        self.assert_x_cache(following, "HIT", f"{what}: next GET (refilled)")

    def test_corrupt_block_is_not_served(self):
        bucket = self.new_bucket("corrupt")
        data = deterministic_bytes(300 * KIB, seed=60)  # random: stored blocks, not LZ4
        path = self.cache_object(bucket, "c", data)
        corrupt_middle(path)
        self.check_served_from_origin(bucket, "c", data, "GET of a corrupt block")
        # A range inside the corrupt block as well.
        path = self.cache_dir.find(bucket, "c").range_paths()[0]
        corrupt_middle(path)
        before = self.state(bucket, "c")
        ranged = self.get(bucket, "c", Range="bytes=150000-150099")
        self.assertEqual(ranged.status, 206)
        self.assert_body(ranged, data[150000:150100], "range of a corrupt block")
        self.assertEqual(self.changes(before, bucket, "c")["corrupt"], 1)

    def test_compressible_corrupt_block_is_not_served(self):
        bucket = self.new_bucket("corruptlz")
        data = (b"compressible text line %d\n" * 20000) % tuple(range(20000))
        path = self.cache_object(bucket, "z.txt", data)
        corrupt_middle(path)
        self.check_served_from_origin(bucket, "z.txt", data, "GET of a corrupt LZ4 block")

    def test_missing_range_file_is_not_served(self):
        bucket = self.new_bucket("vanished")
        data = deterministic_bytes(20 * KIB, seed=61)
        os.unlink(self.cache_object(bucket, "v", data))
        self.check_served_from_origin(bucket, "v", data, "GET of a vanished range file")

    def test_truncated_range_file_is_not_served(self):
        bucket = self.new_bucket("truncated")
        data = deterministic_bytes(20 * KIB, seed=62)
        path = self.cache_object(bucket, "t", data)
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
        self.check_served_from_origin(bucket, "t", data, "GET of a truncated range file")


class InlineCorruptionTest(CorruptionTest):
    """The same with cache I/O on the event loops (cache.io_threads: 0), where large answers
    are sent with sendfile from blocks checked once: a file damaged after it was served (so
    after its blocks were checked) is checked again, never sent. (The RAM tier is off: it
    would answer from memory, with the right bytes, without looking at the damaged file.)"""
    CACHE = {"io_threads": 0, "ram_size": "0"}

    def cache_object(self, bucket, key, data):
        path = super().cache_object(bucket, key, data)
        served = self.get(bucket, key)
        self.assert_x_cache(served, "HIT", "GET that checks the blocks")
        self.assert_body(served, data, "GET that checks the blocks")
        return path


class InlineSendfileTest(CacheTestCase):
    """With cache I/O on the event loops, large hits go out with sendfile: clients that hang up
    in the middle of such answers cost their connections, never the proxy."""
    CACHE = {"io_threads": 0}

    def test_clients_hanging_up_mid_answer(self):
        bucket = self.new_bucket("hangup", public=True)
        data = deterministic_bytes(8 * MIB, seed=70)
        self.put_direct(bucket, "big", data)
        self.assert_x_cache(self.get(bucket, "big"), "MISS", "first GET")
        self.assert_x_cache(self.get(bucket, "big"), "HIT", "second GET")
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10) as sock:
                sock.sendall(f"GET /{bucket}/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                self.assertTrue(sock.recv(65536).startswith(b"HTTP/1.1 200"))
            # Closed with most of the 8 MiB unsent: the proxy's next sendfile hits a dead socket.
        time.sleep(0.2)
        self.assertTrue(self.proxy.is_running(), self.proxy.log_tail())
        answer = self.get(bucket, "big")
        self.assert_x_cache(answer, "HIT", "GET after the hang-ups")
        self.assert_body(answer, data, "GET after the hang-ups")


class MirrorTestCase(CacheTestCase):
    """With the local metadata mirror (cache.mirror_dir), a hit reads no record from the shared
    directory: in strict mode (the default) one stat confirms the record is still there; with
    cache.max_staleness_ms the mirror trusts what it holds that long without even the stat."""
    MAX_STALENESS_MS = 0

    @classmethod
    def proxy_config(cls):
        config = super().proxy_config()
        # Outside the cache directory's parent, so the odd-file checks elsewhere stay exact.
        cls.mirror_path = tempfile.mkdtemp(prefix="s3hc-mirror-test-")
        cls.addClassCleanup(shutil.rmtree, cls.mirror_path, True)
        config["cache"].update({"mirror_dir": os.path.join(cls.mirror_path, "mirror"),
                                "max_staleness_ms": cls.MAX_STALENESS_MS})
        return config

    def cache_then_drop_the_shared_record(self, key, seed):
        bucket = self.new_bucket("mirror")
        data = deterministic_bytes(100 * KIB, seed=seed)
        self.put_direct(bucket, key, data)
        self.assert_x_cache(self.get(bucket, key), "MISS", "first GET")
        record = os.path.join(self.cache_dir.find(bucket, key).directory, "record")
        os.unlink(record)  # the shared record is gone; the range file is still there
        return bucket, data, record


class StrictMirrorTest(MirrorTestCase):
    # (Deleted by hand, behind the table of record changes: what the proxy holds was marked
    # before its own fill's change, so its next hit stats the record whatever the table says.)
    def test_a_record_gone_from_the_shared_directory_is_a_miss_at_once(self):
        bucket, _, record = self.cache_then_drop_the_shared_record("strict", 81)
        self.assert_x_cache(self.get(bucket, "strict"), "MISS", "GET after the record went")
        self.assertTrue(os.path.exists(record), "the miss filled the cache again")


class BoundedStalenessMirrorTest(MirrorTestCase):
    MAX_STALENESS_MS = 1500

    def test_hits_need_nothing_from_the_shared_directory_within_the_bound(self):
        bucket, data, record = self.cache_then_drop_the_shared_record("m", 80)
        answer = self.get(bucket, "m")
        self.assert_x_cache(answer, "HIT", "GET served through the mirror")
        self.assert_body(answer, data, "GET served through the mirror")
        time.sleep(self.MAX_STALENESS_MS / 1000 + 0.3)
        # Past the bound the record is confirmed again: gone, so a miss.
        self.assert_x_cache(self.get(bucket, "m"), "MISS", "GET after the bound")
        self.assertTrue(os.path.exists(record), "the miss filled the cache again")


class OddKeyTest(CacheTestCase):
    """Keys with unicode, dot segments, spaces and 1 KiB names: cached and read back
    identical, stored only under hash names inside the cache directory."""

    KEYS = [
        "ünïcödé/ключ/鍵.bin",
        "a/../b",
        "../../escape",
        "with space and+plus=&.txt",
        "pct%41literal",
        "trailing/",
        "x" * 300 + "/" + "y" * 300 + "/" + "z" * 422,   # 1024 bytes: S3's longest key
    ]

    def test_odd_keys_are_cached_under_hash_names(self):
        self.assertEqual(len(self.KEYS[-1].encode()), 1024)
        bucket = self.new_bucket("oddkeys")
        contents = {key: deterministic_bytes(1000 + i, seed=70 + i)
                    for i, key in enumerate(self.KEYS)}
        with self.origin.auth_disabled():  # percent-encoded paths (DESIGN.md §5)
            for key, data in contents.items():
                self.put_direct(bucket, key, data)
            listed = [o["Key"] for o in self.direct.list_objects_v2(Bucket=bucket)["Contents"]]
            self.assertEqual(sorted(listed), sorted(self.KEYS), "moto stored other key names")
            before = self.state()
            answers = {}
            for key in contents:
                answers[key] = (self.get(bucket, key), self.get(bucket, key),
                                self.head(bucket, key))
            self.assertEqual(self.changes(before)["origin"], len(self.KEYS),
                             "one origin request per key")
            for key, data in contents.items():
                first, second, head = answers[key]
                self.assert_x_cache(first, "MISS", repr(key))
                self.assert_x_cache(second, "HIT", repr(key))
                self.assert_x_cache(head, "HIT", "HEAD " + repr(key))
                self.assert_body(first, data, repr(key))
                self.assert_body(second, data, repr(key))
                self.assert_same_object_headers(self.get(bucket, key, client=self.direct),
                                                second, repr(key))
        # Everything the proxy wrote is inside the cache directory, under hash names.
        self.assertEqual(os.listdir(self.cache_parent), ["cache"],
                         "the proxy created files beside its cache directory")
        files = self.cache_dir.files()
        for rel in files:
            self.assertRegex(rel, layout_pattern(rel), "file outside the hashed layout")
        fragments = {"ключ", "鍵", "escape", "space", "pct", "trailing", "xxxx", "..", "%"}
        for rel in files:
            for fragment in fragments - {".."}:
                self.assertNotIn(fragment, rel, f"key text in a cache file name: {rel}")
            self.assertNotIn("/../", "/" + rel + "/")
        records = {(o.bucket, o.key): o for o in self.cache_dir.objects()}
        self.assertEqual(set(records), {(bucket, key) for key in self.KEYS},
                         "one record per key, holding the key itself")
        for key, data in contents.items():
            self.assertEqual(records[(bucket, key)].held(), [(0, len(data) - 1)], repr(key))
        self.assertEqual(len({o.directory for o in records.values()}), len(self.KEYS))


if __name__ == "__main__":
    unittest.main()
