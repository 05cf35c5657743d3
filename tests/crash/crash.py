#!/usr/bin/env python3
"""crash.py: kill -9 cycles against a real kura (DESIGN.md invariant 1, issue 14).

    python3 tests/crash/crash.py [--cycles N] [--seed S] [--threads T] [--keep] [KURA_BIN]

The binary is the positional argument or $KURA_BIN (default build/kura).
One data directory under /tmp survives every cycle. A cycle is:

  1. `kura fsck --data DIR` with the server stopped: exit 0 and
     orphans=0 missing=0 bad_refcounts=0 (store_open() removes orphans, so a
     kill must never leave a leaked or missing blob behind);
  2. `kura serve` on the same directory and a loopback port: it must come up;
  3. verify the model: every acknowledged write is there and intact (GET +
     SHA-256, tags, versions by id in the versioned bucket, their order), and
     nothing else is visible except the one operation per client thread that
     was in flight at the kill, which may or may not have happened, but if it
     happened it happened completely (content hash matches);
  4. a mixed workload from T threads (PUT inline and blob-sized, multipart,
     CopyObject, DELETE, DELETE by version id, tagging) on a versioned and an
     unversioned bucket, each thread on its own keys so that every key's
     history is sequential; every acknowledged mutation is recorded;
  5. SIGKILL at a random moment during the workload.

After the last cycle the server is stopped with SIGTERM (exit 0 wanted) and
fsck runs once more. Prints one line per cycle and, last, "N passed, N failed"
(cycles). Exit status 0 only if every cycle passed. Every loop is bounded in
count and in time; `--seed` makes the operation choices and contents
reproducible (the kill lands wherever the timing puts it).
"""
import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ACCESS_KEY = "KURACRASHACCESSKEY00"
SECRET_KEY = "kuraCrashSecretKey/000000000000000000000"
REGION = "us-east-1"
INLINE_MAX = 8192                  # kura's default inline threshold (docs/configuration.md)
MIN_PART = 5 << 20                 # S3: every multipart part but the last
KEYS_PER_THREAD = 6                # per bucket
VERSIONS_PER_KEY = 12              # above this, DELETE by version id is favoured
OLD_VERSIONS_CHECKED = 3           # per key and cycle, besides the new ones
OPS_PER_THREAD_MAX = 400           # per cycle; the kill normally comes first
KILL_AFTER_S = (0.05, 1.2)         # the kill lands uniformly in this window
START_TIMEOUT_S = 30
FSCK_TIMEOUT_S = 60
WORKER_JOIN_S = 20
UNVER, VER = "crash-plain", "crash-versioned"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data_dir, log_path):
        self.bin, self.data, self.log_path = binary, data_dir, log_path
        self.port = free_port()
        self.proc = None
        self.env = dict(os.environ, KURA_ACCESS_KEY_ID=ACCESS_KEY,
                        KURA_SECRET_ACCESS_KEY=SECRET_KEY)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kura exited %s during start" % self.proc.returncode)
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/kura/health")
                ok = c.getresponse().status == 200
                c.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("kura not healthy after %ds" % START_TIMEOUT_S)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(30)
        self.proc = None

    def stop(self):
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.proc = None
        return rc

    def fsck(self):
        p = subprocess.run([self.bin, "fsck", "--data", self.data], capture_output=True,
                           timeout=FSCK_TIMEOUT_S, env=self.env)
        out = p.stdout.decode("utf-8", "replace").strip()
        m = re.search(r"blobs=(\d+) orphans=(\d+) missing=(\d+) bad_refcounts=(\d+)", out)
        counts = tuple(int(x) for x in m.groups()) if m else None
        return p.returncode, counts, out + p.stderr.decode("utf-8", "replace")[-2000:]


def client(session, endpoint, retries=1):
    cfg = Config(region_name=REGION, signature_version="s3v4", s3={"addressing_style": "path"},
                 retries={"max_attempts": retries, "mode": "standard"},
                 connect_timeout=3, read_timeout=15, max_pool_connections=4)
    return session.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION, config=cfg)


