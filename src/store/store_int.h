/* store/store_int.h: shared inside store/, included by nobody else.
 *
 * Sub-databases of DATA/kura.mdb (all keys are byte strings compared with
 * memcmp; B = bucket name, never contains NUL, 1..STORE_BUCKET_NAME_MAX bytes):
 *
 *   meta     "format" -> u32 BE format number; "seq" -> u64 BE, the last
 *            sequence number handed out (versions, uploads). Bumped inside the
 *            mutation's transaction, so an aborted mutation leaves no gap and
 *            a number is never reused.
 *   buckets  B -> bucket record (rec_bucket_*)
 *   bconf    B '\0' name -> opaque document bytes
 *   objects  object row key (below) -> object record (rec_object_*)
 *   uploads  B '\0' upload_id(32 hex) -> upload record (rec_upload_*)
 *   parts    B '\0' upload_id(32 hex) part_number(u32 BE) -> part record
 *   refs     blob_id(32 hex) -> u64 BE refcount (>= 1; a row at 0 is deleted)
 *   (journal queue, catalog, vaults ... are opened by later issues; the env
 *   reserves STORE_MAX_DBS handles)
 *
 * Object row keys. LMDB limits a key to 511 bytes but object keys reach 1024,
 * so a key has two shapes, chosen by its length:
 *   short (key_len <= ROWKEY_HEAD):  B '\0' key '\0' inv_seq(8)
 *   long  (key_len >  ROWKEY_HEAD):  B '\0' key[0:HEAD] '\1' hash(key)(8) inv_seq(8)
 * inv_seq = UINT64_MAX - seq, big-endian: versions of a key sort newest first.
 * Because keys never contain NUL, the '\0' after a short key sorts it before
 * every longer key it prefixes, so short rows are in key byte order. All long
 * keys sharing one HEAD form a "group" that sorts exactly where those keys
 * belong among the short ones (after the short key equal to HEAD, before the
 * next HEAD), but inside the group rows are ordered by hash: listing reads a
 * whole group, sorts it by the full key (stored in every record) and only
 * then emits it (list.c). Lookups of one long key seek to its hash and
 * compare the record's key, so a 64-bit hash collision only costs a compare.
 * The shapes are told apart by length alone: a long row's tail is exactly
 * HEAD + 17 bytes, a short row's at most HEAD + 9.
 *
 * Records (record.c): one format byte (REC_FORMAT), then fields
 * `tag:u8 len:varint bytes`, tags strictly ascending, absent fields omitted.
 * Integers are fixed 8-byte big-endian. Every decoder is bounded and returns
 * STORE_CORRUPT for anything inconsistent; none trusts a length it has not
 * checked against the bytes left.
 *
 * Group commit (commit.c). Every mutation is a store_mut_fn run by the one
 * committer thread inside a nested transaction of the batch's write
 * transaction. States of a queued mutation:
 *   QUEUED   store_mutate() appended it and waits on m->cv
 *   RUNNING  the committer took the batch; fn runs in a child txn; a failing
 *            fn aborts only its child
 *   DONE     the batch committed (one sync) or failed as a whole; rc set,
 *            dead blobs of successful mutations unlinked, caller woken
 * A mutation fn must be re-runnable: when the map fills, the whole batch is
 * aborted, the map grows and every fn runs again from scratch.
 *
 * Map growth. The env starts with a large map (address space only) and on
 * MDB_MAP_FULL the committer grows it with mdb_env_set_mapsize(), which LMDB
 * allows only while this process has no transaction open: every transaction
 * is taken under map_lock shared, growth takes it exclusive. No store code
 * holds a transaction while calling back into the caller (list.c collects a
 * chunk, closes the read txn, then calls back), so growth always gets in.
 *
 * Journal seam. store_journal_append() (journal.c) is called inside each
 * object mutation's child transaction with the mutation kind, the bucket and
 * the resulting version row; it does nothing yet. The metadata-journal issue
 * fills it in: a row written there commits or aborts with the mutation
 * (DESIGN.md invariant 2).
 */
