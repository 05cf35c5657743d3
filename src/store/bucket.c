/* store/bucket.c: CreateBucket, HeadBucket, DeleteBucket, ListBuckets,
 * PutBucketVersioning, and the per-bucket configuration documents. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define BCONF_NAME_MAX 64

static store_rc_t bucket_row_put(store_txn_t *t, const store_bucket_t *b, unsigned flags)
{
    buf_t enc;
    store_rc_t rc;
    buf_init(&enc, REC_MAX_BYTES);
    rec_bucket_encode(&enc, b);
    if (!buf_ok(&enc)) {
        buf_release(&enc);
        return STORE_TOO_LARGE;
    }
    MDB_val k = mval(b->name, strlen(b->name)), v = {enc.len, enc.data};
    int e = mdb_put(t->txn, t->st->db[DB_BUCKETS], &k, &v, flags);
    rc = e == MDB_KEYEXIST ? STORE_EXISTS : store_txn_rc(t, e);
    buf_release(&enc);
    return rc;
}

static store_rc_t create_fn(store_txn_t *t, void *arg)
{
    return bucket_row_put(t, arg, MDB_NOOVERWRITE);
}

store_rc_t store_bucket_create(store_t *st, const store_bucket_t *b)
{
    if (!b || !store_bucket_name_ok(b->name) || b->versioning > STORE_VERSIONING_SUSPENDED)
        return STORE_INVALID;
    return store_mutate(st, create_fn, (void *)(uintptr_t)b);
}

store_rc_t store_bucket_get(store_t *st, arena_t *a, const char *name, store_bucket_t *out)
{
    MDB_txn *txn;
    store_rc_t rc;
    if (!store_bucket_name_ok(name))
        return STORE_NO_BUCKET;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val k = mval(name, strlen(name)), v;
    int e = mdb_get(txn, st->db[DB_BUCKETS], &k, &v);
    if (e) {
        rc = e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_mdb_rc(e);
    } else {
        memset(out, 0, sizeof *out);
        rc = rec_bucket_decode(a, v.mv_data, v.mv_size, out);
        if (rc == STORE_OK && !(out->name = arena_strdup(a, name)))
            rc = STORE_NOMEM;
    }
    store_read_end(st, txn);
    return rc;
}

/* true if any row of `dbi` starts with B '\0'. */
static store_rc_t any_with_prefix(store_txn_t *t, MDB_dbi dbi, const uint8_t *pfx, size_t plen,
                                  bool *any)
{
    MDB_cursor *c;
    MDB_val k = mval(pfx, plen), v;
    int e = mdb_cursor_open(t->txn, dbi, &c);
    if (e)
        return store_txn_rc(t, e);
    e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    *any = !e && k.mv_size >= plen && memcmp(k.mv_data, pfx, plen) == 0;
    mdb_cursor_close(c);
    return e && e != MDB_NOTFOUND ? store_txn_rc(t, e) : STORE_OK;
}

static store_rc_t delete_fn(store_txn_t *t, void *arg)
{
    const char *name = arg;
    uint8_t pfx[STORE_BUCKET_NAME_MAX + 1];
    size_t plen = rowkey_bucket_prefix(pfx, name);
    MDB_val k = mval(name, strlen(name)), v;
    store_rc_t rc;
    bool any;

    int e = mdb_get(t->txn, t->st->db[DB_BUCKETS], &k, &v);
    if (e)
        return e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_txn_rc(t, e);
    /* Versions, delete markers and uploads all keep a bucket alive. */
    if ((rc = any_with_prefix(t, t->st->db[DB_OBJECTS], pfx, plen, &any)) != STORE_OK)
        return rc;
    if (!any && (rc = any_with_prefix(t, t->st->db[DB_UPLOADS], pfx, plen, &any)) != STORE_OK)
        return rc;
    if (any)
        return STORE_NOT_EMPTY;
    /* Configuration documents go with the bucket. */
    MDB_cursor *c;
    if ((e = mdb_cursor_open(t->txn, t->st->db[DB_BCONF], &c)))
        return store_txn_rc(t, e);
    MDB_val ck, cv;
    for (;;) { /* a bucket has a handful: re-seek after each delete */
        ck.mv_size = plen;
        ck.mv_data = pfx;
        if ((e = mdb_cursor_get(c, &ck, &cv, MDB_SET_RANGE)))
            break;
        if (ck.mv_size < plen || memcmp(ck.mv_data, pfx, plen))
            break;
        if ((e = mdb_cursor_del(c, 0)))
            break;
    }
    mdb_cursor_close(c);
    if (e && e != MDB_NOTFOUND)
        return store_txn_rc(t, e);
    return store_txn_rc(t, mdb_del(t->txn, t->st->db[DB_BUCKETS], &k, NULL));
}

store_rc_t store_bucket_delete(store_t *st, const char *name)
{
    if (!store_bucket_name_ok(name))
        return STORE_NO_BUCKET;
    return store_mutate(st, delete_fn, (void *)(uintptr_t)name);
}

typedef struct {
    const char *name;
    store_versioning_t v;
} vers_arg_t;

