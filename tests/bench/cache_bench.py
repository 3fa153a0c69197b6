#!/usr/bin/env python3
"""Read-cache benchmark: warm s3hc cache vs nginx proxy_cache vs the origin itself.

    python3 tests/bench/cache_bench.py              # ~4 minutes
    python3 tests/bench/cache_bench.py --quick      # ~1.5 minute smoke run
    python3 tests/bench/cache_bench.py --duration 8 --repeats 5

Rows: GET throughput of 1 MiB and 64 MiB objects with 1 and 16 concurrent clients, and
requests/s with p50/p99 of 4 KiB objects over 64 connections, all served from a warm
cache. Each row is measured against three targets in the same run, same origin, under
identical wrk settings:
  s3hc    s3hc-proxy --threads <cores> --log-level warn with a cache directory
          (cache.get_ttl_ms = cache.head_ttl_ms = 1 h), upstream = the origin
  nginx   nginx as a caching reverse proxy (proxy_cache, slice 1m, proxy_cache_valid
          200 206 1h, sendfile), upstream = the origin
  direct  the origin itself (nginx serving files with sendfile): the upper bound
Both caches are warmed before measuring (every object GET once through each), and every
object is then checked through every target: the bytes, and the HIT marker (s3hc
"X-Cache: HIT", nginx "X-Cache-Status: HIT"); the run aborts without it. The origin's
access log shows that neither cache asked the origin anything during the measured runs.
After the run: peak RSS (VmHWM) of s3hc and of nginx's processes, and each target's own
CPU time per request. The target is s3hc >= 1.0x nginx's throughput / req/s and s3hc's
p99 <= nginx's on every row; rows that miss it are marked. See tests/bench/README.md.

Needs only the standard library (no boto3), wrk and nginx. Not part of CTest.
The machinery (wrk runs, rounds, tables) is shared with forward_bench.py: bench_common.py.
"""

import contextlib
import os
import shutil
import sys
import tempfile
import time

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    CPU_LEGEND, LOG_SETTLE_SECONDS, ROWS, TARGET_NAMES, AccessLogCounter, OriginAndCpuObserver,
    RetryBudget, add_cache_option_argument, argument_parser, cache_read_counters, check_bodies,
    cpu_table, finish_args, format_rss, header_lines, measure_row, parse_cache_options,
    prepare_run, print_report, print_warmth, process_tree, progress, rss_report, s3hc_problem_counters,
    s3hc_state_since, start_origin, warm_caches, write_json)
from support.nginx_origin import NginxCachingProxy  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

CACHE_TTL_MS = 3_600_000
# The header each cache marks a hit with, and the value that means "served from the cache".
HIT_HEADERS = {"s3hc": ("X-Cache", "HIT"), "nginx": ("X-Cache-Status", "HIT")}
# The targets with a cache: during their runs the origin must see no request.
CACHES = ("s3hc", "nginx")


# ---- the targets ----------------------------------------------------------------------

def start_targets(stack, settings, proxy_bin, cache_options):
    """Origin (with its access log) serving the three test objects, nginx's cache and
    s3hc in front of it, both caches in temp dirs on the same filesystem.
    Returns ({target: base URL}, origin, nginx cache, s3hc proxy, s3hc cache dir)."""
    origin = start_origin(stack, settings, access_log=True)
    nginx_cache = stack.enter_context(NginxCachingProxy(
        upstream_port=origin.port, workers=settings.proxy_workers, access_log=False))
    cache_parent = tempfile.mkdtemp(prefix="s3hc-bench-cache-")
    stack.callback(shutil.rmtree, cache_parent, True)
    s3hc_cache_dir = os.path.join(cache_parent, "cache")
    config = {"cache": dict({"dir": s3hc_cache_dir, "get_ttl_ms": CACHE_TTL_MS,
                             "head_ttl_ms": CACHE_TTL_MS}, **cache_options)}
    proxy = ProxyProcess(origin.url, config=config, log_level="warn",
                         threads=settings.proxy_workers, binary=proxy_bin)
    # Callbacks run last-in first-out: stop the proxy, then delete its log (read by then).
    stack.callback(lambda: proxy.process and proxy.process.remove_log())
    stack.callback(proxy.stop)
    proxy.start()
    if os.stat(cache_parent).st_dev != os.stat(nginx_cache.prefix).st_dev:
        raise RuntimeError(f"the two caches are on different filesystems: {cache_parent} "
                           f"and {nginx_cache.prefix}")
    urls = {"s3hc": proxy.endpoint_url, "nginx": nginx_cache.url, "direct": origin.url}
    return urls, origin, nginx_cache, proxy, s3hc_cache_dir


# ---- report ---------------------------------------------------------------------------

