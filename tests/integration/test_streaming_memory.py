"""Big bodies stream through s3hc-proxy without being buffered.

nginx serves and stores files (the fast file origin); a 1 GiB GET and a 1 GiB PUT
go through the proxy and are checksummed on both sides, then the proxy's peak RSS
must still be small. A chunked PUT (Transfer-Encoding: chunked, odd chunk sizes)
must arrive byte for byte. With a cache: a 1 GiB fill started by a client that reads
nothing, read whole meanwhile by another client through the same proxy, costs no more
memory (the fill keeps a bounded window and the stalled reader's bytes wait in the
cache file, not in memory) than the chunks its parallel fill may hold by design
(cache.parallel_fill_streams x parallel_fill_chunk: 32 MiB by default, docs/CACHING.md).

Run: python3 tests/integration/test_streaming_memory.py
"""

import hashlib
import itertools
import os
import shutil
import socket
import struct
import tempfile
import unittest

from support.fixtures import open_connection, start_file_origin_and_proxy

MiB = 1024 * 1024
GiB = 1024 * MiB
BIG_SIZE = 1 * GiB
PEAK_RSS_LIMIT = 64 * MiB
# A 1 GiB cold GET is a parallel fill: 4 chunks of 8 MiB (the defaults) in memory at most.
PARALLEL_FILL_BYTES = 4 * 8 * MiB
CHUNKED_PUT_SIZE = 50 * MiB
READ_SIZE = 1 * MiB
SOCKET_TIMEOUT = 30  # seconds per socket operation: a stall fails the test, never hangs it


def numbered_blocks(total_size, block_size=MiB):
    """Pseudo-random blocks, fast to make: one random MiB reused, each copy stamped
    with its block number, so a lost, repeated or reordered block changes the md5."""
    pattern = os.urandom(block_size)
    for number in range(total_size // block_size):
        yield struct.pack("<Q", number) + pattern[8:]
    rest = total_size % block_size
    if rest:
        yield pattern[:rest]


def write_blocks(path, blocks):
    """Write blocks to path; returns their md5 hex digest."""
    digest = hashlib.md5()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        for block in blocks:
            digest.update(block)
            f.write(block)
    return digest.hexdigest()


def file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(4 * MiB):
            digest.update(block)
    return digest.hexdigest()


def odd_chunks(total_size):
    """Split numbered_blocks into chunks of awkward sizes (1 byte, primes, several MiB)."""
    data = b"".join(numbered_blocks(total_size))
    sizes = itertools.cycle([1, 2, 7, 4093, 65536, 65537, MiB - 1, 3 * MiB + 5])
    offset = 0
    while offset < len(data):
        size = next(sizes)
        yield data[offset:offset + size]
        offset += size


class ThroughTheProxy:
    """Requests through self.proxy (set up by the test case)."""

    def connect(self):
        return open_connection(self, self.proxy.port, SOCKET_TIMEOUT)

    def get_md5_through_proxy(self, key):
        """GET key through the proxy, reading READ_SIZE at a time; returns (md5, length)."""
        conn = self.connect()
        conn.request("GET", "/" + key)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), str(BIG_SIZE))
        digest, received = hashlib.md5(), 0
        while block := resp.read(READ_SIZE):
            digest.update(block)
            received += len(block)
        return digest.hexdigest(), received

    def put_through_proxy(self, key, blocks, size):
        """PUT blocks (Content-Length: size) through the proxy; returns (md5 sent, status)."""
        conn = self.connect()
        conn.putrequest("PUT", "/" + key)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        digest = hashlib.md5()
        for block in blocks:
            digest.update(block)
            conn.send(block)
        resp = conn.getresponse()
        resp.read()
        return digest.hexdigest(), resp.status


