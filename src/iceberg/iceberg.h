/* iceberg/iceberg.h: the Iceberg core. Table metadata JSON, commits, Avro
 * manifests and manifest lists, Parquet data files through DuckDB, snapshots,
 * partition transforms and scan planning. No HTTP in here: the S3 Tables
 * service (tables/), the journal publisher (journal/) and the SQL room
 * (query/) call it. Reference: shared/specs/iceberg.md (section numbers "§"
 * below), and the Apache Iceberg table spec where they disagree.
 *
 * Conventions (all calls):
 *   - Results are allocated from the caller's arena_t; nothing is freed
 *     separately. A metadata value (ice_metadata_t) is immutable once made:
 *     commits produce a new one.
 *   - Every file read through ice_io_t is hostile input (engines write them):
 *     malformed content is ICE_ERR_CORRUPT, never an assert.
 *   - `err` (may be NULL) receives a one-line human message on failure,
 *     suitable for an Iceberg ErrorModel "message". It never holds secrets.
 *   - Threads: every call is reentrant; nothing is global. An ice_io_t or a
 *     duckdb_connection must not be shared by two threads at once unless its
 *     owner says so.
 *   - Clock: calls that stamp times take `now_ms` (epoch ms); pass 0 for the
 *     service clock (util/clock.h). */
#ifndef KURA_ICEBERG_H
#define KURA_ICEBERG_H

#include "util/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Errors. Append only; never renumber or reuse a code.                     */

typedef enum {
    ICE_OK = 0,
    ICE_ERR_INVALID,     /* malformed request/update/argument: REST 400 BadRequest */
    ICE_ERR_CONFLICT,    /* a requirement failed or the base is stale: REST 409 CommitFailed */
    ICE_ERR_UNSUPPORTED, /* valid Iceberg kura does not handle (v3 write, codec...): 406/400 */
    ICE_ERR_CORRUPT,     /* a stored file (metadata, Avro, Parquet) does not parse */
    ICE_ERR_NOT_FOUND,   /* a file, snapshot, schema or ref named does not exist */
    ICE_ERR_IO,          /* the ice_io_t backend failed */
    ICE_ERR_NOMEM,       /* arena ceiling or memory exhausted */
    ICE_ERR_TOO_LARGE,   /* input over a documented limit (ICE_*_MAX) */
    ICE_ERR_DUCKDB,      /* DuckDB refused a statement (message in err) */
    ICE_ERR__COUNT       /* keep last */
} ice_rc_t;

typedef struct {
    char msg[256];
} ice_err_t;

/* Stable lowercase name of a code ("conflict", ...), for logs. */
const char *ice_rc_name(ice_rc_t rc);

/* Limits on hostile input. Exceeding one is ICE_ERR_TOO_LARGE. */
#define ICE_METADATA_MAX_BYTES ((size_t)64 << 20) /* AWS caps metadata at 50 MB */
#define ICE_AVRO_MAX_BYTES ((size_t)256 << 20)    /* one manifest or list file */
#define ICE_AVRO_BLOCK_MAX_BYTES ((size_t)64 << 20) /* one block, inflated */
#define ICE_SCHEMA_MAX_DEPTH 32                   /* nesting of struct/list/map */
#define ICE_FIELD_ID_MAX INT32_MAX

/* ------------------------------------------------------------------------ */
/* File I/O seam. Locations are absolute URIs, "s3://bucket/path". The
 * service implements this over kura's object store; tests use
 * ice_io_local(). Each callback returns 0 on success, ICE_ERR_NOT_FOUND for
 * a missing object on read, any other ice_rc_t on failure.
 *   read:       whole object into memory from `a` (*data NUL-terminated for
 *               convenience, *len excludes it). Implementations must refuse
 *               objects over `max_bytes` with ICE_ERR_TOO_LARGE.
 *   write:      create or replace the object; durable when it returns.
 *   write_file: move a finished local file (e.g. Parquet from DuckDB) into
 *               place; the local file is consumed (gone afterwards) on
 *               success and left for the caller to remove on failure.
 *   remove:     delete (maintenance, failed-commit cleanup); NOT_FOUND is
 *               fine to ignore. May be NULL (then nothing is ever removed). */
