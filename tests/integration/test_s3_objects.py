"""boto3: PutObject, GetObject, HeadObject, DeleteObject (issue 3: Foundation).

Each test checks the answer and that nothing else changed (DESIGN invariant 6).
"""
import base64
import datetime
import hashlib
import os
import unittest
import zlib

from kura_harness import ClientError, KuraTestCase, http_date, md5_etag


class ObjectCrud(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket()

    def test_put_get_head_delete_round_trip_with_metadata(self):
        body = os.urandom(3000)
        put = self.s3.put_object(
            Bucket=self.b, Key="dir/file.bin", Body=body, ContentType="application/x-test",
            CacheControl="max-age=60", ContentDisposition='attachment; filename="f.bin"',
            ContentLanguage="en", ContentEncoding="identity",
            Expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            Metadata={"color": "blue", "Mixed-Case": "Value With Spaces"},
            StorageClass="STANDARD")
        self.assertEqual(put["ETag"], md5_etag(body))
        self.assertIn("x-amz-request-id", put["ResponseMetadata"]["HTTPHeaders"])

        got = self.s3.get_object(Bucket=self.b, Key="dir/file.bin")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ETag"], md5_etag(body))
        self.assertEqual(got["ContentLength"], len(body))
        self.assertEqual(got["ContentType"], "application/x-test")
        self.assertEqual(got["CacheControl"], "max-age=60")
        self.assertEqual(got["ContentDisposition"], 'attachment; filename="f.bin"')
        self.assertEqual(got["ContentLanguage"], "en")
        self.assertEqual(got["ContentEncoding"], "identity")
        self.assertEqual(got["Metadata"], {"color": "blue", "mixed-case": "Value With Spaces"})
        self.assertEqual(got["ResponseMetadata"]["HTTPHeaders"].get("expires"),
                         "Wed, 02 Jan 2030 03:04:05 GMT")
        self.assertEqual(got.get("AcceptRanges"), "bytes")

        head = self.s3.head_object(Bucket=self.b, Key="dir/file.bin")
        self.assertEqual(head["ETag"], md5_etag(body))
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["Metadata"], got["Metadata"])
        self.assertEqual(head["ContentType"], "application/x-test")
        self.assertEqual(head["LastModified"], got["LastModified"])

        d = self.s3.delete_object(Bucket=self.b, Key="dir/file.bin")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="dir/file.bin")
        self.assertClientError(e, "NoSuchKey", 404)
        self.assertEqual(self.keys(self.b), [])

    def test_empty_object_and_default_content_type(self):
        put = self.s3.put_object(Bucket=self.b, Key="empty", Body=b"")
        self.assertEqual(put["ETag"], md5_etag(b""))
        got = self.s3.get_object(Bucket=self.b, Key="empty")
        self.assertEqual(got["Body"].read(), b"")
        self.assertEqual(got["ContentLength"], 0)
        # S3 stores binary/octet-stream when no Content-Type was sent; boto3 sends none.
        self.assertIn(got["ContentType"], ("binary/octet-stream", "application/octet-stream"))

    def test_large_object_goes_through_blob_path(self):
        body = os.urandom(3 * 1024 * 1024 + 17)  # above the 8 KiB inline limit
        self.assertEqual(self.s3.put_object(Bucket=self.b, Key="big", Body=body)["ETag"],
                         md5_etag(body))
        got = self.s3.get_object(Bucket=self.b, Key="big")
        self.assertEqual(hashlib.sha256(got["Body"].read()).digest(),
                         hashlib.sha256(body).digest())

    def test_overwrite_replaces_body_and_metadata(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"one", Metadata={"a": "1"})
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"two!", Metadata={"b": "2"})
        got = self.s3.get_object(Bucket=self.b, Key="k")
        self.assertEqual(got["Body"].read(), b"two!")
        self.assertEqual(got["Metadata"], {"b": "2"})
        self.assertEqual(self.keys(self.b), ["k"])

    def test_delete_object_is_idempotent_204(self):
        for _ in range(2):
            r = self.s3.delete_object(Bucket=self.b, Key="never-existed")
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.keys(self.b), [])

    def test_get_missing_key_is_no_such_key_with_key_in_body(self):
        status, _, body = self.raw("GET", "/%s/nope" % self.b)
        self.assertEqual(status, 404)
        self.assertIn(b"<Code>NoSuchKey</Code>", body)
        self.assertIn(b"<Key>nope</Key>", body)
        self.assertIn(b"<RequestId>", body)

    def test_get_in_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket="no-such-bucket-here", Key="k")
        self.assertClientError(e, "NoSuchBucket", 404)
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
        self.assertClientError(e, "NoSuchBucket", 404)
        self.assertNotIn("no-such-bucket-here", self.bucket_names())

    def test_head_errors_have_no_body(self):
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="nope")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        # http.client never reads a HEAD body, so read the raw socket to the end.
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(("HEAD /%s/nope HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Connection: close\r\n\r\n" % (self.b, self.port)).encode())
            raw = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        head, _, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 403") or head.startswith(b"HTTP/1.1 404"),
                        head)
        self.assertEqual(rest, b"", "HEAD error response carried a body")

    def test_user_metadata_is_returned_on_head_case_folded(self):
        self.s3.put_object(Bucket=self.b, Key="m", Body=b"x",
                           Metadata={"UPPER": "V", "dash-ed": "a=b; c"})
        head = self.s3.head_object(Bucket=self.b, Key="m")
        self.assertEqual(head["Metadata"], {"upper": "V", "dash-ed": "a=b; c"})


