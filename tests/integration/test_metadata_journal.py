"""S3 Metadata: the journal and the live inventory, read back by DuckDB
(issue 7; DESIGN promise 1, invariants 2 and 3; specs/s3-metadata.md §3-§5;
NOTES-ON-ISSUES 14-19).

Each table is read as an outside engine reads it (metadata_harness.dump:
S3 Tables GetTableMetadataLocation -> metadata JSON -> Avro manifests ->
Parquet through the S3 API -> DuckDB). Sizes: ~1,500 operations and 3,000
pre-existing objects by default, 10,000 and 100,000 with KURA_SCALE=full.
"""
import concurrent.futures
import datetime
import json
import random
import time

from kura_harness import ClientError
from metadata_harness import MetadataCase, admin, scale

ZERO_SEQ = "0" * 16   # sequence_number of backfilled inventory rows (docs/metadata.md)


def inventory_rows(dump):
    return sorted((r["key"], r["version_id"], bool(r["is_delete_marker"]), r["size"],
                   r["e_tag"]) for r in dump["rows"])


class Inventory(MetadataCase):
    def fill(self, bucket, n, prefix="obj/"):
        """n tiny objects, put concurrently (they exist before the configuration)."""
        def put(i):
            c = self.clients[i % len(self.clients)]
            c.put_object(Bucket=bucket, Key="%s%06d" % (prefix, i), Body=b"%d" % i,
                         Metadata={"n": str(i)})
        self.clients = [self.client() for _ in range(16)]
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(put, range(n)))

    def test_backfill_lists_every_version_then_the_journal_keeps_it_current(self):
        n = scale(3000, 100000)
        b = self.new_bucket("inv")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.fill(b, n)
        # Versions and a delete marker before the configuration, too.
        self.s3.put_object(Bucket=b, Key="obj/000001", Body=b"second version", Tagging="a=1")
        self.s3.delete_object(Bucket=b, Key="obj/000002")
        self.enable_metadata(b, inventory=True)
        t0 = time.monotonic()
        self.publish_until_quiet()
        backfill_s = time.monotonic() - t0
        self.assertEqual(self.table_status(b, "inventory"), ("ACTIVE", None))
        self.assertEqual(self.table_status(b, "journal"), ("ACTIVE", None))

        inv = self.dump(b, "inventory")
        self.assertEqual(len(inv["rows"]), n + 2)
        self.assertEqual(inventory_rows(inv), self.versions(b))
        self.assertEqual({r["sequence_number"] for r in inv["rows"]}, {ZERO_SEQ})
        by_key = {(r["key"], r["is_delete_marker"]): r for r in inv["rows"]}
        marker = by_key[("obj/000002", True)]
        self.assertEqual((marker["size"], marker["e_tag"], marker["object_tags"]), (0, None, None))
        first = [r for r in inv["rows"] if r["key"] == "obj/000000"][0]
        self.assertEqual((first["user_metadata"], first["object_tags"], first["storage_class"],
                          first["is_multipart"]), ({"n": "0"}, {}, "STANDARD", False))
        # Progress is visible in the log (NOTES-ON-ISSUES 17).
        self.assertRegex(self.server_log(), r"event=inventory.backfill bucket=%s versions=%d "
                         r"done=true" % (b, n + 2))

        # Kept current from the journal: changes of every kind.
        v_new = self.s3.put_object(Bucket=b, Key="obj/000003", Body=b"v2")["VersionId"]
        self.s3.put_object_tagging(Bucket=b, Key="obj/000004", Tagging={"TagSet": [
            {"Key": "k", "Value": "v"}]})
        m = self.s3.delete_object(Bucket=b, Key="obj/000005")["VersionId"]
        old = self.s3.list_object_versions(Bucket=b, Prefix="obj/000006")["Versions"][0]
        self.s3.delete_object(Bucket=b, Key="obj/000006", VersionId=old["VersionId"])
        self.s3.put_object(Bucket=b, Key="late/new", Body=b"new")
        self.assertGreater(self.publish(), 0)
        inv = self.dump(b, "inventory")
        self.assertEqual(inventory_rows(inv), self.versions(b))
        journal = self.dump(b, "journal")
        last = {}
        for r in journal["rows"]:
            last[(r["key"], r["version_id"])] = max(last.get((r["key"], r["version_id"]), ""),
                                                    r["sequence_number"])
        for r in inv["rows"]:
            self.assertEqual(r["sequence_number"], last.get((r["key"], r["version_id"]), ZERO_SEQ),
                             r)
        tagged = [r for r in inv["rows"] if r["key"] == "obj/000004"][0]
        self.assertEqual(tagged["object_tags"], {"k": "v"})
        self.assertIn(("obj/000003", v_new), {(r["key"], r["version_id"]) for r in inv["rows"]})
        self.assertIn(("obj/000005", m, True),
                      {(r["key"], r["version_id"], r["is_delete_marker"]) for r in inv["rows"]})
        # A pass with nothing new commits nothing (NOTES-ON-ISSUES 19).
        snaps = inv["snapshots"], journal["snapshots"]
        self.assertEqual(self.publish(), 0)
        self.assertEqual((self.dump(b, "inventory")["snapshots"],
                          self.dump(b, "journal")["snapshots"]), snaps)
        print("\n  backfill of %d versions: %.1f s" % (n + 2, backfill_s))

    def test_inventory_follows_within_seconds_without_a_forced_pass(self):
        b = self.new_bucket("invlive")
        self.enable_metadata(b, inventory=True)
        self.s3.put_object(Bucket=b, Key="k", Body=b"abc")
        want = self.versions(b)
        def current():
            d = self.dump(b, "inventory", check=False)   # absent until the first pass
            return d is not None and inventory_rows(d) == want
        self.wait_for(current, timeout=15,
                      what="the publisher thread to bring the inventory up to date")

    def test_awkward_keys_tags_and_metadata_land_verbatim(self):
        """Quotes, backslashes, control characters and non-ASCII text reach
        both tables byte for byte (batches travel to DuckDB as JSON)."""
        b = self.new_bucket("awk")
        self.enable_metadata(b, inventory=True)
        self.publish()
        keys = ['q"uote', "back\\slash", "it's", "tab\there", "ctl\x01\x1f", "caf\u00e9/\u65e5\u672c",
                "emoji \U0001F600", "{\"json\": [1]}", "nl\nline"]
        tags = {"t\"q": "v\\b", "\u00fcml": "\u00e4 x"}
        meta = {"quote": 'say "hi"', "slash": "a\\b", "apos": "it's"}
        for k in keys:
            self.s3.put_object(Bucket=b, Key=k, Body=k.encode(), Metadata=meta)
            self.s3.put_object_tagging(Bucket=b, Key=k, Tagging={
                "TagSet": [{"Key": tk, "Value": tv} for tk, tv in tags.items()]})
        self.publish()
        rows = self.dump(b, "journal")["rows"]
        creates = {r["key"]: r for r in rows if r["record_type"] == "CREATE"}
        updates = {r["key"]: r for r in rows if r["record_type"] == "UPDATE_METADATA"}
        self.assertEqual(sorted(creates), sorted(keys))
        self.assertEqual(sorted(updates), sorted(keys))
        for k in keys:
            self.assertEqual(creates[k]["user_metadata"], meta, k)
            self.assertEqual(updates[k]["object_tags"], tags, k)
            self.assertEqual(creates[k]["size"], len(k.encode()), k)
        inv = self.dump(b, "inventory")["rows"]
        self.assertEqual(sorted(r["key"] for r in inv), sorted(keys))
        for r in inv:
            self.assertEqual((r["object_tags"], r["user_metadata"]), (tags, meta), r["key"])

    def test_reenabling_over_a_leftover_inventory_fails_as_aws_does(self):
        b = self.new_bucket("invre")
        self.enable_metadata(b, inventory=True)
        self.publish()
        self.assertEqual(self.table_status(b, "inventory"), ("ACTIVE", None))
        self.s3.put_object(Bucket=b, Key="k1", Body=b"1")
        self.publish()
        off = {"ConfigurationState": "DISABLED"}
        self.s3.update_bucket_metadata_inventory_table_configuration(
            Bucket=b, InventoryTableConfiguration=off)
        self.publish()
        self.s3.put_object(Bucket=b, Key="k2", Body=b"2")
        self.publish()
        # Disabled: no updates (the table stays, with what it had).
        self.assertEqual([r["key"] for r in self.dump(b, "inventory")["rows"]], ["k1"])
        on = {"ConfigurationState": "ENABLED"}
        self.s3.update_bucket_metadata_inventory_table_configuration(
            Bucket=b, InventoryTableConfiguration=on)
        self.publish()
        status, err = self.table_status(b, "inventory")
        self.assertEqual(status, "FAILED")
        self.assertEqual(err["ErrorCode"], "InventoryTableAlreadyExists")
        # The journal is unaffected.
        self.assertEqual(self.table_status(b, "journal"), ("ACTIVE", None))
        rows = sorted(self.dump(b, "journal")["rows"], key=lambda r: r["sequence_number"])
        self.assertEqual([r["key"] for r in rows], ["k1", "k2"])


