"""Iceberg REST catalog under /iceberg/v1 (issue 6; iceberg.md §8,
s3tables-api §5; NOTES-ON-ISSUES 10, 11): bearer tokens from the OAuth2
extension, SigV4 (s3tables) requests, namespaces, tables, commits with
compare-and-swap semantics, purge-only drop.
"""
import json
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase

SCHEMA = {"type": "struct", "schema-id": 0, "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "v", "type": "string", "required": False}]}


class IcebergRest(KuraTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = boto3.client("s3tables", endpoint_url=cls.endpoint, region_name=REGION,
                             aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": ACCESS_KEY,
                                       "client_secret": SECRET_KEY}).encode()
        st, tok = cls._send("POST", "/iceberg/v1/oauth/tokens", body,
                            {"Content-Type": "application/x-www-form-urlencoded"})
        assert st == 200, tok
        cls.token = tok["access_token"]

    @classmethod
    def _send(cls, method, path, body=b"", headers=None):
        req = urllib.request.Request(cls.endpoint + path, data=body or None, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req) as r:
                data = r.read()
                return r.status, json.loads(data) if data else None
        except urllib.error.HTTPError as e:
            data = e.read()
            return e.code, json.loads(data) if data else None

    def call(self, method, path, doc=None, token=True, sigv4=False):
        body = json.dumps(doc).encode() if doc is not None else b""
        headers = {"Content-Type": "application/json"} if doc is not None else {}
        if sigv4:
            req = AWSRequest(method=method, url=self.endpoint + path, data=body, headers=headers)
            SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3tables", REGION).add_auth(req)
            headers = dict(req.headers.items())
        elif token:
            headers["Authorization"] = "Bearer " + self.token
        return self._send(method, path, body, headers)

    def setUp(self):
        self.name = "ice-" + uuid.uuid4().hex[:8]
        self.arn = self.t.create_table_bucket(name=self.name)["arn"]
        st, cfg = self.call("GET", "/iceberg/v1/config?warehouse=" +
                            urllib.parse.quote(self.arn, safe=""))
        self.assertEqual(st, 200, cfg)
        self.prefix = cfg["overrides"]["prefix"]
        self.base = "/iceberg/v1/" + self.prefix

    def create(self, ns="db", table="t"):
        st, _ = self.call("POST", self.base + "/namespaces", {"namespace": [ns]})
        self.assertIn(st, (200, 409))
        st, r = self.call("POST", "%s/namespaces/%s/tables" % (self.base, ns),
                          {"name": table, "schema": SCHEMA})
        self.assertEqual(st, 200, r)
        return r

    def test_config_prefix_is_encoded_arn_and_lists_endpoints(self):
        self.assertEqual(urllib.parse.unquote(self.prefix), self.arn)
        self.assertNotIn(":", self.prefix)
        st, cfg = self.call("GET", "/iceberg/v1/config?warehouse=" + self.name)
        self.assertEqual(cfg["overrides"]["prefix"], self.prefix)
        self.assertIn("POST /v1/{prefix}/namespaces/{namespace}/tables/{table}", cfg["endpoints"])
        st, err = self.call("GET", "/iceberg/v1/config?warehouse=nope-" + self.name)
        self.assertEqual((st, err["error"]["code"]), (404, 404))

    def test_auth_is_required_and_bad_tokens_are_refused(self):
        st, err = self.call("GET", self.base + "/namespaces", token=False)
        self.assertEqual((st, err["error"]["type"]), (401, "NotAuthorizedException"))
        self.token, good = self.token[:-2] + "00", self.token
        try:
            st, _ = self.call("GET", self.base + "/namespaces")
            self.assertEqual(st, 401)
        finally:
            self.token = good
        st, r = self.call("GET", self.base + "/namespaces", sigv4=True)
        self.assertEqual(st, 200, r)
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": ACCESS_KEY,
                                       "client_secret": "wrong"}).encode()
        st, err = self._send("POST", "/iceberg/v1/oauth/tokens", body)
        self.assertEqual((st, err["error"]), (401, "invalid_client"))

    def test_namespaces(self):
        st, r = self.call("POST", self.base + "/namespaces", {"namespace": ["db"]})
        self.assertEqual((st, r["namespace"]), (200, ["db"]))
        st, r = self.call("POST", self.base + "/namespaces", {"namespace": ["db"]})
        self.assertEqual((st, r["error"]["type"]), (409, "AlreadyExistsException"))
        st, r = self.call("GET", self.base + "/namespaces")
        self.assertEqual(r["namespaces"], [["db"]])
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/db")[0], 204)
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/nope")[0], 404)
        st, r = self.call("GET", self.base + "/namespaces/nope")
        self.assertEqual(r["error"]["type"], "NoSuchNamespaceException")
        self.create("db", "t")
        st, r = self.call("DELETE", self.base + "/namespaces/db")
        self.assertEqual((st, r["error"]["type"]), (409, "NamespaceNotEmptyException"))
        st, r = self.call("POST", self.base + "/namespaces/db/properties",
                          {"removals": ["a"], "updates": {"a": "1"}})
        self.assertEqual(st, 422)

    def test_create_load_and_list_tables(self):
        r = self.create()
        self.assertTrue(r["metadata-location"].endswith(".metadata.json"))
        self.assertEqual(r["metadata"]["schemas"][0]["fields"][0]["name"], "id")
        st, again = self.call("POST", self.base + "/namespaces/db/tables",
                              {"name": "t", "schema": SCHEMA})
        self.assertEqual((st, again["error"]["type"]), (409, "AlreadyExistsException"))
        st, l = self.call("GET", self.base + "/namespaces/db/tables/t")
        self.assertEqual((st, l["metadata-location"]), (200, r["metadata-location"]))
        self.assertEqual(l["metadata"]["table-uuid"], r["metadata"]["table-uuid"])
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/db/tables/t")[0], 204)
        st, e = self.call("GET", self.base + "/namespaces/db/tables/zz")
        self.assertEqual((st, e["error"]["type"]), (404, "NoSuchTableException"))
        st, ids = self.call("GET", self.base + "/namespaces/db/tables")
        self.assertEqual(ids["identifiers"], [{"namespace": ["db"], "name": "t"}])
        # The S3 Tables API sees the same table.
        g = self.t.get_table_metadata_location(tableBucketARN=self.arn, namespace="db", name="t")
        self.assertEqual(g["metadataLocation"], r["metadata-location"])

    def test_schema_update_commit_and_conflicting_commit(self):
        r = self.create()
        uuid_ = r["metadata"]["table-uuid"]
        new_schema = dict(SCHEMA, **{"schema-id": 1, "fields": SCHEMA["fields"] + [
            {"id": 3, "name": "extra", "type": "int", "required": False}]})
        commit = {"requirements": [{"type": "assert-table-uuid", "uuid": uuid_},
                                   {"type": "assert-current-schema-id", "current-schema-id": 0}],
                  "updates": [{"action": "add-schema", "schema": new_schema},
                              {"action": "set-current-schema", "schema-id": -1}]}
        st, c = self.call("POST", self.base + "/namespaces/db/tables/t", commit)
        self.assertEqual(st, 200, c)
        self.assertEqual(c["metadata"]["current-schema-id"], 1)
        self.assertNotEqual(c["metadata-location"], r["metadata-location"])
        # The same commit again: its requirement now fails -> 409, nothing changes.
        st, e = self.call("POST", self.base + "/namespaces/db/tables/t", commit)
        self.assertEqual((st, e["error"]["type"]), (409, "CommitFailedException"))
        st, l = self.call("GET", self.base + "/namespaces/db/tables/t")
        self.assertEqual(l["metadata-location"], c["metadata-location"])
        self.assertEqual(len(l["metadata"]["schemas"]), 2)
        st, e = self.call("POST", self.base + "/namespaces/db/tables/t",
                          {"requirements": [], "updates": [{"action": "no-such-update"}]})
        self.assertEqual(st, 400)

    def test_drop_needs_purge_and_rename(self):
        self.create("db", "t")
        st, e = self.call("DELETE", self.base + "/namespaces/db/tables/t")
        self.assertEqual(st, 400)
        self.assertIn("purge", e["error"]["message"])
        self.call("POST", self.base + "/namespaces", {"namespace": ["other"]})
        st, _ = self.call("POST", self.base + "/tables/rename", {
            "source": {"namespace": ["db"], "name": "t"},
            "destination": {"namespace": ["other"], "name": "t2"}})
        self.assertEqual(st, 204)
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/other/tables/t2")[0], 204)
        st, _ = self.call("DELETE", self.base + "/namespaces/other/tables/t2?purgeRequested=true")
        self.assertEqual(st, 204)
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/other/tables/t2")[0], 404)

    def test_stage_create_then_create_transaction(self):
        self.call("POST", self.base + "/namespaces", {"namespace": ["db"]})
        st, s = self.call("POST", self.base + "/namespaces/db/tables",
                          {"name": "staged", "schema": SCHEMA, "stage-create": True})
        self.assertEqual(st, 200, s)
        self.assertIsNone(s.get("metadata-location"))
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/db/tables/staged")[0], 404)
        m = s["metadata"]
        commit = {"requirements": [{"type": "assert-create"}], "updates": [
            {"action": "assign-uuid", "uuid": m["table-uuid"]},
            {"action": "upgrade-format-version", "format-version": 2},
            {"action": "add-schema", "schema": m["schemas"][0]},
            {"action": "set-current-schema", "schema-id": -1},
            {"action": "add-spec", "spec": {"spec-id": 0, "fields": []}},
            {"action": "set-default-spec", "spec-id": -1},
            {"action": "add-sort-order", "sort-order": {"order-id": 0, "fields": []}},
            {"action": "set-default-sort-order", "sort-order-id": -1},
            {"action": "set-location", "location": m["location"]}]}
        st, c = self.call("POST", self.base + "/namespaces/db/tables/staged", commit)
        self.assertEqual(st, 200, c)
        self.assertEqual(self.call("HEAD", self.base + "/namespaces/db/tables/staged")[0], 204)


if __name__ == "__main__":
    unittest.main()
