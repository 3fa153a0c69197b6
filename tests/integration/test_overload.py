#!/usr/bin/env python3
"""Overload protection: past its limits the proxy answers 503 SlowDown, and SDKs back off.

A proxy (no cache: every request forwarded) in front of moto through support/fault_origin.py,
which sends chosen objects slowly so requests stay in flight as long as the test wants:

  - concurrency: with limits.max_concurrent_requests 4, two GETs held in flight (a slow
    answer) and a burst of 40 concurrent GETs (each answer taking ~0.25 s): some are refused
    with 503, <Code>SlowDown</Code> and Retry-After: 1, some served, every served body exactly
    the object's bytes; the refusals counted in s3hc_requests_rejected_total{reason=
    "concurrency"} and as 503s, one for one, and logged in one line; /health answers while
    the proxy is full; once the held GETs are let go they end whole, nothing is left in
    flight or buffered, and the next GET is served;
  - memory: with limits.max_buffered_bytes under two relay buffers, two held GETs (one relay
    buffer each) show as exactly 2 x relay_buffer_bytes in s3hc_buffered_bytes, and a third
    request is refused (reason="memory") until they end;
  - an SDK: boto3 in its standard retry mode asks while every place is taken, is refused,
    retries, and gets the object once the places are free.

Run: python3 tests/integration/test_overload.py
"""

import os
import sys
import threading
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fault_origin import FaultOrigin  # noqa: E402
from support.fixtures import start_proxy  # noqa: E402
from support.fleet_fixture import FleetTestCase  # noqa: E402
from support.s3compare import deterministic_bytes  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
MAX_CONCURRENT = 4
HELD = 2
BURST = 40
OBJECT_BYTES = 1 * MIB
RELAY_BUFFER_BYTES = 128 * KIB
# A held answer: its first bytes at once (the proxy is relaying it), the rest at a trickle
# until clear_faults() lets it go at full speed.
HELD_AFTER_BYTES = 64 * KIB
HELD_RATE = 4 * KIB
# A burst answer takes about OBJECT_BYTES / BURST_RATE = 0.25 s: the burst arrives while the
# places it took are still held.
BURST_RATE = 4 * MIB
REJECTED = "s3hc_requests_rejected_total"


def log(message):
    print(message, file=sys.stderr, flush=True)


