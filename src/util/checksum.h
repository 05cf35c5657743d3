/* util/checksum.h: the body checksums S3 speaks, computed incrementally.
 * CRC32 (zlib), CRC32C (ISA-L crc32_iscsi), CRC64/NVME (kura's own: Debian's
 * ISA-L 2.30 predates it), SHA-1, SHA-256 and MD5 (ETags) via OpenSSL.
 * Values are reported base64-encoded of the big-endian digest, as S3 does. */
#ifndef KURA_UTIL_CHECKSUM_H
#define KURA_UTIL_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CK_NONE = 0,
    CK_CRC32,
    CK_CRC32C,
    CK_CRC64NVME,
    CK_SHA1,
    CK_SHA256,
    CK_MD5,
    CK__COUNT
} ck_algo_t;

typedef struct {
    ck_algo_t algo;
    uint64_t crc;        /* CRC state */
    void *md;            /* EVP_MD_CTX for digests */
} ck_t;

#define CK_MAX_DIGEST 32
#define CK_MAX_B64 45

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (case-insensitive) -> algo; CK_NONE if unknown. */
ck_algo_t ck_algo_from_name(const char *name);
const char *ck_algo_name(ck_algo_t a);       /* upper case, as in XML */
const char *ck_algo_header(ck_algo_t a);     /* "x-amz-checksum-crc32" ... */
size_t ck_digest_len(ck_algo_t a);

bool ck_init(ck_t *c, ck_algo_t a);
void ck_update(ck_t *c, const void *p, size_t n);
/* Writes the raw digest (big-endian for CRCs) and frees the state. Returns length. */
size_t ck_final(ck_t *c, uint8_t out[CK_MAX_DIGEST]);
void ck_release(ck_t *c); /* frees state without a digest; idempotent */
/* base64 of the final digest; out must hold CK_MAX_B64 bytes. */
void ck_final_b64(ck_t *c, char out[CK_MAX_B64]);

/* CRC-64/NVME over a buffer, continuing from crc (0 to start). */
uint64_t ck_crc64nvme(uint64_t crc, const void *p, size_t n);
/* Combines CRCs of two adjacent pieces (for FULL_OBJECT multipart checksums). */
uint64_t ck_crc_combine(ck_algo_t a, uint64_t crc1, uint64_t crc2, uint64_t len2);

#endif
