"""Test fixtures shared by several test files: an nginx file origin with s3hc in front of it,
and HTTP connections closed by the test's cleanups."""

import http.client

from support.nginx_origin import NginxFileOrigin, print_logs_on_failure
from support.proxy import ProxyProcess


def start_file_origin_and_proxy(test, proxy_config=None):
    """Starts NginxFileOrigin and a ProxyProcess in front of it; both are stopped by `test`'s
    cleanups and their logs printed if it fails. Returns (origin, proxy)."""
    origin = NginxFileOrigin()
    test.addCleanup(origin.close)
    origin.start()
    proxy = ProxyProcess(origin.url, config=proxy_config)
    test.addCleanup(proxy.stop)
    proxy.start()
    print_logs_on_failure(test, proxy, origin)
    return origin, proxy


def open_connection(test, port, timeout):
    """An http.client connection to 127.0.0.1:port, closed by `test`'s cleanups."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    test.addCleanup(conn.close)
    return conn
