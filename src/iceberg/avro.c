/* iceberg/avro.c: Avro object container files — writer and a bounded
 * generic decoder (Avro 1.11 spec "Object Container Files", "Binary
 * Encoding"; iceberg.md §5).
 *
 * kura writes the container itself because libavro drops Iceberg's
 * field-id attributes and cannot set header metadata (DESIGN.md). The
 * decoder reads files other engines wrote: it compiles the writer schema
 * from the header and decodes every record into an ice_av_t tree, so field
 * order and unknown fields do not matter; manifest.c then picks fields by
 * Iceberg field id (or name). Every length, count and nesting level is
 * checked against the bytes that remain before use. */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include "util/codec.h"

#include <string.h>
#include <zlib.h>

#define AVRO_MAGIC "Obj\x01"
#define AVRO_SYNC_LEN 16
#define AVRO_BLOCK_TARGET_BYTES ((size_t)1 << 20) /* flush a block at ~1 MiB */
#define AVRO_SCHEMA_MAX_DEPTH 64
#define AVRO_VALUE_MAX_DEPTH 64
#define AVRO_VARINT_MAX_BYTES 10
#define AVRO_NAMED_MAX 4096 /* named types in one schema */

/* ---------------------------------------------------------------------- */
/* Writer. */

void ice_avro_put_long(buf_t *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t tmp[AVRO_VARINT_MAX_BYTES];
    size_t n = 0;
    do {
        uint8_t byte = z & 0x7F;
        z >>= 7;
        tmp[n++] = byte | (z ? 0x80 : 0);
    } while (z);
    buf_append(b, tmp, n);
}

void ice_avro_put_bytes(buf_t *b, const void *p, size_t n)
{
    ice_avro_put_long(b, (int64_t)n);
    buf_append(b, p, n);
}

void ice_avro_put_str(buf_t *b, const char *s)
{
    ice_avro_put_bytes(b, s, strlen(s));
}

void ice_avro_put_bool(buf_t *b, bool v)
{
    buf_putc(b, v ? 1 : 0);
}

