#!/usr/bin/env python3
"""A cache directory on a file system far smaller than cache.max_size (a 24 MiB tmpfs under a
50 GiB max_size), in front of moto:

  - more objects than the file system holds: every answer byte-correct, the effective capacity
    (s3hc_cache_effective_capacity_bytes) below the tmpfs size, objects refused while the
    cache is full get room at the next maintenance round and are cached (a third read HIT);
  - the file system filled to the last byte by other data between two maintenance rounds:
    a write through the proxy of a cached object is still read back new (no room for its
    tombstone: the old record is deleted, its time kept in the table of evicted news), fills
    fail with ENOSPC
    (s3hc_cache_fills_total{result="no_space"}), answers stay byte-correct, one warning per
    round (not one per fill), the lease holder evicts at its next round (the lease's own
    files get room from the reserve file) and caching resumes.

Needs root (mount -t tmpfs); skipped with a message otherwise.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.fleet_fixture import FleetTestCase  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402
from support.s3compare import deterministic_bytes  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
TMPFS_BYTES = 24 * MIB
FULL_WARNING = "cache file system full:"


def mount_tmpfs(path, size_bytes):
    """Mounts a tmpfs of `size_bytes` on `path`; the reason when it cannot."""
    if os.geteuid() != 0:
        return "not root"
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", path],
                            capture_output=True, text=True)
    return None if result.returncode == 0 else (result.stderr.strip() or "mount failed")


def unmount(path):
    if subprocess.run(["umount", path], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", path], capture_output=True)


def fill_to_the_last_byte(path):
    """Writes `path` until the file system says ENOSPC; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (MIB, 4 * KIB, 1):
            block = b"\0" * chunk
            try:
                while True:
                    written += f.write(block)
            except OSError:
                pass
    return written


