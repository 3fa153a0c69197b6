"""Start, wait for and stop helper processes (proxy, origin) in tests.

Usage:
    proc = ManagedProcess(["prog", "--flag"], name="prog", env={"X": "1"})
    proc.start()
    proc.wait_for_port(port)            # or proc.wait_for_http("http://127.0.0.1:P/health")
    proc.wait_for_file(path)            # a file it writes (whole, by rename)
    proc.wait_for_log(re.compile(r"port (\d+)")).group(1)   # a line it logs
    ...
    proc.stop()                         # SIGTERM, then SIGKILL after a grace period
    print(proc.log_tail())              # last lines of combined stdout+stderr

stdout and stderr both go to one temp log file (never a pipe: a pipe nobody reads
would block a chatty process once the pipe buffer is full).

DumpLogsOnFailure is a unittest.TestCase mixin that prints the log tails of the
test's processes after a failed or erroring test.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    """Runs in the child before exec: SIGKILL it when the test process dies, so a
    test killed by CTest's timeout leaves no proxy or origin behind."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class ProcessError(RuntimeError):
    """A managed process failed to start, exited early or did not become ready."""


class ManagedProcess:
    def __init__(self, argv, name=None, env=None, cwd=None):
        """argv: command line; name: label in messages; env: extra environment
        variables added to os.environ; cwd: working directory."""
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.extra_env = dict(env or {})
        self.cwd = cwd
        self.popen = None
        self.log_path = None
        self._log_file = None

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        """Start the process; output goes to self.log_path. Returns self."""
        # CTest points S3HC_TEST_LOG_DIR into the build tree, so logs stay inspectable after a
        # run without piling up in /tmp.
        log_dir = os.environ.get("S3HC_TEST_LOG_DIR") or None
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        fd, self.log_path = tempfile.mkstemp(prefix=f"s3hc-{self.name}-", suffix=".log",
                                             dir=log_dir)
        self._log_file = os.fdopen(fd, "wb")
        env = dict(os.environ)
        env.update(self.extra_env)
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, env=env, cwd=self.cwd,
            preexec_fn=_die_with_parent)
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def is_running(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        """Exit status, or None while running."""
        return self.popen.poll() if self.popen else None

    def stop(self, grace_seconds=5.0):
        """SIGTERM, wait up to grace_seconds, then SIGKILL. Returns the exit status.
        Safe to call more than once and on a process that already exited."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self._log_file and not self._log_file.closed:
            self._log_file.close()
        return self.popen.returncode

    def kill(self):
        """SIGKILL right away (crash simulation). Returns the exit status."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        return self.returncode()

    def remove_log(self):
        """Delete the log file (call after a successful test if logs are not wanted)."""
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    # ---- readiness -------------------------------------------------------

    def wait_for_port(self, port, host="127.0.0.1", timeout=15.0):
        """Wait until host:port accepts TCP connections."""
        def ready():
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return True
            except OSError:
                return False
        self._wait(ready, timeout, f"port {host}:{port}")

    def wait_for_http(self, url, timeout=15.0, expected_status=200):
        """Wait until GET url answers expected_status."""
        def ready():
            try:
                with urllib.request.urlopen(url, timeout=1.0) as resp:
                    return resp.status == expected_status
            except urllib.error.HTTPError as err:
                return err.code == expected_status
            except OSError:
                return False
        self._wait(ready, timeout, f"GET {url} -> {expected_status}")

    def wait_for_file(self, path, timeout=15.0):
        """Wait until `path` exists (for a file the process writes whole, by rename)."""
        self._wait(lambda: os.path.exists(path), timeout, f"file {path}")

    def wait_for_log(self, pattern, timeout=15.0):
        """Wait until the log matches the compiled regex `pattern`; returns the match."""
        found = []

        def ready():
            match = pattern.search(self.log_text())
            if match:
                found.append(match)
            return bool(match)
        self._wait(ready, timeout, f"log line matching {pattern.pattern!r}")
        return found[0]

    def _wait(self, ready, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ProcessError(
                    f"{self.name} exited with status {self.returncode()} before {what}\n"
                    + self.log_tail())
            if ready():
                return
            time.sleep(0.05)
        raise ProcessError(f"{self.name} not ready after {timeout}s ({what})\n" + self.log_tail())

    # ---- logs ------------------------------------------------------------

    def log_text(self):
        """Whole log so far (stdout+stderr), decoded leniently."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        if self._log_file and not self._log_file.closed:
            self._log_file.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def log_tail(self, lines=40):
        """Last `lines` lines of the log, headed with the process name, for failure messages."""
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last {len(tail)} log lines of {self.name} ({self.log_path}) ---\n" + "\n".join(tail)


class DumpLogsOnFailure:
    """unittest.TestCase mixin: after a test fails or errors, print the log tail of
    every object returned by log_sources() (anything with a log_tail() method:
    ManagedProcess, ProxyProcess, MotoOrigin) to stderr, and set the class
    attribute any_test_failed (e.g. to keep log files only when something failed).

        class MyTest(DumpLogsOnFailure, unittest.TestCase):
            def log_sources(self):
                return [self.proxy, self.origin]
    """

    any_test_failed = False

    def log_sources(self):
        return []

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        problems_before = len(result.failures) + len(result.errors)
        outcome = super().run(result)
        if len(result.failures) + len(result.errors) > problems_before:
            type(self).any_test_failed = True
            for source in self.log_sources():
                if source is not None:
                    sys.stderr.write(source.log_tail() + "\n")
        return outcome


class StartStopContext:
    """Mixin for a service with start() (returning self) and an idempotent close(): `with`
    starts it, and closes it on the way out or when starting fails half-way."""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
