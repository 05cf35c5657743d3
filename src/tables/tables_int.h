/* tables/tables_int.h: shared inside tables/, included by nobody else.
 *
 * Catalog layout (system records, store.h; every document is JSON):
 *   ns "tbuckets"          name = table bucket name  -> bucket document
 *   ns "tns/<bucket id>"   name = namespace          -> namespace document
 *   ns "ttab/<bucket id>"  name = "<ns>/<table>"     -> table document
 *   ns "tids/<bucket id>"  name = table id           -> "<ns>/<table>" (ARN lookups)
 * The bucket id (a UUID) rather than the name keys the children, so a bucket
 * re-created under an old name never meets leftovers. A table's files live in
 * the internal S3 bucket "<bucket id>--table-s3" under "<table id>/" (a name
 * the S3 API refuses to users, s3/bucket.c), which engines reach through the
 * S3 API at the warehouse location.
 *
 * Atomicity. Each change is ONE store_sys_cas batch: conditions on the
 * records it depends on (parent present, name absent, document unchanged
 * since read, no children) plus its writes. Read-modify-write of a document
 * (configuration ops, metadata pointer swaps) compares the whole document as
 * read, so any concurrent change makes the CAS fail; configuration edits then
 * re-read and retry (TABLES_RETRY_MAX), while a versionToken compare is
 * decided on the re-read document and fails as ConflictException.
 */
#ifndef KURA_TABLES_TABLES_INT_H
#define KURA_TABLES_TABLES_INT_H

#include "tables/tables.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TABLES_MAX_SEGS 10
#define TABLES_RETRY_MAX 16           /* read-modify-CAS attempts on config edits */
#define TABLES_LIST_MAX 1000          /* maxBuckets / maxNamespaces / maxTables ceiling */
#define TABLES_POLICY_MAX_BYTES 20480 /* ResourcePolicy max */
#define TABLES_TAGS_MAX 50            /* tags per resource (AWS doc) */
#define TABLES_TAG_KEY_MAX 128
#define TABLES_TAG_VALUE_MAX 256
#define TABLES_LOCATION_MAX 2048      /* MetadataLocation / VersionToken max */
#define TABLES_NAME_MAX 255           /* namespace and table names */
#define TABLES_BUCKET_NAME_MIN 3
#define TABLES_BUCKET_NAME_MAX 63
#define TABLES_TOKEN_TTL_S 3600       /* bearer token lifetime */
#define TABLES_UUID_LEN 36
#define TABLES_ARN_MAX 2048
#define TABLES_WAREHOUSE_SUFFIX "--table-s3"

struct tables {
    const kura_config_t *cfg;
    store_t *st;
    auth_identity_t id;
    /* Key of the bearer-token HMAC: derived from the root secret, so tokens
     * need no storage and die when the secret changes. Never logged. */
    uint8_t token_key[32];
};

/* ---- names.c: pure functions (unit-tested) ---------------------------- */

/* User naming rules (s3tables-api §2); managed names bypass them. */
bool tables_bucket_name_ok(const char *s);
bool tables_namespace_name_ok(const char *s);
bool tables_table_name_ok(const char *s);
/* Names accepted in lookups: user names plus managed ones (NOTES 12):
 * [a-z0-9_-], 1..255 (buckets 3..63). */
bool tables_lookup_name_ok(const char *s, size_t min, size_t max);

typedef struct {
    char region[33];
    char account[13];
    char bucket[TABLES_BUCKET_NAME_MAX + 1];
    char table_id[TABLES_NAME_MAX + 1]; /* "" for a bucket ARN */
} tables_arn_t;

/* Parses a table bucket ARN or a table ARN against the model's patterns
 * (arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:bucket/[a-z0-9_-]{3,63}
 * [/table/[a-zA-Z0-9-_]{1,255}]). allow_table / allow_bucket choose which
 * forms are accepted. false on anything else. */
bool tables_arn_parse(const char *s, bool allow_bucket, bool allow_table, tables_arn_t *out);

/* Random UUID v4, lowercase, NUL-terminated. */
void tables_uuid(char out[TABLES_UUID_LEN + 1]);

/* Bearer tokens: "kura1.<hex access key>.<expiry s>.<hex hmac>" where the
 * HMAC-SHA256 under key covers "<access key>\n<expiry>". */
