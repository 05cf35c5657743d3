#!/usr/bin/env python3
"""fault.py: failing disks under a real kura (issue 14: fault injection).

    python3 tests/fault/fault.py [KURA_BIN] [--keep] [--only NAME]

Part 1, the LD_PRELOAD shim (tests/fault/faultfs.c, built here with cc): one
`kura serve` runs under the shim for every scenario. Each scenario writes a
fault into the control file (fsync/write/rename failing with EIO or ENOSPC,
on every file of the data directory or only on blob temp files or only on
the LMDB index), sends a set of mutations, then clears the fault:

  - a mutation that touches a failing file answers 500 InternalError or 503
    SlowDown, never 2xx, and leaves nothing visible;
  - a mutation that touches no failing file (e.g. an inline PUT while only
    blob renames fail) succeeds, and its result is intact;
  - with the fault cleared, the same server serves: the same mutations
    succeed, every earlier object is intact, /kura/health answers.

After the last scenario the server stops with SIGTERM (exit 0 wanted), and
`kura fsck` must be clean AND find no orphan to sweep: a failed request
leaves no blob file behind.

Part 2, a real full disk: the data directory on a 24 MiB tmpfs (mount needs
CAP_SYS_ADMIN; without it part 2 is reported as skipped, and ENOSPC is
covered by the shim in part 1). Blob PUTs fill the disk until they fail with
503 SlowDown or 500; then a ballast file is removed (space returns), and the
server must accept writes again with everything acknowledged intact.

Prints one line per scenario and, last, "N passed, N failed" (scenarios).
"""
import argparse
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS_KEY = "KURAFAULTACCESSKEY00"
SECRET_KEY = "kuraFaultSecretKey/000000000000000000000"
REGION = "us-east-1"
BLOB_BYTES = 100_000           # > 8 KiB: a blob file (temp file, fsync, rename)
INLINE_BYTES = 300             # <= 8 KiB: inside the LMDB record
TMPFS_BYTES = 24 << 20
BALLAST_BYTES = 6 << 20
FILL_PUT_BYTES = 1 << 20
FILL_PUTS_MAX = 40             # 40 MiB > the tmpfs: the disk fills before this
START_TIMEOUT_S = 30
BUCKET, VBUCKET = "fault", "fault-versioned"

# Which files each mutation writes: "mdb" (the LMDB index) and/or "blob" (a
# blob temp file, fsync'd and renamed into blobs/).
TOUCHES = {
    "put_inline": {"mdb"},
    "put_blob": {"mdb", "blob"},
    "put_versioned": {"mdb", "blob"},
    "upload_part": {"mdb", "blob"},
    "complete": {"mdb"},
    "copy": {"mdb"},              # a copy references the source's blobs
    "delete": {"mdb"},
    "tagging": {"mdb"},
}

# (name, control-file content, files it hits)
SCENARIOS = [
    ("fsync=EIO everywhere", "fsync=EIO", {"mdb", "blob"}),
    ("fsync=ENOSPC everywhere", "fsync=ENOSPC", {"mdb", "blob"}),
    ("write=EIO everywhere", "write=EIO", {"mdb", "blob"}),
    ("write=ENOSPC everywhere", "write=ENOSPC", {"mdb", "blob"}),
    ("rename=EIO (blob publish)", "rename=EIO", {"blob"}),
    ("write=ENOSPC on blob temp files", "write=ENOSPC path=/data/tmp/", {"blob"}),
    ("fsync=EIO on blob temp files", "fsync=EIO path=/data/tmp/", {"blob"}),
    ("fsync=EIO on the index", "fsync=EIO path=kura.mdb", {"mdb"}),
    ("write=ENOSPC on the index", "write=ENOSPC path=kura.mdb", {"mdb"}),
    ("all=EIO everywhere", "all=EIO", {"mdb", "blob"}),
]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_shim(out_dir):
    so = os.path.join(out_dir, "faultfs.so")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", so,
                    os.path.join(HERE, "faultfs.c"), "-ldl"], check=True)
    return so


