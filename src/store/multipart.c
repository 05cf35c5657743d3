/* store/multipart.c: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * ListParts, ListMultipartUploads, CompleteMultipartUpload,
 * AbortMultipartUpload.
 *
 * States of an upload:
 *   (none) --store_upload_create--> OPEN
 *   OPEN   --store_upload_part_put--> OPEN    (a part added or replaced)
 *   OPEN   --store_upload_complete--> (none) (chosen parts' blob references
 *                                            move to the new version; the
 *                                            others are dropped)
 *   OPEN   --store_upload_abort--> (none)    (every part's reference dropped)
 * Bytes are never copied: completion concatenates segments by reference. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define UPLOAD_KEY_MAX (STORE_BUCKET_NAME_MAX + 1 + BLOB_ID_LEN)
#define PART_KEY_MAX (UPLOAD_KEY_MAX + 4)

static bool upload_id_ok(const char *id)
{
    return id && strnlen(id, BLOB_ID_LEN + 1) == BLOB_ID_LEN && blob_id_ok(id, BLOB_ID_LEN);
}

static size_t upload_key(uint8_t *out, const char *bucket, const char *upload_id)
{
    size_t n = rowkey_bucket_prefix(out, bucket);
    memcpy(out + n, upload_id, BLOB_ID_LEN);
    return n + BLOB_ID_LEN;
}

static size_t part_key(uint8_t *out, const char *bucket, const char *upload_id, uint32_t num)
{
    size_t n = upload_key(out, bucket, upload_id);
    out[n] = (uint8_t)(num >> 24);
    out[n + 1] = (uint8_t)(num >> 16);
    out[n + 2] = (uint8_t)(num >> 8);
    out[n + 3] = (uint8_t)num;
    return n + 4;
}

/* The upload row inside t: STORE_NOT_FOUND if gone. */
static store_rc_t upload_load(store_txn_t *t, arena_t *a, const char *bucket,
                              const char *upload_id, store_upload_t *out)
{
    uint8_t key[UPLOAD_KEY_MAX];
    MDB_val k = {upload_key(key, bucket, upload_id), key}, v;
    int e = mdb_get(t->txn, t->st->db[DB_UPLOADS], &k, &v);
    if (e)
        return store_txn_rc(t, e);
    if (!out)
        return STORE_OK;
    store_rc_t rc = rec_upload_decode(a, v.mv_data, v.mv_size, out);
    if (rc == STORE_OK)
        out->upload_id = upload_id;
    return rc;
}

/* ---- create / get ----------------------------------------------------- */

typedef struct {
    arena_t *a;
    const char *bucket;
    store_upload_t *up;
} create_arg_t;

static store_rc_t create_fn(store_txn_t *t, void *arg)
{
    create_arg_t *c = arg;
    store_bucket_t bk;
    uint8_t key[UPLOAD_KEY_MAX];
    uint64_t seq;
    buf_t enc;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);
    char *id = arena_alloc(c->a, BLOB_ID_LEN + 1);

    if (!scratch || !id) {
        arena_free(scratch);
        return STORE_NOMEM;
    }
    buf_init(&enc, REC_MAX_BYTES);
    if ((rc = bucket_load(t, scratch, c->bucket, &bk)) != STORE_OK)
        goto done;
    if ((rc = store_seq_next(t, &seq)) != STORE_OK)
        goto done;
    version_id_make(seq, id);
    rec_upload_encode(&enc, c->up);
    if (!buf_ok(&enc)) {
        rc = STORE_TOO_LARGE;
        goto done;
    }
    MDB_val k = {upload_key(key, c->bucket, id), key}, v = {enc.len, enc.data};
    if ((rc = store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_UPLOADS], &k, &v, 0))) != STORE_OK)
        goto done;
    c->up->upload_id = id;
done:
    buf_release(&enc);
    arena_free(scratch);
    return rc;
}

store_rc_t store_upload_create(store_t *st, arena_t *a, const char *bucket, store_upload_t *up)
{
    create_arg_t c = {a, bucket, up};
    if (!store_bucket_name_ok(bucket) || !up || !store_key_ok(up->key, up->key_len))
        return STORE_INVALID;
    return store_mutate(st, create_fn, &c);
}

