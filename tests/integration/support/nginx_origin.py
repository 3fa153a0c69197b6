"""Debian's nginx as a test peer, in three roles.

  file origin    -- serves a directory with GET/HEAD (sendfile, byte ranges) and stores
                    PUT bodies (the dav module), so big transfers through the proxy can
                    be checked byte for byte against files on disk.
  reverse proxy  -- a plain keep-alive reverse proxy in front of an upstream; the
                    benchmarks compare s3hc with it.
  caching proxy  -- the same with nginx's disk cache (proxy_cache, slice 1m): the
                    read-cache benchmark's peer (tests/bench/cache_bench.py).
  SNI relay      -- a TCP relay choosing its upstream by the TLS server name (stream,
                    ssl_preread), never terminating TLS: the HTTPS passthrough
                    benchmark's peer (tests/bench/passthrough_bench.py).

Usage:
    with NginxFileOrigin() as origin:          # or origin.start() ... origin.close()
        origin.write_file("bucket/key", b"...")
        url = origin.url                       # http://127.0.0.1:PORT
        data = open(origin.path_of("bucket/key"), "rb").read()

    with NginxReverseProxy(upstream_port=origin.port) as proxy:
        proxy.url ...

    with NginxCachingProxy(upstream_port=origin.port) as cache:
        cache.url ...                          # responses carry X-Cache-Status: MISS/HIT/...

    with NginxSniRelay({"localhost": origin.port}) as relay:
        relay.port ...                         # TLS for "localhost" goes to the origin

NginxFileOrigin(gzip=True) also sends chunked (gzip) responses; NginxFileOrigin(tls=(cert,
key)) serves HTTPS (origin.url then starts with https://); access_log_lines() shows
which requests nginx finished. print_logs_on_failure() (end of file) is a small generic
unittest helper.

Each instance runs its own nginx (master + workers, foreground) with every path it
writes (pid, temp files, logs, served files) inside one temp dir, removed by close().
The config files are generated from one template per role, below.
"""

import os
import shutil
import sys
import tempfile

from .ports import free_port
from .processes import ManagedProcess, StartStopContext

NGINX_BIN = os.environ.get("S3HC_NGINX_BIN", "/usr/sbin/nginx")

# ---- config templates (printf-style: nginx itself uses both {} and $) --------

# Shared by every role. nginx started as root drops its workers to "nobody", who could
# not write into our 0700 temp dir; "user root" keeps them as root (only emitted when
# we are root: otherwise nginx warns and ignores it anyway). Errors go to stderr so
# ManagedProcess's log holds them.
PROCESS_TEMPLATE = """\
%(user_line)s
worker_processes %(workers)d;
error_log stderr warn;
pid %(prefix)s/nginx.pid;

events {
    worker_connections 4096;
}
"""

# The HTTP roles; the temp paths override Debian's /var/lib/nginx.
MAIN_TEMPLATE = PROCESS_TEMPLATE + """
http {
    access_log %(access_log)s;
    client_body_temp_path %(prefix)s/tmp/client_body;
    proxy_temp_path %(prefix)s/tmp/proxy;
    fastcgi_temp_path %(prefix)s/tmp/fastcgi;
    uwsgi_temp_path %(prefix)s/tmp/uwsgi;
    scgi_temp_path %(prefix)s/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 100000;

%(server_block)s
}
"""

# Files under `root`, GET/HEAD with sendfile and ranges (nginx defaults), PUT stores the
# body (any size, any depth of directories). The body temp dir and `root` share one
# filesystem, so a finished PUT is a rename, not a copy.
FILE_ORIGIN_SERVER = """\
    sendfile on;
    tcp_nopush on;
%(gzip_lines)s
    server {
        listen 127.0.0.1:%(port)d%(listen_ssl)s;
        root %(root)s;
%(tls_lines)s
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
        }
    }
"""

# Optional for the file origin: compress every response on the fly for clients that
# send "Accept-Encoding: gzip". Such a response has no Content-Length and goes out with
# "Transfer-Encoding: chunked", which makes nginx an origin that sends chunked bodies.
GZIP_LINES = """\
    gzip on;
    gzip_types *;
    gzip_min_length 0;
"""

# Optional for the file origin: HTTPS with the given certificate chain and key (PEM
# files), so the proxy's TLS client and certificate checks can be tested.
TLS_LINES = """\
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
"""

# What both proxies do with a request: a keep-alive pool to the upstream, HTTP/1.1, Host
# passed through unchanged ($http_host) because S3 signs it.
ORIGIN_UPSTREAM = """\
    upstream origin {
        server %(upstream_host)s:%(upstream_port)d;
        keepalive 64;
    }
"""
PASS_TO_ORIGIN = """\
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            client_max_body_size 0;
"""

