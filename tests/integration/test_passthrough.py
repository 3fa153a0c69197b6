"""HTTPS passthrough (passthrough.listen, here --passthrough-listen 127.0.0.1:0): clients of
S3's names that must keep HTTPS connect to the proxy, which relays their TLS bytes, unopened,
to the endpoint their ClientHello names (SNI).

The origin is nginx serving files over HTTPS for s3.us-east-1.amazonaws.com with a
certificate a throwaway CA signed; the proxy reaches that name through its static endpoint
map (upstream.resolve). Clients connect to the proxy's passthrough port with SNI
s3.us-east-1.amazonaws.com, as a client whose DNS points S3's names at the proxy would:

  - Python's ssl and curl verify the origin's certificate through the proxy against the
    throwaway CA, and the certificate they get is the origin's own, byte for byte: nothing
    terminates TLS; bodies of several sizes (48 MiB the largest) are byte-identical;
  - a client trusting another CA fails verification (the proxy presents no certificate);
  - a ClientHello without SNI, with a refused name (example.com, an IP address), and bytes
    that are no TLS are closed at once, logged and counted; the origin sees none of them;
  - a client's TCP half-close after its request reaches the origin, whose answer still
    comes back whole;
  - boto3 and the AWS CLI, with S3's name over HTTPS (their DNS pointing it at the proxy),
    write and read through the passthrough to an S3 endpoint (nginx over HTTPS routing by
    Host in front of moto with SigV4 checking), certificate verified, nothing cached.

Run: python3 tests/integration/test_passthrough.py
"""

import http.client
import os
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support",
                                "client_dns"))

from client_names import child_env, point_names_at  # noqa: E402
from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import (NginxFileOrigin, NginxS3Endpoint,  # noqa: E402
                                  print_logs_on_failure)
from support.proxy import ProxyProcess  # noqa: E402
from support.throwaway_pki import TestPki  # noqa: E402
from support.waiting import Waiting  # noqa: E402

