#!/usr/bin/env python3
"""What a read returns after a write through the proxy equals what S3 returns.

A PutObject or a multipart upload made through the proxy is kept in its cache, and reads of
the object are answered from there with headers the proxy rebuilt from the write (S3's rules:
dataplane/pipeline/stored_headers.h). Each test writes through the proxy with boto3, reads
the object back through the proxy (a cache hit: no GET or HEAD reaches the origin) and
compares every field boto3 exposes with the same read sent straight to moto.

Where moto differs from S3, S3's behaviour is asserted and the difference said here:
  - moto's CompleteMultipartUpload answers `x-amz-version-id: null` in an unversioned bucket
    (its GET then sends no version id; S3 sends it in neither), so the multipart test uses a
    versioned bucket, where both agree;
  - moto's GET also returns request headers S3 never does (Content-MD5, x-amz-content-sha256,
    x-amz-sdk-checksum-algorithm); boto3 exposes none of them, and the proxy must not send them;
  - moto accepts part ETags without quotes in CompleteMultipartUpload, as S3 does.
Last-Modified is compared to the second or two: the proxy dates a written object by the
Date of the write's answer, moto by its own clock when it stored the object.
"""

import base64
import datetime
import hashlib
import os
import shutil
import sys
import tempfile
import unittest

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.moto_origin import REGION  # noqa: E402
from support.s3compare import (  # noqa: E402
    ProxyVsDirectTestCase, capture, deterministic_bytes, http_request, multipart_etag)

KIB = 1024
MIB = 1024 * KIB
# Fields of boto3's answers that describe the one answer, not the object.
NOT_OBJECT_FIELDS = {"ResponseMetadata", "Body", "LastModified"}
# Headers S3 never answers a read with, whatever the write sent.
NEVER_RETURNED = ("x-amz-acl", "content-md5", "x-amz-content-sha256",
                  "x-amz-sdk-checksum-algorithm", "x-amz-decoded-content-length", "expect",
                  "x-amz-tagging")


