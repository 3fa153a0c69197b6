"""Loaded by every Python started with this directory on PYTHONPATH (the AWS CLI in tests):
names ending in one of the suffixes in S3HC_TEST_DNS ("suffix=ip,suffix=ip") resolve to that
address, as a DNS zone or hosts entry pointing S3's names at the proxies would make them.
Only the client's resolution changes; the proxy resolves with its own resolver."""

import os

from client_names import point_names_at

_mapping = os.environ.get("S3HC_TEST_DNS", "")
if _mapping:
    point_names_at(dict(item.split("=", 1) for item in _mapping.split(",")))
