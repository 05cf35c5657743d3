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
} store_opts_t;

store_rc_t store_open(const char *data_dir, const store_opts_t *opts, store_t **out);
void store_close(store_t *st); /* NULL is a no-op; waits for in-flight commits */

/* ---- buckets ---------------------------------------------------------- */

typedef enum {
    STORE_VERSIONING_OFF = 0, /* never enabled: "unversioned" */
    STORE_VERSIONING_ENABLED,
    STORE_VERSIONING_SUSPENDED,
} store_versioning_t;

typedef struct {
    const char *name;
    const char *region;
    int64_t created_ms;
    store_versioning_t versioning;
    bool object_lock; /* created with object lock enabled */
} store_bucket_t;

store_rc_t store_bucket_create(store_t *st, const store_bucket_t *b); /* STORE_EXISTS */
store_rc_t store_bucket_get(store_t *st, arena_t *a, const char *name, store_bucket_t *out);
/* STORE_NO_BUCKET, STORE_NOT_EMPTY (any version, delete marker or upload). */
store_rc_t store_bucket_delete(store_t *st, const char *name);
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
uint64_t store_blob_size(const store_blob_t *w);

/* Open a blob for reading (read-only fd, caller closes). STORE_NOT_FOUND if gone. */
store_rc_t store_blob_open(store_t *st, const char *blob_id, int *fd_out);

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
 * out receives the stored row (version_id among it).
 * Returns STORE_OK, STORE_NO_BUCKET, STORE_PRECONDITION (if_match failed, or
 * if_none_match and the key exists), STORE_NOT_FOUND (if_match and no key),
 * STORE_LOCKED (replacing a locked null version), STORE_FULL, STORE_IO. */
store_rc_t store_object_put(store_t *st, arena_t *a, const store_put_t *in, store_object_t *out);

/* The latest version (version_id NULL) or a given one. STORE_NO_BUCKET,
 * STORE_NOT_FOUND. A delete marker is returned as such: the caller decides. */
store_rc_t store_object_get(store_t *st, arena_t *a, const char *bucket, const char *key,
                            size_t key_len, const char *version_id, store_object_t *out);

typedef struct {
    bool delete_marker;     /* the version deleted or created was a delete marker */
    const char *version_id; /* version deleted or delete marker created; NULL if none */
} store_delete_result_t;

/* DeleteObject. version_id NULL: on a versioned bucket add a delete marker; on
 * an unversioned bucket remove the null version (nothing if absent: OK);
 * suspended: replace the null version with a null delete marker.
 * version_id given: remove that version permanently (OK if absent).
 * bypass_governance lets a GOVERNANCE lock be overridden.
 * STORE_LOCKED if a lock protects the version. */
store_rc_t store_object_delete(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, bool bypass_governance,
                               int64_t now_ms, store_delete_result_t *out);

/* Replace tags, metadata or lock fields of one version in place (no new version).
 * `update` names the fields: STORE_UPD_TAGS, STORE_UPD_LOCK, STORE_UPD_LEGAL_HOLD. */
enum { STORE_UPD_TAGS = 1, STORE_UPD_LOCK = 2, STORE_UPD_LEGAL_HOLD = 4 };
store_rc_t store_object_update(store_t *st, arena_t *a, const char *bucket, const char *key,
                               size_t key_len, const char *version_id, unsigned update,
                               const store_object_t *fields, store_object_t *out);

/* Iteration. Keys in byte order, key > start_after (NULL/0: from the first)
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
/* Adds or replaces a part; the blob (or copy_from's bytes range) is consumed. */
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
 * gone (completed or aborted concurrently). */
store_rc_t store_upload_complete(store_t *st, arena_t *a, const char *bucket,
                                 const char *upload_id, const uint32_t *part_numbers, size_t n,
                                 const store_put_t *in, store_object_t *out);
store_rc_t store_upload_abort(store_t *st, const char *bucket, const char *upload_id);

/* ---- checks ----------------------------------------------------------- */

typedef struct {
    uint64_t blobs, orphans, missing, bad_refcounts;
} store_fsck_t;

/* Verifies blob refcounts against every reference in the index; reports
 * orphans (files no row references) and missing blobs. repair removes orphans. */
store_rc_t store_fsck(store_t *st, bool repair, store_fsck_t *out);

#endif
