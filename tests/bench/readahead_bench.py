#!/usr/bin/env python3
"""Ranged reads of one cold large object from a far origin, through s3hc (sequential
read-ahead, docs/CACHING.md "Read-ahead") and straight to that origin.

    python3 tests/bench/readahead_bench.py                  # 256 MiB, 8 MiB ranges, 3 runs
    python3 tests/bench/readahead_bench.py --size-mib 64 --runs 1 --window 4

Set-up: nginx serves --runs x 2 files of --size-mib random bytes behind far_origin.py
(--rtt-ms round trip, --rate-mbps per connection; its accuracy check is printed first); two
s3hc proxies with upstream.url = the relay: one with read-ahead (cache.read_ahead_window
--window ranges, read_ahead_window_bytes --window x --range-mib), one with cache.read_ahead:
false. Each run, on one keep-alive connection per client:
  - sequential: the file read in consecutive --range-mib ranges directly, then through the
    read-ahead proxy with an empty cache (a new file each run);
  - random: another file's ranges in a shuffled order through the proxy without read-ahead,
    then through the one with read-ahead (each cold: the file is new to both).
Every range's bytes are checked (length, CRC-32). Prints seconds per run and the median ratios.
Targets (issue 16, point 4): sequential through the proxy >= 2x direct; random ranges with
read-ahead no slower than without.

Standard library, nginx and a built s3hc-proxy. Not part of CTest. See README.md.
"""

import argparse
import contextlib
import http.client
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import zlib

from bench_common import (  # noqa: E402  (bench_common puts tests/integration on sys.path)
    MiB, add_binary_and_quiet_arguments, git_commit, prepare_own_clients_run, progress,
    tool_version)
from far_bench import add_one_object_arguments, far_origin_serving  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

SEQUENTIAL_TARGET = 2.0
RANDOM_TARGET = 0.9  # "no slower", within the noise of a shared machine


def read_ranges(port, path, order, range_bytes, size, crcs):
    """Seconds to read the ranges of `path` numbered in `order`, on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    try:
        for n in order:
            first = n * range_bytes
            last = min(first + range_bytes, size) - 1
            connection.request("GET", path, headers={"Range": f"bytes={first}-{last}"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 206 or len(body) != last - first + 1 or \
                    zlib.crc32(body) != crcs[n]:
                raise RuntimeError(f"{path} range {n}: status {response.status}, "
                                   f"{len(body)} bytes (or other bytes)")
    finally:
        connection.close()
    return time.monotonic() - started


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_one_object_arguments(parser)
    parser.add_argument("--range-mib", type=int, default=8, help="range size (default 8)")
    parser.add_argument("--window", type=int, default=2,
                        help="cache.read_ahead_window, in ranges (default 2)")
    add_binary_and_quiet_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cores, proxy_bin, _, started = prepare_own_clients_run(args)
    size = args.size_mib * MiB
    range_bytes = args.range_mib * MiB
    ranges = -(-size // range_bytes)
    rows = []
    with contextlib.ExitStack() as stack:
        data = os.urandom(size)
        crcs = [zlib.crc32(data[n * range_bytes:(n + 1) * range_bytes]) for n in range(ranges)]
        names = [f"bench/{kind}-{run}" for run in range(args.runs) for kind in ("seq", "rand")]
        relay, check = far_origin_serving(stack, names, data, args.rtt_ms, args.rate_mbps)
        del data
        cache_parent = tempfile.mkdtemp(prefix="s3hc-readahead-bench-")
        stack.callback(shutil.rmtree, cache_parent, True)
        proxies = {}
        for name, cache in (("ahead", {"read_ahead_window": args.window,
                                       "read_ahead_window_bytes": args.window * range_bytes}),
                            ("plain", {"read_ahead": False})):
            proxy = ProxyProcess(relay.url, config={"cache": dict(
                {"dir": os.path.join(cache_parent, name)}, **cache)}, log_level="warn",
                binary=proxy_bin)
            stack.callback(proxy.stop)
            proxy.start()
            proxies[name] = proxy
        sequential = list(range(ranges))
        for run in range(args.runs):
            shuffled = list(range(ranges))
            random.Random(run).shuffle(shuffled)
            seq_path, rand_path = f"/bench/seq-{run}", f"/bench/rand-{run}"
            direct = read_ranges(relay.port, seq_path, sequential, range_bytes, size, crcs)
            ahead = read_ranges(proxies["ahead"].port, seq_path, sequential, range_bytes, size,
                                crcs)
            rand_plain = read_ranges(proxies["plain"].port, rand_path, shuffled, range_bytes,
                                     size, crcs)
            rand_ahead = read_ranges(proxies["ahead"].port, rand_path, shuffled, range_bytes,
                                     size, crcs)
            progress(f"run {run + 1}: sequential direct {direct:.2f} s, read-ahead "
                     f"{ahead:.2f} s; random without {rand_plain:.2f} s, with {rand_ahead:.2f} s")
            rows.append((direct, ahead, rand_plain, rand_ahead))
        fetched = proxies["ahead"].metric("s3hc_cache_read_ahead_total", result="fetched")

    print(f"readahead_bench: {cores} cores shared by origin, relay, proxies and client; "
          f"s3hc {tool_version([proxy_bin, '--version'])} (commit {git_commit()})")
    print(f"one {args.size_mib} MiB cold object read in {args.range_mib} MiB ranges on one "
          f"connection; far origin: {args.rtt_ms:g} ms round trip, {args.rate_mbps:g} MB/s per "
          f"connection; read_ahead_window {args.window}")
    for line in check:
        print(line)
    print()
    print("| run | sequential direct s | sequential s3hc s | s3hc vs direct | "
          "random, no read-ahead s | random, read-ahead s | with vs without |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run, (direct, ahead, plain, rand) in enumerate(rows, 1):
        print(f"| {run} | {direct:.2f} | {ahead:.2f} | {direct / ahead:.2f}x | {plain:.2f} | "
              f"{rand:.2f} | {plain / rand:.2f}x |")
    sequential_ratio = statistics.median(direct / ahead for direct, ahead, _, _ in rows)
    random_ratio = statistics.median(plain / rand for _, _, plain, rand in rows)
    print()
    print(f"ranges read ahead: {fetched:g}")
    print(f"median sequential s3hc vs direct: {sequential_ratio:.2f}x (target >= "
          f"{SEQUENTIAL_TARGET:g}x: {'met' if sequential_ratio >= SEQUENTIAL_TARGET else 'MISSED'})")
    print(f"median random with vs without read-ahead: {random_ratio:.2f}x (target: no slower, "
          f">= {RANDOM_TARGET:g}x: {'met' if random_ratio >= RANDOM_TARGET else 'MISSED'})")
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
