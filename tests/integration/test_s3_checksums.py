"""Checksums: x-amz-checksum-* headers and trailers, Content-MD5, multipart
COMPOSITE and FULL_OBJECT checksums (issue 4: S3 API completeness; NOTES item 3).

Every checksum is computed here, independently of botocore (which needs awscrt
for CRC32C/CRC64NVME). A mismatch is BadDigest and stores nothing: the key
stays absent, or its previous version is unchanged.
"""
import base64
import hashlib
import os
import zlib

from kura_harness import ClientError, KuraTestCase, md5_etag

MiB = 1024 * 1024


def _table(poly, width):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


def _crc(table, mask, data):
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def crc32_raw(d):
    return zlib.crc32(d).to_bytes(4, "big")


def crc32c_raw(d):
    return _crc(_CRC32C, 0xFFFFFFFF, d).to_bytes(4, "big")


def crc64nvme_raw(d):
    return _crc(_CRC64NVME, 0xFFFFFFFFFFFFFFFF, d).to_bytes(8, "big")


RAW = {
    "CRC32": crc32_raw,
    "CRC32C": crc32c_raw,
    "CRC64NVME": crc64nvme_raw,
    "SHA1": lambda d: hashlib.sha1(d).digest(),
    "SHA256": lambda d: hashlib.sha256(d).digest(),
}


def b64(raw):
    return base64.b64encode(raw).decode()


def checksum(alg, data):
    return b64(RAW[alg](data))


def composite(alg, parts):
    return "%s-%d" % (b64(RAW[alg](b"".join(RAW[alg](p) for p in parts))), len(parts))


# CRC32C and CRC64NVME of multi-MiB bodies in pure Python take seconds; big
# bodies here are a random block repeated, and their CRCs are built with the
# GF(2) "combine" of zlib's crc32_combine (valid for any reflected CRC with
# all-ones init and xor-out): crc(A || B) = shift(crc(A), len(B)) ^ crc(B).
_POLY = {"CRC32": (0xEDB88320, 32), "CRC32C": (0x82F63B78, 32),
         "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}


def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, m) for m in mat]


