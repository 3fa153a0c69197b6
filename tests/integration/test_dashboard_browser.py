#!/usr/bin/env python3
"""The dashboard end to end (issue 14, point 5 and the browser part of point 6): a control
plane (its read-only HTTP endpoint on --http-listen) and two proxies on one cache directory in
front of moto; after some traffic, the page in headless Chromium shows the numbers that
/metrics of the same process shows.

  - the fleet's page (the control plane's /): titled "s3hc fleet", both proxies up on the
    policy version in force, and every number (totals, hit ratio, latency percentiles, each
    bucket's row, errors) is the one the control plane's /metrics gives, which is the sum of
    the proxies' own /metrics; no console error, no error banner;
  - one proxy's page (its admin port's /): titled "s3hc proxy", its own /metrics' numbers;
  - a proxy stopped is shown lost, its row highlighted, as s3hc_control_proxies counts it.

Screenshots are kept in $S3HC_TEST_LOG_DIR (default build/test-logs). Skipped, with the reason
printed, where chromium, node or playwright-core is missing, or while the control plane
answers GET /api/dashboard with 404 (a build without the dashboard).
"""

import json
import os
import re
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import dashboard_browser as browser  # noqa: E402
from support.control_plane import ControlPlane, wait_until  # noqa: E402
from support.fleet_fixture import FleetTestCase  # noqa: E402
from support.proxy import parse_metrics  # noqa: E402

# Answers from the cache: their bytes count as saved (obs/dashboard.cpp, `s3hc-ctl stats`).
FROM_CACHE = {"HIT", "REVALIDATED", "COALESCED"}
# The families whose nonzero series the dashboard lists as errors (5xx only of requests).
ERROR_FAMILIES = ("s3hc_upstream_errors_total", "s3hc_requests_rejected_total",
                  "s3hc_requests_total", "s3hc_cache_corrupt_reads_total",
                  "s3hc_policy_errors_total")
_SERIES = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def http_get(url, timeout=5):
    """(status, body text); (None, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as error:
        return None, str(error)


def series(samples, name):
    """[(labels, value)] of the family `name` in parse_metrics()'s {series_key: value}."""
    found = []
    for key, value in samples.items():
        match = _SERIES.match(key)
        if match and match.group(1) == name:
            found.append((dict(_LABEL.findall(match.group(2) or "")), value))
    return found


def total(samples, name):
    return sum(value for _, value in series(samples, name))


def histogram_quantile(q, bounds, counts):
    """As obs::histogram_quantile (Prometheus' histogram_quantile): `counts` cumulative, one
    per bound then +Inf."""
    if not counts or counts[-1] == 0:
        return 0.0
    rank = q * counts[-1]
    i = next(i for i, count in enumerate(counts) if count >= rank)
    if i >= len(bounds):
        return bounds[-1] if bounds else 0.0
    lower = bounds[i - 1] if i else 0.0
    below = counts[i - 1] if i else 0.0
    in_bucket = counts[i] - below
    return lower if in_bucket == 0 else lower + (bounds[i] - lower) * (rank - below) / in_bucket


def percentiles(samples, name):
    """p50, p95, p99 of every series of the histogram `name` merged bucket by bucket."""
    by_bound = {}
    for labels, value in series(samples, name + "_bucket"):
        bound = float(labels["le"])  # "+Inf" -> inf
        by_bound[bound] = by_bound.get(bound, 0.0) + value
    bounds = sorted(b for b in by_bound if b != float("inf"))
    counts = [by_bound[b] for b in bounds] + [by_bound.get(float("inf"), 0.0)] if by_bound else []
    return {q: histogram_quantile(p, bounds, counts)
            for q, p in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))}