class Server:
    def __init__(self, binary, data, log_path, env=None):
        self.bin, self.data, self.log_path = binary, data, log_path
        self.port = free_port()
        self.env = dict(os.environ, KURA_ACCESS_KEY_ID=ACCESS_KEY,
                        KURA_SECRET_ACCESS_KEY=SECRET_KEY)
        self.env.update(env or {})
        self.proc = None

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
            if self.healthy():
                return
            time.sleep(0.05)
        raise RuntimeError("kura not healthy after %ds" % START_TIMEOUT_S)

    def healthy(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3)
            c.request("GET", "/kura/health")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

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

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def fsck(self):
        """(exit code, 'blobs=.. orphans=..' line, orphans swept at open)"""
        env = {k: v for k, v in self.env.items() if k != "LD_PRELOAD"}
        p = subprocess.run([self.bin, "fsck", "--data", self.data], capture_output=True,
                           timeout=60, env=env)
        out = p.stdout.decode("utf-8", "replace").strip()
        err = p.stderr.decode("utf-8", "replace")
        m = re.search(r"orphans_removed=(\d+)", err)
        return p.returncode, out, int(m.group(1)) if m else 0

    def log_tail(self, n=15):
        with open(self.log_path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])


def client(endpoint):
    cfg = Config(region_name=REGION, signature_version="s3v4", s3={"addressing_style": "path"},
                 retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                 read_timeout=60)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION, config=cfg)


def outcome(fn, **kw):
    """(http status, error code or None, response or None). A connection the
    server closed without an answer is status 0, code "no response"."""
    try:
        r = fn(**kw)
        return r["ResponseMetadata"]["HTTPStatusCode"], None, r
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response.get("Error", {}).get("Code"), None)
    except BotoCoreError as e:
        return 0, "no response (%s)" % type(e).__name__, None


def get(s3, bucket, key, **kw):
    try:
        return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise


class Model:
    """What must be in each bucket: key -> sha (plain), and the versions."""

    def __init__(self):
        self.objects = {}       # key -> sha in BUCKET
        self.tags = {}          # key -> tag value in BUCKET
        self.versions = []      # (key, vid, sha) in VBUCKET

    def check(self, s3, problems, label):
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            listed.update(o["Key"] for o in page.get("Contents", []))
        if listed != set(self.objects):
            problems.append("%s: listing differs: extra %s, missing %s" % (
                label, sorted(listed - set(self.objects))[:8],
                sorted(set(self.objects) - listed)[:8]))
        for k, h in self.objects.items():
            data = get(s3, BUCKET, k)
            if data is None or sha(data) != h:
                problems.append("%s: %s is %s" % (label, k, "missing" if data is None
                                                  else "corrupt"))
        for k, v in self.tags.items():
            if k in self.objects:
                ts = s3.get_object_tagging(Bucket=BUCKET, Key=k)["TagSet"]
                if ts != [{"Key": "t", "Value": v}]:
                    problems.append("%s: %s has tags %r, want t=%s" % (label, k, ts, v))
        seen = set()
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=VBUCKET):
            seen.update((v["Key"], v["VersionId"]) for v in page.get("Versions", []))
        want = {(k, vid) for k, vid, _ in self.versions}
        if seen != want:
            problems.append("%s: versions differ: extra %s, missing %s" % (
                label, sorted(seen - want)[:4], sorted(want - seen)[:4]))
        for k, vid, h in self.versions:
            data = get(s3, VBUCKET, k, VersionId=vid)
            if data is None or sha(data) != h:
                problems.append("%s: version %s of %s is %s" % (
                    label, vid, k, "missing" if data is None else "corrupt"))