void ice_avro_put_double(buf_t *b, double v)
{
    uint64_t u;
    uint8_t le[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    buf_append(b, le, 8);
}

void ice_avro_put_float(buf_t *b, float v)
{
    uint32_t u;
    uint8_t le[4];
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    buf_append(b, le, 4);
}

ice_rc_t ice_avro_writer_init(ice_avro_writer_t *w, const char *schema_json,
                              const ice_avro_meta_t *meta, size_t n_meta, bool deflate)
{
    memset(w, 0, sizeof *w);
    buf_init(&w->out, ICE_AVRO_MAX_BYTES);
    buf_init(&w->block, ICE_AVRO_BLOCK_MAX_BYTES);
    w->deflate = deflate;
    char hex[2 * AVRO_SYNC_LEN + 1];
    codec_random_hex(AVRO_SYNC_LEN, hex);
    codec_unhex(hex, 2 * AVRO_SYNC_LEN, w->sync);
    buf_append(&w->out, AVRO_MAGIC, 4);
    ice_avro_put_long(&w->out, (int64_t)n_meta + 2);
    ice_avro_put_str(&w->out, "avro.schema");
    ice_avro_put_str(&w->out, schema_json);
    ice_avro_put_str(&w->out, "avro.codec");
    ice_avro_put_str(&w->out, deflate ? "deflate" : "null");
    for (size_t i = 0; i < n_meta; i++) {
        ice_avro_put_str(&w->out, meta[i].key);
        ice_avro_put_str(&w->out, meta[i].value);
    }
    ice_avro_put_long(&w->out, 0);
    buf_append(&w->out, w->sync, AVRO_SYNC_LEN);
    return buf_ok(&w->out) ? ICE_OK : ICE_ERR_NOMEM;
}

static ice_rc_t flush_block(ice_avro_writer_t *w)
{
    if (w->block_count == 0)
        return ICE_OK;
    if (!buf_ok(&w->block))
        return ICE_ERR_TOO_LARGE;
    const uint8_t *data = (const uint8_t *)w->block.data;
    size_t len = w->block.len;
    uint8_t *z = NULL;
    if (w->deflate) {
        z_stream s;
        memset(&s, 0, sizeof s);
        /* Avro's deflate codec is raw RFC 1951: negative window bits. */
        if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return ICE_ERR_NOMEM;
        uLong cap = deflateBound(&s, (uLong)len);
        z = malloc(cap ? cap : 1);
        if (!z) {
            deflateEnd(&s);
            return ICE_ERR_NOMEM;
        }
        s.next_in = (Bytef *)(uintptr_t)data;
        s.avail_in = (uInt)len;
        s.next_out = z;
        s.avail_out = (uInt)cap;
        int zr = deflate(&s, Z_FINISH);
        len = s.total_out;
        deflateEnd(&s);
        if (zr != Z_STREAM_END) {
            free(z);
            return ICE_ERR_NOMEM;
        }
        data = z;
    }
    ice_avro_put_long(&w->out, (int64_t)w->block_count);
    ice_avro_put_long(&w->out, (int64_t)len);
    buf_append(&w->out, data, len);
    buf_append(&w->out, w->sync, AVRO_SYNC_LEN);
    free(z);
    buf_reset(&w->block);
    w->block_count = 0;
    return buf_ok(&w->out) ? ICE_OK : ICE_ERR_TOO_LARGE;
}

ice_rc_t ice_avro_record_end(ice_avro_writer_t *w)
{
    w->block_count++;
    if (!buf_ok(&w->block))
        return ICE_ERR_TOO_LARGE;
    return w->block.len >= AVRO_BLOCK_TARGET_BYTES ? flush_block(w) : ICE_OK;
}

void ice_avro_writer_release(ice_avro_writer_t *w)
{
    buf_release(&w->out);
    buf_release(&w->block);
}

ice_rc_t ice_avro_writer_finish(ice_avro_writer_t *w, arena_t *a, uint8_t **out, size_t *len)
{
    ice_rc_t rc = flush_block(w);
    if (rc == ICE_OK && !buf_ok(&w->out))
        rc = ICE_ERR_TOO_LARGE;
    if (rc == ICE_OK) {
        *out = arena_memdup(a, w->out.data, w->out.len);
        *len = w->out.len;
        if (!*out)
            rc = ICE_ERR_NOMEM;
    }
    ice_avro_writer_release(w);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Decoder: schema compilation. */

typedef enum {
    S_NULL = 1,
    S_BOOL,
    S_INT,
    S_LONG,
    S_FLOAT,
    S_DOUBLE,
    S_BYTES,
    S_STRING,
    S_FIXED,
    S_ENUM,
    S_RECORD,
    S_ARRAY,
    S_MAP,
    S_UNION,
} skind_t;

typedef struct sch sch_t;
struct sch {
    skind_t kind;
    const char *name;    /* named types */
    const char *logical; /* logicalType */
    size_t size;         /* fixed size, enum symbol count */
    size_t n;            /* record fields, union branches */
    sch_t **kids;        /* record fields, union branches, array items / map values */
    const char **names;  /* record field names */
    int32_t *ids;        /* record field ids (-1: none) */
    bool resolved;       /* a record's fields are set (recursion guard) */
};

typedef struct {
    arena_t *a;
    ice_err_t *err;
    sch_t **named;
    size_t n_named;
} sctx_t;

static ice_rc_t corrupt(ice_err_t *err, const char *what)
{
    return ice_fail(err, ICE_ERR_CORRUPT, "avro: %s", what);
}

static ice_rc_t compile(sctx_t *c, const json_t *j, int depth, sch_t **out);

static sch_t *lookup_named(sctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_named; i++)
        if (strcmp(c->named[i]->name, name) == 0)
            return c->named[i];
    return NULL;
}

static ice_rc_t register_named(sctx_t *c, sch_t *s, const json_t *j)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!name)
        return corrupt(c->err, "named type without name");
    if (c->n_named >= AVRO_NAMED_MAX)
        return corrupt(c->err, "too many named types");
    if (!(s->name = arena_strdup(c->a, name)))
        return ICE_ERR_NOMEM;
    if (c->n_named % 64 == 0) {
        sch_t **n = arena_alloc(c->a, (c->n_named + 64) * sizeof *n);
        if (!n)
            return ICE_ERR_NOMEM;
        if (c->n_named)
            memcpy(n, c->named, c->n_named * sizeof *n);
        c->named = n;
    }
    c->named[c->n_named++] = s;
    return ICE_OK;
}

