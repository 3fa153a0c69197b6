"""The admin port of s3hc-proxy: /health, /metrics, and 404 for anything else.

Metrics are checked by their movement: the difference before/after a known set of
requests (counts per method and status, exact byte counts of raw exchanges, the
open-connections gauge, the upstream latency histogram, upstream errors by kind).

Run: python3 tests/integration/test_admin.py
"""

import http.client
import json
import re
import socket
import time
import unittest

from support.fixtures import start_proxy
from support.nginx_origin import NginxFileOrigin, print_logs_on_failure
from support.ports import free_port

SOCKET_TIMEOUT = 10.0
METRIC_SETTLE_SECONDS = 3.0  # counters may be updated just after the response is written
OK_KEY, OK_BODY = "bucket/ok", b"a small object\n"
HISTOGRAM = "s3hc_upstream_request_duration_seconds"


def admin_get(proxy, path):
    """GET path on the admin port; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.admin_port, timeout=SOCKET_TIMEOUT)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def raw_request(method, target, headers=b"", body=b""):
    return (method.encode() + b" " + target.encode() + b" HTTP/1.1\r\nHost: s3.test\r\n" +
            headers + b"\r\n" + body)


class AdminTestCase(unittest.TestCase):
    def start_proxy(self, upstream_url):
        self.proxy = start_proxy(self, upstream_url)

    def wait_for_metric(self, expected, name, **labels):
        """Poll until the metric equals `expected` (or time runs out); returns its value."""
        deadline = time.monotonic() + METRIC_SETTLE_SECONDS
        value = self.proxy.metric(name, **labels)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.proxy.metric(name, **labels)
        return value

    def assert_metric_moves_to(self, expected, name, **labels):
        self.assertEqual(self.wait_for_metric(expected, name, **labels), expected,
                         f"{name}{labels}\n{self.proxy.metrics_text()}")

    def http_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=SOCKET_TIMEOUT)
        self.addCleanup(conn.close)
        return conn

    def send(self, conn, method, target, body=None):
        conn.request(method, target, body=body)
        resp = conn.getresponse()
        resp.read()
        return resp.status


class AdminWithOriginTest(AdminTestCase):
    def setUp(self):
        self.origin = NginxFileOrigin()
        self.addCleanup(self.origin.close)
        self.origin.start()
        self.origin.write_file(OK_KEY, OK_BODY)
        self.start_proxy(self.origin.url)
        print_logs_on_failure(self, self.origin)

    def test_health_fields(self):
        status, headers, body = admin_get(self.proxy, "/health")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("application/json"), headers)
        health = json.loads(body)
        self.assertEqual(health["status"], "ok")
        self.assertEqual(health["version"], "0.1.0")
        self.assertEqual(health["upstream"], self.origin.url)
        self.assertIsInstance(health["open_connections"], int)
        self.assertIsInstance(health["uptime_seconds"], (int, float))
        self.assertGreaterEqual(health["uptime_seconds"], 0)
        time.sleep(1.2)
        self.assertGreater(self.proxy.health()["uptime_seconds"], health["uptime_seconds"])

    def test_metrics_content_type(self):
        status, headers, body = admin_get(self.proxy, "/metrics")
        self.assertEqual(status, 200)
        content_type = headers.get("Content-Type", "")
        self.assertTrue(content_type.startswith("text/plain"), content_type)
        self.assertIn("version=0.0.4", content_type)
        for name in ["s3hc_client_received_bytes_total", "s3hc_client_sent_bytes_total",
                     "s3hc_open_connections", HISTOGRAM + "_count", HISTOGRAM + "_sum"]:
            self.assertRegex(body.decode(), rf"(?m)^{name} ", f"{name} missing")

    def test_requests_total_per_method_and_status(self):
        expected_moves = {("GET", "200"): 3, ("GET", "404"): 1, ("HEAD", "200"): 1,
                          ("PUT", "201"): 1}
        before = {key: self.proxy.metric("s3hc_requests_total", method=key[0], status=key[1])
                  for key in expected_moves}
        conn = self.http_connection()
        for _ in range(3):
            self.assertEqual(self.send(conn, "GET", "/" + OK_KEY), 200)
        self.assertEqual(self.send(conn, "GET", "/bucket/missing"), 404)
        self.assertEqual(self.send(conn, "HEAD", "/" + OK_KEY), 200)
        self.assertEqual(self.send(conn, "PUT", "/bucket/new", body=b"new object"), 201)
        for (method, status), count in expected_moves.items():
            with self.subTest(method=method, status=status):
                self.assert_metric_moves_to(before[(method, status)] + count,
                                            "s3hc_requests_total", method=method, status=status)

    def test_byte_counters_count_the_bytes_on_the_wire(self):
        received_before = self.proxy.metric("s3hc_client_received_bytes_total")
        sent_before = self.proxy.metric("s3hc_client_sent_bytes_total")
        upload = b"u" * 10000
        request_bytes = (raw_request("PUT", "/bucket/counted", b"Content-Length: %d\r\n" % len(upload),
                                     upload) +
                         raw_request("GET", "/" + OK_KEY, b"Connection: close\r\n"))
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=SOCKET_TIMEOUT) as sock:
            sock.sendall(request_bytes)
            response_bytes = b""
            while data := sock.recv(65536):  # the proxy closes after "Connection: close"
                response_bytes += data
        self.assertIn(OK_BODY, response_bytes)
        with self.subTest("received = request bytes (headers + body)"):
            self.assert_metric_moves_to(received_before + len(request_bytes),
                                        "s3hc_client_received_bytes_total")
        with self.subTest("sent = response bytes"):
            self.assert_metric_moves_to(sent_before + len(response_bytes),
                                        "s3hc_client_sent_bytes_total")

    def test_open_connections_gauge_follows_client_connections(self):
        base = self.proxy.metric("s3hc_open_connections")
        idle = self.http_connection()
        self.assertEqual(self.send(idle, "GET", "/" + OK_KEY), 200)  # now surely accepted
        self.assert_metric_moves_to(base + 1, "s3hc_open_connections")
        self.assertEqual(self.proxy.health()["open_connections"], base + 1)

        silent = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=SOCKET_TIMEOUT)
        self.addCleanup(silent.close)
        self.assert_metric_moves_to(base + 2, "s3hc_open_connections")

        idle.close()
        silent.close()
        self.assert_metric_moves_to(base, "s3hc_open_connections")

    def test_upstream_histogram_counts_forwarded_requests(self):
        count_before = self.proxy.metric(HISTOGRAM + "_count")
        sum_before = self.proxy.metric(HISTOGRAM + "_sum")
        conn = self.http_connection()
        for _ in range(4):
            self.assertEqual(self.send(conn, "GET", "/" + OK_KEY), 200)
        self.assert_metric_moves_to(count_before + 4, HISTOGRAM + "_count")
        self.assertGreater(self.proxy.metric(HISTOGRAM + "_sum"), sum_before)
        self.assert_buckets_consistent()

    def assert_buckets_consistent(self):
        """Buckets are cumulative: non-decreasing in `le`, and le="+Inf" equals _count."""
        samples = self.proxy.metrics()
        bucket_re = re.compile(re.escape(HISTOGRAM) + r'_bucket\{le="([^"]+)"\}$')
        buckets = sorted((float(m.group(1)), value) for key, value in samples.items()
                         if (m := bucket_re.match(key)))
        self.assertGreater(len(buckets), 1, "no histogram buckets")
        counts = [value for _, value in buckets]
        self.assertEqual(counts, sorted(counts), f"buckets not cumulative: {buckets}")
        self.assertEqual(buckets[-1][0], float("inf"))
        self.assertEqual(buckets[-1][1], samples[HISTOGRAM + "_count"])

    def test_unknown_admin_paths_are_404(self):
        # ("/" is the dashboard page: test_dashboard_api.py.)
        for path in ["/nope", "/health/extra", "/metricsx", "/Health", "/favicon.ico",
                     "/dashboard/", "/dashboard/nope.js", "/dashboard/../metrics",
                     "/api/dashboardx"]:
            with self.subTest(path=path):
                status, _, _ = admin_get(self.proxy, path)
                self.assertEqual(status, 404)
        self.assertEqual(admin_get(self.proxy, "/health")[0], 200)


class AdminUpstreamErrorTest(AdminTestCase):
    def test_connect_errors_are_counted(self):
        self.start_proxy(f"http://127.0.0.1:{free_port()}")  # nothing listens there
        errors_before = self.proxy.metric("s3hc_upstream_errors_total", kind="connect")
        answers_before = self.proxy.metric("s3hc_requests_total", method="GET", status="503")
        self.assertEqual(self.send(self.http_connection(), "GET", "/" + OK_KEY), 503)
        self.assertGreaterEqual(self.wait_for_metric(errors_before + 1, "s3hc_upstream_errors_total",
                                                     kind="connect"), errors_before + 1)
        self.assert_metric_moves_to(answers_before + 1, "s3hc_requests_total",
                                    method="GET", status="503")


if __name__ == "__main__":
    unittest.main()
