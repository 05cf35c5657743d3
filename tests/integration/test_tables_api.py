"""S3 Tables control plane through boto3 (issue 6; s3tables-api.md §3, §4).

Every operation of the s3tables model is exercised at least once; each
refusal is checked for its __type and status, and for leaving the catalog as
it was (DESIGN invariant 6).
"""
import json
import unittest
import uuid

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
import urllib.request
import urllib.error

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, ClientError, KuraTestCase

SCHEMA = {"fields": [{"name": "id", "type": "long", "required": True},
                     {"name": "name", "type": "string"},
                     {"name": "ts", "type": "timestamptz"}]}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3tables:GetTable", "Resource": "*"}]})
ROLE = "arn:aws:iam::123456789012:role/replication"


class TablesApi(KuraTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = boto3.client(
            "s3tables", endpoint_url=cls.endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 1, "mode": "standard"},
                          parameter_validation=False))

    # ---- helpers -------------------------------------------------------

    def err(self, code, status, fn, **kw):
        with self.assertRaises(ClientError) as ctx:
            fn(**kw)
        self.assertClientError(ctx, code, status)
        return ctx.exception.response

    def bucket(self, prefix="tb"):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:10])
        return name, self.t.create_table_bucket(name=name)["arn"]

    def ns(self, arn, name=None):
        name = name or "ns_" + uuid.uuid4().hex[:8]
        self.t.create_namespace(tableBucketARN=arn, namespace=[name])
        return name

    def table(self, arn, ns, name=None, **kw):
        name = name or "t_" + uuid.uuid4().hex[:8]
        r = self.t.create_table(tableBucketARN=arn, namespace=ns, name=name, format="ICEBERG",
                                **kw)
        return name, r

    def signed(self, method, path, body=b""):
        """A SigV4 (s3tables) request of our own: for bindings boto3 no longer sends."""
        url = self.endpoint + path
        req = AWSRequest(method=method, url=url, data=body)
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3tables", REGION).add_auth(req)
        r = urllib.request.Request(url, data=body or None, method=method,
                                   headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(r) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # ---- table buckets -------------------------------------------------

    def test_table_bucket_lifecycle_and_arn(self):
        name, arn = self.bucket()
        self.assertRegex(arn, r"^arn:aws:s3tables:us-east-1:[0-9]{12}:bucket/" + name + "$")
        g = self.t.get_table_bucket(tableBucketARN=arn)
        self.assertEqual((g["arn"], g["name"], g["type"]), (arn, name, "customer"))
        self.assertRegex(g["ownerAccountId"], r"^[0-9]{12}$")
        self.assertTrue(g["tableBucketId"])
        self.assertIn(arn, [b["arn"] for b in self.t.list_table_buckets()["tableBuckets"]])
        self.t.delete_table_bucket(tableBucketARN=arn)
        self.err("NotFoundException", 404, self.t.get_table_bucket, tableBucketARN=arn)
        self.err("NotFoundException", 404, self.t.delete_table_bucket, tableBucketARN=arn)

    def test_bucket_name_rules_refuse_bad_names_and_create_nothing(self):
        before = self.t.list_table_buckets()["tableBuckets"]
        for bad in ["ab", "x" * 64, "Upper-case", "under_score", "dot.name", "-lead", "trail-",
                    "xn--punycode", "sthree-x", "aws-reserved", "amzn-s3-demo-x", "a-s3alias",
                    "b--ol-s3", "c--x-s3", "d--table-s3"]:
            with self.subTest(bad=bad):
                self.err("BadRequestException", 400, self.t.create_table_bucket, name=bad)
        self.assertEqual(self.t.list_table_buckets()["tableBuckets"], before)

    def test_duplicate_bucket_is_conflict(self):
        name, arn = self.bucket()
        created = self.t.get_table_bucket(tableBucketARN=arn)["createdAt"]
        self.err("ConflictException", 409, self.t.create_table_bucket, name=name)
        self.assertEqual(self.t.get_table_bucket(tableBucketARN=arn)["createdAt"], created)

    def test_malformed_arn_is_bad_request(self):
        for bad in ["arn:aws:s3tables:us-east-1:123:bucket/x", "not-an-arn",
                    "arn:aws:s3:us-east-1:123456789012:thing/abc"]:
            with self.subTest(arn=bad):
                self.err("BadRequestException", 400, self.t.get_table_bucket, tableBucketARN=bad)

    def test_list_buckets_prefix_pagination_and_type(self):
        tag = uuid.uuid4().hex[:6]
        names = sorted("pg-%s-%d" % (tag, i) for i in range(5))
        for n in names:
            self.t.create_table_bucket(name=n)
        got, token = [], None
        while True:
            kw = {"prefix": "pg-" + tag, "maxBuckets": 2}
            if token:
                kw["continuationToken"] = token
            page = self.t.list_table_buckets(**kw)
            self.assertLessEqual(len(page["tableBuckets"]), 2)
            got += [b["name"] for b in page["tableBuckets"]]
            token = page.get("continuationToken")
            if not token:
                break
        self.assertEqual(got, names)
        self.assertEqual(self.t.list_table_buckets(prefix="pg-" + tag, type="aws")["tableBuckets"],
                         [])
        self.err("BadRequestException", 400, self.t.list_table_buckets, maxBuckets=0)
        self.err("BadRequestException", 400, self.t.list_table_buckets, continuationToken="zz")

    def test_delete_non_empty_bucket_is_bad_request_and_keeps_it(self):
        # NOTES-ON-ISSUES 24: the live service answers 400 BadRequestException.
        _, arn = self.bucket()
        ns = self.ns(arn)
        self.err("BadRequestException", 400, self.t.delete_table_bucket, tableBucketARN=arn)
        self.assertEqual(self.t.get_namespace(tableBucketARN=arn, namespace=ns)["namespace"], [ns])
        self.t.delete_namespace(tableBucketARN=arn, namespace=ns)
        self.t.delete_table_bucket(tableBucketARN=arn)

    def test_bucket_encryption_put_get_delete(self):
        _, arn = self.bucket()
        self.assertEqual(self.t.get_table_bucket_encryption(tableBucketARN=arn)
                         ["encryptionConfiguration"], {"sseAlgorithm": "AES256"})
        kms = {"sseAlgorithm": "aws:kms",
               "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abcd"}
        self.t.put_table_bucket_encryption(tableBucketARN=arn, encryptionConfiguration=kms)
        self.assertEqual(self.t.get_table_bucket_encryption(tableBucketARN=arn)
                         ["encryptionConfiguration"], kms)
        self.err("BadRequestException", 400, self.t.put_table_bucket_encryption,
                 tableBucketARN=arn, encryptionConfiguration={"sseAlgorithm": "aws:kms"})
        self.err("BadRequestException", 400, self.t.put_table_bucket_encryption,
                 tableBucketARN=arn, encryptionConfiguration={
                     "sseAlgorithm": "AES256", "kmsKeyArn": kms["kmsKeyArn"]})
        self.assertEqual(self.t.get_table_bucket_encryption(tableBucketARN=arn)
                         ["encryptionConfiguration"], kms)  # refusals changed nothing
        self.t.delete_table_bucket_encryption(tableBucketARN=arn)
        self.assertEqual(self.t.get_table_bucket_encryption(tableBucketARN=arn)
                         ["encryptionConfiguration"], {"sseAlgorithm": "AES256"})

    def test_bucket_storage_class_and_table_inherits_it(self):
        _, arn = self.bucket()
        self.assertEqual(self.t.get_table_bucket_storage_class(tableBucketARN=arn)
                         ["storageClassConfiguration"], {"storageClass": "STANDARD"})
        self.t.put_table_bucket_storage_class(
            tableBucketARN=arn, storageClassConfiguration={"storageClass": "INTELLIGENT_TIERING"})
        self.assertEqual(self.t.get_table_bucket_storage_class(tableBucketARN=arn)
                         ["storageClassConfiguration"]["storageClass"], "INTELLIGENT_TIERING")
        ns = self.ns(arn)
        name, _ = self.table(arn, ns)
        self.assertEqual(self.t.get_table_storage_class(tableBucketARN=arn, namespace=ns, name=name)
                         ["storageClassConfiguration"]["storageClass"], "INTELLIGENT_TIERING")
        self.assertEqual(self.t.get_table_encryption(tableBucketARN=arn, namespace=ns, name=name)
                         ["encryptionConfiguration"]["sseAlgorithm"], "AES256")

    def test_bucket_metrics_configuration(self):
        _, arn = self.bucket()
        self.err("NotFoundException", 404, self.t.get_table_bucket_metrics_configuration,
                 tableBucketARN=arn)
        self.t.put_table_bucket_metrics_configuration(tableBucketARN=arn)
        g = self.t.get_table_bucket_metrics_configuration(tableBucketARN=arn)
        self.assertEqual(g["tableBucketARN"], arn)
        self.assertTrue(g["id"])
        self.t.delete_table_bucket_metrics_configuration(tableBucketARN=arn)
        self.err("NotFoundException", 404, self.t.get_table_bucket_metrics_configuration,
                 tableBucketARN=arn)

    def test_bucket_policy_put_get_delete_and_invalid(self):
        _, arn = self.bucket()
        self.err("NotFoundException", 404, self.t.get_table_bucket_policy, tableBucketARN=arn)
        self.t.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=POLICY)
        self.assertEqual(self.t.get_table_bucket_policy(tableBucketARN=arn)["resourcePolicy"],
                         POLICY)
        for bad in ["{not json", "[]", "x" * 20481]:
            self.err("BadRequestException", 400, self.t.put_table_bucket_policy,
                     tableBucketARN=arn, resourcePolicy=bad)
        self.assertEqual(self.t.get_table_bucket_policy(tableBucketARN=arn)["resourcePolicy"],
                         POLICY)
        self.t.delete_table_bucket_policy(tableBucketARN=arn)
        self.err("NotFoundException", 404, self.t.get_table_bucket_policy, tableBucketARN=arn)

    def test_bucket_maintenance_defaults_and_put(self):
        _, arn = self.bucket()
        g = self.t.get_table_bucket_maintenance_configuration(tableBucketARN=arn)
        self.assertEqual(g["tableBucketARN"], arn)
        v = g["configuration"]["icebergUnreferencedFileRemoval"]
        self.assertEqual(v["status"], "enabled")
        self.assertEqual(v["settings"]["icebergUnreferencedFileRemoval"],
                         {"unreferencedDays": 3, "nonCurrentDays": 10})
        self.t.put_table_bucket_maintenance_configuration(
            tableBucketARN=arn, type="icebergUnreferencedFileRemoval",
            value={"status": "enabled", "settings": {"icebergUnreferencedFileRemoval": {
                "unreferencedDays": 5, "nonCurrentDays": 20}}})
        v = self.t.get_table_bucket_maintenance_configuration(tableBucketARN=arn)[
            "configuration"]["icebergUnreferencedFileRemoval"]
        self.assertEqual(v["settings"]["icebergUnreferencedFileRemoval"]["unreferencedDays"], 5)
        status, _ = self.signed("PUT", "/buckets/%s/maintenance/icebergCompaction"
                                % urllib.parse.quote(arn, safe=""),
                                json.dumps({"value": {"status": "enabled"}}).encode())
        self.assertEqual(status, 400)

    # ---- namespaces ----------------------------------------------------

    def test_namespace_lifecycle(self):
        _, arn = self.bucket()
        r = self.t.create_namespace(tableBucketARN=arn, namespace=["sales"])
        self.assertEqual((r["tableBucketARN"], r["namespace"]), (arn, ["sales"]))
        g = self.t.get_namespace(tableBucketARN=arn, namespace="sales")
        self.assertEqual(g["namespace"], ["sales"])
        for k in ("createdAt", "createdBy", "ownerAccountId", "namespaceId", "tableBucketId"):
            self.assertIn(k, g)
        self.err("ConflictException", 409, self.t.create_namespace, tableBucketARN=arn,
                 namespace=["sales"])
        self.t.delete_namespace(tableBucketARN=arn, namespace="sales")
        self.err("NotFoundException", 404, self.t.get_namespace, tableBucketARN=arn,
                 namespace="sales")
        self.err("NotFoundException", 404, self.t.delete_namespace, tableBucketARN=arn,
                 namespace="sales")

    def test_namespace_name_rules(self):
        _, arn = self.bucket()
        for bad in ["Upper", "has-hyphen", "dot.x", "aws_reserved", "_lead", "trail_", "x" * 256]:
            with self.subTest(bad=bad):
                self.err("BadRequestException", 400, self.t.create_namespace, tableBucketARN=arn,
                         namespace=[bad])
        self.assertEqual(self.t.list_namespaces(tableBucketARN=arn)["namespaces"], [])

    def test_namespace_in_missing_bucket_is_not_found(self):
        name, arn = self.bucket()
        self.t.delete_table_bucket(tableBucketARN=arn)
        self.err("NotFoundException", 404, self.t.create_namespace, tableBucketARN=arn,
                 namespace=["x"])

    def test_list_namespaces_prefix_and_pagination(self):
        _, arn = self.bucket()
        names = ["a_%d" % i for i in range(5)] + ["b_1"]
        for n in names:
            self.ns(arn, n)
        got, token = [], None
        while True:
            kw = {"tableBucketARN": arn, "prefix": "a_", "maxNamespaces": 2}
            if token:
                kw["continuationToken"] = token
            page = self.t.list_namespaces(**kw)
            got += [n["namespace"][0] for n in page["namespaces"]]
            token = page.get("continuationToken")
            if not token:
                break
        self.assertEqual(got, names[:5])

    def test_delete_non_empty_namespace_is_conflict(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, _ = self.table(arn, ns)
        self.err("ConflictException", 409, self.t.delete_namespace, tableBucketARN=arn,
                 namespace=ns)
        self.assertEqual(self.t.get_table(tableBucketARN=arn, namespace=ns, name=name)["name"],
                         name)

    # ---- tables --------------------------------------------------------

    def test_create_table_without_metadata_has_no_location(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns)
        self.assertTrue(r["tableARN"].startswith(arn + "/table/"))
        loc = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns, name=name)
        self.assertNotIn("metadataLocation", loc)
        self.assertEqual(loc["versionToken"], r["versionToken"])
        self.assertRegex(loc["warehouseLocation"], r"^s3://[0-9a-f-]{36}--table-s3/[0-9a-f-]{36}$")
        g = self.t.get_table(tableBucketARN=arn, namespace=ns, name=name)
        self.assertEqual((g["name"], g["namespace"], g["format"], g["type"]),
                         (name, [ns], "ICEBERG", "customer"))
        self.assertEqual(g["tableARN"], r["tableARN"])
        for k in ("createdAt", "createdBy", "modifiedAt", "modifiedBy", "ownerAccountId",
                  "warehouseLocation", "versionToken", "namespaceId", "tableBucketId"):
            self.assertIn(k, g)

    def test_create_table_with_schema_writes_metadata_readable_over_s3(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns, metadata={"iceberg": {"schema": SCHEMA}})
        loc = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns, name=name)
        ml = loc["metadataLocation"]
        self.assertTrue(ml.startswith(loc["warehouseLocation"] + "/metadata/00000-"))
        self.assertTrue(ml.endswith(".metadata.json"))
        bucket, key = ml[len("s3://"):].split("/", 1)
        md = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        self.assertEqual(md["format-version"], 2)
        self.assertEqual(md["location"], loc["warehouseLocation"])
        fields = md["schemas"][0]["fields"]
        self.assertEqual([(f["id"], f["name"], f["type"], f["required"]) for f in fields],
                         [(1, "id", "long", True), (2, "name", "string", False),
                          (3, "ts", "timestamptz", False)])

    def test_create_table_with_schema_v2_partition_and_properties(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        schema = {"type": "struct", "fields": [
            {"id": 1, "name": "id", "type": "long", "required": True},
            {"id": 2, "name": "tags", "required": False,
             "type": {"type": "list", "element-id": 3, "element": "string",
                      "element-required": False}},
            {"id": 4, "name": "ts", "type": "timestamptz", "required": False}]}
        name, _ = self.table(arn, ns, metadata={"iceberg": {
            "schemaV2": schema,
            "partitionSpec": {"fields": [{"sourceId": 4, "transform": "day", "name": "ts_day"}]},
            "properties": {"write.format.default": "parquet"}}})
        ml = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns,
                                                name=name)["metadataLocation"]
        bucket, key = ml[len("s3://"):].split("/", 1)
        md = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        spec = md["partition-specs"][0]["fields"]
        self.assertEqual([(f["name"], f["transform"]) for f in spec], [("ts_day", "day")])
        self.assertEqual(md["properties"].get("write.format.default"), "parquet")

    def test_create_table_refusals_create_nothing(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, _ = self.table(arn, ns, name="dup")
        cases = [
            ("ConflictException", 409, dict(namespace=ns, name="dup")),
            ("BadRequestException", 400, dict(namespace=ns, name="Bad-Name")),
            ("BadRequestException", 400, dict(namespace=ns, name="x" * 256)),
            ("NotFoundException", 404, dict(namespace="nope", name="t")),
            ("BadRequestException", 400, dict(namespace=ns, name="badschema",
                                               metadata={"iceberg": {"schema": {"fields": []}}})),
            ("BadRequestException", 400, dict(namespace=ns, name="badtype", metadata={
                "iceberg": {"schema": {"fields": [{"name": "a", "type": "nonsense"}]}}})),
        ]
        for code, status, kw in cases:
            with self.subTest(kw=kw):
                self.err(code, status, self.t.create_table, tableBucketARN=arn, format="ICEBERG",
                         **kw)
        self.assertEqual([t["name"] for t in self.t.list_tables(tableBucketARN=arn)["tables"]],
                         ["dup"])

    def test_get_table_by_arn_and_legacy_binding(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns)
        by_arn = self.t.get_table(tableArn=r["tableARN"])
        self.assertEqual(by_arn["name"], name)
        status, body = self.signed("GET", "/tables/%s/%s/%s"
                                   % (urllib.parse.quote(arn, safe=""), ns, name))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["tableARN"], r["tableARN"])
        self.err("NotFoundException", 404, self.t.get_table, tableBucketARN=arn, namespace=ns,
                 name="missing")
        self.err("NotFoundException", 404, self.t.get_table,
                 tableArn=arn + "/table/" + str(uuid.uuid4()))

    def test_list_tables_namespace_prefix_pagination(self):
        _, arn = self.bucket()
        ns1, ns2 = self.ns(arn, "one"), self.ns(arn, "two")
        for n in ["aa", "ab", "ac", "b"]:
            self.table(arn, ns1, n)
        self.table(arn, ns2, "aa")
        self.assertEqual(len(self.t.list_tables(tableBucketARN=arn)["tables"]), 5)
        got, token = [], None
        while True:
            kw = {"tableBucketARN": arn, "namespace": "one", "prefix": "a", "maxTables": 2}
            if token:
                kw["continuationToken"] = token
            page = self.t.list_tables(**kw)
            got += [(t["namespace"][0], t["name"]) for t in page["tables"]]
            token = page.get("continuationToken")
            if not token:
                break
        self.assertEqual(got, [("one", "aa"), ("one", "ab"), ("one", "ac")])

    def test_delete_table_with_version_token(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns)
        self.err("ConflictException", 409, self.t.delete_table, tableBucketARN=arn, namespace=ns,
                 name=name, versionToken="stale")
        self.assertEqual(self.t.get_table(tableBucketARN=arn, namespace=ns, name=name)["name"],
                         name)
        self.t.delete_table(tableBucketARN=arn, namespace=ns, name=name,
                            versionToken=r["versionToken"])
        self.err("NotFoundException", 404, self.t.get_table, tableBucketARN=arn, namespace=ns,
                 name=name)
        name2, _ = self.table(arn, ns)
        self.t.delete_table(tableBucketARN=arn, namespace=ns, name=name2)

    def test_delete_table_removes_its_files(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, _ = self.table(arn, ns, metadata={"iceberg": {"schema": SCHEMA}})
        wh = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns,
                                                name=name)["warehouseLocation"]
        bucket, prefix = wh[len("s3://"):].split("/", 1)
        self.assertTrue(self.keys(bucket, prefix + "/"))
        self.t.delete_table(tableBucketARN=arn, namespace=ns, name=name)
        self.assertEqual(self.keys(bucket, prefix + "/"), [])

    def test_rename_table(self):
        _, arn = self.bucket()
        ns1, ns2 = self.ns(arn), self.ns(arn)
        name, r = self.table(arn, ns1)
        self.table(arn, ns2, "taken")
        self.err("ConflictException", 409, self.t.rename_table, tableBucketARN=arn,
                 namespace=ns1, name=name, newNamespaceName=ns2, newName="taken")
        self.err("ConflictException", 409, self.t.rename_table, tableBucketARN=arn,
                 namespace=ns1, name=name, newName="x", versionToken="stale")
        self.err("NotFoundException", 404, self.t.rename_table, tableBucketARN=arn,
                 namespace=ns1, name=name, newNamespaceName="nope")
        self.err("BadRequestException", 400, self.t.rename_table, tableBucketARN=arn,
                 namespace=ns1, name=name, newName="Bad-Name")
        self.assertEqual(self.t.get_table(tableBucketARN=arn, namespace=ns1, name=name)["name"],
                         name)  # every refusal left it in place
        self.t.rename_table(tableBucketARN=arn, namespace=ns1, name=name, newNamespaceName=ns2,
                            newName="moved", versionToken=r["versionToken"])
        g = self.t.get_table(tableBucketARN=arn, namespace=ns2, name="moved")
        self.assertEqual((g["tableARN"], g["namespace"]), (r["tableARN"], [ns2]))
        self.assertEqual(self.t.get_table(tableArn=r["tableARN"])["name"], "moved")
        self.err("NotFoundException", 404, self.t.get_table, tableBucketARN=arn, namespace=ns1,
                 name=name)

    def test_update_metadata_location_compare_and_swap(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns)
        wh = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns,
                                                name=name)["warehouseLocation"]
        good = wh + "/metadata/00001-%s.metadata.json" % uuid.uuid4()
        self.err("ConflictException", 409, self.t.update_table_metadata_location,
                 tableBucketARN=arn, namespace=ns, name=name, versionToken="stale",
                 metadataLocation=good)
        for bad in ["s3://elsewhere/metadata/x.metadata.json", wh + "/metadata/x.json",
                    wh + "x/metadata/y.metadata.json"]:
            with self.subTest(bad=bad):
                self.err("BadRequestException", 400, self.t.update_table_metadata_location,
                         tableBucketARN=arn, namespace=ns, name=name,
                         versionToken=r["versionToken"], metadataLocation=bad)
        cur = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns, name=name)
        self.assertEqual(cur["versionToken"], r["versionToken"])
        self.assertNotIn("metadataLocation", cur)
        u = self.t.update_table_metadata_location(
            tableBucketARN=arn, namespace=ns, name=name, versionToken=r["versionToken"],
            metadataLocation=good)
        self.assertEqual((u["name"], u["namespace"], u["tableARN"], u["metadataLocation"]),
                         (name, [ns], r["tableARN"], good))
        self.assertNotEqual(u["versionToken"], r["versionToken"])
        # The old token is now stale: exactly one of two racing writers wins.
        self.err("ConflictException", 409, self.t.update_table_metadata_location,
                 tableBucketARN=arn, namespace=ns, name=name, versionToken=r["versionToken"],
                 metadataLocation=good)
        cur = self.t.get_table_metadata_location(tableBucketARN=arn, namespace=ns, name=name)
        self.assertEqual((cur["versionToken"], cur["metadataLocation"]),
                         (u["versionToken"], good))

    def test_table_policy(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, _ = self.table(arn, ns)
        kw = dict(tableBucketARN=arn, namespace=ns, name=name)
        self.err("NotFoundException", 404, self.t.get_table_policy, **kw)
        self.t.put_table_policy(resourcePolicy=POLICY, **kw)
        self.assertEqual(self.t.get_table_policy(**kw)["resourcePolicy"], POLICY)
        self.err("BadRequestException", 400, self.t.put_table_policy, resourcePolicy="{", **kw)
        self.t.delete_table_policy(**kw)
        self.err("NotFoundException", 404, self.t.get_table_policy, **kw)

    def test_table_maintenance_and_job_status(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, r = self.table(arn, ns)
        kw = dict(tableBucketARN=arn, namespace=ns, name=name)
        g = self.t.get_table_maintenance_configuration(**kw)
        self.assertEqual(g["tableARN"], r["tableARN"])
        self.assertEqual(g["configuration"]["icebergCompaction"]["settings"]["icebergCompaction"]
                         ["targetFileSizeMB"], 512)
        self.assertEqual(g["configuration"]["icebergSnapshotManagement"]["settings"]
                         ["icebergSnapshotManagement"]["maxSnapshotAgeHours"], 120)
        self.t.put_table_maintenance_configuration(
            type="icebergSnapshotManagement", value={"status": "disabled"}, **kw)
        self.t.put_table_maintenance_configuration(
            type="icebergCompaction", value={"status": "enabled", "settings": {
                "icebergCompaction": {"targetFileSizeMB": 256, "strategy": "binpack"}}}, **kw)
        self.err("BadRequestException", 400, self.t.put_table_maintenance_configuration,
                 type="icebergCompaction", value={"settings": {
                     "icebergCompaction": {"targetFileSizeMB": 10000}}}, **kw)
        self.err("BadRequestException", 400, self.t.put_table_maintenance_configuration,
                 type="icebergCompaction", value={"settings": {
                     "icebergSnapshotManagement": {"minSnapshotsToKeep": 2}}}, **kw)
        c = self.t.get_table_maintenance_configuration(**kw)["configuration"]
        self.assertEqual(c["icebergCompaction"]["settings"]["icebergCompaction"],
                         {"targetFileSizeMB": 256, "strategy": "binpack"})
        self.assertEqual(c["icebergSnapshotManagement"]["status"], "disabled")
        s = self.t.get_table_maintenance_job_status(**kw)
        self.assertEqual(s["tableARN"], r["tableARN"])
        self.assertEqual({k: v["status"] for k, v in s["status"].items()},
                         {"icebergCompaction": "Not_Yet_Run",
                          "icebergSnapshotManagement": "Disabled",
                          "icebergUnreferencedFileRemoval": "Not_Yet_Run"})

    def test_record_expiration_is_method_not_allowed_on_customer_tables(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        _, r = self.table(arn, ns)
        self.err("MethodNotAllowedException", 405,
                 self.t.put_table_record_expiration_configuration, tableArn=r["tableARN"],
                 value={"status": "enabled", "settings": {"days": 30}})
        self.err("MethodNotAllowedException", 405,
                 self.t.get_table_record_expiration_configuration, tableArn=r["tableARN"])
        self.err("MethodNotAllowedException", 405,
                 self.t.get_table_record_expiration_job_status, tableArn=r["tableARN"])
        self.err("NotFoundException", 404, self.t.get_table_record_expiration_configuration,
                 tableArn=arn + "/table/" + str(uuid.uuid4()))

    def test_bucket_replication(self):
        _, arn = self.bucket()
        _, dest = self.bucket()
        cfg = {"role": ROLE, "rules": [{"destinations": [{"destinationTableBucketARN": dest}]}]}
        self.err("NotFoundException", 404, self.t.get_table_bucket_replication,
                 tableBucketARN=arn)
        p = self.t.put_table_bucket_replication(tableBucketARN=arn, configuration=cfg)
        self.assertTrue(p["versionToken"] and p["status"])
        g = self.t.get_table_bucket_replication(tableBucketARN=arn)
        self.assertEqual((g["versionToken"], g["configuration"]), (p["versionToken"], cfg))
        self.err("ConflictException", 409, self.t.put_table_bucket_replication,
                 tableBucketARN=arn, configuration=cfg, versionToken="stale")
        self.err("BadRequestException", 400, self.t.put_table_bucket_replication,
                 tableBucketARN=arn, configuration={"role": "arn:aws:iam::1:role/x",
                                                    "rules": cfg["rules"]})
        self.assertEqual(self.t.get_table_bucket_replication(tableBucketARN=arn)["versionToken"],
                         p["versionToken"])
        ns = self.ns(arn)
        _, t = self.table(arn, ns)
        st = self.t.get_table_replication_status(tableArn=t["tableARN"])
        self.assertEqual(st["sourceTableArn"], t["tableARN"])
        self.assertEqual(st["destinations"][0]["destinationTableBucketArn"], dest)
        self.assertEqual(st["destinations"][0]["replicationStatus"], "pending")
        self.t.delete_table_bucket_replication(tableBucketARN=arn, versionToken=p["versionToken"])
        self.err("NotFoundException", 404, self.t.get_table_bucket_replication,
                 tableBucketARN=arn)

    def test_table_replication(self):
        _, arn = self.bucket()
        _, dest = self.bucket()
        ns = self.ns(arn)
        _, t = self.table(arn, ns)
        cfg = {"role": ROLE, "rules": [{"destinations": [{"destinationTableBucketARN": dest}]}]}
        self.err("NotFoundException", 404, self.t.get_table_replication, tableArn=t["tableARN"])
        p = self.t.put_table_replication(tableArn=t["tableARN"], configuration=cfg)
        g = self.t.get_table_replication(tableArn=t["tableARN"])
        self.assertEqual((g["versionToken"], g["configuration"]), (p["versionToken"], cfg))
        self.err("ConflictException", 409, self.t.delete_table_replication,
                 tableArn=t["tableARN"], versionToken="stale")
        self.t.delete_table_replication(tableArn=t["tableARN"], versionToken=p["versionToken"])
        self.err("NotFoundException", 404, self.t.get_table_replication, tableArn=t["tableARN"])

    def test_tags_on_buckets_and_tables(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        _, t = self.table(arn, ns, tags={"team": "data"})
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=t["tableARN"])["tags"],
                         {"team": "data"})
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=arn)["tags"], {})
        self.t.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
        self.t.tag_resource(resourceArn=arn, tags={"b": "3"})
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=arn)["tags"],
                         {"a": "1", "b": "3"})
        self.t.untag_resource(resourceArn=arn, tagKeys=["a", "zz"])
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=arn)["tags"], {"b": "3"})
        self.err("BadRequestException", 400, self.t.tag_resource, resourceArn=arn,
                 tags={"k%d" % i: "v" for i in range(50)})
        self.err("BadRequestException", 400, self.t.tag_resource, resourceArn=arn,
                 tags={"x" * 129: "v"})
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=arn)["tags"], {"b": "3"})
        self.err("NotFoundException", 404, self.t.list_tags_for_resource,
                 resourceArn=arn + "/table/" + str(uuid.uuid4()))
        self.err("BadRequestException", 400, self.t.list_tags_for_resource, resourceArn="arn:x")

    def test_create_bucket_with_options(self):
        name = "opt-" + uuid.uuid4().hex[:8]
        arn = self.t.create_table_bucket(
            name=name, encryptionConfiguration={"sseAlgorithm": "AES256"},
            storageClassConfiguration={"storageClass": "INTELLIGENT_TIERING"},
            tags={"env": "test"})["arn"]
        self.assertEqual(self.t.list_tags_for_resource(resourceArn=arn)["tags"], {"env": "test"})
        self.assertEqual(self.t.get_table_bucket_storage_class(tableBucketARN=arn)
                         ["storageClassConfiguration"]["storageClass"], "INTELLIGENT_TIERING")
        self.err("BadRequestException", 400, self.t.create_table_bucket,
                 name="opt2-" + uuid.uuid4().hex[:8],
                 storageClassConfiguration={"storageClass": "GLACIER"})

    def test_error_shape_has_type_header_and_message_only(self):
        status, body = self.signed("GET", "/buckets/%s" % urllib.parse.quote(
            "arn:aws:s3tables:us-east-1:000000000000:bucket/none", safe=""))
        self.assertEqual(status, 404)
        self.assertEqual(set(json.loads(body)), {"__type", "message"})
        status, body = self.signed("GET", "/no-such-route")
        self.assertEqual((status, json.loads(body)["__type"]), (400, "UnknownOperationException"))

    def test_internal_table_bucket_names_are_refused_to_s3_users(self):
        _, arn = self.bucket()
        ns = self.ns(arn)
        name, _ = self.table(arn, ns)
        wh = self.t.get_table(tableBucketARN=arn, namespace=ns, name=name)["warehouseLocation"]
        with self.assertRaises(ClientError):
            self.s3.create_bucket(Bucket=wh[len("s3://"):].split("/")[0] + "x--table-s3")


import urllib.parse  # noqa: E402  (used by helpers above)

if __name__ == "__main__":
    unittest.main()
