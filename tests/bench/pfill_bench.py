#!/usr/bin/env python3
"""A cold GET of one large object from a far origin, through s3hc (a parallel fill: several
concurrent ranged requests, docs/CACHING.md) and straight to that origin (one connection).

    python3 tests/bench/pfill_bench.py --wait-idle 10      # 256 MiB, 3 runs, ~1 minute
    python3 tests/bench/pfill_bench.py --size-mib 64 --runs 1 --streams 8

Set-up: nginx serves one file of --size-mib random bytes behind far_origin.py (--rtt-ms round
trip, --rate-mbps per connection; its accuracy check is printed first); one s3hc proxy with
upstream.url = the relay and the default parallel fill settings (threshold 64 MiB, chunks of
8 MiB, --streams requests at once). Each run GETs the file directly, then through the proxy
with an empty cache (a new file name each run), then through the proxy again (a hit); every
body is checked (length, CRC-32). Prints seconds and MB/s per run and the median ratio
direct / cold.
Target (issue 16, point 3): cold through the proxy >= 2x direct.

Standard library, nginx and a built s3hc-proxy. Not part of CTest. See README.md.
"""

import argparse
import contextlib
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    MiB, add_binary_and_quiet_arguments, git_commit, prepare_own_clients_run, progress,
    tool_version)
from far_bench import add_one_object_arguments, far_origin_serving, get  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

TARGET = 2.0


def timed_get(port, path, size, crc):
    """Seconds of one GET on a new connection (the body checked)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    try:
        _, error = get(connection, path, size, crc)
    finally:
        connection.close()
    if error:
        raise RuntimeError(error)
    return time.monotonic() - started


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_one_object_arguments(parser)
    parser.add_argument("--streams", type=int, default=4,
                        help="cache.parallel_fill_streams (default 4)")
    add_binary_and_quiet_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cores, proxy_bin, _, started = prepare_own_clients_run(args)
    size = args.size_mib * MiB
    rows = []
    with contextlib.ExitStack() as stack:
        data = os.urandom(size)
        crc = zlib.crc32(data)
        relay, check = far_origin_serving(stack, [f"bench/big-{run}" for run in range(args.runs)],
                                          data, args.rtt_ms, args.rate_mbps)
        del data
        cache_parent = tempfile.mkdtemp(prefix="s3hc-pfill-bench-")
        stack.callback(shutil.rmtree, cache_parent, True)
        proxy = ProxyProcess(relay.url, config={"cache": {
            "dir": os.path.join(cache_parent, "cache"),
            "parallel_fill_streams": args.streams}}, log_level="warn", binary=proxy_bin)
        stack.callback(proxy.stop)
        proxy.start()
        for run in range(args.runs):
            path = f"/bench/big-{run}"
            direct = timed_get(relay.port, path, size, crc)
            cold = timed_get(proxy.port, path, size, crc)
            hit = timed_get(proxy.port, path, size, crc)
            progress(f"run {run + 1}: direct {direct:.2f} s, cold {cold:.2f} s, hit {hit:.2f} s")
            rows.append((direct, cold, hit))
        fills = proxy.metric("s3hc_cache_parallel_fills_total")

    print(f"pfill_bench: {cores} cores shared by origin, relay, proxy and client; "
          f"s3hc {tool_version([proxy_bin, '--version'])} (commit {git_commit()})")
    print(f"one {args.size_mib} MiB object, cold GET; far origin: {args.rtt_ms:g} ms round trip, "
          f"{args.rate_mbps:g} MB/s per connection; parallel_fill_streams {args.streams}")
    for line in check:
        print(line)
    print()
    print("| run | direct s | direct MB/s | s3hc cold s | s3hc cold MB/s | cold vs direct | "
          "s3hc hit s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run, (direct, cold, hit) in enumerate(rows, 1):
        print(f"| {run} | {direct:.2f} | {size / direct / 1e6:.1f} | {cold:.2f} | "
              f"{size / cold / 1e6:.1f} | {direct / cold:.2f}x | {hit:.2f} |")
    ratio = statistics.median(direct / cold for direct, cold, _ in rows)
    print()
    print(f"parallel fills counted: {fills:g} of {args.runs} cold GETs")
    print(f"median cold vs direct: {ratio:.2f}x (target >= {TARGET:g}x: "
          f"{'met' if ratio >= TARGET else 'MISSED'})")
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
