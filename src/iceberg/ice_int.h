/* iceberg/ice_int.h: shared inside iceberg/, included by nobody else. */
#ifndef KURA_ICEBERG_INT_H
#define KURA_ICEBERG_INT_H

#include "iceberg/iceberg.h"
#include "util/buf.h"

#include <jansson.h>

/* Formats a message into err (NULL is fine) and returns rc, so a failure
 * site reads `return ice_fail(err, ICE_ERR_CORRUPT, "...")`. */
ice_rc_t ice_fail(ice_err_t *err, ice_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- metadata.c ---- */
/* Strict JSON integer member: absent -> ICE_ERR_NOT_FOUND, non-integer or
 * outside [lo, hi] -> ICE_ERR_CORRUPT. */
ice_rc_t ice_json_int(const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out);
/* Parses an Iceberg schema object (type struct) into `out` (arena a). */
ice_rc_t ice_schema_from_json(arena_t *a, const json_t *js, ice_schema_t *out, ice_err_t *err);
/* Deterministic serialization: every object's keys ordered by a fixed rank
 * table, then by name; compact. Result NUL-terminated in `a`. */
ice_rc_t ice_json_canonical(arena_t *a, const json_t *root, char **out, size_t *len);
/* Normalizes a metadata tree (v1 defaults, empty lists, current-snapshot-id
 * -1), dumps it canonically and builds the typed view. Takes a reference to
 * root (the caller keeps its own). CORRUPT on anything invalid. */
ice_rc_t ice_metadata_from_tree(arena_t *a, json_t *root, ice_metadata_t **out, ice_err_t *err);
/* JSON of a type, for manifest headers (schema) and Avro schemas. */
json_t *ice_schema_to_json(const ice_schema_t *s);
json_t *ice_spec_fields_to_json(const ice_partition_spec_t *spec);
int64_t ice_now_ms(int64_t now_ms);

/* ---- avro.c: the object container format, writer and generic decoder ---- */
typedef struct {
    buf_t out;   /* whole file */
    buf_t block; /* records of the current block */
    uint8_t sync[16];
    uint64_t block_count;
    bool deflate;
} ice_avro_writer_t;

typedef struct {
    const char *key;
    const char *value;
} ice_avro_meta_t;

ice_rc_t ice_avro_writer_init(ice_avro_writer_t *w, const char *schema_json,
                              const ice_avro_meta_t *meta, size_t n_meta, bool deflate);
/* Record bytes go into w->block through these; call ice_avro_record_end
 * after each record (it flushes full blocks). */
void ice_avro_put_long(buf_t *b, int64_t v);
void ice_avro_put_bytes(buf_t *b, const void *p, size_t n);
void ice_avro_put_str(buf_t *b, const char *s);
void ice_avro_put_bool(buf_t *b, bool v);
void ice_avro_put_double(buf_t *b, double v);
void ice_avro_put_float(buf_t *b, float v);
ice_rc_t ice_avro_record_end(ice_avro_writer_t *w);
/* Flushes the last block; hands the file to arena a. Releases w always. */
ice_rc_t ice_avro_writer_finish(ice_avro_writer_t *w, arena_t *a, uint8_t **out, size_t *len);
void ice_avro_writer_release(ice_avro_writer_t *w);

/* Decoded value tree. Records keep the writer schema's field names and
 * Iceberg field ids (-1 when absent). */
typedef enum {
    AV_NULL = 1,
    AV_BOOL,
    AV_INT,
    AV_LONG,
    AV_FLOAT,
    AV_DOUBLE,
    AV_BYTES,
    AV_STRING,
    AV_FIXED,
    AV_ENUM,
    AV_RECORD,
    AV_ARRAY,
    AV_MAP,
} ice_av_kind_t;

typedef struct ice_av ice_av_t;
struct ice_av {
    ice_av_kind_t kind;
    const char *logical; /* logicalType of the branch taken, or NULL */
    int64_t i;           /* bool, int, long, enum index */
    double d;
    const uint8_t *bytes; /* bytes, string, fixed */
    size_t len;
    /* record: n fields, names[], ids[]; array/map: n items (map: names = keys) */
    size_t n;
    ice_av_t **items;
    const char **names;
    const int32_t *ids;
};

typedef struct {
    const char *schema_json; /* avro.schema */
    size_t schema_len;
    const ice_av_t *const *records;
    size_t n_records;
} ice_avro_file_t;

/* Decodes a whole container file into value trees (arena a). */
ice_rc_t ice_avro_decode(arena_t *a, const uint8_t *data, size_t len, ice_avro_file_t *out,
                         ice_err_t *err);
/* A record's field by Iceberg id, else by name; NULL when absent. A union
 * null yields an AV_NULL item (check with ice_av_is_null). */
const ice_av_t *ice_av_field(const ice_av_t *rec, int32_t id, const char *name);
bool ice_av_is_null(const ice_av_t *v);

/* ---- transform.c ---- */
ice_rc_t ice_kind_from_name(const char *s, ice_kind_t *kind, int32_t *p1, int32_t *p2,
                            int64_t *len);

#endif