#define TABLES_TOKEN_MAX 400
bool tables_token_make(const uint8_t key[32], const char *access_key, int64_t expires_s,
                       char *out, size_t cap);
/* true if tok is well-formed, its HMAC matches and now_s < expiry; then the
 * access key is copied to ak (cap bytes). */
bool tables_token_check(const uint8_t key[32], const char *tok, int64_t now_s, char *ak,
                        size_t cap);

/* ---- errors.c ---------------------------------------------------------- */

/* Fills r with the error in the S3 Tables shape (iceberg false) or as an
 * Iceberg ErrorModel; msg NULL: the code's default message. */
void tables_error(http_req_t *r, bool iceberg, tables_err_t e, const char *msg);
/* OAuth2 token endpoint errors: {"error":code,"error_description":...}. */
void tables_oauth_error(http_req_t *r, unsigned status, const char *code, const char *desc);
tables_err_t tables_err_from_store(store_rc_t rc);

/* ---- catalog.c: records ----------------------------------------------- */

/* A document as read: parsed (owned: json_decref) and its exact bytes (in
 * the arena) for the CAS compare. */
typedef struct {
    json_t *doc;
    const char *raw;
    size_t len;
    char ns[64 + TABLES_UUID_LEN];   /* store namespace */
    char name[2 * TABLES_NAME_MAX + 2];
} tables_rec_t;

void tables_rec_release(tables_rec_t *r); /* NULL doc is fine */

tables_err_t tables_bucket_load(tables_t *t, arena_t *a, const char *name, tables_rec_t *out);
tables_err_t tables_namespace_load(tables_t *t, arena_t *a, const char *bucket_id,
                                   const char *ns, tables_rec_t *out);
tables_err_t tables_table_load(tables_t *t, arena_t *a, const char *bucket_id, const char *ns,
                               const char *name, tables_rec_t *out);
tables_err_t tables_table_load_id(tables_t *t, arena_t *a, const char *bucket_id,
                                  const char *table_id, tables_rec_t *out);

/* Store namespaces of one bucket's children (buf of 64 + uuid bytes). */
void tables_ns_of(char *out, size_t cap, const char *kind, const char *bucket_id);

/* Edits a loaded document: fn changes doc in place (or returns an error and
 * nothing is written). The write is a CAS against the bytes read; on a lost
 * race the record is re-read and fn runs again. rec is updated to the
 * document written. missing: the error when the record vanished. */
typedef tables_err_t (*tables_edit_fn)(json_t *doc, void *arg);
tables_err_t tables_rec_edit(tables_t *t, arena_t *a, tables_rec_t *rec, tables_err_t missing,
                             tables_edit_fn fn, void *arg);
/* Serializes doc compactly into the arena (sorted keys: stable bytes). */
char *tables_doc_dump(arena_t *a, const json_t *doc, size_t *len);

/* Lists the documents of a store namespace in name order: cb gets each
 * name and parsed doc (borrowed). */
typedef bool (*tables_list_cb)(void *arg, const char *name, json_t *doc);
tables_err_t tables_rec_list(tables_t *t, arena_t *a, const char *ns, tables_list_cb cb,
                             void *arg);

/* ARNs of our resources. */
char *tables_bucket_arn(const tables_t *t, arena_t *a, const char *name);
char *tables_table_arn(const tables_t *t, arena_t *a, const char *bucket, const char *table_id);
/* Resolves an ARN (any form) to a loaded bucket (and table when the ARN
 * names one). BAD_REQUEST for a malformed ARN, NO_BUCKET / NO_TABLE. */
tables_err_t tables_resolve_arn(tables_t *t, arena_t *a, const char *arn, bool allow_bucket,
                                bool allow_table, tables_rec_t *bucket, tables_rec_t *table);
/* The bucket named by a path segment holding its ARN. */
tables_err_t tables_resolve_bucket(tables_t *t, arena_t *a, const char *arn, tables_rec_t *out);

/* Creates bucket / namespace / table documents (one CAS each). */
tables_err_t tables_bucket_create(tables_t *t, arena_t *a, const char *name, bool managed,
                                  json_t *extra, tables_rec_t *out);
