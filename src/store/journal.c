/* store/journal.c: the metadata journal's queue (DESIGN.md promise 1,
 * invariants 2 and 3; specs/s3-metadata.md §3).
 *
 * For a bucket that journals, every committed object mutation appends one
 * row, in the mutation's own child transaction:
 *   META    "jon\0<bucket>"   present while the bucket journals
 *   META    "jseq\0<bucket>"  the bucket's last sequence number (u64 BE)
 *   JOURNAL <bucket>\0<seq u64 BE> -> row
 * Row value: type u8, flags u8 (1 delete marker, 2 permanent), ts_ms u64 BE,
 * three u16-length-prefixed strings (requester, source ip, request id; length
 * 0xFFFF = NULL), then the version row (record.c's object encoding).
 * Because the row and the index change share one transaction, an aborted
 * mutation leaves no row and no gap in the sequence; the publisher (the
 * journal room) reads rows in sequence order and trims what it published. */
#include "store/store_int.h"

#include "util/clock.h"

#include <stdlib.h>
#include <string.h>

#define JSTR_NULL 0xFFFF
#define JSTR_MAX 0xFFFE
#define JOURNAL_REQUESTER_SERVICE "s3.amazonaws.com"

static _Thread_local const store_reqctx_t *tl_ctx;

void store_reqctx_set(const store_reqctx_t *ctx) { tl_ctx = ctx; }

const store_reqctx_t *store_reqctx_current(void) { return tl_ctx; }

static size_t meta_key(uint8_t *out, const char *tag, const char *bucket)
{
    size_t a = strlen(tag), b = strlen(bucket);
    memcpy(out, tag, a);
    out[a] = '\0';
    memcpy(out + a + 1, bucket, b);
    return a + 1 + b;
}

static bool journaling(store_txn_t *t, const char *bucket)
{
    uint8_t k[8 + STORE_BUCKET_NAME_MAX];
    MDB_val key = {meta_key(k, "jon", bucket), k}, v;
    return mdb_get(t->txn, t->st->db[DB_META], &key, &v) == MDB_SUCCESS;
}

static store_rc_t jseq_next(store_txn_t *t, const char *bucket, uint64_t *seq)
{
    uint8_t k[8 + STORE_BUCKET_NAME_MAX], raw[8];
    MDB_val key = {meta_key(k, "jseq", bucket), k}, v;
    uint64_t cur = 0;
    int e = mdb_get(t->txn, t->st->db[DB_META], &key, &v);
    if (e == MDB_SUCCESS) {
        if (v.mv_size != 8)
            return STORE_CORRUPT;
        cur = store_get_u64be(v.mv_data);
    } else if (e != MDB_NOTFOUND) {
        return store_txn_rc(t, e);
    }
    if (cur >= UINT64_MAX - 1)
        return STORE_FULL;
    store_put_u64be(raw, cur + 1);
    MDB_val nv = {8, raw};
    if ((e = mdb_put(t->txn, t->st->db[DB_META], &key, &nv, 0)))
        return store_txn_rc(t, e);
    *seq = cur + 1;
    return STORE_OK;
}

static void put_str(buf_t *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > JSTR_MAX)
        n = JSTR_MAX; /* request ids and addresses are short; never reached */
    uint8_t len[2] = {(uint8_t)((s ? n : JSTR_NULL) >> 8), (uint8_t)(s ? n : JSTR_NULL)};
    buf_append(b, len, 2);
    if (s)
        buf_append(b, s, n);
}

