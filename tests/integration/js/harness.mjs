// What the node:test files here (and metadata_table_dump.mjs) share, so that
// each does these things one way: start a real kura on a fresh data dir and
// a free loopback port and stop it again (a clean exit is part of every
// test), the test credentials (kura_harness.py's too), SigV4 for the admin
// API no SDK models, the Iceberg OAuth2 token, recording the headers an SDK
// client sends, and reading an Iceberg table's files back through S3 + avsc.
//
// Not a test file: the name must not end in .test.mjs (run.sh runs
// ./*.test.mjs), and it must not import node:test, because
// metadata_table_dump.mjs, a plain script, imports it too.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import avro from "avsc";
import { GetObjectCommand } from "@aws-sdk/client-s3";

export const ACCESS_KEY = "KURATESTACCESSKEY000";
export const SECRET_KEY = "kuraTestSecretKey/0000000000000000000000";
export const REGION = "us-east-1";

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

async function waitHealthy(server, endpoint, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`kura exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${endpoint}/kura/health`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("kura did not become healthy");
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Starts `kura serve` (KURA_BIN) on DIR/data, its output in DIR/kura.log, and
// waits for /kura/health. `env` is added to kura's environment over the test
// keys (set KURA_ACCESS_KEY_ID / KURA_SECRET_ACCESS_KEY there to run with
// other keys: `credentials` and `clientConfig` follow them); `args` go after
// the serve arguments. Returns { port, endpoint, dir, server, credentials,
// clientConfig, stop }: clientConfig suits any AWS SDK v3 client (S3 adds
// forcePathStyle), with one attempt so a failure shows at once rather than
// after retries. stop() (for after()) SIGTERMs kura and asserts it exited 0,
// then removes DIR unless KURA_KEEP_TMP=1; an unclean exit keeps DIR and its
// log to look at.
export async function startKura({ env = {}, args = [], tmpPrefix = "kura-js-" } = {}) {
  const bin = process.env.KURA_BIN;
  assert.ok(bin, "KURA_BIN must name the kura binary");
  const dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  mkdirSync(join(dir, "data"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const kuraEnv = {
    ...process.env, KURA_ACCESS_KEY_ID: ACCESS_KEY, KURA_SECRET_ACCESS_KEY: SECRET_KEY, ...env,
  };
  const log = openSync(join(dir, "kura.log"), "a");
  const server = spawn(bin, ["serve", "--data", join(dir, "data"), "--listen", `127.0.0.1:${port}`,
    ...args], { env: kuraEnv, stdio: ["ignore", log, log] });
  closeSync(log); // the child has its own copy
  const removeDir = () => {
    if (process.env.KURA_KEEP_TMP !== "1") rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(server, endpoint);
  } catch (e) {
    // before() failed, so no after() will stop it: do it here, and say why.
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    const tail = readFileSync(join(dir, "kura.log"), "utf8").split("\n").slice(-20).join("\n");
    e.message += `\nkura.log:\n${tail}`;
    removeDir();
    throw e;
  }
  const credentials = {
    accessKeyId: kuraEnv.KURA_ACCESS_KEY_ID, secretAccessKey: kuraEnv.KURA_SECRET_ACCESS_KEY,
  };
  const clientConfig = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  async function stop() {
    // A kura that already died is judged by how it died, not waited for.
    const running = server.exitCode === null && server.signalCode === null;
    const exited = running
      ? new Promise((r) => server.once("exit", (code, sig) => r({ code, sig })))
      : Promise.resolve({ code: server.exitCode, sig: server.signalCode });
    if (running) server.kill("SIGTERM");
    const { code, sig } = await exited;
    assert.equal(code, 0, `kura exited with code ${code} signal ${sig} ${
      running ? "after SIGTERM" : "before the tests were done"}`);
    removeDir();
  }
  return { port, endpoint, dir, server, credentials, clientConfig, stop };
}

// Records the headers of each request `client` sends, as they leave the SDK
// (after checksums and signing are added), so a test can see what went on
// the wire. Returns the array it pushes to; clear it with `sent.length = 0`.
export function recordHeaders(client) {
  const sent = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ ...args.request.headers });
      return next(args);
    },
    { step: "finalizeRequest", name: "kuraRecordHeaders", priority: "low" },
  );
  return sent;
}

