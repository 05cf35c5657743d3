"""A 1 GiB object through aws-cli with bounded server memory (issue 3:
Foundation, "Must show"). Required in the normal suite.

The file is sparse with random 64 KiB blocks every 32 MiB, so it costs no
disk or time to make but a misplaced byte still changes its hash. Nothing
holds the object in this process: hashes are computed streaming.
"""
import hashlib
import os
import subprocess
import threading
import time
import unittest

from kura_harness import KuraTestCase

GIB = 1 << 30
RSS_LIMIT = 200 << 20


def is_sanitized(binary):
    try:
        out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, timeout=10).stdout
    except OSError:
        return False
    return b"libasan" in out or b"libclang_rt.asan" in out


class RssSampler(threading.Thread):
    def __init__(self, read_rss, interval_s=0.05):
        super().__init__(daemon=True)
        self.read_rss, self.interval_s = read_rss, interval_s
        self.peak, self.samples = 0, 0
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.peak = max(self.peak, self.read_rss())
                self.samples += 1
            except (OSError, RuntimeError):
                pass
            self.stop_event.wait(self.interval_s)

    def stop(self):
        self.stop_event.set()
        self.join()


class LargeObject(KuraTestCase):
    def make_file(self, path, size):
        with open(path, "wb") as f:
            f.truncate(size)
            for off in range(0, size, 32 << 20):
                f.seek(off + 4096)
                f.write(os.urandom(65536))
        md5, sha = hashlib.md5(), hashlib.sha256()
        with open(path, "rb") as f:
            while True:
                chunk = f.read(4 << 20)
                if not chunk:
                    break
                md5.update(chunk)
                sha.update(chunk)
        return md5.hexdigest(), sha.hexdigest()

    def test_one_gib_upload_and_download_keep_server_rss_under_200_mib(self):
        sanitized = is_sanitized(self.server.bin)
        # ASan keeps freed memory in quarantine and adds shadow pages; there the
        # check is only that the body is never held whole.
        limit = RSS_LIMIT if not sanitized else 512 << 20
        b = self.new_bucket("large")
        path = os.path.join(self.tmp, "one-gib.bin")
        md5_hex, sha_hex = self.make_file(path, GIB)
        base_rss = self.server_rss_bytes()

        sampler = RssSampler(self.server_rss_bytes)
        sampler.start()
        t0 = time.monotonic()
        try:
            self.aws("s3", "cp", "--no-progress", path, "s3://%s/one-gib.bin" % b, timeout=900)
        finally:
            sampler.stop()
        up_s = time.monotonic() - t0
        os.remove(path)
        head = self.s3.head_object(Bucket=b, Key="one-gib.bin")
        self.assertEqual(head["ContentLength"], GIB)
        self.assertEqual(head["ETag"], '"%s"' % md5_hex)
        self.assertLess(sampler.peak, limit,
                        "server RSS peaked at %.1f MiB during a 1 GiB PUT (base %.1f MiB)"
                        % (sampler.peak / 2**20, base_rss / 2**20))
        up_peak = sampler.peak

        sampler = RssSampler(self.server_rss_bytes)
        sampler.start()
        t0 = time.monotonic()
        argv = self.aws_argv(1) + ["--endpoint-url", self.endpoint, "s3", "cp",
                                   "s3://%s/one-gib.bin" % b, "-"]
        p = subprocess.Popen(argv, env=self._cli_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        sha, n = hashlib.sha256(), 0
        try:
            while True:
                chunk = p.stdout.read(4 << 20)
                if not chunk:
                    break
                sha.update(chunk)
                n += len(chunk)
            err = p.stderr.read()
            p.wait(600)
        finally:
            sampler.stop()
            if p.poll() is None:
                p.kill()
        down_s = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, err.decode("utf-8", "replace")[-2000:])
        self.assertEqual(n, GIB)
        self.assertEqual(sha.hexdigest(), sha_hex)
        self.assertLess(sampler.peak, limit,
                        "server RSS peaked at %.1f MiB during a 1 GiB GET" % (sampler.peak / 2**20))
        print("\n  1 GiB: PUT %.1fs, GET %.1fs, peak RSS %.1f/%.1f MiB (limit %d MiB%s)"
              % (up_s, down_s, up_peak / 2**20, sampler.peak / 2**20, limit >> 20,
                 ", sanitized build" if sanitized else ""), flush=True)

        self.s3.delete_object(Bucket=b, Key="one-gib.bin")
        self.assertEqual(self.keys(b), [])


if __name__ == "__main__":
    unittest.main()
