#!/usr/bin/env python3
"""RAM-tier benchmark: s3hc's RAM-tier hits vs Varnish (-s malloc) vs nginx proxy_cache.

    python3 tests/bench/ram_bench.py              # ~2.5 minutes
    python3 tests/bench/ram_bench.py --quick      # ~1 minute smoke run
    python3 tests/bench/ram_bench.py --wait-idle 30 --json /tmp/ram_bench.json

Rows: requests/s with p50/p99 of 4 KiB objects over 64 connections, and GET throughput of
64 KiB and 1 MiB objects with 16 concurrent clients and of 64 MiB objects with 1 and 16, all
served from a warm cache, s3hc's answers from its RAM tier. Each row is measured against
three targets in the same run, in front of the same origin (nginx serving files), under
identical wrk settings:
  s3hc     s3hc-proxy --threads <cores> --log-level warn with a cache directory and its
           defaults, plus cache.ram_size 1GiB and cache.ram_max_entry_bytes 64 MiB (so every
           object is kept in memory), cache.get_ttl_ms = cache.head_ttl_ms = 1 h
  varnish  Debian's varnishd -s malloc,1g -p thread_pools=1, a VCL caching 200 answers
           for 1 h (support/varnish_cache.py)
  nginx    nginx as a caching reverse proxy (proxy_cache, slice 1m, proxy_cache_valid
           200 206 1h, sendfile), as in cache_bench.py
All caches are warmed before measuring (every object GET through each until it answers
HIT: s3hc and Varnish "X-Cache: HIT", nginx "X-Cache-Status: HIT"), s3hc's answers are
checked to come from the RAM tier (s3hc_cache_ram_hits_total grows by one per GET), and
every object is then checked through every target: the bytes and the HIT marker; the run
aborts without them. The origin's access log shows that no cache asked the origin
anything during the measured runs. After the run: each target's own CPU time per request
and peak RSS (VmHWM). The target is s3hc >= 1.0x the better of Varnish and nginx on every
row (throughput / req/s), with s3hc's p99 <= the lower of theirs; rows that miss it are
marked. See tests/bench/README.md.

Needs only the standard library (no boto3), wrk, nginx and varnish (Debian packages). Not
part of CTest. The machinery (wrk runs, rounds, tables) is shared with forward_bench.py and
cache_bench.py: bench_common.py.
"""

import contextlib
import os
import shutil
import sys
import tempfile
import time

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    KiB, LOG_SETTLE_SECONDS, MiB, REQUEST_RATE, THROUGHPUT, AccessLogCounter,
    OriginAndCpuObserver, RetryBudget, Row, add_cache_option_argument, argument_parser,
    cache_read_counters, check_bodies, cpu_table, finish_args, format_rss,
    header_lines, http_get_with_headers, measure_row, parse_cache_options, prepare_run,
    print_report, print_warmth, process_tree, progress, rss_report, s3hc_problem_counters, s3hc_state_since,
    start_origin, tool_version, warm_caches, write_json)
from support.nginx_origin import NginxCachingProxy  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402
from support.varnish_cache import DEFAULT_PARAMS, VARNISHD_BIN, VarnishCache  # noqa: E402

OBJECTS = {"4KiB": 4 * KiB, "64KiB": 64 * KiB, "1MiB": MiB, "64MiB": 64 * MiB}

ROWS = [
    Row("GET 4 KiB, 64 conns", "4KiB", 64, REQUEST_RATE),
    Row("GET 64 KiB, 16 clients", "64KiB", 16, THROUGHPUT),
    Row("GET 1 MiB, 16 clients", "1MiB", 16, THROUGHPUT),
    Row("GET 64 MiB, 1 client", "64MiB", 1, THROUGHPUT),
    Row("GET 64 MiB, 16 clients", "64MiB", 16, THROUGHPUT),
]

TARGETS = ("s3hc", "varnish", "nginx")
# s3hc is to match the better of these on every row.
PEERS = ("varnish", "nginx")

CACHE_TTL_MS = 3_600_000
# s3hc's settings on top of its defaults: memory enough for the objects many times over, and
# an entry limit as large as the largest object so that every answer is a RAM hit (the tier
# then keeps 4 shards of 256 MiB, each able to hold 4 such entries). Varnish gets as much.
S3HC_RAM_SIZE = "1GiB"
S3HC_RAM_MAX_ENTRY_BYTES = 64 * MiB
VARNISH_STORAGE = "malloc,1g"
VARNISH_TTL = "1h"

