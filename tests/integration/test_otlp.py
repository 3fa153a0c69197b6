#!/usr/bin/env python3
"""OTLP/HTTP metrics export (docs/OBSERVABILITY.md), through a real proxy in front of moto.

A stand-in collector (support/otlp_receiver.py) decodes every export with the official OTLP
protobuf definitions (opentelemetry-proto), strictly, and the tests check:

  what an export says      -> resource attributes (service.name, service.instance.id,
                              service.version); the same metric names as /metrics, each of the
                              matching OTLP type (counter: monotonic cumulative Sum, gauge:
                              Gauge, histogram: cumulative Histogram), the same series and the
                              same values as /metrics read right after it, while nothing moves;
                              histogram bucket counts per bucket, adding up to the count
  a collector answering 503 -> the export is retried within the interval and delivered; the
                              retry carries a fresh snapshot (it counts the failure)
  a collector that stalls  -> requests through the proxy (one worker thread) are not slowed
                              meanwhile; the export ends at its timeout, counted as an error
  SIGTERM                  -> one last export with the final counts, then exit 0
  an https:// collector    -> refused at start-up (exit code 2)

Run: python3 tests/integration/test_otlp.py
"""

import itertools
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opentelemetry.proto.metrics.v1.metrics_pb2 import (  # noqa: E402
    AGGREGATION_TEMPORALITY_CUMULATIVE,
)

from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import print_logs_on_failure  # noqa: E402
from support.otlp_receiver import OtlpReceiver  # noqa: E402
from support.proxy import ProxyProcess, parse_metrics, proxy_binary, series_key  # noqa: E402
from support.waiting import Waiting  # noqa: E402

BUCKET = "otlp"
EXPORTS = "s3hc_otlp_exports_total"
# Follows the free space of the cache's file system, which any process on the host changes at
# any moment: checked for presence and type, not value.
FREE_SPACE = "s3hc_cache_effective_capacity_bytes"
OTLP_KIND = {"counter": "sum", "gauge": "gauge", "histogram": "histogram"}
_LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def split_series(key):
    """"name{a="1"}" -> ("name", {"a": "1"})."""
    name, _, labels = key.partition("{")
    return name, dict(_LABEL_RE.findall(labels))


def prometheus_types(text):
    """{family: counter|gauge|histogram} from the # TYPE lines of /metrics."""
    return dict(re.findall(r"(?m)^# TYPE (\S+) (\S+)$", text))


def family_of(series_name, types):
    """The family a sample belongs to: its own name, or a histogram's without the suffix."""
    if series_name in types:
        return series_name
    return re.sub(r"_(bucket|sum|count)$", "", series_name)


def labels_of(point):
    return {attribute.key: attribute.value.string_value for attribute in point.attributes}


def metrics_of(request):
    (resource_metrics,) = request.resource_metrics
    (scope_metrics,) = resource_metrics.scope_metrics
    return {metric.name: metric for metric in scope_metrics.metrics}


def exported_value(request, name, **labels):
    """A counter's or gauge's value in an export, None when the series is not in it."""
    metric = metrics_of(request).get(name)
    if metric is None:
        return None
    for point in getattr(metric, metric.WhichOneof("data")).data_points:
        if labels_of(point) == labels:
            return point.as_int
    return None


class OtlpTestCase(Waiting, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)
        direct = cls.origin.client()
        direct.create_bucket(Bucket=BUCKET)
        direct.put_object(Bucket=BUCKET, Key="a", Body=b"a" * 1000)
        direct.put_object(Bucket=BUCKET, Key="b", Body=b"b" * 50000)

    def start(self, receiver, otlp, threads=None, cache=False):
        """A proxy exporting to `receiver` (the endpoint given by the flag), with `otlp` as its
        observability keys."""
        self.receiver = receiver.start()
        self.addCleanup(receiver.close)
        config = {"observability": otlp}
        if cache:
            cache_dir = tempfile.mkdtemp(prefix="s3hc-otlp-test-")
            self.addCleanup(shutil.rmtree, cache_dir, True)
            config["cache"] = {"dir": cache_dir, "io_threads": 1}
        self.proxy = ProxyProcess(self.origin.endpoint_url, config=config, threads=threads,
                                  extra_args=["--otlp-endpoint", receiver.url])
        self.addCleanup(self.proxy.stop)
        self.proxy.start()
        print_logs_on_failure(self, self.proxy, self.origin)
        self.s3 = self.origin.client(self.proxy.endpoint_url)
        self.addCleanup(self.s3.close)

    def get(self, key):
        self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def assert_all_decoded(self):
        for export in self.receiver.exports:
            self.assertIsNone(export.error, export)


