"""boto3: CopyObject (issue 4: S3 API completeness).

Metadata and tagging directives, copy onto itself, cross-bucket copies,
x-amz-copy-source-if-* preconditions, missing sources. Each test checks the
answer and that the source (and any refused destination) is unchanged.
"""
import datetime
import os

from kura_harness import ClientError, KuraTestCase, md5_etag


def tags(resp):
    return {t["Key"]: t["Value"] for t in resp["TagSet"]}


class CopyObject(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("cp")
        self.body = os.urandom(20000)
        self.src_put = self.s3.put_object(
            Bucket=self.b, Key="src", Body=self.body, ContentType="text/x-src",
            CacheControl="max-age=5", ContentDisposition="inline",
            Metadata={"color": "red", "size": "big"}, Tagging="t1=v1&t2=v2")

    def _assert_source_unchanged(self):
        head = self.s3.head_object(Bucket=self.b, Key="src")
        self.assertEqual(head["ETag"], md5_etag(self.body))
        self.assertEqual(head["ContentType"], "text/x-src")
        self.assertEqual(head["Metadata"], {"color": "red", "size": "big"})
        self.assertEqual(tags(self.s3.get_object_tagging(Bucket=self.b, Key="src")),
                         {"t1": "v1", "t2": "v2"})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="src")["Body"].read(), self.body)

    def _assert_absent(self, bucket, key):
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=bucket, Key=key)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_default_directive_copies_body_metadata_and_tags(self):
        r = self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], md5_etag(self.body))
        self.assertIn("LastModified", r["CopyObjectResult"])
        got = self.s3.get_object(Bucket=self.b, Key="dst")
        self.assertEqual(got["Body"].read(), self.body)
        self.assertEqual(got["ETag"], md5_etag(self.body))
        self.assertEqual(got["ContentType"], "text/x-src")
        self.assertEqual(got["CacheControl"], "max-age=5")
        self.assertEqual(got["ContentDisposition"], "inline")
        self.assertEqual(got["Metadata"], {"color": "red", "size": "big"})
        self.assertEqual(got.get("TagCount"), 2)
        self.assertEqual(tags(self.s3.get_object_tagging(Bucket=self.b, Key="dst")),
                         {"t1": "v1", "t2": "v2"})
        self._assert_source_unchanged()
        self.assertEqual(self.keys(self.b), ["dst", "src"])

    def test_copy_directive_ignores_metadata_sent_with_the_request(self):
        self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"},
                            MetadataDirective="COPY", Metadata={"ignored": "yes"},
                            ContentType="text/ignored")
        head = self.s3.head_object(Bucket=self.b, Key="dst")
        self.assertEqual(head["Metadata"], {"color": "red", "size": "big"})
        self.assertEqual(head["ContentType"], "text/x-src")

    def test_replace_directive_takes_metadata_from_the_request(self):
        self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"},
                            MetadataDirective="REPLACE", Metadata={"shape": "round"},
                            ContentType="application/x-new")
        got = self.s3.get_object(Bucket=self.b, Key="dst")
        self.assertEqual(got["Body"].read(), self.body)
        self.assertEqual(got["Metadata"], {"shape": "round"})
        self.assertEqual(got["ContentType"], "application/x-new")
        # REPLACE drops the source's system metadata that was not resent.
        self.assertNotIn("CacheControl", got)
        self.assertNotIn("ContentDisposition", got)
        # Tags follow the tagging directive (default COPY), not the metadata one.
        self.assertEqual(tags(self.s3.get_object_tagging(Bucket=self.b, Key="dst")),
                         {"t1": "v1", "t2": "v2"})
        self._assert_source_unchanged()

    def test_tagging_directive_replace_sets_new_tags(self):
        self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"},
                            TaggingDirective="REPLACE", Tagging="new=tag")
        self.assertEqual(tags(self.s3.get_object_tagging(Bucket=self.b, Key="dst")),
                         {"new": "tag"})
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="dst")["Metadata"],
                         {"color": "red", "size": "big"})
        self._assert_source_unchanged()

    def test_tagging_directive_replace_without_tags_leaves_none(self):
        self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"},
                            TaggingDirective="REPLACE")
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.b, Key="dst")["TagSet"], [])

    def test_invalid_metadata_directive_is_invalid_argument(self):
        st, _, body = self.raw("PUT", "/%s/dst" % self.b,
                               headers={"x-amz-copy-source": "/%s/src" % self.b,
                                        "x-amz-metadata-directive": "MERGE"})
        self.assertEqual(st, 400, body)
        self.assertIn(b"<Code>InvalidArgument</Code>", body)
        self._assert_absent(self.b, "dst")

    def test_copy_onto_itself_without_replace_is_invalid_request(self):
        before = self.s3.head_object(Bucket=self.b, Key="src")
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="src",
                                CopySource={"Bucket": self.b, "Key": "src"})
        self.assertClientError(e, "InvalidRequest", 400)
        after = self.s3.head_object(Bucket=self.b, Key="src")
        self.assertEqual(after["LastModified"], before["LastModified"])
        self._assert_source_unchanged()
        self.assertEqual(self.keys(self.b), ["src"])

    def test_copy_onto_itself_with_replace_changes_metadata_only(self):
        r = self.s3.copy_object(Bucket=self.b, Key="src", CopySource={"Bucket": self.b, "Key": "src"},
                                MetadataDirective="REPLACE", Metadata={"color": "green"},
                                ContentType="text/x-src")
        self.assertEqual(r["CopyObjectResult"]["ETag"], md5_etag(self.body))
        got = self.s3.get_object(Bucket=self.b, Key="src")
        self.assertEqual(got["Body"].read(), self.body)
        self.assertEqual(got["Metadata"], {"color": "green"})
        self.assertEqual(self.keys(self.b), ["src"])

    def test_cross_bucket_copy_with_url_encoded_key(self):
        other = self.new_bucket("cpdst")
        key = "dir/spaced name+plus/ünï.txt"
        self.s3.put_object(Bucket=self.b, Key=key, Body=b"encoded key")
        self.s3.copy_object(Bucket=other, Key="copied/" + key,
                            CopySource={"Bucket": self.b, "Key": key})
        self.assertEqual(self.s3.get_object(Bucket=other, Key="copied/" + key)["Body"].read(),
                         b"encoded key")
        self.assertEqual(self.keys(other), ["copied/" + key])
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key=key)["Body"].read(), b"encoded key")
        self._assert_source_unchanged()

    def test_copy_replaces_existing_destination(self):
        self.s3.put_object(Bucket=self.b, Key="dst", Body=b"old", Metadata={"old": "1"},
                           Tagging="old=1")
        self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"})
        got = self.s3.get_object(Bucket=self.b, Key="dst")
        self.assertEqual(got["Body"].read(), self.body)
        self.assertEqual(got["Metadata"], {"color": "red", "size": "big"})
        self.assertEqual(tags(self.s3.get_object_tagging(Bucket=self.b, Key="dst")),
                         {"t1": "v1", "t2": "v2"})

    # ---- preconditions ------------------------------------------------

    def test_copy_source_preconditions(self):
        etag = md5_etag(self.body)
        past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        cases = [
            # (kwargs, succeeds)
            ({"CopySourceIfMatch": etag}, True),
            ({"CopySourceIfMatch": md5_etag(b"other")}, False),
            ({"CopySourceIfNoneMatch": md5_etag(b"other")}, True),
            ({"CopySourceIfNoneMatch": etag}, False),
            ({"CopySourceIfUnmodifiedSince": future}, True),
            ({"CopySourceIfUnmodifiedSince": past}, False),
            ({"CopySourceIfModifiedSince": past}, True),
            # S3: if-match true and if-unmodified-since false -> copied.
            ({"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": past}, True),
            # S3: if-none-match false and if-modified-since true -> 412.
            ({"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": past}, False),
        ]
        for i, (kw, ok) in enumerate(cases):
            key = "dst-%d" % i
            with self.subTest(case=i, kw=sorted(kw)):
                if ok:
                    self.s3.copy_object(Bucket=self.b, Key=key,
                                        CopySource={"Bucket": self.b, "Key": "src"}, **kw)
                    self.assertEqual(self.s3.get_object(Bucket=self.b, Key=key)["Body"].read(),
                                     self.body)
                else:
                    with self.assertRaises(ClientError) as e:
                        self.s3.copy_object(Bucket=self.b, Key=key,
                                            CopySource={"Bucket": self.b, "Key": "src"}, **kw)
                    self.assertClientError(e, "PreconditionFailed", 412)
                    self._assert_absent(self.b, key)
        self._assert_source_unchanged()

    def test_failed_precondition_leaves_existing_destination(self):
        self.s3.put_object(Bucket=self.b, Key="dst", Body=b"keep me")
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "src"},
                                CopySourceIfMatch=md5_etag(b"nope"))
        self.assertClientError(e, "PreconditionFailed", 412)
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="dst")["Body"].read(), b"keep me")

    # ---- missing sources ----------------------------------------------

    def test_copy_of_missing_key_is_no_such_key(self):
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="dst", CopySource={"Bucket": self.b, "Key": "nope"})
        self.assertClientError(e, "NoSuchKey", 404)
        self._assert_absent(self.b, "dst")
        self.assertEqual(self.keys(self.b), ["src"])

    def test_copy_from_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="dst",
                                CopySource={"Bucket": "no-such-bucket-kura", "Key": "src"})
        self.assertClientError(e, "NoSuchBucket", 404)
        self._assert_absent(self.b, "dst")

    def test_copy_into_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket="no-such-bucket-kura", Key="dst",
                                CopySource={"Bucket": self.b, "Key": "src"})
        self.assertClientError(e, "NoSuchBucket", 404)
        self._assert_source_unchanged()

    def test_copy_of_a_multipart_object_keeps_the_bytes(self):
        MiB = 1024 * 1024
        parts = [os.urandom(5 * MiB), b"last"]
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="mp")["UploadId"]
        listed = []
        for n, p in enumerate(parts, 1):
            e = self.s3.upload_part(Bucket=self.b, Key="mp", UploadId=uid, PartNumber=n, Body=p)
            listed.append({"PartNumber": n, "ETag": e["ETag"]})
        self.s3.complete_multipart_upload(Bucket=self.b, Key="mp", UploadId=uid,
                                          MultipartUpload={"Parts": listed})
        self.s3.copy_object(Bucket=self.b, Key="mp-copy", CopySource={"Bucket": self.b, "Key": "mp"})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="mp-copy")["Body"].read(),
                         b"".join(parts))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="mp")["Body"].read(),
                         b"".join(parts))
