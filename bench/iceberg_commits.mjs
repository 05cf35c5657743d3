// bench/iceberg_commits.mjs: the client half of bench/iceberg_commits.sh.
// Appends N snapshots of R rows each to one table through kura's Iceberg
// REST catalog, as an external engine would: DuckDB writes the Parquet file
// (timed alone: the reference), the S3 API uploads it, avsc writes the
// manifest and the manifest list, and one POST commits add-snapshot +
// set-snapshot-ref (timed: the commit latency). Prints p50/p99 of both and
// their ratio. Usage (the script sets these):
//   KURA_ENDPOINT=http://127.0.0.1:PORT KURA_ACCESS_KEY_ID=... KURA_SECRET_ACCESS_KEY=...
//   BENCH_COMMITS=1000 BENCH_ROWS=1000 node bench/iceberg_commits.mjs
// Modules come from tests/integration/js (npm ci there first).
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID, randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tests", "integration", "js", "package.json"));
const avro = require("avsc");
const { DuckDBInstance } = require("@duckdb/node-api");
const { S3TablesClient, CreateTableBucketCommand } = require("@aws-sdk/client-s3tables");
const { S3Client, PutObjectCommand } = require("@aws-sdk/client-s3");

const endpoint = process.env.KURA_ENDPOINT;
const credentials = { accessKeyId: process.env.KURA_ACCESS_KEY_ID,
  secretAccessKey: process.env.KURA_SECRET_ACCESS_KEY };
const N = Number(process.env.BENCH_COMMITS || 1000);
const ROWS = Number(process.env.BENCH_ROWS || 1000);

const opt = (name, type, id) => ({ name, type: ["null", type], default: null, "field-id": id });
const MANIFEST_ENTRY = { type: "record", name: "manifest_entry", fields: [
  { name: "status", type: "int", "field-id": 0 },
  opt("snapshot_id", "long", 1), opt("sequence_number", "long", 3),
  opt("file_sequence_number", "long", 4),
  { name: "data_file", "field-id": 2, type: { type: "record", name: "r2", fields: [
    { name: "content", type: "int", "field-id": 134 },
    { name: "file_path", type: "string", "field-id": 100 },
    { name: "file_format", type: "string", "field-id": 101 },
    { name: "partition", type: { type: "record", name: "r102", fields: [] }, "field-id": 102 },
    { name: "record_count", type: "long", "field-id": 103 },
    { name: "file_size_in_bytes", type: "long", "field-id": 104 },
    opt("key_metadata", "bytes", 131), opt("sort_order_id", "int", 140)] } }] };
const MANIFEST_FILE = { type: "record", name: "manifest_file", fields: [
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
    fields: [{ name: "contains_null", type: "boolean", "field-id": 509 },
      opt("contains_nan", "boolean", 518), opt("lower_bound", "bytes", 510),
      opt("upper_bound", "bytes", 511)] } }, 507),
  opt("key_metadata", "bytes", 519)] };
const entryType = avro.Type.forSchema(MANIFEST_ENTRY);
const fileType = avro.Type.forSchema(MANIFEST_FILE);

