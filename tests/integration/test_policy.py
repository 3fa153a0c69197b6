#!/usr/bin/env python3
"""Per-bucket/prefix policy (docs/POLICY.md), through a real proxy, moto and boto3.

  read_caching: false for a bucket     -> its GETs all reach the origin (BYPASS), while
                                          another bucket's second GET is a HIT
  get_ttl_ms: 0 for a prefix           -> every GET of it is revalidated, the rest is a HIT
  write_through: false for a bucket    -> a PUT leaves nothing in the cache (first GET a MISS)
  Cache-Control no-store / no-cache    -> forwarded, nothing kept / fetched, cache refreshed;
  client_cache_control: false          -> both ignored for that bucket (HIT)
  ram_tier: false / compression: false -> hits never from memory / range files stored raw
  max_object_bytes                     -> larger objects read or written are not cached
  negative_ttl_ms for a prefix         -> its missing keys answered 404 by the proxy (HIT)
  the file changed under the proxy     -> applied within the reload interval (s3hc_policy_version)
  reloads under load                   -> every answer follows exactly one snapshot, never a mix
  an invalid change                    -> refused, counted (s3hc_policy_errors_total), the
                                          policy in force stays
  an invalid file at start-up          -> the proxy does not start (exit code 2)
  s3hc-proxy --check-policy            -> exit 0 and the rules for a valid file, 1 for not

Run: python3 tests/integration/test_policy.py
"""

import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.cache_dir import CacheDir  # noqa: E402
from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import print_logs_on_failure  # noqa: E402
from support.proxy import ProxyProcess, proxy_binary  # noqa: E402

RELOAD_MS = 200

POLICY = """
version: 1
rules:
  - {bucket: nocache, settings: {read_caching: false}}
  - {bucket: mixed, prefix: live/, settings: {get_ttl_ms: 0}}
  - {bucket: nowrite, settings: {write_through: false}}
  - {bucket: stubborn, settings: {client_cache_control: false}}
  - {bucket: noram, settings: {ram_tier: false}}
  - {bucket: raw, settings: {compression: false}}
  - {bucket: small, settings: {max_object_bytes: 1000}}
  - {bucket: probed, prefix: remembered/, settings: {negative_ttl_ms: 60000}}
"""


class PolicyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="s3hc-policy-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.policy_path = os.path.join(self.dir, "policy.yaml")
        self.write_policy(POLICY)
        self.proxy = ProxyProcess(self.origin.endpoint_url, config={"cache": {
            "dir": os.path.join(self.dir, "cache"), "get_ttl_ms": 3600000,
            "policy_file": self.policy_path, "policy_reload_ms": RELOAD_MS}})
        self.addCleanup(self.proxy.stop)
        self.proxy.start()
        print_logs_on_failure(self, self.proxy, self.origin)
        self.s3 = self.origin.client(self.proxy.endpoint_url)
        self.direct = self.origin.client()

    def write_policy(self, text):
        # Written beside and renamed into place, as an operator's tooling would: the proxy
        # never reads half a file.
        temp = self.policy_path + ".new"
        with open(temp, "w") as f:
            f.write(text)
        os.replace(temp, self.policy_path)

    def x_cache(self, bucket, key, cache_control=None):
        client = self.s3
        if cache_control:
            client = self.origin.client(self.proxy.endpoint_url)
            client.meta.events.register(
                "before-send.s3.GetObject",
                lambda request, **_: request.headers.__setitem__("Cache-Control", cache_control))
        answer = client.get_object(Bucket=bucket, Key=key)
        answer["Body"].read()
        return answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache", "<none>")

    def put_direct(self, bucket, key, body=b"policy test body"):
        self.direct.create_bucket(Bucket=bucket)
        self.direct.put_object(Bucket=bucket, Key=key, Body=body)

    def wait_for_version(self, version):
        give_up = time.monotonic() + 10
        while self.proxy.metric("s3hc_policy_version") != version:
            self.assertLess(time.monotonic(), give_up, f"policy version {version} not applied")
            time.sleep(0.05)

    def test_read_caching_off_for_a_bucket(self):
        self.put_direct("nocache", "k")
        self.put_direct("cached", "k")
        before = self.origin.s3_request_count(method="GET", path="/nocache/k")
        self.assertEqual([self.x_cache("nocache", "k") for _ in range(3)], ["BYPASS"] * 3)
        self.assertEqual(self.origin.s3_request_count(method="GET", path="/nocache/k") - before, 3)
        self.assertEqual([self.x_cache("cached", "k") for _ in range(2)], ["MISS", "HIT"])

    def test_a_prefix_with_ttl_zero_is_revalidated_every_time(self):
        self.put_direct("mixed", "live/feed")
        self.put_direct("mixed", "static/logo")
        self.assertEqual([self.x_cache("mixed", "live/feed") for _ in range(3)],
                         ["MISS", "REVALIDATED", "REVALIDATED"])
        self.assertEqual([self.x_cache("mixed", "static/logo") for _ in range(2)],
                         ["MISS", "HIT"])

    def test_write_through_off_for_a_bucket(self):
        self.direct.create_bucket(Bucket="nowrite")
        self.direct.create_bucket(Bucket="written")
        self.s3.put_object(Bucket="nowrite", Key="k", Body=b"not cached")
        self.s3.put_object(Bucket="written", Key="k", Body=b"cached as it passed")
        self.assertEqual(self.x_cache("nowrite", "k"), "MISS")
        self.assertEqual(self.x_cache("written", "k"), "HIT")

    def test_client_cache_control_is_honoured_unless_the_policy_says_not(self):
        self.put_direct("honoured", "k")
        self.put_direct("stubborn", "k")
        # no-store: forwarded, nothing kept; no-cache: fetched, the cache refreshed.
        self.assertEqual(self.x_cache("honoured", "k", "no-store"), "BYPASS")
        self.assertEqual(self.x_cache("honoured", "k", "no-cache"), "BYPASS")
        self.assertEqual(self.x_cache("honoured", "k"), "HIT")
        self.assertEqual(self.x_cache("stubborn", "k"), "MISS")
        self.assertEqual(self.x_cache("stubborn", "k", "no-cache"), "HIT")
        self.assertEqual(self.x_cache("stubborn", "k", "no-store"), "HIT")

    def test_ram_tier_off_for_a_bucket(self):
        self.put_direct("noram", "k")
        self.put_direct("ram", "k")
        before = self.proxy.metric("s3hc_cache_ram_hits_total")
        self.assertEqual([self.x_cache("noram", "k") for _ in range(3)], ["MISS", "HIT", "HIT"])
        self.assertEqual(self.proxy.metric("s3hc_cache_ram_hits_total"), before)
        self.assertEqual([self.x_cache("ram", "k") for _ in range(3)], ["MISS", "HIT", "HIT"])
        self.assertGreater(self.proxy.metric("s3hc_cache_ram_hits_total"), before)

    def test_compression_off_for_a_bucket(self):
        text = b"the same line of text, again and again\n" * 20000  # 780 KB, LZ4 loves it
        stored = {}
        for bucket in ("raw", "packed"):
            self.direct.create_bucket(Bucket=bucket)
            self.s3.put_object(Bucket=bucket, Key="k", Body=text, ContentType="text/plain")
            cached = CacheDir(os.path.join(self.dir, "cache")).find(bucket, "k")
            stored[bucket] = sum(os.path.getsize(p) for p in cached.range_paths())
            self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["Body"].read(), text)
        self.assertGreater(stored["raw"], len(text))  # the bytes plus headers and an index
        self.assertLess(stored["packed"], len(text) // 10)

    def test_objects_above_the_size_limit_are_not_cached(self):
        self.put_direct("small", "big", b"b" * 2000)
        self.put_direct("small", "little", b"l" * 500)
        self.assertEqual([self.x_cache("small", "big") for _ in range(2)], ["MISS", "MISS"])
        self.assertEqual([self.x_cache("small", "little") for _ in range(2)], ["MISS", "HIT"])
        self.direct.create_bucket(Bucket="small")
        self.s3.put_object(Bucket="small", Key="written", Body=b"w" * 2000)
        self.assertEqual(self.x_cache("small", "written"), "MISS")

    def test_missing_keys_of_a_prefix_with_a_negative_ttl_are_answered_by_the_proxy(self):
        self.direct.create_bucket(Bucket="probed")
        for key, expected in (("remembered/k", ["MISS", "HIT", "HIT"]),
                              ("other/k", ["MISS", "MISS", "MISS"])):
            x_caches = []
            for _ in range(3):
                with self.assertRaises(self.s3.exceptions.NoSuchKey) as caught:
                    self.s3.get_object(Bucket="probed", Key=key)
                x_caches.append(caught.exception.response["ResponseMetadata"]["HTTPHeaders"]
                                .get("x-cache"))
            self.assertEqual(x_caches, expected, key)
        self.assertEqual(self.origin.s3_request_count("GET", "/probed/remembered/k"), 1)

    def test_under_load_every_answer_follows_exactly_one_snapshot(self):
        # Odd versions turn read caching off for the bucket, even ones turn off honouring the
        # client's Cache-Control. A client asking no-store is answered BYPASS "policy" under an
        # odd one and from the cache (no-store ignored) under an even one; only a mix of the
        # two (caching on, Cache-Control honoured) could answer BYPASS "no-store".
        self.put_direct("flip", "k")
        client = self.origin.client(self.proxy.endpoint_url)
        client.meta.events.register(
            "before-send.s3.GetObject",
            lambda request, **_: request.headers.__setitem__("Cache-Control", "no-store"))
        versions = {1: "read_caching: false", 0: "client_cache_control: false"}

        def policy(version):
            return (f"version: {version}\nrules:\n"
                    f"  - {{bucket: flip, settings: {{{versions[version % 2]}}}}}\n")

        self.write_policy(policy(2))
        self.wait_for_version(2)  # (the set-up's policy has no rule for the bucket)
        stop = time.monotonic() + 4
        seen = {}

        def read():
            while time.monotonic() < stop:
                answer = client.get_object(Bucket="flip", Key="k")
                answer["Body"].read()
                status = answer["ResponseMetadata"]["HTTPHeaders"].get("cache-status", "")
                detail = status.split("detail=")[-1] if "detail=" in status else "-"
                seen[detail] = seen.get(detail, 0) + 1

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            readers = [pool.submit(read) for _ in range(4)]
            version = 3
            while time.monotonic() < stop:
                self.write_policy(policy(version))
                version += 1
                time.sleep(0.03)
            for reader in readers:
                reader.result()
        self.assertNotIn('"no-store"', seen, f"answers that mixed two snapshots: {seen}")
        self.assertGreater(seen.get('"policy"', 0), 0, seen)  # odd versions were in force
        self.assertGreater(seen.get("-", 0), 0, seen)  # and even ones
        self.assertGreater(self.proxy.metric("s3hc_policy_version"), 10)

    def test_a_changed_file_is_applied_and_an_invalid_one_refused(self):
        self.assertEqual(self.proxy.metric("s3hc_policy_version"), 1)
        self.put_direct("nocache", "k")
        self.assertEqual(self.x_cache("nocache", "k"), "BYPASS")

        self.write_policy("version: 2\nrules: []\n")
        self.wait_for_version(2)
        self.assertEqual([self.x_cache("nocache", "k") for _ in range(2)], ["MISS", "HIT"])

        self.write_policy("version: 3\nrules: [{bucket: nocache, settings: {read_cachng: no}}]\n")
        give_up = time.monotonic() + 10
        while self.proxy.metric("s3hc_policy_errors_total") < 1:
            self.assertLess(time.monotonic(), give_up, "the invalid file was not noticed")
            time.sleep(0.05)
        self.assertEqual(self.proxy.metric("s3hc_policy_version"), 2)  # still in force
        self.assertEqual(self.x_cache("nocache", "k"), "HIT")
        self.assertIn("read_cachng: unknown key", self.proxy.log_text())


class PolicyStartAndCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="s3hc-policy-check-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def policy_file(self, text):
        path = os.path.join(self.dir, "policy.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_an_invalid_file_stops_the_proxy_at_start_up(self):
        path = self.policy_file("rules: [{bucket: b, prefix: p, glob: g}]\n")
        run = subprocess.run([proxy_binary(), "--cache-dir", os.path.join(self.dir, "cache"),
                              "--policy", path, "--listen", "127.0.0.1:0",
                              "--admin-listen", "127.0.0.1:0"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("rules[0]: a prefix or a glob, not both", run.stderr)

    def test_check_policy(self):
        good = self.policy_file(POLICY)
        run = subprocess.run([proxy_binary(), "--check-policy", good],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("valid, version 1, 8 rule(s)", run.stdout)
        self.assertIn("bucket mixed, keys starting \"live/\": get_ttl_ms=0", run.stdout)
        bad = self.policy_file("rules: 7\n")
        run = subprocess.run([proxy_binary(), "--check-policy", bad],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 1)
        self.assertIn("rules: expected a list", run.stderr)


if __name__ == "__main__":
    unittest.main()
