"""Client-side name resolution for tests of routing by Host: S3's real endpoint names
(s3.us-east-1.amazonaws.com, bucket.s3.us-east-1.amazonaws.com) made to resolve to the proxy,
as the DNS zone or hosts entry of a real deployment does, for this process (point_names_at)
or for a child Python such as the AWS CLI (child_env)."""

import os
import socket

_real_getaddrinfo = socket.getaddrinfo


def point_names_at(mapping):
    """From now on, in this process, a name ending in a key of `mapping` (a suffix such as
    ".amazonaws.com") resolves to its value (an IP address)."""
    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str):
            for suffix, address in mapping.items():
                if host == suffix.lstrip(".") or host.endswith(suffix):
                    return _real_getaddrinfo(address, *args, **kwargs)
        return _real_getaddrinfo(host, *args, **kwargs)
    socket.getaddrinfo = getaddrinfo


def child_env(env, mapping):
    """`env` for a child Python whose names resolve as point_names_at(mapping) says."""
    env = dict(env)
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    env["S3HC_TEST_DNS"] = ",".join(f"{suffix}={address}" for suffix, address in mapping.items())
    return env
