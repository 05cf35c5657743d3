// An external engine's append, done by hand against kura (issue 6 "Must
// show"; iceberg.md §4-§6, §8.3): iceberg-js creates the namespace and table,
// DuckDB (@duckdb/node-api) writes the Parquet data file with Iceberg field
// ids, @aws-sdk/client-s3 uploads it into the table's warehouse location,
// avsc writes the manifest and the manifest list (Iceberg v2 Avro schemas
// with field ids and the header keys readers need), and iceberg-js commits
// the snapshot (add-snapshot + set-snapshot-ref, asserting the ref's base).
// iceberg-js cannot SigV4-sign (NOTES-ON-ISSUES 11): it uses a bearer token
// from kura's /iceberg/v1/oauth/tokens extension.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID, randomInt } from "node:crypto";
import avro from "avsc";
import { DuckDBInstance } from "@duckdb/node-api";
import { IcebergRestCatalog } from "iceberg-js";
import { S3TablesClient, CreateTableBucketCommand } from "@aws-sdk/client-s3tables";
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { startKura, oauthToken, splitS3, getS3, readAvro, liveDataFiles } from "./harness.mjs";

const NS = ["lake"];

let kura, catalog, bucketArn, s3, duck, conn;

// ---- Iceberg v2 Avro schemas (iceberg.md §5; Java's record names) --------

const opt = (name, type, id) => ({ name, type: ["null", type], default: null, "field-id": id });
const intMap = (rec, kid, vid, vtype) => ({
  type: "array", logicalType: "map",
  items: { type: "record", name: rec, fields: [
    { name: "key", type: "int", "field-id": kid }, { name: "value", type: vtype, "field-id": vid }] },
});

// Unpartitioned tables: the partition record r102 has no fields.
const MANIFEST_ENTRY = {
  type: "record", name: "manifest_entry", fields: [
    { name: "status", type: "int", "field-id": 0 },
    opt("snapshot_id", "long", 1),
    opt("sequence_number", "long", 3),
    opt("file_sequence_number", "long", 4),
    { name: "data_file", "field-id": 2, type: { type: "record", name: "r2", fields: [
      { name: "content", type: "int", "field-id": 134 },
      { name: "file_path", type: "string", "field-id": 100 },
      { name: "file_format", type: "string", "field-id": 101 },
      { name: "partition", type: { type: "record", name: "r102", fields: [] }, "field-id": 102 },
      { name: "record_count", type: "long", "field-id": 103 },
      { name: "file_size_in_bytes", type: "long", "field-id": 104 },
      opt("column_sizes", intMap("k117_v118", 117, 118, "long"), 108),
      opt("value_counts", intMap("k119_v120", 119, 120, "long"), 109),
      opt("null_value_counts", intMap("k121_v122", 121, 122, "long"), 110),
      opt("nan_value_counts", intMap("k138_v139", 138, 139, "long"), 137),
      opt("lower_bounds", intMap("k126_v127", 126, 127, "bytes"), 125),
      opt("upper_bounds", intMap("k129_v130", 129, 130, "bytes"), 128),
      opt("key_metadata", "bytes", 131),
      opt("split_offsets", { type: "array", items: "long", "element-id": 133 }, 132),
      opt("equality_ids", { type: "array", items: "int", "element-id": 136 }, 135),
      opt("sort_order_id", "int", 140),
    ] } },
  ],
};

const MANIFEST_FILE = {
  type: "record", name: "manifest_file", fields: [
    { name: "manifest_path", type: "string", "field-id": 500 },
    { name: "manifest_length", type: "long", "field-id": 501 },
    { name: "partition_spec_id", type: "int", "field-id": 502 },
    { name: "content", type: "int", "field-id": 517 },
    { name: "sequence_number", type: "long", "field-id": 515 },
    { name: "min_sequence_number", type: "long", "field-id": 516 },
    { name: "added_snapshot_id", type: "long", "field-id": 503 },
    { name: "added_files_count", type: "int", "field-id": 504 },
    { name: "existing_files_count", type: "int", "field-id": 505 },
    { name: "deleted_files_count", type: "int", "field-id": 506 },
    { name: "added_rows_count", type: "long", "field-id": 512 },
    { name: "existing_rows_count", type: "long", "field-id": 513 },
    { name: "deleted_rows_count", type: "long", "field-id": 514 },
    opt("partitions", { type: "array", "element-id": 508, items: { type: "record", name: "r508",
      fields: [
        { name: "contains_null", type: "boolean", "field-id": 509 },
        opt("contains_nan", "boolean", 518),
        opt("lower_bound", "bytes", 510),
        opt("upper_bound", "bytes", 511),
      ] } }, 507),
    opt("key_metadata", "bytes", 519),
  ],
};

