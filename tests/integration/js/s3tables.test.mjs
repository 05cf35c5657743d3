// @aws-sdk/client-s3tables (v3) against a real kura: a representative subset
// of the S3 Tables control plane (issue 6; s3tables-api.md §3). The boto3
// suite (tests/integration/test_tables_api.py) covers every operation; this
// one proves the JS SDK's bindings (ARN as one encoded path label, JSON
// errors read from x-amzn-errortype) agree with kura.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  S3TablesClient,
  CreateTableBucketCommand,
  GetTableBucketCommand,
  ListTableBucketsCommand,
  DeleteTableBucketCommand,
  CreateNamespaceCommand,
  DeleteNamespaceCommand,
  CreateTableCommand,
  GetTableCommand,
  ListTablesCommand,
  DeleteTableCommand,
  RenameTableCommand,
  GetTableMetadataLocationCommand,
  UpdateTableMetadataLocationCommand,
  PutTableBucketPolicyCommand,
  GetTableBucketPolicyCommand,
  GetTableMaintenanceJobStatusCommand,
  TagResourceCommand,
  ListTagsForResourceCommand,
  PutTableRecordExpirationConfigurationCommand,
} from "@aws-sdk/client-s3tables";
import { startKura } from "./harness.mjs";

let kura, client;

async function rejects(promise, name, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name);
    assert.equal(e.$metadata.httpStatusCode, status);
    return true;
  });
}

const uniq = (p) => `${p}${randomUUID().slice(0, 8)}`;

before(async () => {
  kura = await startKura();
  client = new S3TablesClient(kura.clientConfig);
});

after(async () => {
  client?.destroy();
  await kura?.stop();
});

test("table bucket create, get, list, conflict, bad name, delete", async () => {
  const name = uniq("js-");
  const { arn } = await client.send(new CreateTableBucketCommand({ name }));
  assert.match(arn, /^arn:aws:s3tables:us-east-1:\d{12}:bucket\//);
  const got = await client.send(new GetTableBucketCommand({ tableBucketARN: arn }));
  assert.equal(got.name, name);
  assert.ok(got.createdAt instanceof Date);
  const list = await client.send(new ListTableBucketsCommand({ prefix: name }));
  assert.deepEqual(list.tableBuckets.map((b) => b.arn), [arn]);
  await rejects(client.send(new CreateTableBucketCommand({ name })), "ConflictException", 409);
  await rejects(client.send(new CreateTableBucketCommand({ name: "aws-nope" })),
    "BadRequestException", 400);
  await client.send(new DeleteTableBucketCommand({ tableBucketARN: arn }));
  await rejects(client.send(new GetTableBucketCommand({ tableBucketARN: arn })),
    "NotFoundException", 404);
});

test("namespaces and tables with metadata, rename, version-token CAS", async () => {
  const { arn } = await client.send(new CreateTableBucketCommand({ name: uniq("js-") }));
  await client.send(new CreateNamespaceCommand({ tableBucketARN: arn, namespace: ["sales"] }));
  const created = await client.send(new CreateTableCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders", format: "ICEBERG",
    metadata: { iceberg: { schema: { fields: [
      { name: "id", type: "long", required: true }, { name: "amount", type: "double" }] } } },
  }));
  const t = await client.send(new GetTableCommand({ tableArn: created.tableARN }));
  assert.equal(t.name, "orders");
  assert.deepEqual(t.namespace, ["sales"]);
  assert.match(t.metadataLocation, /\/metadata\/00000-.*\.metadata\.json$/);
  await rejects(client.send(new DeleteNamespaceCommand({ tableBucketARN: arn, namespace: "sales" })),
    "ConflictException", 409);

  const loc = await client.send(new GetTableMetadataLocationCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders" }));
  const next = `${loc.warehouseLocation}/metadata/00001-${randomUUID()}.metadata.json`;
  await rejects(client.send(new UpdateTableMetadataLocationCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders", versionToken: "stale",
    metadataLocation: next })), "ConflictException", 409);
  const upd = await client.send(new UpdateTableMetadataLocationCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders", versionToken: loc.versionToken,
    metadataLocation: next }));
  assert.equal(upd.metadataLocation, next);
  assert.notEqual(upd.versionToken, loc.versionToken);

  await client.send(new RenameTableCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders", newName: "orders2" }));
  const tables = await client.send(new ListTablesCommand({ tableBucketARN: arn }));
  assert.deepEqual(tables.tables.map((x) => x.name), ["orders2"]);
  await rejects(client.send(new DeleteTableCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders2", versionToken: loc.versionToken })),
  "ConflictException", 409);
  await client.send(new DeleteTableCommand({
    tableBucketARN: arn, namespace: "sales", name: "orders2", versionToken: upd.versionToken }));
  await client.send(new DeleteNamespaceCommand({ tableBucketARN: arn, namespace: "sales" }));
  await client.send(new DeleteTableBucketCommand({ tableBucketARN: arn }));
});

test("policy, tags, maintenance job status, record expiration refusal", async () => {
  const { arn } = await client.send(new CreateTableBucketCommand({ name: uniq("js-") }));
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [] });
  await client.send(new PutTableBucketPolicyCommand({ tableBucketARN: arn, resourcePolicy: policy }));
  const p = await client.send(new GetTableBucketPolicyCommand({ tableBucketARN: arn }));
  assert.equal(p.resourcePolicy, policy);
  await client.send(new CreateNamespaceCommand({ tableBucketARN: arn, namespace: ["n"] }));
  const t = await client.send(new CreateTableCommand({
    tableBucketARN: arn, namespace: "n", name: "t", format: "ICEBERG" }));
  await client.send(new TagResourceCommand({ resourceArn: t.tableARN, tags: { k: "v" } }));
  const tags = await client.send(new ListTagsForResourceCommand({ resourceArn: t.tableARN }));
  assert.deepEqual(tags.tags, { k: "v" });
  const st = await client.send(new GetTableMaintenanceJobStatusCommand({
    tableBucketARN: arn, namespace: "n", name: "t" }));
  assert.equal(st.status.icebergCompaction.status, "Not_Yet_Run");
  await rejects(client.send(new PutTableRecordExpirationConfigurationCommand({
    tableArn: t.tableARN, value: { status: "enabled", settings: { days: 7 } } })),
  "MethodNotAllowedException", 405);
});