class OverloadTest(FleetTestCase):
    BUCKET_PREFIX = "s3hc-overload"

    def setUp(self):
        super().setUp()
        self.fault = FaultOrigin(self.origin.endpoint_url).start()
        self.addCleanup(self.fault.close)
        self.proxy = None
        self.bucket = self.new_bucket("o")
        self.objects = {}
        for n, key in enumerate(("held", "burst", "after")):
            self.objects[key] = deterministic_bytes(OBJECT_BYTES, 700 + n)
            self.direct.put_object(Bucket=self.bucket, Key=key, Body=self.objects[key])

    def log_sources(self):
        return [self.proxy, self.fault] + super().log_sources()

    def start_proxy(self, **limits):
        limits.setdefault("relay_buffer_bytes", RELAY_BUFFER_BYTES)
        self.proxy = start_proxy(self, self.fault.url,
                                 {"shutdown_grace_ms": 1000, "limits": limits})
        return self.proxy

    def hold(self, count):
        """`count` GETs of the held object whose answers trickle until clear_faults(): their
        response headers are in, their bodies unread. Returns their boto3 answers."""
        self.fault.fault(self.bucket, "held", "slow", HELD_AFTER_BYTES, times=None,
                         rate=HELD_RATE)
        client = self.client(self.proxy)
        held = [client.get_object(Bucket=self.bucket, Key="held") for _ in range(count)]
        self.wait_for(lambda: self.metric("s3hc_requests_in_flight") == count, 10,
                      f"{count} held requests in flight")
        return held

    def let_go(self, held):
        """Ends the trickle: every held answer must then arrive whole."""
        self.fault.clear_faults()
        for n, answer in enumerate(held):
            self.assertEqual(answer["Body"].read(), self.objects["held"], f"held GET {n}")

    def metric(self, name, **labels):
        return self.proxy.metric(name, **labels)

    def assert_idle_and_serving(self):
        """Nothing left in flight or buffered, and a plain GET is served."""
        self.wait_for(lambda: self.metric("s3hc_requests_in_flight") == 0, 10,
                      "no request in flight")
        self.wait_for(lambda: self.metric("s3hc_buffered_bytes") == 0, 10, "no bytes buffered")
        answer = self.client(self.proxy).get_object(Bucket=self.bucket, Key="after")
        self.assertEqual(answer["Body"].read(), self.objects["after"])

    def test_a_burst_past_the_limit_is_refused_with_slowdown_and_the_rest_served_right(self):
        self.start_proxy(max_concurrent_requests=MAX_CONCURRENT)
        held = self.hold(HELD)
        self.fault.fault(self.bucket, "burst", "slow", 0, times=None, rate=BURST_RATE)
        # No retries: each request's own outcome is what is checked.
        clients = [self.client(self.proxy) for _ in range(BURST)]
        start = threading.Barrier(BURST)
        outcomes = [None] * BURST

        def get(n):
            start.wait()
            try:
                answer = clients[n].get_object(Bucket=self.bucket, Key="burst")
                outcomes[n] = ("served", answer["Body"].read())
            except botocore.exceptions.ClientError as error:
                outcomes[n] = ("refused", error.response)
        threads = [threading.Thread(target=get, args=(n,)) for n in range(BURST)]
        for thread in threads:
            thread.start()
        # The admin listener is never limited: health and metrics answer while the burst runs.
        self.assertEqual(self.proxy.health()["status"], "ok")
        for thread in threads:
            thread.join(60)

        served = [body for kind, body in outcomes if kind == "served"]
        refused = [response for kind, response in outcomes if kind == "refused"]
        log(f"\nburst of {BURST} GETs with {HELD} held and {MAX_CONCURRENT} places: "
            f"{len(served)} served, {len(refused)} refused")
        self.assertEqual(len(served) + len(refused), BURST, outcomes)
        self.assertGreater(len(refused), 0, "nothing refused: the limit did not hold")
        self.assertGreater(len(served), 0, "nothing served: the free places were not used")
        for n, body in enumerate(served):
            self.assertEqual(body, self.objects["burst"], f"served GET {n}: wrong bytes")
        for response in refused:
            self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 503)
            self.assertEqual(response["Error"]["Code"], "SlowDown")
            self.assertEqual(response["Error"]["Message"], "Please reduce your request rate.")
            self.assertEqual(response["ResponseMetadata"]["HTTPHeaders"].get("retry-after"), "1")
        self.assertEqual(self.metric(REJECTED, reason="concurrency"), len(refused))
        self.assertEqual(self.metric(REJECTED, reason="memory"), 0)
        self.assertEqual(self.metric("s3hc_requests_total", method="GET", status="503"),
                         len(refused))
        # Logged now and then, never a line per refusal: one line within the 10 s.
        self.assertEqual(self.proxy.log_text().count("overloaded: refusing requests"), 1)

        self.let_go(held)
        self.assert_idle_and_serving()

    def test_buffered_bytes_past_the_limit_refuse_new_requests(self):
        # One relay buffer fits, two do not: the second held GET is admitted (one buffer held
        # then), after it nothing is until they end.
        self.start_proxy(max_buffered_bytes=RELAY_BUFFER_BYTES + RELAY_BUFFER_BYTES // 2)
        held = self.hold(2)
        self.wait_for(lambda: self.metric("s3hc_buffered_bytes") == 2 * RELAY_BUFFER_BYTES, 10,
                      "two relay buffers counted")
        with self.assertRaises(botocore.exceptions.ClientError) as refusal:
            self.client(self.proxy).get_object(Bucket=self.bucket, Key="after")
        self.assertEqual(refusal.exception.response["Error"]["Code"], "SlowDown")
        self.assertEqual(self.metric(REJECTED, reason="memory"), 1)
        self.assertEqual(self.metric(REJECTED, reason="concurrency"), 0)

        self.let_go(held)
        self.assert_idle_and_serving()

    def test_an_sdk_in_standard_retry_mode_gets_through_once_places_free(self):
        self.start_proxy(max_concurrent_requests=HELD)
        held = self.hold(HELD)
        client = self.client(self.proxy, retries={"mode": "standard", "max_attempts": 10})
        result = {}

        def get():
            try:
                answer = client.get_object(Bucket=self.bucket, Key="after")
                result["body"] = answer["Body"].read()
                result["retries"] = answer["ResponseMetadata"]["RetryAttempts"]
            except Exception as error:  # reported by the assertions below
                result["error"] = error
        thread = threading.Thread(target=get)
        thread.start()
        self.wait_for(lambda: self.metric(REJECTED, reason="concurrency") >= 1, 10,
                      "the SDK's first attempt refused")
        self.let_go(held)
        thread.join(60)
        self.assertNotIn("error", result)
        self.assertEqual(result.get("body"), self.objects["after"])
        self.assertGreaterEqual(result["retries"], 1)
        self.assertEqual(result["retries"], self.metric(REJECTED, reason="concurrency"),
                         "every attempt but the last was refused")
        self.assert_idle_and_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
