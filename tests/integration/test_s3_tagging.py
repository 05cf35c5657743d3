"""boto3: object and bucket tagging (issue 4: S3 API completeness).

Put/Get/DeleteObjectTagging, x-amz-tagging on PutObject and
CreateMultipartUpload, Put/Get/DeleteBucketTagging, and the limits. A refused
tag set leaves the old tags (and the object) unchanged.
"""
import base64
import hashlib
import urllib.parse

from kura_harness import ClientError, KuraTestCase, md5_etag


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def tags(resp):
    return {t["Key"]: t["Value"] for t in resp["TagSet"]}


def md5_b64(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


class ObjectTagging(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("tag")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"tagged body")

    def _tags(self, key="k"):
        return tags(self.s3.get_object_tagging(Bucket=self.b, Key=key))

    def test_put_get_delete_object_tagging(self):
        before = self.s3.head_object(Bucket=self.b, Key="k")
        self.assertEqual(self._tags(), {})
        want = {"project": "kura", "empty": "", "chars": "+ -=._:/@"}
        r = self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset(want)})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self._tags(), want)
        got = self.s3.get_object(Bucket=self.b, Key="k")
        self.assertEqual(got["TagCount"], 3)
        self.assertEqual(got["Body"].read(), b"tagged body")
        # Tagging changes neither the ETag nor the body.
        after = self.s3.head_object(Bucket=self.b, Key="k")
        self.assertEqual(after["ETag"], before["ETag"])

        # PutObjectTagging replaces the whole set.
        self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset({"only": "1"})})
        self.assertEqual(self._tags(), {"only": "1"})

        r = self.s3.delete_object_tagging(Bucket=self.b, Key="k")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self._tags(), {})
        self.assertNotIn("TagCount", self.s3.get_object(Bucket=self.b, Key="k"))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k")["Body"].read(), b"tagged body")

    def test_ten_tags_and_maximum_lengths_are_accepted(self):
        want = {("k%d" % i): ("v%d" % i) for i in range(9)}
        want["K" * 128] = "V" * 256
        self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset(want)})
        self.assertEqual(self._tags(), want)

    def test_invalid_tag_sets_are_refused_and_old_tags_kept(self):
        old = {"keep": "me"}
        self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset(old)})
        cases = [
            # S3 answers 400 BadRequest "Object tags cannot be greater than 10"
            # (see boto/boto3#1213; the "InvalidTag" is not what S3 sends).
            ("11 tags", [{"Key": "k%d" % i, "Value": "v"} for i in range(11)], "BadRequest"),
            ("129-char key", [{"Key": "K" * 129, "Value": "v"}], "InvalidTag"),
            ("257-char value", [{"Key": "k", "Value": "V" * 257}], "InvalidTag"),
            ("duplicate keys", [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
             "InvalidTag"),
            ("aws: prefix", [{"Key": "aws:reserved", "Value": "v"}], "InvalidTag"),
        ]
        for name, ts, code in cases:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": ts})
                self.assertClientError(e, code, 400)
                self.assertEqual(self._tags(), old)

    def test_malformed_tagging_xml_is_malformed_xml(self):
        self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset({"a": "1"})})
        st, _, body = self.raw("PUT", "/%s/k" % self.b, query=[("tagging", "")],
                               body=b"<Tagging><TagSet><Tag><Key>x</Key>",
                               headers={"Content-MD5": md5_b64(b"<Tagging><TagSet><Tag><Key>x</Key>")})
        self.assertEqual(st, 400, body)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        self.assertEqual(self._tags(), {"a": "1"})

    def test_wrong_content_md5_is_bad_digest_and_keeps_tags(self):
        self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={"TagSet": tagset({"a": "1"})})
        body = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag>'
                b"<Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>")
        st, _, resp = self.raw("PUT", "/%s/k" % self.b, query=[("tagging", "")], body=body,
                               headers={"Content-MD5": md5_b64(b"other")})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>BadDigest</Code>", resp)
        self.assertEqual(self._tags(), {"a": "1"})

    def test_tagging_a_missing_key_is_no_such_key(self):
        for name, call in [
            ("get", lambda: self.s3.get_object_tagging(Bucket=self.b, Key="nope")),
            ("put", lambda: self.s3.put_object_tagging(Bucket=self.b, Key="nope",
                                                       Tagging={"TagSet": tagset({"a": "1"})})),
            ("delete", lambda: self.s3.delete_object_tagging(Bucket=self.b, Key="nope")),
        ]:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    call()
                self.assertClientError(e, "NoSuchKey", 404)
        self.assertEqual(self.keys(self.b), ["k"])

    # ---- x-amz-tagging ------------------------------------------------

    def test_x_amz_tagging_on_put_object(self):
        header = urllib.parse.urlencode({"a b": "c&d", "e": "", "f": "g=h"})
        self.s3.put_object(Bucket=self.b, Key="hdr", Body=b"x", Tagging=header)
        self.assertEqual(self._tags("hdr"), {"a b": "c&d", "e": "", "f": "g=h"})
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="hdr")["ResponseMetadata"]
                         ["HTTPHeaders"].get("x-amz-tagging-count"), "3")

    def test_overwriting_put_without_tagging_drops_the_tags(self):
        self.s3.put_object(Bucket=self.b, Key="hdr", Body=b"x", Tagging="a=1")
        self.s3.put_object(Bucket=self.b, Key="hdr", Body=b"y")
        self.assertEqual(self._tags("hdr"), {})

    def test_x_amz_tagging_over_limits_refuses_the_put(self):
        # Same validation as PutObjectTagging: the object is not created.
        cases = [
            ("129-char key", "%s=v" % ("K" * 129), "InvalidTag"),
            ("257-char value", "k=%s" % ("V" * 257), "InvalidTag"),
            ("aws: prefix", "aws%3Ax=v", "InvalidTag"),
            ("11 tags", "&".join("k%d=v" % i for i in range(11)), "BadRequest"),
        ]
        for name, header, code in cases:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object(Bucket=self.b, Key="bad", Body=b"x", Tagging=header)
                self.assertClientError(e, code, 400)
                with self.assertRaises(ClientError) as e:
                    self.s3.head_object(Bucket=self.b, Key="bad")
                self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(self.keys(self.b), ["k"])

    def test_x_amz_tagging_on_create_multipart_upload(self):
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="mp",
                                              Tagging="stage=upload&n=1")["UploadId"]
        e = self.s3.upload_part(Bucket=self.b, Key="mp", UploadId=uid, PartNumber=1,
                                Body=b"part")["ETag"]
        self.assertEqual(e, md5_etag(b"part"))
        self.s3.complete_multipart_upload(Bucket=self.b, Key="mp", UploadId=uid,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
        self.assertEqual(self._tags("mp"), {"stage": "upload", "n": "1"})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="mp")["TagCount"], 2)


