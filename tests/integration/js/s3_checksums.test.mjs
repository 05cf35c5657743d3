// @aws-sdk/client-s3 (v3) checksums against a real kura (issue 4: S3 API
// completeness; NOTES item 3). For each ChecksumAlgorithm the SDK supports:
//  - a Buffer body: the SDK sends the checksum as an x-amz-checksum-* header;
//  - a Readable body with ContentLength: the SDK sends aws-chunked
//    STREAMING-UNSIGNED-PAYLOAD-TRAILER with the checksum as a trailer;
// and GetObject/HeadObject with ChecksumMode ENABLED return the same value.
// Multipart uploads with ChecksumType COMPOSITE and FULL_OBJECT. Every
// expected checksum is computed here, independently of the SDK.
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
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListPartsCommand,
  ListMultipartUploadsCommand,
} from "@aws-sdk/client-s3";
import { startKura, recordHeaders } from "./harness.mjs";

const BUCKET = "js-checksums";
const MiB = 1024 * 1024;
const ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

let kura, s3;
let sent; // headers of each request as it left the SDK

// ---- checksums computed here ------------------------------------------

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32c(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}

// CRC64/NVME (reflected poly 0x9a6c9329ac4bc9b5), as two 32-bit halves for speed.
const [CRC64_HI, CRC64_LO] = (() => {
  const hi = new Uint32Array(256), lo = new Uint32Array(256);
  const POLY_HI = 0x9a6c9329, POLY_LO = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let h = 0, l = i;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        h = (h ^ POLY_HI) >>> 0;
        l = (l ^ POLY_LO) >>> 0;
      }
    }
    hi[i] = h;
    lo[i] = l;
  }
  return [hi, lo];
})();

function crc64nvme(buf) {
  let h = 0xffffffff, l = 0xffffffff;
  for (let i = 0; i < buf.length; i++) {
    const idx = (l ^ buf[i]) & 0xff;
    l = (((l >>> 8) | (h << 24)) ^ CRC64_LO[idx]) >>> 0;
    h = ((h >>> 8) ^ CRC64_HI[idx]) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((h ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((l ^ 0xffffffff) >>> 0, 4);
  return out;
}

function crc32(buf) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(buf) >>> 0);
  return out;
}

const RAW = {
  CRC32: crc32,
  CRC32C: crc32c,
  CRC64NVME: crc64nvme,
  SHA1: (b) => createHash("sha1").update(b).digest(),
  SHA256: (b) => createHash("sha256").update(b).digest(),
};
const checksum = (alg, buf) => RAW[alg](buf).toString("base64");
const composite = (alg, parts) =>
  `${RAW[alg](Buffer.concat(parts.map((p) => RAW[alg](p)))).toString("base64")}-${parts.length}`;
const field = (alg) => `Checksum${alg}`;
const header = (alg) => `x-amz-checksum-${alg.toLowerCase()}`;
const md5Etag = (buf) => `"${createHash("md5").update(buf).digest("hex")}"`;
const sha256hex = (buf) => createHash("sha256").update(buf).digest("hex");

before(async () => {
  kura = await startKura({ tmpPrefix: "kura-js-ck-" });
  s3 = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  sent = recordHeaders(s3);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  s3?.destroy();
  await kura?.stop();
});

test("the checksum helpers match the published check values", () => {
  const check = Buffer.from("123456789");
  assert.equal(crc32(check).toString("hex"), "cbf43926");
  assert.equal(crc32c(check).toString("hex"), "e3069283");
  assert.equal(crc64nvme(check).toString("hex"), "ae8b14860a799888");
});

async function assertStored(key, alg, body) {
  const want = checksum(alg, body);
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
  assert.equal(head[field(alg)], want, `${alg} on HEAD`);
  assert.equal(head.ChecksumType, "FULL_OBJECT");
  assert.equal(head.ContentLength, body.length);
  assert.equal(head.ETag, md5Etag(body));
  assert.ok(!head.ContentEncoding || !/aws-chunked/.test(head.ContentEncoding), head.ContentEncoding);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
  assert.equal(got[field(alg)], want, `${alg} on GET`);
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(sha256hex(bytes), sha256hex(body));
}

for (const alg of ALGORITHMS) {
  test(`PutObject ${alg} with a Buffer body sends the checksum header`, async () => {
    const body = randomBytes(30000);
    const key = `buffer/${alg}`;
    sent.length = 0;
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ChecksumAlgorithm: alg }));
    const h = sent.at(-1);
    assert.equal(h[header(alg)], checksum(alg, body));
    assert.notEqual(h["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(put[field(alg)], checksum(alg, body));
    assert.equal(put.ETag, md5Etag(body));
    await assertStored(key, alg, body);
  });

  test(`PutObject ${alg} with a Readable body sends the checksum as a trailer`, async () => {
    const chunks = [randomBytes(65536), randomBytes(65536), randomBytes(4321)];
    const body = Buffer.concat(chunks);
    const key = `stream/${alg}`;
    sent.length = 0;
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET, Key: key, Body: Readable.from(chunks), ContentLength: body.length,
        ChecksumAlgorithm: alg,
      }),
    );
    const h = sent.at(-1);
    assert.equal(h["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(h["x-amz-trailer"], header(alg));
    assert.equal(h["x-amz-decoded-content-length"], String(body.length));
    assert.equal(h[header(alg)], undefined, "the checksum travels as a trailer, not a header");
    assert.match(h["content-encoding"], /aws-chunked/);
    assert.equal(put.ETag, md5Etag(body));
    assert.equal(put[field(alg)], checksum(alg, body));
    await assertStored(key, alg, body);
  });
}

