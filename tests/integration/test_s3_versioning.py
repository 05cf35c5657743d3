"""Versioning (issue 5: Versioning, Object Lock and lifecycle).

Version ids, delete markers, permanent version deletes, the null version
while unversioned/suspended, ListObjectVersions paging and IsLatest, restore
by copying an old version. Each test checks the whole version list after the
operation (nothing else changed).
"""
import xml.etree.ElementTree as ET

from kura_harness import ClientError, KuraTestCase, md5_etag

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class Versioning(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("ver")

    def _enable(self, status="Enabled"):
        self.s3.put_bucket_versioning(Bucket=self.b, VersioningConfiguration={"Status": status})

    def _versions(self, **kw):
        """[(key, version id, is latest, "v"|"dm")] in the response's document
        order (S3 interleaves Version and DeleteMarker: key, newest first)."""
        names = {"Prefix": "prefix", "Delimiter": "delimiter", "KeyMarker": "key-marker",
                 "VersionIdMarker": "version-id-marker", "MaxKeys": "max-keys"}
        q = [("versions", "")] + [(names[k], str(v)) for k, v in kw.items()]
        st, _, body = self.raw("GET", "/%s" % self.b, query=q)
        self.assertEqual(st, 200, body)
        out = []
        for el in ET.fromstring(body):
            tag = el.tag.split("}")[-1]
            if tag in ("Version", "DeleteMarker"):
                out.append((el.findtext(NS + "Key"), el.findtext(NS + "VersionId"),
                            el.findtext(NS + "IsLatest") == "true",
                            "v" if tag == "Version" else "dm"))
        return out

    def _body(self, key, vid=None):
        kw = {"VersionId": vid} if vid else {}
        return self.s3.get_object(Bucket=self.b, Key=key, **kw)["Body"].read()

    def test_unversioned_bucket_reports_no_status(self):
        r = self.s3.get_bucket_versioning(Bucket=self.b)
        self.assertNotIn("Status", r)
        self.assertNotIn("MFADelete", r)

    def test_status_round_trips(self):
        self._enable()
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.b)["Status"], "Enabled")
        self._enable("Suspended")
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.b)["Status"], "Suspended")

    def test_invalid_status_is_malformed_xml_and_changes_nothing(self):
        self._enable()
        body = (b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<Status>Sometimes</Status></VersioningConfiguration>")
        st, _, resp = self.raw("PUT", "/%s" % self.b, query=[("versioning", "")], body=body)
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>MalformedXML</Code>", resp)
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.b)["Status"], "Enabled")

    def test_each_put_creates_a_version(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"two")["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertNotEqual(v1, "null")
        self.assertEqual(self._body("k"), b"two")
        self.assertEqual(self._body("k", v1), b"one")
        got = self.s3.get_object(Bucket=self.b, Key="k", VersionId=v1)
        self.assertEqual(got["VersionId"], v1)
        self.assertEqual(got["ETag"], md5_etag(b"one"))
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="k")["VersionId"], v2)
        self.assertEqual(self._versions(), [("k", v2, True, "v"), ("k", v1, False, "v")])

    def test_delete_creates_a_marker_and_get_is_404_with_marker_header(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        d = self.s3.delete_object(Bucket=self.b, Key="k")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertTrue(d["DeleteMarker"])
        marker = d["VersionId"]
        self.assertNotEqual(marker, v1)

        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k")
        self.assertClientError(e, "NoSuchKey", 404)
        hdrs = e.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(hdrs.get("x-amz-delete-marker"), "true")
        self.assertEqual(hdrs.get("x-amz-version-id"), marker)

        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="k")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPHeaders"]
                         .get("x-amz-delete-marker"), "true")

        self.assertEqual(self.keys(self.b), [])
        self.assertEqual(self._versions(), [("k", marker, True, "dm"), ("k", v1, False, "v")])
        self.assertEqual(self._body("k", v1), b"one")

    def test_get_and_head_of_a_delete_marker_by_version_is_405(self):
        self._enable()
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")
        marker = self.s3.delete_object(Bucket=self.b, Key="k")["VersionId"]
        for method in ("GET", "HEAD"):
            with self.subTest(method):
                st, hdrs, body = self.raw(method, "/%s/k" % self.b, query=[("versionId", marker)])
                self.assertEqual(st, 405, body)
                self.assertEqual(hdrs.get("x-amz-delete-marker"), "true")
                self.assertEqual(hdrs.get("x-amz-version-id"), marker)
                if method == "GET":
                    self.assertIn(b"<Code>MethodNotAllowed</Code>", body)

    def test_deleting_the_marker_restores_the_object(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        marker = self.s3.delete_object(Bucket=self.b, Key="k")["VersionId"]
        d = self.s3.delete_object(Bucket=self.b, Key="k", VersionId=marker)
        self.assertTrue(d["DeleteMarker"])
        self.assertEqual(d["VersionId"], marker)
        self.assertEqual(self._body("k"), b"one")
        self.assertEqual(self._versions(), [("k", v1, True, "v")])

    def test_permanent_delete_of_current_version_promotes_the_previous(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"two")["VersionId"]
        v3 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"three")["VersionId"]
        d = self.s3.delete_object(Bucket=self.b, Key="k", VersionId=v3)
        self.assertEqual(d["VersionId"], v3)
        self.assertNotIn("DeleteMarker", d)
        self.assertEqual(self._body("k"), b"two")
        self.assertEqual(self._versions(), [("k", v2, True, "v"), ("k", v1, False, "v")])
        # Deleting a non-current version leaves the current one alone.
        self.s3.delete_object(Bucket=self.b, Key="k", VersionId=v1)
        self.assertEqual(self._versions(), [("k", v2, True, "v")])
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="k", VersionId=v1)
        self.assertClientError(e, "NoSuchVersion", 404)

    def test_version_id_of_another_key_is_no_such_version(self):
        self._enable()
        va = self.s3.put_object(Bucket=self.b, Key="a", Body=b"a")["VersionId"]
        self.s3.put_object(Bucket=self.b, Key="b", Body=b"b")
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="b", VersionId=va)
        self.assertClientError(e, "NoSuchVersion", 404)

    def test_restore_by_copying_an_old_version(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"good", Metadata={"v": "1"})["VersionId"]
        v2 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"bad")["VersionId"]
        r = self.s3.copy_object(Bucket=self.b, Key="k",
                                CopySource={"Bucket": self.b, "Key": "k", "VersionId": v1})
        v3 = r["VersionId"]
        self.assertEqual(r["CopySourceVersionId"], v1)
        self.assertNotIn(v3, (v1, v2))
        got = self.s3.get_object(Bucket=self.b, Key="k")
        self.assertEqual(got["Body"].read(), b"good")
        self.assertEqual(got["Metadata"], {"v": "1"})
        self.assertEqual(self._versions(), [("k", v3, True, "v"), ("k", v2, False, "v"),
                                            ("k", v1, False, "v")])

    def test_tagging_a_specific_version(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"two", Tagging="cur=1")["VersionId"]
        r = self.s3.put_object_tagging(Bucket=self.b, Key="k", VersionId=v1,
                                       Tagging={"TagSet": [{"Key": "old", "Value": "1"}]})
        self.assertEqual(r["VersionId"], v1)
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.b, Key="k", VersionId=v1)["TagSet"],
                         [{"Key": "old", "Value": "1"}])
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.b, Key="k")["TagSet"],
                         [{"Key": "cur", "Value": "1"}])
        self.assertEqual(self._versions(), [("k", v2, True, "v"), ("k", v1, False, "v")])

    # ---- the null version ---------------------------------------------

    def test_objects_from_before_versioning_keep_the_null_version(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"before")
        self.assertEqual(self._versions(), [("k", "null", True, "v")])
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"after")["VersionId"]
        self.assertEqual(self._versions(), [("k", v1, True, "v"), ("k", "null", False, "v")])
        self.assertEqual(self._body("k", "null"), b"before")

    def test_unversioned_delete_by_null_version_removes_the_object(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        d = self.s3.delete_object(Bucket=self.b, Key="k", VersionId="null")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self._versions(), [])

    def test_suspended_puts_replace_the_null_version_in_place(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"enabled")["VersionId"]
        self._enable("Suspended")
        r = self.s3.put_object(Bucket=self.b, Key="k", Body=b"null one")
        self.assertEqual(r.get("VersionId", "null"), "null")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"null two")
        self.assertEqual(self._versions(), [("k", "null", True, "v"), ("k", v1, False, "v")])
        self.assertEqual(self._body("k"), b"null two")
        self.assertEqual(self._body("k", "null"), b"null two")
        self.assertEqual(self._body("k", v1), b"enabled")

    def test_suspended_delete_replaces_the_null_version_with_a_null_marker(self):
        self._enable()
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"enabled")["VersionId"]
        self._enable("Suspended")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"null body")
        d = self.s3.delete_object(Bucket=self.b, Key="k")
        self.assertTrue(d["DeleteMarker"])
        self.assertEqual(d.get("VersionId", "null"), "null")
        self.assertEqual(self._versions(), [("k", "null", True, "dm"), ("k", v1, False, "v")])
        self.assertEqual(self._body("k", v1), b"enabled")

    def test_reenabling_keeps_the_null_version_as_noncurrent(self):
        self._enable("Suspended")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"null")
        self._enable()
        v2 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"new")["VersionId"]
        self.assertEqual(self._versions(), [("k", v2, True, "v"), ("k", "null", False, "v")])

    # ---- ListObjectVersions -------------------------------------------

    def test_list_versions_prefix_delimiter_and_markers(self):
        self._enable()
        ids = {}
        for key in ("a", "a", "b", "d/1", "d/2"):
            ids.setdefault(key, []).insert(0, self.s3.put_object(Bucket=self.b, Key=key,
                                                                 Body=key.encode())["VersionId"])
        m = self.s3.delete_object(Bucket=self.b, Key="b")["VersionId"]
        full = [("a", ids["a"][0], True, "v"), ("a", ids["a"][1], False, "v"),
                ("b", m, True, "dm"), ("b", ids["b"][0], False, "v"),
                ("d/1", ids["d/1"][0], True, "v"), ("d/2", ids["d/2"][0], True, "v")]
        self.assertEqual(self._versions(), full)

        r = self.s3.list_object_versions(Bucket=self.b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["d/"])
        self.assertEqual(sorted(v["Key"] for v in r["Versions"]), ["a", "a", "b"])
        self.assertEqual(self._versions(Prefix="d/"), full[4:])

        # key-marker alone: versions of keys after it.
        self.assertEqual(self._versions(KeyMarker="a"), full[2:])
        # key-marker + version-id-marker: versions after that one of that key.
        self.assertEqual(self._versions(KeyMarker="a", VersionIdMarker=ids["a"][0]), full[1:])

    def test_list_versions_pages_over_more_than_1000_versions(self):
        self._enable()
        ids = []
        for i in range(1003):
            ids.append(self.s3.put_object(Bucket=self.b, Key="many", Body=b"%d" % i)["VersionId"])
        self.s3.put_object(Bucket=self.b, Key="other", Body=b"o")
        seen, pages, kw = [], 0, {}
        while True:
            r = self.s3.list_object_versions(Bucket=self.b, **kw)
            pages += 1
            self.assertEqual(r["MaxKeys"], 1000)
            seen.extend((v["Key"], v["VersionId"], v["IsLatest"]) for v in r.get("Versions", []))
            if not r["IsTruncated"]:
                break
            self.assertEqual(len(r["Versions"]), 1000)
            kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
            self.assertEqual((r["NextKeyMarker"], r["NextVersionIdMarker"]), seen[-1][:2])
        self.assertEqual(pages, 2)
        want = [("many", v, i == 0) for i, v in enumerate(reversed(ids))]
        self.assertEqual(seen[:1003], want)
        self.assertEqual([s[0] for s in seen[1003:]], ["other"])
        self.assertEqual(len(seen), 1004)

        # Small pages with max-keys walk the same list.
        small, kw = [], {"MaxKeys": 250, "Prefix": "many"}
        while True:
            r = self.s3.list_object_versions(Bucket=self.b, **kw)
            small.extend((v["Key"], v["VersionId"], v["IsLatest"]) for v in r["Versions"])
            if not r["IsTruncated"]:
                break
            kw.update(KeyMarker=r["NextKeyMarker"], VersionIdMarker=r["NextVersionIdMarker"])
        self.assertEqual(small, want)

    def test_list_versions_encoding_type_url(self):
        self._enable()
        self.s3.put_object(Bucket=self.b, Key="a b+c", Body=b"x")
        st, _, body = self.raw("GET", "/%s" % self.b, query=[("versions", ""),
                                                             ("encoding-type", "url")])
        self.assertEqual(st, 200, body)
        self.assertIn(b"<EncodingType>url</EncodingType>", body)
        self.assertIn(b"<Key>a%20b%2Bc</Key>", body)
