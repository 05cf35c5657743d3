# tests/integration/test_sql.py: SQL over table buckets through the three
# ways in (issue 8): POST /kura/sql, `kura sql`, and the Athena API via
# boto3 and aws-cli v1. Tables are made with S3 Tables (boto3 "s3tables")
# and filled with INSERT / CTAS, so each expected answer is computed here
# from the rows the test itself wrote. The metadata-table examples are in
# test_sql_metadata.py. KURA_SCALE=full runs the big table at 1,000,000 rows.
import csv
import io
import json
import pty
import re
import select
import os
import subprocess
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase, kura_bin

BIG_ROWS = 1000000 if os.environ.get("KURA_SCALE") == "full" else 100000


class SqlTestCase(KuraTestCase):
    BUCKET = "sql-bucket"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tables = cls.make_service("s3tables")
        cls.athena = cls.make_service("athena")
        cls.bucket_arn = cls.tables.create_table_bucket(name=cls.BUCKET)["arn"]
        cls.tables.create_namespace(tableBucketARN=cls.bucket_arn, namespace=["ns"])

    @classmethod
    def make_service(cls, name, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        cfg = Config(region_name=REGION, retries={"max_attempts": 1}, read_timeout=300)
        return boto3.client(name, endpoint_url=cls.endpoint, aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key, region_name=REGION, config=cfg)

    def create_empty_table(self, name):
        """An Iceberg table with no schema and no metadata yet (CreateTable
        without `metadata`): what CTAS / INSERT fill."""
        self.tables.create_table(tableBucketARN=self.bucket_arn, namespace="ns", name=name,
                                 format="ICEBERG")

    def metadata_location(self, name):
        return self.tables.get_table_metadata_location(
            tableBucketARN=self.bucket_arn, namespace="ns", name=name).get("metadataLocation")

    def sql(self, sql, fmt="json", access_key=ACCESS_KEY, secret_key=SECRET_KEY, **extra):
        body = json.dumps(dict(sql=sql, format=fmt, **extra)).encode()
        return self.raw("POST", "/kura/sql", body=body, access_key=access_key,
                        secret_key=secret_key, headers={"Content-Type": "application/json"})

    def sql_ok(self, sql, **kw):
        st, _, data = self.sql(sql, **kw)
        self.assertEqual(st, 200, data)
        return json.loads(data)

    def sql_err(self, sql, status, code):
        st, _, data = self.sql(sql)
        self.assertEqual(st, status, "%s: %s" % (sql, data))
        err = json.loads(data)["error"]
        self.assertEqual(err["code"], code, sql)
        self.assertTrue(err["message"], sql)
        return err["message"]

    def athena_wait(self, qid, athena=None):
        athena = athena or self.athena
        for _ in range(1200):
            q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                return q
            time.sleep(0.05)
        self.fail("query %s did not finish" % qid)

    def athena_run(self, sql, athena=None, **kw):
        athena = athena or self.athena
        qid = athena.start_query_execution(QueryString=sql, **kw)["QueryExecutionId"]
        return qid, self.athena_wait(qid, athena)

    def add_user(self, name, policy):
        st, _, data = self.raw("POST", "/kura/admin/users",
                               body=json.dumps({"name": name, "policy": json.dumps(policy)}).encode(),
                               headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, data)
        d = json.loads(data)
        return d["access_key_id"], d["secret_access_key"]


class SqlEndpoint(SqlTestCase):
    ROWS = [("a.jpg", 10, "CREATE"), ("b.png", 20, "CREATE"), ("a.jpg", None, "DELETE")]

    def values(self):
        return ", ".join("('%s', %s, '%s')" % (k, "NULL" if s is None else s, t)
                         for k, s, t in self.ROWS)

    def test_1_ctas_fills_an_empty_table_then_insert_appends(self):
        self.create_empty_table("events")
        self.assertIsNone(self.metadata_location("events"))
        out = self.sql_ok("CREATE TABLE \"sql-bucket\".ns.events AS SELECT * FROM (VALUES %s) "
                          "AS t(key, size, record_type)" % self.values())
        self.assertEqual(out["rows"], [{"rows": 3}])
        first = self.metadata_location("events")
        self.assertTrue(first.endswith(".metadata.json"), first)
        self.sql_ok("INSERT INTO \"s3tablescatalog/sql-bucket\".\"ns\".\"events\" "
                    "SELECT 'c.txt', 5, 'CREATE'")
        self.assertNotEqual(self.metadata_location("events"), first)
        out = self.sql_ok("SELECT record_type, count(*) AS n, sum(size) AS bytes FROM "
                          "\"s3tablescatalog/sql-bucket\".ns.events GROUP BY 1 ORDER BY 1")
        self.assertEqual(out["rows"], [{"record_type": "CREATE", "n": 3, "bytes": 35},
                                       {"record_type": "DELETE", "n": 1, "bytes": None}])

    def test_2_ctas_creates_a_new_table_and_refuses_the_managed_bucket(self):
        out = self.sql_ok("CREATE TABLE \"sql-bucket\".ns.brand_new AS "
                          "SELECT * FROM range(5) AS t(a)")
        self.assertEqual(out["rows"], [{"rows": 5}])
        names = [t["name"] for t in self.tables.list_tables(
            tableBucketARN=self.bucket_arn, namespace="ns")["tables"]]
        self.assertIn("brand_new", names)
        self.assertTrue(self.metadata_location("brand_new").endswith(".metadata.json"))
        self.assertEqual(self.sql_ok("SELECT count(*) AS n, sum(a) AS s FROM "
                                     "\"sql-bucket\".ns.brand_new")["rows"],
                         [{"n": 5, "s": 10}])
        # A new table in a namespace that does not exist: nothing is created.
        before = sorted(t["name"] for t in self.tables.list_tables(
            tableBucketARN=self.bucket_arn, namespace="ns")["tables"])
        self.sql_err("CREATE TABLE \"sql-bucket\".nope.t AS SELECT 1 AS a", 400, "TableNotFound")
        after = sorted(t["name"] for t in self.tables.list_tables(
            tableBucketARN=self.bucket_arn, namespace="ns")["tables"])
        self.assertEqual(before, after)

    def test_3_ctas_on_a_table_with_data_conflicts_unless_if_not_exists(self):
        self.create_empty_table("filled")
        self.sql_ok("INSERT INTO \"sql-bucket\".ns.filled SELECT 1 AS a")
        loc = self.metadata_location("filled")
        self.sql_err("CREATE TABLE \"sql-bucket\".ns.filled AS SELECT 2 AS a", 409,
                     "CommitConflict")
        self.sql_ok("CREATE TABLE IF NOT EXISTS \"sql-bucket\".ns.filled AS SELECT 2 AS a")
        self.assertEqual(self.metadata_location("filled"), loc)
        self.assertEqual(self.sql_ok("SELECT a FROM \"sql-bucket\".ns.filled")["rows"],
                         [{"a": 1}])

    def test_4_csv_and_discovery(self):
        self.create_empty_table("listed")
        st, hdrs, data = self.sql("SHOW TABLES IN \"s3tablescatalog/sql-bucket\".ns", fmt="csv")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/csv"))
        self.assertIn("listed", [r[0] for r in csv.reader(io.StringIO(data.decode()))][1:])

    def test_5_bad_input_is_refused_and_touches_nothing(self):
        self.create_empty_table("guarded")
        self.sql_ok("INSERT INTO \"sql-bucket\".ns.guarded SELECT 1 AS a")
        loc = self.metadata_location("guarded")
        marker = "/tmp/kura-sql-it-%d" % os.getpid()
        cases = [("SELEC 1", 400, "SyntaxError"),
                 ("SELECT * FROM \"sql-bucket\".ns.nope", 400, "TableNotFound"),
                 ("SELECT * FROM \"s3tablescatalog/no-such-bucket\".ns.t", 400, "TableNotFound"),
                 ("SELECT * FROM read_csv('/etc/passwd')", 403, "AccessDenied"),
                 ("SELECT * FROM '/etc/passwd'", 403, "AccessDenied"),
                 ("COPY (SELECT 1) TO '%s'" % marker, 403, "AccessDenied"),
                 ("COPY \"sql-bucket\".ns.guarded TO '%s'" % marker, 403, "AccessDenied"),
                 ("INSTALL httpfs", 403, "AccessDenied"),
                 ("LOAD httpfs", 403, "AccessDenied"),
                 ("INSERT INTO \"sql-bucket\".ns.guarded SELECT * FROM read_csv('/etc/passwd')",
                  403, "AccessDenied"),
                 ("SELECT 1; DROP TABLE x", 400, "InvalidRequest")]
        for sql, status, code in cases:
            self.sql_err(sql, status, code)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(self.metadata_location("guarded"), loc)
        self.assertEqual(self.sql_ok("SELECT a FROM \"sql-bucket\".ns.guarded")["rows"],
                         [{"a": 1}])

    def test_7_a_renamed_column_is_read_by_field_id(self):
        """After schema evolution the data files still carry the old column
        name; the scan must map them by Iceberg field id."""
        self.sql_ok("CREATE TABLE \"sql-bucket\".ns.evolved AS SELECT 1 AS a, 'x' AS s")
        out = self.sql_ok("SELECT a, s FROM \"sql-bucket\".ns.evolved")
        self.assertEqual(out["rows"], [{"a": 1, "s": "x"}])
        t = self.tables.get_table(tableBucketARN=self.bucket_arn, namespace="ns", name="evolved")
        loc = self.metadata_location("evolved")
        bucket, key = loc[len("s3://"):].split("/", 1)
        md = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        cur = [x for x in md["schemas"] if x["schema-id"] == md["current-schema-id"]][0]
        new = json.loads(json.dumps(cur))
        new["schema-id"] = max(x["schema-id"] for x in md["schemas"]) + 1
        for f in new["fields"]:
            if f["name"] == "a":
                f["name"] = "renamed_a"
        md["schemas"].append(new)
        md["current-schema-id"] = new["schema-id"]
        new_key = key.rsplit("/", 1)[0] + "/99999-evolved.metadata.json"
        self.s3.put_object(Bucket=bucket, Key=new_key, Body=json.dumps(md).encode())
        self.tables.update_table_metadata_location(
            tableBucketARN=self.bucket_arn, namespace="ns", name="evolved",
            versionToken=t["versionToken"], metadataLocation="s3://%s/%s" % (bucket, new_key))
        out = self.sql_ok("SELECT renamed_a, s FROM \"sql-bucket\".ns.evolved")
        self.assertEqual(out["rows"], [{"renamed_a": 1, "s": "x"}])

    def test_6_cli_prints_csv_and_json_lines(self):
        self.create_empty_table("cli")
        self.sql_ok("INSERT INTO \"sql-bucket\".ns.cli SELECT range AS n FROM range(4)")
        env = self._cli_env({"KURA_ENDPOINT": self.endpoint})
        p = subprocess.run([kura_bin(), "sql", "--csv",
                            "SELECT count(*) AS n FROM \"sql-bucket\".ns.cli"],
                           env=env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode().splitlines()[1], '"4"')
        p = subprocess.run([kura_bin(), "sql", "--json"], env=env, capture_output=True,
                           input=b"SELECT 1 AS a;\nSELECT 'x;y' AS b;\n", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([json.loads(l) for l in p.stdout.decode().splitlines()],
                         [{"a": 1}, {"b": "x;y"}])
        p = subprocess.run([kura_bin(), "sql", "SELECT * FROM read_csv('/etc/passwd')"],
                           env=env, capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"AccessDenied", p.stderr)

    def test_6c_cli_writes_parquet_with_the_results_types(self):
        """--parquet: read back with DuckDB (the node API), every column keeps
        its type -- a text column of digits stays text -- and NULL stays
        apart from the empty string."""
        out = os.path.join(self._cli_home, "result.parquet")
        env = self._cli_env({"KURA_ENDPOINT": self.endpoint})
        sql = ("SELECT * FROM (VALUES ('0000000000000001', '123', 42, 1.5::DOUBLE, "
               "TIMESTAMP '2025-01-01 10:00:00.5', true, NULL::INTEGER, '', 2.50::DECIMAL(4,2)), "
               "('00000000000000ff', '456', -7, NULL, NULL, false, 3, NULL, NULL)) "
               "t(seq, code, i, d, ts, b, n, e, dec)")
        p = subprocess.run([kura_bin(), "sql", "--parquet", out, sql], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        js = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
        reader = (
            "import { createRequire } from 'node:module';"
            "const require = createRequire(process.cwd() + '/package.json');"
            "const { DuckDBInstance } = require('@duckdb/node-api');"
            "const c = await (await DuckDBInstance.create(':memory:')).connect();"
            "const f = process.argv[1];"
            "const t = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${f}'`)).getRowObjectsJS();"
            "const r = (await c.runAndReadAll(`SELECT seq, code, i, d, CAST(ts AS VARCHAR) AS ts, "
            "b, n, e, dec FROM '${f}' ORDER BY seq`)).getRows();"
            "console.log(JSON.stringify({types: t.map((x) => x.column_type), rows: r}));")
        q = subprocess.run(["node", "--input-type=module", "-e", reader, out], cwd=js,
                           capture_output=True, timeout=60)
        self.assertEqual(q.returncode, 0, q.stderr)
        got = json.loads(q.stdout)
        self.assertEqual(got["types"], ["VARCHAR", "VARCHAR", "INTEGER", "DOUBLE", "TIMESTAMP",
                                        "BOOLEAN", "INTEGER", "VARCHAR", "VARCHAR"])
        self.assertEqual(got["rows"], [
            ["0000000000000001", "123", 42, 1.5, "2025-01-01 10:00:00.5", True, None, "", "2.50"],
            ["00000000000000ff", "456", -7, None, None, False, 3, None, None]])

    def test_6b_cli_takes_endpoint_region_and_keys_from_an_aws_profile(self):
        """Like aws-cli: a named profile's keys from the credentials file and
        its endpoint_url and region from the config file."""
        home = os.path.join(self._cli_home, "profile-home")
        os.makedirs(os.path.join(home, ".aws"), exist_ok=True)
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n"
                    "[kura]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (ACCESS_KEY, SECRET_KEY))
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[default]\nendpoint_url = http://127.0.0.1:1\n"
                    "[profile kura]\nregion = %s\nendpoint_url = %s\n" % (REGION, self.endpoint))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "KURA_"))}
        env.update({"HOME": home, "AWS_PROFILE": "kura"})
        p = subprocess.run([kura_bin(), "sql", "--csv", "SELECT 6 * 7 AS n"], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode().splitlines(), ['"n"', '"42"'])
        # The environment still wins over the profile, as in aws-cli.
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
        p = subprocess.run([kura_bin(), "sql", "--csv", "SELECT 1"], env=env,
                           capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        # A region the server does not serve is refused: the profile's was used.
        del env["AWS_ENDPOINT_URL"]
        env["AWS_REGION"] = "eu-west-3"
        p = subprocess.run([kura_bin(), "sql", "--csv", "SELECT 1"], env=env,
                           capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stdout)


    def _prompt(self, env, keys, want, timeout=30):
        """Runs `kura sql` on a pseudo-terminal, types each of `keys` once
        the output since the previous key holds the matching entry of
        `want`, and returns everything it printed."""
        master, slave = pty.openpty()
        p = subprocess.Popen([kura_bin(), "sql"], env=env, stdin=slave, stdout=slave,
                             stderr=slave, close_fds=True, cwd=self._cli_home)
        os.close(slave)
        out, pos = b"", 0
        try:
            for k, w in zip(keys, want):
                deadline = time.monotonic() + timeout
                while w not in out[pos:]:
                    self.assertLess(time.monotonic(), deadline,
                                    "no %r from the prompt; it printed %r" % (w, out))
                    r, _, _ = select.select([master], [], [], 0.2)
                    if r:
                        try:
                            out += os.read(master, 65536)
                        except OSError:   # the child closed its side
                            break
                pos = out.index(w, pos) + len(w)
                os.write(master, k)
            self.assertEqual(p.wait(timeout=timeout), 0, out)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
        return out.decode(errors="replace")

    def test_8_prompt_edits_lines_and_keeps_history(self):
        hist = os.path.join(self._cli_home, "sql-history")
        env = self._cli_env({"KURA_ENDPOINT": self.endpoint, "TERM": "xterm",
                             "KURA_SQL_HISTORY": hist})
        up = b"\x1b[A"
        # A statement over two lines, run again with the up arrow.
        out = self._prompt(env, [b"SELECT 40 + 2\r", b"AS answer;\r", up + b"\r", b"\\q\r"],
                           [b"kura> ", b"...> ", b"kura> ", b"kura> "])
        self.assertEqual(out.count("42"), 2, out)
        # libedit's file: a header line, then one entry a line, octal escapes.
        with open(hist, encoding="utf-8") as f:
            lines = f.read().splitlines()
        entries = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), l)
                   for l in lines[1:]]
        self.assertEqual(entries, ["SELECT 40 + 2 AS answer;"])
        # A new session recalls it from the history file.
        out = self._prompt(env, [up + b"\r", b"\\q\r"], [b"kura> ", b"42"])
        self.assertIn("42", out)


