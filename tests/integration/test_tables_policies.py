"""S3 Tables authorization: users of the account act through their identity
policy, the table bucket's policy and the table's policy for s3tables:*
actions (issue 6: policies "evaluated for s3tables:* actions like bucket
policies"); an explicit Deny wins, and the root credentials may do
everything."""
import json
import unittest
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase
from test_s3_policies import account_id, admin, doc, statement


class TablesPolicies(KuraTestCase):
    def setUp(self):
        self.root = boto3.client("s3tables", endpoint_url=self.endpoint, region_name=REGION,
                                 aws_access_key_id=ACCESS_KEY,
                                 aws_secret_access_key=SECRET_KEY)
        self.acct = account_id(self)

    def user_keys(self, name, policy=None):
        body = {"name": name}
        if policy is not None:
            body["policy"] = policy
        status, out = admin(self, "POST", "/kura/admin/users", body)
        self.assertEqual(status, 200, out)
        return out

    def user_client(self, name, policy=None):
        out = self.user_keys(name, policy)
        return boto3.client("s3tables", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=out["access_key_id"],
                            aws_secret_access_key=out["secret_access_key"],
                            config=Config(retries={"max_attempts": 1}))

    def assertForbidden(self, fn):
        with self.assertRaises(ClientError) as e:
            fn()
        self.assertEqual(e.exception.response["Error"]["Code"], "ForbiddenException")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def bucket(self, name):
        arn = self.root.create_table_bucket(name=name)["arn"]
        self.root.create_namespace(tableBucketARN=arn, namespace=["sales"])
        return arn

    def test_a_user_without_a_policy_is_forbidden_and_nothing_changes(self):
        arn = self.bucket("pol-none")
        c = self.user_client("tbl-nobody")
        self.assertForbidden(lambda: c.get_table_bucket(tableBucketARN=arn))
        self.assertForbidden(lambda: c.create_namespace(tableBucketARN=arn, namespace=["x"]))
        names = [n["namespace"] for n in
                 self.root.list_namespaces(tableBucketARN=arn)["namespaces"]]
        self.assertEqual(names, [["sales"]])

    def test_identity_policy_grants_exactly_its_actions(self):
        arn = self.bucket("pol-ident")
        c = self.user_client("tbl-reader", doc(statement(
            "Allow", ["s3tables:GetTableBucket", "s3tables:ListNamespaces"], arn)))
        self.assertEqual(c.get_table_bucket(tableBucketARN=arn)["arn"], arn)
        self.assertEqual(len(c.list_namespaces(tableBucketARN=arn)["namespaces"]), 1)
        self.assertForbidden(lambda: c.delete_namespace(tableBucketARN=arn, namespace="sales"))
        self.assertForbidden(lambda: c.create_namespace(tableBucketARN=arn, namespace=["y"]))
        self.root.get_namespace(tableBucketARN=arn, namespace="sales")  # still there

    def test_table_bucket_policy_allows_and_a_deny_overrides(self):
        arn = self.bucket("pol-bucket")
        user_arn = "arn:aws:iam::%s:user/tbl-viapolicy" % self.acct
        c = self.user_client("tbl-viapolicy", doc(statement(
            "Allow", "s3tables:*", [arn, arn + "/*"])))
        self.root.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=json.dumps(doc(
            statement("Deny", "s3tables:DeleteNamespace", arn, principal={"AWS": user_arn}))))
        self.assertEqual(len(c.list_namespaces(tableBucketARN=arn)["namespaces"]), 1)
        self.assertForbidden(lambda: c.delete_namespace(tableBucketARN=arn, namespace="sales"))
        self.root.get_namespace(tableBucketARN=arn, namespace="sales")

        # A user with no identity policy, allowed by the bucket policy alone.
        c2 = self.user_client("tbl-grantee")
        self.assertForbidden(lambda: c2.list_namespaces(tableBucketARN=arn))
        grantee = "arn:aws:iam::%s:user/tbl-grantee" % self.acct
        self.root.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=json.dumps(doc(
            statement("Allow", "s3tables:ListNamespaces", arn, principal={"AWS": grantee}))))
        self.assertEqual(len(c2.list_namespaces(tableBucketARN=arn)["namespaces"]), 1)

    def test_root_is_not_limited(self):
        arn = self.bucket("pol-root")
        self.root.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=json.dumps(doc(
            statement("Deny", "s3tables:ListNamespaces", arn,
                      principal={"AWS": "arn:aws:iam::%s:user/someone" % self.acct}))))
        self.assertEqual(len(self.root.list_namespaces(tableBucketARN=arn)["namespaces"]), 1)

    # ---- Iceberg REST with a bearer token ------------------------------

    def rest(self, method, path, token, body=None, form=False):
        """An Iceberg REST call (or, form=True, the token endpoint)."""
        headers = {}
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode() if body is not None else None
            if data:
                headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def token(self, key, secret):
        return self.rest("POST", "/iceberg/v1/oauth/tokens", None, form=True, body={
            "grant_type": "client_credentials", "client_id": key, "client_secret": secret})

    def test_a_users_bearer_token_acts_as_that_user(self):
        arn = self.bucket("pol-bearer")
        ns = "/iceberg/v1/%s/namespaces" % urllib.parse.quote(arn, safe="")
        reader = self.user_keys("ice-reader", doc(statement(
            "Allow", ["s3tables:GetTableData"], "*")))
        st, tok = self.token(reader["access_key_id"], reader["secret_access_key"])
        self.assertEqual(st, 200, tok)
        st, r = self.rest("GET", ns, tok["access_token"])
        self.assertEqual((st, r["namespaces"]), (200, [["sales"]]))
        # Its policy allows reads only: creating a namespace is refused, and
        # nothing is created.
        st, r = self.rest("POST", ns, tok["access_token"], {"namespace": ["x"]})
        self.assertEqual((st, r["error"]["code"]), (403, 403), r)
        self.assertEqual([n["namespace"] for n in
                          self.root.list_namespaces(tableBucketARN=arn)["namespaces"]],
                         [["sales"]])
        # A user without a policy gets a token but may read nothing.
        nobody = self.user_keys("ice-nobody")
        st, t2 = self.token(nobody["access_key_id"], nobody["secret_access_key"])
        self.assertEqual(st, 200, t2)
        self.assertEqual(self.rest("GET", ns, t2["access_token"])[0], 403)
        # A wrong secret gets no token.
        st, err = self.token(reader["access_key_id"], "wrong" + reader["secret_access_key"])
        self.assertEqual((st, err["error"]), (401, "invalid_client"))
        # Once the user is gone, so is what its token could do.
        status, out = admin(self, "DELETE", "/kura/admin/users/ice-reader")
        self.assertIn(status, (200, 204), out)
        st, r = self.rest("GET", ns, tok["access_token"])
        self.assertEqual(st, 401, r)
        # The root's token still reads everything.
        st, rt = self.token(ACCESS_KEY, SECRET_KEY)
        self.assertEqual(self.rest("GET", ns, rt["access_token"])[0], 200)

    def test_iceberg_rest_applies_bucket_and_table_policies_per_table(self):
        arn = self.bucket("pol-ice")
        meta = {"iceberg": {"schema": {"fields": [{"name": "id", "type": "long",
                                                   "required": True}]}}}
        arns = {t: self.root.create_table(tableBucketARN=arn, namespace="sales", name=t,
                                          format="ICEBERG", metadata=meta)["tableARN"]
                for t in ("open", "closed")}
        keys = self.user_keys("ice-analyst")   # no identity policy at all
        user_arn = "arn:aws:iam::%s:user/ice-analyst" % self.acct
        # The bucket's policy lets the analyst read the bucket and its tables;
        # the "closed" table's own policy denies it.
        self.root.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=json.dumps(doc(
            statement("Allow", ["s3tables:GetTableData"], [arn, arn + "/table/*"],
                      principal={"AWS": user_arn}))))
        self.root.put_table_policy(tableBucketARN=arn, namespace="sales", name="closed",
                                   resourcePolicy=json.dumps(doc(statement(
                                       "Deny", ["s3tables:GetTableData"], arns["closed"],
                                       principal={"AWS": user_arn}))))
        st, tok = self.token(keys["access_key_id"], keys["secret_access_key"])
        self.assertEqual(st, 200, tok)
        tok = tok["access_token"]
        base = "/iceberg/v1/%s/namespaces" % urllib.parse.quote(arn, safe="")
        self.assertEqual(self.rest("GET", base, tok)[0], 200)
        st, r = self.rest("GET", base + "/sales/tables/open", tok)
        self.assertEqual(st, 200, r)
        self.assertEqual(r["metadata"]["schemas"][0]["fields"][0]["name"], "id")
        st, r = self.rest("GET", base + "/sales/tables/closed", tok)
        self.assertEqual((st, r["error"]["type"]), (403, "ForbiddenException"), r)
        # Reading is all it was given: a commit to "open" is refused.
        st, r = self.rest("POST", base + "/sales/tables/open", tok,
                          {"requirements": [], "updates": []})
        self.assertEqual(st, 403, r)
        # Another bucket of the account: nothing grants it.
        other = self.bucket("pol-ice-other")
        st, _ = self.rest("GET", "/iceberg/v1/%s/namespaces" % urllib.parse.quote(other, safe=""),
                          tok)
        self.assertEqual(st, 403)
        st, _ = self.rest("GET", "/iceberg/v1/config?warehouse=" +
                          urllib.parse.quote(other, safe=""), tok)
        self.assertEqual(st, 403)


if __name__ == "__main__":
    unittest.main()
