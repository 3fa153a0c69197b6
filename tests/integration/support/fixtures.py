"""Test fixtures shared by several test files: an nginx file origin with s3hc in front of it,
and HTTP connections closed by the test's cleanups."""

import http.client

from support.nginx_origin import NginxFileOrigin, print_logs_on_failure
from support.proxy import ProxyProcess


def start_proxy(test, upstream_url, config=None):
    """Starts a ProxyProcess in front of `upstream_url`, stopped by `test`'s cleanups, its log
    printed if the test fails. Returns it."""
    proxy = ProxyProcess(upstream_url, config=config)
    test.addCleanup(proxy.stop)
    proxy.start()
    print_logs_on_failure(test, proxy)
    return proxy


def start_file_origin_and_proxy(test, proxy_config=None):
    """Starts NginxFileOrigin and a ProxyProcess in front of it; both are stopped by `test`'s
    cleanups and their logs printed if it fails. Returns (origin, proxy)."""
    origin = NginxFileOrigin()
    test.addCleanup(origin.close)
    origin.start()
    print_logs_on_failure(test, origin)
    return origin, start_proxy(test, origin.url, proxy_config)


def open_connection(test, port, timeout):
    """An http.client connection to 127.0.0.1:port, closed by `test`'s cleanups."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    test.addCleanup(conn.close)
    return conn
