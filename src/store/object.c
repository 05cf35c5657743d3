/* store/object.c: PutObject / CopyObject (store_object_put), GetObject and
 * HeadObject (store_object_get), DeleteObject (store_object_delete),
 * PutObjectTagging / Retention / LegalHold (store_object_update).
 *
 * S3 versioning model (S3 User Guide, "Working with objects in a
 * versioning-enabled bucket" and "...versioning-suspended bucket"):
 *   enabled    every put and every plain delete adds a version with a fresh id
 *   off        the key has at most the "null" version, replaced in place
 *   suspended  puts and plain deletes replace the "null" version (object or
 *              marker) in place; versions from the enabled era stay
 * "In place" means the old null row is removed and the new one is the newest
 * row of the key (it becomes the latest, as S3 does). */
#include "store/store_int.h"

#include "util/log.h"

#include <stdlib.h>
#include <string.h>

/* ---- finding rows of one key ------------------------------------------ */

typedef struct {
    MDB_cursor *cur;
    uint8_t pfx[ROWKEY_MAX];
    size_t plen;
    const char *key;
    size_t klen;
    bool started;
    MDB_val k, v;
} keyrows_t;

static store_rc_t keyrows_open(MDB_txn *txn, MDB_dbi dbi, keyrows_t *it, const char *bucket,
                               const char *key, size_t klen)
{
    memset(it, 0, sizeof *it);
    it->plen = rowkey_key_prefix(it->pfx, bucket, key, klen);
    it->key = key;
    it->klen = klen;
    return store_mdb_rc(mdb_cursor_open(txn, dbi, &it->cur));
}

static void keyrows_close(keyrows_t *it)
{
    if (it->cur)
        mdb_cursor_close(it->cur);
    it->cur = NULL;
}

/* Next row of the key, newest first: STORE_OK (it->k, it->v), STORE_NOT_FOUND
 * past the last. Long keys skip rows of other keys sharing the hash. */
static store_rc_t keyrows_next(keyrows_t *it)
{
    int e;
    if (!it->started) {
        it->k.mv_data = it->pfx;
        it->k.mv_size = it->plen;
        e = mdb_cursor_get(it->cur, &it->k, &it->v, MDB_SET_RANGE);
        it->started = true;
    } else {
        e = mdb_cursor_get(it->cur, &it->k, &it->v, MDB_NEXT);
    }
    for (;;) {
        if (e)
            return store_mdb_rc(e);
        if (it->k.mv_size != it->plen + 8 || memcmp(it->k.mv_data, it->pfx, it->plen))
            return STORE_NOT_FOUND;
        if (it->klen <= ROWKEY_HEAD)
            return STORE_OK;
        rec_peek_t pk;
        if (rec_object_peek(it->v.mv_data, it->v.mv_size, &pk) != STORE_OK)
            return STORE_CORRUPT;
        if (pk.klen == it->klen && memcmp(pk.key, it->key, it->klen) == 0)
            return STORE_OK;
        e = mdb_cursor_get(it->cur, &it->k, &it->v, MDB_NEXT);
    }
}

/* One located version: its row key (copied) and value (LMDB memory, valid
 * until the txn changes). */
typedef struct {
    uint8_t rk[ROWKEY_MAX];
    size_t rklen;
    MDB_val val;
    bool is_latest;
} found_t;

static void found_set(found_t *f, const keyrows_t *it)
{
    memcpy(f->rk, it->k.mv_data, it->k.mv_size);
    f->rklen = it->k.mv_size;
    f->val = it->v;
}

/* vid NULL: the latest; "null": the null version; else the issued id.
 * STORE_NOT_FOUND, STORE_INVALID (malformed id), STORE_CORRUPT. */
