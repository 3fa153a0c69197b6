#!/usr/bin/env python3
"""Per-bucket metrics (observability.bucket_metrics, max_bucket_labels, bucket_rerank_ms), as an
operator lines them up with the S3 bill: one proxy with a cache in front of moto, boto3
clients.

  - bytes sent from the cache are counted as saved, those S3 sent as from the origin, bytes
    written as written, requests by their X-Cache word; a listed prefix has its own label;
  - with one free label, the first bucket seen takes it and a later, busier bucket is counted
    under __other__ until the next ranking (bucket_rerank_ms), when it takes the label: the
    quiet bucket's counts move to __other__, so no sum over buckets goes back.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fleet_fixture import FleetTestCase, SharedCache  # noqa: E402

KIB = 1024
RERANK_MS = 1000
LISTED_PREFIX = "train/"


class BucketMetricsTest(FleetTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.class_fleet = SharedCache(cls.addClassCleanup, "s3hc-bucket-metrics-test-")
        cls.listed = "s3hc-listed"
        cls.direct.create_bucket(Bucket=cls.listed)
        cls.proxy = cls.class_fleet.start_proxy(cls.origin.endpoint_url, config={
            "observability": {"bucket_metrics": [f"{cls.listed}/{LISTED_PREFIX}"],
                              "max_bucket_labels": 1, "bucket_rerank_ms": RERANK_MS}})
        cls.client_ = cls.origin.client(cls.proxy.endpoint_url)

    def by_bucket(self, family):
        """{bucket label: value} of one per-bucket family."""
        prefix = family + '{bucket="'
        return {key[len(prefix):key.index('"', len(prefix))]: value
                for key, value in self.proxy.metrics().items() if key.startswith(prefix)}

    def get(self, bucket, key):
        answer = self.client_.get_object(Bucket=bucket, Key=key)
        answer["Body"].read()
        return answer["ResponseMetadata"]["HTTPHeaders"]["x-cache"]

    def test_saved_origin_and_written_bytes_and_the_busiest_bucket_taking_the_label(self):
        quiet, busy = self.new_bucket("quiet"), self.new_bucket("busy")
        self.client_.put_object(Bucket=quiet, Key="q", Body=os.urandom(10 * KIB))
        self.client_.put_object(Bucket=busy, Key="b", Body=os.urandom(200 * KIB))
        self.client_.put_object(Bucket=self.listed, Key=LISTED_PREFIX + "x",
                                Body=os.urandom(30 * KIB))
        # Written through, so the reads are hits.
        self.assertEqual(self.get(quiet, "q"), "HIT")
        for _ in range(5):
            self.assertEqual(self.get(busy, "b"), "HIT")
        self.assertEqual(self.get(self.listed, LISTED_PREFIX + "x"), "HIT")

        sent = self.by_bucket("s3hc_bucket_sent_bytes_total")
        saved = self.by_bucket("s3hc_bucket_saved_bytes_total")
        written = self.by_bucket("s3hc_bucket_written_bytes_total")
        listed_label = f"{self.listed}/{LISTED_PREFIX}"
        # The first bucket seen took the one free label; the busy one waits in __other__.
        self.assertEqual(set(sent), {quiet, "__other__", listed_label}, sent)
        self.assertGreater(written[quiet], 10 * KIB)  # body and headers
        self.assertGreater(saved["__other__"], 5 * 200 * KIB)
        self.assertGreater(saved[listed_label], 30 * KIB)
        requests = self.proxy.metric("s3hc_bucket_requests_total", bucket="__other__",
                                     cache_status="HIT")
        self.assertEqual(requests, 5)
        total_before = sum(sent.values())

        time.sleep(RERANK_MS / 1000 + 0.2)
        self.assertEqual(self.get(busy, "b"), "HIT")  # this request ranks them again
        sent = self.by_bucket("s3hc_bucket_sent_bytes_total")
        self.assertEqual(set(sent), {busy, "__other__", listed_label}, sent)
        self.assertGreater(sent[busy], 200 * KIB)  # the label counts from the ranking on
        self.assertLess(sent[busy], 2 * 200 * KIB)
        # The quiet bucket's counts went to __other__: the sum only grew.
        self.assertGreater(sum(sent.values()), total_before + 200 * KIB)
        self.assertEqual(self.proxy.metric("s3hc_bucket_requests_total", bucket="__other__",
                                           cache_status="HIT"), 6)  # quiet's 1 + busy's 5


if __name__ == "__main__":
    unittest.main()
