#!/usr/bin/env python3
"""The control plane and s3hc-ctl (issue 14, first step: the policy API): an operator sets,
reads, validates, compares, lists and rolls back the fleet's policy with s3hc-ctl against a
real s3hc-control, which keeps every version across its restarts.

  - policy set from a YAML file becomes version 1, then 2; get --json shows it; history lists
    both, newest first; rollback sets version 1's snapshot again as version 3;
  - a change made against an outdated version is refused (exit status 3), an invalid policy
    is refused with a message naming the rule (exit status 1) before anything is sent, a
    wrong token gets exit status 5, no control plane exit status 4;
  - diff shows what a file would change; validate, config validate and the bash completion
    need no control plane;
  - the control plane restarted on the same data directory still has every version.
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.control_plane import ControlPlane  # noqa: E402
from support.nginx_origin import print_logs_on_failure  # noqa: E402

NO_READ_CACHE = """\
rules:
  - bucket: logs
    settings:
      read_caching: false
"""
SHORT_TTL = """\
defaults:
  get_ttl_ms: 5000
rules:
  - bucket: logs
    prefix: hot/
    settings:
      get_ttl_ms: 100
"""
INVALID = """\
rules:
  - bucket: logs
    prefix: hot/
    glob: "*.tmp"
"""


class ControlPlaneTest(unittest.TestCase):
    def setUp(self):
        self.control = ControlPlane()
        self.addCleanup(self.control.close)
        self.control.start()
        print_logs_on_failure(self, self.control)
        self.files = tempfile.mkdtemp(prefix="s3hc-policies-")
        self.addCleanup(lambda: __import__("shutil").rmtree(self.files, ignore_errors=True))

    def policy_file(self, name, text):
        path = os.path.join(self.files, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_set_get_history_rollback_across_a_restart(self):
        ctl = self.control.ctl
        first = self.policy_file("first.yaml", NO_READ_CACHE)
        second = self.policy_file("second.yaml", SHORT_TTL)
        status, out, err = ctl("policy", "get")
        self.assertEqual(status, 6, err)  # nothing set yet
        status, out, err = ctl("policy", "set", "-f", first, "--comment", "logs uncached")
        self.assertEqual(status, 0, err)
        self.assertIn("policy version 1", out)
        status, revision, err = ctl("policy", "apply", "-f", second, json_output=True)
        self.assertEqual(status, 0, err)
        self.assertEqual(revision["version"], "2")  # uint64 is a string in protobuf's JSON
        self.assertEqual(revision["snapshot"]["rules"][0]["prefix"], "hot/")
        status, current, err = ctl("policy", "get", json_output=True)
        self.assertEqual((status, current["version"]), (0, "2"), err)
        self.assertEqual(current["snapshot"]["defaults"]["get_ttl_ms"], "5000")

        status, history, err = ctl("policy", "history", json_output=True)
        self.assertEqual([r["version"] for r in history["revisions"]], ["2", "1"], err)
        self.assertEqual(history["revisions"][1]["comment"], "logs uncached")
        status, out, err = ctl("policy", "history")
        self.assertEqual(out.splitlines()[0].split(), ["VERSION", "SET", "RULES", "COMMENT"])

        status, back, err = ctl("policy", "rollback", "1", json_output=True)
        self.assertEqual(status, 0, err)
        self.assertEqual((back["version"], back["rolled_back_to"]), ("3", "1"))
        self.assertEqual(back["snapshot"]["rules"][0]["bucket"], "logs")
        self.assertEqual(back["snapshot"]["rules"][0]["prefix"], "")

        self.control.stop()
        self.control.start()
        status, current, err = ctl("policy", "get", json_output=True)
        self.assertEqual((status, current["version"]), (0, "3"), err)
        status, old, err = ctl("policy", "get", "--version", "2", json_output=True)
        self.assertEqual((status, old["version"]), (0, "2"), err)

    def test_refusals_and_their_exit_statuses(self):
        ctl = self.control.ctl
        first = self.policy_file("first.yaml", NO_READ_CACHE)
        self.assertEqual(ctl("policy", "set", "-f", first)[0], 0)
        # Made against version 0 while 1 is in force: someone changed it meanwhile.
        status, out, err = ctl("policy", "set", "-f", first, "--expect-version", "0")
        self.assertEqual(status, 3, err)
        self.assertIn("version 1", err)
        invalid = self.policy_file("invalid.yaml", INVALID)
        status, out, err = ctl("policy", "set", "-f", invalid)
        self.assertEqual(status, 1, err)
        self.assertIn("rule", err)
        self.assertIn("not both", err)
        status, out, err = ctl("policy", "get", token="wrong-token-0123456789")
        self.assertEqual(status, 5, err)
        self.assertIn("token", err)
        status, current, err = ctl("policy", "get", json_output=True)
        self.assertEqual(current["version"], "1")  # none of the refused changes took

    def test_diff_and_validate(self):
        ctl = self.control.ctl
        first = self.policy_file("first.yaml", NO_READ_CACHE)
        second = self.policy_file("second.yaml", SHORT_TTL)
        ctl("policy", "set", "-f", first)
        status, out, err = ctl("policy", "diff", "-f", first)
        self.assertEqual((status, out.strip()), (0, "no change from version 1"), err)
        status, out, err = ctl("policy", "diff", "-f", second)
        self.assertEqual(status, 0, err)
        lines = out.splitlines()
        self.assertTrue(any(line.startswith("- rule") and '"read_caching":false' in line
                            for line in lines), out)
        self.assertTrue(any(line.startswith("+ rule") and '"prefix":"hot/"' in line
                            for line in lines), out)
        self.assertTrue(any(line.startswith("+ defaults") for line in lines), out)
        # validate reads the file only: it works with the control plane down.
        self.control.stop()
        status, out, err = ctl("policy", "validate", "-f", second)
        self.assertEqual(status, 0, err)
        self.assertIn("valid, 1 rules", out)
        status, out, err = ctl("policy", "validate", "-f",
                               self.policy_file("invalid.yaml", INVALID))
        self.assertEqual(status, 1, err)
        status, out, err = ctl("policy", "get")
        self.assertEqual(status, 4, err)  # unreachable

    def test_config_validate_and_completion_need_no_control_plane(self):
        self.control.stop()
        ctl = self.control.ctl
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "config", "s3hc.example.yaml")
        status, out, err = ctl("config", "validate", "-f", example)
        self.assertEqual(status, 0, err)
        self.assertIn("valid", out)
        bad = self.policy_file("bad-config.yaml", "cache:\n  sizee: 3\n")
        status, report, err = ctl("config", "validate", "-f", bad, json_output=False)
        self.assertEqual(status, 1, err)
        self.assertIn("cache.sizee", err)
        status, script, err = ctl("completion", "bash")
        self.assertEqual(status, 0, err)
        completed = subprocess.run(
            ["bash", "-c", script + "\nCOMP_WORDS=(s3hc-ctl policy ro); COMP_CWORD=2; "
             "_s3hc_ctl; echo ${COMPREPLY[@]}"], capture_output=True, text=True, timeout=30)
        self.assertEqual(completed.stdout.split(), ["rollback"], completed.stderr)

    def test_no_proxies_yet(self):
        status, proxies, err = self.control.ctl("proxies", json_output=True)
        self.assertEqual((status, proxies), (0, {"proxies": []}), err)
        status, out, err = self.control.ctl("proxies")
        self.assertEqual(out.split(), ["PROXY", "STATE", "POLICY", "VERSION", "LISTEN",
                                       "LAST", "SEEN"])


if __name__ == "__main__":
    unittest.main()
