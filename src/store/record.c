/* store/record.c: binary rows for objects, buckets, uploads, parts.
 *
 * Format (store_int.h): REC_FORMAT, then `tag:u8 len:varint bytes` fields in
 * strictly ascending tag order. A varint is LEB128, at most 5 bytes, value
 * <= UINT32_MAX. Integers are 8-byte big-endian fields; strings never
 * contain NUL (they become C strings); a string field of length 0 is "" and
 * an absent one is NULL. Tags are append-only: never renumber one.
 * Every byte here came from disk: bounds are checked before each read and
 * any inconsistency is STORE_CORRUPT (fuzz_store_record feeds random bytes). */
#include "store/store_int.h"

#include "util/ckd.h"

#include <string.h>

enum {
    OF_KEY = 1,
    OF_VERSION_ID,
    OF_FLAGS,
    OF_SIZE,
    OF_MTIME,
    OF_ETAG,
    OF_CONTENT_TYPE,
    OF_CONTENT_ENCODING,
    OF_CONTENT_DISPOSITION,
    OF_CONTENT_LANGUAGE,
    OF_CACHE_CONTROL,
    OF_EXPIRES,
    OF_STORAGE_CLASS,
    OF_WEBSITE_REDIRECT,
    OF_META,
    OF_TAGS,
    OF_CHECKSUM_ALGO,
    OF_CHECKSUM_VALUE,
    OF_CHECKSUM_TYPE,
    OF_PART_SIZES,
    OF_LOCK_MODE,
    OF_LOCK_UNTIL,
    OF_INLINE,
    OF_SEGS,
    OF_OWNER,
    OF_PART_CHECKSUMS, /* "\n"-joined, one per part (parts_count of them) */
    OF__END
};
#define OFLAG_DELETE_MARKER 1u
#define OFLAG_LEGAL_HOLD 2u

enum { BF_REGION = 1, BF_CREATED, BF_VERSIONING, BF_FLAGS, BF__END };
#define BFLAG_OBJECT_LOCK 1u

enum { UF_KEY = 1, UF_INITIATED, UF_META, UF__END };
enum { PF_SIZE = 1, PF_MTIME, PF_ETAG, PF_CHECKSUM_VALUE, PF_SEG, PF__END };

/* ---- encoding --------------------------------------------------------- */

static void put_varint(buf_t *b, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    buf_append(b, tmp, n);
}

static void put_field(buf_t *b, unsigned tag, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        b->failed = true;
        return;
    }
    buf_putc(b, (char)tag);
    put_varint(b, (uint32_t)n);
    buf_append(b, p, n);
}

static void put_str(buf_t *b, unsigned tag, const char *s)
{
    if (s)
        put_field(b, tag, s, strlen(s));
}

static void put_u64(buf_t *b, unsigned tag, uint64_t v)
{
    uint8_t raw[8];
    store_put_u64be(raw, v);
    put_field(b, tag, raw, 8);
}

static void put_kv(buf_t *b, unsigned tag, const store_kv_t *kv, size_t n)
{
    if (!n)
        return;
    buf_t tmp;
    buf_init(&tmp, REC_MAX_BYTES);
    for (size_t i = 0; i < n; i++) {
        const char *name = kv[i].name ? kv[i].name : "";
        const char *val = kv[i].value ? kv[i].value : "";
        size_t nl = strlen(name), vl = strlen(val);
        put_varint(&tmp, (uint32_t)(nl > UINT32_MAX ? UINT32_MAX : nl));
        buf_append(&tmp, name, nl);
        put_varint(&tmp, (uint32_t)(vl > UINT32_MAX ? UINT32_MAX : vl));
        buf_append(&tmp, val, vl);
    }
    if (!buf_ok(&tmp))
        b->failed = true;
    else
        put_field(b, tag, tmp.data, tmp.len);
    buf_release(&tmp);
}