// An Avro object container file in memory (null codec), header values as bytes.
function avroFile(schema, records, meta) {
  return new Promise((resolve, reject) => {
    const metadata = Object.fromEntries(
      Object.entries(meta).map(([k, v]) => [k, Buffer.from(String(v))]));
    const enc = new avro.streams.BlockEncoder(schema, { codec: "null", metadata });
    const chunks = [];
    enc.on("data", (c) => chunks.push(c));
    enc.on("error", reject);
    enc.on("end", () => resolve(Buffer.concat(chunks)));
    for (const r of records) enc.write(r);
    enc.end();
  });
}

// ---- helpers over S3 and DuckDB -----------------------------------------

async function put(uri, body) {
  await s3.send(new PutObjectCommand({ ...splitS3(uri), Body: body }));
}

async function rows(sql) {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS();
}

const le8 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; };
const leDouble = (x) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return b; };

// Writes rows [first, first+n) as Parquet with the table's field ids and
// returns the local path plus the manifest metrics DuckDB reports (§6).
async function writeParquet(schema, first, n) {
  const ids = Object.fromEntries(schema.fields.map((f) => [f.name, f.id]));
  const path = join(kura.dir, `part-${first}-${randomUUID()}.parquet`);
  await conn.run(`COPY (SELECT i::BIGINT AS id, CASE WHEN i % 10 = 0 THEN NULL ELSE 'row-' || i END
      AS name, (i * 1.5)::DOUBLE AS score FROM range(${first}, ${first + n}) t(i))
    TO '${path}' (FORMAT parquet, FIELD_IDS {id: ${ids.id}, name: ${ids.name}, score: ${ids.score}})`);
  const md = await rows(`SELECT path_in_schema AS col, sum(total_compressed_size)::BIGINT AS size,
      sum(num_values)::BIGINT AS vals, sum(stats_null_count)::BIGINT AS nulls,
      min(stats_min_value) AS lo, max(stats_max_value) AS hi
    FROM parquet_metadata('${path}') GROUP BY path_in_schema`);
  const count = (await rows(`SELECT num_rows::BIGINT AS n FROM parquet_file_metadata('${path}')`))[0].n;
  const by = Object.fromEntries(md.map((r) => [r.col, r]));
  const m = (f) => schema.fields.map((fld) => ({ key: fld.id, value: f(by[fld.name], fld) }));
  const bound = (which) => (r, fld) => {
    const s = which === "lo" ? r.lo : r.hi;
    if (fld.name === "id") return le8(s);
    if (fld.name === "score") return leDouble(Number(s));
    return Buffer.from(s, "utf8");
  };
  return {
    path, count: Number(count),
    column_sizes: m((r) => Number(r.size)),
    value_counts: m((r) => Number(r.vals)),
    null_value_counts: m((r) => Number(r.nulls)),
    lower_bounds: m(bound("lo")),
    upper_bounds: m(bound("hi")),
  };
}

