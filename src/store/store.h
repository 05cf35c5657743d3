/* store/store.h: the only owner of LMDB and blob files (DESIGN.md: Storage).
 *
 * Layout under the data directory:
 *   kura.mdb/          LMDB environment (named sub-databases, see store_int.h)
 *   blobs/xx/yy/<id>   immutable payloads, <id> = 32 lowercase hex chars
 *   tmp/               blob writes in progress (removed at open)
 *
 * Model. A bucket holds keys; a key holds versions, newest first. Version ids
 * are opaque strings; the "null" version is the one written while the bucket
 * is unversioned or suspended (S3 semantics: it is replaced in place). A
 * version is an object or a delete marker. An object's bytes are either
 * inline in its row (size <= inline_max_bytes) or a list of segments of
 * blobs (one segment for PUT, one per part after CompleteMultipartUpload:
 * completion concatenates by reference, never copies).
 *
 * Durability. Every mutation is one LMDB write transaction (run as a nested
 * transaction inside a group commit: concurrent mutations share one commit
 * and one sync). A mutating call returns only after its commit is durable.
 * On error nothing is visible. Blob bytes are fsync'd and renamed into
 * blobs/ before the index commit that references them; a crash in between
 * leaves an orphan blob that store_open() removes.
 *
 * Memory. Results are allocated from the caller's arena; nothing returned
 * points into LMDB. Threads: every call is safe from any thread.
 */
#ifndef KURA_STORE_STORE_H
#define KURA_STORE_STORE_H

#include "util/arena.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_blob store_blob_t;

typedef enum {
    STORE_OK = 0,
    STORE_NOT_FOUND,     /* bucket, key, version or upload absent */
    STORE_NO_BUCKET,     /* the named bucket does not exist */
    STORE_EXISTS,        /* bucket name taken */
    STORE_NOT_EMPTY,     /* bucket still holds versions or uploads */
    STORE_PRECONDITION,  /* If-Match / If-None-Match failed */
    STORE_CONFLICT,      /* concurrent change (conditional write race, upload completed) */
    STORE_LOCKED,        /* object lock forbids the change */
    STORE_INVALID,       /* caller passed something the model forbids */
    STORE_TOO_LARGE,
    STORE_FULL,          /* disk full */
    STORE_IO,            /* I/O error: the request fails, the store stays consistent */
    STORE_CORRUPT,       /* bytes on disk do not decode */
    STORE_NOMEM,
    STORE_RC__COUNT
} store_rc_t;

const char *store_rc_name(store_rc_t rc);

typedef struct {
    size_t inline_max_bytes; /* objects up to this size live in the index row; default 8192 */
    bool no_sync;            /* tests only: skip fsync (never in production) */
    /* Tests only: initial LMDB map size (0: 1 GiB). The map grows by itself
     * on demand (doubling, at most 16 GiB a step); this only lets a test make
     * it grow early. */
    size_t initial_map_bytes;
} store_opts_t;

/* Opens (creating if needed) the store in data_dir; opts NULL: defaults.
 * Takes an exclusive flock on data_dir/store.lock (STORE_IO if another
 * process holds it). Then it cleans up after a crash: removes everything in
 * tmp/ and every blob file with no refcount row (a blob renamed into blobs/
 * whose index commit never happened). Cost: one readdir of each blobs/xx/yy
 * directory plus one B-tree lookup per blob file, i.e. O(blob files); about
 * a second per few hundred thousand blobs on a warm cache.
 * Returns STORE_OK, STORE_IO, STORE_CORRUPT, STORE_NOMEM. */
store_rc_t store_open(const char *data_dir, const store_opts_t *opts, store_t **out);
void store_close(store_t *st); /* NULL is a no-op; waits for in-flight commits */

/* Counters since open, for tests and the health endpoint. */
typedef struct {
    uint64_t commits;   /* LMDB write transactions committed (one sync each) */
    uint64_t mutations; /* mutations run (committed or not) */
    uint64_t max_batch; /* most mutations in one commit */
    uint64_t map_grows; /* times the map was enlarged */
    uint64_t map_bytes; /* current map size */
} store_stats_t;
void store_stats(store_t *st, store_stats_t *out);

