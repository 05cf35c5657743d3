# tests/integration/test_sql_metadata.py: AWS's metadata-table example
# queries (S3 User Guide, "Example metadata table queries", journal part;
# NOTES-ON-ISSUES 22) run unchanged through all three ways in -- `kura sql`,
# POST /kura/sql and the Athena API -- over a bucket whose journal this test
# filled, and compared with what the test computes from its own record of
# the operations (issue 8, "Must show"). The later examples on AWS's page
# (Lifecycle deletes, Bedrock, current state, the inventory queries) could
# not be captured word for word; the issue's own intents -- recently deleted
# objects, objects by tag or user metadata, storage by storage class, changes
# by requester, the state of a prefix at a time -- are kura's queries below
# (INTENTS), run and checked the same way.
#
# The SQL below is AWS's text with only the namespace substituted. kura
# stores plain bytes: encryption_status and kms_key_arn are NULL in every
# row (src/journal/publisher.c), so the KMS examples must return exactly
# the NULL key / nothing, as Athena would on such a table.
import datetime
import json
import subprocess
import time
import unittest

import boto3
from botocore.config import Config

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase, kura_bin

BUCKET = "photos-md"
J = '"s3tablescatalog/aws-s3"."b_%s"."journal"' % BUCKET

# AWS's exact example queries (journal tables), in the page's order.
EXAMPLES = {
    "objects_by_extension":
        "SELECT key FROM %s WHERE key LIKE '%%.jpg' AND record_type = 'CREATE'" % J,
    "object_deletions":
        "SELECT DISTINCT bucket, key, sequence_number, record_type, record_timestamp, "
        "requester, source_ip_address, version_id FROM %s WHERE record_type = 'DELETE';" % J,
    "kms_keys_used":
        "SELECT DISTINCT kms_key_arn FROM %s;" % J,
    "objects_not_using_kms":
        "SELECT DISTINCT kms_key_arn FROM %s WHERE encryption_status NOT IN "
        "('SSE-KMS', 'DSSE-KMS') AND record_type = 'CREATE';" % J,
    "kms_keys_for_puts_last_7_days":
        "SELECT DISTINCT kms_key_arn FROM %s WHERE record_timestamp > "
        "(current_date - interval '7' day) AND kms_key_arn is NOT NULL;" % J,
}


I = '"s3tablescatalog/aws-s3"."b_%s"."inventory"' % BUCKET

# The intents, written as a user would for Athena.
INTENTS = {
    "recently_deleted":
        "SELECT key, version_id FROM %s WHERE record_type = 'DELETE' "
        "AND record_timestamp > current_timestamp - interval '1' hour" % J,
    "objects_by_tag":
        "SELECT key, version_id FROM %s WHERE object_tags['env'] = 'prod'" % I,
    "objects_by_user_metadata":
        "SELECT key, version_id FROM %s WHERE record_type = 'CREATE' "
        "AND user_metadata['camera'] = 'x100'" % J,
    "storage_by_storage_class":
        "SELECT storage_class, count(*) AS objects, sum(size) AS bytes FROM %s "
        "WHERE is_delete_marker = false GROUP BY storage_class" % I,
    "changes_by_requester":
        "SELECT requester, record_type, count(*) AS changes FROM %s "
        "GROUP BY requester, record_type" % J,
    # The state of img/ at a time: FOR TIMESTAMP AS OF, formatted in.
    "prefix_at_a_time":
        "SELECT key, version_id, is_delete_marker FROM %s FOR TIMESTAMP AS OF "
        "TIMESTAMP '{at}' WHERE key LIKE 'img/%%'" % I,
}


