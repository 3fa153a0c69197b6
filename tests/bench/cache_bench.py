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
import statistics
import sys
import tempfile
import time

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    OBJECT_SIZES, ROWS, TARGET_NAMES, MiB, RetryBudget, RunObserver,
    argument_parser, check_bodies, descendants, finish_args, format_ratio, header_lines,
    http_get_with_headers, measure_row, prepare_run, print_report, process_cpu_ticks, progress,
    s3hc_problem_counters, s3hc_state_since, start_origin, write_json)
from support.nginx_origin import NginxCachingProxy  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

CACHE_TTL_MS = 3_600_000
# The header each cache marks a hit with, and the value that means "served from the cache".
HIT_HEADERS = {"s3hc": ("X-Cache", "HIT"), "nginx": ("X-Cache-Status", "HIT")}
# The targets with a cache: during their runs the origin must see no request.
CACHES = ("s3hc", "nginx")
# How long after warming a cache may take to answer HIT (a fill may be committed just
# after its response went out).
HIT_WAIT_SECONDS = 5.0
# The origin's access log counts as settled (every request of the last run logged) when
# it has not grown for this long.
LOG_SETTLE_SECONDS = 0.25

TICKS = os.sysconf("SC_CLK_TCK")


# ---- what happens during the runs ---------------------------------------------------

class AccessLogCounter:
    """Counts the lines of an nginx access log incrementally (the origin's log grows by
    hundreds of MB over the direct runs: never read it twice)."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                while chunk := f.read(1 << 20):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except FileNotFoundError:
            pass
        return self.lines

    def settled_count(self, timeout=10.0):
        """The line count once the log stopped growing for LOG_SETTLE_SECONDS: nginx
        logs a request when it finishes, which for a response cut off at the end of a
        wrk run can be a moment later."""
        deadline = time.monotonic() + timeout
        last = self.count()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.count()
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= LOG_SETTLE_SECONDS:
                break
        return last


class CacheBenchObserver(RunObserver):
    """Around every wrk run (warm-ups and re-measured rounds included): requests the
    origin logged during it, per target, and the CPU time the target's own processes
    used, attached to the run's WrkResult as `target_cpu_s` (not a dataclass field, so
    it stays out of the shared JSON layout; write_json's extra carries it)."""

    def __init__(self, origin_log, target_pids):
        self.origin_log = origin_log
        self.target_pids = target_pids          # {target: callable -> list of pids}
        self.origin_requests = {name: 0 for name in TARGET_NAMES}
        self.origin_requests_by_row = {}        # {(row label, target): count}
        self.cpu_by_run = []                    # rows of the JSON's "target_cpu"
        self._log_count = None
        self._cpu_before = 0

    def before_run(self, row, name):
        if self._log_count is None:
            self._log_count = self.origin_log.settled_count()
        self._cpu_before = self._target_ticks(name)

    def after_run(self, row, name, result):
        cpu_s = (self._target_ticks(name) - self._cpu_before) / TICKS
        count = self.origin_log.settled_count()
        served = count - self._log_count
        self._log_count = count
        self.origin_requests[name] += served
        key = (row.label, name)
        self.origin_requests_by_row[key] = self.origin_requests_by_row.get(key, 0) + served
        if result is not None:
            result.target_cpu_s = cpu_s
            self.cpu_by_run.append({"row": row.label, "target": name, "cpu_s": cpu_s,
                                    "requests": result.requests, "bytes": result.bytes})

    def _target_ticks(self, name):
        return sum(process_cpu_ticks(pid) for pid in self.target_pids[name]())


def process_tree(pid):
    """pid and its live descendants (nginx: master, workers, cache manager/loader)."""
    return [pid] + descendants(pid) if pid else []


def peak_rss_kib(pid):
    """VmHWM of one process in KiB; None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def process_name(pid):
    """nginx sets its title ("nginx: worker process"); s3hc has its command name."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
    return title.replace("nginx: ", "").split(" -p ")[0] or "?"


def rss_report(pid_lists):
    """{target: {"processes": [(pid, name, VmHWM KiB)], "sum_kib": n}}."""
    report = {}
    for name, pids in pid_lists.items():
        processes = [(pid, process_name(pid), peak_rss_kib(pid)) for pid in pids]
        processes = [p for p in processes if p[2] is not None]
        report[name] = {"processes": processes, "sum_kib": sum(p[2] for p in processes)}
    return report


def cache_read_counters(proxy):
    """s3hc's s3hc_cache_reads_total by result, e.g. {"hit": 12.0, "miss": 0.0, ...}."""
    prefix = 's3hc_cache_reads_total{result="'
    return {series[len(prefix):-2]: count for series, count in proxy.metrics().items()
            if series.startswith(prefix)}


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


