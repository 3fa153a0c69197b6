"""Loopback ports for test processes that must be told their port before they start.

Only for servers that cannot report a port of their own choosing (nginx, varnishd) and for
addresses where nothing must listen. s3hc-proxy and moto_server bind port 0 and report the
port the kernel gave them (support/proxy.py, support/moto_origin.py): prefer that, as no
choice made in advance is race-free.

Two things keep a port handed out here from being handed out again before its server binds
it (picking a free port and closing it, alone, let two calls return the same port):
  - within this process, every port handed out is remembered and never returned twice;
  - against every process (a proxy binding port 0, tests running in parallel), the port is
    returned in TCP TIME_WAIT: a connection to it was accepted and closed from the accepting
    side. The kernel then gives it to no bind to port 0 for a minute, while a server that sets
    SO_REUSEADDR (nginx, varnishd, Python's http.server, s3hc-proxy) can still bind it.
    Connections to it are refused until that server listens.
"""

import socket
import threading

_lock = threading.Lock()
_handed_out = set()


def _port_in_time_wait() -> int:
    """A port the kernel chose, left in TIME_WAIT (see the module doc)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        # So that the accepted connection, whose state holds the port, allows a later
        # SO_REUSEADDR bind of it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            # The side that closes first keeps the 4-tuple (and the port) in TIME_WAIT.
            accepted.close()
    return port


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, never the same twice in this process,
    and kept from other binds to port 0 for a minute (see the module doc)."""
    with _lock:
        while True:
            port = _port_in_time_wait()
            if port not in _handed_out:
                _handed_out.add(port)
                return port
