"""A DNS server for tests that knows no name: every query gets NXDOMAIN, or, made silent,
no answer at all. Serves UDP on 127.0.0.1 from a thread of its own; `address` is the
"127.0.0.1:PORT" to give the proxy as upstream.dns_servers. Counts the queries it got.

Usage:
    dns = FakeDnsServer(silent=False).start()
    dns.address, dns.queries
    dns.stop()
"""

import socket
import threading

_HEADER_BYTES = 12


class FakeDnsServer:
    def __init__(self, silent=False):
        self.silent = silent
        self.queries = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self):
        return f"127.0.0.1:{self._socket.getsockname()[1]}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._socket.close()  # recvfrom fails: the thread ends

    def _serve(self):
        while True:
            try:
                query, peer = self._socket.recvfrom(512)
            except OSError:
                return
            if len(query) < _HEADER_BYTES:
                continue
            self.queries += 1
            if self.silent:
                continue
            # The query echoed back as a response (QR, RD, RA) with rcode 3 (NXDOMAIN) and
            # no records beyond its question.
            reply = (query[:2] + bytes([0x81, 0x83]) + query[4:6] + bytes(6) +
                     query[_HEADER_BYTES:])
            try:
                self._socket.sendto(reply, peer)
            except OSError:
                return