static store_rc_t version_find(MDB_txn *txn, store_t *st, const char *bucket, const char *key,
                               size_t klen, const char *vid, found_t *out)
{
    keyrows_t it;
    store_rc_t rc;
    uint64_t seq = 0;
    bool want_null = vid && strcmp(vid, "null") == 0;

    if (vid && !want_null && !version_id_seq(vid, &seq))
        return STORE_INVALID;
    if ((rc = keyrows_open(txn, st->db[DB_OBJECTS], &it, bucket, key, klen)) != STORE_OK)
        return rc;
    rc = keyrows_next(&it);
    if (rc != STORE_OK || !vid) { /* the first row is the latest */
        if (rc == STORE_OK) {
            found_set(out, &it);
            out->is_latest = true;
        }
        goto done;
    }
    out->is_latest = true;
    for (; rc == STORE_OK; rc = keyrows_next(&it), out->is_latest = false) {
        if (want_null) {
            rec_peek_t pk;
            if ((rc = rec_object_peek(it.v.mv_data, it.v.mv_size, &pk)) != STORE_OK)
                break;
            if (pk.vidlen == 4 && memcmp(pk.vid, "null", 4) == 0)
                break;
        } else {
            uint64_t rseq = UINT64_MAX - store_get_u64be((const uint8_t *)it.k.mv_data +
                                                         it.k.mv_size - 8);
            if (rseq < seq) {
                rc = STORE_NOT_FOUND; /* newest first: it is not there */
                break;
            }
            if (rseq == seq) {
                rec_peek_t pk;
                if ((rc = rec_object_peek(it.v.mv_data, it.v.mv_size, &pk)) != STORE_OK)
                    break;
                if (pk.vidlen != BLOB_ID_LEN || memcmp(pk.vid, vid, BLOB_ID_LEN))
                    rc = STORE_NOT_FOUND;
                break;
            }
        }
    }
    if (rc == STORE_OK)
        found_set(out, &it);
done:
    keyrows_close(&it);
    return rc;
}

/* Decodes a found row and checks it belongs to `key` (a row whose record
 * names another key is corruption, not a miss). */
static store_rc_t found_decode(arena_t *a, const found_t *f, const char *key, size_t klen,
                               store_object_t *out)
{
    store_rc_t rc = rec_object_decode(a, f->val.mv_data, f->val.mv_size, out);
    if (rc != STORE_OK)
        return rc;
    if (out->key_len != klen || memcmp(out->key, key, klen))
        return STORE_CORRUPT;
    out->is_latest = f->is_latest;
    return STORE_OK;
}

bool version_locked(const store_object_t *o, bool bypass_governance, int64_t now_ms)
{
    if (o->delete_marker)
        return false;
    if (o->legal_hold)
        return true;
    if (!o->lock_mode || o->lock_until_ms <= now_ms)
        return false;
    if (strcmp(o->lock_mode, "COMPLIANCE") == 0)
        return true;
    return !bypass_governance;
}

store_rc_t bucket_load(store_txn_t *t, arena_t *a, const char *bucket, store_bucket_t *out)
{
    MDB_val k = mval(bucket, strlen(bucket)), v;
    int e = mdb_get(t->txn, t->st->db[DB_BUCKETS], &k, &v);
    if (e == MDB_NOTFOUND)
        return STORE_NO_BUCKET;
    if (e)
        return store_txn_rc(t, e);
    memset(out, 0, sizeof *out);
    store_rc_t rc = rec_bucket_decode(a, v.mv_data, v.mv_size, out);
    out->name = bucket;
    return rc;
}

/* Removes a found row and drops its blob references. */
static store_rc_t row_remove(store_txn_t *t, const found_t *f, const store_object_t *o)
{
    MDB_val k = mval(f->rk, f->rklen);
    int e = mdb_del(t->txn, t->st->db[DB_OBJECTS], &k, NULL);
    if (e)
        return store_txn_rc(t, e);
    return ref_drop_object(t, o);
}

/* Encodes `row` into enc and stores it as (bucket, key, seq). */
static store_rc_t row_write(store_txn_t *t, const char *bucket, uint64_t seq,
                            const store_object_t *row, buf_t *enc)
{
    uint8_t rk[ROWKEY_MAX];
    buf_reset(enc);
    rec_object_encode(enc, row);
    if (!buf_ok(enc))
        return STORE_TOO_LARGE;
    MDB_val k = {rowkey_object(rk, bucket, row->key, row->key_len, seq), rk};
    MDB_val v = {enc->len, enc->data};
    return store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_OBJECTS], &k, &v, 0));
}

