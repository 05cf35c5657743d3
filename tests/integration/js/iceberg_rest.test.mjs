// iceberg-js against kura's Iceberg REST catalog (/iceberg/v1; issue 6,
// iceberg.md §8). iceberg-js cannot SigV4-sign (NOTES-ON-ISSUES 11), so the
// test fetches a bearer token from kura's OAuth2 client-credentials endpoint
// (an extension, NOTES 10) and passes {purge: true} on drop (S3 Tables drops
// only with purge).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { IcebergRestCatalog } from "iceberg-js";
import { S3TablesClient, CreateTableBucketCommand } from "@aws-sdk/client-s3tables";
import { startKura, oauthToken } from "./harness.mjs";

let kura, catalog, bucketArn;

const SCHEMA = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "name", type: "string", required: false },
  ],
};

before(async () => {
  kura = await startKura();
  const tables = new S3TablesClient(kura.clientConfig);
  ({ arn: bucketArn } = await tables.send(new CreateTableBucketCommand({ name: "ice-js" })));
  tables.destroy();
  const tok = await oauthToken(kura);
  assert.equal(tok.token_type, "bearer");
  assert.ok(tok.expires_in > 0);
  catalog = new IcebergRestCatalog({
    baseUrl: `${kura.endpoint}/iceberg`,
    warehouse: bucketArn,
    auth: { type: "bearer", token: tok.access_token },
  });
});

after(async () => {
  await kura?.stop();
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
  const anon = new IcebergRestCatalog({ baseUrl: `${kura.endpoint}/iceberg`,
    warehouse: bucketArn });
  await assert.rejects(anon.listNamespaces(), (e) => e.status === 401);
});