static const struct {
    const char *name;
    skind_t kind;
} prims[] = {{"null", S_NULL},     {"boolean", S_BOOL},  {"int", S_INT},
             {"long", S_LONG},     {"float", S_FLOAT},   {"double", S_DOUBLE},
             {"bytes", S_BYTES},   {"string", S_STRING}};

static ice_rc_t compile_record(sctx_t *c, const json_t *j, int depth, sch_t *s)
{
    const json_t *fs = json_object_get(j, "fields");
    if (!json_is_array(fs))
        return corrupt(c->err, "record without fields");
    size_t n = json_array_size(fs);
    s->n = n;
    s->kids = arena_alloc(c->a, (n ? n : 1) * sizeof *s->kids);
    s->names = arena_alloc(c->a, (n ? n : 1) * sizeof *s->names);
    s->ids = arena_alloc(c->a, (n ? n : 1) * sizeof *s->ids);
    if (!s->kids || !s->names || !s->ids)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fs, i);
        const char *fname = json_string_value(json_object_get(f, "name"));
        if (!fname)
            return corrupt(c->err, "record field without name");
        if (!(s->names[i] = arena_strdup(c->a, fname)))
            return ICE_ERR_NOMEM;
        const json_t *id = json_object_get(f, "field-id");
        s->ids[i] = json_is_integer(id) && json_integer_value(id) >= 0 &&
                            json_integer_value(id) <= INT32_MAX
                        ? (int32_t)json_integer_value(id)
                        : -1;
        ice_rc_t rc = compile(c, json_object_get(f, "type"), depth + 1, &s->kids[i]);
        if (rc != ICE_OK)
            return rc;
    }
    s->resolved = true;
    return ICE_OK;
}

static ice_rc_t compile(sctx_t *c, const json_t *j, int depth, sch_t **out)
{
    if (depth > AVRO_SCHEMA_MAX_DEPTH)
        return corrupt(c->err, "schema nested too deep");
    if (json_is_string(j)) {
        const char *n = json_string_value(j);
        for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
            if (strcmp(n, prims[i].name) == 0) {
                sch_t *s = arena_alloc(c->a, sizeof *s);
                if (!s)
                    return ICE_ERR_NOMEM;
                s->kind = prims[i].kind;
                *out = s;
                return ICE_OK;
            }
        sch_t *named = lookup_named(c, n);
        if (!named)
            return corrupt(c->err, "reference to an undefined type");
        *out = named;
        return ICE_OK;
    }
    sch_t *s = arena_alloc(c->a, sizeof *s);
    if (!s)
        return ICE_ERR_NOMEM;
    *out = s;
    if (json_is_array(j)) {
        s->kind = S_UNION;
        s->n = json_array_size(j);
        if (s->n == 0)
            return corrupt(c->err, "empty union");
        if (!(s->kids = arena_alloc(c->a, s->n * sizeof *s->kids)))
            return ICE_ERR_NOMEM;
        for (size_t i = 0; i < s->n; i++) {
            ice_rc_t rc = compile(c, json_array_get(j, i), depth + 1, &s->kids[i]);
            if (rc != ICE_OK)
                return rc;
        }
        return ICE_OK;
    }
    if (!json_is_object(j))
        return corrupt(c->err, "schema is not a name, union or object");
    const json_t *type = json_object_get(j, "type");
    const char *t = json_string_value(type);
    const char *logical = json_string_value(json_object_get(j, "logicalType"));
    if (logical && !(s->logical = arena_strdup(c->a, logical)))
        return ICE_ERR_NOMEM;
    if (!t) /* {"type": {...}} wraps another schema */
        return compile(c, type, depth + 1, out);
    ice_rc_t rc;
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0) {
        s->kind = S_RECORD;
        if ((rc = register_named(c, s, j)) != ICE_OK)
            return rc;
        return compile_record(c, j, depth, s);
    }
    if (strcmp(t, "enum") == 0) {
        s->kind = S_ENUM;
        const json_t *sym = json_object_get(j, "symbols");
        if (!json_is_array(sym))
            return corrupt(c->err, "enum without symbols");
        s->size = json_array_size(sym);
        return register_named(c, s, j);
    }
    if (strcmp(t, "fixed") == 0) {
        s->kind = S_FIXED;
        const json_t *size = json_object_get(j, "size");
        if (!json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > (json_int_t)ICE_AVRO_BLOCK_MAX_BYTES)
            return corrupt(c->err, "fixed without a valid size");
        s->size = (size_t)json_integer_value(size);
        return register_named(c, s, j);
    }
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        bool arr = t[0] == 'a';
        s->kind = arr ? S_ARRAY : S_MAP;
        s->n = 1;
        if (!(s->kids = arena_alloc(c->a, sizeof *s->kids)))
            return ICE_ERR_NOMEM;
        return compile(c, json_object_get(j, arr ? "items" : "values"), depth + 1, &s->kids[0]);
    }
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (strcmp(t, prims[i].name) == 0) {
            s->kind = prims[i].kind;
            return ICE_OK;
        }
    sch_t *named = lookup_named(c, t);
    if (!named)
        return corrupt(c->err, "unknown type name");
    *out = named;
    return ICE_OK;
}

