#!/usr/bin/env python3
"""The dashboard's HTTP side (issue 14, points 2 and 5): two proxies under a real s3hc-control
in front of moto, a few GETs through both, then:

  - the control plane's /metrics parses, and its s3hc_requests_total (the fleet's sum) equals
    the sum of the proxies' own /metrics once a heartbeat has carried them;
  - its /api/dashboard (scope "fleet") says what its /metrics says: totals, hits and hit
    ratio, bytes, per-bucket numbers, latency percentiles from the merged histograms, errors,
    the policy version and both proxies up;
  - each proxy's admin /api/dashboard (scope "proxy") says what its own /metrics says;
  - GET / answers the dashboard page (text/html) on both;
  - --http-listen on a non-loopback address is refused without --http-public, with a message
    naming it, and served with it.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.control_plane import TOKEN, ControlPlane, control_binary, wait_until  # noqa: E402
from support.fleet_fixture import FleetTestCase  # noqa: E402

_SAMPLE_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
HITS = ("HIT", "REVALIDATED", "COALESCED")


def get(url):
    """(status, content type, body text) of a GET."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read().decode()


def samples(text):
    """Prometheus text as [(name, {label: value}, number)]; raises on a line it cannot read."""
    parsed = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE_RE.match(line)
        if not match:
            raise ValueError(f"unparsable metrics line: {line!r}")
        parsed.append((match.group(1), dict(_LABEL_RE.findall(match.group(2) or "")),
                       float(match.group(3))))
    return parsed


def total(metrics, name, **where):
    return sum(value for n, labels, value in metrics
               if n == name and all(labels.get(k) == v for k, v in where.items()))


def quantile(q, bounds, counts):
    """Prometheus' histogram_quantile over cumulative counts (one per bound, then +Inf)."""
    if not counts or counts[-1] == 0:
        return 0.0
    rank = q * counts[-1]
    i = next(i for i, count in enumerate(counts) if count >= rank)
    if i >= len(bounds):
        return bounds[-1]
    lower = bounds[i - 1] if i else 0.0
    below = counts[i - 1] if i else 0.0
    return lower + (bounds[i] - lower) * (rank - below) / (counts[i] - below)


def percentiles(metrics, name):
    """p50, p95 and p99 of every series of the histogram `name`, merged bucket by bucket."""
    merged = {}
    for n, labels, value in metrics:
        if n == name + "_bucket":
            merged[float(labels["le"])] = merged.get(float(labels["le"]), 0) + value
    bounds = sorted(b for b in merged if b != float("inf"))
    counts = [merged[b] for b in bounds] + [merged.get(float("inf"), 0)]
    return {p: quantile(q, bounds, counts) for p, q in (("p50", .5), ("p95", .95), ("p99", .99))}


def errors(metrics):
    """The dashboard's error list as /metrics gives it: (metric, labels) -> count."""
    found = {}
    for name, labels, value in metrics:
        failure = name in ("s3hc_upstream_errors_total", "s3hc_requests_rejected_total",
                           "s3hc_cache_corrupt_reads_total", "s3hc_policy_errors_total") or (
            name == "s3hc_requests_total" and labels.get("status", "").startswith("5"))
        if failure and value:
            found[(name, frozenset(labels.items()))] = value
    return found


