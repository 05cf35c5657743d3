/* s3/s3_int.h: shared inside s3/, included by nobody else. */
#ifndef KURA_S3_S3_INT_H
#define KURA_S3_S3_INT_H

#include "s3/s3.h"
#include "util/checksum.h"

#include <stdint.h>

#define S3_MAX_KEY_BYTES 1024
#define S3_MAX_PUT_BYTES ((uint64_t)5 << 30)        /* 5 GiB: PutObject and one part */
#define S3_MAX_USER_META_BYTES 2048                 /* names + values of x-amz-meta-* */
#define S3_MAX_XML_BODY_BYTES ((size_t)2 << 20)     /* request documents */
#define S3_MAX_LIST_KEYS 1000
#define S3_MAX_BUCKETS_PAGE 10000

struct s3 {
    const kura_config_t *cfg;
    store_t *st;
    auth_identity_t id;
};

typedef enum { S3_BODY_NONE = 0, S3_BODY_BUFFER, S3_BODY_BLOB, S3_BODY_CUSTOM } s3_body_mode_t;

typedef struct s3_op s3_op_t;

struct s3_req {
    s3_t *s3;
    http_req_t *r;
    const auth_result_t *auth; /* NULL: anonymous */
    const auth_caller_t *caller;
    const s3_op_t *op;
    const char *bucket; /* NULL for service-level operations */
    const char *key;    /* NULL for bucket-level operations */
    size_t key_len;

    s3_body_mode_t body_mode;
    bool (*sink)(s3_req_t *q, const void *p, size_t n); /* S3_BODY_CUSTOM */
    buf_t body;             /* S3_BODY_BUFFER */
    store_blob_t *blob;     /* S3_BODY_BLOB */
    uint64_t expect_bytes;  /* decoded payload length announced, or UINT64_MAX */
    uint64_t got_bytes;
    ck_t md5;
    ck_t ck;                /* the x-amz-checksum-* algorithm asked for, if any */
    bool md5_on, ck_on;
    s3_err_t body_err;      /* first error while receiving */
    void *op_state;         /* what an operation's begin() leaves for its run() */
    const char *err_msg;    /* message for the error an operation returns (NULL: standard) */
};

struct s3_op {
    const char *name;
    /* Answered without credentials too: the CORS preflight, browser POST
     * uploads (their signature is in the form). Everything else needs a
     * signature until bucket policies grant anonymous access. */
    bool anonymous_ok;
    /* After routing: validate the head, set up the body. Return S3_OK to go on. */
    s3_err_t (*begin)(s3_req_t *q);
    /* The body is complete: run. Writes the response or returns an error. */
    s3_err_t (*run)(s3_req_t *q, const auth_chunked_t *trailers);
};

/* Operations (one file per family). */
extern const s3_op_t s3_op_list_buckets, s3_op_create_bucket, s3_op_head_bucket,
    s3_op_delete_bucket, s3_op_get_bucket_location, s3_op_list_objects, s3_op_list_objects_v2,
    s3_op_put_object, s3_op_get_object, s3_op_head_object, s3_op_delete_object,
    s3_op_delete_objects, s3_op_copy_object, s3_op_upload_part_copy,
    s3_op_create_multipart_upload, s3_op_upload_part, s3_op_complete_multipart_upload,
    s3_op_abort_multipart_upload, s3_op_list_parts, s3_op_list_multipart_uploads,
    s3_op_put_object_tagging, s3_op_get_object_tagging, s3_op_delete_object_tagging,
    s3_op_put_bucket_tagging, s3_op_get_bucket_tagging, s3_op_delete_bucket_tagging,
    s3_op_get_bucket_versioning, s3_op_put_bucket_versioning, s3_op_list_object_versions,
    s3_op_put_object_lock_configuration, s3_op_get_object_lock_configuration,
    s3_op_put_object_retention, s3_op_get_object_retention, s3_op_put_object_legal_hold,
    s3_op_get_object_legal_hold, s3_op_put_bucket_cors, s3_op_get_bucket_cors,
    s3_op_delete_bucket_cors, s3_op_cors_preflight, s3_op_post_object, s3_op_get_bucket_acl,
    s3_op_get_object_acl, s3_op_put_bucket_acl, s3_op_put_object_acl,
    s3_op_put_bucket_ownership_controls, s3_op_get_bucket_ownership_controls,
    s3_op_delete_bucket_ownership_controls, s3_op_get_bucket_request_payment,
    s3_op_get_object_attributes, s3_op_put_bucket_lifecycle, s3_op_get_bucket_lifecycle,
    s3_op_delete_bucket_lifecycle, s3_op_put_bucket_policy, s3_op_get_bucket_policy,
    s3_op_delete_bucket_policy, s3_op_get_bucket_policy_status, s3_op_put_public_access_block,
    s3_op_get_public_access_block, s3_op_delete_public_access_block,
    s3_op_create_bucket_metadata_configuration, s3_op_get_bucket_metadata_configuration,
    s3_op_delete_bucket_metadata_configuration, s3_op_update_metadata_journal_table,
    s3_op_update_metadata_inventory_table, s3_op_create_bucket_metadata_table_configuration,
    s3_op_get_bucket_metadata_table_configuration,
    s3_op_delete_bucket_metadata_table_configuration;

