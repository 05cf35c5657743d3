"""Object Lock (issue 5: Versioning, Object Lock and lifecycle).

Buckets created with Object Lock, default retention, COMPLIANCE and
GOVERNANCE retention, legal holds, and the errors S3 answers when a lock
header reaches a bucket without Object Lock. Each refused delete or change
leaves the version, its body and its retention exactly as they were.
"""
import datetime

from kura_harness import ClientError, KuraTestCase

UTC = datetime.timezone.utc


def in_days(days):
    # Whole seconds: S3 keeps retain-until dates at second (or ms) precision.
    return (datetime.datetime.now(UTC) + datetime.timedelta(days=days)).replace(microsecond=0)


class ObjectLock(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("lock", create=False)
        self.s3.create_bucket(Bucket=self.b, ObjectLockEnabledForBucket=True)

    def _versions(self, key):
        r = self.s3.list_object_versions(Bucket=self.b, Prefix=key)
        return sorted(v["VersionId"] for v in r.get("Versions", []) if v["Key"] == key)

    def _retention(self, key, vid):
        r = self.s3.get_object_retention(Bucket=self.b, Key=key, VersionId=vid)["Retention"]
        return r["Mode"], r["RetainUntilDate"]

    def _put_locked(self, key, mode, until, body=b"locked"):
        r = self.s3.put_object(Bucket=self.b, Key=key, Body=body, ObjectLockMode=mode,
                               ObjectLockRetainUntilDate=until)
        return r["VersionId"]

    def _assert_delete_denied(self, key, vid, **kw):
        with self.assertRaises(ClientError) as e:
            self.s3.delete_object(Bucket=self.b, Key=key, VersionId=vid, **kw)
        self.assertClientError(e, "AccessDenied", 403)
        self.assertIn(vid, self._versions(key))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key=key, VersionId=vid)["Body"].read(),
                         b"locked")

    # ---- bucket configuration -----------------------------------------

    def test_lock_bucket_has_versioning_and_a_configuration(self):
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.b)["Status"], "Enabled")
        cfg = self.s3.get_object_lock_configuration(Bucket=self.b)["ObjectLockConfiguration"]
        self.assertEqual(cfg, {"ObjectLockEnabled": "Enabled"})

    def test_versioning_cannot_be_suspended_on_a_lock_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_versioning(Bucket=self.b,
                                          VersioningConfiguration={"Status": "Suspended"})
        self.assertClientError(e, "InvalidBucketState", 409)
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=self.b)["Status"], "Enabled")

    def test_default_retention_applies_to_new_versions_only(self):
        old = self.s3.put_object(Bucket=self.b, Key="old", Body=b"x")["VersionId"]
        rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
        self.s3.put_object_lock_configuration(
            Bucket=self.b, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule})
        cfg = self.s3.get_object_lock_configuration(Bucket=self.b)["ObjectLockConfiguration"]
        self.assertEqual(cfg, {"ObjectLockEnabled": "Enabled", "Rule": rule})

        before = datetime.datetime.now(UTC)
        vid = self.s3.put_object(Bucket=self.b, Key="new", Body=b"y")["VersionId"]
        head = self.s3.head_object(Bucket=self.b, Key="new")
        self.assertEqual(head["ObjectLockMode"], "GOVERNANCE")
        until = head["ObjectLockRetainUntilDate"]
        self.assertLessEqual(abs((until - (before + datetime.timedelta(days=1))).total_seconds()), 120)
        self.assertEqual(self._retention("new", vid), ("GOVERNANCE", until))

        # The version written before the rule has no retention.
        self.assertNotIn("ObjectLockMode", self.s3.head_object(Bucket=self.b, Key="old"))
        with self.assertRaises(ClientError) as e:
            self.s3.get_object_retention(Bucket=self.b, Key="old", VersionId=old)
        self.assertClientError(e, "NoSuchObjectLockConfiguration", 404)
        # ... and can be deleted permanently.
        self.s3.delete_object(Bucket=self.b, Key="old", VersionId=old)
        self.assertEqual(self._versions("old"), [])

    def test_explicit_retention_overrides_the_default(self):
        self.s3.put_object_lock_configuration(Bucket=self.b, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}})
        until = in_days(2)
        vid = self._put_locked("k", "GOVERNANCE", until)
        self.assertEqual(self._retention("k", vid), ("GOVERNANCE", until))

    def test_days_and_years_together_is_malformed_xml(self):
        with self.assertRaises(ClientError) as e:
            self.s3.put_object_lock_configuration(Bucket=self.b, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}})
        self.assertClientError(e, "MalformedXML", 400)
        self.assertEqual(self.s3.get_object_lock_configuration(Bucket=self.b)
                         ["ObjectLockConfiguration"], {"ObjectLockEnabled": "Enabled"})

    # ---- COMPLIANCE ---------------------------------------------------

    def test_compliance_version_cannot_be_deleted_even_with_bypass(self):
        until = in_days(1)
        vid = self._put_locked("c", "COMPLIANCE", until)
        self._assert_delete_denied("c", vid)
        self._assert_delete_denied("c", vid, BypassGovernanceRetention=True)
        self.assertEqual(self._retention("c", vid), ("COMPLIANCE", until))

    def test_compliance_delete_without_version_only_adds_a_marker(self):
        vid = self._put_locked("c", "COMPLIANCE", in_days(1))
        d = self.s3.delete_object(Bucket=self.b, Key="c")
        self.assertTrue(d["DeleteMarker"])
        self.assertEqual(self._versions("c"), [vid])
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="c", VersionId=vid)["Body"].read(),
                         b"locked")

    def test_compliance_retention_can_be_extended_not_shortened_or_weakened(self):
        until = in_days(1)
        vid = self._put_locked("c", "COMPLIANCE", until)
        for name, retention, kw in [
            ("shorten", {"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(hours=1)}, {}),
            ("shorten with bypass",
             {"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(hours=1)},
             {"BypassGovernanceRetention": True}),
            ("to governance", {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(5)}, {}),
        ]:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object_retention(Bucket=self.b, Key="c", VersionId=vid,
                                                 Retention=retention, **kw)
                self.assertClientError(e, "AccessDenied", 403)
                self.assertEqual(self._retention("c", vid), ("COMPLIANCE", until))
        later = in_days(3)
        self.s3.put_object_retention(Bucket=self.b, Key="c", VersionId=vid,
                                     Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
        self.assertEqual(self._retention("c", vid), ("COMPLIANCE", later))
        self._assert_delete_denied("c", vid)

    def test_overwriting_a_locked_key_adds_a_version(self):
        vid = self._put_locked("c", "COMPLIANCE", in_days(1))
        v2 = self.s3.put_object(Bucket=self.b, Key="c", Body=b"newer")["VersionId"]
        self.assertEqual(self._versions("c"), sorted([vid, v2]))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="c")["Body"].read(), b"newer")
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="c", VersionId=vid)["Body"].read(),
                         b"locked")

    def test_delete_objects_reports_access_denied_per_locked_key(self):
        locked = self._put_locked("c", "COMPLIANCE", in_days(1))
        free = self.s3.put_object(Bucket=self.b, Key="free", Body=b"f")["VersionId"]
        r = self.s3.delete_objects(Bucket=self.b, Delete={"Objects": [
            {"Key": "c", "VersionId": locked}, {"Key": "free", "VersionId": free}]})
        self.assertEqual([(d["Key"], d["VersionId"]) for d in r["Deleted"]], [("free", free)])
        (err,) = r["Errors"]
        self.assertEqual((err["Key"], err["VersionId"], err["Code"]), ("c", locked, "AccessDenied"))
        self.assertEqual(self._versions("c"), [locked])
        self.assertEqual(self._versions("free"), [])

    # ---- GOVERNANCE ---------------------------------------------------

    def test_governance_version_deletable_only_with_bypass(self):
        vid = self._put_locked("g", "GOVERNANCE", in_days(1))
        self._assert_delete_denied("g", vid)
        d = self.s3.delete_object(Bucket=self.b, Key="g", VersionId=vid,
                                  BypassGovernanceRetention=True)
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self._versions("g"), [])

    def test_governance_retention_shortened_only_with_bypass(self):
        until = in_days(2)
        vid = self._put_locked("g", "GOVERNANCE", until)
        shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)}
        with self.assertRaises(ClientError) as e:
            self.s3.put_object_retention(Bucket=self.b, Key="g", VersionId=vid, Retention=shorter)
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self._retention("g", vid), ("GOVERNANCE", until))
        self.s3.put_object_retention(Bucket=self.b, Key="g", VersionId=vid, Retention=shorter,
                                     BypassGovernanceRetention=True)
        self.assertEqual(self._retention("g", vid), ("GOVERNANCE", shorter["RetainUntilDate"]))
        # Extending needs no bypass.
        self.s3.put_object_retention(Bucket=self.b, Key="g", VersionId=vid, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
        self.assertEqual(self._retention("g", vid), ("GOVERNANCE", until))

    # ---- legal hold ---------------------------------------------------

    def test_legal_hold_blocks_deletion_until_off(self):
        vid = self.s3.put_object(Bucket=self.b, Key="h", Body=b"locked",
                                 ObjectLockLegalHoldStatus="ON")["VersionId"]
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=self.b, Key="h", VersionId=vid)
                         ["LegalHold"]["Status"], "ON")
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="h")["ObjectLockLegalHoldStatus"], "ON")
        self._assert_delete_denied("h", vid)
        self._assert_delete_denied("h", vid, BypassGovernanceRetention=True)
        self.s3.put_object_legal_hold(Bucket=self.b, Key="h", VersionId=vid,
                                      LegalHold={"Status": "OFF"})
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=self.b, Key="h", VersionId=vid)
                         ["LegalHold"]["Status"], "OFF")
        self.s3.delete_object(Bucket=self.b, Key="h", VersionId=vid)
        self.assertEqual(self._versions("h"), [])

    def test_legal_hold_set_after_upload(self):
        vid = self.s3.put_object(Bucket=self.b, Key="h", Body=b"locked")["VersionId"]
        self.s3.put_object_legal_hold(Bucket=self.b, Key="h", VersionId=vid,
                                      LegalHold={"Status": "ON"})
        self._assert_delete_denied("h", vid)

    # ---- per-object lock on multipart and copy ------------------------

    def test_lock_headers_on_multipart_and_copy(self):
        until = in_days(1)
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="mp", ObjectLockMode="COMPLIANCE",
                                              ObjectLockRetainUntilDate=until)["UploadId"]
        e = self.s3.upload_part(Bucket=self.b, Key="mp", UploadId=uid, PartNumber=1,
                                Body=b"locked")["ETag"]
        vid = self.s3.complete_multipart_upload(
            Bucket=self.b, Key="mp", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})["VersionId"]
        self.assertEqual(self._retention("mp", vid), ("COMPLIANCE", until))
        self._assert_delete_denied("mp", vid)

        cvid = self.s3.copy_object(Bucket=self.b, Key="cp", CopySource={"Bucket": self.b, "Key": "mp"},
                                   ObjectLockMode="GOVERNANCE",
                                   ObjectLockRetainUntilDate=until)["VersionId"]
        self.assertEqual(self._retention("cp", cvid), ("GOVERNANCE", until))
        self._assert_delete_denied("cp", cvid)

    # ---- bad input ----------------------------------------------------

    def test_retain_until_date_in_the_past_is_invalid_argument(self):
        past = datetime.datetime.now(UTC) - datetime.timedelta(days=1)
        with self.assertRaises(ClientError) as e:
            self._put_locked("p", "GOVERNANCE", past)
        self.assertClientError(e, "InvalidArgument", 400)
        self.assertEqual(self._versions("p"), [])

    def test_mode_without_date_is_invalid_argument(self):
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="p", Body=b"x", ObjectLockMode="GOVERNANCE")
        self.assertClientError(e, "InvalidArgument", 400)
        self.assertEqual(self._versions("p"), [])