tables_err_t tables_namespace_create(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                     const char *ns, const char *caller, tables_rec_t *out);
tables_err_t tables_table_create(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 const tables_rec_t *ns, const char *name, const char *caller,
                                 json_t *extra, tables_rec_t *out);
/* Deletes (CAS against the document as read). */
tables_err_t tables_bucket_delete(tables_t *t, arena_t *a, const tables_rec_t *bucket);
tables_err_t tables_namespace_delete(tables_t *t, const tables_rec_t *bucket,
                                     const tables_rec_t *ns);
tables_err_t tables_table_delete(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 const tables_rec_t *table, const char *version_token);
tables_err_t tables_table_rename(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                                 tables_rec_t *table, const char *new_ns, const char *new_name,
                                 const char *version_token);
/* UpdateTableMetadataLocation: token compare + swap; table updated. */
tables_err_t tables_table_set_location(tables_t *t, arena_t *a, tables_rec_t *table,
                                       const char *version_token, const char *location,
                                       const char *caller);
/* true when location lies under the table's warehouse and names a
 * metadata file. */
bool tables_location_ok(const json_t *table, const char *location);

/* Document accessors. */
const char *tables_str(const json_t *doc, const char *key); /* NULL if absent */
bool tables_is_managed(const json_t *doc);
void tables_info_fill(tables_t *t, arena_t *a, const tables_rec_t *bucket,
                      const tables_rec_t *table, tables_table_info_t *out);

/* The internal S3 bucket of a table bucket ("<id>--table-s3"). */
char *tables_files_bucket(arena_t *a, const char *bucket_id);
/* The warehouse location of a table: s3://<bucket id>--table-s3/<table id>. */
char *tables_warehouse(arena_t *a, const char *bucket_id, const char *table_id);
/* Removes every object of a table (purge) / every object of the bucket. */
void tables_files_purge(tables_t *t, arena_t *a, const char *bucket_id, const char *table_id);

/* ISO-8601 with ms of a stored ms timestamp. */
json_t *tables_json_time(int64_t ms);

/* ---- the request ------------------------------------------------------- */

typedef struct {
    tables_t *t;
    http_req_t *r;
    arena_t *a;
    bool iceberg;
    const char *seg[TABLES_MAX_SEGS]; /* decoded path segments */
    size_t nseg;
    const char *body;
    size_t len;
    json_t *json;       /* parsed body (owned), NULL if none */
    const char *caller; /* account id of the caller */
    const auth_caller_t *who; /* who signed, or whose bearer token it is */
    auth_caller_t bearer;     /* `who` of a bearer request */
    const char *msg;    /* message for the error being returned */
} tables_req_t;