typedef struct {
    void *ctx;
    int (*read)(void *ctx, const char *location, size_t max_bytes, arena_t *a, char **data,
                size_t *len);
    int (*write)(void *ctx, const char *location, const void *data, size_t len);
    int (*write_file)(void *ctx, const char *location, const char *local_path);
    int (*remove)(void *ctx, const char *location);
} ice_io_t;

/* A local-directory backend: s3://b/p maps to <root_dir>/b/p (directories
 * created as needed). Locations with "..", "." or empty segments, or another
 * scheme, are refused with ICE_ERR_INVALID: a location never escapes root.
 * Writes go to a temp file, fsync, rename. The ice_io_t and its root copy are
 * allocated from `a`. For tests and tools; the server uses the object store. */
ice_io_t *ice_io_local(arena_t *a, const char *root_dir);

/* ------------------------------------------------------------------------ */
/* Types and schemas (§2). The schema tree is read-only; field ids are the
 * identity of a column everywhere (Avro, Parquet, stats). */

typedef enum {
    ICE_T_BOOLEAN = 1,
    ICE_T_INT,
    ICE_T_LONG,
    ICE_T_FLOAT,
    ICE_T_DOUBLE,
    ICE_T_DECIMAL, /* precision, scale */
    ICE_T_DATE,    /* days since 1970-01-01 */
    ICE_T_TIME,    /* µs since midnight */
    ICE_T_TIMESTAMP,    /* µs since epoch, no zone */
    ICE_T_TIMESTAMPTZ,  /* µs since epoch, UTC */
    ICE_T_TIMESTAMP_NS, /* v3 */
    ICE_T_TIMESTAMPTZ_NS,
    ICE_T_STRING,
    ICE_T_UUID,
    ICE_T_FIXED, /* length */
    ICE_T_BINARY,
    ICE_T_UNKNOWN, /* v3 "unknown"; also variant/geometry read through, never written */
    ICE_T_STRUCT,
    ICE_T_LIST,
    ICE_T_MAP,
} ice_kind_t;

typedef struct ice_type ice_type_t;

typedef struct {
    int32_t id;
    const char *name;
    bool required;
    const ice_type_t *type;
    const char *doc; /* NULL when absent */
} ice_field_t;

struct ice_type {
    ice_kind_t kind;
    const char *name;    /* the Iceberg spelling: "long", "decimal(9,2)", "struct"... */
    int32_t precision;   /* decimal */
    int32_t scale;       /* decimal */
    int64_t length;      /* fixed */
    const ice_field_t *fields; /* struct */
    size_t n_fields;
    ice_field_t element; /* list: id = element-id, required = element-required */
    ice_field_t key;     /* map */
    ice_field_t value;   /* map */
};

typedef struct {
    int32_t schema_id;
    const ice_type_t *root; /* kind ICE_T_STRUCT */
    const int32_t *identifier_field_ids;
    size_t n_identifier_field_ids;
    int32_t highest_field_id; /* largest id anywhere in the tree */
} ice_schema_t;

/* The field with `id` anywhere in the schema (struct members, list
 * elements, map keys/values), or NULL. */
const ice_field_t *ice_schema_find(const ice_schema_t *s, int32_t id);

/* ------------------------------------------------------------------------ */
/* Values and partition transforms (§3, spec Appendix B). */

/* One primitive value, in Iceberg's physical units (date: days, time and
 * timestamps: µs, decimal: unscaled in i up to 18 digits). Strings, binary,
 * fixed and uuid (16 bytes, big-endian) use `bytes`. */
typedef struct {
    bool is_null;
    ice_kind_t kind;
    int64_t i; /* boolean, int, long, date, time, timestamp*, decimal */
    double d;  /* float, double */
    const uint8_t *bytes;
    size_t len;
} ice_value_t;

typedef enum {
    ICE_TR_IDENTITY = 1,
    ICE_TR_BUCKET,
    ICE_TR_TRUNCATE,
    ICE_TR_YEAR,
    ICE_TR_MONTH,
    ICE_TR_DAY,
    ICE_TR_HOUR,
    ICE_TR_VOID,
} ice_transform_kind_t;

typedef struct {
    ice_transform_kind_t kind;
    int32_t param; /* N for bucket[N], W for truncate[W] */
} ice_transform_t;

/* "bucket[16]" -> {ICE_TR_BUCKET, 16}. ICE_ERR_INVALID for anything else,
 * N or W < 1, or trailing bytes. */
