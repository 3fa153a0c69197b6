"""Compare what an S3 client gets through the proxy with what it gets from the origin.

The proxy is meant to be byte-transparent, so the two answers must match: status,
headers (apart from a few per-request ones) and body bytes.

    raw = capture(client, lambda c: c.get_object(Bucket=b, Key=k))
    raw.status, raw.headers["etag"], raw.body, raw.error_code

    assert_same_response(testcase, direct_raw, proxied_raw)
        # exact, for two reads of the same thing
    assert_same_response(testcase, direct_raw, proxied_raw,
                         replacements={proxied_bucket: direct_bucket}, mask_origin_state=True)
        # for the same write done on twin buckets

ProxyVsDirectTestCase starts one moto and one proxy per test class and has helpers
for both comparison styles.
"""

import dataclasses
import hashlib
import http.client
import itertools
import os
import random
import re
import unittest
import urllib.parse

from botocore.exceptions import ClientError

from .moto_origin import MotoOrigin
from .processes import DumpLogsOnFailure
from .proxy import ProxyProcess

# Headers that differ between any two requests (or are hop-by-hop, which a proxy
# may legitimately rewrite); everything else must come through unchanged.
PER_REQUEST_HEADERS = frozenset({
    "date", "x-amz-request-id", "x-amzn-requestid", "x-amz-id-2",
    "connection", "keep-alive", "transfer-encoding",
})
# Values the origin generates afresh for each write (masked only when comparing
# twin writes, never when comparing two reads of the same object).
ORIGIN_STATE_HEADERS = frozenset({"last-modified"})
_PER_REQUEST_XML = ("RequestId", "HostId")
_ORIGIN_STATE_XML = ("LastModified", "UploadId", "Initiated")


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: dict          # lower-case name -> value
    body: bytes            # b"" for HEAD / empty bodies
    error_code: str = None  # S3 error code for 4xx/5xx answers parsed by botocore
    parsed: dict = None     # botocore's parsed result of a successful call

    @property
    def etag(self):
        return self.headers.get("etag")


def deterministic_bytes(size, seed):
    """Reproducible incompressible test data (same seed, same bytes)."""
    return random.Random(seed).randbytes(size)


def md5_etag(data):
    """S3's ETag of an object uploaded in one piece (quoted hex md5)."""
    return '"%s"' % hashlib.md5(data).hexdigest()


def multipart_etag(parts):
    """S3's ETag of a completed multipart upload: md5 of the part md5s, '-' part count."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


# ---- capturing -------------------------------------------------------------

class _LastResponse:
    """Keeps the raw HTTP answer of the last call made with one boto3 client."""

    def __init__(self, client):
        self.status = self.headers = self.body = None
        client.meta.events.register("after-call.s3", self._record)

    def _record(self, http_response, model, **_):
        self.status = http_response.status_code
        self.headers = {k.lower(): v for k, v in http_response.headers.items()}
        # A successful streaming answer (GetObject) is still unread: capture() reads
        # it from the parsed Body. Everything else was already read by the parser.
        streaming = model.has_streaming_output and http_response.status_code < 300
        self.body = None if streaming else http_response.content


def _recorder(client):
    if not hasattr(client, "_s3hc_last_response"):
        client._s3hc_last_response = _LastResponse(client)
    return client._s3hc_last_response


def capture(client, operation):
    """Run operation(client) and return its raw answer as a RawResponse. S3 errors
    are captured, not raised (check .status / .error_code)."""
    recorder = _recorder(client)
    error_code = None
    try:
        result = operation(client)
    except ClientError as err:
        result, error_code = None, err.response.get("Error", {}).get("Code")
    body = recorder.body
    if body is None:
        body = result["Body"].read() if result and "Body" in result else b""
    return RawResponse(recorder.status, dict(recorder.headers), body, error_code, result)


def http_request(url, method="GET", body=None, headers=None, timeout=60):
    """One plain HTTP request (for presigned URLs and hand-made requests)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


# ---- comparing -------------------------------------------------------------

def _mask_xml(body, elements):
    for element in elements:
        body = re.sub(rb"<%s>[^<]*</%s>" % (element.encode(), element.encode()),
                      b"<%s>*</%s>" % (element.encode(), element.encode()), body)
    return body


def comparable(raw, replacements=None, mask_origin_state=False):
    """(status, headers, body) with per-request values masked and `replacements`
    (old -> new strings, e.g. bucket names) applied to header values and body."""
    replacements = replacements or {}
    skip = PER_REQUEST_HEADERS | (ORIGIN_STATE_HEADERS if mask_origin_state else frozenset())
    headers = {}
    for name, value in raw.headers.items():
        if name in skip:
            continue
        for old, new in replacements.items():
            value = value.replace(old, new)
        headers[name] = value
    body = raw.body
    for old, new in replacements.items():
        body = body.replace(old.encode(), new.encode())
    masked = _mask_xml(body, _PER_REQUEST_XML + (_ORIGIN_STATE_XML if mask_origin_state else ()))
    if len(masked) != len(body) and "content-length" in headers:
        # Masked values (request or upload ids) vary in length: check the length
        # against this answer's own body instead of against the other answer.
        length_ok = int(headers["content-length"]) == len(raw.body)
        headers["content-length"] = "matches body" if length_ok else headers["content-length"]
    return raw.status, headers, masked


