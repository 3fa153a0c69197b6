#!/usr/bin/env python3
"""HTTPS passthrough benchmark: s3hc's passthrough listener vs nginx stream + ssl_preread,
relaying the same TLS origin, in one run.

    python3 tests/bench/passthrough_bench.py              # ~3 minutes
    python3 tests/bench/passthrough_bench.py --quick      # ~1 minute smoke run

Rows: GET throughput and p99 of 1 MiB and 64 MiB objects with 1 and 16 concurrent clients,
wrk over HTTPS (keep-alive connections, TLS end to end between wrk and the origin). Targets,
measured in the same run under identical wrk settings:
  s3hc    s3hc-proxy --threads <cores> --log-level warn with passthrough.listen, the name
          allowed (upstream.allowed_hosts) and mapped to the origin (upstream.resolve)
  nginx   nginx stream: ssl_preread on, proxy_pass to the upstream a map of
          $ssl_preread_server_name gives, worker_processes <cores>, stock buffers
  direct  the origin itself: the upper bound
The origin is nginx serving files over HTTPS (worker_processes 1, sendfile; the certificate
of a throwaway CA for "localhost"). wrk's server name is its URL's host, and the hosts file
maps "localhost" to 127.0.0.1 (the benchmark changes nothing on the machine), so the name
relayed is "localhost". Before measuring, every object is fetched through every target with
the certificate checked against the throwaway CA (nothing terminates TLS) and the bytes
compared with the file. Target: s3hc >= 1.0x nginx's throughput and s3hc's p99 <= nginx's
on every row. Also each target's own CPU time per request and per GiB (the relays' cost, which
other load on the machine disturbs less than their throughput). See tests/bench/README.md.

Needs the Debian packages wrk, nginx and libnginx-mod-stream. Not part of CTest.
"""

import contextlib
import os
import ssl
import sys

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    CPU_LEGEND, MiB, THROUGHPUT, AccessLogCounter, OriginAndCpuObserver, RetryBudget, Row,
    S3hcState, argument_parser, check_bodies, cpu_table, finish, finish_args, header_lines,
    measure_row, prepare_run, print_report, process_tree, progress, start_origin)
from support.nginx_origin import STREAM_MODULE, NginxSniRelay  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402
from support.throwaway_pki import TestPki  # noqa: E402

NAME = "localhost"
OBJECTS = {"1MiB": MiB, "64MiB": 64 * MiB}
ROWS = [
    Row("GET 1 MiB, 1 client", "1MiB", 1, THROUGHPUT),
    Row("GET 1 MiB, 16 clients", "1MiB", 16, THROUGHPUT),
    Row("GET 64 MiB, 1 client", "64MiB", 1, THROUGHPUT),
    Row("GET 64 MiB, 16 clients", "64MiB", 16, THROUGHPUT),
]
TARGETS = ("s3hc", "nginx", "direct")


def header(settings, proxy_bin):
    return "\n".join(header_lines("s3hc HTTPS passthrough benchmark", settings, proxy_bin) + [
        f"origin: nginx files over HTTPS, worker_processes {settings.origin_workers}, sendfile | "
        f"nginx: stream, ssl_preread, worker_processes {settings.proxy_workers} | "
        f"s3hc: --threads {settings.proxy_workers} --log-level warn, passthrough.listen | "
        f"server name: {NAME}",
    ])


def start_targets(stack, settings, proxy_bin):
    """The HTTPS origin with the objects, nginx's SNI relay and s3hc's passthrough in front
    of it. Returns ({target: base URL}, origin, proxy, the clients' TLS context,
    {target: callable -> its pids})."""
    pki = TestPki()
    stack.callback(pki.remove)
    origin = start_origin(stack, settings, access_log=True, objects=OBJECTS,
                          tls=pki.issue(NAME, f"DNS:{NAME}"))
    relay = stack.enter_context(NginxSniRelay({NAME: origin.port},
                                              workers=settings.proxy_workers))
    proxy = ProxyProcess(None, log_level="warn", threads=settings.proxy_workers,
                         binary=proxy_bin, config={
                             "passthrough": {"listen": "127.0.0.1:0"},
                             "upstream": {"allowed_hosts": [NAME],
                                          "resolve": [f"{NAME}=127.0.0.1:{origin.port}"]}})
    # Callbacks run last-in first-out: stop the proxy, then delete its log (read by then).
    stack.callback(lambda: proxy.process and proxy.process.remove_log())
    stack.callback(proxy.stop)
    proxy.start()
    urls = {"s3hc": f"https://{NAME}:{proxy.passthrough_port}",
            "nginx": f"https://{NAME}:{relay.port}",
            "direct": f"https://{NAME}:{origin.port}"}
    pids = {"s3hc": lambda: process_tree(proxy.pid),
            "nginx": lambda: process_tree(relay.process.pid),
            "direct": lambda: process_tree(origin.process.pid)}
    return urls, origin, proxy, ssl.create_default_context(cafile=pki.ca_cert), pids


def passthrough_problems(proxy):
    """Passthrough connections s3hc did not relay, by result (non-zero only)."""
    return {series: count for series, count in proxy.metrics().items()
            if series.startswith("s3hc_passthrough_connections_total")
            and 'result="relayed"' not in series and count}


def main(argv=None):
    parser = argument_parser(__doc__.split("\n\n")[0])
    args = finish_args(parser, parser.parse_args(argv))
    settings, proxy_bin, started = prepare_run(args)
    with open(STREAM_MODULE, "rb"):
        pass  # fails early, naming the file, without libnginx-mod-stream
    base, retry_time = settings.estimated_seconds(ROWS, TARGETS)
    progress(f"estimated time: {base / 60:.1f} min of wrk runs, up to {retry_time} s more "
             f"if rounds are disturbed")
    with contextlib.ExitStack() as stack:
        urls, origin, proxy, tls, pids = start_targets(stack, settings, proxy_bin)
        response_bytes = check_bodies(urls, origin, objects=OBJECTS, tls=tls)
        # The origin's log only paces the observer (each run ends once it settled).
        observer = OriginAndCpuObserver(
            AccessLogCounter(os.path.join(origin.prefix, "access.log")), pids)
        retries = RetryBudget(settings.retries)
        results = [(row, measure_row(row, urls, response_bytes, settings, retries, progress,
                                     observer, targets=TARGETS))
                   for row in ROWS]
        s3hc_state = S3hcState(counters=passthrough_problems(proxy), alive=proxy.is_running(),
                               log_lines=proxy.log_text().splitlines())

    trouble = print_report(header(settings, proxy_bin), settings, results, s3hc_state,
                           retries.used, targets=TARGETS)
    print()
    print(cpu_table(results, TARGETS))
    print(CPU_LEGEND)
    return finish(args, settings, results, started, trouble)


if __name__ == "__main__":
    sys.exit(main())
