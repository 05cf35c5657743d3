"""Users, identity policies and bucket policies (issue 4: "Users and policies").

Users come from the admin API (what `kura user` calls); their keys drive a
boto3 client. Every refused request is checked for its exact code and status
and for leaving the bucket, the object and the policy exactly as they were.
Anonymous requests are unsigned http.client requests.

The module-level helpers (admin, account_id) are shared with the other
policy-adjacent test files (users CLI, POST Object).
"""
import json
import os

from kura_harness import ClientError, KuraTestCase


def admin(tc, method, path, body=b"", query=None):
    """A root-signed admin call. Returns (status, parsed JSON or raw bytes)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    status, _, data = tc.raw(method, path, query=query, body=body)
    try:
        return status, json.loads(data.decode()) if data else None
    except ValueError:
        return status, data


def account_id(tc):
    with open(os.path.join(tc.data_dir, "credentials")) as f:
        return json.load(f)["account_id"]


def statement(effect, action, resource, principal=None, condition=None):
    s = {"Effect": effect, "Action": action, "Resource": resource}
    if principal is not None:
        s["Principal"] = principal
    if condition is not None:
        s["Condition"] = condition
    return s


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def read_only(bucket):
    return doc(statement("Allow", ["s3:GetObject", "s3:ListBucket"],
                         ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]))


class PolicyCase(KuraTestCase):
    _users = 0

    def add_user(self, policy=None, name=None):
        """Create a user through the admin API; returns (name, boto3 client)."""
        PolicyCase._users += 1
        name = name or "u%d-%s" % (PolicyCase._users, self.id().rsplit(".", 1)[-1][5:25])
        body = {"name": name}
        if policy is not None:
            body["policy"] = policy
        status, out = admin(self, "POST", "/kura/admin/users", body)
        self.assertEqual(status, 200, out)
        self.assertEqual(out["user"], name)
        self.last_keys = (out["access_key_id"], out["secret_access_key"])
        return name, self.client(access_key=out["access_key_id"],
                                 secret_key=out["secret_access_key"])

    def anon(self, method, bucket, key=None, body=b"", query=None):
        path = "/%s" % bucket + ("/%s" % key if key is not None else "")
        return self.raw(method, path, query=query, body=body, sign=False)

    def assertAnonDenied(self, resp):
        status, _, body = resp
        self.assertEqual(status, 403, body)
        self.assertIn(b"<Code>AccessDenied</Code>", body)

    def body(self, bucket, key, client=None):
        return (client or self.s3).get_object(Bucket=bucket, Key=key)["Body"].read()

    def policy_of(self, bucket):
        return json.loads(self.s3.get_bucket_policy(Bucket=bucket)["Policy"])


class IdentityPolicies(PolicyCase):
    def test_read_only_user_lists_and_gets_but_put_and_delete_are_access_denied(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="doc.txt", Body=b"v1")
        _, reader = self.add_user(read_only(b))

        self.assertEqual([o["Key"] for o in reader.list_objects_v2(Bucket=b)["Contents"]],
                         ["doc.txt"])
        self.assertEqual(self.body(b, "doc.txt", reader), b"v1")
        self.assertEqual(reader.head_object(Bucket=b, Key="doc.txt")["ContentLength"], 2)

        with self.assertRaises(ClientError) as e:
            reader.put_object(Bucket=b, Key="doc.txt", Body=b"v2")
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            reader.put_object(Bucket=b, Key="new.txt", Body=b"new")
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            reader.delete_object(Bucket=b, Key="doc.txt")
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            reader.create_multipart_upload(Bucket=b, Key="mp")
        self.assertClientError(e, "AccessDenied", 403)

        self.assertEqual(self.keys(b), ["doc.txt"])
        self.assertEqual(self.body(b, "doc.txt"), b"v1")
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=b).get("Uploads", []), [])

    def test_read_only_user_cannot_touch_buckets_outside_its_policy(self):
        mine, other = self.new_bucket(), self.new_bucket()
        self.s3.put_object(Bucket=other, Key="k", Body=b"secret")
        _, reader = self.add_user(read_only(mine))
        for call in (lambda: reader.get_object(Bucket=other, Key="k"),
                     lambda: reader.list_objects_v2(Bucket=other),
                     lambda: reader.list_buckets(),
                     lambda: reader.delete_bucket(Bucket=mine),
                     lambda: reader.create_bucket(Bucket=self.new_bucket(create=False))):
            with self.assertRaises(ClientError) as e:
                call()
            self.assertClientError(e, "AccessDenied", 403)
        self.assertIn(mine, self.bucket_names())

    def test_user_without_a_policy_is_denied_everything(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        _, nobody = self.add_user()
        for call in (lambda: nobody.get_object(Bucket=b, Key="k"),
                     lambda: nobody.list_objects_v2(Bucket=b),
                     lambda: nobody.put_object(Bucket=b, Key="k2", Body=b"y")):
            with self.assertRaises(ClientError) as e:
                call()
            self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.keys(b), ["k"])

    def test_explicit_deny_overrides_an_allow_in_the_same_policy(self):
        b = self.new_bucket()
        for k in ("keep/a", "tmp/a"):
            self.s3.put_object(Bucket=b, Key=k, Body=b"data")
        _, user = self.add_user(doc(
            statement("Allow", "s3:*", ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]),
            statement("Deny", ["s3:DeleteObject", "s3:PutObject"],
                      "arn:aws:s3:::%s/keep/*" % b)))

        with self.assertRaises(ClientError) as e:
            user.delete_object(Bucket=b, Key="keep/a")
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            user.put_object(Bucket=b, Key="keep/a", Body=b"overwritten")
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.body(b, "keep/a"), b"data")

        user.delete_object(Bucket=b, Key="tmp/a")          # the Allow still works elsewhere
        user.put_object(Bucket=b, Key="tmp/b", Body=b"new")
        self.assertEqual(self.keys(b), ["keep/a", "tmp/b"])

    def test_bucket_policy_deny_overrides_identity_allow(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"data")
        name, user = self.add_user(read_only(b))
        arn = "arn:aws:iam::%s:user/%s" % (account_id(self), name)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(
            statement("Deny", "s3:GetObject", "arn:aws:s3:::%s/*" % b, {"AWS": arn}))))

        with self.assertRaises(ClientError) as e:
            user.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)
        user.list_objects_v2(Bucket=b)                       # not denied: still allowed
        self.assertEqual(self.body(b, "k"), b"data")         # root is not that principal

    def test_bucket_policy_alone_can_grant_a_user_access(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"data")
        name, user = self.add_user()
        arn = "arn:aws:iam::%s:user/%s" % (account_id(self), name)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(
            statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, {"AWS": arn}))))
        self.assertEqual(self.body(b, "k", user), b"data")
        with self.assertRaises(ClientError) as e:
            user.put_object(Bucket=b, Key="k", Body=b"no")
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.body(b, "k"), b"data")

    def test_action_and_resource_wildcards(self):
        b = self.new_bucket()
        for k in ("docs/a.txt", "docs/b.bin", "other/c.txt"):
            self.s3.put_object(Bucket=b, Key=k, Body=k.encode())
        _, user = self.add_user(doc(statement("Allow", "s3:Get*",
                                              "arn:aws:s3:::%s/docs/*.txt" % b)))
        self.assertEqual(self.body(b, "docs/a.txt", user), b"docs/a.txt")
        self.assertEqual(user.get_object_tagging(Bucket=b, Key="docs/a.txt")["TagSet"], [])
        for k in ("docs/b.bin", "other/c.txt"):
            with self.assertRaises(ClientError) as e:
                user.get_object(Bucket=b, Key=k)
            self.assertClientError(e, "AccessDenied", 403)

    def test_get_of_a_specific_version_needs_get_object_version(self):
        b = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
        self.s3.put_object(Bucket=b, Key="k", Body=b"two")
        _, user = self.add_user(doc(statement("Allow", "s3:GetObject",
                                              "arn:aws:s3:::%s/*" % b)))
        self.assertEqual(self.body(b, "k", user), b"two")
        with self.assertRaises(ClientError) as e:
            user.get_object(Bucket=b, Key="k", VersionId=v1)
        self.assertClientError(e, "AccessDenied", 403)

    def _delete_two(self, policy_for_bucket):
        b = self.new_bucket()
        for k in ("tmp/a", "keep/b"):
            self.s3.put_object(Bucket=b, Key=k, Body=b"x")
        _, user = self.add_user(policy_for_bucket(b))
        r = user.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "tmp/a"},
                                                             {"Key": "keep/b"}]})
        self.assertEqual([d["Key"] for d in r.get("Deleted", [])], ["tmp/a"])
        self.assertEqual([(x["Key"], x["Code"]) for x in r.get("Errors", [])],
                         [("keep/b", "AccessDenied")])
        self.assertEqual(self.keys(b), ["keep/b"])

    def test_delete_objects_reports_access_denied_per_key_for_a_denied_prefix(self):
        self._delete_two(lambda b: doc(
            statement("Allow", "s3:DeleteObject", "arn:aws:s3:::%s/*" % b),
            statement("Deny", "s3:DeleteObject", "arn:aws:s3:::%s/keep/*" % b)))

    def test_delete_objects_reports_access_denied_per_key_for_an_allowed_prefix(self):
        # S3 checks s3:DeleteObject per key: an Allow on tmp/* alone is enough
        # for the request, and keep/b is refused in the response.
        self._delete_two(lambda b: doc(
            statement("Allow", "s3:DeleteObject", "arn:aws:s3:::%s/tmp/*" % b)))

    def test_copy_needs_get_object_on_the_source(self):
        src, dst = self.new_bucket(), self.new_bucket()
        self.s3.put_object(Bucket=src, Key="public/a", Body=b"A")
        self.s3.put_object(Bucket=src, Key="private/b", Body=b"B")
        _, user = self.add_user(doc(
            statement("Allow", "s3:PutObject", "arn:aws:s3:::%s/*" % dst),
            statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/public/*" % src)))
        user.copy_object(Bucket=dst, Key="a", CopySource={"Bucket": src, "Key": "public/a"})
        with self.assertRaises(ClientError) as e:
            user.copy_object(Bucket=dst, Key="b", CopySource={"Bucket": src, "Key": "private/b"})
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.keys(dst), ["a"])

    def test_deleted_user_keys_stop_working(self):
        b = self.new_bucket()
        name, user = self.add_user(read_only(b))
        user.list_objects_v2(Bucket=b)
        status, _ = admin(self, "DELETE", "/kura/admin/users/%s" % name)
        self.assertIn(status, (200, 204))
        with self.assertRaises(ClientError) as e:
            user.list_objects_v2(Bucket=b)
        self.assertClientError(e, "InvalidAccessKeyId", 403)

    def test_changing_a_user_policy_takes_effect_on_the_next_request(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        name, user = self.add_user(read_only(b))
        self.assertEqual(self.body(b, "k", user), b"x")
        status, out = admin(self, "PUT", "/kura/admin/users/%s/policy" % name,
                            doc(statement("Allow", "s3:PutObject", "arn:aws:s3:::%s/*" % b)))
        self.assertIn(status, (200, 204), out)
        with self.assertRaises(ClientError) as e:
            user.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)
        user.put_object(Bucket=b, Key="k2", Body=b"y")
        self.assertEqual(self.keys(b), ["k", "k2"])


class PolicyConditions(PolicyCase):
    def test_s3_prefix_condition_limits_listing(self):
        b = self.new_bucket()
        for k in ("home/alice/1", "home/bob/1"):
            self.s3.put_object(Bucket=b, Key=k, Body=b"x")
        _, alice = self.add_user(doc(statement(
            "Allow", "s3:ListBucket", "arn:aws:s3:::%s" % b,
            condition={"StringLike": {"s3:prefix": ["home/alice/*"]}})))
        r = alice.list_objects_v2(Bucket=b, Prefix="home/alice/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["home/alice/1"])
        for prefix in ("home/bob/", ""):
            with self.assertRaises(ClientError) as e:
                alice.list_objects_v2(Bucket=b, Prefix=prefix)
            self.assertClientError(e, "AccessDenied", 403)

    def test_s3_max_keys_numeric_condition(self):
        b = self.new_bucket()
        _, user = self.add_user(doc(statement(
            "Allow", "s3:ListBucket", "arn:aws:s3:::%s" % b,
            condition={"NumericLessThanEquals": {"s3:max-keys": "10"}})))
        user.list_objects_v2(Bucket=b, MaxKeys=10)
        with self.assertRaises(ClientError) as e:
            user.list_objects_v2(Bucket=b, MaxKeys=11)
        self.assertClientError(e, "AccessDenied", 403)

    def test_existing_object_tag_condition(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="pub", Body=b"p", Tagging="class=public")
        self.s3.put_object(Bucket=b, Key="priv", Body=b"s", Tagging="class=secret")
        self.s3.put_object(Bucket=b, Key="none", Body=b"n")
        _, user = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"StringEquals": {"s3:ExistingObjectTag/class": "public"}})))
        self.assertEqual(self.body(b, "pub", user), b"p")
        for k in ("priv", "none"):
            with self.assertRaises(ClientError) as e:
                user.get_object(Bucket=b, Key=k)
            self.assertClientError(e, "AccessDenied", 403)

    def test_request_object_tag_condition_on_put(self):
        b = self.new_bucket()
        _, user = self.add_user(doc(statement(
            "Allow", "s3:PutObject", "arn:aws:s3:::%s/*" % b,
            condition={"StringEquals": {"s3:RequestObjectTag/team": "blue"}})))
        user.put_object(Bucket=b, Key="ok", Body=b"x", Tagging="team=blue")
        for tagging in ("team=red", ""):
            with self.assertRaises(ClientError) as e:
                user.put_object(Bucket=b, Key="bad", Body=b"x", Tagging=tagging)
            self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.keys(b), ["ok"])

    def test_null_condition_denies_untagged_puts(self):
        b = self.new_bucket()
        _, user = self.add_user(doc(
            statement("Allow", "s3:PutObject", "arn:aws:s3:::%s/*" % b),
            statement("Deny", "s3:PutObject", "arn:aws:s3:::%s/*" % b,
                      condition={"Null": {"s3:RequestObjectTagKeys": "true"}})))
        user.put_object(Bucket=b, Key="tagged", Body=b"x", Tagging="a=b")
        with self.assertRaises(ClientError) as e:
            user.put_object(Bucket=b, Key="untagged", Body=b"x")
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.keys(b), ["tagged"])

    def test_source_ip_conditions(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        _, local = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
        _, remote = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.7/32"]}})))
        _, not_remote = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
        self.assertEqual(self.body(b, "k", local), b"x")
        self.assertEqual(self.body(b, "k", not_remote), b"x")
        with self.assertRaises(ClientError) as e:
            remote.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)

    def test_secure_transport_deny_refuses_plain_http_even_for_root(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(statement(
            "Deny", "s3:*", ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b], "*",
            {"Bool": {"aws:SecureTransport": "false"}}))))
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            self.s3.delete_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)
        # The root can always manage the bucket policy: no lock-out.
        self.assertEqual(self.policy_of(b)["Statement"][0]["Effect"], "Deny")
        self.s3.delete_bucket_policy(Bucket=b)
        self.assertEqual(self.body(b, "k"), b"x")

    def test_current_time_and_username_conditions(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        _, later = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}})))
        _, now = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})))
        with self.assertRaises(ClientError) as e:
            later.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)
        self.assertEqual(self.body(b, "k", now), b"x")

        name, named = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"StringEquals": {"aws:username": "carol-%s" % b[-8:]}})),
            name="carol-%s" % b[-8:])
        self.assertEqual(self.body(b, "k", named), b"x")
        _, other = self.add_user(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            condition={"StringEquals": {"aws:username": "carol-%s" % b[-8:]}})))
        with self.assertRaises(ClientError) as e:
            other.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)


class BucketPolicies(PolicyCase):
    def test_anonymous_is_denied_without_a_policy(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertAnonDenied(self.anon("GET", b, "k"))
        self.assertAnonDenied(self.anon("GET", b))
        self.assertAnonDenied(self.anon("PUT", b, "new", body=b"y"))
        self.assertEqual(self.keys(b), ["k"])

    def test_anonymous_access_only_where_a_bucket_policy_allows_it(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="public/a", Body=b"A")
        self.s3.put_object(Bucket=b, Key="private/b", Body=b"B")
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/public/*" % b, "*"))))

        status, _, body = self.anon("GET", b, "public/a")
        self.assertEqual((status, body), (200, b"A"))
        self.assertAnonDenied(self.anon("GET", b, "private/b"))
        self.assertAnonDenied(self.anon("GET", b))                      # ListBucket
        self.assertAnonDenied(self.anon("PUT", b, "public/new", body=b"y"))
        self.assertAnonDenied(self.anon("DELETE", b, "public/a"))
        self.assertEqual(self.keys(b), ["private/b", "public/a"])

        status = self.s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"]
        self.assertTrue(status)

    def test_put_get_delete_bucket_policy_round_trip(self):
        b = self.new_bucket()
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertClientError(e, "NoSuchBucketPolicy", 404)
        p = doc(statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
                          {"AWS": "arn:aws:iam::%s:root" % account_id(self)}))
        r = self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(p))
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.policy_of(b)["Statement"][0]["Action"], "s3:GetObject")
        r = self.s3.delete_bucket_policy(Bucket=b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertClientError(e, "NoSuchBucketPolicy", 404)

    def test_policy_calls_on_a_missing_bucket_are_no_such_bucket(self):
        b = self.new_bucket(create=False)
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(read_only(b)))
        self.assertClientError(e, "NoSuchBucket", 404)
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertClientError(e, "NoSuchBucket", 404)

    def test_malformed_bucket_policy_is_refused_and_the_old_one_stays(self):
        b = self.new_bucket()
        good = doc(statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*"))
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(good))
        bad = [
            "{not json",
            json.dumps({"Version": "2012-10-17"}),                                # no Statement
            json.dumps(doc({"Effect": "Maybe", "Action": "s3:GetObject", "Principal": "*",
                            "Resource": "arn:aws:s3:::%s/*" % b})),               # bad Effect
            json.dumps(doc(statement("Allow", "s3:GetObject",
                                     "arn:aws:s3:::%s/*" % b))),                  # no Principal
            json.dumps(doc(statement("Allow", "s3:NoSuchAction",
                                     "arn:aws:s3:::%s/*" % b, "*"))),             # bad action
            json.dumps(doc(statement("Allow", "s3:GetObject",
                                     "arn:aws:s3:::some-other-bucket/*", "*"))),  # other bucket
            json.dumps(doc(statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*",
                                     {"StringEqualz": {"s3:prefix": "x"}}))),     # bad operator
        ]
        for i, p in enumerate(bad):
            with self.subTest(case=i, policy=p):
                self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(good))
                with self.assertRaises(ClientError) as e:
                    self.s3.put_bucket_policy(Bucket=b, Policy=p)
                self.assertClientError(e, "MalformedPolicy", 400)
                self.assertEqual(self.policy_of(b), good)

    def test_malformed_policy_on_a_bucket_without_one_leaves_none(self):
        b = self.new_bucket()
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_policy(Bucket=b, Policy="[]")
        self.assertClientError(e, "MalformedPolicy", 400)
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertClientError(e, "NoSuchBucketPolicy", 404)

    def test_bucket_policy_deny_applies_to_root_but_root_keeps_policy_calls(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(statement(
            "Deny", "s3:*", ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b], "*"))))
        for call in (lambda: self.s3.get_object(Bucket=b, Key="k"),
                     lambda: self.s3.put_object(Bucket=b, Key="k", Body=b"y"),
                     lambda: self.s3.list_objects_v2(Bucket=b)):
            with self.assertRaises(ClientError) as e:
                call()
            self.assertClientError(e, "AccessDenied", 403)
        self.s3.get_bucket_policy(Bucket=b)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(
            statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*"))))
        self.s3.delete_bucket_policy(Bucket=b)
        self.assertEqual(self.body(b, "k"), b"x")

    def test_policy_status_judges_publicness_as_aws(self):
        b = self.new_bucket()
        acct = account_id(self)
        cases = [
            (statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*"), True),
            (statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, {"AWS": "*"}), True),
            (statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
                       {"AWS": "arn:aws:iam::%s:root" % acct}), False),
            (statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*",
                       {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), False),
            (statement("Deny", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*"), False),
        ]
        for st, public in cases:
            with self.subTest(statement=st):
                self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(st)))
                r = self.s3.get_bucket_policy_status(Bucket=b)
                self.assertEqual(r["PolicyStatus"]["IsPublic"], public)

    def test_policy_status_without_a_policy_is_no_such_bucket_policy(self):
        b = self.new_bucket()
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy_status(Bucket=b)
        self.assertClientError(e, "NoSuchBucketPolicy", 404)


class PublicAccessBlock(PolicyCase):
    PAB_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
               "BlockPublicPolicy": True, "RestrictPublicBuckets": True}

    def public_policy(self, b):
        return json.dumps(doc(statement("Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b, "*")))

    def test_put_get_delete_public_access_block(self):
        b = self.new_bucket()
        with self.assertRaises(ClientError) as e:
            self.s3.get_public_access_block(Bucket=b)
        self.assertClientError(e, "NoSuchPublicAccessBlockConfiguration", 404)
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=self.PAB_ALL)
        got = self.s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
        self.assertEqual(got, self.PAB_ALL)
        r = self.s3.delete_public_access_block(Bucket=b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        with self.assertRaises(ClientError) as e:
            self.s3.get_public_access_block(Bucket=b)
        self.assertClientError(e, "NoSuchPublicAccessBlockConfiguration", 404)

    def test_block_public_policy_refuses_a_public_policy_and_stores_nothing(self):
        b = self.new_bucket()
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicPolicy": True})
        with self.assertRaises(ClientError) as e:
            self.s3.put_bucket_policy(Bucket=b, Policy=self.public_policy(b))
        self.assertClientError(e, "AccessDenied", 403)
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertClientError(e, "NoSuchBucketPolicy", 404)
        # A policy that is not public is still accepted.
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc(statement(
            "Allow", "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            {"AWS": "arn:aws:iam::%s:root" % account_id(self)}))))
        self.assertFalse(self.s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])

    def test_restrict_public_buckets_stops_anonymous_access_until_removed(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.s3.put_bucket_policy(Bucket=b, Policy=self.public_policy(b))
        self.assertEqual(self.anon("GET", b, "k")[0], 200)
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True})
        self.assertAnonDenied(self.anon("GET", b, "k"))
        self.assertEqual(self.body(b, "k"), b"x")                    # the owner is unaffected
        self.s3.delete_public_access_block(Bucket=b)
        self.assertEqual(self.anon("GET", b, "k")[0], 200)


class AdminApiAccess(PolicyCase):
    def test_non_root_callers_get_access_denied_from_the_admin_api(self):
        name, _ = self.add_user(doc(statement("Allow", "*", "*")))
        access_key, secret_key = self.last_keys
        _, out = admin(self, "GET", "/kura/admin/users")
        before = sorted(u["name"] for u in out["users"])
        for method, path, body in (("GET", "/kura/admin/users", b""),
                                   ("POST", "/kura/admin/users", b'{"name":"evil"}'),
                                   ("DELETE", "/kura/admin/users/%s" % name, b"")):
            status, _, data = self.raw(method, path, body=body, access_key=access_key,
                                       secret_key=secret_key)
            self.assertEqual(status, 403, data)
            self.assertEqual(json.loads(data)["error"]["code"], "AccessDenied")
            status, _, data = self.raw(method, path, body=body, sign=False)
            self.assertEqual(status, 403, data)
        _, out = admin(self, "GET", "/kura/admin/users")
        self.assertEqual(sorted(u["name"] for u in out["users"]), before)