# ---- the model ------------------------------------------------------------
#
# Plain bucket, per key: state = (sha or None, tags) and at most one pending
# state (the operation in flight at the kill). Versioned bucket, per key: the
# acknowledged version stack, oldest first, of [vid, kind, sha, tags] with
# kind "v" (version) or "m" (delete marker), and at most one pending
# operation. Each key belongs to one thread, so its history is sequential.

class PlainKey:
    def __init__(self):
        self.state = (None, ())
        self.pending = None        # a (sha, tags) state that may have happened


class VerKey:
    def __init__(self):
        self.stack = []            # [vid, kind, sha, tags], oldest first
        # ("put", sha) | ("delete",) | ("delver", vid) | ("tag", vid, tags)
        self.pending = None
        self.fresh = set()         # vids created since the last verification


class Model:
    def __init__(self, threads):
        self.plain = {}
        self.ver = {}
        self.seed_objects = {}     # key in UNVER -> sha; written once, never touched again
        for t in range(threads):
            for i in range(KEYS_PER_THREAD):
                k = "t%d/k%d%s" % (t, i, " sp\u00fc" if i == KEYS_PER_THREAD - 1 else "")
                self.plain[k] = PlainKey()
                self.ver[k] = VerKey()

    def keys_of(self, t):
        return [k for k in self.plain if k.startswith("t%d/" % t)]