/* The If-Match / If-None-Match rules of a conditional write, against the
 * current object (the latest version unless it is a delete marker). */
static store_rc_t check_conditions(store_txn_t *t, arena_t *scratch, const version_insert_t *vi,
                                   const char *key, size_t klen)
{
    found_t f;
    store_object_t cur;
    store_rc_t rc;

    if (!vi->if_match && !vi->if_none_match)
        return STORE_OK;
    rc = version_find(t->txn, t->st, vi->bucket, key, klen, NULL, &f);
    if (rc == STORE_OK) {
        if ((rc = found_decode(scratch, &f, key, klen, &cur)) != STORE_OK)
            return rc;
        if (cur.delete_marker)
            rc = STORE_NOT_FOUND;
    }
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return rc;
    bool exists = rc == STORE_OK;
    if (vi->if_none_match && exists)
        return STORE_PRECONDITION;
    if (vi->if_match) {
        if (!exists)
            return STORE_NOT_FOUND;
        if (strcmp(vi->if_match, "*") != 0 && (!cur.etag || strcmp(cur.etag, vi->if_match)))
            return STORE_PRECONDITION;
    }
    return STORE_OK;
}

store_rc_t version_insert(store_txn_t *t, arena_t *scratch, const version_insert_t *vi,
                          store_object_t *row, buf_t *enc)
{
    store_bucket_t bk;
    store_rc_t rc;
    uint64_t seq;

    if ((rc = bucket_load(t, scratch, vi->bucket, &bk)) != STORE_OK)
        return rc;
    if ((rc = check_conditions(t, scratch, vi, row->key, row->key_len)) != STORE_OK)
        return rc;
    if ((rc = store_seq_next(t, &seq)) != STORE_OK)
        return rc;
    if (bk.versioning == STORE_VERSIONING_ENABLED) {
        char *vid = arena_alloc(scratch, BLOB_ID_LEN + 1);
        if (!vid)
            return STORE_NOMEM;
        version_id_make(seq, vid);
        row->version_id = vid;
    } else {
        found_t f;
        store_object_t old;
        row->version_id = "null";
        rc = version_find(t->txn, t->st, vi->bucket, row->key, row->key_len, "null", &f);
        if (rc == STORE_OK) {
            if ((rc = found_decode(scratch, &f, row->key, row->key_len, &old)) != STORE_OK)
                return rc;
            if (version_locked(&old, false, vi->now_ms))
                return STORE_LOCKED;
            rc = row_remove(t, &f, &old);
        }
        if (rc != STORE_OK && rc != STORE_NOT_FOUND)
            return rc;
    }
    if ((rc = row_write(t, vi->bucket, seq, row, enc)) != STORE_OK)
        return rc;
    return store_journal_append(t, (store_journal_kind_t)vi->journal_kind, vi->bucket, row);
}

/* ---- put -------------------------------------------------------------- */

typedef struct {
    arena_t *a;
    const store_put_t *in;
    store_blob_t *blob;
    store_object_t *out;
} put_arg_t;

