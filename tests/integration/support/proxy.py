"""Run s3hc-proxy in tests.

Usage:
    proxy = ProxyProcess(upstream_url="http://127.0.0.1:5000")
    proxy.start()                      # the proxy binds free ports and reports them; waits
                                       # for its ports file, then GET /health == 200
    proxy.endpoint_url                 # "http://127.0.0.1:P"  (S3 clients talk here)
    proxy.admin_url                    # "http://127.0.0.1:A"
    proxy.port, proxy.admin_port, proxy.pid   # ports: None until started
    proxy.passthrough_port             # the HTTPS passthrough's, with passthrough.listen set
    proxy.health()                     # /health JSON as a dict
    proxy.metrics()                    # {"s3hc_requests_total{method=\"GET\",status=\"200\"}": 3.0, ...}
    proxy.metric("s3hc_requests_total", method="GET", status="200")  # -> 3.0 (0.0 if absent)
    proxy.peak_rss_bytes()             # VmHWM of the process
    proxy.stop()                       # SIGTERM then SIGKILL; returns the exit status
    proxy.log_tail()                   # for failure messages

Small limits/timeouts: ProxyProcess(upstream, config={"timeouts": {"client_read_ms": 500}})
writes a temp YAML file and passes -c FILE (a YAML string is accepted too).
ProxyProcess is also a context manager (start on enter, stop on exit).

Ports: the proxy is started with --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 and
--ports-file in its own temp dir; the kernel picks both ports and the proxy writes them there
(whole, by rename) before it serves. No port is chosen in advance, so no other process can
take one in between, and the two listeners can never be handed the same port. listen_port= /
admin_port= still ask for fixed ports (e.g. a restart on the same address).
"""

import json
import os
import re
import shutil
import tempfile
import time
import urllib.request

from .processes import ManagedProcess, ProcessError

_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_PROXY_BIN = os.path.join(_REPO_ROOT, "build", "dataplane", "s3hc-proxy")


def proxy_binary() -> str:
    """Path of s3hc-proxy: $S3HC_PROXY_BIN (set by CTest) or the default build dir."""
    return os.environ.get("S3HC_PROXY_BIN") or DEFAULT_PROXY_BIN


def config_to_yaml(config) -> str:
    """Render a nested dict of scalars as YAML (enough for the proxy's config);
    strings are passed through unchanged."""
    if isinstance(config, str):
        return config

    def render(mapping, indent):
        lines = []
        for key, value in mapping.items():
            if isinstance(value, dict):
                lines.append(f"{' ' * indent}{key}:")
                lines.extend(render(value, indent + 2))
            else:
                lines.append(f"{' ' * indent}{key}: {json.dumps(value)}")
        return lines

    return "\n".join(render(config, 0)) + "\n"


