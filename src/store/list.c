/* store/list.c: ListObjects / ListObjectsV2 (store_object_list) and
 * ListObjectVersions (store_version_list).
 *
 * The walk is chunked: a short read txn collects up to LIST_CHUNK versions
 * (decoded into the caller's arena), closes, and only then are the
 * callbacks run, so a slow consumer never pins a reader (which would stop
 * the map from growing and LMDB from reusing pages).
 *
 * Between chunks the only state is the lower bound `lo` = (key K, seq S): a
 * row (k, s) is still to come iff k > K, or k == K and s < S (versions of a
 * key come newest first, i.e. by descending seq). Every row is filtered
 * against it, so a seek only has to land at or before the first row to
 * come; that is what lets long-key groups (store_int.h) be re-read and
 * re-sorted on every visit. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define LIST_CHUNK 128
#define SEQ_ALL UINT64_MAX /* (K, SEQ_ALL): K itself and everything after */

typedef struct {
    store_t *st;
    arena_t *a;
    const char *bucket;
    uint8_t bpfx[STORE_BUCKET_NAME_MAX + 1];
    size_t bplen;
    const char *prefix;
    size_t prelen;
    bool versions; /* every version, or the latest of each key */
    char *lo;
    size_t lo_len, lo_cap;
    uint64_t lo_seq;
    bool done;
    store_object_t *chunk[LIST_CHUNK];
    size_t n;
} walk_t;

static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static store_rc_t lo_set(walk_t *w, const void *key, size_t klen, uint64_t seq)
{
    if (klen + 1 > w->lo_cap) {
        char *p = realloc(w->lo, klen + 1);
        if (!p)
            return STORE_NOMEM;
        w->lo = p;
        w->lo_cap = klen + 1;
    }
    if (klen)
        memmove(w->lo, key, klen);
    w->lo_len = klen;
    w->lo_seq = seq;
    return STORE_OK;
}

/* Raises lo to (key, seq) if that is further along. */
static store_rc_t lo_raise(walk_t *w, const void *key, size_t klen, uint64_t seq)
{
    int c = key_cmp(key, klen, w->lo, w->lo_len);
    if (c > 0 || (c == 0 && seq < w->lo_seq))
        return lo_set(w, key, klen, seq);
    return STORE_OK;
}

static bool still_to_come(const walk_t *w, const void *key, size_t klen, uint64_t seq)
{
    int c = key_cmp(key, klen, w->lo, w->lo_len);
    return c > 0 || (c == 0 && seq < w->lo_seq);
}

static bool has_prefix(const void *key, size_t klen, const char *pre, size_t plen)
{
    return klen >= plen && memcmp(key, pre, plen) == 0;
}

/* 1: emit; 0: skip this row; -1: past the prefix, the walk is over. */
static int prefix_gate(const walk_t *w, const void *key, size_t klen)
{
    if (has_prefix(key, klen, w->prefix, w->prelen))
        return 1;
    return key_cmp(key, klen, w->prefix, w->prelen) > 0 ? -1 : 0;
}

/* Decodes one row into the chunk and moves lo past it. */
static store_rc_t emit(walk_t *w, const MDB_val *val, const void *key, size_t klen,
                       uint64_t seq, bool is_latest)
{
    store_object_t *o = arena_alloc(w->a, sizeof *o);
    if (!o)
        return STORE_NOMEM;
    store_rc_t rc = rec_object_decode(w->a, val->mv_data, val->mv_size, o);
    if (rc != STORE_OK)
        return rc;
    if (o->key_len != klen || memcmp(o->key, key, klen))
        return STORE_CORRUPT;
    o->is_latest = is_latest;
    w->chunk[w->n++] = o;
    /* Latest-only walks are done with the key; version walks with the row. */
    return lo_set(w, o->key, klen, w->versions ? seq : 0);
}

typedef struct {
    const char *key;
    size_t klen;
    uint64_t seq;
    MDB_val val;
    bool is_latest;
} grow_t;

static int grow_cmp(const void *pa, const void *pb)
{
    const grow_t *a = pa, *b = pb;
    int c = key_cmp(a->key, a->klen, b->key, b->klen);
    if (c)
        return c;
    return a->seq < b->seq ? 1 : a->seq > b->seq ? -1 : 0;
}

