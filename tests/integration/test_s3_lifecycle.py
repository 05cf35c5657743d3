"""Bucket lifecycle (issue 5: "Lifecycle").

The configuration calls and their validation run against a plain server;
the rules themselves run against a server started with --test-clock, where
`POST /kura/admin/clock?advance=SECONDS` moves the service clock and
`POST /kura/admin/lifecycle` applies the rules now. S3 measures ages in whole
days rounded up to the next midnight UTC, so an object with "Days: 1" is
due between 24 and 48 hours after it was written: tests check that nothing
happens before 24 hours and that the action happened after 49.
"""
import base64
import datetime
import hashlib
import json

import kura_harness
from kura_harness import ClientError, KuraTestCase
from test_s3_policies import admin

UTC = datetime.timezone.utc
HOUR = 3600
DAY = 86400


def rule(rid, filt=None, status="Enabled", **actions):
    r = {"ID": rid, "Status": status, "Filter": filt if filt is not None else {}}
    r.update(actions)
    return r


class LifecycleConfiguration(KuraTestCase):
    """Put/Get/DeleteBucketLifecycleConfiguration and their errors."""

    def setUp(self):
        self.b = self.new_bucket("lc")

    def put(self, *rules, bucket=None):
        return self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket or self.b, LifecycleConfiguration={"Rules": list(rules)})

    def rules(self):
        return self.s3.get_bucket_lifecycle_configuration(Bucket=self.b)["Rules"]

    def assertRefused(self, code, status, *rules):
        before = self.rules()
        with self.assertRaises(ClientError) as e:
            self.put(*rules)
        self.assertClientError(e, code, status)
        self.assertEqual(self.rules(), before)

    GOOD = rule("keep-me", {"Prefix": "logs/"}, Expiration={"Days": 7})

    def test_get_without_a_configuration_is_no_such_lifecycle_configuration(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_lifecycle_configuration(Bucket=self.b)
        self.assertClientError(e, "NoSuchLifecycleConfiguration", 404)

    def test_round_trip_and_delete(self):
        rules = [
            self.GOOD,
            rule("tags", {"And": {"Prefix": "t/", "Tags": [{"Key": "a", "Value": "1"},
                                                          {"Key": "b", "Value": "2"}]}},
                 Expiration={"Days": 30}),
            rule("size", {"ObjectSizeGreaterThan": 1024}, status="Disabled",
                 Expiration={"Date": datetime.datetime(2030, 1, 1, tzinfo=UTC)}),
            rule("nc", {"Tag": {"Key": "k", "Value": "v"}},
                 NoncurrentVersionExpiration={"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}),
            rule("mpu", {"Prefix": ""}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),
            rule("markers", {}, Expiration={"ExpiredObjectDeleteMarker": True}),
            rule("ia", {"Prefix": "cold/"}, Transitions=[{"Days": 30,
                                                          "StorageClass": "STANDARD_IA"}]),
        ]
        self.put(*rules)
        got = {r["ID"]: r for r in self.rules()}
        self.assertEqual(sorted(got), sorted(r["ID"] for r in rules))
        self.assertEqual(got["keep-me"]["Filter"], {"Prefix": "logs/"})
        self.assertEqual(got["keep-me"]["Expiration"], {"Days": 7})
        self.assertEqual(got["tags"]["Filter"]["And"]["Prefix"], "t/")
        self.assertEqual(len(got["tags"]["Filter"]["And"]["Tags"]), 2)
        self.assertEqual(got["size"]["Status"], "Disabled")
        self.assertEqual(got["size"]["Expiration"]["Date"],
                         datetime.datetime(2030, 1, 1, tzinfo=UTC))
        self.assertEqual(got["nc"]["NoncurrentVersionExpiration"],
                         {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2})
        self.assertEqual(got["mpu"]["AbortIncompleteMultipartUpload"],
                         {"DaysAfterInitiation": 2})
        self.assertEqual(got["markers"]["Expiration"], {"ExpiredObjectDeleteMarker": True})
        self.assertEqual(got["ia"]["Transitions"], [{"Days": 30, "StorageClass": "STANDARD_IA"}])

        r = self.s3.delete_bucket_lifecycle(Bucket=self.b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_lifecycle_configuration(Bucket=self.b)
        self.assertClientError(e, "NoSuchLifecycleConfiguration", 404)

    def test_a_new_configuration_replaces_the_old_one(self):
        self.put(self.GOOD)
        self.put(rule("other", {}, Expiration={"Days": 1}))
        self.assertEqual([r["ID"] for r in self.rules()], ["other"])

    def test_duplicate_rule_ids_are_invalid_argument(self):
        self.put(self.GOOD)
        self.assertRefused("InvalidArgument", 400,
                           rule("same", {}, Expiration={"Days": 1}),
                           rule("same", {"Prefix": "x/"}, Expiration={"Days": 2}))

    def test_rule_without_an_action_is_invalid_request(self):
        self.put(self.GOOD)
        self.assertRefused("InvalidRequest", 400, rule("nothing", {"Prefix": "a/"}))

    def test_zero_days_is_invalid_argument(self):
        self.put(self.GOOD)
        self.assertRefused("InvalidArgument", 400, rule("zero", {}, Expiration={"Days": 0}))
        self.assertRefused("InvalidArgument", 400, rule(
            "zero-nc", {}, NoncurrentVersionExpiration={"NoncurrentDays": 0}))

    def test_date_not_at_midnight_is_invalid_argument(self):
        self.put(self.GOOD)
        self.assertRefused("InvalidArgument", 400, rule(
            "noon", {}, Expiration={"Date": datetime.datetime(2030, 1, 1, 12, tzinfo=UTC)}))

    def test_filter_and_prefix_together_are_malformed_xml(self):
        self.put(self.GOOD)
        r = rule("both", {"Prefix": "a/"}, Expiration={"Days": 1})
        r["Prefix"] = "a/"
        self.assertRefused("MalformedXML", 400, r)

    def test_bad_status_is_malformed_xml(self):
        self.put(self.GOOD)
        self.assertRefused("MalformedXML", 400,
                           rule("st", {}, status="Sometimes", Expiration={"Days": 1}))

    def test_rule_id_over_255_characters_is_invalid_argument(self):
        self.put(self.GOOD)
        self.assertRefused("InvalidArgument", 400, rule("x" * 256, {}, Expiration={"Days": 1}))

    def test_standard_ia_transition_before_30_days_is_invalid_argument(self):
        # S3 User Guide, "Transitioning objects": objects must be stored at
        # least 30 days before transitioning to STANDARD_IA or ONEZONE_IA.
        self.put(self.GOOD)
        self.assertRefused("InvalidArgument", 400, rule(
            "early-ia", {}, Transitions=[{"Days": 1, "StorageClass": "STANDARD_IA"}]))

    def _raw_put(self, body, headers):
        return self.raw("PUT", "/%s" % self.b, query=[("lifecycle", "")], body=body,
                        headers=headers)

    XML = (b'<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>'
           b'<ID>raw</ID><Filter><Prefix>r/</Prefix></Filter><Status>Enabled</Status>'
           b'<Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>')

    def test_without_content_md5_or_checksum_is_invalid_request(self):
        self.put(self.GOOD)
        st, _, resp = self._raw_put(self.XML, {})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidRequest</Code>", resp)
        self.assertEqual(self.rules(), [self.GOOD])

    def test_raw_put_with_content_md5_and_wrong_md5(self):
        md5 = base64.b64encode(hashlib.md5(self.XML).digest()).decode()
        st, _, resp = self._raw_put(self.XML, {"Content-MD5": md5})
        self.assertEqual(st, 200, resp)
        self.assertEqual([r["ID"] for r in self.rules()], ["raw"])
        bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        st, _, resp = self._raw_put(self.XML.replace(b"raw", b"new"), {"Content-MD5": bad})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>BadDigest</Code>", resp)
        self.assertEqual([r["ID"] for r in self.rules()], ["raw"])

    def test_malformed_xml_body_is_malformed_xml(self):
        self.put(self.GOOD)
        for body in (b"<LifecycleConfiguration><Rule>", b"not xml at all",
                     b"<Other><Rule/></Other>"):
            with self.subTest(body=body):
                md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
                st, _, resp = self._raw_put(body, {"Content-MD5": md5})
                self.assertEqual(st, 400, resp)
                self.assertIn(b"<Code>MalformedXML</Code>", resp)
                self.assertEqual(self.rules(), [self.GOOD])

    def test_missing_bucket_is_no_such_bucket(self):
        with self.assertRaises(ClientError) as e:
            self.put(self.GOOD, bucket="no-such-bucket-lc")
        self.assertClientError(e, "NoSuchBucket", 404)

    def test_clock_cannot_be_advanced_without_test_clock(self):
        before = admin(self, "GET", "/kura/admin/clock")[1]
        status, body = admin(self, "POST", "/kura/admin/clock", query=[("advance", "86400")])
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "AccessDenied")
        self.assertEqual(admin(self, "GET", "/kura/admin/clock")[1]["offset_ms"],
                         before["offset_ms"])


class ClockedCase(KuraTestCase):
    """A KuraTestCase whose server runs with --test-clock (the harness has no
    class-level hook for server arguments, so this wraps its KuraServer)."""

    server_args = ["--test-clock", "--lifecycle-interval", "86400"]

    @classmethod
    def setUpClass(cls):
        orig = kura_harness.KuraServer
        kura_harness.KuraServer = lambda d, **kw: orig(d, extra_args=cls.server_args, **kw)
        try:
            super().setUpClass()
        finally:
            kura_harness.KuraServer = orig

    def advance(self, seconds):
        status, body = admin(self, "POST", "/kura/admin/clock", query=[("advance", str(seconds))])
        self.assertEqual(status, 200, body)

    def now(self):
        status, body = admin(self, "GET", "/kura/admin/clock")
        self.assertEqual(status, 200, body)
        return datetime.datetime.fromisoformat(body["now"].replace("Z", "+00:00"))

    def run_lifecycle(self):
        status, body = admin(self, "POST", "/kura/admin/lifecycle")
        self.assertEqual(status, 200, body)
        return body["actions"]

    def bucket(self, versioned=False, lock=False, *rules):
        b = self.new_bucket("lcw", create=False)
        if lock:
            self.s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
        else:
            self.s3.create_bucket(Bucket=b)
        if versioned and not lock:
            self.s3.put_bucket_versioning(Bucket=b,
                                          VersioningConfiguration={"Status": "Enabled"})
        if rules:
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=b, LifecycleConfiguration={"Rules": list(rules)})
            # Keep other tests' runs (and their action counts) to their own buckets.
            self.addCleanup(self.s3.delete_bucket_lifecycle, Bucket=b)
        return b

    def versions(self, b):
        r = self.s3.list_object_versions(Bucket=b)
        out = [(v["Key"], v["VersionId"], "v", v["IsLatest"]) for v in r.get("Versions", [])]
        out += [(m["Key"], m["VersionId"], "dm", m["IsLatest"]) for m in r.get("DeleteMarkers", [])]
        return sorted(out, key=lambda t: (t[0], t[2], t[1]))   # key, then markers first


class LifecycleWorker(ClockedCase):
    def test_clock_advances_only_forward_and_shows_the_offset(self):
        t0 = self.now()
        self.advance(2 * HOUR)
        self.assertGreaterEqual((self.now() - t0).total_seconds(), 2 * HOUR)
        status, body = admin(self, "POST", "/kura/admin/clock", query=[("advance", "-5")])
        self.assertEqual((status, body["error"]["code"]), (400, "InvalidArgument"))

    def test_expiration_days_deletes_an_unversioned_object(self):
        b = self.bucket(False, False, rule("exp", {}, Expiration={"Days": 1}))
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.advance(23 * HOUR)
        self.assertEqual(self.run_lifecycle(), 0)
        self.assertEqual(self.keys(b), ["k"])
        self.advance(26 * HOUR)
        self.assertEqual(self.run_lifecycle(), 1)
        self.assertEqual(self.keys(b), [])
        self.assertEqual(self.versions(b), [])
        self.assertEqual(self.run_lifecycle(), 0)             # idempotent

    def test_expiration_days_on_a_versioned_bucket_adds_a_delete_marker(self):
        b = self.bucket(True, False, rule("exp", {}, Expiration={"Days": 1}))
        vid = self.s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
        self.advance(49 * HOUR)
        self.assertEqual(self.run_lifecycle(), 1)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "NoSuchKey", 404)
        vs = self.versions(b)
        self.assertEqual([(k, kind, latest) for k, _, kind, latest in vs],
                         [("k", "dm", True), ("k", "v", False)])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k", VersionId=vid)["Body"].read(),
                         b"x")
        # The latest is already a delete marker: a second run adds no other.
        self.advance(2 * DAY)
        self.run_lifecycle()
        self.assertEqual(len(self.versions(b)), 2)

    def test_expiration_date(self):
        now = self.now()
        date = datetime.datetime(now.year, now.month, now.day, tzinfo=UTC) + \
            datetime.timedelta(days=3)
        b = self.bucket(False, False, rule("date", {}, Expiration={"Date": date}))
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.advance(DAY)
        self.run_lifecycle()
        self.assertEqual(self.keys(b), ["k"])
        self.advance(3 * DAY)
        self.run_lifecycle()
        self.assertEqual(self.keys(b), [])

    def test_prefix_filter(self):
        b = self.bucket(False, False, rule("logs", {"Prefix": "logs/"}, Expiration={"Days": 1}))
        for k in ("logs/a", "logs/b", "data/a", "logsx"):
            self.s3.put_object(Bucket=b, Key=k, Body=b"x")
        self.advance(49 * HOUR)
        self.assertEqual(self.run_lifecycle(), 2)
        self.assertEqual(self.keys(b), ["data/a", "logsx"])

    def test_tag_and_and_filters(self):
        b = self.bucket(False, False,
                        rule("tag", {"Tag": {"Key": "temp", "Value": "yes"}},
                             Expiration={"Days": 1}),
                        rule("and", {"And": {"Prefix": "x/", "Tags": [
                            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
                             Expiration={"Days": 1}))
        puts = {"t1": "temp=yes", "t2": "temp=no", "t3": "", "x/both": "a=1&b=2",
                "x/one": "a=1", "y/both": "a=1&b=2", "x/extra": "a=1&b=2&c=3"}
        for k, tags in puts.items():
            self.s3.put_object(Bucket=b, Key=k, Body=b"x", Tagging=tags)
        self.advance(49 * HOUR)
        self.run_lifecycle()
        self.assertEqual(self.keys(b), ["t2", "t3", "x/one", "y/both"])

    def test_object_size_filters(self):
        b = self.bucket(False, False,
                        rule("mid", {"And": {"Prefix": "m/", "ObjectSizeGreaterThan": 10,
                                             "ObjectSizeLessThan": 100}},
                             Expiration={"Days": 1}),
                        rule("big", {"ObjectSizeGreaterThan": 1000}, Expiration={"Days": 1}))
        sizes = {"m/10": 10, "m/11": 11, "m/99": 99, "m/100": 100, "b/1000": 1000,
                 "b/1001": 1001, "b/20000": 20000}
        for k, n in sizes.items():
            self.s3.put_object(Bucket=b, Key=k, Body=b"z" * n)
        self.advance(49 * HOUR)
        self.run_lifecycle()
        # Greater/LessThan are strict, as S3 documents.
        self.assertEqual(self.keys(b), ["b/1000", "m/10", "m/100"])

    def test_expired_object_delete_marker_is_removed_only_when_alone(self):
        b = self.bucket(True, False, rule("markers", {},
                                          Expiration={"ExpiredObjectDeleteMarker": True}))
        v_alone = self.s3.put_object(Bucket=b, Key="alone", Body=b"x")["VersionId"]
        self.s3.delete_object(Bucket=b, Key="alone")
        self.s3.delete_object(Bucket=b, Key="alone", VersionId=v_alone)
        self.s3.put_object(Bucket=b, Key="kept", Body=b"x")
        self.s3.delete_object(Bucket=b, Key="kept")
        self.assertEqual([(k, kind) for k, _, kind, _ in self.versions(b)],
                         [("alone", "dm"), ("kept", "dm"), ("kept", "v")])
        self.advance(2 * DAY)
        self.assertEqual(self.run_lifecycle(), 1)
        self.assertEqual([(k, kind) for k, _, kind, _ in self.versions(b)],
                         [("kept", "dm"), ("kept", "v")])

    def test_noncurrent_version_expiration_keeps_newer_noncurrent_versions(self):
        b = self.bucket(True, False, rule("nc", {}, NoncurrentVersionExpiration={
            "NoncurrentDays": 1, "NewerNoncurrentVersions": 2}))
        vids = [self.s3.put_object(Bucket=b, Key="k", Body=b"v%d" % i)["VersionId"]
                for i in range(5)]
        self.assertEqual(self.run_lifecycle(), 0)            # not noncurrent long enough
        self.assertEqual(len(self.versions(b)), 5)
        self.advance(3 * DAY)
        self.assertEqual(self.run_lifecycle(), 2)
        left = {vid for _, vid, _, _ in self.versions(b)}
        self.assertEqual(left, set(vids[2:]))
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read(), b"v4")

    def test_noncurrent_version_expiration_without_newer_count_removes_all_noncurrent(self):
        b = self.bucket(True, False, rule("nc", {"Prefix": "p/"},
                                          NoncurrentVersionExpiration={"NoncurrentDays": 2}))
        for i in range(3):
            self.s3.put_object(Bucket=b, Key="p/k", Body=b"v%d" % i)
            self.s3.put_object(Bucket=b, Key="q/k", Body=b"v%d" % i)
        self.advance(1 * DAY)
        self.run_lifecycle()
        self.assertEqual(len(self.versions(b)), 6)
        self.advance(3 * DAY)
        self.run_lifecycle()
        self.assertEqual(sorted((k, latest) for k, _, _, latest in self.versions(b)),
                         [("p/k", True), ("q/k", False), ("q/k", False), ("q/k", True)])

    def test_abort_incomplete_multipart_upload(self):
        b = self.bucket(False, False, rule("mpu", {"Prefix": "mp/"},
                                           AbortIncompleteMultipartUpload={
                                               "DaysAfterInitiation": 1}))
        old = self.s3.create_multipart_upload(Bucket=b, Key="mp/old")["UploadId"]
        self.s3.upload_part(Bucket=b, Key="mp/old", UploadId=old, PartNumber=1, Body=b"p")
        other = self.s3.create_multipart_upload(Bucket=b, Key="other/old")["UploadId"]
        self.advance(49 * HOUR)
        fresh = self.s3.create_multipart_upload(Bucket=b, Key="mp/fresh")["UploadId"]
        self.assertEqual(self.run_lifecycle(), 1)
        ups = sorted(u["UploadId"] for u in self.s3.list_multipart_uploads(Bucket=b)["Uploads"])
        self.assertEqual(ups, sorted([other, fresh]))
        with self.assertRaises(ClientError) as e:
            self.s3.list_parts(Bucket=b, Key="mp/old", UploadId=old)
        self.assertClientError(e, "NoSuchUpload", 404)
        for u, k in ((other, "other/old"), (fresh, "mp/fresh")):
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)

    def test_transition_relabels_the_storage_class(self):
        b = self.bucket(False, False, rule("ia", {"Prefix": "cold/"}, Transitions=[
            {"Days": 30, "StorageClass": "STANDARD_IA"}]))
        for k in ("cold/a", "hot/a"):
            self.s3.put_object(Bucket=b, Key=k, Body=b"bytes")
        self.advance(10 * DAY)
        self.run_lifecycle()
        self.assertNotIn("StorageClass", self.s3.head_object(Bucket=b, Key="cold/a"))
        self.advance(22 * DAY)
        self.assertEqual(self.run_lifecycle(), 1)
        h = self.s3.head_object(Bucket=b, Key="cold/a")
        self.assertEqual(h["StorageClass"], "STANDARD_IA")
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-storage-class"],
                         "STANDARD_IA")
        self.assertNotIn("StorageClass", self.s3.head_object(Bucket=b, Key="hot/a"))
        listed = {o["Key"]: o["StorageClass"]
                  for o in self.s3.list_objects_v2(Bucket=b)["Contents"]}
        self.assertEqual(listed, {"cold/a": "STANDARD_IA", "hot/a": "STANDARD"})
        self.assertEqual(self.s3.get_object(Bucket=b, Key="cold/a")["Body"].read(), b"bytes")
        self.assertEqual(self.run_lifecycle(), 0)           # already transitioned

    def test_disabled_rules_do_nothing(self):
        b = self.bucket(True, False,
                        rule("off", {}, status="Disabled", Expiration={"Days": 1},
                             NoncurrentVersionExpiration={"NoncurrentDays": 1},
                             AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}))
        self.s3.put_object(Bucket=b, Key="k", Body=b"1")
        self.s3.put_object(Bucket=b, Key="k", Body=b"2")
        up = self.s3.create_multipart_upload(Bucket=b, Key="m")["UploadId"]
        before = self.versions(b)
        self.advance(5 * DAY)
        self.assertEqual(self.run_lifecycle(), 0)
        self.assertEqual(self.versions(b), before)
        uploads = self.s3.list_multipart_uploads(Bucket=b)["Uploads"]
        self.assertEqual([u["UploadId"] for u in uploads], [up])
        self.s3.abort_multipart_upload(Bucket=b, Key="m", UploadId=up)

    def test_compliance_locked_version_survives_until_its_retention_expires(self):
        b = self.bucket(True, True, rule("all", {}, Expiration={"Days": 1},
                                         NoncurrentVersionExpiration={"NoncurrentDays": 1}))
        until = (self.now() + datetime.timedelta(days=10)).replace(microsecond=0)
        vid = self.s3.put_object(Bucket=b, Key="k", Body=b"locked", ObjectLockMode="COMPLIANCE",
                                 ObjectLockRetainUntilDate=until)["VersionId"]
        self.advance(3 * DAY)
        self.run_lifecycle()                         # the current version expires: a marker
        self.advance(3 * DAY)
        self.run_lifecycle()                         # noncurrent for 3 days, but locked
        self.assertIn(("k", vid, "v", False), self.versions(b))
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k", VersionId=vid)["Body"].read(),
                         b"locked")
        with self.assertRaises(ClientError) as e:
            self.s3.delete_object(Bucket=b, Key="k", VersionId=vid)
        self.assertClientError(e, "AccessDenied", 403)

        self.advance(5 * DAY)                        # past retain-until
        r = self.s3.delete_object(Bucket=b, Key="k", VersionId=vid)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertNotIn(vid, [v for _, v, _, _ in self.versions(b)])

    def test_lifecycle_removes_a_locked_version_once_its_retention_passed(self):
        b = self.bucket(True, True, rule("nc", {}, NoncurrentVersionExpiration={
            "NoncurrentDays": 1}))
        until = (self.now() + datetime.timedelta(days=4)).replace(microsecond=0)
        vid = self.s3.put_object(Bucket=b, Key="k", Body=b"old", ObjectLockMode="GOVERNANCE",
                                 ObjectLockRetainUntilDate=until)["VersionId"]
        self.s3.put_object(Bucket=b, Key="k", Body=b"new")
        self.advance(2 * DAY)
        self.run_lifecycle()
        self.assertIn(vid, [v for _, v, _, _ in self.versions(b)])      # governance-locked
        self.advance(3 * DAY)
        self.run_lifecycle()
        self.assertNotIn(vid, [v for _, v, _, _ in self.versions(b)])

    def test_legal_hold_blocks_lifecycle_deletion(self):
        b = self.bucket(True, True, rule("nc", {}, NoncurrentVersionExpiration={
            "NoncurrentDays": 1}))
        vid = self.s3.put_object(Bucket=b, Key="k", Body=b"held",
                                 ObjectLockLegalHoldStatus="ON")["VersionId"]
        self.s3.put_object(Bucket=b, Key="k", Body=b"new")
        self.advance(3 * DAY)
        self.run_lifecycle()
        self.assertIn(vid, [v for _, v, _, _ in self.versions(b)])
        self.s3.put_object_legal_hold(Bucket=b, Key="k", VersionId=vid,
                                      LegalHold={"Status": "OFF"})
        self.run_lifecycle()
        self.assertNotIn(vid, [v for _, v, _, _ in self.versions(b)])

    def test_lifecycle_run_needs_root(self):
        status, out = admin(self, "POST", "/kura/admin/users", {"name": "lc-user"})
        self.assertEqual(status, 200, out)
        for path in ("/kura/admin/lifecycle", "/kura/admin/clock"):
            st, _, body = self.raw("POST", path, query=[("advance", "1")] if "clock" in path
                                   else None, access_key=out["access_key_id"],
                                   secret_key=out["secret_access_key"])
            self.assertEqual(st, 403, body)
            self.assertEqual(json.loads(body)["error"]["code"], "AccessDenied")