#ifndef KURA_STORE_STORE_INT_H
#define KURA_STORE_STORE_INT_H

#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- limits ----------------------------------------------------------- */

#define STORE_KEY_MAX_BYTES 1024        /* S3 object key limit */
#define ROWKEY_HEAD 384                 /* key bytes kept verbatim in a row key */
#define ROWKEY_MAX 511                  /* LMDB 0.9 MDB_MAXKEYSIZE */
#define ROWKEY_LONG_TAIL (ROWKEY_HEAD + 17)
#define REC_FORMAT 1                    /* first byte of every record */
#define REC_MAX_BYTES ((size_t)64 << 20) /* encoder ceiling: inline data + metadata */
#define STORE_MAX_DBS 32
#define STORE_MAX_READERS 1024
#define STORE_MAP_DEFAULT_BYTES ((size_t)1 << 30)  /* initial map: address space only */
#define STORE_MAP_STEP_MAX_BYTES ((size_t)16 << 30) /* growth doubles up to this step */
#define STORE_BATCH_MAX 512             /* mutations per group commit */
#define STORE_PART_MAX 10000
#define BLOB_ID_LEN 32
#define SEG_REC_BYTES (BLOB_ID_LEN + 16) /* id + offset + length in a record */

_Static_assert(1 + STORE_BUCKET_NAME_MAX + ROWKEY_LONG_TAIL <= ROWKEY_MAX,
               "long row keys must fit LMDB's key limit");

enum {
    DB_META,
    DB_BUCKETS,
    DB_BCONF,
    DB_OBJECTS,
    DB_UPLOADS,
    DB_PARTS,
    DB_REFS,
    DB_SYS, /* system records: namespace \0 name -> document (sys.c) */
    DB_JOURNAL, /* journal queue: bucket \0 seq(8, big-endian) -> row (journal.c) */
    DB__COUNT
};

/* ---- the store -------------------------------------------------------- */

typedef struct store_mut store_mut_t;

struct store {
    char *dir, *mdb_dir, *blobs_dir, *tmp_dir;
    store_opts_t opts;
    int lock_fd;                 /* flock: one process per data dir */
    MDB_env *env;
    MDB_dbi db[DB__COUNT];
    pthread_rwlock_t map_lock;   /* shared: any txn; exclusive: map growth */

    pthread_mutex_t q_mu;        /* guards the queue, `done` flags and stats */
    pthread_cond_t q_cv;         /* committer waits here for work */
    store_mut_t *q_head, *q_tail;
    bool stopping;
    bool committer_started;
    pthread_t committer;
    store_stats_t stats;

    pthread_mutex_t live_mu;     /* guards `live` */
    store_blob_t *live;          /* writers not yet consumed: fsck spares them */
};

/* The view of one mutation: its child txn and where its effects go. */
typedef struct {
    store_t *st;
    MDB_txn *txn;
    store_mut_t *m;
    bool map_full; /* an LMDB call hit MDB_MAP_FULL: the batch must grow and rerun */
} store_txn_t;

typedef store_rc_t (*store_mut_fn)(store_txn_t *t, void *arg);

struct store_mut {
    store_mut_fn fn;
    void *arg;
    const store_reqctx_t *ctx; /* the calling thread's request, for journal rows */
    store_rc_t rc;
    bool done;
    pthread_cond_t cv;
    char (*dead)[BLOB_ID_LEN + 1]; /* blobs this mutation dropped to refcount 0 */
    size_t ndead, capdead;
    store_mut_t *next;
};

/* commit.c. Runs fn in the next group commit; returns its result once the
 * batch is durable (or failed). Threads: any but the committer. */
store_rc_t store_mutate(store_t *st, store_mut_fn fn, void *arg);
store_rc_t store_committer_start(store_t *st);
void store_committer_stop(store_t *st);

