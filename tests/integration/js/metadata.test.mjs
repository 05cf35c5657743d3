// S3 Metadata configured through @aws-sdk/client-s3 (issue 7): the V2
// configuration calls (Create / Get / UpdateBucketMetadataJournalTable /
// UpdateBucketMetadataInventoryTable / Delete) as the JS SDK models them,
// and a small journal + inventory check read back with DuckDB through
// metadata_table_dump.mjs (S3 Tables API -> Avro manifests -> Parquet).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { createHash, createHmac } from "node:crypto";
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

const ACCESS_KEY = "KURATESTACCESSKEY000";
const SECRET_KEY = "kuraTestSecretKey/0000000000000000000000";
const REGION = "us-east-1";
const BIN = process.env.KURA_BIN;
const BUCKET = "meta-js";
const HERE = dirname(fileURLToPath(import.meta.url));

let server, port, dir, endpoint, s3;

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

// SigV4 (service "s3") for kura's admin API, which no SDK models.
async function adminPost(path, body = "") {
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const host = `127.0.0.1:${port}`;
  const payload = sha(body);
  const canonical = ["POST", path, "", `host:${host}`, `x-amz-content-sha256:${payload}`,
    `x-amz-date:${amzDate}`, "", "host;x-amz-content-sha256;x-amz-date", payload].join("\n");
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n");
  let key = hmac(`AWS4${SECRET_KEY}`, day);
  for (const part of [REGION, "s3", "aws4_request"]) key = hmac(key, part);
  const sig = createHmac("sha256", key).update(toSign).digest("hex");
  const res = await fetch(`${endpoint}${path}`, {
    method: "POST", body,
    headers: {
      "x-amz-date": amzDate, "x-amz-content-sha256": payload,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, ` +
        `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${sig}`,
    },
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

function dump(table) {
  const account = JSON.parse(readFileSync(join(dir, "data", "credentials"))).account_id;
  const out = execFileSync("node", [join(HERE, "metadata_table_dump.mjs"), endpoint,
    `arn:aws:s3tables:${REGION}:${account}:bucket/aws-s3`, `b_${BUCKET}`, table], {
    env: { ...process.env, KURA_ACCESS_KEY_ID: ACCESS_KEY, KURA_SECRET_ACCESS_KEY: SECRET_KEY },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return JSON.parse(out.toString());
}

async function getConf() {
  const r = await s3.send(new GetBucketMetadataConfigurationCommand({ Bucket: BUCKET }));
  return r.GetBucketMetadataConfigurationResult.MetadataConfigurationResult;
}

before(async () => {
  assert.ok(BIN, "KURA_BIN must name the kura binary");
  dir = mkdtempSync(join(tmpdir(), "kura-js-"));
  mkdirSync(join(dir, "data"));
  port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  const log = openSync(join(dir, "kura.log"), "a");
  server = spawn(BIN, ["serve", "--data", join(dir, "data"), "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, KURA_ACCESS_KEY_ID: ACCESS_KEY, KURA_SECRET_ACCESS_KEY: SECRET_KEY },
    stdio: ["ignore", log, log],
  });
  await waitHealthy();
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  s3 = new S3Client({ endpoint, region: REGION, forcePathStyle: true, maxAttempts: 1, credentials });
});

after(async () => {
  s3?.destroy();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", (code, sig) => r({ code, sig })));
    server.kill("SIGTERM");
    const { code, sig } = await exited;
    assert.equal(code, 0, `kura exited with code ${code} signal ${sig} after SIGTERM`);
  }
  if (process.env.KURA_KEEP_TMP !== "1") rmSync(dir, { recursive: true, force: true });
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
  await adminPost("/kura/admin/metadata/publish");

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
