/* auth/auth_int.h: shared inside auth/ only (sigv4.c, chunked.c). */
#ifndef KURA_AUTH_AUTH_INT_H
#define KURA_AUTH_AUTH_INT_H

#include "auth/auth.h"

#include <stddef.h>

#define AUTH_ALGORITHM "AWS4-HMAC-SHA256"
#define AUTH_ALGORITHM_CHUNK "AWS4-HMAC-SHA256-PAYLOAD"
#define AUTH_ALGORITHM_TRAILER "AWS4-HMAC-SHA256-TRAILER"
#define AUTH_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define AUTH_SIG_HEX_LEN 64

/* "YYYYMMDD/region/service/aws4_request": 8 + 32 + 32 + 12 + 3 separators. */
#define AUTH_SCOPE_MAX 96

/* The credential scope of a verified request, NUL-terminated into out.
 * Returns false if it does not fit (cannot happen for a filled result). */
bool auth_scope_format(const auth_result_t *r, char *out, size_t cap);

/* HMAC-SHA256(key, "algo\namz_date\nscope\nprev\n" + tail) as 64 lowercase hex
 * chars + NUL: the chunk and trailer signatures (S3 API "sigv4-streaming"). */
void auth_chain_signature(const uint8_t key[32], const char *algo, const char *amz_date,
                          const char *scope, const char *prev, const char *tail,
                          char out[AUTH_SIG_HEX_LEN + 1]);

#endif
