"""DeleteObjects (POST /bucket?delete) (issue 4: S3 API completeness).

Per-key results, Quiet mode, the 1,000-key limit, malformed bodies, delete
markers on a versioned bucket. A refused request deletes nothing.
"""
import base64
import hashlib

from kura_harness import ClientError, KuraTestCase


def delete_xml(keys, quiet=False):
    objs = "".join("<Object><Key>%s</Key></Object>" % k for k in keys)
    q = "<Quiet>true</Quiet>" if quiet else ""
    return ('<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s%s</Delete>'
            % (q, objs)).encode()


def md5_b64(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


class DeleteObjects(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("del")

    def _put(self, *keys):
        for k in keys:
            self.s3.put_object(Bucket=self.b, Key=k, Body=k.encode())

    def test_per_key_results_include_keys_that_did_not_exist(self):
        self._put("a", "b", "c", "keep")
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [
            {"Key": "a"}, {"Key": "b"}, {"Key": "never-existed"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["a", "b", "never-existed"])
        self.assertNotIn("Errors", r)
        self.assertEqual(self.keys(self.b), ["c", "keep"])

    def test_quiet_mode_reports_only_errors(self):
        self._put("a", "b", "keep")
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}],
                                                          "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.assertNotIn("Errors", r)
        self.assertEqual(self.keys(self.b), ["keep"])

    def test_keys_needing_xml_escaping(self):
        keys = ["a&b", "<tag>", "quote\"'", "sp ace/ünï"]
        self._put(*keys)
        self._put("keep")
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [{"Key": k} for k in keys]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), sorted(keys))
        self.assertEqual(self.keys(self.b), ["keep"])

    def test_exactly_1000_keys_are_accepted(self):
        self._put("x0", "x999", "keep")
        r = self.s3.delete_objects(Bucket=self.b, Delete={
            "Objects": [{"Key": "x%d" % i} for i in range(1000)], "Quiet": True})
        self.assertNotIn("Errors", r)
        self.assertEqual(self.keys(self.b), ["keep"])

    def test_more_than_1000_keys_is_malformed_xml_and_deletes_nothing(self):
        self._put("x0", "x1", "x1000")
        with self.assertRaises(ClientError) as e:
            self.s3.delete_objects(Bucket=self.b, Delete={
                "Objects": [{"Key": "x%d" % i} for i in range(1001)]})
        self.assertClientError(e, "MalformedXML", 400)
        self.assertEqual(self.keys(self.b), ["x0", "x1", "x1000"])

    def test_malformed_bodies_are_malformed_xml(self):
        self._put("a")
        bodies = [
            b"<Delete><Object><Key>a</Key></Object>",        # truncated
            b"not xml at all",
            b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Delete>',  # no objects
        ]
        for body in bodies:
            with self.subTest(body=body[:30]):
                st, _, resp = self.raw("POST", "/%s" % self.b, query=[("delete", "")], body=body,
                                       headers={"Content-MD5": md5_b64(body)})
                self.assertEqual(st, 400, resp)
                self.assertIn(b"<Code>MalformedXML</Code>", resp)
        self.assertEqual(self.keys(self.b), ["a"])

    def test_missing_content_md5_and_checksum_is_invalid_request(self):
        # S3: "Content-MD5 or x-amz-checksum-* is required for Multi-Object Delete".
        self._put("a")
        body = delete_xml(["a"])
        st, _, resp = self.raw("POST", "/%s" % self.b, query=[("delete", "")], body=body)
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidRequest</Code>", resp)
        self.assertEqual(self.keys(self.b), ["a"])

    def test_wrong_content_md5_is_bad_digest(self):
        self._put("a")
        body = delete_xml(["a"])
        st, _, resp = self.raw("POST", "/%s" % self.b, query=[("delete", "")], body=body,
                               headers={"Content-MD5": md5_b64(b"other")})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>BadDigest</Code>", resp)
        self.assertEqual(self.keys(self.b), ["a"])

    def test_raw_quiet_response_is_an_empty_delete_result(self):
        self._put("a")
        body = delete_xml(["a"], quiet=True)
        st, hdrs, resp = self.raw("POST", "/%s" % self.b, query=[("delete", "")], body=body,
                                  headers={"Content-MD5": md5_b64(body)})
        self.assertEqual(st, 200, resp)
        self.assertIn(b"<DeleteResult", resp)
        self.assertNotIn(b"<Deleted>", resp)
        self.assertEqual(self.keys(self.b), [])

    def test_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.delete_objects(Bucket="no-such-bucket-kura",
                                   Delete={"Objects": [{"Key": "a"}]})
        self.assertClientError(e, "NoSuchBucket", 404)


class DeleteObjectsVersioned(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("delv")
        self.s3.put_bucket_versioning(Bucket=self.b,
                                      VersioningConfiguration={"Status": "Enabled"})

    def _versions(self):
        r = self.s3.list_object_versions(Bucket=self.b)
        return ([(v["Key"], v["VersionId"], v["IsLatest"]) for v in r.get("Versions", [])],
                [(m["Key"], m["VersionId"], m["IsLatest"]) for m in r.get("DeleteMarkers", [])])

    def test_delete_without_version_creates_markers(self):
        v1 = self.s3.put_object(Bucket=self.b, Key="a", Body=b"a")["VersionId"]
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [{"Key": "a"}]})
        (d,) = r["Deleted"]
        self.assertEqual(d["Key"], "a")
        self.assertTrue(d["DeleteMarker"])
        marker = d["DeleteMarkerVersionId"]
        self.assertNotEqual(marker, v1)
        versions, markers = self._versions()
        self.assertEqual(versions, [("a", v1, False)])
        self.assertEqual(markers, [("a", marker, True)])
        self.assertEqual(self.keys(self.b), [])

    def test_delete_with_version_ids_is_permanent(self):
        v1 = self.s3.put_object(Bucket=self.b, Key="a", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=self.b, Key="a", Body=b"two")["VersionId"]
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [
            {"Key": "a", "VersionId": v2}]})
        (d,) = r["Deleted"]
        self.assertEqual((d["Key"], d["VersionId"]), ("a", v2))
        self.assertNotIn("DeleteMarker", d)
        self.assertEqual(self._versions(), ([("a", v1, True)], []))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="a")["Body"].read(), b"one")

    def test_deleting_a_delete_marker_by_version_restores_the_object(self):
        v1 = self.s3.put_object(Bucket=self.b, Key="a", Body=b"one")["VersionId"]
        marker = self.s3.delete_object(Bucket=self.b, Key="a")["VersionId"]
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [
            {"Key": "a", "VersionId": marker}]})
        (d,) = r["Deleted"]
        self.assertEqual(d["VersionId"], marker)
        self.assertTrue(d["DeleteMarker"])
        self.assertEqual(d.get("DeleteMarkerVersionId"), marker)
        self.assertEqual(self._versions(), ([("a", v1, True)], []))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="a")["Body"].read(), b"one")