class Worker(threading.Thread):
    def __init__(self, tid, s3, model, rng, stop, stats):
        super().__init__(daemon=True)
        self.tid, self.s3, self.m, self.rng = tid, s3, model, rng
        self.stop, self.stats = stop, stats
        self.keys = model.keys_of(tid)
        self.errors = []

    def body(self, n):
        data = self.rng.randbytes(n)
        return data, sha(data)

    def run(self):
        try:
            for _ in range(OPS_PER_THREAD_MAX):
                if self.stop.is_set():
                    return
                if not self.one_op():
                    return
        except Exception as e:  # a harness bug: report it, never hang the cycle
            self.errors.append("worker %d: %r" % (self.tid, e))

    def size(self):
        r = self.rng.random()
        if r < 0.45:
            return self.rng.randint(0, INLINE_MAX)
        if r < 0.55:
            return INLINE_MAX + 1
        return self.rng.randint(INLINE_MAX + 1, 300_000)

    def one_op(self):
        """Runs one operation. False when the server went away (stop)."""
        key = self.rng.choice(self.keys)
        if self.rng.random() < 0.5:
            return self.plain_op(key, self.m.plain[key])
        return self.ver_op(key, self.m.ver[key])

    def call(self, fn, on_pending, **kw):
        """Calls `fn`; returns the response, None if the server answered with an
        error (recorded), or False when the request may or may not have
        happened (connection lost: the server was killed)."""
        try:
            r = fn(**kw)
            self.stats["acked"] += 1
            return r
        except ClientError as e:
            self.errors.append("thread %d %s %s: %s" % (
                self.tid, fn.__name__, kw.get("Key"), e.response.get("Error", {})))
            return None
        except Exception:
            on_pending()
            self.stats["pending"] += 1
            return False

    def put_plain(self, key, k, data, h, tags):
        def pend():
            k.pending = (h, tags)
        kw = {"Bucket": UNVER, "Key": key, "Body": data}
        if tags:
            kw["Tagging"] = "&".join("%s=%s" % t for t in tags)
        r = self.call(self.s3.put_object, pend, **kw)
        if r:
            k.state = (h, tags)
        return r is not False

    def plain_op(self, key, k):
        op = self.rng.choices(["put", "mpu", "copy", "delete", "tag"], [50, 6, 12, 14, 18])[0]
        if op == "put":
            data, h = self.body(self.size())
            tags = (("n", str(len(data))),) if self.rng.random() < 0.2 else ()
            return self.put_plain(key, k, data, h, tags)
        if op == "mpu":
            data, h, r = self.multipart(UNVER, key)
            if r is False:
                k.pending = (h, ())
                return False
            if r:
                k.state = (h, ())
            return True
        if op == "copy":
            src = self.rng.choice(sorted(self.m.seed_objects)) if self.rng.random() < 0.5 else None
            if src is None:
                cands = [x for x in self.keys if self.m.plain[x].state[0] is not None and x != key]
                if not cands:
                    return True
                src = self.rng.choice(cands)
                h = self.m.plain[src].state[0]
            else:
                h = self.m.seed_objects[src]

            def pend():
                k.pending = (h, ())
            r = self.call(self.s3.copy_object, pend, Bucket=UNVER, Key=key,
                          CopySource={"Bucket": UNVER, "Key": src}, TaggingDirective="REPLACE")
            if r:
                k.state = (h, ())
            return r is not False
        if op == "delete":
            def pend():
                k.pending = (None, ())
            r = self.call(self.s3.delete_object, pend, Bucket=UNVER, Key=key)
            if r:
                k.state = (None, ())
            return r is not False
        # tag
        if k.state[0] is None:
            return True
        tags = (("t", str(self.rng.randint(0, 1 << 30))),)

        def pend():
            k.pending = (k.state[0], tags)
        r = self.call(self.s3.put_object_tagging, pend, Bucket=UNVER, Key=key,
                      Tagging={"TagSet": [{"Key": a, "Value": b} for a, b in tags]})
        if r:
            k.state = (k.state[0], tags)
        return r is not False

    def multipart(self, bucket, key):
        """One multipart upload: 1 part (any size) or, rarely, 5 MiB + a tail.
        Returns (data, sha, response|None|False)."""
        two = self.rng.random() < 0.15
        sizes = [MIN_PART, self.rng.randint(1, 70_000)] if two else [self.rng.randint(1, 200_000)]
        parts = [self.rng.randbytes(n) for n in sizes]
        data = b"".join(parts)
        h = sha(data)
        try:
            up = self.s3.create_multipart_upload(Bucket=bucket, Key=key)
            done = []
            for i, p in enumerate(parts, 1):
                if self.stop.is_set():
                    return data, h, False
                r = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                        PartNumber=i, Body=p)
                done.append({"PartNumber": i, "ETag": r["ETag"]})
        except ClientError as e:
            self.errors.append("thread %d multipart %s: %s" % (self.tid, key, e.response["Error"]))
            return data, h, None
        except Exception:
            self.stats["pending"] += 1
            return data, h, False
        r = self.call(self.s3.complete_multipart_upload, lambda: None, Bucket=bucket, Key=key,
                      UploadId=up["UploadId"], MultipartUpload={"Parts": done})
        return data, h, r

    def ver_op(self, key, k):
        op = self.rng.choices(["put", "mpu", "copy", "delete", "delver", "tag"],
                              [45, 6, 10, 14, 10, 15])[0]
        if len(k.stack) > VERSIONS_PER_KEY and self.rng.random() < 0.6:
            op = "delver"      # keep each key's history (and the verification) bounded
        if op in ("put", "copy", "mpu"):
            if op == "put":
                data, h = self.body(self.size())
    
                def pend():
                    k.pending = ("put", h)
                r = self.call(self.s3.put_object, pend, Bucket=VER, Key=key, Body=data)
            elif op == "mpu":
                data, h, r = self.multipart(VER, key)
                if r is False:
                    k.pending = ("put", h)
            else:
                src = self.rng.choice(sorted(self.m.seed_objects))
                h = self.m.seed_objects[src]

                def pend():
                    k.pending = ("put", h)
                r = self.call(self.s3.copy_object, pend, Bucket=VER, Key=key,
                              CopySource={"Bucket": UNVER, "Key": src})
            if r:
                vid = r.get("VersionId")
                if not vid:
                    self.errors.append("thread %d %s %s on a versioned bucket: no VersionId"
                                       % (self.tid, op, key))
                    return True
                k.stack.append([vid, "v", h, ()])
                k.fresh.add(vid)
            return r is not False
        if op == "delete":
            def pend():
                k.pending = ("delete",)
            r = self.call(self.s3.delete_object, pend, Bucket=VER, Key=key)
            if r:
                vid = r.get("VersionId")
                if not vid or not r.get("DeleteMarker"):
                    self.errors.append("thread %d delete %s: no delete marker in %r"
                                       % (self.tid, key, {a: r.get(a) for a in
                                                          ("VersionId", "DeleteMarker")}))
                    return True
                k.stack.append([vid, "m", None, ()])
            return r is not False
        if op == "delver":
            if not k.stack:
                return True
            vid = self.rng.choice(k.stack)[0]

            def pend():
                k.pending = ("delver", vid)
            r = self.call(self.s3.delete_object, pend, Bucket=VER, Key=key, VersionId=vid)
            if r:
                k.stack = [e for e in k.stack if e[0] != vid]
            return r is not False
        # tag a version (not a marker)
        vs = [e for e in k.stack if e[1] == "v"]
        if not vs:
            return True
        e = self.rng.choice(vs)
        tags = (("t", str(self.rng.randint(0, 1 << 30))),)

        def pend():
            k.pending = ("tag", e[0], tags)
        r = self.call(self.s3.put_object_tagging, pend, Bucket=VER, Key=key, VersionId=e[0],
                      Tagging={"TagSet": [{"Key": a, "Value": b} for a, b in tags]})
        if r:
            e[3] = tags
        return r is not False


