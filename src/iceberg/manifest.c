/* iceberg/manifest.c: manifest and manifest-list files — encode with
 * Iceberg's v2 Avro schemas (field ids on every field, Java's record names
 * r2/r102/r508/kNNN_vNNN, header keys readers require) and decode files any
 * engine wrote, by field id (iceberg.md §5.1, §5.2, §4.2). */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Schemas. Names and ids as Java writes them (duckdb-iceberg #321, #1245). */

static const char manifest_list_schema[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500},"
    "{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
    "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"field-id\":502},"
    "{\"name\":\"content\",\"type\":\"int\",\"field-id\":517},"
    "{\"name\":\"sequence_number\",\"type\":\"long\",\"field-id\":515},"
    "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"field-id\":516},"
    "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"field-id\":503},"
    "{\"name\":\"added_files_count\",\"type\":\"int\",\"field-id\":504},"
    "{\"name\":\"existing_files_count\",\"type\":\"int\",\"field-id\":505},"
    "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"field-id\":506},"
    "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":512},"
    "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"field-id\":513},"
    "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"field-id\":514},"
    "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":"
    "\"record\",\"name\":\"r508\",\"fields\":["
    "{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
    "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"default\":null,\"field-id\":518},"
    "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":510},"
    "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":511}]},"
    "\"element-id\":508}],\"default\":null,\"field-id\":507},"
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":519}]}";

#define METRIC_MAP(name, fid, kid, vid, vtype)                                                     \
    "{\"name\":\"" name "\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\"," \
    "\"name\":\"k" #kid "_v" #vid "\",\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":" #kid \
    "},{\"name\":\"value\",\"type\":\"" vtype "\",\"field-id\":" #vid "}]},\"logicalType\":\"map\"}],"  \
    "\"default\":null,\"field-id\":" #fid "},"

static const char entry_schema_head[] =
    "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
    "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
    "{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":1},"
    "{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":3},"
    "{\"name\":\"file_sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,"
    "\"field-id\":4},"
    "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
    "{\"name\":\"content\",\"type\":\"int\",\"field-id\":134},"
    "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
    "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":101},"
    "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":[";

static const char entry_schema_tail[] =
    "]},\"field-id\":102},"
    "{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":103},"
    "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"field-id\":104},"
    METRIC_MAP("column_sizes", 108, 117, 118, "long")
    METRIC_MAP("value_counts", 109, 119, 120, "long")
    METRIC_MAP("null_value_counts", 110, 121, 122, "long")
    METRIC_MAP("nan_value_counts", 137, 138, 139, "long")
    METRIC_MAP("lower_bounds", 125, 126, 127, "bytes")
    METRIC_MAP("upper_bounds", 128, 129, 130, "bytes")
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":131},"
    "{\"name\":\"split_offsets\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"long\","
    "\"element-id\":133}],\"default\":null,\"field-id\":132},"
    "{\"name\":\"equality_ids\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"int\","
    "\"element-id\":136}],\"default\":null,\"field-id\":135},"
    "{\"name\":\"sort_order_id\",\"type\":[\"null\",\"int\"],\"default\":null,\"field-id\":140},"
    "{\"name\":\"referenced_data_file\",\"type\":[\"null\",\"string\"],\"default\":null,"
    "\"field-id\":143}"
    "]},\"field-id\":2}]}";

/* Bytes of the smallest two's complement holding `precision` digits (Java
 * TypeUtil.decimalRequiredBytes). */
static int decimal_bytes(int precision)
{
    for (int n = 1; n < 17; n++) {
        double max = 1;
        for (int i = 0; i < 8 * n - 1; i++)
            max *= 2;
        double need = 1;
        for (int i = 0; i < precision; i++)
            need *= 10;
        if (max >= need)
            return n;
    }
    return 16;
}