_SAMPLE_RE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def series_key(name, labels) -> str:
    """Canonical key of one series: name, or name{a="1",b="2"} with labels sorted by name."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


def parse_metrics(text) -> dict:
    """Parse Prometheus text exposition into {series_key: float}. Comments are skipped."""
    samples = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE_RE.match(line)
        if not match:
            raise ValueError(f"unparsable metrics line: {line!r}")
        name, _, label_text, value = match.group(1), match.group(2), match.group(3), match.group(4)
        labels = dict(_LABEL_RE.findall(label_text or ""))
        samples[series_key(name, labels)] = float(value)
    return samples


class ProxyProcess:
    def __init__(self, upstream_url, config=None, log_level="info", threads=None,
                 extra_args=(), binary=None, listen_port=None, admin_port=None):
        self.upstream_url = upstream_url
        self.config = config
        self.log_level = log_level
        self.threads = threads
        self.extra_args = list(extra_args)
        self.binary = binary or proxy_binary()
        # 0: any free port, reported by the proxy (see the module doc).
        self.requested_ports = (listen_port or 0, admin_port or 0)
        self.port = None        # the bound ports, known once started
        self.admin_port = None
        self.passthrough_port = None  # with passthrough.listen in the config
        self.run_dir = None     # temp dir of the config and ports files
        self.config_path = None
        self.process = None

    # ---- lifecycle -------------------------------------------------------

    def argv(self):
        """The command line; call after run_dir is made (start() does both)."""
        args = [self.binary]
        if self.config is not None:
            args += ["-c", self._write_config()]
        listen_port, admin_port = self.requested_ports
        args += ["--listen", f"127.0.0.1:{listen_port}",
                 "--admin-listen", f"127.0.0.1:{admin_port}",
                 "--ports-file", self.ports_path,
                 "--log-level", self.log_level]
        if self.upstream_url:  # else: routed by Host (upstream.url unset)
            args += ["--upstream", self.upstream_url]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        return args + self.extra_args

    def start(self, timeout=15.0):
        """Start the proxy, read the ports it bound from its ports file and wait until
        /health answers 200. Returns self. Raises ProcessError (with the log tail) if it
        exits or is not ready in time."""
        if not os.access(self.binary, os.X_OK):
            raise ProcessError(f"s3hc-proxy binary not found or not executable: {self.binary}")
        deadline = time.monotonic() + timeout
        self.port = self.admin_port = self.passthrough_port = None
        self._remove_run_dir()
        self.run_dir = tempfile.mkdtemp(prefix="s3hc-proxy-")
        try:
            self.process = ManagedProcess(self.argv(), name="s3hc-proxy").start()
            self.process.wait_for_file(self.ports_path, timeout=timeout)
            with open(self.ports_path) as f:
                ports = json.load(f)
            self.port, self.admin_port = ports["listen"], ports["admin"]
            self.passthrough_port = ports.get("passthrough")
            self.process.wait_for_http(self.admin_url + "/health",
                                       timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            # Callers often register stop() only once start() succeeded: leave nothing behind
            # (the log file stays, for log_tail()).
            self.stop()
            raise
        return self

    def stop(self, grace_seconds=5.0):
        """SIGTERM (graceful), SIGKILL after grace_seconds. Returns the exit status."""
        status = self.process.stop(grace_seconds) if self.process else None
        self._remove_run_dir()
        return status

    def kill(self):
        return self.process.kill() if self.process else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def ports_path(self):
        """Where the proxy reports the ports it bound (written before it serves)."""
        return os.path.join(self.run_dir, "ports.json")

    def _write_config(self):
        self.config_path = os.path.join(self.run_dir, "config.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_to_yaml(self.config))
        return self.config_path

    def _remove_run_dir(self):
        if self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = self.config_path = None

    # ---- addresses -------------------------------------------------------

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self):
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def is_running(self):
        return self.process is not None and self.process.is_running()

    # ---- introspection ---------------------------------------------------

    def health(self) -> dict:
        return json.loads(self._admin_get("/health"))

    def metrics_text(self) -> str:
        return self._admin_get("/metrics")

    def metrics(self) -> dict:
        """All samples of /metrics as {series_key: float}; see series_key()."""
        return parse_metrics(self.metrics_text())

    def metric(self, name, default=0.0, **labels) -> float:
        """One sample, e.g. metric("s3hc_requests_total", method="GET", status="200")."""
        return self.metrics().get(series_key(name, labels), default)

    def peak_rss_bytes(self) -> int:
        """Peak resident set size (VmHWM from /proc/PID/status) in bytes."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
        raise RuntimeError("VmHWM not found in /proc status")

    def log_text(self):
        return self.process.log_text() if self.process else ""

    def log_tail(self, lines=40):
        return self.process.log_tail(lines) if self.process else "(proxy not started)"

    def _admin_get(self, path, timeout=5.0) -> str:
        with urllib.request.urlopen(self.admin_url + path, timeout=timeout) as resp:
            return resp.read().decode("utf-8")