static store_rc_t put_fn(store_txn_t *t, void *arg)
{
    put_arg_t *p = arg;
    const store_put_t *in = p->in;
    store_object_t row = in->obj;
    store_seg_t seg;
    store_rc_t rc = STORE_NOMEM;
    buf_t enc;
    arena_t *scratch = arena_new(0);

    buf_init(&enc, REC_MAX_BYTES);
    if (!scratch)
        goto fail;
    row.delete_marker = false;
    row.is_latest = false;
    row.inline_data = NULL;
    row.inline_len = 0;
    row.segs = NULL;
    row.nsegs = 0;
    if (p->blob && blob_is_file(p->blob)) {
        memcpy(seg.blob_id, blob_id(p->blob), BLOB_ID_LEN + 1);
        seg.offset = 0;
        seg.length = store_blob_size(p->blob);
        row.segs = &seg;
        row.nsegs = 1;
        if ((rc = ref_new(t, seg.blob_id)) != STORE_OK)
            goto fail;
    } else if (p->blob) {
        row.inline_data = blob_mem(p->blob, &row.inline_len);
    } else if (in->copy_from) {
        /* Share the source's blobs: bytes are immutable, so a reference is
         * a copy. Added before the null version is replaced, so copying a
         * key onto itself never drops the blob to zero. */
        row.inline_data = in->copy_from->inline_data;
        row.inline_len = in->copy_from->inline_len;
        row.segs = in->copy_from->segs;
        row.nsegs = in->copy_from->nsegs;
        for (size_t i = 0; i < row.nsegs; i++)
            if ((rc = ref_add(t, row.segs[i].blob_id)) != STORE_OK)
                goto fail;
    }
    version_insert_t vi = {.bucket = in->bucket,
                           .if_match = in->if_match,
                           .if_none_match = in->if_none_match,
                           .now_ms = row.mtime_ms,
                           .journal_kind = STORE_JOURNAL_CREATE};
    if ((rc = version_insert(t, scratch, &vi, &row, &enc)) != STORE_OK)
        goto fail;
    if (p->out) {
        if ((rc = rec_object_decode(p->a, enc.data, enc.len, p->out)) != STORE_OK)
            goto fail;
        p->out->is_latest = true;
    }
    rc = STORE_OK;
fail:
    buf_release(&enc);
    arena_free(scratch);
    return rc;
}

/* The bytes a put references must add up to obj.size. */
static store_rc_t put_check(const store_put_t *in)
{
    if (!in || !store_bucket_name_ok(in->bucket) || !store_key_ok(in->obj.key, in->obj.key_len))
        return STORE_INVALID;
    if (in->blob && in->copy_from)
        return STORE_INVALID;
    if (in->blob)
        return blob_finished(in->blob) && store_blob_size(in->blob) == in->obj.size
                   ? STORE_OK
                   : STORE_INVALID;
    if (in->copy_from) {
        const store_object_t *c = in->copy_from;
        uint64_t sum = c->inline_len;
        if (c->delete_marker || (c->inline_len && c->nsegs))
            return STORE_INVALID;
        for (size_t i = 0; i < c->nsegs; i++) {
            if (!blob_id_ok(c->segs[i].blob_id, strnlen(c->segs[i].blob_id, BLOB_ID_LEN + 1)) ||
                __builtin_add_overflow(sum, c->segs[i].length, &sum))
                return STORE_INVALID;
        }
        return sum == in->obj.size ? STORE_OK : STORE_INVALID;
    }
    return in->obj.size == 0 ? STORE_OK : STORE_INVALID;
}

store_rc_t store_object_put(store_t *st, arena_t *a, const store_put_t *in, store_object_t *out)
{
    store_blob_t *blob = in ? in->blob : NULL;
    put_arg_t p = {.a = a, .in = in, .blob = blob, .out = out};
    store_rc_t rc = put_check(in);
    if (rc == STORE_OK)
        rc = store_mutate(st, put_fn, &p);
    blob_release(blob, rc == STORE_OK);
    return rc;
}

/* ---- get -------------------------------------------------------------- */

store_rc_t store_object_get(store_t *st, arena_t *a, const char *bucket, const char *key,
                            size_t key_len, const char *version_id, store_object_t *out)
{
    MDB_txn *txn;
    found_t f;
    store_rc_t rc;

    if (!store_bucket_name_ok(bucket) || !store_key_ok(key, key_len))
        return STORE_INVALID;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val k = mval(bucket, strlen(bucket)), v;
    int e = mdb_get(txn, st->db[DB_BUCKETS], &k, &v);
    if (e) {
        rc = e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_mdb_rc(e);
        goto done;
    }
    if ((rc = version_find(txn, st, bucket, key, key_len, version_id, &f)) == STORE_OK)
        rc = found_decode(a, &f, key, key_len, out);
done:
    store_read_end(st, txn);
    return rc;
}

/* ---- delete ----------------------------------------------------------- */

typedef struct {
    arena_t *a;
    const char *bucket, *key, *version_id;
    size_t klen;
    bool bypass;
    int64_t now_ms;
    store_delete_result_t *out;
} del_arg_t;

