#!/usr/bin/env python3
"""tests/soak/soak.py: a bounded load soak against a real kura on loopback.

    python3 tests/soak/soak.py build/kura                  # CI: 60 s
    python3 tests/soak/soak.py build/kura --seconds 1800   # the long run

Starts `kura serve` on a fresh data directory and a free loopback port, then
for --seconds runs at once:
  * wrk (--connections, default 64) with a Lua mix of anonymous requests on a
    bucket whose policy allows them: 70% GET of a pre-written object
    (1-16 KiB), 20% PUT of 4 KiB over a bounded key space (w/0..511), 10%
    ListObjectsV2 of 50 keys;
  * --signers (default 8) Python threads with their own boto3 clients doing
    SigV4-signed PUT / GET-and-compare / LIST / DELETE on their own keys.
It samples the server's memory every 0.5 s (/proc/PID/status) and checks:
  1. wrk ran and saw no non-2xx answer and no socket error
  2. the signed clients saw no error and read back every byte they wrote
  3. anonymous memory (RssAnon: heap, not LMDB's file-backed map) grew less
     than --rss-bound-mib (default 64) from the end of the warm-up (the
     first 10% of the run, at least 5 s) to the end
  4. kura stops cleanly on SIGTERM (exit 0) within 30 s
It prints requests, req/s, p50/p99/max latency (wrk and the signed
clients), RSS at start/end/peak, and ends with "N passed, N failed".
Exit status 0 only if every check passed.

--bin-env VAR=VALUE passes environment to kura (e.g. TSAN_OPTIONS); with
--no-rss-check (sanitizer builds) check 3 is reported but not asserted.
"""
import argparse
import hashlib
import json
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
import urllib.request

ACCESS_KEY = "KURASOAKACCESSKEY000"
SECRET_KEY = "kuraSoakSecretKey/0000000000000000000000"
BUCKET = "soak"
PRELOAD = 256