/* ---- buckets ---------------------------------------------------------- */

typedef enum {
    STORE_VERSIONING_OFF = 0, /* never enabled: "unversioned" */
    STORE_VERSIONING_ENABLED,
    STORE_VERSIONING_SUSPENDED,
} store_versioning_t;

/* Bucket names are 1..STORE_BUCKET_NAME_MAX bytes (S3 allows 63; the rest
 * is room for internal buckets); the store checks only the length. */
#define STORE_BUCKET_NAME_MAX 100

typedef struct {
    const char *name;
    const char *region;
    int64_t created_ms;
    store_versioning_t versioning;
    bool object_lock; /* created with object lock enabled */
} store_bucket_t;

/* STORE_EXISTS, STORE_INVALID (name length). */
store_rc_t store_bucket_create(store_t *st, const store_bucket_t *b);
store_rc_t store_bucket_get(store_t *st, arena_t *a, const char *name, store_bucket_t *out);
/* STORE_NO_BUCKET, STORE_NOT_EMPTY (any version, delete marker or upload). */
store_rc_t store_bucket_delete(store_t *st, const char *name);
/* STORE_NO_BUCKET; STORE_INVALID for ENABLED/SUSPENDED -> OFF (S3 never goes
 * back to unversioned). */
store_rc_t store_bucket_set_versioning(store_t *st, const char *name, store_versioning_t v);
/* Buckets in name order, names > start_after (NULL: from the first).
 * cb returns false to stop. */
typedef bool (*store_bucket_cb)(void *arg, const store_bucket_t *b);
store_rc_t store_bucket_list(store_t *st, arena_t *a, const char *start_after, store_bucket_cb cb,
                             void *arg);

/* Named configuration documents of a bucket (policy, tagging, cors, lifecycle,
 * object-lock, metadata, ...): opaque bytes, stored and returned as given.
 * put with doc == NULL deletes (STORE_NOT_FOUND if absent). */
store_rc_t store_bucket_conf_put(store_t *st, const char *bucket, const char *name,
                                 const void *doc, size_t len);
store_rc_t store_bucket_conf_get(store_t *st, arena_t *a, const char *bucket, const char *name,
                                 char **doc, size_t *len);

/* ---- blobs ------------------------------------------------------------ */

/* Stream bytes into a new blob. Small blobs stay in memory and become inline
 * rows; past inline_max_bytes the writer spills to tmp/. finish() fsyncs and
 * renames into blobs/ (no index change). The blob is then consumed by one
 * store_object_put / store_upload_part_put (on success or failure), or
 * discarded by store_blob_abort(). */
store_rc_t store_blob_begin(store_t *st, store_blob_t **out);
store_rc_t store_blob_write(store_blob_t *w, const void *p, size_t n); /* STORE_FULL, STORE_IO */
store_rc_t store_blob_finish(store_blob_t *w);
void store_blob_abort(store_blob_t *w); /* NULL is a no-op */
/* As store_blob_finish, but always a file in blobs/, however small: table
 * files must be files that DuckDB can read by path (NOTES-ON-ISSUES 21). */
store_rc_t store_blob_finish_file(store_blob_t *w);
/* The blob file holding all of an object's bytes (the latest version): only
 * for objects stored as one whole blob (STORE_INVALID for inline objects or
 * multipart ones). The path is in `a`. For readers that need a file. */
store_rc_t store_object_path(store_t *st, arena_t *a, const char *bucket, const char *key,
                             size_t key_len, const char **path);
uint64_t store_blob_size(const store_blob_t *w);

/* Open a blob for reading (read-only fd, caller closes). STORE_NOT_FOUND if
 * gone, STORE_INVALID if blob_id is not 32 lowercase hex. */
store_rc_t store_blob_open(store_t *st, const char *blob_id, int *fd_out);

/* References to a blob (versions and parts naming it; one per segment).
 * 0 with STORE_OK when no row references it. STORE_INVALID for a bad id. */
store_rc_t store_blob_refcount(store_t *st, const char *blob_id, uint64_t *n);