/* Finds, lock-checks and removes one version; NOT_FOUND if absent. */
static store_rc_t remove_version(store_txn_t *t, arena_t *scratch, const del_arg_t *d,
                                 const char *vid, bool *was_marker)
{
    found_t f;
    store_object_t o;
    store_rc_t rc = version_find(t->txn, t->st, d->bucket, d->key, d->klen, vid, &f);
    if (rc != STORE_OK)
        return rc;
    if ((rc = found_decode(scratch, &f, d->key, d->klen, &o)) != STORE_OK)
        return rc;
    if (version_locked(&o, d->bypass, d->now_ms))
        return STORE_LOCKED;
    if ((rc = row_remove(t, &f, &o)) != STORE_OK)
        return rc;
    *was_marker = o.delete_marker;
    return store_journal_append(t, STORE_JOURNAL_DELETE, d->bucket, &o);
}

static store_rc_t add_marker(store_txn_t *t, arena_t *scratch, const del_arg_t *d,
                             bool versioned)
{
    store_object_t row;
    buf_t enc;
    uint64_t seq;
    store_rc_t rc;

    if ((rc = store_seq_next(t, &seq)) != STORE_OK)
        return rc;
    memset(&row, 0, sizeof row);
    row.key = d->key;
    row.key_len = d->klen;
    row.delete_marker = true;
    row.mtime_ms = d->now_ms;
    row.version_id = "null";
    if (versioned) {
        char *vid = arena_alloc(scratch, BLOB_ID_LEN + 1);
        if (!vid)
            return STORE_NOMEM;
        version_id_make(seq, vid);
        row.version_id = vid;
    }
    buf_init(&enc, REC_MAX_BYTES);
    rc = row_write(t, d->bucket, seq, &row, &enc);
    buf_release(&enc);
    if (rc == STORE_OK)
        rc = store_journal_append(t, STORE_JOURNAL_DELETE_MARKER, d->bucket, &row);
    if (rc == STORE_OK) {
        d->out->delete_marker = true;
        d->out->version_id = arena_strdup(d->a, row.version_id);
        if (!d->out->version_id)
            rc = STORE_NOMEM;
    }
    return rc;
}

static store_rc_t delete_fn(store_txn_t *t, void *arg)
{
    del_arg_t *d = arg;
    store_bucket_t bk;
    bool was_marker = false;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);

    if (!scratch)
        return STORE_NOMEM;
    memset(d->out, 0, sizeof *d->out);
    if ((rc = bucket_load(t, scratch, d->bucket, &bk)) != STORE_OK)
        goto done;
    if (d->version_id) {
        rc = remove_version(t, scratch, d, d->version_id, &was_marker);
        if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
            d->out->delete_marker = rc == STORE_OK && was_marker;
            d->out->version_id = arena_strdup(d->a, d->version_id);
            rc = d->out->version_id ? STORE_OK : STORE_NOMEM;
        }
        goto done;
    }
    if (bk.versioning == STORE_VERSIONING_ENABLED) {
        rc = add_marker(t, scratch, d, true);
        goto done;
    }
    rc = remove_version(t, scratch, d, "null", &was_marker);
    if (rc == STORE_NOT_FOUND)
        rc = STORE_OK;
    if (rc == STORE_OK && bk.versioning == STORE_VERSIONING_SUSPENDED)
        rc = add_marker(t, scratch, d, false);
    else if (rc == STORE_OK)
        d->out->delete_marker = was_marker;
done:
    arena_free(scratch);
    return rc;
}

store_rc_t store_object_delete(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, bool bypass_governance,
                               int64_t now_ms, store_delete_result_t *out)
{
    uint64_t seq;
    store_delete_result_t ignored;
    del_arg_t d = {.a = a, .bucket = bucket, .key = key, .klen = key_len,
                   .version_id = version_id, .bypass = bypass_governance, .now_ms = now_ms,
                   .out = out ? out : &ignored};
    if (!store_bucket_name_ok(bucket) || !store_key_ok(key, key_len))
        return STORE_INVALID;
    if (version_id && strcmp(version_id, "null") != 0 && !version_id_seq(version_id, &seq))
        return STORE_INVALID;
    return store_mutate(st, delete_fn, &d);
}

