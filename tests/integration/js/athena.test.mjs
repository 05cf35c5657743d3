// @aws-sdk/client-athena against a real kura (issue 8 "Athena API"): CTAS
// into an empty S3 Tables table and INSERT ... SELECT from range() through
// Athena, read back through iceberg-js metadata and DuckDB directly on the
// data files; start -> poll -> paginate the 100,000-row table; the CSV at
// the output location read back through S3; a FAILED query; Stop.
// KURA_SCALE=full makes the table 1,000,000 rows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AthenaClient,
  StartQueryExecutionCommand,
  GetQueryExecutionCommand,
  StopQueryExecutionCommand,
  paginateGetQueryResults,
} from "@aws-sdk/client-athena";
import {
  S3TablesClient,
  CreateTableBucketCommand,
  CreateNamespaceCommand,
  CreateTableCommand,
} from "@aws-sdk/client-s3tables";
import { S3Client, CreateBucketCommand } from "@aws-sdk/client-s3";
import { IcebergRestCatalog } from "iceberg-js";
import { DuckDBInstance } from "@duckdb/node-api";
import { startKura, oauthToken, getS3, liveDataFiles } from "./harness.mjs";

const ROWS = process.env.KURA_SCALE === "full" ? 1000000 : 100000;

let kura, athena, s3, tables, catalog, duck, conn, bucketArn;

before(async () => {
  kura = await startKura({ tmpPrefix: "kura-js-athena-" });
  athena = new AthenaClient(kura.clientConfig);
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  tables = new S3TablesClient(kura.clientConfig);
  ({ arn: bucketArn } = await tables.send(new CreateTableBucketCommand({ name: "athena-js" })));
  await tables.send(new CreateNamespaceCommand({ tableBucketARN: bucketArn, namespace: ["ns"] }));
  // iceberg-js cannot SigV4-sign: a bearer token from kura's token endpoint.
  const { access_token: token } = await oauthToken(kura);
  catalog = new IcebergRestCatalog({ baseUrl: `${kura.endpoint}/iceberg`, warehouse: bucketArn,
    auth: { type: "bearer", token } });
  duck = await DuckDBInstance.create(":memory:");
  conn = await duck.connect();
});

after(async () => {
  conn?.closeSync();
  duck?.closeSync();
  s3?.destroy();
  tables?.destroy();
  athena?.destroy();
  await kura?.stop();
});

async function run(sql, extra = {}) {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: sql, ...extra }));
  const q = await finish(id);
  assert.equal(q.Status.State, "SUCCEEDED", JSON.stringify(q.Status));
  return q;
}

async function finish(id) {
  for (;;) {
    const q = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const s = q.QueryExecution.Status.State;
    if (s !== "QUEUED" && s !== "RUNNING") return q.QueryExecution;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("CTAS and INSERT through Athena, read back with iceberg-js and DuckDB", async () => {
  await tables.send(new CreateTableCommand({ tableBucketARN: bucketArn, namespace: "ns",
    name: "big", format: "ICEBERG" }));
  const T = '"s3tablescatalog/athena-js"."ns"."big"';
  await run(`CREATE TABLE ${T} AS SELECT range AS n, 'k' || range AS k FROM range(0)`);
  const md0 = await catalog.loadTable({ namespace: ["ns"], name: "big" });
  assert.deepEqual(md0.schemas.at(-1).fields.map((f) => [f.id, f.name, f.type]),
    [[1, "n", "long"], [2, "k", "string"]]);
  await run(`INSERT INTO ${T} SELECT range AS n, 'k' || range AS k FROM range(${ROWS})`);

  const md = await catalog.loadTable({ namespace: ["ns"], name: "big" });
  assert.equal(md.snapshots.length, 2);
  const snap = md.snapshots.find((s) => s["snapshot-id"] === md["current-snapshot-id"]);
  assert.equal(snap.summary["total-records"], String(ROWS));
  assert.equal(snap["parent-snapshot-id"], md0["current-snapshot-id"]);
  const files = await liveDataFiles(s3, md);
  assert.equal(files.reduce((n, f) => n + Number(f.record_count), 0), ROWS);
  const local = [];
  for (const f of files) {
    assert.ok(f.file_path.startsWith(`${md.location}/data/`), f.file_path);
    const body = await getS3(s3, f.file_path);
    assert.equal(body.length, Number(f.file_size_in_bytes));
    const p = join(kura.dir, `read-${local.length}.parquet`);
    writeFileSync(p, body);
    local.push(`'${p}'`);
  }
  const rd = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS c, sum(n)::BIGINT AS s,
      count(DISTINCT k)::BIGINT AS d, bool_and(k = 'k' || n) AS ok
    FROM read_parquet([${local.join(", ")}])`);
  const [agg] = rd.getRowObjectsJS();
  assert.deepEqual({ c: Number(agg.c), s: Number(agg.s), d: Number(agg.d), ok: agg.ok },
    { c: ROWS, s: (ROWS * (ROWS - 1)) / 2, d: ROWS, ok: true });
  const ids = (await conn.runAndReadAll(`SELECT name, field_id FROM parquet_schema(${local[0]})
    WHERE name <> 'duckdb_schema' ORDER BY field_id`)).getRowObjectsJS();
  assert.deepEqual(ids.map((r) => [r.name, Number(r.field_id)]), [["n", 1], ["k", 2]]);
});

test("start, poll and paginate the table; the CSV lands at the output location", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "athena-out" }));
  const q = await run('SELECT n, k FROM "s3tablescatalog/athena-js".ns.big ORDER BY n',
    { ResultConfiguration: { OutputLocation: "s3://athena-out/js/" } });
  const id = q.QueryExecutionId;
  assert.equal(q.ResultConfiguration.OutputLocation, `s3://athena-out/js/${id}.csv`);
  let rows = 0, pages = 0, header, sum = 0;
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId: id })) {
    pages++;
    for (const r of page.ResultSet.Rows) {
      if (!header) { header = r.Data.map((d) => d.VarCharValue); continue; }
      assert.equal(r.Data[1].VarCharValue, `k${r.Data[0].VarCharValue}`);
      sum += Number(r.Data[0].VarCharValue);
      rows++;
    }
  }
  assert.deepEqual(header, ["n", "k"]);
  assert.equal(rows, ROWS);
  assert.equal(pages, Math.floor(ROWS / 1000) + 1);
  assert.equal(sum, (ROWS * (ROWS - 1)) / 2);
  const csv = (await getS3(s3, `s3://athena-out/js/${id}.csv`)).toString().split("\n");
  assert.equal(csv[0], '"n","k"');
  assert.equal(csv[1], '"0","k0"');
  assert.equal(csv[ROWS], `"${ROWS - 1}","k${ROWS - 1}"`);
  assert.equal(csv.length, ROWS + 2); // header, rows, and the empty string after the last \n
});

test("a failing query ends FAILED with the error", async () => {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: 'SELECT * FROM "s3tablescatalog/none".ns.t' }),
  );
  const q = await finish(id);
  assert.equal(q.Status.State, "FAILED");
  assert.equal(q.Status.AthenaError.ErrorCategory, 2);
});

test("a statement that does not parse is refused", async () => {
  await assert.rejects(
    athena.send(new StartQueryExecutionCommand({ QueryString: "SELEC 1" })),
    (e) => e.name === "InvalidRequestException",
  );
});

test("Stop cancels a long query", async () => {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: "SELECT count(*) FROM range(1000000000000)" }),
  );
  await new Promise((r) => setTimeout(r, 300));
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  assert.equal((await finish(id)).Status.State, "CANCELLED");
});
