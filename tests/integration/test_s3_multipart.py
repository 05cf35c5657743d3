"""boto3: multipart uploads, UploadPartCopy, GET/HEAD ?partNumber and conditional
writes on PutObject / CompleteMultipartUpload (issue 4: S3 API completeness).

Each test checks the answer and that nothing else changed (STYLE §11): a
refused Complete leaves no object and the upload still listed, an aborted
upload is gone from ListMultipartUploads, a refused conditional write leaves
the old object's bytes in place.
"""
import hashlib
import os

from kura_harness import ClientError, KuraTestCase, md5_etag

MiB = 1024 * 1024


def multipart_etag(parts):
    """S3's ETag of a completed multipart upload: md5 of the parts' binary md5s, -N."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return '"%s-%d"' % (digest, len(parts))


class Multipart(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("mp")

    def _create(self, key, **kw):
        return self.s3.create_multipart_upload(Bucket=self.b, Key=key, **kw)["UploadId"]

    def _upload(self, key, uid, parts):
        """Upload `parts` as 1..N; return the Parts list for Complete."""
        out = []
        for n, body in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid, PartNumber=n, Body=body)
            self.assertEqual(r["ETag"], md5_etag(body))
            out.append({"PartNumber": n, "ETag": r["ETag"]})
        return out

    def _uploads(self, **kw):
        return [(u["Key"], u["UploadId"])
                for u in self.s3.list_multipart_uploads(Bucket=self.b, **kw).get("Uploads", [])]

    def _assert_no_object(self, key):
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key=key)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    # ---- complete -----------------------------------------------------

    def test_complete_concatenates_parts_and_etag_is_md5_of_part_md5s(self):
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
        uid = self._create("big/obj", ContentType="application/x-mp", Metadata={"m": "v"})
        self.assertEqual(self._uploads(), [("big/obj", uid)])
        done = self.s3.complete_multipart_upload(
            Bucket=self.b, Key="big/obj", UploadId=uid,
            MultipartUpload={"Parts": self._upload("big/obj", uid, parts)})

        whole = b"".join(parts)
        self.assertEqual(done["ETag"], multipart_etag(parts))
        self.assertEqual(done["Key"], "big/obj")
        self.assertEqual(done["Bucket"], self.b)
        got = self.s3.get_object(Bucket=self.b, Key="big/obj")
        self.assertEqual(hashlib.sha256(got["Body"].read()).digest(),
                         hashlib.sha256(whole).digest())
        self.assertEqual(got["ETag"], multipart_etag(parts))
        self.assertEqual(got["ContentLength"], len(whole))
        self.assertEqual(got["ContentType"], "application/x-mp")
        self.assertEqual(got["Metadata"], {"m": "v"})
        # The upload is gone; its parts can no longer be listed.
        self.assertEqual(self._uploads(), [])
        with self.assertRaises(ClientError) as e:
            self.s3.list_parts(Bucket=self.b, Key="big/obj", UploadId=uid)
        self.assertClientError(e, "NoSuchUpload", 404)
        self.assertEqual(self.keys(self.b), ["big/obj"])

    def test_single_small_part_is_allowed_as_last_part(self):
        uid = self._create("one")
        parts = [b"only part"]
        done = self.s3.complete_multipart_upload(
            Bucket=self.b, Key="one", UploadId=uid,
            MultipartUpload={"Parts": self._upload("one", uid, parts)})
        self.assertEqual(done["ETag"], multipart_etag(parts))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="one")["Body"].read(), b"only part")

    def test_complete_may_skip_uploaded_part_numbers(self):
        # Parts 1, 2, 3 uploaded, only 1 and 3 listed: the object is 1 + 3.
        uid = self._create("gap")
        p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"
        listed = self._upload("gap", uid, [p1, p2, p3])
        done = self.s3.complete_multipart_upload(
            Bucket=self.b, Key="gap", UploadId=uid,
            MultipartUpload={"Parts": [listed[0], listed[2]]})
        self.assertEqual(done["ETag"], multipart_etag([p1, p3]))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="gap")["Body"].read(), p1 + p3)

    def test_reuploading_a_part_number_replaces_it(self):
        uid = self._create("re")
        self.s3.upload_part(Bucket=self.b, Key="re", UploadId=uid, PartNumber=1, Body=b"first")
        r = self.s3.upload_part(Bucket=self.b, Key="re", UploadId=uid, PartNumber=1, Body=b"second")
        parts = self.s3.list_parts(Bucket=self.b, Key="re", UploadId=uid)["Parts"]
        self.assertEqual([(p["PartNumber"], p["ETag"], p["Size"]) for p in parts],
                         [(1, md5_etag(b"second"), 6)])
        self.s3.complete_multipart_upload(
            Bucket=self.b, Key="re", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="re")["Body"].read(), b"second")

    def test_complete_replaces_an_existing_object(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"old")
        uid = self._create("k")
        self.s3.complete_multipart_upload(
            Bucket=self.b, Key="k", UploadId=uid,
            MultipartUpload={"Parts": self._upload("k", uid, [b"new"])})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k")["Body"].read(), b"new")
        self.assertEqual(self.keys(self.b), ["k"])

    # ---- complete: refusals leave nothing behind ----------------------

    def _assert_upload_intact(self, key, uid, nparts):
        self.assertEqual(self._uploads(), [(key, uid)])
        parts = self.s3.list_parts(Bucket=self.b, Key=key, UploadId=uid)["Parts"]
        self.assertEqual([p["PartNumber"] for p in parts], list(range(1, nparts + 1)))
        self._assert_no_object(key)

    def test_non_last_part_below_5mib_is_entity_too_small(self):
        uid = self._create("small")
        listed = self._upload("small", uid, [os.urandom(5 * MiB - 1), b"last"])
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="small", UploadId=uid,
                                              MultipartUpload={"Parts": listed})
        self.assertClientError(e, "EntityTooSmall", 400)
        self._assert_upload_intact("small", uid, 2)

    def test_wrong_part_etag_is_invalid_part(self):
        uid = self._create("wrong")
        listed = self._upload("wrong", uid, [os.urandom(5 * MiB), b"last"])
        listed[1]["ETag"] = md5_etag(b"something else")
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="wrong", UploadId=uid,
                                              MultipartUpload={"Parts": listed})
        self.assertClientError(e, "InvalidPart", 400)
        self._assert_upload_intact("wrong", uid, 2)

    def test_part_never_uploaded_is_invalid_part(self):
        uid = self._create("missing")
        listed = self._upload("missing", uid, [os.urandom(5 * MiB)])
        listed.append({"PartNumber": 2, "ETag": md5_etag(b"never sent")})
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="missing", UploadId=uid,
                                              MultipartUpload={"Parts": listed})
        self.assertClientError(e, "InvalidPart", 400)
        self._assert_upload_intact("missing", uid, 1)

    def test_parts_out_of_order_is_invalid_part_order(self):
        uid = self._create("order")
        listed = self._upload("order", uid, [os.urandom(5 * MiB), os.urandom(5 * MiB)])
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="order", UploadId=uid,
                                              MultipartUpload={"Parts": listed[::-1]})
        self.assertClientError(e, "InvalidPartOrder", 400)
        self._assert_upload_intact("order", uid, 2)

    def test_complete_with_malformed_xml_is_malformed_xml(self):
        uid = self._create("mx")
        self._upload("mx", uid, [b"x"])
        st, _, body = self.raw("POST", "/%s/mx" % self.b, query=[("uploadId", uid)],
                               body=b"<CompleteMultipartUpload><Part>")
        self.assertEqual(st, 400, body)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        self._assert_upload_intact("mx", uid, 1)

    # ---- unknown / aborted uploads ------------------------------------

    def test_unknown_upload_id_is_no_such_upload_everywhere(self):
        uid = "kura-no-such-upload-id"
        calls = [
            ("abort", lambda: self.s3.abort_multipart_upload(Bucket=self.b, Key="k", UploadId=uid)),
            ("complete", lambda: self.s3.complete_multipart_upload(
                Bucket=self.b, Key="k", UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": md5_etag(b"x")}]})),
            ("list_parts", lambda: self.s3.list_parts(Bucket=self.b, Key="k", UploadId=uid)),
            ("upload_part", lambda: self.s3.upload_part(Bucket=self.b, Key="k", UploadId=uid,
                                                        PartNumber=1, Body=b"x")),
        ]
        for name, call in calls:
            with self.subTest(name):
                with self.assertRaises(ClientError) as e:
                    call()
                self.assertClientError(e, "NoSuchUpload", 404)
        self._assert_no_object("k")
        self.assertEqual(self._uploads(), [])

    def test_upload_id_of_another_key_is_no_such_upload(self):
        uid = self._create("a")
        with self.assertRaises(ClientError) as e:
            self.s3.upload_part(Bucket=self.b, Key="b", UploadId=uid, PartNumber=1, Body=b"x")
        self.assertClientError(e, "NoSuchUpload", 404)
        self.assertEqual(self._uploads(), [("a", uid)])

    def test_abort_removes_upload_and_later_part_is_no_such_upload(self):
        uid = self._create("ab")
        other = self._create("keep")
        self._upload("ab", uid, [b"one", b"two"])
        r = self.s3.abort_multipart_upload(Bucket=self.b, Key="ab", UploadId=uid)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self._uploads(), [("keep", other)])
        with self.assertRaises(ClientError) as e:
            self.s3.upload_part(Bucket=self.b, Key="ab", UploadId=uid, PartNumber=3, Body=b"x")
        self.assertClientError(e, "NoSuchUpload", 404)
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(
                Bucket=self.b, Key="ab", UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": md5_etag(b"one")}]})
        self.assertClientError(e, "NoSuchUpload", 404)
        self._assert_no_object("ab")

    def test_part_number_out_of_range_is_invalid_argument(self):
        uid = self._create("pn")
        for n in (0, 10001):
            with self.subTest(part=n):
                st, _, body = self.raw("PUT", "/%s/pn" % self.b,
                                       query=[("partNumber", str(n)), ("uploadId", uid)],
                                       body=b"x")
                self.assertEqual(st, 400, body)
                self.assertIn(b"<Code>InvalidArgument</Code>", body)
        self.assertNotIn("Parts", self.s3.list_parts(Bucket=self.b, Key="pn", UploadId=uid))

    # ---- listing ------------------------------------------------------

    def test_list_parts_pages_with_part_number_marker(self):
        uid = self._create("lp")
        bodies = [b"p%d" % i * (i + 1) for i in range(5)]
        self._upload("lp", uid, bodies)
        seen, marker, pages = [], 0, 0
        while True:
            r = self.s3.list_parts(Bucket=self.b, Key="lp", UploadId=uid, MaxParts=2,
                                   PartNumberMarker=marker)
            pages += 1
            self.assertEqual(r["MaxParts"], 2)
            self.assertEqual(r["PartNumberMarker"], marker)
            seen.extend((p["PartNumber"], p["ETag"], p["Size"]) for p in r["Parts"])
            if not r["IsTruncated"]:
                break
            self.assertEqual(r["NextPartNumberMarker"], r["Parts"][-1]["PartNumber"])
            marker = r["NextPartNumberMarker"]
        self.assertEqual(pages, 3)
        self.assertEqual(seen, [(i + 1, md5_etag(b), len(b)) for i, b in enumerate(bodies)])

    def test_list_multipart_uploads_pages_with_key_and_upload_id_markers(self):
        want = []
        for key in ("a", "a", "b", "c/d", "c/e"):
            want.append((key, self._create(key)))
        # S3 orders by key, then by initiation time within a key.
        got, km, um, pages = [], "", "", 0
        while True:
            r = self.s3.list_multipart_uploads(Bucket=self.b, MaxUploads=2, KeyMarker=km,
                                               UploadIdMarker=um)
            pages += 1
            got.extend((u["Key"], u["UploadId"]) for u in r.get("Uploads", []))
            if not r["IsTruncated"]:
                break
            self.assertEqual((r["NextKeyMarker"], r["NextUploadIdMarker"]), got[-1])
            km, um = r["NextKeyMarker"], r["NextUploadIdMarker"]
        self.assertEqual(pages, 3)
        self.assertEqual(got, want)

        # key-marker alone: uploads for keys strictly after it.
        r = self.s3.list_multipart_uploads(Bucket=self.b, KeyMarker="a")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]], want[2:])

        # prefix + delimiter roll c/ up into a common prefix.
        r = self.s3.list_multipart_uploads(Bucket=self.b, Delimiter="/")
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["a", "a", "b"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["c/"])
        r = self.s3.list_multipart_uploads(Bucket=self.b, Prefix="c/")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]], want[3:])
        self.assertNotIn("CommonPrefixes", r)

    # ---- GET/HEAD ?partNumber -----------------------------------------

    def test_get_and_head_with_part_number_return_that_part(self):
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(999)]
        uid = self._create("parts")
        self.s3.complete_multipart_upload(
            Bucket=self.b, Key="parts", UploadId=uid,
            MultipartUpload={"Parts": self._upload("parts", uid, parts)})
        total = sum(len(p) for p in parts)
        start = 0
        for n, body in enumerate(parts, 1):
            with self.subTest(part=n):
                got = self.s3.get_object(Bucket=self.b, Key="parts", PartNumber=n)
                self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 206)
                self.assertEqual(got["Body"].read(), body)
                self.assertEqual(got["ContentLength"], len(body))
                self.assertEqual(got["ContentRange"],
                                 "bytes %d-%d/%d" % (start, start + len(body) - 1, total))
                self.assertEqual(got["PartsCount"], 3)
                self.assertEqual(got["ETag"], multipart_etag(parts))
                head = self.s3.head_object(Bucket=self.b, Key="parts", PartNumber=n)
                self.assertEqual(head["ContentLength"], len(body))
                self.assertEqual(head["PartsCount"], 3)
                start += len(body)
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="parts", PartNumber=4)
        self.assertClientError(e, "InvalidPartNumber", 416)

    def test_part_number_one_of_a_simple_object_is_the_whole_object(self):
        self.s3.put_object(Bucket=self.b, Key="simple", Body=b"simple body")
        got = self.s3.get_object(Bucket=self.b, Key="simple", PartNumber=1)
        self.assertEqual(got["Body"].read(), b"simple body")
        self.assertEqual(got["ETag"], md5_etag(b"simple body"))
        with self.assertRaises(ClientError) as e:
            self.s3.get_object(Bucket=self.b, Key="simple", PartNumber=2)
        self.assertClientError(e, "InvalidPartNumber", 416)

    # ---- UploadPartCopy -----------------------------------------------

    def test_upload_part_copy_with_ranges_and_whole_source(self):
        src = os.urandom(10 * MiB + 100)
        self.s3.put_object(Bucket=self.b, Key="src", Body=src)
        other = self.new_bucket("mpsrc")
        self.s3.put_object(Bucket=other, Key="tail", Body=b"tail from another bucket")
        uid = self._create("dst")
        r1 = self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=1,
                                      CopySource={"Bucket": self.b, "Key": "src"},
                                      CopySourceRange="bytes=0-%d" % (5 * MiB - 1))
        r2 = self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=2,
                                      CopySource={"Bucket": self.b, "Key": "src"},
                                      CopySourceRange="bytes=%d-%d" % (5 * MiB, len(src) - 1))
        r3 = self.s3.upload_part_copy(Bucket=self.b, Key="dst", UploadId=uid, PartNumber=3,
                                      CopySource={"Bucket": other, "Key": "tail"})
        pieces = [src[:5 * MiB], src[5 * MiB:], b"tail from another bucket"]
        for r, piece in zip((r1, r2, r3), pieces):
            self.assertEqual(r["CopyPartResult"]["ETag"], md5_etag(piece))
            self.assertIn("LastModified", r["CopyPartResult"])
        done = self.s3.complete_multipart_upload(
            Bucket=self.b, Key="dst", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]}
                                       for n, r in enumerate((r1, r2, r3), 1)]})
        self.assertEqual(done["ETag"], multipart_etag(pieces))
        got = self.s3.get_object(Bucket=self.b, Key="dst")["Body"].read()
        self.assertEqual(got, b"".join(pieces))
        # The sources are untouched.
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="src")["Body"].read(), src)
        self.assertEqual(self.keys(self.b), ["dst", "src"])

    def test_upload_part_copy_of_missing_source_is_no_such_key(self):
        uid = self._create("dst2")
        with self.assertRaises(ClientError) as e:
            self.s3.upload_part_copy(Bucket=self.b, Key="dst2", UploadId=uid, PartNumber=1,
                                     CopySource={"Bucket": self.b, "Key": "nope"})
        self.assertClientError(e, "NoSuchKey", 404)
        self.assertNotIn("Parts", self.s3.list_parts(Bucket=self.b, Key="dst2", UploadId=uid))

    def test_upload_part_copy_range_past_the_end_is_refused(self):
        self.s3.put_object(Bucket=self.b, Key="short", Body=b"0123456789")
        uid = self._create("dst3")
        with self.assertRaises(ClientError) as e:
            self.s3.upload_part_copy(Bucket=self.b, Key="dst3", UploadId=uid, PartNumber=1,
                                     CopySource={"Bucket": self.b, "Key": "short"},
                                     CopySourceRange="bytes=5-10")
        # S3 answers 400 InvalidArgument "Range specified is not valid for
        # source object of size: 10" for a copy-source-range past the end.
        self.assertClientError(e, "InvalidArgument", 400)
        self.assertNotIn("Parts", self.s3.list_parts(Bucket=self.b, Key="dst3", UploadId=uid))


class ConditionalWrites(KuraTestCase):
    """If-None-Match: * and If-Match on PutObject and CompleteMultipartUpload."""

    def setUp(self):
        self.b = self.new_bucket("cw")

    def _body(self, key):
        return self.s3.get_object(Bucket=self.b, Key=key)["Body"].read()

    def test_put_if_none_match_star_creates_only_when_absent(self):
        r = self.s3.put_object(Bucket=self.b, Key="k", Body=b"one", IfNoneMatch="*")
        self.assertEqual(r["ETag"], md5_etag(b"one"))
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="k", Body=b"two", IfNoneMatch="*")
        self.assertClientError(e, "PreconditionFailed", 412)
        self.assertEqual(self._body("k"), b"one")
        self.assertEqual(self.keys(self.b), ["k"])

    def test_put_if_match_replaces_only_the_matching_etag(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"one")
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="k", Body=b"two", IfMatch=md5_etag(b"zzz"))
        self.assertClientError(e, "PreconditionFailed", 412)
        self.assertEqual(self._body("k"), b"one")
        r = self.s3.put_object(Bucket=self.b, Key="k", Body=b"three", IfMatch=md5_etag(b"one"))
        self.assertEqual(r["ETag"], md5_etag(b"three"))
        self.assertEqual(self._body("k"), b"three")

    def test_put_if_match_on_missing_key_is_no_such_key(self):
        # S3 User Guide, conditional writes: "If there's no current object
        # version with the same name ... the operation fails with a 404".
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="absent", Body=b"x", IfMatch=md5_etag(b"x"))
        self.assertClientError(e, "NoSuchKey", 404)
        self.assertEqual(self.keys(self.b), [])

    def _mpu(self, key, body):
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=key)["UploadId"]
        e = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid, PartNumber=1,
                                Body=body)["ETag"]
        return uid, {"Parts": [{"PartNumber": 1, "ETag": e}]}

    def test_complete_if_none_match_star_on_existing_key_is_precondition_failed(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"existing")
        uid, mpu = self._mpu("k", b"from parts")
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="k", UploadId=uid,
                                              MultipartUpload=mpu, IfNoneMatch="*")
        self.assertClientError(e, "PreconditionFailed", 412)
        self.assertEqual(self._body("k"), b"existing")
        # On an absent key the same condition succeeds.
        uid2, mpu2 = self._mpu("fresh", b"fresh parts")
        self.s3.complete_multipart_upload(Bucket=self.b, Key="fresh", UploadId=uid2,
                                          MultipartUpload=mpu2, IfNoneMatch="*")
        self.assertEqual(self._body("fresh"), b"fresh parts")

    def test_complete_if_match_wrong_etag_is_precondition_failed(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"existing")
        uid, mpu = self._mpu("k", b"from parts")
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="k", UploadId=uid,
                                              MultipartUpload=mpu, IfMatch=md5_etag(b"other"))
        self.assertClientError(e, "PreconditionFailed", 412)
        self.assertEqual(self._body("k"), b"existing")
        uid2, mpu2 = self._mpu("k", b"second try")
        self.s3.complete_multipart_upload(Bucket=self.b, Key="k", UploadId=uid2,
                                          MultipartUpload=mpu2, IfMatch=md5_etag(b"existing"))
        self.assertEqual(self._body("k"), b"second try")
