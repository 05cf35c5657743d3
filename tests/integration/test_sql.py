# tests/integration/test_sql.py: SQL over table buckets through the three
# ways in (issue 8): POST /kura/sql, `kura sql`, and the Athena API via
# boto3. Tables are made with S3 Tables (boto3 "s3tables") and filled with
# INSERT / CTAS, so each expected answer is computed here from the rows the
# test itself wrote.
import csv
import io
import json
import os
import subprocess
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase, kura_bin


class SqlTestCase(KuraTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cfg = Config(region_name=REGION, retries={"max_attempts": 1})
        kw = dict(endpoint_url=cls.endpoint, aws_access_key_id=ACCESS_KEY,
                  aws_secret_access_key=SECRET_KEY, region_name=REGION, config=cfg)
        cls.tables = boto3.client("s3tables", **kw)
        cls.athena = boto3.client("athena", **kw)
        arn = cls.tables.create_table_bucket(name="sql-bucket")["arn"]
        cls.tables.create_namespace(tableBucketARN=arn, namespace=["ns"])
        cls.rows = [("a.jpg", 10, "CREATE"), ("b.png", 20, "CREATE"), ("a.jpg", None, "DELETE")]

    def sql(self, sql, fmt="json", **extra):
        body = json.dumps(dict(sql=sql, format=fmt, **extra)).encode()
        st, hdrs, data = self.raw("POST", "/kura/sql", body=body,
                                  headers={"Content-Type": "application/json"})
        return st, hdrs, data

    def sql_ok(self, sql, **kw):
        st, _, data = self.sql(sql, **kw)
        self.assertEqual(st, 200, data)
        return json.loads(data)

    def athena_run(self, sql, **kw):
        qid = self.athena.start_query_execution(QueryString=sql, **kw)["QueryExecutionId"]
        for _ in range(600):
            q = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                return qid, q
            time.sleep(0.05)
        self.fail("query did not finish")


class SqlEndpoint(SqlTestCase):
    def test_1_ctas_then_insert_then_read_back(self):
        values = ", ".join("(%s, %s, '%s')" % ("'%s'" % k, "NULL" if s is None else s, t)
                           for k, s, t in self.rows)
        out = self.sql_ok("CREATE TABLE \"sql-bucket\".ns.events AS SELECT * FROM (VALUES %s) "
                          "AS t(key, size, record_type)" % values)
        self.assertEqual(out["rows"], [{"rows": 3}])
        self.sql_ok("INSERT INTO \"s3tablescatalog/sql-bucket\".\"ns\".\"events\" "
                    "SELECT 'c.txt', 5, 'CREATE'")
        out = self.sql_ok("SELECT record_type, count(*) AS n, sum(size) AS bytes FROM "
                          "\"s3tablescatalog/sql-bucket\".ns.events GROUP BY 1 ORDER BY 1")
        self.assertEqual(out["rows"], [{"record_type": "CREATE", "n": 3, "bytes": 35},
                                       {"record_type": "DELETE", "n": 1, "bytes": None}])

    def test_2_csv_and_discovery(self):
        st, hdrs, data = self.sql("SHOW TABLES IN \"s3tablescatalog/sql-bucket\".ns", fmt="csv")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/csv"))
        self.assertIn("events", [r[0] for r in csv.reader(io.StringIO(data.decode()))][1:])

    def test_3_bad_input_is_refused_and_touches_nothing(self):
        cases = [("SELEC 1", 400, "SyntaxError"),
                 ("SELECT * FROM \"sql-bucket\".ns.nope", 400, "TableNotFound"),
                 ("SELECT * FROM read_csv('/etc/passwd')", 403, "AccessDenied"),
                 ("COPY (SELECT 1) TO '/tmp/kura-sql-it'", 403, "AccessDenied"),
                 ("INSTALL httpfs", 403, "AccessDenied"),
                 ("LOAD httpfs", 403, "AccessDenied")]
        for sql, status, code in cases:
            st, _, data = self.sql(sql)
            self.assertEqual(st, status, sql)
            self.assertEqual(json.loads(data)["error"]["code"], code, sql)
        self.assertFalse(os.path.exists("/tmp/kura-sql-it"))

    def test_4_cli_prints_csv_and_json_lines(self):
        env = self._cli_env({"KURA_ENDPOINT": self.endpoint})
        p = subprocess.run([kura_bin(), "sql", "--csv",
                            "SELECT count(*) AS n FROM \"sql-bucket\".ns.events"],
                           env=env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode().splitlines()[1], '"4"')
        p = subprocess.run([kura_bin(), "sql", "--json"], env=env, capture_output=True,
                           input=b"SELECT 1 AS a;\nSELECT 'x;y' AS b;\n", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([json.loads(l) for l in p.stdout.decode().splitlines()],
                         [{"a": 1}, {"b": "x;y"}])


class AthenaApi(SqlTestCase):
    def test_start_poll_paginate_100k_rows(self):
        qid, q = self.athena_run("SELECT range AS n FROM range(100000)")
        self.assertEqual(q["Status"]["State"], "SUCCEEDED")
        pages = self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
        rows = [r for p in pages for r in p["ResultSet"]["Rows"]]
        self.assertEqual(rows[0]["Data"][0]["VarCharValue"], "n")  # header row first
        self.assertEqual(len(rows), 100001)
        self.assertEqual(sum(int(r["Data"][0]["VarCharValue"]) for r in rows[1:]),
                         sum(range(100000)))

    def test_syntax_error_is_refused_at_start(self):
        with self.assertRaises(ClientError) as e:
            self.athena.start_query_execution(QueryString="SELEC 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_failing_query_ends_failed_with_user_error(self):
        _, q = self.athena_run("SELECT * FROM \"s3tablescatalog/sql-bucket\".ns.nope")
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertEqual(q["Status"]["AthenaError"]["ErrorCategory"], 2)

    def test_stop_cancels_a_long_query(self):
        qid = self.athena.start_query_execution(
            QueryString="SELECT count(*) FROM range(1000000000000)")["QueryExecutionId"]
        time.sleep(0.3)
        self.athena.stop_query_execution(QueryExecutionId=qid)
        for _ in range(200):
            st = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            if st["State"] not in ("QUEUED", "RUNNING"):
                break
            time.sleep(0.05)
        self.assertEqual(st["State"], "CANCELLED")

    def test_results_land_at_the_output_location(self):
        self.s3.create_bucket(Bucket="athena-results")
        qid, q = self.athena_run("SELECT 1 AS a, 'x' AS b",
                                 ResultConfiguration={"OutputLocation": "s3://athena-results/q/"})
        self.assertEqual(q["ResultConfiguration"]["OutputLocation"],
                         "s3://athena-results/q/%s.csv" % qid)
        body = self.s3.get_object(Bucket="athena-results", Key="q/%s.csv" % qid)["Body"].read()
        self.assertEqual(body, b'"a","b"\n"1","x"\n')

    def test_catalog_calls(self):
        self.assertEqual(self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]["Name"],
                         "primary")
        dbs = self.athena.list_databases(CatalogName="s3tablescatalog/sql-bucket")["DatabaseList"]
        self.assertIn("ns", [d["Name"] for d in dbs])


if __name__ == "__main__":
    unittest.main()
