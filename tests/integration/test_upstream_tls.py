"""s3hc-proxy talks HTTPS to its upstream and verifies the upstream's certificate.

A throwaway CA (made with the openssl CLI, EC P-256: fast) signs two server
certificates: one for "localhost" (SAN DNS:localhost, IP:127.0.0.1) and one for
"other.example" only. nginx serves files over HTTPS with one of them; the proxy
points at it with different upstream TLS settings:

  trusted CA, matching name       -> bytes arrive intact (GET, ranged GET, 5 MiB PUT),
                                     the TLS connection to the origin is reused
  system trust store (no ca_file) -> 503 ServiceUnavailable, connect error counted
  name not in the certificate     -> 503 (both for a DNS name and for an IP address)
  verify_tls: false               -> 200 even with an untrusted, wrong-name certificate

nginx's HTTPS port answers plain HTTP with 400, so every 200 here also proves that
the proxy spoke TLS.

Run: python3 tests/integration/test_upstream_tls.py
"""

import http.client
import os
import unittest
import xml.etree.ElementTree as ElementTree

from support.nginx_origin import NginxFileOrigin, print_logs_on_failure
from support.proxy import ProxyProcess
from support.throwaway_pki import TestPki

MiB = 1024 * 1024
OBJECT_KEY = "bucket/object.bin"
OBJECT_SIZE = MiB + 12345  # not a multiple of any buffer size
PUT_SIZE = 5 * MiB
RANGE_FIRST, RANGE_LAST = 1000, 70999
REUSE_REQUESTS = 4
SOCKET_TIMEOUT = 15  # seconds per socket operation: a stall fails the test, never hangs it


# ---- tests --------------------------------------------------------------------

class UpstreamTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One PKI for all tests: the certificates are only read.
        cls.pki = TestPki()
        cls.addClassCleanup(cls.pki.remove)
        cls.localhost_cert = cls.pki.issue("localhost", "DNS:localhost,IP:127.0.0.1")
        cls.other_cert = cls.pki.issue("other.example", "DNS:other.example")

    # ---- setup helpers ----------------------------------------------------

    def start_origin(self, cert):
        """nginx serving HTTPS with cert=(cert_path, key_path), holding OBJECT_KEY."""
        origin = NginxFileOrigin(tls=cert)
        self.addCleanup(origin.close)
        origin.start()
        self.object_data = os.urandom(OBJECT_SIZE)
        origin.write_file(OBJECT_KEY, self.object_data)
        return origin

    def start_proxy(self, origin, host, **upstream_tls):
        """Proxy to https://host:origin.port with upstream options upstream_tls
        (verify_tls, ca_file). A name reaches 127.0.0.1 through the static endpoint map:
        the proxy does not read the hosts file."""
        resolve = [] if host == "127.0.0.1" else ["--resolve", f"{host}=127.0.0.1:{origin.port}"]
        proxy = ProxyProcess(f"https://{host}:{origin.port}", config={"upstream": upstream_tls},
                             extra_args=resolve)
        self.addCleanup(proxy.stop)
        proxy.start()
        # After the stop/close cleanups: those run first (LIFO), logs are still there.
        print_logs_on_failure(self, proxy, origin)
        return proxy

    def connect(self, proxy):
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=SOCKET_TIMEOUT)
        self.addCleanup(conn.close)
        return conn

    def request(self, proxy, method, path, body=None, headers=None, conn=None):
        """One request through the proxy; returns (response, body bytes)."""
        conn = conn or self.connect(proxy)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()

    def connect_errors(self, proxy):
        return proxy.metric("s3hc_upstream_errors_total", kind="connect")

    # ---- assertions -------------------------------------------------------

    def assert_object_served(self, proxy):
        response, body = self.request(proxy, "GET", "/" + OBJECT_KEY)
        self.assertEqual(response.status, 200, body[:300])
        self.assertEqual(len(body), OBJECT_SIZE)
        # assertTrue, not assertEqual, here and below: a diff of random MiBs helps nobody.
        self.assertTrue(body == self.object_data, "GET body differs from the origin's file")

    def assert_refused_with_503(self, proxy, origin):
        """The TLS handshake fails: the client gets S3's ServiceUnavailable, the failure
        counts as a connect error and no request reaches the origin."""
        errors_before = self.connect_errors(proxy)

        response, body = self.request(proxy, "GET", "/" + OBJECT_KEY)

        self.assertEqual(response.status, 503, body[:300])
        self.assertEqual(response.getheader("Content-Type"), "application/xml")
        self.assertTrue(response.getheader("x-amz-request-id"))
        error = ElementTree.fromstring(body)
        self.assertEqual(error.findtext("Code"), "ServiceUnavailable")
        self.assertEqual(error.findtext("Resource"), "/" + OBJECT_KEY)
        self.assertGreater(self.connect_errors(proxy), errors_before)
        self.assertEqual(origin.access_log_lines(), [],
                         "a request reached the origin although its certificate is not trusted")

    # ---- trusted CA, matching name ---------------------------------------

    def test_get_and_ranged_get_over_verified_tls(self):
        origin = self.start_origin(self.localhost_cert)
        proxy = self.start_proxy(origin, "localhost", ca_file=self.pki.ca_cert)

        self.assert_object_served(proxy)

        response, body = self.request(proxy, "GET", "/" + OBJECT_KEY,
                                      headers={"Range": f"bytes={RANGE_FIRST}-{RANGE_LAST}"})
        self.assertEqual(response.status, 206, body[:300])
        self.assertEqual(response.getheader("Content-Range"),
                         f"bytes {RANGE_FIRST}-{RANGE_LAST}/{OBJECT_SIZE}")
        self.assertTrue(body == self.object_data[RANGE_FIRST:RANGE_LAST + 1],
                        "ranged GET body is not the requested slice")

    def test_5mib_put_stored_intact_over_verified_tls(self):
        origin = self.start_origin(self.localhost_cert)
        proxy = self.start_proxy(origin, "localhost", ca_file=self.pki.ca_cert)
        data = os.urandom(PUT_SIZE)

        response, body = self.request(proxy, "PUT", "/bucket/uploaded.bin", body=data)

        self.assertEqual(response.status, 201, body[:300])  # nginx: Created
        with open(origin.path_of("bucket/uploaded.bin"), "rb") as f:
            self.assertTrue(f.read() == data, "file stored by the origin differs from PUT body")

    def test_tls_connection_to_origin_is_reused(self):
        origin = self.start_origin(self.localhost_cert)
        proxy = self.start_proxy(origin, "localhost", ca_file=self.pki.ca_cert)
        reused_before = proxy.metric("s3hc_upstream_connections_total", result="reused")
        new_before = proxy.metric("s3hc_upstream_connections_total", result="new")

        conn = self.connect(proxy)  # one client connection: one proxy thread, one pool
        for _ in range(REUSE_REQUESTS):
            response, body = self.request(proxy, "GET", "/" + OBJECT_KEY, conn=conn)
            self.assertEqual(response.status, 200, body[:300])
            self.assertEqual(len(body), OBJECT_SIZE)

        reused = proxy.metric("s3hc_upstream_connections_total", result="reused") - reused_before
        new = proxy.metric("s3hc_upstream_connections_total", result="new") - new_before
        self.assertEqual(new, 1, "each request made its own TLS connection (handshake)")
        self.assertEqual(reused, REUSE_REQUESTS - 1)

    def test_ip_address_upstream_matches_ip_san(self):
        # Counterpart of test_ip_address_not_in_certificate_is_refused: the IP check
        # itself works, so that 503 is about the name.
        origin = self.start_origin(self.localhost_cert)
        proxy = self.start_proxy(origin, "127.0.0.1", ca_file=self.pki.ca_cert)
        self.assert_object_served(proxy)

    # ---- verification failures -------------------------------------------

    def test_system_store_does_not_trust_private_ca(self):
        origin = self.start_origin(self.localhost_cert)
        proxy = self.start_proxy(origin, "localhost", verify_tls=True)  # no ca_file
        self.assert_refused_with_503(proxy, origin)

    def test_dns_name_not_in_certificate_is_refused(self):
        # Trusted CA, but the certificate is for other.example only.
        origin = self.start_origin(self.other_cert)
        proxy = self.start_proxy(origin, "localhost", ca_file=self.pki.ca_cert)
        self.assert_refused_with_503(proxy, origin)

    def test_ip_address_not_in_certificate_is_refused(self):
        origin = self.start_origin(self.other_cert)
        proxy = self.start_proxy(origin, "127.0.0.1", ca_file=self.pki.ca_cert)
        self.assert_refused_with_503(proxy, origin)

    # ---- verification off --------------------------------------------------

    def test_verify_tls_false_accepts_untrusted_wrong_name_certificate(self):
        # Test origins only: neither the CA nor the name would pass verification.
        origin = self.start_origin(self.other_cert)
        proxy = self.start_proxy(origin, "localhost", verify_tls=False)
        errors_before = self.connect_errors(proxy)

        self.assert_object_served(proxy)
        self.assertEqual(self.connect_errors(proxy), errors_before)


if __name__ == "__main__":
    unittest.main()
