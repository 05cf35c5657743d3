"""S3 Tables authorization: users of the account act through their identity
policy, the table bucket's policy and the table's policy for s3tables:*
actions (issue 6: policies "evaluated for s3tables:* actions like bucket
policies"); an explicit Deny wins, and the root credentials may do
everything."""
import json
import unittest

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

    def user_client(self, name, policy=None):
        body = {"name": name}
        if policy is not None:
            body["policy"] = policy
        status, out = admin(self, "POST", "/kura/admin/users", body)
        self.assertEqual(status, 200, out)
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


if __name__ == "__main__":
    unittest.main()