/* Avro type of a partition field's result (iceberg.md §3 Representation). */
static void partition_avro_type(buf_t *b, const ice_partition_field_t *pf, const ice_type_t *src,
                                ice_kind_t rk)
{
    switch (rk) {
    case ICE_T_BOOLEAN: buf_puts(b, "\"boolean\""); break;
    case ICE_T_INT: buf_puts(b, "\"int\""); break;
    case ICE_T_LONG: buf_puts(b, "\"long\""); break;
    case ICE_T_FLOAT: buf_puts(b, "\"float\""); break;
    case ICE_T_DOUBLE: buf_puts(b, "\"double\""); break;
    case ICE_T_DATE: buf_puts(b, "{\"type\":\"int\",\"logicalType\":\"date\"}"); break;
    case ICE_T_TIME: buf_puts(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}"); break;
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ:
        buf_printf(b, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":%s}",
                   rk == ICE_T_TIMESTAMPTZ ? "true" : "false");
        break;
    case ICE_T_STRING: buf_puts(b, "\"string\""); break;
    case ICE_T_BINARY: buf_puts(b, "\"bytes\""); break;
    case ICE_T_UUID:
        buf_printf(b, "{\"type\":\"fixed\",\"name\":\"uuid_fixed_%d\",\"size\":16,"
                      "\"logicalType\":\"uuid\"}", (int)pf->field_id);
        break;
    case ICE_T_FIXED:
        buf_printf(b, "{\"type\":\"fixed\",\"name\":\"fixed_%d\",\"size\":%lld}",
                   (int)pf->field_id, (long long)src->length);
        break;
    case ICE_T_DECIMAL:
        buf_printf(b, "{\"type\":\"fixed\",\"name\":\"decimal_%d\",\"size\":%d,"
                      "\"logicalType\":\"decimal\",\"precision\":%d,\"scale\":%d}",
                   (int)pf->field_id, decimal_bytes(src->precision), (int)src->precision,
                   (int)src->scale);
        break;
    default: buf_puts(b, "\"null\""); break;
    }
}

/* Resolves each partition field's source and result kind. */
static ice_rc_t spec_kinds(const ice_schema_t *schema, const ice_partition_spec_t *spec,
                           ice_kind_t *kinds, const ice_type_t **srcs)
{
    for (size_t i = 0; i < spec->n_fields; i++) {
        const ice_field_t *f = ice_schema_find(schema, spec->fields[i].source_id);
        if (!f || !spec->fields[i].transform.kind ||
            ice_transform_result_kind(&spec->fields[i].transform, f->type->kind, &kinds[i]) !=
                ICE_OK)
            return ICE_ERR_INVALID;
        srcs[i] = f->type;
    }
    return ICE_OK;
}

/* ---------------------------------------------------------------------- */
/* Encoding. */

static void put_null(buf_t *b)
{
    ice_avro_put_long(b, 0);
}

static void put_opt_long(buf_t *b, int64_t v)
{
    if (v < 0) {
        put_null(b);
        return;
    }
    ice_avro_put_long(b, 1);
    ice_avro_put_long(b, v);
}

static void put_id_longs(buf_t *b, const ice_id_long_t *m, size_t n)
{
    if (!n) {
        put_null(b);
        return;
    }
    ice_avro_put_long(b, 1);
    ice_avro_put_long(b, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        ice_avro_put_long(b, m[i].id);
        ice_avro_put_long(b, m[i].v);
    }
    ice_avro_put_long(b, 0);
}

static void put_id_bytes(buf_t *b, const ice_id_bytes_t *m, size_t n)
{
    if (!n) {
        put_null(b);
        return;
    }
    ice_avro_put_long(b, 1);
    ice_avro_put_long(b, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        ice_avro_put_long(b, m[i].id);
        ice_avro_put_bytes(b, m[i].data, m[i].len);
    }
    ice_avro_put_long(b, 0);
}