/* env.c. LMDB error -> store_rc_t; sets t->map_full on MDB_MAP_FULL. */
store_rc_t store_txn_rc(store_txn_t *t, int mdb_rc);
store_rc_t store_mdb_rc(int mdb_rc);
/* A read txn under map_lock shared. end() aborts it and unlocks. */
store_rc_t store_read_begin(store_t *st, MDB_txn **out);
void store_read_end(store_t *st, MDB_txn *txn);
/* Grows the map one step. Caller holds no txn. */
store_rc_t store_map_grow(store_t *st);
/* Next sequence number (meta "seq" + 1), inside t. */
store_rc_t store_seq_next(store_txn_t *t, uint64_t *seq);
void store_put_u64be(uint8_t *p, uint64_t v);
uint64_t store_get_u64be(const uint8_t *p);

/* An MDB_val over bytes LMDB only reads (keys and values passed to
 * mdb_get/mdb_put): LMDB's API is not const-correct. */
static inline MDB_val mval(const void *p, size_t n)
{
    MDB_val v = {n, (void *)(uintptr_t)p};
    return v;
}

/* ---- row keys (keys.c) ------------------------------------------------ */

bool store_bucket_name_ok(const char *name);
bool store_key_ok(const char *key, size_t len); /* 1..1024 bytes, no NUL */
/* B '\0' into out; returns its length. */
size_t rowkey_bucket_prefix(uint8_t *out, const char *bucket);
/* The row key of (bucket, key, seq). out holds ROWKEY_MAX bytes. */
size_t rowkey_object(uint8_t *out, const char *bucket, const char *key, size_t klen,
                     uint64_t seq);
/* The prefix shared by every row of one key (and, for long keys, by keys
 * colliding on the hash: compare the record's key). */
size_t rowkey_key_prefix(uint8_t *out, const char *bucket, const char *key, size_t klen);
/* Seek target: no row before it can be at (key, seq < seq_lt) or later. */
size_t rowkey_seek(uint8_t *out, const char *bucket, const char *key, size_t klen,
                   uint64_t seq_lt);

/* A parsed object row key. For a long row, key/klen is the HEAD only. */
typedef struct {
    bool is_long;
    const uint8_t *key; /* points into the row key */
    size_t klen;
    uint64_t seq;
} rowkey_t;
/* STORE_CORRUPT if the row does not belong to the bucket prefix of length
 * plen or has neither shape. */
store_rc_t rowkey_parse(const MDB_val *k, size_t plen, rowkey_t *out);

/* Version ids: "null", or 16 hex of seq followed by 16 random hex. */
void version_id_make(uint64_t seq, char out[BLOB_ID_LEN + 1]);
/* true and *seq if `vid` is one this store issues (not "null"). */
bool version_id_seq(const char *vid, uint64_t *seq);
bool blob_id_ok(const char *id, size_t len); /* 32 lowercase hex */

/* ---- records (record.c) ----------------------------------------------- */

/* Encoders append to b; b's ceiling (REC_MAX_BYTES) turns into
 * STORE_TOO_LARGE at the caller via buf_ok(). */
void rec_object_encode(buf_t *b, const store_object_t *o);
/* Full decode into a; strings NUL-terminated; is_latest false. */
store_rc_t rec_object_decode(arena_t *a, const void *p, size_t n, store_object_t *out);
/* Upload metadata templates: like rec_object_decode but version id optional
 * and no bytes allowed. */
store_rc_t rec_template_decode(arena_t *a, const void *p, size_t n, store_object_t *out);

/* A no-allocation look at a record: pointers into p. */
typedef struct {
    const char *key;
    size_t klen;
    const char *vid;
    size_t vidlen;
    bool delete_marker;
} rec_peek_t;
store_rc_t rec_object_peek(const void *p, size_t n, rec_peek_t *out);

