// bench/metadata_freshness.mjs: the client half of bench/metadata_freshness.sh.
//
// Freshness: PUTs at a fixed rate (100/s, then 1,000/s) on a journaled
// bucket while a poller reads the journal table the way an outside engine
// does -- GetTableMetadataLocation; on a new metadata file, the manifests of
// the current snapshot (avsc) name the data files; new ones are downloaded
// and read with DuckDB. A row is visible when the poll that read it ends;
// freshness = visible time - the PUT's acknowledgement time (same clock).
// Cost: BENCH_ROUNDS alternating rounds of BENCH_PUTS PUTs with
// BENCH_CONCURRENCY in flight on a bucket with a configuration and on one
// without; prints the ratio of the median throughputs.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tests", "integration", "js", "package.json"));
const avro = require("avsc");
const { DuckDBInstance } = require("@duckdb/node-api");
const { S3TablesClient, GetTableMetadataLocationCommand } = require("@aws-sdk/client-s3tables");
const { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand,
  CreateBucketMetadataConfigurationCommand } = require("@aws-sdk/client-s3");

const endpoint = process.env.KURA_ENDPOINT;
const credentials = { accessKeyId: process.env.KURA_ACCESS_KEY_ID,
  secretAccessKey: process.env.KURA_SECRET_ACCESS_KEY };
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const PUTS = Number(process.env.BENCH_PUTS || 4000);
const CONC = Number(process.env.BENCH_CONCURRENCY || 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const region = "us-east-1";
const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true, maxAttempts: 1 });
const tables = new S3TablesClient({ endpoint, region, credentials, maxAttempts: 1 });
const account = JSON.parse(readFileSync(join(process.env.KURA_DATA, "credentials"))).account_id;
const arn = `arn:aws:s3tables:${region}:${account}:bucket/aws-s3`;
const duck = await (await DuckDBInstance.create(":memory:")).connect();
const tmp = mkdtempSync(join(tmpdir(), "kura-bench-fresh-"));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;

async function get(uri) {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  const r = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return Buffer.from(await r.Body.transformToByteArray());
}

function readAvro(buf) {
  return new Promise((resolve, reject) => {
    const dec = new avro.streams.BlockDecoder();
    const out = [];
    dec.on("data", (r) => out.push(r)).on("error", reject).on("end", () => resolve(out));
    dec.end(buf);
  });
}

async function configured(bucket) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketMetadataConfigurationCommand({ Bucket: bucket,
    MetadataConfiguration: { JournalTableConfiguration: {
      RecordExpiration: { Expiration: "DISABLED" } } } }));
}

// Polls the journal of `bucket`; calls seen(key, now) for each new row.
async function poll(bucket, stop, seen) {
  const files = new Set();
  let last = "";
  let n = 0;
  while (!stop.done) {
    let loc;
    try {
      loc = (await tables.send(new GetTableMetadataLocationCommand({
        tableBucketARN: arn, namespace: `b_${bucket}`, name: "journal" }))).metadataLocation;
    } catch {
      await sleep(50);
      continue;
    }
    if (loc === last) {
      await sleep(20);
      continue;
    }
    last = loc;
    const meta = JSON.parse((await get(loc)).toString());
    const cur = meta.snapshots.find((s) => s["snapshot-id"] === meta["current-snapshot-id"]);
    if (!cur) continue;
    const fresh = [];
    for (const mf of await readAvro(await get(cur["manifest-list"]))) {
      for (const e of await readAvro(await get(mf.manifest_path))) {
        if (e.status !== 2 && !files.has(e.data_file.file_path)) fresh.push(e.data_file.file_path);
      }
    }
    for (const p of fresh) {
      files.add(p);
      const f = join(tmp, `f${n++}.parquet`);
      writeFileSync(f, await get(p));
      const rows = (await duck.runAndReadAll(`SELECT key FROM read_parquet('${f}')`)).getRows();
      const now = performance.timeOrigin + performance.now();
      for (const [k] of rows) seen(k, now);
    }
  }
}

async function freshness(rate) {
  const bucket = `fresh-${rate}`;
  await configured(bucket);
  const acked = new Map(), visible = new Map(), stop = { done: false };
  const poller = poll(bucket, stop, (k, t) => { if (!visible.has(k)) visible.set(k, t); });
  const total = rate * SECONDS, t0 = performance.now(), inflight = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const key = `k${i}`;
    inflight.push(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x" }))
      .then(() => acked.set(key, performance.timeOrigin + performance.now())));
    if (inflight.length > 256) await Promise.all(inflight.splice(0, 128));
  }
  await Promise.all(inflight);
  const achieved = total / ((performance.now() - t0) / 1000);
  const deadline = performance.now() + 30000;
  while (visible.size < acked.size && performance.now() < deadline) await sleep(100);
  stop.done = true;
  await poller;
  const lat = [...acked].filter(([k]) => visible.has(k))
    .map(([k, t]) => (visible.get(k) - t) / 1000).sort((a, b) => a - b);
  console.log(`  ${rate} PUT/s target (${achieved.toFixed(0)} achieved), ${acked.size} PUTs: ` +
    `visible ${lat.length}/${acked.size}; freshness p50 ${pct(lat, 0.5).toFixed(2)} s, ` +
    `p99 ${pct(lat, 0.99).toFixed(2)} s, max ${lat[lat.length - 1].toFixed(2)} s`);
}

async function throughput(bucket, round) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < PUTS) {
      const i = next++;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `t${round}-${i}`, Body: "x".repeat(100) }));
    }
  }));
  return PUTS / ((performance.now() - t0) / 1000);
}

try {
  console.log("freshness (PUT ack -> row in a DuckDB read of the journal's current snapshot):");
  await freshness(100);
  await freshness(1000);
  for (const b of ["warm", "plain"]) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await configured("journaled");
  await throughput("warm", 0);
  // Alternating rounds, medians: one run of each in a fixed order mostly
  // measured which went first (page cache, store growth, a publisher pass).
  const plain = [], journaled = [];
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(await throughput("plain", r));
    journaled.push(await throughput("journaled", r));
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`PUT throughput (${ROUNDS} alternating rounds of ${PUTS} PUTs of 100 B, ${CONC} in ` +
    `flight; medians): without ${med(plain).toFixed(0)}/s, with a configuration ` +
    `${med(journaled).toFixed(0)}/s, ratio ${(med(journaled) / med(plain)).toFixed(2)} ` +
    `(rounds: ${plain.map((p, i) => (journaled[i] / p).toFixed(2)).join(" ")})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
