/* tests/fuzz/fuzz_aws_chunked.c: the aws-chunked decoder (auth/chunked.c)
 * on hostile bodies.
 * Input: byte 0 picks the payload mode and the declared trailer, byte 1 the
 * feed step (bytes arrive split anywhere), byte 2 whether
 * x-amz-decoded-content-length is declared (then bytes 3..4 give it); the
 * rest is the body. Signatures use a fixed key, so signed chunks fail their
 * check, but everything before the check (framing, lengths, hashing) runs. */
#include "auth/auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool discard(void *arg, const void *p, size_t n)
{
    size_t *total = arg;
    (void)p;
    *total += n;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const auth_payload_t modes[] = {AUTH_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
                                           AUTH_PAYLOAD_STREAMING_SIGNED,
                                           AUTH_PAYLOAD_STREAMING_SIGNED_TRAILER};
    static const char *const trailers[] = {NULL,
                                           "x-amz-checksum-crc32",
                                           "x-amz-checksum-crc32c",
                                           "x-amz-checksum-crc64nvme",
                                           "x-amz-checksum-sha1",
                                           "x-amz-checksum-sha256",
                                           "x-amz-checksum-crc32, x-amz-meta-a",
                                           "first,second,third"};
    if (size < 5)
        return 0;

    auth_result_t auth;
    memset(&auth, 0, sizeof auth);
    auth.payload = modes[data[0] % 3];
    memcpy(auth.amz_date, "20130524T000000Z", 17);
    memcpy(auth.date, "20130524", 9);
    memcpy(auth.region, "us-east-1", 10);
    memcpy(auth.service, "s3", 3);
    memset(auth.seed_signature, 'a', 64);
    const char *names = trailers[(data[0] / 3) % (sizeof trailers / sizeof trailers[0])];
    size_t step = (size_t)data[1] + 1;
    uint64_t decoded = data[2] & 1 ? (uint64_t)data[3] << 8 | data[4] : UINT64_MAX;
    data += 5;
    size -= 5;

    auth_chunked_t *c = auth_chunked_new(&auth, decoded, names);
    if (!c)
        return 0;
    size_t total = 0;
    auth_rc_t rc = AUTH_OK;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        rc = auth_chunked_feed(c, data + off, n, discard, &total);
        if (rc != AUTH_OK)
            break;
    }
    rc = auth_chunked_finish(c);
    (void)auth_chunked_trailer(c, "x-amz-checksum-crc32");
    (void)auth_rc_name(rc);
    auth_chunked_free(c);
    return 0;
}
