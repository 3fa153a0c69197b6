"""moto_server as the S3 origin, with real SigV4 checking.

Usage:
    origin = MotoOrigin().start()      # a port moto binds itself, IAM user with an Allow-all key
    origin.endpoint_url                # "http://127.0.0.1:P"
    origin.access_key_id, origin.secret_access_key
    s3 = origin.client()               # boto3 S3 client straight to moto
    s3p = origin.client(proxy.endpoint_url)          # same credentials, through the proxy
    bad = origin.client(proxy.endpoint_url, secret_access_key="wrong")
    origin.s3_request_count()          # S3 requests moto has served (from its access log)
    with origin.auth_disabled(): ...   # for presigned URLs / percent-encoded paths (moto gaps)
    origin.stop()

Why the IAM dance: with INITIAL_NO_AUTH_ACTION_COUNT=3 moto lets the first three
requests through unchecked and verifies SigV4 on everything after. The three free
calls create a user, give it an Allow-all policy and make its access key; requests
signed with that key pass and a wrong secret gets 403 SignatureDoesNotMatch.
"""

import contextlib
import json
import os
import re
import sys
import urllib.request

import boto3
from botocore.config import Config

from .processes import ManagedProcess

REGION = "us-east-1"
FREE_SETUP_CALLS = 3
_SETUP_USER = "s3hc-test"
_ALLOW_ALL_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
})
# werkzeug access log line: 127.0.0.1 - - [date] "GET /bucket/key?x HTTP/1.1" 200 -
_ACCESS_LINE_RE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) ')
# werkzeug's start-up banner, logged once it listens, with the port it bound.
_RUNNING_ON_RE = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


def moto_server_argv(host, port):
    """moto_server from the running Python's bin dir, else `python -m moto.server`."""
    script = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if os.path.exists(script):
        return [sys.executable, script, "-H", host, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def client_config(**overrides):
    """botocore Config for tests: path-style addressing, no retries (a retry would
    hide a proxy failure), bounded timeouts."""
    settings = dict(
        region_name=REGION,
        s3={"addressing_style": "path"},
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    settings.update(overrides)
    return Config(**settings)


class AccessLogEntry:
    def __init__(self, method, target, status):
        self.method, self.target, self.status = method, target, int(status)

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    def __repr__(self):
        return f"AccessLogEntry({self.method} {self.target} -> {self.status})"


class MotoOrigin:
    def __init__(self, port=None):
        """port: listen there; None (the default): moto binds port 0 and start() reads the
        port the kernel gave it from moto's banner, so no other process can take it first."""
        self.port = port
        self.process = None
        self.access_key_id = None
        self.secret_access_key = None
        self._setup_log_entries = 0

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle -------------------------------------------------------

    def start(self, timeout=30.0):
        """Start moto in strict-auth mode and create the test access key. Returns self."""
        self.process = ManagedProcess(
            moto_server_argv("127.0.0.1", self.port or 0), name="moto_server",
            env={"INITIAL_NO_AUTH_ACTION_COUNT": str(FREE_SETUP_CALLS),
                 "PYTHONUNBUFFERED": "1"})
        self.process.start()
        if not self.port:
            self.port = int(self.process.wait_for_log(_RUNNING_ON_RE, timeout=timeout).group(1))
        self.process.wait_for_port(self.port, timeout=timeout)
        self._create_access_key()
        self._setup_log_entries = len(self.access_log())
        return self

    def stop(self):
        return self.process.stop() if self.process else None

    def log_tail(self, lines=40):
        return self.process.log_tail(lines) if self.process else "(moto not started)"

    def _create_access_key(self):
        """Spend the three unauthenticated calls on IAM (see module doc)."""
        iam = boto3.client("iam", endpoint_url=self.endpoint_url, region_name=REGION,
                           aws_access_key_id="setup", aws_secret_access_key="setup",
                           config=client_config())
        iam.create_user(UserName=_SETUP_USER)
        iam.put_user_policy(UserName=_SETUP_USER, PolicyName="allow-all",
                            PolicyDocument=_ALLOW_ALL_POLICY)
        key = iam.create_access_key(UserName=_SETUP_USER)["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]

    # ---- clients ---------------------------------------------------------

    def client(self, endpoint_url=None, secret_access_key=None, verify=None,
               **config_overrides):
        """boto3 S3 client signed with the test key; endpoint_url defaults to moto
        itself (pass the proxy's URL to go through the proxy); verify: the CA bundle an
        https endpoint's certificate is checked against."""
        return boto3.client(
            "s3", endpoint_url=endpoint_url or self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            verify=verify, config=client_config(**config_overrides))

    def credentials_env(self):
        """Environment for the AWS CLI: the test key and region, no user config files."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    # ---- auth toggling ---------------------------------------------------

    def set_auth(self, enabled):
        """Turn SigV4 checking on or off (moto's /moto-api/reset-auth)."""
        value = b"0" if enabled else b"inf"
        # Not form-encoded: werkzeug would parse a form body away from request.data.
        request = urllib.request.Request(self.endpoint_url + "/moto-api/reset-auth",
                                         data=value, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"reset-auth answered {resp.status}")

    @contextlib.contextmanager
    def auth_disabled(self):
        """Auth off inside the block (moto answers presigned URLs with 500 and rejects
        valid signatures on percent-encoded paths in strict mode), back on after."""
        self.set_auth(False)
        try:
            yield
        finally:
            self.set_auth(True)

    # ---- request counting ------------------------------------------------

    def access_log(self):
        """Every request moto logged, oldest first (werkzeug logs one line per request
        when it sends the status line, so a request whose answer arrived is there)."""
        text = self.process.log_text() if self.process else ""
        return [AccessLogEntry(*m.groups()) for m in _ACCESS_LINE_RE.finditer(text)]

    def s3_requests(self):
        """Requests after the IAM setup, without moto-api calls."""
        return [e for e in self.access_log()[self._setup_log_entries:]
                if not e.path.startswith("/moto-api")]

    def s3_request_count(self, method=None, path=None):
        """How many S3 requests moto served, optionally only one method and/or exact path
        (e.g. path="/bucket/key")."""
        return sum(1 for e in self.s3_requests()
                   if (method is None or e.method == method) and (path is None or e.path == path))
