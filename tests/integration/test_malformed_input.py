"""s3hc-proxy against malformed clients and misbehaving origins, over raw sockets.

Each bad case checks the S3-style XML error the spec names (400 BadRequest,
RequestHeaderSectionTooLarge, RequestTimeout; 502 BadGateway, 503 ServiceUnavailable,
504 GatewayTimeout), that the connection is closed where the spec says so, and then
that the proxy still serves: a new connection gets a normal answer, and a "bystander"
connection opened before the bad one still works on the same socket.

Origins: nginx (support.nginx_origin) for client-side cases; MisbehavingOrigin below
(a tiny Python server) for upstream failures and for recording forwarded targets.

Run: python3 tests/integration/test_malformed_input.py
"""

import http.client
import os
import socket
import struct
import threading
import time
import unittest
import xml.etree.ElementTree as ET

from support.fixtures import start_proxy
from support.nginx_origin import NginxFileOrigin, print_logs_on_failure
from support.ports import free_port

OK_KEY = "bucket/ok"
OK_BODY = b"a small object\n"
SOCKET_TIMEOUT = 10.0  # seconds per socket operation: a hang fails the test, never blocks it
MAX_HEADER_BYTES = 4096
CLIENT_READ_MS = 500
CLIENT_IDLE_MS = 1000
UPSTREAM_RESPONSE_TIMEOUT_MS = 1000


# ---- raw HTTP on sockets --------------------------------------------------------

def get_request(target=b"/" + OK_KEY.encode(), extra_headers=b""):
    return b"GET " + target + b" HTTP/1.1\r\nHost: s3.test\r\n" + extra_headers + b"\r\n"


def read_response(sock, method="GET"):
    """Read one response from sock; returns (HTTPResponse, body bytes)."""
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    return resp, resp.read()