store_rc_t store_journal_append(store_txn_t *t, store_journal_kind_t kind, const char *bucket,
                                const store_object_t *row)
{
    store_jrec_type_t type;
    uint8_t flags = 0;
    switch (kind) {
    case STORE_JOURNAL_CREATE: type = STORE_JREC_CREATE; break;
    case STORE_JOURNAL_UPDATE_TAGS:
    case STORE_JOURNAL_UPDATE_CLASS: type = STORE_JREC_UPDATE_METADATA; break;
    case STORE_JOURNAL_DELETE_MARKER: type = STORE_JREC_DELETE, flags = 1; break;
    case STORE_JOURNAL_DELETE: type = STORE_JREC_DELETE, flags = 2; break;
    case STORE_JOURNAL_UPDATE_LOCK:
    default: return STORE_OK; /* retention and legal hold are not journaled (AWS) */
    }
    if (!journaling(t, bucket))
        return STORE_OK;
    uint64_t seq = 0;
    store_rc_t rc = jseq_next(t, bucket, &seq);
    if (rc != STORE_OK)
        return rc;
    const store_reqctx_t *ctx = t->m ? t->m->ctx : NULL;
    buf_t b;
    buf_init(&b, REC_MAX_BYTES);
    uint8_t head[10];
    head[0] = (uint8_t)type;
    head[1] = flags;
    store_put_u64be(head + 2, (uint64_t)clock_now_ms());
    buf_append(&b, head, sizeof head);
    put_str(&b, ctx ? ctx->requester : JOURNAL_REQUESTER_SERVICE);
    put_str(&b, ctx ? ctx->source_ip : NULL);
    put_str(&b, ctx ? ctx->request_id : NULL);
    rec_object_encode(&b, row);
    if (!buf_ok(&b)) {
        buf_release(&b);
        return STORE_TOO_LARGE;
    }
    uint8_t k[STORE_BUCKET_NAME_MAX + 1 + 8];
    size_t bl = strlen(bucket);
    memcpy(k, bucket, bl);
    k[bl] = '\0';
    store_put_u64be(k + bl + 1, seq);
    MDB_val key = {bl + 9, k}, v = {b.len, b.data};
    int e = mdb_put(t->txn, t->st->db[DB_JOURNAL], &key, &v, 0);
    buf_release(&b);
    return store_txn_rc(t, e);
}

/* ---- switching it on and off ------------------------------------------ */

typedef struct {
    const char *bucket;
    bool on;
} jon_arg_t;

static store_rc_t jon_fn(store_txn_t *t, void *arg)
{
    jon_arg_t *j = arg;
    MDB_val bk = mval(j->bucket, strlen(j->bucket)), bv;
    int e = mdb_get(t->txn, t->st->db[DB_BUCKETS], &bk, &bv);
    if (e)
        return e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_txn_rc(t, e);
    uint8_t k[8 + STORE_BUCKET_NAME_MAX];
    MDB_val key = {meta_key(k, "jon", j->bucket), k};
    if (!j->on) {
        e = mdb_del(t->txn, t->st->db[DB_META], &key, NULL);
        return e == MDB_NOTFOUND ? STORE_OK : store_txn_rc(t, e);
    }
    uint8_t one = 1;
    MDB_val v = {1, &one};
    return store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_META], &key, &v, 0));
}

store_rc_t store_journal_enable(store_t *st, const char *bucket, bool on)
{
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    jon_arg_t j = {bucket, on};
    return store_mutate(st, jon_fn, &j);
}

bool store_journal_enabled(store_t *st, const char *bucket)
{
    if (!store_bucket_name_ok(bucket))
        return false;
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != STORE_OK)
        return false;
    uint8_t k[8 + STORE_BUCKET_NAME_MAX];
    MDB_val key = {meta_key(k, "jon", bucket), k}, v;
    bool on = mdb_get(txn, st->db[DB_META], &key, &v) == MDB_SUCCESS;
    store_read_end(st, txn);
    return on;
}

