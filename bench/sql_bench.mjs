// bench/sql_bench.mjs: driven by bench/sql_bench.sh (KURA_ENDPOINT set).
// Builds a journal-shaped table of BENCH_SQL_ROWS rows with INSERT ... SELECT
// from range() through POST /kura/sql, then times
//   (a) a group-by through POST /kura/sql vs DuckDB (node API, same thread
//       count as kura's user instance) reading the same Parquet files
//       directly (fetched through S3 to local disk first), in
//       BENCH_SQL_RUNS alternating warm blocks; ratio = median duckdb_ms /
//       median kura_ms (goal >= 0.9); kura is driven with node:http on a
//       keep-alive connection, so its time is kura's, not a client
//       library's;
//   (b) first-row latency of a point lookup through POST /kura/sql
//       (format jsonl: time to the first body byte), median and p90.
import { createHash, createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import http from "node:http";

// Modules come from the integration tests' node_modules.
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tests", "integration", "js", "package.json"));
const avro = require("avsc");
const { SignatureV4 } = require("@smithy/signature-v4");
const { S3TablesClient, CreateTableBucketCommand, CreateNamespaceCommand, CreateTableCommand } =
  require("@aws-sdk/client-s3tables");
const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");
const { DuckDBInstance } = require("@duckdb/node-api");

const ENDPOINT = process.env.KURA_ENDPOINT;
const ROWS = Number(process.env.BENCH_SQL_ROWS || 1000000);
const RUNS = Number(process.env.BENCH_SQL_RUNS || 5);
const THREADS = Number(process.env.BENCH_SQL_THREADS || 2); // kura's user instance default
const credentials = { accessKeyId: process.env.KURA_ACCESS_KEY_ID,
  secretAccessKey: process.env.KURA_SECRET_ACCESS_KEY };

class Sha256 {
  constructor(secret) { this.h = secret ? createHmac("sha256", secret) : createHash("sha256"); }
  update(d) { this.h.update(d); }
  async digest() { return new Uint8Array(this.h.digest()); }
}
const signer = new SignatureV4({ credentials, region: "us-east-1", service: "s3", sha256: Sha256 });

// node:http on a keep-alive connection: the leanest client node has, so
// the times are kura's rather than a client library's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// POSTs the statement; resolves at the first body byte with
// { status, first (ms), done: Promise<{ body, total (ms) }> }.
async function sqlRequest(sql, format = "json") {
  const url = new URL("/kura/sql", ENDPOINT);
  const body = JSON.stringify({ sql, format });
  const req = await signer.sign({ method: "POST", protocol: "http:", hostname: url.hostname,
    port: Number(url.port), path: url.pathname, query: {},
    headers: { host: url.host, "content-type": "application/json" }, body });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request({ host: url.hostname, port: url.port, path: url.pathname,
      method: "POST", headers: req.headers, agent }, (res) => {
      const parts = [];
      let done;
      const ended = new Promise((ok) => { done = ok; });
      res.once("data", () => resolve({ status: res.statusCode, first: performance.now() - t0,
        done: ended }));
      res.on("data", (d) => parts.push(d));
      res.on("end", () => done({ body: Buffer.concat(parts).toString(),
        total: performance.now() - t0 }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body);
  });
}

async function sql(q) {
  const r = await sqlRequest(q);
  const { body } = await r.done;
  const j = JSON.parse(body);
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(j)} for ${q}`);
  return j;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const p90 = (a) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * 0.9))];

const tables = new S3TablesClient({ endpoint: ENDPOINT, region: "us-east-1", credentials });
const s3 = new S3Client({ endpoint: ENDPOINT, region: "us-east-1", forcePathStyle: true, credentials });
const { arn } = await tables.send(new CreateTableBucketCommand({ name: "bench-sql" }));
await tables.send(new CreateNamespaceCommand({ tableBucketARN: arn, namespace: ["ns"] }));
await tables.send(new CreateTableCommand({ tableBucketARN: arn, namespace: "ns", name: "journal",
  format: "ICEBERG" }));
const T = '"s3tablescatalog/bench-sql"."ns"."journal"';

let t0 = performance.now();
await sql(`INSERT INTO ${T} SELECT 'photos' AS bucket, 'k/' || range AS key,
    lpad(printf('%x', range), 16, '0') AS sequence_number,
    CASE WHEN range % 10 = 0 THEN 'DELETE' WHEN range % 10 = 1 THEN 'UPDATE_METADATA'
         ELSE 'CREATE' END AS record_type,
    TIMESTAMP '2025-06-01 00:00:00' + to_microseconds(range * 1000) AS record_timestamp,
    'v' || range AS version_id, (range * 7919) % 1048576 AS size,
    CASE range % 4 WHEN 0 THEN 'STANDARD' WHEN 1 THEN 'STANDARD_IA' WHEN 2 THEN 'GLACIER'
         ELSE 'INTELLIGENT_TIERING' END AS storage_class,
    'acct' || (range % 16) AS requester, '10.0.' || (range % 256) || '.1' AS source_ip_address
  FROM range(${ROWS})`);
console.log(`load: ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (INSERT through /kura/sql)`);

// The same Parquet files: the current snapshot's data files, listed from
// the metadata the Iceberg REST catalog returns and fetched through S3.
const md = JSON.parse(await (async () => {
  const r = await fetch(new URL(`/iceberg/v1/oauth/tokens`, ENDPOINT), { method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials",
      client_id: credentials.accessKeyId, client_secret: credentials.secretAccessKey }) });
  const { access_token: tok } = await r.json();
  const prefix = encodeURIComponent(arn);
  const t = await fetch(new URL(`/iceberg/v1/${prefix}/namespaces/ns/tables/journal`, ENDPOINT),
    { headers: { Authorization: `Bearer ${tok}` } });
  return JSON.stringify((await t.json()).metadata);
})());
const readAvro = (buf) => new Promise((resolve, reject) => {
  const dec = new avro.streams.BlockDecoder(); const out = [];
  dec.on("data", (x) => out.push(x)); dec.on("error", reject); dec.on("end", () => resolve(out));
  dec.end(buf);
});
const get = async (uri) => {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  const r = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return Buffer.from(await r.Body.transformToByteArray());
};
const snap = md.snapshots.find((s) => s["snapshot-id"] === md["current-snapshot-id"]);
const dir = mkdtempSync(join(process.env.BENCH_TMP || tmpdir(), "kura-sql-bench-"));
const files = [];
for (const mf of await readAvro(await get(snap["manifest-list"])))
  for (const e of await readAvro(await get(mf.manifest_path)))
    if (e.status !== 2) {
      const p = join(dir, `f${files.length}.parquet`);
      writeFileSync(p, await get(e.data_file.file_path));
      files.push(`'${p}'`);
    }

const GROUP = (from) => `SELECT storage_class, record_type, count(*) AS n, sum(size) AS bytes,
    max(record_timestamp) AS last FROM ${from} GROUP BY 1, 2 ORDER BY 1, 2`;

const duck = await DuckDBInstance.create(":memory:", { threads: String(THREADS) });
const conn = await duck.connect();
const direct = `read_parquet([${files.join(", ")}])`;
const kuraMs = [], duckMs = [];
let kuraRes, duckRes;
// Alternating blocks: BENCH_SQL_RUNS rounds, each running kura BLOCK times
// and then DuckDB BLOCK times, back to back on a warm machine (the first
// run of every block warms that side's caches and threads and is dropped),
// with a pause between blocks so neither side's worker threads are still
// busy when the other starts.
const BLOCK = 6;
const block = async (run) => {
  const ms = [];
  await sleep(100);
  for (let i = 0; i < BLOCK; i++) {
    t0 = performance.now();
    await run();
    if (i > 0) ms.push(performance.now() - t0);
  }
  return ms;
};
for (let i = 0; i < RUNS; i++) {
  kuraMs.push(...await block(async () => { kuraRes = await sql(GROUP(T)); }));
  duckMs.push(...await block(async () => {
    duckRes = (await conn.runAndReadAll(GROUP(direct))).getRowObjectsJS();
  }));
}
if (kuraRes.rows.length !== duckRes.length) throw new Error("kura and DuckDB disagree");
const km = median(kuraMs), dm = median(duckMs);
console.log(`group-by over ${ROWS} rows (${files.length} file(s), ${THREADS} threads): ` +
  `kura ${km.toFixed(1)} ms, DuckDB direct ${dm.toFixed(1)} ms, ratio ${(dm / km).toFixed(2)} (goal >= 0.9)`);

// Fixed cost of one /kura/sql round trip (HTTP, SigV4, JSON, no table):
// the part of kura's time a bigger table amortizes.
const base = [];
for (let i = 0; i < RUNS + 1; i++) {
  t0 = performance.now();
  await sql("SELECT 1 AS x");
  if (i > 0) base.push(performance.now() - t0);
}
console.log(`round trip of SELECT 1 through /kura/sql: p50 ${median(base).toFixed(1)} ms; ` +
  `group-by ratio without it ${(dm / Math.max(0.1, km - median(base))).toFixed(2)}`);

const first = [], total = [];
for (let i = 0; i < RUNS * 4 + 1; i++) {
  const key = `k/${Math.floor((i * 7919) % ROWS)}`;
  t0 = performance.now();
  const r = await sqlRequest(`SELECT * FROM ${T} WHERE key = '${key}'`, "jsonl");
  const { body, total: t } = await r.done;
  if (r.status !== 200 || !body.includes(key)) throw new Error(`point lookup failed: ${r.status}`);
  if (i > 0) { first.push(r.first); total.push(t); }
}
console.log(`point lookup first-row latency: p50 ${median(first).toFixed(1)} ms, ` +
  `p90 ${p90(first).toFixed(1)} ms (complete: p50 ${median(total).toFixed(1)} ms)`);
conn.closeSync();
duck.closeSync();
rmSync(dir, { recursive: true, force: true });