class ExportContentTest(OtlpTestCase):
    def test_an_export_says_what_metrics_says(self):
        self.start(OtlpReceiver(), {"otlp_interval_ms": 1000, "otlp_timeout_ms": 1000},
                   cache=True)
        for key in ["a", "a", "a", "b"]:
            self.get(key)
        self.s3.head_object(Bucket=BUCKET, Key="a")
        with self.assertRaises(self.s3.exceptions.NoSuchKey):
            self.s3.get_object(Bucket=BUCKET, Key="missing")
        self.s3.close()  # its connections closed: the open-connections gauge settles at 0
        self.wait_until_metrics_stand_still()

        already = len(self.receiver.exports)
        export = self.receiver.wait_for_exports(already + 1, timeout=10)[-1]
        text = self.proxy.metrics_text()
        # The exports this proxy may have counted by the time /metrics was read: the one just
        # received (counted once its answer arrived) and any that came after it.
        exports_since = len(self.receiver.exports) - already

        self.assert_all_decoded()
        self.assertTrue(export.headers.get("User-Agent", "").startswith("s3hc-proxy/"))
        self.assert_resource(export.request)
        self.assert_same_as_metrics(export.request, text, exports_since)
        self.assertEqual(exported_value(export.request, "s3hc_requests_total",
                                        method="GET", status="200"), 4)

    def wait_until_metrics_stand_still(self):
        """Until two reads of /metrics, more than a maintenance round apart (1 s), agree on
        everything but the export's own counter and the free space: the cache's rounds have
        nothing left to report."""
        def still():
            before = self.metrics_but_exports()
            time.sleep(1.5)
            return before == self.metrics_but_exports() and \
                before.get("s3hc_open_connections") == 0
        self.wait_for(still, timeout=30, what="/metrics to stand still")

    def metrics_but_exports(self):
        return {key: value for key, value in self.proxy.metrics().items()
                if not key.startswith((EXPORTS, FREE_SPACE))}

    def assert_resource(self, request):
        (resource_metrics,) = request.resource_metrics
        attributes = {a.key: a.value.string_value for a in resource_metrics.resource.attributes}
        self.assertEqual(attributes, {
            "service.name": "s3hc-proxy",
            "service.instance.id": f"{socket.gethostname()}:{self.proxy.port}",
            "service.version": self.proxy.health()["version"],
        })
        scope = resource_metrics.scope_metrics[0].scope
        self.assertEqual((scope.name, scope.version),
                         ("s3hc-proxy", self.proxy.health()["version"]))

    def assert_same_as_metrics(self, request, text, exports_since):
        types = prometheus_types(text)
        samples = parse_metrics(text)
        exported = metrics_of(request)
        # Families with at least one series (OTLP has no metric without points).
        self.assertEqual(set(exported),
                         {family_of(split_series(key)[0], types) for key in samples})
        self.assertIn("s3hc_cache_reads_total", exported)  # the cache's metrics are there too
        now = time.time_ns()
        for name, metric in exported.items():
            with self.subTest(metric=name):
                kind = metric.WhichOneof("data")
                self.assertEqual(kind, OTLP_KIND[types[name]])
                self.assertEqual(metric.description,
                                 re.search(rf"(?m)^# HELP {name} (.*)$", text).group(1))
                data = getattr(metric, kind)
                if kind != "gauge":
                    self.assertEqual(data.aggregation_temporality,
                                     AGGREGATION_TEMPORALITY_CUMULATIVE)
                if kind == "sum":
                    self.assertTrue(data.is_monotonic)
                series = set()
                for point in data.data_points:
                    labels = labels_of(point)
                    series.add(series_key(name, labels))
                    self.assertLess(abs(point.time_unix_nano - now), 60 * 10**9)
                    if kind != "gauge":
                        self.assertLessEqual(point.start_time_unix_nano, point.time_unix_nano)
                    if kind == "histogram":
                        self.assert_histogram_point(name, labels, point, samples)
                    elif name == FREE_SPACE:
                        self.assertGreater(point.as_int, 0)
                    elif name == EXPORTS:
                        value = samples[series_key(name, labels)]
                        self.assertLessEqual(point.as_int, value)
                        self.assertLessEqual(value, point.as_int + exports_since)
                    else:
                        self.assertEqual(point.as_int, samples[series_key(name, labels)])
                suffix = "_count" if kind == "histogram" else ""
                self.assertEqual(series, {series_key(name, split_series(key)[1])
                                          for key in samples
                                          if split_series(key)[0] == name + suffix})

    def assert_histogram_point(self, name, labels, point, samples):
        counts = list(point.bucket_counts)
        bounds = list(point.explicit_bounds)
        self.assertEqual(len(counts), len(bounds) + 1)
        self.assertEqual(sum(counts), point.count)
        self.assertEqual(point.count, samples[series_key(name + "_count", labels)])
        self.assertEqual(point.sum, samples[series_key(name + "_sum", labels)])
        # Prometheus's buckets are cumulative, each up to its `le`.
        prometheus_buckets = sorted(
            (float(bucket_labels.pop("le")), value)
            for key, value in samples.items()
            for bucket_name, bucket_labels in [split_series(key)]
            if bucket_name == name + "_bucket" and
            {k: v for k, v in bucket_labels.items() if k != "le"} == labels)
        self.assertEqual(prometheus_buckets,
                         list(zip(bounds + [math.inf], itertools.accumulate(counts))))


