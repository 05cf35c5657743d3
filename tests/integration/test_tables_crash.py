"""Iceberg catalog commits across kill -9 (issue 14 crash harness; DESIGN
invariant 1).

Writers append to one table-bucket table with INSERT through POST /kura/sql
(each a Parquet file, manifests, a metadata file and a compare-and-swap of
the table's pointer) while the server is killed with SIGKILL at random
moments and restarted on the same data dir. Afterwards the table reads back
with every acknowledged row exactly once, the only other rows belong to
inserts in flight at a kill, the snapshots form one linear chain with
increasing sequence numbers, and `kura fsck` finds the store consistent.
4 cycles by default, 20 with KURA_SCALE=full.
"""
import json
import os
import random
import subprocess
import threading
import time

import boto3
from botocore.config import Config

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase

WRITERS = 3
CYCLES = 20 if os.environ.get("KURA_SCALE") == "full" else 4
BUCKET = "crash-tables"
TABLE = '"%s".ns.appends' % BUCKET


class TablesCrash(KuraTestCase):
    def sql(self, sql):
        body = json.dumps({"sql": sql, "format": "json"}).encode()
        st, _, data = self.raw("POST", "/kura/sql", body=body,
                               headers={"Content-Type": "application/json"})
        return st, data

    def writer(self, cycle, w, stop, acked, doubt, lock):
        n = 0
        while not stop.is_set():
            n += 1
            row = (cycle, w, n)
            try:
                st, data = self.sql("INSERT INTO %s SELECT %d AS c, %d AS w, %d AS n"
                                    % (TABLE, cycle, w, n))
            except Exception:           # connection refused or reset by the kill
                st, data = None, b""
            with lock:
                if st == 200:
                    acked.add(row)
                else:
                    # A refused commit (409 after the retries) committed
                    # nothing; an answer lost to the kill may have.
                    doubt.add(row)
            if st != 200:
                time.sleep(0.05)

    def test_kill9_during_catalog_commits_keeps_every_acknowledged_append(self):
        cfg = Config(region_name=REGION, retries={"max_attempts": 1})
        tables = boto3.client("s3tables", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY, region_name=REGION, config=cfg)
        arn = tables.create_table_bucket(name=BUCKET)["arn"]
        tables.create_namespace(tableBucketARN=arn, namespace=["ns"])
        st, data = self.sql("CREATE TABLE %s AS SELECT -1 AS c, -1 AS w, -1 AS n" % TABLE)
        self.assertEqual(st, 200, data)

        rng = random.Random(14)
        acked, doubt, lock = set(), set(), threading.Lock()
        for cycle in range(CYCLES):
            stop = threading.Event()
            ts = [threading.Thread(target=self.writer, args=(cycle, w, stop, acked, doubt, lock))
                  for w in range(WRITERS)]
            for t in ts:
                t.start()
            time.sleep(rng.uniform(0.5, 2.0))
            self.kill9_and_restart()
            stop.set()
            for t in ts:
                t.join()
        self.assertGreater(len(acked), CYCLES, "too few appends were acknowledged to prove much")

        st, data = self.sql("SELECT c, w, n FROM %s WHERE c >= 0" % TABLE)
        self.assertEqual(st, 200, data)
        got = [(r["c"], r["w"], r["n"]) for r in json.loads(data)["rows"]]
        self.assertEqual(len(got), len(set(got)), "an append visible twice")
        self.assertEqual(acked - set(got), set(), "acknowledged appends missing")
        self.assertEqual(set(got) - acked - doubt, set(), "rows no request wrote")

        # One linear chain: each snapshot's parent is the one before it.
        loc = tables.get_table_metadata_location(tableBucketARN=arn, namespace="ns",
                                                 name="appends")["metadataLocation"]
        b, key = loc[len("s3://"):].split("/", 1)
        md = json.loads(self.s3.get_object(Bucket=b, Key=key)["Body"].read())
        snaps = sorted(md["snapshots"], key=lambda s: s["sequence-number"])
        self.assertEqual(len(snaps), len(got) + 1, "one snapshot per committed append + CTAS")
        for prev, cur in zip(snaps, snaps[1:]):
            self.assertEqual(cur.get("parent-snapshot-id"), prev["snapshot-id"])
            self.assertGreater(cur["sequence-number"], prev["sequence-number"])
        self.assertEqual(md["current-snapshot-id"], snaps[-1]["snapshot-id"])

        rc = self.server.stop()
        self.assertEqual(rc, 0)
        p = subprocess.run([self.server.bin, "fsck", "--data", self.data_dir],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout.decode()[-3000:])
        self.server.start()
        print("\n  %d cycles: %d appends acknowledged, %d in doubt, %d snapshots"
              % (CYCLES, len(acked), len(doubt), len(snaps)))