static ice_rc_t put_partition_value(buf_t *b, const ice_value_t *v, ice_kind_t rk,
                                    const ice_type_t *src)
{
    if (v->is_null) {
        put_null(b);
        return ICE_OK;
    }
    ice_avro_put_long(b, 1);
    switch (rk) {
    case ICE_T_BOOLEAN: ice_avro_put_bool(b, v->i != 0); return ICE_OK;
    case ICE_T_INT:
    case ICE_T_DATE:
    case ICE_T_LONG:
    case ICE_T_TIME:
    case ICE_T_TIMESTAMP:
    case ICE_T_TIMESTAMPTZ: ice_avro_put_long(b, v->i); return ICE_OK;
    case ICE_T_FLOAT: ice_avro_put_float(b, (float)v->d); return ICE_OK;
    case ICE_T_DOUBLE: ice_avro_put_double(b, v->d); return ICE_OK;
    case ICE_T_STRING:
    case ICE_T_BINARY: ice_avro_put_bytes(b, v->bytes, v->len); return ICE_OK;
    case ICE_T_UUID:
    case ICE_T_FIXED:
        if (v->len != (rk == ICE_T_UUID ? 16 : (size_t)src->length))
            return ICE_ERR_INVALID;
        buf_append(b, v->bytes, v->len);
        return ICE_OK;
    case ICE_T_DECIMAL: {
        /* Fixed-size big-endian, sign-extended from the int64 unscaled value. */
        int n = decimal_bytes(src->precision);
        for (int i = n - 1; i >= 0; i--) {
            int sh = 8 * i;
            buf_putc(b, (char)(sh >= 64 ? (v->i < 0 ? 0xFF : 0) : (uint8_t)((uint64_t)v->i >> sh)));
        }
        return ICE_OK;
    }
    default: return ICE_ERR_INVALID;
    }
}

ice_rc_t ice_manifest_encode(arena_t *a, const ice_schema_t *schema,
                             const ice_partition_spec_t *spec, bool deletes,
                             const ice_manifest_entry_t *entries, size_t n, bool deflate,
                             uint8_t **out, size_t *out_len)
{
    size_t nf = spec->n_fields;
    ice_kind_t *kinds = arena_alloc(a, (nf ? nf : 1) * sizeof *kinds);
    const ice_type_t **srcs = arena_alloc(a, (nf ? nf : 1) * sizeof *srcs);
    if (!kinds || !srcs)
        return ICE_ERR_NOMEM;
    ice_rc_t rc = spec_kinds(schema, spec, kinds, srcs);
    if (rc != ICE_OK)
        return rc;
    buf_t sch;
    buf_init(&sch, BUF_MAX_DEFAULT);
    buf_puts(&sch, entry_schema_head);
    for (size_t i = 0; i < nf; i++) {
        const ice_partition_field_t *pf = &spec->fields[i];
        json_t *name = json_string(pf->name);
        char *qn = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
        json_decref(name);
        if (!qn) {
            buf_release(&sch);
            return ICE_ERR_NOMEM;
        }
        buf_printf(&sch, "%s{\"name\":%s,\"type\":[\"null\",", i ? "," : "", qn);
        free(qn);
        partition_avro_type(&sch, pf, srcs[i], kinds[i]);
        buf_printf(&sch, "],\"default\":null,\"field-id\":%d}", (int)pf->field_id);
    }
    buf_puts(&sch, entry_schema_tail);

    json_t *js = ice_schema_to_json(schema), *jp = ice_spec_fields_to_json(spec);
    char *schema_text = js ? json_dumps(js, JSON_COMPACT) : NULL;
    char *spec_text = jp ? json_dumps(jp, JSON_COMPACT) : NULL;
    json_decref(js);
    json_decref(jp);
    char sid[16], pid[16];
    snprintf(sid, sizeof sid, "%d", (int)schema->schema_id);
    snprintf(pid, sizeof pid, "%d", (int)spec->spec_id);
    ice_avro_meta_t meta[] = {
        {"schema", schema_text ? schema_text : ""}, {"schema-id", sid},
        {"partition-spec", spec_text ? spec_text : ""}, {"partition-spec-id", pid},
        {"format-version", "2"}, {"content", deletes ? "deletes" : "data"},
    };
    ice_avro_writer_t w;
    rc = (!schema_text || !spec_text || !buf_ok(&sch))
             ? ICE_ERR_NOMEM
             : ice_avro_writer_init(&w, buf_cstr(&sch), meta, sizeof meta / sizeof meta[0],
                                    deflate);
    free(schema_text);
    free(spec_text);
    buf_release(&sch);
    if (rc != ICE_OK)
        return rc;
    buf_t *b = &w.block;
    for (size_t i = 0; i < n; i++) {
        const ice_manifest_entry_t *e = &entries[i];
        const ice_data_file_t *f = &e->file;
        if (f->n_partition != nf || (deletes != (f->content != ICE_CONTENT_DATA)) ||
            !f->file_path) {
            rc = ICE_ERR_INVALID;
            break;
        }
        ice_avro_put_long(b, e->status);
        put_opt_long(b, e->snapshot_id);
        put_opt_long(b, e->sequence_number);
        put_opt_long(b, e->file_sequence_number);
        ice_avro_put_long(b, f->content);
        ice_avro_put_str(b, f->file_path);
        ice_avro_put_str(b, f->file_format ? f->file_format : "PARQUET");
        for (size_t k = 0; k < nf && rc == ICE_OK; k++)
            rc = put_partition_value(b, &f->partition[k], kinds[k], srcs[k]);
        if (rc != ICE_OK)
            break;
        ice_avro_put_long(b, f->record_count);
        ice_avro_put_long(b, f->file_size_in_bytes);
        put_id_longs(b, f->column_sizes, f->n_column_sizes);
        put_id_longs(b, f->value_counts, f->n_value_counts);
        put_id_longs(b, f->null_value_counts, f->n_null_value_counts);
        put_id_longs(b, f->nan_value_counts, f->n_nan_value_counts);
        put_id_bytes(b, f->lower_bounds, f->n_lower_bounds);
        put_id_bytes(b, f->upper_bounds, f->n_upper_bounds);
        put_null(b); /* key_metadata */
        if (f->n_split_offsets) {
            ice_avro_put_long(b, 1);
            ice_avro_put_long(b, (int64_t)f->n_split_offsets);
            for (size_t k = 0; k < f->n_split_offsets; k++)
                ice_avro_put_long(b, f->split_offsets[k]);
            ice_avro_put_long(b, 0);
        } else {
            put_null(b);
        }
        if (f->n_equality_ids) {
            ice_avro_put_long(b, 1);
            ice_avro_put_long(b, (int64_t)f->n_equality_ids);
            for (size_t k = 0; k < f->n_equality_ids; k++)
                ice_avro_put_long(b, f->equality_ids[k]);
            ice_avro_put_long(b, 0);
        } else {
            put_null(b);
        }
        put_opt_long(b, f->sort_order_id);
        if (f->referenced_data_file) {
            ice_avro_put_long(b, 1);
            ice_avro_put_str(b, f->referenced_data_file);
        } else {
            put_null(b);
        }
        if ((rc = ice_avro_record_end(&w)) != ICE_OK)
            break;
    }
    if (rc != ICE_OK) {
        ice_avro_writer_release(&w);
        return rc;
    }
    return ice_avro_writer_finish(&w, a, out, out_len);
}