# A plain reverse proxy, nginx's default buffering.
REVERSE_PROXY_SERVER = ORIGIN_UPSTREAM + """
    server {
        listen 127.0.0.1:%(port)d;

        location / {
""" + PASS_TO_ORIGIN + """\
        }
    }
"""


# In front of moto, an endpoint that routes by Host as Amazon S3 does: the names of one
# region, path-style and virtual-hosted, reach moto (Host unchanged: S3 signs it, and moto
# reads a virtual-hosted bucket from it); any other Host gets S3's 400, so a proxy that sent
# the wrong Host (its own address, the origin's IP) fails visibly. The access log names the
# Host of each request.
S3_ENDPOINT_SERVER = ORIGIN_UPSTREAM + """
    log_format with_host '$host "$request" $status';
    server {
        listen 127.0.0.1:%(port)d%(listen_ssl)s default_server;
%(tls_lines)s        access_log %(prefix)s/access.log with_host;
        default_type application/xml;
        return 400 '<Error><Code>InvalidRequest</Code><Message>Host names no endpoint of this region</Message></Error>';
    }
    server {
        listen 127.0.0.1:%(port)d%(listen_ssl)s;
        server_name %(names)s;
%(tls_lines)s
        access_log %(prefix)s/access.log with_host;

        location / {
""" + PASS_TO_ORIGIN + """            proxy_request_buffering off;
            proxy_buffering off;
        }
    }
"""


# A caching reverse proxy as one would configure nginx in front of S3-like objects:
# `slice` splits every request into 1 MiB range requests to the upstream, each cached as
# its own entry (key: URI + slice range), so large objects are cached piece by piece and
# a Range request needs only the slices it overlaps. 200 and 206 answers are cached for
# an hour (the origin sends no Cache-Control); entries stay for a day unused, the cache
# may grow to max_size. Cache hits are sent from the cache files with sendfile.
# X-Cache-Status ($upstream_cache_status: MISS, HIT, EXPIRED, ...) shows what happened.
CACHING_PROXY_SERVER = """\
    sendfile on;
    tcp_nopush on;
    proxy_cache_path %(cache_dir)s levels=1:2 keys_zone=s3hc_peer:64m max_size=%(max_size)s
                     inactive=1d use_temp_path=off;

""" + ORIGIN_UPSTREAM + """
    server {
        listen 127.0.0.1:%(port)d;

        location / {
            slice 1m;
            proxy_cache s3hc_peer;
            proxy_cache_key $uri$slice_range;
            proxy_set_header Range $slice_range;
            proxy_cache_valid 200 206 1h;
            add_header X-Cache-Status $upstream_cache_status always;

""" + PASS_TO_ORIGIN + """\
        }
    }
"""


# An SNI relay: nginx's stream module reads the server name of each connection's ClientHello
# (ssl_preread) and relays the connection's bytes, TLS unopened, to the upstream the name maps
# to; other names go to a closed port (connection refused, the client's connection closed).
# Stock settings otherwise (proxy_buffer_size 16k). Debian ships the stream module as a
# dynamic module (package libnginx-mod-stream).
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
SNI_RELAY_TEMPLATE = "load_module %(module)s;\n" + PROCESS_TEMPLATE + """
stream {
    map $ssl_preread_server_name $sni_upstream {
%(routes)s
        default 127.0.0.1:1;
    }
    server {
        listen 127.0.0.1:%(port)d;
        ssl_preread on;
        proxy_pass $sni_upstream;
    }
}
"""