void rec_object_encode(buf_t *b, const store_object_t *o)
{
    unsigned flags = (o->delete_marker ? OFLAG_DELETE_MARKER : 0) |
                     (o->legal_hold ? OFLAG_LEGAL_HOLD : 0);
    buf_putc(b, REC_FORMAT);
    put_field(b, OF_KEY, o->key, o->key_len);
    put_str(b, OF_VERSION_ID, o->version_id);
    if (flags) {
        uint8_t f = (uint8_t)flags;
        put_field(b, OF_FLAGS, &f, 1);
    }
    put_u64(b, OF_SIZE, o->size);
    put_u64(b, OF_MTIME, (uint64_t)o->mtime_ms);
    put_str(b, OF_ETAG, o->etag);
    put_str(b, OF_CONTENT_TYPE, o->content_type);
    put_str(b, OF_CONTENT_ENCODING, o->content_encoding);
    put_str(b, OF_CONTENT_DISPOSITION, o->content_disposition);
    put_str(b, OF_CONTENT_LANGUAGE, o->content_language);
    put_str(b, OF_CACHE_CONTROL, o->cache_control);
    put_str(b, OF_EXPIRES, o->expires);
    put_str(b, OF_STORAGE_CLASS, o->storage_class);
    put_str(b, OF_WEBSITE_REDIRECT, o->website_redirect);
    put_kv(b, OF_META, o->meta, o->nmeta);
    put_kv(b, OF_TAGS, o->tags, o->ntags);
    put_str(b, OF_CHECKSUM_ALGO, o->checksum_algo);
    put_str(b, OF_CHECKSUM_VALUE, o->checksum_value);
    put_str(b, OF_CHECKSUM_TYPE, o->checksum_type);
    if (o->parts_count) {
        buf_putc(b, OF_PART_SIZES);
        put_varint(b, o->parts_count * 8u);
        for (uint32_t i = 0; i < o->parts_count; i++) {
            uint8_t raw[8];
            store_put_u64be(raw, o->part_sizes[i]);
            buf_append(b, raw, 8);
        }
    }
    put_str(b, OF_LOCK_MODE, o->lock_mode);
    if (o->lock_mode)
        put_u64(b, OF_LOCK_UNTIL, (uint64_t)o->lock_until_ms);
    if (o->inline_len)
        put_field(b, OF_INLINE, o->inline_data, o->inline_len);
    if (o->nsegs) {
        if (o->nsegs > UINT32_MAX / SEG_REC_BYTES) {
            b->failed = true;
            return;
        }
        buf_putc(b, OF_SEGS);
        put_varint(b, (uint32_t)(o->nsegs * SEG_REC_BYTES));
        for (size_t i = 0; i < o->nsegs; i++) {
            uint8_t raw[16];
            buf_append(b, o->segs[i].blob_id, BLOB_ID_LEN);
            store_put_u64be(raw, o->segs[i].offset);
            store_put_u64be(raw + 8, o->segs[i].length);
            buf_append(b, raw, 16);
        }
    }
    put_str(b, OF_OWNER, o->owner);
    if (o->parts_count && o->part_checksums) {
        buf_t j;
        buf_init(&j, (size_t)o->parts_count * 64 + 1);
        for (uint32_t i = 0; i < o->parts_count; i++) {
            if (i)
                buf_putc(&j, '\n');
            buf_puts(&j, o->part_checksums[i] ? o->part_checksums[i] : "");
        }
        if (buf_ok(&j))
            put_field(b, OF_PART_CHECKSUMS, j.data, j.len);
        else
            b->failed = true;
        buf_release(&j);
    }
}

void rec_bucket_encode(buf_t *b, const store_bucket_t *bk)
{
    buf_putc(b, REC_FORMAT);
    put_str(b, BF_REGION, bk->region);
    put_u64(b, BF_CREATED, (uint64_t)bk->created_ms);
    uint8_t v = (uint8_t)bk->versioning;
    put_field(b, BF_VERSIONING, &v, 1);
    uint8_t f = bk->object_lock ? BFLAG_OBJECT_LOCK : 0;
    put_field(b, BF_FLAGS, &f, 1);
}

