#!/usr/bin/env python3
"""deploy/prometheus/s3hc-alerts.yml checked by promtool (Debian's prometheus package, its
promtool taken out of the .deb into the tools directory: no daemon installed or started).

  - `promtool check rules` accepts the file;
  - `promtool test rules` with series a fleet would report: each alert fires on the
    condition it describes, for the instance it names, and stays quiet on a healthy fleet
    (run on a copy without the annotations, which promtool would otherwise compare too; their
    templates are checked by `check rules`).
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploy_tools  # noqa: E402

RULES = deploy_tools.REPO / "deploy" / "prometheus" / "s3hc-alerts.yml"


# Two proxies scraped every minute for 30 minutes: a is healthy throughout; b goes down at
# minute 10, its origin fails, it sheds load, its cache file system fills, it finds a damaged
# file, refuses a policy file, and it applies another policy version than a.
SERIES = textwrap.dedent("""\
    - series: 'up{job="s3hc",instance="a"}'
      values: '1x30'
    - series: 'up{job="s3hc",instance="b"}'
      values: '1x10 0x20'
    - series: 's3hc_upstream_errors_total{job="s3hc",instance="a",kind="connect"}'
      values: '0x30'
    - series: 's3hc_upstream_errors_total{job="s3hc",instance="b",kind="connect"}'
      values: '0+60x30'
    - series: 's3hc_requests_rejected_total{job="s3hc",instance="b",reason="memory"}'
      values: '0+10x30'
    - series: 's3hc_requests_total{job="s3hc",instance="a",method="GET",status="200"}'
      values: '0+600x30'
    - series: 's3hc_requests_total{job="s3hc",instance="b",method="GET",status="200"}'
      values: '0+600x30'
    - series: 's3hc_requests_total{job="s3hc",instance="b",method="GET",status="503"}'
      values: '0+100x30'
    - series: 's3hc_cache_fills_total{job="s3hc",instance="a",result="no_space"}'
      values: '0x30'
    - series: 's3hc_cache_fills_total{job="s3hc",instance="b",result="no_space"}'
      values: '0x20 1x10'
    - series: 's3hc_cache_corrupt_reads_total{job="s3hc",instance="b"}'
      values: '0x20 3x10'
    - series: 's3hc_policy_errors_total{job="s3hc",instance="b"}'
      values: '0x20 1x10'
    - series: 's3hc_cache_maintenance_holder{job="s3hc",instance="a"}'
      values: '1x10 0x20'
    - series: 's3hc_cache_maintenance_holder{job="s3hc",instance="b"}'
      values: '0x30'
    - series: 's3hc_policy_version{job="s3hc",instance="a"}'
      values: '4x30'
    - series: 's3hc_policy_version{job="s3hc",instance="b"}'
      values: '4x5 3x25'
""")


# (alert, time evaluated, the labels of each alert expected then; [] = quiet)
EXPECTED = [
    ("S3hcProxyDown", "9m", []),
    ("S3hcProxyDown", "15m", ['{severity: page, job: s3hc, instance: b}']),
    ("S3hcOriginErrors", "20m", ['{severity: warn, instance: b, kind: connect}']),
    ("S3hcShedsLoad", "8m", []),
    ("S3hcShedsLoad", "20m", ['{severity: warn, instance: b}']),
    ("S3hcServerErrors", "20m", ['{severity: warn, instance: b}']),
    ("S3hcCacheFull", "15m", []),
    ("S3hcCacheFull", "25m", ['{severity: warn, instance: b}']),
    ("S3hcCorruptCacheReads", "25m", ['{severity: warn, instance: b}']),
    ("S3hcPolicyNotApplied", "25m", ['{severity: warn, instance: b}']),
    ("S3hcNoMaintenanceHolder", "15m", []),
    ("S3hcNoMaintenanceHolder", "25m", ['{severity: warn}']),
    ("S3hcFleetOnMixedPolicies", "10m", []),
    ("S3hcFleetOnMixedPolicies", "20m", ['{severity: warn}']),
]


def without_annotations(rules_path):
    groups = yaml.safe_load(RULES.read_text())
    for group in groups["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    Path(rules_path).write_text(yaml.safe_dump(groups))


def test_file(rules_path):
    lines = ["rule_files:", f"  - {rules_path}", "evaluation_interval: 1m", "tests:",
             "  - interval: 1m", "    input_series:"]
    lines += ["      " + line for line in SERIES.splitlines()]
    lines.append("    alert_rule_test:")
    for name, at, alerts in EXPECTED:
        lines += [f"      - eval_time: {at}", f"        alertname: {name}"]
        if not alerts:
            lines.append("        exp_alerts: []")
            continue
        lines.append("        exp_alerts:")
        for labels in alerts:
            lines.append(f"          - exp_labels: {labels}")
    return "\n".join(lines) + "\n"


class AlertRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.promtool = deploy_tools.promtool()
        if cls.promtool is None:
            raise unittest.SkipTest("promtool: `apt-get download prometheus` failed (no Debian "
                                    "archive reachable)")

    def test_promtool_accepts_the_rules(self):
        result = subprocess.run([str(self.promtool), "check", "rules", str(RULES)],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS: 9 rules found", result.stdout)

    def test_each_alert_fires_on_its_condition_and_names_the_instance(self):
        with tempfile.TemporaryDirectory() as work:
            rules = os.path.join(work, "rules.yml")
            without_annotations(rules)
            tests = os.path.join(work, "tests.yml")
            Path(tests).write_text(test_file(rules))
            result = subprocess.run([str(self.promtool), "test", "rules", tests],
                                    capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)


if __name__ == "__main__":
    unittest.main()