ice_rc_t ice_manifest_list_encode(arena_t *a, int64_t snapshot_id, int64_t parent_snapshot_id,
                                  int64_t sequence_number, const ice_manifest_file_t *files,
                                  size_t n, bool deflate, uint8_t **out, size_t *out_len)
{
    char sid[24], pid[24], seq[24];
    snprintf(sid, sizeof sid, "%lld", (long long)snapshot_id);
    /* Java and PyIceberg write the string "null" for a root snapshot. */
    if (parent_snapshot_id >= 0)
        snprintf(pid, sizeof pid, "%lld", (long long)parent_snapshot_id);
    else
        snprintf(pid, sizeof pid, "null");
    snprintf(seq, sizeof seq, "%lld", (long long)sequence_number);
    ice_avro_meta_t meta[] = {{"snapshot-id", sid}, {"parent-snapshot-id", pid},
                              {"sequence-number", seq}, {"format-version", "2"}};
    ice_avro_writer_t w;
    ice_rc_t rc = ice_avro_writer_init(&w, manifest_list_schema, meta, 4, deflate);
    if (rc != ICE_OK)
        return rc;
    buf_t *b = &w.block;
    for (size_t i = 0; i < n && rc == ICE_OK; i++) {
        const ice_manifest_file_t *m = &files[i];
        ice_avro_put_str(b, m->manifest_path);
        ice_avro_put_long(b, m->manifest_length);
        ice_avro_put_long(b, m->partition_spec_id);
        ice_avro_put_long(b, m->content);
        ice_avro_put_long(b, m->sequence_number);
        ice_avro_put_long(b, m->min_sequence_number);
        ice_avro_put_long(b, m->added_snapshot_id);
        ice_avro_put_long(b, m->added_files_count);
        ice_avro_put_long(b, m->existing_files_count);
        ice_avro_put_long(b, m->deleted_files_count);
        ice_avro_put_long(b, m->added_rows_count);
        ice_avro_put_long(b, m->existing_rows_count);
        ice_avro_put_long(b, m->deleted_rows_count);
        ice_avro_put_long(b, 1);
        if (m->n_partitions) {
            ice_avro_put_long(b, (int64_t)m->n_partitions);
            for (size_t k = 0; k < m->n_partitions; k++) {
                const ice_field_summary_t *s = &m->partitions[k];
                ice_avro_put_bool(b, s->contains_null);
                if (s->contains_nan < 0) {
                    put_null(b);
                } else {
                    ice_avro_put_long(b, 1);
                    ice_avro_put_bool(b, s->contains_nan != 0);
                }
                if (s->lower) {
                    ice_avro_put_long(b, 1);
                    ice_avro_put_bytes(b, s->lower, s->lower_len);
                } else {
                    put_null(b);
                }
                if (s->upper) {
                    ice_avro_put_long(b, 1);
                    ice_avro_put_bytes(b, s->upper, s->upper_len);
                } else {
                    put_null(b);
                }
            }
        }
        ice_avro_put_long(b, 0); /* end of partitions array ([] when unpartitioned) */
        put_null(b);             /* key_metadata */
        rc = ice_avro_record_end(&w);
    }
    if (rc != ICE_OK) {
        ice_avro_writer_release(&w);
        return rc;
    }
    return ice_avro_writer_finish(&w, a, out, out_len);
}