class DiskFullTest(FleetTestCase):
    """moto per class (the fixture's); one proxy per test on its own tmpfs."""

    def setUp(self):
        super().setUp()
        self.proxy = None
        self.mount_point = tempfile.mkdtemp(prefix="s3hc-disk-full-")
        self.addCleanup(shutil.rmtree, self.mount_point, True)
        reason = mount_tmpfs(self.mount_point, TMPFS_BYTES)
        if reason:
            self.skipTest(f"cannot mount a {TMPFS_BYTES // MIB} MiB tmpfs for the cache "
                          f"directory ({reason}); run as root to test a full file system")
        self.addCleanup(unmount, self.mount_point)  # after the proxy stopped (cleanups: LIFO)
        self.cache_path = os.path.join(self.mount_point, "cache")

    def log_sources(self):
        return [self.proxy, self.origin]

    def start_proxy(self, **cache):
        config = {"cache": dict({"dir": self.cache_path, "max_size": "50GiB", "protect_ms": 0,
                                 "sweep_per_round": 100000}, **cache)}
        self.proxy = ProxyProcess(self.origin.endpoint_url, config=config, threads=2)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        return self.origin.client(self.proxy.endpoint_url)

    def upload(self, tag, count, size, seed):
        bucket = f"s3hc-disk-full-{tag}-{os.getpid()}"
        self.direct.create_bucket(Bucket=bucket)
        objects = {}
        for i in range(count):
            key = f"{tag}/{i}"
            objects[key] = deterministic_bytes(size, seed + i)
            self.direct.put_object(Bucket=bucket, Key=key, Body=objects[key])
        return bucket, objects

    def get(self, client, bucket, key, expected):
        """X-Cache of a GET through the proxy, after checking every byte."""
        answer = client.get_object(Bucket=bucket, Key=key)
        body = answer["Body"].read()
        self.assertEqual(len(body), len(expected), key)
        self.assertTrue(body == expected, f"{key}: wrong bytes")
        return answer["ResponseMetadata"]["HTTPHeaders"].get("x-cache")

    def metric(self, name, **labels):
        return self.proxy.metric(name, **labels)

    def object_hash(self, key):
        """The hash of a cached object (the record names its key), as its directory's name
        ends (cache/cache_layout.h)."""
        objects_dir = os.path.join(self.cache_path, "objects")
        for parent, _, files in os.walk(objects_dir):
            if "record" in files:
                with open(os.path.join(parent, "record"), "rb") as record:
                    if key.encode() in record.read():
                        return int(os.path.basename(parent)[-16:], 16)
        self.fail(f"no record of {key}")

    def evicted_news(self, object_hash):
        """The time the table of evicted news keeps for the object's slot
        (cache/evicted_news.h: a magic word, then 65536 little-endian slots)."""
        with open(os.path.join(self.cache_path, "evicted-news"), "rb") as table:
            table.seek((1 + object_hash % 65536) * 8)
            return int.from_bytes(table.read(8), "little")

    def usage_mtime(self):
        try:
            return os.stat(os.path.join(self.cache_path, "fleet", "usage")).st_mtime_ns
        except FileNotFoundError:
            return 0

    def warnings(self):
        return [line for line in self.proxy.log_text().splitlines() if FULL_WARNING in line]

    def test_more_objects_than_the_file_system_holds(self):
        interval_s = 0.2
        client = self.start_proxy(maintenance_interval_ms=int(interval_s * 1000), lease_ms=2000)
        bucket, objects = self.upload("many", 12, 6 * MIB, 100)
        committed_when_first_refused = None
        cached_after_full = 0
        for key, data in objects.items():
            refused_before = self.metric("s3hc_cache_fills_total", result="refused")
            self.assertIn(self.get(client, bucket, key, data), ("MISS", None))
            if (committed_when_first_refused is None and
                    self.metric("s3hc_cache_fills_total", result="refused") > refused_before):
                committed_when_first_refused = self.metric("s3hc_cache_fills_total",
                                                           result="committed")
            time.sleep(3 * interval_s)  # a round: room made for a refused fill
            self.get(client, bucket, key, data)  # cached now, if it was refused before
            time.sleep(3 * interval_s)
            x_cache = self.get(client, bucket, key, data)
            if committed_when_first_refused is not None:
                self.assertEqual(x_cache, "HIT", f"{key} not cached after the cache was full")
                cached_after_full += 1

        self.assertIsNotNone(committed_when_first_refused,
                             "72 MiB through a 24 MiB file system: some fill must wait for room")
        self.assertGreater(self.metric("s3hc_cache_fills_total", result="committed"),
                           committed_when_first_refused, "nothing cached after the cache was full")
        self.assertGreaterEqual(cached_after_full, 6)
        self.assertGreater(self.metric("s3hc_cache_evictions_total"), 0)
        capacity = self.metric("s3hc_cache_effective_capacity_bytes")
        self.assertGreater(capacity, 12 * MIB)
        self.assertLess(capacity, TMPFS_BYTES, "the effective capacity is the file system's")
        self.assertEqual(self.metric("s3hc_cache_max_size_bytes"), 50 * 1024 * MIB)
        self.assertLessEqual(self.metric("s3hc_cache_size_bytes"), capacity)
        print(f"\n12 x 6 MiB through a 24 MiB tmpfs: effective capacity {capacity / MIB:.1f} MiB, "
              f"fills committed {self.metric('s3hc_cache_fills_total', result='committed'):.0f}, "
              f"refused {self.metric('s3hc_cache_fills_total', result='refused'):.0f}, "
              f"no space {self.metric('s3hc_cache_fills_total', result='no_space'):.0f}, "
              f"evictions {self.metric('s3hc_cache_evictions_total'):.0f}", file=sys.stderr)

    def test_file_system_filled_by_other_data_between_two_rounds(self):
        interval_s = 2.5  # the fills below run between two rounds
        client = self.start_proxy(maintenance_interval_ms=int(interval_s * 1000), lease_ms=10000)
        bucket, objects = self.upload("full", 16, 2 * MIB, 200)
        keys = list(objects)
        for key in keys[:4]:  # 8 MiB cached
            self.get(client, bucket, key, objects[key])
            self.assertEqual(self.get(client, bucket, key, objects[key]), "HIT")
        self.wait_for(lambda: self.metric("s3hc_cache_size_bytes") >= 8 * MIB, 10,
                      "the cached objects to be accounted")

        # Right after a round, other data takes every byte left.
        seen = self.usage_mtime()
        self.wait_for(lambda: self.usage_mtime() != seen, 3 * interval_s, "a maintenance round")
        filled_at = time.monotonic()
        ballast = os.path.join(self.mount_point, "ballast")
        fill_to_the_last_byte(ballast)
        for key in keys[4:10]:  # admitted by the last round's figures: they meet ENOSPC
            self.assertEqual(self.get(client, bucket, key, objects[key]), "MISS")
        burst_s = time.monotonic() - filled_at
        no_space = self.metric("s3hc_cache_fills_total", result="no_space")
        self.assertGreaterEqual(no_space, 3, f"fills that met ENOSPC within {burst_s:.1f} s")

        # A write through the proxy of a cached object, with no room for its tombstone or its
        # bytes: the next read still gets the new version (the old record is deleted), and
        # the write's time is kept in the table of evicted news (made at start-up, so it needs
        # no room), which keeps a fill older than the write from bringing the old bytes back.
        hot = keys[0]
        hot_hash = self.object_hash(hot)
        objects[hot] = deterministic_bytes(2 * MIB, 299)
        written_after_ms = int(time.time() * 1000)
        client.put_object(Bucket=bucket, Key=hot, Body=objects[hot])
        self.get(client, bucket, hot, objects[hot])
        self.assertGreaterEqual(self.evicted_news(hot_hash), written_after_ms)

        # The next round: the holder evicts and publishes a capacity under what is accounted.
        self.wait_for(lambda: self.metric("s3hc_cache_evictions_total") > 0, 3 * interval_s,
                      "evictions after ENOSPC")
        capacity = self.metric("s3hc_cache_effective_capacity_bytes")
        self.assertLessEqual(capacity, 8 * MIB + 256 * KIB)
        self.assertGreater(capacity, 0)

        # Caching resumes in the room made (the ballast stays): a fill refused for room gets
        # it at the next round.
        time.sleep(interval_s * 1.2)
        committed = self.metric("s3hc_cache_fills_total", result="committed")
        for key in keys[10:13]:
            self.get(client, bucket, key, objects[key])
            time.sleep(interval_s * 1.2)
            self.get(client, bucket, key, objects[key])
            time.sleep(interval_s * 1.2)
            self.assertEqual(self.get(client, bucket, key, objects[key]), "HIT",
                             f"{key} not cached after the file system was full")
        self.assertGreater(self.metric("s3hc_cache_fills_total", result="committed"), committed)

        # One warning per round with ENOSPC, not one per fill; none per fill either.
        elapsed_s = time.monotonic() - filled_at
        warnings = self.warnings()
        log = self.proxy.log_text()
        print(f"\nfile system filled: {no_space:.0f} fills met ENOSPC in {burst_s:.1f} s, "
              f"{len(warnings)} warning(s) in {elapsed_s:.1f} s, capacity then "
              f"{capacity / MIB:.1f} MiB, reserve released: "
              f"{'released the reserve' in log}", file=sys.stderr)
        self.assertGreaterEqual(len(warnings), 1)
        self.assertLessEqual(len(warnings), 2 + burst_s / interval_s)
        self.assertLess(len(warnings), no_space)
        self.assertNotIn("cache fill of", log, "a fill failure logged per fill")
        os.unlink(ballast)


if __name__ == "__main__":
    unittest.main(verbosity=2)
