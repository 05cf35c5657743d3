"""The front door: SigV4 header and presigned auth, errors, routing,
virtual-hosted style, health (issue 3: Foundation)."""
import datetime
import hashlib
import os
import subprocess
import time
import unittest
from unittest import mock

import botocore.auth

from kura_harness import (SECRET_KEY, ClientError, KuraTestCase, md5_etag,
                          resolve_localhost_subdomains)


def curl(*args, data_file=None):
    argv = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}"] + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise AssertionError("curl failed: %s" % p.stderr.decode())
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


class Authentication(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket()

    def test_health_needs_no_auth(self):
        status, _, _ = self.raw("GET", "/kura/health", sign=False)
        self.assertEqual(status, 200)

    def test_wrong_secret_is_signature_does_not_match_and_stores_nothing(self):
        bad = self.client(secret_key="wrong" + SECRET_KEY[5:])
        with self.assertRaises(ClientError) as e:
            bad.put_object(Bucket=self.b, Key="k", Body=b"x")
        self.assertClientError(e, "SignatureDoesNotMatch", 403)
        with self.assertRaises(ClientError) as e:
            bad.list_buckets()
        self.assertClientError(e, "SignatureDoesNotMatch", 403)
        self.assertEqual(self.keys(self.b), [])

    def test_unknown_access_key_is_invalid_access_key_id(self):
        bad = self.client(access_key="AKIDNOSUCHKEY0000000")
        with self.assertRaises(ClientError) as e:
            bad.put_object(Bucket=self.b, Key="k", Body=b"x")
        self.assertClientError(e, "InvalidAccessKeyId", 403)
        self.assertEqual(self.keys(self.b), [])

    def test_anonymous_request_is_access_denied(self):
        self.s3.put_object(Bucket=self.b, Key="private", Body=b"secret")
        status, _, body = self.raw("GET", "/%s/private" % self.b, sign=False)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        status, _, body = self.raw("PUT", "/%s/anon" % self.b, sign=False, body=b"x")
        self.assertEqual(status, 403)
        self.assertEqual(self.keys(self.b), ["private"])

    def test_payload_hash_mismatch_is_xamz_content_sha256_mismatch(self):
        status, _, body = self.raw("PUT", "/%s/k" % self.b, body=b"actual body",
                                   payload_hash=hashlib.sha256(b"other").hexdigest())
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>XAmzContentSHA256Mismatch</Code>", body)
        self.assertEqual(self.keys(self.b), [])

    def test_request_time_too_skewed(self):
        skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
            datetime.timedelta(minutes=20)
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=skewed):
            status, _, body = self.raw("GET", "/%s" % self.b)
        self.assertEqual(status, 403, body)
        self.assertIn(b"<Code>RequestTimeTooSkewed</Code>", body)

    def test_unknown_operation_is_not_implemented_501(self):
        # GetBucketAccelerateConfiguration: an S3 operation kura does not plan.
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_accelerate_configuration(Bucket=self.b)
        self.assertClientError(e, "NotImplemented", 501)
        status, _, body = self.raw("PUT", "/%s" % self.b, query=[("accelerate", "")],
                                   body=b"<AccelerateConfiguration><Status>Enabled</Status>"
                                        b"</AccelerateConfiguration>")
        self.assertEqual(status, 501, body)
        self.assertIn(b"<Code>NotImplemented</Code>", body)
        self.assertEqual(self.keys(self.b), [])

    def test_presigned_get_through_curl(self):
        body = os.urandom(5000)
        self.s3.put_object(Bucket=self.b, Key="dir/pre signed+.bin", Body=body,
                           ContentType="application/x-pre")
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.b, "Key": "dir/pre signed+.bin"},
            ExpiresIn=600)
        code, got = curl(url)
        self.assertEqual(code, 200)
        self.assertEqual(got, body)
        # response-* overrides are signed into the presigned URL.
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.b, "Key": "dir/pre signed+.bin",
                                  "ResponseContentType": "text/csv"}, ExpiresIn=600)
        p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", url],
                           stdout=subprocess.PIPE, check=True)
        self.assertIn(b"content-type: text/csv", p.stdout.lower())

    def test_presigned_put_through_curl(self):
        data = os.urandom(2 * 1024 * 1024 + 3)  # big enough for curl's Expect: 100-continue
        path = os.path.join(self.tmp, "presigned-put.bin")
        with open(path, "wb") as f:
            f.write(data)
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.b, "Key": "up/loaded.bin"}, ExpiresIn=600)
        p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-w", "%{http_code}",
                            "--upload-file", path, url], stdout=subprocess.PIPE, check=True)
        out = p.stdout.decode()
        self.assertTrue(out.endswith("200"), out)
        self.assertIn(md5_etag(data).lower(), out.lower())
        got = self.s3.get_object(Bucket=self.b, Key="up/loaded.bin")
        self.assertEqual(got["ETag"], md5_etag(data))
        self.assertEqual(hashlib.sha256(got["Body"].read()).digest(),
                         hashlib.sha256(data).digest())

    def test_expired_presigned_url_is_access_denied(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.b, "Key": "k"}, ExpiresIn=1)
        time.sleep(2.1)
        code, body = curl(url)
        self.assertEqual(code, 403, body)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertIn(b"Request has expired", body)

    def test_presigned_put_expired_stores_nothing(self):
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.b, "Key": "late"}, ExpiresIn=1)
        time.sleep(2.1)
        code, body = curl("-X", "PUT", "--data-binary", "late body", url)
        self.assertEqual(code, 403, body)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertEqual(self.keys(self.b), [])

    def test_tampered_presigned_url_is_signature_does_not_match(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.b, "Key": "k"}, ExpiresIn=600)
        code, body = curl(url.replace("/k?", "/other?"))
        self.assertEqual(code, 403, body)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)

    def test_presigned_expiry_over_seven_days_is_refused(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.b, "Key": "k"}, ExpiresIn=7 * 86400 + 1)
        code, body = curl(url)
        self.assertEqual(code, 400, body)
        self.assertIn(b"<Code>AuthorizationQueryParametersError</Code>", body)