/* Authorization (s3/policy.c). The IAM action of an operation (NULL: none,
 * e.g. the CORS preflight). s3_authorize decides `action` on the bucket (key
 * NULL) or object ARN for q->caller: S3_OK or S3_ERR_ACCESS_DENIED. */
const char *s3_op_action(const s3_op_t *op);
s3_err_t s3_authorize(s3_req_t *q, const char *bucket, const char *action, const char *key,
                      size_t key_len);

/* Frees a PostObject's form parser state (s3_done). */
void s3_post_release(s3_req_t *q);

/* CORS headers for an actual (non-preflight) request carrying Origin. */
void s3_cors_actual(s3_t *s, http_req_t *r, const char *bucket);

/* x-amz-object-lock-{mode,retain-until-date,legal-hold} of a write, or the
 * bucket's default retention, into o (s3/lock.c). */
s3_err_t s3_lock_from_headers(s3_req_t *q, store_object_t *o, int64_t now_ms);

/* Receiving an object payload (s3/payload.c): PutObject and UploadPart.
 * begin checks the announced length, Content-MD5 and x-amz-checksum-* and
 * opens a blob; finish verifies every digest and finishes the blob (left in
 * q->blob for the store to consume). */
#define S3_MD5_BYTES 16
typedef struct {
    uint8_t content_md5[S3_MD5_BYTES];
    bool has_md5;
    ck_algo_t algo;        /* checksum the client asked for, CK_NONE if none */
    const char *ck_header; /* its value from a header, NULL if trailing or absent */
    /* Results of finish. */
    char etag[2 * S3_MD5_BYTES + 1];
    uint8_t md5[S3_MD5_BYTES];
    ck_algo_t algo_used; /* algo, or the default computed when none was asked */
    char ck_b64[CK_MAX_B64];
} s3_payload_t;
s3_err_t s3_payload_begin(s3_req_t *q, s3_payload_t *p, ck_algo_t default_algo);
s3_err_t s3_payload_finish(s3_req_t *q, s3_payload_t *p, const auth_chunked_t *trailers);
/* Content-*, Cache-Control, Expires, storage class, x-amz-meta-*,
 * x-amz-tagging, website redirect and owner from the request headers. */
s3_err_t s3_object_meta_from_headers(s3_req_t *q, store_object_t *o);
/* If-Match / If-None-Match of a write (PutObject, CompleteMultipartUpload). */
s3_err_t s3_write_conditions(s3_req_t *q, store_put_t *in);
/* Tags from "k1=v1&k2=v2" (x-amz-tagging) or a <Tagging> document, checked
 * against S3's limits (InvalidTag). */
s3_err_t s3_tags_from_query(s3_req_t *q, const char *s, store_kv_t **tags, size_t *n);

/* Content-MD5 / x-amz-checksum-* over a buffered request document;
 * required: one of them must be present (DeleteObjects, lock and lifecycle
 * configurations). */
s3_err_t s3_check_body_digests(s3_req_t *q, bool required);
/* ?partNumber of UploadPart / UploadPartCopy: 1..10000. */
s3_err_t s3_part_number(s3_req_t *q, uint32_t *out);

/* Shared helpers (s3/common.c). */
s3_err_t s3_begin_no_body(s3_req_t *q);  /* begin() of operations without a body */
s3_err_t s3_begin_xml_body(s3_req_t *q); /* begin() of operations taking an XML document */
s3_err_t s3_bucket_must_exist(s3_req_t *q); /* NoSuchBucket unless q->bucket exists */
/* A key-like element, URL-encoded when the listing asked for encoding-type=url. */
void s3_xml_key(buf_t *o, const char *tag, const char *s, size_t n, bool url);
/* <tag><ID>account</ID><DisplayName>kura</DisplayName></tag> */
void s3_owner_xml(const s3_req_t *q, buf_t *o, const char *tag);
/* A bucket configuration document: delete (204, absent is fine) or get
 * (`absent` when there is none; NoSuchBucket when the bucket is gone). */
s3_err_t s3_conf_delete(s3_req_t *q, const char *name);
/* Any x-amz-grant-* header (ACLs are disabled: such requests are refused). */
bool s3_has_grant_headers(const http_req_t *r);
s3_err_t s3_conf_get(s3_req_t *q, const char *name, s3_err_t absent, char **doc, size_t *len);
void s3_xml_ok(s3_req_t *q); /* 200 with Content-Type application/xml */
/* Reads the request body as a buffered document (limit S3_MAX_XML_BODY_BYTES). */
void s3_want_xml_body(s3_req_t *q);
/* Quoted ETag into out (cap >= 72). */
void s3_etag_quoted(const char *etag, char *out, size_t cap);
/* "2006-01-02T15:04:05.000Z" of a millisecond time, allocated in the arena. */
const char *s3_iso_time(s3_req_t *q, int64_t ms);
/* Writes the object headers shared by GET/HEAD (and used by PUT for the ETag). */
void s3_object_headers(s3_req_t *q, const store_object_t *o, bool with_checksum);
bool s3_valid_storage_class(const char *sc);
const char *s3_owner_id(const s3_t *s);

#endif