/* ---------------------------------------------------------------------- */
/* Decoder: values. */

typedef struct {
    const uint8_t *p, *end;
    arena_t *a;
    ice_err_t *err;
} rd_t;

static ice_rc_t rd_long(rd_t *r, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0, i = 0; i < AVRO_VARINT_MAX_BYTES; i++, shift += 7) {
        if (r->p >= r->end)
            return corrupt(r->err, "truncated varint");
        uint8_t b = *r->p++;
        if (i == AVRO_VARINT_MAX_BYTES - 1 && (b & 0x7E))
            return corrupt(r->err, "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return ICE_OK;
        }
    }
    return corrupt(r->err, "varint too long");
}

static ice_rc_t rd_len(rd_t *r, size_t *out)
{
    int64_t n;
    ice_rc_t rc = rd_long(r, &n);
    if (rc != ICE_OK)
        return rc;
    if (n < 0 || (uint64_t)n > (uint64_t)(r->end - r->p))
        return corrupt(r->err, "length beyond the data");
    *out = (size_t)n;
    return ICE_OK;
}

static ice_rc_t decode(rd_t *r, const sch_t *s, int depth, ice_av_t **out);

/* Array and map items come in blocks: count (negative: followed by the
 * block's byte size), items, until a zero count. */
static ice_rc_t decode_blocks(rd_t *r, const sch_t *s, int depth, ice_av_t *v)
{
    size_t cap = 0;
    bool map = s->kind == S_MAP;
    for (;;) {
        int64_t count, bytes;
        ice_rc_t rc = rd_long(r, &count);
        if (rc != ICE_OK)
            return rc;
        if (count == 0)
            return ICE_OK;
        if (count < 0) {
            if (count == INT64_MIN || (rc = rd_long(r, &bytes)) != ICE_OK)
                return rc ? rc : corrupt(r->err, "bad block count");
            count = -count;
        }
        /* Every item takes at least one byte in any schema we accept, so a
         * count above the remaining bytes is a lie, not a big array. */
        if ((uint64_t)count > (uint64_t)(r->end - r->p))
            return corrupt(r->err, "item count beyond the data");
        if (v->n + (size_t)count > cap) {
            size_t ncap = v->n + (size_t)count;
            ice_av_t **items = arena_alloc(r->a, ncap * sizeof *items);
            const char **names = map ? arena_alloc(r->a, ncap * sizeof *names) : NULL;
            if (!items || (map && !names))
                return ICE_ERR_NOMEM;
            if (v->n) {
                memcpy(items, v->items, v->n * sizeof *items);
                if (map)
                    memcpy(names, v->names, v->n * sizeof *names);
            }
            v->items = items;
            v->names = names;
            cap = ncap;
        }
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                size_t kl;
                if ((rc = rd_len(r, &kl)) != ICE_OK)
                    return rc;
                char *k = arena_strndup(r->a, (const char *)r->p, kl);
                if (!k)
                    return ICE_ERR_NOMEM;
                r->p += kl;
                ((const char **)v->names)[v->n] = k;
            }
            if ((rc = decode(r, s->kids[0], depth + 1, &v->items[v->n])) != ICE_OK)
                return rc;
            v->n++;
        }
    }
}