class BucketTagging(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("btag")

    def _no_tag_set(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_tagging(Bucket=self.b)
        self.assertClientError(e, "NoSuchTagSet", 404)

    def test_put_get_delete_bucket_tagging(self):
        self._no_tag_set()
        want = {("k%d" % i): ("v%d" % i) for i in range(50)}
        self.s3.put_bucket_tagging(Bucket=self.b, Tagging={"TagSet": tagset(want)})
        self.assertEqual(tags(self.s3.get_bucket_tagging(Bucket=self.b)), want)
        self.s3.put_bucket_tagging(Bucket=self.b, Tagging={"TagSet": tagset({"team": "s3"})})
        self.assertEqual(tags(self.s3.get_bucket_tagging(Bucket=self.b)), {"team": "s3"})
        r = self.s3.delete_bucket_tagging(Bucket=self.b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self._no_tag_set()
        self.assertIn(self.b, self.bucket_names())

    def test_invalid_bucket_tags_are_refused_and_old_tags_kept(self):
        self.s3.put_bucket_tagging(Bucket=self.b, Tagging={"TagSet": tagset({"keep": "1"})})
        cases = [
            ("129-char key", [{"Key": "K" * 129, "Value": "v"}]),
            ("257-char value", [{"Key": "k", "Value": "V" * 257}]),
            ("duplicate keys", [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]),
            ("aws: prefix", [{"Key": "aws:x", "Value": "v"}]),
        ]
        for name, ts in cases:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_bucket_tagging(Bucket=self.b, Tagging={"TagSet": ts})
                self.assertClientError(e, "InvalidTag", 400)
                self.assertEqual(tags(self.s3.get_bucket_tagging(Bucket=self.b)), {"keep": "1"})

    def test_wrong_content_md5_is_bad_digest_and_keeps_tags(self):
        self.s3.put_bucket_tagging(Bucket=self.b, Tagging={"TagSet": tagset({"keep": "1"})})
        body = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag>'
                b"<Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>")
        st, _, resp = self.raw("PUT", "/%s" % self.b, query=[("tagging", "")], body=body,
                               headers={"Content-MD5": md5_b64(b"other")})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>BadDigest</Code>", resp)
        self.assertEqual(tags(self.s3.get_bucket_tagging(Bucket=self.b)), {"keep": "1"})

    def test_bucket_tagging_on_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_tagging(Bucket="no-such-bucket-kura")
        self.assertClientError(e, "NoSuchBucket", 404)