def _write_nginx_conf(prefix, template, workers, **fields):
    """Fill `template` (PROCESS_TEMPLATE and a role's blocks) into prefix/nginx.conf;
    returns its path."""
    text = template % {"user_line": "user root;" if os.geteuid() == 0 else "",
                       "workers": workers, "prefix": prefix, **fields}
    conf_path = os.path.join(prefix, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(text)
    return conf_path


def _write_config(prefix, server_block, workers, access_log):
    """Fill MAIN_TEMPLATE around a role's server block; returns the config path."""
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    return _write_nginx_conf(
        prefix, MAIN_TEMPLATE, workers, server_block=server_block,
        access_log=os.path.join(prefix, "access.log") if access_log else "off")


def _tls_settings(tls):
    """The template settings of a server over HTTPS with tls=(cert_path, key_path), or over
    plain HTTP with tls=None."""
    return {"listen_ssl": " ssl" if tls else "",
            "tls_lines": TLS_LINES % {"cert": tls[0], "key": tls[1]} if tls else ""}


def write_file_origin_config(prefix, port, root, workers=1, access_log=True, gzip=False,
                             tls=None):
    """nginx config for a file origin serving `root` on 127.0.0.1:port. Returns its path.
    gzip=True: see GZIP_LINES; tls=(cert_path, key_path): see TLS_LINES."""
    server_block = FILE_ORIGIN_SERVER % {
        "port": port, "root": root, "gzip_lines": GZIP_LINES if gzip else "",
        **_tls_settings(tls)}
    return _write_config(prefix, server_block, workers, access_log)


def write_reverse_proxy_config(prefix, port, upstream_port, upstream_host="127.0.0.1",
                               workers=1, access_log=True):
    """nginx config for a reverse proxy on 127.0.0.1:port in front of upstream_host:
    upstream_port. Returns its path."""
    server_block = REVERSE_PROXY_SERVER % {
        "port": port, "upstream_host": upstream_host, "upstream_port": upstream_port}
    return _write_config(prefix, server_block, workers, access_log)


def write_s3_endpoint_config(prefix, port, upstream_port, names, access_log=True, tls=None):
    """nginx config for S3_ENDPOINT_SERVER on 127.0.0.1:port in front of 127.0.0.1:
    upstream_port, answering for `names` (server_name syntax: "*.suffix" allowed);
    tls=(cert_path, key_path): over HTTPS, see TLS_LINES."""
    server_block = S3_ENDPOINT_SERVER % {
        "port": port, "upstream_host": "127.0.0.1", "upstream_port": upstream_port,
        "names": " ".join(names), "prefix": prefix, **_tls_settings(tls)}
    return _write_config(prefix, server_block, 1, access_log)


def write_caching_proxy_config(prefix, port, upstream_port, cache_dir, upstream_host="127.0.0.1",
                               workers=1, access_log=True, max_size="20g"):
    """nginx config for a caching reverse proxy (CACHING_PROXY_SERVER) on 127.0.0.1:port in
    front of upstream_host:upstream_port, its cache in cache_dir. Returns its path."""
    server_block = CACHING_PROXY_SERVER % {
        "port": port, "upstream_host": upstream_host, "upstream_port": upstream_port,
        "cache_dir": cache_dir, "max_size": max_size}
    return _write_config(prefix, server_block, workers, access_log)


def write_sni_relay_config(prefix, port, routes, workers=1):
    """nginx config for SNI_RELAY_TEMPLATE on 127.0.0.1:port; routes: {server name: port on
    127.0.0.1}. Returns its path."""
    return _write_nginx_conf(
        prefix, SNI_RELAY_TEMPLATE, workers, module=STREAM_MODULE, port=port,
        routes="\n".join(f"        {name} 127.0.0.1:{upstream_port};"
                         for name, upstream_port in routes.items()))


class NginxProcess(StartStopContext):
    """One nginx in the foreground with everything it writes under a temp dir.

    Subclasses write their config in _write_config_file(); start() launches and waits
    until the port accepts connections; close() stops nginx and removes the temp dir.
    """

    name = "nginx"
    scheme = "http"

    def __init__(self, workers=1, access_log=True, port=None):
        self.workers = workers
        self.access_log = access_log
        self.port = port or free_port()
        self.prefix = tempfile.mkdtemp(prefix=f"s3hc-{self.name}-")
        self.process = None

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _write_config_file(self):
        raise NotImplementedError

    def start(self, timeout=15.0):
        conf_path = self._write_config_file()
        self.process = ManagedProcess(
            [NGINX_BIN, "-p", self.prefix, "-c", conf_path, "-g", "daemon off;"],
            name=self.name)
        self.process.start()
        self.process.wait_for_port(self.port, timeout=timeout)
        return self

    def is_running(self):
        return self.process is not None and self.process.is_running()

    def access_log_lines(self):
        """Lines of the access log so far (nginx writes one when a request finishes)."""
        path = os.path.join(self.prefix, "access.log")
        if not os.path.exists(path):
            return []
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace").splitlines()

    def log_tail(self, lines=40):
        """nginx's stderr (error log) plus the end of the access log, for failure messages."""
        text = self.process.log_tail(lines) if self.process else "(nginx not started)"
        access = self.access_log_lines()[-lines:]
        text += f"\n--- last {len(access)} access log lines of {self.name} ---\n"
        return text + "\n".join(access)

    def close(self):
        """Stop nginx (SIGTERM = fast shutdown) and delete its temp dir. Idempotent."""
        if self.process is not None:
            self.process.stop()
            self.process.remove_log()
        shutil.rmtree(self.prefix, ignore_errors=True)


class NginxFileOrigin(NginxProcess):
    """nginx serving (GET/HEAD) and storing (PUT) files under self.root.
    port: listen there instead of a free port (e.g. one a proxy already points at);
    gzip: see GZIP_LINES; tls=(cert_path, key_path): serve HTTPS, see TLS_LINES."""

    name = "nginx-origin"

    def __init__(self, workers=1, access_log=True, port=None, gzip=False, tls=None):
        super().__init__(workers, access_log, port)
        self.gzip = gzip
        self.tls = tls
        if tls:
            self.scheme = "https"
        self.root = os.path.join(self.prefix, "root")
        os.makedirs(self.root)

    def _write_config_file(self):
        return write_file_origin_config(self.prefix, self.port, self.root,
                                        self.workers, self.access_log, self.gzip, self.tls)

    def path_of(self, key):
        """Filesystem path of URL path `key` (e.g. "bucket/obj"), whether it exists or not."""
        return os.path.join(self.root, key.lstrip("/"))

    def write_file(self, key, data):
        """Put `data` (bytes) at URL path `key`; returns the file's path."""
        path = self.path_of(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path


class NginxReverseProxy(NginxProcess):
    """nginx as a plain keep-alive reverse proxy in front of upstream_host:upstream_port."""

    name = "nginx-proxy"

    def __init__(self, upstream_port, upstream_host="127.0.0.1", workers=1, access_log=True,
                 port=None):
        super().__init__(workers, access_log, port)
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port

    def _write_config_file(self):
        return write_reverse_proxy_config(self.prefix, self.port, self.upstream_port,
                                          self.upstream_host, self.workers, self.access_log)


class NginxS3Endpoint(NginxProcess):
    """S3_ENDPOINT_SERVER: routes by Host to moto as S3 does, 400 for any other Host;
    tls=(cert_path, key_path): over HTTPS, as S3 is."""

    name = "nginx-s3-endpoint"

    def __init__(self, upstream_port, names, port=None, tls=None):
        super().__init__(port=port)
        self.upstream_port = upstream_port
        self.names = list(names)
        self.tls = tls
        if tls:
            self.scheme = "https"

    def _write_config_file(self):
        return write_s3_endpoint_config(self.prefix, self.port, self.upstream_port, self.names,
                                        tls=self.tls)


class NginxCachingProxy(NginxProcess):
    """nginx as a caching reverse proxy (proxy_cache, slice 1m; see CACHING_PROXY_SERVER)
    in front of upstream_host:upstream_port. The cache lives in self.cache_dir, inside
    the temp dir (removed by close())."""

    name = "nginx-cache"

    def __init__(self, upstream_port, upstream_host="127.0.0.1", workers=1, access_log=True,
                 port=None, max_size="20g"):
        super().__init__(workers, access_log, port)
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.max_size = max_size
        self.cache_dir = os.path.join(self.prefix, "cache")

    def _write_config_file(self):
        return write_caching_proxy_config(self.prefix, self.port, self.upstream_port,
                                          self.cache_dir, self.upstream_host, self.workers,
                                          self.access_log, self.max_size)


class NginxSniRelay(NginxProcess):
    """nginx relaying TLS connections by server name (SNI_RELAY_TEMPLATE); routes: {server
    name: port on 127.0.0.1}."""

    name = "nginx-sni-relay"
    scheme = "https"

    def __init__(self, routes, workers=1, port=None):
        super().__init__(workers, access_log=False, port=port)
        self.routes = dict(routes)

    def _write_config_file(self):
        return write_sni_relay_config(self.prefix, self.port, self.routes, self.workers)


# ---- generic test helper -------------------------------------------------------
# (Lives here because this is the test writer's own support module; it works with any
# object that has log_tail(): NginxProcess, ProxyProcess, MotoOrigin, ManagedProcess.)

def print_logs_on_failure(test, *sources):
    """Register a cleanup on unittest.TestCase `test` that prints each source's
    log_tail() to stderr if the test failed. Register it after the cleanups that stop
    the sources: cleanups run last-in first-out, and close() deletes nginx's logs."""
    def failed():
        # unittest internals (3.11+): failures are on the result as soon as they happen.
        result = getattr(getattr(test, "_outcome", None), "result", None)
        reported = (getattr(result, "failures", []) + getattr(result, "errors", []))
        return any(getattr(case, "test_case", case) is test for case, _ in reported)

    def dump():
        if failed():
            for source in sources:
                print(source.log_tail(), file=sys.stderr)
    test.addCleanup(dump)