/* A long-key group (store_int.h): read all of it, sort by full key, emit
 * what is still to come. Leaves the cursor on the first row after it
 * (*k, *v, and *e_out the LMDB result of getting there). */
static store_rc_t walk_group(walk_t *w, MDB_cursor *cur, const uint8_t *head_in, MDB_val *ko,
                             MDB_val *vo, int *e_out)
{
    uint8_t gk[ROWKEY_MAX], head[ROWKEY_HEAD];
    size_t glen = w->bplen;
    grow_t *rows = NULL;
    size_t n = 0, cap = 0;
    store_rc_t rc = STORE_OK;
    MDB_val k, v;
    int e;

    memcpy(head, head_in, ROWKEY_HEAD); /* head_in points into the cursor's page */
    memcpy(gk, w->bpfx, glen);
    memcpy(gk + glen, head, ROWKEY_HEAD);
    glen += ROWKEY_HEAD;
    gk[glen++] = 1;
    k.mv_data = gk;
    k.mv_size = glen;
    for (e = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !e;
         e = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < glen || memcmp(k.mv_data, gk, glen))
            break;
        rowkey_t rk;
        rec_peek_t pk;
        if (rowkey_parse(&k, w->bplen, &rk) != STORE_OK || !rk.is_long ||
            rec_object_peek(v.mv_data, v.mv_size, &pk) != STORE_OK ||
            pk.klen <= ROWKEY_HEAD || memcmp(pk.key, head, ROWKEY_HEAD)) {
            rc = STORE_CORRUPT;
            goto done;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            grow_t *r = realloc(rows, cap * sizeof *rows);
            if (!r) {
                rc = STORE_NOMEM;
                goto done;
            }
            rows = r;
        }
        rows[n++] = (grow_t){pk.key, pk.klen, rk.seq, v, false};
    }
    if (e && e != MDB_NOTFOUND) {
        rc = store_mdb_rc(e);
        goto done;
    }
    if (n)
        qsort(rows, n, sizeof *rows, grow_cmp);
    for (size_t i = 0; i < n && w->n < LIST_CHUNK; i++) {
        rows[i].is_latest = i == 0 || key_cmp(rows[i].key, rows[i].klen, rows[i - 1].key,
                                              rows[i - 1].klen) != 0;
        if (!still_to_come(w, rows[i].key, rows[i].klen, rows[i].seq))
            continue;
        if (!w->versions && !rows[i].is_latest)
            continue;
        int g = prefix_gate(w, rows[i].key, rows[i].klen);
        if (g < 0) {
            w->done = true;
            break;
        }
        if (g > 0 && (rc = emit(w, &rows[i].val, rows[i].key, rows[i].klen, rows[i].seq,
                                rows[i].is_latest)) != STORE_OK)
            goto done;
    }
    /* Past the group: HEAD '\2' sorts after every HEAD '\1' row. */
    gk[glen - 1] = 2;
    ko->mv_data = gk;
    ko->mv_size = glen;
    *e_out = mdb_cursor_get(cur, ko, vo, MDB_SET_RANGE);
done:
    free(rows);
    return rc;
}

/* Is the row under `cur` the newest of its (short) key? Used once per seek:
 * after that the walk sees every row of a key in order. */
static store_rc_t first_of_key(MDB_txn *txn, MDB_dbi dbi, const MDB_val *row, bool *first)
{
    MDB_cursor *c;
    MDB_val k = {row->mv_size - 8, row->mv_data}, v;
    int e = mdb_cursor_open(txn, dbi, &c);
    if (e)
        return store_mdb_rc(e);
    e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    *first = !e && k.mv_size == row->mv_size && memcmp(k.mv_data, row->mv_data, k.mv_size) == 0;
    mdb_cursor_close(c);
    return e && e != MDB_NOTFOUND ? store_mdb_rc(e) : STORE_OK;
}

