"""metadata_harness.py: helpers shared by the S3 Metadata tests
(test_metadata_journal.py, test_metadata_crash.py).

MetadataCase is a KuraTestCase (optionally with server arguments, e.g.
--test-clock) that can configure S3 Metadata on a bucket, force a publish
pass (POST /kura/admin/metadata/publish), and read a managed table the way
an outside engine does: js/metadata_table_dump.mjs fetches the metadata
location through the S3 Tables API, decodes the manifests (avsc), downloads
the Parquet files through the S3 API and reads them with DuckDB
(@duckdb/node-api), since python here has no duckdb module.

Scale: KURA_SCALE=full runs the issue's sizes (10,000 operations, 100,000
pre-existing objects); the default is sized for CI.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import kura_harness
from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
FULL = os.environ.get("KURA_SCALE") == "full"
DUCKDB_NODE_API = "@duckdb/node-api@1.4.4-r.1"


def scale(default, full):
    return full if FULL else default


def admin(tc, method, path, body=b"", query=None):
    """A root-signed admin call. Returns (status, parsed JSON or raw bytes)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    status, _, data = tc.raw(method, path, query=query, body=body)
    try:
        return status, json.loads(data.decode()) if data else None
    except ValueError:
        return status, data


def account_id(tc):
    with open(os.path.join(tc.data_dir, "credentials")) as f:
        return json.load(f)["account_id"]


_node_path = None


def node_path():
    """NODE_PATH under which `@duckdb/node-api` resolves: the suite's own
    node_modules when it holds it, else a temp install (once per process)."""
    global _node_path
    if _node_path:
        return _node_path
    if shutil.which("node") is None:
        raise kura_harness.unittest.SkipTest("node is not installed")
    own = os.path.join(JS_DIR, "node_modules")
    if os.path.isdir(os.path.join(own, "@duckdb", "node-api")):
        _node_path = own
        return own
    tmp = tempfile.mkdtemp(prefix="kura-duckdb-node-")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", tmp,
                    DUCKDB_NODE_API, "avsc", "@aws-sdk/client-s3", "@aws-sdk/client-s3tables"],
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    _node_path = os.path.join(tmp, "node_modules")
    return _node_path


class MetadataCase(KuraTestCase):
    server_args = []

    @classmethod
    def setUpClass(cls):
        orig = kura_harness.KuraServer
        if cls.server_args:
            kura_harness.KuraServer = lambda d, **kw: orig(d, extra_args=cls.server_args, **kw)
        try:
            super().setUpClass()
        finally:
            kura_harness.KuraServer = orig
        cls.account = None

    # ---- configuration ----------------------------------------------

    def enable_metadata(self, bucket, inventory=False, days=None):
        exp = {"Expiration": "ENABLED", "Days": days} if days else {"Expiration": "DISABLED"}
        conf = {"JournalTableConfiguration": {"RecordExpiration": exp}}
        if inventory:
            conf["InventoryTableConfiguration"] = {"ConfigurationState": "ENABLED"}
        self.s3.create_bucket_metadata_configuration(Bucket=bucket, MetadataConfiguration=conf)

    def metadata_conf(self, bucket):
        return self.s3.get_bucket_metadata_configuration(
            Bucket=bucket)["GetBucketMetadataConfigurationResult"]["MetadataConfigurationResult"]

    def table_status(self, bucket, table):
        r = self.metadata_conf(bucket)
        key = {"journal": "JournalTableConfigurationResult",
               "inventory": "InventoryTableConfigurationResult"}[table]
        return r.get(key, {}).get("TableStatus"), r.get(key, {}).get("Error")

    def publish(self):
        status, body = admin(self, "POST", "/kura/admin/metadata/publish")
        self.assertEqual(status, 200, body)
        return body["rows"]

    def publish_until_quiet(self, limit=50):
        """Passes until one publishes nothing (a pass drains at most
        16 batches of 10,000 rows per bucket)."""
        total = 0
        for _ in range(limit):
            n = self.publish()
            total += n
            if n == 0:
                return total
        self.fail("the publisher did not drain the queue in %d passes" % limit)

    # ---- reading tables -----------------------------------------------

    def table_bucket_arn(self):
        if self.account is None:
            type(self).account = account_id(self)
        return "arn:aws:s3tables:%s:%s:bucket/aws-s3" % (REGION, self.account)

    def dump(self, bucket, table, sql=None, check=True):
        ns = "b_" + bucket.replace(".", "_")
        env = dict(os.environ, NODE_PATH=node_path(), KURA_ACCESS_KEY_ID=ACCESS_KEY,
                   KURA_SECRET_ACCESS_KEY=SECRET_KEY)
        argv = ["node", os.path.join(JS_DIR, "metadata_table_dump.mjs"), self.endpoint,
                self.table_bucket_arn(), ns, table]
        if sql:
            argv.append(sql)
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600, cwd=JS_DIR)
        if p.returncode != 0 and not check:
            return None
        if p.returncode != 0:
            self.fail("metadata_table_dump failed: %s\nserver log:\n%s"
                      % (p.stderr.decode()[-3000:], self.server.log_tail(20)))
        return json.loads(p.stdout)

    def versions(self, bucket):
        """Every version and delete marker, as ListObjectVersions returns them."""
        out = []
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []):
                out.append((v["Key"], v["VersionId"], False, v["Size"], v["ETag"].strip('"')))
            for m in page.get("DeleteMarkers", []):
                out.append((m["Key"], m["VersionId"], True, 0, None))
        return sorted(out)

    def wait_for(self, predicate, timeout=60, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v:
                return v
            if time.monotonic() > deadline:
                self.fail("timed out waiting for %s" % what)
            time.sleep(0.2)
