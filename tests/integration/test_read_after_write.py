#!/usr/bin/env python3
"""Read-after-write across the fleet: two proxies on one cache directory in front of moto,
boto3 clients. Every round makes an object hot on proxy B (RAM tier and local mirror), writes
it through proxy A (overwrite, DeleteObject, DeleteObjects, CopyObject onto the key, multipart
completion) and reads it through B at once.

  - strict mode (cache.max_staleness_ms 0, the default): no stale answer, ever;
  - bounded mode (max_staleness_ms 400): stale answers happen, and every one is younger than
    the bound (the age of each, from A's answer to the stale read's request, is measured);
  - a fill of the old version asked of S3 before a write, still running when the fleet drops
    the write's record (active expiry), is not kept (fault_origin.py slows it down).

S3HC_RAW_ROUNDS sets the strict rounds per kind of write (default 200).
"""

import os
import sys
import threading
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.cache_dir import CacheDir  # noqa: E402
from support.fleet_fixture import FaultyOriginTestCase, FleetTestCase, SharedCache  # noqa: E402

GONE = b"<no such key>"
WRITES = ("overwrite", "delete", "delete_objects", "copy", "multipart")


def version_bytes(kind, round_number, tag):
    # Small (the RAM tier keeps it) and different for every write.
    return f"{kind}:{round_number}:{tag}:".encode() * 64


class ReadAfterWriteCase(FleetTestCase):
    """moto (the fixture's) and proxies A and B on one cache directory, each with its own
    local mirror, for the whole class."""

    MAX_STALENESS_MS = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.class_fleet = SharedCache(cls.addClassCleanup, "s3hc-raw-test-")
        cls.proxies = [
            cls.class_fleet.start_proxy(cls.origin.endpoint_url, mirror=name,
                                        cache={"max_staleness_ms": cls.MAX_STALENESS_MS})
            for name in ("a", "b")]
        cls.a = cls.origin.client(cls.proxies[0].endpoint_url)
        cls.b = cls.origin.client(cls.proxies[1].endpoint_url)
        cls.bucket = f"s3hc-raw-{cls.MAX_STALENESS_MS}-{os.getpid()}"
        cls.direct.create_bucket(Bucket=cls.bucket)

    def read(self, client, key):
        """(body or GONE, X-Cache) of a GET."""
        try:
            answer = client.get_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey":
                raise
            return GONE, error.response["ResponseMetadata"]["HTTPHeaders"].get("x-cache")
        return answer["Body"].read(), answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache")

    def make_hot_on_b(self, key, expected):
        """B reads the object until it is served from its RAM tier (in bounded mode, once
        B sees the version A wrote last)."""
        deadline = time.monotonic() + 5
        while self.read(self.b, key)[0] != expected:
            self.assertLess(time.monotonic(), deadline, f"B never saw the old version of {key}")
            time.sleep(0.02)
        ram_hits = self.proxies[1].metric("s3hc_cache_ram_hits_total")
        for _ in range(2):
            body, _ = self.read(self.b, key)
            self.assertEqual(body, expected, f"B before the write, {key}")
        self.assertGreater(self.proxies[1].metric("s3hc_cache_ram_hits_total"), ram_hits,
                           f"{key} is not hot in B's RAM tier")

    def write_through_a(self, kind, key, round_number):
        """Writes `key` through A the `kind` way; returns what a read must give now."""
        new = version_bytes(kind, round_number, "new")
        if kind == "overwrite":
            self.a.put_object(Bucket=self.bucket, Key=key, Body=new)
        elif kind == "delete":
            self.a.delete_object(Bucket=self.bucket, Key=key)
            return GONE
        elif kind == "delete_objects":
            answer = self.a.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": [{"Key": key}], "Quiet": True})
            self.assertFalse(answer.get("Errors"), answer)
            return GONE
        elif kind == "copy":
            source = key + ".source"
            self.direct.put_object(Bucket=self.bucket, Key=source, Body=new)
            self.a.copy_object(Bucket=self.bucket, Key=key,
                               CopySource={"Bucket": self.bucket, "Key": source})
        else:
            upload = self.a.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            part = self.a.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                      PartNumber=1, Body=new)
            self.a.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        return new

    def old_version(self, kind, key, round_number):
        """Puts the version B will hold hot (through A, as a fleet's writer would)."""
        old = version_bytes(kind, round_number, "old")
        self.a.put_object(Bucket=self.bucket, Key=key, Body=old)
        return old