store_rc_t store_journal_last_seq(store_t *st, const char *bucket, uint64_t *out)
{
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    MDB_txn *txn;
    store_rc_t rc = store_read_begin(st, &txn);
    if (rc != STORE_OK)
        return rc;
    uint8_t k[8 + STORE_BUCKET_NAME_MAX];
    MDB_val key = {meta_key(k, "jseq", bucket), k}, v;
    int e = mdb_get(txn, st->db[DB_META], &key, &v);
    *out = 0;
    if (e == MDB_SUCCESS)
        rc = v.mv_size == 8 ? (*out = store_get_u64be(v.mv_data), STORE_OK) : STORE_CORRUPT;
    else if (e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    store_read_end(st, txn);
    return rc;
}

/* ---- reading and trimming --------------------------------------------- */

static bool get_str(arena_t *a, const uint8_t **p, const uint8_t *end, const char **out)
{
    if (end - *p < 2)
        return false;
    unsigned n = (unsigned)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    if (n == JSTR_NULL) {
        *out = NULL;
        return true;
    }
    if ((size_t)(end - *p) < n)
        return false;
    *out = arena_strndup(a, (const char *)*p, n);
    *p += n;
    return *out != NULL;
}

static store_rc_t decode_row(arena_t *a, const MDB_val *k, size_t blen, const MDB_val *v,
                             store_jrow_t *r)
{
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    if (k->mv_size != blen + 9 || v->mv_size < 10)
        return STORE_CORRUPT;
    memset(r, 0, sizeof *r);
    r->seq = store_get_u64be((const uint8_t *)k->mv_data + blen + 1);
    r->type = (store_jrec_type_t)p[0];
    if (r->type < STORE_JREC_CREATE || r->type > STORE_JREC_DELETE || p[1] > 2)
        return STORE_CORRUPT;
    r->delete_marker = p[1] == 1;
    r->permanent = p[1] == 2;
    r->ts_ms = (int64_t)store_get_u64be(p + 2);
    p += 10;
    if (!get_str(a, &p, end, &r->requester) || !get_str(a, &p, end, &r->source_ip) ||
        !get_str(a, &p, end, &r->request_id))
        return STORE_CORRUPT;
    return rec_object_decode(a, p, (size_t)(end - p), &r->obj);
}

store_rc_t store_journal_read(store_t *st, arena_t *a, const char *bucket, uint64_t after,
                              size_t max, store_jrow_t **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    if (max == 0)
        return STORE_OK;
    store_jrow_t *out = arena_alloc(a, max * sizeof *out);
    if (!out)
        return STORE_NOMEM;
    size_t bl = strlen(bucket);
    uint8_t k[STORE_BUCKET_NAME_MAX + 1 + 8];
    memcpy(k, bucket, bl);
    k[bl] = '\0';
    store_put_u64be(k + bl + 1, after == UINT64_MAX ? after : after + 1);
    MDB_txn *txn;
    store_rc_t rc = store_read_begin(st, &txn);
    if (rc != STORE_OK)
        return rc;
    MDB_cursor *c;
    int e = mdb_cursor_open(txn, st->db[DB_JOURNAL], &c);
    if (e) {
        store_read_end(st, txn);
        return store_mdb_rc(e);
    }
    MDB_val key = {bl + 9, k}, v;
    size_t got = 0;
    for (e = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); !e && got < max;
         e = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (key.mv_size < bl + 1 || memcmp(key.mv_data, k, bl + 1) != 0)
            break;
        if ((rc = decode_row(a, &key, bl, &v, &out[got])) != STORE_OK)
            break;
        got++;
    }
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    mdb_cursor_close(c);
    store_read_end(st, txn);
    *rows = out;
    *n = got;
    return rc;
}

typedef struct {
    const char *bucket;
    uint64_t upto;
} trim_arg_t;

static store_rc_t trim_fn(store_txn_t *t, void *arg)
{
    trim_arg_t *tr = arg;
    size_t bl = strlen(tr->bucket);
    uint8_t k[STORE_BUCKET_NAME_MAX + 1 + 8];
    memcpy(k, tr->bucket, bl);
    k[bl] = '\0';
    store_put_u64be(k + bl + 1, 0);
    MDB_cursor *c;
    int e = mdb_cursor_open(t->txn, t->st->db[DB_JOURNAL], &c);
    if (e)
        return store_txn_rc(t, e);
    MDB_val key = {bl + 9, k}, v;
    for (e = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); !e;
         e = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (key.mv_size != bl + 9 || memcmp(key.mv_data, k, bl + 1) != 0 ||
            store_get_u64be((const uint8_t *)key.mv_data + bl + 1) > tr->upto)
            break;
        if ((e = mdb_cursor_del(c, 0)))
            break;
    }
    mdb_cursor_close(c);
    return e && e != MDB_NOTFOUND ? store_txn_rc(t, e) : STORE_OK;
}

store_rc_t store_journal_trim(store_t *st, const char *bucket, uint64_t upto)
{
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    trim_arg_t tr = {bucket, upto};
    return store_mutate(st, trim_fn, &tr);
}