def assert_same_response(testcase, direct, proxied, replacements=None,
                         mask_origin_state=False, what=""):
    """Fail unless the proxied answer equals the direct one (see comparable())."""
    d_status, d_headers, d_body = comparable(direct, replacements, mask_origin_state)
    p_status, p_headers, p_body = comparable(proxied, replacements, mask_origin_state)
    label = f"{what}: " if what else ""
    testcase.assertEqual(p_status, d_status, f"{label}status through proxy differs")
    testcase.assertEqual(proxied.error_code, direct.error_code, f"{label}S3 error code differs")
    testcase.assertEqual(p_headers.get("etag"), d_headers.get("etag"), f"{label}ETag differs")
    testcase.assertEqual(p_headers, d_headers, f"{label}headers through proxy differ")
    if p_body != d_body:  # avoid assertEqual's diff of multi-MiB bodies
        testcase.fail(f"{label}body through proxy differs: {len(p_body)} bytes vs "
                      f"{len(d_body)} direct; first difference at byte "
                      f"{_first_difference(p_body, d_body)}; proxied starts {p_body[:200]!r}")


def _first_difference(a, b):
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return min(len(a), len(b))


# ---- test case base --------------------------------------------------------

class ProxyVsDirectTestCase(DumpLogsOnFailure, unittest.TestCase):
    """One moto origin (strict SigV4) and one s3hc-proxy in front of it per class.

    self.direct / self.proxied: boto3 clients with the same credentials, one to moto,
    one to the proxy. Two ways to compare:
      compare_reads(op):        op(client) on both clients against the same data;
                                the answers must be identical.
      compare_on_twins(op, tw): op(client, bucket) with the direct client on the
                                direct twin bucket and the proxied client on the
                                proxied one; identical once bucket names are swapped
                                and origin-generated times/ids are masked.
    """

    origin = None
    proxy = None
    _names = itertools.count()

    @classmethod
    def proxy_config(cls):
        """The proxy's config dict (see ProxyProcess); None = defaults. Subclasses override
        it, e.g. to turn the cache on; it runs in setUpClass once moto is up."""
        return None

    @classmethod
    def setUpClass(cls):
        cls.any_test_failed = True  # until both processes are up: keep their logs
        cls.addClassCleanup(cls._remove_logs_unless_failed)  # runs last (cleanups are LIFO)
        cls.origin = MotoOrigin()
        cls.addClassCleanup(cls.origin.stop)
        cls.origin.start()
        cls.proxy = ProxyProcess(cls.origin.endpoint_url, config=cls.proxy_config())
        cls.addClassCleanup(cls.proxy.stop)
        cls.proxy.start()
        cls.direct = cls.origin.client()
        cls.proxied = cls.origin.client(cls.proxy.endpoint_url)
        cls.any_test_failed = False

    @classmethod
    def _remove_logs_unless_failed(cls):
        if cls.any_test_failed:
            return
        for source in (cls.proxy, cls.origin):
            if source is not None and source.process is not None:
                source.process.remove_log()

    def log_sources(self):
        return [self.proxy, self.origin]

    def unique_name(self, tag):
        """Bucket name unique in this run: s3hc-<tag>-<pid>-<n> (lower case, valid S3)."""
        return f"s3hc-{tag}-{os.getpid()}-{next(self._names)}".lower()

    def twin_buckets(self, tag):
        """Create bucket <name>-d directly and <name>-p through the proxy (same length,
        so Content-Length matches after the name swap); asserts equal answers.
        Returns (direct_bucket, proxied_bucket)."""
        base = self.unique_name(tag)
        twins = (base + "-d", base + "-p")
        self.compare_on_twins(lambda c, b: c.create_bucket(Bucket=b), twins, what="CreateBucket")
        return twins

    def compare_reads(self, operation, what="", clients=None):
        """Run operation(client) directly and through the proxy; answers must be equal.
        clients: (direct, proxied) pair to use instead of self.direct/self.proxied.
        Returns (direct, proxied) RawResponses."""
        direct_client, proxied_client = clients or (self.direct, self.proxied)
        direct = capture(direct_client, operation)
        proxied = capture(proxied_client, operation)
        assert_same_response(self, direct, proxied, what=what)
        return direct, proxied

    def compare_on_twins(self, operation, twins, what=""):
        """Run operation(client, bucket) on each twin with its client; answers must be
        equal with bucket names swapped. Returns (direct, proxied) RawResponses."""
        direct_bucket, proxied_bucket = twins
        direct = capture(self.direct, lambda c: operation(c, direct_bucket))
        proxied = capture(self.proxied, lambda c: operation(c, proxied_bucket))
        assert_same_response(self, direct, proxied, replacements={proxied_bucket: direct_bucket},
                             mask_origin_state=True, what=what)
        return direct, proxied