def header(settings, proxy_bin, s3hc_cache_dir, cache_options):
    options = "".join(f", {k}={v}" for k, v in cache_options.items())
    return "\n".join(header_lines("s3hc read-cache benchmark", settings, proxy_bin) + [
        f"origin: nginx files, worker_processes {settings.origin_workers}, sendfile, access log on "
        f"(to count origin requests) | nginx cache: worker_processes {settings.proxy_workers}, "
        f"proxy_cache + slice 1m, proxy_cache_valid 200 206 1h, sendfile | "
        f"s3hc: --threads {settings.proxy_workers} --log-level warn, cache.get_ttl_ms = "
        f"cache.head_ttl_ms = {CACHE_TTL_MS}{options}",
        f"both caches warm (every object GET through each, then HIT checked) and in temp dirs "
        f"on the same filesystem ({filesystem_of(s3hc_cache_dir)})",
    ])


def filesystem_of(path):
    """'device on mountpoint (type)' of the filesystem holding path, from /proc/mounts."""
    path = os.path.realpath(path)
    best = None
    with open("/proc/mounts") as f:
        for line in f:
            device, mountpoint, fstype = line.split()[:3]
            if (path == mountpoint or path.startswith(mountpoint.rstrip("/") + "/")) and \
                    (best is None or len(mountpoint) > len(best[1])):
                best = (device, mountpoint, fstype)
    return f"{best[0]} on {best[1]} ({best[2]})" if best else "?"


def print_cache_findings(observer, log_before, log_after, reads_delta, rss, warm_seconds):
    """The cache-specific findings; returns True if anything needs attention."""
    print()
    print(f"origin access log: {log_before} lines before measuring, {log_after} after; "
          f"requests the origin served during the runs through s3hc: "
          f"{observer.origin_requests['s3hc']}, through nginx cache: "
          f"{observer.origin_requests['nginx']}, direct (wrk to the origin): "
          f"{observer.origin_requests['direct']}")
    cold = print_warmth(observer, CACHES, reads_delta)
    not_hits = {k: v for k, v in reads_delta.items() if k != "hit" and v}
    print("caches answered HIT after warming within: "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in warm_seconds.items()))
    print("peak RSS (VmHWM) at the end of the run:")
    print(format_rss(rss))
    return bool(cold or not_hits)


# ---- main -----------------------------------------------------------------------------

def parse_args(argv):
    parser = argument_parser(__doc__.split("\n\n")[0])
    add_cache_option_argument(parser)
    args = finish_args(parser, parser.parse_args(argv))
    args.cache_options = parse_cache_options(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    settings, proxy_bin, started = prepare_run(args)
    base, retry_time = settings.estimated_seconds()
    settle = len(ROWS) * len(TARGET_NAMES) * (1 + settings.repeats) * LOG_SETTLE_SECONDS
    progress(f"estimated time: {(base + settle) / 60:.1f} min of wrk runs and origin-log "
             f"checks, up to {retry_time} s more if rounds are disturbed")
    with contextlib.ExitStack() as stack:
        urls, origin, nginx_cache, proxy, s3hc_cache_dir = start_targets(
            stack, settings, proxy_bin, args.cache_options)
        try:
            warm_seconds = warm_caches(urls, HIT_HEADERS)
            response_bytes = check_bodies(urls, origin, expect_headers=HIT_HEADERS)
        except RuntimeError as error:
            print(f"ABORTED: a cache is not warm after warming: {error}", file=sys.stderr)
            print(proxy.log_tail(), file=sys.stderr)
            print(nginx_cache.log_tail(), file=sys.stderr)
            return 2
        origin_log = AccessLogCounter(os.path.join(origin.prefix, "access.log"))
        target_pids = {"s3hc": lambda: [proxy.pid],
                       "nginx": lambda: process_tree(nginx_cache.process.pid),
                       "direct": lambda: process_tree(origin.process.pid)}
        observer = OriginAndCpuObserver(origin_log, target_pids)
        log_before = origin_log.settled_count()
        counters_before = s3hc_problem_counters(proxy)
        reads_before = cache_read_counters(proxy)
        retries = RetryBudget(settings.retries)
        results = [(row, measure_row(row, urls, response_bytes, settings, retries, progress,
                                     observer))
                   for row in ROWS]
        log_after = origin_log.settled_count()
        reads_delta = {k: v - reads_before.get(k, 0)
                       for k, v in cache_read_counters(proxy).items()}
        rss = rss_report({"s3hc": [proxy.pid],
                          "nginx": process_tree(nginx_cache.process.pid)})
        s3hc_state = s3hc_state_since(proxy, counters_before)

    trouble = print_report(header(settings, proxy_bin, s3hc_cache_dir, args.cache_options),
                           settings, results, s3hc_state, retries.used)
    print()
    print(cpu_table(results))
    print(CPU_LEGEND)
    trouble |= print_cache_findings(observer, log_before, log_after, reads_delta, rss,
                                    warm_seconds)
    print(f"total time: {time.monotonic() - started:.0f} s")
    if args.json:
        write_json(args.json, settings, results, extra={
            "cache_options": args.cache_options,
            "origin_requests_during_runs": observer.origin_requests,
            "origin_log_lines": {"before": log_before, "after": log_after},
            "s3hc_cache_reads": reads_delta,
            "peak_rss_kib": {name: entry for name, entry in rss.items()},
            "target_cpu": observer.cpu_by_run,
        })
    return 1 if args.strict and trouble else 0


if __name__ == "__main__":
    sys.exit(main())