# ---- verification ---------------------------------------------------------

def tagset(s3, **kw):
    ts = s3.get_object_tagging(**kw)["TagSet"]
    return tuple(sorted((t["Key"], t["Value"]) for t in ts))


def get_sha(s3, **kw):
    """sha of the body, or None on NoSuchKey (404)."""
    try:
        r = s3.get_object(**kw)
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise
    return sha(r["Body"].read())


def verify_plain(s3, m, problems):
    listed = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=UNVER):
        listed.update(o["Key"] for o in page.get("Contents", []))
    known = set(m.plain) | set(m.seed_objects)
    for k in sorted(listed - known):
        problems.append("plain: unknown key %r is listed" % k)
    for k, h in m.seed_objects.items():
        if get_sha(s3, Bucket=UNVER, Key=k) != h:
            problems.append("plain: seed object %r changed" % k)
    for key, k in m.plain.items():
        got = get_sha(s3, Bucket=UNVER, Key=key)
        ok_states = [k.state] + ([k.pending] if k.pending else [])
        cand = [s for s in ok_states if s[0] == got]
        if not cand:
            problems.append("plain %r: content %s, acknowledged %s, in flight %s" % (
                key, got and got[:12], k.state[0] and k.state[0][:12],
                k.pending and (k.pending[0] or "delete")[:12]))
            continue
        if (got is not None) != (key in listed):
            problems.append("plain %r: GET says %s but listing says %s" % (
                key, "present" if got else "absent", key in listed))
        if got is not None:
            tags = tagset(s3, Bucket=UNVER, Key=key)
            tc = [s for s in cand if tuple(sorted(s[1])) == tags]
            if not tc:
                problems.append("plain %r: tags %r, expected one of %r" % (
                    key, tags, [s[1] for s in cand]))
                continue
            cand = tc
        # Adopt what happened: the pending operation is resolved.
        k.state = cand[-1] if k.pending in cand else cand[0]
        k.pending = None


def short(ids):
    return "[%s]" % ",".join(i[-8:] for i in ids)


def list_versions(s3, bucket):
    out = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            out.setdefault(v["Key"], []).append((v["LastModified"], v["VersionId"], "v",
                                                 v["IsLatest"]))
        for d in page.get("DeleteMarkers", []):
            out.setdefault(d["Key"], []).append((d["LastModified"], d["VersionId"], "m",
                                                 d["IsLatest"]))
    return out


