#!/usr/bin/env python3
"""Forwarding benchmark: s3hc vs nginx (plain reverse proxy) vs the origin itself.

    python3 tests/bench/forward_bench.py              # ~4 minutes
    python3 tests/bench/forward_bench.py --quick      # ~1 minute smoke run
    python3 tests/bench/forward_bench.py --duration 8 --repeats 5

Rows: GET throughput of 1 MiB and 64 MiB objects with 1 and 16 concurrent clients, and
requests/s with p50/p99 of 4 KiB objects over 64 connections. Each row is measured
against three targets in the same run, under identical wrk settings:
  s3hc    s3hc-proxy --threads <cores> --log-level warn, upstream = the origin
  nginx   nginx as a plain keep-alive reverse proxy (proxy_pass to an upstream with
          keepalive 64, HTTP/1.1, default buffering, no cache), upstream = the origin
  direct  the origin itself (nginx serving files with sendfile): the upper bound
The target is s3hc >= 1.0x nginx's throughput / req/s and s3hc's p99 <= nginx's on
every row; rows that miss it are marked. See tests/bench/README.md.

Needs only the standard library (no boto3), wrk and nginx. Not part of CTest.
The machinery (wrk runs, rounds, tables) is shared with cache_bench.py: bench_common.py.
"""

import contextlib
import sys

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    ROWS, RetryBudget, argument_parser, check_bodies, finish, finish_args, header_lines,
    measure_row, prepare_run, print_report, progress, s3hc_problem_counters, s3hc_state_since,
    start_origin)
from support.nginx_origin import NginxReverseProxy  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402


def header(settings, proxy_bin):
    return "\n".join(header_lines("s3hc forwarding benchmark", settings, proxy_bin) + [
        f"origin: nginx files, worker_processes {settings.origin_workers}, sendfile | "
        f"nginx proxy: worker_processes {settings.proxy_workers}, upstream keepalive 64, buffering on | "
        f"s3hc: --threads {settings.proxy_workers} --log-level warn",
    ])


def parse_args(argv):
    parser = argument_parser(__doc__.split("\n\n")[0])
    return finish_args(parser, parser.parse_args(argv))


def start_targets(stack, settings, proxy_bin):
    """Origin with the three test objects, nginx proxy and s3hc in front of it.
    Returns ({target: base URL}, origin, proxy)."""
    origin = start_origin(stack, settings, access_log=False)
    nginx_proxy = stack.enter_context(NginxReverseProxy(
        upstream_port=origin.port, workers=settings.proxy_workers, access_log=False))
    proxy = ProxyProcess(origin.url, log_level="warn", threads=settings.proxy_workers,
                         binary=proxy_bin)
    # Callbacks run last-in first-out: stop the proxy, then delete its log (read by then).
    stack.callback(lambda: proxy.process and proxy.process.remove_log())
    stack.callback(proxy.stop)
    proxy.start()
    urls = {"s3hc": proxy.endpoint_url, "nginx": nginx_proxy.url, "direct": origin.url}
    return urls, origin, proxy


def main(argv=None):
    args = parse_args(argv)
    settings, proxy_bin, started = prepare_run(args)
    base, retry_time = settings.estimated_seconds()
    progress(f"estimated time: {base / 60:.1f} min of wrk runs, up to {retry_time} s more "
             f"if rounds are disturbed")
    with contextlib.ExitStack() as stack:
        urls, origin, proxy = start_targets(stack, settings, proxy_bin)
        response_bytes = check_bodies(urls, origin)
        counters_before = s3hc_problem_counters(proxy)
        retries = RetryBudget(settings.retries)
        results = [(row, measure_row(row, urls, response_bytes, settings, retries, progress))
                   for row in ROWS]
        s3hc_state = s3hc_state_since(proxy, counters_before)

    trouble = print_report(header(settings, proxy_bin), settings, results, s3hc_state,
                           retries.used)
    return finish(args, settings, results, started, trouble)


if __name__ == "__main__":
    sys.exit(main())
