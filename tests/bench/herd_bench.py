#!/usr/bin/env python3
"""Herd benchmark: a herd of clients cold-reads one large object through s3hc, with and without
a few slow readers among them; do the slow ones hold back the others?

    python3 tests/bench/herd_bench.py              # ~30 s: 20 clients, 256 MiB, 3 rounds
    python3 tests/bench/herd_bench.py --quick      # ~5 s smoke run: 10 clients, 32 MiB, 1 round
    python3 tests/bench/herd_bench.py --proxies 3 --clients 30 --size-mib 128

Each run GETs a cold object (a key nobody asked for before: a hard link of the origin's file
under a fresh name) with --clients clients at once, over one s3hc proxy or --proxies proxies
sharing one cache directory (client i on proxy i mod P), so every run is a miss with coalescing:
one origin request fills the cache, the other clients read that fill (on other proxies: wait
for its commit).
  run A  every client reads as fast as it can;
  run B  --slow-share of the clients (default 10 %, at least one) read at --slow-rate-mib MiB/s
         (default 1), the others as fast as they can.
The slow clients (the same ones in A, where they are fast) send their request --lead-ms (50)
before the others, so one of them starts the fill: the case where a slow initiator used to hold
every other client of the object back. A slow client reads at its pace until every fast client
is done and then hangs up (--slow-read-all: until the end of the object).
Compared, in the same run, B against A: the other clients' (those fast in both runs) aggregate
throughput, per-client median throughput and p99 completion time; the origin's bytes (from its
access log) against the object's size. Rounds of A and B alternate (A B, B A, ...); medians over
the rounds. The target (issue 10, point 10): B's throughput >= 0.9x A's and B's p99 <= 1.1x A's,
the origin sending the object once (1.00x) in every run; every client gets the right bytes
(CRC-32 of the body against the file's).

Needs only the standard library, nginx and a built s3hc-proxy. Not part of CTest. See README.md.
"""

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import zlib

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    NGINX_BIN, OTHER_CPU_WARNING, CpuMeter, MiB, RetryBudget, add_binary_and_quiet_arguments, add_cache_option_argument,
    format_ratio, git_commit, parse_cache_options, print_log_tail, process_cpu_ticks,
    prepare_own_clients_run, process_tree, progress, s3hc_problem_counters, tool_version)
from support.nginx_origin import NginxFileOrigin  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

KiB = 1024
CACHE_TTL_MS = 3_600_000
# The target (issue 10, point 10: "within 10 %"): B's throughput at least this share of A's,
# B's p99 at most this multiple of A's.
MIN_THROUGHPUT_RATIO = 0.90
MAX_P99_RATIO = 1.10
FAST_BUFFER = MiB           # a fast client's recv_into buffer
SLOW_PIECE = 64 * KiB       # most a slow client reads at once
# nginx's combined log: "GET /bench/herd-1-A HTTP/1.1" 200 <body bytes>
LOG_LINE_RE = re.compile(r'"GET (\S+) HTTP/1\.1" (\d{3}) (\d+)')
LOG_SETTLE_SECONDS = 0.25
# s3hc counters read before and after each run (deltas reported).
CACHE_SERIES = ("s3hc_cache_reads_total", "s3hc_cache_fills_total", "s3hc_cache_coalesced_total",
                "s3hc_cache_fill_bytes_total")


@dataclasses.dataclass
class Settings:
    clients: int
    slow: int               # number of slow clients in run B
    slow_rate: float        # bytes/s
    slow_rcvbuf: int        # SO_RCVBUF of a slow client's socket, 0 = kernel default
    slow_read_all: bool
    lead_s: float
    size: int
    rounds: int
    retries: int
    proxies: int
    cores: int
    origin_workers: int
    proxy_workers: int
    timeout_s: float        # longest a fast client may take


# ---- one client --------------------------------------------------------------------------

