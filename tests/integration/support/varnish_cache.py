"""Debian's Varnish (varnishd) as a caching HTTP proxy: the RAM-tier benchmark's peer
(tests/bench/ram_bench.py).

Usage:
    with VarnishCache(upstream_port=origin.port) as varnish:   # or start() ... close()
        varnish.url                    # http://127.0.0.1:PORT
        # responses carry X-Cache: HIT (served from the cache) or MISS

Each instance runs its own varnishd in the foreground (-F), with its working directory
(-n: shared memory log, compiled VCL, secret) and its generated VCL inside one temp dir,
removed by close(). The temp dir is on /dev/shm (tmpfs) when there is one, as Varnish's
documentation advises for the working directory: varnishd writes a log record for every
request into an 80 MB memory-mapped file there, which on a disk file system the kernel
would keep writing back. It listens on 127.0.0.1 only (-a), keeps objects in memory
(-s malloc,SIZE) and caches the backend's 200 answers for `ttl` whatever their headers
say; see VCL_TEMPLATE. Nothing here uses the varnish package's system service or its
/etc/varnish files: the service is neither needed nor started.

varnishd compiles the VCL with the C compiler (cc_command, gcc from build-essential) when
it starts, which takes a second or two.
"""

import os
import shutil
import tempfile
import time

from .ports import free_port
from .processes import ManagedProcess, ProcessError, StartStopContext

VARNISHD_BIN = os.environ.get("S3HC_VARNISHD_BIN", "/usr/sbin/varnishd")

# The backend is the origin; 200 answers are cached for `ttl` (the origin sends no
# Cache-Control, so Varnish would otherwise keep them default_ttl = 2 min), without grace
# (no stale answers). X-Cache says whether the answer came from the cache: obj.hits is
# how often the object was found in the cache before this request (0 for the fetch).
# Everything else is Varnish's built-in VCL, which runs after these subroutines.
VCL_TEMPLATE = """\
vcl 4.1;

backend origin {
    .host = "%(upstream_host)s";
    .port = "%(upstream_port)d";
}

sub vcl_backend_response {
    if (beresp.status == 200) {
        set beresp.ttl = %(ttl)s;
        set beresp.grace = 0s;
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
"""

# Run-time parameters (-p) for a small test machine: one thread pool (the default is 2,
# for lock contention on many cores), threads kept as Varnish's defaults otherwise
# (thread_pool_min 100 per pool, more than the benchmarks' 64 connections).
DEFAULT_PARAMS = {"thread_pools": 1}


def workdir_parent():
    """/dev/shm if it is a writable tmpfs, else None (the default temp dir)."""
    try:
        with open("/proc/mounts") as f:
            on_tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in f)
    except OSError:
        on_tmpfs = False
    return "/dev/shm" if on_tmpfs and os.access("/dev/shm", os.W_OK) else None


class VarnishCache(StartStopContext):
    """varnishd in front of upstream_host:upstream_port, caching in memory.

    storage: the -s argument ("malloc,256m"); ttl: how long 200 answers stay fresh (a VCL
    duration, "1h"); params: run-time parameters ({"thread_pools": 1}, DEFAULT_PARAMS when
    None); port: listen there instead of a free port.
    """

    name = "varnish"

    def __init__(self, upstream_port, upstream_host="127.0.0.1", storage="malloc,256m",
                 ttl="1h", params=None, port=None):
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.storage = storage
        self.ttl = ttl
        self.params = dict(DEFAULT_PARAMS if params is None else params)
        self.port = port or free_port()
        self.prefix = tempfile.mkdtemp(prefix="s3hc-varnish-", dir=workdir_parent())
        # varnishd creates its working directory itself.
        self.workdir = os.path.join(self.prefix, "work")
        self.vcl_path = os.path.join(self.prefix, "default.vcl")
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def argv(self):
        """The varnishd command line (-F: foreground, the process we start is the manager;
        it forks the cache child that serves requests)."""
        argv = [VARNISHD_BIN, "-F", "-n", self.workdir, "-a", f"127.0.0.1:{self.port}",
                "-f", self.vcl_path, "-s", self.storage,
                # The management CLI only on loopback, on a port of the kernel's choice.
                "-T", "127.0.0.1:0"]
        if os.geteuid() == 0:
            # As root varnishd would run its child as the "vcache" user, which cannot enter
            # our 0700 temp dir; stay root (like the nginx helpers' "user root").
            argv += ["-j", "none"]
        for key, value in self.params.items():
            argv += ["-p", f"{key}={value}"]
        return argv

    def write_vcl(self):
        with open(self.vcl_path, "w") as f:
            f.write(VCL_TEMPLATE % {"upstream_host": self.upstream_host,
                                    "upstream_port": self.upstream_port, "ttl": self.ttl})
        return self.vcl_path

    def start(self, timeout=30.0):
        """Write the VCL, start varnishd and wait until its cache child runs and the port
        accepts connections. Raises ProcessError (with varnishd's output) otherwise."""
        self.write_vcl()
        self.process = ManagedProcess(self.argv(), name=self.name)
        self.process.start()
        # The manager listens before the child runs (the kernel then queues connections):
        # wait for the child's "Child starts" as well.
        deadline = time.monotonic() + timeout
        while "Child starts" not in self.process.log_text():
            if not self.process.is_running():
                raise ProcessError(f"varnishd exited with status {self.process.returncode()}"
                                   f" while starting\n" + self.process.log_tail())
            if time.monotonic() >= deadline:
                raise ProcessError(f"varnishd's cache child not started after {timeout}s\n"
                                   + self.process.log_tail())
            time.sleep(0.05)
        self.process.wait_for_port(self.port, timeout=max(1.0, deadline - time.monotonic()))
        return self

    @property
    def pid(self):
        """The manager's pid (the cache child is its child)."""
        return self.process.pid if self.process else None

    def is_running(self):
        return self.process is not None and self.process.is_running()

    def log_tail(self, lines=40):
        """varnishd's output (manager and child messages), for failure messages."""
        return self.process.log_tail(lines) if self.process else "(varnishd not started)"

    def close(self):
        """Stop varnishd (SIGTERM: the manager stops the child, then exits) and delete the
        temp dir. Idempotent."""
        if self.process is not None:
            self.process.stop(grace_seconds=10.0)
            self.process.remove_log()
        shutil.rmtree(self.prefix, ignore_errors=True)
