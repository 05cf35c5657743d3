// iceberg-js against kura's Iceberg REST catalog (/iceberg/v1; issue 6,
// iceberg.md §8). iceberg-js cannot SigV4-sign (NOTES-ON-ISSUES 11), so the
// test fetches a bearer token from kura's OAuth2 client-credentials endpoint
// (an extension, NOTES 10) and passes {purge: true} on drop (S3 Tables drops
// only with purge).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { IcebergRestCatalog } from "iceberg-js";
import { S3TablesClient, CreateTableBucketCommand } from "@aws-sdk/client-s3tables";

const ACCESS_KEY = "KURATESTACCESSKEY000";
const SECRET_KEY = "kuraTestSecretKey/0000000000000000000000";
const BIN = process.env.KURA_BIN;

let server, port, dir, catalog, bucketArn, token;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
}

async function waitHealthy(timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`kura exited with ${server.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/kura/health`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("kura did not become healthy");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SCHEMA = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "name", type: "string", required: false },
  ],
};

before(async () => {
  assert.ok(BIN, "KURA_BIN must name the kura binary");
  dir = mkdtempSync(join(tmpdir(), "kura-js-"));
  mkdirSync(join(dir, "data"));
  port = await freePort();
  const log = openSync(join(dir, "kura.log"), "a");
  server = spawn(BIN, ["serve", "--data", join(dir, "data"), "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, KURA_ACCESS_KEY_ID: ACCESS_KEY, KURA_SECRET_ACCESS_KEY: SECRET_KEY },
    stdio: ["ignore", log, log],
  });
  await waitHealthy();
  const tables = new S3TablesClient({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", maxAttempts: 1,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  ({ arn: bucketArn } = await tables.send(new CreateTableBucketCommand({ name: "ice-js" })));
  tables.destroy();
  const res = await fetch(`http://127.0.0.1:${port}/iceberg/v1/oauth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: ACCESS_KEY,
      client_secret: SECRET_KEY }),
  });
  assert.equal(res.status, 200);
  const tok = await res.json();
  assert.equal(tok.token_type, "bearer");
  assert.ok(tok.expires_in > 0);
  token = tok.access_token;
  catalog = new IcebergRestCatalog({
    baseUrl: `http://127.0.0.1:${port}/iceberg`,
    warehouse: bucketArn,
    auth: { type: "bearer", token },
  });
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", (code, sig) => r({ code, sig })));
    server.kill("SIGTERM");
    const { code, sig } = await exited;
    assert.equal(code, 0, `kura exited with code ${code} signal ${sig} after SIGTERM`);
  }
  if (process.env.KURA_KEEP_TMP !== "1") rmSync(dir, { recursive: true, force: true });
});

test("namespace and table with a schema: create, load, list", async () => {
  await catalog.createNamespace({ namespace: ["analytics"] });
  assert.deepEqual((await catalog.listNamespaces()).namespaces, [{ namespace: ["analytics"] }]);
  const md = await catalog.createTable({ namespace: ["analytics"] }, { name: "events", schema: SCHEMA });
  assert.equal(md["format-version"], 2);
  const loaded = await catalog.loadTable({ namespace: ["analytics"], name: "events" });
  assert.equal(loaded["table-uuid"], md["table-uuid"]);
  assert.deepEqual(loaded.schemas[0].fields.map((f) => f.name), ["id", "name"]);
  const list = await catalog.listTables({ namespace: ["analytics"] });
  assert.deepEqual(list.identifiers ?? list, [{ namespace: ["analytics"], name: "events" }]);
});

test("schema update commits; a conflicting commit gets 409 and changes nothing", async () => {
  const id = { namespace: ["analytics"], name: "evolve" };
  const md = await catalog.createTable({ namespace: ["analytics"] }, { name: "evolve", schema: SCHEMA });
  const next = { ...SCHEMA, "schema-id": 1,
    fields: [...SCHEMA.fields, { id: 3, name: "score", type: "double", required: false }] };
  const change = {
    requirements: [
      { type: "assert-table-uuid", uuid: md["table-uuid"] },
      { type: "assert-current-schema-id", "current-schema-id": 0 },
    ],
    updates: [
      { action: "add-schema", schema: next },
      { action: "set-current-schema", "schema-id": -1 },
    ],
  };
  const res = await catalog.updateTable(id, change);
  assert.equal(res.metadata["current-schema-id"], 1);
  const before = await catalog.loadTable(id);

  // A second writer working from the old base: its requirement fails.
  await assert.rejects(catalog.updateTable(id, {
    requirements: change.requirements,
    updates: [{ action: "set-properties", updates: { "owner": "second-writer" } }],
  }), (e) => {
    assert.equal(e.status, 409);
    assert.equal(e.icebergType, "CommitFailedException");
    return true;
  });
  const after = await catalog.loadTable(id);
  assert.deepEqual(after, before);
  assert.equal(after.properties?.owner, undefined);
});

test("drop needs purge; with purge the table is gone", async () => {
  const id = { namespace: ["analytics"], name: "temp" };
  await catalog.createTable({ namespace: ["analytics"] }, { name: "temp", schema: SCHEMA });
  await assert.rejects(catalog.dropTable(id), (e) => e.status === 400);
  assert.equal(await catalog.tableExists(id), true);
  await catalog.dropTable(id, { purge: true });
  assert.equal(await catalog.tableExists(id), false);
});

test("requests without a token are refused with NotAuthorizedException", async () => {
  const anon = new IcebergRestCatalog({ baseUrl: `http://127.0.0.1:${port}/iceberg`,
    warehouse: bucketArn });
  await assert.rejects(anon.listNamespaces(), (e) => e.status === 401);
});