store_rc_t store_upload_get(store_t *st, arena_t *a, const char *bucket, const char *upload_id,
                            store_upload_t *out)
{
    MDB_txn *txn;
    store_rc_t rc;
    if (!store_bucket_name_ok(bucket) || !upload_id_ok(upload_id))
        return STORE_NOT_FOUND;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    store_txn_t t = {.st = st, .txn = txn};
    rc = upload_load(&t, a, bucket, upload_id, out);
    if (rc == STORE_OK && !(out->upload_id = arena_strdup(a, upload_id)))
        rc = STORE_NOMEM;
    store_read_end(st, txn);
    return rc;
}

/* ---- parts ------------------------------------------------------------ */

typedef struct {
    const char *bucket, *upload_id;
    store_part_t part;
    bool fresh_blob; /* part.seg is a new blob (ref_new), else a shared range */
} part_arg_t;

static store_rc_t part_put_fn(store_txn_t *t, void *arg)
{
    part_arg_t *p = arg;
    uint8_t key[PART_KEY_MAX];
    buf_t enc;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);
    if (!scratch)
        return STORE_NOMEM;
    buf_init(&enc, REC_MAX_BYTES);

    if ((rc = upload_load(t, NULL, p->bucket, p->upload_id, NULL)) != STORE_OK)
        goto done;
    rc = p->fresh_blob ? ref_new(t, p->part.seg.blob_id) : ref_add(t, p->part.seg.blob_id);
    if (rc != STORE_OK)
        goto done;
    MDB_val k = {part_key(key, p->bucket, p->upload_id, p->part.part_number), key}, v;
    int e = mdb_get(t->txn, t->st->db[DB_PARTS], &k, &v);
    if (e == MDB_SUCCESS) {
        store_part_t old;
        memset(&old, 0, sizeof old);
        if ((rc = rec_part_decode(v.mv_data, v.mv_size, &old, scratch)) != STORE_OK ||
            (rc = ref_drop(t, old.seg.blob_id)) != STORE_OK)
            goto done;
    } else if (e != MDB_NOTFOUND) {
        rc = store_txn_rc(t, e);
        goto done;
    }
    rec_part_encode(&enc, &p->part);
    if (!buf_ok(&enc)) {
        rc = STORE_TOO_LARGE;
        goto done;
    }
    v.mv_size = enc.len;
    v.mv_data = enc.data;
    rc = store_txn_rc(t, mdb_put(t->txn, t->st->db[DB_PARTS], &k, &v, 0));
done:
    buf_release(&enc);
    arena_free(scratch);
    return rc;
}

store_rc_t store_upload_part_put(store_t *st, const char *bucket, const char *upload_id,
                                 const store_part_t *part, store_blob_t *blob)
{
    part_arg_t p;
    store_rc_t rc = STORE_INVALID;

    if (!store_bucket_name_ok(bucket) || !upload_id_ok(upload_id) || !part ||
        part->part_number < 1 || part->part_number > STORE_PART_MAX)
        goto done;
    p.bucket = bucket;
    p.upload_id = upload_id;
    p.part = *part;
    if (blob) {
        /* Parts are always files: completion references them by range. */
        if ((rc = blob_materialize(blob)) != STORE_OK)
            goto done;
        memcpy(p.part.seg.blob_id, blob_id(blob), BLOB_ID_LEN + 1);
        p.part.seg.offset = 0;
        p.part.seg.length = p.part.size = store_blob_size(blob);
        p.fresh_blob = true;
    } else {
        uint64_t end;
        if (!blob_id_ok(part->seg.blob_id, strnlen(part->seg.blob_id, BLOB_ID_LEN + 1)) ||
            __builtin_add_overflow(part->seg.offset, part->seg.length, &end))
            goto done;
        p.part.size = part->seg.length;
        p.fresh_blob = false;
    }
    rc = store_mutate(st, part_put_fn, &p);
done:
    blob_release(blob, rc == STORE_OK);
    return rc;
}

