#!/usr/bin/env python3
"""The dashboard page itself (dashboard-web/, issue 14 point 5) in headless Chromium, against a
fake: a small HTTP server in this test serves dashboard-web/ at the paths the control plane
and the proxies' admin ports serve it at (/, /dashboard/app.js, /dashboard/style.css) and a
canned GET /api/dashboard. The real end-to-end check is test_dashboard_browser.py.

  - every field of a canned fleet document is shown, its data-value exactly the JSON value
    (totals, latency, each proxy, each bucket, each error), with human text (GiB, %, ms);
  - the lost proxy's row is highlighted, the up one's is not; the title says "s3hc fleet";
  - a proxy's own document: titled "s3hc proxy", no error shows "none", capacity 0 "unlimited";
  - /api/dashboard answering 500 shows the error banner; failing after a good answer keeps
    the figures, marked stale; the page never throws (no page error, no console message but
    Chromium's own note of the failed request).

Screenshots are kept in $S3HC_TEST_LOG_DIR (default build/test-logs).
Skipped, with the reason printed, where chromium, node or playwright-core is missing.
"""

import copy
import json
import os
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import dashboard_browser as browser  # noqa: E402

FLEET = {
    "scope": "fleet",
    "generated_unix_ms": 1796285058123,
    "policy_version": 7,
    "proxies": [
        {"id": "proxy-a", "version": "0.14.0", "listen": "10.0.0.1:8080", "state": "up",
         "health": "ok", "policy_version": 7, "last_seen_ms_ago": 412},
        {"id": "proxy-b", "version": "0.13.2", "listen": "10.0.0.2:8080", "state": "lost",
         "health": "unknown", "policy_version": 6, "last_seen_ms_ago": 187000},
    ],
    "totals": {"requests": 123456, "hits": 98765, "hit_ratio": 0.8000016200751686,
               "sent_bytes": 5368709120, "saved_bytes": 4294967296, "origin_bytes": 1073741824,
               "written_bytes": 52428800, "cache_size_bytes": 8589934592,
               "cache_capacity_bytes": 10737418240, "open_connections": 42,
               "requests_in_flight": 3},
    "latency_seconds": {"first_byte": {"p50": 0.0012, "p95": 0.0234, "p99": 0.15},
                        "total": {"p50": 0.0045, "p95": 0.0812, "p99": 1.25}},
    "buckets": [
        {"bucket": "logs.example", "requests": 100000, "hits": 90000, "sent_bytes": 4294967296,
         "saved_bytes": 3865470566, "origin_bytes": 429496730},
        {"bucket": "images", "requests": 23456, "hits": 8765, "sent_bytes": 1073741824,
         "saved_bytes": 429496730, "origin_bytes": 644245094},
    ],
    "errors": [
        {"metric": "s3hc_upstream_errors_total", "labels": 'kind="timeout"', "count": 12},
        {"metric": "s3hc_cache_corrupt_reads_total", "labels": "", "count": 1},
    ],
}

PROXY = {
    "scope": "proxy",
    "generated_unix_ms": 1796285060000,
    "policy_version": 0,
    "proxies": [{"id": "solo", "version": "0.14.0", "listen": "127.0.0.1:9000", "state": "up",
                 "health": "ok", "policy_version": 0, "last_seen_ms_ago": 0}],
    "totals": {"requests": 0, "hits": 0, "hit_ratio": 0, "sent_bytes": 0, "saved_bytes": 0,
               "origin_bytes": 0, "written_bytes": 0, "cache_size_bytes": 0,
               "cache_capacity_bytes": 0, "open_connections": 0, "requests_in_flight": 0},
    "latency_seconds": {"first_byte": {"p50": 0, "p95": 0, "p99": 0},
                        "total": {"p50": 0, "p95": 0, "p99": 0}},
    "buckets": [],
    "errors": [],
}

STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/dashboard/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/dashboard/style.css": ("style.css", "text/css; charset=utf-8")}