ice_rc_t ice_transform_parse(const char *s, ice_transform_t *out);
/* Result type of the transform on a source kind; ICE_ERR_INVALID when the
 * transform does not apply to that source (bucket on a float, hour on date). */
ice_rc_t ice_transform_result_kind(const ice_transform_t *t, ice_kind_t src, ice_kind_t *out);
/* Applies `t` to `in` (of the source type). Null in -> null out. Truncated
 * strings/binary point into in->bytes (no copy). */
ice_rc_t ice_transform_apply(const ice_transform_t *t, const ice_value_t *in, ice_value_t *out);
/* Murmur3 x86 32-bit, seed 0: the bucket hash of the value's Iceberg
 * hashing form (int/long/date as 8-byte LE long; decimal minimal BE). */
ice_rc_t ice_bucket_hash(const ice_value_t *v, int32_t *out);
uint32_t ice_murmur3_32(const void *data, size_t len, uint32_t seed);

/* The single-value binary form (§5.3) of a primitive value, for bounds and
 * partition summaries, allocated from `a`. ice_value_from_binary reverses it
 * for a given kind. */
ice_rc_t ice_value_to_binary(arena_t *a, const ice_value_t *v, uint8_t **out, size_t *len);
ice_rc_t ice_value_from_binary(ice_kind_t kind, const uint8_t *b, size_t len, ice_value_t *out);

/* ------------------------------------------------------------------------ */
/* Table metadata (§1). */

typedef struct {
    int32_t field_id;    /* >= 1000 */
    int32_t source_id;
    const char *name;
    const char *transform_str; /* as written, e.g. "bucket[16]" */
    ice_transform_t transform; /* kind 0 if the transform is unknown to kura */
} ice_partition_field_t;

typedef struct {
    int32_t spec_id;
    const ice_partition_field_t *fields;
    size_t n_fields;
} ice_partition_spec_t;

typedef struct {
    int32_t order_id;
    size_t n_fields; /* the fields themselves stay in the JSON */
} ice_sort_order_t;

typedef struct {
    const char *key, *value;
} ice_kv_t;

typedef struct {
    int64_t snapshot_id;
    int64_t parent_snapshot_id; /* -1: none */
    int64_t sequence_number;    /* 0 for v1 */
    int64_t timestamp_ms;
    const char *manifest_list;  /* NULL only for v1 snapshots with inline manifests */
    int32_t schema_id;          /* -1: not recorded */
    const char *operation;      /* summary "operation" */
    const ice_kv_t *summary;    /* includes "operation" */
    size_t n_summary;
} ice_snapshot_t;

typedef struct {
    const char *name;
    int64_t snapshot_id;
    bool is_tag;
} ice_ref_t;

typedef struct {
    int64_t timestamp_ms;
    int64_t snapshot_id;
} ice_snapshot_log_t;

typedef struct {
    int64_t timestamp_ms;
    const char *metadata_file;
} ice_metadata_log_t;

/* A parsed, validated metadata file. All pointers live in the arena it was
 * parsed into. `json` is the canonical serialization (deterministic: keys in
 * a fixed order, compact), which is exactly what ice_metadata_json returns
 * and what a writer should store. */
typedef struct {
    int format_version; /* 1, 2 or 3 (v3: read-only, see ice_commit_apply) */
    const char *table_uuid;
    const char *location;
    int64_t last_sequence_number;
    int64_t last_updated_ms;
    int32_t last_column_id;
    int32_t current_schema_id;
    const ice_schema_t *schemas;
    size_t n_schemas;
    int32_t default_spec_id;
    const ice_partition_spec_t *specs;
    size_t n_specs;
    int32_t last_partition_id;
    int32_t default_sort_order_id;
    const ice_sort_order_t *sort_orders;
    size_t n_sort_orders;
    const ice_kv_t *properties; /* sorted by key */
    size_t n_properties;
    int64_t current_snapshot_id; /* -1: none */
    const ice_snapshot_t *snapshots;
    size_t n_snapshots;
    const ice_ref_t *refs; /* sorted by name */
    size_t n_refs;
    const ice_snapshot_log_t *snapshot_log;
    size_t n_snapshot_log;
    const ice_metadata_log_t *metadata_log;
    size_t n_metadata_log;
    const char *json; /* canonical serialization */
    size_t json_len;
} ice_metadata_t;