/* Every part of an upload, in number order, decoded into a. */
static store_rc_t parts_load(MDB_txn *txn, MDB_dbi dbi, arena_t *a, const char *bucket,
                             const char *upload_id, uint32_t after, uint32_t max,
                             store_part_t **out, size_t *n, bool *more)
{
    uint8_t pfx[PART_KEY_MAX];
    size_t plen = upload_key(pfx, bucket, upload_id);
    uint8_t start[PART_KEY_MAX];
    MDB_cursor *c;
    store_rc_t rc = STORE_OK;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    *more = false;
    if (after >= STORE_PART_MAX)
        return STORE_OK;
    int e = mdb_cursor_open(txn, dbi, &c);
    if (e)
        return store_mdb_rc(e);
    MDB_val k = {part_key(start, bucket, upload_id, after + 1), start}, v;
    for (e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !e;
         e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != plen + 4 || memcmp(k.mv_data, pfx, plen))
            break;
        if (*n == max) {
            *more = true;
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            if (cap > max)
                cap = max;
            store_part_t *p = arena_alloc(a, cap * sizeof *p);
            if (!p) {
                rc = STORE_NOMEM;
                break;
            }
            if (*n)
                memcpy(p, *out, *n * sizeof *p);
            *out = p;
        }
        store_part_t *pt = &(*out)[*n];
        memset(pt, 0, sizeof *pt);
        const uint8_t *kb = (const uint8_t *)k.mv_data + plen;
        pt->part_number = (uint32_t)kb[0] << 24 | (uint32_t)kb[1] << 16 | (uint32_t)kb[2] << 8 | kb[3];
        if (pt->part_number < 1 || pt->part_number > STORE_PART_MAX) {
            rc = STORE_CORRUPT;
            break;
        }
        if ((rc = rec_part_decode(v.mv_data, v.mv_size, pt, a)) != STORE_OK)
            break;
        (*n)++;
    }
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    mdb_cursor_close(c);
    return rc;
}

store_rc_t store_upload_parts(store_t *st, arena_t *a, const char *bucket, const char *upload_id,
                              uint32_t after, uint32_t max, store_part_t **parts, size_t *n,
                              bool *truncated)
{
    MDB_txn *txn;
    store_rc_t rc;
    if (!store_bucket_name_ok(bucket) || !upload_id_ok(upload_id))
        return STORE_NOT_FOUND;
    if (max > STORE_PART_MAX)
        max = STORE_PART_MAX;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    store_txn_t t = {.st = st, .txn = txn};
    if ((rc = upload_load(&t, NULL, bucket, upload_id, NULL)) == STORE_OK)
        rc = parts_load(txn, st->db[DB_PARTS], a, bucket, upload_id, after, max, parts, n,
                        truncated);
    store_read_end(st, txn);
    return rc;
}

/* Removes the upload row and every part row (references handled by the
 * caller). */
static store_rc_t upload_remove(store_txn_t *t, const char *bucket, const char *upload_id)
{
    uint8_t key[UPLOAD_KEY_MAX];
    size_t plen = upload_key(key, bucket, upload_id);
    MDB_val k = {plen, key}, v;
    MDB_cursor *c;
    int e = mdb_del(t->txn, t->st->db[DB_UPLOADS], &k, NULL);
    if (e)
        return store_txn_rc(t, e);
    if ((e = mdb_cursor_open(t->txn, t->st->db[DB_PARTS], &c)))
        return store_txn_rc(t, e);
    for (;;) {
        k.mv_size = plen;
        k.mv_data = key;
        if ((e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)))
            break;
        if (k.mv_size != plen + 4 || memcmp(k.mv_data, key, plen))
            break;
        if ((e = mdb_cursor_del(c, 0)))
            break;
    }
    mdb_cursor_close(c);
    return e && e != MDB_NOTFOUND ? store_txn_rc(t, e) : STORE_OK;
}

/* ---- abort ------------------------------------------------------------ */

typedef struct {
    const char *bucket, *upload_id;
} abort_arg_t;

static store_rc_t abort_fn(store_txn_t *t, void *arg)
{
    abort_arg_t *ab = arg;
    store_part_t *parts;
    size_t n;
    bool more;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);
    if (!scratch)
        return STORE_NOMEM;
    if ((rc = upload_load(t, NULL, ab->bucket, ab->upload_id, NULL)) != STORE_OK)
        goto done;
    if ((rc = parts_load(t->txn, t->st->db[DB_PARTS], scratch, ab->bucket, ab->upload_id, 0,
                         STORE_PART_MAX, &parts, &n, &more)) != STORE_OK)
        goto done;
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        rc = ref_drop(t, parts[i].seg.blob_id);
    if (rc == STORE_OK)
        rc = upload_remove(t, ab->bucket, ab->upload_id);
done:
    arena_free(scratch);
    return rc;
}

store_rc_t store_upload_abort(store_t *st, const char *bucket, const char *upload_id)
{
    abort_arg_t ab = {bucket, upload_id};
    if (!store_bucket_name_ok(bucket) || !upload_id_ok(upload_id))
        return STORE_NOT_FOUND;
    return store_mutate(st, abort_fn, &ab);
}

/* ---- complete --------------------------------------------------------- */

