#!/usr/bin/env python3
"""A far origin for benchmarks: a TCP relay that puts a round-trip time and a per-connection
bandwidth cap between its clients and a near origin (the kernel here has no netem).

    python3 tests/bench/far_origin.py --upstream 127.0.0.1:9000 --rtt-ms 20 --rate-mbps 50
    python3 tests/bench/far_origin.py --self-check --rtt-ms 20 --rate-mbps 50

Each connection accepted is relayed to the upstream over its own connection. Every chunk of
bytes, in either direction, is delivered half the round-trip time after it would have left a
link of the given rate: it waits for the link (serialisation at --rate-mbps, per connection and
direction, as a WAN path's bottleneck does) and then for the one-way delay. The bytes held in
flight per direction are bounded (the link's bandwidth-delay product plus 4 MiB), so a reader
that stops reading stops the sender as TCP would.

--self-check starts its own upstream and measures through the relay what a client sees: the
round trip of a one-byte exchange (median of 20) and the rate of one 32 MiB transfer, and
prints them against the configured values. Benchmarks run the relay as a subprocess
(`--ports-file` tells them its port) and print the same check before measuring.

Standard library only. Not part of CTest.
"""

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import time

MiB = 1024 * 1024
READ_CHUNK = 256 * 1024
EXTRA_IN_FLIGHT = 4 * MiB


class Link:
    """One direction of one relayed connection: bytes leave at `rate` bytes/s (0: no cap)
    and arrive `delay` seconds later."""

    def __init__(self, delay, rate):
        self.delay = delay
        self.rate = rate
        self.budget = int(rate * delay) + EXTRA_IN_FLIGHT if rate else EXTRA_IN_FLIGHT
        self.queue = collections.deque()  # (due time, bytes); empty bytes: the end
        self.queued_bytes = 0
        self.link_free_at = 0.0
        self.changed = asyncio.Event()

    async def carry(self, reader, writer):
        await asyncio.gather(self._take(reader), self._deliver(writer))

    async def _take(self, reader):
        loop = asyncio.get_running_loop()
        while True:
            while self.queued_bytes >= self.budget:
                self.changed.clear()
                await self.changed.wait()
            try:
                data = await reader.read(READ_CHUNK)
            except ConnectionError:
                data = b""
            now = loop.time()
            leaves = max(now, self.link_free_at) + (len(data) / self.rate if self.rate else 0)
            self.link_free_at = leaves
            self.queue.append((leaves + self.delay, data))
            self.queued_bytes += len(data)
            self.changed.set()
            if not data:
                return

    async def _deliver(self, writer):
        loop = asyncio.get_running_loop()
        try:
            while True:
                while not self.queue:
                    self.changed.clear()
                    await self.changed.wait()
                due, data = self.queue.popleft()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
                self.queued_bytes -= len(data)
                self.changed.set()
        except ConnectionError:
            pass


