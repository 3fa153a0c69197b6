"""s3hc-control and s3hc-ctl for tests: ControlPlane starts the control plane on free ports
(gRPC and its HTTP endpoint; its ports file tells which) with a data directory and a token of
its own; ctl() runs s3hc-ctl against it; http_url is its dashboard and /metrics."""

import json
import os
import shutil
import subprocess
import tempfile
import time

from .processes import ManagedProcess

_REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TOKEN = "test-token-0123456789abcdef"


def control_binary():
    return os.environ.get("S3HC_CONTROL_BIN") or os.path.join(
        _REPO_ROOT, "build", "controlplane", "s3hc-control")


def ctl_binary():
    return os.environ.get("S3HC_CTL_BIN") or os.path.join(_REPO_ROOT, "build", "cli", "s3hc-ctl")


class ControlPlane:
    """One s3hc-control; start() again after stop() keeps its data directory (a restart)."""

    def __init__(self, heartbeat_ms=500):
        self.dir = tempfile.mkdtemp(prefix="s3hc-control-test-")
        self.token_file = os.path.join(self.dir, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.heartbeat_ms = heartbeat_ms
        self.port = None
        self.http_port = None
        self.process = None

    def start(self, port=0):
        ports_file = os.path.join(self.dir, "ports.json")
        if os.path.exists(ports_file):
            os.unlink(ports_file)
        self.process = ManagedProcess(
            [control_binary(), "--listen", f"127.0.0.1:{port}",
             "--data-dir", os.path.join(self.dir, "data"), "--token-file", self.token_file,
             "--heartbeat-ms", self.heartbeat_ms, "--ports-file", ports_file,
             "--http-listen", "127.0.0.1:0"],
            name="s3hc-control").start()
        self.process.wait_for_file(ports_file)
        with open(ports_file) as f:
            ports = json.load(f)
        self.port, self.http_port = ports["grpc"], ports["http"]
        return self

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self):
        if self.process:
            self.process.stop()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=40):
        return self.process.log_tail(lines) if self.process else ""

    def ctl(self, *args, token=TOKEN, json_output=False):
        """Runs s3hc-ctl against this control plane: (exit status, stdout, stderr); stdout
        parsed as JSON with json_output (--json) when it is a JSON object."""
        env = dict(os.environ, S3HC_TOKEN=token)
        argv = [ctl_binary(), "--control", self.address, "--timeout-ms", "5000"]
        if json_output:
            argv.append("--json")
        done = subprocess.run([*argv, *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=60)
        out = json.loads(done.stdout) if json_output and done.stdout.startswith("{") else done.stdout
        return done.returncode, out, done.stderr

    def set_policy(self, text):
        """Sets `text` (a YAML policy) with `s3hc-ctl policy set`; returns its version."""
        path = os.path.join(self.dir, "policy.yaml")
        with open(path, "w") as f:
            f.write(text)
        status, revision, err = self.ctl("policy", "set", "-f", path, json_output=True)
        if status != 0:
            raise AssertionError(f"s3hc-ctl policy set: exit {status}: {err}")
        return int(revision["version"])


def wait_until(predicate, timeout, interval=0.02):
    """Polls until predicate() is true; returns the seconds it took, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    return None
