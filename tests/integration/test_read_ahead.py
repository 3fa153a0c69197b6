#!/usr/bin/env python3
"""Sequential read-ahead (docs/CACHING.md, "Read-ahead"): a client reading one object in
consecutive ranges, its signature leaving Range to the proxy, has the next ranges fetched into
the cache ahead of it, with its own request (Range replaced, If-Match pinned to the version).

  - presigned URL (moto's auth off: it refuses presigned URLs in strict mode) read by
    `requests` in 8 consecutive ranges of 1 MiB: bytes exact, from the 3rd range on answered
    from the cache (HIT, or COALESCED when the client overtook a read-ahead still running),
    each range asked of moto once;
  - boto3's get_object(Range=...) signs Range (moto checks SigV4 strictly): no read-ahead;
  - ranges in random order: no read-ahead;
  - a policy rule `read_ahead: false` for the bucket: no read-ahead;
  - support/fault_origin.py resetting the read-aheads' answers: the client's answers stay
    exact, the failures are counted, the ranges then fetched when the client asks.
"""

import os
import sys
import unittest

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fleet_fixture import FaultyOriginTestCase  # noqa: E402
from support.proxy import series_key  # noqa: E402
from support.s3compare import deterministic_bytes  # noqa: E402

MIB = 1024 * 1024
RANGES = 8
OBJECT_BYTES = RANGES * MIB


def range_header(n):
    return f"bytes={n * MIB}-{(n + 1) * MIB - 1}"


class ReadAheadTest(FaultyOriginTestCase):
    BUCKET_PREFIX = "s3hc-ra"

    def start_proxy(self, upstream_url):
        return self.new_fleet().start_proxy(upstream_url)

    def put_object(self, tag, seed):
        bucket = self.new_bucket(tag)
        data = deterministic_bytes(OBJECT_BYTES, seed)
        self.direct.put_object(Bucket=bucket, Key="obj", Body=data)
        return bucket, "obj", data

    def presigned(self, proxy, bucket, key):
        return self.client(proxy).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)

    def read_range(self, url, n):
        """(X-Cache, body) of range n read through a presigned URL."""
        answer = requests.get(url, headers={"Range": range_header(n)}, timeout=30)
        self.assertEqual(answer.status_code, 206)
        return answer.headers.get("X-Cache"), answer.content

    def read_aheads(self, proxy, result):
        return proxy.metrics().get(
            series_key("s3hc_cache_read_ahead_total", {"result": result}), 0.0)

    def all_read_aheads(self, proxy):
        return sum(self.read_aheads(proxy, result)
                   for result in ("fetched", "cached", "filling", "refused", "failed"))

    def moto_ranged_gets(self, bucket, key):
        return sum(1 for e in self.origin.s3_requests()
                   if e.method == "GET" and e.path == f"/{bucket}/{key}" and e.status == 206)

    def test_sequential_presigned_ranges_are_read_ahead(self):
        proxy = self.start_proxy(self.origin.endpoint_url)
        bucket, key, data = self.put_object("seq", 401)
        url = self.presigned(proxy, bucket, key)
        statuses = []
        with self.origin.auth_disabled():
            for n in range(RANGES):
                status, body = self.read_range(url, n)
                self.assertEqual(body, data[n * MIB:(n + 1) * MIB], f"range {n}")
                statuses.append(status)
        # (Range 1: the object has a record, without these bytes.)
        self.assertEqual(statuses[:2], ["MISS", "PARTIAL"])
        for n, status in enumerate(statuses[2:], 2):
            self.assertIn(status, ("HIT", "COALESCED"), f"range {n}: {statuses}")
        self.wait_for(lambda: proxy.metrics().get(
            series_key("s3hc_cache_fills_in_flight", {}), 0.0) == 0, 10, "read-aheads over")
        # Each range asked of moto once: the read-aheads fetched ranges 2 to 7, nothing past
        # the object's end.
        self.assertEqual(self.moto_ranged_gets(bucket, key), RANGES)
        self.assertEqual(self.read_aheads(proxy, "fetched"), RANGES - 2)

    def test_boto3_signs_range_and_gets_no_read_ahead(self):
        proxy = self.start_proxy(self.origin.endpoint_url)
        bucket, key, data = self.put_object("signed", 402)
        s3 = self.client(proxy)
        for n in range(4):
            answer = s3.get_object(Bucket=bucket, Key=key, Range=range_header(n))
            self.assertEqual(answer["Body"].read(), data[n * MIB:(n + 1) * MIB])
            self.assertNotEqual(answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache"), "HIT")
        self.assertEqual(self.all_read_aheads(proxy), 0)
        self.assertEqual(self.moto_ranged_gets(bucket, key), 4)

    def test_random_ranges_get_no_read_ahead(self):
        proxy = self.start_proxy(self.origin.endpoint_url)
        bucket, key, data = self.put_object("random", 403)
        url = self.presigned(proxy, bucket, key)
        with self.origin.auth_disabled():
            for n in (5, 2, 7, 0, 3):
                status, body = self.read_range(url, n)
                self.assertEqual(body, data[n * MIB:(n + 1) * MIB])
                self.assertIn(status, ("MISS", "PARTIAL"))
        self.assertEqual(self.all_read_aheads(proxy), 0)
        self.assertEqual(self.moto_ranged_gets(bucket, key), 5)

    def test_a_policy_turns_read_ahead_off_for_its_objects(self):
        fleet = self.new_fleet()
        bucket, key, data = self.put_object("policy", 404)
        policy = os.path.join(fleet.parent, "policy.yaml")
        with open(policy, "w") as f:
            f.write(f"rules:\n  - bucket: {bucket}\n    settings: {{read_ahead: false}}\n")
        proxy = fleet.start_proxy(self.origin.endpoint_url, cache={"policy_file": policy})
        url = self.presigned(proxy, bucket, key)
        with self.origin.auth_disabled():
            for n in range(4):
                status, body = self.read_range(url, n)
                self.assertEqual(body, data[n * MIB:(n + 1) * MIB], f"range {n}")
                self.assertIn(status, ("MISS", "PARTIAL"), f"range {n}")
        self.assertEqual(self.all_read_aheads(proxy), 0)
        self.assertEqual(self.moto_ranged_gets(bucket, key), 4)

    def test_failing_read_aheads_leave_the_answers_exact(self):
        proxy = self.start_proxy(self.faulty.url)
        bucket, key, data = self.put_object("fault", 404)
        url = self.presigned(proxy, bucket, key)
        with self.origin.auth_disabled():
            # Range 1 cached first, so that reading it again asks the origin nothing: every
            # ranged answer of the origin after that is a read-ahead's.
            self.read_range(url, 1)
            self.assertEqual(self.read_range(url, 0)[1], data[:MIB])
            self.faulty.fault(bucket, key, "reset", 64 * 1024, times=None, status=206)
            self.assertEqual(self.read_range(url, 1), ("HIT", data[MIB:2 * MIB]))
            self.wait_for(lambda: self.read_aheads(proxy, "failed") == 2, 10,
                          "both read-aheads failed")
            self.faulty.clear_faults()
            for n in (2, 3):
                status, body = self.read_range(url, n)
                self.assertEqual(body, data[n * MIB:(n + 1) * MIB], f"range {n}")
                self.assertEqual(status, "PARTIAL")  # from the origin


if __name__ == "__main__":
    unittest.main(verbosity=2)
