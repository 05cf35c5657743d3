// @aws-sdk/client-s3 (v3) against a real kura, with the SDK's default checksum
// behaviour (issue 3: Foundation; NOTES item 3): a Buffer body sends an
// x-amz-checksum-crc32 header, a Readable body sends aws-chunked
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a trailing x-amz-checksum-crc32.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, mkdirSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  DeleteObjectCommand,
} from "@aws-sdk/client-s3";

const ACCESS_KEY = "KURATESTACCESSKEY000";
const SECRET_KEY = "kuraTestSecretKey/0000000000000000000000";
const BIN = process.env.KURA_BIN;

let server, port, dir, s3;
const sent = []; // headers of each request as it left the SDK

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

const md5Etag = (buf) => `"${createHash("md5").update(buf).digest("hex")}"`;
const crc32B64 = (buf) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(buf) >>> 0);
  return b.toString("base64");
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
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
  });
  s3.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ ...args.request.headers });
      return next(args);
    },
    { step: "finalizeRequest", name: "kuraRecordHeaders", priority: "low" },
  );
  await s3.send(new CreateBucketCommand({ Bucket: "js-bucket" }));
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

test("PutObject with a Buffer body sends a crc32 header and stores it", async () => {
  const body = randomBytes(20000);
  sent.length = 0;
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: "js-bucket", Key: "buf/object.bin", Body: body,
      ContentType: "application/x-js", Metadata: { origin: "node" },
    }),
  );
  const h = sent.at(-1);
  assert.equal(h["x-amz-checksum-crc32"], crc32B64(body));
  assert.equal(put.ETag, md5Etag(body));
  assert.equal(put.ChecksumCRC32, crc32B64(body));

  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "buf/object.bin" }));
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  assert.deepEqual(bytes, body);
  assert.equal(got.ETag, md5Etag(body));
  assert.equal(got.ContentType, "application/x-js");
  assert.deepEqual(got.Metadata, { origin: "node" });
});

test("PutObject with a Readable body sends aws-chunked with a trailing crc32", async () => {
  const parts = [randomBytes(70000), randomBytes(70000), randomBytes(12345)];
  const body = Buffer.concat(parts);
  sent.length = 0;
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: "js-bucket", Key: "stream/object.bin", Body: Readable.from(parts),
      ContentLength: body.length, ContentType: "text/x-stream",
    }),
  );
  const h = sent.at(-1);
  assert.equal(h["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  assert.equal(h["x-amz-trailer"], "x-amz-checksum-crc32");
  assert.equal(h["x-amz-decoded-content-length"], String(body.length));
  assert.match(h["content-encoding"], /aws-chunked/);
  assert.equal(put.ETag, md5Etag(body));

  const head = await s3.send(
    new HeadObjectCommand({ Bucket: "js-bucket", Key: "stream/object.bin", ChecksumMode: "ENABLED" }),
  );
  assert.equal(head.ContentLength, body.length);
  assert.equal(head.ETag, md5Etag(body));
  assert.equal(head.ChecksumCRC32, crc32B64(body));
  assert.equal(head.ContentType, "text/x-stream");
  // aws-chunked is transport framing: it is not stored as the object's encoding.
  assert.ok(!head.ContentEncoding || !/aws-chunked/.test(head.ContentEncoding), head.ContentEncoding);

  const got = await s3.send(
    new GetObjectCommand({ Bucket: "js-bucket", Key: "stream/object.bin", ChecksumMode: "ENABLED" }),
  );
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(createHash("sha256").update(bytes).digest("hex"),
    createHash("sha256").update(body).digest("hex"));
});

test("a small Readable body (one chunk) round-trips", async () => {
  const body = Buffer.from("tiny streamed body\n");
  await s3.send(
    new PutObjectCommand({
      Bucket: "js-bucket", Key: "stream/tiny.txt", Body: Readable.from([body]),
      ContentLength: body.length,
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "stream/tiny.txt" }));
  assert.equal(await got.Body.transformToString(), body.toString());
  assert.equal(got.ETag, md5Etag(body));
});

test("ListObjectsV2 lists what was put, with prefix and delimiter", async () => {
  const all = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket" }));
  const keys = (all.Contents ?? []).map((o) => o.Key);
  for (const k of ["buf/object.bin", "stream/object.bin", "stream/tiny.txt"]) {
    assert.ok(keys.includes(k), `${k} missing from ${keys}`);
  }
  assert.deepEqual(keys, [...keys].sort());
  const top = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Delimiter: "/" }));
  assert.deepEqual((top.CommonPrefixes ?? []).map((p) => p.Prefix), ["buf/", "stream/"]);
  assert.equal(top.KeyCount, 2);
  const page = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Prefix: "stream/", MaxKeys: 1 }));
  assert.equal(page.IsTruncated, true);
  assert.equal(page.Contents.length, 1);
  const rest = await s3.send(
    new ListObjectsV2Command({ Bucket: "js-bucket", Prefix: "stream/", ContinuationToken: page.NextContinuationToken }),
  );
  assert.deepEqual(rest.Contents.map((o) => o.Key), ["stream/tiny.txt"]);
});

test("a wrong crc32 header is refused and stores nothing", async () => {
  const body = randomBytes(9000);
  const bad = new S3Client({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1,
  });
  // Flip the header-supplied checksum of a Buffer body.
  bad.middlewareStack.add(
    (next) => async (args) => {
      args.request.headers["x-amz-checksum-crc32"] = crc32B64(Buffer.from("something else"));
      return next(args);
    },
    // build step, after flexibleChecksums and before signing
    { step: "build", name: "kuraBreakChecksum", priority: "low" },
  );
  await assert.rejects(
    bad.send(new PutObjectCommand({ Bucket: "js-bucket", Key: "bad/checksum", Body: body })),
    (e) => e.name === "BadDigest" && e.$metadata.httpStatusCode === 400,
  );
  bad.destroy();
  const list = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Prefix: "bad/" }));
  assert.equal(list.KeyCount, 0);
});

test("DeleteObject then GetObject is NoSuchKey", async () => {
  await s3.send(new DeleteObjectCommand({ Bucket: "js-bucket", Key: "stream/tiny.txt" }));
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "stream/tiny.txt" })),
    (e) => e.name === "NoSuchKey" && e.$metadata.httpStatusCode === 404,
  );
});
