"""SIGTERM drains s3hc-proxy instead of cutting transfers.

On SIGTERM the proxy stops accepting, reports 503 "draining" on /health (so load balancers
move new clients away), closes idle keep-alive connections at once, lets requests in flight
finish, and exits 0 once none are left, or after shutdown_grace_ms whatever is still open.

Run: python3 tests/integration/test_shutdown.py
"""

import hashlib
import json
import os
import signal
import socket
import time
import unittest
import urllib.error
import urllib.request

from support.fixtures import open_connection, start_file_origin_and_proxy

MiB = 1024 * 1024
OBJECT_SIZE = 32 * MiB
SOCKET_TIMEOUT = 30


class ShutdownTest(unittest.TestCase):
    def start(self, config=None):
        self.origin, self.proxy = start_file_origin_and_proxy(self, config)
        self.data = os.urandom(OBJECT_SIZE)
        self.origin.write_file("bucket/big", self.data)
        self.origin.write_file("bucket/small", b"small object")

    def connect(self):
        return open_connection(self, self.proxy.port, SOCKET_TIMEOUT)

    def health_status(self):
        try:
            with urllib.request.urlopen(self.proxy.admin_url + "/health", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proxy.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.proxy.process.returncode()

    def test_transfer_in_flight_completes_and_proxy_exits_cleanly(self):
        self.start()
        idle = self.connect()
        idle.request("GET", "/bucket/small")
        self.assertEqual(idle.getresponse().read(), b"small object")

        downloading = self.connect()
        downloading.request("GET", "/bucket/big")
        response = downloading.getresponse()
        first = response.read(MiB)  # the transfer is under way, most of it still to come

        os.kill(self.proxy.pid, signal.SIGTERM)
        time.sleep(0.3)
        status, health = self.health_status()
        self.assertEqual((status, health["status"]), (503, "draining"))
        with self.assertRaises(OSError, msg="new connections must be refused"):
            fresh = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=2)
            fresh.sendall(b"GET /bucket/small HTTP/1.1\r\nHost: x\r\n\r\n")
            if not fresh.recv(100):
                raise ConnectionResetError("closed without an answer")
        self.assertEqual(idle.sock.recv(100), b"", "idle keep-alive connection not closed")

        rest = response.read()
        self.assertEqual(hashlib.md5(first + rest).digest(), hashlib.md5(self.data).digest())
        self.assertEqual(self.wait_exit(10), 0)

    def test_grace_period_bounds_the_wait(self):
        self.start({"shutdown_grace_ms": 500})
        stalled = self.connect()
        stalled.request("GET", "/bucket/big")
        stalled.getresponse()  # the body is never read: the transfer cannot finish
        started = time.monotonic()
        os.kill(self.proxy.pid, signal.SIGTERM)
        self.assertEqual(self.wait_exit(10), 0)
        self.assertLess(time.monotonic() - started, 3.0)


if __name__ == "__main__":
    unittest.main()
