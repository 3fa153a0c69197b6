"""Shared helpers for the s3hc integration tests.

Modules:
  ports        -- free_port(): a free TCP port on 127.0.0.1.
  processes    -- ManagedProcess: start a subprocess with its output in a temp log
                  file, wait for a port / URL, stop it, show the log tail.
  proxy        -- ProxyProcess: start s3hc-proxy against an upstream, read /health
                  and /metrics, peak RSS.
  moto_origin  -- MotoOrigin: moto_server with SigV4 checking and an IAM access key,
                  boto3 client factories, origin request counting.
  s3compare    -- assertions comparing a proxied S3 answer with a direct one.
  cache_dir    -- CacheDir: the files and decoded records of a proxy's cache directory,
                  corrupt_middle() to damage a range file.
  fleet_fixture -- FleetTestCase: moto per test class; SharedCache: one cache directory and
                  the proxies started on it (per class or per test).
  fault_origin -- FaultOrigin: a byte-for-byte relay in front of moto that resets, stalls,
                  cuts short or slows the body of chosen GETs, and counts what it served.
  waiting      -- Waiting: wait_for(predicate, timeout, what) for test cases.
"""