class JournalScenario(MetadataCase):
    """A scripted mix of operations; the journal must hold exactly the
    acknowledged mutations, in order, with every field."""

    def setUp(self):
        self.rng = random.Random(7)
        self.expected = []          # journal rows in acknowledgement order
        self.quiet_ids = []         # request ids of GETs and denied requests
        self.state = {}             # key -> (tags, meta) of the current version

    def rid(self, resp):
        return resp["ResponseMetadata"]["RequestId"]

    def row(self, rtype, key, vid, rid, marker=False, size=None, etag=None, tags=None,
            meta=None, multipart=False, permanent=False):
        self.expected.append({
            # Permanent deletes carry only the required columns and the
            # version (NOTES-ON-ISSUES 15): no request id, requester or address.
            "record_type": rtype, "key": key, "version_id": vid,
            "request_id": None if permanent else rid,
            "is_delete_marker": None if permanent else marker,
            "size": None if permanent else (0 if marker else size),
            "e_tag": None if (permanent or marker) else etag,
            "object_tags": None if (permanent or rtype == "DELETE") else tags,
            "user_metadata": None if (permanent or rtype == "DELETE") else meta,
            "is_multipart": None if (permanent or marker) else multipart,
        })

    def put(self, b, key, size=None):
        body = bytes(self.rng.randrange(256) for _ in range(size or self.rng.randrange(1, 300)))
        tags = {"t%d" % i: "v%d" % self.rng.randrange(9) for i in range(self.rng.randrange(3))}
        meta = {"m%d" % i: "x%d" % self.rng.randrange(9) for i in range(self.rng.randrange(3))}
        r = self.s3.put_object(Bucket=b, Key=key, Body=body, Metadata=meta,
                               Tagging="&".join("%s=%s" % kv for kv in tags.items()))
        self.state[key] = (tags, meta)
        self.row("CREATE", key, r["VersionId"], self.rid(r), size=len(body),
                 etag=r["ETag"].strip('"'), tags=tags, meta=meta)

    def copy(self, b, src, dst):
        r = self.s3.copy_object(Bucket=b, Key=dst, CopySource={"Bucket": b, "Key": src})
        head = self.s3.head_object(Bucket=b, Key=dst, VersionId=r["VersionId"])
        self.quiet_ids.append(self.rid(head))
        self.state[dst] = self.state[src]
        tags, meta = self.state[src]
        self.row("CREATE", dst, r["VersionId"], self.rid(r), size=head["ContentLength"],
                 etag=r["CopyObjectResult"]["ETag"].strip('"'), tags=tags, meta=meta,
                 multipart="-" in r["CopyObjectResult"]["ETag"])

    def multipart(self, b, key, sizes):
        up = self.s3.create_multipart_upload(Bucket=b, Key=key, Metadata={"mp": "1"})
        parts = []
        for i, n in enumerate(sizes, 1):
            p = self.s3.upload_part(Bucket=b, Key=key, UploadId=up["UploadId"], PartNumber=i,
                                    Body=b"m" * n)
            parts.append({"PartNumber": i, "ETag": p["ETag"]})
        r = self.s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=up["UploadId"],
                                              MultipartUpload={"Parts": parts})
        self.state[key] = ({}, {"mp": "1"})
        self.row("CREATE", key, r["VersionId"], self.rid(r), size=sum(sizes),
                 etag=r["ETag"].strip('"'), tags={}, meta={"mp": "1"}, multipart=True)

    def retag(self, b, key):
        tags = {"r": str(self.rng.randrange(1000))}
        r = self.s3.put_object_tagging(Bucket=b, Key=key, Tagging={"TagSet": [
            {"Key": k, "Value": v} for k, v in tags.items()]})
        head = self.s3.head_object(Bucket=b, Key=key, VersionId=r["VersionId"])
        self.quiet_ids.append(self.rid(head))
        self.state[key] = (tags, self.state[key][1])
        self.row("UPDATE_METADATA", key, r["VersionId"], self.rid(r), size=head["ContentLength"],
                 etag=head["ETag"].strip('"'), tags=tags, meta=self.state[key][1],
                 multipart="-" in head["ETag"])

    def untag(self, b, key):
        r = self.s3.delete_object_tagging(Bucket=b, Key=key)
        head = self.s3.head_object(Bucket=b, Key=key, VersionId=r["VersionId"])
        self.quiet_ids.append(self.rid(head))
        self.state[key] = ({}, self.state[key][1])
        self.row("UPDATE_METADATA", key, r["VersionId"], self.rid(r), size=head["ContentLength"],
                 etag=head["ETag"].strip('"'), tags={}, meta=self.state[key][1],
                 multipart="-" in head["ETag"])

    def test_journal_matches_the_acknowledged_operations_row_for_row(self):
        ops = scale(1500, 10000)
        b = self.new_bucket("jrn")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.enable_metadata(b, inventory=True)
        self.publish()
        _, out = admin(self, "POST", "/kura/admin/users", {"name": "nobody-%s" % b})
        denied = self.client(access_key=out["access_key_id"], secret_key=out["secret_access_key"])

        self.multipart(b, "mp/big", [5 * 1024 * 1024, 1000])
        live = []                                   # keys whose latest version is an object
        for i in range(ops):
            x = self.rng.random()
            if x < 0.30 or len(live) < 5:
                key = "k/%05d" % i
                self.put(b, key)
                live.append(key)
            elif x < 0.40:
                self.put(b, self.rng.choice(live))              # overwrite: a new version
            elif x < 0.47:
                dst = "c/%05d" % i
                self.copy(b, self.rng.choice(live), dst)
                live.append(dst)
            elif x < 0.55:
                self.retag(b, self.rng.choice(live))
            elif x < 0.58:
                self.untag(b, self.rng.choice(live))
            elif x < 0.64:
                key = live.pop(self.rng.randrange(len(live)))
                r = self.s3.delete_object(Bucket=b, Key=key)       # a delete marker
                self.row("DELETE", key, r["VersionId"], self.rid(r), marker=True)
            elif x < 0.68:
                key = self.rng.choice(live)
                vs = self.s3.list_object_versions(Bucket=b, Prefix=key)["Versions"]
                vs = [v for v in vs if v["Key"] == key]
                self.quiet_ids.append(None)
                v = self.rng.choice(vs)
                r = self.s3.delete_object(Bucket=b, Key=key, VersionId=v["VersionId"])
                self.row("DELETE", key, v["VersionId"], self.rid(r), permanent=True)
                if v["IsLatest"]:
                    live.remove(key)       # an older version, if any, is left alone
            elif x < 0.71:
                keys = [live.pop(self.rng.randrange(len(live))) for _ in range(3)]
                r = self.s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k}
                                                                         for k in keys]})
                by_key = {d["Key"]: d for d in r["Deleted"]}
                self.assertEqual(sorted(by_key), sorted(keys), r)
                # One request, one row per entry, in the order kura applied them.
                for k in keys:
                    self.row("DELETE", k, by_key[k]["DeleteMarkerVersionId"], self.rid(r),
                             marker=True)
            elif x < 0.73:
                self.multipart(b, "mp/%05d" % i, [self.rng.randrange(1, 2000)])
                live.append("mp/%05d" % i)
            elif x < 0.74:
                with self.assertRaises(ClientError) as e:
                    denied.put_object(Bucket=b, Key="denied/%d" % i, Body=b"no")
                self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
                self.quiet_ids.append(e.exception.response["ResponseMetadata"]["RequestId"])
            else:
                r = self.s3.get_object(Bucket=b, Key=self.rng.choice(live))
                r["Body"].read()
                self.quiet_ids.append(self.rid(r))

        self.publish_until_quiet()
        rows = self.dump(b, "journal")["rows"]
        rows.sort(key=lambda r: r["sequence_number"])
        seqs = [int(r["sequence_number"], 16) for r in rows]
        # Strictly increasing, no gaps, fixed-width lowercase hex (NOTES 15).
        self.assertEqual(seqs, list(range(1, len(rows) + 1)))
        self.assertTrue(all(len(r["sequence_number"]) == 16 for r in rows))
        counts = {}
        for e in self.expected:
            counts[e["record_type"]] = counts.get(e["record_type"], 0) + 1
        got = {}
        for r in rows:
            got[r["record_type"]] = got.get(r["record_type"], 0) + 1
        self.assertEqual(got, counts)
        self.assertEqual(len(rows), len(self.expected))

        # DeleteObjects entries share a request id: compare those as sets.
        account = self.table_bucket_arn().split(":")[4]
        for i, (r, e) in enumerate(zip(rows, self.expected)):
            cmp = dict(e)
            if self.expected[i - 1]["request_id"] == e["request_id"] or (
                    i + 1 < len(self.expected) and
                    self.expected[i + 1]["request_id"] == e["request_id"]):
                group = [x for x in self.expected if x["request_id"] == e["request_id"]]
                cmp = [x for x in group if x["key"] == r["key"] and
                       x["version_id"] == r["version_id"]][0]
            for field, want in cmp.items():
                self.assertEqual(r[field], want, "row %d field %s: %r vs %r" % (i, field, r, cmp))
            self.assertEqual(r["bucket"], b)
            permanent = r["record_type"] == "DELETE" and r["is_delete_marker"] is None
            self.assertEqual(r["requester"], None if permanent else account)
            self.assertEqual(r["source_ip_address"], None if permanent else "127.0.0.1")
            self.assertIsNotNone(r["record_timestamp"])
            if r["is_delete_marker"] is not None and not r["is_delete_marker"]:
                self.assertEqual(r["storage_class"], "STANDARD")
                self.assertIsNotNone(r["last_modified_date"])
        # No row for GETs, HEADs, listings or the denied request.
        ids = {r["request_id"] for r in rows}
        self.assertFalse(ids & {q for q in self.quiet_ids if q})

        # The inventory equals a fresh ListObjectVersions.
        inv = self.dump(b, "inventory")
        self.assertEqual(inventory_rows(inv), self.versions(b))
        # Snapshot hygiene: commits only with rows, at most 100 kept.
        self.assertLessEqual(inv["snapshots"], 100)
        print("\n  %d operations, %d journal rows" % (ops, len(rows)))