class StreamingMemoryTest(ThroughTheProxy, unittest.TestCase):
    def setUp(self):
        self.origin, self.proxy = start_file_origin_and_proxy(self)

    def test_1gib_get_and_put_stream_with_small_peak_rss(self):
        source_md5 = write_blocks(self.origin.path_of("bucket/big-get"), numbered_blocks(BIG_SIZE))

        received_md5, received = self.get_md5_through_proxy("bucket/big-get")
        self.assertEqual(received, BIG_SIZE)
        self.assertEqual(received_md5, source_md5, "GET body differs from the origin's file")
        os.unlink(self.origin.path_of("bucket/big-get"))  # keep at most 1 GiB on disk

        sent_md5, status = self.put_through_proxy("bucket/big-put", numbered_blocks(BIG_SIZE),
                                                  BIG_SIZE)
        self.assertEqual(status, 201)  # nginx: Created
        stored = self.origin.path_of("bucket/big-put")
        self.assertEqual(os.path.getsize(stored), BIG_SIZE)
        self.assertEqual(file_md5(stored), sent_md5, "file stored by the origin differs from PUT body")

        self.assertTrue(self.proxy.is_running())
        peak = self.proxy.peak_rss_bytes()
        self.assertLess(peak, PEAK_RSS_LIMIT,
                        f"proxy peak RSS {peak / MiB:.1f} MiB after 2 GiB streamed")

    def test_chunked_put_arrives_intact(self):
        chunks = list(odd_chunks(CHUNKED_PUT_SIZE))
        sent_md5 = hashlib.md5(b"".join(chunks)).hexdigest()

        conn = self.connect()
        try:
            conn.request("PUT", "/bucket/chunked", body=iter(chunks),
                         headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError) as error:
            self.fail(f"proxy closed the connection during the chunked upload: {error!r}")
        resp = conn.getresponse()
        resp.read()

        self.assertEqual(resp.status, 201)
        stored = self.origin.path_of("bucket/chunked")
        self.assertEqual(os.path.getsize(stored), CHUNKED_PUT_SIZE)
        self.assertEqual(file_md5(stored), sent_md5)


class StalledReaderMemoryTest(ThroughTheProxy, unittest.TestCase):
    """The same origin, through a proxy with a cache."""

    def setUp(self):
        cache = tempfile.mkdtemp(prefix="s3hc-stalled-")
        self.addCleanup(shutil.rmtree, cache, True)
        self.origin, self.proxy = start_file_origin_and_proxy(
            self, {"cache": {"dir": cache, "get_ttl_ms": 60000, "ram_size": 0}})

    def test_a_stalled_reader_of_a_1gib_fill_costs_no_memory(self):
        source_md5 = write_blocks(self.origin.path_of("bucket/big"), numbered_blocks(BIG_SIZE))
        stalled = socket.create_connection(("127.0.0.1", self.proxy.port), SOCKET_TIMEOUT)
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        stalled.sendall(b"GET /bucket/big HTTP/1.1\r\nHost: origin\r\n\r\n")
        head = stalled.recv(4096)  # the header (and a little body), then nothing is read
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])

        received_md5, received = self.get_md5_through_proxy("bucket/big")
        self.assertEqual(received, BIG_SIZE)
        self.assertEqual(received_md5, source_md5)
        self.assertEqual(self.proxy.metric("s3hc_cache_fills_total", result="committed"), 1)
        self.assertEqual(self.proxy.metric("s3hc_cache_fanned_out_total"), 1,
                         "the reader joined the stalled client's fill")
        self.assertEqual(self.proxy.metric("s3hc_cache_parallel_fills_total"), 1)
        self.assertTrue(self.proxy.is_running())
        peak = self.proxy.peak_rss_bytes()
        self.assertLess(peak, PEAK_RSS_LIMIT + PARALLEL_FILL_BYTES,
                        f"proxy peak RSS {peak / MiB:.1f} MiB with a stalled reader of a 1 GiB "
                        "fill")


if __name__ == "__main__":
    unittest.main()