def verify_versioned(s3, m, rng, problems):
    raw = list_versions(s3, VER)
    for key in sorted(set(raw) - set(m.ver)):
        problems.append("versioned: unknown key %r is listed" % key)
    for key, k in m.ver.items():
        entries = raw.get(key, [])
        latest = [e for e in entries if e[3]]
        if entries and len(latest) != 1:
            problems.append("versioned %r: %d entries marked IsLatest" % (key, len(latest)))
        # Versions and delete markers come in two lists, each newest first;
        # their interleaving is not in the response (LastModified has 1 s
        # resolution), so order is checked within each kind plus IsLatest.
        seen = [(e[1], e[2]) for e in entries]
        seen.reverse()
        ids_seen = {s[0] for s in seen}
        ids_acked = {e[0] for e in k.stack}
        extra = [s for s in seen if s[0] not in ids_acked]
        missing = [(e[0], e[1]) for e in k.stack if e[0] not in ids_seen]
        p = k.pending
        ok = True
        if missing:
            if p and p[0] == "delver" and missing == [(e[0], e[1]) for e in k.stack
                                                      if e[0] == p[1]]:
                k.stack = [e for e in k.stack if e[0] != p[1]]   # it happened
            else:
                problems.append("versioned %r: acknowledged versions missing: %r" % (key, missing))
                ok = False
        if extra:
            if len(extra) == 1 and p and p[0] in ("put", "delete") and \
                    extra[0][1] == ("v" if p[0] == "put" else "m"):
                vid = extra[0][0]
                if p[0] == "put":
                    got = get_sha(s3, Bucket=VER, Key=key, VersionId=vid)
                    if got != p[1]:
                        problems.append("versioned %r: in-flight PUT visible as %s with content "
                                        "%s, expected %s" % (key, vid, got and got[:12], p[1][:12]))
                        ok = False
                    k.stack.append([vid, "v", p[1], ()])
                else:
                    k.stack.append([vid, "m", None, ()])
            else:
                problems.append("versioned %r: unacknowledged versions visible: %r (in flight %r)"
                                % (key, extra, p))
                ok = False
        for kind in ("v", "m"):
            got_order = [s[0] for s in seen if s[1] == kind]
            want_order = [e[0] for e in k.stack if e[1] == kind]
            if ok and got_order != want_order:
                problems.append("versioned %r: %s order %s, expected %s" % (
                    key, "version" if kind == "v" else "marker", short(got_order),
                    short(want_order)))
                ok = False
        if ok and k.stack and [e[1] for e in entries if e[3]] != [k.stack[-1][0]]:
            problems.append("versioned %r: IsLatest on %s, expected %s" % (
                key, short([e[1] for e in entries if e[3]]), k.stack[-1][0]))
            ok = False
        if not ok:
            k.pending = None
            continue
        # Contents and tags: every version created since the last check, and a sample.
        old = [e[0] for e in k.stack if e[1] == "v" and e[0] not in k.fresh]
        sample = set(rng.sample(old, min(len(old), OLD_VERSIONS_CHECKED)))
        for e in k.stack:
            if e[1] != "v" or not (e[0] in k.fresh or e[0] in sample or
                                   (p and p[0] == "tag" and p[1] == e[0])):
                continue
            got = get_sha(s3, Bucket=VER, Key=key, VersionId=e[0])
            if got != e[2]:
                problems.append("versioned %r version %s: content %s, expected %s" % (
                    key, e[0], got and got[:12], e[2][:12]))
                continue
            tags = tagset(s3, Bucket=VER, Key=key, VersionId=e[0])
            okt = [tuple(sorted(e[3]))]
            if p and p[0] == "tag" and p[1] == e[0]:
                okt.append(tuple(sorted(p[2])))
            if tags not in okt:
                problems.append("versioned %r version %s: tags %r, expected one of %r" % (
                    key, e[0], tags, okt))
            else:
                e[3] = tags
        want = k.stack[-1][2] if k.stack and k.stack[-1][1] == "v" else None
        got = get_sha(s3, Bucket=VER, Key=key)
        if got != want:
            problems.append("versioned %r: GET (latest) content %s, expected %s" % (
                key, got and got[:12], want and want[:12]))
        k.pending = None
        k.fresh.clear()


def abort_uploads(s3, problems):
    for b in (UNVER, VER):
        for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])[:200]:
            try:
                s3.abort_multipart_upload(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])
            except ClientError as e:
                problems.append("abort %s: %s" % (u["Key"], e.response["Error"]))


# ---- the driver -----------------------------------------------------------

