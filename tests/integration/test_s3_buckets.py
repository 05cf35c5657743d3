"""boto3 + raw XML: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation (issue 3: Foundation)."""
import datetime
import unittest
import xml.etree.ElementTree as ET

from kura_harness import ClientError, KuraTestCase

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class Buckets(KuraTestCase):
    def test_create_head_list_location_delete(self):
        before = self.bucket_names()
        r = self.s3.create_bucket(Bucket="photos-2024")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(r["Location"], "/photos-2024")
        h = self.s3.head_bucket(Bucket="photos-2024")
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region"),
                         "us-east-1")
        self.assertIsNone(self.s3.get_bucket_location(Bucket="photos-2024")
                          .get("LocationConstraint"))
        lb = self.s3.list_buckets()
        names = [b["Name"] for b in lb["Buckets"]]
        self.assertIn("photos-2024", names)
        self.assertEqual(names, sorted(names))
        self.assertTrue(lb["Owner"]["ID"])
        mine = [b for b in lb["Buckets"] if b["Name"] == "photos-2024"][0]
        age = datetime.datetime.now(datetime.timezone.utc) - mine["CreationDate"]
        self.assertLess(abs(age.total_seconds()), 300)
        d = self.s3.delete_bucket(Bucket="photos-2024")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as e:
            self.s3.head_bucket(Bucket="photos-2024")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(self.bucket_names(), before)

    def test_get_bucket_location_raw_xml_is_empty_constraint(self):
        b = self.new_bucket()
        status, _, body = self.raw("GET", "/%s" % b, query=[("location", "")])
        self.assertEqual(status, 200, body)
        root = ET.fromstring(body)
        self.assertEqual(root.tag, NS + "LocationConstraint")
        self.assertIn(root.text, (None, ""))

    def test_invalid_bucket_names_are_refused_and_create_nothing(self):
        before = self.bucket_names()
        bad = ["ab", "a" * 64, "Upper-Case", "under_score", "-leading", "trailing-",
               "two..dots", "192.168.1.10", "xn--punycode", "name-s3alias", "name--ol-s3",
               ".dotstart", "dotend.", "sthree-x",
               # kura-owned paths: /kura/, /console, /iceberg/ (NOTES item 5)
               "kura", "console", "iceberg"]
        for name in bad:
            with self.subTest(name=name):
                with self.assertRaises(ClientError) as e:
                    self.s3.create_bucket(Bucket=name)
                self.assertClientError(e, "InvalidBucketName", 400)
        self.assertEqual(self.bucket_names(), before)

    def test_valid_edge_names_are_accepted(self):
        for name in ("abc", "a" * 63, "my.bucket.name", "0-9-digits", "a1.b2-c3"):
            with self.subTest(name=name):
                self.s3.create_bucket(Bucket=name)
                self.s3.head_bucket(Bucket=name)
                self.s3.delete_bucket(Bucket=name)

    def test_create_existing_bucket_is_bucket_already_owned_by_you(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="keep", Body=b"data")
        with self.assertRaises(ClientError) as e:
            self.s3.create_bucket(Bucket=b)
        self.assertClientError(e, "BucketAlreadyOwnedByYou", 409)
        self.assertEqual(self.keys(b), ["keep"])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="keep")["Body"].read(), b"data")

    def test_delete_non_empty_bucket_is_bucket_not_empty(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="x", Body=b"1")
        with self.assertRaises(ClientError) as e:
            self.s3.delete_bucket(Bucket=b)
        self.assertClientError(e, "BucketNotEmpty", 409)
        self.assertIn(b, self.bucket_names())
        self.assertEqual(self.keys(b), ["x"])
        self.s3.delete_object(Bucket=b, Key="x")
        self.s3.delete_bucket(Bucket=b)
        self.assertNotIn(b, self.bucket_names())

    def test_missing_bucket_errors(self):
        for call in (lambda: self.s3.delete_bucket(Bucket="nope-bucket"),
                     lambda: self.s3.get_bucket_location(Bucket="nope-bucket"),
                     lambda: self.s3.list_objects_v2(Bucket="nope-bucket")):
            with self.assertRaises(ClientError) as e:
                call()
            self.assertClientError(e, "NoSuchBucket", 404)
        with self.assertRaises(ClientError) as e:
            self.s3.head_bucket(Bucket="nope-bucket")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_malformed_create_bucket_configuration_is_malformed_xml(self):
        name = self.new_bucket(create=False)
        status, _, body = self.raw("PUT", "/%s" % name, body=b"<CreateBucketConfiguration><oops")
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        self.assertNotIn(name, self.bucket_names())

    def test_list_buckets_prefix_and_pagination(self):
        made = ["pg-%02d" % i for i in range(5)]
        for n in made:
            self.s3.create_bucket(Bucket=n)
        try:
            r = self.s3.list_buckets(Prefix="pg-")
            self.assertEqual([b["Name"] for b in r["Buckets"]], made)
            self.assertEqual(r.get("Prefix"), "pg-")
            seen, token = [], None
            while True:
                kw = {"Prefix": "pg-", "MaxBuckets": 2}
                if token:
                    kw["ContinuationToken"] = token
                r = self.s3.list_buckets(**kw)
                page = [b["Name"] for b in r["Buckets"]]
                self.assertLessEqual(len(page), 2)
                seen += page
                token = r.get("ContinuationToken")
                if not token:
                    break
            self.assertEqual(seen, made)
        finally:
            for n in made:
                self.s3.delete_bucket(Bucket=n)


if __name__ == "__main__":
    unittest.main()
