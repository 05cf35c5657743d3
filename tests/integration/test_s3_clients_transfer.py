"""Real clients moving real files (issue 4: S3 API completeness, "Must show").

boto3 managed transfers (threaded multipart up and ranged-GET down), rclone
copy / sync / check --download / server-side copyto, s3cmd put / sync / cp
(single-part and multipart), aws-cli `s3 cp` of a 200 MiB file with the
CLI's default multipart settings and `s3 sync` both ways. Every test compares
bytes (sha256) and the bucket's key list, so nothing extra was written.
"""
import filecmp
import hashlib
import os
import shutil
import tempfile

from boto3.s3.transfer import TransferConfig

from kura_harness import ACCESS_KEY, REGION, SECRET_KEY, KuraTestCase

MiB = 1024 * 1024


def multipart_etag(path, chunk):
    md5s, n = [], 0
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            md5s.append(hashlib.md5(b).digest())
            n += 1
    return '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), n)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MiB), b""):
            h.update(b)
    return h.hexdigest()


def write_random(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MiB)
            f.write(os.urandom(n))
            left -= n


def tree(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root).replace(os.sep, "/")] = sha256_file(p)
    return out


class ClientsTransfer(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("xfer")
        self.work = tempfile.mkdtemp(prefix="kura-xfer-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.work, True)

    def _remote_tree(self, prefix=""):
        out = {}
        for k in self.keys(self.b, prefix):
            body = self.s3.get_object(Bucket=self.b, Key=k)["Body"].read()
            out[k[len(prefix):]] = hashlib.sha256(body).hexdigest()
        return out

    def _local_tree(self):
        src = os.path.join(self.work, "src")
        files = {"a.txt": 1000, "dir/b.bin": 70000, "dir/sub/c.bin": 12 * MiB + 5,
                 "empty": 0, "space name.txt": 10}
        for rel, size in files.items():
            write_random(os.path.join(src, rel), size)
        return src

    # ---- boto3 --------------------------------------------------------

    def test_boto3_managed_upload_and_download_threaded(self):
        src = os.path.join(self.work, "up.bin")
        write_random(src, 23 * MiB + 123)
        cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                             max_concurrency=4, use_threads=True)
        self.s3.upload_file(src, self.b, "managed/up.bin", Config=cfg)
        head = self.s3.head_object(Bucket=self.b, Key="managed/up.bin")
        self.assertEqual(head["ContentLength"], os.path.getsize(src))
        self.assertEqual(head["ETag"], multipart_etag(src, 5 * MiB))

        dst = os.path.join(self.work, "down.bin")
        self.s3.download_file(self.b, "managed/up.bin", dst, Config=cfg)
        self.assertEqual(sha256_file(dst), sha256_file(src))
        self.assertEqual(self.keys(self.b), ["managed/up.bin"])
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=self.b))

    # ---- rclone -------------------------------------------------------

    def test_rclone_copy_check_sync_and_server_side_copyto(self):
        src = self._local_tree()
        remote = "kura:%s/r" % self.b
        mp = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
        self.rclone("copy", src, remote, *mp)
        self.assertEqual(self._remote_tree("r/"), tree(src))
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="r/dir/sub/c.bin")["ETag"],
                         multipart_etag(os.path.join(src, "dir/sub/c.bin"), 5 * MiB))
        self.rclone("check", "--download", src, remote)

        # sync: a deleted local file disappears remotely, a changed one is replaced.
        os.remove(os.path.join(src, "a.txt"))
        write_random(os.path.join(src, "dir/b.bin"), 3333)
        self.rclone("sync", src, remote, *mp)
        self.assertEqual(self._remote_tree("r/"), tree(src))
        self.rclone("check", "--download", src, remote)

        # Server-side copies: one simple, one above the copy cutoff (UploadPartCopy).
        self.rclone("copyto", remote + "/dir/b.bin", "kura:%s/copies/b.bin" % self.b)
        self.rclone("copyto", "--s3-copy-cutoff", "5M", remote + "/dir/sub/c.bin",
                    "kura:%s/copies/c.bin" % self.b)
        copies = self._remote_tree("copies/")
        self.assertEqual(copies, {"b.bin": tree(src)["dir/b.bin"],
                                  "c.bin": tree(src)["dir/sub/c.bin"]})
        self.assertEqual(sorted(self.keys(self.b)),
                         sorted(["r/" + k for k in tree(src)] + ["copies/b.bin", "copies/c.bin"]))
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=self.b))

    # ---- s3cmd --------------------------------------------------------

    def _s3cmd_multipart(self, *args):
        cfg = os.path.join(self.work, "s3cmd-mp.cfg")
        with open(cfg, "w") as f:
            f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = 127.0.0.1:%d\n"
                    "host_bucket = 127.0.0.1:%d\nuse_https = False\nsignature_v2 = False\n"
                    "bucket_location = %s\nenable_multipart = True\n"
                    "multipart_chunk_size_mb = 5\n"
                    % (ACCESS_KEY, SECRET_KEY, self.port, self.port, REGION))
        env = self._cli_env()
        for k in ("PYTHONPATH", "PYTHONHOME", "PYENV_VERSION"):
            env.pop(k, None)
        exe = shutil.which("s3cmd", path="/usr/bin:/usr/local/bin") or "s3cmd"
        return self._run([exe, "-c", cfg] + [str(a) for a in args], env, True)

    def test_s3cmd_put_sync_cp(self):
        src = self._local_tree()
        s3 = "s3://%s" % self.b
        self.s3cmd("put", os.path.join(src, "a.txt"), s3 + "/put/a.txt")
        self.assertEqual(self._remote_tree("put/"), {"a.txt": tree(src)["a.txt"]})

        self.s3cmd("sync", src + "/", s3 + "/sync/")
        self.assertEqual(self._remote_tree("sync/"), tree(src))
        # A second sync with a changed file uploads the change only.
        write_random(os.path.join(src, "a.txt"), 2000)
        self.s3cmd("sync", src + "/", s3 + "/sync/")
        self.assertEqual(self._remote_tree("sync/"), tree(src))

        self.s3cmd("cp", s3 + "/sync/dir/b.bin", s3 + "/cp/b.bin")
        self.assertEqual(self._remote_tree("cp/"), {"b.bin": tree(src)["dir/b.bin"]})

        # Multipart put (5 MiB chunks) of the 12 MiB file.
        big = os.path.join(src, "dir/sub/c.bin")
        self._s3cmd_multipart("put", big, s3 + "/mp/c.bin")
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="mp/c.bin")["ETag"],
                         multipart_etag(big, 5 * MiB))
        self.assertEqual(self._remote_tree("mp/"), {"c.bin": sha256_file(big)})

        down = os.path.join(self.work, "down")
        os.mkdir(down)
        self.s3cmd("sync", s3 + "/sync/", down + "/")
        self.assertEqual(tree(down), tree(src))
        self.assertEqual(len(self.keys(self.b)), 1 + len(tree(src)) + 1 + 1)

    # ---- aws-cli ------------------------------------------------------

    def _aws_default(self, *args):
        """aws-cli v2 (v1 if absent) with a config that leaves the s3 transfer
        settings at their defaults (8 MiB threshold and chunks)."""
        cfg = os.path.join(self.work, "aws-default-config")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = %s\ns3 =\n  addressing_style = path\n" % REGION)
        env = self._cli_env({"AWS_CONFIG_FILE": cfg})
        if os.path.exists("/usr/bin/aws"):
            for k in ("PYTHONPATH", "PYTHONHOME", "PYENV_VERSION"):
                env.pop(k, None)
            argv = self.aws_argv(2)
        else:
            argv = self.aws_argv(1)
        return self._run(argv + ["--endpoint-url", self.endpoint] + [str(a) for a in args],
                         env, True, timeout=900)

    def test_aws_cli_cp_200_mib_with_default_multipart(self):
        src = os.path.join(self.work, "big.bin")
        write_random(src, 200 * MiB)
        self._aws_default("s3", "cp", src, "s3://%s/big.bin" % self.b, "--only-show-errors")
        head = self.s3.head_object(Bucket=self.b, Key="big.bin")
        self.assertEqual(head["ContentLength"], 200 * MiB)
        self.assertEqual(head["ETag"], multipart_etag(src, 8 * MiB))  # 25 parts of 8 MiB
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=self.b))

        dst = os.path.join(self.work, "big.down")
        self._aws_default("s3", "cp", "s3://%s/big.bin" % self.b, dst, "--only-show-errors")
        self.assertEqual(sha256_file(dst), sha256_file(src))
        self.assertEqual(self.keys(self.b), ["big.bin"])

    def test_aws_cli_sync_both_ways(self):
        src = self._local_tree()
        dest = "s3://%s/s/" % self.b
        self._aws_default("s3", "sync", src, dest, "--only-show-errors")
        self.assertEqual(self._remote_tree("s/"), tree(src))
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="s/dir/sub/c.bin")["ETag"],
                         multipart_etag(os.path.join(src, "dir/sub/c.bin"), 8 * MiB))

        # Local change + delete, then sync --delete: the bucket follows.
        os.remove(os.path.join(src, "a.txt"))
        write_random(os.path.join(src, "dir/new.bin"), 4321)
        self._aws_default("s3", "sync", src, dest, "--delete", "--only-show-errors")
        self.assertEqual(self._remote_tree("s/"), tree(src))

        down = os.path.join(self.work, "down")
        os.mkdir(down)
        self._aws_default("s3", "sync", dest, down, "--only-show-errors")
        self.assertEqual(tree(down), tree(src))
        cmp = filecmp.dircmp(src, down)
        self.assertEqual((cmp.left_only, cmp.right_only), ([], []))
        # A second sync down finds nothing to do and leaves the tree alone.
        p = self._aws_default("s3", "sync", dest, down)
        self.assertEqual(p.stdout.strip(), b"")
        self.assertEqual(tree(down), tree(src))
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="s/empty")["ContentLength"], 0)
