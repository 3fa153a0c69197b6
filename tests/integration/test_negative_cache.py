#!/usr/bin/env python3
"""Negative caching (cache.negative_ttl_ms): S3's 404 to a read is answered by the fleet
without asking S3, and a write of the key through any proxy ends it at once. Two proxies on
one cache directory in front of moto, boto3 clients: HEAD-heavy tools (Mountpoint, s3fs)
probe missing keys constantly, then create them.
"""

import os
import sys
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fleet_fixture import FleetTestCase, SharedCache  # noqa: E402

NEGATIVE_TTL_MS = 60_000
WRITES = ("put", "copy", "multipart")


class NegativeCacheTest(FleetTestCase):
    """Proxies A and B with negative caching on, for the whole class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.class_fleet = SharedCache(cls.addClassCleanup, "s3hc-negative-test-")
        cls.proxies = [
            cls.class_fleet.start_proxy(cls.origin.endpoint_url, mirror=name,
                                        cache={"negative_ttl_ms": NEGATIVE_TTL_MS})
            for name in ("a", "b")]
        cls.a = cls.origin.client(cls.proxies[0].endpoint_url)
        cls.b = cls.origin.client(cls.proxies[1].endpoint_url)

    def missing(self, call, **kwargs):
        """(error code, HTTP status, X-Cache) of a read that must fail."""
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call(**kwargs)
        response = caught.exception.response
        return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
                response["ResponseMetadata"]["HTTPHeaders"].get("x-cache"))

    def origin_reads(self, bucket, key):
        path = f"/{bucket}/{key}"
        return (self.origin.s3_request_count("GET", path)
                + self.origin.s3_request_count("HEAD", path))

    def write_through_a(self, kind, bucket, key, body):
        if kind == "put":
            self.a.put_object(Bucket=bucket, Key=key, Body=body)
        elif kind == "copy":
            self.direct.put_object(Bucket=bucket, Key=key + ".source", Body=body)
            self.a.copy_object(Bucket=bucket, Key=key,
                               CopySource={"Bucket": bucket, "Key": key + ".source"})
        else:
            upload = self.a.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            part = self.a.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1,
                                      Body=body)
            self.a.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})

    def test_a_probed_missing_key_is_seen_at_once_when_written_through_any_proxy(self):
        bucket = self.new_bucket("appears")
        rounds = 30
        for kind in WRITES:
            for n in range(rounds):
                key = f"{kind}/{n}"
                # HEADs and GETs through B: S3 is asked once for each, then B answers.
                self.assertEqual(self.missing(self.b.head_object, Bucket=bucket, Key=key),
                                 ("404", 404, "MISS"))
                self.assertEqual(self.missing(self.b.head_object, Bucket=bucket, Key=key),
                                 ("404", 404, "HIT"))
                self.assertEqual(self.missing(self.b.get_object, Bucket=bucket, Key=key),
                                 ("NoSuchKey", 404, "MISS"))
                self.assertEqual(self.missing(self.b.get_object, Bucket=bucket, Key=key),
                                 ("NoSuchKey", 404, "HIT"))
                self.assertEqual(self.origin_reads(bucket, key), 2, key)

                body = f"{kind} {n} ".encode() * 100
                self.write_through_a(kind, bucket, key, body)
                answer = self.b.get_object(Bucket=bucket, Key=key)
                self.assertEqual(answer["Body"].read(), body, f"{key} right after the write")
                self.assertEqual(self.b.head_object(Bucket=bucket, Key=key)["ContentLength"],
                                 len(body))
        self.assertGreaterEqual(self.proxies[1].metric("s3hc_cache_negative_hits_total"),
                                2 * rounds * len(WRITES))

    def test_one_proxys_404_answers_the_whole_fleet(self):
        bucket = self.new_bucket("probed")
        for client in (self.a, self.b) * 25:
            code, status, _ = self.missing(client.head_object, Bucket=bucket, Key="nothing")
            self.assertEqual((code, status), ("404", 404))
        self.assertEqual(self.origin_reads(bucket, "nothing"), 1)

    def test_a_missing_bucket_is_not_remembered(self):
        bucket = f"s3hc-never-made-{os.getpid()}"
        for _ in range(2):
            code, status, x_cache = self.missing(self.a.get_object, Bucket=bucket, Key="k")
            self.assertEqual((code, status, x_cache), ("NoSuchBucket", 404, "MISS"))
        self.assertEqual(self.origin_reads(bucket, "k"), 2)

    def test_deletes_through_the_fleet_are_answered_as_s3_does(self):
        bucket = self.new_bucket("deleted")
        self.a.put_object(Bucket=bucket, Key="k", Body=b"here")
        self.assertEqual(self.b.get_object(Bucket=bucket, Key="k")["Body"].read(), b"here")
        self.a.delete_object(Bucket=bucket, Key="k")
        self.assertEqual(self.missing(self.b.get_object, Bucket=bucket, Key="k")[:2],
                         ("NoSuchKey", 404))
        self.a.put_object(Bucket=bucket, Key="k", Body=b"back")
        self.assertEqual(self.b.get_object(Bucket=bucket, Key="k")["Body"].read(), b"back")


class NegativeTtlTest(FleetTestCase):
    """A key created straight at S3, bypassing the fleet, is seen once the TTL has passed;
    without negative_ttl_ms every 404 comes from S3."""

    def test_a_key_created_straight_at_s3_is_seen_after_the_negative_ttl(self):
        fleet = self.new_fleet()
        proxy = fleet.start_proxy(self.origin.endpoint_url, cache={"negative_ttl_ms": 1500})
        client = self.client(proxy)
        bucket = self.new_bucket("bypassed")
        with self.assertRaises(botocore.exceptions.ClientError):
            client.head_object(Bucket=bucket, Key="k")
        self.direct.put_object(Bucket=bucket, Key="k", Body=b"made at S3")
        started = time.monotonic()
        try:
            client.head_object(Bucket=bucket, Key="k")
            self.assertGreater(time.monotonic() - started, 1.5, "answered 404 within the TTL")
        except botocore.exceptions.ClientError as error:
            self.assertEqual(error.response["ResponseMetadata"]["HTTPHeaders"]["x-cache"], "HIT")
        self.wait_for(lambda: self.head_status(client, bucket) == 200, 5,
                      "the key made at S3 seen after the negative TTL")

    def test_off_by_default(self):
        fleet = self.new_fleet()
        proxy = fleet.start_proxy(self.origin.endpoint_url)
        client = self.client(proxy)
        bucket = self.new_bucket("default")
        for _ in range(3):
            self.assertEqual(self.head_status(client, bucket), 404)
        self.assertEqual(self.origin.s3_request_count("HEAD", f"/{bucket}/k"), 3)

    def head_status(self, client, bucket):
        try:
            client.head_object(Bucket=bucket, Key="k")
            return 200
        except botocore.exceptions.ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"]


if __name__ == "__main__":
    unittest.main()
