/* util/codec.h: hex and base64, plus the digests AWS names.
 * Checksums of object bodies (CRC32, CRC32C, CRC64/NVME, SHA-1, SHA-256) are
 * computed incrementally by checksum.h; this file is for small strings. */
#ifndef KURA_UTIL_CODEC_H
#define KURA_UTIL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void codec_hex(const void *in, size_t n, char *out);
/* Value of one hex digit (either case), or -1. */
int codec_hexval(char c);
/* Decodes exactly 2n hex chars (either case) into n bytes. */
bool codec_unhex(const char *in, size_t hexlen, uint8_t *out);
/* Standard base64 with padding; out needs 4 * ceil(n / 3) + 1 bytes. Returns length. */
size_t codec_b64(const void *in, size_t n, char *out);
/* Strict standard base64 (padding required); *out_len set. out needs 3 * len / 4 bytes.
 * Returns false on any invalid character or length. */
bool codec_unb64(const char *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len);

void codec_sha256(const void *in, size_t n, uint8_t out[32]);
void codec_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n, uint8_t out[32]);
/* Compare without early exit: for signatures. */
bool codec_ct_equal(const void *a, const void *b, size_t n);
/* n random bytes as lowercase hex (2n chars + NUL) from the OS CSPRNG. */
void codec_random_hex(size_t n, char *out);

#endif
