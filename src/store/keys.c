/* store/keys.c: object row keys, version ids, blob ids (shapes in store_int.h). */
#include "store/store_int.h"

#include "util/codec.h"

#include <string.h>

bool store_bucket_name_ok(const char *name)
{
    if (!name)
        return false;
    size_t n = strnlen(name, STORE_BUCKET_NAME_MAX + 1);
    return n >= 1 && n <= STORE_BUCKET_NAME_MAX;
}

bool store_key_ok(const char *key, size_t len)
{
    return key && len >= 1 && len <= STORE_KEY_MAX_BYTES && !memchr(key, 0, len);
}

size_t rowkey_bucket_prefix(uint8_t *out, const char *bucket)
{
    size_t n = strlen(bucket);
    memcpy(out, bucket, n);
    out[n] = 0;
    return n + 1;
}

/* FNV-1a, 64 bit: spreads long keys of one group; collisions are resolved by
 * comparing the record's key, so it need not be cryptographic. */
static uint64_t key_hash(const char *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < klen; i++) {
        h ^= (uint8_t)key[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

size_t rowkey_key_prefix(uint8_t *out, const char *bucket, const char *key, size_t klen)
{
    size_t n = rowkey_bucket_prefix(out, bucket);
    if (klen <= ROWKEY_HEAD) {
        memcpy(out + n, key, klen);
        n += klen;
        out[n++] = 0;
        return n;
    }
    memcpy(out + n, key, ROWKEY_HEAD);
    n += ROWKEY_HEAD;
    out[n++] = 1;
    store_put_u64be(out + n, key_hash(key, klen));
    return n + 8;
}

size_t rowkey_object(uint8_t *out, const char *bucket, const char *key, size_t klen, uint64_t seq)
{
    size_t n = rowkey_key_prefix(out, bucket, key, klen);
    store_put_u64be(out + n, UINT64_MAX - seq);
    return n + 8;
}

size_t rowkey_seek(uint8_t *out, const char *bucket, const char *key, size_t klen,
                   uint64_t seq_lt)
{
    if (klen <= ROWKEY_HEAD) {
        size_t n = rowkey_key_prefix(out, bucket, key, klen);
        /* Rows of `key` with seq >= seq_lt have inv <= UINT64_MAX - seq_lt.
         * Landing on one with seq == seq_lt is harmless: callers filter. */
        store_put_u64be(out + n, UINT64_MAX - seq_lt);
        return n + 8;
    }
    /* A long key: the start of its group (callers sort and filter in it). */
    size_t n = rowkey_bucket_prefix(out, bucket);
    memcpy(out + n, key, ROWKEY_HEAD);
    n += ROWKEY_HEAD;
    out[n++] = 1;
    return n;
}

store_rc_t rowkey_parse(const MDB_val *k, size_t plen, rowkey_t *out)
{
    const uint8_t *p = k->mv_data;
    if (k->mv_size < plen + 10 || p[plen - 1] != 0)
        return STORE_CORRUPT;
    const uint8_t *t = p + plen;
    size_t tn = k->mv_size - plen;
    if (tn == ROWKEY_LONG_TAIL && t[ROWKEY_HEAD] == 1) {
        out->is_long = true;
        out->klen = ROWKEY_HEAD;
    } else if (tn <= ROWKEY_HEAD + 9 && t[tn - 9] == 0) {
        out->is_long = false;
        out->klen = tn - 9;
        if (out->klen == 0 || memchr(t, 0, out->klen))
            return STORE_CORRUPT;
    } else {
        return STORE_CORRUPT;
    }
    out->key = t;
    out->seq = UINT64_MAX - store_get_u64be(t + tn - 8);
    return STORE_OK;
}

void version_id_make(uint64_t seq, char out[BLOB_ID_LEN + 1])
{
    uint8_t raw[8];
    store_put_u64be(raw, seq);
    codec_hex(raw, 8, out);
    /* The random half keeps ids unguessable across stores; the seq half
     * makes them unique and lets a lookup go straight to the row. */
    codec_random_hex(8, out + 16);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool blob_id_ok(const char *id, size_t len)
{
    if (len != BLOB_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (hexval(id[i]) < 0)
            return false;
    return true;
}

bool version_id_seq(const char *vid, uint64_t *seq)
{
    if (!vid || strnlen(vid, BLOB_ID_LEN + 1) != BLOB_ID_LEN || !blob_id_ok(vid, BLOB_ID_LEN))
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 4 | (uint64_t)hexval(vid[i]);
    if (v == 0 || v == UINT64_MAX)
        return false;
    *seq = v;
    return true;
}