/* Parses and validates a metadata file (v1, v2; v3 is accepted for reading).
 * Accepts current-snapshot-id -1/null/absent; v1 `schema`/`partition-spec`
 * without the lists. Validates what readers rely on: current schema, default
 * spec and sort order exist; refs and current-snapshot-id name existing
 * snapshots; ids in range; last-column-id >= every field id.
 * Returns: ICE_OK, ICE_ERR_CORRUPT (not Iceberg metadata), ICE_ERR_UNSUPPORTED
 *          (format-version > 3), ICE_ERR_TOO_LARGE, ICE_ERR_NOMEM. */
ice_rc_t ice_metadata_parse(arena_t *a, const char *json, size_t len, ice_metadata_t **out,
                            ice_err_t *err);

/* The canonical JSON text (NUL-terminated, in m's arena). */
const char *ice_metadata_json(const ice_metadata_t *m, size_t *len);

/* Creates metadata for a new table, as REST CreateTable does (§8.3): every
 * field id in `schema_json` (an Iceberg schema object) is reassigned from 1
 * in Java's AssignFreshIds order (a struct's fields, then what each
 * contains; list element; map key, value) and identifier-field-ids follow; `spec_json` (may be NULL: unpartitioned) and
 * `sort_order_json` (may be NULL: unsorted) refer to the client's source ids
 * and are remapped; partition field ids from 1000, sort order id 1;
 * table-uuid generated. `properties_json` (object of strings, may be NULL):
 * "format-version" selects 1 or 2 (default 2) and reserved keys are dropped.
 * `location` has no trailing '/'.
 * Returns: ICE_OK, ICE_ERR_INVALID (bad schema/spec/order/location/props). */
ice_rc_t ice_metadata_new(arena_t *a, const char *schema_json, const char *spec_json,
                          const char *sort_order_json, const char *location,
                          const char *properties_json, int64_t now_ms, ice_metadata_t **out,
                          ice_err_t *err);

const ice_schema_t *ice_metadata_schema(const ice_metadata_t *m, int32_t schema_id); /* -1: current */
const ice_partition_spec_t *ice_metadata_spec(const ice_metadata_t *m, int32_t spec_id); /* -1: default */
const ice_snapshot_t *ice_metadata_snapshot(const ice_metadata_t *m, int64_t snapshot_id); /* -1: current */
const ice_ref_t *ice_metadata_ref(const ice_metadata_t *m, const char *name);
const char *ice_metadata_property(const ice_metadata_t *m, const char *key);
/* Summary value of a snapshot, or NULL. */
const char *ice_snapshot_summary(const ice_snapshot_t *s, const char *key);

/* Time travel (§4.3): the snapshot that was current at `timestamp_ms`
 * (last snapshot-log entry <= t). ICE_ERR_NOT_FOUND if none. */
ice_rc_t ice_snapshot_as_of(const ice_metadata_t *m, int64_t timestamp_ms, int64_t *snapshot_id);

/* Next metadata file location: "<location>/metadata/NNNNN-<uuid>.metadata.json"
 * where NNNNN is one more than the version in `prev_location`'s name (0 when
 * prev_location is NULL or not in that form). */
char *ice_metadata_file_location(arena_t *a, const ice_metadata_t *m, const char *prev_location);

/* ------------------------------------------------------------------------ */
/* Commits (§8.3, REST CommitTableRequest). */

typedef struct {
    int64_t now_ms;            /* 0: service clock */
    const char *base_location; /* base's metadata file; appended to metadata-log. NULL: none */
    int metadata_log_max;      /* 0: property write.metadata.previous-versions-max, else 100 */
} ice_commit_opts_t;