/* ---- update ----------------------------------------------------------- */

typedef struct {
    arena_t *a;
    const char *bucket, *key, *version_id;
    size_t klen;
    unsigned update;
    const store_object_t *fields;
    store_object_t *out;
} upd_arg_t;

static store_rc_t update_fn(store_txn_t *t, void *arg)
{
    upd_arg_t *u = arg;
    store_bucket_t bk;
    found_t f;
    store_object_t o;
    buf_t enc;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);

    if (!scratch)
        return STORE_NOMEM;
    buf_init(&enc, REC_MAX_BYTES);
    if ((rc = bucket_load(t, scratch, u->bucket, &bk)) != STORE_OK)
        goto done;
    if ((rc = version_find(t->txn, t->st, u->bucket, u->key, u->klen, u->version_id, &f)) !=
        STORE_OK)
        goto done;
    if ((rc = found_decode(scratch, &f, u->key, u->klen, &o)) != STORE_OK)
        goto done;
    if (o.delete_marker) {
        rc = u->version_id ? STORE_INVALID : STORE_NOT_FOUND;
        goto done;
    }
    if (u->update & STORE_UPD_TAGS) {
        o.tags = u->fields->tags;
        o.ntags = u->fields->ntags;
    }
    if (u->update & STORE_UPD_LOCK) {
        o.lock_mode = u->fields->lock_mode;
        o.lock_until_ms = u->fields->lock_mode ? u->fields->lock_until_ms : 0;
    }
    if (u->update & STORE_UPD_LEGAL_HOLD)
        o.legal_hold = u->fields->legal_hold;
    if (u->update & STORE_UPD_STORAGE_CLASS)
        o.storage_class = u->fields->storage_class;
    rec_object_encode(&enc, &o);
    if (!buf_ok(&enc)) {
        rc = STORE_TOO_LARGE;
        goto done;
    }
    MDB_val k = {f.rklen, f.rk}, v = {enc.len, enc.data};
    if ((rc = store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_OBJECTS], &k, &v, 0))) != STORE_OK)
        goto done;
    rc = store_journal_append(t,
                              u->update & STORE_UPD_TAGS            ? STORE_JOURNAL_UPDATE_TAGS
                              : u->update & STORE_UPD_STORAGE_CLASS ? STORE_JOURNAL_UPDATE_CLASS
                                                                    : STORE_JOURNAL_UPDATE_LOCK,
                              u->bucket, &o);
    if (rc == STORE_OK && u->out) {
        rc = rec_object_decode(u->a, enc.data, enc.len, u->out);
        u->out->is_latest = f.is_latest;
    }
done:
    buf_release(&enc);
    arena_free(scratch);
    return rc;
}

store_rc_t store_object_update(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, unsigned update,
                               const store_object_t *fields, store_object_t *out)
{
    uint64_t seq;
    upd_arg_t u = {.a = a, .bucket = bucket, .key = key, .klen = key_len,
                   .version_id = version_id, .update = update, .fields = fields, .out = out};
    if (!store_bucket_name_ok(bucket) || !store_key_ok(key, key_len) || !fields ||
        !(update & (STORE_UPD_TAGS | STORE_UPD_LOCK | STORE_UPD_LEGAL_HOLD |
                    STORE_UPD_STORAGE_CLASS)))
        return STORE_INVALID;
    if ((update & STORE_UPD_STORAGE_CLASS) && (!fields->storage_class || !*fields->storage_class))
        return STORE_INVALID;
    if (fields->lock_mode && strcmp(fields->lock_mode, "GOVERNANCE") != 0 &&
        strcmp(fields->lock_mode, "COMPLIANCE") != 0)
        return STORE_INVALID;
    if (version_id && strcmp(version_id, "null") != 0 && !version_id_seq(version_id, &seq))
        return STORE_INVALID;
    return store_mutate(st, update_fn, &u);
}