/* ---- objects and versions --------------------------------------------- */

typedef struct {
    char blob_id[33];
    uint64_t offset, length;
} store_seg_t;

/* A name/value list: user metadata (names lowercase, without "x-amz-meta-")
 * or tags. */
typedef struct {
    const char *name, *value;
} store_kv_t;

typedef struct {
    const char *key;
    size_t key_len;         /* keys are UTF-8 and may contain anything but NUL */
    const char *version_id; /* "null" for the null version */
    bool delete_marker;
    bool is_latest; /* set on reads */
    uint64_t size;
    int64_t mtime_ms;
    const char *etag; /* unquoted: 32 hex, or "<hex>-N" for multipart */
    const char *content_type, *content_encoding, *content_disposition, *content_language,
        *cache_control, *expires, *storage_class, *website_redirect;
    const store_kv_t *meta;
    size_t nmeta;
    const store_kv_t *tags;
    size_t ntags;
    /* Checksum as the client asked for it: algorithm "CRC32", "CRC32C",
     * "CRC64NVME", "SHA1", "SHA256" or NULL; value base64; type "FULL_OBJECT"
     * or "COMPOSITE". */
    const char *checksum_algo, *checksum_value, *checksum_type;
    /* Multipart objects: part sizes in order (parts_count == 0 otherwise). */
    uint32_t parts_count;
    const uint64_t *part_sizes;
    /* The parts' checksums (base64, of checksum_algo), parts_count entries,
     * or NULL: what GetObjectAttributes reports per part. */
    const char *const *part_checksums;
    /* Object lock. lock_mode "GOVERNANCE"/"COMPLIANCE" or NULL. */
    const char *lock_mode;
    int64_t lock_until_ms;
    bool legal_hold;
    /* Bytes: inline or segments (exactly one is used; size 0 uses neither). */
    const void *inline_data;
    size_t inline_len;
    const store_seg_t *segs;
    size_t nsegs;
    /* Owner/requester account id recorded at write. */
    const char *owner;
} store_object_t;

typedef struct {
    const char *bucket;
    store_object_t obj;   /* metadata; key, size, etag, mtime set by the caller;
                            version_id, bytes and is_latest filled by the store */
    store_blob_t *blob;   /* finished writer, or NULL together with copy_from */
    const store_object_t *copy_from; /* server-side copy: share its bytes (refcount) */
    /* Conditional write, evaluated inside the transaction against the
     * current (latest, non-delete-marker) version. */
    const char *if_match;  /* unquoted etag, or NULL */
    bool if_none_match;    /* If-None-Match: * */
} store_put_t;

/* Write a new version (versioned bucket) or replace the null version.
 * out receives the stored row (version_id among it); it may be NULL.
 * Cost: replacing the null version scans the key's versions (one in an
 * unversioned bucket; all of them in a suspended one).
 * Bytes: in->blob (obj.size must equal the blob's size), or copy_from (its
 * segments gain a reference, inline bytes are copied; STORE_NOT_FOUND if its
 * blobs were freed meanwhile), or neither for an empty object. obj.key must
 * be 1..1024 bytes without NUL (STORE_INVALID). obj.mtime_ms is also "now"
 * for the lock check of a replaced null version.
 * Returns STORE_OK, STORE_NO_BUCKET, STORE_PRECONDITION (if_match failed, or
 * if_none_match and the key exists), STORE_NOT_FOUND (if_match and no key),
 * STORE_LOCKED (replacing a locked null version), STORE_FULL, STORE_IO. */
store_rc_t store_object_put(store_t *st, arena_t *a, const store_put_t *in, store_object_t *out);

/* The latest version (version_id NULL) or a given one. STORE_NO_BUCKET,
 * STORE_NOT_FOUND, STORE_INVALID (version_id neither "null" nor one this
 * store could have issued: S3's "Invalid version id specified").
 * A delete marker is returned as such: the caller decides. */
store_rc_t store_object_get(store_t *st, arena_t *a, const char *bucket, const char *key,
                            size_t key_len, const char *version_id, store_object_t *out);

