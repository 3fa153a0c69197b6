"""The dashboard in a real browser: runs support/dashboard_browser.js (Node.js, playwright-core
from tests/integration/node_modules, Debian's /usr/bin/chromium headless) on a URL and returns
what the page showed.

Usage:
    from support.dashboard_browser import load_page, skip_unless_browser, screenshot_path
    skip_unless_browser()                  # unittest.SkipTest, reason printed, if a piece is missing
    page = load_page("http://127.0.0.1:P/", screenshot_path("dashboard-fleet"))
    page["title"]                          # "s3hc fleet"
    page["fields"]["totals.hit_ratio"]     # "0.75": each data-field's data-value (a string)
    page["texts"]["totals.hit_ratio"]      # "75.0%": what it shows
    page["classes"]["proxies.b.state"]     # "state-lost ...": its row's classes, then its own
    page["banner"]                         # the visible error banner's text, or None
    page["console_errors"]                 # console errors and warnings, uncaught page errors
    page["screenshot"]                     # where the full-page screenshot went

scripts/setup.sh installs chromium, Node.js and `npm ci --prefix tests/integration` when the
tests are to run. Screenshots go to $S3HC_TEST_LOG_DIR (default build/test-logs), kept as the
tests' artifacts.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTEGRATION = os.path.dirname(_HERE)
_REPO_ROOT = os.path.abspath(os.path.join(_INTEGRATION, "..", ".."))
SCRIPT = os.path.join(_HERE, "dashboard_browser.js")
PLAYWRIGHT_CORE = os.path.join(_INTEGRATION, "node_modules", "playwright-core", "package.json")
DASHBOARD_DIR = os.path.join(_REPO_ROOT, "dashboard-web")


class BrowserCheckError(AssertionError):
    """The page did not render in time, or the browser could not be run."""


def chromium_path():
    return os.environ.get("S3HC_CHROMIUM") or "/usr/bin/chromium"


def missing_reason():
    """Why the browser checks cannot run here (None when they can)."""
    if not shutil.which("node"):
        return "node (Node.js) is not installed"
    if not os.access(chromium_path(), os.X_OK):
        return f"{chromium_path()} is not installed (Debian package chromium)"
    if not os.path.exists(PLAYWRIGHT_CORE):
        return "playwright-core is not installed (npm ci --prefix tests/integration)"
    return None


def skip_unless_browser():
    """Raises unittest.SkipTest, after printing why, when node, chromium or playwright-core is
    missing (scripts/setup.sh installs them when the tests are to run)."""
    reason = missing_reason()
    if reason:
        reason = f"browser check skipped: {reason}"
        print(reason, file=sys.stderr)
        raise unittest.SkipTest(reason)


def log_dir():
    """$S3HC_TEST_LOG_DIR (CTest sets it), else build/test-logs; made if missing."""
    path = os.environ.get("S3HC_TEST_LOG_DIR") or os.path.join(_REPO_ROOT, "build", "test-logs")
    os.makedirs(path, exist_ok=True)
    return path


def screenshot_path(name):
    """Where a screenshot named `name` goes among the test logs (a .png)."""
    return os.path.join(log_dir(), f"{name}.png")


def load_page(url, screenshot, wait_for=None, timeout_s=20, settle_s=0):
    """Loads `url` in headless Chromium, waits until it rendered data (an element
    data-field="totals.requests" with a data-value), or `wait_for` (a CSS selector, or "banner"
    for the error banner), then `settle_s` more seconds; saves a full-page screenshot to
    `screenshot`. Returns the JSON the script printed (see the module doc), with "screenshot".
    Raises BrowserCheckError when the page did not render in time or the browser failed."""
    argv = ["node", SCRIPT, url, screenshot, "--timeout-ms", str(int(timeout_s * 1000)),
            "--settle-ms", str(int(settle_s * 1000)), "--chromium", chromium_path()]
    if wait_for:
        argv += ["--wait-for", wait_for]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s + settle_s + 60,
                              cwd=_INTEGRATION)
    except subprocess.TimeoutExpired as error:
        raise BrowserCheckError(f"dashboard_browser.js did not finish: {error}") from None
    try:
        page = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        page = None
    if page is None or done.returncode != 0:
        raise BrowserCheckError(
            f"dashboard_browser.js on {url} exited {done.returncode}: "
            f"{(page or {}).get('error') or done.stderr.strip()[-2000:]}\n"
            f"page: {json.dumps(page)[:4000] if page else done.stdout[-2000:]}\n"
            f"screenshot: {screenshot}")
    page["screenshot"] = screenshot
    return page


def expected_fields(document):
    """The data-field names and values the page shows for an /api/dashboard `document`, as
    {name: JSON value}: every leaf of it (see dashboard-web/app.js for the names)."""
    fields = {"scope": document["scope"], "generated_unix_ms": document["generated_unix_ms"],
              "policy_version": document["policy_version"]}
    for key, value in document["totals"].items():
        fields[f"totals.{key}"] = value
    for kind, quantiles in document["latency_seconds"].items():
        for q, value in quantiles.items():
            fields[f"latency_seconds.{kind}.{q}"] = value
    fields["proxies.length"] = len(document["proxies"])
    for proxy in document["proxies"]:
        for key, value in proxy.items():
            fields[f"proxies.{proxy['id']}.{key}"] = value
    fields["buckets.length"] = len(document["buckets"])
    for bucket in document["buckets"]:
        for key, value in bucket.items():
            fields[f"buckets.{bucket['bucket']}.{key}"] = value
    fields["errors.length"] = len(document["errors"])
    for error in document["errors"]:
        name = error["metric"] + (f"{{{error['labels']}}}" if error["labels"] else "")
        fields[f"errors.{name}.count"] = error["count"]
        fields[f"errors.{name}.metric"] = error["metric"]
        if error["labels"]:
            fields[f"errors.{name}.labels"] = error["labels"]
    return fields


def same_value(shown, expected):
    """True when a data-value string `shown` is the JSON value `expected` (numbers compared as
    numbers, exactly)."""
    if shown is None:
        return False
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        return shown == str(expected)
    try:
        return float(shown) == float(expected)
    except ValueError:
        return False


def mismatches(page, document):
    """[(field, shown data-value, expected value)] for every field of `document` that the page
    does not show exactly (empty when all match)."""
    return [(name, page["fields"].get(name), value)
            for name, value in expected_fields(document).items()
            if not same_value(page["fields"].get(name), value)]