@dataclasses.dataclass
class Client:
    """One GET on its own socket. outcome: "complete" (all Content-Length bytes), "hung up"
    (a slow client the benchmark stopped once the fast ones were done), "closed" (the proxy
    closed or reset the connection first), "timeout", or "error: ..."."""
    index: int
    slow: bool              # reads at the slow pace (run B only)
    leader: bool            # sends its request --lead-ms before the others
    proxy: int
    status: int = 0
    x_cache: str = ""
    length: int = -1        # Content-Length
    received: int = 0       # body bytes
    crc: int = 0            # CRC-32 of the body bytes received
    sent_at: float = 0.0    # monotonic time the request went out
    finished_at: float = 0.0
    outcome: str = ""
    bytes_right: bool = False
    recv_calls: int = 0     # body reads of a fast client (how large the pieces came)

    @property
    def seconds(self):
        return self.finished_at - self.sent_at

    @property
    def mib_per_s(self):
        return self.received / MiB / self.seconds if self.seconds > 0 else 0.0


def read_head(sock, client, deadline):
    """Status line and headers; returns the body bytes that came with them, None if the
    connection ended first (client.outcome says why)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = recv(sock, 64 * KiB, deadline, client)
        if not piece:
            return None
        data += piece
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    client.status = int(lines[0].split(" ")[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            client.length = int(value.strip())
        elif name == "x-cache":
            client.x_cache = value.strip()
    return rest


def recv(sock, size, deadline, client):
    """Up to `size` bytes; b"" (outcome set) when the peer closed or the deadline passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        client.outcome = "timeout"
        return b""
    sock.settimeout(remaining)
    try:
        piece = sock.recv(size)
    except socket.timeout:
        client.outcome = "timeout"
        return b""
    except OSError as error:
        client.outcome = f"closed ({error.strerror or error})"
        return b""
    if not piece:
        client.outcome = "closed"
    return piece


def read_fast(sock, client, rest, deadline):
    """The body as fast as the socket gives it, into one reused buffer."""
    client.crc = zlib.crc32(rest)
    client.received = len(rest)
    view = memoryview(bytearray(FAST_BUFFER))
    while client.received < client.length:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            client.outcome = "timeout"
            return
        sock.settimeout(remaining)
        try:
            n = sock.recv_into(view)
        except socket.timeout:
            client.outcome = "timeout"
            return
        except OSError as error:
            client.outcome = f"closed ({error.strerror or error})"
            return
        if n == 0:
            client.outcome = "closed"
            return
        client.crc = zlib.crc32(view[:n], client.crc)
        client.received += n
        client.recv_calls += 1
    client.outcome = "complete"


def read_slow(sock, client, rest, rate, stop, deadline):
    """The body at `rate` bytes/s, until its end or until `stop` is set (then it hangs up).
    Paced in whole pieces: it sleeps until the pace allows the next SLOW_PIECE (16 reads a
    second at 1 MiB/s), never wakes for a few bytes (a reader that woke every millisecond would
    spend the clients' CPU, and the GIL, that the fast clients need)."""
    client.crc = zlib.crc32(rest)
    client.received = len(rest)
    started = time.monotonic()
    while client.received < client.length:
        if stop.is_set():
            client.outcome = "hung up"
            return
        want = min(SLOW_PIECE, client.length - client.received)
        allowed = rate * (time.monotonic() - started) - client.received
        if allowed < want:
            stop.wait((want - allowed) / rate)
            continue
        piece = recv(sock, want, min(deadline, time.monotonic() + 1.0), client)
        if not piece:
            if client.outcome == "timeout" and time.monotonic() < deadline:
                client.outcome = ""
                continue  # nothing for a second: look at `stop` again
            return
        client.crc = zlib.crc32(piece, client.crc)
        client.received += len(piece)
    client.outcome = "complete"


