"""Process lifecycle: durability across kill -9 (DESIGN invariant 1), SIGTERM
drain, first-start credentials, the command line and the access log
(issue 3: Foundation)."""
import http.client
import os
import re
import signal
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from kura_harness import (ACCESS_KEY, SECRET_KEY, KuraServer, KuraTestCase, kura_bin,
                          md5_etag)


def parse_kv(line):
    """key=value pairs of one access-log line; values may be "quoted \\"escaped\\""."""
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r'(?:^|\s)(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line)]


def unquote(v):
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    return v


class Durability(KuraTestCase):
    def test_kill9_after_ack_keeps_every_acknowledged_object(self):
        b = self.new_bucket()
        objects = {}
        for i in range(40):
            objects["small/%02d" % i] = os.urandom(100 + i * 150)     # inline (<= 8 KiB)
        for i in range(4):
            objects["large/%d" % i] = os.urandom(300_000 + i * 70_001)  # blobs
        for k, data in objects.items():
            self.s3.put_object(Bucket=b, Key=k, Body=data, Metadata={"n": str(len(data))},
                               ContentType="application/x-dur")
        self.s3.delete_object(Bucket=b, Key="small/00")
        del objects["small/00"]

        self.kill9_and_restart()
        s3 = self.client()

        self.assertIn(b, self.bucket_names())
        self.assertEqual(self.keys(b), sorted(objects))
        for k, data in objects.items():
            got = s3.get_object(Bucket=b, Key=k)
            self.assertEqual(got["Body"].read(), data, k)
            self.assertEqual(got["ETag"], md5_etag(data), k)
            self.assertEqual(got["Metadata"], {"n": str(len(data))}, k)
            self.assertEqual(got["ContentType"], "application/x-dur", k)

    def test_kill9_leaves_no_temp_files_visible_and_data_layout(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="blob", Body=os.urandom(200_000))
        self.kill9_and_restart()
        self.assertEqual(self.keys(b), ["blob"])
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "kura.mdb")),
                        os.listdir(self.data_dir))
        blobs = os.path.join(self.data_dir, "blobs")
        found = [os.path.join(d, f) for d, _, fs in os.walk(blobs) for f in fs]
        self.assertTrue(found, "no blob file under DATA/blobs/")
        for p in found:
            rel = os.path.relpath(p, blobs).split(os.sep)
            self.assertEqual(len(rel), 3, p)  # blobs/xx/yy/<id>
            self.assertNotIn("blob", rel[-1])  # object keys never become file names

    def test_kill9_during_put_leaves_old_or_new_never_partial(self):
        b = self.new_bucket()
        old = os.urandom(500_000)
        self.s3.put_object(Bucket=b, Key="k", Body=old)
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "k"},
                                             ExpiresIn=600)
        path = url.split(str(self.port), 1)[1]
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(1_000_000))
        conn.endheaders()
        conn.send(b"n" * 400_000)  # half the body, then the server dies
        time.sleep(0.3)
        self.kill9_and_restart()
        conn.close()
        got = self.client().get_object(Bucket=b, Key="k")["Body"].read()
        self.assertEqual(got, old)