/* ---------------------------------------------------------------------- */
/* Decoding. Field access by Iceberg id, falling back to Java's names for
 * files whose writer left ids out. */

#define F(rec, id, name) ice_av_field((rec), (id), (name))

static bool av_int(const ice_av_t *v, int64_t *out)
{
    if (!v || (v->kind != AV_INT && v->kind != AV_LONG))
        return false;
    *out = v->i;
    return true;
}

static const char *av_str(const ice_av_t *v)
{
    return v && (v->kind == AV_STRING || v->kind == AV_BYTES) ? (const char *)v->bytes : NULL;
}

/* int -> (long|bytes) metric map written as an array of key/value records
 * (or, leniently, an Avro map with decimal string keys). */
static ice_rc_t read_metric(arena_t *a, const ice_av_t *v, bool bytes, void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (ice_av_is_null(v))
        return ICE_OK;
    if (v->kind != AV_ARRAY && v->kind != AV_MAP)
        return ICE_ERR_CORRUPT;
    size_t sz = bytes ? sizeof(ice_id_bytes_t) : sizeof(ice_id_long_t);
    uint8_t *arr = arena_alloc(a, (v->n ? v->n : 1) * sz);
    if (!arr)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < v->n; i++) {
        const ice_av_t *kv = v->items[i], *val;
        int64_t key;
        if (v->kind == AV_ARRAY) {
            const ice_av_t *k = kv && kv->kind == AV_RECORD ? kv->items[0] : NULL;
            if (!kv || kv->kind != AV_RECORD || kv->n < 2 || !av_int(k, &key))
                return ICE_ERR_CORRUPT;
            val = kv->items[1];
        } else {
            char *end;
            key = strtoll(v->names[i], &end, 10);
            if (*end)
                return ICE_ERR_CORRUPT;
            val = kv;
        }
        if (key < INT32_MIN || key > INT32_MAX)
            return ICE_ERR_CORRUPT;
        if (bytes) {
            if (!val || (val->kind != AV_BYTES && val->kind != AV_FIXED))
                return ICE_ERR_CORRUPT;
            ((ice_id_bytes_t *)(void *)arr)[i] = (ice_id_bytes_t){(int32_t)key, val->bytes, val->len};
        } else {
            int64_t x;
            if (!av_int(val, &x))
                return ICE_ERR_CORRUPT;
            ((ice_id_long_t *)(void *)arr)[i] = (ice_id_long_t){(int32_t)key, x};
        }
    }
    *out = arr;
    *n = v->n;
    return ICE_OK;
}

