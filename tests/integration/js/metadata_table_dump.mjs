// metadata_table_dump.mjs: print one Iceberg table of kura's managed table
// bucket as JSON, read the way an outside engine reads it -- the python
// S3 Metadata tests (test_metadata_*.py) call this through subprocess,
// because the machine's python has no duckdb module.
//
//   node metadata_table_dump.mjs ENDPOINT TABLE_BUCKET_ARN NAMESPACE TABLE [SQL]
//
// GetTableMetadataLocation (S3 Tables API) names the current metadata file;
// the metadata JSON, manifest list and manifests (Avro, decoded with avsc)
// and the live Parquet data files are downloaded through the S3 API (the
// table bucket's warehouse bucket) into a temp dir, and DuckDB
// (@duckdb/node-api) reads them. SQL (default "SELECT * FROM t") runs over
// the view t of those files. The reading (avsc, S3 GETs) is harness.mjs's,
// the same the node tests use. Output on stdout, one JSON document:
//   {"rows": [...], "files": N, "snapshots": N, "summary": {...},
//    "operations": [...], "metadata_location": "..."}
// ("summary" is the current snapshot's; "operations" those of the snapshots
// the metadata still lists, oldest first).
// Timestamps come out as epoch microseconds, maps as {key: value} objects.
// Credentials: KURA_ACCESS_KEY_ID / KURA_SECRET_ACCESS_KEY.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { S3TablesClient, GetTableMetadataLocationCommand } from "@aws-sdk/client-s3tables";
import { S3Client } from "@aws-sdk/client-s3";
import { REGION, getS3, liveDataFiles } from "./harness.mjs";

const [endpoint, arn, namespace, name, sqlArg] = process.argv.slice(2);
const credentials = {
  accessKeyId: process.env.KURA_ACCESS_KEY_ID,
  secretAccessKey: process.env.KURA_SECRET_ACCESS_KEY,
};
const s3 = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true });
const tables = new S3TablesClient({ endpoint, region: REGION, credentials });

function plain(v) {
  if (typeof v === "bigint") return Number(v);
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v.entries && Array.isArray(v.entries)) {               // DuckDBMapValue
    return Object.fromEntries(v.entries.map((e) => [e.key, plain(e.value)]));
  }
  if (typeof v.micros === "bigint") return Number(v.micros);  // DuckDBTimestampValue
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

const loc = await tables.send(new GetTableMetadataLocationCommand({
  tableBucketARN: arn, namespace, name,
}));
const meta = JSON.parse((await getS3(s3, loc.metadataLocation)).toString());
const cur = (meta.snapshots || []).find((s) => s["snapshot-id"] === meta["current-snapshot-id"]);
const paths = (await liveDataFiles(s3, meta)).map((f) => f.file_path);
const dir = mkdtempSync(join(tmpdir(), "kura-dump-"));
try {
  const locals = [];
  for (const [i, p] of paths.entries()) {
    const f = join(dir, `f${i}.parquet`);
    writeFileSync(f, await getS3(s3, p));
    locals.push(f);
  }
  const duck = await DuckDBInstance.create(":memory:");
  const conn = await duck.connect();
  let rows = [];
  if (locals.length) {
    const list = locals.map((f) => `'${f}'`).join(",");
    await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${list}])`);
    const reader = await conn.runAndReadAll(sqlArg || "SELECT * FROM t");
    rows = reader.getRowObjects().map(plain);
  }
  process.stdout.write(JSON.stringify({
    rows, files: paths.length, snapshots: (meta.snapshots || []).length,
    summary: cur ? cur.summary : {},
    operations: [...(meta.snapshots || [])].sort((x, y) => x["sequence-number"] - y["sequence-number"])
      .map((s) => s.summary.operation),
    metadata_location: loc.metadataLocation,
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
