#!/usr/bin/env python3
"""The proxy resolves its origin's name itself, never through the hosts file.

  --resolve NAME=http://127.0.0.1:P  -> boto3 PUT/GET/HEAD through the proxy reach moto under
                                        a made-up AWS-like name (and a *.suffix entry too);
                                        DNS is never asked
  the name unknown to DNS (NXDOMAIN) -> 503 ServiceUnavailable "could not resolve", counted
                                        as s3hc_upstream_errors_total{kind="resolve"}, and
                                        no request reaches the origin
  DNS silent                         -> the same 503 after resolve_timeout_ms
  "localhost" (in /etc/hosts)        -> 503 too: the hosts file is not read

The DNS server is support/fake_dns.py: it knows no name (or answers nothing).

Run: python3 tests/integration/test_resolver.py
"""

import os
import sys
import time
import unittest
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fake_dns import FakeDnsServer  # noqa: E402
from support.fixtures import open_connection  # noqa: E402
from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import print_logs_on_failure  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

MADE_UP_NAME = "s3.test-region.amazonaws.example"
RESOLVE_TIMEOUT_MS = 500
SOCKET_TIMEOUT = 15
METRIC_SETTLE_SECONDS = 3.0  # counters may be updated just after the response is written


class ResolverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)

    def start_dns(self, silent=False):
        dns = FakeDnsServer(silent=silent).start()
        self.addCleanup(dns.stop)
        return dns

    def start_proxy(self, upstream_url, dns, resolve=()):
        """A proxy to upstream_url asking only `dns`, with --resolve entries."""
        extra_args = [arg for entry in resolve for arg in ("--resolve", entry)]
        proxy = ProxyProcess(upstream_url, extra_args=extra_args, config={"upstream": {
            "dns_servers": [dns.address], "resolve_timeout_ms": RESOLVE_TIMEOUT_MS}})
        self.addCleanup(proxy.stop)
        proxy.start()
        print_logs_on_failure(self, proxy, self.origin)
        return proxy

    def resolve_errors(self, proxy):
        return proxy.metric("s3hc_upstream_errors_total", kind="resolve")

    # ---- a mapped name ----------------------------------------------------

    def assert_round_trip(self, proxy, bucket):
        s3 = self.origin.client(proxy.endpoint_url)
        data = os.urandom(300_000)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="object.bin", Body=data)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="object.bin")["Body"].read(), data)
        self.assertEqual(s3.head_object(Bucket=bucket, Key="object.bin")["ContentLength"],
                         len(data))
        # The object is moto's: the proxy did reach it.
        direct = self.origin.client().get_object(Bucket=bucket, Key="object.bin")
        self.assertEqual(direct["Body"].read(), data)

    def test_boto3_through_a_name_mapped_by_the_resolve_flag(self):
        dns = self.start_dns()
        proxy = self.start_proxy(f"https://{MADE_UP_NAME}", dns,
                                 resolve=[f"{MADE_UP_NAME}=http://127.0.0.1:{self.origin.port}"])
        self.assert_round_trip(proxy, "mapped-name")
        self.assertEqual(dns.queries, 0, "a mapped name was looked up in DNS")
        self.assertEqual(self.resolve_errors(proxy), 0)

    def test_boto3_through_a_wildcard_entry(self):
        dns = self.start_dns()
        proxy = self.start_proxy(f"https://{MADE_UP_NAME}", dns,
                                 resolve=[f"*.amazonaws.example=http://127.0.0.1:{self.origin.port}"])
        self.assert_round_trip(proxy, "wildcard-name")
        self.assertEqual(dns.queries, 0)

    # ---- names that do not resolve -----------------------------------------

    def assert_unresolved_503(self, proxy):
        errors_before = self.resolve_errors(proxy)
        requests_before = self.origin.s3_request_count()
        conn = open_connection(self, proxy.port, SOCKET_TIMEOUT)
        started = time.monotonic()
        conn.request("GET", "/bucket/key")
        response = conn.getresponse()
        body = response.read()
        self.assertEqual(response.status, 503, body[:300])
        self.assertLess(time.monotonic() - started, RESOLVE_TIMEOUT_MS / 1000 + 5)
        self.assertEqual(response.getheader("Content-Type"), "application/xml")
        error = ElementTree.fromstring(body)
        self.assertEqual(error.findtext("Code"), "ServiceUnavailable")
        self.assertIn("resolve", error.findtext("Message"))
        self.assertEqual(error.findtext("Resource"), "/bucket/key")
        deadline = time.monotonic() + METRIC_SETTLE_SECONDS
        while self.resolve_errors(proxy) <= errors_before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.resolve_errors(proxy), errors_before + 1)
        self.assertEqual(proxy.metric("s3hc_upstream_errors_total", kind="connect"), 0)
        self.assertEqual(self.origin.s3_request_count(), requests_before)
        # The connection stays usable: a bodiless request left nothing unread.
        conn.request("GET", "/bucket/key")
        self.assertEqual(conn.getresponse().status, 503)

    def test_name_unknown_to_dns_gets_503(self):
        dns = self.start_dns()
        proxy = self.start_proxy("https://s3.nowhere.example", dns)
        self.assert_unresolved_503(proxy)
        self.assertGreater(dns.queries, 0)

    def test_silent_dns_gets_503_after_the_timeout(self):
        dns = self.start_dns(silent=True)
        proxy = self.start_proxy("https://s3.nowhere.example", dns)
        self.assert_unresolved_503(proxy)

    def test_the_hosts_file_is_not_read(self):
        with open("/etc/hosts") as hosts:
            self.assertIn("localhost", hosts.read(), "this test needs localhost in /etc/hosts")
        dns = self.start_dns()
        # Through the hosts file, localhost would reach moto.
        proxy = self.start_proxy(f"http://localhost:{self.origin.port}", dns)
        self.assert_unresolved_503(proxy)


if __name__ == "__main__":
    unittest.main()