static ice_rc_t read_partition_value(const ice_av_t *v, ice_value_t *out)
{
    memset(out, 0, sizeof *out);
    if (ice_av_is_null(v)) {
        out->is_null = true;
        out->kind = ICE_T_UNKNOWN;
        return ICE_OK;
    }
    const char *lt = v->logical ? v->logical : "";
    switch (v->kind) {
    case AV_BOOL: out->kind = ICE_T_BOOLEAN; out->i = v->i; return ICE_OK;
    case AV_INT: out->kind = strcmp(lt, "date") == 0 ? ICE_T_DATE : ICE_T_INT; out->i = v->i; return ICE_OK;
    case AV_LONG:
        out->kind = strcmp(lt, "time-micros") == 0        ? ICE_T_TIME
                    : strcmp(lt, "timestamp-micros") == 0 ? ICE_T_TIMESTAMP
                                                          : ICE_T_LONG;
        out->i = v->i;
        return ICE_OK;
    case AV_FLOAT: out->kind = ICE_T_FLOAT; out->d = v->d; return ICE_OK;
    case AV_DOUBLE: out->kind = ICE_T_DOUBLE; out->d = v->d; return ICE_OK;
    case AV_STRING: out->kind = ICE_T_STRING; break;
    case AV_BYTES: out->kind = ICE_T_BINARY; break;
    case AV_FIXED:
        if (strcmp(lt, "decimal") == 0) {
            ice_value_t d;
            if (ice_value_from_binary(ICE_T_DECIMAL, v->bytes, v->len, &d) != ICE_OK) {
                out->kind = ICE_T_FIXED; /* wider than int64: kept as bytes */
                break;
            }
            *out = d;
            return ICE_OK;
        }
        out->kind = strcmp(lt, "uuid") == 0 && v->len == 16 ? ICE_T_UUID : ICE_T_FIXED;
        break;
    default: return ICE_ERR_CORRUPT;
    }
    out->bytes = v->bytes;
    out->len = v->len;
    return ICE_OK;
}

static ice_rc_t read_long_array(arena_t *a, const ice_av_t *v, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (ice_av_is_null(v))
        return ICE_OK;
    if (v->kind != AV_ARRAY)
        return ICE_ERR_CORRUPT;
    int64_t *x = arena_alloc(a, (v->n ? v->n : 1) * sizeof *x);
    if (!x)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < v->n; i++)
        if (!av_int(v->items[i], &x[i]))
            return ICE_ERR_CORRUPT;
    *out = x;
    *n = v->n;
    return ICE_OK;
}