typedef struct {
    bool delete_marker;     /* the version deleted or created was a delete marker */
    const char *version_id; /* version deleted or delete marker created; NULL if none */
} store_delete_result_t;

/* DeleteObject. version_id NULL: on a versioned bucket add a delete marker; on
 * an unversioned bucket remove the null version (nothing if absent: OK;
 * out->version_id stays NULL: unversioned responses carry no version id);
 * suspended: replace the null version with a null delete marker.
 * version_id given: remove that version permanently (OK if absent; out
 * echoes the id, delete_marker tells whether the removed one was a marker).
 * STORE_INVALID for a malformed version_id. out may be NULL.
 * bypass_governance lets a GOVERNANCE lock be overridden.
 * STORE_LOCKED if a lock protects the version. */
store_rc_t store_object_delete(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, bool bypass_governance,
                               int64_t now_ms, store_delete_result_t *out);

/* Replace tags, metadata or lock fields of one version in place (no new version).
 * `update` names the fields: STORE_UPD_TAGS, STORE_UPD_LOCK, STORE_UPD_LEGAL_HOLD. */
/* version_id NULL: the latest (STORE_NOT_FOUND if it is a delete marker); a
 * given delete marker: STORE_INVALID (S3: MethodNotAllowed). The store does
 * not judge lock changes (shortening COMPLIANCE etc.): the handler does. */
enum {
    STORE_UPD_TAGS = 1,
    STORE_UPD_LOCK = 2,
    STORE_UPD_LEGAL_HOLD = 4,
    STORE_UPD_STORAGE_CLASS = 8, /* lifecycle transitions relabel the class */
};
store_rc_t store_object_update(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, unsigned update,
                               const store_object_t *fields, store_object_t *out);

/* Iteration. The store reads a chunk of rows in a short read transaction,
 * closes it, then calls back: callbacks may call any store function.
 * Keys in byte order, key > start_after (NULL/0: from the first)
 * and starting with prefix. The callback sees the latest version of each key,
 * including delete markers (ListObjects skips them, ListObjectVersions and
 * the inventory want them). Returning STORE_ITER_SKIP with *skip filled skips
 * every following key that starts with *skip (a CommonPrefix). Objects passed
 * to the callback are allocated in `a`. */
typedef enum { STORE_ITER_NEXT, STORE_ITER_STOP, STORE_ITER_SKIP } store_iter_rc_t;
typedef store_iter_rc_t (*store_object_cb)(void *arg, const store_object_t *o, buf_t *skip);
store_rc_t store_object_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                             const char *start_after, size_t start_after_len, store_object_cb cb,
                             void *arg);

/* All versions, keys in byte order and versions newest first (is_latest set).
 * Starts after (key_marker, version_marker) as ListObjectVersions does: with
 * no version_marker, after every version of key_marker. */
store_rc_t store_version_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                              const char *key_marker, const char *version_marker,
                              store_object_cb cb, void *arg);

/* ---- multipart uploads ------------------------------------------------ */

typedef struct {
    const char *upload_id;
    const char *key;
    size_t key_len;
    int64_t initiated_ms;
    store_object_t meta; /* metadata, tags, checksum algo/type, lock fields to apply on complete */
} store_upload_t;

typedef struct {
    uint32_t part_number;
    uint64_t size;
    int64_t mtime_ms;
    const char *etag;           /* unquoted hex md5 */
    const char *checksum_value; /* base64, of the upload's algorithm, or NULL */
    store_seg_t seg;
} store_part_t;

/* out->upload_id is generated by the store. */
store_rc_t store_upload_create(store_t *st, arena_t *a, const char *bucket, store_upload_t *up);
store_rc_t store_upload_get(store_t *st, arena_t *a, const char *bucket, const char *upload_id,
                            store_upload_t *out);
/* Adds or replaces a part (part_number 1..10000, else STORE_INVALID); the old
 * part's blob reference is dropped. blob != NULL: a finished writer, consumed
 * (a small one is written out as a file: parts are always blobs);
 * part->size is taken from it. blob == NULL (UploadPartCopy): the part
 * references part->seg, an existing blob range (refcount +1; STORE_NOT_FOUND
 * if that blob is gone; an inline source must be copied into a blob by the
 * caller). STORE_NOT_FOUND if the upload is gone. */