def wait_for_close(sock, timeout):
    """Read until the peer closes (EOF or reset). Returns (bytes read meanwhile, seconds
    waited); raises socket.timeout if the connection is still open after `timeout`."""
    sock.settimeout(timeout)
    start, received = time.monotonic(), b""
    try:
        while data := sock.recv(65536):
            received += data
    except ConnectionResetError:
        pass
    return received, time.monotonic() - start


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class MisbehavingOrigin:
    """A tiny threaded origin whose answer depends on the request target's first segment:
      /reset/...     reads the request head, then resets the connection (RST)
      /close/...     reads the request head, then closes without answering (FIN)
      /garbage/...   answers bytes that are not HTTP, then closes
      /silent/...    reads the request head and never answers
      /truncate/...  sends headers for 1000 body bytes, 10 bytes of body, then closes
      /eof/...       200 with no Content-Length: the body ends when the origin closes
      /upgrade/...   101 Switching Protocols (a protocol switch the proxy must not relay)
      anything else  200 with OK_BODY, keep-alive
    Every request head is recorded in .heads (raw bytes, arrival order). Requests to it
    carry no body."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)  # lets the accept loop notice stop()
        self.port = self.listener.getsockname()[1]
        self.heads = []
        self._connections = []
        self._stopping = threading.Event()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()
        self.listener.close()
        for conn in list(self._connections):
            conn.close()

    def log_tail(self, lines=40):
        heads = self.heads[-lines:]
        return f"--- last {len(heads)} request heads seen by MisbehavingOrigin ---\n" + \
            "\n".join(repr(h) for h in heads)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            with conn:
                buffered = b""
                while True:
                    while b"\r\n\r\n" not in buffered:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffered += data
                    head, buffered = buffered.split(b"\r\n\r\n", 1)
                    self.heads.append(head)
                    if not self._answer(conn, head):
                        return
        except OSError:
            pass  # stop() closed the socket, or the proxy went away

    def _answer(self, conn, head):
        """Act on one request; returns whether to keep the connection open."""
        target = head.split(b" ")[1] if head.count(b" ") >= 2 else b"/"
        behaviour = target.split(b"/")[1] if target.count(b"/") >= 2 else b""
        if behaviour == b"reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if behaviour == b"close":
            return False
        if behaviour == b"garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\nthis is not an HTTP response\r\n\r\n")
            return False
        if behaviour == b"silent":
            self._stopping.wait()
            return False
        if behaviour == b"truncate":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            return False
        if behaviour == b"upgrade":
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                         b"Upgrade: h2c\r\n\r\n")
            return False
        if behaviour == b"eof":
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + OK_BODY)
            return False
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(OK_BODY) + OK_BODY)
        return True


# ---- base test case ---------------------------------------------------------------

class ProxyTestCase(unittest.TestCase):
    """Start/stop helpers and the checks every malformed case shares."""

    def start_nginx_origin(self, port=None):
        origin = NginxFileOrigin(port=port)
        self.addCleanup(origin.close)
        origin.start()
        origin.write_file(OK_KEY, OK_BODY)
        print_logs_on_failure(self, origin)
        return origin

    def start_misbehaving_origin(self):
        origin = MisbehavingOrigin().start()
        self.addCleanup(origin.stop)
        print_logs_on_failure(self, origin)
        return origin

    def start_proxy(self, upstream_url, config=None):
        self.proxy = start_proxy(self, upstream_url, config)
        return self.proxy

    def raw_connection(self):
        sock = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=SOCKET_TIMEOUT)
        self.addCleanup(sock.close)
        return sock

    def http_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=SOCKET_TIMEOUT)
        self.addCleanup(conn.close)
        return conn

    def open_bystander(self, first_request=True):
        """A keep-alive connection opened before a bad case (with one normal request
        done on it unless first_request is False)."""
        conn = self.http_connection()
        conn.connect()
        if first_request:
            self.assert_normal_get(conn)
        return conn

    def assert_normal_get(self, conn):
        """GET OK_KEY on conn answers 200 OK_BODY, on the same TCP connection as before."""
        local_address = conn.sock.getsockname()
        conn.request("GET", "/" + OK_KEY)
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, OK_BODY))
        self.assertEqual(conn.sock.getsockname(), local_address, "connection was replaced")

    def assert_still_serving(self, bystander):
        self.assertTrue(self.proxy.is_running(), "proxy exited")
        self.assert_normal_get(bystander)
        fresh = self.http_connection()
        fresh.connect()
        self.assert_normal_get(fresh)

    def assert_s3_error(self, resp, body, status, code):
        """resp is the spec's S3 XML error with this status and Code."""
        self.assertEqual(resp.status, status, body)
        self.assertTrue(resp.getheader("Content-Type", "").startswith("application/xml"),
                        resp.getheader("Content-Type"))
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "Error")
        self.assertEqual(root.findtext("Code"), code)
        request_id = resp.getheader("x-amz-request-id")
        self.assertTrue(request_id, "no x-amz-request-id header")
        self.assertEqual(root.findtext("RequestId"), request_id)

    def assert_closed(self, sock, timeout=3.0):
        """The proxy closes sock within `timeout` and sends nothing more."""
        try:
            extra, _ = wait_for_close(sock, timeout)
        except socket.timeout:
            self.fail(f"connection still open {timeout}s after the response")
        self.assertEqual(extra, b"", "bytes after the response")

    def assert_rejected(self, request_bytes, code, status=400):
        """Send request_bytes on a new connection: the proxy answers the S3 error `code`
        and closes; a bystander connection and a new one keep working."""
        bystander = self.open_bystander()
        sock = self.raw_connection()
        sock.sendall(request_bytes)
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, status, code)
        self.assertEqual(resp.getheader("Connection", "").lower(), "close")
        self.assert_closed(sock)
        self.assert_still_serving(bystander)


# ---- malformed requests ---------------------------------------------------------------

