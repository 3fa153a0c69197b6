"""Machinery shared by the benchmarks in this directory (forward_bench.py, cache_bench.py,
ram_bench.py).

wrk runs (run_wrk, WrkResult), the default rows, objects and targets (ROWS, OBJECT_SIZES,
TARGET_NAMES = s3hc, nginx, direct), the meter of other processes' CPU use (CpuMeter),
per-row measurement with rotated rounds and retries of disturbed rounds (measure_row), the
body check, the result and ratio tables, the common command line options, and the
report/JSON writers. For the cache benchmarks also: warming caches until they answer HIT,
counting the origin's requests and each target's own CPU time around every run
(OriginAndCpuObserver), the CPU-per-request table and peak RSS.

A benchmark with other rows, objects or targets passes them in (rows=, objects=, targets=;
`peers`: the targets s3hc must match, the target check is s3hc >= 1.0x the best of them and
its p99 <= the lowest of theirs; `references`: the targets the ratio table compares s3hc
with). The defaults are forward_bench's and cache_bench's. Each benchmark starts its own
targets and adds its own header and findings; see README.md.
"""

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from support.nginx_origin import NGINX_BIN, NginxFileOrigin  # noqa: E402
from support.proxy import proxy_binary  # noqa: E402

WRK_BIN = os.environ.get("S3HC_WRK_BIN", "wrk")
WRK_SCRIPT = os.path.join(HERE, "wrk_report.lua")
# wrk's default 2 s timeout would count a 64 MiB response shared 16 ways on a slow
# target as an error instead of as a slow request.
WRK_TIMEOUT = "30s"

KiB = 1024
MiB = 1024 * KiB
OBJECT_SIZES = {"4KiB": 4 * KiB, "1MiB": MiB, "64MiB": 64 * MiB}

# A measured run in which processes outside the benchmark used more than this share of
# the CPU is flagged: the neighbours, not the targets, may have decided it.
OTHER_CPU_WARNING = 0.10

THROUGHPUT = "MiB/s"
REQUEST_RATE = "req/s"


@dataclasses.dataclass(frozen=True)
class Row:
    label: str
    object_name: str      # key of the benchmark's objects (OBJECT_SIZES by default)
    connections: int      # concurrent clients = wrk connections
    metric: str           # THROUGHPUT or REQUEST_RATE: what the ratio compares

    @property
    def path(self):
        return f"/bench/{self.object_name}"


ROWS = [
    Row("GET 1 MiB, 1 client", "1MiB", 1, THROUGHPUT),
    Row("GET 1 MiB, 16 clients", "1MiB", 16, THROUGHPUT),
    Row("GET 64 MiB, 1 client", "64MiB", 1, THROUGHPUT),
    Row("GET 64 MiB, 16 clients", "64MiB", 16, THROUGHPUT),
    Row("GET 4 KiB, 64 conns", "4KiB", 64, REQUEST_RATE),
]

TARGET_NAMES = ("s3hc", "nginx", "direct")


@dataclasses.dataclass
class Settings:
    duration: int         # seconds per measured wrk run
    warmup: int           # seconds of the warm-up run per row and target
    repeats: int          # measured runs per row and target; the median is reported
    retries: int          # disturbed rounds that may be measured again, whole benchmark
    cores: int
    origin_workers: int
    proxy_workers: int

    def estimated_seconds(self, rows=ROWS, targets=TARGET_NAMES):
        """wrk time without retries, and the most the retries can add."""
        runs_per_target = len(rows) * len(targets)
        base = runs_per_target * (self.warmup + self.repeats * self.duration)
        return base, self.retries * len(targets) * self.duration


# ---- wrk -------------------------------------------------------------------------

@dataclasses.dataclass
class WrkResult:
    duration_us: float
    requests: int
    bytes: int
    p50_us: float
    p99_us: float
    max_us: float
    errors: dict          # connect/read/write/status/timeout counts
    connections: int = 0
    other_cpu: float = 0.0  # share of the machine's CPU used by processes not ours (see CpuMeter)

    @property
    def mib_per_s(self):
        return self.bytes / MiB / (self.duration_us / 1e6)

    @property
    def requests_per_s(self):
        return self.requests / (self.duration_us / 1e6)

    def value(self, metric):
        return self.mib_per_s if metric == THROUGHPUT else self.requests_per_s

    @property
    def error_count(self):
        return sum(self.errors.values())

    def implied_mean_us(self, response_bytes):
        """Mean time per request by Little's law: every connection is busy all the run,
        so mean = connections x duration / responses, counting a response still in
        flight at the end by the share of its bytes received. Unlike wrk's percentiles,
        this includes requests that never completed in the run."""
        responses = self.bytes / response_bytes
        return self.connections * self.duration_us / responses if responses else float("inf")


