#!/usr/bin/env python3
"""Checks of the Ansible roles in deploy/ansible (s3hc_proxy, s3hc_control) and site.yml.

Needs Debian's `ansible` and `ansible-lint`: when missing they are installed (as root) with
the project's scripts/debian_packages.sh (install_missing_packages); the tests are skipped,
with the reason printed, only when that is not possible.

1. ansible-lint (production profile, the strictest) on the roles and site.yml;
2. ansible-playbook --syntax-check of site.yml;
3. site.yml applied to localhost in --check mode: passes and writes nothing;
4. site.yml applied for real into a temporary install prefix (s3hc_prefix) with no systemd
   (s3hc_manage_systemd: false), no NFS mount and no user creation (the files belong to the
   user running the test), then again, which must change nothing (idempotence); the
   installed files are checked: the unit files are deploy/systemd's, unchanged; the config
   holds only keys of docs/CONFIGURATION.md; `systemd-analyze verify` of the installed units
   with the role's drop-ins prints nothing;
5. the installed s3hc-proxy is started from the prefix with the installed config (origin: a
   moto server, tests/integration/support) and serves an object to boto3, from the origin and
   then from the cache directory the role made;
6. the installed s3hc-control starts with the installed token and data directory;
7. a config key docs/CONFIGURATION.md does not have fails the play (the role validates the
   rendered config with s3hc-ctl config validate) and leaves no config behind.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ANSIBLE_DIR = os.path.join(REPO_ROOT, "deploy", "ansible")
SYSTEMD_DIR = os.path.join(REPO_ROOT, "deploy", "systemd")
BUILD_DIR = os.path.join(REPO_ROOT, "build")
PROXY_BIN = os.environ.get("S3HC_PROXY_BIN") or os.path.join(
    BUILD_DIR, "dataplane", "s3hc-proxy")
CONTROL_BIN = os.environ.get("S3HC_CONTROL_BIN") or os.path.join(
    BUILD_DIR, "controlplane", "s3hc-control")
CTL_BIN = os.environ.get("S3HC_CTL_BIN") or os.path.join(BUILD_DIR, "cli", "s3hc-ctl")

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))
from support.moto_origin import MotoOrigin  # noqa: E402
from support.processes import ManagedProcess  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

ANSIBLE_TOOLS = ("ansible-playbook", "ansible-lint")
# Modules run by the system's Python, which Debian's ansible comes with (not a venv's).
SYSTEM_PYTHON = "/usr/bin/python3"


def ensure_ansible():
    """None when ansible and ansible-lint are there (installed here if need be), else why not."""
    if all(shutil.which(tool) for tool in ANSIBLE_TOOLS):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "ansible/ansible-lint missing and cannot be installed (not root, or no apt-get)"
    script = os.path.join(REPO_ROOT, "scripts", "debian_packages.sh")
    result = subprocess.run(
        ["bash", "-c", 'source "$1" && install_missing_packages deploy-test ansible ansible-lint',
         "bash", script], capture_output=True, text=True)
    if result.returncode != 0 or not all(shutil.which(tool) for tool in ANSIBLE_TOOLS):
        return ("could not install Debian's ansible and ansible-lint: "
                + (result.stdout + result.stderr).strip()[-2000:])
    return None


def documented_keys():
    """The keys of docs/CONFIGURATION.md's "## Keys" table, dotted (cache.dir, ...)."""
    with open(os.path.join(REPO_ROOT, "docs", "CONFIGURATION.md")) as f:
        text = f.read()
    section = text.split("## Keys", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_.]+)` \|", section, re.M))


def flatten(mapping, prefix=""):
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


class AnsibleRoleTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        reason = ensure_ansible()
        if reason:
            print(f"\nSKIP: {reason}", file=sys.stderr)
            raise unittest.SkipTest(reason)
        for binary in (PROXY_BIN, CONTROL_BIN, CTL_BIN):
            if not os.access(binary, os.X_OK):
                raise unittest.SkipTest(f"binary not built: {binary}")
        cls.tmp = tempfile.mkdtemp(prefix="s3hc-ansible-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.prefix = os.path.join(cls.tmp, "root")
        os.mkdir(cls.prefix)
        cls.applied = None

        cls.origin = MotoOrigin().start()
        cls.addClassCleanup(cls.origin.stop)

        # The binaries the role copies: copies of the ones under test, laid out as build/ is
        # (copies, not links: a rebuild during the test must not change what the second,
        # idempotent run sees).
        build = os.path.join(cls.tmp, "build")
        for sub, binary in (("dataplane", PROXY_BIN), ("controlplane", CONTROL_BIN),
                            ("cli", CTL_BIN)):
            os.makedirs(os.path.join(build, sub))
            shutil.copy2(binary, os.path.join(build, sub, os.path.basename(binary)))

        cls.inventory = os.path.join(cls.tmp, "inventory.ini")
        with open(cls.inventory, "w") as f:
            host = (f"localhost ansible_connection=local "
                    f"ansible_python_interpreter={SYSTEM_PYTHON}\n")
            f.write("[s3hc_control]\n" + host + "[s3hc_proxies]\n" + host)
        cls.vars_file = os.path.join(cls.tmp, "vars.yml")
        with open(cls.vars_file, "w") as f:
            f.write(f"""\
ansible_become: false
s3hc_build_dir: {build}
s3hc_create_user: false
s3hc_user: root
s3hc_group: root
s3hc_manage_systemd: false
s3hc_proxy_listen: 127.0.0.1:8080
s3hc_proxy_admin_listen: 127.0.0.1:9090
s3hc_proxy_threads: 2
s3hc_proxy_upstream_url: {cls.origin.endpoint_url}
s3hc_proxy_cache_max_size: 1GiB
s3hc_proxy_shutdown_grace_ms: 2000
s3hc_proxy_policy:
  version: 3
  rules:
    - bucket: scratch
      settings: {{read_caching: false}}
s3hc_proxy_config:
  cache:
    get_ttl_ms: 300000
  limits:
    max_concurrent_requests: 512
s3hc_control_token: "{uuid.uuid4().hex}"
s3hc_control_listen: 127.0.0.1:7070
""")

    # ---- helpers -----------------------------------------------------------------------

    @staticmethod
    def run_tool(argv, cwd=ANSIBLE_DIR):
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
                   ANSIBLE_STDOUT_CALLBACK="default", PY_COLORS="0")
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=600)

    def playbook(self, prefix, *extra):
        return self.run_tool(["ansible-playbook", "-i", self.inventory,
                              "-e", f"@{self.vars_file}", "-e", f"s3hc_prefix={prefix}",
                              *extra, "site.yml"])

    def assert_ok(self, result, what):
        self.assertEqual(result.returncode, 0,
                         f"{what} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")

    @staticmethod
    def recap_changed(result):
        match = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", result.stdout)
        return int(match.group(1)) if match else None

    def ensure_applied(self):
        """Applies site.yml into the prefix once (test 4 does it; later tests rely on it)."""
        cls = type(self)
        if cls.applied is None:
            cls.applied = self.playbook(self.prefix)
        self.assert_ok(cls.applied, "ansible-playbook site.yml (into a prefix)")

    def installed(self, path):
        return os.path.join(self.prefix, path.lstrip("/"))

    # ---- tests -------------------------------------------------------------------------

    def test_1_ansible_lint(self):
        result = self.run_tool(["ansible-lint", "--offline", "--profile", "production",
                                "roles/s3hc_proxy", "roles/s3hc_control", "site.yml"])
        self.assert_ok(result, "ansible-lint")
        print(f"\n  {(result.stdout + result.stderr).strip().splitlines()[-1]}", end="")

    def test_2_syntax_check(self):
        self.assert_ok(self.playbook(self.prefix, "--syntax-check"), "--syntax-check")
        # The example inventory parses too.
        result = self.run_tool(["ansible-inventory", "-i", "inventory/hosts.example.yml",
                                "--list"])
        self.assert_ok(result, "ansible-inventory of the example")
        self.assertIn("proxy1.example.internal", result.stdout)

    def test_3_check_mode_writes_nothing(self):
        prefix = os.path.join(self.tmp, "check-root")
        os.mkdir(prefix)
        self.assert_ok(self.playbook(prefix, "--check"), "ansible-playbook --check")
        self.assertEqual(os.listdir(prefix), [])

    def test_4_apply_into_prefix(self):
        self.ensure_applied()
        again = self.playbook(self.prefix)
        self.assert_ok(again, "second run")
        changed, task = [], None
        for line in again.stdout.splitlines():
            task = line if line.startswith(("TASK [", "RUNNING HANDLER [")) else task
            if line.startswith("changed:"):
                changed.append(f"{task} {line}")
        self.assertEqual(self.recap_changed(again), 0, "second run changed something:\n"
                         + "\n".join(changed) + "\n" + again.stdout[-4000:])

        for path, mode in (("usr/local/bin/s3hc-proxy", 0o755),
                           ("usr/local/bin/s3hc-ctl", 0o755),
                           ("usr/local/bin/s3hc-control", 0o755),
                           ("etc/s3hc/proxy.yaml", 0o640), ("etc/s3hc/policy.yaml", 0o640),
                           ("etc/s3hc/control.token", 0o640)):
            with self.subTest(path=path):
                self.assertEqual(os.stat(self.installed(path)).st_mode & 0o777, mode)
        for path in ("var/cache/s3hc", "var/lib/s3hc/mirror", "var/log/s3hc",
                     "var/lib/s3hc-control"):
            self.assertTrue(os.path.isdir(self.installed(path)), path)

        # One source of the units: installed byte for byte from deploy/systemd.
        for unit in ("s3hc-proxy.service", "s3hc-control.service"):
            with open(os.path.join(SYSTEMD_DIR, unit)) as a, \
                 open(self.installed(f"etc/systemd/system/{unit}")) as b:
                self.assertEqual(a.read(), b.read(), unit)

        # The config: only documented keys, the role's paths inside the prefix.
        import yaml
        with open(self.installed("etc/s3hc/proxy.yaml")) as f:
            config = yaml.safe_load(f)
        unknown = set(flatten(config)) - documented_keys()
        self.assertEqual(unknown, set(), "keys not in docs/CONFIGURATION.md")
        self.assertEqual(config["cache"]["dir"], self.installed("/var/cache/s3hc"))
        self.assertEqual(config["cache"]["mirror_dir"], self.installed("/var/lib/s3hc/mirror"))
        self.assertEqual(config["cache"]["policy_file"], self.installed("/etc/s3hc/policy.yaml"))
        self.assertEqual(config["cache"]["get_ttl_ms"], 300000)
        self.assertEqual(config["limits"]["max_concurrent_requests"], 512)
        check = subprocess.run([CTL_BIN, "config", "validate", "-f",
                                self.installed("etc/s3hc/proxy.yaml")],
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        with open(self.installed("etc/systemd/system/s3hc-proxy.service.d/10-ansible.conf")) as f:
            dropin = f.read()
        self.assertIn("TimeoutStopSec=22s", dropin)  # shutdown_grace_ms 2000 + 20 s
        self.assertIn(f"RequiresMountsFor={self.installed('/var/cache/s3hc')}", dropin)

        # The installed units with the role's drop-ins: systemd-analyze verify says nothing.
        if shutil.which("systemd-analyze"):
            env = dict(os.environ,
                       SYSTEMD_UNIT_PATH=self.installed("etc/systemd/system") + ":")
            for unit in ("s3hc-proxy.service", "s3hc-control.service"):
                with self.subTest(verify=unit):
                    result = subprocess.run(["systemd-analyze", "verify", unit],
                                            capture_output=True, text=True, env=env)
                    output = (result.stdout + result.stderr).strip()
                    self.assertEqual((result.returncode, output), (0, ""), output)

    def test_5_installed_proxy_serves_through_the_cache(self):
        self.ensure_applied()
        config = self.installed("etc/s3hc/proxy.yaml")
        # The installed binary and config; the flags only move the listeners to free ports
        # (the config's fixed ones could be taken on a test host).
        proxy = ProxyProcess(upstream_url=None, binary=self.installed("usr/local/bin/s3hc-proxy"),
                             extra_args=["-c", config])
        proxy.start(timeout=30)
        self.addCleanup(proxy.stop)

        s3 = self.origin.client()
        body = os.urandom(300 * 1024) + b"s3hc ansible role"
        s3.create_bucket(Bucket="deploy-test")
        s3.put_object(Bucket="deploy-test", Key="dir/object.bin", Body=body)

        through = self.origin.client(proxy.endpoint_url)
        first = through.get_object(Bucket="deploy-test", Key="dir/object.bin")
        self.assertEqual(first["Body"].read(), body)
        second = through.get_object(Bucket="deploy-test", Key="dir/object.bin")
        self.assertEqual(second["Body"].read(), body)
        headers = second["ResponseMetadata"]["HTTPHeaders"]
        self.assertTrue(headers.get("x-cache", "").lower().startswith("hit"), headers)

        # The bytes are in the cache directory the role made.
        cached = sum(len(files) for _, _, files in os.walk(self.installed("var/cache/s3hc")))
        self.assertGreater(cached, 0)
        self.assertTrue(os.listdir(self.installed("var/lib/s3hc/mirror")))
        self.assertEqual(proxy.stop(), 0)

    def test_6_installed_control_plane_starts(self):
        self.ensure_applied()
        ports = os.path.join(self.tmp, "control-ports.json")
        control = ManagedProcess(
            [self.installed("usr/local/bin/s3hc-control"),
             "--data-dir", self.installed("var/lib/s3hc-control"),
             "--token-file", self.installed("etc/s3hc/control.token"),
             "--listen", "127.0.0.1:0", "--ports-file", ports], name="s3hc-control").start()
        self.addCleanup(control.stop)
        control.wait_for_file(ports, timeout=30)
        self.assertTrue(control.is_running(), control.log_tail())
        with open(self.installed("etc/s3hc/control.env")) as f:
            env_text = f.read()
        self.assertIn("S3HC_CONTROL_LISTEN=127.0.0.1:7070", env_text)
        self.assertIn("--heartbeat-ms 5000", env_text)

    def test_7_unknown_config_key_fails_the_play(self):
        """A key the proxy does not know stops the play (s3hc-ctl config validate), before a
        proxy could be restarted onto it."""
        prefix = os.path.join(self.tmp, "bad-root")
        os.mkdir(prefix)
        result = self.playbook(prefix, "-e", '{"s3hc_proxy_config": {"cache": {"ttl_ms": 1}}}')
        self.assertNotEqual(result.returncode, 0, result.stdout[-3000:])
        self.assertIn("ttl_ms", result.stdout + result.stderr)
        self.assertIn("unknown key", result.stdout + result.stderr)
        self.assertFalse(os.path.exists(os.path.join(prefix, "etc", "s3hc", "proxy.yaml")))


if __name__ == "__main__":
    unittest.main()
