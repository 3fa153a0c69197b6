#!/usr/bin/env python3
"""Fleet benchmark: a herd of clients spread over several proxies sharing one cache directory
cold-read one large object. What the origin sends (from its access log) is compared with the
object's size and with what the clients received, for s3hc with coalescing and, measured in the
same run as the peer, s3hc with coalescing off (cache.coalesce_timeout_ms: 0).

    python3 tests/bench/fleet_bench.py [--clients 64] [--proxies 3] [--size-mib 64]

Target (issue 4): origin bytes <= 1.05 x the object size with coalescing.
"""

import argparse
import concurrent.futures
import contextlib
import hashlib
import http.client
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from support.nginx_origin import NginxFileOrigin  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

MiB = 1024 * 1024
OBJECT_PATH = "/bench/herd"
# nginx's combined log: "GET /bench/herd HTTP/1.1" 200 <body bytes>
LOG_LINE_RE = re.compile(r'"GET (\S+) HTTP/1\.1" (\d{3}) (\d+)')


def origin_bytes(origin, path):
    total = 0
    for line in origin.access_log_lines():
        match = LOG_LINE_RE.search(line)
        if match and match.group(1) == path:
            total += int(match.group(3))
    return total


def read_through(proxy, path):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        digest = hashlib.md5()
        received = 0
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            received += len(chunk)
        return response.status, received, digest.hexdigest()
    finally:
        connection.close()


def run_herd(origin, data, args, coalesce):
    """One cold herd on fresh proxies and a fresh cache directory; returns the figures."""
    path = f"{OBJECT_PATH}-{'on' if coalesce else 'off'}"
    origin.write_file(path.lstrip("/"), data)
    expected_md5 = hashlib.md5(data).hexdigest()
    cache_dir = tempfile.mkdtemp(prefix="s3hc-fleet-bench-")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, cache_dir, True)
        config = {"cache": {"dir": cache_dir,
                            "coalesce_timeout_ms": 60000 if coalesce else 0}}
        proxies = []
        for _ in range(args.proxies):
            proxy = ProxyProcess(origin.url, config=config).start()
            stack.callback(proxy.stop)
            proxies.append(proxy)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            answers = list(pool.map(lambda n: read_through(proxies[n % len(proxies)], path),
                                    range(args.clients)))
        seconds = time.monotonic() - started
    bad = [a for a in answers if a[0] != 200 or a[2] != expected_md5]
    if bad:
        raise SystemExit(f"{len(bad)} clients got wrong answers: {bad[:3]}")
    client_bytes = sum(a[1] for a in answers)
    sent = origin_bytes(origin, path)
    return {"origin_bytes": sent, "client_bytes": client_bytes, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--proxies", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=64)
    args = parser.parse_args()

    size = args.size_mib * MiB
    with NginxFileOrigin(workers=2) as origin:
        data = os.urandom(size)
        results = {mode: run_herd(origin, data, args, mode == "coalescing")
                   for mode in ("coalescing", "no coalescing")}

    print(f"# Fleet herd: {args.clients} clients over {args.proxies} proxies sharing one "
          f"cache directory, cold GET of one {args.size_mib} MiB object (nginx file origin)\n")
    print("| s3hc | origin bytes / object size | origin bytes / client bytes | wall s |")
    print("| --- | ---: | ---: | ---: |")
    for mode, r in results.items():
        print(f"| {mode} | {r['origin_bytes'] / size:.2f} | "
              f"{r['origin_bytes'] / r['client_bytes']:.4f} | {r['seconds']:.1f} |")
    on, off = results["coalescing"], results["no coalescing"]
    print(f"\norigin bytes, coalescing vs without: {on['origin_bytes'] / max(off['origin_bytes'], 1):.3f}x"
          f"; target origin bytes <= 1.05 x object size: "
          f"{'met' if on['origin_bytes'] <= 1.05 * size else 'NOT met'}")


if __name__ == "__main__":
    main()