def mutations(s3, model, tag, pre_upload):
    """The mutations of one round, as (kind, thunk, on_success). Keys carry
    `tag` so that a failed round leaves keys nobody writes again."""
    inline = os.urandom(INLINE_BYTES)
    blob = os.urandom(BLOB_BYTES)
    vblob = os.urandom(BLOB_BYTES + 1)
    part2 = os.urandom(BLOB_BYTES)
    victim = "victim-" + tag                  # present before, deleted by the round
    tagged = "tagged-" + tag
    s3.put_object(Bucket=BUCKET, Key=victim, Body=b"v")
    s3.put_object(Bucket=BUCKET, Key=tagged, Body=b"t")
    model.objects[victim] = sha(b"v")
    model.objects[tagged] = sha(b"t")
    model.tags[tagged] = "before"
    s3.put_object_tagging(Bucket=BUCKET, Key=tagged,
                          Tagging={"TagSet": [{"Key": "t", "Value": "before"}]})
    up_key, up_id, part1, etag1 = pre_upload
    state = {}

    def ok_put(key, data):
        return lambda r: model.objects.__setitem__(key, sha(data))

    def ok_part(r):
        state["etag2"] = r["ETag"]

    def complete():
        parts = [{"PartNumber": 1, "ETag": etag1}]
        if "etag2" in state:
            parts.append({"PartNumber": 2, "ETag": state["etag2"]})
        state["mpu_data"] = part1 + (part2 if "etag2" in state else b"")
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=up_key, UploadId=up_id,
                                            MultipartUpload={"Parts": parts})

    return [
        ("put_inline", lambda: s3.put_object(Bucket=BUCKET, Key="inline-" + tag, Body=inline),
         ok_put("inline-" + tag, inline)),
        ("put_blob", lambda: s3.put_object(Bucket=BUCKET, Key="blob-" + tag, Body=blob),
         ok_put("blob-" + tag, blob)),
        ("put_versioned", lambda: s3.put_object(Bucket=VBUCKET, Key="v", Body=vblob),
         lambda r: model.versions.append(("v", r["VersionId"], sha(vblob)))),
        ("upload_part", lambda: s3.upload_part(Bucket=BUCKET, Key=up_key, UploadId=up_id,
                                               PartNumber=2, Body=part2), ok_part),
        ("complete", complete,
         lambda r: model.objects.__setitem__(up_key, sha(state["mpu_data"]))),
        ("copy", lambda: s3.copy_object(Bucket=BUCKET, Key="copy-" + tag,
                                        CopySource={"Bucket": BUCKET, "Key": "seed-blob"}),
         lambda r: model.objects.__setitem__("copy-" + tag, model.objects["seed-blob"])),
        ("delete", lambda: s3.delete_object(Bucket=BUCKET, Key=victim),
         lambda r: model.objects.pop(victim)),
        ("tagging", lambda: s3.put_object_tagging(
            Bucket=BUCKET, Key=tagged, Tagging={"TagSet": [{"Key": "t", "Value": "after"}]}),
         lambda r: model.tags.__setitem__(tagged, "after")),
    ]


def new_upload(s3, key):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    part1 = os.urandom(5 << 20)          # every part but the last is >= 5 MiB
    etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=1, Body=part1)["ETag"]
    return key, up, part1, etag


def run_round(s3, model, tag, hits, problems, label):
    """Sends one round of mutations; `hits` is the set of failing file kinds."""
    pre = new_upload(s3, "mpu-" + tag)
    codes = []
    for kind, thunk, on_ok in mutations(s3, model, tag, pre):
        try:
            r = thunk()
            status, code = r["ResponseMetadata"]["HTTPStatusCode"], None
        except ClientError as e:
            r = None
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            code = e.response.get("Error", {}).get("Code")
        must_fail = bool(TOUCHES[kind] & hits)
        if r is not None:
            if must_fail:
                problems.append("%s: %s answered %d under the fault (want 500/503)"
                                % (label, kind, status))
            on_ok(r)
        else:
            if not must_fail:
                problems.append("%s: %s failed with %d %s but touches no failing file"
                                % (label, kind, status, code))
            elif (status, code) not in ((500, "InternalError"), (503, "SlowDown")):
                problems.append("%s: %s failed with %d %s (want 500 InternalError or "
                                "503 SlowDown)" % (label, kind, status, code))
        codes.append("%s=%s" % (kind, status if code is None else "%d/%s" % (status, code)))
    # An upload left open (its completion failed) is aborted once faults are off.
    return pre, codes