# The header each cache marks a hit with, and the value that means "served from the cache".
HIT_HEADERS = {"s3hc": ("X-Cache", "HIT"), "varnish": ("X-Cache", "HIT"),
               "nginx": ("X-Cache-Status", "HIT")}
# How long s3hc may take to serve an object from its RAM tier after it answered HIT (the
# first hits read the files and put the bytes in memory).
RAM_WAIT_SECONDS = 5.0
RAM_HITS = "s3hc_cache_ram_hits_total"

RATIO_LEGEND = """\
rounds won: rounds in which s3hc's run was >= that peer's run of the same round.
p99 ratio: s3hc / peer, lower is better; * = a biased p99 was replaced by the mean (see above)."""

CPU_LEGEND = """\
cores busy: CPU seconds of the target's own processes (s3hc; varnishd manager + cache child; nginx
  master + workers) / run time. CPU us/req, ms/GiB: the same CPU time per response (partly received
  responses by their share of bytes) and per GiB received. Resolution: 1 clock tick (10 ms) per run."""

RSS_NOTE = ("sum of VmHWM over each target's processes; it includes mapped files and shared "
            "memory they touched (varnishd's shared-memory log), counted once per process; the "
            "page cache holding s3hc's and nginx's cache files counts for neither")


# ---- the targets ----------------------------------------------------------------------

def start_targets(stack, settings, proxy_bin, cache_options, varnish_params):
    """Origin (with its access log) serving OBJECTS, and the three caches in front of it.
    Returns ({target: base URL}, origin, {target: the running helper})."""
    origin = start_origin(stack, settings, access_log=True, objects=OBJECTS)
    varnish = stack.enter_context(VarnishCache(
        upstream_port=origin.port, storage=VARNISH_STORAGE, ttl=VARNISH_TTL,
        params=varnish_params))
    nginx_cache = stack.enter_context(NginxCachingProxy(
        upstream_port=origin.port, workers=settings.proxy_workers, access_log=False))
    cache_parent = tempfile.mkdtemp(prefix="s3hc-bench-cache-")
    stack.callback(shutil.rmtree, cache_parent, True)
    config = {"cache": dict({"dir": os.path.join(cache_parent, "cache"),
                             "get_ttl_ms": CACHE_TTL_MS, "head_ttl_ms": CACHE_TTL_MS,
                             "ram_size": S3HC_RAM_SIZE,
                             "ram_max_entry_bytes": S3HC_RAM_MAX_ENTRY_BYTES},
                            **cache_options)}
    proxy = ProxyProcess(origin.url, config=config, log_level="warn",
                         threads=settings.proxy_workers, binary=proxy_bin)
    # Callbacks run last-in first-out: stop the proxy, then delete its log (read by then).
    stack.callback(lambda: proxy.process and proxy.process.remove_log())
    stack.callback(proxy.stop)
    proxy.start()
    urls = {"s3hc": proxy.endpoint_url, "varnish": varnish.url, "nginx": nginx_cache.url}
    return urls, origin, {"s3hc": proxy, "varnish": varnish, "nginx": nginx_cache}


def prove_ram_hits(proxy):
    """GET every object through s3hc until one GET adds one to s3hc_cache_ram_hits_total
    (at most RAM_WAIT_SECONDS per object): the answer came from memory. Returns the seconds
    it took; raises RuntimeError otherwise."""
    started = time.monotonic()
    for object_name, size in OBJECTS.items():
        path = f"/bench/{object_name}"
        deadline = time.monotonic() + RAM_WAIT_SECONDS
        while True:
            before = proxy.metric(RAM_HITS)
            status, headers, _, body = http_get_with_headers(proxy.endpoint_url, path)
            if status != 200 or len(body) != size:
                raise RuntimeError(f"s3hc: GET {path} answered {status} with {len(body)} bytes")
            if proxy.metric(RAM_HITS) == before + 1:
                break
            if time.monotonic() >= deadline:
                raise RuntimeError(f"s3hc: GET {path} still not answered from the RAM tier "
                                   f"{RAM_WAIT_SECONDS:.0f} s after it was a HIT ({RAM_HITS} "
                                   f"did not grow); headers: {headers}")
            time.sleep(0.1)
    return time.monotonic() - started


