"""s3cmd (mb, put, get, ls, del, sync) and rclone (mkdir, copy, ls, cat, delete)
against kura, path-style over http (issue 3: Foundation)."""
import os
import shutil
import unittest

from kura_harness import KuraTestCase, md5_etag


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipIf(shutil.which("s3cmd") is None, "s3cmd not installed")
class S3cmd(KuraTestCase):
    def test_mb_put_get_ls_del(self):
        b = self.new_bucket("s3cmd", create=False)
        self.s3cmd("mb", "s3://" + b)
        self.assertIn(b, self.bucket_names())
        work = os.path.join(self.tmp, "s3cmd")
        data = os.urandom(70_000)
        write(os.path.join(work, "file.bin"), data)
        self.s3cmd("put", os.path.join(work, "file.bin"), "s3://%s/dir/file.bin" % b)
        self.assertEqual(self.s3.head_object(Bucket=b, Key="dir/file.bin")["ETag"],
                         md5_etag(data))
        self.s3cmd("get", "s3://%s/dir/file.bin" % b, os.path.join(work, "back.bin"))
        self.assertEqual(read(os.path.join(work, "back.bin")), data)
        ls = self.s3cmd("ls", "s3://%s/dir/" % b).stdout.decode()
        self.assertIn("s3://%s/dir/file.bin" % b, ls)
        self.assertIn(str(len(data)), ls)
        la = self.s3cmd("ls").stdout.decode()
        self.assertIn("s3://" + b, la)
        self.s3cmd("del", "s3://%s/dir/file.bin" % b)
        self.assertEqual(self.keys(b), [])
        self.s3cmd("rb", "s3://" + b)
        self.assertNotIn(b, self.bucket_names())

    def test_sync_up_and_down(self):
        b = self.new_bucket("s3sync")
        src = os.path.join(self.tmp, "s3cmd-src")
        files = {"one.txt": b"one", "two/three.txt": b"three" * 500, "two/four.bin":
                 os.urandom(9000)}
        for rel, data in files.items():
            write(os.path.join(src, rel), data)
        self.s3cmd("sync", src + "/", "s3://%s/up/" % b)
        self.assertEqual(sorted(self.keys(b)), sorted("up/" + k for k in files))
        for rel, data in files.items():
            self.assertEqual(self.s3.get_object(Bucket=b, Key="up/" + rel)["Body"].read(), data)
        dst = os.path.join(self.tmp, "s3cmd-dst")
        os.makedirs(dst)
        self.s3cmd("sync", "s3://%s/up/" % b, dst + "/")
        for rel, data in files.items():
            self.assertEqual(read(os.path.join(dst, rel)), data)


@unittest.skipIf(shutil.which("rclone") is None, "rclone not installed")
class Rclone(KuraTestCase):
    def test_mkdir_copy_ls_cat_delete(self):
        b = self.new_bucket("rclone", create=False)
        self.rclone("mkdir", "kura:" + b)
        self.assertIn(b, self.bucket_names())
        src = os.path.join(self.tmp, "rclone-src")
        files = {"a.txt": b"rclone a", "d/b.bin": os.urandom(40_000)}
        for rel, data in files.items():
            write(os.path.join(src, rel), data)
        self.rclone("copy", src, "kura:%s/r" % b)
        for rel, data in files.items():
            self.assertEqual(self.s3.head_object(Bucket=b, Key="r/" + rel)["ETag"],
                             md5_etag(data))
        ls = self.rclone("ls", "kura:%s" % b).stdout.decode()
        self.assertIn("r/a.txt", ls)
        self.assertIn("r/d/b.bin", ls)
        self.assertEqual(self.rclone("cat", "kura:%s/r/a.txt" % b).stdout, b"rclone a")
        self.rclone("check", src, "kura:%s/r" % b)
        self.rclone("delete", "kura:%s/r" % b)
        self.assertEqual(self.keys(b), [])


if __name__ == "__main__":
    unittest.main()