def check_fsck(srv, problems):
    rc, counts, out = srv.fsck()
    if rc != 0 or counts is None or counts[1:] != (0, 0, 0):
        problems.append("fsck exit %s: %s" % (rc, out.strip()[-600:]))
    return counts[0] if counts else -1


def setup(srv, session, model, rng):
    s3 = client(session, srv.endpoint, retries=3)
    s3.create_bucket(Bucket=UNVER)
    s3.create_bucket(Bucket=VER)
    s3.put_bucket_versioning(Bucket=VER, VersioningConfiguration={"Status": "Enabled"})
    for i, n in enumerate([0, 100, INLINE_MAX, INLINE_MAX + 1, 150_000]):
        data = rng.randbytes(n)
        k = "seed/%d" % i
        s3.put_object(Bucket=UNVER, Key=k, Body=data)
        model.seed_objects[k] = sha(data)


def run_cycle(n, srv, session, model, rng, args, log):
    t0 = time.monotonic()
    problems = []
    blobs = check_fsck(srv, problems)
    srv.start()
    s3v = client(session, srv.endpoint, retries=3)
    verify_plain(s3v, model, problems)
    verify_versioned(s3v, model, rng, problems)
    abort_uploads(s3v, problems)
    t_verify = time.monotonic() - t0

    stop = threading.Event()
    stats = {"acked": 0, "pending": 0}
    workers = [Worker(t, client(session, srv.endpoint), model,
                      random.Random(rng.getrandbits(64)), stop, stats)
               for t in range(args.threads)]
    kill_at = rng.uniform(*KILL_AFTER_S)
    start = time.monotonic()
    for w in workers:
        w.start()
    time.sleep(kill_at)
    srv.kill9()
    stop.set()
    killed = time.monotonic() - start
    for w in workers:
        w.join(WORKER_JOIN_S)
        if w.is_alive():
            problems.append("worker %d did not stop within %ds" % (w.tid, WORKER_JOIN_S))
        problems.extend(w.errors)
    log("cycle %d: %s ops acked=%d in-flight=%d kill@%.2fs blobs=%d verify %.1fs total %.1fs%s" % (
        n, "FAIL" if problems else "ok", stats["acked"], stats["pending"],
        killed, blobs, t_verify, time.monotonic() - t0,
        "".join("\n    " + p for p in problems[:25])))
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kura", nargs="?", default=os.environ.get("KURA_BIN", "build/kura"))
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    binary = os.path.abspath(args.kura)
    if not os.access(binary, os.X_OK):
        print("crash: no kura binary at %s (argument or KURA_BIN)" % binary, file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="kura-crash-")
    data = os.path.join(tmp, "data")
    srv = Server(binary, data, os.path.join(tmp, "kura.log"))
    print("crash: %s, %d cycles, %d threads, seed %d, data %s" % (
        binary, args.cycles, args.threads, seed, data), flush=True)
    session = boto3.session.Session()
    model = Model(args.threads)
    passed = failed = 0
    t0 = time.monotonic()
    try:
        srv.start()
        setup(srv, session, model, rng)
        srv.kill9()
        for n in range(1, args.cycles + 1):
            try:
                ok = run_cycle(n, srv, session, model, rng, args, lambda s: print(s, flush=True))
            except Exception as e:
                ok = False
                print("cycle %d: FAIL %r" % (n, e), flush=True)
                srv.kill9()
            passed += ok
            failed += not ok
        # Closing check: verify once more, then a clean stop and a last fsck.
        problems = []
        check_fsck(srv, problems)
        srv.start()
        s3v = client(session, srv.endpoint, retries=3)
        verify_plain(s3v, model, problems)
        verify_versioned(s3v, model, random.Random(0), problems)
        rc = srv.stop()
        if rc != 0:
            problems.append("SIGTERM exit %r (want 0)" % rc)
        check_fsck(srv, problems)
        print("final check: %s%s" % ("FAIL" if problems else "ok",
                                      "".join("\n    " + p for p in problems[:25])))
        if problems:
            failed += 1
    finally:
        srv.kill9()
        if args.keep or failed:
            print("crash: data and log kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("crash: %.0fs, seed %d" % (time.monotonic() - t0, seed))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