static ice_rc_t read_data_file(arena_t *a, const ice_av_t *df, ice_data_file_t *f)
{
    int64_t x = 0;
    ice_rc_t rc;
    memset(f, 0, sizeof *f);
    f->sort_order_id = -1;
    if (!df || df->kind != AV_RECORD)
        return ICE_ERR_CORRUPT;
    const ice_av_t *c = F(df, 134, "content");
    bool has_content = av_int(c, &x);
    f->content = has_content ? (ice_content_t)x : ICE_CONTENT_DATA;
    if (has_content && (x < 0 || x > 2))
        return ICE_ERR_CORRUPT;
    f->file_path = av_str(F(df, 100, "file_path"));
    f->file_format = av_str(F(df, 101, "file_format"));
    if (!f->file_path || !f->file_format || !av_int(F(df, 103, "record_count"), &f->record_count) ||
        !av_int(F(df, 104, "file_size_in_bytes"), &f->file_size_in_bytes) ||
        f->record_count < 0 || f->file_size_in_bytes < 0)
        return ICE_ERR_CORRUPT;
    const ice_av_t *p = F(df, 102, "partition");
    if (p && p->kind == AV_RECORD && p->n) {
        ice_value_t *pv = arena_alloc(a, p->n * sizeof *pv);
        if (!pv)
            return ICE_ERR_NOMEM;
        for (size_t i = 0; i < p->n; i++)
            if ((rc = read_partition_value(p->items[i], &pv[i])) != ICE_OK)
                return rc;
        f->partition = pv;
        f->n_partition = p->n;
    }
    void *m;
    if ((rc = read_metric(a, F(df, 108, "column_sizes"), false, &m, &f->n_column_sizes)))
        return rc;
    f->column_sizes = m;
    if ((rc = read_metric(a, F(df, 109, "value_counts"), false, &m, &f->n_value_counts)))
        return rc;
    f->value_counts = m;
    if ((rc = read_metric(a, F(df, 110, "null_value_counts"), false, &m, &f->n_null_value_counts)))
        return rc;
    f->null_value_counts = m;
    if ((rc = read_metric(a, F(df, 137, "nan_value_counts"), false, &m, &f->n_nan_value_counts)))
        return rc;
    f->nan_value_counts = m;
    if ((rc = read_metric(a, F(df, 125, "lower_bounds"), true, &m, &f->n_lower_bounds)))
        return rc;
    f->lower_bounds = m;
    if ((rc = read_metric(a, F(df, 128, "upper_bounds"), true, &m, &f->n_upper_bounds)))
        return rc;
    f->upper_bounds = m;
    int64_t *so;
    if ((rc = read_long_array(a, F(df, 132, "split_offsets"), &so, &f->n_split_offsets)))
        return rc;
    f->split_offsets = so;
    int64_t *eq;
    size_t neq;
    if ((rc = read_long_array(a, F(df, 135, "equality_ids"), &eq, &neq)))
        return rc;
    if (neq) {
        int32_t *ids = arena_alloc(a, neq * sizeof *ids);
        if (!ids)
            return ICE_ERR_NOMEM;
        for (size_t i = 0; i < neq; i++)
            ids[i] = (int32_t)eq[i];
        f->equality_ids = ids;
        f->n_equality_ids = neq;
    }
    if (av_int(F(df, 140, "sort_order_id"), &x))
        f->sort_order_id = (int32_t)x;
    f->referenced_data_file = av_str(F(df, 143, "referenced_data_file"));
    return ICE_OK;
}

ice_rc_t ice_manifest_decode(arena_t *a, const uint8_t *data, size_t len,
                             const ice_manifest_file_t *le, ice_manifest_entry_t **out,
                             size_t *n, ice_err_t *err)
{
    ice_avro_file_t file;
    ice_rc_t rc = ice_avro_decode(a, data, len, &file, err);
    if (rc != ICE_OK)
        return rc;
    ice_manifest_entry_t *e = arena_alloc(a, (file.n_records ? file.n_records : 1) * sizeof *e);
    if (!e)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < file.n_records; i++) {
        const ice_av_t *r = file.records[i];
        int64_t st;
        if (!av_int(F(r, 0, "status"), &st) || st < 0 || st > 2)
            return ice_fail(err, ICE_ERR_CORRUPT, "manifest entry %zu: status", i);
        e[i].status = (ice_status_t)st;
        bool added = st == ICE_STATUS_ADDED;
        /* §4.2: null means "inherit from the manifest list", for ADDED
         * entries only; older (v1) files carry no sequence numbers: 0. */
        int64_t *slots[3] = {&e[i].snapshot_id, &e[i].sequence_number,
                             &e[i].file_sequence_number};
        const ice_av_t *vals[3] = {F(r, 1, "snapshot_id"), F(r, 3, "sequence_number"),
                                   F(r, 4, "file_sequence_number")};
        for (int k = 0; k < 3; k++) {
            if (av_int(vals[k], slots[k]))
                continue;
            if (k == 0)
                *slots[k] = le ? le->added_snapshot_id : -1;
            else if (added)
                *slots[k] = le ? le->sequence_number : -1;
            else
                *slots[k] = 0;
        }
        if ((rc = read_data_file(a, F(r, 2, "data_file"), &e[i].file)) != ICE_OK)
            return ice_fail(err, rc, "manifest entry %zu: data_file malformed", i);
    }
    *out = e;
    *n = file.n_records;
    return ICE_OK;
}

