"""boto3 + raw XML: ListObjectsV2 and ListObjects v1 (issue 3: Foundation)."""
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from kura_harness import ClientError, KuraTestCase, md5_etag

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def xml_texts(body, tag):
    root = ET.fromstring(body)
    return [e.text or "" for e in root.iter(NS + tag)]


class ListObjects(KuraTestCase):
    KEYS = ["a/1", "a/2", "a/b/3", "b/4", "c", "d/5", "d/6", "e"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.b = "listing"
        cls.s3.create_bucket(Bucket=cls.b)
        for k in cls.KEYS:
            cls.s3.put_object(Bucket=cls.b, Key=k, Body=k.encode())

    def test_v2_lists_everything_with_etag_size_and_storage_class(self):
        r = self.s3.list_objects_v2(Bucket=self.b)
        self.assertEqual([o["Key"] for o in r["Contents"]], self.KEYS)
        self.assertEqual(r["KeyCount"], len(self.KEYS))
        self.assertFalse(r["IsTruncated"])
        self.assertEqual(r["Name"], self.b)
        self.assertEqual(r["MaxKeys"], 1000)
        for o in r["Contents"]:
            self.assertEqual(o["ETag"], md5_etag(o["Key"].encode()))
            self.assertEqual(o["Size"], len(o["Key"]))
            self.assertEqual(o["StorageClass"], "STANDARD")
            self.assertNotIn("Owner", o)  # V2 gives Owner only with fetch-owner

    def test_v2_prefix_and_delimiter(self):
        r = self.s3.list_objects_v2(Bucket=self.b, Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c", "e"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/", "b/", "d/"])
        self.assertEqual(r["KeyCount"], 5)
        self.assertEqual(r["Delimiter"], "/")
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="a/", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a/1", "a/2"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/b/"])
        self.assertEqual(r["Prefix"], "a/")
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="zzz")
        self.assertNotIn("Contents", r)
        self.assertEqual(r["KeyCount"], 0)

    def test_v2_max_keys_paging_with_continuation_token(self):
        seen, token, pages = [], None, 0
        while True:
            kw = {"Bucket": self.b, "MaxKeys": 3}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            pages += 1
            seen += [o["Key"] for o in r.get("Contents", [])]
            self.assertLessEqual(r["KeyCount"], 3)
            if not r["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", r)
                break
            token = r["NextContinuationToken"]
            self.assertEqual(r["MaxKeys"], 3)
        self.assertEqual(seen, self.KEYS)
        self.assertEqual(pages, 3)

    def test_v2_paging_with_delimiter_counts_common_prefixes(self):
        seen, token = [], None
        while True:
            kw = {"Bucket": self.b, "MaxKeys": 2, "Delimiter": "/"}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            items = [o["Key"] for o in r.get("Contents", [])] + \
                    [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            self.assertLessEqual(len(items), 2)
            self.assertEqual(r["KeyCount"], len(items))
            seen += items
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(sorted(seen), ["a/", "b/", "c", "d/", "e"])
        self.assertEqual(len(seen), len(set(seen)))

    def test_v2_start_after(self):
        r = self.s3.list_objects_v2(Bucket=self.b, StartAfter="b/4")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c", "d/5", "d/6", "e"])
        self.assertEqual(r["StartAfter"], "b/4")
        r = self.s3.list_objects_v2(Bucket=self.b, StartAfter="b")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/4", "c", "d/5", "d/6", "e"])

    def test_v2_fetch_owner(self):
        r = self.s3.list_objects_v2(Bucket=self.b, FetchOwner=True, MaxKeys=1)
        owner = r["Contents"][0]["Owner"]
        self.assertTrue(owner.get("ID"))
        self.assertEqual(owner["ID"], self.s3.list_buckets()["Owner"]["ID"])

    def test_v2_max_keys_zero(self):
        r = self.s3.list_objects_v2(Bucket=self.b, MaxKeys=0)
        self.assertNotIn("Contents", r)
        self.assertEqual(r["KeyCount"], 0)

    def test_v2_invalid_max_keys_and_token(self):
        status, _, body = self.raw("GET", "/%s" % self.b,
                                   query=[("list-type", "2"), ("max-keys", "-1")])
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidArgument</Code>", body)
        with self.assertRaises(ClientError) as e:
            self.s3.list_objects_v2(Bucket=self.b, ContinuationToken="!!not-a-token!!")
        self.assertClientError(e, "InvalidArgument", 400)

    def test_v1_marker_and_next_marker(self):
        r = self.s3.list_objects(Bucket=self.b, MaxKeys=3)
        self.assertEqual([o["Key"] for o in r["Contents"]], self.KEYS[:3])
        self.assertTrue(r["IsTruncated"])
        for o in r["Contents"]:
            self.assertIn("Owner", o)  # v1 always has Owner
        r = self.s3.list_objects(Bucket=self.b, Marker="a/b/3", MaxKeys=3)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/4", "c", "d/5"])
        self.assertEqual(r["Marker"], "a/b/3")
        # NextMarker is only returned with a delimiter.
        r = self.s3.list_objects(Bucket=self.b, Delimiter="/", MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([o["Key"] for o in r.get("Contents", [])] +
                         [p["Prefix"] for p in r.get("CommonPrefixes", [])], ["a/", "b/"])
        self.assertEqual(r["NextMarker"], "b/")
        r = self.s3.list_objects(Bucket=self.b, Delimiter="/", Marker="b/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c", "e"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["d/"])
        self.assertFalse(r["IsTruncated"])

    def test_v1_paginator_walks_all_keys(self):
        keys = []
        for page in self.s3.get_paginator("list_objects").paginate(
                Bucket=self.b, PaginationConfig={"PageSize": 2}):
            keys += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(keys, self.KEYS)

    def test_list_missing_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.list_objects_v2(Bucket="missing-bucket-x")
        self.assertClientError(e, "NoSuchBucket", 404)


class ListEncoding(KuraTestCase):
    ODD = ["a b", "a+b", "100%", "caf\u00e9", "emoji\U0001F600", "x&y<z>", "../x", "/lead",
           "a//b"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.b = "enc"
        cls.s3.create_bucket(Bucket=cls.b)
        for k in cls.ODD:
            cls.s3.put_object(Bucket=cls.b, Key=k, Body=b"1")

    def expected(self):
        return sorted(self.ODD, key=lambda s: s.encode())

    def test_raw_xml_without_encoding_type_escapes_xml(self):
        status, headers, body = self.raw("GET", "/%s" % self.b, query=[("list-type", "2")])
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/xml"))
        self.assertEqual(xml_texts(body, "Key"), self.expected())
        self.assertIn(b"x&amp;y&lt;z&gt;", body)

    def test_raw_xml_with_encoding_type_url_percent_encodes_keys(self):
        status, _, body = self.raw("GET", "/%s" % self.b,
                                   query=[("list-type", "2"), ("encoding-type", "url")])
        self.assertEqual(status, 200, body)
        self.assertEqual(xml_texts(body, "EncodingType"), ["url"])
        raw_keys = xml_texts(body, "Key")
        for rk in raw_keys:
            self.assertNotIn(" ", rk)
            self.assertTrue(rk.isascii(), rk)
            self.assertNotIn("&", rk)
        self.assertEqual([urllib.parse.unquote_plus(k) for k in raw_keys], self.expected())

    def test_raw_v1_encoding_type_url_with_delimiter_and_prefix(self):
        status, _, body = self.raw("GET", "/%s" % self.b,
                                   query=[("encoding-type", "url"), ("delimiter", "/"),
                                          ("prefix", "a")])
        self.assertEqual(status, 200, body)
        keys = [urllib.parse.unquote_plus(k) for k in xml_texts(body, "Key")]
        self.assertEqual(keys, ["a b", "a+b"])
        root = ET.fromstring(body)
        self.assertEqual(urllib.parse.unquote_plus(root.find(NS + "Prefix").text), "a")
        common = [urllib.parse.unquote_plus(e.text)
                  for e in root.findall(NS + "CommonPrefixes/" + NS + "Prefix")]
        self.assertEqual(common, ["a/"])

    def test_boto3_decodes_url_encoded_listing(self):
        # botocore asks for encoding-type=url by itself and decodes the answer
        # (it leaves the answer alone when the caller sets EncodingType).
        r = self.s3.list_objects_v2(Bucket=self.b)
        self.assertEqual([o["Key"] for o in r["Contents"]], self.expected())
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="a", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["a/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a b", "a+b"])

    def test_invalid_encoding_type(self):
        status, _, body = self.raw("GET", "/%s" % self.b,
                                   query=[("list-type", "2"), ("encoding-type", "base64")])
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidArgument</Code>", body)


if __name__ == "__main__":
    unittest.main()