static ice_rc_t decode(rd_t *r, const sch_t *s, int depth, ice_av_t **out)
{
    if (depth > AVRO_VALUE_MAX_DEPTH)
        return corrupt(r->err, "value nested too deep");
    if (s->kind == S_UNION) {
        int64_t b;
        ice_rc_t rc = rd_long(r, &b);
        if (rc != ICE_OK)
            return rc;
        if (b < 0 || (uint64_t)b >= s->n)
            return corrupt(r->err, "union branch out of range");
        return decode(r, s->kids[b], depth + 1, out);
    }
    ice_av_t *v = arena_alloc(r->a, sizeof *v);
    if (!v)
        return ICE_ERR_NOMEM;
    *out = v;
    v->logical = s->logical;
    ice_rc_t rc = ICE_OK;
    size_t n;
    switch (s->kind) {
    case S_NULL:
        v->kind = AV_NULL;
        return ICE_OK;
    case S_BOOL:
        if (r->p >= r->end || *r->p > 1)
            return corrupt(r->err, "bad boolean");
        v->kind = AV_BOOL;
        v->i = *r->p++;
        return ICE_OK;
    case S_INT:
    case S_LONG:
        if ((rc = rd_long(r, &v->i)) != ICE_OK)
            return rc;
        if (s->kind == S_INT && (v->i < INT32_MIN || v->i > INT32_MAX))
            return corrupt(r->err, "int out of range");
        v->kind = s->kind == S_INT ? AV_INT : AV_LONG;
        return ICE_OK;
    case S_FLOAT:
    case S_DOUBLE: {
        size_t w = s->kind == S_FLOAT ? 4 : 8;
        if ((size_t)(r->end - r->p) < w)
            return corrupt(r->err, "truncated float");
        uint64_t u = 0;
        for (size_t i = 0; i < w; i++)
            u |= (uint64_t)r->p[i] << (8 * i);
        r->p += w;
        if (w == 4) {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, 4);
            v->d = f;
            v->kind = AV_FLOAT;
        } else {
            memcpy(&v->d, &u, 8);
            v->kind = AV_DOUBLE;
        }
        return ICE_OK;
    }
    case S_BYTES:
    case S_STRING:
    case S_FIXED:
        if (s->kind == S_FIXED) {
            n = s->size;
            if (n > (size_t)(r->end - r->p))
                return corrupt(r->err, "truncated fixed");
        } else if ((rc = rd_len(r, &n)) != ICE_OK) {
            return rc;
        }
        v->kind = s->kind == S_BYTES ? AV_BYTES : s->kind == S_STRING ? AV_STRING : AV_FIXED;
        /* Copy with a NUL so strings can be used as C strings. */
        if (!(v->bytes = (const uint8_t *)arena_strndup(r->a, (const char *)r->p, n)))
            return ICE_ERR_NOMEM;
        v->len = n;
        r->p += n;
        return ICE_OK;
    case S_ENUM:
        if ((rc = rd_long(r, &v->i)) != ICE_OK)
            return rc;
        if (v->i < 0 || (uint64_t)v->i >= s->size)
            return corrupt(r->err, "enum index out of range");
        v->kind = AV_ENUM;
        return ICE_OK;
    case S_RECORD:
        if (!s->resolved)
            return corrupt(r->err, "record used inside its own definition");
        v->kind = AV_RECORD;
        v->n = s->n;
        v->names = s->names;
        v->ids = s->ids;
        if (!(v->items = arena_alloc(r->a, (s->n ? s->n : 1) * sizeof *v->items)))
            return ICE_ERR_NOMEM;
        for (size_t i = 0; i < s->n; i++)
            if ((rc = decode(r, s->kids[i], depth + 1, &v->items[i])) != ICE_OK)
                return rc;
        return ICE_OK;
    case S_ARRAY:
    case S_MAP:
        v->kind = s->kind == S_ARRAY ? AV_ARRAY : AV_MAP;
        return decode_blocks(r, s, depth, v);
    case S_UNION:
        break;
    }
    return corrupt(r->err, "unknown schema kind");
}

/* ---------------------------------------------------------------------- */
/* Container. */

typedef struct {
    const char *schema;
    size_t schema_len;
    const char *codec;
    size_t codec_len;
    uint8_t sync[AVRO_SYNC_LEN];
} header_t;