/* Parses the body as a JSON object (an empty body is {}). BAD_REQUEST. */
tables_err_t tables_req_json(tables_req_t *q);
/* Success responses: JSON object (stolen), or an empty body. */
void tables_reply(tables_req_t *q, unsigned status, json_t *obj);
void tables_reply_empty(tables_req_t *q, unsigned status);
/* Sets q->msg (arena copy of the printf result) and returns e. */
tables_err_t tables_fail(tables_req_t *q, tables_err_t e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Operation families; each returns an error or has replied. */
tables_err_t tables_api_dispatch(tables_req_t *q);
tables_err_t tables_iceberg_dispatch(tables_req_t *q, const auth_result_t *auth);

/* Shared request-member checks. */
tables_err_t tables_check_encryption(tables_req_t *q, const json_t *v);
tables_err_t tables_check_storage_class(tables_req_t *q, const json_t *v);
tables_err_t tables_check_tags(tables_req_t *q, const json_t *v);
tables_err_t tables_check_policy(tables_req_t *q, const json_t *v);

/* The optional members CreateTableBucket and CreateTable share
 * (encryptionConfiguration, storageClassConfiguration, tags), checked and
 * gathered under their record keys into *extra (a new object the caller
 * releases; NULL on error). */
tables_err_t tables_create_extras(tables_req_t *q, json_t **extra);

/* May q's caller do `action` ("s3tables:GetTableData") on table tb of
 * bucket b (either may be NULL or empty: then the bucket's ARN, or "*")?
 * Root always; a user by its identity policy and the bucket's and table's
 * resource policies (api.c). FORBIDDEN with a message otherwise. */
tables_err_t tables_authorize(tables_req_t *q, const char *action, const tables_rec_t *b,
                              const tables_rec_t *tb);

/* ---- api.c helpers shared by the operation files ----------------------- */

/* The bucket named by an ARN path segment / query value (BAD_REQUEST with a
 * message for a malformed ARN). */
tables_err_t tables_req_bucket(tables_req_t *q, const char *arn, tables_rec_t *b);
/* Bucket ARN + namespace + table name -> both records. */
tables_err_t tables_req_table(tables_req_t *q, const char *arn, const char *ns, const char *name,
                              tables_rec_t *b, tables_rec_t *tb);
tables_err_t tables_param_int(tables_req_t *q, const char *name, uint64_t min, uint64_t max,
                              uint64_t def, uint64_t *out);
tables_err_t tables_page_start(tables_req_t *q, char **after);
json_t *tables_page_token(arena_t *a, const char *last);
tables_err_t tables_prefix_param(tables_req_t *q, size_t max, const char **out);
/* Sets (v stolen) or removes (v NULL) a top-level member of a record. */
tables_err_t tables_set_member(tables_req_t *q, tables_rec_t *rec, tables_err_t missing,
                               const char *key, json_t *v, bool must_exist);

/* ---- api_tables.c: operations on tables and everything below them -------- */

tables_err_t tables_op_get_bucket_maintenance(tables_req_t *q);
tables_err_t tables_op_put_bucket_maintenance(tables_req_t *q);
tables_err_t tables_op_create_table(tables_req_t *q);
tables_err_t tables_op_list_tables(tables_req_t *q);
tables_err_t tables_op_get_table(tables_req_t *q);
tables_err_t tables_op_delete_table(tables_req_t *q);
tables_err_t tables_op_rename_table(tables_req_t *q);
tables_err_t tables_op_get_metadata_location(tables_req_t *q);
tables_err_t tables_op_update_metadata_location(tables_req_t *q);
tables_err_t tables_op_get_table_encryption(tables_req_t *q);
tables_err_t tables_op_get_table_storage_class(tables_req_t *q);
tables_err_t tables_op_put_table_policy(tables_req_t *q);
tables_err_t tables_op_get_table_policy(tables_req_t *q);
tables_err_t tables_op_delete_table_policy(tables_req_t *q);
tables_err_t tables_op_get_table_maintenance(tables_req_t *q);
tables_err_t tables_op_put_table_maintenance(tables_req_t *q);
tables_err_t tables_op_get_maintenance_job_status(tables_req_t *q);
tables_err_t tables_op_put_bucket_replication(tables_req_t *q);
tables_err_t tables_op_get_bucket_replication(tables_req_t *q);
tables_err_t tables_op_delete_bucket_replication(tables_req_t *q);
tables_err_t tables_op_put_table_replication(tables_req_t *q);
tables_err_t tables_op_get_table_replication(tables_req_t *q);
tables_err_t tables_op_delete_table_replication(tables_req_t *q);
tables_err_t tables_op_get_replication_status(tables_req_t *q);
tables_err_t tables_op_put_record_expiration(tables_req_t *q);
tables_err_t tables_op_get_record_expiration(tables_req_t *q);
tables_err_t tables_op_get_record_expiration_job_status(tables_req_t *q);
tables_err_t tables_op_tag_resource(tables_req_t *q);
tables_err_t tables_op_untag_resource(tables_req_t *q);
tables_err_t tables_op_list_tags(tables_req_t *q);

/* Creates a table (CreateTable and Iceberg createTable): writes the first
 * metadata file when schema_json is given (an Iceberg schema object), then
 * the catalog record. Results: *tb (release it) and the metadata. */
tables_err_t tables_table_create_full(tables_req_t *q, const tables_rec_t *b,
                                      const tables_rec_t *ns, const char *name,
                                      const char *schema_json, const char *spec_json,
                                      const char *order_json, const char *props_json,
                                      json_t *extra, tables_rec_t *tb, ice_metadata_t **meta);
/* Iceberg ice_rc_t -> tables error (+ message). */
tables_err_t tables_err_from_ice(tables_req_t *q, ice_rc_t rc, const ice_err_t *err);

#endif
