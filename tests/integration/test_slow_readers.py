#!/usr/bin/env python3
"""A cache fill is paced by the origin, never by the client that happened to start it.

A miss starts a fill that reads the origin at the origin's pace into the cache; every client
of the object (its initiator included) is a reader of that fill at its own pace, and a client
hanging up does not cancel it (issue 10: a client that GETs a cold object and does not read
the body used to hold every other client of that object back, on its proxy and on the
others, until the proxy cut it off 20 s later). moto is the origin; clients are raw sockets
(SigV4-signed by botocore, so moto checks every request) and boto3.

  - slow initiator: a client that sends a GET of a cold 32 MiB object, reads the response
    header and then nothing; 8 readers started just after, through the same proxy and then
    through another proxy on the same cache directory, all get the object's bytes within
    5x the time of a plain GET straight from moto (the fill's reference) plus 5 s; the
    stalled initiator can still read its whole answer afterwards; moto sends the object once
    (twice at most across proxies, at a lease's edge);
  - abandoned fill: the initiator hangs up after 1 KiB; the fill still completes (32 MiB is
    below cache.finish_abandoned_fill_below, 64 MiB by default) without another request, and
    the next GET is a HIT with the right bytes; with that limit at 1 MiB (and 90% as the
    share) a fill from a slow origin (1 MiB/s) abandoned early stops within a few pieces,
    counted as abandoned, nothing committed;
  - origin faults (support/fault_origin.py between the proxy and moto, short upstream
    timeouts): a connection reset, a stall and a short body, each mid-body of a cold 8 MiB
    object with an initiator and 3 coalesced readers (the relay keeps quiet for 0.5 s before
    each fault, so they have joined the fill by then): each client gets either the whole
    object or a connection closed before Content-Length, never a wrong byte, never a hang
    past the timeouts; nothing partial is committed (once the fault is cleared the next GET
    is a MISS that fetches the whole object, the one after a HIT). The faults hit every GET
    of the object until cleared, so that a waiter fetching for itself after the fill failed
    cannot commit the object behind the test's back. A stall also with a waiter on a second
    proxy, which must not be left waiting (bounded by the timeouts and the 5 s after which a
    fill lease not refreshed is stale).

Figures (reference time, each client's time and outcome) are printed.
"""

import os
import socket
import sys
import threading
import time
import unittest
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.cache_dir import CacheDir  # noqa: E402
from support.fleet_fixture import FaultyOriginTestCase, FleetTestCase  # noqa: E402
from support.moto_origin import REGION  # noqa: E402
from support.s3compare import deterministic_bytes  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
SLOW_OBJECT_BYTES = 32 * MIB
FAULT_OBJECT_BYTES = 8 * MIB
FAULT_AFTER_BYTES = 3 * MIB
# Silence before a fault: the coalesced readers have joined the fill when it hits.
FAULT_PAUSE_S = 0.5
READERS = 8
FAULT_READERS = 3
# A client that does not read: a small receive buffer (no autotuning) so that the proxy's
# writes to it block after a few hundred KiB.
STALLED_RCVBUF = 64 * KIB
RESPONSE_TIMEOUT_MS = 2000
STALE_LEASE_S = 5
# Longest any client of a faulty origin may wait: the fill's origin read times out, a waiter
# fetching for itself times out too, plus a stale lease and slack.
HANG_BOUND_S = 2 * RESPONSE_TIMEOUT_MS / 1000 + STALE_LEASE_S + 3
# Short waits all round: teardown does not wait 10 s for requests a test left hanging.
BASE_CONFIG = {"shutdown_grace_ms": 1000}
FAULT_CONFIG = {"shutdown_grace_ms": 1000,
                "upstream": {"response_timeout_ms": RESPONSE_TIMEOUT_MS},
                "timeouts": {"client_read_ms": 5000}}


def log(message):
    print(message, file=sys.stderr, flush=True)


