"""POST Object: browser-form uploads (issue 4: "Browser uploads").

Forms are built by boto3's generate_presigned_post (SigV4 POST policy) and
sent with `curl -F` as a browser would (the file field last). Every refused
form is checked for its status, its S3 error code, and for storing nothing.
"""
import hashlib
import json
import os
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

from kura_harness import ClientError, KuraTestCase
from test_s3_policies import admin, doc, statement



def strip_ns(root):
    """S3 sends PostResponse without an xmlns (API Reference, POST Object
    examples); accept either."""
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


class PostObject(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("post")

    def form(self, key, fields=None, conditions=None, expires=300, client=None):
        return (client or self.s3).generate_presigned_post(
            Bucket=self.b, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires)

    def send(self, post, data=b"hello form", filename="hello.txt", extra=(), drop=(),
             override=None):
        """POST the form with curl -F; returns (status, headers, body)."""
        d = os.path.join(self.tmp, "post-%s" % self.id().rsplit(".", 1)[-1])
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, filename)
        with open(path, "wb") as f:
            f.write(data)
        fields = dict(post["fields"])
        fields.update(override or {})
        for k in drop:
            fields.pop(k, None)
        argv = ["curl", "-sS", "-D", "-", "-o", os.path.join(d, "body"), post["url"]]
        for k, v in list(fields.items()) + list(extra):
            argv += ["--form-string", "%s=%s" % (k, v)]
        argv += ["-F", "file=@%s" % path]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        head = p.stdout.decode("latin-1").replace("\r\n", "\n").strip().split("\n\n")[-1]
        lines = head.split("\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        with open(os.path.join(d, "body"), "rb") as f:
            return status, headers, f.read()

    def assertRefused(self, resp, status, code):
        st, _, body = resp
        self.assertEqual(st, status, body)
        self.assertEqual(ET.fromstring(body).findtext("Code"), code, body)
        self.assertEqual(self.keys(self.b), [])
        return body

    # ---- accepted forms -------------------------------------------------

    def test_form_upload_stores_the_file_and_answers_204(self):
        status, headers, body = self.send(self.form("up/a.txt"), b"form bytes")
        self.assertEqual((status, body), (204, b""))
        self.assertEqual(headers["etag"], '"%s"' % hashlib.md5(b"form bytes").hexdigest())
        got = self.s3.get_object(Bucket=self.b, Key="up/a.txt")
        self.assertEqual(got["Body"].read(), b"form bytes")

    def test_filename_variable_in_the_key(self):
        post = self.form("uploads/${filename}")
        status, _, _ = self.send(post, b"pic", filename="cat.png")
        self.assertEqual(status, 204)
        self.assertEqual(self.keys(self.b), ["uploads/cat.png"])

    def test_success_action_status_201_answers_post_response_xml(self):
        post = self.form("k201", fields={"success_action_status": "201"},
                         conditions=[{"success_action_status": "201"}])
        status, _, body = self.send(post, b"x201")
        self.assertEqual(status, 201, body)
        root = strip_ns(ET.fromstring(body))
        self.assertEqual(root.tag, "PostResponse")
        self.assertEqual(root.findtext("Bucket"), self.b)
        self.assertEqual(root.findtext("Key"), "k201")
        self.assertEqual(root.findtext("ETag"), '"%s"' % hashlib.md5(b"x201").hexdigest())
        self.assertTrue(root.findtext("Location").endswith("/%s/k201" % self.b))

    def test_success_action_status_200_answers_empty_200(self):
        post = self.form("k200", fields={"success_action_status": "200"},
                         conditions=[{"success_action_status": "200"}])
        status, _, body = self.send(post)
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(self.keys(self.b), ["k200"])

    def test_success_action_redirect_answers_303_with_bucket_key_etag(self):
        target = "http://example.com/done?x=1"
        post = self.form("redir/a b", fields={"success_action_redirect": target},
                         conditions=[{"success_action_redirect": target}])
        status, headers, _ = self.send(post, b"redirected")
        self.assertEqual(status, 303)
        loc = urllib.parse.urlsplit(headers["location"])
        self.assertEqual((loc.scheme, loc.netloc, loc.path), ("http", "example.com", "/done"))
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(q["bucket"], self.b)
        self.assertEqual(q["key"], "redir/a b")
        self.assertEqual(q["etag"], '"%s"' % hashlib.md5(b"redirected").hexdigest())
        self.assertEqual(self.keys(self.b), ["redir/a b"])

    def test_metadata_and_content_type_fields_are_stored(self):
        post = self.form("meta", fields={"Content-Type": "image/png", "x-amz-meta-owner": "ann"},
                         conditions=[["starts-with", "$Content-Type", "image/"],
                                     {"x-amz-meta-owner": "ann"}])
        status, _, _ = self.send(post)
        self.assertEqual(status, 204)
        h = self.s3.head_object(Bucket=self.b, Key="meta")
        self.assertEqual(h["ContentType"], "image/png")
        self.assertEqual(h["Metadata"], {"owner": "ann"})

    def test_content_length_range_accepts_a_size_inside(self):
        post = self.form("sized", conditions=[["content-length-range", 5, 10]])
        self.assertEqual(self.send(post, b"12345")[0], 204)
        self.assertEqual(self.send(post, b"1234567890")[0], 204)
        self.assertEqual(self.keys(self.b), ["sized"])

    # ---- refused forms: nothing stored ---------------------------------

    def test_expired_policy_is_access_denied(self):
        body = self.assertRefused(self.send(self.form("late", expires=-60)), 403, "AccessDenied")
        self.assertIn(b"expired", body.lower())

    def test_starts_with_condition_failing_is_access_denied(self):
        post = self.form("typed", fields={"Content-Type": "image/png"},
                         conditions=[["starts-with", "$Content-Type", "image/"]])
        body = self.assertRefused(self.send(post, override={"Content-Type": "text/html"}),
                                  403, "AccessDenied")
        self.assertIn(b"Invalid according to Policy", body)

    def test_eq_condition_failing_is_access_denied(self):
        post = self.form("eq", fields={"x-amz-meta-team": "blue"},
                         conditions=[{"x-amz-meta-team": "blue"}])
        body = self.assertRefused(self.send(post, override={"x-amz-meta-team": "red"}),
                                  403, "AccessDenied")
        self.assertIn(b"Invalid according to Policy", body)

    def test_key_outside_the_policy_is_access_denied(self):
        post = self.form("fixed-key")
        self.assertRefused(self.send(post, override={"key": "other-key"}), 403, "AccessDenied")

    def test_field_not_in_the_policy_is_access_denied(self):
        body = self.assertRefused(self.send(self.form("extra"), extra=[("x-amz-meta-sneaky", "1")]),
                                  403, "AccessDenied")
        self.assertIn(b"Invalid according to Policy", body)

    def test_content_length_range_exceeded_is_entity_too_large(self):
        post = self.form("big", conditions=[["content-length-range", 1, 10]])
        self.assertRefused(self.send(post, b"x" * 11), 400, "EntityTooLarge")

    def test_content_length_range_below_is_entity_too_small(self):
        post = self.form("small", conditions=[["content-length-range", 5, 10]])
        self.assertRefused(self.send(post, b"1234"), 400, "EntityTooSmall")

    def test_large_file_over_the_range_stores_nothing(self):
        post = self.form("huge", conditions=[["content-length-range", 0, 1 << 20]])
        self.assertRefused(self.send(post, os.urandom(3 << 20)), 400, "EntityTooLarge")

    def test_wrong_signature_is_signature_does_not_match(self):
        post = self.form("forged")
        sig = post["fields"]["x-amz-signature"]
        forged = ("0" if sig[0] != "0" else "1") + sig[1:]
        self.assertRefused(self.send(post, override={"x-amz-signature": forged}),
                           403, "SignatureDoesNotMatch")

    def test_tampered_policy_is_signature_does_not_match(self):
        import base64
        post = self.form("tamper", conditions=[["content-length-range", 0, 5]])
        pol = json.loads(base64.b64decode(post["fields"]["policy"]))
        pol["conditions"] = [c for c in pol["conditions"]
                             if not (isinstance(c, list) and c[0] == "content-length-range")]
        forged = base64.b64encode(json.dumps(pol).encode()).decode()
        self.assertRefused(self.send(post, b"x" * 100, override={"policy": forged}),
                           403, "SignatureDoesNotMatch")

    def test_missing_key_field_is_invalid_argument(self):
        self.assertRefused(self.send(self.form("nokey"), drop=("key",)), 400, "InvalidArgument")

    def test_unknown_access_key_is_invalid_access_key_id(self):
        post = self.form("who", client=self.client(access_key="KUNOSUCHKEY000000000",
                                                   secret_key="whatever"))
        self.assertRefused(self.send(post), 403, "InvalidAccessKeyId")

    def test_post_to_a_missing_bucket_is_no_such_bucket(self):
        post = self.form("k")
        post["url"] = post["url"].rsplit("/", 1)[0] + "/no-such-bucket-here"
        status, _, body = self.send(post)
        self.assertEqual(status, 404, body)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "NoSuchBucket")

    def user_client(self, name, action):
        status, out = admin(self, "POST", "/kura/admin/users", {
            "name": "%s-%s" % (name, self.b[-8:]),
            "policy": doc(statement("Allow", action, "arn:aws:s3:::%s/*" % self.b))})
        self.assertEqual(status, 200, out)
        return self.client(access_key=out["access_key_id"], secret_key=out["secret_access_key"])

    def test_a_user_allowed_put_object_can_sign_a_form(self):
        writer = self.user_client("post-writer", "s3:PutObject")
        status, _, body = self.send(self.form("by-user", client=writer), b"user form")
        self.assertEqual(status, 204, body)
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="by-user")["Body"].read(),
                         b"user form")

    def test_signer_without_put_object_permission_is_access_denied(self):
        reader = self.user_client("post-reader", "s3:GetObject")
        self.assertRefused(self.send(self.form("denied", client=reader)), 403, "AccessDenied")
        with self.assertRaises(ClientError):
            self.s3.head_object(Bucket=self.b, Key="denied")

    def test_bucket_policy_deny_applies_to_form_uploads(self):
        self.s3.put_bucket_policy(Bucket=self.b, Policy=json.dumps(doc(statement(
            "Deny", "s3:PutObject", "arn:aws:s3:::%s/locked/*" % self.b, "*"))))
        self.addCleanup(self.s3.delete_bucket_policy, Bucket=self.b)
        st, _, body = self.send(self.form("locked/a"))
        self.assertEqual(st, 403, body)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "AccessDenied")
        self.assertEqual(self.send(self.form("open/a"))[0], 204)
        self.assertEqual(self.keys(self.b), ["open/a"])
