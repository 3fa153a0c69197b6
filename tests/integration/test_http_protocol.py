"""HTTP/1.1 behaviour of s3hc-proxy, over raw sockets.

Keep-alive, pipelining, chunked request bodies (with chunk extensions and trailers),
Expect: 100-continue (accepted, refused early by the origin, and moto's double
"100 Continue"), HEAD, chunked responses from the origin, Connection: close and HTTP/1.0.

Origins: nginx (support.nginx_origin), whose PUT stores files so request bodies can be
compared byte for byte, and whose on-the-fly gzip makes chunked responses; moto for the
Expect case against the real S3 stand-in.

Run: python3 tests/integration/test_http_protocol.py
"""

import gzip
import http.client
import os
import socket
import unittest

from support.fixtures import start_proxy
from support.moto_origin import MotoOrigin
from support.nginx_origin import NginxFileOrigin, print_logs_on_failure

SOCKET_TIMEOUT = 10.0  # seconds per socket operation: a hang fails the test, never blocks it
FILES = {
    "bucket/empty": b"",
    "bucket/tiny": b"tiny\n",
    "bucket/medium": os.urandom(200 * 1024),
    "bucket/large": os.urandom(3 * 1024 * 1024),
}
# Compressible but not trivial: gzip keeps it multi-chunk.
TEXT_FILE = ("bucket/text.log",
             b"".join(b"line %08d of a log file that compresses well\n" % i for i in range(50000)))


def request(method, target, headers=b"", body=b"", host="s3.test"):
    """Raw request bytes; Host is always set."""
    return (method.encode() + b" " + target.encode() + b" HTTP/1.1\r\nHost: " + host.encode() +
            b"\r\n" + headers + b"\r\n" + body)


class _NonClosingFile:
    """A file that ignores close(): http.client closes its file after each response,
    but pipelined responses share one buffered file per socket."""

    def __init__(self, file):
        self._file = file

    def __getattr__(self, name):
        return getattr(self._file, name)

    def close(self):
        pass


class ResponseReader:
    """Reads consecutive responses from one socket through one buffer (a pipelined
    answer can bring the start of the next response in the same read)."""

    def __init__(self, sock):
        self.file = _NonClosingFile(sock.makefile("rb"))

    def makefile(self, *args, **kwargs):  # what http.client.HTTPResponse calls on a socket
        return self.file

    def read(self, method="GET"):
        """Next final response; returns (HTTPResponse, body). 1xx answers are skipped."""
        resp = http.client.HTTPResponse(self, method=method)
        resp.begin()
        return resp, resp.read()

    def read_head_line(self):
        """The next status line, undecoded (to see interim 1xx answers)."""
        return self.file.readline(65537)

    def skip_headers(self):
        while self.file.readline(65537) not in (b"\r\n", b"\n", b""):
            pass


class ProtocolTestCase(unittest.TestCase):
    def start_proxy(self, upstream_url):
        self.proxy = start_proxy(self, upstream_url)

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=SOCKET_TIMEOUT)
        self.addCleanup(sock.close)
        return sock, ResponseReader(sock)

    def assert_closed_by_proxy(self, sock, timeout=3.0):
        sock.settimeout(timeout)
        try:
            self.assertEqual(sock.recv(65536), b"", "data after the last response")
        except ConnectionResetError:
            pass
        except socket.timeout:
            self.fail(f"proxy kept the connection open {timeout}s after the last response")


