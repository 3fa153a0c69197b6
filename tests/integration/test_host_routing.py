#!/usr/bin/env python3
"""Routing by Host (upstream.url unset), as clients of real S3 use the proxy: they keep S3's
names (here s3.us-east-1.amazonaws.com and BUCKET.s3.us-east-1.amazonaws.com), their DNS
points those names at the proxy (support/client_dns), and the proxy forwards each request to
the endpoint its Host names, found through its own resolver (here the static endpoint map:
upstream.resolve) and never through the hosts file or the clients' DNS.

The origin is nginx routing by Host as S3 does, in front of moto with SigV4 checking: the
region's names reach moto with the Host the client signed, any other Host gets 400. So a
proxy that rewrote the Host, or sent a request to the wrong place, fails these tests.

  - boto3 path-style and virtual-hosted, and the AWS CLI: writes and reads work, and one object
    is cached once whichever style reads it (one origin GET for both);
  - Hosts naming no allowed endpoint (other names, IP addresses in any spelling) get 403
    AccessDenied without reaching anything, counted as refused;
  - an allowed name whose DNS answer points inward (the metadata service, loopback: DNS
    rebinding) gets 403 too, unless upstream.allowed_inward_networks allows that network.
"""

import http.client
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support",
                                "client_dns"))

from client_names import child_env, point_names_at  # noqa: E402
from support.fake_dns import FakeDnsServer  # noqa: E402
from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import NginxS3Endpoint, print_logs_on_failure  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

REGION_NAME = "s3.us-east-1.amazonaws.com"
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")
CLIENT_DNS = {".amazonaws.com": "127.0.0.1"}


class HostRoutingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)
        cls.endpoint = NginxS3Endpoint(cls.origin.port, [REGION_NAME, "*." + REGION_NAME])
        cls.endpoint.start()
        cls.addClassCleanup(cls.endpoint.close)
        cls.cache_dir = tempfile.TemporaryDirectory(prefix="s3hc-host-routing-")
        cls.addClassCleanup(cls.cache_dir.cleanup)
        endpoint = f"http://127.0.0.1:{cls.endpoint.port}"
        cls.proxy = ProxyProcess(None, config={
            "upstream": {"resolve": [f"{REGION_NAME}={endpoint}",
                                     f"*.{REGION_NAME}={endpoint}"]},
            "cache": {"dir": cls.cache_dir.name}})
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)
        point_names_at(CLIENT_DNS)
        # The clients' endpoint: S3's own name, on the proxy's port.
        cls.endpoint_url = f"http://{REGION_NAME}:{cls.proxy.port}"
        cls.path_style = cls.origin.client(cls.endpoint_url)
        cls.virtual = cls.origin.client(cls.endpoint_url, s3={"addressing_style": "virtual"})
        cls.direct = cls.origin.client()

    def setUp(self):
        print_logs_on_failure(self, self.proxy, self.origin, self.endpoint)

    def origin_gets(self, host, path):
        """GETs nginx passed on to moto for `path` on `host`."""
        return sum(1 for line in self.endpoint.access_log_lines()
                   if line.startswith(f'{host} "GET {path} ') and line.endswith(" 200"))

    def test_path_style_and_virtual_hosted_reach_s3_and_share_the_cached_object(self):
        self.direct.create_bucket(Bucket="routed")
        body = os.urandom(300_000)
        self.direct.put_object(Bucket="routed", Key="dir/object", Body=body)
        first = self.path_style.get_object(Bucket="routed", Key="dir/object")
        self.assertEqual(first["Body"].read(), body)
        self.assertEqual(first["ResponseMetadata"]["HTTPHeaders"]["x-cache"], "MISS")
        second = self.virtual.get_object(Bucket="routed", Key="dir/object")
        self.assertEqual(second["Body"].read(), body)
        self.assertEqual(second["ResponseMetadata"]["HTTPHeaders"]["x-cache"], "HIT")
        self.assertEqual(self.origin_gets(REGION_NAME, "/routed/dir/object"), 1)
        self.assertEqual(self.origin_gets("routed." + REGION_NAME, "/dir/object"), 0)

        # Written virtual-hosted (signed for that name, which reaches S3), read path-style:
        # the object cached on the way is the one read.
        written = os.urandom(100_000)
        self.virtual.put_object(Bucket="routed", Key="written", Body=written)
        self.assertTrue(any(line.startswith(f'routed.{REGION_NAME} "PUT /written ')
                            for line in self.endpoint.access_log_lines()))
        read = self.path_style.get_object(Bucket="routed", Key="written")
        self.assertEqual(read["Body"].read(), written)
        self.assertEqual(read["ResponseMetadata"]["HTTPHeaders"]["x-cache"], "HIT")
        self.assertEqual(self.origin_gets(REGION_NAME, "/routed/written"), 0)

    def test_the_aws_cli_with_s3s_name(self):
        self.direct.create_bucket(Bucket="cli-routed")
        source = os.path.join(self.cache_dir.name, "source.bin")
        with open(source, "wb") as f:
            f.write(os.urandom(70_000))
        env = child_env(dict(os.environ, **self.origin.credentials_env(),
                             AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1"), CLIENT_DNS)
        for args in (["s3", "cp", source, "s3://cli-routed/f.bin"],
                     ["s3", "cp", "s3://cli-routed/f.bin", source + ".back"],
                     # (--recursive: no delimiter=/, which moto's SigV4 check mishandles)
                     ["s3", "ls", "--recursive", "s3://cli-routed/"]):
            done = subprocess.run([sys.executable, AWS_CLI, "--endpoint-url", self.endpoint_url,
                                   *args], env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, f"aws {' '.join(args)}:\n{done.stderr}")
        with open(source, "rb") as a, open(source + ".back", "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_hosts_naming_no_allowed_endpoint_are_refused(self):
        refused_before = self.proxy.metric("s3hc_upstream_errors_total", kind="refused")
        log_before = len(self.endpoint.access_log_lines())
        hosts = ["169.254.169.254", "169.254.169.254:80", "2852039166", "0xa9fea9fe",
                 "[fd00:ec2::254]", "127.0.0.1", "localhost", "example.com",
                 f"{REGION_NAME}.evil.example", "metadata.google.internal"]
        for host in hosts:
            connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
            connection.request("GET", "/latest/meta-data/", headers={"Host": host})
            answer = connection.getresponse()
            body = answer.read()
            connection.close()
            self.assertEqual(answer.status, 403, host)
            self.assertIn(b"<Code>AccessDenied</Code>", body, host)
        self.assertEqual(self.proxy.metric("s3hc_upstream_errors_total", kind="refused"),
                         refused_before + len(hosts))
        self.assertEqual(len(self.endpoint.access_log_lines()), log_before, "nothing forwarded")



class InwardAnswersTest(unittest.TestCase):
    """The proxy's own DNS (a fake one) answers S3's names with inward addresses."""

    def get_status(self, allowed_networks):
        dns = FakeDnsServer(answers={"rebound.s3.amazonaws.com": "169.254.169.254",
                                     "local.s3.amazonaws.com": "127.0.0.1"}).start()
        self.addCleanup(dns.stop)
        proxy = ProxyProcess(None, config={"upstream": {
            "dns_servers": [dns.address], "connect_timeout_ms": 1000,
            "allowed_inward_networks": allowed_networks}})
        proxy.start()
        self.addCleanup(proxy.stop)
        print_logs_on_failure(self, proxy)
        statuses = {}
        for name in ("rebound.s3.amazonaws.com", "local.s3.amazonaws.com"):
            connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            connection.request("GET", "/key", headers={"Host": name})
            answer = connection.getresponse()
            statuses[name] = (answer.status, answer.read())
            connection.close()
        return statuses, proxy.metric("s3hc_upstream_errors_total", kind="refused"), dns.queries

    def test_inward_answers_are_refused_unless_their_network_is_allowed(self):
        statuses, refused, queries = self.get_status([])
        for name, (status, body) in statuses.items():
            self.assertEqual(status, 403, name)
            self.assertIn(b"<Code>AccessDenied</Code>", body, name)
        self.assertEqual(refused, 2)
        self.assertGreaterEqual(queries, 2, "the names were asked of the proxy's DNS")
        # Loopback allowed: that name is let through (nothing listens on 127.0.0.1:443, so the
        # connection fails: 503), the metadata address still refused.
        statuses, refused, _ = self.get_status(["127.0.0.0/8"])
        self.assertEqual(statuses["local.s3.amazonaws.com"][0], 503)
        self.assertEqual(statuses["rebound.s3.amazonaws.com"][0], 403)
        self.assertEqual(refused, 1)

if __name__ == "__main__":
    unittest.main()
