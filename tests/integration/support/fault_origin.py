"""A fault-injecting HTTP relay in front of an origin (moto), for tests of origin failures.

Usage:
    origin = FaultOrigin(moto.endpoint_url).start()   # or `with FaultOrigin(url) as origin:`
    proxy = ProxyProcess(origin.url, ...)              # the proxy's upstream is the relay
    origin.fault(bucket, key, "reset", after_bytes=3 * MIB)   # the next GET's body only
    origin.fault(bucket, key, "stall", 3 * MIB, times=None)   # every GET until cleared
    origin.fault(bucket, key, "short", 3 * MIB, pause=0.5)    # 0.5 s of silence first
    origin.gets(bucket, key), origin.body_bytes(bucket, key)  # what the origin served
    origin.clear_faults()                              # also ends stalls in progress
    origin.close()

Requests and responses pass byte for byte, in both directions: the proxy forwards its
clients' SigV4 signatures and moto checks them, so the relay never changes a request. It only
reads enough of each message to find where it ends (request line and headers, Content-Length
or chunked framing) and which object a GET is for (its path: /bucket/key, percent-decoded).

Faults apply to the body of a 2xx answer to a GET of one key, after `after_bytes` body bytes
(raw bytes of a chunked body) have gone to the proxy:
  reset  -- close the connection with a TCP RST (SO_LINGER 0), after waiting (up to 2 s) for
            the bytes already sent to leave the socket;
  stall  -- send nothing more and keep the connection open until clear_faults(), close(),
            the proxy's hanging up, or `stall_seconds` (then it is closed);
  short  -- close the connection cleanly (FIN), although Content-Length promised more;
  slow   -- send the rest of the body at `rate` bytes per second (at full speed once
            clear_faults() is called), then go on normally: a far or slow origin.
A fault is used by the next `times` such answers (None: every one until cleared), or only
those of one `status` (206: ranged answers). `pause` seconds of silence between the bytes and
the fault let other clients join the fill first.

One connection to the origin per connection from the proxy; per pair two threads, one per
direction. Only the response thread ever closes the pair's sockets: the request thread
ends by shutting them down, so no thread reads a descriptor another one has closed.
"""

import collections
import dataclasses
import fcntl
import queue
import socket
import struct
import termios
import threading
import time
import urllib.parse

from .processes import StartStopContext

KINDS = ("reset", "stall", "short", "slow")
_HEAD_END = b"\r\n\r\n"
_MAX_HEAD_BYTES = 64 * 1024
_PIECE_BYTES = 64 * 1024


@dataclasses.dataclass
class _Fault:
    kind: str
    after_bytes: int
    times: int  # None: until cleared
    pause: float
    rate: float  # bytes per second, for "slow"
    status: int  # None: any 2xx answer


class _ConnectionClosed(Exception):
    """The peer closed (or reset) its side of the connection mid-message."""


class _Reader:
    """Buffered reads from one socket: a head up to its blank line, lines, raw pieces."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self):
        data = self.sock.recv(_PIECE_BYTES)
        if not data:
            raise _ConnectionClosed()
        self.buffer += data

    def at_eof(self):
        """Whether the peer closed before sending anything more (blocks for the next bytes)."""
        if self.buffer:
            return False
        try:
            self._fill()
        except (_ConnectionClosed, OSError):
            return True
        return False

    def read_until(self, marker, limit=_MAX_HEAD_BYTES):
        while marker not in self.buffer:
            if len(self.buffer) > limit:
                raise _ConnectionClosed()  # not HTTP as this relay knows it
            self._fill()
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def read_some(self, at_most):
        if not self.buffer:
            self._fill()
        data, self.buffer = self.buffer[:at_most], self.buffer[at_most:]
        return data


def _parse_head(head):
    """(first line split in words, {lower-case name: value}) of a request or response head."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0].split(" "), headers