void rec_upload_encode(buf_t *b, const store_upload_t *u)
{
    buf_putc(b, REC_FORMAT);
    put_field(b, UF_KEY, u->key, u->key_len);
    put_u64(b, UF_INITIATED, (uint64_t)u->initiated_ms);
    buf_t tmp;
    buf_init(&tmp, REC_MAX_BYTES);
    store_object_t m = u->meta;
    /* The template carries metadata only: its key is the upload's, its bytes
     * come from the parts at completion. */
    m.key = u->key;
    m.key_len = u->key_len;
    m.version_id = NULL;
    m.delete_marker = false;
    m.size = 0;
    m.inline_data = NULL;
    m.inline_len = 0;
    m.segs = NULL;
    m.nsegs = 0;
    m.parts_count = 0;
    rec_object_encode(&tmp, &m);
    if (!buf_ok(&tmp))
        b->failed = true;
    else
        put_field(b, UF_META, tmp.data, tmp.len);
    buf_release(&tmp);
}

void rec_part_encode(buf_t *b, const store_part_t *pt)
{
    buf_putc(b, REC_FORMAT);
    put_u64(b, PF_SIZE, pt->size);
    put_u64(b, PF_MTIME, (uint64_t)pt->mtime_ms);
    put_str(b, PF_ETAG, pt->etag);
    put_str(b, PF_CHECKSUM_VALUE, pt->checksum_value);
    uint8_t raw[SEG_REC_BYTES];
    memcpy(raw, pt->seg.blob_id, BLOB_ID_LEN);
    store_put_u64be(raw + BLOB_ID_LEN, pt->seg.offset);
    store_put_u64be(raw + BLOB_ID_LEN + 8, pt->seg.length);
    put_field(b, PF_SEG, raw, sizeof raw);
}

/* ---- decoding --------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    unsigned last_tag;
} rd_t;

typedef struct {
    unsigned tag;
    const uint8_t *p;
    size_t n;
} field_t;

static bool get_varint(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (p == end)
            return false;
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (v > UINT32_MAX)
                return false;
            *out = (uint32_t)v;
            *pp = p;
            return true;
        }
    }
    return false; /* more than 5 bytes */
}

static store_rc_t rd_begin(rd_t *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->last_tag = 0;
    if (n < 1 || r->p[0] != REC_FORMAT)
        return STORE_CORRUPT;
    r->p++;
    return STORE_OK;
}

/* Next field: STORE_OK with f, STORE_NOT_FOUND at the end, STORE_CORRUPT. */
static store_rc_t rd_field(rd_t *r, unsigned tag_end, field_t *f)
{
    uint32_t len;
    if (r->p == r->end)
        return STORE_NOT_FOUND;
    f->tag = *r->p++;
    if (f->tag <= r->last_tag || f->tag >= tag_end)
        return STORE_CORRUPT;
    if (!get_varint(&r->p, r->end, &len) || len > (size_t)(r->end - r->p))
        return STORE_CORRUPT;
    f->p = r->p;
    f->n = len;
    r->p += len;
    r->last_tag = f->tag;
    return STORE_OK;
}

static bool get_u64(const field_t *f, uint64_t *out)
{
    if (f->n != 8)
        return false;
    *out = store_get_u64be(f->p);
    return true;
}

static bool get_str(arena_t *a, const field_t *f, const char **out)
{
    if (memchr(f->p, 0, f->n))
        return false;
    char *s = arena_strndup(a, (const char *)f->p, f->n);
    if (!s)
        return false;
    *out = s;
    return true;
}