// Writes Parquet + manifest + manifest list for one append on `base` (the
// loaded metadata) and returns the snapshot to commit.
async function prepareAppend(base, first, n) {
  const loc = base.location;
  const schema = base.schemas.find((s) => s["schema-id"] === base["current-schema-id"]);
  const snapshotId = randomInt(1, 2 ** 47) * 64 + randomInt(64); // <= 2^53-1 (iceberg.md §10.1)
  const parent = base["current-snapshot-id"] ?? -1;
  const seq = (base["last-sequence-number"] ?? 0) + 1;

  const pq = await writeParquet(schema, first, n);
  const data = readFileSync(pq.path);
  const dataPath = `${loc}/data/00000-0-${randomUUID()}.parquet`;
  await put(dataPath, data);

  const entry = {
    status: 1, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null,
    data_file: {
      content: 0, file_path: dataPath, file_format: "PARQUET", partition: {},
      record_count: pq.count, file_size_in_bytes: data.length,
      column_sizes: pq.column_sizes, value_counts: pq.value_counts,
      null_value_counts: pq.null_value_counts, nan_value_counts: null,
      lower_bounds: pq.lower_bounds, upper_bounds: pq.upper_bounds,
      key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: 0,
    },
  };
  const spec = base["partition-specs"].find((s) => s["spec-id"] === base["default-spec-id"]);
  const manifest = await avroFile(MANIFEST_ENTRY, [entry], {
    schema: JSON.stringify(schema),
    "schema-id": schema["schema-id"],
    "partition-spec": JSON.stringify(spec.fields),
    "partition-spec-id": spec["spec-id"],
    "format-version": 2,
    content: "data",
  });
  const manifestPath = `${loc}/metadata/${randomUUID()}-m0.avro`;
  await put(manifestPath, manifest);

  // The new list: our manifest first, then every manifest of the parent.
  let kept = [];
  let totals = { files: 0, records: 0, size: 0 };
  if (parent !== -1) {
    const p = base.snapshots.find((s) => s["snapshot-id"] === parent);
    kept = (await readAvro(await getS3(s3, p["manifest-list"]))).records;
    totals = { files: Number(p.summary["total-data-files"]),
      records: Number(p.summary["total-records"]), size: Number(p.summary["total-files-size"]) };
  }
  const mine = {
    manifest_path: manifestPath, manifest_length: manifest.length,
    partition_spec_id: spec["spec-id"], content: 0, sequence_number: seq,
    min_sequence_number: seq, added_snapshot_id: snapshotId,
    added_files_count: 1, existing_files_count: 0, deleted_files_count: 0,
    added_rows_count: pq.count, existing_rows_count: 0, deleted_rows_count: 0,
    partitions: [], key_metadata: null,
  };
  const list = await avroFile(MANIFEST_FILE, [mine, ...kept], {
    "snapshot-id": snapshotId,
    "parent-snapshot-id": parent === -1 ? "null" : parent,
    "sequence-number": seq,
    "format-version": 2,
  });
  const listPath = `${loc}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`;
  await put(listPath, list);

  const snapshot = {
    "snapshot-id": snapshotId,
    "sequence-number": seq,
    "timestamp-ms": Date.now(),
    "manifest-list": listPath,
    "schema-id": schema["schema-id"],
    summary: {
      operation: "append",
      "added-data-files": "1",
      "added-records": String(pq.count),
      "added-files-size": String(data.length),
      "changed-partition-count": "1",
      "total-data-files": String(totals.files + 1),
      "total-delete-files": "0",
      "total-records": String(totals.records + pq.count),
      "total-files-size": String(totals.size + data.length),
      "total-position-deletes": "0",
      "total-equality-deletes": "0",
      "engine-name": "kura-test",
    },
  };
  if (parent !== -1) snapshot["parent-snapshot-id"] = parent;
  return { snapshot, dataPath, manifestPath, listPath, parent };
}

function appendRequest(base, snapshot, parent) {
  return {
    requirements: [
      { type: "assert-table-uuid", uuid: base["table-uuid"] },
      { type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": parent === -1 ? null : parent },
    ],
    updates: [
      { action: "add-snapshot", snapshot },
      { action: "set-snapshot-ref", "ref-name": "main", type: "branch",
        "snapshot-id": snapshot["snapshot-id"] },
    ],
  };
}

// ---- setup ---------------------------------------------------------------

const SCHEMA = {
  type: "struct", "schema-id": 0,
  fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "name", type: "string", required: false },
    { id: 3, name: "score", type: "double", required: false },
  ],
};

before(async () => {
  kura = await startKura();
  const tables = new S3TablesClient(kura.clientConfig);
  ({ arn: bucketArn } = await tables.send(new CreateTableBucketCommand({ name: "ice-append" })));
  tables.destroy();
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  const { access_token: token } = await oauthToken(kura);
  catalog = new IcebergRestCatalog({ baseUrl: `${kura.endpoint}/iceberg`, warehouse: bucketArn,
    auth: { type: "bearer", token } });
  duck = await DuckDBInstance.create(":memory:");
  conn = await duck.connect();
  await catalog.createNamespace({ namespace: NS });
});