/* Checks every requirement against `base`, then applies the updates in
 * order, producing new metadata in `a`. `base` NULL means the table does not
 * exist (create transaction: updates build it from nothing, after
 * assign-uuid, upgrade-format-version, add-schema...). Requirements and
 * updates are the JSON arrays of a CommitTableRequest (either may be NULL =
 * empty).
 *
 * Requirements: assert-create, assert-table-uuid, assert-ref-snapshot-id,
 * assert-last-assigned-field-id, assert-current-schema-id,
 * assert-last-assigned-partition-id, assert-default-spec-id,
 * assert-default-sort-order-id.
 * Updates: assign-uuid, upgrade-format-version, add-schema,
 * set-current-schema (-1 = last added), add-spec, set-default-spec (-1),
 * add-sort-order, set-default-sort-order (-1), add-snapshot,
 * set-snapshot-ref, remove-snapshots, remove-snapshot-ref, set-location,
 * set-properties, remove-properties, set-statistics, remove-statistics,
 * set-partition-statistics, remove-partition-statistics,
 * remove-partition-specs, remove-schemas.
 *
 * On success *out has last-updated-ms = now (never before the newest log
 * entry), the base file in metadata-log (if opts->base_location),
 * snapshot-log extended when main moves, current-snapshot-id = refs.main.
 * `*changed` (may be NULL) is false when the updates changed nothing, in
 * which case *out is a copy of base and callers skip the write.
 * Returns:
 *   ICE_OK
 *   ICE_ERR_CONFLICT  a requirement failed, or an added snapshot's
 *                     sequence-number is not above last-sequence-number:
 *                     the client must refresh (409 CommitFailedException)
 *   ICE_ERR_INVALID   malformed JSON, unknown requirement/update type,
 *                     an update that would break the table (400)
 *   ICE_ERR_UNSUPPORTED base or target format-version 3
 *   ICE_ERR_NOMEM
 * On any error nothing is produced; base is never modified. */
ice_rc_t ice_commit_apply(arena_t *a, const ice_metadata_t *base, const char *requirements_json,
                          const char *updates_json, const ice_commit_opts_t *opts,
                          ice_metadata_t **out, bool *changed, ice_err_t *err);

/* Random snapshot id in [1, 2^53 - 1] (JavaScript-safe, §4.1). */
int64_t ice_snapshot_id_new(void);
/* Random lowercase canonical UUID v4 into out[37]. */
void ice_uuid_new(char out[37]);

/* ------------------------------------------------------------------------ */
/* Manifests (§5). */

typedef struct {
    int32_t id;
    int64_t v;
} ice_id_long_t;

typedef struct {
    int32_t id;
    const uint8_t *data;
    size_t len;
} ice_id_bytes_t;

typedef enum { ICE_CONTENT_DATA = 0, ICE_CONTENT_POS_DELETES = 1, ICE_CONTENT_EQ_DELETES = 2 } ice_content_t;

/* data_file (r2). Metrics arrays may be empty (n = 0: not written). The
 * partition tuple has one value per field of the file's spec, in order. */
typedef struct {
    ice_content_t content;
    const char *file_path;
    const char *file_format; /* "PARQUET" */
    const ice_value_t *partition;
    size_t n_partition;
    int64_t record_count;
    int64_t file_size_in_bytes;
    const ice_id_long_t *column_sizes;
    size_t n_column_sizes;
    const ice_id_long_t *value_counts;
    size_t n_value_counts;
    const ice_id_long_t *null_value_counts;
    size_t n_null_value_counts;
    const ice_id_long_t *nan_value_counts;
    size_t n_nan_value_counts;
    const ice_id_bytes_t *lower_bounds;
    size_t n_lower_bounds;
    const ice_id_bytes_t *upper_bounds;
    size_t n_upper_bounds;
    const int64_t *split_offsets;
    size_t n_split_offsets;
    const int32_t *equality_ids;
    size_t n_equality_ids;
    int32_t sort_order_id; /* -1: null */
    const char *referenced_data_file; /* NULL: absent */
} ice_data_file_t;

typedef enum { ICE_STATUS_EXISTING = 0, ICE_STATUS_ADDED = 1, ICE_STATUS_DELETED = 2 } ice_status_t;

/* manifest_entry. -1 in snapshot_id / sequence numbers means null (inherit,
 * §4.2). Readers (ice_manifest_read) resolve inheritance for ADDED entries
 * from the manifest-list entry, so they return no -1 there. */
typedef struct {
    ice_status_t status;
    int64_t snapshot_id;
    int64_t sequence_number;
    int64_t file_sequence_number;
    ice_data_file_t file;
} ice_manifest_entry_t;

typedef struct {
    bool contains_null;
    int contains_nan; /* -1 null, 0, 1 */
    const uint8_t *lower, *upper; /* NULL: null */
    size_t lower_len, upper_len;
} ice_field_summary_t;