static bool get_kv_str(const uint8_t **p, const uint8_t *end, arena_t *a, const char **out)
{
    uint32_t n;
    if (!get_varint(p, end, &n) || n > (size_t)(end - *p) || memchr(*p, 0, n))
        return false;
    if (a) {
        char *s = arena_strndup(a, (const char *)*p, n);
        if (!s)
            return false;
        *out = s;
    }
    *p += n;
    return true;
}

/* Two passes: count (no allocation), then copy. */
static store_rc_t get_kv(arena_t *a, const field_t *f, const store_kv_t **out, size_t *nout)
{
    const uint8_t *p = f->p, *end = f->p + f->n;
    size_t n = 0;
    const char *dummy;
    while (p < end) {
        if (!get_kv_str(&p, end, NULL, &dummy) || !get_kv_str(&p, end, NULL, &dummy))
            return STORE_CORRUPT;
        n++;
    }
    if (n == 0)
        return STORE_CORRUPT; /* the encoder omits empty lists */
    store_kv_t *kv = arena_alloc(a, n * sizeof *kv);
    if (!kv)
        return STORE_NOMEM;
    p = f->p;
    for (size_t i = 0; i < n; i++)
        if (!get_kv_str(&p, end, a, &kv[i].name) || !get_kv_str(&p, end, a, &kv[i].value))
            return STORE_NOMEM;
    *out = kv;
    *nout = n;
    return STORE_OK;
}

static bool get_seg(const uint8_t *p, store_seg_t *s)
{
    if (!blob_id_ok((const char *)p, BLOB_ID_LEN))
        return false;
    memcpy(s->blob_id, p, BLOB_ID_LEN);
    s->blob_id[BLOB_ID_LEN] = 0;
    s->offset = store_get_u64be(p + BLOB_ID_LEN);
    s->length = store_get_u64be(p + BLOB_ID_LEN + 8);
    uint64_t end;
    return !ckd_add_u64(&end, s->offset, s->length);
}

static bool lock_mode_ok(const char *m)
{
    return strcmp(m, "GOVERNANCE") == 0 || strcmp(m, "COMPLIANCE") == 0;
}