def _body_pieces(reader, headers, until_eof):
    """The raw bytes of a message body as they arrive: Content-Length, chunked (framing
    included), or everything up to the peer's close when `until_eof`."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = reader.read_until(b"\r\n")
            yield size_line
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    line = reader.read_until(b"\r\n")
                    yield line
                    if line == b"\r\n":
                        return
            remaining = size + 2  # the data and its CRLF
            while remaining:
                piece = reader.read_some(min(remaining, _PIECE_BYTES))
                remaining -= len(piece)
                yield piece
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining:
            piece = reader.read_some(min(remaining, _PIECE_BYTES))
            remaining -= len(piece)
            yield piece
    elif until_eof:
        while True:
            try:
                yield reader.read_some(_PIECE_BYTES)
            except (_ConnectionClosed, OSError):
                return


def _request_key(target):
    """"/bucket/key" of a request target (query dropped, percent-decoded)."""
    return urllib.parse.unquote(urllib.parse.urlsplit(target).path)


class FaultOrigin(StartStopContext):
    def __init__(self, upstream_url, stall_seconds=120.0):
        """upstream_url: http://HOST:PORT of the real origin; stall_seconds: longest a stalled
        answer is held open when nobody ends it."""
        parts = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parts.hostname, parts.port or 80)
        self.stall_seconds = stall_seconds
        self.port = None
        self._listener = None
        self._lock = threading.Lock()
        self._faults = {}        # "/bucket/key" -> _Fault
        self._gets = collections.Counter()
        self._body_bytes = collections.Counter()
        self._faults_used = collections.Counter()  # (key, kind) -> answers faulted
        self._release = threading.Event()   # set: stalls in progress end
        self._closing = threading.Event()
        self._pairs = set()      # (proxy side socket, origin side socket) being relayed
        self._threads = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        """Listen on a port the kernel chooses (self.port) and relay. Returns self."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def close(self):
        """Stop accepting, end every connection (stalled ones too) and wait for the threads."""
        self._closing.set()
        self._release.set()
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            for sock in pair:
                _shutdown(sock, socket.SHUT_RDWR)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def log_tail(self, lines=40):
        """For DumpLogsOnFailure: what the relay served (it logs nothing else)."""
        with self._lock:
            return (f"--- fault origin on port {self.port}: GETs {dict(self._gets)}, "
                    f"body bytes {dict(self._body_bytes)}, faults armed {self._faults}, "
                    f"faults used {dict(self._faults_used)} ---")

    # ---- faults and counts -----------------------------------------------

    def fault(self, bucket, key, kind, after_bytes, times=1, pause=0.0, rate=1024 * 1024,
              status=None):
        """Makes the next `times` (None: all, until cleared) 2xx GET answers of bucket/key
        (of `status` only, when given) misbehave the `kind` way (see the module doc) after
        `after_bytes` body bytes and `pause` seconds of silence."""
        if kind not in KINDS:
            raise ValueError(f"fault kind {kind!r} is none of {KINDS}")
        with self._lock:
            self._faults[f"/{bucket}/{key}"] = _Fault(kind, after_bytes, times, pause, rate,
                                                      status)
            self._release.clear()

    def clear_faults(self):
        """No more faults; stalled answers in progress are closed."""
        with self._lock:
            self._faults.clear()
            self._release.set()

    def gets(self, bucket, key):
        """GET requests of bucket/key the relay has passed to the origin."""
        with self._lock:
            return self._gets[f"/{bucket}/{key}"]

    def body_bytes(self, bucket, key):
        """Body bytes of answers to GETs of bucket/key that went on to the proxy."""
        with self._lock:
            return self._body_bytes[f"/{bucket}/{key}"]

    def faults_used(self, bucket, key, kind):
        """How many answers the `kind` fault has hit so far (it may not have, yet)."""
        with self._lock:
            return self._faults_used[(f"/{bucket}/{key}", kind)]

    def _take_fault(self, key, status):
        with self._lock:
            fault = self._faults.get(key)
            if fault is None or fault.status not in (None, status):
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[key]
            self._faults_used[(key, fault.kind)] += 1
            return fault

    # ---- relaying ----------------------------------------------------------

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _accept_loop(self):
        with self._listener:
            while not self._closing.is_set():
                try:
                    client, _ = self._listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                try:
                    origin = socket.create_connection(self.upstream, timeout=10)
                except OSError:
                    client.close()
                    continue
                for sock in (client, origin):
                    sock.settimeout(None)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._lock:
                    self._pairs.add((client, origin))
                self._spawn(self._serve_pair, client, origin)

    def _serve_pair(self, client, origin):
        """Response direction (origin -> proxy) of one pair; starts the request direction."""
        requests = queue.Queue()   # (method, key) of each request sent, in order
        client_gone = threading.Event()
        request_thread = self._spawn(self._relay_requests, client, origin, requests, client_gone)
        reset = False
        try:
            reset = self._relay_responses(client, origin, requests, client_gone)
        except (_ConnectionClosed, OSError):
            pass
        finally:
            if reset:  # the unsent rest of the socket's buffer is dropped, an RST sent
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            _shutdown(client, socket.SHUT_RD)  # wakes the request thread, sends nothing
            _shutdown(origin, socket.SHUT_RDWR)
            request_thread.join()
            client.close()
            origin.close()
            with self._lock:
                self._pairs.discard((client, origin))

    def _relay_requests(self, client, origin, requests, client_gone):
        """Request direction: each request's head and body, as received, to the origin."""
        reader = _Reader(client)
        try:
            while not reader.at_eof():
                head = reader.read_until(_HEAD_END)
                words, headers = _parse_head(head)
                method, key = words[0], _request_key(words[1] if len(words) > 1 else "/")
                if method == "GET":
                    with self._lock:
                        self._gets[key] += 1
                requests.put((method, key))
                origin.sendall(head)
                for piece in _body_pieces(reader, headers, until_eof=False):
                    origin.sendall(piece)
        except (_ConnectionClosed, OSError):
            pass
        finally:
            client_gone.set()
            # The proxy hung up (or the pair is ending): no answer is wanted any more.
            _shutdown(origin, socket.SHUT_RDWR)

    def _relay_responses(self, client, origin, requests, client_gone):
        """Each answer to the proxy, faults applied. Returns True when the pair must end with
        an RST, False when it just ends (origin or proxy closed, fault, Connection: close)."""
        reader = _Reader(origin)
        while not reader.at_eof():
            head = reader.read_until(_HEAD_END)
            words, headers = _parse_head(head)
            status = int(words[1])
            client.sendall(head)
            if 100 <= status < 200:
                continue  # interim (100 Continue): the final answer follows
            method, key = requests.get(timeout=10)
            bodiless = method == "HEAD" or status in (204, 304)
            fault = None
            if method == "GET" and 200 <= status < 300:
                fault = self._take_fault(key, status)
            closing = (headers.get("connection", "").lower() == "close"
                       or words[0] == "HTTP/1.0")
            if bodiless:
                if closing:
                    return False
                continue
            sent = 0
            framed = ("chunked" in headers.get("transfer-encoding", "").lower()
                      or "content-length" in headers)
            for piece in _body_pieces(reader, headers, until_eof=True):
                if fault is not None and fault.kind == "slow":
                    if sent >= fault.after_bytes:
                        self._quiet(time.monotonic() + len(piece) / fault.rate, client_gone)
                    if client_gone.is_set():
                        return False
                    self._send_counted(client, piece, method, key)
                    sent += len(piece)
                    continue
                if fault is not None and sent + len(piece) >= fault.after_bytes:
                    piece = piece[:max(0, fault.after_bytes - sent)]
                self._send_counted(client, piece, method, key)
                sent += len(piece)
                if fault is not None and sent >= fault.after_bytes:
                    return self._misbehave(client, fault, client_gone)
            if closing or not framed:
                return False
        return False

    def _send_counted(self, client, piece, method, key):
        client.sendall(piece)
        if method == "GET":
            with self._lock:
                self._body_bytes[key] += len(piece)

    def _misbehave(self, client, fault, client_gone):
        """The fault, once its bytes are sent. Returns whether the pair ends with an RST."""
        self._quiet(time.monotonic() + fault.pause, client_gone)
        if fault.kind == "reset":
            deadline = time.monotonic() + 2
            while _unsent_bytes(client) and time.monotonic() < deadline:
                time.sleep(0.01)
            return True
        if fault.kind == "stall":
            self._quiet(time.monotonic() + self.stall_seconds, client_gone)
        return False  # short (and a stall's end): a clean close

    def _quiet(self, deadline, client_gone):
        """Sends nothing until `deadline`, clear_faults(), close() or the proxy's hanging up."""
        while not (self._release.is_set() or client_gone.is_set()):
            if time.monotonic() >= deadline:
                return
            self._release.wait(min(0.05, max(0.0, deadline - time.monotonic())))


def _unsent_bytes(sock):
    """Bytes still in the socket's send queue (SIOCOUTQ)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0" * 4))[0]
    except OSError:
        return 0


def _shutdown(sock, how):
    try:
        sock.shutdown(how)
    except OSError:
        pass
