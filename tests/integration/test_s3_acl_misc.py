"""ACLs as a bucket-owner-enforced bucket answers them, ownership controls,
request payment, GetObjectAttributes and x-amz-expected-bucket-owner
(issue 4: "Also: ..." and the ACL part of "Users and policies").

Every refused request is checked for its exact code and status and for
leaving the bucket and its objects as they were.
"""
import base64
import hashlib
import json
import os
import zlib

from kura_harness import ClientError, KuraTestCase, md5_etag

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class Acls(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("acl")
        self.owner = self.s3.list_buckets()["Owner"]["ID"]

    def assertOwnerOnly(self, acl):
        self.assertEqual(acl["Owner"]["ID"], self.owner)
        self.assertEqual(len(acl["Grants"]), 1, acl["Grants"])
        g = acl["Grants"][0]
        self.assertEqual(g["Permission"], "FULL_CONTROL")
        self.assertEqual(g["Grantee"]["Type"], "CanonicalUser")
        self.assertEqual(g["Grantee"]["ID"], self.owner)

    def owner_policy(self, extra_grants=()):
        grants = [{"Grantee": {"Type": "CanonicalUser", "ID": self.owner},
                   "Permission": "FULL_CONTROL"}] + list(extra_grants)
        return {"Owner": {"ID": self.owner}, "Grants": grants}

    def test_get_bucket_acl_is_owner_full_control(self):
        self.assertOwnerOnly(self.s3.get_bucket_acl(Bucket=self.b))

    def test_get_object_acl_is_owner_full_control(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        self.assertOwnerOnly(self.s3.get_object_acl(Bucket=self.b, Key="k"))

    def test_get_object_acl_of_a_missing_key_is_no_such_key(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_object_acl(Bucket=self.b, Key="missing")
        self.assertClientError(e, "NoSuchKey", 404)

    def test_get_bucket_acl_of_a_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_acl(Bucket="no-such-bucket-acl")
        self.assertClientError(e, "NoSuchBucket", 404)

    def test_put_bucket_acl_private_is_accepted_and_public_read_is_not_supported(self):
        self.s3.put_bucket_acl(Bucket=self.b, ACL="private")
        for canned in ("public-read", "public-read-write", "authenticated-read"):
            with self.subTest(acl=canned):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_bucket_acl(Bucket=self.b, ACL=canned)
                self.assertClientError(e, "AccessControlListNotSupported", 400)
                self.assertOwnerOnly(self.s3.get_bucket_acl(Bucket=self.b))

    def test_put_bucket_acl_body_with_owner_only_is_accepted_and_others_not(self):
        self.s3.put_bucket_acl(Bucket=self.b, AccessControlPolicy=self.owner_policy())
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_acl(Bucket=self.b, AccessControlPolicy=self.owner_policy([
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]))
        self.assertClientError(e, "AccessControlListNotSupported", 400)
        self.assertOwnerOnly(self.s3.get_bucket_acl(Bucket=self.b))

    def test_put_object_acl_private_is_accepted_and_public_read_is_not_supported(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        self.s3.put_object_acl(Bucket=self.b, Key="k", ACL="private")
        self.s3.put_object_acl(Bucket=self.b, Key="k", ACL="bucket-owner-full-control")
        with self.assertRaises(ClientError) as e:
            self.s3.put_object_acl(Bucket=self.b, Key="k", ACL="public-read")
        self.assertClientError(e, "AccessControlListNotSupported", 400)
        with self.assertRaises(ClientError) as e:
            self.s3.put_object_acl(Bucket=self.b, Key="k", AccessControlPolicy=self.owner_policy([
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]))
        self.assertClientError(e, "AccessControlListNotSupported", 400)
        self.assertOwnerOnly(self.s3.get_object_acl(Bucket=self.b, Key="k"))

    def test_put_object_acl_of_a_missing_key_is_no_such_key(self):
        with self.assertRaises(ClientError) as e:
            self.s3.put_object_acl(Bucket=self.b, Key="missing", ACL="private")
        self.assertClientError(e, "NoSuchKey", 404)
        self.assertEqual(self.keys(self.b), [])

    def test_put_object_with_a_public_acl_is_not_supported_and_stores_nothing(self):
        for kw in ({"ACL": "public-read"}, {"ACL": "public-read-write"},
                   {"GrantRead": 'uri="%s"' % ALL_USERS}):
            with self.subTest(**kw):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object(Bucket=self.b, Key="pub", Body=b"x", **kw)
                self.assertClientError(e, "AccessControlListNotSupported", 400)
        self.assertEqual(self.keys(self.b), [])

    def test_put_object_with_owner_acls_is_accepted(self):
        self.s3.put_object(Bucket=self.b, Key="a", Body=b"x", ACL="private")
        self.s3.put_object(Bucket=self.b, Key="b", Body=b"x", ACL="bucket-owner-full-control")
        self.assertEqual(self.keys(self.b), ["a", "b"])

    def test_multipart_and_copy_with_a_public_acl_are_not_supported(self):
        self.s3.put_object(Bucket=self.b, Key="src", Body=b"x")
        with self.assertRaises(ClientError) as e:
            self.s3.create_multipart_upload(Bucket=self.b, Key="mp", ACL="public-read")
        self.assertClientError(e, "AccessControlListNotSupported", 400)
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="dst", ACL="public-read",
                                CopySource={"Bucket": self.b, "Key": "src"})
        self.assertClientError(e, "AccessControlListNotSupported", 400)
        self.assertEqual(self.keys(self.b), ["src"])
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.b).get("Uploads", []), [])

    def test_create_bucket_with_a_public_acl_is_refused(self):
        # S3 User Guide, "Controlling ownership of objects and disabling ACLs":
        # with BucketOwnerEnforced, CreateBucket with an ACL other than the
        # owner's full control fails with InvalidBucketAclWithObjectOwnership.
        name = self.new_bucket(create=False)
        with self.assertRaises(ClientError) as e:
            self.s3.create_bucket(Bucket=name, ACL="public-read")
        self.assertClientError(e, "InvalidBucketAclWithObjectOwnership", 400)
        self.assertNotIn(name, self.bucket_names())
        name2 = self.new_bucket(create=False)
        self.s3.create_bucket(Bucket=name2, ACL="private")
        self.assertIn(name2, self.bucket_names())


class OwnershipAndPayment(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("own")

    def ownership(self):
        r = self.s3.get_bucket_ownership_controls(Bucket=self.b)
        return [x["ObjectOwnership"] for x in r["OwnershipControls"]["Rules"]]

    def test_default_ownership_is_bucket_owner_enforced(self):
        self.assertEqual(self.ownership(), ["BucketOwnerEnforced"])

    def test_put_bucket_owner_enforced_is_accepted(self):
        self.s3.put_bucket_ownership_controls(Bucket=self.b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(self.ownership(), ["BucketOwnerEnforced"])

    def test_other_ownership_settings_are_invalid_request(self):
        for setting in ("ObjectWriter", "BucketOwnerPreferred"):
            with self.subTest(setting=setting):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_bucket_ownership_controls(Bucket=self.b, OwnershipControls={
                        "Rules": [{"ObjectOwnership": setting}]})
                self.assertClientError(e, "InvalidRequest", 400)
                self.assertEqual(self.ownership(), ["BucketOwnerEnforced"])

    def test_malformed_ownership_controls_are_malformed_xml(self):
        body = b"<OwnershipControls><Rule><ObjectOwnership>"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        st, _, resp = self.raw("PUT", "/%s" % self.b, query=[("ownershipControls", "")],
                               body=body, headers={"Content-MD5": md5})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>MalformedXML</Code>", resp)
        self.assertEqual(self.ownership(), ["BucketOwnerEnforced"])

    def test_delete_ownership_controls(self):
        r = self.s3.delete_bucket_ownership_controls(Bucket=self.b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        # kura keeps ACLs disabled in every bucket (docs/compatibility.md:
        # "GetBucketOwnershipControls: always BucketOwnerEnforced"), where AWS
        # would answer OwnershipControlsNotFoundError and re-enable ACLs.
        self.assertEqual(self.ownership(), ["BucketOwnerEnforced"])
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_acl(Bucket=self.b, ACL="public-read")
        self.assertClientError(e, "AccessControlListNotSupported", 400)

    def test_ownership_of_a_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_ownership_controls(Bucket="no-such-bucket-own")
        self.assertClientError(e, "NoSuchBucket", 404)

    def test_request_payment_is_bucket_owner(self):
        r = self.s3.get_bucket_request_payment(Bucket=self.b)
        self.assertEqual(r["Payer"], "BucketOwner")
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_request_payment(Bucket="no-such-bucket-pay")
        self.assertClientError(e, "NoSuchBucket", 404)


class ObjectAttributes(KuraTestCase):
    ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    def setUp(self):
        self.b = self.new_bucket("attr")

    def attrs(self, key, **kw):
        return self.s3.get_object_attributes(Bucket=self.b, Key=key,
                                             ObjectAttributes=kw.pop("attrs", self.ALL), **kw)

    def test_single_part_object(self):
        data = b"attributes!"
        self.s3.put_object(Bucket=self.b, Key="k", Body=data, ChecksumAlgorithm="CRC32")
        r = self.attrs("k")
        # GetObjectAttributes answers the ETag without quotes.
        self.assertEqual(r["ETag"], md5_etag(data).strip('"'))
        self.assertEqual(r["Checksum"]["ChecksumCRC32"], crc32_b64(data))
        self.assertEqual(r["ObjectSize"], len(data))
        self.assertEqual(r["StorageClass"], "STANDARD")
        self.assertNotIn("ObjectParts", r)
        self.assertIn("LastModified", r)

    def test_only_the_requested_attributes_are_returned(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"abc")
        r = self.attrs("k", attrs=["ObjectSize"])
        self.assertEqual(r["ObjectSize"], 3)
        for a in ("ETag", "Checksum", "StorageClass", "ObjectParts"):
            self.assertNotIn(a, r)

    def test_storage_class_is_reported(self):
        self.s3.put_object(Bucket=self.b, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
        self.assertEqual(self.attrs("ia", attrs=["StorageClass"])["StorageClass"], "STANDARD_IA")

    def _multipart(self):
        p1, p2 = os.urandom(5 << 20), os.urandom(1024)
        up = self.s3.create_multipart_upload(Bucket=self.b, Key="mp",
                                             ChecksumAlgorithm="CRC32")["UploadId"]
        parts = []
        for n, data in ((1, p1), (2, p2)):
            r = self.s3.upload_part(Bucket=self.b, Key="mp", UploadId=up, PartNumber=n,
                                    Body=data, ChecksumAlgorithm="CRC32")
            parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        done = self.s3.complete_multipart_upload(Bucket=self.b, Key="mp", UploadId=up,
                                                 MultipartUpload={"Parts": parts})
        return p1, p2, done

    def test_multipart_object_etag_size_checksum_and_parts(self):
        p1, p2, done = self._multipart()
        r = self.attrs("mp")
        self.assertEqual(r["ETag"], done["ETag"].strip('"'))
        self.assertTrue(r["ETag"].endswith("-2"))
        self.assertEqual(r["ObjectSize"], len(p1) + len(p2))
        self.assertTrue(r["Checksum"]["ChecksumCRC32"].endswith("-2"))
        self.assertEqual(r["Checksum"]["ChecksumType"], "COMPOSITE")
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in r["ObjectParts"]["Parts"]],
                         [(1, len(p1)), (2, len(p2))])

    def test_multipart_object_parts_count(self):
        # The wire element is <PartsCount> (boto3 calls it TotalPartsCount).
        self._multipart()
        op = self.attrs("mp", attrs=["ObjectParts"])["ObjectParts"]
        self.assertEqual(op.get("TotalPartsCount"), 2, op)

    def test_multipart_object_parts_carry_their_checksums(self):
        # API Reference, ObjectPart: ChecksumCRC32 "is present if the multipart
        # upload request was created with the CRC32 checksum algorithm".
        p1, p2, _ = self._multipart()
        op = self.attrs("mp", attrs=["ObjectParts"])["ObjectParts"]
        self.assertEqual([p.get("ChecksumCRC32") for p in op["Parts"]],
                         [crc32_b64(p1), crc32_b64(p2)])

    def test_multipart_object_parts_are_paged(self):
        self._multipart()
        first = self.attrs("mp", attrs=["ObjectParts"], MaxParts=1)["ObjectParts"]
        self.assertTrue(first["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in first["Parts"]], [1])
        self.assertEqual(first["NextPartNumberMarker"], 1)
        rest = self.attrs("mp", attrs=["ObjectParts"], MaxParts=1,
                          PartNumberMarker=first["NextPartNumberMarker"])["ObjectParts"]
        self.assertFalse(rest["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in rest["Parts"]], [2])

    def test_versioned_object_attributes(self):
        self.s3.put_bucket_versioning(Bucket=self.b,
                                      VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")["VersionId"]
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"three")
        r = self.attrs("k", attrs=["ObjectSize"], VersionId=v1)
        self.assertEqual(r["ObjectSize"], 3)
        self.assertEqual(r["VersionId"], v1)
        self.assertEqual(self.attrs("k", attrs=["ObjectSize"])["ObjectSize"], 5)

    def test_missing_key_is_no_such_key(self):
        with self.assertRaises(ClientError) as e:
            self.attrs("missing")
        self.assertClientError(e, "NoSuchKey", 404)

    def test_missing_attributes_header_is_invalid_argument(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")
        st, _, resp = self.raw("GET", "/%s/k" % self.b, query=[("attributes", "")])
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidArgument</Code>", resp)


class ExpectedBucketOwner(KuraTestCase):
    WRONG = "111122223333"

    def setUp(self):
        self.b = self.new_bucket("ebo")
        with open(os.path.join(self.data_dir, "credentials")) as f:
            self.account = json.load(f)["account_id"]
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"x")

    def test_right_owner_is_accepted(self):
        eo = {"ExpectedBucketOwner": self.account}
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k", **eo)["Body"].read(), b"x")
        self.s3.put_object(Bucket=self.b, Key="k2", Body=b"y", **eo)
        self.s3.list_objects_v2(Bucket=self.b, **eo)
        self.s3.head_bucket(Bucket=self.b, **eo)
        self.assertEqual(self.keys(self.b), ["k", "k2"])

    def test_wrong_owner_is_access_denied_and_changes_nothing(self):
        eo = {"ExpectedBucketOwner": self.WRONG}
        calls = [
            lambda: self.s3.get_object(Bucket=self.b, Key="k", **eo),
            lambda: self.s3.put_object(Bucket=self.b, Key="new", Body=b"y", **eo),
            lambda: self.s3.delete_object(Bucket=self.b, Key="k", **eo),
            lambda: self.s3.list_objects_v2(Bucket=self.b, **eo),
            lambda: self.s3.get_bucket_acl(Bucket=self.b, **eo),
            lambda: self.s3.put_object_tagging(Bucket=self.b, Key="k", Tagging={
                "TagSet": [{"Key": "a", "Value": "b"}]}, **eo),
            lambda: self.s3.delete_bucket(Bucket=self.b, **eo),
        ]
        for i, call in enumerate(calls):
            with self.subTest(call=i):
                with self.assertRaises(ClientError) as e:
                    call()
                self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="k", **eo)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(self.keys(self.b), ["k"])
        self.assertEqual(self.s3.get_object_tagging(Bucket=self.b, Key="k")["TagSet"], [])

    def test_wrong_source_owner_on_copy_is_access_denied(self):
        with self.assertRaises(ClientError) as e:
            self.s3.copy_object(Bucket=self.b, Key="copy", CopySource={"Bucket": self.b,
                                                                       "Key": "k"},
                                ExpectedSourceBucketOwner=self.WRONG)
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.keys(self.b), ["k"])
        self.s3.copy_object(Bucket=self.b, Key="copy", CopySource={"Bucket": self.b, "Key": "k"},
                            ExpectedSourceBucketOwner=self.account,
                            ExpectedBucketOwner=self.account)
        self.assertEqual(self.keys(self.b), ["copy", "k"])