class ObjectLockOnPlainBucket(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("plain")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"plain")

    def test_get_object_lock_configuration_is_not_found(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_object_lock_configuration(Bucket=self.b)
        self.assertClientError(e, "ObjectLockConfigurationNotFoundError", 404)

    def test_lock_headers_on_put_are_invalid_request(self):
        for name, kw in [
            ("retention", {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": in_days(1)}),
            ("legal hold", {"ObjectLockLegalHoldStatus": "ON"}),
        ]:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object(Bucket=self.b, Key="new", Body=b"x", **kw)
                self.assertClientError(e, "InvalidRequest", 400)
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object(Bucket=self.b, Key="k", Body=b"overwrite", **kw)
                self.assertClientError(e, "InvalidRequest", 400)
        self.assertEqual(self.keys(self.b), ["k"])
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k")["Body"].read(), b"plain")

    def test_retention_and_legal_hold_calls_are_invalid_request(self):
        calls = [
            ("put retention", lambda: self.s3.put_object_retention(
                Bucket=self.b, Key="k",
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)})),
            ("get retention", lambda: self.s3.get_object_retention(Bucket=self.b, Key="k")),
            ("put legal hold", lambda: self.s3.put_object_legal_hold(
                Bucket=self.b, Key="k", LegalHold={"Status": "ON"})),
            ("get legal hold", lambda: self.s3.get_object_legal_hold(Bucket=self.b, Key="k")),
        ]
        for name, call in calls:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    call()
                self.assertClientError(e, "InvalidRequest", 400)
        # The object is still plain and deletable.
        self.assertNotIn("ObjectLockMode", self.s3.head_object(Bucket=self.b, Key="k"))
        self.s3.delete_object(Bucket=self.b, Key="k")
        self.assertEqual(self.keys(self.b), [])

    def test_lock_headers_on_create_multipart_upload_are_invalid_request(self):
        with self.assertRaises(ClientError) as e:
            self.s3.create_multipart_upload(Bucket=self.b, Key="mp", ObjectLockMode="COMPLIANCE",
                                            ObjectLockRetainUntilDate=in_days(1))
        self.assertClientError(e, "InvalidRequest", 400)
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=self.b))