class VirtualHostedStyle(KuraTestCase):
    def test_boto3_virtual_hosted_style(self):
        b = self.new_bucket()
        with resolve_localhost_subdomains():
            v = self.client(addressing_style="virtual",
                            endpoint="http://localhost:%d" % self.port)
            v.put_object(Bucket=b, Key="vh/key one", Body=b"virtual")
            self.assertEqual(v.get_object(Bucket=b, Key="vh/key one")["Body"].read(),
                             b"virtual")
            r = v.list_objects_v2(Bucket=b, Prefix="vh/")
            self.assertEqual([o["Key"] for o in r["Contents"]], ["vh/key one"])
            v.head_bucket(Bucket=b)
        # The path-style view sees the same object.
        self.assertEqual(self.s3.get_object(Bucket=b, Key="vh/key one")["Body"].read(),
                         b"virtual")

    def test_raw_signed_request_with_bucket_host_header(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="obj", Body=b"hello vhost")
        status, headers, body = self.raw("GET", "/obj", host="%s.localhost:%d" % (b, self.port))
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"hello vhost")
        self.assertEqual(headers.get("etag"), md5_etag(b"hello vhost"))
        status, _, body = self.raw("GET", "/", query=[("list-type", "2")],
                                   host="%s.localhost:%d" % (b, self.port))
        self.assertEqual(status, 200, body)
        self.assertIn(b"<Key>obj</Key>", body)
        self.assertIn(("<Name>%s</Name>" % b).encode(), body)

    def test_request_ids_are_unique(self):
        ids = set()
        for _ in range(5):
            r = self.s3.list_buckets()
            ids.add(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])
        self.assertEqual(len(ids), 5)


if __name__ == "__main__":
    unittest.main()