def signed_get(origin, proxy, bucket, key):
    """The bytes of a GET of bucket/key through `proxy`, SigV4-signed with the test key
    (header auth: moto refuses presigned URLs in strict mode)."""
    url = f"{proxy.endpoint_url}/{bucket}/{key}"
    request = AWSRequest(method="GET", url=url)
    credentials = Credentials(origin.access_key_id, origin.secret_access_key)
    S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
    lines = [f"GET /{bucket}/{key} HTTP/1.1", f"Host: {urllib.parse.urlsplit(url).netloc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class RawGet:
    """One GET on its own socket, read as far as the test says, its body compared byte for
    byte with `expected` as it arrives (nothing is kept).

    outcome: None while unread, "complete" (all Content-Length bytes), "closed" (the proxy
    closed or reset the connection first), "timeout" (the deadline passed first)."""

    def __init__(self, port, request, expected, rcvbuf=None):
        self.expected = expected
        self.status = None
        self.headers = {}
        self.received = 0           # body bytes
        self.mismatch_at = None     # first body byte that differs from `expected`
        self.outcome = None
        self.started = time.monotonic()
        self.finished = None
        self._pending = b""         # body bytes read with the header
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(request)

    @property
    def seconds(self):
        return (self.finished or time.monotonic()) - self.started

    @property
    def right(self):
        """The whole object, every byte right."""
        return (self.outcome == "complete" and self.mismatch_at is None
                and self.received == len(self.expected))

    def describe(self):
        return (f"{self.status} X-Cache {self.headers.get('x-cache')} {self.outcome} "
                f"{self.received}/{len(self.expected)} B in {self.seconds:.2f} s"
                + (f", WRONG BYTE at {self.mismatch_at}" if self.mismatch_at is not None else ""))

    def _recv(self, deadline, size=256 * KIB):
        """Next bytes; b"" when the peer closed; None at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(size)
        except socket.timeout:
            return None
        except OSError:  # reset
            return b""

    def read_head(self, deadline):
        """Reads the status line and headers. Returns whether they came before the deadline
        (outcome says why not)."""
        data = b""
        while b"\r\n\r\n" not in data:
            piece = self._recv(deadline)
            if not piece:
                self._end("timeout" if piece is None else "closed")
                return False
            data += piece
        head, self._pending = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        return True

    def read_body(self, deadline, up_to=None):
        """Reads the body until Content-Length (or `up_to` bytes), the proxy's close or the
        deadline; sets outcome unless it stopped at `up_to`."""
        length = int(self.headers.get("content-length", -1))
        goal = length if up_to is None else min(up_to, length)
        while self.received < goal:
            piece = self._pending or self._recv(deadline)
            self._pending = b""
            if not piece:
                self._end("timeout" if piece is None else "closed")
                return
            self._check(piece)
        if self.received >= length:
            self._end("complete")

    def fetch(self, deadline):
        """read_head then read_body: the whole answer, as far as the deadline allows."""
        if self.read_head(deadline):
            self.read_body(deadline)
        return self

    def _check(self, piece):
        at = self.received
        if self.mismatch_at is None and piece != self.expected[at:at + len(piece)]:
            expected = self.expected[at:at + len(piece)]
            self.mismatch_at = at + next(
                (i for i, (x, y) in enumerate(zip(piece, expected)) if x != y),
                min(len(piece), len(expected)))
        self.received += len(piece)

    def _end(self, outcome):
        self.outcome = outcome
        self.finished = time.monotonic()
        self.close()

    def close(self):
        self.sock.close()


def in_threads(functions):
    """Runs each function in its own thread; returns their results in order."""
    results = [None] * len(functions)

    def run(index):
        results[index] = functions[index]()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class ReadersCase(FleetTestCase):
    BUCKET_PREFIX = "s3hc-slow"

    def put_object(self, tag, size, seed):
        """(bucket, key, bytes) of a new object put straight to moto."""
        bucket = self.new_bucket(tag)
        data = deterministic_bytes(size, seed)
        self.direct.put_object(Bucket=bucket, Key="obj", Body=data)
        return bucket, "obj", data

    def get(self, proxy, bucket, key):
        """(body, X-Cache) of a boto3 GET through `proxy`."""
        answer = self.client(proxy).get_object(Bucket=bucket, Key=key)
        return answer["Body"].read(), answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache")

    def raw_get(self, proxy, bucket, key, data, rcvbuf=None):
        """A RawGet through `proxy` (its socket closed by the test's cleanups)."""
        get = RawGet(proxy.port, signed_get(self.origin, proxy, bucket, key), data, rcvbuf)
        self.addCleanup(get.close)
        return get

    def moto_gets(self, bucket, key):
        return self.origin.s3_request_count("GET", f"/{bucket}/{key}")

    def assert_whole_or_cut(self, get, what):
        """The whole object, or a connection closed before Content-Length; a right prefix
        either way, and never a timeout (a hang)."""
        self.assertEqual(get.status, 200, f"{what}: {get.describe()}")
        self.assertIsNone(get.mismatch_at, f"{what}: wrong bytes: {get.describe()}")
        self.assertIn(get.outcome, ("complete", "closed"), f"{what} hung: {get.describe()}")
        if get.outcome == "complete":
            self.assertTrue(get.right, f"{what}: {get.describe()}")


class SlowInitiatorTest(ReadersCase):
    """A client that starts a fill and reads nothing holds nobody back (issue 10)."""

    def reference_seconds(self, bucket, key, data):
        """Seconds of a plain GET of the object straight from moto: what a fill at the
        origin's pace takes."""
        started = time.monotonic()
        body = self.direct.get_object(Bucket=bucket, Key=key)["Body"].read()
        seconds = time.monotonic() - started
        self.assertEqual(body, data)
        return seconds

    def check_stalled_initiator(self, initiator_proxy, reader_proxy, what, seed):
        bucket, key, data = self.put_object("stall", SLOW_OBJECT_BYTES, seed)
        reference = self.reference_seconds(bucket, key, data)
        limit = 5 * reference + 5
        moto_before = self.moto_gets(bucket, key)

        initiator = self.raw_get(initiator_proxy, bucket, key, data, rcvbuf=STALLED_RCVBUF)
        self.assertTrue(initiator.read_head(time.monotonic() + 10), initiator.describe())
        self.assertEqual(initiator.status, 200, initiator.describe())

        # Started at once, so they join the fill while it runs (its receive buffer is full
        # within milliseconds: what is paced by it stops there).
        def reader():
            get = self.raw_get(reader_proxy, bucket, key, data)
            return get.fetch(get.started + limit)
        readers = in_threads([reader] * READERS)
        log(f"\n{what}: plain GET from moto {reference:.2f} s (limit {limit:.1f} s); "
            f"initiator {initiator.headers.get('x-cache')}, stalled; readers:\n  "
            + "\n  ".join(r.describe() for r in readers))
        for n, get in enumerate(readers):
            self.assertTrue(get.right, f"{what}: reader {n}: {get.describe()}")
            self.assertLess(get.seconds, limit, f"{what}: reader {n}: {get.describe()}")

        # The initiator was only slow: it reads its whole answer now, at its own pace.
        initiator.read_body(time.monotonic() + limit + 10)
        log(f"{what}: initiator then read {initiator.describe()}")
        self.assertTrue(initiator.right, f"{what}: initiator: {initiator.describe()}")
        return self.moto_gets(bucket, key) - moto_before

    def test_readers_on_the_initiators_proxy_are_not_held_back(self):
        proxy = self.new_fleet().start_proxy(self.origin.endpoint_url, config=BASE_CONFIG)
        fetched = self.check_stalled_initiator(proxy, proxy, "one proxy", seed=101)
        self.assertEqual(fetched, 1, "moto sends the object once")

    def test_readers_on_another_proxy_are_not_held_back(self):
        fleet = self.new_fleet()
        a = fleet.start_proxy(self.origin.endpoint_url, config=BASE_CONFIG)
        b = fleet.start_proxy(self.origin.endpoint_url, config=BASE_CONFIG)
        fetched = self.check_stalled_initiator(a, b, "two proxies", seed=102)
        self.assertLessEqual(fetched, 2, "moto sends the object once (twice at a lease's edge)")

    def test_fill_completes_when_its_initiator_hangs_up(self):
        fleet = self.new_fleet()
        proxy = fleet.start_proxy(self.origin.endpoint_url, config=BASE_CONFIG)
        bucket, key, data = self.put_object("hangup", SLOW_OBJECT_BYTES, 103)
        moto_before = self.moto_gets(bucket, key)
        initiator = self.raw_get(proxy, bucket, key, data)
        deadline = time.monotonic() + 10
        self.assertTrue(initiator.read_head(deadline), initiator.describe())
        initiator.read_body(deadline, up_to=KIB)
        self.assertGreaterEqual(initiator.received, KIB, initiator.describe())
        initiator.close()
        hung_up = time.monotonic()

        # No request in the meantime: a GET would start (or join) a fill itself.
        cache = CacheDir(fleet.cache_path)
        deadline = hung_up + 20
        while time.monotonic() < deadline:
            cached = cache.find(bucket, key)
            if cached is not None and cached.held() == [(0, len(data) - 1)]:
                break
            time.sleep(0.1)
        else:
            fills = {result: proxy.metric("s3hc_cache_fills_total", result=result)
                     for result in ("committed", "failed")}
            self.fail(f"the abandoned fill was not committed within 20 s: cached "
                      f"{cached and cached.held()}, fills {fills}, "
                      f"moto GETs {self.moto_gets(bucket, key) - moto_before}")
        log(f"\nabandoned fill: committed {time.monotonic() - hung_up:.2f} s after the "
            f"initiator hung up at {initiator.received} B")
        self.assertEqual(self.get(proxy, bucket, key), (data, "HIT"))
        self.assertEqual(self.moto_gets(bucket, key) - moto_before, 1,
                         "the fill was not started again")


class OriginFaultTest(ReadersCase, FaultyOriginTestCase):
    """Resets, stalls and short bodies from the origin mid-fill: clients get the whole
    object or a cut connection, nothing partial is committed."""

    def start_faulty_fleet(self, proxies):
        fleet = self.new_fleet()
        return fleet, [fleet.start_proxy(self.faulty.url, config=FAULT_CONFIG)
                       for _ in range(proxies)]

    def run_clients(self, initiator_proxy, reader_proxies, bucket, key, data):
        """An initiator, then (once its header came) one reader per entry of
        `reader_proxies`, all read to the end. Returns [initiator] + readers."""
        initiator = self.raw_get(initiator_proxy, bucket, key, data)
        deadline = initiator.started + HANG_BOUND_S
        if not initiator.read_head(deadline):
            return [initiator]

        def reader(proxy):
            def run():
                get = self.raw_get(proxy, bucket, key, data)
                return get.fetch(get.started + HANG_BOUND_S)
            return run
        body = threading.Thread(target=initiator.read_body, args=(deadline,))
        body.start()
        readers = in_threads([reader(p) for p in reader_proxies])
        body.join()
        return [initiator] + readers

    def check_nothing_partial_kept(self, fleet, proxy, bucket, key, data, what):
        """Once the fault is cleared: nothing of the object in the cache, the next GET is a
        MISS that fetches it whole, the one after a HIT."""
        # The failed fill is over when no fill lease is left (cache/fill_lease.h).
        fills = os.path.join(fleet.cache_path, "fleet", "fills")
        self.wait_for(lambda: not (os.path.isdir(fills) and os.listdir(fills)), 10,
                      f"{what}: the failed fill to end")
        self.faulty.clear_faults()
        cached = CacheDir(fleet.cache_path).find(bucket, key)
        self.assertIsNone(cached, f"{what}: a partial object was committed: "
                          f"{cached and cached.held()}")
        gets, served = self.faulty.gets(bucket, key), self.faulty.body_bytes(bucket, key)
        self.assertEqual(self.get(proxy, bucket, key), (data, "MISS"), f"{what}: next GET")
        self.assertEqual(self.faulty.gets(bucket, key) - gets, 1, what)
        self.assertEqual(self.faulty.body_bytes(bucket, key) - served, len(data), what)
        self.assertEqual(self.get(proxy, bucket, key), (data, "HIT"), f"{what}: GET after")
        self.assertEqual(self.faulty.gets(bucket, key) - gets, 1, what)

    def check_fault(self, kind, seed):
        fleet, (proxy,) = self.start_faulty_fleet(1)
        bucket, key, data = self.put_object(kind, FAULT_OBJECT_BYTES, seed)
        self.faulty.fault(bucket, key, kind, FAULT_AFTER_BYTES, times=None, pause=FAULT_PAUSE_S)
        clients = self.run_clients(proxy, [proxy] * FAULT_READERS, bucket, key, data)
        log(f"\n{kind} after {FAULT_AFTER_BYTES} B: origin GETs {self.faulty.gets(bucket, key)}, "
            f"faulted {self.faulty.faults_used(bucket, key, kind)}; clients (initiator "
            "first):\n  " + "\n  ".join(c.describe() for c in clients))
        self.assertGreater(self.faulty.faults_used(bucket, key, kind), 0, "the fault never hit")
        for n, get in enumerate(clients):
            self.assert_whole_or_cut(get, f"{kind}: client {n}")
            self.assertLess(get.seconds, HANG_BOUND_S, f"{kind}: client {n}: {get.describe()}")
        self.check_nothing_partial_kept(fleet, proxy, bucket, key, data, kind)

    def test_reset_mid_body(self):
        self.check_fault("reset", 201)

    def test_stall_mid_body(self):
        self.check_fault("stall", 202)

    def test_short_body(self):
        self.check_fault("short", 203)

    def test_stall_with_a_waiter_on_another_proxy(self):
        fleet, (a, b) = self.start_faulty_fleet(2)
        bucket, key, data = self.put_object("stall2", FAULT_OBJECT_BYTES, 204)
        self.faulty.fault(bucket, key, "stall", FAULT_AFTER_BYTES, times=None)
        clients = self.run_clients(a, [b], bucket, key, data)
        log(f"\nstall, waiter on another proxy: origin GETs {self.faulty.gets(bucket, key)}; "
            "initiator on A, waiter on B:\n  " + "\n  ".join(c.describe() for c in clients))
        self.assertEqual(len(clients), 2, f"initiator: {clients[0].describe()}")
        for get, what in zip(clients, ("initiator on A", "waiter on B")):
            self.assert_whole_or_cut(get, what)
            self.assertLess(get.seconds, HANG_BOUND_S, f"{what}: {get.describe()}")
        self.check_nothing_partial_kept(fleet, b, bucket, key, data, "stall, two proxies")

    def test_a_large_fill_abandoned_early_stops_and_commits_nothing(self):
        # Only objects up to 1 MiB, or fills 90% done, finish without readers.
        fleet = self.new_fleet()
        proxy = fleet.start_proxy(self.faulty.url, config=FAULT_CONFIG,
                                  cache={"finish_abandoned_fill_below": "1MiB",
                                         "finish_abandoned_fill_percent": 90})
        bucket, key, data = self.put_object("abandon", FAULT_OBJECT_BYTES, 205)
        # A slow origin (the whole object would take 8 s): the fill is abandoned at the first
        # piece after the proxy noticed the hang-up (its next write to the closed socket).
        self.faulty.fault(bucket, key, "slow", 0, times=None, rate=MIB)
        initiator = self.raw_get(proxy, bucket, key, data)
        deadline = time.monotonic() + 10
        self.assertTrue(initiator.read_head(deadline), initiator.describe())
        initiator.read_body(deadline, up_to=KIB)
        initiator.close()
        self.wait_for(lambda: proxy.metric("s3hc_cache_fills_total", result="abandoned") == 1,
                      3, "the fill to be abandoned")
        self.assertLess(self.faulty.body_bytes(bucket, key), len(data) // 2,
                        "the fill stopped early")
        self.assertEqual(proxy.metric("s3hc_cache_fills_total", result="failed"), 0)
        self.check_nothing_partial_kept(fleet, proxy, bucket, key, data, "abandoned fill")


if __name__ == "__main__":
    unittest.main(verbosity=2)