class Lifecycle(unittest.TestCase):
    """Servers started by hand, each on its own data dir."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kura-life-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def server(self, name="data", env=None):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        s = KuraServer(d, env=env)
        self.addCleanup(s.stop, signal.SIGKILL)
        return s

    def test_sigterm_exits_zero(self):
        s = self.server()
        s.start()
        self.assertEqual(s.stop(signal.SIGTERM), 0, s.log_tail())

    def test_sigterm_drains_an_in_flight_put(self):
        s = self.server()
        s.start()
        import boto3
        from botocore.config import Config
        c = boto3.client("s3", endpoint_url=s.endpoint, aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                         config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        c.create_bucket(Bucket="drain")
        url = c.generate_presigned_url("put_object", Params={"Bucket": "drain", "Key": "k"},
                                       ExpiresIn=600)
        path = url.split(str(s.port), 1)[1]
        body = os.urandom(2_000_000)
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:1_000_000])
        time.sleep(0.2)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        conn.send(body[1_000_000:])
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 200, "in-flight PUT was not drained")
        self.assertEqual(r.getheader("ETag"), md5_etag(body))
        s.proc.wait(30)
        self.assertEqual(s.proc.returncode, 0, s.log_tail())
        s.proc = None
        s.start()
        self.assertEqual(c.get_object(Bucket="drain", Key="k")["Body"].read(), body)
        self.assertEqual(s.stop(), 0)

    def test_first_start_generates_credentials_file_mode_0600(self):
        s = self.server(env={"KURA_ACCESS_KEY_ID": None, "KURA_SECRET_ACCESS_KEY": None})
        s.start()
        cred = os.path.join(s.data_dir, "credentials")
        self.assertTrue(os.path.exists(cred), os.listdir(s.data_dir))
        self.assertEqual(stat.S_IMODE(os.stat(cred).st_mode), 0o600)
        with open(cred) as f:
            content = f.read()
        self.assertTrue(content.strip())
        printed = s.stdout() + s.log()
        # The printed access key id is in the file, with a ready-to-paste aws example.
        ids = re.findall(r"[A-Z0-9]{16,128}", printed)
        self.assertTrue([i for i in ids if i in content], printed)
        self.assertIn("aws", printed)
        self.assertEqual(s.stop(), 0)
        s.start()  # a restart keeps the same credentials
        with open(cred) as f:
            self.assertEqual(f.read(), content)
        self.assertEqual(s.stop(), 0)

    def test_help_and_version(self):
        p = subprocess.run([kura_bin(), "version"], stdout=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout.decode(), r"^kura \d+\.\d+\.\d+")
        p = subprocess.run([kura_bin(), "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode()
        for word in ("serve", "--data", "--listen", "--region", "KURA_ACCESS_KEY_ID"):
            self.assertIn(word, out)

    def test_region_flag_is_reported(self):
        d = os.path.join(self.tmp, "eu")
        os.makedirs(d)
        s = KuraServer(d, extra_args=["--region", "eu-west-1"])
        self.addCleanup(s.stop, signal.SIGKILL)
        s.start()
        import boto3
        from botocore.config import Config
        c = boto3.client("s3", endpoint_url=s.endpoint, aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, region_name="eu-west-1",
                         config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        c.create_bucket(Bucket="eu-bucket",
                        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(c.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"],
                         "eu-west-1")
        self.assertEqual(s.stop(), 0)


class AccessLog(KuraTestCase):
    def test_one_line_per_request_with_op_and_status(self):
        b = self.new_bucket()
        probe = "access-log-probe-%s" % b
        self.s3.put_object(Bucket=b, Key=probe, Body=b"x" * 10)
        self.s3.get_object(Bucket=b, Key=probe)["Body"].read()
        self.s3.delete_object(Bucket=b, Key=probe)
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=b, Key=probe)

        def mine(lines):
            return [ln for ln in lines if probe in ln]
        lines = mine(self.wait_for_log(lambda ls: len(mine(ls)) >= 4))
        self.assertEqual(len(lines), 4, "\n".join(lines))
        want = [("PutObject", "200"), ("GetObject", "200"), ("DeleteObject", "204"),
                ("HeadObject", "404")]
        for line, (op, status) in zip(lines, want):
            self.assertIn("op=%s" % op, line)
            self.assertIn("status=%s" % status, line)
            self.assertRegex(line, r"\brid=\S+")
            self.assertEqual(unquote(dict(parse_kv(line))["bucket"]), b, line)

    def test_log_carries_no_secrets_and_quotes_keys(self):
        b = self.new_bucket()
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "q"},
                                             ExpiresIn=600)
        sig = url.rsplit("X-Amz-Signature=", 1)[1]
        subprocess.run(["curl", "-sS", "-o", "/dev/null", url], check=True)
        evil = 'k" status=999 op=Forged\nfake line'
        self.s3.put_object(Bucket=b, Key=evil, Body=b"1")
        lines = self.wait_for_log(lambda ls: any("op=PutObject" in ln and b in ln for ln in ls))
        # The first-start banner prints the credentials on purpose; request lines never.
        lines = [ln for ln in lines if ln.startswith("ts=")]
        log = "\n".join(lines)
        self.assertNotIn(SECRET_KEY, log)
        self.assertNotIn(sig, log)
        self.assertFalse([ln for ln in lines if ln.startswith("fake line")], log[-2000:])
        put = [ln for ln in lines if "op=PutObject" in ln and
               unquote(dict(parse_kv(ln)).get("bucket", "")) == b]
        self.assertEqual(len(put), 1, put)
        fields = parse_kv(put[0])
        self.assertEqual([f for f, _ in fields].count("op"), 1, put[0])
        self.assertEqual([f for f, _ in fields].count("status"), 1, put[0])
        self.assertEqual(dict(fields)["status"], "200")

    def test_error_requests_are_logged_with_their_code(self):
        b = self.new_bucket()
        with self.assertRaises(Exception):
            self.s3.get_object(Bucket=b, Key="no-such-key-logged")
        lines = self.wait_for_log(lambda ls: any("no-such-key-logged" in ln for ln in ls))
        line = [ln for ln in lines if "no-such-key-logged" in ln][0]
        self.assertIn("status=404", line)
        self.assertIn("err=NoSuchKey", line)


if __name__ == "__main__":
    unittest.main()