after(async () => {
  conn?.closeSync();
  duck?.closeSync();
  s3?.destroy();
  await kura?.stop();
});

// ---- tests ---------------------------------------------------------------

test("two appends committed with iceberg-js: snapshots, summaries, chain, data read back", async () => {
  const id = { namespace: NS, name: "events" };
  await catalog.createTable({ namespace: NS }, { name: "events", schema: SCHEMA });
  const base0 = await catalog.loadTable(id);
  assert.equal(base0["format-version"], 2);
  assert.ok(base0["current-snapshot-id"] === undefined || base0["current-snapshot-id"] === -1
    || base0["current-snapshot-id"] === null, "a new table has no current snapshot");
  assert.match(base0.location, /^s3:\/\/[^/]+--table-s3\/[^/]+$/);

  // First append: 100 rows, on an empty main.
  const a = await prepareAppend(base0, 1, 100);
  const r1 = await catalog.updateTable(id, appendRequest(base0, a.snapshot, -1));
  assert.match(r1["metadata-location"], /\/metadata\/00001-.*\.metadata\.json$/);
  assert.ok(r1["metadata-location"].startsWith(`${base0.location}/metadata/`));
  const base1 = await catalog.loadTable(id);
  assert.equal(base1["current-snapshot-id"], a.snapshot["snapshot-id"]);
  assert.equal(base1["last-sequence-number"], 1);
  assert.equal(base1.refs.main["snapshot-id"], a.snapshot["snapshot-id"]);
  assert.equal(base1.refs.main.type, "branch");
  assert.deepEqual(base1.snapshots.map((s) => s["snapshot-id"]), [a.snapshot["snapshot-id"]]);
  const s1 = base1.snapshots[0];
  assert.equal(s1["parent-snapshot-id"], undefined, "a root snapshot has no parent key");
  assert.equal(s1["sequence-number"], 1);
  assert.equal(s1["manifest-list"], a.listPath);
  assert.deepEqual(s1.summary, a.snapshot.summary);
  assert.deepEqual(base1["snapshot-log"].map((e) => e["snapshot-id"]), [a.snapshot["snapshot-id"]]);
  assert.equal(base1["metadata-log"].length, 1);

  // Second append on top of the first: the list carries both manifests.
  const b = await prepareAppend(base1, 101, 50);
  await catalog.updateTable(id, appendRequest(base1, b.snapshot, a.snapshot["snapshot-id"]));
  const md = await catalog.loadTable(id);
  assert.equal(md["current-snapshot-id"], b.snapshot["snapshot-id"]);
  assert.equal(md["last-sequence-number"], 2);
  const s2 = md.snapshots.find((s) => s["snapshot-id"] === b.snapshot["snapshot-id"]);
  assert.equal(s2["parent-snapshot-id"], a.snapshot["snapshot-id"]);
  assert.equal(s2["sequence-number"], 2);
  assert.equal(s2.summary["total-records"], "150");
  assert.equal(s2.summary["total-data-files"], "2");
  assert.deepEqual(md["snapshot-log"].map((e) => e["snapshot-id"]),
    [a.snapshot["snapshot-id"], b.snapshot["snapshot-id"]]);
  assert.equal(md["metadata-log"].length, 2);

  // Read back: the manifests name both files; DuckDB reads them from S3.
  const files = await liveDataFiles(s3, md);
  assert.deepEqual(files.map((f) => f.file_path).sort(), [a.dataPath, b.dataPath].sort());
  assert.equal(files.reduce((n, f) => n + f.record_count, 0), 150);
  const local = [];
  for (const f of files) {
    const body = await getS3(s3, f.file_path);
    assert.equal(body.length, f.file_size_in_bytes);
    const p = join(kura.dir, `read-${local.length}.parquet`);
    writeFileSync(p, body);
    local.push(p);
  }
  const list = local.map((p) => `'${p}'`).join(", ");
  const [agg] = await rows(`SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS d,
      min(id) AS lo, max(id) AS hi, count(name)::BIGINT AS named, sum(score) AS total
    FROM read_parquet([${list}])`);
  assert.deepEqual(
    { n: Number(agg.n), d: Number(agg.d), lo: Number(agg.lo), hi: Number(agg.hi),
      named: Number(agg.named), total: agg.total },
    { n: 150, d: 150, lo: 1, hi: 150, named: 135, total: 1.5 * (150 * 151) / 2 });
  const ids = await rows(`SELECT name, field_id FROM parquet_schema('${local[0]}')
    WHERE name <> 'duckdb_schema' ORDER BY field_id`);
  assert.deepEqual(ids.map((r) => [r.name, Number(r.field_id)]), [["id", 1], ["name", 2], ["score", 3]]);
});