store_rc_t store_upload_part_put(store_t *st, const char *bucket, const char *upload_id,
                                 const store_part_t *part, store_blob_t *blob);
/* Parts in number order, numbers > after. */
store_rc_t store_upload_parts(store_t *st, arena_t *a, const char *bucket, const char *upload_id,
                              uint32_t after, uint32_t max, store_part_t **parts, size_t *n,
                              bool *truncated);
/* Uploads ordered by (key, initiated, upload id) after the markers. */
typedef bool (*store_upload_cb)(void *arg, const store_upload_t *u);
store_rc_t store_upload_list(store_t *st, arena_t *a, const char *bucket, const char *prefix,
                             const char *key_marker, const char *upload_id_marker,
                             store_upload_cb cb, void *arg);
/* Makes the chosen parts (already validated by the caller) the object's new
 * version, referencing their blobs; unchosen parts are released. in->obj
 * carries size, etag, checksum, part sizes. STORE_NOT_FOUND if the upload is
 * gone (completed or aborted concurrently).
 * The new version takes its metadata (content headers, user metadata, tags,
 * lock fields, checksum algorithm/type) from the upload's `meta`; from
 * in->obj it takes mtime_ms, etag, owner, checksum_value (and checksum_type
 * when set) and part_sizes (filled from the parts when parts_count == 0).
 * Its size is the parts' total: in->obj.size must match (STORE_INVALID), as
 * must every chosen number name an existing part. in->if_match /
 * if_none_match apply as for a put; in->blob and copy_from must be NULL. */
store_rc_t store_upload_complete(store_t *st, arena_t *a, const char *bucket,
                                 const char *upload_id, const uint32_t *part_numbers, size_t n,
                                 const store_put_t *in, store_object_t *out);
store_rc_t store_upload_abort(store_t *st, const char *bucket, const char *upload_id);

/* ---- system records --------------------------------------------------- */

/* Documents kura keeps for itself, outside any bucket: users and their keys
 * now; the table catalog, vaults and jobs later. A record is named by a
 * namespace ("users") and a name, both 1..STORE_SYS_NAME_MAX bytes without
 * NUL. put with doc == NULL deletes (STORE_NOT_FOUND if absent); create
 * fails with STORE_EXISTS if the name is taken. */
#define STORE_SYS_NAME_MAX 200
store_rc_t store_sys_put(store_t *st, const char *ns, const char *name, const void *doc,
                         size_t len);
store_rc_t store_sys_create(store_t *st, const char *ns, const char *name, const void *doc,
                            size_t len);
store_rc_t store_sys_get(store_t *st, arena_t *a, const char *ns, const char *name, char **doc,
                         size_t *len);
/* Compare-and-swap over system records: a batch of steps, each a condition
 * on one record and then an optional write, applied all or nothing in ONE
 * write transaction (so two racing batches on the same records serialize and
 * the loser sees the winner's result). Steps run in order and a condition
 * sees the writes of earlier steps. This is what the table catalog builds on
 * (DESIGN invariant 4): a metadata-pointer swap is {EQUAL old doc, WRITE new};
 * a create under a parent is {PRESENT parent} + {ABSENT child, WRITE}; deleting
 * a namespace is {NO_PREFIX "ns/" in the tables ns} + {PRESENT, DELETE}.
 * Conditions:
 *   ANY       none
 *   ABSENT    no record (ns, name)
 *   PRESENT   record (ns, name) exists
 *   EQUAL     it exists and its bytes equal expect_doc/expect_len
 *   NO_PREFIX no record of `ns` has a name starting with `name` (which may be
 *             "": the namespace is empty); the step cannot write
 * Actions: KEEP (check only), WRITE doc/len, DELETE (absent is not an error).
 * Returns STORE_OK; STORE_CONFLICT when a condition fails (nothing written;
 * *failed = index of that step when failed != NULL); STORE_INVALID (bad
 * names, too many steps, a NO_PREFIX step with an action); STORE_FULL,
 * STORE_IO. At most STORE_SYS_CAS_MAX steps. */
