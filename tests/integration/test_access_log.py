#!/usr/bin/env python3
"""The access log (observability.access_log) through a real proxy, moto and boto3: each
request's line parses with the grammar of Amazon S3's server access log and says what
happened (operation, bucket, key, status, requester, cache status); a client's hostile
User-Agent forges no field.

Run: python3 tests/integration/test_access_log.py
"""

import os
import re
import sys
import tempfile
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.moto_origin import MotoOrigin  # noqa: E402
from support.nginx_origin import print_logs_on_failure  # noqa: E402
from support.proxy import ProxyProcess  # noqa: E402

# S3's record: 25 fields (time bracketed; request line, referrer, user agent quoted), then the
# proxy's cache status.
LINE = re.compile(
    r'^(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) "([^"]*)" (\S+) (\S+) (\S+) '
    r'(\S+) (\S+) (\S+) "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) '
    r'(\S+) (\S+)$')


class AccessLogTest(unittest.TestCase):
    def setUp(self):
        self.origin = MotoOrigin().start()
        self.addCleanup(self.origin.stop)
        self.dir = tempfile.TemporaryDirectory(prefix="s3hc-access-log-")
        self.addCleanup(self.dir.cleanup)
        self.path = os.path.join(self.dir.name, "access.log")
        self.proxy = ProxyProcess(self.origin.endpoint_url, config={
            "cache": {"dir": os.path.join(self.dir.name, "cache")},
            "observability": {"access_log": self.path}})
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        print_logs_on_failure(self, self.proxy, self.origin)

    def lines(self, count):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.path):
                with open(self.path) as f:
                    lines = f.read().splitlines()
                if len(lines) >= count:
                    return lines
            time.sleep(0.02)
        self.fail(f"fewer than {count} access log lines")

    def test_each_request_gets_a_line_in_s3s_format(self):
        self.origin.client().create_bucket(Bucket="logged")
        client = self.origin.client(self.proxy.endpoint_url)
        client.meta.events.register(
            "before-send.s3.GetObject",
            lambda request, **_: request.headers.__setitem__("User-Agent", 'x" 200 - "y'))
        client.put_object(Bucket="logged", Key="dir/a b", Body=b"x" * 1000)
        for _ in range(2):
            client.get_object(Bucket="logged", Key="dir/a b")["Body"].read()
        with self.assertRaises(botocore.exceptions.ClientError):
            client.head_object(Bucket="logged", Key="missing")

        fields = [LINE.match(line) for line in self.lines(4)]
        self.assertTrue(all(fields), self.lines(4))
        put, first_get, hit, head = fields[-4:]
        self.assertEqual(put.group(7), "REST.PUT.OBJECT")
        self.assertEqual((put.group(2), put.group(8), put.group(10)), ("logged", "dir/a_b", "200"))
        self.assertEqual(put.group(5), self.origin.access_key_id)
        self.assertEqual((put.group(20), put.group(22)), ("SigV4", "AuthHeader"))
        self.assertEqual(first_get.group(7), "REST.GET.OBJECT")
        self.assertEqual(first_get.group(27), "HIT")  # written through: the first GET hits
        self.assertEqual(hit.group(17), "x_ 200 - _y")  # the quotes could not end the field
        self.assertGreater(int(hit.group(12)), 1000)  # bytes sent, headers included
        self.assertEqual((head.group(7), head.group(10), head.group(27)),
                         ("REST.HEAD.OBJECT", "404", "MISS"))
        self.assertEqual(self.proxy.metric("s3hc_access_log_dropped_total"), 0)


if __name__ == "__main__":
    unittest.main()
