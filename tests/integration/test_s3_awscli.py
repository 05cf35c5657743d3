"""aws-cli v1 (python3 -m awscli, botocore 1.43: default CRC32 checksums) and
v2 (/usr/bin/aws, Debian's 2.9): `aws s3` and `aws s3api` (issue 3: Foundation)."""
import hashlib
import json
import os
import unittest

from kura_harness import KuraTestCase, md5_etag


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = read(p)
    return out


class AwsCliBase:
    """Mixed into a KuraTestCase; V is the aws-cli major version."""
    V = 1

    def cli(self, *args, **kw):
        return self.aws(*args, v=self.V, **kw)

    def api(self, *args):
        p = self.cli("s3api", *args, "--output", "json")
        out = p.stdout.decode()
        return json.loads(out) if out.strip() else {}

    def setUp(self):
        self.b = self.new_bucket("cli%d" % self.V)
        self.work = os.path.join(self.tmp, "work-%s" % self.id().rsplit(".", 1)[-1])
        os.makedirs(self.work, exist_ok=True)

    def test_s3_cp_up_and_down_ls_and_rm(self):
        data = os.urandom(300_000)
        src = os.path.join(self.work, "photo.jpg")
        write(src, data)
        self.cli("s3", "cp", src, "s3://%s/album/photo.jpg" % self.b)
        head = self.s3.head_object(Bucket=self.b, Key="album/photo.jpg")
        self.assertEqual(head["ETag"], md5_etag(data))
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(head["ContentType"], "image/jpeg")  # aws s3 cp guesses it

        dst = os.path.join(self.work, "back.jpg")
        self.cli("s3", "cp", "s3://%s/album/photo.jpg" % self.b, dst)
        self.assertEqual(read(dst), data)

        ls = self.cli("s3", "ls", "s3://%s/album/" % self.b).stdout.decode()
        self.assertIn("%d photo.jpg" % len(data), " ".join(ls.split()))
        ls_root = self.cli("s3", "ls", "s3://%s" % self.b).stdout.decode()
        self.assertIn("PRE album/", ls_root)
        buckets = self.cli("s3", "ls").stdout.decode()
        self.assertIn(self.b, buckets)

        self.cli("s3", "rm", "s3://%s/album/photo.jpg" % self.b)
        self.assertEqual(self.keys(self.b), [])

    def test_s3_cp_stdin_and_stdout(self):
        self.cli("s3", "cp", "-", "s3://%s/stream.txt" % self.b, input_bytes=b"from stdin\n")
        out = self.cli("s3", "cp", "s3://%s/stream.txt" % self.b, "-").stdout
        self.assertEqual(out, b"from stdin\n")
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key="stream.txt")["ETag"],
                         md5_etag(b"from stdin\n"))

    def test_s3_sync_both_ways_and_rm_recursive(self):
        src = os.path.join(self.work, "src")
        files = {"a.txt": b"alpha", "sub/b.txt": b"beta" * 1000, "sub/deep/c.bin":
                 os.urandom(20_000), "with space.txt": b"space", "empty": b""}
        for rel, data in files.items():
            write(os.path.join(src, rel), data)
        self.cli("s3", "sync", src, "s3://%s/mirror" % self.b)
        self.assertEqual(sorted(self.keys(self.b)), sorted("mirror/" + k for k in files))
        for rel, data in files.items():
            self.assertEqual(self.s3.head_object(Bucket=self.b, Key="mirror/" + rel)["ETag"],
                             md5_etag(data))
        # A second sync uploads nothing.
        again = self.cli("s3", "sync", src, "s3://%s/mirror" % self.b).stdout.decode()
        self.assertNotIn("upload:", again)

        dst = os.path.join(self.work, "dst")
        self.cli("s3", "sync", "s3://%s/mirror" % self.b, dst)
        self.assertEqual(tree(dst), files)

        # A changed local file and a deletion sync across with --delete.
        write(os.path.join(src, "a.txt"), b"alpha two")
        os.remove(os.path.join(src, "with space.txt"))
        self.cli("s3", "sync", "--delete", src, "s3://%s/mirror" % self.b)
        self.assertNotIn("mirror/with space.txt", self.keys(self.b))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="mirror/a.txt")["Body"].read(),
                         b"alpha two")

        self.cli("s3", "rm", "--recursive", "s3://%s/mirror" % self.b)
        self.assertEqual(self.keys(self.b), [])

    def test_s3api_put_object_with_metadata_head_and_ranged_get(self):
        data = b"0123456789" * 100
        path = os.path.join(self.work, "obj.txt")
        write(path, data)
        put = self.api("put-object", "--bucket", self.b, "--key", "docs/obj.txt", "--body", path,
                       "--metadata", "owner=alice,project=kura", "--content-type",
                       "text/plain; charset=utf-8", "--cache-control", "no-store")
        self.assertEqual(put["ETag"], md5_etag(data))
        head = self.api("head-object", "--bucket", self.b, "--key", "docs/obj.txt")
        self.assertEqual(head["ETag"], md5_etag(data))
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(head["ContentType"], "text/plain; charset=utf-8")
        self.assertEqual(head["CacheControl"], "no-store")
        self.assertEqual(head["Metadata"], {"owner": "alice", "project": "kura"})

        out = os.path.join(self.work, "part.txt")
        got = self.api("get-object", "--bucket", self.b, "--key", "docs/obj.txt",
                       "--range", "bytes=10-29", out)
        self.assertEqual(read(out), data[10:30])
        self.assertEqual(got["ContentRange"], "bytes 10-29/1000")
        self.assertEqual(got["ContentLength"], 20)

    def test_s3api_list_objects_v2_prefix_delimiter_paging(self):
        keys = ["p/%02d" % i for i in range(7)] + ["p/sub/x", "q/1"]
        for k in keys:
            self.s3.put_object(Bucket=self.b, Key=k, Body=k.encode())
        r = self.api("list-objects-v2", "--bucket", self.b, "--prefix", "p/", "--delimiter", "/")
        self.assertEqual([o["Key"] for o in r["Contents"]], keys[:7])
        self.assertEqual([c["Prefix"] for c in r["CommonPrefixes"]], ["p/sub/"])
        # --max-keys 3 without paging: one page of 3, truncated.
        r = self.api("list-objects-v2", "--bucket", self.b, "--max-keys", "3",
                     "--no-paginate")
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(keys)[:3])
        self.assertTrue(r["IsTruncated"])
        r2 = self.api("list-objects-v2", "--bucket", self.b, "--max-keys", "3",
                      "--no-paginate", "--continuation-token", r["NextContinuationToken"])
        self.assertEqual([o["Key"] for o in r2["Contents"]], sorted(keys)[3:6])
        # The CLI paginator with a small page size still returns everything.
        r = self.api("list-objects-v2", "--bucket", self.b, "--page-size", "2")
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(keys))

    def test_s3api_list_objects_v1_with_marker(self):
        for k in ("a", "b", "c", "d"):
            self.s3.put_object(Bucket=self.b, Key=k, Body=b"1")
        r = self.api("list-objects", "--bucket", self.b, "--marker", "b")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c", "d"])
        r = self.api("list-objects", "--bucket", self.b, "--max-keys", "2", "--no-paginate")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a", "b"])
        self.assertTrue(r["IsTruncated"])

    def test_s3api_bucket_lifecycle(self):
        name = self.new_bucket("api%d" % self.V, create=False)
        r = self.api("create-bucket", "--bucket", name)
        self.assertEqual(r.get("Location"), "/" + name)
        self.api("head-bucket", "--bucket", name)
        loc = self.api("get-bucket-location", "--bucket", name)
        self.assertIsNone(loc.get("LocationConstraint"))
        lb = self.api("list-buckets")
        self.assertIn(name, [b["Name"] for b in lb["Buckets"]])
        self.api("delete-bucket", "--bucket", name)
        p = self.cli("s3api", "head-bucket", "--bucket", name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"404", p.stderr)
        self.assertNotIn(name, self.bucket_names())

    def test_s3_mb_rb(self):
        name = self.new_bucket("mb%d" % self.V, create=False)
        self.cli("s3", "mb", "s3://" + name)
        self.assertIn(name, self.bucket_names())
        p = self.cli("s3", "mb", "s3://" + name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"BucketAlreadyOwnedByYou", p.stderr)
        self.cli("s3", "rb", "s3://" + name)
        self.assertNotIn(name, self.bucket_names())

    def test_s3_cp_missing_key_fails_cleanly(self):
        p = self.cli("s3", "cp", "s3://%s/missing" % self.b, os.path.join(self.work, "m"),
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"404", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.work, "m")))

    def test_sha256_of_a_round_trip(self):
        data = os.urandom(1_500_000)
        src = os.path.join(self.work, "blob.bin")
        write(src, data)
        self.cli("s3", "cp", src, "s3://%s/blob.bin" % self.b)
        out = self.cli("s3", "cp", "s3://%s/blob.bin" % self.b, "-").stdout
        self.assertEqual(hashlib.sha256(out).hexdigest(), hashlib.sha256(data).hexdigest())


class AwsCliV1(AwsCliBase, KuraTestCase):
    V = 1


class AwsCliV2(AwsCliBase, KuraTestCase):
    V = 2


if __name__ == "__main__":
    unittest.main()