/* manifest_file: one entry of a manifest list. */
typedef struct {
    const char *manifest_path;
    int64_t manifest_length;
    int32_t partition_spec_id;
    ice_content_t content; /* DATA or deletes (1) */
    int64_t sequence_number;
    int64_t min_sequence_number;
    int64_t added_snapshot_id;
    int32_t added_files_count, existing_files_count, deleted_files_count;
    int64_t added_rows_count, existing_rows_count, deleted_rows_count;
    const ice_field_summary_t *partitions;
    size_t n_partitions;
} ice_manifest_file_t;

/* Encodes a manifest (Avro object container, §5.2) for `schema` + `spec`,
 * format v2, with every header key Iceberg readers need. `deflate` selects
 * the deflate codec (else null). The file bytes are allocated from `a`.
 * Entries must all have the given content class (data vs deletes).
 * Returns ICE_OK, ICE_ERR_INVALID (partition tuple not matching the spec),
 * ICE_ERR_NOMEM. */
ice_rc_t ice_manifest_encode(arena_t *a, const ice_schema_t *schema,
                             const ice_partition_spec_t *spec, bool deletes,
                             const ice_manifest_entry_t *entries, size_t n, bool deflate,
                             uint8_t **out, size_t *out_len);

/* Encodes a manifest list (§5.1) for snapshot `snapshot_id`. */
ice_rc_t ice_manifest_list_encode(arena_t *a, int64_t snapshot_id, int64_t parent_snapshot_id,
                                  int64_t sequence_number, const ice_manifest_file_t *files,
                                  size_t n, bool deflate, uint8_t **out, size_t *out_len);

/* Decode a manifest / manifest list written by any engine (any field order
 * per the writer schema in the header; unknown fields skipped; fields
 * resolved by field-id, else by name). `list_entry` (may be NULL) gives the
 * sequence number and snapshot id ADDED entries inherit (without it they
 * stay -1). Partition values are typed from the writer's Avro schema
 * (int+date -> ICE_T_DATE, long+timestamp-micros -> ICE_T_TIMESTAMP, ...).
 * Codecs: null and deflate (what Java, PyIceberg and DuckDB write by
 * default); snappy/zstandard -> ICE_ERR_UNSUPPORTED.
 * Returns ICE_OK, ICE_ERR_CORRUPT, ICE_ERR_UNSUPPORTED (codec), ICE_ERR_TOO_LARGE,
 * ICE_ERR_NOMEM. */
ice_rc_t ice_manifest_decode(arena_t *a, const uint8_t *data, size_t len,
                             const ice_manifest_file_t *list_entry, ice_manifest_entry_t **out,
                             size_t *n, ice_err_t *err);
ice_rc_t ice_manifest_list_decode(arena_t *a, const uint8_t *data, size_t len,
                                  ice_manifest_file_t **out, size_t *n, ice_err_t *err);

/* One Avro header metadata value ("avro.schema", "partition-spec", ...) of
 * an object container file, or ICE_ERR_NOT_FOUND. For tests and tools. */
ice_rc_t ice_avro_header_get(arena_t *a, const uint8_t *data, size_t len, const char *key,
                             const char **value, size_t *value_len);

/* duckdb.h is not -Wstrict-prototypes clean, so this header does not include
 * it; the struct tag is DuckDB's own, so a duckdb_connection converts. */
struct _duckdb_connection;

/* ------------------------------------------------------------------------ */
/* Parquet data files through DuckDB (§6). `conn` is a connection of a DuckDB
 * instance that may read and write local files (NOTES 21: kura's writer
 * instance, not the user SQL instance). */

/* Runs `COPY (select_sql) TO local_path (FORMAT parquet, FIELD_IDS {...})`
 * with the ids of `schema` (nested ids via __duckdb_field_id / element /
 * key / value). select_sql must yield the schema's top-level columns, by
 * name, with DuckDB types matching §6. Then computes the data_file stats
 * (ice_parquet_stats) with file_path = `location`.
 * Returns ICE_OK, ICE_ERR_DUCKDB, ICE_ERR_INVALID, ICE_ERR_IO, ICE_ERR_NOMEM. */
ice_rc_t ice_parquet_write(struct _duckdb_connection *conn, arena_t *a, const ice_schema_t *schema,
                           const char *select_sql, const char *local_path, const char *location,
                           ice_data_file_t *out, ice_err_t *err);

/* Manifest statistics of an existing local Parquet file: record count, size,
 * column sizes, value/null/NaN counts per leaf field id (read from the
 * file's own field ids), lower/upper bounds (§5.3; strings truncated to 16
 * code points, upper bound incremented) for primitive leaves outside
 * lists/maps of kind boolean, int, long, float, double, date, time,
 * timestamp(tz), string, uuid. Decimal/binary/fixed bounds are omitted.
 * The partition tuple is left empty; see ice_partition_from_bounds. */