def crc_combine(alg, crc1, crc2, len2):
    poly, width = _POLY[alg]
    if len2 == 0:
        return crc1
    odd = [poly] + [1 << n for n in range(width - 1)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


class Body:
    """A body made of (block, repeat) pieces, with fast checksums."""

    def __init__(self, *pieces):
        self.pieces = list(pieces)

    def __add__(self, other):
        return Body(*(self.pieces + other.pieces))

    def bytes(self):
        return b"".join(b * n for b, n in self.pieces)

    def raw(self, alg):
        if alg not in ("CRC32C", "CRC64NVME"):
            return RAW[alg](self.bytes())
        width = _POLY[alg][1] // 8
        crc, first = 0, True
        for block, n in self.pieces:
            cur, curlen = int.from_bytes(RAW[alg](block), "big"), len(block)
            while n:
                if n & 1:
                    crc = cur if first else crc_combine(alg, crc, cur, curlen)
                    first = False
                n >>= 1
                if n:
                    cur, curlen = crc_combine(alg, cur, cur, curlen), curlen * 2
        return crc.to_bytes(width, "big")

    def checksum(self, alg):
        return b64(self.raw(alg))


def random_body(size, block=64 * 1024):
    n, tail = divmod(size, block)
    pieces = [(os.urandom(block), n)] if n else []
    if tail:
        pieces.append((os.urandom(tail), 1))
    return Body(*pieces)


class ChecksumHelpersSelfTest(KuraTestCase):
    def test_known_check_values(self):
        # The standard "123456789" check values of each algorithm.
        self.assertEqual(crc32c_raw(b"123456789").hex(), "e3069283")
        self.assertEqual(crc64nvme_raw(b"123456789").hex(), "ae8b14860a799888")
        self.assertEqual(crc32_raw(b"123456789").hex(), "cbf43926")

    def test_combined_crcs_equal_direct_crcs(self):
        b = Body((os.urandom(1000), 5), (b"xyz", 1)) + Body((os.urandom(17), 3))
        for alg in ("CRC32C", "CRC64NVME"):
            self.assertEqual(b.raw(alg), RAW[alg](b.bytes()), alg)


class PutChecksums(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("ck")

    def _absent(self, key):
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key=key)
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_each_algorithm_is_stored_and_returned_with_checksum_mode(self):
        body = os.urandom(40000)
        for alg in RAW:
            with self.subTest(alg):
                key = "obj-" + alg
                value = checksum(alg, body)
                put = self.s3.put_object(Bucket=self.b, Key=key, Body=body,
                                         **{"Checksum" + alg: value})
                self.assertEqual(put["Checksum" + alg], value)
                self.assertEqual(put["ETag"], md5_etag(body))
                head = self.s3.head_object(Bucket=self.b, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(head.get("Checksum" + alg), value)
                self.assertEqual(head.get("ChecksumType"), "FULL_OBJECT")
                got = self.s3.get_object(Bucket=self.b, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(got["Body"].read(), body)
                self.assertEqual(got.get("Checksum" + alg), value)
                # Without checksum mode, no checksum header is returned.
                plain = self.s3.head_object(Bucket=self.b, Key=key)
                self.assertNotIn("Checksum" + alg, plain)

    def test_no_checksum_sent_stores_crc64nvme_by_default(self):
        body = b"no checksum header at all"
        st, _, resp = self.raw("PUT", "/%s/plain" % self.b, body=body)
        self.assertEqual(st, 200, resp)
        st, hdrs, _ = self.raw("HEAD", "/%s/plain" % self.b,
                               headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual(st, 200)
        self.assertEqual(hdrs.get("x-amz-checksum-crc64nvme"), checksum("CRC64NVME", body))
        self.assertEqual(hdrs.get("x-amz-checksum-type"), "FULL_OBJECT")

    def test_wrong_checksum_is_bad_digest_and_nothing_is_stored(self):
        body = os.urandom(5000)
        for alg in RAW:
            with self.subTest(alg):
                key = "bad-" + alg
                wrong = checksum(alg, b"other bytes")
                with self.assertRaises(ClientError) as e:
                    self.s3.put_object(Bucket=self.b, Key=key, Body=body,
                                       **{"Checksum" + alg: wrong})
                self.assertClientError(e, "BadDigest", 400)
                self._absent(key)
        self.assertEqual(self.keys(self.b), [])

    def test_wrong_checksum_leaves_the_previous_object(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"previous", Metadata={"v": "1"})
        with self.assertRaises(ClientError) as e:
            self.s3.put_object(Bucket=self.b, Key="k", Body=b"next", Metadata={"v": "2"},
                               ChecksumCRC32=checksum("CRC32", b"not next"))
        self.assertClientError(e, "BadDigest", 400)
        got = self.s3.get_object(Bucket=self.b, Key="k")
        self.assertEqual(got["Body"].read(), b"previous")
        self.assertEqual(got["Metadata"], {"v": "1"})

    def test_wrong_content_md5_is_bad_digest(self):
        self.s3.put_object(Bucket=self.b, Key="k", Body=b"previous")
        wrong = b64(hashlib.md5(b"other").digest())
        for key in ("k", "new"):
            with self.subTest(key):
                st, _, resp = self.raw("PUT", "/%s/%s" % (self.b, key), body=b"body",
                                       headers={"Content-MD5": wrong})
                self.assertEqual(st, 400, resp)
                self.assertIn(b"<Code>BadDigest</Code>", resp)
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="k")["Body"].read(), b"previous")
        self._absent("new")

    def test_right_content_md5_is_accepted(self):
        body = b"md5 checked"
        st, hdrs, resp = self.raw("PUT", "/%s/md5" % self.b, body=body,
                                  headers={"Content-MD5": b64(hashlib.md5(body).digest())})
        self.assertEqual(st, 200, resp)
        self.assertEqual(hdrs["etag"], md5_etag(body))

    def test_malformed_content_md5_is_invalid_digest(self):
        st, _, resp = self.raw("PUT", "/%s/k" % self.b, body=b"body",
                               headers={"Content-MD5": "not-an-md5"})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidDigest</Code>", resp)
        self._absent("k")

    def test_malformed_checksum_header_is_invalid_request(self):
        # S3: 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid."
        st, _, resp = self.raw("PUT", "/%s/k" % self.b, body=b"body",
                               headers={"x-amz-checksum-crc32": "AAAAAAAA"})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidRequest</Code>", resp)
        self._absent("k")

    def test_two_checksum_headers_are_invalid_request(self):
        body = b"body"
        st, _, resp = self.raw("PUT", "/%s/k" % self.b, body=body, headers={
            "x-amz-checksum-crc32": checksum("CRC32", body),
            "x-amz-checksum-sha256": checksum("SHA256", body)})
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>InvalidRequest</Code>", resp)
        self._absent("k")

    # ---- aws-chunked trailers (the form JS SDK v3 sends for streams) ----

    def _put_trailer(self, key, chunks, trailer_name, trailer_value):
        framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
        framed += b"0\r\n%s:%s\r\n\r\n" % (trailer_name.encode(), trailer_value.encode())
        return self.raw("PUT", "/%s/%s" % (self.b, key), body=framed,
                        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                        headers={"Content-Encoding": "aws-chunked",
                                 "x-amz-decoded-content-length": str(sum(map(len, chunks))),
                                 "x-amz-trailer": trailer_name})

    def test_trailing_checksum_of_each_algorithm(self):
        chunks = [os.urandom(65536), os.urandom(65536), os.urandom(100)]
        body = b"".join(chunks)
        for alg in RAW:
            with self.subTest(alg):
                name = "x-amz-checksum-" + alg.lower()
                st, _, resp = self._put_trailer("tr-" + alg, chunks, name, checksum(alg, body))
                self.assertEqual(st, 200, resp)
                got = self.s3.get_object(Bucket=self.b, Key="tr-" + alg, ChecksumMode="ENABLED")
                self.assertEqual(got["Body"].read(), body)
                self.assertEqual(got.get("Checksum" + alg), checksum(alg, body))
                self.assertNotIn("aws-chunked", got.get("ContentEncoding", ""))

    def test_wrong_trailing_checksum_is_bad_digest_and_nothing_is_stored(self):
        chunks = [os.urandom(1000), os.urandom(10)]
        st, _, resp = self._put_trailer("tr-bad", chunks, "x-amz-checksum-crc32",
                                        checksum("CRC32", b"something else"))
        self.assertEqual(st, 400, resp)
        self.assertIn(b"<Code>BadDigest</Code>", resp)
        self._absent("tr-bad")


class MultipartChecksums(KuraTestCase):
    def setUp(self):
        self.b = self.new_bucket("mck")

    def _upload_parts(self, key, uid, alg, parts):
        """`parts` are Body objects; returns the Parts list for Complete."""
        out = []
        for n, p in enumerate(parts, 1):
            value = p.checksum(alg)
            r = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid, PartNumber=n,
                                    Body=p.bytes(), **{"Checksum" + alg: value})
            self.assertEqual(r.get("Checksum" + alg), value)
            out.append({"PartNumber": n, "ETag": r["ETag"], "Checksum" + alg: value})
        return out

    @staticmethod
    def _composite(alg, parts):
        return "%s-%d" % (b64(RAW[alg](b"".join(p.raw(alg) for p in parts))), len(parts))

    def test_composite_checksums(self):
        parts = [random_body(5 * MiB), random_body(3000)]
        for alg in ("CRC32", "CRC32C", "SHA1", "SHA256"):
            with self.subTest(alg):
                key = "comp-" + alg
                c = self.s3.create_multipart_upload(Bucket=self.b, Key=key, ChecksumAlgorithm=alg,
                                                    ChecksumType="COMPOSITE")
                self.assertEqual(c.get("ChecksumAlgorithm"), alg)
                uid = c["UploadId"]
                listed = self._upload_parts(key, uid, alg, parts)
                lp = self.s3.list_parts(Bucket=self.b, Key=key, UploadId=uid)
                self.assertEqual([p.get("Checksum" + alg) for p in lp["Parts"]],
                                 [p.checksum(alg) for p in parts])
                done = self.s3.complete_multipart_upload(Bucket=self.b, Key=key, UploadId=uid,
                                                         MultipartUpload={"Parts": listed})
                self.assertEqual(done.get("Checksum" + alg), self._composite(alg, parts))
                self.assertEqual(done.get("ChecksumType"), "COMPOSITE")
                head = self.s3.head_object(Bucket=self.b, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(head.get("Checksum" + alg), self._composite(alg, parts))
                self.assertEqual(head.get("ChecksumType"), "COMPOSITE")
                got = self.s3.get_object(Bucket=self.b, Key=key)["Body"].read()
                self.assertEqual(got, b"".join(p.bytes() for p in parts))

    def test_full_object_checksums(self):
        parts = [random_body(5 * MiB), random_body(5 * MiB), random_body(77)]
        whole = parts[0] + parts[1] + parts[2]
        for alg in ("CRC32", "CRC32C", "CRC64NVME"):
            with self.subTest(alg):
                key = "full-" + alg
                uid = self.s3.create_multipart_upload(
                    Bucket=self.b, Key=key, ChecksumAlgorithm=alg,
                    ChecksumType="FULL_OBJECT")["UploadId"]
                listed = self._upload_parts(key, uid, alg, parts)
                done = self.s3.complete_multipart_upload(
                    Bucket=self.b, Key=key, UploadId=uid, MultipartUpload={"Parts": listed},
                    ChecksumType="FULL_OBJECT", **{"Checksum" + alg: whole.checksum(alg)})
                self.assertEqual(done.get("Checksum" + alg), whole.checksum(alg))
                self.assertEqual(done.get("ChecksumType"), "FULL_OBJECT")
                head = self.s3.head_object(Bucket=self.b, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(head.get("Checksum" + alg), whole.checksum(alg))
                self.assertEqual(head.get("ChecksumType"), "FULL_OBJECT")

    def test_wrong_full_object_checksum_on_complete_is_bad_digest(self):
        parts = [Body((b"only part", 1))]
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="fo", ChecksumAlgorithm="CRC32",
                                              ChecksumType="FULL_OBJECT")["UploadId"]
        listed = self._upload_parts("fo", uid, "CRC32", parts)
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(
                Bucket=self.b, Key="fo", UploadId=uid, MultipartUpload={"Parts": listed},
                ChecksumType="FULL_OBJECT", ChecksumCRC32=checksum("CRC32", b"wrong"))
        self.assertClientError(e, "BadDigest", 400)
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="fo")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_upload_part_with_wrong_checksum_is_bad_digest_and_not_stored(self):
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="p", ChecksumAlgorithm="SHA256",
                                              ChecksumType="COMPOSITE")["UploadId"]
        with self.assertRaises(ClientError) as e:
            self.s3.upload_part(Bucket=self.b, Key="p", UploadId=uid, PartNumber=1, Body=b"part",
                                ChecksumSHA256=checksum("SHA256", b"not part"))
        self.assertClientError(e, "BadDigest", 400)
        self.assertNotIn("Parts", self.s3.list_parts(Bucket=self.b, Key="p", UploadId=uid))

    def test_complete_with_wrong_part_checksum_is_invalid_part(self):
        parts = [random_body(5 * MiB), Body((b"tail", 1))]
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key="wp", ChecksumAlgorithm="CRC32",
                                              ChecksumType="COMPOSITE")["UploadId"]
        listed = self._upload_parts("wp", uid, "CRC32", parts)
        listed[1]["ChecksumCRC32"] = checksum("CRC32", b"not the tail")
        with self.assertRaises(ClientError) as e:
            self.s3.complete_multipart_upload(Bucket=self.b, Key="wp", UploadId=uid,
                                              MultipartUpload={"Parts": listed})
        self.assertClientError(e, "InvalidPart", 400)
        with self.assertRaises(ClientError) as e:
            self.s3.head_object(Bucket=self.b, Key="wp")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(len(self.s3.list_parts(Bucket=self.b, Key="wp", UploadId=uid)["Parts"]), 2)