def target_pid_lists(helpers):
    """{target: callable -> pids of the target's processes now}."""
    return {"s3hc": lambda: [helpers["s3hc"].pid],
            "varnish": lambda: process_tree(helpers["varnish"].pid),
            "nginx": lambda: process_tree(helpers["nginx"].process.pid)}


def memory_breakdown(pid):
    """Current RssAnon, RssFile and RssShmem of one process in KiB (zeros if it is gone)."""
    fields = {"RssAnon:": 0, "RssFile:": 0, "RssShmem:": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0] + ":"
                if key in fields:
                    fields[key] = int(line.split()[1])
    except OSError:
        pass
    return {key.rstrip(":").replace("Rss", "").lower(): value for key, value in fields.items()}


def memory_report(pid_lists):
    """{target: {"anon": KiB, "file": KiB, "shmem": KiB}} now, summed over its processes."""
    report = {}
    for name, pids in pid_lists.items():
        totals = {"anon": 0, "file": 0, "shmem": 0}
        for pid in pids:
            for kind, kib in memory_breakdown(pid).items():
                totals[kind] += kib
        report[name] = totals
    return report


# ---- report ---------------------------------------------------------------------------

def header(settings, proxy_bin, cache_options, varnish_params):
    options = "".join(f", {k}={v}" for k, v in cache_options.items())
    params = " ".join(f"-p {k}={v}" for k, v in varnish_params.items())
    # "varnishd (varnish-7.1.1 revision 7cee1c5...)" -> "varnish-7.1.1"
    varnish_version = tool_version([VARNISHD_BIN, "-V"]).split("(")[-1].split(" revision")[0]
    return "\n".join(header_lines("s3hc RAM-tier benchmark", settings, proxy_bin) + [
        f"peers: {varnish_version}; origin: nginx files, worker_processes "
        f"{settings.origin_workers}, sendfile, access log on (to count origin requests)",
        f"s3hc: --threads {settings.proxy_workers} --log-level warn, cache.ram_size = "
        f"{S3HC_RAM_SIZE}, cache.ram_max_entry_bytes = {S3HC_RAM_MAX_ENTRY_BYTES}, "
        f"cache.get_ttl_ms = cache.head_ttl_ms = {CACHE_TTL_MS}{options} | varnish: "
        f"-s {VARNISH_STORAGE} {params}, VCL: 200 answers cached {VARNISH_TTL} | nginx cache: "
        f"worker_processes {settings.proxy_workers}, proxy_cache + slice 1m, "
        f"proxy_cache_valid 200 206 1h, sendfile",
        "all caches warm (every object GET through each, then HIT checked; s3hc's answers "
        "checked to come from its RAM tier)",
    ])


def format_memory(report):
    width = max(len(name) for name in report)
    return "\n".join(f"  {name:<{width}} anon {entry['anon'] / 1024:7.1f} MiB, file "
                     f"{entry['file'] / 1024:7.1f} MiB, shmem {entry['shmem'] / 1024:7.1f} MiB"
                     for name, entry in report.items())


def print_findings(observer, log_before, log_after, reads_delta, ram_hits, rss, memory,
                   warm_seconds, ram_seconds):
    """The cache-specific findings; returns True if anything needs attention."""
    print()
    served = ", ".join(f"through {name}: {observer.origin_requests[name]}" for name in TARGETS)
    print(f"origin access log: {log_before} lines before measuring, {log_after} after; "
          f"requests the origin served during the runs {served}")
    cold = print_warmth(observer, TARGETS, reads_delta)
    hits = reads_delta.get("hit", 0)
    not_hits = {k: v for k, v in reads_delta.items() if k != "hit" and v}
    print(f"  of the hits, answered from the RAM tier ({RAM_HITS}): {ram_hits:.0f}"
          + ("" if ram_hits >= hits else "  <- NOT ALL FROM RAM"))
    print("caches answered HIT after warming within: "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in warm_seconds.items())
          + f"; s3hc answered every object from RAM {ram_seconds:.2f} s later")
    print("peak RSS (VmHWM) at the end of the run:")
    print(format_rss(rss, PEERS, RSS_NOTE))
    print("resident memory at the end of the run, by kind (RssAnon, RssFile, RssShmem summed "
          "over the processes):")
    print(format_memory(memory))
    return bool(cold or not_hits or ram_hits < hits)


