/* util/codec.c: hex, base64, SHA-256/HMAC, random ids (see codec.h). */
#include "util/codec.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void codec_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int codec_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool codec_unhex(const char *in, size_t hexlen, uint8_t *out)
{
    if (hexlen % 2)
        return false;
    for (size_t i = 0; i < hexlen; i += 2) {
        int hi = codec_hexval(in[i]), lo = codec_hexval(in[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

size_t codec_b64(const void *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool codec_unb64(const char *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (len % 4)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = in[i + j];
            if (c == '=' && i + 4 == len && j >= 2) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = b64val(c)) < 0) {
                return false;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        int nb = 3 - pad;
        if (o + (size_t)nb > out_cap)
            return false;
        out[o++] = (uint8_t)(w >> 16);
        if (nb > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (nb > 2)
            out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return true;
}

void codec_sha256(const void *in, size_t n, uint8_t out[32]) { SHA256(in, n, out); }

void codec_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &len);
}

bool codec_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

void codec_random_hex(size_t n, char *out)
{
    uint8_t raw[64];
    if (n > sizeof raw)
        abort(); /* caller bug */
    if (RAND_bytes(raw, (int)n) != 1)
        abort(); /* no entropy: nothing safe to hand out */
    codec_hex(raw, n, out);
}
