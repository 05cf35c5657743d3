"""kura_harness.py: start a real kura on a fresh data dir, hand tests real clients.

KuraTestCase starts one `kura serve` per test class (setUpClass) on a free
loopback port with fixed root credentials, and stops it with SIGTERM in
tearDownClass, asserting exit code 0. The binary comes from $KURA_BIN
(tests/integration/run.sh sets it).

Helpers:
  self.s3                         boto3 client, path-style, us-east-1
  self.client(**kw)               another boto3 client (other keys, virtual style, ...)
  self.aws(*args, v=1|2)          aws-cli v1 (python3 -m awscli) or v2 (/usr/bin/aws)
  self.s3cmd(*args)               s3cmd with a generated config
  self.rclone(*args)              rclone with the remote "kura:" from env
  self.raw(method, path, ...)     a SigV4-signed request sent with http.client
  self.new_bucket()               create a uniquely named bucket
  self.kill9_and_restart()        SIGKILL, then start again on the same data dir/port
  self.server_rss_bytes()         VmRSS of the server, from /proc
  self.server_log()               the server's stderr so far (access log lines)
"""
import datetime
import hashlib
import http.client
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

import boto3
import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError  # noqa: F401  (re-exported for tests)

ACCESS_KEY = "KURATESTACCESSKEY000"
SECRET_KEY = "kuraTestSecretKey/0000000000000000000000"
REGION = "us-east-1"
HERE = os.path.dirname(os.path.abspath(__file__))
AWS_V2 = os.environ.get("KURA_AWS_V2", "/usr/bin/aws")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def md5_etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def kura_bin():
    b = os.environ.get("KURA_BIN")
    if not b:
        raise unittest.SkipTest("KURA_BIN is not set (run tests/integration/run.sh BIN)")
    return os.path.abspath(b)


class _FixedPayloadAuth(S3SigV4Auth):
    """SigV4 with the x-amz-content-sha256 value we choose (botocore would
    otherwise recompute it from the body)."""

    def __init__(self, credentials, service, region, payload_hash):
        super().__init__(credentials, service, region)
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