class MalformedRequestTest(ProxyTestCase):
    def setUp(self):
        self.origin = self.start_nginx_origin()
        self.start_proxy(self.origin.url, {"limits": {"max_header_bytes": MAX_HEADER_BYTES}})

    def test_garbage_request_line(self):
        for request in [b"THIS IS NOT HTTP\r\n\r\n",
                        b"GET\r\n\r\n",
                        b"GET /bucket/ok HTTP/9.9 extra\r\nHost: x\r\n\r\n",
                        b"GET /bucket/ok FTP/1.1\r\nHost: x\r\n\r\n",
                        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) + b"\r\n\r\n"]:
            with self.subTest(request=request):
                self.assert_rejected(request, "BadRequest")

    def test_header_without_colon(self):
        self.assert_rejected(get_request(extra_headers=b"NoColonInThisLine\r\n"), "BadRequest")

    def test_header_section_over_limit(self):
        one_big_header = b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 100) + b"\r\n"
        many_headers = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 60) for i in range(80))
        for extra in [one_big_header, many_headers]:
            with self.subTest(header_bytes=len(extra)):
                self.assert_rejected(get_request(extra_headers=extra),
                                     "RequestHeaderSectionTooLarge")

    def test_endless_header_section_is_cut_off_at_the_limit(self):
        # Headers that never end must be refused once past the limit, not buffered until
        # the read timeout (default 20 s here, far beyond the socket timeout).
        bystander = self.open_bystander()
        sock = self.raw_connection()
        sock.sendall(b"GET /bucket/ok HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"e" * (2 * MAX_HEADER_BYTES))
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, 400, "RequestHeaderSectionTooLarge")
        self.assert_closed(sock)
        self.assert_still_serving(bystander)

    def test_bad_content_length(self):
        for headers in [b"Content-Length: abc\r\n",
                        b"Content-Length: -1\r\n",
                        b"Content-Length: 0x10\r\n",
                        b"Content-Length: 99999999999999999999999999\r\n",
                        b"Content-Length: 5\r\nContent-Length: 6\r\n",
                        b"Content-Length: 5, 6\r\n"]:
            with self.subTest(headers=headers):
                request = b"PUT /bucket/bad-cl HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nhello!"
                self.assert_rejected(request, "BadRequest")

    def test_bad_transfer_encoding(self):
        for headers in [b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                        b"Transfer-Encoding: bogus\r\n",
                        b"Transfer-Encoding: chunked, identity\r\n"]:
            with self.subTest(headers=headers):
                request = (b"PUT /bucket/bad-te HTTP/1.1\r\nHost: x\r\n" + headers +
                           b"\r\n5\r\nhello\r\n0\r\n\r\n")
                self.assert_rejected(request, "BadRequest")

    def test_bad_chunk_framing(self):
        request = (b"PUT /bucket/bad-chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"zz\r\nhello\r\n0\r\n\r\n")
        bystander = self.open_bystander()
        sock = self.raw_connection()
        sock.sendall(request)
        # The headers may already be on their way upstream, so the answer may come from
        # the proxy (400) or the origin (4xx); either way it is an error and no object.
        try:
            resp, _ = read_response(sock)
        except http.client.RemoteDisconnected:
            self.fail("proxy closed the connection without an answer")
        self.assertGreaterEqual(resp.status, 400)
        self.assertFalse(wait_until(lambda: self.origin_has("bucket/bad-chunk"), 1.0))
        self.assert_still_serving(bystander)

    def test_client_closes_mid_body(self):
        bystander = self.open_bystander()
        sock = self.raw_connection()
        sock.sendall(b"PUT /bucket/truncated HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        sock.sendall(b"t" * 65536)
        time.sleep(0.2)  # let the proxy start forwarding
        sock.close()
        # The proxy must drop its upstream connection: nginx then ends the request (and
        # logs it) instead of waiting for the rest of the body.
        self.assertTrue(wait_until(lambda: self.origin_logged("PUT /bucket/truncated"), 5.0),
                        "origin still waits for the body: upstream connection not closed")
        self.assertFalse(self.origin_has("bucket/truncated"), "truncated body was stored")
        self.assert_still_serving(bystander)

    def origin_logged(self, request_line_start):
        return any(f'"{request_line_start} ' in line for line in self.origin.access_log_lines())

    def origin_has(self, key):
        return os.path.exists(self.origin.path_of(key))


# ---- client timeouts -------------------------------------------------------------

class HeaderLimitTest(ProxyTestCase):
    """max_header_bytes is the whole limit: not lower (Beast's own default is 8 KiB per parse
    step) and not skipped when a section arrives in one piece."""

    def test_default_limit_accepts_a_long_header_line(self):
        origin = self.start_misbehaving_origin()
        self.start_proxy(origin.url)  # default max_header_bytes: 16384
        sock = self.raw_connection()
        long_token = b"X-Amz-Security-Token: " + b"t" * 9000 + b"\r\n"
        sock.sendall(get_request(extra_headers=long_token))
        resp, body = read_response(sock)
        self.assertEqual((resp.status, body), (200, OK_BODY))
        self.assertIn(b"t" * 9000, origin.heads[-1])

    def test_small_limit_applies_to_a_section_sent_at_once(self):
        origin = self.start_misbehaving_origin()
        self.start_proxy(origin.url, {"limits": {"max_header_bytes": 1024}})
        sock = self.raw_connection()
        sock.sendall(get_request(extra_headers=b"X-Big: " + b"b" * 2000 + b"\r\n"))
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, 400, "RequestHeaderSectionTooLarge")
        self.assertEqual(origin.heads, [])


class ClientReadTimeoutTest(ProxyTestCase):
    def setUp(self):
        self.origin = self.start_nginx_origin()
        self.start_proxy(self.origin.url, {"timeouts": {"client_read_ms": CLIENT_READ_MS,
                                                        "client_idle_ms": 10 * CLIENT_READ_MS}})

    def assert_request_timeout(self, partial_request):
        """Send partial_request and stall: 400 RequestTimeout after about client_read_ms,
        then close."""
        bystander = self.open_bystander()
        sock = self.raw_connection()
        start = time.monotonic()
        sock.sendall(partial_request)
        resp, body = read_response(sock)
        elapsed = time.monotonic() - start
        self.assert_s3_error(resp, body, 400, "RequestTimeout")
        self.assertGreater(elapsed, 0.8 * CLIENT_READ_MS / 1000, "timed out too early")
        self.assertLess(elapsed, 3 * CLIENT_READ_MS / 1000 + 1.0, "timed out too late")
        self.assert_closed(sock)
        self.assert_still_serving(bystander)

    def test_stall_mid_headers(self):
        self.assert_request_timeout(b"GET /bucket/ok HTTP/1.1\r\nHost: x\r\nX-Partial: ab")

    def test_stall_mid_body(self):
        self.assert_request_timeout(
            b"PUT /bucket/stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
        self.assertFalse(os.path.exists(self.origin.path_of("bucket/stalled")))

    def trickle(self, sock, data, piece_size=10):
        """Send data in small pieces, each well within client_read_ms of the previous one,
        for more than twice client_read_ms in total."""
        pieces = [data[i:i + piece_size] for i in range(0, len(data), piece_size)]
        pause = 0.4 * CLIENT_READ_MS / 1000
        self.assertGreater(len(pieces) * pause, 2 * CLIENT_READ_MS / 1000)
        start = time.monotonic()
        for piece in pieces:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                answer = sock.recv(65536)
                self.fail(f"proxy closed the connection {time.monotonic() - start:.2f}s into a "
                          f"request trickling in every {pause}s; it answered {answer!r}")
            time.sleep(pause)

    # The header section has one deadline as a whole (slowloris protection, as nginx's
    # client_header_timeout), while a body only needs to keep moving: bytes trickling in
    # faster than client_read_ms keep an upload alive however long it takes.

    def test_header_section_trickled_past_the_deadline_times_out(self):
        sock = self.raw_connection()
        request = get_request(extra_headers=b"X-Slow: " + b"s" * 40 + b"\r\n")
        start = time.monotonic()
        try:
            for i in range(0, len(request), 10):
                sock.sendall(request[i:i + 10])
                time.sleep(0.4 * CLIENT_READ_MS / 1000)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy gave up on the header: expected
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, 400, "RequestTimeout")
        self.assertLess(time.monotonic() - start, 4 * CLIENT_READ_MS / 1000 + 1.0)

    def test_slowly_trickled_body_is_not_timed_out(self):
        body = b"b" * 60
        sock = self.raw_connection()
        sock.sendall(b"PUT /bucket/trickled HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n")
        self.trickle(sock, body)
        resp, _ = read_response(sock)
        self.assertEqual(resp.status, 201)
        with open(self.origin.path_of("bucket/trickled"), "rb") as f:
            self.assertEqual(f.read(), body)


class ClientIdleTimeoutTest(ProxyTestCase):
    def setUp(self):
        self.origin = self.start_nginx_origin()
        self.start_proxy(self.origin.url, {"timeouts": {"client_idle_ms": CLIENT_IDLE_MS,
                                                        "client_read_ms": CLIENT_IDLE_MS}})

    def test_idle_keep_alive_connection_is_closed_silently(self):
        sock = self.raw_connection()
        sock.sendall(get_request())
        resp, body = read_response(sock)
        self.assertEqual((resp.status, body), (200, OK_BODY))
        try:
            extra, waited = wait_for_close(sock, 3 * CLIENT_IDLE_MS / 1000 + 1.0)
        except socket.timeout:
            self.fail("idle keep-alive connection was not closed")
        self.assertEqual(extra, b"", "an idle close should send nothing")
        self.assertGreater(waited, 0.8 * CLIENT_IDLE_MS / 1000, "closed too early")

    def test_connection_that_never_sends_is_closed(self):
        sock = self.raw_connection()
        try:
            wait_for_close(sock, 3 * CLIENT_IDLE_MS / 1000 + 1.0)
        except socket.timeout:
            self.fail("a connection that sent nothing was kept open")

    def test_requests_within_the_idle_time_keep_the_connection(self):
        conn = self.open_bystander()
        for _ in range(4):  # 4 x 0.5 idle periods: longer than one idle timeout in total
            time.sleep(0.5 * CLIENT_IDLE_MS / 1000)
            self.assert_normal_get(conn)


# ---- upstream failures --------------------------------------------------------------

class UpstreamFailureTest(ProxyTestCase):
    def setUp(self):
        self.origin = self.start_misbehaving_origin()
        self.start_proxy(self.origin.url,
                         {"upstream": {"response_timeout_ms": UPSTREAM_RESPONSE_TIMEOUT_MS}})

    def assert_upstream_error(self, target, status, code):
        bystander = self.open_bystander()
        sock = self.raw_connection()
        start = time.monotonic()
        sock.sendall(get_request(target))
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, status, code)
        self.assert_still_serving(bystander)
        return time.monotonic() - start

    def test_upstream_reset_is_bad_gateway(self):
        self.assert_upstream_error(b"/reset/key", 502, "BadGateway")

    def test_upstream_close_without_answer_is_bad_gateway(self):
        self.assert_upstream_error(b"/close/key", 502, "BadGateway")

    def test_upstream_reset_during_upload_is_bad_gateway(self):
        # The client is still sending when the origin gives up: it must hear why, promptly.
        sock = self.raw_connection()
        sock.sendall(b"PUT /reset/key HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n")
        start = time.monotonic()
        try:
            sock.sendall(b"u" * 1048576)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy already answered and stopped reading: expected
        resp, body = read_response(sock, method="PUT")
        self.assert_s3_error(resp, body, 502, "BadGateway")
        self.assertLess(time.monotonic() - start, 5.0)

    def test_upstream_protocol_switch_is_bad_gateway(self):
        self.assert_upstream_error(b"/upgrade/key", 502, "BadGateway")

    def test_upstream_garbage_is_bad_gateway(self):
        self.assert_upstream_error(b"/garbage/key", 502, "BadGateway")

    def test_upstream_silence_is_gateway_timeout(self):
        elapsed = self.assert_upstream_error(b"/silent/key", 504, "GatewayTimeout")
        self.assertGreater(elapsed, 0.8 * UPSTREAM_RESPONSE_TIMEOUT_MS / 1000)
        self.assertLess(elapsed, 3 * UPSTREAM_RESPONSE_TIMEOUT_MS / 1000 + 1.0)

    def test_upstream_dies_mid_body_closes_client_connection(self):
        bystander = self.open_bystander()
        sock = self.raw_connection()
        sock.sendall(get_request(b"/truncate/key"))
        resp = http.client.HTTPResponse(sock, method="GET")
        resp.begin()
        self.assertEqual(resp.status, 200)
        with self.assertRaises(http.client.IncompleteRead) as caught:
            resp.read()
        self.assertEqual(caught.exception.partial, b"0123456789")
        self.assert_still_serving(bystander)

    def test_close_delimited_body_reaches_the_client_then_closes(self):
        # Without a length the client can only see where the body ends by the close, so the
        # proxy must not keep that connection alive.
        sock = self.raw_connection()
        sock.sendall(get_request(b"/eof/key"))
        resp = http.client.HTTPResponse(sock, method="GET")
        resp.begin()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.read(), OK_BODY)
        self.assertTrue(resp.will_close)
        extra, _ = wait_for_close(sock, 5.0)
        self.assertEqual(extra, b"")

    def test_odd_targets_are_forwarded_unchanged(self):
        targets = [b"/bucket/../../etc/passwd",
                   b"/bucket/" + b"k" * 1024,
                   "/bucket/ключ/日本語.txt".encode("utf-8"),
                   b"/bucket/%D0%BA%D0%BB%D1%8E%D1%87?prefix=a%2Fb&x=%E2%9C%93",
                   b"/bucket/a%2F..%2F..%2Fetc%00?list-type=2&delimiter=%2F&prefix=..%2F",
                   b"/bucket/sp%20ace+plus;semi=1,comma!*'()~"]
        bystander = self.open_bystander()
        sock = self.raw_connection()
        for target in targets:
            with self.subTest(target=target):
                heads_before = len(self.origin.heads)
                sock.sendall(get_request(target))
                resp, body = read_response(sock)
                self.assertEqual((resp.status, body), (200, OK_BODY))
                self.assertEqual(len(self.origin.heads), heads_before + 1)
                request_line = self.origin.heads[-1].split(b"\r\n", 1)[0]
                self.assertEqual(request_line, b"GET " + target + b" HTTP/1.1")
        self.assert_still_serving(bystander)


class UpstreamDownTest(ProxyTestCase):
    def test_unreachable_upstream_is_service_unavailable_until_it_comes_back(self):
        dead_port = free_port()  # nothing listens there
        self.start_proxy(f"http://127.0.0.1:{dead_port}")
        bystander = self.open_bystander(first_request=False)

        sock = self.raw_connection()
        sock.sendall(get_request())
        resp, body = read_response(sock)
        self.assert_s3_error(resp, body, 503, "ServiceUnavailable")

        self.start_nginx_origin(port=dead_port)
        self.assert_still_serving(bystander)


if __name__ == "__main__":
    unittest.main()
