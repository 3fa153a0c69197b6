"""A fleet for tests: moto as the origin and s3hc proxies sharing one cache directory.

Usage:
    class MyTest(FleetTestCase):            # moto per class: cls.origin, cls.direct (boto3)
        @classmethod
        def setUpClass(cls):
            super().setUpClass()
            cls.class_fleet = SharedCache(cls.addClassCleanup, "s3hc-my-test-")
            cls.a = cls.class_fleet.start_proxy(cls.origin.endpoint_url)   # for every test

        def test_x(self):
            fleet = self.new_fleet()         # a fresh shared directory for this test only
            a = fleet.start_proxy(self.origin.endpoint_url, cache={"get_ttl_ms": 0})
            b = fleet.start_proxy(fault_origin.url)                        # any upstream
            self.client(a).get_object(Bucket=self.new_bucket("x"), Key="k")

    class MyFaultTest(FaultyOriginTestCase): # also cls.faulty: fault_origin.py before moto

    fleet.cache_path                         # the shared cache directory
    fleet.parent                             # its temp parent (mirrors, other caches)
    fleet.proxies                            # started so far, in order

Every proxy is stopped and every directory removed by the cleanups of whoever made the
fleet (class or test). When a test fails, DumpLogsOnFailure prints the log tails of every
proxy of the class's and the test's fleets and of moto (log_sources()).
"""

import os
import shutil
import tempfile
import time
import unittest

from .fault_origin import FaultOrigin
from .moto_origin import MotoOrigin
from .processes import DumpLogsOnFailure
from .proxy import ProxyProcess
from .waiting import Waiting


class SharedCache:
    """One cache directory (in a temp parent removed by `add_cleanup`) and the proxies
    started on it."""

    def __init__(self, add_cleanup, prefix="s3hc-fleet-"):
        """add_cleanup: addCleanup or addClassCleanup of the test that owns the fleet."""
        self.add_cleanup = add_cleanup
        self.parent = tempfile.mkdtemp(prefix=prefix)
        add_cleanup(shutil.rmtree, self.parent, True)
        self.cache_path = os.path.join(self.parent, "cache")
        self.proxies = []

    def start_proxy(self, upstream_url, cache=None, config=None, threads=2, cache_dir=None,
                    mirror=None):
        """Starts a proxy in front of `upstream_url` with cache.dir = the shared directory (or
        `cache_dir`) and the other `cache` keys given; `mirror`: a name for a local mirror
        directory of its own under the parent; `config`: the other top-level sections (e.g.
        {"upstream": {...}}). Stopped by the owner's cleanups. Returns it."""
        settings = dict(config or {})
        settings["cache"] = dict({"dir": cache_dir or self.cache_path}, **(cache or {}))
        if mirror:
            settings["cache"]["mirror_dir"] = os.path.join(self.parent, f"mirror-{mirror}")
        proxy = ProxyProcess(upstream_url, config=settings, threads=threads)
        proxy.start()
        self.add_cleanup(proxy.stop)
        self.proxies.append(proxy)
        return proxy


class FleetTestCase(DumpLogsOnFailure, Waiting, unittest.TestCase):
    """One moto per class (strict SigV4: support/moto_origin.py); fleets per class
    (class_fleet, made in a subclass's setUpClass) or per test (new_fleet())."""

    origin = None
    direct = None
    class_fleet = None
    BUCKET_PREFIX = "s3hc"
    _names = 0

    @classmethod
    def setUpClass(cls):
        cls.origin = MotoOrigin()
        cls.addClassCleanup(cls.origin.stop)
        cls.origin.start()
        cls.direct = cls.origin.client()

    def setUp(self):
        self.fleets = []

    def new_fleet(self, prefix="s3hc-fleet-test-"):
        """A fresh shared cache directory for this test, removed after it."""
        fleet = SharedCache(self.addCleanup, prefix)
        self.fleets.append(fleet)
        return fleet

    def log_sources(self):
        fleets = ([self.class_fleet] if self.class_fleet else []) + getattr(self, "fleets", [])
        return [p for fleet in fleets for p in fleet.proxies] + [self.origin]

    def client(self, proxy, **config_overrides):
        """boto3 S3 client with the test key, through `proxy`."""
        return self.origin.client(proxy.endpoint_url, **config_overrides)

    def new_bucket(self, tag):
        """A bucket made straight at moto, named after `tag`, this process and a counter."""
        FleetTestCase._names += 1
        bucket = f"{self.BUCKET_PREFIX}-{tag}-{os.getpid()}-{FleetTestCase._names}"
        self.direct.create_bucket(Bucket=bucket)
        return bucket


class FaultyOriginTestCase(FleetTestCase):
    """FleetTestCase with support/fault_origin.py in front of moto (cls.faulty, per class):
    proxies started on cls.faulty.url see the origin misbehave on demand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.faulty = FaultOrigin(cls.origin.endpoint_url).start()
        cls.addClassCleanup(cls.faulty.close)

    def log_sources(self):
        return super().log_sources() + [self.faulty]