static store_rc_t decode_field(arena_t *a, const field_t *f, store_object_t *o, unsigned *flags)
{
    const char **strs[] = {
        [OF_ETAG] = &o->etag,
        [OF_CONTENT_TYPE] = &o->content_type,
        [OF_CONTENT_ENCODING] = &o->content_encoding,
        [OF_CONTENT_DISPOSITION] = &o->content_disposition,
        [OF_CONTENT_LANGUAGE] = &o->content_language,
        [OF_CACHE_CONTROL] = &o->cache_control,
        [OF_EXPIRES] = &o->expires,
        [OF_STORAGE_CLASS] = &o->storage_class,
        [OF_WEBSITE_REDIRECT] = &o->website_redirect,
        [OF_CHECKSUM_ALGO] = &o->checksum_algo,
        [OF_CHECKSUM_VALUE] = &o->checksum_value,
        [OF_CHECKSUM_TYPE] = &o->checksum_type,
        [OF_LOCK_MODE] = &o->lock_mode,
        [OF_OWNER] = &o->owner,
        [OF_VERSION_ID] = &o->version_id,
    };
    uint64_t v;

    if (f->tag < sizeof strs / sizeof strs[0] && strs[f->tag])
        return get_str(a, f, strs[f->tag]) ? STORE_OK : STORE_CORRUPT;
    switch (f->tag) {
    case OF_KEY: {
        if (!store_key_ok((const char *)f->p, f->n))
            return STORE_CORRUPT;
        o->key = arena_strndup(a, (const char *)f->p, f->n);
        o->key_len = f->n;
        return o->key ? STORE_OK : STORE_NOMEM;
    }
    case OF_FLAGS:
        if (f->n != 1 || f->p[0] == 0 || (f->p[0] & ~(OFLAG_DELETE_MARKER | OFLAG_LEGAL_HOLD)))
            return STORE_CORRUPT;
        *flags = f->p[0];
        return STORE_OK;
    case OF_SIZE:
        return get_u64(f, &o->size) ? STORE_OK : STORE_CORRUPT;
    case OF_MTIME:
        if (!get_u64(f, &v))
            return STORE_CORRUPT;
        o->mtime_ms = (int64_t)v;
        return STORE_OK;
    case OF_LOCK_UNTIL:
        if (!get_u64(f, &v))
            return STORE_CORRUPT;
        o->lock_until_ms = (int64_t)v;
        return STORE_OK;
    case OF_META:
        return get_kv(a, f, &o->meta, &o->nmeta);
    case OF_TAGS:
        return get_kv(a, f, &o->tags, &o->ntags);
    case OF_PART_CHECKSUMS: {
        /* Follows OF_PART_SIZES (tags ascend), so parts_count is known. */
        if (!o->parts_count || f->n == 0)
            return STORE_CORRUPT;
        const char **sums = arena_alloc(a, o->parts_count * sizeof *sums);
        if (!sums)
            return STORE_NOMEM;
        const char *p = (const char *)f->p, *end = p + f->n;
        for (uint32_t i = 0; i < o->parts_count; i++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *e = nl ? nl : end;
            if ((i + 1 < o->parts_count) != (nl != NULL))
                return STORE_CORRUPT; /* exactly parts_count entries */
            if (!(sums[i] = arena_strndup(a, p, (size_t)(e - p))))
                return STORE_NOMEM;
            p = nl ? nl + 1 : end;
        }
        o->part_checksums = sums;
        return STORE_OK;
    }
    case OF_PART_SIZES: {
        if (f->n == 0 || f->n % 8 || f->n / 8 > STORE_PART_MAX)
            return STORE_CORRUPT;
        uint64_t *ps = arena_alloc(a, f->n);
        if (!ps)
            return STORE_NOMEM;
        for (size_t i = 0; i < f->n / 8; i++)
            ps[i] = store_get_u64be(f->p + 8 * i);
        o->part_sizes = ps;
        o->parts_count = (uint32_t)(f->n / 8);
        return STORE_OK;
    }
    case OF_INLINE:
        if (f->n == 0)
            return STORE_CORRUPT;
        o->inline_data = arena_memdup(a, f->p, f->n);
        o->inline_len = f->n;
        return o->inline_data ? STORE_OK : STORE_NOMEM;
    case OF_SEGS: {
        if (f->n == 0 || f->n % SEG_REC_BYTES)
            return STORE_CORRUPT;
        size_t n = f->n / SEG_REC_BYTES;
        store_seg_t *s = arena_alloc(a, n * sizeof *s);
        if (!s)
            return STORE_NOMEM;
        for (size_t i = 0; i < n; i++)
            if (!get_seg(f->p + i * SEG_REC_BYTES, &s[i]))
                return STORE_CORRUPT;
        o->segs = s;
        o->nsegs = n;
        return STORE_OK;
    }
    default:
        return STORE_CORRUPT;
    }
}

/* The cross-field rules every stored version obeys. */
static store_rc_t object_check(const store_object_t *o, bool template)
{
    uint64_t sum = 0;

    if (!o->key || (!template && (!o->version_id || !o->version_id[0])))
        return STORE_CORRUPT;
    if (o->lock_mode && !lock_mode_ok(o->lock_mode))
        return STORE_CORRUPT;
    if (template || o->delete_marker)
        return o->size == 0 && !o->inline_len && !o->nsegs && !o->parts_count ? STORE_OK
                                                                               : STORE_CORRUPT;
    if (o->inline_len && o->nsegs)
        return STORE_CORRUPT;
    if (o->inline_len)
        sum = o->inline_len;
    for (size_t i = 0; i < o->nsegs; i++)
        if (ckd_add_u64(&sum, sum, o->segs[i].length))
            return STORE_CORRUPT;
    if (sum != o->size)
        return STORE_CORRUPT;
    if (o->parts_count) {
        sum = 0;
        for (uint32_t i = 0; i < o->parts_count; i++)
            if (ckd_add_u64(&sum, sum, o->part_sizes[i]))
                return STORE_CORRUPT;
        if (sum != o->size)
            return STORE_CORRUPT;
    }
    return STORE_OK;
}