class KuraServer:
    """One kura process on one data dir. Restartable on the same dir and port."""

    def __init__(self, data_dir, port=None, env=None, extra_args=()):
        self.bin = kura_bin()
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.update({"KURA_ACCESS_KEY_ID": ACCESS_KEY, "KURA_SECRET_ACCESS_KEY": SECRET_KEY})
        # ASan: leaks are reported at exit and make the exit code non-zero; a
        # smaller quarantine keeps a sanitized server's RSS meaningful.
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:quarantine_size_mb=64")
        if env:
            for k, v in env.items():
                if v is None:
                    self.env.pop(k, None)
                else:
                    self.env[k] = v
        self.proc = None
        self.log_path = os.path.join(os.path.dirname(data_dir.rstrip("/")),
                                     "kura-%d.log" % self.port)
        self.out_path = self.log_path + ".stdout"
        self.starts = 0

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.starts += 1
        log = open(self.log_path, "ab")
        out = open(self.out_path, "ab")
        args = [self.bin, "serve", "--data", self.data_dir,
                "--listen", "127.0.0.1:%d" % self.port] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=out, stderr=log, stdin=subprocess.DEVNULL,
                                     env=self.env)
        log.close()
        out.close()
        self.wait_healthy()

    def wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kura exited with %s during start; log:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/kura/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
                last = "status %d" % r.status
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError("kura did not become healthy in %ds (%s); log:\n%s"
                           % (START_TIMEOUT_S, last, self.log_tail()))

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Send `sig` and wait; returns the exit code (negative for a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "timeout"
                self.proc = None
                return rc
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def rss_bytes(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for pid %d" % self.proc.pid)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stdout(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])


class KuraTestCase(unittest.TestCase):
    """A test class sharing one kura server on a fresh data directory."""

    server = None
    _names = itertools.count()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="kura-it-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        os.mkdir(cls.data_dir)
        cls.server = KuraServer(cls.data_dir)
        try:
            cls.server.start()
        except Exception:
            cls.server.stop(signal.SIGKILL)
            raise
        cls.endpoint = cls.server.endpoint
        cls.port = cls.server.port
        cls.s3 = cls.make_client()
        cls._cli_home = os.path.join(cls.tmp, "cli")
        os.mkdir(cls._cli_home)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop() if cls.server else 0
        keep = os.environ.get("KURA_KEEP_TMP") == "1"
        if rc != 0:
            tail = cls.server.log_tail(60)
            if not keep:
                shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("kura exited with %r after SIGTERM (want 0); log tail:\n%s"
                                 % (rc, tail))
        if not keep:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # ---- clients -------------------------------------------------------

    @classmethod
    def make_client(cls, access_key=ACCESS_KEY, secret_key=SECRET_KEY, addressing_style="path",
                    endpoint=None, **config):
        cfg = Config(region_name=REGION, signature_version="s3v4",
                     s3={"addressing_style": addressing_style},
                     retries={"max_attempts": 1, "mode": "standard"},
                     connect_timeout=10, read_timeout=120, **config)
        return boto3.client("s3", endpoint_url=endpoint or cls.endpoint,
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                            region_name=REGION, config=cfg)

    def client(self, **kw):
        return self.make_client(**kw)

    def new_bucket(self, prefix="t", create=True):
        name = "%s-%d-%s" % (prefix, next(self._names), uuid.uuid4().hex[:8])
        if create:
            self.s3.create_bucket(Bucket=name)
        return name

    def bucket_names(self):
        return sorted(b["Name"] for b in self.s3.list_buckets()["Buckets"])

    def keys(self, bucket, prefix=""):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return out

    def assertClientError(self, ctx, code, status):
        """`ctx` is assertRaises(ClientError)'s context manager."""
        err = ctx.exception.response
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        self.assertEqual(err["Error"]["Code"], code, err)

    # ---- command-line clients -----------------------------------------

    def _cli_env(self, extra=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_") or k.startswith("RCLONE_"):
                del env[k]
        cfg = os.path.join(self._cli_home, "aws-config")
        if not os.path.exists(cfg):
            with open(cfg, "w") as f:
                # Multipart is not in the foundation issue: one PUT for any size.
                f.write("[default]\nregion = %s\ns3 =\n  multipart_threshold = 6GB\n"
                        "  multipart_chunksize = 5GB\n  addressing_style = path\n" % REGION)
        env.update({
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": cfg,
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self._cli_home, "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "", "HOME": self._cli_home,
        })
        if extra:
            env.update(extra)
        return env

    def _run(self, argv, env, check, input_bytes=None, timeout=600, stdout=None):
        p = subprocess.run(argv, env=env, input=input_bytes, timeout=timeout,
                           stdout=stdout if stdout is not None else subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if check and p.returncode != 0:
            self.fail("%s exited %d\nstdout: %s\nstderr: %s\nserver log tail:\n%s"
                      % (" ".join(argv[:6]), p.returncode,
                         (p.stdout or b"")[-2000:].decode("utf-8", "replace"),
                         p.stderr[-4000:].decode("utf-8", "replace"), self.server.log_tail(15)))
        return p

    def aws_argv(self, v=1):
        if v == 1:
            return [sys.executable, "-m", "awscli"]
        if not os.path.exists(AWS_V2):
            self.skipTest("aws-cli v2 not installed at %s" % AWS_V2)
        return [AWS_V2]

    def aws(self, *args, v=1, check=True, input_bytes=None, timeout=600, stdout=None):
        env = self._cli_env()
        if v == 2:
            # Debian's aws-cli v2 runs on /usr/bin/python3; keep pyenv's paths away.
            for k in ("PYTHONPATH", "PYTHONHOME", "PYENV_VERSION"):
                env.pop(k, None)
        argv = self.aws_argv(v) + ["--endpoint-url", self.endpoint] + [str(a) for a in args]
        return self._run(argv, env, check, input_bytes, timeout, stdout)

    def s3cmd(self, *args, check=True):
        cfg = os.path.join(self._cli_home, "s3cmd.cfg")
        with open(cfg, "w") as f:
            f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = 127.0.0.1:%d\n"
                    "host_bucket = 127.0.0.1:%d\nuse_https = False\nsignature_v2 = False\n"
                    "bucket_location = %s\ncheck_ssl_certificate = False\n"
                    "enable_multipart = False\nguess_mime_type = True\n"
                    % (ACCESS_KEY, SECRET_KEY, self.port, self.port, REGION))
        env = self._cli_env()
        for k in ("PYTHONPATH", "PYTHONHOME", "PYENV_VERSION"):
            env.pop(k, None)
        exe = shutil.which("s3cmd", path="/usr/bin:/usr/local/bin") or "s3cmd"
        return self._run([exe, "-c", cfg] + [str(a) for a in args], env, check)

    def rclone(self, *args, check=True):
        env = self._cli_env({
            "RCLONE_CONFIG": os.path.join(self._cli_home, "rclone.conf"),
            "RCLONE_CONFIG_KURA_TYPE": "s3", "RCLONE_CONFIG_KURA_PROVIDER": "Other",
            "RCLONE_CONFIG_KURA_ACCESS_KEY_ID": ACCESS_KEY,
            "RCLONE_CONFIG_KURA_SECRET_ACCESS_KEY": SECRET_KEY,
            "RCLONE_CONFIG_KURA_ENDPOINT": self.endpoint,
            "RCLONE_CONFIG_KURA_REGION": REGION,
            "RCLONE_CONFIG_KURA_FORCE_PATH_STYLE": "true",
        })
        open(env["RCLONE_CONFIG"], "a").close()
        exe = shutil.which("rclone") or "rclone"
        return self._run([exe] + [str(a) for a in args], env, check)

    # ---- raw signed HTTP ----------------------------------------------

    def raw(self, method, path, query=None, headers=None, body=b"", host=None, sign=True,
            access_key=ACCESS_KEY, secret_key=SECRET_KEY, payload_hash=None):
        """Send one request with http.client. `path` is sent as given (already
        percent-encoded); `query` is a list of (name, value) pairs, encoded here.
        Returns (status, headers dict lower-cased, body bytes)."""
        q = urllib.parse.urlencode(query or [], quote_via=urllib.parse.quote)
        host_hdr = host or "127.0.0.1:%d" % self.port
        url = "http://%s%s%s" % (host_hdr, path, ("?" + q) if q else "")
        hdrs = dict(headers or {})
        if sign:
            req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
            _FixedPayloadAuth(Credentials(access_key, secret_key), "s3", REGION,
                              payload_hash or hashlib.sha256(body).hexdigest()).add_auth(req)
            hdrs = dict(req.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path + (("?" + q) if q else ""), skip_host=True,
                            skip_accept_encoding=True)
            conn.putheader("Host", host_hdr)
            for k, v in hdrs.items():
                if k.lower() != "host":
                    conn.putheader(k, v)
            if body or method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def signed_headers(self, method, path, headers=None, payload_hash="UNSIGNED-PAYLOAD"):
        """Headers (Host included) of a SigV4-signed request, for raw sockets."""
        host_hdr = "127.0.0.1:%d" % self.port
        req = AWSRequest(method=method, url="http://%s%s" % (host_hdr, path),
                         headers=dict(headers or {}))
        _FixedPayloadAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION,
                          payload_hash).add_auth(req)
        out = {"Host": host_hdr}
        out.update((k, v) for k, v in req.headers.items() if k.lower() != "host")
        return out

    def raw_socket_request(self, head_lines, body=b"", shut_wr=False, timeout=10):
        """Send a request head (list of lines) and body on a fresh socket; read
        until the server closes or `timeout`. Returns the raw response bytes."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode() + body)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    # ---- server control -----------------------------------------------

    def kill9_and_restart(self):
        rc = self.server.kill9()
        self.assertEqual(rc, -signal.SIGKILL)
        self.server.start()

    def server_rss_bytes(self):
        return self.server.rss_bytes()

    def server_log(self):
        return self.server.log()

    def wait_for_log(self, predicate, timeout=5.0):
        """Poll the server's stderr until predicate(lines) is true; return lines."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.server_log().splitlines()
            if predicate(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


class resolve_localhost_subdomains:
    """Make BUCKET.localhost resolve to 127.0.0.1 inside this process (glibc's
    resolver here does not, RFC 6761 notwithstanding), for virtual-hosted style."""

    def __enter__(self):
        self._orig = socket.getaddrinfo

        def patched(host, *a, **kw):
            if isinstance(host, str) and host.endswith(".localhost"):
                host = "127.0.0.1"
            return self._orig(host, *a, **kw)
        socket.getaddrinfo = patched
        return self

    def __exit__(self, *exc):
        socket.getaddrinfo = self._orig
        return False


def http_date(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
