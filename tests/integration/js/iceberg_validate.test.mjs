// kura's own Iceberg writer checked by independent readers (issue 6 "Must
// show"; iceberg.md §5, §6): S3 Metadata publishes a bucket's journal into
// the managed table aws-s3 / b_<bucket> / journal; the test fetches that
// table's metadata through the S3 Tables API, downloads every metadata file,
// manifest list, manifest and data file through the S3 API, decodes the Avro
// files with avsc (field ids on every field, the header keys Iceberg readers
// need, counts that agree) and reads every Parquet file with DuckDB
// (@duckdb/node-api: a field id on every column, row counts equal to the
// manifests and to the snapshot summaries).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { S3TablesClient, GetTableMetadataLocationCommand } from "@aws-sdk/client-s3tables";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  CreateBucketMetadataConfigurationCommand,
  GetBucketMetadataConfigurationCommand,
} from "@aws-sdk/client-s3";
import { startKura, adminPost, oauthToken, getS3, readAvro } from "./harness.mjs";

const BUCKET = "journal-src";

let kura, s3, tables, duck, conn;

// Every record field carries "field-id", every array "element-id" (unless it
// is an int-keyed map, whose entry record's key/value carry field ids), every
// Avro map "key-id"/"value-id" (iceberg.md §5). Returns problems found.
function missingIds(type, path, out = []) {
  if (Array.isArray(type)) {
    for (const t of type) missingIds(t, path, out);
  } else if (type && typeof type === "object") {
    if (type.type === "record") {
      for (const f of type.fields) {
        if (!Number.isInteger(f["field-id"])) out.push(`${path}.${f.name}: no field-id`);
        missingIds(f.type, `${path}.${f.name}`, out);
      }
    } else if (type.type === "array") {
      if (type.logicalType === "map") {
        const names = type.items.fields.map((f) => f.name);
        if (names.join() !== "key,value") out.push(`${path}: map entry fields ${names}`);
      } else if (!Number.isInteger(type["element-id"])) {
        out.push(`${path}: array without element-id`);
      }
      missingIds(type.items, `${path}[]`, out);
    } else if (type.type === "map") {
      if (!Number.isInteger(type["key-id"]) || !Number.isInteger(type["value-id"]))
        out.push(`${path}: map without key-id/value-id`);
      missingIds(type.values, `${path}{}`, out);
    }
  }
  return out;
}

async function rows(sql) {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS();
}

before(async () => {
  kura = await startKura();
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  tables = new S3TablesClient(kura.clientConfig);
  duck = await DuckDBInstance.create(":memory:");
  conn = await duck.connect();
});

after(async () => {
  conn?.closeSync();
  duck?.closeSync();
  s3?.destroy();
  tables?.destroy();
  await kura?.stop();
});