typedef struct {
    arena_t *a;
    const char *bucket, *upload_id;
    const uint32_t *nums;
    size_t n;
    const store_put_t *in;
    store_object_t *out;
} complete_arg_t;

/* The new version: the upload's metadata, the caller's completion fields,
 * the chosen parts' segments. */
static store_rc_t complete_row(arena_t *scratch, const complete_arg_t *c, const store_upload_t *up,
                               const store_part_t *parts, size_t nparts, store_object_t *row)
{
    const store_object_t *in = &c->in->obj;
    store_seg_t *segs = arena_alloc(scratch, c->n * sizeof *segs);
    uint64_t *sizes = arena_alloc(scratch, c->n * sizeof *sizes);
    const char **sums = arena_alloc(scratch, c->n * sizeof *sums);
    bool all_sums = true;
    uint64_t total = 0;
    size_t j = 0;

    if (!segs || !sizes || !sums)
        return STORE_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        /* Both lists ascend: one merge pass. */
        while (j < nparts && parts[j].part_number < c->nums[i])
            j++;
        if (j == nparts || parts[j].part_number != c->nums[i])
            return STORE_INVALID;
        segs[i] = parts[j].seg;
        sizes[i] = parts[j].size;
        sums[i] = parts[j].checksum_value;
        all_sums = all_sums && sums[i] && *sums[i];
        if (__builtin_add_overflow(total, parts[j].size, &total))
            return STORE_INVALID;
    }
    if (total != in->size)
        return STORE_INVALID;
    *row = up->meta;
    row->key = up->key;
    row->key_len = up->key_len;
    row->size = total;
    row->mtime_ms = in->mtime_ms;
    row->etag = in->etag;
    row->owner = in->owner ? in->owner : up->meta.owner;
    row->checksum_value = in->checksum_value;
    if (in->checksum_type)
        row->checksum_type = in->checksum_type;
    if (in->checksum_algo)
        row->checksum_algo = in->checksum_algo;
    if (in->parts_count) {
        if (in->parts_count != c->n)
            return STORE_INVALID;
        row->parts_count = in->parts_count;
        row->part_sizes = in->part_sizes;
    } else {
        row->parts_count = (uint32_t)c->n;
        row->part_sizes = sizes;
    }
    row->part_checksums = all_sums ? sums : NULL;
    row->segs = segs;
    row->nsegs = c->n;
    row->inline_data = NULL;
    row->inline_len = 0;
    row->delete_marker = false;
    return STORE_OK;
}

static store_rc_t complete_fn(store_txn_t *t, void *arg)
{
    complete_arg_t *c = arg;
    store_upload_t up;
    store_part_t *parts;
    store_object_t row;
    size_t nparts;
    bool more;
    buf_t enc;
    store_rc_t rc;
    arena_t *scratch = arena_new(0);

    if (!scratch)
        return STORE_NOMEM;
    buf_init(&enc, REC_MAX_BYTES);
    if ((rc = upload_load(t, scratch, c->bucket, c->upload_id, &up)) != STORE_OK)
        goto done;
    if ((rc = parts_load(t->txn, t->st->db[DB_PARTS], scratch, c->bucket, c->upload_id, 0,
                         STORE_PART_MAX, &parts, &nparts, &more)) != STORE_OK)
        goto done;
    if ((rc = complete_row(scratch, c, &up, parts, nparts, &row)) != STORE_OK)
        goto done;
    /* Chosen parts hand their reference to the version; the rest let go. */
    for (size_t i = 0, j = 0; i < nparts; i++) {
        while (j < c->n && c->nums[j] < parts[i].part_number)
            j++;
        if (j < c->n && c->nums[j] == parts[i].part_number)
            continue;
        if ((rc = ref_drop(t, parts[i].seg.blob_id)) != STORE_OK)
            goto done;
    }
    if ((rc = upload_remove(t, c->bucket, c->upload_id)) != STORE_OK)
        goto done;
    version_insert_t vi = {.bucket = c->bucket,
                           .if_match = c->in->if_match,
                           .if_none_match = c->in->if_none_match,
                           .now_ms = row.mtime_ms,
                           .journal_kind = STORE_JOURNAL_CREATE};
    if ((rc = version_insert(t, scratch, &vi, &row, &enc)) != STORE_OK)
        goto done;
    if (c->out) {
        if ((rc = rec_object_decode(c->a, enc.data, enc.len, c->out)) != STORE_OK)
            goto done;
        c->out->is_latest = true;
    }
done:
    buf_release(&enc);
    arena_free(scratch);
    return rc;
}

