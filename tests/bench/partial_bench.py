#!/usr/bin/env python3
"""Partial-hit benchmark: s3hc partial hits vs misses vs the origin, one whole-object GET at a time.

    python3 tests/bench/partial_bench.py              # ~1 minute
    python3 tests/bench/partial_bench.py --quick      # ~30 s smoke run
    python3 tests/bench/partial_bench.py --sizes 20,60 --repeats 9 --prefix-kib 9216

Rows: one per object size (default 16 MiB and 64 MiB). Each row times single whole-object GETs
(one client, a new connection per GET, time from the request to the last byte) against three
targets in the same run, in front of the same origin:
  partial  s3hc, an object whose first bytes (--prefix-kib, default 1024) an untimed Range GET
           through s3hc cached just before: the answer streams them from the cache and the
           rest from the origin (counted as s3hc_cache_reads_total{result="partial"})
  miss     s3hc, an object it has never seen: relayed from the origin and teed into the cache
  direct   the origin itself (nginx serving files with sendfile): the upper bound
Every GET asks for an object nobody asked for before (hard links of one file under fresh
names), so each partial is a partial hit and each miss a miss. Each round times every target
once, in an order rotated each round; a cell is the median over the rounds. Before measuring,
one untimed round per row checks every target's bytes against the file.
s3hc opens a new connection for every origin request (upstream.pool_max_idle 0; --pooled keeps
the default pool), as with an origin that closes its connections, a cold pool, or pooled
connections that only carried small answers: a partial hit must not depend on how large a
buffer its origin connection happens to have grown (issue 10 point 7: on a new connection a
partial hit read the origin in ~550-byte pieces, 8 MB/s, while a reused one was fast).
The target: partial >= 1.0x miss's throughput on every row (a partial hit must be no slower
than a miss). See tests/bench/README.md.

Needs only the standard library, nginx, and a built s3hc-proxy. Not part of CTest.
"""

import argparse
import contextlib
import dataclasses
import hashlib
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    NGINX_BIN, OTHER_CPU_WARNING, AccessLogCounter, CpuMeter, MiB, RetryBudget,
    add_binary_and_quiet_arguments, add_cache_option_argument, cache_read_counters, format_ratio, git_commit, parse_cache_options,
    print_log_tail, process_cpu_ticks, progress, s3hc_problem_counters, s3hc_state_since,
    prepare_own_clients_run, start_origin, tool_version)
from support.proxy import ProxyProcess  # noqa: E402

KiB = 1024
CACHE_TTL_MS = 3_600_000
TARGETS = ("partial", "miss", "direct")
# What s3hc must count each timed GET of a target as (s3hc_cache_reads_total{result}).
EXPECTED_READ = {"partial": "partial", "miss": "miss"}
PREFIX_SERIES = 's3hc_requests_total{method="GET",status="206"}'


@dataclasses.dataclass
class Settings:
    sizes_mib: list
    prefix_bytes: int
    repeats: int
    retries: int
    cores: int
    origin_workers: int
    proxy_workers: int
    pooled: bool            # s3hc reuses origin connections (else a new one per request)


@dataclasses.dataclass
class Run:
    """One timed GET."""
    seconds: float
    bytes: int
    origin_requests: int    # requests the origin logged during the GET
    s3hc_cpu_s: float       # CPU time of s3hc during the GET (1 tick = 10 ms resolution)
    other_cpu: float        # share of the CPU used by processes outside the benchmark
    cache_read: str = ""    # how s3hc counted the GET (s3hc_cache_reads_total), "" for direct

    @property
    def mib_per_s(self):
        return self.bytes / MiB / self.seconds


# ---- one GET -----------------------------------------------------------------------------