/* Reads the header map; calls back for each key. */
static ice_rc_t read_header(rd_t *r, header_t *h, const char *want, const char **wv,
                            size_t *wl)
{
    if (r->end - r->p < 4 || memcmp(r->p, AVRO_MAGIC, 4) != 0)
        return corrupt(r->err, "not an Avro object container file");
    r->p += 4;
    memset(h, 0, sizeof *h);
    bool found = false;
    for (;;) {
        int64_t count, bytes;
        ice_rc_t rc = rd_long(r, &count);
        if (rc != ICE_OK)
            return rc;
        if (count == 0)
            break;
        if (count < 0) {
            if (count == INT64_MIN || (rc = rd_long(r, &bytes)) != ICE_OK)
                return rc ? rc : corrupt(r->err, "bad header count");
            count = -count;
        }
        if ((uint64_t)count > (uint64_t)(r->end - r->p))
            return corrupt(r->err, "header count beyond the data");
        for (int64_t i = 0; i < count; i++) {
            size_t kl, vl;
            if ((rc = rd_len(r, &kl)) != ICE_OK)
                return rc;
            const char *k = (const char *)r->p;
            r->p += kl;
            if ((rc = rd_len(r, &vl)) != ICE_OK)
                return rc;
            const char *val = (const char *)r->p;
            r->p += vl;
            if (kl == 11 && memcmp(k, "avro.schema", 11) == 0) {
                h->schema = val;
                h->schema_len = vl;
            } else if (kl == 10 && memcmp(k, "avro.codec", 10) == 0) {
                h->codec = val;
                h->codec_len = vl;
            }
            if (want && strlen(want) == kl && memcmp(k, want, kl) == 0) {
                *wv = val;
                *wl = vl;
                found = true;
            }
        }
    }
    if ((size_t)(r->end - r->p) < AVRO_SYNC_LEN)
        return corrupt(r->err, "truncated sync marker");
    memcpy(h->sync, r->p, AVRO_SYNC_LEN);
    r->p += AVRO_SYNC_LEN;
    if (want && !found)
        return ICE_ERR_NOT_FOUND;
    return ICE_OK;
}

ice_rc_t ice_avro_header_get(arena_t *a, const uint8_t *data, size_t len, const char *key,
                             const char **value, size_t *value_len)
{
    rd_t r = {data, data + len, a, NULL};
    header_t h;
    const char *v = NULL;
    size_t vl = 0;
    ice_rc_t rc = read_header(&r, &h, key, &v, &vl);
    if (rc != ICE_OK)
        return rc;
    *value = arena_strndup(a, v, vl);
    *value_len = vl;
    return *value ? ICE_OK : ICE_ERR_NOMEM;
}

/* Inflates a raw-deflate block into memory from a, at most
 * ICE_AVRO_BLOCK_MAX_BYTES (a zip bomb stops there). */
static ice_rc_t inflate_block(rd_t *r, const uint8_t *in, size_t n, const uint8_t **out,
                              size_t *out_len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -15) != Z_OK)
        return ICE_ERR_NOMEM;
    buf_t b;
    buf_init(&b, ICE_AVRO_BLOCK_MAX_BYTES);
    uint8_t chunk[65536];
    s.next_in = (Bytef *)(uintptr_t)in;
    s.avail_in = (uInt)n;
    int zr;
    do {
        s.next_out = chunk;
        s.avail_out = sizeof chunk;
        zr = inflate(&s, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        buf_append(&b, chunk, sizeof chunk - s.avail_out);
        if (!buf_ok(&b))
            break;
        if (zr == Z_OK && s.avail_in == 0 && s.avail_out != 0)
            break; /* input exhausted without stream end */
    } while (zr != Z_STREAM_END);
    inflateEnd(&s);
    ice_rc_t rc = ICE_OK;
    if (!buf_ok(&b))
        rc = ice_fail(r->err, ICE_ERR_TOO_LARGE, "avro: inflated block over %zu bytes",
                      (size_t)ICE_AVRO_BLOCK_MAX_BYTES);
    else if (zr != Z_STREAM_END)
        rc = corrupt(r->err, "bad deflate block");
    else if (!(*out = arena_memdup(r->a, b.len ? (const void *)b.data : "", b.len ? b.len : 1)))
        rc = ICE_ERR_NOMEM;
    *out_len = b.len;
    buf_release(&b);
    return rc;
}