test("the journal table kura writes passes avsc and DuckDB, and its counts agree", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketMetadataConfigurationCommand({
    Bucket: BUCKET,
    MetadataConfiguration: {
      JournalTableConfiguration: { RecordExpiration: { Expiration: "DISABLED" } },
    },
  }));

  // Two rounds of changes, each published, so the table has at least two
  // snapshots (the background publisher may add more; counts must still agree).
  let ops = 0;
  for (let i = 0; i < 6; i++, ops++) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `a/${i}.txt`, Body: `one ${i}`,
      Metadata: { round: "1" } }));
  }
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "a/0.txt" }));
  ops++;
  await adminPost(kura, "/kura/admin/metadata/publish");
  for (let i = 0; i < 4; i++, ops++) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `b/${i}.bin`, Body: Buffer.alloc(i * 100) }));
  }
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "a/1.txt" }));
  ops++;
  await adminPost(kura, "/kura/admin/metadata/publish");

  const conf = await s3.send(new GetBucketMetadataConfigurationCommand({ Bucket: BUCKET }));
  const result = conf.GetBucketMetadataConfigurationResult.MetadataConfigurationResult;
  const dest = result.DestinationResult;
  assert.equal(dest.TableNamespace, `b_${BUCKET}`);
  assert.equal(result.JournalTableConfigurationResult.TableStatus, "ACTIVE");
  const loc = await tables.send(new GetTableMetadataLocationCommand({
    tableBucketARN: dest.TableBucketArn, namespace: dest.TableNamespace, name: "journal" }));
  assert.match(loc.metadataLocation, /\.metadata\.json$/);
  assert.ok(loc.metadataLocation.startsWith(`${loc.warehouseLocation}/metadata/`));

  // The Iceberg REST catalog serves the same table (a managed namespace, NOTES 12).
  const tok = await oauthToken(kura);
  const bearer = { Authorization: `Bearer ${tok.access_token}` };
  const cfg = await (await fetch(`${kura.endpoint}/iceberg/v1/config?warehouse=${
    encodeURIComponent(dest.TableBucketArn)}`, { headers: bearer })).json();
  const rest = await fetch(`${kura.endpoint}/iceberg/v1/${cfg.overrides.prefix}/namespaces/${
    dest.TableNamespace}/tables/journal`, { headers: bearer });
  assert.equal(rest.status, 200);
  const loaded = await rest.json();
  assert.equal(loaded["metadata-location"], loc.metadataLocation);

  const md = JSON.parse((await getS3(s3, loc.metadataLocation)).toString());
  assert.deepEqual(loaded.metadata, md);
  assert.equal(md["format-version"], 2);
  assert.ok(md.snapshots.length >= 2, `snapshots: ${md.snapshots.length}`);
  const schemaById = new Map(md.schemas.map((s) => [s["schema-id"], s]));
  const specById = new Map(md["partition-specs"].map((s) => [s["spec-id"], s]));
  const current = md.snapshots.find((s) => s["snapshot-id"] === md["current-snapshot-id"]);
  assert.ok(current, "current-snapshot-id names a snapshot");
  assert.equal(md.refs.main["snapshot-id"], md["current-snapshot-id"]);

  // Snapshot chain: sequence numbers increase along parents, the root has none.
  const byId = new Map(md.snapshots.map((s) => [s["snapshot-id"], s]));
  for (const s of md.snapshots) {
    assert.ok(Number.isSafeInteger(s["snapshot-id"]) && s["snapshot-id"] > 0);
    if (s["parent-snapshot-id"] !== undefined) {
      assert.ok(byId.get(s["parent-snapshot-id"])["sequence-number"] < s["sequence-number"]);
    }
    assert.equal(s.summary.operation, "append");
  }
  assert.equal(current["sequence-number"], md["last-sequence-number"]);

  const seenManifests = new Map();
  const dataFiles = new Map(); // path -> record_count
  for (const snap of md.snapshots) {
    const listBuf = await getS3(s3, snap["manifest-list"]);
    const list = await readAvro(listBuf);
    assert.ok(["null", "deflate"].includes(list.codec), `codec ${list.codec}`);
    assert.deepEqual(missingIds(list.schema, "manifest_file"), []);
    assert.equal(list.schema.name, "manifest_file");
    assert.equal(list.meta["snapshot-id"], String(snap["snapshot-id"]));
    assert.equal(list.meta["parent-snapshot-id"], snap["parent-snapshot-id"] === undefined
      ? "null" : String(snap["parent-snapshot-id"]));
    assert.equal(list.meta["sequence-number"], String(snap["sequence-number"]));
    assert.equal(list.meta["format-version"], "2");

    let live = 0;
    for (const mf of list.records) {
      let m = seenManifests.get(mf.manifest_path);
      if (!m) {
        const buf = await getS3(s3, mf.manifest_path);
        assert.equal(mf.manifest_length, buf.length, "manifest_length is the object size");
        m = await readAvro(buf);
        seenManifests.set(mf.manifest_path, m);
        // Header keys (§5.2) and the entry schema's ids and Java names.
        for (const k of ["schema", "partition-spec", "partition-spec-id", "format-version", "content"])
          assert.ok(k in m.meta, `manifest header lacks ${k}`);
        assert.equal(m.meta["format-version"], "2");
        assert.equal(m.meta.content, "data");
        const hdrSchema = JSON.parse(m.meta.schema);
        assert.deepEqual(hdrSchema.fields, schemaById.get(hdrSchema["schema-id"]).fields);
        const spec = specById.get(Number(m.meta["partition-spec-id"]));
        assert.ok(spec, "partition-spec-id names a spec of the table");
        assert.deepEqual(JSON.parse(m.meta["partition-spec"]), spec.fields);
        assert.deepEqual(missingIds(m.schema, "manifest_entry"), []);
        assert.equal(m.schema.name, "manifest_entry");
        const df = m.schema.fields.find((f) => f.name === "data_file");
        assert.equal(df.type.name, "r2");
        assert.equal(df.type.fields.find((f) => f.name === "partition").type.name, "r102");
        assert.ok(df.type.fields.some((f) => f.name === "content" && f["field-id"] === 134));
      }
      assert.equal(mf.partition_spec_id, Number(m.meta["partition-spec-id"]));
      assert.equal(mf.content, 0);
      const by = (st) => m.records.filter((e) => e.status === st);
      const rowsOf = (es) => es.reduce((n, e) => n + e.data_file.record_count, 0);
      assert.equal(mf.added_files_count, by(1).length);
      assert.equal(mf.existing_files_count, by(0).length);
      assert.equal(mf.deleted_files_count, by(2).length);
      assert.equal(mf.added_rows_count, rowsOf(by(1)));
      assert.equal(mf.existing_rows_count, rowsOf(by(0)));
      assert.equal(mf.deleted_rows_count, rowsOf(by(2)));
      assert.ok(mf.sequence_number <= snap["sequence-number"]);
      assert.ok(mf.min_sequence_number <= mf.sequence_number);
      for (const e of m.records) {
        // ADDED entries inherit their sequence numbers (§4.2): null, never 0 or -1.
        if (e.status === 1) {
          assert.equal(e.sequence_number, null);
          assert.equal(e.file_sequence_number, null);
          assert.equal(e.snapshot_id ?? mf.added_snapshot_id, mf.added_snapshot_id);
        }
        assert.equal(e.data_file.content, 0);
        assert.equal(e.data_file.file_format.toUpperCase(), "PARQUET");
        assert.ok(e.data_file.file_path.startsWith(`${md.location}/`), e.data_file.file_path);
        if (e.status !== 2) {
          live += e.data_file.record_count;
          dataFiles.set(e.data_file.file_path, e.data_file);
        }
      }
    }
    assert.equal(live, Number(snap.summary["total-records"]),
      `snapshot ${snap["snapshot-id"]}: live rows in manifests vs total-records`);
  }

  // Every Parquet file: field ids on every column, rows = record_count.
  const journalSchema = schemaById.get(md["current-schema-id"]);
  const topIds = Object.fromEntries(journalSchema.fields.map((f) => [f.name, f.id]));
  let total = 0;
  let n = 0;
  const locals = [];
  for (const [path, df] of dataFiles) {
    const body = await getS3(s3, path);
    assert.equal(body.length, df.file_size_in_bytes, `${path}: file_size_in_bytes`);
    const local = join(kura.dir, `data-${n++}.parquet`);
    writeFileSync(local, body);
    locals.push(local);
    const cols = await rows(`SELECT name, field_id, num_children, repetition_type
      FROM parquet_schema('${local}')`);
    // The root and the repeated key_value group of a map carry no id (Iceberg
    // assigns none); every other node does, top-level ones equal to the schema's.
    const nodes = cols.slice(1).filter((c) => !(c.name === "key_value" && c.repetition_type === "REPEATED"));
    const noId = nodes.filter((c) => c.field_id === null || c.field_id === undefined).map((c) => c.name);
    assert.deepEqual(noId, [], `${path}: columns without field_id`);
    for (const c of nodes) {
      if (c.name in topIds && !["key", "value"].includes(c.name))
        assert.equal(Number(c.field_id), topIds[c.name], `${path}: ${c.name}`);
    }
    const [{ c }] = await rows(`SELECT count(*)::BIGINT AS c FROM read_parquet('${local}')`);
    assert.equal(Number(c), df.record_count, `${path}: rows vs record_count`);
    total += Number(c);
  }
  assert.equal(total, Number(current.summary["total-records"]));
  assert.equal(dataFiles.size, Number(current.summary["total-data-files"]));
  assert.equal(total, ops, "one journal row per PUT and DELETE");

  // The rows themselves: what happened, in sequence order.
  const list = locals.map((p) => `'${p}'`).join(", ");
  const got = await rows(`SELECT key, record_type FROM read_parquet([${list}])
    ORDER BY sequence_number`);
  const want = [
    ...[0, 1, 2, 3, 4, 5].map((i) => ({ key: `a/${i}.txt`, record_type: "CREATE" })),
    { key: "a/0.txt", record_type: "DELETE" },
    ...[0, 1, 2, 3].map((i) => ({ key: `b/${i}.bin`, record_type: "CREATE" })),
    { key: "a/1.txt", record_type: "DELETE" },
  ];
  assert.deepEqual(got, want);
});
