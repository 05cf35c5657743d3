// @aws-sdk/client-athena against a real kura (issue 8 "Athena API"): start
// -> poll -> paginate a 100,000-row query, a FAILED query, Stop.
// Needs "@aws-sdk/client-athena" in package.json (not yet added).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import {
  AthenaClient,
  StartQueryExecutionCommand,
  GetQueryExecutionCommand,
  StopQueryExecutionCommand,
  paginateGetQueryResults,
} from "@aws-sdk/client-athena";

const ACCESS_KEY = "KURATESTACCESSKEY000";
const SECRET_KEY = "kuraTestSecretKey/0000000000000000000000";
const BIN = process.env.KURA_BIN;
let server, port, dir, athena;

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });

before(async () => {
  assert.ok(BIN, "KURA_BIN must name the kura binary");
  dir = mkdtempSync(join(tmpdir(), "kura-js-athena-"));
  mkdirSync(join(dir, "data"));
  port = await freePort();
  const log = openSync(join(dir, "kura.log"), "a");
  server = spawn(BIN, ["serve", "--data", join(dir, "data"), "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, KURA_ACCESS_KEY_ID: ACCESS_KEY, KURA_SECRET_ACCESS_KEY: SECRET_KEY },
    stdio: ["ignore", log, log],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/kura/health`)).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  athena = new AthenaClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
  });
});

after(() => {
  server?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

async function finish(id) {
  for (;;) {
    const q = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const s = q.QueryExecution.Status.State;
    if (s !== "QUEUED" && s !== "RUNNING") return q.QueryExecution;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("start, poll and paginate 100,000 rows", async () => {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: "SELECT range AS n FROM range(100000)" }),
  );
  assert.equal((await finish(id)).Status.State, "SUCCEEDED");
  let rows = 0, first;
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId: id })) {
    first ??= page.ResultSet.Rows[0].Data[0].VarCharValue;
    rows += page.ResultSet.Rows.length;
  }
  assert.equal(first, "n");
  assert.equal(rows, 100001);
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