def text(v):
    """A value as Athena's VarCharValue spells it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class MetadataExampleQueries(KuraTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cfg = Config(region_name=REGION, retries={"max_attempts": 1})
        kw = dict(endpoint_url=cls.endpoint, aws_access_key_id=ACCESS_KEY,
                  aws_secret_access_key=SECRET_KEY, region_name=REGION, config=cfg)
        cls.athena = boto3.client("athena", **kw)
        tables = boto3.client("s3tables", **kw)
        # The account id, as kura reports it in ARNs (the journal's requester).
        arn = tables.create_table_bucket(name="account-probe")["arn"]
        cls.account = arn.split(":")[4]

    def setUp(self):
        if getattr(type(self), "_filled", False):
            return
        type(self)._filled = True
        s3 = self.s3
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket_metadata_configuration(Bucket=BUCKET, MetadataConfiguration={
            "JournalTableConfiguration": {"RecordExpiration": {"Expiration": "DISABLED"}},
            "InventoryTableConfiguration": {"ConfigurationState": "ENABLED"}})
        # The test's own record: one entry per journal row it expects, and
        # the versions (delete markers included) the inventory must hold.
        rec, vers = [], {}
        t0 = utcnow() - datetime.timedelta(seconds=1)

        def put(key, body, tags=None, **kw):
            if tags:
                kw["Tagging"] = "&".join("%s=%s" % kv for kv in tags.items())
            v = s3.put_object(Bucket=BUCKET, Key=key, Body=body, **kw)["VersionId"]
            rec.append(dict(key=key, record_type="CREATE", version_id=v,
                            requester=self.account, source_ip="127.0.0.1"))
            vers[v] = dict(key=key, size=len(body), marker=False, tags=tags or {},
                           storage_class=kw.get("StorageClass", "STANDARD"))
            return v

        def delete(key, version_id=None):
            if version_id:   # permanent: fills only the required columns
                s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version_id)
                rec.append(dict(key=key, record_type="DELETE", version_id=version_id,
                                requester=None, source_ip=None, permanent=True))
                del vers[version_id]
                return
            v = s3.delete_object(Bucket=BUCKET, Key=key)["VersionId"]  # a delete marker
            rec.append(dict(key=key, record_type="DELETE", version_id=v,
                            requester=self.account, source_ip="127.0.0.1"))
            vers[v] = dict(key=key, size=0, marker=True, tags={}, storage_class=None)

        put("a.jpg", b"one")
        put("b.png", b"two" * 100, tags={"env": "prod"})
        c1 = put("img/c.jpg", b"three", Metadata={"camera": "x100"})
        put("img/d.png", b"four" * 7, tags={"env": "staging"})
        put("a.jpg", b"one again")
        put("notes.txt", b"text", StorageClass="STANDARD_IA")
        delete("b.png")
        self.publish_and_wait(rec, vers)
        # A moment between the two phases, for "the state of img/ at a time".
        time.sleep(0.05)
        type(self).at, type(self).at_versions = utcnow(), dict(vers)
        time.sleep(0.05)
        put("img/e.jpg", b"five" * 3, StorageClass="STANDARD_IA")
        delete("img/c.jpg", c1)
        delete("img/d.png")
        self.publish_and_wait(rec, vers)
        type(self).t0, type(self).t1 = t0, utcnow() + datetime.timedelta(seconds=1)
        type(self).rec, type(self).vers = rec, vers

    def publish_and_wait(self, rec, vers):
        st, _, body = self.raw("POST", "/kura/admin/metadata/publish")
        self.assertEqual(st, 200, body)
        # The publisher may split rows across passes: wait for all of them.
        for _ in range(200):
            if (self.via_http("SELECT count(*) AS n FROM %s" % J) == [(str(len(rec)),)] and
                    self.via_http("SELECT count(*) AS n FROM %s" % I) == [(str(len(vers)),)]):
                return
            time.sleep(0.1)
        self.fail("the journal and inventory did not catch up")

    # ---- the three ways in; each returns rows as tuples of text/None ------

    def via_http(self, sql):
        st, _, data = self.raw("POST", "/kura/sql", body=json.dumps({"sql": sql}).encode(),
                               headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, data)
        d = json.loads(data)
        names = [c["name"] for c in d["columns"]]
        return [tuple(text(r[n]) for n in names) for r in d["rows"]]

    def via_cli(self, sql):
        env = self._cli_env({"KURA_ENDPOINT": self.endpoint})
        p = subprocess.run([kura_bin(), "sql", "--json", sql], env=env, capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = []
        for line in p.stdout.decode().splitlines():
            # Column order: JSON objects keep the statement's order.
            obj = json.loads(line, object_pairs_hook=list)
            out.append(tuple(text(v) for _, v in obj))
        return out

    def via_athena(self, sql):
        qid = self.athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
        for _ in range(600):
            q = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                break
            time.sleep(0.05)
        self.assertEqual(q["Status"]["State"], "SUCCEEDED", q["Status"])
        rows = [r for p in self.athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=qid) for r in p["ResultSet"]["Rows"]]
        return [tuple(d.get("VarCharValue") for d in r["Data"]) for r in rows[1:]]

    def run_three_ways(self, name, **fmt):
        sql = (EXAMPLES.get(name) or INTENTS[name]).format(**fmt) if fmt else \
            EXAMPLES.get(name) or INTENTS[name]
        http, cli, athena = self.via_http(sql), self.via_cli(sql), self.via_athena(sql)
        self.assertEqual(sorted(http, key=repr), sorted(cli, key=repr), name + ": cli")
        self.assertEqual(sorted(http, key=repr), sorted(athena, key=repr), name + ": athena")
        return http

    # ---- the examples ----------------------------------------------------

    def test_objects_by_extension(self):
        got = self.run_three_ways("objects_by_extension")
        want = [(r["key"],) for r in self.rec
                if r["record_type"] == "CREATE" and r["key"].endswith(".jpg")]
        self.assertEqual(sorted(got), sorted(want))

    def test_object_deletions(self):
        got = self.run_three_ways("object_deletions")
        # Columns: bucket, key, sequence_number, record_type, record_timestamp,
        # requester, source_ip_address, version_id.
        dels = [r for r in self.rec if r["record_type"] == "DELETE"]
        self.assertEqual(sorted((g[0], g[1], g[3], g[7]) for g in got),
                         sorted((BUCKET, r["key"], "DELETE", r["version_id"]) for r in dels))
        by_version = {g[7]: g for g in got}
        for r in dels:
            if not r.get("permanent"):  # see test_permanent_delete_row_names_no_requester
                self.assertEqual(by_version[r["version_id"]][5:7],
                                 (r["requester"], r["source_ip"]))
        seqs = [g[2] for g in got]
        self.assertEqual(len(set(seqs)), len(seqs))
        for g in got:
            self.assertRegex(g[2], r"^[0-9a-f]+$")
            ts = datetime.datetime.fromisoformat(g[4])
            self.assertTrue(self.t0 <= ts <= self.t1, g[4])

    # The journal room records requester and source IP on permanent deletes,
    # where AWS (and NOTES-ON-ISSUES 15) leave every non-required column but
    # version_id NULL. Reported to the metadata room; when it is fixed this
    # test passes unexpectedly and the decorator must go.
    def test_permanent_delete_row_names_no_requester(self):
        got = self.via_http(EXAMPLES["object_deletions"])
        for r in self.rec:
            if r.get("permanent"):
                row = [g for g in got if g[7] == r["version_id"]][0]
                self.assertEqual(row[5:7], (None, None))

    def test_kms_keys_used(self):
        self.assertEqual(self.run_three_ways("kms_keys_used"), [(None,)])

    def test_objects_not_using_kms(self):
        # encryption_status is NULL, and NULL NOT IN (...) is not true.
        self.assertEqual(self.run_three_ways("objects_not_using_kms"), [])

    def test_kms_keys_for_puts_last_7_days(self):
        self.assertEqual(self.run_three_ways("kms_keys_for_puts_last_7_days"), [])

    # ---- the intents ---------------------------------------------

    def test_recently_deleted_objects(self):
        got = self.run_three_ways("recently_deleted")
        self.assertEqual(sorted(got), sorted((r["key"], r["version_id"]) for r in self.rec
                                             if r["record_type"] == "DELETE"))
        self.assertEqual(len(got), 3)

    def test_objects_by_tag(self):
        got = self.run_three_ways("objects_by_tag")
        want = [(v["key"], vid) for vid, v in self.vers.items() if v["tags"].get("env") == "prod"]
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual([k for k, _ in got], ["b.png"])   # a noncurrent version

    def test_objects_by_user_metadata(self):
        got = self.run_three_ways("objects_by_user_metadata")
        self.assertEqual(got, [("img/c.jpg", [r for r in self.rec if r["key"] == "img/c.jpg"][0]
                                ["version_id"])])

    def test_storage_by_storage_class(self):
        got = self.run_three_ways("storage_by_storage_class")
        want = {}
        for v in self.vers.values():
            if not v["marker"]:
                n, b = want.get(v["storage_class"], (0, 0))
                want[v["storage_class"]] = (n + 1, b + v["size"])
        self.assertEqual(sorted(got), sorted((c, str(n), str(b)) for c, (n, b) in want.items()))
        self.assertEqual(sorted(want), ["STANDARD", "STANDARD_IA"])

    def test_changes_by_requester(self):
        got = self.run_three_ways("changes_by_requester")
        want = {}
        for r in self.rec:
            k = (r["requester"], r["record_type"])
            want[k] = want.get(k, 0) + 1
        self.assertEqual(sorted(got, key=repr),
                         sorted(((a, t, str(n)) for (a, t), n in want.items()), key=repr))

    def test_state_of_a_prefix_at_a_time(self):
        got = self.run_three_ways("prefix_at_a_time", at=self.at.isoformat(sep=" "))
        want = [(v["key"], vid, text(v["marker"])) for vid, v in self.at_versions.items()
                if v["key"].startswith("img/")]
        self.assertEqual(sorted(got), sorted(want))
        # ... which is not the prefix's state now
        now = [(v["key"], vid, text(v["marker"])) for vid, v in self.vers.items()
               if v["key"].startswith("img/")]
        self.assertNotEqual(sorted(want), sorted(now))

    def test_journal_is_read_only_through_every_way(self):
        st, _, data = self.raw("POST", "/kura/sql", body=json.dumps(
            {"sql": "INSERT INTO %s SELECT * FROM %s" % (J, J)}).encode())
        self.assertEqual(st, 403, data)
        self.assertEqual(json.loads(data)["error"]["code"], "ReadOnlyTable")
        qid = self.athena.start_query_execution(
            QueryString="INSERT INTO %s SELECT * FROM %s" % (J, J))["QueryExecutionId"]
        for _ in range(200):
            q = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                break
            time.sleep(0.05)
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertEqual(self.via_http("SELECT count(*) FROM %s" % J), [(str(len(self.rec)),)])


if __name__ == "__main__":
    unittest.main()