void rec_bucket_encode(buf_t *b, const store_bucket_t *bk);
store_rc_t rec_bucket_decode(arena_t *a, const void *p, size_t n, store_bucket_t *out);
void rec_upload_encode(buf_t *b, const store_upload_t *u);
store_rc_t rec_upload_decode(arena_t *a, const void *p, size_t n, store_upload_t *out);
void rec_part_encode(buf_t *b, const store_part_t *pt);
store_rc_t rec_part_decode(const void *p, size_t n, store_part_t *out, arena_t *a);

/* ---- blobs and refcounts (blob.c) ------------------------------------- */

/* blobs/xx/yy/<id> into out (PATH_MAX). */
void blob_path(const store_t *st, const char *id, char *out, size_t cap);
/* Turns a finished in-memory blob into a published file (parts need one). */
store_rc_t blob_materialize(store_blob_t *w);
bool blob_is_file(const store_blob_t *w);
const char *blob_id(const store_blob_t *w);
const void *blob_mem(const store_blob_t *w, size_t *len);
bool blob_finished(const store_blob_t *w);
/* After the mutation that consumed w: frees it; unless `referenced`, its
 * published file is unlinked (no row points at it). */
void blob_release(store_blob_t *w, bool referenced);
/* true if a writer with this id is still alive (not consumed). */
bool blob_is_live(store_t *st, const char *id);
/* Removes tmp/ contents and blob files with no refs row. Open only. */
store_rc_t blob_sweep_at_open(store_t *st);
/* Walks blobs/: cb(arg, id) per well-formed blob file name. */
store_rc_t blob_walk(store_t *st, void (*cb)(void *arg, const char *id), void *arg);

/* Refcounts, inside t. new: the id must have no row (fresh blob). add: the
 * id must have one (STORE_NOT_FOUND: its last reference is gone, the file
 * may be unlinked after this commit, so it cannot be revived). drop: -1, at
 * 0 the row goes and the id joins the mutation's dead list. */
store_rc_t ref_new(store_txn_t *t, const char *id);
store_rc_t ref_add(store_txn_t *t, const char *id);
store_rc_t ref_drop(store_txn_t *t, const char *id);
store_rc_t ref_drop_object(store_txn_t *t, const store_object_t *o);

/* ---- shared by object.c, multipart.c, list.c -------------------------- */

/* Bucket row inside t (STORE_NO_BUCKET). */
store_rc_t bucket_load(store_txn_t *t, arena_t *a, const char *bucket, store_bucket_t *out);
/* Inserts `row` (version_id already set) as the newest version of its key,
 * honouring the bucket's versioning (replacing the null version in place
 * unless enabled) and the put's conditions. Journal seam called. */
typedef struct {
    const char *bucket;
    const char *if_match;
    bool if_none_match;
    int64_t now_ms;
    int journal_kind;
} version_insert_t;
store_rc_t version_insert(store_txn_t *t, arena_t *scratch, const version_insert_t *vi,
                          store_object_t *row, buf_t *enc);
bool version_locked(const store_object_t *o, bool bypass_governance, int64_t now_ms);

/* ---- journal seam (journal.c) ----------------------------------------- */

typedef enum {
    STORE_JOURNAL_CREATE,        /* PUT, copy, CompleteMultipartUpload */
    STORE_JOURNAL_DELETE_MARKER, /* DeleteObject adding a marker */
    STORE_JOURNAL_DELETE,        /* permanent removal of one version */
    STORE_JOURNAL_UPDATE_TAGS,
    STORE_JOURNAL_UPDATE_LOCK,   /* retention / legal hold: no journal row on AWS */
    STORE_JOURNAL_UPDATE_CLASS,  /* lifecycle transition: UPDATE_METADATA on AWS */
} store_journal_kind_t;

/* Called inside the mutation's child txn (t) after the index change, with the
 * row as stored (for DELETE: the removed row). When the bucket journals
 * (store_journal_enable), appends one journal row stamped with the next
 * sequence number of that bucket; an error aborts the mutation, so a row
 * exists exactly for each committed mutation (DESIGN invariant 2). */
store_rc_t store_journal_append(store_txn_t *t, store_journal_kind_t kind, const char *bucket,
                                const store_object_t *row);

#endif