def shim_part(binary, tmp, results):
    so = build_shim(tmp)
    data = os.path.join(tmp, "data")
    ctl = os.path.join(tmp, "faultfs.ctl")
    flog = os.path.join(tmp, "faultfs.log")
    open(ctl, "w").close()
    srv = Server(binary, data, os.path.join(tmp, "kura.log"),
                 {"LD_PRELOAD": so, "FAULTFS_DIR": data, "FAULTFS_CTL": ctl,
                  "FAULTFS_LOG": flog})
    model = Model()
    srv.start()
    try:
        s3 = client(srv.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket=VBUCKET)
        s3.put_bucket_versioning(Bucket=VBUCKET, VersioningConfiguration={"Status": "Enabled"})
        seed = os.urandom(BLOB_BYTES)
        s3.put_object(Bucket=BUCKET, Key="seed-blob", Body=seed)
        model.objects["seed-blob"] = sha(seed)
        problems = []
        run_round(s3, model, "before", set(), problems, "baseline")
        model.check(s3, problems, "baseline")
        results.append(("baseline (no fault)", problems))

        for i, (name, spec, hits) in enumerate(SCENARIOS):
            problems = []
            tag = "s%d" % i
            t0 = time.monotonic()
            injected_before = count_lines(flog)
            # The multipart upload and the round's victims are made before the fault.
            pre_upload = new_upload(s3, "mpu-" + tag)
            muts = mutations(s3, model, tag, pre_upload)
            with open(ctl, "w") as f:
                f.write(spec + "\n")
            codes = []
            for kind, thunk, on_ok in muts:
                st, code, r = outcome(lambda **_: thunk())
                must_fail = bool(TOUCHES[kind] & hits)
                if r is not None:
                    if must_fail:
                        problems.append("%s answered %d under the fault (want 500/503)"
                                        % (kind, st))
                    on_ok(r)
                elif not must_fail:
                    problems.append("%s failed with %d %s, but it touches no failing file"
                                    % (kind, st, code))
                elif (st, code) not in ((500, "InternalError"), (503, "SlowDown")):
                    problems.append("%s failed with %d %s (want 500 InternalError or "
                                    "503 SlowDown)" % (kind, st, code))
                codes.append("%s:%s" % (kind, st if code is None else code.split(" ")[0]))
            with open(ctl, "w") as f:
                f.write("")
            injected = count_lines(flog) - injected_before
            if injected == 0:
                problems.append("the shim injected no failure (is LD_PRELOAD working?)")
            if srv.proc.poll() is not None:
                problems.append("kura exited (%s) under the fault; log:\n%s"
                                % (srv.proc.returncode, srv.log_tail()))
                srv.start()
                s3 = client(srv.endpoint)
            elif not srv.healthy():
                problems.append("kura does not answer /kura/health after the fault")
            # Faults off: the same server keeps serving, old state intact.
            try:
                s3.abort_multipart_upload(Bucket=BUCKET, Key=pre_upload[0],
                                          UploadId=pre_upload[1])
            except ClientError as e:
                if e.response["Error"]["Code"] != "NoSuchUpload":
                    problems.append("abort after the fault: %s" % e.response["Error"])
            model.check(s3, problems, "after")
            try:
                run_round(s3, model, tag + "-again", set(), problems, "recovered")
            except ClientError as e:
                problems.append("writes fail after the fault is cleared: %s"
                                % e.response.get("Error"))
            model.check(s3, problems, "recovered")
            results.append(("%s (%d injected, %.1fs) %s" % (
                name, injected, time.monotonic() - t0, " ".join(codes)), problems))

        problems = []
        if not srv.healthy():
            problems.append("not healthy at the end")
    finally:
        rc = srv.stop()
    if rc != 0:
        problems.append("SIGTERM exit %r (want 0); log:\n%s" % (rc, srv.log_tail()))
    frc, fout, swept = srv.fsck()
    if frc != 0 or not re.search(r"orphans=0 missing=0 bad_refcounts=0", fout):
        problems.append("fsck exit %d: %s" % (frc, fout))
    if swept:
        problems.append("store_open swept %d orphan blob(s): failed requests left blob "
                        "files behind" % swept)
    results.append(("clean stop + fsck (%s)" % fout, problems))


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def tmpfs_part(binary, tmp, results):
    mnt = os.path.join(tmp, "tmpfs")
    os.mkdir(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % TMPFS_BYTES, "tmpfs", mnt],
                       capture_output=True)
    if p.returncode != 0:
        print("tmpfs: mount not permitted here (%s); real disk-full skipped, ENOSPC is covered "
              "by the shim scenarios" % p.stderr.decode().strip(), flush=True)
        return
    try:
        tmpfs_run(binary, mnt, tmp, results)
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def tmpfs_run(binary, mnt, tmp, results):
    problems = []
    t0 = time.monotonic()
    data = os.path.join(mnt, "data")
    ballast = os.path.join(mnt, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * BALLAST_BYTES)
        f.flush()
        os.fsync(f.fileno())
    srv = Server(binary, data, os.path.join(tmp, "kura-tmpfs.log"))
    srv.start()
    fills = []
    try:
        s3 = client(srv.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        acked = {}
        first_fail = None
        codes = {}
        for i in range(FILL_PUTS_MAX):
            body = os.urandom(FILL_PUT_BYTES)
            st, code, r = outcome(s3.put_object, Bucket=BUCKET, Key="fill-%02d" % i, Body=body)
            if r is not None:
                acked["fill-%02d" % i] = sha(body)
                if first_fail is not None:
                    problems.append("PUT fill-%02d succeeded after the disk was full" % i)
                continue
            codes[(st, code)] = codes.get((st, code), 0) + 1
            if (st, code) not in ((503, "SlowDown"), (500, "InternalError")):
                problems.append("PUT on a full disk: %d %s (want 503 SlowDown or 500)"
                                % (st, code))
            if first_fail is None:
                first_fail = i
            if i - first_fail >= 3:
                break
        fills.append(len(acked))
        if first_fail is None:
            problems.append("the disk never filled (%d MiB written)" % FILL_PUTS_MAX)
        # A small PUT may or may not fit; if it is acknowledged it must be intact.
        small = os.urandom(INLINE_BYTES)
        st, code, r = outcome(s3.put_object, Bucket=BUCKET, Key="small-full", Body=small)
        if r is not None:
            acked["small-full"] = sha(small)
        elif (st, code) not in ((503, "SlowDown"), (500, "InternalError")):
            problems.append("inline PUT on a full disk: %d %s" % (st, code))
        if not srv.healthy():
            problems.append("not healthy with the disk full")
        # Space returns.
        os.unlink(ballast)
        for i in range(3):
            body = os.urandom(FILL_PUT_BYTES)
            st, code, r = outcome(s3.put_object, Bucket=BUCKET, Key="after-%d" % i, Body=body)
            if r is None:
                problems.append("PUT after space returned: %d %s" % (st, code))
            else:
                acked["after-%d" % i] = sha(body)
        for k in list(acked)[:4]:
            st, code, r = outcome(s3.delete_object, Bucket=BUCKET, Key=k)
            if r is None:
                problems.append("DELETE %s after space returned: %d %s" % (k, st, code))
            else:
                del acked[k]
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            listed.update(o["Key"] for o in page.get("Contents", []))
        if listed != set(acked):
            problems.append("listing: extra %s, missing %s" % (sorted(listed - set(acked)),
                                                             sorted(set(acked) - listed)))
        for k, h in acked.items():
            d = get(s3, BUCKET, k)
            if d is None or sha(d) != h:
                problems.append("%s %s after the disk was full" % (
                    k, "missing" if d is None else "corrupt"))
    finally:
        rc = srv.stop()
    if rc != 0:
        problems.append("SIGTERM exit %r; log:\n%s" % (rc, srv.log_tail()))
    frc, fout, swept = srv.fsck()
    if frc != 0 or not re.search(r"orphans=0 missing=0 bad_refcounts=0", fout):
        problems.append("fsck exit %d: %s" % (frc, fout))
    if swept:
        problems.append("store_open swept %d orphan blob(s) after the disk-full run" % swept)
    results.append(("tmpfs %d MiB: disk full after %s x 1 MiB PUTs, then %s; space returned "
                    "(%.1fs)" % (TMPFS_BYTES >> 20, fills[0] if fills else "?",
                                 ", ".join("%dx %s %s" % (n, s, c) for (s, c), n in
                                           sorted(codes.items())) if fills else "-",
                                 time.monotonic() - t0), problems))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kura", nargs="?", default=os.environ.get("KURA_BIN", "build/kura"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", choices=["shim", "tmpfs"])
    args = ap.parse_args()
    binary = os.path.abspath(args.kura)
    if not os.access(binary, os.X_OK):
        print("fault: no kura binary at %s (argument or KURA_BIN)" % binary, file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="kura-fault-")
    results = []
    t0 = time.monotonic()
    print("fault: %s, work dir %s" % (binary, tmp), flush=True)
    try:
        for part, fn in (("shim", shim_part), ("tmpfs", tmpfs_part)):
            if args.only and args.only != part:
                continue
            n0 = len(results)
            try:
                fn(binary, tmp, results)
            except Exception as e:
                results.append(("%s part aborted: %r" % (part, e), [repr(e)]))
            for name, problems in results[n0:]:
                print("%s: %s" % ("FAIL" if problems else "ok", name), flush=True)
                for p in problems[:20]:
                    print("    " + p, flush=True)
    finally:
        failed = sum(1 for _, p in results if p)
        if args.keep or failed:
            print("fault: work dir kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = len(results) - failed
    print("fault: %.0fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