class AthenaApi(SqlTestCase):
    """Athena through boto3 and aws-cli v1 over a BIG_ROWS-row table built with
    INSERT ... SELECT from range() through POST /kura/sql."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tables.create_table(tableBucketARN=cls.bucket_arn, namespace="ns", name="big",
                                format="ICEBERG")
        cls.s3.create_bucket(Bucket="athena-results")

    def setUp(self):
        if not getattr(type(self), "_big_done", False):
            out = self.sql_ok("INSERT INTO \"sql-bucket\".ns.big SELECT range AS n, "
                              "'k' || range AS k FROM range(%d)" % BIG_ROWS)
            self.assertEqual(out["rows"], [{"rows": BIG_ROWS}])
            type(self)._big_done = True

    BIG_SQL = "SELECT n, k FROM \"s3tablescatalog/sql-bucket\".\"ns\".\"big\" ORDER BY n"

    def check_big_rows(self, rows):
        self.assertEqual([d.get("VarCharValue") for d in rows[0]["Data"]], ["n", "k"])
        self.assertEqual(len(rows), BIG_ROWS + 1)
        got = [(int(r["Data"][0]["VarCharValue"]), r["Data"][1]["VarCharValue"])
               for r in rows[1:]]
        self.assertEqual(got, [(i, "k%d" % i) for i in range(BIG_ROWS)])

    def test_boto3_start_poll_paginate_big_table(self):
        qid, q = self.athena_run(self.BIG_SQL)
        self.assertEqual(q["Status"]["State"], "SUCCEEDED", q["Status"])
        self.assertGreater(q["Statistics"]["DataScannedInBytes"], 0)
        pages = list(self.athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=qid))
        self.assertEqual(len(pages), BIG_ROWS // 1000 + 1)
        cols = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        self.assertEqual([(c["Name"], c["Type"]) for c in cols],
                         [("n", "bigint"), ("k", "varchar")])
        self.check_big_rows([r for p in pages for r in p["ResultSet"]["Rows"]])

    def test_awscli_start_poll_paginate_big_table(self):
        out = json.loads(self.aws("athena", "start-query-execution", "--query-string",
                                  self.BIG_SQL, "--work-group", "primary").stdout)
        qid = out["QueryExecutionId"]
        for _ in range(1200):
            q = json.loads(self.aws("athena", "get-query-execution", "--query-execution-id",
                                    qid).stdout)["QueryExecution"]
            if q["Status"]["State"] not in ("QUEUED", "RUNNING"):
                break
            time.sleep(0.1)
        self.assertEqual(q["Status"]["State"], "SUCCEEDED")
        # aws-cli follows NextToken itself and merges the pages.
        res = json.loads(self.aws("athena", "get-query-results", "--query-execution-id",
                                  qid).stdout)
        self.check_big_rows(res["ResultSet"]["Rows"])

    def test_awscli_failing_query_and_stop(self):
        qid = json.loads(self.aws("athena", "start-query-execution", "--query-string",
                                  "SELECT nope FROM \"s3tablescatalog/sql-bucket\".ns.big"
                                  ).stdout)["QueryExecutionId"]
        q = self.athena_wait(qid)
        self.assertEqual(q["Status"]["State"], "FAILED")
        q = json.loads(self.aws("athena", "get-query-execution", "--query-execution-id",
                                qid).stdout)["QueryExecution"]
        self.assertEqual(q["Status"]["AthenaError"]["ErrorCategory"], 2)
        self.assertIn("nope", q["Status"]["StateChangeReason"])
        p = self.aws("athena", "start-query-execution", "--query-string", "SELEC 1", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"InvalidRequestException", p.stderr)
        qid = json.loads(self.aws("athena", "start-query-execution", "--query-string",
                                  "SELECT count(*) FROM range(1000000000000)"
                                  ).stdout)["QueryExecutionId"]
        time.sleep(0.3)
        self.aws("athena", "stop-query-execution", "--query-execution-id", qid)
        self.assertEqual(self.athena_wait(qid)["Status"]["State"], "CANCELLED")

    def test_syntax_error_is_refused_at_start(self):
        with self.assertRaises(ClientError) as e:
            self.athena.start_query_execution(QueryString="SELEC 1")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")
        # Time travel is Athena syntax: it parses; a broken expression in it does not.
        tt = "SELECT * FROM \"s3tablescatalog/sql-bucket\".ns.nope FOR TIMESTAMP AS OF %s"
        _, q = self.athena_run(tt % "TIMESTAMP '2024-01-01 00:00:00' WHERE true")
        self.assertEqual(q["Status"]["State"], "FAILED")   # parsed; the table does not exist
        self.assertIn("nope", q["Status"]["AthenaError"]["ErrorMessage"])
        with self.assertRaises(ClientError) as e:
            self.athena.start_query_execution(QueryString=tt % "TIMESTAMP '2024-01-01' +")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_failing_query_ends_failed_with_user_error(self):
        _, q = self.athena_run("SELECT * FROM \"s3tablescatalog/sql-bucket\".ns.nope")
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertEqual(q["Status"]["AthenaError"]["ErrorCategory"], 2)
        self.assertIn("nope", q["Status"]["AthenaError"]["ErrorMessage"])

    def test_stop_cancels_a_long_query(self):
        qid = self.athena.start_query_execution(
            QueryString="SELECT count(*) FROM range(1000000000000)")["QueryExecutionId"]
        time.sleep(0.3)
        t0 = time.monotonic()
        self.athena.stop_query_execution(QueryExecutionId=qid)
        st = self.athena_wait(qid)["Status"]
        self.assertEqual(st["State"], "CANCELLED")
        self.assertLess(time.monotonic() - t0, 5)

    def test_results_land_at_the_output_location(self):
        qid, q = self.athena_run("SELECT n, k, NULL AS z FROM \"sql-bucket\".ns.big "
                                 "WHERE n < 3 ORDER BY n",
                                 ResultConfiguration={"OutputLocation": "s3://athena-results/q/"})
        self.assertEqual(q["Status"]["State"], "SUCCEEDED", q["Status"])
        self.assertEqual(q["ResultConfiguration"]["OutputLocation"],
                         "s3://athena-results/q/%s.csv" % qid)
        body = self.s3.get_object(Bucket="athena-results", Key="q/%s.csv" % qid)["Body"].read()
        self.assertEqual(body, b'"n","k","z"\n"0","k0",\n"1","k1",\n"2","k2",\n')
        meta = self.s3.get_object(Bucket="athena-results",
                                  Key="q/%s.csv.metadata" % qid)["Body"].read()
        self.assertEqual([json.loads(l)["name"] for l in meta.decode().splitlines()],
                         ["n", "k", "z"])

    def test_big_result_lands_at_the_output_location_via_awscli(self):
        out = json.loads(self.aws("athena", "start-query-execution", "--query-string",
                                  self.BIG_SQL, "--result-configuration",
                                  "OutputLocation=s3://athena-results/cli").stdout)
        qid = out["QueryExecutionId"]
        self.assertEqual(self.athena_wait(qid)["Status"]["State"], "SUCCEEDED")
        body = self.s3.get_object(Bucket="athena-results", Key="cli/%s.csv" % qid)["Body"].read()
        rows = list(csv.reader(io.StringIO(body.decode())))
        self.assertEqual(rows[0], ["n", "k"])
        self.assertEqual(rows[1:], [[str(i), "k%d" % i] for i in range(BIG_ROWS)])

    def test_workgroup_default_output_location(self):
        self.athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={
            "ResultConfigurationUpdates": {"OutputLocation": "s3://athena-results/wg/"}})
        try:
            wg = self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]
            self.assertEqual(wg["Configuration"]["ResultConfiguration"]["OutputLocation"],
                             "s3://athena-results/wg/")
            qid, q = self.athena_run("SELECT 42 AS answer")
            self.assertEqual(q["Status"]["State"], "SUCCEEDED")
            body = self.s3.get_object(Bucket="athena-results",
                                      Key="wg/%s.csv" % qid)["Body"].read()
            self.assertEqual(body, b'"answer"\n"42"\n')
            # The setting outlives the server (the executions do not).
            self.kill9_and_restart()
            wg = self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]
            self.assertEqual(wg["Configuration"]["ResultConfiguration"]["OutputLocation"],
                             "s3://athena-results/wg/")
            qid, q = self.athena_run("SELECT 43 AS answer")
            self.assertEqual(q["ResultConfiguration"]["OutputLocation"],
                             "s3://athena-results/wg/%s.csv" % qid)
        finally:
            self.athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={
                "ResultConfigurationUpdates": {"RemoveOutputLocation": True}})
        qid, q = self.athena_run("SELECT 1 AS one")
        self.assertNotIn("OutputLocation", q["ResultConfiguration"])
        self.kill9_and_restart()   # ... and so does its removal
        wg = self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]
        self.assertNotIn("OutputLocation", wg["Configuration"].get("ResultConfiguration", {}))

    def test_output_location_needs_put_object_permission(self):
        # A user may read the table and write results only under allowed/.
        ak, sk = self.add_user("analyst", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3tables:GetTableData"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::athena-results/allowed/*"}]})
        athena = self.make_service("athena", ak, sk)
        qid, q = self.athena_run("SELECT count(*) AS n FROM \"sql-bucket\".ns.big", athena,
                                 ResultConfiguration={"OutputLocation":
                                                      "s3://athena-results/allowed/"})
        self.assertEqual(q["Status"]["State"], "SUCCEEDED", q["Status"])
        body = self.s3.get_object(Bucket="athena-results",
                                  Key="allowed/%s.csv" % qid)["Body"].read()
        self.assertEqual(body, b'"n"\n"%d"\n' % BIG_ROWS)
        qid, q = self.athena_run("SELECT 1 AS a", athena,
                                 ResultConfiguration={"OutputLocation":
                                                      "s3://athena-results/denied/"})
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertIn("Access Denied", q["Status"]["StateChangeReason"])
        self.assertEqual(self.keys("athena-results", "denied/"), [])
        # A missing bucket fails the query too, and creates nothing.
        _, q = self.athena_run("SELECT 1 AS a", ResultConfiguration={
            "OutputLocation": "s3://no-such-results-bucket/x/"})
        self.assertEqual(q["Status"]["State"], "FAILED")
        self.assertNotIn("no-such-results-bucket", self.bucket_names())

    def test_catalog_calls(self):
        self.assertEqual(self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]["Name"],
                         "primary")
        dbs = self.athena.list_databases(CatalogName="s3tablescatalog/sql-bucket")["DatabaseList"]
        self.assertIn("ns", [d["Name"] for d in dbs])
        t = self.athena.get_table_metadata(CatalogName="s3tablescatalog/sql-bucket",
                                           DatabaseName="ns", TableName="big")["TableMetadata"]
        self.assertEqual([(c["Name"], c["Type"]) for c in t["Columns"]],
                         [("n", "bigint"), ("k", "string")])


if __name__ == "__main__":
    unittest.main()