#define STORE_SYS_CAS_MAX 16
typedef enum {
    STORE_SYS_ANY = 0,
    STORE_SYS_ABSENT,
    STORE_SYS_PRESENT,
    STORE_SYS_EQUAL,
    STORE_SYS_NO_PREFIX,
} store_sys_expect_t;
typedef enum { STORE_SYS_KEEP = 0, STORE_SYS_WRITE, STORE_SYS_DELETE } store_sys_action_t;
typedef struct {
    const char *ns, *name;
    store_sys_expect_t expect;
    const void *expect_doc;
    size_t expect_len;
    store_sys_action_t action;
    const void *doc;
    size_t len;
} store_sys_op_t;
store_rc_t store_sys_cas(store_t *st, const store_sys_op_t *ops, size_t n, size_t *failed);
/* Records of a namespace in name order; cb returns false to stop. */
typedef bool (*store_sys_cb)(void *arg, const char *name, const char *doc, size_t len);
store_rc_t store_sys_list(store_t *st, arena_t *a, const char *ns, store_sys_cb cb, void *arg);

/* ---- the metadata journal (DESIGN promise 1, invariants 2 and 3) ------- */

/* The request a mutation comes from, as its journal row records it. A
 * service sets it on the calling thread before mutating calls and clears it
 * after (NULL); the store copies what it needs inside the mutation. Calls
 * made without one (lifecycle) record requester "s3.amazonaws.com" and no
 * source address, as AWS does for its own actions. */
typedef struct {
    const char *requester;  /* account id */
    const char *source_ip;
    const char *request_id;
} store_reqctx_t;
void store_reqctx_set(const store_reqctx_t *ctx);
const store_reqctx_t *store_reqctx_current(void);

/* Start or stop journaling a bucket's mutations. While on, every committed
 * object mutation of the bucket appends one row in its own transaction. */
store_rc_t store_journal_enable(store_t *st, const char *bucket, bool on);
bool store_journal_enabled(store_t *st, const char *bucket);

typedef enum {
    STORE_JREC_CREATE = 1,
    STORE_JREC_UPDATE_METADATA = 2,
    STORE_JREC_DELETE = 3,
} store_jrec_type_t;

typedef struct {
    uint64_t seq;           /* per bucket, strictly increasing, never reused */
    store_jrec_type_t type;
    int64_t ts_ms;          /* record_timestamp */
    bool delete_marker;     /* DELETE rows: a marker was created */
    bool permanent;         /* DELETE rows: a version was removed (only key + version) */
    const char *requester, *source_ip, *request_id;
    store_object_t obj;     /* the version as stored (key, version id, size, tags, ...) */
} store_jrow_t;

/* Queued rows of a bucket with seq > after, oldest first, at most max. */
store_rc_t store_journal_read(store_t *st, arena_t *a, const char *bucket, uint64_t after,
                              size_t max, store_jrow_t **rows, size_t *n);
/* Removes queued rows of a bucket with seq <= upto (published). */
store_rc_t store_journal_trim(store_t *st, const char *bucket, uint64_t upto);
/* The last sequence number a bucket issued (0: none). */
store_rc_t store_journal_last_seq(store_t *st, const char *bucket, uint64_t *out);

/* ---- checks ----------------------------------------------------------- */

typedef struct {
    uint64_t blobs, orphans, missing, bad_refcounts;
} store_fsck_t;

/* Verifies blob refcounts against every reference in the index; reports
 * orphans (files no row references) and missing blobs. repair removes orphans
 * and rewrites refcount rows to the counted references (missing blobs cannot
 * be repaired: the versions naming them stay, reads get STORE_NOT_FOUND).
 * Runs inside the committer, so writes wait while it walks the whole index
 * and blobs/: an operator tool, not a hot path. Blobs being written are
 * never taken for orphans. */
store_rc_t store_fsck(store_t *st, bool repair, store_fsck_t *out);

#endif
