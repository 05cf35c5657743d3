// @aws-sdk/client-s3 (v3) against a real kura, with the SDK's default checksum
// behaviour (issue 3: Foundation; NOTES item 3): a Buffer body sends an
// x-amz-checksum-crc32 header, a Readable body sends aws-chunked
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a trailing x-amz-checksum-crc32.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
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
import { startKura, recordHeaders } from "./harness.mjs";

let kura, s3;
let sent; // headers of each request as it left the SDK

const md5Etag = (buf) => `"${createHash("md5").update(buf).digest("hex")}"`;
const crc32B64 = (buf) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(buf) >>> 0);
  return b.toString("base64");
};

before(async () => {
  kura = await startKura();
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  sent = recordHeaders(s3);
  await s3.send(new CreateBucketCommand({ Bucket: "js-bucket" }));
});

after(async () => {
  s3?.destroy();
  await kura?.stop();
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
  const bad = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
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
