"""A DNS server for tests that knows no name but those given in `answers` ({name: IPv4},
answered to A queries; AAAA queries for them get no record): every other query gets NXDOMAIN,
or, made silent, no answer at all. Serves UDP on 127.0.0.1 from a thread of its own; `address` is the
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
    def __init__(self, silent=False, answers=None):
        self.silent = silent
        self.answers = {name.lower(): address for name, address in (answers or {}).items()}
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
            reply = self._answer(query)
            try:
                self._socket.sendto(reply, peer)
            except OSError:
                return

    def _answer(self, query):
        name, qtype_at = _question_name(query)
        known = self.answers.get(name)
        if known is None:
            # The query echoed back as a response (QR, RD, RA) with rcode 3 (NXDOMAIN) and
            # no records beyond its question.
            return (query[:2] + bytes([0x81, 0x83]) + query[4:6] + bytes(6) +
                    query[_HEADER_BYTES:])
        question = query[_HEADER_BYTES:qtype_at + 4]
        if query[qtype_at:qtype_at + 2] != b"\x00\x01":  # not A: no record, no error
            return query[:2] + bytes([0x81, 0x80]) + b"\x00\x01" + bytes(6) + question
        record = (b"\xc0\x0c" + b"\x00\x01\x00\x01" + (60).to_bytes(4, "big") + b"\x00\x04" +
                  socket.inet_aton(known))  # the question's name, A, IN, TTL 60 s
        return (query[:2] + bytes([0x81, 0x80]) + b"\x00\x01\x00\x01" + bytes(4) + question +
                record)


def _question_name(query):
    """The question's name (lower case) and where its QTYPE starts."""
    labels, at = [], _HEADER_BYTES
    while at < len(query) and query[at]:
        length = query[at]
        labels.append(query[at + 1:at + 1 + length].decode("ascii", "replace").lower())
        at += 1 + length
    return ".".join(labels), at + 1