def numbers_from_metrics(samples):
    """The dashboard's numeric data-fields as /metrics `samples` give them: {field: value}."""
    fields = {}
    hits = cache_reads = 0.0
    buckets = {}
    for labels, value in series(samples, "s3hc_bucket_requests_total"):
        row = buckets.setdefault(labels.get("bucket", ""), dict.fromkeys(
            ("requests", "hits", "sent_bytes", "saved_bytes", "origin_bytes"), 0.0))
        status = labels.get("cache_status", "")
        row["requests"] += value
        if status in FROM_CACHE:
            row["hits"] += value
        if status != "none":
            cache_reads += value
            if status in FROM_CACHE:
                hits += value
    for key, family in (("sent_bytes", "s3hc_bucket_sent_bytes_total"),
                        ("saved_bytes", "s3hc_bucket_saved_bytes_total"),
                        ("origin_bytes", "s3hc_bucket_origin_bytes_total")):
        for labels, value in series(samples, family):
            buckets.setdefault(labels.get("bucket", ""), dict.fromkeys(
                ("requests", "hits", "sent_bytes", "saved_bytes", "origin_bytes"), 0.0))
            buckets[labels.get("bucket", "")][key] += value
    for bucket, row in buckets.items():
        for key, value in row.items():
            fields[f"buckets.{bucket}.{key}"] = value
    fields["buckets.length"] = len(buckets)
    fields.update({
        "totals.requests": total(samples, "s3hc_requests_total"),
        "totals.hits": hits,
        "totals.hit_ratio": hits / cache_reads if cache_reads else 0.0,
        "totals.sent_bytes": total(samples, "s3hc_client_sent_bytes_total"),
        "totals.saved_bytes": total(samples, "s3hc_bucket_saved_bytes_total"),
        "totals.origin_bytes": total(samples, "s3hc_bucket_origin_bytes_total"),
        "totals.written_bytes": total(samples, "s3hc_bucket_written_bytes_total"),
        "totals.cache_size_bytes": total(samples, "s3hc_cache_size_bytes"),
        "totals.cache_capacity_bytes": total(samples, "s3hc_cache_effective_capacity_bytes"),
        "totals.open_connections": total(samples, "s3hc_open_connections"),
        "totals.requests_in_flight": total(samples, "s3hc_requests_in_flight"),
    })
    for kind, family in (("first_byte", "s3hc_request_first_byte_seconds"),
                         ("total", "s3hc_request_seconds")):
        for q, value in percentiles(samples, family).items():
            fields[f"latency_seconds.{kind}.{q}"] = value
    errors = 0
    for family in ERROR_FAMILIES:
        for labels, value in series(samples, family):
            if value and (family != "s3hc_requests_total" or labels.get("status", "").startswith("5")):
                errors += 1
    fields["errors.length"] = errors
    return fields


def close_enough(shown, expected):
    """A data-value string against a number from /metrics: exact for counts, to 1e-9 relative
    for ratios and seconds (both printed as decimals)."""
    try:
        value = float(shown)
    except (TypeError, ValueError):
        return False
    return abs(value - expected) <= 1e-9 * max(1.0, abs(expected))