NAME = "s3.us-east-1.amazonaws.com"
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")
CLIENT_DNS = {".amazonaws.com": "127.0.0.1"}  # the clients' DNS: S3's names at the proxy
MiB = 1024 * 1024
# Not multiples of any buffer size; the last larger than any socket or pipe buffer.
SIZES = {"one-byte": 1, "small": 65537, "medium": MiB + 12345, "large": 48 * MiB + 7}
SOCKET_TIMEOUT = 15  # seconds per socket operation: a stall fails the test, never hangs it


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS for `name` (SNI, certificate check, Host) through the address given, as a client
    whose DNS points the name there."""

    def __init__(self, name, address, context):
        super().__init__(name, context=context, timeout=SOCKET_TIMEOUT)
        self.address = address

    def connect(self):
        raw = socket.create_connection(self.address, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def client_hello(server_name):
    """The ClientHello Python's ssl sends first, with SNI server_name (None: no SNI)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class PassthroughTest(Waiting, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()
        cls.addClassCleanup(cls.pki.remove)
        cls.cert = cls.pki.issue(NAME, f"DNS:{NAME}")
        cls.origin = NginxFileOrigin(tls=cls.cert)
        cls.origin.start()
        cls.addClassCleanup(cls.origin.close)
        cls.files = {label: cls.origin.write_file(f"bucket/{label}", os.urandom(size))
                     for label, size in SIZES.items()}
        cls.proxy = ProxyProcess(
            None, extra_args=["--passthrough-listen", "127.0.0.1:0"],
            config={"upstream": {"resolve": [f"{NAME}=127.0.0.1:{cls.origin.port}"]}})
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)
        cls.address = ("127.0.0.1", cls.proxy.passthrough_port)
        cls.trusting = ssl.create_default_context(cafile=cls.pki.ca_cert)

    def setUp(self):
        print_logs_on_failure(self, self.proxy, self.origin)

    def connections(self, result):
        return self.proxy.metric("s3hc_passthrough_connections_total", result=result)

    def origin_requests(self):
        return len(self.origin.access_log_lines())

    def read_file(self, label):
        with open(self.files[label], "rb") as f:
            return f.read()

    # ---- relayed --------------------------------------------------------------

    def test_bodies_are_byte_identical_and_the_certificate_is_the_origins(self):
        relayed_before = self.connections("relayed")
        sent_before = self.proxy.metric("s3hc_passthrough_bytes_total",
                                        direction="origin_to_client")
        conn = PinnedHTTPSConnection(NAME, self.address, self.trusting)
        self.addCleanup(conn.close)
        for label in SIZES:  # one keep-alive connection for all
            conn.request("GET", f"/bucket/{label}")
            response = conn.getresponse()
            body = response.read()
            self.assertEqual(response.status, 200, body[:300])
            # assertTrue, not assertEqual: a diff of random MiBs helps nobody.
            self.assertTrue(body == self.read_file(label), f"{label}: body differs")
        with open(self.cert[0]) as f:
            origin_certificate = ssl.PEM_cert_to_DER_cert(f.read())
        self.assertEqual(conn.sock.getpeercert(binary_form=True), origin_certificate)
        self.assertEqual(self.connections("relayed") - relayed_before, 1)
        sent = self.proxy.metric("s3hc_passthrough_bytes_total",
                                 direction="origin_to_client") - sent_before
        self.assertGreater(sent, sum(SIZES.values()))  # bodies plus TLS and HTTP overhead

    def test_curl_verifies_the_origin_through_the_proxy(self):
        port = self.proxy.passthrough_port
        out = os.path.join(self.origin.prefix, "curl-download")
        done = subprocess.run(
            ["curl", "-sS", "--fail", "--cacert", self.pki.ca_cert,
             "--resolve", f"{NAME}:{port}:127.0.0.1", "-o", out,
             f"https://{NAME}:{port}/bucket/large"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out, "rb") as f:
            self.assertTrue(f.read() == self.read_file("large"), "curl's body differs")

    def test_a_client_trusting_another_ca_fails_verification(self):
        other = TestPki()
        self.addCleanup(other.remove)
        conn = PinnedHTTPSConnection(NAME, self.address,
                                     ssl.create_default_context(cafile=other.ca_cert))
        self.addCleanup(conn.close)
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", "/bucket/small")

    def test_a_client_half_close_still_gets_the_whole_answer(self):
        """TLS over a socket of our own (memory BIOs), so the client can shut down its
        sending side at the TCP level right after its request."""
        raw = socket.create_connection(self.address, SOCKET_TIMEOUT)
        self.addCleanup(raw.close)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.trusting.wrap_bio(incoming, outgoing, server_hostname=NAME)

        def flush():
            raw.sendall(outgoing.read())

        def receive():
            data = raw.recv(65536)
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()
            return data

        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                self.assertTrue(receive(), "the connection closed during the handshake")
        tls.write(f"GET /bucket/medium HTTP/1.1\r\nHost: {NAME}\r\n"
                  "Connection: close\r\n\r\n".encode())
        flush()
        raw.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            try:
                chunk = tls.read(65536)
            except ssl.SSLWantReadError:
                if not receive():
                    break
                continue
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                break
            if not chunk:
                break
            answer += chunk
        header, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(header.startswith(b"HTTP/1.1 200"), header[:200])
        self.assertTrue(body == self.read_file("medium"), "the body after the half-close differs")

    # ---- turned away ----------------------------------------------------------

    def assert_closed_and_counted(self, first_bytes, result, logged=None):
        """Sends first_bytes and expects the proxy to close the connection, counted as
        `result` (and `logged` in its log), with nothing sent to the origin."""
        before, origin_before = self.connections(result), self.origin_requests()
        with socket.create_connection(self.address, SOCKET_TIMEOUT) as sock:
            sock.sendall(first_bytes)
            try:
                self.assertEqual(sock.recv(65536), b"", f"{result}: the proxy answered")
            except ConnectionResetError:
                pass  # closed with our bytes unread: a reset, closed all the same
        self.wait_for(lambda: self.connections(result) == before + 1, 5, f"{result} counted")
        self.assertEqual(self.origin_requests(), origin_before)
        if logged:
            self.wait_for(lambda: logged in self.proxy.log_text(), 5, f"log line '{logged}'")

    def test_a_hello_without_server_name_is_closed(self):
        self.assert_closed_and_counted(client_hello(None), "no_sni",
                                       "ClientHello without a server name")

    def test_refused_names_are_closed(self):
        self.assert_closed_and_counted(client_hello("example.com"), "refused",
                                       "server name 'example.com' names no allowed endpoint")
        # Python sends no SNI for an IP address: a name of the same length is replaced in the
        # hello's bytes by one, as a client that sends it anyway would.
        hello = client_hello("abc.def.ghi.jkl").replace(b"abc.def.ghi.jkl", b"192.168.100.200")
        self.assert_closed_and_counted(hello, "refused", "server name '192.168.100.200'")

    def test_bytes_that_are_no_tls_are_closed(self):
        self.assert_closed_and_counted(f"GET / HTTP/1.1\r\nHost: {NAME}\r\n\r\n".encode(),
                                       "not_tls", "closed: not TLS")



class S3ClientsThroughPassthroughTest(unittest.TestCase):
    """boto3 and the AWS CLI keep https://s3.us-east-1.amazonaws.com; their DNS points it at
    the proxy's passthrough port; the endpoint behind is nginx over HTTPS routing by Host in
    front of moto, which checks every signature against the Host the client signed."""

    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()
        cls.addClassCleanup(cls.pki.remove)
        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)
        cls.endpoint = NginxS3Endpoint(cls.origin.port, [NAME],
                                       tls=cls.pki.issue(NAME, f"DNS:{NAME}"))
        cls.endpoint.start()
        cls.addClassCleanup(cls.endpoint.close)
        cls.proxy = ProxyProcess(
            None, extra_args=["--passthrough-listen", "127.0.0.1:0"],
            config={"upstream": {"resolve": [f"{NAME}=127.0.0.1:{cls.endpoint.port}"]}})
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)
        point_names_at(CLIENT_DNS)
        cls.endpoint_url = f"https://{NAME}:{cls.proxy.passthrough_port}"
        cls.client = cls.origin.client(cls.endpoint_url, verify=cls.pki.ca_cert)

    def setUp(self):
        print_logs_on_failure(self, self.proxy, self.origin, self.endpoint)

    def test_boto3_writes_and_reads_through_the_passthrough_uncached(self):
        relayed_before = self.proxy.metric("s3hc_passthrough_connections_total",
                                           result="relayed")
        self.client.create_bucket(Bucket="tunnelled")
        body = os.urandom(3 * 1024 * 1024 + 5)
        self.client.put_object(Bucket="tunnelled", Key="dir/object", Body=body)
        for _ in range(2):  # the second read is no hit: nothing is cached
            answer = self.client.get_object(Bucket="tunnelled", Key="dir/object")
            self.assertTrue(answer["Body"].read() == body, "body differs")
            self.assertNotIn("x-cache", answer["ResponseMetadata"]["HTTPHeaders"])
        ranged = self.client.get_object(Bucket="tunnelled", Key="dir/object", Range="bytes=10-19")
        self.assertEqual(ranged["Body"].read(), body[10:20])
        listed = self.client.list_objects_v2(Bucket="tunnelled")
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["dir/object"])
        self.assertGreaterEqual(self.proxy.metric("s3hc_passthrough_connections_total",
                                                  result="relayed") - relayed_before, 1)
        gets = [line for line in self.endpoint.access_log_lines()
                if line.startswith(f'{NAME} "GET /tunnelled/dir/object ')]
        self.assertEqual(len(gets), 3, gets)  # every read reached the endpoint
        answered = sum(value for series, value in self.proxy.metrics().items()
                       if series.startswith("s3hc_requests_total"))
        self.assertEqual(answered, 0)  # the HTTP side answered none of it

    def test_the_aws_cli_copies_both_ways_through_the_passthrough(self):
        self.client.create_bucket(Bucket="cli-tunnelled")
        source = os.path.join(self.pki.dir, "cli-source.bin")
        with open(source, "wb") as f:
            f.write(os.urandom(9 * 1024 * 1024))  # above the CLI's multipart threshold
        env = child_env(dict(os.environ, **self.origin.credentials_env(),
                             AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1"), CLIENT_DNS)
        for args in (["s3", "cp", source, "s3://cli-tunnelled/f.bin"],
                     ["s3", "cp", "s3://cli-tunnelled/f.bin", source + ".back"]):
            done = subprocess.run(
                [sys.executable, AWS_CLI, "--endpoint-url", self.endpoint_url,
                 "--ca-bundle", self.pki.ca_cert, *args],
                env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, f"aws {' '.join(args)}:\n{done.stderr}")
        with open(source, "rb") as a, open(source + ".back", "rb") as b:
            self.assertTrue(a.read() == b.read(), "the copy back differs")


if __name__ == "__main__":
    unittest.main()