// A SigV4-signed (service "s3") POST to kura's admin API, which no SDK
// models; asserts 200 and returns the JSON reply.
export async function adminPost(kura, path, body = "") {
  const { accessKeyId, secretAccessKey } = kura.credentials;
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const host = new URL(kura.endpoint).host;
  const payload = sha(body);
  const canonical = ["POST", path, "", `host:${host}`, `x-amz-content-sha256:${payload}`,
    `x-amz-date:${amzDate}`, "", "host;x-amz-content-sha256;x-amz-date", payload].join("\n");
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n");
  let key = hmac(`AWS4${secretAccessKey}`, day);
  for (const part of [REGION, "s3", "aws4_request"]) key = hmac(key, part);
  const sig = createHmac("sha256", key).update(toSign).digest("hex");
  const res = await fetch(`${kura.endpoint}${path}`, {
    method: "POST", body,
    headers: {
      "x-amz-date": amzDate, "x-amz-content-sha256": payload,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, ` +
        `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${sig}`,
    },
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

// A bearer token from kura's OAuth2 client-credentials endpoint (an
// extension, NOTES 10): iceberg-js cannot SigV4-sign (NOTES-ON-ISSUES 11).
// Asserts 200 and returns the token reply ({ access_token, token_type, ... }).
export async function oauthToken(kura) {
  const res = await fetch(`${kura.endpoint}/iceberg/v1/oauth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials",
      client_id: kura.credentials.accessKeyId, client_secret: kura.credentials.secretAccessKey }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

// ---- reading an Iceberg table back through S3 ---------------------------

export function splitS3(uri) {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  assert.ok(m, `not an s3:// location: ${uri}`);
  return { Bucket: m[1], Key: m[2] };
}

// The bytes of the object at an s3:// URI.
export async function getS3(s3, uri) {
  const r = await s3.send(new GetObjectCommand(splitS3(uri)));
  return Buffer.from(await r.Body.transformToByteArray());
}

// Decodes an Avro container file: { records, codec, meta: {key: string},
// schema: the writer schema as parsed JSON }, so a test can check the header
// keys and field ids Iceberg readers need as well as the rows.
export function readAvro(buf) {
  return new Promise((resolve, reject) => {
    const dec = new avro.streams.BlockDecoder();
    const out = { records: [] };
    dec.on("metadata", (_type, codec, header) => {
      out.codec = codec;
      out.meta = Object.fromEntries(
        Object.entries(header.meta).map(([k, v]) => [k, v.toString()]));
      out.schema = JSON.parse(out.meta["avro.schema"]);
    });
    dec.on("data", (r) => out.records.push(r));
    dec.on("error", reject);
    dec.on("end", () => resolve(out));
    dec.end(buf);
  });
}

// The data_file of every live entry (status not DELETED) of the current
// snapshot of `md` (table metadata JSON), from its manifest list and
// manifests read through S3; none for a table without a snapshot. Only data
// manifests are expected: a delete manifest would make "live" wrong, so it
// is refused.
export async function liveDataFiles(s3, md) {
  const snap = (md.snapshots ?? []).find((s) => s["snapshot-id"] === md["current-snapshot-id"]);
  if (!snap) return [];
  const files = [];
  for (const mf of (await readAvro(await getS3(s3, snap["manifest-list"]))).records) {
    if (mf.content !== 0) throw new Error("delete manifests are not expected here");
    for (const e of (await readAvro(await getS3(s3, mf.manifest_path))).records) {
      if (e.status !== 2) files.push(e.data_file);
    }
  }
  return files;
}