static store_rc_t object_decode(arena_t *a, const void *p, size_t n, store_object_t *out,
                                bool template)
{
    rd_t r;
    field_t f;
    unsigned flags = 0;
    store_rc_t rc;
    bool have_size = false, have_mtime = false;

    memset(out, 0, sizeof *out);
    if ((rc = rd_begin(&r, p, n)) != STORE_OK)
        return rc;
    while ((rc = rd_field(&r, OF__END, &f)) == STORE_OK) {
        if ((rc = decode_field(a, &f, out, &flags)) != STORE_OK)
            goto fail;
        have_size |= f.tag == OF_SIZE;
        have_mtime |= f.tag == OF_MTIME;
    }
    if (rc != STORE_NOT_FOUND)
        goto fail;
    out->delete_marker = flags & OFLAG_DELETE_MARKER;
    out->legal_hold = flags & OFLAG_LEGAL_HOLD;
    if (!have_size || !have_mtime) {
        rc = STORE_CORRUPT;
        goto fail;
    }
    if ((rc = object_check(out, template)) != STORE_OK)
        goto fail;
    return STORE_OK;
fail:
    memset(out, 0, sizeof *out);
    return rc;
}

store_rc_t rec_object_decode(arena_t *a, const void *p, size_t n, store_object_t *out)
{
    return object_decode(a, p, n, out, false);
}

store_rc_t rec_template_decode(arena_t *a, const void *p, size_t n, store_object_t *out)
{
    return object_decode(a, p, n, out, true);
}

store_rc_t rec_object_peek(const void *p, size_t n, rec_peek_t *out)
{
    rd_t r;
    field_t f;
    store_rc_t rc;

    memset(out, 0, sizeof *out);
    if ((rc = rd_begin(&r, p, n)) != STORE_OK)
        return rc;
    while ((rc = rd_field(&r, OF__END, &f)) == STORE_OK) {
        if (f.tag == OF_KEY) {
            if (!store_key_ok((const char *)f.p, f.n))
                return STORE_CORRUPT;
            out->key = (const char *)f.p;
            out->klen = f.n;
        } else if (f.tag == OF_VERSION_ID) {
            if (f.n == 0 || memchr(f.p, 0, f.n))
                return STORE_CORRUPT;
            out->vid = (const char *)f.p;
            out->vidlen = f.n;
        } else if (f.tag == OF_FLAGS) {
            if (f.n != 1)
                return STORE_CORRUPT;
            out->delete_marker = f.p[0] & OFLAG_DELETE_MARKER;
        }
    }
    if (rc != STORE_NOT_FOUND || !out->key || !out->vid)
        return STORE_CORRUPT;
    return STORE_OK;
}