class StrictTest(ReadAfterWriteCase):
    ROUNDS = int(os.environ.get("S3HC_RAW_ROUNDS", "200"))

    def test_every_write_through_a_is_seen_at_once_through_b(self):
        stale = {kind: 0 for kind in WRITES}
        started = time.monotonic()
        for kind in WRITES:
            key = f"strict/{kind}"
            for round_number in range(self.ROUNDS):
                old = self.old_version(kind, key, round_number)
                self.make_hot_on_b(key, old)
                expected = self.write_through_a(kind, key, round_number)
                body, x_cache = self.read(self.b, key)
                if body != expected:
                    stale[kind] += 1
                    print(f"stale: {kind} round {round_number}: X-Cache {x_cache}, "
                          f"got {body[:24]!r}, expected {expected[:24]!r}", flush=True)
        print(f"strict: {self.ROUNDS} rounds x {len(WRITES)} kinds of write in "
              f"{time.monotonic() - started:.1f} s; stale answers {stale}", flush=True)
        self.assertEqual(stale, {kind: 0 for kind in WRITES})
        # The rounds were served from B's memory until the writes, not from the origin.
        self.assertGreater(self.proxies[1].metric("s3hc_cache_ram_hits_total"),
                           self.ROUNDS * len(WRITES))


class BoundedTest(ReadAfterWriteCase):
    MAX_STALENESS_MS = 400
    ROUNDS = 12

    def test_stale_answers_are_younger_than_the_bound(self):
        ages = []
        for kind in ("overwrite", "delete"):
            key = f"bounded/{kind}"
            for round_number in range(self.ROUNDS):
                old = self.old_version(kind, key, round_number)
                self.make_hot_on_b(key, old)
                expected = self.write_through_a(kind, key, round_number)
                answered = time.monotonic()
                while True:
                    sent = time.monotonic()
                    body, _ = self.read(self.b, key)
                    if body == expected:
                        break
                    self.assertEqual(body, old, "neither the old nor the new version")
                    ages.append((sent - answered) * 1000)
                    self.assertLess(sent - answered, 5, "stale for far longer than the bound")
                    time.sleep(0.02)
        print(f"bounded {self.MAX_STALENESS_MS} ms: {len(ages)} stale answers over "
              f"{2 * self.ROUNDS} writes, oldest {max(ages, default=0):.0f} ms", flush=True)
        self.assertTrue(ages, "no stale answer at all: is the bound in force?")
        self.assertLess(max(ages), self.MAX_STALENESS_MS)


class DroppedWriteTest(FaultyOriginTestCase):
    """The fleet may drop a written object's record (eviction; active expiry here, which takes
    the same path) while a fill asked of S3 before the write was answered is still running:
    that fill carries the replaced version and must not become what the cache serves."""

    def test_a_fill_older_than_a_dropped_write_is_not_kept(self):
        fleet = self.new_fleet()
        # The written record expires at once and the lease holder drops it at its next round.
        cache = {"put_ttl_ms": 1, "expiry": "active", "protect_ms": 0,
                 "maintenance_interval_ms": 500, "lease_ms": 2000}
        a = fleet.start_proxy(self.faulty.url, cache=cache, mirror="a")
        b = fleet.start_proxy(self.faulty.url, cache=cache, mirror="b")
        bucket = self.new_bucket("dropped-write")
        key = "object"
        old, new = b"o" * (256 * 1024), b"n" * (256 * 1024)
        self.direct.put_object(Bucket=bucket, Key=key, Body=old)

        # A's miss: S3 sends 64 KiB of the old version, then the rest slowly, until cleared.
        self.faulty.fault(bucket, key, "slow", 64 * 1024, rate=8 * 1024)
        read_through_a = {}
        reader = threading.Thread(target=lambda: read_through_a.update(
            body=self.client(a).get_object(Bucket=bucket, Key=key)["Body"].read()))
        reader.start()
        self.addCleanup(reader.join)
        self.addCleanup(self.faulty.clear_faults)
        self.wait_for(lambda: a.metric("s3hc_cache_fills_in_flight") >= 1, 10, "A's fill")

        # B writes the new version: recorded, then dropped whole by the holder.
        self.client(b).put_object(Bucket=bucket, Key=key, Body=new)
        cache_dir = CacheDir(fleet.cache_path)
        written = cache_dir.find(bucket, key)
        self.assertTrue(written and not written.tombstone, "the write was not recorded")
        self.wait_for(lambda: cache_dir.find(bucket, key) is None, 10,
                      "the written record dropped")

        # A's fill ends now; its bytes are the old version, asked of S3 before the write.
        self.faulty.clear_faults()
        reader.join(30)
        self.assertEqual(read_through_a.get("body"), old)
        self.wait_for(lambda: a.metric("s3hc_cache_fills_in_flight") == 0, 10,
                      "A's fill to end")
        self.assertEqual(a.metric("s3hc_cache_fills_total", result="superseded"), 1)
        for proxy in (b, a):
            body = self.client(proxy).get_object(Bucket=bucket, Key=key)["Body"].read()
            self.assertEqual(body, new, f"{proxy.endpoint_url} served the version the write "
                             "replaced")


if __name__ == "__main__":
    unittest.main(verbosity=2)
