// S3 Metadata configured through @aws-sdk/client-s3 (issue 7): the V2
// configuration calls (Create / Get / UpdateBucketMetadataJournalTable /
// UpdateBucketMetadataInventoryTable / Delete) as the JS SDK models them,
// and a small journal + inventory check read back with DuckDB through
// metadata_table_dump.mjs (S3 Tables API -> Avro manifests -> Parquet).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  CreateBucketMetadataConfigurationCommand,
  GetBucketMetadataConfigurationCommand,
  UpdateBucketMetadataJournalTableConfigurationCommand,
  UpdateBucketMetadataInventoryTableConfigurationCommand,
  DeleteBucketMetadataConfigurationCommand,
} from "@aws-sdk/client-s3";
import { startKura, adminPost, REGION } from "./harness.mjs";

const BUCKET = "meta-js";
const HERE = dirname(fileURLToPath(import.meta.url));

let kura, s3;

function dump(table) {
  const account = JSON.parse(readFileSync(join(kura.dir, "data", "credentials"))).account_id;
  const out = execFileSync("node", [join(HERE, "metadata_table_dump.mjs"), kura.endpoint,
    `arn:aws:s3tables:${REGION}:${account}:bucket/aws-s3`, `b_${BUCKET}`, table], {
    env: { ...process.env, KURA_ACCESS_KEY_ID: kura.credentials.accessKeyId,
      KURA_SECRET_ACCESS_KEY: kura.credentials.secretAccessKey },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return JSON.parse(out.toString());
}

async function getConf() {
  const r = await s3.send(new GetBucketMetadataConfigurationCommand({ Bucket: BUCKET }));
  return r.GetBucketMetadataConfigurationResult.MetadataConfigurationResult;
}

before(async () => {
  kura = await startKura();
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
});

after(async () => {
  s3?.destroy();
  await kura?.stop();
});

test("V2 configuration through the JS SDK, a journal and an inventory read by DuckDB", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "before", Body: "existing" }));
  await s3.send(new CreateBucketMetadataConfigurationCommand({
    Bucket: BUCKET,
    MetadataConfiguration: {
      JournalTableConfiguration: { RecordExpiration: { Expiration: "DISABLED" } },
      InventoryTableConfiguration: { ConfigurationState: "ENABLED" },
    },
  }));
  const put = await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: "a.txt", Body: "hello", Metadata: { color: "blue" }, Tagging: "t=1",
  }));
  const del = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "before" }));
  await adminPost(kura, "/kura/admin/metadata/publish");

  const conf = await getConf();
  assert.equal(conf.DestinationResult.TableBucketType, "aws");
  assert.equal(conf.DestinationResult.TableNamespace, `b_${BUCKET}`);
  assert.equal(conf.JournalTableConfigurationResult.TableStatus, "ACTIVE");
  assert.equal(conf.JournalTableConfigurationResult.TableName, "journal");
  assert.equal(conf.InventoryTableConfigurationResult.ConfigurationState, "ENABLED");
  assert.equal(conf.InventoryTableConfigurationResult.TableStatus, "ACTIVE");

  const journal = dump("journal").rows.sort((a, b) => a.sequence_number < b.sequence_number ? -1 : 1);
  assert.deepEqual(journal.map((r) => [r.record_type, r.key, r.request_id]), [
    ["CREATE", "a.txt", put.$metadata.requestId],
    // A permanent delete carries only the required columns and the version
    // (NOTES-ON-ISSUES 15): no request id.
    ["DELETE", "before", null],
  ]);
  assert.ok(del.$metadata.requestId);
  assert.deepEqual(journal[0].user_metadata, { color: "blue" });
  assert.deepEqual(journal[0].object_tags, { t: "1" });
  assert.equal(journal[0].e_tag, put.ETag.replaceAll('"', ""));
  assert.equal(journal[0].source_ip_address, "127.0.0.1");
  assert.equal(journal[1].is_delete_marker, null);     // unversioned: a permanent delete

  const inv = dump("inventory").rows;
  assert.deepEqual(inv.map((r) => [r.key, r.size, r.sequence_number]),
    [["a.txt", 5, journal[0].sequence_number]]);

  await s3.send(new UpdateBucketMetadataJournalTableConfigurationCommand({
    Bucket: BUCKET,
    JournalTableConfiguration: { RecordExpiration: { Expiration: "ENABLED", Days: 7 } },
  }));
  await s3.send(new UpdateBucketMetadataInventoryTableConfigurationCommand({
    Bucket: BUCKET, InventoryTableConfiguration: { ConfigurationState: "DISABLED" },
  }));
  const after = await getConf();
  assert.deepEqual(after.JournalTableConfigurationResult.RecordExpiration,
    { Expiration: "ENABLED", Days: 7 });
  assert.equal(after.InventoryTableConfigurationResult.ConfigurationState, "DISABLED");

  const gone = await s3.send(new DeleteBucketMetadataConfigurationCommand({ Bucket: BUCKET }));
  assert.equal(gone.$metadata.httpStatusCode, 204);
  await assert.rejects(getConf(), (e) => e.name === "MetadataConfigurationNotFound" ||
    e.Code === "MetadataConfigurationNotFound");
  // The tables and their rows stay.
  assert.equal(dump("journal").rows.length, 2);
});