class DashboardApiTest(FleetTestCase):
    def setUp(self):
        super().setUp()
        self.control = ControlPlane(heartbeat_ms=500)
        self.addCleanup(self.control.close)
        self.control.start()
        fleet = self.new_fleet("s3hc-dashboard-")
        self.proxies = [fleet.start_proxy(self.origin.endpoint_url, config={
            "observability": {"instance_id": f"proxy-{name}"},
            "control": {"endpoint": self.control.address,
                        "policy_file": os.path.join(fleet.parent, f"policy-{name}.json")}})
            for name in ("a", "b")]
        # A few reads through both: misses, then hits; and one of a key that is not there.
        self.buckets = [self.new_bucket("dash"), self.new_bucket("board")]
        for bucket in self.buckets:
            for key in ("one", "two"):
                self.direct.put_object(Bucket=bucket, Key=key, Body=os.urandom(3000))
        for proxy in self.proxies:
            client = self.client(proxy)
            for bucket in self.buckets:
                for key in ("one", "two", "one"):
                    client.get_object(Bucket=bucket, Key=key)["Body"].read()
            with self.assertRaises(Exception):
                client.get_object(Bucket=self.buckets[0], Key="absent")

    def log_sources(self):
        return super().log_sources() + [self.control]

    def steady(self, base_url):
        """(/api/dashboard, /metrics) of one process, read between two equal /metrics (so that
        no heartbeat or request changed the numbers meanwhile)."""
        for _ in range(50):
            before = get(base_url + "/metrics")[2]
            dashboard = json.loads(get(base_url + "/api/dashboard")[2])
            after = get(base_url + "/metrics")[2]
            if before == after:
                return dashboard, samples(after)
        self.fail(f"the metrics of {base_url} never held still")

    def assert_dashboard_says_what_metrics_say(self, dashboard, metrics):
        totals = dashboard["totals"]
        cache_reads = sum(value for name, labels, value in metrics
                          if name == "s3hc_bucket_requests_total"
                          and labels["cache_status"] != "none")
        hits = sum(total(metrics, "s3hc_bucket_requests_total", cache_status=status)
                   for status in HITS)
        self.assertGreater(hits, 0)
        self.assertEqual(totals, {
            "requests": total(metrics, "s3hc_requests_total"),
            "hits": hits,
            "hit_ratio": totals["hit_ratio"],  # compared below, as a float
            "sent_bytes": total(metrics, "s3hc_client_sent_bytes_total"),
            "saved_bytes": total(metrics, "s3hc_bucket_saved_bytes_total"),
            "origin_bytes": total(metrics, "s3hc_bucket_origin_bytes_total"),
            "written_bytes": total(metrics, "s3hc_bucket_written_bytes_total"),
            "cache_size_bytes": total(metrics, "s3hc_cache_size_bytes"),
            "cache_capacity_bytes": total(metrics, "s3hc_cache_effective_capacity_bytes"),
            "open_connections": total(metrics, "s3hc_open_connections"),
            "requests_in_flight": total(metrics, "s3hc_requests_in_flight")})
        self.assertAlmostEqual(totals["hit_ratio"], hits / cache_reads, places=12)
        for field in ("requests", "hits", "sent_bytes", "saved_bytes"):
            self.assertIsInstance(totals[field], int, field)

        listed = {entry["bucket"]: entry for entry in dashboard["buckets"]}
        self.assertTrue(set(self.buckets) <= set(listed), listed)
        for bucket, entry in listed.items():
            self.assertEqual(entry, {
                "bucket": bucket,
                "requests": total(metrics, "s3hc_bucket_requests_total", bucket=bucket),
                "hits": sum(total(metrics, "s3hc_bucket_requests_total", bucket=bucket,
                                  cache_status=status) for status in HITS),
                "sent_bytes": total(metrics, "s3hc_bucket_sent_bytes_total", bucket=bucket),
                "saved_bytes": total(metrics, "s3hc_bucket_saved_bytes_total", bucket=bucket),
                "origin_bytes": total(metrics, "s3hc_bucket_origin_bytes_total", bucket=bucket)})

        for which, name in (("first_byte", "s3hc_request_first_byte_seconds"),
                            ("total", "s3hc_request_seconds")):
            expected = percentiles(metrics, name)
            self.assertGreater(expected["p99"], 0)
            for p, value in expected.items():
                self.assertAlmostEqual(dashboard["latency_seconds"][which][p], value, places=9)

        listed_errors = {(e["metric"], frozenset(_LABEL_RE.findall(e["labels"]))): e["count"]
                         for e in dashboard["errors"]}
        self.assertEqual(listed_errors, errors(metrics))

    def test_the_fleet_sum_and_its_dashboard(self):
        def fleet_requests():
            return total(samples(get(self.control.http_url + "/metrics")[2]),
                         "s3hc_requests_total")

        def proxies_requests():
            return sum(total(samples(get(p.admin_url + "/metrics")[2]), "s3hc_requests_total")
                       for p in self.proxies)

        # 2 proxies × 2 buckets × 3 reads, and the 404 of each.
        self.assertGreaterEqual(proxies_requests(), 14)
        self.assertIsNotNone(wait_until(lambda: fleet_requests() == proxies_requests(), 10),
                             f"fleet {fleet_requests()}, proxies {proxies_requests()}")

        dashboard, metrics = self.steady(self.control.http_url)
        self.assertEqual(dashboard["scope"], "fleet")
        self.assert_dashboard_says_what_metrics_say(dashboard, metrics)
        self.assertEqual(dashboard["policy_version"], total(metrics, "s3hc_control_policy_version"))
        self.assertEqual(sorted(p["id"] for p in dashboard["proxies"]), ["proxy-a", "proxy-b"])
        for entry in dashboard["proxies"]:
            self.assertEqual((entry["state"], entry["health"]), ("up", "ok"), entry)
            self.assertLess(entry["last_seen_ms_ago"], 5000)
            self.assertTrue(entry["listen"].startswith("127.0.0.1:"), entry)
        self.assertEqual(total(metrics, "s3hc_control_proxies", state="up"), 2)

    def test_each_proxy_dashboard_says_what_its_metrics_say(self):
        for proxy in self.proxies:
            dashboard, metrics = self.steady(proxy.admin_url)
            self.assertEqual(dashboard["scope"], "proxy")
            self.assert_dashboard_says_what_metrics_say(dashboard, metrics)
            [entry] = dashboard["proxies"]
            self.assertEqual((entry["listen"], entry["state"], entry["health"]),
                             (f"127.0.0.1:{proxy.port}", "up", "ok"))
            self.assertIn(entry["id"], ("proxy-a", "proxy-b"))
            self.assertEqual(dashboard["policy_version"], total(metrics, "s3hc_policy_version"))

    def test_the_page(self):
        for base in (self.control.http_url, self.proxies[0].admin_url):
            status, content_type, body = get(base + "/")
            self.assertEqual(status, 200)
            self.assertTrue(content_type.startswith("text/html"), content_type)
            self.assertIn("<html", body.lower())


class PublicAddressTest(unittest.TestCase):
    def run_control(self, *extra):
        directory = tempfile.mkdtemp(prefix="s3hc-control-public-")
        self.addCleanup(__import__("shutil").rmtree, directory, True)
        token = os.path.join(directory, "token")
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
        ports = os.path.join(directory, "ports.json")
        process = subprocess.Popen(
            [control_binary(), "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(directory, "data"), "--token-file", token, "--ports-file", ports,
             "--http-listen", "0.0.0.0:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        return process, ports

    def test_a_non_loopback_address_needs_http_public(self):
        process, _ = self.run_control()
        _, err = process.communicate(timeout=20)
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("not a loopback address", err)
        self.assertIn("--http-public", err)

        process, ports = self.run_control("--http-public")
        self.assertIsNotNone(wait_until(lambda: os.path.exists(ports), 15), process.poll())
        with open(ports) as f:
            port = json.load(f)["http"]
        self.assertEqual(get(f"http://127.0.0.1:{port}/health")[0], 200)
        process.terminate()
        process.communicate(timeout=20)


if __name__ == "__main__":
    unittest.main()