WRK_LUA = r"""
-- soak.lua: the anonymous request mix (see tests/soak/soak.py)
local counter = 0
local bodies = {}
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  for i = 1, 4 do bodies[i] = string.rep(string.char(96 + i), 4096) end
end
function request()
  counter = counter + 1
  local r = math.random(100)
  if r <= 70 then
    return wrk.format("GET", string.format("/%s/k/%04d", "BUCKET", math.random(0, PRELOAD - 1)))
  elseif r <= 90 then
    return wrk.format("PUT", string.format("/%s/w/%d", "BUCKET", math.random(0, 511)),
                      {["Content-Type"] = "application/octet-stream"}, bodies[math.random(4)])
  else
    return wrk.format("GET", string.format("/%s?list-type=2&max-keys=50&prefix=k/0%d", "BUCKET",
                                           math.random(0, 2)))
  end
end
local bad = 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if bad <= 5 then io.stderr:write("soak: wrk got " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end
""".replace("BUCKET", BUCKET).replace("PRELOAD", str(PRELOAD))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_mem(pid):
    """(VmRSS, RssAnon) in bytes, or None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    vals = {}
    for k in ("VmRSS", "RssAnon"):
        m = re.search(r"^%s:\s+(\d+) kB" % k, text, re.M)
        vals[k] = int(m.group(1)) * 1024 if m else 0
    return vals["VmRSS"], vals["RssAnon"]


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def wrk_ms(text):
    """'1.23ms' / '850.00us' / '1.02s' -> milliseconds."""
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    if not m:
        return None
    v = float(m.group(1))
    return v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else \
        v * 60000.0 if m.group(2) == "m" else v


class Soak:
    def __init__(self, a):
        self.a = a
        self.checks = []  # (name, ok, detail)
        self.tmp = tempfile.mkdtemp(prefix="kura-soak-")
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.samples = []  # (t, vmrss, rssanon)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.signed_lat = []
        self.signed_ops = 0
        self.signed_errors = []

    def check(self, name, ok, detail=""):
        self.checks.append((name, ok, detail))
        print("soak: %s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""),
              flush=True)

    # ---- the server ------------------------------------------------------
    def start(self):
        env = dict(os.environ)
        env.update({"KURA_ACCESS_KEY_ID": ACCESS_KEY, "KURA_SECRET_ACCESS_KEY": SECRET_KEY})
        for kv in self.a.bin_env:
            k, _, v = kv.partition("=")
            env[k] = v
        self.log_path = os.path.join(self.tmp, "kura.log")
        data = os.path.join(self.tmp, "data")
        with open(self.log_path, "wb") as log:
            # The access log (one line a request) goes to /dev/null-like
            # volume; keep it: a 5xx's line is the first thing to read.
            self.proc = subprocess.Popen(
                [os.path.abspath(self.a.bin), "serve", "--data", data, "--listen",
                 "127.0.0.1:%d" % self.port], stdout=subprocess.DEVNULL, stderr=log,
                stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kura exited with %s during start" % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.endpoint + "/kura/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("kura did not become healthy in 60 s")

    def stop_server(self):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "timeout"

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1},
                                          max_pool_connections=4))

    def setup(self):
        s3 = self.client()
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*",
                 "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": "arn:aws:s3:::%s/*" % BUCKET},
                {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                 "Resource": "arn:aws:s3:::%s" % BUCKET}]}))
        rnd = random.Random(7)
        for i in range(PRELOAD):
            s3.put_object(Bucket=BUCKET, Key="k/%04d" % i,
                          Body=bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1024, 16384))))

    # ---- load ------------------------------------------------------------
    def sampler(self):
        t0 = time.monotonic()
        while not self.stop.is_set():
            m = proc_mem(self.proc.pid)
            if m:
                self.samples.append((time.monotonic() - t0, m[0], m[1]))
            self.stop.wait(0.5)

    def signer(self, tid, deadline):
        s3 = self.client()
        rnd = random.Random(tid)
        i = 0
        while time.monotonic() < deadline:
            i += 1
            key = "s/%d/%d" % (tid, i % 64)
            body = rnd.randbytes(rnd.choice((100, 3000, 20000, 70000)))
            try:
                t = time.monotonic()
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                t1 = time.monotonic()
                got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                t2 = time.monotonic()
                lat = [t1 - t, t2 - t1]
                if hashlib.md5(got).digest() != hashlib.md5(body).digest():
                    raise AssertionError("GET %s returned %d bytes, not the %d written"
                                         % (key, len(got), len(body)))
                if i % 8 == 0:
                    t = time.monotonic()
                    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="s/%d/" % tid)
                    lat.append(time.monotonic() - t)
                    if key not in [o["Key"] for o in r.get("Contents", [])]:
                        raise AssertionError("LIST s/%d/ misses %s" % (tid, key))
                if i % 16 == 0:
                    t = time.monotonic()
                    s3.delete_object(Bucket=BUCKET, Key=key)
                    lat.append(time.monotonic() - t)
                with self.lock:
                    self.signed_lat.extend(lat)
                    self.signed_ops += len(lat)
            except Exception as e:  # noqa: BLE001 -- every failure is a finding
                with self.lock:
                    self.signed_errors.append("%s: %r" % (key, e))
                    self.signed_ops += 1
                time.sleep(0.05)

    def run_wrk(self, seconds, out):
        script = os.path.join(self.tmp, "soak.lua")
        with open(script, "w") as f:
            f.write(WRK_LUA)
        cmd = ["wrk", "-t2", "-c%d" % self.a.connections, "-d%ds" % seconds, "--latency",
               "--timeout", "10s", "-s", script, self.endpoint]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out["rc"] = p.returncode
        out["stdout"] = p.stdout
        out["stderr"] = p.stderr

    def run(self):
        a = self.a
        self.start()
        self.setup()
        threading.Thread(target=self.sampler, daemon=True).start()
        print("soak: %d s, wrk %d connections (GET 70%% / PUT 20%% / LIST 10%%) + %d signed "
              "clients, against %s" % (a.seconds, a.connections, a.signers, a.bin), flush=True)
        deadline = time.monotonic() + a.seconds
        wrk_out = {}
        have_wrk = shutil.which("wrk") is not None
        threads = []
        if have_wrk:
            threads.append(threading.Thread(target=self.run_wrk, args=(a.seconds, wrk_out)))
        threads += [threading.Thread(target=self.signer, args=(i, deadline))
                    for i in range(a.signers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(1.0)  # one more sample after the load
        self.stop.set()
        alive = self.proc.poll() is None

        # 1. wrk
        if not have_wrk:
            self.check("wrk load (anonymous GET/PUT/LIST)", False, "wrk is not installed")
        else:
            txt = wrk_out.get("stdout", "")
            print("---- wrk\n" + txt.rstrip() + "\n----", flush=True)
            if wrk_out.get("stderr"):
                print(wrk_out["stderr"].rstrip(), flush=True)
            m = re.search(r"(\d+) requests in", txt)
            reqs = int(m.group(1)) if m else 0
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
            non2xx = int(m.group(1)) if m else 0
            m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", txt)
            sockerr = sum(int(x) for x in m.groups()) if m else 0
            m = re.search(r"Requests/sec:\s+([\d.]+)", txt)
            rps = float(m.group(1)) if m else 0.0
            lat = {p: wrk_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", txt, re.M)}
            m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", txt)
            mx = wrk_ms(m.group(1)) if m else None
            print("soak: wrk: %d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, max %s ms, "
                  "non-2xx %d, socket errors %d" % (reqs, rps, lat.get("50") or 0,
                                                    lat.get("99") or 0,
                                                    "%.1f" % mx if mx is not None else "?",
                                                    non2xx, sockerr), flush=True)
            self.check("wrk load (anonymous GET/PUT/LIST)",
                       wrk_out.get("rc") == 0 and reqs > 0 and non2xx == 0 and sockerr == 0,
                       "%d requests, %d non-2xx, %d socket errors" % (reqs, non2xx, sockerr))

        # 2. signed clients
        lat = sorted(self.signed_lat)
        print("soak: signed clients: %d operations, %.0f ops/s, p50 %.2f ms, p99 %.2f ms, "
              "max %.1f ms, errors %d" % (self.signed_ops, self.signed_ops / max(1, a.seconds),
                                          pct(lat, 50) * 1000, pct(lat, 99) * 1000,
                                          (lat[-1] if lat else 0) * 1000,
                                          len(self.signed_errors)), flush=True)
        for e in self.signed_errors[:5]:
            print("soak:   " + e, flush=True)
        self.check("signed PUT/GET/LIST/DELETE with read-back", self.signed_ops > 0 and
                   not self.signed_errors, "%d ops, %d errors" % (self.signed_ops,
                                                                 len(self.signed_errors)))

        # 3. memory
        warm = max(5.0, a.seconds * 0.1)
        base = [s for s in self.samples if s[0] >= warm]
        if base and alive:
            b, e = base[0], self.samples[-1]
            peak = max(s[1] for s in self.samples)
            growth = e[2] - b[2]
            mib = 1024 * 1024
            print("soak: RSS start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB, peak %.1f MiB; "
                  "RssAnon after warm-up %.1f MiB, end %.1f MiB (growth %.1f MiB, bound %d MiB)"
                  % (self.samples[0][1] / mib, b[1] / mib, e[1] / mib, peak / mib, b[2] / mib,
                     e[2] / mib, growth / mib, a.rss_bound_mib), flush=True)
            ok = growth < a.rss_bound_mib * mib
            if a.no_rss_check:
                print("soak: (memory bound not asserted: --no-rss-check)")
                ok = True
            self.check("memory growth under %d MiB" % a.rss_bound_mib, ok,
                       "%+.1f MiB anonymous" % (growth / mib))
        else:
            self.check("memory growth under %d MiB" % a.rss_bound_mib, False,
                       "server died" if not alive else "no samples after warm-up")

        # 4. clean stop
        rc = self.stop_server()
        self.check("clean shutdown on SIGTERM", rc == 0, "exit %s" % rc)
        if rc != 0 or any(not c[1] for c in self.checks):
            print("---- kura log tail (errors)", flush=True)
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            bad = [ln for ln in lines if "status=5" in ln or "status=4" in ln or
                   "WARNING" in ln or "ERROR" in ln or "Sanitizer" in ln]
            for ln in (bad or lines)[-40:]:
                print(ln)
            print("----", flush=True)

    def finish(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        passed = sum(1 for c in self.checks if c[1])
        failed = len(self.checks) - passed
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("soak: kept %s" % self.tmp)
        print("%d passed, %d failed" % (passed, failed), flush=True)
        return 0 if failed == 0 and passed > 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bin", help="path to the kura binary (a release build)")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("KURA_SOAK_SECONDS", 60)))
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--signers", type=int, default=8)
    ap.add_argument("--rss-bound-mib", type=int, default=64)
    ap.add_argument("--no-rss-check", action="store_true")
    ap.add_argument("--bin-env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--keep", action="store_true", help="keep the data dir and log")
    a = ap.parse_args()
    s = Soak(a)
    try:
        s.run()
    except Exception as e:  # noqa: BLE001
        s.check("soak ran", False, repr(e))
    sys.exit(s.finish())


if __name__ == "__main__":
    main()
