#!/usr/bin/env python3
"""Parallel fills: a cold object above cache.parallel_fill_threshold, asked for whole by a
client whose signature leaves Range and If-Match to the proxy, is fetched as several
concurrent ranged GETs with the client's own signature (docs/CACHING.md, "Parallel fills of
large objects"). moto checks SigV4 strictly, so every ranged GET moto answers 206 proves the
added unsigned headers kept the signature valid.

  - boto3: the client gets S3's 200 and the object byte for byte; moto served the first
    GET (200) and one 206 per further chunk; the next GET is a HIT that asks moto nothing;
  - a presigned URL (moto's auth off: it refuses presigned URLs in strict mode) likewise;
  - a client Range is fetched as asked (no parallel fill);
  - a policy rule `parallel_fill_threshold_bytes: 0` for a bucket: no parallel fill there;
  - support/fault_origin.py between the proxy and moto: one ranged answer reset mid-body is
    asked for again from its first missing byte, and the client still gets the whole object,
    then a HIT; every ranged answer reset: the client's answer ends before Content-Length
    with a right prefix, nothing is committed, and once the fault is cleared the next GET is
    a MISS that gets the whole object.
"""

import http.client
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fleet_fixture import FaultyOriginTestCase  # noqa: E402
from support.proxy import series_key  # noqa: E402
from support.s3compare import deterministic_bytes  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
CHUNK = 1 * MIB
OBJECT_BYTES = 12 * MIB + 5  # 13 chunks: the first from the 200, 12 by ranges
CHUNKS = -(-OBJECT_BYTES // CHUNK)
PARALLEL = {"parallel_fill_threshold": "4MiB", "parallel_fill_chunk": "1MiB",
            "parallel_fill_streams": 3}
CONFIG = {"shutdown_grace_ms": 1000, "upstream": {"response_timeout_ms": 2000}}


def raw_get(url):
    """(status, body, complete) of a plain GET; an answer cut before its Content-Length gives
    what arrived."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + "?" + parts.query)
        response = conn.getresponse()
        try:
            return response.status, response.read(), True
        except http.client.IncompleteRead as cut:
            return response.status, cut.partial, False
    finally:
        conn.close()


class ParallelFillTest(FaultyOriginTestCase):
    BUCKET_PREFIX = "s3hc-pfill"

    def start_proxy(self, upstream_url):
        return self.new_fleet().start_proxy(upstream_url, cache=PARALLEL, config=CONFIG)

    def put_object(self, tag, seed):
        bucket = self.new_bucket(tag)
        data = deterministic_bytes(OBJECT_BYTES, seed)
        self.direct.put_object(Bucket=bucket, Key="obj", Body=data, ContentType="video/x-test")
        return bucket, "obj", data

    def get(self, proxy, bucket, key):
        """(body, headers) of a boto3 GET through `proxy`."""
        answer = self.client(proxy).get_object(Bucket=bucket, Key=key)
        return answer["Body"].read(), answer["ResponseMetadata"]["HTTPHeaders"]

    def moto_gets(self, bucket, key, status):
        return sum(1 for e in self.origin.s3_requests()
                   if e.method == "GET" and e.path == f"/{bucket}/{key}" and e.status == status)

    def parallel_fills(self, proxy):
        return proxy.metrics().get(series_key("s3hc_cache_parallel_fills_total", {}), 0.0)

    def test_boto3_get_of_a_cold_object_is_fetched_by_ranges_and_cached(self):
        proxy = self.start_proxy(self.origin.endpoint_url)
        bucket, key, data = self.put_object("boto3", 301)
        body, headers = self.get(proxy, bucket, key)
        self.assertEqual(body, data)
        self.assertEqual(headers.get("x-cache"), "MISS")
        direct = self.direct.get_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]
        for name in ("content-length", "etag", "content-type", "last-modified"):
            self.assertEqual(headers.get(name), direct.get(name), name)
        self.wait_for(lambda: self.moto_gets(bucket, key, 206) == CHUNKS - 1, 10,
                      "one ranged GET per further chunk in moto's log")
        self.assertEqual(self.moto_gets(bucket, key, 200), 2)  # the proxy's and the direct one
        self.assertEqual(self.parallel_fills(proxy), 1)
        body, headers = self.get(proxy, bucket, key)
        self.assertEqual((body, headers.get("x-cache")), (data, "HIT"))
        self.assertEqual(self.moto_gets(bucket, key, 206), CHUNKS - 1)
        # A Range of the client's is its own: fetched as asked, no parallel fill.
        bucket, key, data = self.put_object("range", 302)
        answer = self.client(proxy).get_object(Bucket=bucket, Key=key, Range="bytes=0-6291455")
        self.assertEqual(answer["Body"].read(), data[:6 * MIB])
        self.assertEqual(self.parallel_fills(proxy), 1)

    def test_a_policy_sets_the_threshold_per_object(self):
        fleet = self.new_fleet()
        bucket, key, data = self.put_object("policy", 305)
        policy = os.path.join(fleet.parent, "policy.yaml")
        with open(policy, "w") as f:
            f.write(f"rules:\n  - bucket: {bucket}\n"
                    f"    settings: {{parallel_fill_threshold_bytes: 0}}\n")
        proxy = fleet.start_proxy(self.origin.endpoint_url, config=CONFIG,
                                  cache=dict(PARALLEL, policy_file=policy))
        self.assertEqual(self.get(proxy, bucket, key)[0], data)
        self.assertEqual((self.parallel_fills(proxy), self.moto_gets(bucket, key, 206)), (0, 0))
        # Another bucket keeps the configured threshold.
        bucket, key, data = self.put_object("policy-other", 306)
        self.assertEqual(self.get(proxy, bucket, key)[0], data)
        self.assertEqual(self.parallel_fills(proxy), 1)

    def test_presigned_url(self):
        proxy = self.start_proxy(self.origin.endpoint_url)
        bucket, key, data = self.put_object("presigned", 303)
        url = self.client(proxy).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
        with self.origin.auth_disabled():
            self.assertEqual(raw_get(url), (200, data, True))
            self.assertEqual(raw_get(url), (200, data, True))
        self.assertEqual(self.moto_gets(bucket, key, 206), CHUNKS - 1)
        self.assertEqual(self.parallel_fills(proxy), 1)

    def test_one_range_reset_mid_body_is_asked_again(self):
        proxy = self.start_proxy(self.faulty.url)
        bucket, key, data = self.put_object("reset1", 304)
        self.faulty.fault(bucket, key, "reset", 256 * KIB, times=1, status=206)
        body, headers = self.get(proxy, bucket, key)
        self.assertEqual(self.faulty.faults_used(bucket, key, "reset"), 1)
        self.assertEqual((body, headers.get("x-cache")), (data, "MISS"))
        self.assertEqual(self.faulty.gets(bucket, key), CHUNKS + 1)  # one chunk asked twice
        body, headers = self.get(proxy, bucket, key)
        self.assertEqual((body, headers.get("x-cache")), (data, "HIT"))

    def test_every_range_reset_ends_the_answer_early_and_keeps_nothing(self):
        proxy = self.start_proxy(self.faulty.url)
        bucket, key, data = self.put_object("reset", 305)
        self.faulty.fault(bucket, key, "reset", 256 * KIB, times=None, status=206)
        url = self.client(proxy).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
        with self.origin.auth_disabled():
            status, body, complete = raw_get(url)
        self.assertEqual(status, 200)
        self.assertFalse(complete)
        self.assertEqual(body, data[:len(body)], "a wrong byte")
        self.faulty.clear_faults()
        body, headers = self.get(proxy, bucket, key)
        self.assertEqual((body, headers.get("x-cache")), (data, "MISS"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