class ContentMd5(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket()

    def test_correct_content_md5_is_accepted(self):
        body = b"hello md5"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = self.s3.put_object(Bucket=self.b, Key="k", Body=body, ContentMD5=md5)
        self.assertEqual(r["ETag"], md5_etag(body))

    def test_wrong_content_md5_is_bad_digest_and_stores_nothing(self):
        md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="k", Body=b"hello", ContentMD5=md5)
        self.assertClientError(e, "BadDigest", 400)
        self.assertEqual(self.keys(self.b), [])

    def test_wrong_content_md5_keeps_previous_version(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"old")
        md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="k", Body=b"new", ContentMD5=md5)
        self.assertClientError(e, "BadDigest", 400)
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k")["Body"].read(), b"old")

    def test_malformed_content_md5_is_invalid_digest_and_stores_nothing(self):
        for bad in ("not-base64!!", base64.b64encode(b"short").decode()):
            with self.assertRaises(ClientError) as e:
                self.s3.put_object(Bucket=self.b, Key="k", Body=b"hello", ContentMD5=bad)
            self.assertClientError(e, "InvalidDigest", 400)
        self.assertEqual(self.keys(self.b), [])


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def aws_chunked(data, trailer_name, trailer_value, chunk=64 * 1024):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER framing (NOTES item 3)."""
    out = b""
    for i in range(0, len(data), chunk):
        part = data[i:i + chunk]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n%s:%s\r\n\r\n" % (trailer_name.encode(), trailer_value.encode())


class Checksums(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket()

    def put_chunked(self, key, data, trailer_value):
        body = aws_chunked(data, "x-amz-checksum-crc32", trailer_value)
        return self.raw("PUT", "/%s/%s" % (self.b, key), body=body,
                        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                        headers={"Content-Encoding": "aws-chunked",
                                 "x-amz-decoded-content-length": str(len(data)),
                                 "x-amz-trailer": "x-amz-checksum-crc32"})

    def test_trailing_crc32_is_verified_and_returned(self):
        data = os.urandom(150_000)
        status, headers, body = self.put_chunked("t", data, crc32_b64(data))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("etag"), md5_etag(data))
        head = self.s3.head_object(Bucket=self.b, Key="t", ChecksumMode="ENABLED")
        self.assertEqual(head["ChecksumCRC32"], crc32_b64(data))
        self.assertEqual(head["ContentLength"], len(data))
        self.assertNotIn("aws-chunked", head.get("ContentEncoding", ""))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="t")["Body"].read(), data)

    def test_wrong_trailing_crc32_is_bad_digest_and_stores_nothing(self):
        data = os.urandom(150_000)
        status, _, body = self.put_chunked("t", data, crc32_b64(b"other"))
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>BadDigest</Code>", body)
        self.assertEqual(self.keys(self.b), [])

    def test_wrong_crc32_header_is_bad_digest_and_stores_nothing(self):
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="h", Body=b"payload",
                               ChecksumCRC32=crc32_b64(b"other"))
        self.assertClientError(e, "BadDigest", 400)
        self.assertEqual(self.keys(self.b), [])

    def test_default_crc32_header_from_boto3_is_stored(self):
        self.s3.put_object(Bucket=self.b, Key="d", Body=b"default checksum")
        head = self.s3.head_object(Bucket=self.b, Key="d", ChecksumMode="ENABLED")
        self.assertEqual(head["ChecksumCRC32"], crc32_b64(b"default checksum"))


class BadBodies(KuraTestCase):
    """Framing errors on PutObject: the documented code, nothing stored."""

    def setUp(self):
        self.b = self.new_bucket()

    def head(self, path, extra):
        h = self.signed_headers("PUT", path)
        return ["PUT %s HTTP/1.1" % path] + ["%s: %s" % kv for kv in h.items()] + extra + \
            ["Connection: close"]

    def test_missing_content_length_is_411(self):
        out = self.raw_socket_request(self.head("/%s/k" % self.b, []))
        self.assertTrue(out.startswith(b"HTTP/1.1 411"), out[:300])
        self.assertIn(b"<Code>MissingContentLength</Code>", out)
        self.assertEqual(self.keys(self.b), [])

    def test_body_larger_than_five_gib_is_entity_too_large_before_upload(self):
        out = self.raw_socket_request(self.head("/%s/k" % self.b, [
            "Content-Length: %d" % (5 * 2**30 + 1), "Expect: 100-continue"]))
        self.assertIn(b" 400 ", out.split(b"\r\n", 1)[0], out[:300])
        self.assertIn(b"<Code>EntityTooLarge</Code>", out)
        self.assertEqual(self.keys(self.b), [])

    def test_short_body_stores_nothing(self):
        out = self.raw_socket_request(self.head("/%s/k" % self.b, ["Content-Length: 100"]),
                                      body=b"x" * 50, shut_wr=True, timeout=5)
        if out:  # S3 answers IncompleteBody; a server may also just drop the connection
            self.assertIn(b" 400 ", out.split(b"\r\n", 1)[0], out[:300])
            self.assertIn(b"<Code>IncompleteBody</Code>", out)
        self.assertEqual(self.keys(self.b), [])


class Ranges(KuraTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.b = "ranges"
        cls.s3.create_bucket(Bucket=cls.b)
        cls.small = bytes(range(256)) * 4  # 1024 bytes, inline
        cls.big = os.urandom(100_000)       # blob
        cls.s3.put_object(Bucket=cls.b, Key="small", Body=cls.small)
        cls.s3.put_object(Bucket=cls.b, Key="big", Body=cls.big)

    def check_range(self, key, data, header, first, last):
        r = self.s3.get_object(Bucket=self.b, Key=key, Range=header)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206, header)
        self.assertEqual(r["Body"].read(), data[first:last + 1], header)
        self.assertEqual(r["ContentRange"], "bytes %d-%d/%d" % (first, last, len(data)), header)
        self.assertEqual(r["ContentLength"], last - first + 1, header)
        self.assertEqual(r["ETag"], md5_etag(data))

    def test_ranges_closed_open_ended_and_suffix(self):
        for key, data in (("small", self.small), ("big", self.big)):
            n = len(data)
            self.check_range(key, data, "bytes=0-0", 0, 0)
            self.check_range(key, data, "bytes=10-99", 10, 99)
            self.check_range(key, data, "bytes=100-", 100, n - 1)
            self.check_range(key, data, "bytes=-100", n - 100, n - 1)
            self.check_range(key, data, "bytes=-%d" % (n + 50), 0, n - 1)  # suffix > size
            self.check_range(key, data, "bytes=5-%d" % (n + 1000), 5, n - 1)  # last clamped

    def test_unsatisfiable_range_is_416_invalid_range(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="small", Range="bytes=1024-")
        self.assertClientError(e, "InvalidRange", 416)
        status, headers, body = self.raw("GET", "/%s/small" % self.b,
                                         headers={"Range": "bytes=5000-6000"})
        self.assertEqual(status, 416)
        self.assertIn(b"<Code>InvalidRange</Code>", body)
        self.assertEqual(headers.get("content-range"), "bytes */1024")

    def test_invalid_range_syntax_returns_whole_object(self):
        r = self.s3.get_object(Bucket=self.b, Key="small", Range="bytes=9-3")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(r["Body"].read(), self.small)

    def test_head_with_range_reports_partial_length(self):
        r = self.s3.head_object(Bucket=self.b, Key="big", Range="bytes=0-9")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(r["ContentLength"], 10)


class Conditionals(KuraTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.b = "cond"
        cls.s3.create_bucket(Bucket=cls.b)
        cls.body = b"conditional body"
        cls.etag = cls.s3.put_object(Bucket=cls.b, Key="k", Body=cls.body)["ETag"]
        cls.mtime = cls.s3.head_object(Bucket=cls.b, Key="k")["LastModified"]

    def test_if_match(self):
        r = self.s3.get_object(Bucket=self.b, Key="k", IfMatch=self.etag)
        self.assertEqual(r["Body"].read(), self.body)
        r = self.s3.get_object(Bucket=self.b, Key="k", IfMatch="*")
        self.assertEqual(r["Body"].read(), self.body)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", IfMatch='"0000"')
        self.assertClientError(e, "PreconditionFailed", 412)

    def test_if_none_match(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", IfNoneMatch=self.etag)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        headers = e.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers.get("etag"), self.etag)
        r = self.s3.get_object(Bucket=self.b, Key="k", IfNoneMatch='"0000"')
        self.assertEqual(r["Body"].read(), self.body)

    def test_if_modified_since(self):
        later = self.mtime + datetime.timedelta(hours=1)
        earlier = self.mtime - datetime.timedelta(hours=1)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", IfModifiedSince=later)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        r = self.s3.get_object(Bucket=self.b, Key="k", IfModifiedSince=earlier)
        self.assertEqual(r["Body"].read(), self.body)

    def test_if_unmodified_since(self):
        later = self.mtime + datetime.timedelta(hours=1)
        earlier = self.mtime - datetime.timedelta(hours=1)
        r = self.s3.get_object(Bucket=self.b, Key="k", IfUnmodifiedSince=later)
        self.assertEqual(r["Body"].read(), self.body)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", IfUnmodifiedSince=earlier)
        self.assertClientError(e, "PreconditionFailed", 412)

    def test_rfc7232_precedence(self):
        # If-Match true + If-Unmodified-Since false -> 200 (S3 documents this pair).
        earlier = self.mtime - datetime.timedelta(hours=1)
        r = self.s3.get_object(Bucket=self.b, Key="k", IfMatch=self.etag,
                               IfUnmodifiedSince=earlier)
        self.assertEqual(r["Body"].read(), self.body)
        # If-None-Match false + If-Modified-Since true -> 304.
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", IfNoneMatch=self.etag,
                               IfModifiedSince=earlier)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)

    def test_head_conditionals(self):
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="k", IfMatch='"0000"')
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 412)
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="k", IfNoneMatch=self.etag)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)

    def test_raw_http_date_header(self):
        later = self.mtime + datetime.timedelta(days=1)
        status, _, body = self.raw("GET", "/%s/k" % self.b,
                                   headers={"If-Modified-Since": http_date(later)})
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")


class ResponseOverrides(KuraTestCase):
    def test_response_header_overrides(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x", ContentType="text/plain")
        r = self.s3.get_object(
            Bucket=b, Key="k", ResponseContentType="application/json",
            ResponseContentDisposition="attachment; filename=x.json",
            ResponseCacheControl="no-cache", ResponseContentLanguage="fr",
            ResponseContentEncoding="gzip",
            ResponseExpires=datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc))
        self.assertEqual(r["ContentType"], "application/json")
        self.assertEqual(r["ContentDisposition"], "attachment; filename=x.json")
        self.assertEqual(r["CacheControl"], "no-cache")
        self.assertEqual(r["ContentLanguage"], "fr")
        self.assertEqual(r["ContentEncoding"], "gzip")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["expires"],
                         "Wed, 01 Jan 2031 00:00:00 GMT")
        self.assertEqual(r["Body"].read(), b"x")
        # The override is per response; the stored object is unchanged.
        self.assertEqual(self.s3.head_object(Bucket=b, Key="k")["ContentType"], "text/plain")


class OddKeys(KuraTestCase):
    KEYS = ["../x", "/lead", "a//b", "with space", "emoji-\U0001F600", "100%", "a+b",
            "q?x=1&y", "hash#frag", "xml-<&>\"'", "caf\u00e9/na\u00efve", "trailing/",
            "~tilde", "semi;colon", "a" * 1024]

    def test_odd_keys_round_trip_put_get_head_list_delete(self):
        b = self.new_bucket()
        for i, k in enumerate(self.KEYS):
            body = ("body %d" % i).encode()
            self.assertEqual(self.s3.put_object(Bucket=b, Key=k, Body=body)["ETag"],
                             md5_etag(body), k)
        for i, k in enumerate(self.KEYS):
            self.assertEqual(self.s3.get_object(Bucket=b, Key=k)["Body"].read(),
                             ("body %d" % i).encode(), k)
            self.s3.head_object(Bucket=b, Key=k)
        # boto3 lists with encoding-type=url and decodes; both must give the keys back.
        self.assertEqual(sorted(self.keys(b)), sorted(self.KEYS, key=lambda s: s.encode()))
        v1 = self.s3.list_objects(Bucket=b, MaxKeys=1000)
        self.assertEqual(sorted(o["Key"] for o in v1["Contents"]),
                         sorted(self.KEYS, key=lambda s: s.encode()))
        for k in self.KEYS:
            self.s3.delete_object(Bucket=b, Key=k)
        self.assertEqual(self.keys(b), [])

    def test_listing_order_is_utf8_byte_order(self):
        b = self.new_bucket()
        keys = ["a", "B", "\u00e9", "\U0001F600", "a/b", "a-b", "ab"]
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=b"")
        self.assertEqual(self.keys(b), sorted(keys, key=lambda s: s.encode()))

    def test_key_of_1025_bytes_is_key_too_long(self):
        b = self.new_bucket()
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=b, Key="k" * 1025, Body=b"x")
        self.assertClientError(e, "KeyTooLongError", 400)
        # multi-byte: 342 x 3-byte char = 1026 bytes
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=b, Key="\u20ac" * 342, Body=b"x")
        self.assertClientError(e, "KeyTooLongError", 400)
        self.assertEqual(self.keys(b), [])


if __name__ == "__main__":
    unittest.main()