ice_rc_t ice_avro_decode(arena_t *a, const uint8_t *data, size_t len, ice_avro_file_t *out,
                         ice_err_t *err)
{
    if (len > ICE_AVRO_MAX_BYTES)
        return ice_fail(err, ICE_ERR_TOO_LARGE, "avro file over %zu bytes",
                        (size_t)ICE_AVRO_MAX_BYTES);
    rd_t r = {data, data + len, a, err};
    header_t h;
    memset(out, 0, sizeof *out);
    ice_rc_t rc = read_header(&r, &h, NULL, NULL, NULL);
    if (rc != ICE_OK)
        return rc;
    if (!h.schema)
        return corrupt(err, "header without avro.schema");
    bool deflate = false;
    if (h.codec && !(h.codec_len == 4 && memcmp(h.codec, "null", 4) == 0)) {
        if (h.codec_len == 7 && memcmp(h.codec, "deflate", 7) == 0)
            deflate = true;
        else
            return ice_fail(err, ICE_ERR_UNSUPPORTED, "avro codec \"%.*s\" not supported",
                            (int)(h.codec_len > 32 ? 32 : h.codec_len), h.codec);
    }
    json_error_t je;
    json_t *js = json_loadb(h.schema, h.schema_len, 0, &je);
    if (!js)
        return corrupt(err, "avro.schema is not JSON");
    sctx_t sc = {a, err, NULL, 0};
    sch_t *root;
    rc = compile(&sc, js, 0, &root);
    json_decref(js);
    if (rc != ICE_OK)
        return rc;
    out->schema_json = arena_strndup(a, h.schema, h.schema_len);
    out->schema_len = h.schema_len;
    if (!out->schema_json)
        return ICE_ERR_NOMEM;
    const ice_av_t **recs = NULL;
    size_t n = 0, cap = 0;
    while (r.p < r.end) {
        int64_t count;
        size_t size;
        if ((rc = rd_long(&r, &count)) != ICE_OK || (rc = rd_len(&r, &size)) != ICE_OK)
            return rc;
        if (count < 0)
            return corrupt(err, "negative block count");
        const uint8_t *blk = r.p, *body = blk;
        size_t body_len = size;
        r.p += size;
        if ((size_t)(r.end - r.p) < AVRO_SYNC_LEN || memcmp(r.p, h.sync, AVRO_SYNC_LEN) != 0)
            return corrupt(err, "block sync marker mismatch");
        r.p += AVRO_SYNC_LEN;
        if (deflate && (rc = inflate_block(&r, blk, size, &body, &body_len)) != ICE_OK)
            return rc;
        if ((uint64_t)count > body_len && count > 0 && root->kind != S_NULL)
            return corrupt(err, "block record count beyond its bytes");
        rd_t br = {body, body + body_len, a, err};
        if (n + (size_t)count > cap) {
            size_t ncap = (n + (size_t)count) * 2;
            const ice_av_t **nr = arena_alloc(a, ncap * sizeof *nr);
            if (!nr)
                return ICE_ERR_NOMEM;
            if (n)
                memcpy(nr, recs, n * sizeof *nr);
            recs = nr;
            cap = ncap;
        }
        for (int64_t i = 0; i < count; i++) {
            ice_av_t *v;
            if ((rc = decode(&br, root, 0, &v)) != ICE_OK)
                return rc;
            recs[n++] = v;
        }
        if (br.p != br.end)
            return corrupt(err, "bytes left over after a block's records");
    }
    out->records = (const ice_av_t *const *)recs;
    out->n_records = n;
    return ICE_OK;
}

const ice_av_t *ice_av_field(const ice_av_t *rec, int32_t id, const char *name)
{
    if (!rec || rec->kind != AV_RECORD)
        return NULL;
    if (id >= 0)
        for (size_t i = 0; i < rec->n; i++)
            if (rec->ids[i] == id)
                return rec->items[i];
    if (name)
        for (size_t i = 0; i < rec->n; i++)
            if (rec->ids[i] < 0 && strcmp(rec->names[i], name) == 0)
                return rec->items[i];
    return NULL;
}

bool ice_av_is_null(const ice_av_t *v)
{
    return !v || v->kind == AV_NULL;
}