class FakeDashboardServer:
    """dashboard-web/ and a scripted /api/dashboard on 127.0.0.1: `answers` is a list of
    (status, body) given in turn, the last one repeated; status None closes the connection
    without an answer."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.api_calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/api/dashboard":
                    status, body = fake.answers[min(fake.api_calls, len(fake.answers) - 1)]
                    fake.api_calls += 1
                    if status is None:  # no answer: the connection closed
                        self.close_connection = True
                        return
                    payload = (json.dumps(body) if isinstance(body, dict) else body).encode()
                    self.reply(status, payload, "application/json")
                elif path in STATIC:
                    name, content_type = STATIC[path]
                    with open(os.path.join(browser.DASHBOARD_DIR, name), "rb") as f:
                        self.reply(200, f.read(), content_type)
                else:
                    self.reply(404, b"not found\n", "text/plain")

            def reply(self, status, payload, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def only_failed_request_notes(console_errors):
    """The console messages other than Chromium's own note of a request that failed (which
    the page cannot prevent: it is not thrown by the page)."""
    return [m for m in console_errors if "Failed to load resource" not in m]


class DashboardPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        browser.skip_unless_browser()

    def serve(self, *answers):
        server = FakeDashboardServer(answers)
        self.addCleanup(server.close)
        return server

    def load(self, server, name, **kwargs):
        page = browser.load_page(server.url, browser.screenshot_path(name), **kwargs)
        print(f"\nscreenshot: {page['screenshot']}", file=sys.stderr)
        return page

    def test_every_field_of_a_fleet_document_is_shown_exactly(self):
        server = self.serve((200, FLEET))
        page = self.load(server, "dashboard-page-fleet")
        self.assertEqual(page["console_errors"], [])
        self.assertEqual(page["failed_requests"], [])
        self.assertIsNone(page["banner"])
        self.assertEqual(page["title"], "s3hc fleet")
        self.assertEqual(browser.mismatches(page, FLEET), [])
        # Every number shown carries its raw value: no data-field without one, none unknown.
        self.assertEqual(set(page["fields"]), set(browser.expected_fields(FLEET)))
        self.assertEqual(set(page["texts"]), set(page["fields"]))

        texts = page["texts"]
        self.assertEqual(texts["totals.hit_ratio"], "80.0%")
        self.assertEqual(texts["totals.saved_bytes"], "4.00 GiB")
        self.assertEqual(texts["totals.sent_bytes"], "5.00 GiB")
        self.assertEqual(texts["totals.written_bytes"], "50.0 MiB")
        self.assertEqual(texts["totals.requests"], "123,456")
        self.assertEqual(texts["latency_seconds.first_byte.p50"], "1.20 ms")
        self.assertEqual(texts["latency_seconds.total.p99"], "1250 ms")
        self.assertEqual(texts["buckets.logs.example.origin_bytes"], "410 MiB")
        self.assertEqual(texts["errors.s3hc_upstream_errors_total{kind=\"timeout\"}.count"], "12")
        self.assertEqual(texts["proxies.proxy-b.last_seen_ms_ago"], "3 min ago")

        classes = page["classes"]
        self.assertIn("state-lost", classes["proxies.proxy-b.state"].split())
        self.assertIn("state-up", classes["proxies.proxy-a.state"].split())
        self.assertNotIn("state-lost", classes["proxies.proxy-a.state"].split())
        self.assertIn("warn-text", classes["proxies.proxy-b.policy_version"].split())

    def test_a_proxys_own_document(self):
        server = self.serve((200, PROXY))
        page = self.load(server, "dashboard-page-proxy")
        self.assertEqual(page["console_errors"], [])
        self.assertEqual(page["title"], "s3hc proxy")
        self.assertEqual(browser.mismatches(page, PROXY), [])
        self.assertEqual(page["texts"]["errors.length"], "(0)")
        self.assertEqual(page["texts"]["totals.cache_capacity_bytes"], "unlimited")
        self.assertEqual(page["texts"]["totals.hit_ratio"], "0%")

    def test_the_error_banner_when_the_api_fails(self):
        server = self.serve((500, '{"error":"boom"}'))
        page = self.load(server, "dashboard-page-api-500", wait_for="banner")
        self.assertIn("HTTP 500", page["banner"])
        self.assertNotIn("totals.requests", page["fields"])
        self.assertEqual(only_failed_request_notes(page["console_errors"]), [])
        self.assertEqual(page["title"], "s3hc")

    def test_not_json_is_an_error_too(self):
        server = self.serve((200, "<html>a login page</html>"))
        page = self.load(server, "dashboard-page-api-not-json", wait_for="banner")
        self.assertIn("not JSON", page["banner"])
        self.assertEqual(page["console_errors"], [])

    def test_a_failure_after_a_good_answer_keeps_the_figures_marked_stale(self):
        # The first poll succeeds, the next (2 s later) fails.
        server = self.serve((200, FLEET), (500, "{}"))
        page = self.load(server, "dashboard-page-stale", wait_for="banner", timeout_s=15)
        self.assertIn("HTTP 500", page["banner"])
        self.assertIn("figures shown are from", page["banner"])
        self.assertEqual(browser.mismatches(page, FLEET), [])
        self.assertEqual(only_failed_request_notes(page["console_errors"]), [])
        self.assertGreaterEqual(server.api_calls, 2)

    def test_no_answer_at_all(self):
        server = self.serve((200, FLEET), (None, None))
        page = self.load(server, "dashboard-page-no-answer", wait_for="banner", timeout_s=15)
        self.assertIn("the request failed", page["banner"])
        self.assertEqual(browser.mismatches(page, FLEET), [])
        self.assertEqual(only_failed_request_notes(page["console_errors"]), [])

    def test_it_polls_and_recovers(self):
        second = copy.deepcopy(FLEET)
        second["totals"]["requests"] = 200000
        second["proxies"][1]["state"] = "up"
        server = self.serve((500, "{}"), (200, second))
        page = self.load(server, "dashboard-page-recovered",
                         wait_for='[data-field="totals.requests"][data-value="200000"]',
                         timeout_s=15)
        self.assertIsNone(page["banner"])
        self.assertEqual(browser.mismatches(page, second), [])
        self.assertNotIn("state-lost", page["classes"]["proxies.proxy-b.state"].split())


if __name__ == "__main__":
    unittest.main()
