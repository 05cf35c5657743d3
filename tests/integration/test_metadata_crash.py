"""S3 Metadata across kill -9 (issue 7 "Crash test"; DESIGN invariants 1-3).

Writers put and delete on a journaled, versioned bucket (with an inventory)
while the server is killed with SIGKILL at random moments -- in the middle
of requests, group commits and the publisher thread's passes (one a
second) -- and restarted on the same data dir. Afterwards the journal table
holds every acknowledged mutation exactly once, sequence numbers run 1..N
with no gap, the only rows beyond the acknowledged ones belong to requests
that were in flight at a kill (committed, answer lost), and the inventory
equals ListObjectVersions. 5 cycles by default, 20 with KURA_SCALE=full.
"""
import random
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from metadata_harness import MetadataCase, scale

WRITERS = 4


class MetadataCrash(MetadataCase):
    def writer(self, b, cycle, w, stop, acked, acked_ids, doubt, lock):
        c = self.client()
        rng = random.Random(cycle * 100 + w)
        mine = []
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if mine and rng.random() < 0.25:
                    key = mine.pop(rng.randrange(len(mine)))
                    op = ("DELETE", key)
                    r = c.delete_object(Bucket=b, Key=key)
                    rec = ("DELETE", key, r["VersionId"])
                else:
                    key = "c%d/w%d/%05d" % (cycle, w, n)
                    op = ("CREATE", key)
                    r = c.put_object(Bucket=b, Key=key, Body=b"x" * rng.randrange(1, 200))
                    rec = ("CREATE", key, r["VersionId"])
                    mine.append(key)
                meta = r["ResponseMetadata"]
                with lock:
                    acked.append(rec)
                    acked_ids.add(meta["RequestId"])
                    if meta.get("RetryAttempts", 0) > 0:
                        # botocore resent it after a lost answer: the first
                        # attempt may have committed too (a second mutation).
                        doubt.add(op)
            except (BotoCoreError, ClientError, OSError):
                with lock:
                    doubt.add(op)       # in flight at the kill: may or may not have committed
                time.sleep(0.05)

    def test_kill9_while_writing_keeps_the_journal_exact(self):
        cycles = scale(5, 20)
        rng = random.Random(11)
        b = self.new_bucket("crash")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.enable_metadata(b, inventory=True)
        self.publish()
        acked, acked_ids, doubt, lock = [], set(), set(), threading.Lock()
        for cycle in range(cycles):
            stop = threading.Event()
            ts = [threading.Thread(target=self.writer, args=(b, cycle, w, stop, acked, acked_ids, doubt,
                                                       lock))
                  for w in range(WRITERS)]
            for t in ts:
                t.start()
            time.sleep(rng.uniform(0.3, 1.8))
            self.kill9_and_restart()
            stop.set()
            for t in ts:
                t.join()
        self.publish_until_quiet()
        self.assertGreater(len(acked), cycles * WRITERS)

        rows = sorted(self.dump(b, "journal")["rows"], key=lambda r: r["sequence_number"])
        seqs = [int(r["sequence_number"], 16) for r in rows]
        self.assertEqual(seqs, list(range(1, len(rows) + 1)), "gaps or duplicates in sequence")
        got = [(r["record_type"], r["key"], r["version_id"]) for r in rows]
        self.assertEqual(len(got), len(set(got)), "a mutation journaled twice")
        self.assertEqual(len({r["request_id"] for r in rows}), len(rows))
        # The row carries the request id the client received (DESIGN inv. 2).
        self.assertEqual(acked_ids - {r["request_id"] for r in rows}, set())
        missing = set(acked) - set(got)
        self.assertEqual(missing, set(), "acknowledged mutations without a journal row")
        extra = [g for g in got if g not in set(acked)]
        for g in extra:
            same = [(r["sequence_number"], r["request_id"], r["version_id"]) for r in rows
                    if r["key"] == g[1]]
            self.assertIn((g[0], g[1]), doubt, "a row for no request in flight at a kill: %r; "
                          "rows of that key: %r" % (g, same))
        self.assertLessEqual(len(extra), cycles * WRITERS)
        # The inventory converged too.
        inv = self.dump(b, "inventory")
        self.assertEqual(sorted((r["key"], r["version_id"], bool(r["is_delete_marker"]))
                                for r in inv["rows"]),
                         [(k, v, m) for k, v, m, _, _ in self.versions(b)])
        self.assertEqual(self.table_status(b, "inventory"), ("ACTIVE", None))
        print("\n  %d cycles: %d acknowledged, %d in flight at a kill (%d committed)"
              % (cycles, len(acked), len(doubt), len(extra)))