ice_rc_t ice_manifest_list_decode(arena_t *a, const uint8_t *data, size_t len,
                                  ice_manifest_file_t **out, size_t *n, ice_err_t *err)
{
    ice_avro_file_t file;
    ice_rc_t rc = ice_avro_decode(a, data, len, &file, err);
    if (rc != ICE_OK)
        return rc;
    ice_manifest_file_t *m = arena_alloc(a, (file.n_records ? file.n_records : 1) * sizeof *m);
    if (!m)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < file.n_records; i++) {
        const ice_av_t *r = file.records[i];
        int64_t x;
        memset(&m[i], 0, sizeof m[i]);
        m[i].manifest_path = av_str(F(r, 500, "manifest_path"));
        if (!m[i].manifest_path || !av_int(F(r, 501, "manifest_length"), &m[i].manifest_length) ||
            !av_int(F(r, 502, "partition_spec_id"), &x) || x < 0 || x > INT32_MAX)
            return ice_fail(err, ICE_ERR_CORRUPT, "manifest list entry %zu malformed", i);
        m[i].partition_spec_id = (int32_t)x;
        m[i].content = av_int(F(r, 517, "content"), &x) && x == 1 ? ICE_CONTENT_POS_DELETES
                                                                  : ICE_CONTENT_DATA;
        av_int(F(r, 515, "sequence_number"), &m[i].sequence_number);
        av_int(F(r, 516, "min_sequence_number"), &m[i].min_sequence_number);
        av_int(F(r, 503, "added_snapshot_id"), &m[i].added_snapshot_id);
        static const struct {
            int32_t id;
            const char *name;
            size_t off;
            bool wide;
        } counts[] = {
            {504, "added_files_count", offsetof(ice_manifest_file_t, added_files_count), false},
            {505, "existing_files_count", offsetof(ice_manifest_file_t, existing_files_count), false},
            {506, "deleted_files_count", offsetof(ice_manifest_file_t, deleted_files_count), false},
            {512, "added_rows_count", offsetof(ice_manifest_file_t, added_rows_count), true},
            {513, "existing_rows_count", offsetof(ice_manifest_file_t, existing_rows_count), true},
            {514, "deleted_rows_count", offsetof(ice_manifest_file_t, deleted_rows_count), true},
        };
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            if (!av_int(F(r, counts[k].id, counts[k].name), &x))
                continue; /* optional in v1 */
            char *base = (char *)&m[i];
            if (counts[k].wide) {
                memcpy(base + counts[k].off, &x, sizeof x);
            } else {
                int32_t y = (int32_t)x;
                memcpy(base + counts[k].off, &y, sizeof y);
            }
        }
        const ice_av_t *parts = F(r, 507, "partitions");
        if (!ice_av_is_null(parts)) {
            if (parts->kind != AV_ARRAY)
                return ice_fail(err, ICE_ERR_CORRUPT, "partitions is not an array");
            ice_field_summary_t *s = arena_alloc(a, (parts->n ? parts->n : 1) * sizeof *s);
            if (!s)
                return ICE_ERR_NOMEM;
            for (size_t k = 0; k < parts->n; k++) {
                const ice_av_t *p = parts->items[k], *v;
                if (!p || p->kind != AV_RECORD)
                    return ice_fail(err, ICE_ERR_CORRUPT, "field summary malformed");
                v = F(p, 509, "contains_null");
                s[k].contains_null = v && v->kind == AV_BOOL && v->i;
                v = F(p, 518, "contains_nan");
                s[k].contains_nan = v && v->kind == AV_BOOL ? (int)v->i : -1;
                v = F(p, 510, "lower_bound");
                if (!ice_av_is_null(v) && v->kind == AV_BYTES) {
                    s[k].lower = v->bytes;
                    s[k].lower_len = v->len;
                }
                v = F(p, 511, "upper_bound");
                if (!ice_av_is_null(v) && v->kind == AV_BYTES) {
                    s[k].upper = v->bytes;
                    s[k].upper_len = v->len;
                }
            }
            m[i].partitions = s;
            m[i].n_partitions = parts->n;
        }
    }
    *out = m;
    *n = file.n_records;
    return ICE_OK;
}