class NginxOriginProtocolTest(ProtocolTestCase):
    def setUp(self):
        self.origin = NginxFileOrigin(gzip=True)
        self.addCleanup(self.origin.close)
        self.origin.start()
        for key, data in [*FILES.items(), TEXT_FILE]:
            self.origin.write_file(key, data)
        self.start_proxy(self.origin.url)
        print_logs_on_failure(self, self.origin)

    def stored(self, key):
        with open(self.origin.path_of(key), "rb") as f:
            return f.read()

    def test_keep_alive_serves_several_requests_on_one_socket(self):
        sock, reader = self.connect()
        for key in ["bucket/tiny", "bucket/large", "bucket/empty", "bucket/medium", "bucket/tiny"]:
            with self.subTest(key=key):
                sock.sendall(request("GET", "/" + key))
                resp, body = reader.read()
                self.assertEqual(resp.status, 200)
                self.assertEqual(body, FILES[key])
                self.assertNotEqual(resp.getheader("Connection", "").lower(), "close")

    def test_pipelined_requests_are_answered_in_order(self):
        sock, reader = self.connect()
        keys = ["bucket/large", "bucket/tiny", "bucket/medium"]
        sock.sendall(b"".join(request("GET", "/" + key) for key in keys))
        for key in keys:
            with self.subTest(key=key):
                resp, body = reader.read()
                self.assertEqual((resp.status, len(body)), (200, len(FILES[key])))
                self.assertEqual(body, FILES[key])

    def test_pipelined_head_between_gets(self):
        sock, reader = self.connect()
        sock.sendall(request("GET", "/bucket/tiny") + request("HEAD", "/bucket/large") +
                     request("GET", "/bucket/medium"))
        resp, body = reader.read()
        self.assertEqual((resp.status, body), (200, FILES["bucket/tiny"]))
        resp, body = reader.read(method="HEAD")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), str(len(FILES["bucket/large"])))
        resp, body = reader.read()
        self.assertEqual((resp.status, body), (200, FILES["bucket/medium"]))

    def test_head_response_has_no_body(self):
        sock, reader = self.connect()
        sock.sendall(request("HEAD", "/bucket/medium"))
        resp, body = reader.read(method="HEAD")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Length"), str(len(FILES["bucket/medium"])))
        # Any body byte relayed after the HEAD answer would corrupt the next response.
        sock.sendall(request("GET", "/bucket/tiny"))
        resp, body = reader.read()
        self.assertEqual((resp.status, body), (200, FILES["bucket/tiny"]))

    def test_chunked_request_body_is_forwarded_intact(self):
        sock, reader = self.connect()
        medium = FILES["bucket/medium"]
        chunked_body = b"".join([
            b"5;name=value\r\nhello\r\n",          # chunk extension
            b"000A\r\n0123456789\r\n",             # upper-case hex, leading zeros
            b"1;a;b=\"q\"\r\n!\r\n",
            b"%x\r\n%s\r\n" % (len(medium), medium),
            b"0\r\nX-Trailer: t\r\n\r\n",         # trailer section
        ])
        sock.sendall(request("PUT", "/bucket/chunked-upload",
                             b"Transfer-Encoding: chunked\r\n", chunked_body))
        resp, _ = reader.read()
        self.assertEqual(resp.status, 201)
        self.assertEqual(self.stored("bucket/chunked-upload"), b"hello0123456789!" + medium)
        # The framing ended where the client's did: the connection is still usable.
        sock.sendall(request("GET", "/bucket/tiny"))
        self.assertEqual(reader.read()[1], FILES["bucket/tiny"])

    def test_expect_continue_accepted(self):
        body = os.urandom(100 * 1024)
        sock, reader = self.connect()
        sock.sendall(request("PUT", "/bucket/expected",
                             b"Content-Length: %d\r\nExpect: 100-continue\r\n" % len(body)))
        status_line = reader.read_head_line()
        self.assertTrue(status_line.startswith(b"HTTP/1.1 100"), status_line)
        reader.skip_headers()
        sock.sendall(body)
        resp, _ = reader.read()
        self.assertEqual(resp.status, 201)
        self.assertEqual(self.stored("bucket/expected"), body)

    def test_expect_continue_refused_early_by_origin(self):
        # nginx refuses a PUT to a "directory" (409) from the headers alone, without
        # "100 Continue"; the client must get that answer without sending its body.
        sock, reader = self.connect()
        sock.sendall(request("PUT", "/bucket/a-directory/",
                             b"Content-Length: 1048576\r\nExpect: 100-continue\r\n"))
        status_line = reader.read_head_line()
        self.assertTrue(status_line.startswith(b"HTTP/1.1 409"),
                        f"expected the origin's 409 before any body, got {status_line!r}")
        self.assertTrue(self.proxy.is_running())
        fresh_sock, fresh_reader = self.connect()
        fresh_sock.sendall(request("GET", "/bucket/tiny"))
        self.assertEqual(fresh_reader.read()[1], FILES["bucket/tiny"])

    def test_chunked_response_from_origin_is_relayed(self):
        key, data = TEXT_FILE
        sock, reader = self.connect()
        sock.sendall(request("GET", "/" + key, b"Accept-Encoding: gzip\r\n"))
        resp, body = reader.read()  # http.client decodes the chunked framing
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        self.assertIsNone(resp.getheader("Content-Length"))
        self.assertEqual(gzip.decompress(body), data)
        # The last chunk ended the response: the next one on this socket is intact.
        sock.sendall(request("GET", "/bucket/medium"))
        self.assertEqual(reader.read()[1], FILES["bucket/medium"])

    def test_client_connection_close_is_honoured(self):
        sock, reader = self.connect()
        # The request after the "close" one must not be answered.
        sock.sendall(request("GET", "/bucket/tiny") +
                     request("GET", "/bucket/medium", b"Connection: close\r\n") +
                     request("GET", "/bucket/large"))
        self.assertEqual(reader.read()[1], FILES["bucket/tiny"])
        resp, body = reader.read()
        self.assertEqual((resp.status, body), (200, FILES["bucket/medium"]))
        self.assert_closed_by_proxy(sock)

    def test_http_1_0_without_keep_alive_is_closed_after_response(self):
        sock, reader = self.connect()
        sock.sendall(b"GET /bucket/tiny HTTP/1.0\r\nHost: s3.test\r\n\r\n")
        resp, body = reader.read()
        self.assertEqual((resp.status, body), (200, FILES["bucket/tiny"]))
        self.assert_closed_by_proxy(sock)