def run_client(client, port, request, settings, go, stop, deadline, slow_mode):
    """Thread body: connect, wait for `go` (the run's start), send (leaders at once, the others
    --lead-ms later), read the answer at the client's pace."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        slow = slow_mode and client.slow
        if slow and settings.slow_rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, settings.slow_rcvbuf)
        sock.connect(("127.0.0.1", port))
        start = go.wait()
        if start is None:
            client.outcome = "error: the run did not start (another client failed to connect)"
            return
        delay = start + (0.0 if client.leader else settings.lead_s) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.sent_at = time.monotonic()
        sock.sendall(request)
        rest = read_head(sock, client, deadline)
        if rest is not None:
            if client.status != 200 or client.length < 0:
                client.outcome = f"error: status {client.status}, Content-Length {client.length}"
            elif slow:
                read_slow(sock, client, rest, settings.slow_rate, stop,
                          deadline if settings.slow_read_all else deadline + 3600)
            else:
                read_fast(sock, client, rest, deadline)
    except Exception as error:  # noqa: BLE001 (reported as the client's outcome)
        client.outcome = f"error: {error!r}"
        go.abort()
    finally:
        client.finished_at = time.monotonic()
        sock.close()


class StartSignal:
    """Every client thread connected and waiting; then one start time for all."""

    def __init__(self, parties):
        self.barrier = threading.Barrier(parties)
        self.start = None

    def wait(self, timeout=60.0):
        """The start time; None if a client failed before it got there."""
        try:
            if self.barrier.wait(timeout) == 0:
                self.start = time.monotonic()
            # One thread sets the time; the others read it after a second pass.
            self.barrier.wait(timeout)
        except threading.BrokenBarrierError:
            return None
        return self.start

    def abort(self):
        self.barrier.abort()


# ---- one run -----------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    kind: str               # "A" (all fast) or "B" (slow clients among them)
    round: int
    path: str
    clients: list
    origin_bytes: int       # body bytes the origin logged for the path
    origin_requests: int
    other_cpu: float        # share of the CPU used by processes outside the benchmark
    s3hc_cpu_s: float
    client_cpu_s: float     # this script's CPU time (the clients)
    origin_cpu_s: float
    seconds: float          # from the start to the last fast client's last byte
    s3hc_counters: dict     # deltas of CACHE_SERIES and of the problem counters

    def others(self):
        """The clients that are fast in both runs: the ones compared."""
        return [c for c in self.clients if not c.slow]

    def slow_ones(self):
        return [c for c in self.clients if c.slow]

    def aggregate_mib_per_s(self):
        others = [c for c in self.others() if c.sent_at]
        if not others:
            return 0.0
        span = max(c.finished_at for c in others) - min(c.sent_at for c in others)
        return sum(c.received for c in others) / MiB / span

    def median_client_mib_per_s(self):
        return statistics.median(c.mib_per_s for c in self.others())

    def recv_kib(self):
        """Mean bytes per read of the others, in KiB."""
        calls = sum(c.recv_calls for c in self.others())
        return sum(c.received for c in self.others()) / KiB / calls if calls else 0.0

    def completion(self, percent):
        return percentile([c.seconds for c in self.others()], percent)

    def errors(self):
        """Clients whose answer was not what it should be."""
        wrong = []
        for c in self.clients:
            slow_here = self.kind == "B" and c.slow
            fine = c.outcome == "complete" or (slow_here and c.outcome == "hung up")
            if not fine or not c.bytes_right:
                wrong.append(c)
        return wrong

    def initiators(self):
        """Clients that were answered X-Cache: MISS (the fill's initiator on each proxy that
        fetched from the origin)."""
        return [c for c in self.clients if c.x_cache.upper() == "MISS"]


def percentile(values, percent):
    """Linear interpolation between the closest ranks (Excel's PERCENTILE.INC)."""
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    position = (len(values) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def origin_log(origin, path):
    """(requests, body bytes) the origin logged for `path`."""
    requests = sent = 0
    for line in origin.access_log_lines():
        match = LOG_LINE_RE.search(line)
        if match and match.group(1) == path:
            requests += 1
            sent += int(match.group(3))
    return requests, sent


def settled_origin_log(origin, path, timeout=10.0):
    """origin_log() once it has a line for `path` and stopped changing for a moment (nginx
    logs a request when it ends)."""
    deadline = time.monotonic() + timeout
    last = origin_log(origin, path)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = origin_log(origin, path)
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif last[0] and time.monotonic() - quiet_since >= LOG_SETTLE_SECONDS:
            break
    return last


def s3hc_counters(proxies):
    """Sum over the proxies of the cache series and the problem counters."""
    totals = {}
    for proxy in proxies:
        series = {k: v for k, v in proxy.metrics().items() if k.startswith(CACHE_SERIES)}
        series.update(s3hc_problem_counters(proxy))
        for key, value in series.items():
            totals[key] = totals.get(key, 0) + value
    return totals


class Herd:
    """The origin, the proxies and the object, and how one run goes."""

    def __init__(self, origin, proxies, data, settings):
        self.origin = origin
        self.proxies = proxies
        self.data = data
        self.crc = zlib.crc32(data)
        self.settings = settings
        self.runs_made = 0

    def fresh_path(self, kind, round_index):
        """/bench/herd-<n>-<A|B>: a hard link of the object nobody asked for yet."""
        self.runs_made += 1
        path = f"/bench/herd-{self.runs_made}-{kind}"
        os.link(self.origin.path_of("/bench/herd"), self.origin.path_of(path))
        return path

    def pids(self):
        return [p.pid for p in self.proxies]

    def run(self, kind, round_index, meter):
        s = self.settings
        path = self.fresh_path(kind, round_index)
        clients = [Client(i, slow=i < s.slow, leader=i < s.slow, proxy=i % len(self.proxies))
                   for i in range(s.clients)]
        slow_mode = kind == "B"
        go = StartSignal(len(clients))
        stop = threading.Event()
        counters_before = s3hc_counters(self.proxies)
        s3hc_before = sum(process_cpu_ticks(pid) for pid in self.pids())
        origin_before = sum(process_cpu_ticks(pid) for pid in process_tree(self.origin.process.pid))
        own_before = os.times()
        machine_before = meter.snapshot()
        deadline = time.monotonic() + s.timeout_s + s.lead_s
        if slow_mode and s.slow_read_all:
            deadline = max(deadline, time.monotonic() + s.size / s.slow_rate * 1.5 + 60)
        threads = []
        for client in clients:
            proxy = self.proxies[client.proxy]
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\n"
                       f"User-Agent: s3hc-herd-bench\r\n\r\n").encode()
            thread = threading.Thread(
                target=run_client, daemon=True, name=f"client-{client.index}",
                args=(client, proxy.port, request, s, go, stop, deadline, slow_mode))
            thread.start()
            threads.append(thread)
        fast = [t for t, c in zip(threads, clients) if not (slow_mode and c.slow)]
        slow = [t for t, c in zip(threads, clients) if slow_mode and c.slow]
        for thread in fast:
            thread.join()
        fast_done = time.monotonic()
        if not s.slow_read_all:
            stop.set()
        for thread in slow:
            thread.join()
        other = meter.other_share(machine_before)
        own = os.times()
        requests, sent = settled_origin_log(self.origin, path)
        counters_after = s3hc_counters(self.proxies)
        for c in clients:
            expected = self.crc if c.received == s.size else zlib.crc32(
                memoryview(self.data)[:min(c.received, s.size)])
            c.bytes_right = (c.received <= s.size and c.crc == expected
                             and (c.outcome != "complete" or c.received == s.size))
        run = Run(
            kind=kind, round=round_index + 1, path=path, clients=clients,
            origin_bytes=sent, origin_requests=requests, other_cpu=other,
            s3hc_cpu_s=(sum(process_cpu_ticks(pid) for pid in self.pids()) - s3hc_before)
            / CpuMeter.TICKS,
            client_cpu_s=(own.user + own.system) - (own_before.user + own_before.system),
            origin_cpu_s=(sum(process_cpu_ticks(pid)
                              for pid in process_tree(self.origin.process.pid)) - origin_before)
            / CpuMeter.TICKS,
            seconds=fast_done - (go.start or fast_done),
            s3hc_counters={k: v - counters_before.get(k, 0) for k, v in counters_after.items()
                           if v != counters_before.get(k, 0)})
        slow_text = ""
        if slow_mode:
            slow_text = "; slow: " + ", ".join(
                f"{c.received / MiB:.1f} MiB at {c.mib_per_s:.2f} MiB/s ({c.outcome})"
                for c in run.slow_ones())
        progress(f"  round {round_index + 1} run {kind}: others {run.aggregate_mib_per_s():.0f} "
                 f"MiB/s, p99 {run.completion(99):.2f} s, origin {sent / s.size:.2f}x, "
                 f"errors {len(run.errors())}, other CPU {other:.0%}"
                 + slow_text)
        return run


# ---- report ------------------------------------------------------------------------------

def med(runs, fn):
    return statistics.median(fn(r) for r in runs)


def results_table(runs_by_kind, settings):
    lines = [f"{'run':<22} {'others MiB/s':>12} {'per client':>10} {'p50 s':>7} {'p95 s':>7} "
             f"{'p99 s':>7} {'spread':>7} {'origin':>7} {'errors':>6} {'bytes':>5} "
             f"{'s3hc CPU':>8} {'clients':>7} {'recv KiB':>8} {'other':>6}"]
    labels = {"A": "A: all fast", "B": f"B: {settings.slow} slow at "
                                       f"{settings.slow_rate / MiB:g} MiB/s"}
    for kind in ("A", "B"):
        runs = runs_by_kind[kind]
        values = [r.aggregate_mib_per_s() for r in runs]
        spread = (max(values) - min(values)) / statistics.median(values)
        origin = sorted({f"{r.origin_bytes / settings.size:.2f}x" for r in runs})
        errors = sum(len(r.errors()) for r in runs)
        right = all(c.bytes_right for r in runs for c in r.clients)
        lines.append(
            f"{labels[kind]:<22} {statistics.median(values):12.1f} "
            f"{med(runs, Run.median_client_mib_per_s):10.1f} "
            f"{med(runs, lambda r: r.completion(50)):7.2f} "
            f"{med(runs, lambda r: r.completion(95)):7.2f} "
            f"{med(runs, lambda r: r.completion(99)):7.2f} {spread:6.0%} "
            f"{'/'.join(origin):>7} {errors:>6} {'ok' if right else 'WRONG':>5} "
            f"{med(runs, lambda r: r.s3hc_cpu_s):7.2f}s {med(runs, lambda r: r.client_cpu_s):6.2f}s "
            f"{med(runs, Run.recv_kib):8.0f} {max(r.other_cpu for r in runs):6.0%}")
    return "\n".join(lines)


RESULTS_LEGEND = """\
others: the clients that are fast in both runs (all but the slow ones), the ones compared.
others MiB/s: their bytes / the time from the first one's request to the last one's last byte (the
  herd's aggregate); per client: the median of each one's object size / its time; p50/p95/p99 s: of
  their times from request to last byte (interpolated); every figure the median over the rounds.
spread: (max - min) / median of "others MiB/s" over the rounds. origin: body bytes the origin sent
  for the run's object / its size (access log), the values seen. errors: clients (slow ones included)
  without the whole object (a slow client hung up by the benchmark counts as fine) or with wrong bytes.
bytes: every client's bytes (the prefix a slow client got, too) have the file's CRC-32.
s3hc CPU, clients: CPU time of the proxies and of this script (the clients) per run (medians).
recv KiB: mean bytes per read of the others (from 1 MiB buffers): how large the pieces came.
other: highest share of the CPU used by processes outside the benchmark during one run."""


def ratios(runs_by_kind):
    """B/A: of the medians, and per round (the median over the rounds of B/A within one)."""
    a, b = runs_by_kind["A"], runs_by_kind["B"]
    metrics = {
        "throughput": Run.aggregate_mib_per_s,
        "per client": Run.median_client_mib_per_s,
        "p99": lambda r: r.completion(99),
    }
    out = {}
    for name, fn in metrics.items():
        of_medians = med(b, fn) / med(a, fn)
        per_round = statistics.median(fn(rb) / fn(ra) for ra, rb in zip(a, b))
        out[name] = (of_medians, per_round)
    return out


def verdict(runs_by_kind, settings, found):
    """(passed, reasons) against the target."""
    reasons = []
    if not found["throughput"][0] >= MIN_THROUGHPUT_RATIO:
        reasons.append(f"throughput B/A < {MIN_THROUGHPUT_RATIO:.2f}")
    if not found["p99"][0] <= MAX_P99_RATIO:
        reasons.append(f"p99 B/A > {MAX_P99_RATIO:.2f}")
    runs = runs_by_kind["A"] + runs_by_kind["B"]
    if any(r.origin_bytes != settings.size for r in runs):
        reasons.append("origin bytes != 1.00x object")
    if any(r.errors() for r in runs):
        reasons.append("client errors")
    return not reasons, reasons


def ratio_table(runs_by_kind, settings, found):
    a, b = runs_by_kind["A"], runs_by_kind["B"]
    won = sum(1 for ra, rb in zip(a, b)
              if rb.aggregate_mib_per_s() >= MIN_THROUGHPUT_RATIO * ra.aggregate_mib_per_s()
              and rb.completion(99) <= MAX_P99_RATIO * ra.completion(99))
    passed, reasons = verdict(runs_by_kind, settings, found)
    lines = [f"{'B/A':<12} {'throughput':>10} {'per client':>10} {'p99':>6} {'rounds in target':>16}"
             f"  target (throughput >= {MIN_THROUGHPUT_RATIO:.2f}x, p99 <= {MAX_P99_RATIO:.2f}x, "
             f"origin 1.00x)",
             f"{'of medians':<12} {format_ratio(found['throughput'][0]):>10} "
             f"{format_ratio(found['per client'][0]):>10} {format_ratio(found['p99'][0]):>6} "
             f"{f'{won}/{len(a)}':>16}  " + ("PASS" if passed else f"MISS ({', '.join(reasons)})"),
             f"{'per round':<12} {format_ratio(found['throughput'][1]):>10} "
             f"{format_ratio(found['per client'][1]):>10} {format_ratio(found['p99'][1]):>6}"]
    return "\n".join(lines)


RATIO_LEGEND = """\
B/A: the figure of run B / the figure of run A (throughput: higher is better; p99: lower is better).
  of medians: of the medians over the rounds (the verdict); per round: the median over the rounds of
  B/A within one round (A and B seconds apart), which load drifting between rounds moves less.
rounds in target: rounds whose own B/A met both ratios."""


def header(settings, proxy_bin, cache_options):
    nginx_version = tool_version([NGINX_BIN, "-v"]).replace("nginx version: ", "")
    options = "".join(f", {k}={v}" for k, v in cache_options.items())
    slow_end = ("read the whole object" if settings.slow_read_all
                else "hang up once every fast client is done")
    rcvbuf = (f"SO_RCVBUF {settings.slow_rcvbuf // KiB} KiB" if settings.slow_rcvbuf
              else "default socket buffers")
    return "\n".join([
        f"s3hc herd benchmark: {settings.cores} cores shared by origin, proxies and clients; "
        f"s3hc {tool_version([proxy_bin, '--version'])} (commit {git_commit()}), {nginx_version}",
        f"{settings.clients} clients (Python threads, raw sockets, one GET each) over "
        f"{settings.proxies} prox{'y' if settings.proxies == 1 else 'ies sharing one cache directory'}"
        f" (client i on proxy i mod {settings.proxies}), each run a cold {settings.size / MiB:g} MiB "
        f"object (miss + coalescing); {settings.rounds} rounds of A and B (order alternating; up to "
        f"{settings.retries} disturbed rounds measured again)",
        f"run B: {settings.slow} slow client(s) read at {settings.slow_rate / MiB:g} MiB/s "
        f"({rcvbuf}) and {slow_end}; in both runs they send their request "
        f"{settings.lead_s * 1000:.0f} ms before the others (one of them starts the fill)",
        f"origin: nginx files, worker_processes {settings.origin_workers}, sendfile, access log on "
        f"| s3hc: --threads {settings.proxy_workers} --log-level warn, cache.get_ttl_ms = "
        f"cache.head_ttl_ms = {CACHE_TTL_MS}{options}",
    ])


def format_counters(counters):
    return ", ".join(f"{k}={v:.0f}" for k, v in sorted(counters.items())) or "none"


def initiator_text(run, settings):
    starters = run.initiators()
    if not starters:
        return "none"
    return ", ".join(f"client {c.index} ({'slow' if c.slow and run.kind == 'B' else 'fast'}"
                     f"{', leader' if c.leader else ''}, proxy {c.proxy})" for c in starters)


# ---- main --------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=None,
                        help="clients per run (default 20; 10 with --quick)")
    parser.add_argument("--size-mib", type=int, default=None,
                        help="object size in MiB (default 256; 32 with --quick)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of A and B; medians are reported (default 3; 1 with --quick)")
    parser.add_argument("--proxies", type=int, default=1,
                        help="s3hc proxies sharing one cache directory (default 1)")
    parser.add_argument("--slow-share", type=float, default=0.10,
                        help="share of the clients that read slowly in run B (default 0.10; at "
                             "least one client)")
    parser.add_argument("--slow-rate-mib", type=float, default=1.0,
                        help="a slow client's pace in MiB/s (default 1)")
    parser.add_argument("--slow-rcvbuf-kib", type=int, default=128,
                        help="SO_RCVBUF of a slow client's socket in KiB, so the kernel does not "
                             "buffer MiBs ahead of it (default 128; 0 = kernel default)")
    parser.add_argument("--slow-read-all", action="store_true",
                        help="slow clients read the whole object at their pace (a run then lasts "
                             "size / rate) instead of hanging up once every fast client is done")
    parser.add_argument("--lead-ms", type=int, default=50,
                        help="the slow clients send their request this long before the others "
                             "(in run A too), so one of them starts the fill (default 50)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds a fast client may take before it counts as an error "
                             "(default 300)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10 clients, 32 MiB, 1 round, no retries")
    parser.add_argument("--retries", type=int, default=None,
                        help="how many rounds in all may be measured again because other "
                             "processes disturbed them (default 2; 0 with --quick)")
    parser.add_argument("--origin-workers", type=int, default=1,
                        help="worker_processes of the nginx file origin (default 1)")
    parser.add_argument("--proxy-workers", type=int, default=None,
                        help="--threads of each s3hc proxy (default: the number of cores)")
    add_binary_and_quiet_arguments(parser)
    parser.add_argument("--json", metavar="FILE", help="also write every client's numbers here")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if the target is missed or a client got a wrong answer")
    add_cache_option_argument(parser)
    args = parser.parse_args(argv)
    args.cache_options = parse_cache_options(parser, args)
    if args.clients is None:
        args.clients = 10 if args.quick else 20
    if args.size_mib is None:
        args.size_mib = 32 if args.quick else 256
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.retries is None:
        args.retries = 0 if args.quick else 2
    args.slow = max(1, round(args.clients * args.slow_share))
    if (args.clients < 2 or args.slow >= args.clients or args.size_mib < 1 or args.rounds < 1
            or args.proxies < 1 or args.slow_rate_mib <= 0 or args.lead_ms < 0):
        parser.error("need at least 2 clients with at least one fast, a size and rounds of at "
                     "least 1, at least one proxy, a positive slow rate and a lead >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    cores, proxy_bin, meter, started = prepare_own_clients_run(args)
    settings = Settings(
        clients=args.clients, slow=args.slow, slow_rate=args.slow_rate_mib * MiB,
        slow_rcvbuf=args.slow_rcvbuf_kib * KiB, slow_read_all=args.slow_read_all,
        lead_s=args.lead_ms / 1000, size=args.size_mib * MiB, rounds=args.rounds,
        retries=args.retries, proxies=args.proxies, cores=cores,
        origin_workers=args.origin_workers, proxy_workers=args.proxy_workers or cores,
        timeout_s=args.timeout)
    runs_by_kind = {"A": [], "B": []}
    with contextlib.ExitStack() as stack:
        origin = stack.enter_context(NginxFileOrigin(workers=settings.origin_workers,
                                                     access_log=True))
        data = os.urandom(settings.size)
        origin.write_file("bench/herd", data)
        cache_parent = tempfile.mkdtemp(prefix="s3hc-herd-bench-")
        stack.callback(shutil.rmtree, cache_parent, True)
        config = {"cache": dict({"dir": os.path.join(cache_parent, "cache"),
                                 "get_ttl_ms": CACHE_TTL_MS, "head_ttl_ms": CACHE_TTL_MS},
                                **args.cache_options)}
        proxies = []
        for _ in range(settings.proxies):
            proxy = ProxyProcess(origin.url, config=config, log_level="warn",
                                 threads=settings.proxy_workers, binary=proxy_bin)
            stack.callback(lambda p=proxy: p.process and p.process.remove_log())
            stack.callback(proxy.stop)
            proxy.start()
            proxies.append(proxy)
        herd = Herd(origin, proxies, data, settings)
        retries = RetryBudget(settings.retries)
        for index in range(settings.rounds):
            order = ("A", "B") if index % 2 == 0 else ("B", "A")

            def measure_round():
                return {kind: herd.run(kind, index, meter) for kind in order}

            best = measure_round()
            while (max(r.other_cpu for r in best.values()) > OTHER_CPU_WARNING
                   and retries.take()):
                progress(f"  round {index + 1} disturbed; measuring it again")
                again = measure_round()
                if (max(r.other_cpu for r in again.values())
                        < max(r.other_cpu for r in best.values())):
                    best = again
            for kind in ("A", "B"):
                runs_by_kind[kind].append(best[kind])
        alive = all(p.is_running() for p in proxies)
        log_lines = [line for p in proxies for line in p.log_text().splitlines()]

    found = ratios(runs_by_kind)
    passed, _ = verdict(runs_by_kind, settings, found)
    print(header(settings, proxy_bin, args.cache_options))
    print()
    print(results_table(runs_by_kind, settings))
    print(RESULTS_LEGEND)
    print()
    print(ratio_table(runs_by_kind, settings, found))
    print(RATIO_LEGEND)
    print()
    all_runs = [r for kind in ("A", "B") for r in runs_by_kind[kind]]
    all_runs.sort(key=lambda r: (r.round, r.path))
    for run in all_runs:
        print(f"round {run.round} run {run.kind} ({run.path}): origin {run.origin_requests} "
              f"request(s), {run.origin_bytes} bytes; MISS answered to: "
              f"{initiator_text(run, settings)}")
        if run.kind == "B":
            print("  slow clients: " + "; ".join(
                f"client {c.index}: {c.received / MiB:.1f} MiB in {c.seconds:.1f} s "
                f"({c.mib_per_s:.2f} MiB/s), {c.outcome}" for c in run.slow_ones()))
        wrong = run.errors()
        if wrong:
            print("  ERRORS: " + "; ".join(
                f"client {c.index}: status {c.status}, {c.received}/{c.length} bytes, {c.outcome}"
                f"{'' if c.bytes_right else ', WRONG BYTES'}" for c in wrong))
        print(f"  s3hc: {format_counters(run.s3hc_counters)}")
    disturbed = sum(1 for r in all_runs if r.other_cpu > OTHER_CPU_WARNING)
    print(f"runs with other processes above {OTHER_CPU_WARNING:.0%} of the CPU: "
          f"{disturbed}/{len(all_runs)}"
          + ("  <- the machine was not idle; numbers are suspect" if disturbed else "")
          + f"; disturbed rounds measured again: {retries.used} (budget {settings.retries})")
    print(f"s3hc still running at the end: {alive}")
    print_log_tail(log_lines)
    print(f"verdict: {'PASS' if passed else 'MISS'}; total time: {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": dataclasses.asdict(settings),
                       "cache_options": args.cache_options,
                       "ratios": {k: {"of_medians": v[0], "per_round": v[1]}
                                  for k, v in found.items()},
                       "passed": passed,
                       "runs": [dict(dataclasses.asdict(r),
                                     aggregate_mib_per_s=r.aggregate_mib_per_s(),
                                     p50_s=r.completion(50), p95_s=r.completion(95),
                                     p99_s=r.completion(99))
                                for r in all_runs]}, f, indent=2)
    trouble = not passed or not alive
    return 1 if args.strict and trouble else 0


if __name__ == "__main__":
    sys.exit(main())