test("a wrong trailing checksum is BadDigest and stores nothing", async () => {
  const bad = new S3Client({ ...kura.clientConfig, forcePathStyle: true });
  // Corrupt one byte of the body after the SDK has wrapped it for checksumming:
  // the trailer then carries the checksum of the original bytes.
  bad.middlewareStack.add(
    (next) => async (args) => {
      const inner = args.request.body;
      args.request.body = Readable.from(
        (async function* () {
          let first = true;
          for await (const c of inner) {
            const b = Buffer.from(c);
            if (first) {
              // aws-chunked framing starts "<hex size>\r\n": flip a payload byte after it.
              const i = b.indexOf("\r\n") + 2;
              b[i] ^= 0xff;
              first = false;
            }
            yield b;
          }
        })(),
      );
      return next(args);
    },
    { step: "finalizeRequest", name: "kuraCorruptBody", priority: "low" },
  );
  const chunks = [randomBytes(10000), randomBytes(10)];
  await assert.rejects(
    bad.send(
      new PutObjectCommand({
        Bucket: BUCKET, Key: "bad/trailer", Body: Readable.from(chunks),
        ContentLength: 10010, ChecksumAlgorithm: "SHA256",
      }),
    ),
    (e) => e.name === "BadDigest" && e.$metadata.httpStatusCode === 400,
  );
  bad.destroy();
  const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "bad/" }));
  assert.equal(list.KeyCount, 0);
});

// ---- multipart ---------------------------------------------------------

async function multipart(key, alg, type, parts, completeExtra = {}) {
  const create = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: alg, ChecksumType: type }),
  );
  assert.equal(create.ChecksumAlgorithm, alg);
  const uploadId = create.UploadId;
  const listed = [];
  for (let n = 1; n <= parts.length; n++) {
    sent.length = 0;
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: n, Body: parts[n - 1],
        ChecksumAlgorithm: alg,
      }),
    );
    assert.equal(sent.at(-1)[header(alg)], checksum(alg, parts[n - 1]));
    assert.equal(r[field(alg)], checksum(alg, parts[n - 1]));
    listed.push({ PartNumber: n, ETag: r.ETag, [field(alg)]: r[field(alg)] });
  }
  const lp = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  assert.deepEqual(lp.Parts.map((p) => p[field(alg)]), parts.map((p) => checksum(alg, p)));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: listed }, ...completeExtra,
    }),
  );
  return done;
}

for (const alg of ["CRC32", "CRC32C", "SHA1", "SHA256"]) {
  test(`multipart COMPOSITE ${alg}: checksum of the part checksums, -N`, async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(2000)];
    const key = `mp/composite/${alg}`;
    const done = await multipart(key, alg, "COMPOSITE", parts);
    const want = composite(alg, parts);
    assert.equal(done[field(alg)], want);
    assert.equal(done.ChecksumType, "COMPOSITE");
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    assert.equal(head[field(alg)], want);
    assert.equal(head.ChecksumType, "COMPOSITE");
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    const bytes = Buffer.from(await got.Body.transformToByteArray());
    assert.equal(sha256hex(bytes), sha256hex(Buffer.concat(parts)));
  });
}

for (const alg of ["CRC32", "CRC32C", "CRC64NVME"]) {
  test(`multipart FULL_OBJECT ${alg}: checksum of the whole object`, async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(3)];
    const whole = Buffer.concat(parts);
    const key = `mp/full/${alg}`;
    const done = await multipart(key, alg, "FULL_OBJECT", parts, {
      ChecksumType: "FULL_OBJECT", [field(alg)]: checksum(alg, whole), MpuObjectSize: whole.length,
    });
    assert.equal(done[field(alg)], checksum(alg, whole));
    assert.equal(done.ChecksumType, "FULL_OBJECT");
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    assert.equal(head[field(alg)], checksum(alg, whole));
    assert.equal(head.ChecksumType, "FULL_OBJECT");
    assert.equal(head.ContentLength, whole.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    const bytes = Buffer.from(await got.Body.transformToByteArray());
    assert.equal(sha256hex(bytes), sha256hex(whole));
  });
}

test("no multipart upload is left behind", async () => {
  const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(r.Uploads ?? [], []);
});