class ExportFailureTest(OtlpTestCase):
    def test_a_refused_export_is_retried_within_the_interval(self):
        interval_s = 6
        self.start(OtlpReceiver(statuses=[503]),
                   {"otlp_interval_ms": interval_s * 1000, "otlp_timeout_ms": 1000})
        self.get("a")
        first, retry = self.receiver.wait_for_exports(2, timeout=4 * interval_s)
        self.assert_all_decoded()
        # The first retry waits 1 s; the next export would come a whole interval later.
        self.assertLess(retry.received - first.received, interval_s - 2)
        self.assertEqual(exported_value(first.request, EXPORTS, result="error"), 0)
        self.assertEqual(exported_value(retry.request, EXPORTS, result="error"), 1)
        self.assertEqual(exported_value(retry.request, "s3hc_requests_total",
                                        method="GET", status="200"), 1)
        self.wait_for(lambda: self.proxy.metric(EXPORTS, result="ok") >= 1, timeout=5,
                      what="the retry counted as delivered")
        self.assertEqual(self.proxy.metric(EXPORTS, result="error"), 1)

    def test_a_stalled_collector_holds_up_no_request(self):
        timeout_s = 5
        self.start(OtlpReceiver(stall=True),
                   {"otlp_interval_ms": 6000, "otlp_timeout_ms": timeout_s * 1000}, threads=1)
        (stalled,) = self.receiver.wait_for_exports(1, timeout=20)
        latencies = []
        for _ in range(10):
            began = time.monotonic()
            self.get("b")
            latencies.append(time.monotonic() - began)
        # All of them while the export was stuck: it has not timed out yet.
        self.assertLess(time.monotonic() - stalled.received, timeout_s - 0.5)
        self.assertEqual(self.proxy.metric(EXPORTS, result="error"), 0)
        # Held up by the export, a request would have waited for its timeout (seconds).
        self.assertLess(max(latencies), 1.0, latencies)
        self.wait_for(lambda: self.proxy.metric(EXPORTS, result="error") >= 1,
                      timeout=timeout_s + 5, what="the stalled export counted as an error")
        self.assertEqual(self.proxy.metric(EXPORTS, result="ok"), 0)


class ShutdownTest(OtlpTestCase):
    def test_the_last_counts_are_exported_on_sigterm(self):
        self.start(OtlpReceiver(), {"otlp_interval_ms": 3_600_000, "otlp_timeout_ms": 2000})
        for _ in range(3):
            self.get("a")
        self.s3.close()
        self.assertEqual(self.receiver.exports, [])
        self.assertEqual(self.proxy.stop(), 0)
        (last,) = self.receiver.exports
        self.assert_all_decoded()
        self.assertEqual(exported_value(last.request, "s3hc_requests_total",
                                        method="GET", status="200"), 3)


class ConfigurationTest(unittest.TestCase):
    def test_an_https_collector_is_refused_at_start_up(self):
        result = subprocess.run(
            [proxy_binary(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
             "--otlp-endpoint", "https://127.0.0.1:4318"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("https:// is not supported", result.stderr)


if __name__ == "__main__":
    unittest.main()
