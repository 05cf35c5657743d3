"""CORS: Put/Get/DeleteBucketCors, OPTIONS preflight and the response headers
on actual requests (issue 4: S3 API completeness).

Preflights are sent unsigned, as browsers send them. A refused configuration
leaves the old one in place.
"""
import base64
import hashlib

from kura_harness import ClientError, KuraTestCase

RULES = [
    {"ID": "app", "AllowedOrigins": ["https://app.example.com", "http://*.example.org"],
     "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["x-amz-*", "content-type"],
     "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def md5_b64(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


class Cors(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("cors")
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"cors body")

    def _put_rules(self, rules=RULES):
        self.s3.put_bucket_cors(Bucket=self.b, CORSConfiguration={"CORSRules": rules})

    def _preflight(self, origin, method, req_headers=None, key="k"):
        h = {}
        if origin is not None:
            h["Origin"] = origin
        if method is not None:
            h["Access-Control-Request-Method"] = method
        if req_headers:
            h["Access-Control-Request-Headers"] = req_headers
        return self.raw("OPTIONS", "/%s/%s" % (self.b, key), headers=h, sign=False)

    def _no_cors(self):
        with self.assertRaises(ClientError) as e:
            self.s3.get_bucket_cors(Bucket=self.b)
        self.assertClientError(e, "NoSuchCORSConfiguration", 404)

    def test_get_without_configuration_is_no_such_cors_configuration(self):
        self._no_cors()

    def test_put_get_delete_round_trip(self):
        self._put_rules()
        got = self.s3.get_bucket_cors(Bucket=self.b)["CORSRules"]
        self.assertEqual(got, RULES)
        r = self.s3.delete_bucket_cors(Bucket=self.b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self._no_cors()
        st, _, body = self._preflight("https://app.example.com", "GET")
        self.assertEqual(st, 403, body)
        self.assertIn(b"<Code>AccessForbidden</Code>", body)

    def test_unsupported_method_is_invalid_request_and_keeps_old_rules(self):
        self._put_rules()
        with self.assertRaises(ClientError) as e:
            self._put_rules([{"AllowedOrigins": ["*"], "AllowedMethods": ["FETCH"]}])
        self.assertClientError(e, "InvalidRequest", 400)
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.b)["CORSRules"], RULES)

    def test_malformed_cors_xml_is_malformed_xml(self):
        self._put_rules()
        st, _, body = self.raw("PUT", "/%s" % self.b, query=[("cors", "")],
                               body=b"<CORSConfiguration><CORSRule>",
                               headers={"Content-MD5": md5_b64(b"<CORSConfiguration><CORSRule>")})
        self.assertEqual(st, 400, body)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.b)["CORSRules"], RULES)

    # ---- preflight ----------------------------------------------------

    def test_preflight_allowed(self):
        self._put_rules()
        cases = [
            ("https://app.example.com", "PUT", "Content-Type, x-amz-meta-a", "PUT"),
            ("http://sub.example.org", "GET", None, "GET"),
        ]
        for origin, method, req_headers, _ in cases:
            with self.subTest(origin=origin, method=method):
                st, h, body = self._preflight(origin, method, req_headers)
                self.assertEqual(st, 200, body)
                self.assertEqual(h.get("access-control-allow-origin"), origin)
                self.assertEqual([m.strip() for m in h["access-control-allow-methods"].split(",")],
                                 ["GET", "PUT"])
                self.assertEqual(h.get("access-control-max-age"), "600")
                self.assertEqual(h.get("access-control-allow-credentials"), "true")
                self.assertIn("Origin", h.get("vary", ""))
                if req_headers:
                    self.assertEqual(
                        [x.strip().lower() for x in h["access-control-allow-headers"].split(",")],
                        ["content-type", "x-amz-meta-a"])
                self.assertEqual(
                    [x.strip() for x in h["access-control-expose-headers"].split(",")],
                    ["ETag", "x-amz-request-id"])

    def test_preflight_wildcard_origin_answers_star(self):
        self._put_rules()
        st, h, body = self._preflight("https://anything.test", "HEAD")
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("access-control-allow-origin"), "*")
        self.assertEqual(h.get("access-control-allow-methods"), "HEAD")
        self.assertNotIn("access-control-allow-credentials", h)

    def test_preflight_denied(self):
        self._put_rules()
        cases = [
            ("origin not listed", "https://evil.test", "GET", None),
            ("method not allowed for origin", "https://app.example.com", "DELETE", None),
            ("header not allowed", "https://app.example.com", "PUT", "x-custom-header"),
            ("wildcard origin needs the same scheme", "https://sub.example.org", "GET", None),
        ]
        for name, origin, method, req_headers in cases:
            with self.subTest(name):
                st, h, body = self._preflight(origin, method, req_headers)
                self.assertEqual(st, 403, body)
                self.assertIn(b"<Code>AccessForbidden</Code>", body)
                self.assertNotIn("access-control-allow-origin", h)
        self.assertEqual(self.s3.get_bucket_cors(Bucket=self.b)["CORSRules"], RULES)

    def test_preflight_without_configuration_is_access_forbidden(self):
        st, _, body = self._preflight("https://app.example.com", "GET")
        self.assertEqual(st, 403, body)
        self.assertIn(b"<Code>AccessForbidden</Code>", body)
        self.assertIn(b"CORS is not enabled for this bucket", body)

    def test_preflight_missing_origin_or_method_is_bad_request(self):
        self._put_rules()
        for name, origin, method in [("no origin", None, "GET"),
                                     ("no method", "https://app.example.com", None)]:
            with self.subTest(name):
                st, _, body = self._preflight(origin, method)
                self.assertEqual(st, 400, body)
                self.assertIn(b"<Code>BadRequest</Code>", body)

    # ---- actual requests ----------------------------------------------

    def test_get_with_matching_origin_carries_cors_headers(self):
        self._put_rules()
        st, h, body = self.raw("GET", "/%s/k" % self.b, headers={"Origin": "https://app.example.com"})
        self.assertEqual(st, 200)
        self.assertEqual(body, b"cors body")
        self.assertEqual(h.get("access-control-allow-origin"), "https://app.example.com")
        self.assertEqual([m.strip() for m in h["access-control-allow-methods"].split(",")],
                         ["GET", "PUT"])
        self.assertEqual([x.strip() for x in h["access-control-expose-headers"].split(",")],
                         ["ETag", "x-amz-request-id"])
        self.assertIn("Origin", h.get("vary", ""))

    def test_get_with_unlisted_origin_has_no_cors_headers_but_succeeds(self):
        self._put_rules()
        st, h, body = self.raw("GET", "/%s/k" % self.b, headers={"Origin": "https://evil.test"})
        self.assertEqual(st, 200)
        self.assertEqual(body, b"cors body")
        self.assertNotIn("access-control-allow-origin", h)

    def test_get_with_origin_on_a_bucket_without_cors_has_no_cors_headers(self):
        st, h, body = self.raw("GET", "/%s/k" % self.b, headers={"Origin": "https://app.example.com"})
        self.assertEqual(st, 200)
        self.assertEqual(body, b"cors body")
        self.assertNotIn("access-control-allow-origin", h)