/* One chunk: rows still to come, in order, up to LIST_CHUNK. */
static store_rc_t walk_chunk(walk_t *w, MDB_txn *txn)
{
    MDB_dbi dbi = w->st->db[DB_OBJECTS];
    MDB_cursor *cur;
    uint8_t sk[ROWKEY_MAX];
    MDB_val k, v;
    const uint8_t *last_key = NULL; /* previous short row's key, in LMDB memory */
    size_t last_klen = 0;
    bool after_seek = true;
    store_rc_t rc = STORE_OK;

    w->n = 0;
    int e = mdb_cursor_open(txn, dbi, &cur);
    if (e)
        return store_mdb_rc(e);
    /* A lo key longer than any key (a SKIP past 1024 bytes) is sought by its
     * first 1024 bytes: seeking earlier is always allowed. */
    size_t sklen = w->lo_len > STORE_KEY_MAX_BYTES ? STORE_KEY_MAX_BYTES : w->lo_len;
    k.mv_size = rowkey_seek(sk, w->bucket, w->lo, sklen, w->lo_seq);
    k.mv_data = sk;
    e = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (w->n < LIST_CHUNK && !w->done) {
        rowkey_t rk;
        if (e == MDB_NOTFOUND || (!e && (k.mv_size < w->bplen ||
                                         memcmp(k.mv_data, w->bpfx, w->bplen)))) {
            w->done = true;
            break;
        }
        if (e) {
            rc = store_mdb_rc(e);
            break;
        }
        if ((rc = rowkey_parse(&k, w->bplen, &rk)) != STORE_OK)
            break;
        if (rk.is_long) {
            if ((rc = walk_group(w, cur, rk.key, &k, &v, &e)) != STORE_OK)
                break;
            last_key = NULL; /* the next row starts a key */
            continue;
        }
        bool is_latest = !last_key || last_klen != rk.klen || memcmp(last_key, rk.key, rk.klen);
        /* Latest-only walks always land on a key's first row (their lo seq is
         * 0 or SEQ_ALL); version walks may land inside a key. */
        if (after_seek && w->versions && (rc = first_of_key(txn, dbi, &k, &is_latest)) != STORE_OK)
            break;
        after_seek = false;
        last_key = rk.key;
        last_klen = rk.klen;
        if (still_to_come(w, rk.key, rk.klen, rk.seq) && (w->versions || is_latest)) {
            int g = prefix_gate(w, rk.key, rk.klen);
            if (g < 0) {
                w->done = true;
                break;
            }
            if (g > 0 && (rc = emit(w, &v, rk.key, rk.klen, rk.seq, is_latest)) != STORE_OK)
                break;
        }
        if (!w->versions) {
            /* Past the older versions of this key in one seek. */
            memcpy(sk, k.mv_data, k.mv_size - 9);
            sk[k.mv_size - 9] = 1;
            k.mv_data = sk;
            k.mv_size = k.mv_size - 8;
            last_key = NULL;
            e = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            continue;
        }
        e = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* The smallest string greater than every string starting with s; false if
 * none (s is all 0xff). */
static bool prefix_successor(buf_t *s)
{
    while (s->len && (uint8_t)s->data[s->len - 1] == 0xff)
        s->len--;
    if (!s->len)
        return false;
    s->data[s->len - 1] = (char)((uint8_t)s->data[s->len - 1] + 1);
    return true;
}

static store_rc_t walk_run(walk_t *w, store_object_cb cb, void *arg)
{
    buf_t skip;
    store_rc_t rc = STORE_OK;
    const char *skip_s = NULL;
    size_t skip_len = 0;
    char *skip_copy = NULL;

    buf_init(&skip, STORE_KEY_MAX_BYTES * 4);
    while (!w->done || w->n) {
        MDB_txn *txn;
        if (!w->done) {
            if ((rc = store_read_begin(w->st, &txn)) != STORE_OK)
                break;
            rc = walk_chunk(w, txn);
            store_read_end(w->st, txn);
            if (rc != STORE_OK)
                break;
        }
        size_t n = w->n;
        w->n = 0;
        for (size_t i = 0; i < n; i++) {
            const store_object_t *o = w->chunk[i];
            if (skip_s && has_prefix(o->key, o->key_len, skip_s, skip_len))
                continue;
            skip_s = NULL;
            buf_reset(&skip);
            store_iter_rc_t r = cb(arg, o, &skip);
            if (r == STORE_ITER_STOP)
                goto done;
            if (r != STORE_ITER_SKIP || !buf_ok(&skip) || skip.len == 0)
                continue;
            free(skip_copy);
            if (!(skip_copy = malloc(skip.len))) {
                rc = STORE_NOMEM;
                goto done;
            }
            memcpy(skip_copy, skip.data, skip.len);
            skip_s = skip_copy;
            skip_len = skip.len;
            if (!prefix_successor(&skip))
                w->done = true; /* every remaining key starts with it */
            else if ((rc = lo_raise(w, skip.data, skip.len, SEQ_ALL)) != STORE_OK)
                goto done;
        }
    }
done:
    free(skip_copy);
    buf_release(&skip);
    return rc;
}

static store_rc_t walk_init(walk_t *w, store_t *st, arena_t *a, const char *bucket,
                            const char *prefix, bool versions)
{
    memset(w, 0, sizeof *w);
    if (!store_bucket_name_ok(bucket))
        return STORE_INVALID;
    w->st = st;
    w->a = a;
    w->bucket = bucket;
    w->bplen = rowkey_bucket_prefix(w->bpfx, bucket);
    w->prefix = prefix ? prefix : "";
    w->prelen = strlen(w->prefix);
    w->versions = versions;
    return lo_set(w, w->prefix, w->prelen, SEQ_ALL);
}

static store_rc_t bucket_exists(store_t *st, const char *bucket)
{
    MDB_txn *txn;
    MDB_val k = mval(bucket, strlen(bucket)), v;
    store_rc_t rc = store_read_begin(st, &txn);
    if (rc != STORE_OK)
        return rc;
    int e = mdb_get(txn, st->db[DB_BUCKETS], &k, &v);
    store_read_end(st, txn);
    return e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_mdb_rc(e);
}

store_rc_t store_object_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                             const char *start_after, size_t start_after_len, store_object_cb cb,
                             void *arg)
{
    walk_t w;
    store_rc_t rc = walk_init(&w, st, a, bucket, prefix, false);
    if (rc == STORE_OK)
        rc = bucket_exists(st, bucket);
    if (rc == STORE_OK && start_after && start_after_len)
        rc = lo_raise(&w, start_after, start_after_len, 0);
    if (rc == STORE_OK)
        rc = walk_run(&w, cb, arg);
    free(w.lo);
    return rc;
}

/* (key_marker, version_marker) -> lo. "null" is looked up; an issued id
 * carries its seq; an id that no longer exists still marks its place. */
static store_rc_t version_marker_seq(store_t *st, const char *bucket, const char *km,
                                     const char *vm, uint64_t *seq)
{
    MDB_txn *txn;
    store_rc_t rc;
    size_t klen = strlen(km);

    *seq = 0; /* absent null version: after every version of the key */
    if (strcmp(vm, "null") != 0)
        return version_id_seq(vm, seq) ? STORE_OK : STORE_INVALID;
    if (!store_key_ok(km, klen))
        return STORE_OK;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_cursor *cur;
    uint8_t pfx[ROWKEY_MAX];
    size_t plen = rowkey_key_prefix(pfx, bucket, km, klen);
    MDB_val k = {plen, pfx}, v;
    int e = mdb_cursor_open(txn, st->db[DB_OBJECTS], &cur);
    if (!e) {
        for (e = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !e;
             e = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            rec_peek_t pk;
            if (k.mv_size != plen + 8 || memcmp(k.mv_data, pfx, plen))
                break;
            if (rec_object_peek(v.mv_data, v.mv_size, &pk) == STORE_OK && pk.klen == klen &&
                !memcmp(pk.key, km, klen) && pk.vidlen == 4 && !memcmp(pk.vid, "null", 4)) {
                *seq = UINT64_MAX - store_get_u64be((const uint8_t *)k.mv_data + plen);
                break;
            }
        }
        mdb_cursor_close(cur);
    }
    store_read_end(st, txn);
    return e && e != MDB_NOTFOUND ? store_mdb_rc(e) : STORE_OK;
}

store_rc_t store_version_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                              const char *key_marker, const char *version_marker,
                              store_object_cb cb, void *arg)
{
    walk_t w;
    uint64_t seq = 0;
    store_rc_t rc = walk_init(&w, st, a, bucket, prefix, true);
    if (rc == STORE_OK)
        rc = bucket_exists(st, bucket);
    if (rc == STORE_OK && key_marker && key_marker[0]) {
        if (version_marker && version_marker[0])
            rc = version_marker_seq(st, bucket, key_marker, version_marker, &seq);
        if (rc == STORE_OK)
            rc = lo_raise(&w, key_marker, strlen(key_marker), seq);
    }
    if (rc == STORE_OK)
        rc = walk_run(&w, cb, arg);
    free(w.lo);
    return rc;
}