def warm_caches(urls):
    """GET every object once through each cache, then until it answers with its HIT
    marker (at most HIT_WAIT_SECONDS). Returns {target: seconds until all were HITs}.
    Raises RuntimeError (with the last answer's headers) if a cache never answers HIT."""
    waited = {}
    for name in CACHES:
        started = time.monotonic()
        for object_name in OBJECT_SIZES:
            path = f"/bench/{object_name}"
            status, headers, _, body = http_get_with_headers(urls[name], path)
            if status != 200 or len(body) != OBJECT_SIZES[object_name]:
                raise RuntimeError(f"{name}: warming GET {path} answered {status} with "
                                   f"{len(body)} bytes; headers: {headers}")
            field, value = HIT_HEADERS[name]
            deadline = time.monotonic() + HIT_WAIT_SECONDS
            while True:
                status, headers, _, body = http_get_with_headers(urls[name], path)
                got = {k.lower(): v for k, v in headers}.get(field.lower())
                if status == 200 and got is not None and got.upper() == value:
                    break
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"{name}: GET {path} still answers {status}, {field}: {got} "
                        f"{HIT_WAIT_SECONDS:.0f} s after a complete warming GET "
                        f"(expected {field}: {value}); headers: {headers}")
                time.sleep(0.1)
        waited[name] = time.monotonic() - started
    return waited


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


def cpu_table(results):
    """Each target's own CPU time (its processes, not wrk's) per request and per GiB,
    medians over the measured runs of the cell."""
    lines = [f"{'row':<24} {'target':<7} {'cores busy':>10} {'CPU us/req':>11} "
             f"{'CPU ms/GiB':>11}   s3hc/nginx CPU per request"]
    for row, cells in results:
        per_request = {}
        for index, name in enumerate(TARGET_NAMES):
            runs = [r for r in cells[name].runs if hasattr(r, "target_cpu_s")]
            if not runs:
                continue
            busy = statistics.median(r.target_cpu_s / (r.duration_us / 1e6) for r in runs)
            per_request[name] = statistics.median(
                r.target_cpu_s / max(r.bytes / cells[name].response_bytes, 1e-9) * 1e6
                for r in runs)
            per_gib = statistics.median(r.target_cpu_s / max(r.bytes / 1024 / MiB, 1e-12) * 1e3
                                        for r in runs)
            label = row.label if index == 0 else ""
            lines.append(f"{label:<24} {name:<7} {busy:10.2f} {per_request[name]:11.1f} "
                         f"{per_gib:11.1f}")
        if "s3hc" in per_request and "nginx" in per_request:
            lines[-len(per_request)] += ("   " + format_ratio(
                per_request["s3hc"] / per_request["nginx"] if per_request["nginx"] else
                float("nan")))
    return "\n".join(lines)


CPU_LEGEND = """\
cores busy: CPU seconds of the target's own processes (s3hc; nginx master + workers; for direct
  the origin's) / run time. CPU us/req, ms/GiB: the same CPU time per response (partly received
  responses by their share of bytes) and per GiB received. Resolution: 1 clock tick (10 ms) per run."""


def format_rss(report):
    parts = []
    for name in CACHES:
        entry = report[name]
        detail = ", ".join(f"{pname} {kib / 1024:.1f}" for _, pname, kib in entry["processes"])
        parts.append(f"  {name:<6} {entry['sum_kib'] / 1024:8.1f} MiB"
                     + (f"  ({len(entry['processes'])} processes: {detail} MiB)"
                        if name != "s3hc" else ""))
    s3hc_kib, nginx_kib = report["s3hc"]["sum_kib"], report["nginx"]["sum_kib"]
    parts.append(f"  s3hc/nginx {format_ratio(s3hc_kib / nginx_kib if nginx_kib else float('nan'))}"
                 "  (sum of VmHWM: pages shared by nginx's master and workers count once per "
                 "process; the page cache holding either cache's files counts for neither)")
    return "\n".join(parts)


def print_cache_findings(observer, log_before, log_after, reads_delta, rss, warm_seconds):
    """The cache-specific findings; returns True if anything needs attention."""
    print()
    print(f"origin access log: {log_before} lines before measuring, {log_after} after; "
          f"requests the origin served during the runs through s3hc: "
          f"{observer.origin_requests['s3hc']}, through nginx cache: "
          f"{observer.origin_requests['nginx']}, direct (wrk to the origin): "
          f"{observer.origin_requests['direct']}")
    leaks = {f"{label} / {name}": count for (label, name), count in
             observer.origin_requests_by_row.items() if name in CACHES and count}
    if leaks:
        print(f"  NOT WARM: the origin served requests during cache runs: {leaks}")
    else:
        print("  warm: neither cache sent a request to the origin during its runs (warm-ups "
              "included)")
    print("s3hc cache reads during the runs (s3hc_cache_reads_total): "
          + ", ".join(f"{k}={v:.0f}" for k, v in sorted(reads_delta.items())))
    not_hits = {k: v for k, v in reads_delta.items() if k != "hit" and v}
    print("caches answered HIT after warming within: "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in warm_seconds.items()))
    print("peak RSS (VmHWM) at the end of the run:")
    print(format_rss(rss))
    return bool(leaks or not_hits)


# ---- main -----------------------------------------------------------------------------

def parse_args(argv):
    parser = argument_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--cache-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra setting for s3hc's cache section, e.g. io_threads=2 or "
                             "mirror_dir=/tmp/m (repeatable; numbers and true/false are typed)")
    args = finish_args(parser, parser.parse_args(argv))
    args.cache_options = {}
    for item in args.cache_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--cache-option wants KEY=VALUE, not {item!r}")
        args.cache_options[key] = typed(value)
    return args


def typed(text):
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


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
            warm_seconds = warm_caches(urls)
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
        observer = CacheBenchObserver(origin_log, target_pids)
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