class MotoOriginProtocolTest(ProtocolTestCase):
    """moto (werkzeug) answers "Expect: 100-continue" with two "100 Continue" interim
    responses; the proxy must relay a usable exchange (final 200, object stored)."""

    def setUp(self):
        self.origin = MotoOrigin()
        self.addCleanup(self.origin.stop)
        self.origin.start()
        self.start_proxy(self.origin.endpoint_url)
        print_logs_on_failure(self, self.origin)

    def test_expect_continue_with_moto(self):
        body = os.urandom(64 * 1024)
        host = f"127.0.0.1:{self.proxy.port}"  # moto reads a bucket out of other host names
        with self.origin.auth_disabled():  # raw unsigned requests
            # moto answers "Connection: close" to everything: one connection per request.
            sock, reader = self.connect()
            sock.sendall(request("PUT", "/expect-bucket", host=host))
            self.assertEqual(reader.read()[0].status, 200)

            sock, reader = self.connect()
            sock.sendall(request("PUT", "/expect-bucket/key",
                                 b"Content-Length: %d\r\nExpect: 100-continue\r\n" % len(body),
                                 host=host))
            status_line = reader.read_head_line()
            self.assertTrue(status_line.startswith(b"HTTP/1.1 100"), status_line)
            reader.skip_headers()
            sock.sendall(body)
            resp, _ = reader.read()  # skips a second "100 Continue" if one is relayed
            self.assertEqual(resp.status, 200)

        stored = self.origin.client().get_object(Bucket="expect-bucket", Key="key")["Body"].read()
        self.assertEqual(stored, body)


if __name__ == "__main__":
    unittest.main()