class DashboardBrowserTest(FleetTestCase):
    @classmethod
    def setUpClass(cls):
        browser.skip_unless_browser()
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.control = ControlPlane(heartbeat_ms=1000)  # lost after 3 s of silence
        self.addCleanup(self.control.close)
        self.control.start()
        status, body = http_get(f"{self.control.http_url}/api/dashboard")
        if status != 200:  # 404: a build without the dashboard
            reason = f"GET /api/dashboard on the control plane answered {status}: {body[:200]}"
            print(f"dashboard browser test skipped: {reason}", file=sys.stderr)
            self.skipTest(reason)
        self.fleet = self.new_fleet("s3hc-dashboard-fleet-")
        self.proxies = {name: self.start_proxy(name) for name in ("a", "b")}

    def log_sources(self):
        return super().log_sources() + [self.control]

    def start_proxy(self, name):
        # A set capacity: else it follows the file system's free space, which other processes
        # change between two readings.
        return self.fleet.start_proxy(self.origin.endpoint_url, cache={"max_size": "1GiB"}, config={
            "observability": {"instance_id": f"proxy-{name}"},
            "control": {"endpoint": self.control.address,
                        "policy_file": os.path.join(self.fleet.parent, f"policy-{name}.json")}})

    # ---- helpers ----------------------------------------------------------

    def get_json(self, url):
        status, body = http_get(url)
        self.assertEqual(status, 200, f"GET {url}: {body[:500]}")
        return json.loads(body)

    def metrics(self, base_url):
        status, body = http_get(f"{base_url}/metrics")
        self.assertEqual(status, 200, f"GET {base_url}/metrics: {body[:500]}")
        return parse_metrics(body)

    def read(self, proxy, bucket, key):
        answer = self.client(proxy).get_object(Bucket=bucket, Key=key)
        answer["Body"].read()
        return answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache")

    def traffic(self):
        """Misses, hits on both proxies, a write and a 404, in two buckets. Returns them."""
        a, b = self.proxies["a"], self.proxies["b"]
        logs, images = self.new_bucket("dash-logs"), self.new_bucket("dash-images")
        for i in range(3):
            self.direct.put_object(Bucket=logs, Key=f"day-{i}", Body=bytes([65 + i]) * (20000 + i))
            self.assertEqual(self.read(a, logs, f"day-{i}"), "MISS")
            self.assertEqual(self.read(a, logs, f"day-{i}"), "HIT")
            self.assertEqual(self.read(b, logs, f"day-{i}"), "HIT")
        self.client(b).put_object(Bucket=images, Key="cat.png", Body=b"\x89PNG" * 2500)
        self.read(a, images, "cat.png")
        with self.assertRaises(Exception):
            self.client(a).get_object(Bucket=images, Key="missing")
        return logs, images

    def load(self, base_url, name, **kwargs):
        page = browser.load_page(base_url + "/", browser.screenshot_path(name), **kwargs)
        print(f"\nscreenshot: {page['screenshot']}", file=sys.stderr)
        self.assertEqual(page["console_errors"], [], page)
        self.assertIsNone(page["banner"], page)
        return page

    def assert_page_shows_metrics(self, base_url, name, scope):
        """Loads base_url's page; every number on it equals what base_url's /metrics gives,
        read just before or just after (the page polls meanwhile), and every field of
        /api/dashboard is on it. Returns (page, the /api/dashboard document)."""
        before = numbers_from_metrics(self.metrics(base_url))
        page = self.load(base_url, name)
        after = numbers_from_metrics(self.metrics(base_url))
        document = self.get_json(f"{base_url}/api/dashboard")
        self.assertEqual(page["title"], f"s3hc {scope}")
        self.assertEqual(page["fields"]["scope"], scope)
        wrong = {field: (page["fields"].get(field), before[field], after.get(field))
                 for field in before
                 if not (close_enough(page["fields"].get(field), before[field]) or
                         close_enough(page["fields"].get(field), after.get(field, before[field])))}
        self.assertEqual(wrong, {}, f"page != {base_url}/metrics (shown, before, after)")
        self.assertEqual(set(page["fields"]), set(browser.expected_fields(document)),
                         "the page's fields are not /api/dashboard's")
        return page, document

    # ---- the test -----------------------------------------------------------

    def test_the_page_shows_what_metrics_show(self):
        version = self.control.set_policy("rules:\n  - bucket: dash-unrelated\n    settings:\n"
                                  "      read_caching: false\n")
        self.assertIsNotNone(wait_until(lambda: all(
            p.metric("s3hc_policy_version") == version for p in self.proxies.values()), 15))
        logs, images = self.traffic()

        # The fleet's numbers come with heartbeats: wait until its /metrics sums the proxies'.
        def fleet_has_every_report():
            own = [numbers_from_metrics(p.metrics()) for p in self.proxies.values()]
            fleet = numbers_from_metrics(self.metrics(self.control.http_url))
            return all(close_enough(str(fleet.get(f"buckets.{bucket}.{key}", -1)),
                                    sum(o.get(f"buckets.{bucket}.{key}", 0) for o in own))
                       for bucket in (logs, images) for key in ("requests", "hits", "sent_bytes"))
        self.assertIsNotNone(wait_until(fleet_has_every_report, 20),
                             "the control plane's /metrics did not come to the proxies' sum")

        http = self.control.http_url
        page, document = self.assert_page_shows_metrics(http, "dashboard-fleet", "fleet")
        fields = page["fields"]
        self.assertEqual(float(fields[f"buckets.{logs}.hits"]), 6)
        self.assertGreater(float(fields["totals.saved_bytes"]), 6 * 20000)
        self.assertGreater(float(fields["totals.written_bytes"]), 10000)
        self.assertGreater(float(fields["latency_seconds.total.p99"]), 0)
        # One shared directory: counted once, not once per proxy.
        self.assertEqual(float(fields["totals.cache_capacity_bytes"]), 2**30)
        control_metrics = self.metrics(http)
        self.assertEqual(float(fields["policy_version"]), version)
        self.assertEqual(control_metrics.get("s3hc_control_policy_version"), version)
        for name, proxy in self.proxies.items():
            self.assertEqual(fields[f"proxies.proxy-{name}.state"], "up")
            self.assertEqual(float(fields[f"proxies.proxy-{name}.policy_version"]),
                             proxy.metric("s3hc_policy_version"))
            self.assertNotIn("state-lost", page["classes"][f"proxies.proxy-{name}.state"])
        self.assertEqual(control_metrics.get('s3hc_control_proxies{state="up"}'), 2)

        # One proxy's own page, on its admin port.
        a = self.proxies["a"]
        page, document = self.assert_page_shows_metrics(a.admin_url, "dashboard-proxy", "proxy")
        self.assertEqual([p["id"] for p in document["proxies"]], ["proxy-a"])
        self.assertEqual(page["fields"]["proxies.proxy-a.state"], "up")

        # A proxy stopped: lost within three heartbeats, highlighted.
        self.proxies["b"].stop()
        self.assertIsNotNone(wait_until(lambda: self.metrics(http).get(
            's3hc_control_proxies{state="lost"}') == 1, 15), "proxy-b was not taken for lost")
        page, document = self.assert_page_shows_metrics(http, "dashboard-fleet-lost", "fleet")
        self.assertEqual(page["fields"]["proxies.proxy-b.state"], "lost")
        self.assertIn("state-lost", page["classes"]["proxies.proxy-b.state"].split())
        self.assertEqual(page["fields"]["proxies.proxy-a.state"], "up")
        self.assertNotIn("state-lost", page["classes"]["proxies.proxy-a.state"].split())


if __name__ == "__main__":
    unittest.main()