store_rc_t store_upload_complete(store_t *st, arena_t *a, const char *bucket,
                                 const char *upload_id, const uint32_t *part_numbers, size_t n,
                                 const store_put_t *in, store_object_t *out)
{
    complete_arg_t c = {a, bucket, upload_id, part_numbers, n, in, out};
    if (!store_bucket_name_ok(bucket) || !upload_id_ok(upload_id))
        return STORE_NOT_FOUND;
    if (!in || in->blob || in->copy_from || n == 0 || n > STORE_PART_MAX || !part_numbers)
        return STORE_INVALID;
    /* Strictly ascending: a part used twice would share one reference. */
    for (size_t i = 0; i < n; i++)
        if (part_numbers[i] < 1 || part_numbers[i] > STORE_PART_MAX ||
            (i && part_numbers[i] <= part_numbers[i - 1]))
            return STORE_INVALID;
    return store_mutate(st, complete_fn, &c);
}

/* ---- list ------------------------------------------------------------- */

static int upload_cmp(const void *pa, const void *pb)
{
    const store_upload_t *a = pa, *b = pb;
    size_t m = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, m);
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    if (a->initiated_ms != b->initiated_ms)
        return a->initiated_ms < b->initiated_ms ? -1 : 1;
    return strcmp(a->upload_id, b->upload_id);
}

/* In-progress uploads of a bucket are few; ListMultipartUploads reads them
 * all, sorts by (key, initiated, id) and filters: O(uploads log uploads). */
store_rc_t store_upload_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                             const char *key_marker, const char *upload_id_marker,
                             store_upload_cb cb, void *arg)
{
    uint8_t pfx[STORE_BUCKET_NAME_MAX + 1];
    size_t plen, n = 0, cap = 0, prelen = prefix ? strlen(prefix) : 0;
    store_upload_t *all = NULL;
    MDB_txn *txn;
    MDB_cursor *c;
    store_rc_t rc;
    int e;

    if (!store_bucket_name_ok(bucket))
        return STORE_NO_BUCKET;
    plen = rowkey_bucket_prefix(pfx, bucket);
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val k = mval(bucket, strlen(bucket)), v;
    if ((e = mdb_get(txn, st->db[DB_BUCKETS], &k, &v))) {
        store_read_end(st, txn);
        return e == MDB_NOTFOUND ? STORE_NO_BUCKET : store_mdb_rc(e);
    }
    if ((e = mdb_cursor_open(txn, st->db[DB_UPLOADS], &c))) {
        store_read_end(st, txn);
        return store_mdb_rc(e);
    }
    k.mv_size = plen;
    k.mv_data = pfx;
    for (e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !e;
         e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != plen + BLOB_ID_LEN || memcmp(k.mv_data, pfx, plen))
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            store_upload_t *p = realloc(all, cap * sizeof *p);
            if (!p) {
                rc = STORE_NOMEM;
                break;
            }
            all = p;
        }
        if ((rc = rec_upload_decode(a, v.mv_data, v.mv_size, &all[n])) != STORE_OK)
            break;
        if (!(all[n].upload_id = arena_strndup(a, (const char *)k.mv_data + plen, BLOB_ID_LEN))) {
            rc = STORE_NOMEM;
            break;
        }
        if (!prelen || (all[n].key_len >= prelen && memcmp(all[n].key, prefix, prelen) == 0))
            n++;
    }
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    mdb_cursor_close(c);
    store_read_end(st, txn);
    if (rc != STORE_OK) {
        free(all);
        return rc;
    }
    if (n)
        qsort(all, n, sizeof *all, upload_cmp);
    /* The marker upload's place: after it, or after the whole key. */
    const store_upload_t *mark = NULL;
    store_upload_t km = {.key = key_marker, .key_len = key_marker ? strlen(key_marker) : 0,
                         .initiated_ms = INT64_MAX, .upload_id = ""};
    if (key_marker && key_marker[0]) {
        mark = &km;
        for (size_t i = 0; upload_id_marker && upload_id_marker[0] && i < n; i++)
            if (strcmp(all[i].upload_id, upload_id_marker) == 0 &&
                all[i].key_len == km.key_len && !memcmp(all[i].key, key_marker, km.key_len))
                mark = &all[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (mark && upload_cmp(&all[i], mark) <= 0)
            continue;
        if (!cb(arg, &all[i]))
            break;
    }
    free(all);
    return STORE_OK;
}