class Compaction(MetadataCase):
    """Each publishing commit adds a small Parquet file; once the journal
    holds 32 of them they are rewritten as one by a "replace" snapshot
    (journal/upkeep.c). Nothing is lost, duplicated or published twice, and
    time travel to before the compaction still reads the old files."""

    def test_small_journal_files_are_compacted_and_nothing_changes(self):
        b = self.new_bucket("cmp")
        self.enable_metadata(b)
        keys = []
        for i in range(31):
            k = "k%02d" % i
            self.s3.put_object(Bucket=b, Key=k, Body=b"x" * i)
            keys.append(k)
            self.publish()   # (or kura's own pass first): one row, one file, a commit
        before = self.dump(b, "journal")
        self.assertEqual(before["files"], 31)
        self.assertNotIn("replace", before["operations"])
        time.sleep(0.05)
        t_before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        time.sleep(0.05)
        self.s3.put_object(Bucket=b, Key="k31", Body=b"y")
        keys.append("k31")
        self.publish()                                   # the 32nd file: compaction
        after = self.dump(b, "journal")
        self.assertEqual(after["files"], 1)
        self.assertEqual(after["operations"][-2:], ["append", "replace"])
        self.assertEqual(after["summary"]["operation"], "replace")
        self.assertEqual(sorted(r["key"] for r in after["rows"]), keys)
        seqs = [r["sequence_number"] for r in after["rows"]]
        self.assertEqual(seqs, sorted(seqs))              # written in sequence order
        self.assertEqual(len(set(seqs)), 32)
        # The summary the publisher resumes from went along: nothing more to
        # publish, and new rows land once, after the compacted file.
        self.assertEqual(self.publish(), 0)
        # Time travel to before the compaction reads the small files.
        j = '"s3tablescatalog/aws-s3"."b_%s"."journal"' % b
        for sql, want in (("SELECT count(*) AS n FROM %s" % j, 32),
                          ("SELECT count(*) AS n FROM %s FOR TIMESTAMP AS OF TIMESTAMP '%s'"
                           % (j, t_before.isoformat(sep=" ")), 31)):
            st, _, body = self.raw("POST", "/kura/sql", body=json.dumps({"sql": sql}).encode(),
                                   headers={"Content-Type": "application/json"})
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["rows"], [{"n": want}], sql)
        self.s3.delete_object(Bucket=b, Key="k00")
        self.publish()
        last = self.dump(b, "journal")
        self.assertEqual(last["files"], 2)
        self.assertEqual(len(last["rows"]), 33)
        self.assertEqual([r["record_type"] for r in
                          sorted(last["rows"], key=lambda r: r["sequence_number"])
                          if r["key"] == "k00"], ["CREATE", "DELETE"])