static store_rc_t versioning_fn(store_txn_t *t, void *arg)
{
    vers_arg_t *va = arg;
    store_bucket_t b;
    arena_t *a = arena_new(0);
    store_rc_t rc = STORE_NOMEM;
    if (!a)
        return rc;
    if ((rc = bucket_load(t, a, va->name, &b)) != STORE_OK)
        goto done;
    if (va->v == STORE_VERSIONING_OFF && b.versioning != STORE_VERSIONING_OFF) {
        rc = STORE_INVALID;
        goto done;
    }
    b.versioning = va->v;
    rc = bucket_row_put(t, &b, 0);
done:
    arena_free(a);
    return rc;
}

store_rc_t store_bucket_set_versioning(store_t *st, const char *name, store_versioning_t v)
{
    vers_arg_t va = {name, v};
    if (!store_bucket_name_ok(name))
        return STORE_NO_BUCKET;
    if (v > STORE_VERSIONING_SUSPENDED)
        return STORE_INVALID;
    return store_mutate(st, versioning_fn, &va);
}

/* Buckets are few (thousands): collect them all in one read txn, then call
 * back outside it. */
store_rc_t store_bucket_list(store_t *st, arena_t *a, const char *start_after, store_bucket_cb cb,
                             void *arg)
{
    MDB_txn *txn;
    MDB_cursor *c;
    store_bucket_t *all = NULL;
    size_t n = 0, cap = 0;
    store_rc_t rc;
    int e;

    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    if ((e = mdb_cursor_open(txn, st->db[DB_BUCKETS], &c))) {
        store_read_end(st, txn);
        return store_mdb_rc(e);
    }
    MDB_val k = {0, NULL}, v;
    MDB_cursor_op op = MDB_FIRST;
    if (start_after && start_after[0]) {
        k.mv_size = strlen(start_after);
        k.mv_data = mval(start_after, 0).mv_data;
        op = MDB_SET_RANGE;
    }
    for (e = mdb_cursor_get(c, &k, &v, op); !e; e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (op == MDB_SET_RANGE && k.mv_size == strlen(start_after) &&
            memcmp(k.mv_data, start_after, k.mv_size) == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            store_bucket_t *p = realloc(all, cap * sizeof *all);
            if (!p) {
                rc = STORE_NOMEM;
                break;
            }
            all = p;
        }
        memset(&all[n], 0, sizeof all[n]);
        if ((rc = rec_bucket_decode(a, v.mv_data, v.mv_size, &all[n])) != STORE_OK)
            break;
        if (!(all[n].name = arena_strndup(a, k.mv_data, k.mv_size))) {
            rc = STORE_NOMEM;
            break;
        }
        n++;
    }
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    mdb_cursor_close(c);
    store_read_end(st, txn);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        if (!cb(arg, &all[i]))
            break;
    free(all);
    return rc;
}

/* ---- configuration documents ------------------------------------------ */

static size_t conf_key(uint8_t *out, const char *bucket, const char *name)
{
    size_t n = rowkey_bucket_prefix(out, bucket);
    size_t nl = strlen(name);
    memcpy(out + n, name, nl);
    return n + nl;
}

static bool conf_name_ok(const char *name)
{
    size_t n = name ? strnlen(name, BCONF_NAME_MAX + 1) : 0;
    return n >= 1 && n <= BCONF_NAME_MAX;
}

typedef struct {
    const char *bucket, *name;
    const void *doc;
    size_t len;
} conf_arg_t;

static store_rc_t conf_put_fn(store_txn_t *t, void *arg)
{
    conf_arg_t *c = arg;
    uint8_t key[STORE_BUCKET_NAME_MAX + 1 + BCONF_NAME_MAX];
    MDB_val bk = mval(c->bucket, strlen(c->bucket)), bv;
    int e = mdb_get(t->txn, t->st->db[DB_BUCKETS], &bk, &bv);
    if (e)
        return e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_txn_rc(t, e);
    MDB_val k = {conf_key(key, c->bucket, c->name), key};
    if (!c->doc) {
        e = mdb_del(t->txn, t->st->db[DB_BCONF], &k, NULL);
        return store_txn_rc(t, e);
    }
    MDB_val v = mval(c->doc, c->len);
    return store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_BCONF], &k, &v, 0));
}

store_rc_t store_bucket_conf_put(store_t *st, const char *bucket, const char *name,
                                 const void *doc, size_t len)
{
    conf_arg_t c = {bucket, name, doc, len};
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    if (!conf_name_ok(name) || len > REC_MAX_BYTES)
        return STORE_INVALID;
    return store_mutate(st, conf_put_fn, &c);
}

store_rc_t store_bucket_conf_get(store_t *st, arena_t *a, const char *bucket, const char *name,
                                 char **doc, size_t *len)
{
    uint8_t key[STORE_BUCKET_NAME_MAX + 1 + BCONF_NAME_MAX];
    MDB_txn *txn;
    store_rc_t rc;
    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    if (!conf_name_ok(name))
        return STORE_INVALID;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val bk = mval(bucket, strlen(bucket)), k = {conf_key(key, bucket, name), key}, v;
    int e = mdb_get(txn, st->db[DB_BUCKETS], &bk, &v);
    if (e) {
        rc = e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_mdb_rc(e);
    } else if ((e = mdb_get(txn, st->db[DB_BCONF], &k, &v))) {
        rc = store_mdb_rc(e);
    } else {
        /* +1: a NUL after the bytes, so text documents read as C strings. */
        *doc = arena_memdup(a, v.mv_data, v.mv_size);
        *len = v.mv_size;
        rc = *doc ? STORE_OK : STORE_NOMEM;
    }
    store_read_end(st, txn);
    return rc;
}
