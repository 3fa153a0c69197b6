#!/usr/bin/env python3
"""Checks of the systemd units in deploy/systemd.

- `systemd-analyze verify` of each unit prints nothing (no warning, no unknown key). verify
  needs the ExecStart binary to exist, so each unit is verified as a copy in a temp dir with
  /usr/local/bin/ rewritten to the built binaries ($S3HC_PROXY_BIN / $S3HC_CONTROL_BIN, else
  build/...); the template s3hc-proxy@.service is verified as the instance s3hc-proxy@a.service
  found through SYSTEMD_UNIT_PATH.
- The hardening lines the deployment relies on are present (user, capabilities, read-only
  system, the writable paths, the NFS mount dependency, the stop timeout above
  shutdown_grace_ms, restart on failure).
- `systemd-analyze security --offline=yes` (systemd 252 and later) rates each unit's exposure
  (0 best, 10 worst) below MAX_EXPOSURE = 2.0. Measured with systemd 252 (Debian 12):
  s3hc-proxy 1.5, s3hc-proxy@ 1.5, s3hc-control 1.3 ("OK"). The margin allows for another
  systemd version's weights; dropping a few Protect*/Restrict*/SystemCallFilter lines (0.1 to
  0.9 each, more for the capability and user settings) goes past it.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT_DIR = os.path.join(REPO_ROOT, "deploy", "systemd")
PROXY_BIN = os.environ.get("S3HC_PROXY_BIN") or os.path.join(
    REPO_ROOT, "build", "dataplane", "s3hc-proxy")
CONTROL_BIN = os.environ.get("S3HC_CONTROL_BIN") or os.path.join(
    REPO_ROOT, "build", "controlplane", "s3hc-control")

MAX_EXPOSURE = 2.0
# shutdown_grace_ms's default (docs/CONFIGURATION.md): the stop timeout must exceed it.
DEFAULT_SHUTDOWN_GRACE_S = 10

UNITS = {
    # file name -> (name to verify it as, binary its ExecStart runs)
    "s3hc-proxy.service": ("s3hc-proxy.service", PROXY_BIN),
    "s3hc-proxy@.service": ("s3hc-proxy@a.service", PROXY_BIN),
    "s3hc-control.service": ("s3hc-control.service", CONTROL_BIN),
}

COMMON_HARDENING = [
    "User=s3hc", "Group=s3hc", "NoNewPrivileges=yes", "ProtectSystem=strict",
    "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "PrivateMounts=yes",
    "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes",
    "ProtectProc=invisible", "RestrictNamespaces=yes", "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes", "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
    "SystemCallArchitectures=native", "SystemCallFilter=@system-service",
    "Restart=on-failure", "KillSignal=SIGTERM",
]
EXPECTED_LINES = {
    "s3hc-proxy.service": COMMON_HARDENING + [
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "ReadWritePaths=/var/cache/s3hc /var/lib/s3hc",
        "RequiresMountsFor=/var/cache/s3hc",
    ],
    "s3hc-control.service": COMMON_HARDENING + [
        "AmbientCapabilities=", "CapabilityBoundingSet=",
        "ReadWritePaths=/var/lib/s3hc-control",
    ],
}
EXPECTED_LINES["s3hc-proxy@.service"] = EXPECTED_LINES["s3hc-proxy.service"]


def unit_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def systemd_version():
    out = subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True)
    match = re.match(r"systemd (\d+)", out.stdout)
    return int(match.group(1)) if match else 0


@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
class SystemdUnitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for binary in (PROXY_BIN, CONTROL_BIN):
            if not os.access(binary, os.X_OK):
                raise unittest.SkipTest(f"binary not built: {binary}")
        cls.tmp = tempfile.mkdtemp(prefix="s3hc-units-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        # Copies whose ExecStart names the built binaries (verify checks it is executable).
        for name, (_, binary) in UNITS.items():
            with open(os.path.join(UNIT_DIR, name)) as f:
                text = f.read()
            text = text.replace("/usr/local/bin/" + os.path.basename(binary), binary)
            with open(os.path.join(cls.tmp, name), "w") as f:
                f.write(text)

    def run_analyze(self, *args):
        # SYSTEMD_UNIT_PATH: the copies first, then (trailing ':') the system's unit dirs,
        # so the targets and mounts the units name are found.
        env = dict(os.environ, SYSTEMD_UNIT_PATH=self.tmp + ":", SYSTEMD_LOG_COLOR="0",
                   SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
        return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                              env=env, cwd=self.tmp)

    def test_units_exist(self):
        for name in UNITS:
            self.assertTrue(os.path.isfile(os.path.join(UNIT_DIR, name)), name)

    def test_verify_prints_nothing(self):
        for name, (verify_as, _) in UNITS.items():
            with self.subTest(unit=name):
                result = self.run_analyze("verify", verify_as)
                output = (result.stdout + result.stderr).strip()
                self.assertEqual(result.returncode, 0, output)
                self.assertEqual(output, "", f"systemd-analyze verify {verify_as}:\n{output}")

    def test_verify_catches_a_typo(self):
        """The check itself works: a unit with a bad line makes verify print a warning."""
        with open(os.path.join(self.tmp, "s3hc-proxy.service")) as f:
            text = f.read()
        with open(os.path.join(self.tmp, "s3hc-typo.service"), "w") as f:
            f.write(text.replace("Restart=on-failure", "Restart=on-failur\nProtectSytem=yes"))
        result = self.run_analyze("verify", "s3hc-typo.service")
        output = result.stdout + result.stderr
        self.assertIn("on-failur", output)
        self.assertIn("ProtectSytem", output)

    def test_hardening_lines(self):
        for name, expected in EXPECTED_LINES.items():
            lines = unit_lines(os.path.join(UNIT_DIR, name))
            for line in expected:
                with self.subTest(unit=name, line=line):
                    self.assertIn(line, lines)
            with self.subTest(unit=name, line="SystemCallFilter=~@privileged"):
                self.assertTrue(any(l.startswith("SystemCallFilter=~@privileged")
                                    for l in lines), lines)
            with self.subTest(unit=name, line="no root"):
                self.assertFalse(any(l in ("User=root", "User=0") for l in lines))

    def test_stop_timeout_exceeds_shutdown_grace(self):
        for name in UNITS:
            lines = unit_lines(os.path.join(UNIT_DIR, name))
            timeouts = [l.split("=", 1)[1] for l in lines if l.startswith("TimeoutStopSec=")]
            self.assertEqual(len(timeouts), 1, name)
            match = re.fullmatch(r"(\d+)s?", timeouts[0])
            self.assertIsNotNone(match, timeouts[0])
            self.assertGreater(int(match.group(1)), DEFAULT_SHUTDOWN_GRACE_S, name)

    def test_security_exposure(self):
        if systemd_version() < 252:
            self.skipTest(f"systemd {systemd_version()}: no `security --offline`")
        for name, (verify_as, _) in UNITS.items():
            with self.subTest(unit=name):
                path = os.path.join(self.tmp, name)
                result = self.run_analyze("security", "--offline=yes", "--no-pager", path)
                output = result.stdout + result.stderr
                match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
                self.assertIsNotNone(match, output)
                exposure = float(match.group(1))
                print(f"\n  {name}: exposure {exposure} (threshold {MAX_EXPOSURE})", end="")
                self.assertLess(exposure, MAX_EXPOSURE, output)


if __name__ == "__main__":
    unittest.main()