test("an append built on a stale base gets 409 CommitFailedException and changes nothing", async () => {
  const id = { namespace: NS, name: "contended" };
  await catalog.createTable({ namespace: NS }, { name: "contended", schema: SCHEMA });
  const base0 = await catalog.loadTable(id);
  const winner = await prepareAppend(base0, 1, 10);
  const loser = await prepareAppend(base0, 11, 10);
  await catalog.updateTable(id, appendRequest(base0, winner.snapshot, -1));
  const before = await catalog.loadTableResult(id);

  await assert.rejects(catalog.updateTable(id, appendRequest(base0, loser.snapshot, -1)), (e) => {
    assert.equal(e.status, 409);
    assert.equal(e.icebergType, "CommitFailedException");
    return true;
  });
  const afterLoad = await catalog.loadTableResult(id);
  assert.equal(afterLoad["metadata-location"], before["metadata-location"]);
  assert.deepEqual(afterLoad.metadata, before.metadata);

  // Without the ref assertion the stale sequence number still refuses it (§8.3).
  const stale = appendRequest(base0, loser.snapshot, -1);
  stale.requirements = stale.requirements.filter((r) => r.type !== "assert-ref-snapshot-id");
  await assert.rejects(catalog.updateTable(id, stale), (e) => e.status === 409);
  assert.deepEqual((await catalog.loadTableResult(id)).metadata, before.metadata);

  // Rebased on the fresh metadata the loser's rows go in.
  const fresh = await catalog.loadTable(id);
  const retry = await prepareAppend(fresh, 11, 10);
  await catalog.updateTable(id, appendRequest(fresh, retry.snapshot, winner.snapshot["snapshot-id"]));
  const md = await catalog.loadTable(id);
  const files = await liveDataFiles(s3, md);
  assert.equal(files.length, 2);
  assert.equal(files.reduce((n, f) => n + f.record_count, 0), 20);
  assert.equal(md.snapshots.find((s) => s["snapshot-id"] === md["current-snapshot-id"])
    .summary["total-records"], "20");
});

test("the table's files are written and read through the S3 API under its warehouse location",
  async () => {
    const id = { namespace: NS, name: "files" };
    await catalog.createTable({ namespace: NS }, { name: "files", schema: SCHEMA });
    const base0 = await catalog.loadTable(id);
    const a = await prepareAppend(base0, 1, 5);
    await catalog.updateTable(id, appendRequest(base0, a.snapshot, -1));
    const base1 = await catalog.loadTable(id);
    const b = await prepareAppend(base1, 6, 5);
    await catalog.updateTable(id, appendRequest(base1, b.snapshot, a.snapshot["snapshot-id"]));
    const md = await catalog.loadTable(id);
    const { Bucket, Key } = splitS3(md.location);
    const r = await catalog.loadTableResult(id);
    // The current metadata file is an object of the warehouse bucket, equal to what the catalog serves.
    const stored = JSON.parse((await getS3(s3, r["metadata-location"])).toString());
    assert.equal(stored["table-uuid"], md["table-uuid"]);
    assert.equal(stored["current-snapshot-id"], md["current-snapshot-id"]);
    assert.ok(Bucket.endsWith("--table-s3") && Key.length > 0);
    // Manifests decode with their field ids and header keys intact.
    const snap = md.snapshots.find((s) => s["snapshot-id"] === md["current-snapshot-id"]);
    const list = await readAvro(await getS3(s3, snap["manifest-list"]));
    assert.equal(list.meta["format-version"], "2");
    assert.ok(list.schema.fields.every((f) => Number.isInteger(f["field-id"])));
    assert.deepEqual(list.records.map((m) => m.sequence_number).sort(), [1, 2]);
  });