ice_rc_t ice_parquet_stats(struct _duckdb_connection *conn, arena_t *a, const ice_schema_t *schema,
                           const char *local_path, const char *location, ice_data_file_t *out,
                           ice_err_t *err);

/* Fills df->partition for `spec` from the file's bounds when every row maps
 * to one partition (transform(lower) == transform(upper); for bucket and
 * truncate on strings, lower must equal upper). A source column with no
 * bounds and null_value_counts == value_counts gives a null partition value.
 * ICE_ERR_INVALID when the file spans partitions (the writer must split). */
ice_rc_t ice_partition_from_bounds(arena_t *a, const ice_schema_t *schema,
                                   const ice_partition_spec_t *spec, ice_data_file_t *df);

/* ------------------------------------------------------------------------ */
/* Snapshots (§4). Each call writes a new manifest (when files are added or
 * removed) and manifest list through `io`, then applies add-snapshot +
 * set-snapshot-ref main to `base`, returning the new metadata. The caller
 * writes the metadata file and swaps the table pointer (compare-and-swap);
 * if that loses, it calls again on the fresh base (the written manifests are
 * orphans for maintenance to remove).
 * Data files must be in the default spec with partition tuples filled. */

typedef struct {
    const ice_kv_t *summary; /* extra summary properties (engine-name...) */
    size_t n_summary;
    int64_t now_ms;         /* 0: service clock */
    int64_t snapshot_id;    /* 0: generate */
    const char *base_location; /* as in ice_commit_opts_t */
    bool deflate;           /* manifest codec */
    const char *operation;  /* ice_overwrite only: "replace" when the rows stay
                             * the same (compaction); NULL: "overwrite", or
                             * "delete" when nothing is added */
} ice_snapshot_opts_t;

/* Operation "append": carries every existing manifest forward unchanged
 * (except those left with no live file by an earlier snapshot). */
ice_rc_t ice_append(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                    const ice_data_file_t *files, size_t n, const ice_snapshot_opts_t *opts,
                    ice_metadata_t **out, ice_err_t *err);

/* Operation "overwrite" (adds and removes) or "delete" (only removes) of
 * whole data files: every path in `remove_paths` must be live in the
 * current snapshot (else ICE_ERR_CONFLICT: a concurrent commit removed it).
 * The manifests holding a removed file are rewritten into one per partition
 * spec (EXISTING / DELETED entries); others are carried forward, except
 * those an earlier snapshot left with no live file. */
ice_rc_t ice_overwrite(ice_io_t *io, arena_t *a, const ice_metadata_t *base,
                       const ice_data_file_t *add, size_t n_add, const char *const *remove_paths,
                       size_t n_remove, const ice_snapshot_opts_t *opts, ice_metadata_t **out,
                       ice_err_t *err);

/* ------------------------------------------------------------------------ */
/* Scan planning (§4.3, §7). */

typedef struct {
    const char *path;
    ice_content_t content;
    int64_t record_count;
    int64_t file_size_in_bytes;
    int64_t sequence_number; /* data sequence number (inherited resolved) */
    int32_t spec_id;
    const ice_value_t *partition;
    size_t n_partition;
    const char *referenced_data_file; /* position deletes only, may be NULL */
} ice_scan_file_t;

typedef struct {
    int64_t snapshot_id;  /* -1 for an empty table */
    int32_t schema_id;    /* of the snapshot (or current) */
    const ice_scan_file_t *data;
    size_t n_data;
    const ice_scan_file_t *deletes; /* position and equality delete files */
    size_t n_deletes;
    int64_t total_records; /* sum over data files, before deletes */
} ice_scan_t;

/* The live files of a snapshot (-1: current). An empty table gives an empty
 * scan. Returns ICE_OK, ICE_ERR_NOT_FOUND (no such snapshot or a missing
 * manifest), ICE_ERR_CORRUPT, ICE_ERR_IO, ICE_ERR_NOMEM. */
ice_rc_t ice_scan_files(ice_io_t *io, arena_t *a, const ice_metadata_t *m, int64_t snapshot_id,
                        ice_scan_t *out, ice_err_t *err);

#endif