class WrittenHeadersTest(ProxyVsDirectTestCase):
    """moto + a caching proxy (default TTLs: a written object is fresh for 60 s)."""

    @classmethod
    def proxy_config(cls):
        cls.cache_parent = tempfile.mkdtemp(prefix="s3hc-written-headers-")
        cls.addClassCleanup(shutil.rmtree, cls.cache_parent, True)
        return {"cache": {"dir": os.path.join(cls.cache_parent, "cache")}}

    # ---- setup and requests -----------------------------------------------

    def new_bucket(self, tag, versioned=False, object_lock=False):
        bucket = self.unique_name(tag)
        self.direct.create_bucket(Bucket=bucket,
                                  **({"ObjectLockEnabledForBucket": True} if object_lock else {}))
        if versioned:
            self.direct.put_bucket_versioning(Bucket=bucket,
                                              VersioningConfiguration={"Status": "Enabled"})
        return bucket

    def origin_reads(self, bucket, key):
        path = f"/{bucket}/{key}"
        return (self.origin.s3_request_count("GET", path),
                self.origin.s3_request_count("HEAD", path))

    def read(self, client, bucket, key):
        """(GET, HEAD) of the object with `client`, as RawResponses."""
        return (capture(client, lambda c: c.get_object(Bucket=bucket, Key=key)),
                capture(client, lambda c: c.head_object(Bucket=bucket, Key=key)))

    def read_from_cache(self, bucket, key, data):
        """GET and HEAD through the proxy, which must answer both from its cache."""
        before = self.origin_reads(bucket, key)
        got, head = self.read(self.proxied, bucket, key)
        self.assertEqual(self.origin_reads(bucket, key), before,
                         "a read after the write reached the origin")
        for answer, what in ((got, "GET"), (head, "HEAD")):
            self.assertEqual(answer.status, 200, f"{what}: {answer.error_code}")
            self.assertEqual(answer.headers.get("x-cache"), "HIT", what)
        self.assertEqual(got.body, data, "GET body")
        return got, head

    def assert_reads_like_the_origin(self, bucket, key, proxied):
        """Every field boto3 exposes of the proxied (GET, HEAD) equals that of the same read
        sent to moto; Last-Modified to within two seconds."""
        direct = self.read(self.direct, bucket, key)
        for mine, theirs, what in zip(proxied, direct, ("GET", "HEAD")):
            self.assertEqual(theirs.status, 200, f"direct {what}: {theirs.error_code}")
            self.assertEqual(exposed(mine), exposed(theirs), f"{what} through the proxy")
            drift = abs(mine.parsed["LastModified"] - theirs.parsed["LastModified"])
            self.assertLessEqual(drift, datetime.timedelta(seconds=2), f"{what} LastModified")
            for name in NEVER_RETURNED:
                self.assertNotIn(name.lower(), mine.headers, f"{what} header {name}")

    def signed(self, method, url, body):
        """A request signed with the test key by botocore's signer, sent as it is built
        (for bodies botocore's own operations would write otherwise)."""
        request = AWSRequest(method=method, url=url, data=body)
        credentials = Credentials(self.origin.access_key_id, self.origin.secret_access_key)
        S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
        prepared = request.prepare()
        return http_request(prepared.url, method, body, dict(prepared.headers.items()))

    def upload_parts(self, bucket, key, parts, **create_args):
        """CreateMultipartUpload and UploadPart through the proxy; returns (upload id, ETags
        as UploadPart answered them)."""
        upload = self.proxied.create_multipart_upload(Bucket=bucket, Key=key,
                                                      **create_args)["UploadId"]
        etags = [self.proxied.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                          PartNumber=number, Body=part)["ETag"]
                 for number, part in enumerate(parts, start=1)]
        return upload, etags

    # ---- PutObject ----------------------------------------------------------

    def test_put_object_reads_back_as_from_s3(self):
        bucket = self.new_bucket("wh-put")
        data = deterministic_bytes(40 * KIB, seed=501)
        self.proxied.put_object(
            Bucket=bucket, Key="all", Body=data,
            Metadata={"Mixed-Case": "Value With CAPS", "lower": "v", "Empty-Value": ""},
            ContentType="text/x-written; charset=utf-8", CacheControl="max-age=60, public",
            ContentDisposition='attachment; filename="w.txt"', ContentEncoding="gzip",
            ContentLanguage="de-CH", Expires=datetime.datetime(2037, 1, 1, tzinfo=datetime.timezone.utc),
            WebsiteRedirectLocation="/elsewhere.html", StorageClass="STANDARD_IA",
            Tagging="a=1&b=two", ACL="private",
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode())
        got, head = self.read_from_cache(bucket, "all", data)
        # S3's answer, whatever moto's: metadata names in lower case, values as sent.
        for answer in (got, head):
            self.assertEqual(answer.parsed["Metadata"],
                             {"mixed-case": "Value With CAPS", "lower": "v", "empty-value": ""})
            self.assertEqual(answer.parsed["StorageClass"], "STANDARD_IA")
            self.assertEqual(answer.parsed["ContentEncoding"], "gzip")
            self.assertEqual(answer.parsed["WebsiteRedirectLocation"], "/elsewhere.html")
            self.assertEqual(answer.parsed["ExpiresString"], "Thu, 01 Jan 2037 00:00:00 GMT")
        self.assertEqual(got.parsed["TagCount"], 2)
        self.assert_reads_like_the_origin(bucket, "all", (got, head))

    def test_put_object_defaults(self):
        bucket = self.new_bucket("wh-defaults")
        data = deterministic_bytes(5 * KIB, seed=502)
        self.proxied.put_object(Bucket=bucket, Key="plain", Body=data, StorageClass="STANDARD")
        got, head = self.read_from_cache(bucket, "plain", data)
        for answer in (got, head):
            self.assertEqual(answer.parsed["ContentType"], "binary/octet-stream")
            self.assertNotIn("StorageClass", answer.parsed)  # STANDARD is not named
            self.assertNotIn("TagCount", answer.parsed)
            self.assertEqual(answer.parsed["Metadata"], {})
        self.assert_reads_like_the_origin(bucket, "plain", (got, head))

    def test_put_object_in_a_versioned_bucket(self):
        bucket = self.new_bucket("wh-versioned", versioned=True)
        data = deterministic_bytes(3 * KIB, seed=503)
        put = self.proxied.put_object(Bucket=bucket, Key="v", Body=data,
                                      Metadata={"Owner": "ML-Team"})
        got, head = self.read_from_cache(bucket, "v", data)
        self.assertEqual(got.parsed["VersionId"], put["VersionId"])
        self.assertEqual(head.parsed["Metadata"], {"owner": "ML-Team"})
        self.assert_reads_like_the_origin(bucket, "v", (got, head))

    # ---- multipart uploads --------------------------------------------------

    def test_multipart_upload_reads_back_as_from_s3(self):
        # Versioned: see the module doc (moto's version id of unversioned completions).
        bucket = self.new_bucket("wh-mpu", versioned=True)
        parts = [deterministic_bytes(5 * MIB, seed=504), deterministic_bytes(1000, seed=505)]
        upload, etags = self.upload_parts(
            bucket, "m", parts, Metadata={"Camel-Case": "Kept As Sent"},
            ContentType="application/x-parts", CacheControl="no-transform",
            ContentDisposition="inline", ContentLanguage="fr",
            Expires=datetime.datetime(2036, 6, 1, 12, 30, tzinfo=datetime.timezone.utc),
            WebsiteRedirectLocation="https://example.com/", StorageClass="ONEZONE_IA",
            Tagging="team=ml")
        self.proxied.complete_multipart_upload(
            Bucket=bucket, Key="m", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                       for n, e in enumerate(etags, start=1)]})
        got, head = self.read_from_cache(bucket, "m", b"".join(parts))
        self.assertEqual(got.etag, multipart_etag(parts))
        self.assertEqual(head.parsed["Metadata"], {"camel-case": "Kept As Sent"})
        self.assertEqual(got.parsed["TagCount"], 1)
        self.assert_reads_like_the_origin(bucket, "m", (got, head))

    def test_completion_with_unquoted_part_etags_is_a_hit(self):
        """s3cmd sends part ETags without their quotes; S3 takes them, and so must the cache:
        the parts it kept under UploadPart's quoted ETags become the object."""
        bucket = self.new_bucket("wh-unquoted")
        parts = [deterministic_bytes(5 * MIB, seed=506), deterministic_bytes(7000, seed=507)]
        upload, etags = self.upload_parts(bucket, "u", parts, Metadata={"Tool": "s3cmd"})
        self.assertTrue(all(e.startswith('"') for e in etags), etags)
        body = ('<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
                "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e.strip(chr(34))}</ETag>"
                        "</Part>" for n, e in enumerate(etags, start=1)) +
                "</CompleteMultipartUpload>").encode()
        done = self.signed("POST", f"{self.proxy.endpoint_url}/{bucket}/u?uploadId={upload}",
                           body)
        self.assertEqual(done.status, 200, done.body[:300])
        # moto names the root CompleteMultipartUploadResponse, S3 ...Result.
        self.assertIn(f"<ETag>{multipart_etag(parts)}</ETag>".encode(), done.body)
        got, head = self.read_from_cache(bucket, "u", b"".join(parts))
        self.assertEqual(got.etag, multipart_etag(parts))
        self.assertEqual(head.parsed["Metadata"], {"tool": "s3cmd"})

    # ---- writes the proxy leaves to S3 --------------------------------------

    def test_writes_whose_reads_the_proxy_cannot_rebuild_go_to_s3(self):
        """A GLACIER object is not readable until restored, and object-lock headers come
        back only to readers allowed to see them: such writes are not kept, the first read
        asks S3 (and is cached from its answer like any read)."""
        bucket = self.new_bucket("wh-glacier")
        self.proxied.put_object(Bucket=bucket, Key="cold", Body=b"frozen",
                                StorageClass="GLACIER")
        before = self.origin_reads(bucket, "cold")
        proxied = capture(self.proxied, lambda c: c.get_object(Bucket=bucket, Key="cold"))
        self.assertEqual(self.origin_reads(bucket, "cold")[0], before[0] + 1)
        direct = capture(self.direct, lambda c: c.get_object(Bucket=bucket, Key="cold"))
        self.assertEqual((proxied.status, proxied.error_code), (direct.status, direct.error_code))
        self.assertEqual(direct.error_code, "InvalidObjectState")

        locked = self.new_bucket("wh-lock", object_lock=True)
        data = deterministic_bytes(2 * KIB, seed=508)
        self.proxied.put_object(Bucket=locked, Key="held", Body=data,
                                ObjectLockLegalHoldStatus="ON",
                                ChecksumAlgorithm="CRC32")  # Object Lock wants a checksum
        before = self.origin_reads(locked, "held")
        first = capture(self.proxied, lambda c: c.get_object(Bucket=locked, Key="held"))
        self.assertEqual(self.origin_reads(locked, "held")[0], before[0] + 1)
        self.assertEqual(first.headers.get("x-cache"), "MISS")
        got, head = self.read_from_cache(locked, "held", data)
        self.assertEqual(got.parsed["ObjectLockLegalHoldStatus"], "ON")
        self.assert_reads_like_the_origin(locked, "held", (got, head))


def exposed(raw):
    """The fields boto3 parsed from an answer that describe the object."""
    return {name: value for name, value in raw.parsed.items() if name not in NOT_OBJECT_FIELDS}


if __name__ == "__main__":
    unittest.main()