def wrk_threads(connections, cores):
    """One wrk thread per core, but never more threads than connections (wrk needs
    at least one connection per thread)."""
    return max(1, min(connections, cores))


def run_wrk(url, connections, threads, seconds):
    """One wrk run; returns its WrkResult (parsed from wrk_report.lua's JSON line)."""
    argv = [WRK_BIN, f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
            "--timeout", WRK_TIMEOUT, "--latency", "-s", WRK_SCRIPT, url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            return WrkResult(**json.loads(line[len("WRK_RESULT "):]), connections=connections)
    raise RuntimeError(f"wrk printed no result (exit {done.returncode}): {' '.join(argv)}\n"
                       f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")


# ---- other load on the machine -------------------------------------------------------

class CpuMeter:
    """How much CPU processes outside this benchmark used during a run.

    /proc/stat gives the CPU time of the whole machine; this process, its children
    (wrk, nginx, s3hc) and their descendants give ours. The difference is someone
    else's work on the same cores (a compiler, another benchmark): a run with a large
    share of it measured the neighbours as much as the proxy.
    """

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, cores):
        self.cores = cores

    def snapshot(self):
        return time.monotonic(), self._machine_busy_seconds(), self._our_cpu_seconds()

    def other_share(self, since):
        """Share (0..1) of all cores used by other processes since snapshot `since`."""
        wall0, busy0, ours0 = since
        wall1, busy1, ours1 = self.snapshot()
        other = (busy1 - busy0) - (ours1 - ours0)
        return max(0.0, other / (self.cores * (wall1 - wall0)))

    def _machine_busy_seconds(self):
        with open("/proc/stat") as f:
            user, nice, system = (int(v) for v in f.readline().split()[1:4])
        return (user + nice + system) / self.TICKS

    def _our_cpu_seconds(self):
        own = os.times()  # children_*: reaped children, i.e. finished wrk runs
        total = own.user + own.system + own.children_user + own.children_system
        for pid in descendants(os.getpid()):
            total += process_cpu_ticks(pid) / self.TICKS
        return total


def _proc_stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (which may contain spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def descendants(root_pid):
    """PIDs of all live descendants of root_pid."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_proc_stat_fields(entry)[1])
            except (OSError, IndexError, ValueError):
                continue  # exited while we looked
    found, frontier = [], [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def process_cpu_ticks(pid):
    """utime + stime + cutime + cstime in ticks (cutime/cstime: its reaped children,
    e.g. nginx workers a master restarted); 0 if it exited meanwhile."""
    try:
        fields = _proc_stat_fields(pid)
    except OSError:
        return 0
    return sum(int(v) for v in fields[11:15])


# ---- aggregated results ------------------------------------------------------------

@dataclasses.dataclass
class Cell:
    """All measured runs of one row against one target."""
    metric: str
    response_bytes: int   # headers + body of one response from this target
    runs: list = dataclasses.field(default_factory=list)

    @property
    def value(self):
        return statistics.median(r.value(self.metric) for r in self.runs)

    @property
    def p50_ms(self):
        return self._median_latency_ms("p50_us")

    @property
    def p99_ms(self):
        return self._median_latency_ms("p99_us")

    def _median_latency_ms(self, field):
        """Median over the runs that completed a request; None if none did (a run
        shorter than one response, e.g. 64 MiB at 16 clients in a 1 s run: its bytes
        still count for throughput, but it has no latency sample)."""
        samples = [getattr(r, field) for r in self.runs if r.requests]
        return statistics.median(samples) / 1000 if samples else None

    @property
    def mean_ms(self):
        """Median over the runs of the Little's-law mean time per request."""
        return statistics.median(r.implied_mean_us(self.response_bytes) for r in self.runs) / 1000

    @property
    def p99_biased(self):
        """wrk's p99 below the mean time per request: the slow requests are missing from
        wrk's sample (they did not complete within the run), so the target served some
        connections and starved others, and its p99 flatters it."""
        return self.p99_ms is not None and self.p99_ms < self.mean_ms

    @property
    def p99_for_target(self):
        """p99 used for the target check: wrk's p99, raised to the mean time per request
        when wrk's sample is biased (the true p99 is at least about the mean)."""
        if self.p99_ms is None:
            return None
        return max(self.p99_ms, self.mean_ms)

    @property
    def spread(self):
        """(max - min) / median of the row's metric over the repeats: how noisy it was."""
        values = [r.value(self.metric) for r in self.runs]
        return (max(values) - min(values)) / self.value if self.value else float("nan")

    @property
    def worst_other_cpu(self):
        return max(r.other_cpu for r in self.runs)

    @property
    def errors(self):
        totals = {}
        for run in self.runs:
            for kind, count in run.errors.items():
                totals[kind] = totals.get(kind, 0) + count
        return {kind: count for kind, count in totals.items() if count}


@dataclasses.dataclass
class Comparison:
    """s3hc against one reference target on one row."""
    value_ratio: float    # s3hc / reference (throughput or req/s): higher is better
    p99_ratio: float      # s3hc p99 / reference p99: lower is better


def ratio(a, b):
    return a / b if a is not None and b else float("nan")


def compare(cells, reference):
    s3hc, ref = cells["s3hc"], cells[reference]
    return Comparison(ratio(s3hc.value, ref.value), ratio(s3hc.p99_for_target, ref.p99_for_target))


def rounds_won(cells, reference):
    """In how many rounds s3hc's run beat (>=) the reference's run of the same round:
    runs of one round are seconds apart, so this shows whether the median ratio holds
    up round by round or rests on one disturbed run."""
    pairs = zip(cells["s3hc"].runs, cells[reference].runs)
    metric = cells["s3hc"].metric
    won = sum(1 for mine, theirs in pairs if mine.value(metric) >= theirs.value(metric))
    return f"{won}/{len(cells['s3hc'].runs)}"


def misses(cells, peers=("nginx",)):
    """Why a row misses the target (s3hc >= 1.0x the best peer's throughput / req/s, and
    s3hc's p99 <= the lowest p99 of the peers); [] if it meets it. With one peer (nginx,
    the default) the reasons are "MiB/s"/"req/s" and "p99"; with several, each names the
    peer that s3hc did not match ("req/s < varnish")."""
    metric = cells["s3hc"].metric
    reasons = []
    best_value = max(peers, key=lambda name: cells[name].value)
    if not compare(cells, best_value).value_ratio >= 1.0:
        reasons.append(metric + (f" < {best_value}" if len(peers) > 1 else ""))
    s3hc_p99 = cells["s3hc"].p99_for_target
    peer_p99 = {name: cells[name].p99_for_target for name in peers
                if cells[name].p99_for_target is not None}
    if s3hc_p99 is None and peer_p99:
        reasons.append("p99: no s3hc request completed")
    elif s3hc_p99 is not None and peer_p99:
        best_p99 = min(peer_p99, key=peer_p99.get)
        if s3hc_p99 > peer_p99[best_p99]:
            reasons.append("p99" + (f" > {best_p99}" if len(peers) > 1 else ""))
    return reasons


# ---- measuring ----------------------------------------------------------------------

class RunObserver:
    """Hooks around every wrk run of measure_row() (warm-up runs included, and rounds
    that were measured again): a benchmark that must see what happens during a run
    (requests at the origin, the targets' own CPU time) subclasses it. The defaults
    do nothing."""

    def before_run(self, row, name):
        pass

    def after_run(self, row, name, result):
        """result: the run's WrkResult; None for a warm-up run."""


def measure_row(row, urls, response_bytes, settings, retries, progress, observer=None,
                targets=TARGET_NAMES):
    """Warm up every target, then `repeats` rounds over all targets with the order
    rotated each round, so no target always runs first (cold) or last (after the
    others heated the machine). A round that other processes disturbed is measured
    again while `retries` (shared by all rows) lasts; the least disturbed attempt
    counts. response_bytes: {target: {object_name: bytes}} from check_bodies().
    observer: a RunObserver called around every run. targets: the names (keys of urls)
    in the order of the first round. Returns {target: Cell}."""
    targets = tuple(targets)
    observer = observer or RunObserver()
    threads = wrk_threads(row.connections, settings.cores)
    meter = CpuMeter(settings.cores)
    cells = {name: Cell(row.metric, response_bytes[name][row.object_name])
             for name in targets}
    for name in targets:
        observer.before_run(row, name)
        run_wrk(urls[name] + row.path, row.connections, threads, settings.warmup)
        observer.after_run(row, name, None)
    for round_index in range(settings.repeats):
        shift = round_index % len(targets)
        order = targets[shift:] + targets[:shift]

        def measure_round():
            return {name: measure_run(row, name, urls[name], threads, settings.duration,
                                      meter, round_index, progress, observer)
                    for name in order}

        best = measure_round()
        while disturbance(best) > OTHER_CPU_WARNING and retries.take():
            progress(f"  round {round_index + 1} disturbed: other processes used up to "
                     f"{disturbance(best):.0%} of the CPU; measuring it again")
            again = measure_round()
            if disturbance(again) < disturbance(best):
                best = again
        for name in targets:
            cells[name].runs.append(best[name])
    return cells


def measure_run(row, name, url, threads, duration, meter, round_index, progress, observer):
    observer.before_run(row, name)
    before = meter.snapshot()
    result = run_wrk(url + row.path, row.connections, threads, duration)
    result.other_cpu = meter.other_share(before)
    observer.after_run(row, name, result)
    progress(f"  {row.label:<24} {name:<7} run {round_index + 1}: "
             f"{result.value(row.metric):10.1f} {row.metric}, "
             f"{result.requests} requests, p99 {result.p99_us / 1000:.3f} ms, "
             f"errors {result.error_count}, other CPU {result.other_cpu:.0%}")
    return result


def disturbance(round_results):
    """Highest share of the CPU other processes took during one run of a round."""
    return max(r.other_cpu for r in round_results.values())


class RetryBudget:
    """How many disturbed rounds may still be measured again (whole benchmark)."""

    def __init__(self, total):
        self.left = total
        self.used = 0

    def take(self):
        if self.left <= 0:
            return False
        self.left -= 1
        self.used += 1
        return True


def check_bodies(urls, origin, expect_headers=None, objects=OBJECT_SIZES, tls=None):
    """GET every object once through every target and compare it with the file on
    disk: a throughput number for a proxy that truncates or corrupts is meaningless.
    expect_headers: {target: (header name, value)} the target's responses must carry
    (e.g. a cache's HIT marker), compared case-insensitively. objects: {name: size},
    served as /bench/<name> (start_origin()). tls: see http_get_with_headers().
    Returns {target: {object_name: size of the whole response (headers + body)}}."""
    expect_headers = expect_headers or {}
    sizes = {name: {} for name in urls}
    for object_name in objects:
        path = f"/bench/{object_name}"
        with open(origin.path_of(path), "rb") as f:
            expected = hashlib.sha256(f.read()).hexdigest()
        for name, url in urls.items():
            status, headers, header_bytes, body = http_get_with_headers(url, path, tls)
            if status != 200 or hashlib.sha256(body).hexdigest() != expected:
                raise RuntimeError(f"{name}: GET {path} answered {status} with {len(body)} "
                                   f"bytes, not the {objects[object_name]}-byte file")
            if name in expect_headers:
                field, value = expect_headers[name]
                got = {k.lower(): v for k, v in headers}.get(field.lower())
                if got is None or got.lower() != value.lower():
                    raise RuntimeError(f"{name}: GET {path} answered {field}: {got} where "
                                       f"{value} was expected; headers: {headers}")
            sizes[name][object_name] = header_bytes + len(body)
    return sizes


def http_get(base_url, path):
    """(status, size of the header section on the wire, body) of one GET."""
    status, _, header_bytes, body = http_get_with_headers(base_url, path)
    return status, header_bytes, body


def http_get_with_headers(base_url, path, tls=None):
    """(status, [(name, value), ...], size of the header section on the wire, body) of
    one GET. tls: the ssl.SSLContext of an https:// base_url (its certificate is checked
    against the context's CAs, for the URL's host)."""
    host, port = base_url.rsplit("/", 1)[-1].split(":")
    if base_url.startswith("https://"):
        conn = http.client.HTTPSConnection(host, int(port), timeout=60, context=tls)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        headers = resp.getheaders()
        # Servers write "Name: value\r\n" lines, so this is the header's size on the wire.
        status_line = f"HTTP/1.1 {resp.status} {resp.reason}\r\n"
        fields = "".join(f"{k}: {v}\r\n" for k, v in headers)
        return resp.status, headers, len(status_line) + len(fields) + 2, resp.read()
    finally:
        conn.close()


def s3hc_problem_counters(proxy):
    """s3hc's own view of trouble: responses to clients that were not 200, and
    upstream errors, as {series: count} (non-zero only)."""
    problems = {}
    for series, count in proxy.metrics().items():
        bad_status = series.startswith("s3hc_requests_total") and 'status="200"' not in series
        if (bad_status or series.startswith("s3hc_upstream_errors_total")) and count:
            problems[series] = count
    return problems


# ---- cache benchmarks: warm caches, origin requests, target CPU, RSS ------------------

# How long after warming a cache may take to answer HIT (a fill may be committed just
# after its response went out).
HIT_WAIT_SECONDS = 5.0
# The origin's access log counts as settled (every request of the last run logged) when
# it has not grown for this long.
LOG_SETTLE_SECONDS = 0.25


def warm_caches(urls, hit_headers, objects=OBJECT_SIZES):
    """GET every object once through each cache (the targets of hit_headers: {target:
    (header name, value that means HIT)}), then until it answers with its HIT marker (at
    most HIT_WAIT_SECONDS). Returns {target: seconds until all were HITs}.
    Raises RuntimeError (with the last answer's headers) if a cache never answers HIT."""
    waited = {}
    for name, (field, value) in hit_headers.items():
        started = time.monotonic()
        for object_name in objects:
            path = f"/bench/{object_name}"
            status, headers, _, body = http_get_with_headers(urls[name], path)
            if status != 200 or len(body) != objects[object_name]:
                raise RuntimeError(f"{name}: warming GET {path} answered {status} with "
                                   f"{len(body)} bytes; headers: {headers}")
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


class OriginAndCpuObserver(RunObserver):
    """Around every wrk run (warm-ups and re-measured rounds included): requests the
    origin logged during it, per target, and the CPU time the target's own processes
    used, attached to the run's WrkResult as `target_cpu_s` (not a dataclass field, so
    it stays out of the shared JSON layout; write_json's extra carries it).
    target_pids: {target: callable -> list of pids}, one entry per target measured."""

    def __init__(self, origin_log, target_pids):
        self.origin_log = origin_log
        self.target_pids = target_pids
        self.origin_requests = {name: 0 for name in target_pids}
        self.origin_requests_by_row = {}        # {(row label, target): count}
        self.cpu_by_run = []                    # rows of the JSON's "target_cpu"
        self._log_count = None
        self._cpu_before = 0

    def before_run(self, row, name):
        if self._log_count is None:
            self._log_count = self.origin_log.settled_count()
        self._cpu_before = self._target_ticks(name)

    def after_run(self, row, name, result):
        cpu_s = (self._target_ticks(name) - self._cpu_before) / CpuMeter.TICKS
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
    """pid and its live descendants (nginx: master, workers, cache manager/loader;
    varnishd: manager and cache child)."""
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
    """nginx sets its title ("nginx: worker process"); other programs go by their
    command line (s3hc) or, for a varnishd, by the thread name ("varnishd", "cache-main")."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
    if "varnishd" in title.split(" ")[0]:
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip() or "?"
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


NGINX_RSS_NOTE = ("sum of VmHWM: pages shared by nginx's master and workers count once per "
                  "process; the page cache holding either cache's files counts for neither")


def format_rss(report, peers=("nginx",), note=NGINX_RSS_NOTE):
    """One line per target of `report` (rss_report(); s3hc first), then s3hc's ratio to
    each peer."""
    width = max([6] + [len(name) for name in report])
    parts = []
    for name, entry in report.items():
        detail = ", ".join(f"{pname} {kib / 1024:.1f}" for _, pname, kib in entry["processes"])
        parts.append(f"  {name:<{width}} {entry['sum_kib'] / 1024:8.1f} MiB"
                     + (f"  ({len(entry['processes'])} processes: {detail} MiB)"
                        if name != "s3hc" else ""))
    s3hc_kib = report["s3hc"]["sum_kib"]
    ratios = [f"s3hc/{peer} " + format_ratio(s3hc_kib / report[peer]["sum_kib"]
                                             if report[peer]["sum_kib"] else float("nan"))
              for peer in peers]
    parts.append(f"  {', '.join(ratios)}  ({note})")
    return "\n".join(parts)


def cache_read_counters(proxy):
    """s3hc's s3hc_cache_reads_total by result, e.g. {"hit": 12.0, "miss": 0.0, ...}."""
    prefix = 's3hc_cache_reads_total{result="'
    return {series[len(prefix):-2]: count for series, count in proxy.metrics().items()
            if series.startswith(prefix)}


def cpu_table(results, targets=TARGET_NAMES, peers=("nginx",)):
    """Each target's own CPU time (its processes, not wrk's) per request and per GiB,
    medians over the measured runs of the cell (runs observed by OriginAndCpuObserver),
    and s3hc's CPU per request against each peer's."""
    ratio_header = ", ".join(f"s3hc/{peer}" for peer in peers)
    lines = [f"{'row':<24} {'target':<7} {'cores busy':>10} {'CPU us/req':>11} "
             f"{'CPU ms/GiB':>11}   {ratio_header} CPU per request"]
    for row, cells in results:
        per_request = {}
        for index, name in enumerate(targets):
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
        ratios = [format_ratio(per_request["s3hc"] / per_request[peer] if per_request[peer]
                               else float("nan"))
                  for peer in peers if "s3hc" in per_request and peer in per_request]
        if ratios:
            lines[-len(per_request)] += "   " + ", ".join(ratios)
    return "\n".join(lines)


CPU_LEGEND = """\
cores busy: CPU seconds of the target's own processes (s3hc; nginx master + workers; for direct
  the origin's) / run time. CPU us/req, ms/GiB: the same CPU time per response (partly received
  responses by their share of bytes) and per GiB received. Resolution: 1 clock tick (10 ms) per run."""


# ---- report -------------------------------------------------------------------------

def format_ratio(value):
    return f"{value:.2f}x" if value == value else "n/a"


def format_ms(value):
    return f"{value:.3f}" if value is not None else "n/a"


def format_errors(errors):
    return ",".join(f"{kind}={count}" for kind, count in sorted(errors.items())) or "0"


def results_table(results, targets=TARGET_NAMES):
    lines = [f"{'row':<24} {'target':<7} {'MiB/s':>9} {'req/s':>9} {'mean ms':>9} "
             f"{'p50 ms':>9} {'p99 ms':>10} {'spread':>7} {'other':>6}  errors"]
    for row, cells in results:
        for index, name in enumerate(targets):
            cell = cells[name]
            throughput = statistics.median(r.mib_per_s for r in cell.runs)
            rate = statistics.median(r.requests_per_s for r in cell.runs)
            label = row.label if index == 0 else ""
            p99 = format_ms(cell.p99_ms) + ("*" if cell.p99_biased else " ")
            lines.append(f"{label:<24} {name:<7} {throughput:9.1f} {rate:9.1f} "
                         f"{cell.mean_ms:9.3f} {format_ms(cell.p50_ms):>9} {p99:>10} "
                         f"{cell.spread:6.0%} {cell.worst_other_cpu:6.0%}  "
                         f"{format_errors(cell.errors)}")
    return "\n".join(lines)


RESULTS_LEGEND = """\
mean: time per request by Little's law (connections x run time / responses, partly received
  responses counted by their share of bytes), including requests that did not complete in the run.
p50/p99: wrk's percentiles of the requests that completed. * = p99 below the mean: slow requests
  are missing from wrk's sample (the target starved some connections), so wrk's p99 flatters it;
  the target check then uses the mean as that target's p99.
spread: (max - min) / median of the row's metric over the runs. other: highest share of the CPU
  used by processes outside the benchmark during one run of the cell (above 10%: suspect)."""


def format_p99_ratio(cells, reference):
    adjusted = cells["s3hc"].p99_biased or cells[reference].p99_biased
    return format_ratio(compare(cells, reference).p99_ratio) + ("*" if adjusted else " ")


def target_description(peers):
    """The target of the ratio table's last column, in words."""
    if len(peers) == 1:
        return f">=1.0x {peers[0]}, p99 <= {peers[0]}"
    return f">=1.0x the best of {'/'.join(peers)}, p99 <= the lowest of theirs"


def ratio_table(results, references=("nginx", "direct"), peers=("nginx",)):
    """Per row: for each reference, s3hc/reference (throughput or req/s), for a peer also
    the rounds s3hc won against it, and the p99 ratio; then the verdict against the peers."""
    columns = []                          # (header, width, cell(cells) -> str)
    for name in references:
        label = f"s3hc/{name}"
        columns.append((label, max(len(label), 10),
                        lambda cells, name=name: format_ratio(compare(cells, name).value_ratio)))
        if name in peers:
            columns.append(("rounds won", 10, lambda cells, name=name: rounds_won(cells, name)))
        columns.append((f"p99 {label}", len(label) + 5,
                        lambda cells, name=name: format_p99_ratio(cells, name)))
    lines = [f"{'row':<24} {'metric':<6} "
             + " ".join(f"{header:>{width}}" for header, width, _ in columns)
             + f"  target ({target_description(peers)})"]
    for row, cells in results:
        reasons = misses(cells, peers)
        verdict = f"MISS ({', '.join(reasons)})" if reasons else "ok"
        lines.append(f"{row.label:<24} {row.metric:<6} "
                     + " ".join(f"{cell(cells):>{width}}" for _, width, cell in columns)
                     + f"  {verdict}")
    return "\n".join(lines)


RATIO_LEGEND = """\
rounds won: rounds in which s3hc's run was >= nginx's run of the same round.
p99 ratio: s3hc / reference, lower is better; * = a biased p99 was replaced by the mean (see above)."""


def tool_version(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "?"


def git_commit():
    version = tool_version(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"])
    dirty = tool_version(["git", "-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"])
    return version + ("+dirty" if dirty not in ("?", "") else "")


def header_lines(title, settings, proxy_bin):
    """The first two lines of a report's header: what ran (versions) and how (run
    lengths, rounds, wrk settings). Each benchmark adds lines describing its targets."""
    nginx_version = tool_version([NGINX_BIN, "-v"]).replace("nginx version: ", "")
    wrk_version = " ".join(tool_version([WRK_BIN, "--version"]).split()[:2])
    s3hc_version = tool_version([proxy_bin, "--version"])
    return [
        f"{title}: {settings.cores} cores shared by origin, proxy and wrk; "
        f"s3hc {s3hc_version} (commit {git_commit()}), {nginx_version}, {wrk_version}",
        f"per row and target: {settings.warmup} s warm-up, then median of {settings.repeats} "
        f"runs of {settings.duration} s (target order rotated each round; up to "
        f"{settings.retries} disturbed rounds measured again); wrk threads = "
        f"min(connections, {settings.cores}), --timeout {WRK_TIMEOUT}",
    ]


# ---- command line and the run around the rows ---------------------------------------

def argument_parser(description):
    """The options every benchmark here has; a benchmark adds its own, then calls
    finish_args()."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=int, default=None,
                        help="seconds per measured wrk run (default 4; 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="seconds of the warm-up run per row and target (default 1)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="measured runs per row and target; the median is reported (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of about a minute (1 s runs)")
    parser.add_argument("--origin-workers", type=int, default=1,
                        help="worker_processes of the nginx file origin (default 1, see README)")
    parser.add_argument("--proxy-workers", type=int, default=None,
                        help="worker_processes of the nginx proxy and --threads of s3hc, the same "
                             "for both (default: the number of cores)")
    parser.add_argument("--retries", type=int, default=None,
                        help="how many rounds in all may be measured again because other "
                             "processes disturbed them (default 3; 0 with --quick)")
    add_binary_and_quiet_arguments(parser)
    parser.add_argument("--json", metavar="FILE", help="also write every run's raw numbers here")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a row misses the target or any run had errors")
    return parser


def add_binary_and_quiet_arguments(parser):
    """--proxy-bin (the s3hc-proxy to measure) and --wait-idle (a quiet machine first)."""
    parser.add_argument("--proxy-bin", default=None,
                        help="s3hc-proxy binary (default $S3HC_PROXY_BIN or build/dataplane/s3hc-proxy)")
    parser.add_argument("--wait-idle", type=int, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS until other processes use less than "
                             f"{OTHER_CPU_WARNING * 100:.0f}%% of the CPU for 5 s (default 0: don't wait)")


def add_cache_option_argument(parser):
    """--cache-option KEY=VALUE (repeatable): extra settings for s3hc's cache section;
    parse_cache_options() turns them into a dict."""
    parser.add_argument("--cache-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra setting for s3hc's cache section, e.g. io_threads=2 or "
                             "mirror_dir=/tmp/m (repeatable; numbers and true/false are typed)")


def parse_cache_options(parser, args):
    """{key: typed value} of the --cache-option arguments."""
    options = {}
    for item in args.cache_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--cache-option wants KEY=VALUE, not {item!r}")
        options[key] = typed(value)
    return options


def typed(text):
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def finish_args(parser, args):
    """Defaults that depend on --quick, and range checks. Returns args."""
    if args.duration is None:
        args.duration = 1 if args.quick else 4
    if args.retries is None:
        args.retries = 0 if args.quick else 3
    if min(args.duration, args.warmup, args.repeats) < 1:
        parser.error("--duration, --warmup and --repeats must be at least 1")
    return args


def require_tools():
    """Exit with a message if wrk or nginx is missing."""
    for tool in (WRK_BIN, NGINX_BIN):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (Debian packages wrk and nginx)")


def start_origin(stack, settings, access_log, objects=OBJECT_SIZES, tls=None):
    """The nginx file origin serving one fresh random object per `objects` entry ({name:
    size}) under /bench/, stopped by `stack`; over HTTPS with tls=(cert_path, key_path)."""
    origin = stack.enter_context(NginxFileOrigin(workers=settings.origin_workers,
                                                 access_log=access_log, tls=tls))
    for object_name, size in objects.items():
        origin.write_file(f"bench/{object_name}", os.urandom(size))
    return origin


def prepare_run(args):
    """What every benchmark does before measuring: check the tools, read the settings, find
    the proxy binary and wait for a quiet machine (--wait-idle). Returns (settings,
    proxy_bin, start time)."""
    require_tools()
    settings = settings_from_args(args)
    proxy_bin = args.proxy_bin or proxy_binary()
    if args.wait_idle:
        wait_until_idle(CpuMeter(settings.cores), args.wait_idle, progress)
    return settings, proxy_bin, time.monotonic()


def prepare_own_clients_run(args):
    """prepare_run() for a benchmark whose clients are its own (no wrk): nginx is checked, the
    proxy binary found and a quiet machine awaited (--wait-idle). Returns (cores, proxy_bin,
    a CpuMeter, start time)."""
    if not shutil.which(NGINX_BIN):
        sys.exit(f"{NGINX_BIN} not found (Debian package nginx)")
    cores = len(os.sched_getaffinity(0))
    meter = CpuMeter(cores)
    if args.wait_idle:
        wait_until_idle(meter, args.wait_idle, progress)
    return cores, args.proxy_bin or proxy_binary(), meter, time.monotonic()


def settings_from_args(args):
    cores = len(os.sched_getaffinity(0))
    return Settings(args.duration, args.warmup, args.repeats, args.retries, cores=cores,
                    origin_workers=args.origin_workers,
                    proxy_workers=args.proxy_workers or cores)


def progress(message):
    """Progress lines go to stderr, the report to stdout."""
    print(message, file=sys.stderr, flush=True)


def s3hc_state_since(proxy, counters_before):
    """S3hcState at the end of the run: the counters of s3hc_problem_counters() that
    changed since counters_before (taken before measuring), liveness, the log."""
    return S3hcState(
        counters={k: v - counters_before.get(k, 0)
                  for k, v in s3hc_problem_counters(proxy).items()
                  if v != counters_before.get(k, 0)},
        alive=proxy.is_running(),
        log_lines=proxy.log_text().splitlines())


def wait_until_idle(meter, timeout, progress, window=5.0):
    """Wait until other processes used less than OTHER_CPU_WARNING of the CPU over
    `window` seconds, or until `timeout` seconds passed (then go ahead anyway)."""
    deadline = time.monotonic() + timeout
    while True:
        before = meter.snapshot()
        time.sleep(window)
        other = meter.other_share(before)
        if other < OTHER_CPU_WARNING:
            progress(f"machine idle (other processes: {other:.0%} of the CPU)")
            return
        if time.monotonic() >= deadline:
            progress(f"machine still busy after {timeout} s (other processes: {other:.0%} "
                     f"of the CPU); measuring anyway")
            return
        progress(f"waiting for an idle machine: other processes use {other:.0%} of the CPU")


@dataclasses.dataclass
class S3hcState:
    """What s3hc itself said about the run."""
    counters: dict        # non-200 responses and upstream errors during the run
    alive: bool
    log_lines: list


def print_report(header_text, settings, results, s3hc_state, rounds_retried,
                 targets=TARGET_NAMES, references=("nginx", "direct"), peers=("nginx",),
                 ratio_legend=RATIO_LEGEND):
    """Print the header, the tables and the findings; returns True if anything needs
    attention (missed target, errors, s3hc died). targets: the names in table order,
    s3hc first; references and peers: see ratio_table()."""
    print(header_text)
    print()
    print(results_table(results, targets))
    print(RESULTS_LEGEND)
    print()
    print(ratio_table(results, references, peers))
    print(ratio_legend)
    print()
    missed = [row.label for row, cells in results if misses(cells, peers)]
    s3hc_errors = {row.label: cells["s3hc"].errors for row, cells in results if cells["s3hc"].errors}
    others = [name for name in targets if name != "s3hc"]
    other_errors = {f"{row.label} / {name}": cells[name].errors
                    for row, cells in results for name in others if cells[name].errors}
    disturbed = sum(1 for _, cells in results for cell in cells.values()
                    for run in cell.runs if run.other_cpu > OTHER_CPU_WARNING)
    total_runs = sum(len(cell.runs) for _, cells in results for cell in cells.values())
    print(f"rows meeting the target: {len(results) - len(missed)}/{len(results)}"
          + (f"; missed: {'; '.join(missed)}" if missed else ""))
    print(f"wrk errors through s3hc: {s3hc_errors or 'none'}; "
          f"through {'/'.join(others)}: {other_errors or 'none'}")
    print(f"s3hc metrics, non-200 responses and upstream errors during the run: "
          f"{s3hc_state.counters or 'none'}; s3hc still running at the end: {s3hc_state.alive}")
    print(f"runs with other processes above {OTHER_CPU_WARNING:.0%} of the CPU: "
          f"{disturbed}/{total_runs}" + ("  <- the machine was not idle; numbers are suspect"
                                         if disturbed else "")
          + f"; disturbed rounds measured again: {rounds_retried} (budget {settings.retries})")
    print_log_tail(s3hc_state.log_lines)
    return bool(missed or s3hc_errors or other_errors or s3hc_state.counters
                or not s3hc_state.alive)


def print_log_tail(lines, count=30):
    if not lines:
        print("s3hc log (warn and above): empty")
        return
    print(f"s3hc log (warn and above), last {min(len(lines), count)} of {len(lines)} lines:")
    print("\n".join(lines[-count:]))


def finish(args, settings, results, started, trouble):
    """The end of a benchmark's run: the total time, --json, and the exit status (1 under
    --strict when `trouble`)."""
    print(f"total time: {time.monotonic() - started:.0f} s")
    if args.json:
        write_json(args.json, settings, results)
    return 1 if args.strict and trouble else 0


def write_json(path, settings, results, extra=None):
    """Every run's raw numbers; extra: more top-level keys (a benchmark's own findings)."""
    data = {"settings": dataclasses.asdict(settings), "rows": [
        {"row": dataclasses.asdict(row),
         "targets": {name: [dataclasses.asdict(run) for run in cell.runs]
                     for name, cell in cells.items()}}
        for row, cells in results]}
    data.update(extra or {})
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def print_warmth(observer, cache_names, reads_delta):
    """Whether any cache in `cache_names` sent a request to the origin while measured, and
    s3hc's cache read outcomes over the runs (`reads_delta`: s3hc_cache_reads_total by result).
    Returns True when a cache was not warm."""
    leaks = {f"{label} / {name}": count for (label, name), count in
             observer.origin_requests_by_row.items() if name in cache_names and count}
    if leaks:
        print(f"  NOT WARM: the origin served requests during cache runs: {leaks}")
    else:
        print("  warm: no cache sent a request to the origin during its runs (warm-ups "
              "included)")
    print("s3hc cache reads during the runs (s3hc_cache_reads_total): "
          + ", ".join(f"{k}={v:.0f}" for k, v in sorted(reads_delta.items())))
    return bool(leaks)