class Relay:
    def __init__(self, upstream_host, upstream_port, rtt_s, rate):
        self.upstream = (upstream_host, upstream_port)
        self.one_way = rtt_s / 2
        self.rate = rate
        self.server = None

    async def start(self, host="127.0.0.1", port=0):
        self.server = await asyncio.start_server(self._relay, host, port)
        return self.server.sockets[0].getsockname()[1]

    async def _relay(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        # The connection's set-up crosses the path too: one round trip before any byte.
        await asyncio.sleep(2 * self.one_way)
        up = Link(self.one_way, self.rate)
        down = Link(self.one_way, self.rate)
        try:
            await asyncio.gather(up.carry(client_reader, upstream_writer),
                                 down.carry(upstream_reader, client_writer))
        finally:
            for writer in (upstream_writer, client_writer):
                writer.close()


# ---- self-check ---------------------------------------------------------------------

async def _check_upstream(reader, writer):
    """'P' bytes are echoed; 'S<n>\\n' is answered with n bytes."""
    try:
        while True:
            first = await reader.read(1)
            if not first:
                break
            if first == b"P":
                writer.write(b"P")
            else:
                count = int((await reader.readline()).decode())
                block = b"\0" * MiB
                while count > 0:
                    writer.write(block[:min(count, MiB)])
                    count -= MiB
                    await writer.drain()
            await writer.drain()
    finally:
        writer.close()


async def measure(port, transfer_bytes=32 * MiB, pings=20):
    """(median round trip in s, transfer rate in bytes/s) through 127.0.0.1:`port`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rtts = []
    for _ in range(pings):
        start = time.monotonic()
        writer.write(b"P")
        await writer.drain()
        await reader.readexactly(1)
        rtts.append(time.monotonic() - start)
    start = time.monotonic()
    writer.write(f"S{transfer_bytes}\n".encode())
    await writer.drain()
    received = 0
    first_byte_at = None
    while received < transfer_bytes:
        data = await reader.read(READ_CHUNK)
        if not data:
            break
        if first_byte_at is None:
            first_byte_at = time.monotonic()
        received += len(data)
    elapsed = time.monotonic() - (first_byte_at or start)
    writer.close()
    await writer.wait_closed()
    return statistics.median(rtts), received / elapsed if elapsed > 0 else 0.0


def check_lines(rtt_s, rate, measured_rtt, measured_rate):
    lines = [f"far origin check: round trip {measured_rtt * 1000:.1f} ms "
             f"(configured {rtt_s * 1000:.1f} ms)"]
    if rate:
        lines.append(f"far origin check: rate {measured_rate / 1e6:.1f} MB/s per connection "
                     f"(configured {rate / 1e6:.1f} MB/s, {measured_rate / rate:.2f}x)")
    else:
        lines.append(f"far origin check: rate {measured_rate / 1e6:.1f} MB/s (no cap)")
    return lines


async def self_check(rtt_s, rate):
    upstream = await asyncio.start_server(_check_upstream, "127.0.0.1", 0)
    relay = Relay("127.0.0.1", upstream.sockets[0].getsockname()[1], rtt_s, rate)
    port = await relay.start()
    measured_rtt, measured_rate = await measure(port)
    for line in check_lines(rtt_s, rate, measured_rtt, measured_rate):
        print(line)
    # The client's close takes a round trip to reach the upstream and come back.
    await asyncio.sleep(2 * rtt_s + 0.2)
    upstream.close()
    relay.server.close()
    return measured_rtt, measured_rate


async def serve(args, rtt_s, rate):
    host, _, port = args.upstream.rpartition(":")
    relay = Relay(host, int(port), rtt_s, rate)
    listen_host, _, listen_port = args.listen.rpartition(":")
    port = await relay.start(listen_host, int(listen_port))
    if args.ports_file:
        temp = args.ports_file + ".tmp"
        with open(temp, "w") as out:
            json.dump({"port": port}, out)
        os.replace(temp, args.ports_file)
    print(f"far origin: 127.0.0.1:{port} -> {args.upstream}, round trip {args.rtt_ms} ms, "
          f"{args.rate_mbps or 'no'} MB/s per connection", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", help="HOST:PORT of the near origin")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (default: any port)")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="round-trip time (default 20)")
    parser.add_argument("--rate-mbps", type=float, default=50.0,
                        help="MB/s (10^6 bytes) per connection and direction; 0: no cap "
                             "(default 50)")
    parser.add_argument("--ports-file", help="write {\"port\": N} here once listening")
    parser.add_argument("--self-check", action="store_true",
                        help="measure the relay against its own upstream and exit")
    args = parser.parse_args(argv)
    rtt_s = args.rtt_ms / 1000
    rate = args.rate_mbps * 1e6
    if args.self_check:
        asyncio.run(self_check(rtt_s, rate))
        return 0
    if not args.upstream:
        parser.error("--upstream is needed (or --self-check)")
    try:
        asyncio.run(serve(args, rtt_s, rate))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