class RecordExpiration(MetadataCase):
    server_args = ["--test-clock", "--lifecycle-interval", "86400"]

    def advance(self, seconds):
        status, body = admin(self, "POST", "/kura/admin/clock", query=[("advance", str(seconds))])
        self.assertEqual(status, 200, body)

    def test_rows_older_than_days_leave_the_journal_and_old_snapshots_expire(self):
        b = self.new_bucket("exp")
        self.enable_metadata(b, days=7)
        for i in range(3):
            self.s3.put_object(Bucket=b, Key="old%d" % i, Body=b"x")
            self.publish()                       # one snapshot each
        self.assertEqual(self.dump(b, "journal")["snapshots"], 3)
        self.advance(6 * 86400)
        self.s3.put_object(Bucket=b, Key="mid", Body=b"x")
        self.publish()
        self.assertEqual(len(self.dump(b, "journal")["rows"]), 4)   # nothing is 7 days old
        self.advance(1 * 86400 + 3600)
        self.s3.put_object(Bucket=b, Key="new", Body=b"x")
        self.publish()
        j = self.dump(b, "journal")
        self.assertEqual(sorted(r["key"] for r in j["rows"]), ["mid", "new"])
        # The rows left in an overwrite: the test's pass, or the publisher
        # thread's own if it ran between the clock step and the PUT (then
        # the test's pass only appended "new").
        self.assertIn(j["operations"][-2:], (["append", "overwrite"], ["overwrite"],
                                             ["overwrite", "append"]), j["operations"])
        # Snapshots older than 24 h left with the commits (docs/metadata.md).
        self.assertLessEqual(j["snapshots"], 2)
        self.assertEqual(self.metadata_conf(b)["JournalTableConfigurationResult"]
                         ["RecordExpiration"], {"Expiration": "ENABLED", "Days": 7})
        # Nothing more to expire: the next pass commits nothing.
        n = j["snapshots"]
        self.assertEqual(self.publish(), 0)
        self.assertEqual(self.dump(b, "journal")["snapshots"], n)