store_rc_t rec_bucket_decode(arena_t *a, const void *p, size_t n, store_bucket_t *out)
{
    rd_t r;
    field_t f;
    store_rc_t rc;
    uint64_t v;
    unsigned seen = 0;

    if ((rc = rd_begin(&r, p, n)) != STORE_OK)
        return rc;
    while ((rc = rd_field(&r, BF__END, &f)) == STORE_OK) {
        seen |= 1u << f.tag;
        switch (f.tag) {
        case BF_REGION:
            if (!get_str(a, &f, &out->region))
                return STORE_CORRUPT;
            break;
        case BF_CREATED:
            if (!get_u64(&f, &v))
                return STORE_CORRUPT;
            out->created_ms = (int64_t)v;
            break;
        case BF_VERSIONING:
            if (f.n != 1 || f.p[0] > STORE_VERSIONING_SUSPENDED)
                return STORE_CORRUPT;
            out->versioning = (store_versioning_t)f.p[0];
            break;
        case BF_FLAGS:
            if (f.n != 1 || (f.p[0] & ~BFLAG_OBJECT_LOCK))
                return STORE_CORRUPT;
            out->object_lock = f.p[0] & BFLAG_OBJECT_LOCK;
            break;
        default:
            return STORE_CORRUPT;
        }
    }
    if (rc != STORE_NOT_FOUND)
        return rc;
    const unsigned need = 1u << BF_CREATED | 1u << BF_VERSIONING | 1u << BF_FLAGS;
    return (seen & need) == need ? STORE_OK : STORE_CORRUPT;
}

store_rc_t rec_upload_decode(arena_t *a, const void *p, size_t n, store_upload_t *out)
{
    rd_t r;
    field_t f;
    store_rc_t rc;
    uint64_t v;
    unsigned seen = 0;

    memset(out, 0, sizeof *out);
    if ((rc = rd_begin(&r, p, n)) != STORE_OK)
        return rc;
    while ((rc = rd_field(&r, UF__END, &f)) == STORE_OK) {
        seen |= 1u << f.tag;
        if (f.tag == UF_KEY) {
            if (!store_key_ok((const char *)f.p, f.n))
                return STORE_CORRUPT;
            if (!(out->key = arena_strndup(a, (const char *)f.p, f.n)))
                return STORE_NOMEM;
            out->key_len = f.n;
        } else if (f.tag == UF_INITIATED) {
            if (!get_u64(&f, &v))
                return STORE_CORRUPT;
            out->initiated_ms = (int64_t)v;
        } else {
            if ((rc = rec_template_decode(a, f.p, f.n, &out->meta)) != STORE_OK)
                return rc;
        }
    }
    if (rc != STORE_NOT_FOUND)
        return rc;
    if (seen != (1u << UF_KEY | 1u << UF_INITIATED | 1u << UF_META))
        return STORE_CORRUPT;
    if (out->meta.key_len != out->key_len || memcmp(out->meta.key, out->key, out->key_len))
        return STORE_CORRUPT;
    return STORE_OK;
}

store_rc_t rec_part_decode(const void *p, size_t n, store_part_t *out, arena_t *a)
{
    rd_t r;
    field_t f;
    store_rc_t rc;
    uint64_t v;
    unsigned seen = 0;

    if ((rc = rd_begin(&r, p, n)) != STORE_OK)
        return rc;
    while ((rc = rd_field(&r, PF__END, &f)) == STORE_OK) {
        seen |= 1u << f.tag;
        switch (f.tag) {
        case PF_SIZE:
            if (!get_u64(&f, &out->size))
                return STORE_CORRUPT;
            break;
        case PF_MTIME:
            if (!get_u64(&f, &v))
                return STORE_CORRUPT;
            out->mtime_ms = (int64_t)v;
            break;
        case PF_ETAG:
            if (!get_str(a, &f, &out->etag))
                return STORE_CORRUPT;
            break;
        case PF_CHECKSUM_VALUE:
            if (!get_str(a, &f, &out->checksum_value))
                return STORE_CORRUPT;
            break;
        case PF_SEG:
            if (f.n != SEG_REC_BYTES || !get_seg(f.p, &out->seg))
                return STORE_CORRUPT;
            break;
        default:
            return STORE_CORRUPT;
        }
    }
    if (rc != STORE_NOT_FOUND)
        return rc;
    const unsigned need = 1u << PF_SIZE | 1u << PF_MTIME | 1u << PF_SEG;
    if ((seen & need) != need || out->seg.length != out->size)
        return STORE_CORRUPT;
    return STORE_OK;
}
