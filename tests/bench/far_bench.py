#!/usr/bin/env python3
"""The headline benchmark of S3 caches, scaled to this machine: N clients download M files of
mixed sizes through 3 proxies sharing one cache directory, from an origin across a WAN
(far_origin.py), cold then warm, against the same clients straight to that origin.

    python3 tests/bench/far_bench.py --wait-idle 10        # ~2 minutes
    python3 tests/bench/far_bench.py --quick               # ~30 s smoke run
    python3 tests/bench/far_bench.py --clients 24 --files 32 --rtt-ms 40 --rate-mbps 25

Set-up: nginx serves --files files whose sizes are spread evenly on a log scale from
--min-kib to --max-mib (random bytes), behind far_origin.py (--rtt-ms round trip, --rate-mbps
per connection); --proxies s3hc proxies (default 3) on one cache directory, each with
upstream.url = the relay and 1 h TTLs. Its accuracy check is printed first.
Phases, each with --clients client threads, every client GETting every file once in its own
shuffled order over keep-alive connections:
  direct  to the relay;
  cold    through the proxies, caches empty (request k of client i to proxy (i + k) mod P,
          as clients spreading over the addresses DNS returns): misses coalesce within and
          across proxies;
  warm    the same again.
Per phase: requests, p50/p95/p99 of the time to the last byte, throughput (bytes received /
wall time), errors (a status other than 200, or bytes whose CRC-32 or length is not the
file's), the origin's bytes (its access log) against the distinct bytes requested, and for
the proxies the requests coalesced and the reads by result (s3hc metrics).
Targets (issue 16, point 2): warm p95 <= 0.5x direct; cold origin bytes <= 1.05x the distinct
bytes requested; zero errors.

Standard library, nginx and a built s3hc-proxy. Not part of CTest. See README.md.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    HERE, MiB, add_binary_and_quiet_arguments, format_ratio, git_commit, progress,
    prepare_own_clients_run, tool_version)
from support.nginx_origin import NginxFileOrigin  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

KiB = 1024
CACHE_TTL_MS = 3_600_000
READ_BUFFER = MiB
LOG_LINE_RE = re.compile(r'"GET (\S+) HTTP/1\.1" (\d{3}) (\d+)')
WARM_P95_TARGET = 0.5
ORIGIN_BYTES_TARGET = 1.05
RELAY_START_SECONDS = 10


def file_sizes(count, smallest, largest):
    """`count` sizes spread evenly on a log scale from smallest to largest (bytes)."""
    if count == 1:
        return [largest]
    ratio = (largest / smallest) ** (1 / (count - 1))
    return [int(smallest * ratio ** i) for i in range(count)]


def percentile(values, percent):
    """Linear interpolation between the closest ranks."""
    values = sorted(values)
    if not values:
        return float("nan")
    position = (len(values) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


class FarOrigin:
    """far_origin.py as a subprocess in front of `upstream_port`."""

    def __init__(self, upstream_port, rtt_ms, rate_mbps):
        self.argv = [sys.executable, os.path.join(HERE, "far_origin.py"),
                     "--upstream", f"127.0.0.1:{upstream_port}", "--rtt-ms", str(rtt_ms),
                     "--rate-mbps", str(rate_mbps)]
        self.process = None
        self.port = None

    def __enter__(self):
        self.run_dir = tempfile.mkdtemp(prefix="s3hc-far-origin-")
        ports_file = os.path.join(self.run_dir, "ports.json")
        self.process = subprocess.Popen(self.argv + ["--ports-file", ports_file],
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + RELAY_START_SECONDS
        while not os.path.exists(ports_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("far_origin.py did not start")
            time.sleep(0.05)
        with open(ports_file) as ports:
            self.port = json.load(ports)["port"]
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.run_dir, True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def self_check(self):
        out = subprocess.run(self.argv[:2] + ["--self-check"] + self.argv[4:],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()


def add_one_object_arguments(parser):
    """The options of the benchmarks that read one large object from the far origin
    (pfill_bench.py, readahead_bench.py)."""
    parser.add_argument("--size-mib", type=int, default=256, help="object size (default 256)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="round trip (default 20)")
    parser.add_argument("--rate-mbps", type=float, default=50.0,
                        help="MB/s per connection of the far origin (default 50)")


def far_origin_serving(stack, names, data, rtt_ms, rate_mbps):
    """nginx serving `data` under each of `names`, behind the far-origin relay (entered on
    `stack`): (relay, the relay's self-check lines)."""
    origin = stack.enter_context(NginxFileOrigin(workers=1, access_log=False))
    for name in names:
        origin.write_file(name, data)
    relay = stack.enter_context(FarOrigin(origin.port, rtt_ms, rate_mbps))
    return relay, relay.self_check()


class Phase:
    """One phase's measurements."""

    def __init__(self, name):
        self.name = name
        self.latencies = []
        self.bytes = 0
        self.errors = []
        self.seconds = 0.0
        self.origin_bytes = 0
        self.counters = {}
        self.lock = threading.Lock()

    def record(self, seconds, received, error):
        with self.lock:
            self.latencies.append(seconds)
            self.bytes += received
            if error:
                self.errors.append(error)


def get(connection, path, expected_size, expected_crc):
    """(bytes received, error or None) of one GET on a keep-alive connection."""
    connection.request("GET", path)
    response = connection.getresponse()
    crc = 0
    received = 0
    buffer = bytearray(READ_BUFFER)
    view = memoryview(buffer)
    while True:
        count = response.readinto(view)
        if not count:
            break
        crc = zlib.crc32(view[:count], crc)
        received += count
    if response.status != 200:
        return received, f"{path}: status {response.status}"
    if received != expected_size or crc != expected_crc:
        return received, f"{path}: {received} bytes, not the file's {expected_size} (or other bytes)"
    return received, None


def run_client(index, targets, files, phase):
    order = list(files)
    random.Random(f"{phase.name}-{index}").shuffle(order)
    connections = {}
    try:
        for number, (path, size, crc) in enumerate(order):
            host, port = targets[(index + number) % len(targets)]
            connection = connections.get(port)
            if connection is None:
                connection = connections[port] = http.client.HTTPConnection(host, port,
                                                                            timeout=120)
            start = time.monotonic()
            try:
                received, error = get(connection, path, size, crc)
            except (OSError, http.client.HTTPException) as failure:
                received, error = 0, f"{path}: {failure!r}"
                connection.close()
                connections.pop(port)
            phase.record(time.monotonic() - start, received, error)
    finally:
        for connection in connections.values():
            connection.close()


def origin_bytes_since(origin, lines_before):
    """(lines, body bytes of the GETs) the origin logged after its first `lines_before`."""
    lines = origin.access_log_lines()
    sent = 0
    for line in lines[lines_before:]:
        match = LOG_LINE_RE.search(line)
        if match:
            sent += int(match.group(3))
    return len(lines), sent


def settled_log_length(origin):
    """The origin's log length once it stopped changing for a moment (nginx logs a request
    when it ends)."""
    last = len(origin.access_log_lines())
    while True:
        time.sleep(0.3)
        now = len(origin.access_log_lines())
        if now == last:
            return now
        last = now


def proxy_counters(proxies):
    totals = {}
    for proxy in proxies:
        for key, value in proxy.metrics().items():
            if key.startswith(("s3hc_cache_reads_total", "s3hc_cache_coalesced_total")):
                totals[key] = totals.get(key, 0) + value
    return totals


def run_phase(name, targets, files, origin, settings, proxies=()):
    progress(f"phase {name}: {settings.clients} clients x {len(files)} files")
    phase = Phase(name)
    log_before = settled_log_length(origin)
    counters_before = proxy_counters(proxies)
    threads = [threading.Thread(target=run_client, args=(i, targets, files, phase))
               for i in range(settings.clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - start
    settled_log_length(origin)
    _, phase.origin_bytes = origin_bytes_since(origin, log_before)
    after = proxy_counters(proxies)
    phase.counters = {k: v - counters_before.get(k, 0) for k, v in after.items()
                      if v - counters_before.get(k, 0)}
    return phase


def phase_table(phases, distinct_bytes):
    lines = [f"{'phase':<7} {'requests':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} "
             f"{'MiB/s':>8} {'origin MiB':>10} {'origin/distinct':>15} {'errors':>6}  s3hc"]
    for phase in phases:
        ms = [s * 1000 for s in phase.latencies]
        counters = ", ".join(f"{short_name(k)} {v:.0f}" for k, v in sorted(phase.counters.items()))
        lines.append(f"{phase.name:<7} {len(ms):>8} {percentile(ms, 50):9.1f} "
                     f"{percentile(ms, 95):9.1f} {percentile(ms, 99):9.1f} "
                     f"{phase.bytes / MiB / phase.seconds:8.1f} {phase.origin_bytes / MiB:10.1f} "
                     f"{format_ratio(phase.origin_bytes / distinct_bytes):>15} "
                     f"{len(phase.errors):>6}  {counters or '-'}")
    return "\n".join(lines)


def short_name(series):
    return (series.replace("s3hc_cache_reads_total", "reads")
            .replace("s3hc_cache_coalesced_total", "coalesced")
            .replace('{result="', " ").replace('"}', ""))


def verdict(direct, cold, warm, distinct_bytes):
    warm_p95 = percentile(warm.latencies, 95) / percentile(direct.latencies, 95)
    origin_share = cold.origin_bytes / distinct_bytes
    errors = len(direct.errors) + len(cold.errors) + len(warm.errors)
    checks = [
        (f"warm p95 / direct p95 = {format_ratio(warm_p95)} (target <= {WARM_P95_TARGET}x)",
         warm_p95 <= WARM_P95_TARGET),
        (f"cold origin bytes / distinct bytes = {format_ratio(origin_share)} "
         f"(target <= {ORIGIN_BYTES_TARGET}x)", origin_share <= ORIGIN_BYTES_TARGET),
        (f"errors: {errors} (target 0)", errors == 0),
    ]
    lines = [f"{'ok  ' if ok else 'MISS'} {text}" for text, ok in checks]
    return "\n".join(lines), all(ok for _, ok in checks)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--files", type=int, default=24, help="files (default 24)")
    parser.add_argument("--min-kib", type=int, default=100, help="smallest file (default 100 KiB)")
    parser.add_argument("--max-mib", type=int, default=32, help="largest file (default 32 MiB)")
    parser.add_argument("--proxies", type=int, default=3, help="s3hc proxies (default 3)")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="round trip (default 20)")
    parser.add_argument("--rate-mbps", type=float, default=50.0,
                        help="MB/s per connection of the far origin (default 50)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 6 clients, 8 files up to 8 MiB")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_binary_and_quiet_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.files, args.max_mib = 6, 8, 8
    return args


def main(argv=None):
    args = parse_args(argv)
    cores, proxy_bin, _, started = prepare_own_clients_run(args)
    sizes = file_sizes(args.files, args.min_kib * KiB, args.max_mib * MiB)
    distinct_bytes = sum(sizes)
    with contextlib.ExitStack() as stack:
        origin = stack.enter_context(NginxFileOrigin(workers=1, access_log=True))
        files = []
        for number, size in enumerate(sizes):
            data = os.urandom(size)
            origin.write_file(f"bench/far-{number}", data)
            files.append((f"/bench/far-{number}", size, zlib.crc32(data)))
        relay = stack.enter_context(FarOrigin(origin.port, args.rtt_ms, args.rate_mbps))
        check = relay.self_check()
        cache_parent = tempfile.mkdtemp(prefix="s3hc-far-bench-")
        stack.callback(shutil.rmtree, cache_parent, True)
        proxies = []
        for _ in range(args.proxies):
            proxy = ProxyProcess(relay.url, config={"cache": {
                "dir": os.path.join(cache_parent, "cache"), "get_ttl_ms": CACHE_TTL_MS,
                "head_ttl_ms": CACHE_TTL_MS}}, log_level="warn", binary=proxy_bin)
            stack.callback(proxy.stop)
            proxy.start()
            proxies.append(proxy)
        direct = run_phase("direct", [("127.0.0.1", relay.port)], files, origin, args)
        proxy_targets = [("127.0.0.1", proxy.port) for proxy in proxies]
        cold = run_phase("cold", proxy_targets, files, origin, args, proxies)
        warm = run_phase("warm", proxy_targets, files, origin, args, proxies)

    print(f"far_bench: {cores} cores shared by origin, relay, proxies and clients; "
          f"s3hc {tool_version([proxy_bin, '--version'])} (commit {git_commit()})")
    print(f"{args.clients} clients x {args.files} files of {args.min_kib} KiB to {args.max_mib} MiB "
          f"(log-spread, {distinct_bytes / MiB:.1f} MiB in all); {args.proxies} proxies on one "
          f"cache directory; far origin: {args.rtt_ms:g} ms round trip, {args.rate_mbps:g} MB/s "
          "per connection")
    for line in check:
        print(line)
    print()
    print(phase_table([direct, cold, warm], distinct_bytes))
    print("times: to the last byte of each GET; MiB/s: bytes received by all clients / the "
          "phase's wall time;\n  origin MiB: body bytes in the origin's access log during the "
          "phase; distinct: the files' bytes, each once")
    for phase in (direct, cold, warm):
        for error in phase.errors[:5]:
            print(f"  {phase.name} error: {error}")
    print()
    text, ok = verdict(direct, cold, warm, distinct_bytes)
    print(text)
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