# ---- main -----------------------------------------------------------------------------

def parse_args(argv):
    parser = argument_parser(__doc__.split("\n\n")[0])
    add_cache_option_argument(parser)
    parser.add_argument("--varnish-param", action="append", default=[], metavar="KEY=VALUE",
                        help="varnishd run-time parameter (-p), replacing the default "
                             f"{DEFAULT_PARAMS} when given (repeatable)")
    args = finish_args(parser, parser.parse_args(argv))
    args.cache_options = parse_cache_options(parser, args)
    args.varnish_params = dict(DEFAULT_PARAMS) if not args.varnish_param else {}
    for item in args.varnish_param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--varnish-param wants KEY=VALUE, not {item!r}")
        args.varnish_params[key] = value
    return args


def main(argv=None):
    args = parse_args(argv)
    if not os.access(VARNISHD_BIN, os.X_OK):
        sys.exit(f"{VARNISHD_BIN} not found (Debian package varnish; bash scripts/setup.sh)")
    settings, proxy_bin, started = prepare_run(args)
    base, retry_time = settings.estimated_seconds(ROWS, TARGETS)
    settle = len(ROWS) * len(TARGETS) * (1 + settings.repeats) * LOG_SETTLE_SECONDS
    progress(f"estimated time: {(base + settle) / 60:.1f} min of wrk runs and origin-log "
             f"checks, up to {retry_time} s more if rounds are disturbed")
    with contextlib.ExitStack() as stack:
        urls, origin, helpers = start_targets(stack, settings, proxy_bin, args.cache_options,
                                              args.varnish_params)
        proxy = helpers["s3hc"]
        try:
            warm_seconds = warm_caches(urls, HIT_HEADERS, OBJECTS)
            ram_seconds = prove_ram_hits(proxy)
            response_bytes = check_bodies(urls, origin, expect_headers=HIT_HEADERS,
                                          objects=OBJECTS)
        except RuntimeError as error:
            print(f"ABORTED: a cache is not warm after warming: {error}", file=sys.stderr)
            for helper in helpers.values():
                print(helper.log_tail(), file=sys.stderr)
            return 2
        origin_log = AccessLogCounter(os.path.join(origin.prefix, "access.log"))
        pids = target_pid_lists(helpers)
        observer = OriginAndCpuObserver(origin_log, pids)
        log_before = origin_log.settled_count()
        counters_before = s3hc_problem_counters(proxy)
        reads_before = cache_read_counters(proxy)
        ram_before = proxy.metric(RAM_HITS)
        retries = RetryBudget(settings.retries)
        results = [(row, measure_row(row, urls, response_bytes, settings, retries, progress,
                                     observer, targets=TARGETS))
                   for row in ROWS]
        log_after = origin_log.settled_count()
        reads_delta = {k: v - reads_before.get(k, 0)
                       for k, v in cache_read_counters(proxy).items()}
        ram_hits = proxy.metric(RAM_HITS) - ram_before
        rss = rss_report({name: pids[name]() for name in TARGETS})
        memory = memory_report({name: pids[name]() for name in TARGETS})
        s3hc_state = s3hc_state_since(proxy, counters_before)

    trouble = print_report(header(settings, proxy_bin, args.cache_options, args.varnish_params),
                           settings, results, s3hc_state, retries.used, targets=TARGETS,
                           references=PEERS, peers=PEERS, ratio_legend=RATIO_LEGEND)
    print()
    print(cpu_table(results, TARGETS, PEERS))
    print(CPU_LEGEND)
    trouble |= print_findings(observer, log_before, log_after, reads_delta, ram_hits, rss,
                              memory, warm_seconds, ram_seconds)
    print(f"total time: {time.monotonic() - started:.0f} s")
    if args.json:
        write_json(args.json, settings, results, extra={
            "cache_options": args.cache_options,
            "varnish_params": args.varnish_params,
            "origin_requests_during_runs": observer.origin_requests,
            "origin_log_lines": {"before": log_before, "after": log_after},
            "s3hc_cache_reads": reads_delta,
            "s3hc_ram_hits": ram_hits,
            "peak_rss_kib": rss,
            "rss_by_kind_kib": memory,
            "target_cpu": observer.cpu_by_run,
        })
    return 1 if args.strict and trouble else 0


if __name__ == "__main__":
    sys.exit(main())