function avroFile(schema, type, records, meta) {
  return new Promise((resolve, reject) => {
    const metadata = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, Buffer.from(String(v))]));
    const enc = new avro.streams.BlockEncoder(schema, { codec: "null", metadata });
    const chunks = [];
    enc.on("data", (c) => chunks.push(c)).on("error", reject)
      .on("end", () => resolve(Buffer.concat(chunks)));
    for (const r of records) enc.write(r);
    enc.end();
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(2)} ms`;

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), "kura-bench-ice-"));
  const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials });
  const tables = new S3TablesClient({ endpoint, region: "us-east-1", credentials });
  const { arn } = await tables.send(new CreateTableBucketCommand({ name: `bench-${Date.now()}` }));
  const tok = await (await fetch(`${endpoint}/iceberg/v1/oauth/tokens`, { method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials",
      client_id: credentials.accessKeyId, client_secret: credentials.secretAccessKey }) })).json();
  const auth = { Authorization: `Bearer ${tok.access_token}`, "Content-Type": "application/json" };
  const call = async (method, path, doc) => {
    const r = await fetch(`${endpoint}/iceberg/v1${path}`, { method, headers: auth,
      body: doc ? JSON.stringify(doc) : undefined });
    const body = await r.json().catch(() => null);
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  };
  const { overrides } = await call("GET", `/config?warehouse=${encodeURIComponent(arn)}`);
  const base = `/${overrides.prefix}`;
  await call("POST", `${base}/namespaces`, { namespace: ["bench"] });
  const schema = { type: "struct", "schema-id": 0, fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "payload", type: "string", required: false },
    { id: 3, name: "amount", type: "double", required: false }] };
  const created = await call("POST", `${base}/namespaces/bench/tables`, { name: "appends", schema });
  const table = `${base}/namespaces/bench/tables/appends`;
  const md0 = created.metadata;
  const loc = md0.location;
  const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.+)$/.exec(loc);
  const put = (path, Body) => s3.send(new PutObjectCommand({ Bucket: bucket,
    Key: `${prefix}/${path}`, Body }));

  const duck = await DuckDBInstance.create(":memory:");
  const conn = await duck.connect();
  const writeMs = [], commitMs = [];
  const manifests = [];
  let parent = null, totalRecords = 0, totalSize = 0, lastLocation = null;
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const local = join(tmp, `part-${i}.parquet`);
    let t0 = performance.now();
    await conn.run(`COPY (SELECT (${i} * ${ROWS} + r)::BIGINT AS id, md5(r::VARCHAR) AS payload,
        (r * 0.25)::DOUBLE AS amount FROM range(${ROWS}) t(r))
      TO '${local}' (FORMAT parquet, FIELD_IDS {id: 1, payload: 2, amount: 3})`);
    writeMs.push(performance.now() - t0);
    const data = readFileSync(local);
    rmSync(local);
    const sid = randomInt(1, 2 ** 47) * 64 + (i % 64);
    const seq = i + 1;
    const dataPath = `data/${i}-${randomUUID()}.parquet`;
    await put(dataPath, data);
    const manifest = await avroFile(MANIFEST_ENTRY, entryType, [{ status: 1, snapshot_id: sid,
      sequence_number: null, file_sequence_number: null, data_file: { content: 0,
        file_path: `${loc}/${dataPath}`, file_format: "PARQUET", partition: {},
        record_count: ROWS, file_size_in_bytes: data.length, key_metadata: null,
        sort_order_id: 0 } }], {
      schema: JSON.stringify(md0.schemas[0]), "schema-id": 0, "partition-spec": "[]",
      "partition-spec-id": 0, "format-version": 2, content: "data" });
    const manifestPath = `metadata/${randomUUID()}-m0.avro`;
    await put(manifestPath, manifest);
    manifests.unshift({ manifest_path: `${loc}/${manifestPath}`, manifest_length: manifest.length,
      partition_spec_id: 0, content: 0, sequence_number: seq, min_sequence_number: seq,
      added_snapshot_id: sid, added_files_count: 1, existing_files_count: 0,
      deleted_files_count: 0, added_rows_count: ROWS, existing_rows_count: 0,
      deleted_rows_count: 0, partitions: [], key_metadata: null });
    const list = await avroFile(MANIFEST_FILE, fileType, manifests, { "snapshot-id": sid,
      "parent-snapshot-id": parent ?? "null", "sequence-number": seq, "format-version": 2 });
    const listPath = `metadata/snap-${sid}-1-${randomUUID()}.avro`;
    await put(listPath, list);
    totalRecords += ROWS;
    totalSize += data.length;
    const snapshot = { "snapshot-id": sid, "sequence-number": seq, "timestamp-ms": Date.now(),
      "manifest-list": `${loc}/${listPath}`, "schema-id": 0, summary: { operation: "append",
        "added-data-files": "1", "added-records": String(ROWS),
        "added-files-size": String(data.length), "total-data-files": String(i + 1),
        "total-records": String(totalRecords), "total-files-size": String(totalSize),
        "total-delete-files": "0", "total-position-deletes": "0", "total-equality-deletes": "0" } };
    if (parent !== null) snapshot["parent-snapshot-id"] = parent;
    const req = { requirements: [{ type: "assert-table-uuid", uuid: md0["table-uuid"] },
      { type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": parent }],
    updates: [{ action: "add-snapshot", snapshot },
      { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": sid }] };
    t0 = performance.now();
    const res = await call("POST", table, req);
    commitMs.push(performance.now() - t0);
    lastLocation = res["metadata-location"];
    parent = sid;
    if ((i + 1) % 100 === 0)
      process.stderr.write(`  ${i + 1}/${N} commits, last ${ms(commitMs[i])}\n`);
  }
  const wall = (performance.now() - started) / 1000;
  const final = await call("GET", table);
  if (final.metadata["current-snapshot-id"] !== parent || final.metadata.snapshots.length !== N)
    throw new Error("the table does not hold every snapshot");
  const p50c = pct(commitMs, 50), p99c = pct(commitMs, 99);
  const p50w = pct(writeMs, 50), p99w = pct(writeMs, 99);
  const first = commitMs.slice(0, Math.min(100, N)), last = commitMs.slice(-Math.min(100, N));
  console.log(`iceberg appends: ${N} snapshots x ${ROWS} rows in ${wall.toFixed(1)} s`);
  console.log(`  commit (POST .../tables/appends)   p50 ${ms(p50c)}   p99 ${ms(p99c)}   max ${ms(Math.max(...commitMs))}`);
  console.log(`  DuckDB Parquet write alone           p50 ${ms(p50w)}   p99 ${ms(p99w)}`);
  console.log(`  commit/DuckDB ratio                  p50 ${(p50c / p50w).toFixed(2)}x   p99 ${(p99c / p99w).toFixed(2)}x`);
  console.log(`  commit p50, first 100 vs last 100:   ${ms(pct(first, 50))} -> ${ms(pct(last, 50))}`);
  const slow = commitMs.map((x, i) => [i + 1, x]).filter(([, x]) => x > 100);
  console.log(`  commits over 100 ms: ${slow.length}${slow.length ? ` (#commit:ms ${slow.slice(0, 10)
    .map(([i, x]) => `${i}:${x.toFixed(0)}`).join(" ")})` : ""}`);
  console.log(`  final metadata: ${final.metadata.snapshots.length} snapshots, ${lastLocation}`);
  conn.closeSync();
  duck.closeSync();
  s3.destroy();
  tables.destroy();
  rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
