"""`kura user` and the admin API behind it (issue 4: "Users and policies").

The CLI talks to the running test server with the root keys from the
environment; what it prints is the admin API's JSON. Every refused call is
checked for its exit status / HTTP status, the error code, and for leaving
the user list (and the user's permissions) as they were.
"""
import json
import os
import subprocess

from kura_harness import ACCESS_KEY, SECRET_KEY, ClientError, KuraTestCase
from test_s3_policies import admin, account_id, doc, read_only, statement


class UsersCli(KuraTestCase):
    def kura_user(self, *args, env=None, check=None):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("AWS_", "KURA_ACCESS", "KURA_SECRET", "KURA_ENDPOINT"))}
        e.update({"KURA_ENDPOINT": self.endpoint, "KURA_ACCESS_KEY_ID": ACCESS_KEY,
                  "KURA_SECRET_ACCESS_KEY": SECRET_KEY, "HOME": self.tmp})
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        # cwd: the CLI falls back to ./data/credentials; a checkout where
        # `make run` has served ./data must not lend the test its keys.
        p = subprocess.run([self.server.bin, "user"] + [str(a) for a in args], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           cwd=self._cli_home)
        if check is not None:
            self.assertEqual(p.returncode == 0, check,
                             "kura user %s -> %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return p

    def policy_file(self, policy, name="policy.json"):
        path = os.path.join(self.tmp, "%s-%s" % (self.id().rsplit(".", 1)[-1], name))
        with open(path, "w") as f:
            f.write(policy if isinstance(policy, str) else json.dumps(policy))
        return path

    def user_names(self):
        p = self.kura_user("list", check=True)
        return sorted(u["name"] for u in json.loads(p.stdout)["users"])

    def test_add_prints_keys_that_work_within_the_policy(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        p = self.kura_user("add", "cli-reader", "--policy", self.policy_file(read_only(b)),
                           check=True)
        out = json.loads(p.stdout)
        self.assertEqual(out["user"], "cli-reader")
        self.assertEqual(out["arn"], "arn:aws:iam::%s:user/cli-reader" % account_id(self))
        self.assertTrue(out["access_key_id"] and out["secret_access_key"])
        self.assertIn("cli-reader", self.user_names())

        reader = self.client(access_key=out["access_key_id"],
                             secret_key=out["secret_access_key"])
        self.assertEqual(reader.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        with self.assertRaises(ClientError) as e:
            reader.put_object(Bucket=b, Key="k", Body=b"y")
        self.assertClientError(e, "AccessDenied", 403)

    def test_policy_command_replaces_the_policy_and_delete_removes_the_user(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        out = json.loads(self.kura_user("add", "cli-changer", check=True).stdout)
        user = self.client(access_key=out["access_key_id"], secret_key=out["secret_access_key"])
        with self.assertRaises(ClientError) as e:
            user.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "AccessDenied", 403)

        self.kura_user("policy", "cli-changer", self.policy_file(read_only(b)), check=True)
        self.assertEqual(user.get_object(Bucket=b, Key="k")["Body"].read(), b"x")

        self.kura_user("delete", "cli-changer", check=True)
        self.assertNotIn("cli-changer", self.user_names())
        with self.assertRaises(ClientError) as e:
            user.get_object(Bucket=b, Key="k")
        self.assertClientError(e, "InvalidAccessKeyId", 403)

    def test_adding_an_existing_user_is_entity_already_exists_and_keeps_its_keys(self):
        out = json.loads(self.kura_user("add", "cli-dup", check=True).stdout)
        p = self.kura_user("add", "cli-dup", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"EntityAlreadyExists", p.stdout + p.stderr)
        status, body = admin(self, "POST", "/kura/admin/users", {"name": "cli-dup"})
        self.assertEqual(status, 409)
        self.assertEqual(body["error"]["code"], "EntityAlreadyExists")
        self.assertEqual(self.user_names().count("cli-dup"), 1)
        _, listing = admin(self, "GET", "/kura/admin/users")
        keys = [u["access_keys"] for u in listing["users"] if u["name"] == "cli-dup"][0]
        self.assertEqual(len(keys), 1)
        self.assertIn(out["access_key_id"], json.dumps(keys))

    def test_unknown_user_is_no_such_entity(self):
        before = self.user_names()
        for args in (("delete", "cli-ghost"),
                     ("policy", "cli-ghost", self.policy_file(doc(statement(
                         "Allow", "s3:GetObject", "*"))))):
            p = self.kura_user(*args, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"NoSuchEntity", p.stdout + p.stderr)
        status, body = admin(self, "DELETE", "/kura/admin/users/cli-ghost")
        self.assertEqual((status, body["error"]["code"]), (404, "NoSuchEntity"))
        status, body = admin(self, "PUT", "/kura/admin/users/cli-ghost/policy",
                             doc(statement("Allow", "s3:GetObject", "*")))
        self.assertEqual((status, body["error"]["code"]), (404, "NoSuchEntity"))
        self.assertEqual(self.user_names(), before)

    def test_malformed_policy_file_creates_no_user(self):
        before = self.user_names()
        for bad in ("{oops", json.dumps({"Version": "2012-10-17"}),
                    json.dumps(doc({"Effect": "Allow", "Action": "s3:GetObject"}))):
            with self.subTest(policy=bad):
                p = self.kura_user("add", "cli-bad", "--policy", self.policy_file(bad),
                                   check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(b"MalformedPolicy", p.stdout + p.stderr)
                self.assertEqual(self.user_names(), before)

    def test_malformed_policy_update_keeps_the_old_policy(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        out = json.loads(self.kura_user("add", "cli-keep", "--policy",
                                        self.policy_file(read_only(b)), check=True).stdout)
        user = self.client(access_key=out["access_key_id"], secret_key=out["secret_access_key"])
        p = self.kura_user("policy", "cli-keep", self.policy_file("[1,2"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"MalformedPolicy", p.stdout + p.stderr)
        status, body = admin(self, "PUT", "/kura/admin/users/cli-keep/policy",
                             '{"Statement": "nope"}')
        self.assertEqual((status, body["error"]["code"]), (400, "MalformedPolicy"))
        self.assertTrue(body["error"]["message"])
        self.assertEqual(user.get_object(Bucket=b, Key="k")["Body"].read(), b"x")

    def test_admin_api_takes_the_policy_as_an_object_or_a_string(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        for name, pol in (("api-obj", read_only(b)), ("api-str", json.dumps(read_only(b)))):
            status, out = admin(self, "POST", "/kura/admin/users", {"name": name, "policy": pol})
            self.assertEqual(status, 200, out)
            self.assertEqual(set(out), {"user", "arn", "access_key_id", "secret_access_key"})
            c = self.client(access_key=out["access_key_id"], secret_key=out["secret_access_key"])
            self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        status, listing = admin(self, "GET", "/kura/admin/users")
        self.assertEqual(status, 200)
        names = {u["name"]: u for u in listing["users"]}
        self.assertEqual(names["api-obj"]["arn"],
                         "arn:aws:iam::%s:user/api-obj" % account_id(self))
        self.assertNotIn("secret", json.dumps(listing).lower().replace("secret_access_key", ""))

    def test_invalid_user_names_are_refused(self):
        before = self.user_names()
        for name in ("", "a/b", "x" * 65, "sp ace"):
            with self.subTest(name=name):
                status, body = admin(self, "POST", "/kura/admin/users", {"name": name})
                self.assertEqual(status, 400, body)
        self.assertEqual(self.user_names(), before)

    def test_cli_without_root_credentials_fails_and_changes_nothing(self):
        before = self.user_names()
        p = self.kura_user("add", "cli-nocreds",
                           env={"KURA_ACCESS_KEY_ID": None, "KURA_SECRET_ACCESS_KEY": None,
                                "HOME": self.tmp})
        self.assertEqual(p.returncode, 2, p.stderr)
        p = self.kura_user("add", "cli-wrongkey",
                           env={"KURA_SECRET_ACCESS_KEY": "not-the-secret"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"AccessDenied", p.stdout + p.stderr)
        self.assertEqual(self.user_names(), before)

    def test_user_keys_cannot_administer_users(self):
        out = json.loads(self.kura_user("add", "cli-admin-wannabe", "--policy",
                                        self.policy_file(doc(statement("Allow", "*", "*"))),
                                        check=True).stdout)
        before = self.user_names()
        p = self.kura_user("add", "cli-sneaky",
                           env={"KURA_ACCESS_KEY_ID": out["access_key_id"],
                                "KURA_SECRET_ACCESS_KEY": out["secret_access_key"]})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"AccessDenied", p.stdout + p.stderr)
        self.assertEqual(self.user_names(), before)

    def test_usage_error_exits_2(self):
        self.assertEqual(self.kura_user("frobnicate").returncode, 2)
        self.assertEqual(self.kura_user("add").returncode, 2)
