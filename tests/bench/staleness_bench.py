#!/usr/bin/env python3
"""What strict read-after-write costs: s3hc in strict mode against s3hc in bounded mode, in
one run, warm hits only.

    python3 tests/bench/staleness_bench.py --wait-idle 10     # ~4 minutes
    python3 tests/bench/staleness_bench.py --quick            # ~1 minute smoke run

Two proxies on two cache directories in front of one origin (nginx serving files), started
alike (--threads <cores>, cache.get_ttl_ms = head_ttl_ms = 1 h, every other cache setting
its default, so the 4 KiB to 1 MiB objects are answered from the RAM tier and the 64 MiB one
from the cache files):
  s3hc     cache.max_staleness_ms 0 (strict, the default): each hit is confirmed, here (a
           local file system) by the table of record changes, on NFS by one stat
  bounded  cache.max_staleness_ms 1000: a record confirmed less than a second ago is served
           without it
Both are warmed until they answer HIT and their bodies are checked; then every row is
measured on both with the order rotated each round (bench_common.measure_row), so the
machine's drift between runs falls on both alike. Rows: the rows of ram_bench.py and
cache_bench.py (4 KiB x 64 connections, 64 KiB x 16, 1 MiB x 1 and x 16, 64 MiB x 1 and
x 16). Target (issue 9): strict >= 0.9x bounded on every row. Also each proxy's own CPU
time per request. Not part of CTest; see README.md.
"""

import contextlib
import os
import shutil
import sys
import tempfile
import time

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    KiB, MiB, REQUEST_RATE, RESULTS_LEGEND, THROUGHPUT, AccessLogCounter,
    OriginAndCpuObserver, RetryBudget, Row, argument_parser, check_bodies, cpu_table,
    finish_args, format_ratio, header_lines, measure_row, prepare_run, process_tree,
    progress, results_table, rounds_won, start_origin, warm_caches)
from support.proxy import ProxyProcess  # noqa: E402

OBJECTS = {"4KiB": 4 * KiB, "64KiB": 64 * KiB, "1MiB": MiB, "64MiB": 64 * MiB}
ROWS = [
    Row("GET 4 KiB, 64 conns", "4KiB", 64, REQUEST_RATE),
    Row("GET 64 KiB, 16 clients", "64KiB", 16, THROUGHPUT),
    Row("GET 1 MiB, 1 client", "1MiB", 1, THROUGHPUT),
    Row("GET 1 MiB, 16 clients", "1MiB", 16, THROUGHPUT),
    Row("GET 64 MiB, 1 client", "64MiB", 1, THROUGHPUT),
    Row("GET 64 MiB, 16 clients", "64MiB", 16, THROUGHPUT),
]
TARGETS = ("s3hc", "bounded")
BOUND_MS = 1000
TARGET_RATIO = 0.9
CACHE_TTL_MS = 3_600_000
HIT_HEADERS = {name: ("X-Cache", "HIT") for name in TARGETS}
CPU_LEGEND_HERE = """\
cores busy: CPU seconds of the proxy's process / run time. CPU us/req, ms/GiB: the same CPU time
  per response (partly received responses by their share of bytes) and per GiB received.
  Resolution: 1 clock tick (10 ms) per run."""


def start_proxies(stack, settings, proxy_bin):
    origin = start_origin(stack, settings, access_log=True, objects=OBJECTS)
    proxies = {}
    for name, staleness in (("s3hc", 0), ("bounded", BOUND_MS)):
        parent = tempfile.mkdtemp(prefix=f"s3hc-staleness-{name}-")
        stack.callback(shutil.rmtree, parent, True)
        config = {"cache": {"dir": os.path.join(parent, "cache"), "get_ttl_ms": CACHE_TTL_MS,
                            "head_ttl_ms": CACHE_TTL_MS, "max_staleness_ms": staleness}}
        proxy = ProxyProcess(origin.url, config=config, log_level="warn",
                             threads=settings.proxy_workers, binary=proxy_bin)
        stack.callback(lambda p=proxy: p.process and p.process.remove_log())
        stack.callback(proxy.stop)
        proxy.start()
        proxies[name] = proxy
    return origin, proxies


def verdict_table(results):
    lines = [f"{'row':<24} {'metric':<6} {'strict/bounded':>14} {'rounds at target':>16}  "
             f"target (strict >= {TARGET_RATIO}x bounded)"]
    missed = []
    for row, cells in results:
        value = cells["s3hc"].value / cells["bounded"].value
        rounds = sum(1 for mine, theirs in zip(cells["s3hc"].runs, cells["bounded"].runs)
                     if mine.value(row.metric) >= TARGET_RATIO * theirs.value(row.metric))
        ok = value >= TARGET_RATIO
        if not ok:
            missed.append(row.label)
        at_target = f"{rounds}/{len(cells['s3hc'].runs)}"
        lines.append(f"{row.label:<24} {row.metric:<6} {format_ratio(value):>14} "
                     f"{at_target:>16}  {'ok' if ok else 'MISS'}"
                     f"   (rounds strict >= bounded: {rounds_won(cells, 'bounded')})")
    lines.append(f"rows meeting the target: {len(results) - len(missed)}/{len(results)}"
                 + (f"; missed: {'; '.join(missed)}" if missed else ""))
    return "\n".join(lines), missed


def main(argv=None):
    parser = argument_parser(__doc__.split("\n\n")[0])
    args = finish_args(parser, parser.parse_args(argv))
    settings, proxy_bin, started = prepare_run(args)
    base, retry_time = settings.estimated_seconds(ROWS, TARGETS)
    progress(f"estimated time: {base / 60:.1f} min of wrk runs, up to {retry_time} s more if "
             "rounds are disturbed")
    with contextlib.ExitStack() as stack:
        origin, proxies = start_proxies(stack, settings, proxy_bin)
        urls = {name: proxy.endpoint_url for name, proxy in proxies.items()}
        try:
            warm_caches(urls, HIT_HEADERS, OBJECTS)
            response_bytes = check_bodies(urls, origin, expect_headers=HIT_HEADERS,
                                          objects=OBJECTS)
        except RuntimeError as error:
            print(f"ABORTED: a proxy is not warm after warming: {error}", file=sys.stderr)
            return 2
        origin_log = AccessLogCounter(os.path.join(origin.prefix, "access.log"))
        observer = OriginAndCpuObserver(
            origin_log, {name: (lambda p=proxy: process_tree(p.pid))
                         for name, proxy in proxies.items()})
        retries = RetryBudget(settings.retries)
        results = [(row, measure_row(row, urls, response_bytes, settings, retries, progress,
                                     observer, targets=TARGETS))
                   for row in ROWS]

    for line in header_lines("staleness_bench", settings, proxy_bin):
        print(line)
    print(f"s3hc: strict (cache.max_staleness_ms 0); bounded: cache.max_staleness_ms {BOUND_MS}; "
          "both with their default RAM tier and 1 h TTLs")
    print()
    print(results_table(results, TARGETS))
    print(RESULTS_LEGEND)
    print()
    table, missed = verdict_table(results)
    print(table)
    print()
    print(cpu_table(results, TARGETS, peers=("bounded",)))
    print(CPU_LEGEND_HERE)
    errors = sum(sum(cells[name].errors.values()) for _, cells in results for name in TARGETS)
    print(f"wrk errors: {errors}; requests the origin served during the runs: "
          f"{sum(observer.origin_requests.values())}")
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 1 if args.strict and (missed or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