def get(base_url, path, headers=None, digest=None):
    """GET path on base_url over a new connection, reading the body into a reused buffer
    (`digest`: a hashlib object fed every byte, for the untimed check only).
    Returns (status, response headers as a lower-case dict, body bytes, seconds from sending
    the request to the last byte)."""
    host, port = base_url.rsplit("/", 1)[-1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    view = memoryview(bytearray(MiB))
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        received = 0
        while n := response.readinto(view):
            received += n
            if digest is not None:
                digest.update(view[:n])
        seconds = time.perf_counter() - started
        return response.status, {k.lower(): v for k, v in response.getheaders()}, received, seconds
    finally:
        conn.close()


class Targets:
    """The origin's file under fresh names, and how each target GETs one."""

    def __init__(self, origin, proxy, settings):
        self.origin = origin
        self.proxy = proxy
        self.settings = settings
        self.names = 0
        self.prefix_gets = 0    # the untimed Range GETs (206) before partial hits

    def fresh_path(self, size_mib):
        """/bench/<size>MiB-<n>: a hard link of the row's file nobody asked for yet."""
        self.names += 1
        path = f"/bench/{size_mib}MiB-{self.names}"
        os.link(self.origin.path_of(f"/bench/{size_mib}MiB"), self.origin.path_of(path))
        return path

    def url(self, target):
        return self.origin.url if target == "direct" else self.proxy.endpoint_url

    def prepare(self, target, size_mib):
        """A fresh object for one GET of `target`: for partial, its first bytes cached."""
        path = self.fresh_path(size_mib)
        if target == "partial":
            prefix = self.settings.prefix_bytes
            status, _, received, _ = get(self.proxy.endpoint_url, path,
                                         {"Range": f"bytes=0-{prefix - 1}"})
            if status != 206 or received != prefix:
                raise RuntimeError(f"caching the first {prefix} bytes of {path}: answered "
                                   f"{status} with {received} bytes")
            self.prefix_gets += 1
        return path


# ---- measuring -------------------------------------------------------------------------

def timed_get(targets, target, size_mib, meter, origin_log, digest=None):
    """One prepared and timed GET of `target`; raises on a wrong answer."""
    path = targets.prepare(target, size_mib)
    log_before = origin_log.settled_count()
    reads_before = cache_read_counters(targets.proxy)
    cpu_before = process_cpu_ticks(targets.proxy.pid)
    machine_before = meter.snapshot()
    status, headers, received, seconds = get(targets.url(target), path, digest=digest)
    other = meter.other_share(machine_before)
    cpu_s = (process_cpu_ticks(targets.proxy.pid) - cpu_before) / CpuMeter.TICKS
    size = size_mib * MiB
    if status != 200 or received != size:
        raise RuntimeError(f"{target}: GET {path} answered {status} with {received} bytes, "
                           f"not the {size}-byte object; headers: {headers}")
    reads = {k: v - reads_before.get(k, 0) for k, v in cache_read_counters(targets.proxy).items()}
    counted = ",".join(k for k, v in sorted(reads.items()) if v)
    expected = EXPECTED_READ.get(target, "")
    if counted != expected:
        raise RuntimeError(f"{target}: s3hc counted GET {path} as {counted or 'nothing'}, "
                           f"not {expected or 'nothing'}")
    return Run(seconds, received, origin_log.settled_count() - log_before, cpu_s, other, counted)


def check_bytes(targets, size_mib, meter, origin_log):
    """The untimed first round of a row: every target's answer hashed against the file."""
    with open(targets.origin.path_of(f"/bench/{size_mib}MiB"), "rb") as f:
        expected = hashlib.sha256(f.read()).hexdigest()
    for target in TARGETS:
        digest = hashlib.sha256()
        timed_get(targets, target, size_mib, meter, origin_log, digest)
        if digest.hexdigest() != expected:
            raise RuntimeError(f"{target}: the bytes of a {size_mib} MiB GET differ from the file")


def measure_row(targets, size_mib, settings, meter, origin_log, retries):
    """`repeats` rounds, order rotated each round; a round that other processes disturbed
    is measured again while the retry budget lasts (the least disturbed attempt counts).
    Returns {target: [Run per round]}."""
    runs = {target: [] for target in TARGETS}
    for index in range(settings.repeats):
        shift = index % len(TARGETS)
        order = TARGETS[shift:] + TARGETS[:shift]

        def measure_round():
            done = {t: timed_get(targets, t, size_mib, meter, origin_log) for t in order}
            progress(f"  {size_mib} MiB round {index + 1}: " + ", ".join(
                f"{t} {done[t].seconds * 1000:.0f} ms" for t in TARGETS)
                + f"; other CPU up to {max(r.other_cpu for r in done.values()):.0%}")
            return done

        best = measure_round()
        while max(r.other_cpu for r in best.values()) > OTHER_CPU_WARNING and retries.take():
            progress(f"  round {index + 1} disturbed; measuring it again")
            again = measure_round()
            if max(r.other_cpu for r in again.values()) < max(r.other_cpu for r in best.values()):
                best = again
        for target in TARGETS:
            runs[target].append(best[target])
    return runs


def upstream_connections(proxy):
    """s3hc_upstream_connections_total by result: {"new": n, "reused": n}."""
    prefix = 's3hc_upstream_connections_total{result="'
    return {series[len(prefix):-2]: count for series, count in proxy.metrics().items()
            if series.startswith(prefix)}


# ---- report ------------------------------------------------------------------------------

def median(runs, field):
    return statistics.median(getattr(r, field) for r in runs)


def throughput(runs):
    return statistics.median(r.mib_per_s for r in runs)


def round_ratio(mine, theirs):
    """Median over the rounds of theirs' time / mine's time in the same round: on a busy
    machine, load drifts between rounds more than between two GETs seconds apart."""
    return statistics.median(b.seconds / a.seconds for a, b in zip(mine, theirs))


def rounds_won(mine, theirs):
    won = sum(1 for a, b in zip(mine, theirs) if a.seconds <= b.seconds)
    return f"{won}/{len(mine)}"


def results_table(results):
    lines = [f"{'row':<22} {'target':<8} {'MiB/s':>8} {'median ms':>10} {'min ms':>8} "
             f"{'max ms':>8} {'spread':>7} {'s3hc CPU ms':>12} {'origin req':>10} {'other':>6}"]
    for size_mib, runs in results:
        for index, target in enumerate(TARGETS):
            cell = runs[target]
            times = [r.seconds * 1000 for r in cell]
            spread = (max(times) - min(times)) / statistics.median(times)
            requests = sorted({r.origin_requests for r in cell})
            label = f"GET {size_mib} MiB, 1 client" if index == 0 else ""
            cpu = f"{median(cell, 's3hc_cpu_s') * 1000:.0f}" if target != "direct" else "-"
            lines.append(f"{label:<22} {target:<8} {throughput(cell):8.1f} "
                         f"{statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f} "
                         f"{spread:6.0%} {cpu:>12} {'/'.join(map(str, requests)):>10} "
                         f"{max(r.other_cpu for r in cell):6.0%}")
    return "\n".join(lines)


RESULTS_LEGEND = """\
MiB/s: object size / time to the last byte, median over the rounds; median/min/max ms: the GETs' times.
spread: (max - min) / median of the times. s3hc CPU ms: s3hc's CPU time during a GET (median;
  10 ms ticks). origin req: requests the origin logged during each GET (the values seen).
other: highest share of the CPU used by processes outside the benchmark during one GET (above 10%: suspect)."""


def misses_target(runs):
    return not throughput(runs["partial"]) >= throughput(runs["miss"])


def ratio_table(results):
    lines = [f"{'row':<22} {'partial/miss':>12} {'per round':>9} {'rounds won':>10} "
             f"{'partial/direct':>14} {'miss/direct':>11}  target (partial >= 1.0x miss)"]
    for size_mib, runs in results:
        partial, miss, direct = (throughput(runs[t]) for t in TARGETS)
        verdict = "MISS (partial slower than miss)" if misses_target(runs) else "ok"
        label = f"GET {size_mib} MiB, 1 client"
        lines.append(f"{label:<22} {format_ratio(partial / miss):>12} "
                     f"{format_ratio(round_ratio(runs['partial'], runs['miss'])):>9} "
                     f"{rounds_won(runs['partial'], runs['miss']):>10} "
                     f"{format_ratio(partial / direct):>14} {format_ratio(miss / direct):>11}  "
                     f"{verdict}")
    return "\n".join(lines)


RATIO_LEGEND = """\
ratios: throughput (MiB/s) of one target / another, higher is better for the first. per round: the
  median over the rounds of partial/miss within one round (less sensitive to load drifting between rounds).
rounds won: rounds in which the partial hit took no longer than the miss of the same round."""


def header(settings, proxy_bin, cache_options):
    nginx_version = tool_version([NGINX_BIN, "-v"]).replace("nginx version: ", "")
    options = "".join(f", {k}={v}" for k, v in cache_options.items())
    return "\n".join([
        f"s3hc partial-hit benchmark: {settings.cores} cores shared by origin, proxy and client; "
        f"s3hc {tool_version([proxy_bin, '--version'])} (commit {git_commit()}), {nginx_version}",
        f"per row: one untimed round checking the bytes, then median of {settings.repeats} rounds "
        f"(one GET per target, order rotated each round; up to {settings.retries} disturbed "
        f"rounds measured again); each GET a new connection and a never-asked-for object",
        f"origin: nginx files, worker_processes {settings.origin_workers}, sendfile, access log on "
        f"| s3hc: --threads {settings.proxy_workers} --log-level warn, cache.get_ttl_ms = "
        f"cache.head_ttl_ms = {CACHE_TTL_MS}{options}, "
        + ("origin connections pooled" if settings.pooled else "upstream.pool_max_idle = 0 "
           "(a new origin connection per request)")
        + f" | partial: first "
        f"{settings.prefix_bytes} bytes cached by an untimed Range GET just before",
    ])


# ---- main --------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16,64",
                        help="object sizes in MiB, one row each (default 16,64)")
    parser.add_argument("--prefix-kib", type=int, default=1024,
                        help="KiB cached before each partial hit (default 1024; above 8192 the "
                             "origin is first asked for one byte, see docs/ARCHITECTURE.md)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="measured rounds per row; the median is reported (default 7; 3 "
                             "with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run (3 rounds, no retries)")
    parser.add_argument("--retries", type=int, default=None,
                        help="how many rounds in all may be measured again because other "
                             "processes disturbed them (default 3; 0 with --quick)")
    parser.add_argument("--origin-workers", type=int, default=1,
                        help="worker_processes of the nginx file origin (default 1)")
    parser.add_argument("--proxy-workers", type=int, default=None,
                        help="--threads of s3hc (default: the number of cores)")
    parser.add_argument("--pooled", action="store_true",
                        help="let s3hc reuse origin connections (default: a new one per origin "
                             "request, upstream.pool_max_idle 0; see the module doc)")
    add_binary_and_quiet_arguments(parser)
    parser.add_argument("--json", metavar="FILE", help="also write every GET's numbers here")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a row misses the target or s3hc reported problems")
    add_cache_option_argument(parser)
    args = parser.parse_args(argv)
    args.cache_options = parse_cache_options(parser, args)
    try:
        args.sizes_mib = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes wants MiB as integers, e.g. 16,64, not {args.sizes!r}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.retries is None:
        args.retries = 0 if args.quick else 3
    prefix = args.prefix_kib * KiB
    if args.repeats < 1 or prefix < 1 or any(s * MiB <= prefix for s in args.sizes_mib):
        parser.error("--repeats must be at least 1, and every size larger than the prefix")
    return args


def main(argv=None):
    args = parse_args(argv)
    cores, proxy_bin, meter, started = prepare_own_clients_run(args)
    settings = Settings(args.sizes_mib, args.prefix_kib * KiB, args.repeats, args.retries, cores,
                        args.origin_workers, args.proxy_workers or cores, args.pooled)
    with contextlib.ExitStack() as stack:
        origin = start_origin(stack, settings, access_log=True,
                              objects={f"{s}MiB": s * MiB for s in settings.sizes_mib})
        cache_parent = tempfile.mkdtemp(prefix="s3hc-bench-cache-")
        stack.callback(shutil.rmtree, cache_parent, True)
        config = {"cache": dict({"dir": os.path.join(cache_parent, "cache"),
                                 "get_ttl_ms": CACHE_TTL_MS, "head_ttl_ms": CACHE_TTL_MS},
                                **args.cache_options)}
        if not settings.pooled:
            config["upstream"] = {"pool_max_idle": 0}
        proxy = ProxyProcess(origin.url, config=config, log_level="warn",
                             threads=settings.proxy_workers, binary=proxy_bin)
        stack.callback(lambda: proxy.process and proxy.process.remove_log())
        stack.callback(proxy.stop)
        proxy.start()
        targets = Targets(origin, proxy, settings)
        origin_log = AccessLogCounter(os.path.join(origin.prefix, "access.log"))
        counters_before = s3hc_problem_counters(proxy)
        connections_before = upstream_connections(proxy)
        retries = RetryBudget(settings.retries)
        results = []
        for size_mib in settings.sizes_mib:
            progress(f"GET {size_mib} MiB: checking the bytes of every target")
            check_bytes(targets, size_mib, meter, origin_log)
            results.append((size_mib, measure_row(targets, size_mib, settings, meter, origin_log,
                                                  retries)))
        s3hc_state = s3hc_state_since(proxy, counters_before)
        connections = {k: v - connections_before.get(k, 0)
                       for k, v in upstream_connections(proxy).items()}
        # The 206 answers to the Range GETs that prepared the partial hits are expected.
        if s3hc_state.counters.get(PREFIX_SERIES) == targets.prefix_gets:
            del s3hc_state.counters[PREFIX_SERIES]

    print(header(settings, proxy_bin, args.cache_options))
    print()
    print(results_table(results))
    print(RESULTS_LEGEND)
    print()
    print(ratio_table(results))
    print(RATIO_LEGEND)
    print()
    missed = [f"{size_mib} MiB" for size_mib, runs in results if misses_target(runs)]
    disturbed = sum(1 for _, runs in results for cell in runs.values() for r in cell
                    if r.other_cpu > OTHER_CPU_WARNING)
    total = sum(len(cell) for _, runs in results for cell in runs.values())
    print(f"rows meeting the target: {len(results) - len(missed)}/{len(results)}"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    print("every timed GET answered 200 with the whole object; s3hc counted each partial GET as "
          "a partial hit and each miss as a miss")
    print("s3hc's origin connections during the run (s3hc_upstream_connections_total): "
          + (", ".join(f"{k}={v:.0f}" for k, v in sorted(connections.items())) or "none"))
    print(f"s3hc metrics, non-200 responses and upstream errors during the run: "
          f"{s3hc_state.counters or 'none'}; s3hc still running at the end: {s3hc_state.alive}")
    print(f"GETs with other processes above {OTHER_CPU_WARNING:.0%} of the CPU: {disturbed}/{total}"
          + ("  <- the machine was not idle; numbers are suspect" if disturbed else "")
          + f"; disturbed rounds measured again: {retries.used} (budget {settings.retries})")
    print_log_tail(s3hc_state.log_lines)
    print(f"total time: {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": dataclasses.asdict(settings), "cache_options": args.cache_options,
                       "rows": [{"size_mib": size_mib,
                                 "targets": {t: [dataclasses.asdict(r) for r in runs[t]]
                                             for t in TARGETS}}
                                for size_mib, runs in results]}, f, indent=2)
    trouble = bool(missed or s3hc_state.counters or not s3hc_state.alive)
    return 1 if args.strict and trouble else 0


if __name__ == "__main__":
    sys.exit(main())
