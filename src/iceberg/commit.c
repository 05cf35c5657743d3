/* iceberg/commit.c: CommitTableRequest — requirements and updates
 * (iceberg.md §8.3; REST OpenAPI TableRequirement / TableUpdate).
 *
 * Order of work, as Java's CatalogHandlers: check every requirement against
 * the base (any failure: ICE_ERR_CONFLICT, nothing produced), then apply the
 * updates in order to a jansson copy of the base, then stamp times and logs,
 * then validate the result through ice_metadata_from_tree (the same checks a
 * file read from disk gets). An update that leaves an invalid table is the
 * client's error (ICE_ERR_INVALID), never a half-applied commit. */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METADATA_LOG_MAX_DEFAULT 100
#define NONE_ADDED INT64_MIN

typedef struct {
    arena_t *scratch;
    json_t *t; /* the metadata being built */
    const ice_metadata_t *base;
    int64_t now;
    int64_t last_schema, last_spec, last_order; /* ids added by this request */
    json_t *added_snapshots;                    /* ids added by this request */
    ice_err_t *err;
} cctx_t;

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static ice_rc_t need_int(cctx_t *c, const json_t *o, const char *k, int64_t lo, int64_t hi,
                         int64_t *out)
{
    if (ice_json_int(o, k, lo, hi, out) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_INVALID, "\"%s\" missing or out of range", k);
    return ICE_OK;
}

/* A string member or "" (for comparisons that must not crash). */
static const char *jstr0(const json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    return s ? s : "";
}

static int64_t tree_int(const json_t *t, const char *k)
{
    return json_integer_value(json_object_get(t, k));
}

static ice_rc_t set_int(json_t *t, const char *k, int64_t v)
{
    return json_object_set_new(t, k, json_integer(v)) == 0 ? ICE_OK : ICE_ERR_NOMEM;
}

/* Element of array `arr` whose integer member `k` equals v, and its index. */
static json_t *find_by(json_t *arr, const char *k, int64_t v, size_t *idx)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (json_is_integer(json_object_get(e, k)) &&
                                      json_integer_value(json_object_get(e, k)) == v)
    {
        if (idx)
            *idx = i;
        return e;
    }
    return NULL;
}

static int64_t max_id(json_t *arr, const char *k, int64_t floor_v)
{
    size_t i;
    json_t *e;
    int64_t m = floor_v;
    json_array_foreach(arr, i, e) if (tree_int(e, k) > m) m = tree_int(e, k);
    return m;
}

/* ---------------------------------------------------------------------- */
/* Requirements. */

static ice_rc_t req_int_eq(cctx_t *c, const json_t *r, const char *field, int64_t actual,
                           const char *what)
{
    int64_t want;
    ice_rc_t rc = need_int(c, r, field, INT64_MIN, INT64_MAX, &want);
    if (rc != ICE_OK)
        return rc;
    if (want != actual)
        return ice_fail(c->err, ICE_ERR_CONFLICT, "Requirement failed: %s changed: expected %lld != %lld",
                        what, (long long)want, (long long)actual);
    return ICE_OK;
}

static ice_rc_t check_requirement(cctx_t *c, const json_t *r)
{
    const char *type = jstr(r, "type");
    const ice_metadata_t *b = c->base;
    if (!type)
        return ice_fail(c->err, ICE_ERR_INVALID, "requirement without type");
    if (strcmp(type, "assert-create") == 0)
        return b ? ice_fail(c->err, ICE_ERR_CONFLICT, "Requirement failed: table already exists")
                 : ICE_OK;
    /* Every other requirement needs a table. */
    static const char *const known[] = {
        "assert-table-uuid",          "assert-ref-snapshot-id",
        "assert-last-assigned-field-id", "assert-current-schema-id",
        "assert-last-assigned-partition-id", "assert-default-spec-id",
        "assert-default-sort-order-id",
    };
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= strcmp(type, known[i]) == 0;
    if (!ok)
        return ice_fail(c->err, ICE_ERR_INVALID, "unknown requirement type \"%.64s\"", type);
    if (!b)
        return ice_fail(c->err, ICE_ERR_CONFLICT, "Requirement failed: table does not exist");
    if (strcmp(type, "assert-table-uuid") == 0) {
        const char *u = jstr(r, "uuid");
        if (!u)
            return ice_fail(c->err, ICE_ERR_INVALID, "assert-table-uuid without uuid");
        if (!b->table_uuid || strcasecmp(u, b->table_uuid) != 0)
            return ice_fail(c->err, ICE_ERR_CONFLICT, "Requirement failed: UUID does not match");
        return ICE_OK;
    }
    if (strcmp(type, "assert-ref-snapshot-id") == 0) {
        const char *ref = jstr(r, "ref");
        const json_t *sid = json_object_get(r, "snapshot-id");
        if (!ref || (sid && !json_is_integer(sid) && !json_is_null(sid)))
            return ice_fail(c->err, ICE_ERR_INVALID, "assert-ref-snapshot-id malformed");
        const ice_ref_t *cur = ice_metadata_ref(b, ref);
        if (!sid || json_is_null(sid)) {
            if (cur)
                return ice_fail(c->err, ICE_ERR_CONFLICT,
                                "Requirement failed: ref \"%.64s\" was created concurrently", ref);
            return ICE_OK;
        }
        if (!cur)
            return ice_fail(c->err, ICE_ERR_CONFLICT,
                            "Requirement failed: ref \"%.64s\" is missing", ref);
        if (cur->snapshot_id != json_integer_value(sid))
            return ice_fail(c->err, ICE_ERR_CONFLICT,
                            "Requirement failed: ref \"%.64s\" has changed: expected id %lld != %lld",
                            ref, (long long)json_integer_value(sid), (long long)cur->snapshot_id);
        return ICE_OK;
    }
    if (strcmp(type, "assert-last-assigned-field-id") == 0)
        return req_int_eq(c, r, "last-assigned-field-id", b->last_column_id, "last assigned field id");
    if (strcmp(type, "assert-current-schema-id") == 0)
        return req_int_eq(c, r, "current-schema-id", b->current_schema_id, "current schema id");
    if (strcmp(type, "assert-last-assigned-partition-id") == 0)
        return req_int_eq(c, r, "last-assigned-partition-id", b->last_partition_id,
                          "last assigned partition id");
    if (strcmp(type, "assert-default-spec-id") == 0)
        return req_int_eq(c, r, "default-spec-id", b->default_spec_id, "default spec id");
    return req_int_eq(c, r, "default-sort-order-id", b->default_sort_order_id,
                      "default sort order id");
}

/* ---------------------------------------------------------------------- */
/* Updates. Each returns ICE_OK or an error with c->err filled. */

static bool uuid_shape(const char *u)
{
    if (strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
            return false;
    }
    return true;
}

static ice_rc_t up_assign_uuid(cctx_t *c, const json_t *u)
{
    const char *id = jstr(u, "uuid");
    if (!id || !uuid_shape(id))
        return ice_fail(c->err, ICE_ERR_INVALID, "assign-uuid needs a UUID");
    char low[37];
    for (int i = 0; i < 37; i++)
        low[i] = (char)tolower((unsigned char)id[i]);
    const char *cur = jstr(c->t, "table-uuid");
    if (cur && c->base && strcmp(cur, low) != 0)
        return ice_fail(c->err, ICE_ERR_INVALID, "cannot change the UUID of an existing table");
    return json_object_set_new(c->t, "table-uuid", json_string(low)) == 0 ? ICE_OK
                                                                          : ICE_ERR_NOMEM;
}

static ice_rc_t set_format_version(cctx_t *c, int64_t v)
{
    int64_t cur = tree_int(c->t, "format-version");
    if (v > 2)
        return ice_fail(c->err, ICE_ERR_UNSUPPORTED, "kura writes format versions 1 and 2");
    if (v < 1 || (c->base && v < cur))
        return ice_fail(c->err, ICE_ERR_INVALID, "cannot downgrade format-version %lld to %lld",
                        (long long)cur, (long long)v);
    return set_int(c->t, "format-version", v);
}

static ice_rc_t up_upgrade(cctx_t *c, const json_t *u)
{
    int64_t v;
    ice_rc_t rc = need_int(c, u, "format-version", INT32_MIN, INT32_MAX, &v);
    return rc ? rc : set_format_version(c, v);
}

/* A schema's identity for reuse: everything but its id. */
static bool same_without(const json_t *x, const json_t *y, const char *idkey)
{
    json_t *a = json_deep_copy(x), *b = json_deep_copy(y);
    json_object_del(a, idkey);
    json_object_del(b, idkey);
    bool eq = a && b && json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return eq;
}

static ice_rc_t up_add_schema(cctx_t *c, const json_t *u)
{
    const json_t *js = json_object_get(u, "schema");
    ice_schema_t s;
    ice_err_t e2;
    if (ice_schema_from_json(c->scratch, js, &s, &e2) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_INVALID, "add-schema: %s", e2.msg);
    json_t *schemas = json_object_get(c->t, "schemas"), *ex;
    size_t i;
    int64_t last = tree_int(c->t, "last-column-id"), given;
    if (ice_json_int(u, "last-column-id", 0, INT32_MAX, &given) == ICE_OK && given > last)
        last = given;
    if (s.highest_field_id > last)
        last = s.highest_field_id;
    ice_rc_t rc = set_int(c->t, "last-column-id", last);
    if (rc != ICE_OK)
        return rc;
    json_array_foreach(schemas, i, ex) if (same_without(ex, js, "schema-id"))
    {
        c->last_schema = tree_int(ex, "schema-id");
        return ICE_OK;
    }
    int64_t id = max_id(schemas, "schema-id", -1) + 1;
    json_t *copy = json_deep_copy(js);
    if (!copy || set_int(copy, "schema-id", id) != ICE_OK || json_array_append_new(schemas, copy))
        return ICE_ERR_NOMEM;
    c->last_schema = id;
    return ICE_OK;
}

/* set-current-schema / set-default-spec / set-default-sort-order: -1 means
 * "the one this request added". */
static ice_rc_t set_current(cctx_t *c, const json_t *u, const char *in_key, const char *list,
                            const char *idkey, const char *cur_key, int64_t last_added)
{
    int64_t id;
    ice_rc_t rc = need_int(c, u, in_key, -1, INT32_MAX, &id);
    if (rc != ICE_OK)
        return rc;
    if (id == -1) {
        if (last_added == NONE_ADDED)
            return ice_fail(c->err, ICE_ERR_INVALID, "%s -1 but nothing was added", in_key);
        id = last_added;
    }
    if (!find_by(json_object_get(c->t, list), idkey, id, NULL))
        return ice_fail(c->err, ICE_ERR_INVALID, "%s %lld does not exist", in_key, (long long)id);
    return set_int(c->t, cur_key, id);
}

static ice_rc_t up_set_current_schema(cctx_t *c, const json_t *u)
{
    return set_current(c, u, "schema-id", "schemas", "schema-id", "current-schema-id",
                       c->last_schema);
}

static ice_rc_t up_set_default_spec(cctx_t *c, const json_t *u)
{
    return set_current(c, u, "spec-id", "partition-specs", "spec-id", "default-spec-id",
                       c->last_spec);
}

static ice_rc_t up_set_default_order(cctx_t *c, const json_t *u)
{
    return set_current(c, u, "sort-order-id", "sort-orders", "order-id", "default-sort-order-id",
                       c->last_order);
}

/* The current schema of the tree, parsed (for source-id checks). */
static ice_rc_t current_schema(cctx_t *c, ice_schema_t *s)
{
    json_t *js = find_by(json_object_get(c->t, "schemas"), "schema-id",
                         tree_int(c->t, "current-schema-id"), NULL);
    ice_err_t e2;
    if (!js || ice_schema_from_json(c->scratch, js, s, &e2) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_INVALID, "no current schema to resolve source ids");
    return ICE_OK;
}

static ice_rc_t check_source(cctx_t *c, const ice_schema_t *s, const json_t *f,
                             const char *tr_str)
{
    int64_t src;
    ice_transform_t tr;
    ice_kind_t rk;
    if (ice_json_int(f, "source-id", 0, INT32_MAX, &src) != ICE_OK || !tr_str)
        return ice_fail(c->err, ICE_ERR_INVALID, "field needs source-id and transform");
    const ice_field_t *sf = ice_schema_find(s, (int32_t)src);
    if (!sf)
        return ice_fail(c->err, ICE_ERR_INVALID, "source-id %lld not in the current schema",
                        (long long)src);
    if (ice_transform_parse(tr_str, &tr) != ICE_OK ||
        ice_transform_result_kind(&tr, sf->type->kind, &rk) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_INVALID, "transform \"%.32s\" invalid for field %lld",
                        tr_str, (long long)src);
    return ICE_OK;
}

static ice_rc_t up_add_spec(cctx_t *c, const json_t *u)
{
    const json_t *in = json_object_get(u, "spec");
    const json_t *fs = json_object_get(in, "fields");
    if (!json_is_array(fs))
        return ice_fail(c->err, ICE_ERR_INVALID, "add-spec needs spec.fields");
    ice_schema_t s;
    ice_rc_t rc = current_schema(c, &s);
    if (rc != ICE_OK)
        return rc;
    json_t *specs = json_object_get(c->t, "partition-specs");
    json_t *spec = json_pack("{s:[]}", "fields");
    json_t *out_fields = json_object_get(spec, "fields");
    int64_t last = tree_int(c->t, "last-partition-id");
    size_t i, j, k;
    const json_t *f;
    json_array_foreach(fs, i, f)
    {
        const char *name = jstr(f, "name"), *tr = jstr(f, "transform");
        if (!name || (rc = check_source(c, &s, f, tr)) != ICE_OK) {
            json_decref(spec);
            return rc ? rc : ice_fail(c->err, ICE_ERR_INVALID, "partition field without name");
        }
        for (k = 0; k < i; k++)
            if (strcmp(jstr0(json_array_get(fs, k), "name"), name) == 0) {
                json_decref(spec);
                return ice_fail(c->err, ICE_ERR_INVALID, "partition name \"%.64s\" twice", name);
            }
        int64_t src = tree_int(f, "source-id"), fid = -1;
        if (ice_json_int(f, "field-id", 1000, INT32_MAX, &fid) != ICE_OK) {
            /* Reuse the id of an equivalent field of an older spec (§3). */
            json_t *os, *of;
            fid = -1;
            json_array_foreach(specs, j, os) json_array_foreach(json_object_get(os, "fields"), k, of)
            {
                if (fid == -1 && tree_int(of, "source-id") == src &&
                    strcmp(jstr0(of, "transform"), tr) == 0 &&
                    strcmp(jstr0(of, "name"), name) == 0)
                    fid = tree_int(of, "field-id");
            }
            if (fid == -1)
                fid = ++last;
        }
        if (fid > last)
            last = fid;
        json_array_append_new(out_fields,
                              json_pack("{s:s,s:s,s:I,s:I}", "name", name, "transform", tr,
                                        "source-id", (json_int_t)src, "field-id", (json_int_t)fid));
    }
    if ((rc = set_int(c->t, "last-partition-id", last)) != ICE_OK) {
        json_decref(spec);
        return rc;
    }
    json_t *ex;
    json_array_foreach(specs, i, ex) if (json_equal(json_object_get(ex, "fields"), out_fields))
    {
        c->last_spec = tree_int(ex, "spec-id");
        json_decref(spec);
        return ICE_OK;
    }
    c->last_spec = max_id(specs, "spec-id", -1) + 1;
    set_int(spec, "spec-id", c->last_spec);
    return json_array_append_new(specs, spec) == 0 ? ICE_OK : ICE_ERR_NOMEM;
}

static ice_rc_t up_add_sort_order(cctx_t *c, const json_t *u)
{
    const json_t *in = json_object_get(u, "sort-order");
    const json_t *fs = json_object_get(in, "fields");
    if (!json_is_array(fs))
        return ice_fail(c->err, ICE_ERR_INVALID, "add-sort-order needs sort-order.fields");
    ice_schema_t s;
    ice_rc_t rc;
    size_t i;
    const json_t *f;
    if (json_array_size(fs) && (rc = current_schema(c, &s)) != ICE_OK)
        return rc;
    json_array_foreach(fs, i, f)
    {
        const char *dir = jstr(f, "direction"), *no = jstr(f, "null-order");
        if ((rc = check_source(c, &s, f, jstr(f, "transform"))) != ICE_OK)
            return rc;
        if (!dir || !no || (strcmp(dir, "asc") && strcmp(dir, "desc")) ||
            (strcmp(no, "nulls-first") && strcmp(no, "nulls-last")))
            return ice_fail(c->err, ICE_ERR_INVALID, "sort field %zu: direction/null-order", i);
    }
    json_t *orders = json_object_get(c->t, "sort-orders"), *ex;
    json_array_foreach(orders, i, ex) if (json_equal(json_object_get(ex, "fields"), fs))
    {
        c->last_order = tree_int(ex, "order-id");
        return ICE_OK;
    }
    /* Order 0 is reserved for "unsorted"; real orders start at 1. */
    int64_t id = json_array_size(fs) ? max_id(orders, "order-id", 0) + 1 : 0;
    json_t *o = json_pack("{s:I,s:O}", "order-id", (json_int_t)id, "fields", fs);
    c->last_order = id;
    return o && json_array_append_new(orders, o) == 0 ? ICE_OK : ICE_ERR_NOMEM;
}

static ice_rc_t up_add_snapshot(cctx_t *c, const json_t *u)
{
    const json_t *s = json_object_get(u, "snapshot");
    int64_t id, ts, seq = 0;
    int64_t fv = tree_int(c->t, "format-version");
    ice_rc_t rc;
    if (!json_is_object(s) || (rc = need_int(c, s, "snapshot-id", 0, INT64_MAX, &id)) ||
        (rc = need_int(c, s, "timestamp-ms", 0, INT64_MAX, &ts)))
        return ice_fail(c->err, ICE_ERR_INVALID, "add-snapshot: snapshot-id and timestamp-ms");
    const json_t *sum = json_object_get(s, "summary");
    const char *op = jstr(sum, "operation");
    if (!jstr(s, "manifest-list"))
        return ice_fail(c->err, ICE_ERR_INVALID, "add-snapshot: manifest-list required");
    if (!op || (strcmp(op, "append") && strcmp(op, "replace") && strcmp(op, "overwrite") &&
                strcmp(op, "delete")))
        return ice_fail(c->err, ICE_ERR_INVALID, "add-snapshot: summary.operation invalid");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)sum, k, v) if (!json_is_string(v)) return ice_fail(
        c->err, ICE_ERR_INVALID, "add-snapshot: summary values must be strings");
    json_t *snaps = json_object_get(c->t, "snapshots");
    if (find_by(snaps, "snapshot-id", id, NULL))
        return ice_fail(c->err, ICE_ERR_INVALID, "snapshot %lld already exists", (long long)id);
    rc = ice_json_int(s, "sequence-number", 0, INT64_MAX, &seq);
    if (fv >= 2) {
        if (rc != ICE_OK)
            return ice_fail(c->err, ICE_ERR_INVALID, "add-snapshot: sequence-number required");
        /* A stale sequence number means the client built on an old base:
         * refresh and retry (409), not a malformed request. */
        if (seq <= tree_int(c->t, "last-sequence-number"))
            return ice_fail(c->err, ICE_ERR_CONFLICT,
                            "Cannot add snapshot with sequence number %lld older than last "
                            "sequence number %lld",
                            (long long)seq, (long long)tree_int(c->t, "last-sequence-number"));
        if ((rc = set_int(c->t, "last-sequence-number", seq)) != ICE_OK)
            return rc;
    }
    json_t *copy = json_deep_copy(s);
    if (!copy || json_array_append_new(snaps, copy) ||
        json_array_append_new(c->added_snapshots, json_integer(id)))
        return ICE_ERR_NOMEM;
    return ICE_OK;
}

static ice_rc_t up_set_ref(cctx_t *c, const json_t *u)
{
    const char *name = jstr(u, "ref-name"), *type = jstr(u, "type");
    int64_t id;
    ice_rc_t rc;
    if (!name || !*name || !type || (strcmp(type, "branch") && strcmp(type, "tag")))
        return ice_fail(c->err, ICE_ERR_INVALID, "set-snapshot-ref needs ref-name and type");
    if ((rc = need_int(c, u, "snapshot-id", INT64_MIN, INT64_MAX, &id)) != ICE_OK)
        return rc;
    json_t *snap = find_by(json_object_get(c->t, "snapshots"), "snapshot-id", id, NULL);
    if (!snap)
        return ice_fail(c->err, ICE_ERR_INVALID, "set-snapshot-ref: snapshot %lld unknown",
                        (long long)id);
    bool is_main = strcmp(name, "main") == 0;
    if (is_main && strcmp(type, "branch") != 0)
        return ice_fail(c->err, ICE_ERR_INVALID, "main must be a branch");
    json_t *ref = json_pack("{s:I,s:s}", "snapshot-id", (json_int_t)id, "type", type);
    static const char *const retention[] = {"min-snapshots-to-keep", "max-snapshot-age-ms",
                                            "max-ref-age-ms"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *r = json_object_get(u, retention[i]);
        if (r && !json_is_null(r)) {
            if (!json_is_integer(r) || json_integer_value(r) <= 0) {
                json_decref(ref);
                return ice_fail(c->err, ICE_ERR_INVALID, "%s must be positive", retention[i]);
            }
            json_object_set(ref, retention[i], (json_t *)(uintptr_t)r);
        }
    }
    json_t *refs = json_object_get(c->t, "refs");
    if (json_equal(json_object_get(refs, name), ref)) {
        json_decref(ref);
        return ICE_OK;
    }
    json_object_set_new(refs, name, ref);
    if (!is_main)
        return ICE_OK;
    /* The log records when the snapshot became current: its own time when
     * this request added it, else now (a rollback). */
    int64_t when = c->now;
    size_t i;
    json_t *e;
    json_array_foreach(c->added_snapshots, i, e) if (json_integer_value(e) == id) when =
        tree_int(snap, "timestamp-ms");
    if ((rc = set_int(c->t, "current-snapshot-id", id)) != ICE_OK)
        return rc;
    return json_array_append_new(json_object_get(c->t, "snapshot-log"),
                                 json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)when,
                                           "snapshot-id", (json_int_t)id)) == 0
               ? ICE_OK
               : ICE_ERR_NOMEM;
}

/* `name` may be the key inside refs itself, freed by the delete: decide
 * about main first (found by fuzz_iceberg_metadata). */
static void drop_ref(cctx_t *c, const char *name)
{
    if (strcmp(name, "main") == 0)
        set_int(c->t, "current-snapshot-id", -1);
    json_object_del(json_object_get(c->t, "refs"), name);
}

static ice_rc_t up_remove_ref(cctx_t *c, const json_t *u)
{
    const char *name = jstr(u, "ref-name");
    if (!name)
        return ice_fail(c->err, ICE_ERR_INVALID, "remove-snapshot-ref needs ref-name");
    drop_ref(c, name);
    return ICE_OK;
}

static void remove_by(json_t *arr, const char *k, int64_t v)
{
    size_t idx;
    while (find_by(arr, k, v, &idx))
        json_array_remove(arr, idx);
}

static ice_rc_t up_remove_snapshots(cctx_t *c, const json_t *u)
{
    const json_t *ids = json_object_get(u, "snapshot-ids");
    if (!json_is_array(ids))
        return ice_fail(c->err, ICE_ERR_INVALID, "remove-snapshots needs snapshot-ids");
    size_t i;
    const json_t *x;
    json_array_foreach(ids, i, x) if (!json_is_integer(x)) return ice_fail(
        c->err, ICE_ERR_INVALID, "snapshot-ids must be integers");
    json_array_foreach(ids, i, x)
    {
        int64_t id = json_integer_value(x);
        remove_by(json_object_get(c->t, "snapshots"), "snapshot-id", id);
        remove_by(json_object_get(c->t, "statistics"), "snapshot-id", id);
        remove_by(json_object_get(c->t, "partition-statistics"), "snapshot-id", id);
        /* A ref to a removed snapshot goes with it (Java removeSnapshots). */
        json_t *refs = json_object_get(c->t, "refs"), *r;
        const char *name;
        void *tmp;
        json_object_foreach_safe(refs, tmp, name, r) if (tree_int(r, "snapshot-id") == id)
            drop_ref(c, name);
    }
    /* Java's updateSnapshotLog: keep only entries after the last one whose
     * snapshot is gone, so the log never skips over a removed snapshot. */
    json_t *log = json_object_get(c->t, "snapshot-log"), *kept = json_array(), *e;
    json_array_foreach(log, i, e)
    {
        if (find_by(json_object_get(c->t, "snapshots"), "snapshot-id", tree_int(e, "snapshot-id"),
                    NULL))
            json_array_append(kept, e);
        else
            json_array_clear(kept);
    }
    return json_object_set_new(c->t, "snapshot-log", kept) == 0 ? ICE_OK : ICE_ERR_NOMEM;
}

static ice_rc_t up_set_location(cctx_t *c, const json_t *u)
{
    const char *loc = jstr(u, "location");
    size_t n = loc ? strlen(loc) : 0;
    while (n > 0 && loc[n - 1] == '/')
        n--;
    if (n == 0 || !strstr(loc, "://"))
        return ice_fail(c->err, ICE_ERR_INVALID, "set-location needs an absolute URI");
    return json_object_set_new(c->t, "location", json_stringn(loc, n)) == 0 ? ICE_OK
                                                                            : ICE_ERR_NOMEM;
}

static ice_rc_t up_set_properties(cctx_t *c, const json_t *u)
{
    const json_t *up = json_object_get(u, "updates");
    if (!json_is_object(up))
        return ice_fail(c->err, ICE_ERR_INVALID, "set-properties needs updates");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)up, k, v)
    {
        if (!json_is_string(v))
            return ice_fail(c->err, ICE_ERR_INVALID, "property \"%.64s\" must be a string", k);
        if (strcmp(k, "format-version") == 0) {
            const char *s = json_string_value(v);
            ice_rc_t rc = set_format_version(c, (s[0] >= '1' && s[0] <= '9' && !s[1]) ? s[0] - '0' : 0);
            if (rc != ICE_OK)
                return rc;
            continue;
        }
        json_object_set(json_object_get(c->t, "properties"), k, (json_t *)(uintptr_t)v);
    }
    return ICE_OK;
}

static ice_rc_t up_remove_properties(cctx_t *c, const json_t *u)
{
    const json_t *rm = json_object_get(u, "removals");
    size_t i;
    const json_t *k;
    if (!json_is_array(rm))
        return ice_fail(c->err, ICE_ERR_INVALID, "remove-properties needs removals");
    json_array_foreach(rm, i, k)
    {
        if (!json_is_string(k))
            return ice_fail(c->err, ICE_ERR_INVALID, "removals must be strings");
        json_object_del(json_object_get(c->t, "properties"), json_string_value(k));
    }
    return ICE_OK;
}

/* set-statistics / set-partition-statistics: one file per snapshot. */
static ice_rc_t set_stats(cctx_t *c, const json_t *u, const char *in_key, const char *list)
{
    const json_t *st = json_object_get(u, in_key);
    int64_t sid;
    if (!json_is_object(st) || !jstr(st, "statistics-path") ||
        (ice_json_int(st, "snapshot-id", INT64_MIN, INT64_MAX, &sid) != ICE_OK &&
         ice_json_int(u, "snapshot-id", INT64_MIN, INT64_MAX, &sid) != ICE_OK))
        return ice_fail(c->err, ICE_ERR_INVALID, "%s needs snapshot-id and statistics-path",
                        in_key);
    json_t *arr = json_object_get(c->t, list), *copy = json_deep_copy(st);
    remove_by(arr, "snapshot-id", sid);
    if (!copy || set_int(copy, "snapshot-id", sid) || json_array_append_new(arr, copy))
        return ICE_ERR_NOMEM;
    return ICE_OK;
}

static ice_rc_t up_set_statistics(cctx_t *c, const json_t *u)
{
    return set_stats(c, u, "statistics", "statistics");
}

static ice_rc_t up_set_part_statistics(cctx_t *c, const json_t *u)
{
    return set_stats(c, u, "partition-statistics", "partition-statistics");
}

static ice_rc_t remove_stats(cctx_t *c, const json_t *u, const char *list)
{
    int64_t sid;
    ice_rc_t rc = need_int(c, u, "snapshot-id", INT64_MIN, INT64_MAX, &sid);
    if (rc == ICE_OK)
        remove_by(json_object_get(c->t, list), "snapshot-id", sid);
    return rc;
}

static ice_rc_t up_remove_statistics(cctx_t *c, const json_t *u)
{
    return remove_stats(c, u, "statistics");
}

static ice_rc_t up_remove_part_statistics(cctx_t *c, const json_t *u)
{
    return remove_stats(c, u, "partition-statistics");
}

/* remove-partition-specs / remove-schemas: never the one in use. */
static ice_rc_t remove_ids(cctx_t *c, const json_t *u, const char *in_key, const char *list,
                           const char *idkey, const char *cur_key)
{
    const json_t *ids = json_object_get(u, in_key);
    size_t i;
    const json_t *x;
    if (!json_is_array(ids))
        return ice_fail(c->err, ICE_ERR_INVALID, "%s must be an array", in_key);
    json_array_foreach(ids, i, x)
    {
        if (!json_is_integer(x))
            return ice_fail(c->err, ICE_ERR_INVALID, "%s must be integers", in_key);
        if (json_integer_value(x) == tree_int(c->t, cur_key))
            return ice_fail(c->err, ICE_ERR_INVALID, "cannot remove the %s in use", cur_key);
        remove_by(json_object_get(c->t, list), idkey, json_integer_value(x));
    }
    return ICE_OK;
}

static ice_rc_t up_remove_specs(cctx_t *c, const json_t *u)
{
    return remove_ids(c, u, "spec-ids", "partition-specs", "spec-id", "default-spec-id");
}

static ice_rc_t up_remove_schemas(cctx_t *c, const json_t *u)
{
    return remove_ids(c, u, "schema-ids", "schemas", "schema-id", "current-schema-id");
}

static ice_rc_t up_encryption(cctx_t *c, const json_t *u)
{
    (void)u;
    return ice_fail(c->err, ICE_ERR_UNSUPPORTED, "encryption keys are a v3 feature kura lacks");
}

static const struct {
    const char *action;
    ice_rc_t (*fn)(cctx_t *, const json_t *);
} updates[] = {
    {"assign-uuid", up_assign_uuid},
    {"upgrade-format-version", up_upgrade},
    {"add-schema", up_add_schema},
    {"set-current-schema", up_set_current_schema},
    {"add-spec", up_add_spec},
    {"set-default-spec", up_set_default_spec},
    {"add-sort-order", up_add_sort_order},
    {"set-default-sort-order", up_set_default_order},
    {"add-snapshot", up_add_snapshot},
    {"set-snapshot-ref", up_set_ref},
    {"remove-snapshots", up_remove_snapshots},
    {"remove-snapshot-ref", up_remove_ref},
    {"set-location", up_set_location},
    {"set-properties", up_set_properties},
    {"remove-properties", up_remove_properties},
    {"set-statistics", up_set_statistics},
    {"remove-statistics", up_remove_statistics},
    {"set-partition-statistics", up_set_part_statistics},
    {"remove-partition-statistics", up_remove_part_statistics},
    {"remove-partition-specs", up_remove_specs},
    {"remove-schemas", up_remove_schemas},
    {"add-encryption-key", up_encryption},
    {"remove-encryption-key", up_encryption},
};

/* ---------------------------------------------------------------------- */

/* The tree a create transaction starts from: nothing but placeholders the
 * updates must fill (schema, location) and the counters' initial values. */
static json_t *empty_table(void)
{
    return json_pack("{s:i,s:i,s:i,s:[],s:i,s:[],s:i,s:i,s:[],s:i,s:{},s:i,s:{},s:[],s:[],s:[],"
                     "s:[],s:[]}",
                     "format-version", 2, "last-sequence-number", 0, "last-column-id", 0,
                     "schemas", "current-schema-id", -1, "partition-specs", "default-spec-id", -1,
                     "last-partition-id", 999, "sort-orders", "default-sort-order-id", -1,
                     "properties", "current-snapshot-id", -1, "refs", "snapshots", "statistics",
                     "partition-statistics", "snapshot-log", "metadata-log");
}

/* Create transactions may omit spec and order (unpartitioned, unsorted)
 * and the uuid; a lone schema/spec/order is the default. */
static ice_rc_t finish_create(cctx_t *c)
{
    json_t *t = c->t;
    if (!jstr(t, "table-uuid")) {
        char u[37];
        ice_uuid_new(u);
        json_object_set_new(t, "table-uuid", json_string(u));
    }
    if (json_array_size(json_object_get(t, "partition-specs")) == 0)
        json_array_append_new(json_object_get(t, "partition-specs"),
                              json_pack("{s:i,s:[]}", "spec-id", 0, "fields"));
    if (json_array_size(json_object_get(t, "sort-orders")) == 0)
        json_array_append_new(json_object_get(t, "sort-orders"),
                              json_pack("{s:i,s:[]}", "order-id", 0, "fields"));
    static const struct {
        const char *list, *idkey, *cur;
    } defaults[] = {{"schemas", "schema-id", "current-schema-id"},
                    {"partition-specs", "spec-id", "default-spec-id"},
                    {"sort-orders", "order-id", "default-sort-order-id"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_object_get(t, defaults[i].list);
        if (tree_int(t, defaults[i].cur) == -1 && json_array_size(l) == 1)
            set_int(t, defaults[i].cur, tree_int(json_array_get(l, 0), defaults[i].idkey));
    }
    if (!jstr(t, "location"))
        return ice_fail(c->err, ICE_ERR_INVALID, "a new table needs set-location");
    return ICE_OK;
}

static int64_t last_ts(json_t *log)
{
    size_t n = json_array_size(log);
    return n ? tree_int(json_array_get(log, n - 1), "timestamp-ms") : INT64_MIN;
}

/* last-updated-ms, metadata-log: what every successful commit changes. */
static ice_rc_t stamp(cctx_t *c, const ice_commit_opts_t *o)
{
    json_t *t = c->t;
    int64_t now = c->now;
    if (c->base && c->base->last_updated_ms > now)
        now = c->base->last_updated_ms; /* never backwards: Java rejects that */
    if (last_ts(json_object_get(t, "snapshot-log")) > now)
        now = last_ts(json_object_get(t, "snapshot-log"));
    json_t *ml = json_object_get(t, "metadata-log");
    if (c->base && o && o->base_location) {
        json_array_append_new(ml, json_pack("{s:I,s:s}", "timestamp-ms",
                                            (json_int_t)c->base->last_updated_ms,
                                            "metadata-file", o->base_location));
        size_t max = o->metadata_log_max > 0 ? (size_t)o->metadata_log_max : 0;
        if (!max) {
            const char *p = jstr(json_object_get(t, "properties"),
                                 "write.metadata.previous-versions-max");
            long v = p ? strtol(p, NULL, 10) : 0;
            max = v > 0 && v < 1000000 ? (size_t)v : METADATA_LOG_MAX_DEFAULT;
        }
        while (json_array_size(ml) > max)
            json_array_remove(ml, 0);
    }
    if (last_ts(ml) > now)
        now = last_ts(ml);
    return set_int(t, "last-updated-ms", now);
}

static ice_rc_t apply_all(cctx_t *c, const json_t *reqs, const json_t *ups)
{
    size_t i;
    const json_t *r;
    ice_rc_t rc;
    json_array_foreach(reqs, i, r)
    {
        if (!json_is_object(r))
            return ice_fail(c->err, ICE_ERR_INVALID, "requirement %zu is not an object", i);
        if ((rc = check_requirement(c, r)) != ICE_OK)
            return rc;
    }
    json_array_foreach(ups, i, r)
    {
        const char *act = jstr(r, "action");
        size_t k;
        if (!act)
            return ice_fail(c->err, ICE_ERR_INVALID, "update %zu has no action", i);
        for (k = 0; k < sizeof updates / sizeof updates[0]; k++)
            if (strcmp(act, updates[k].action) == 0)
                break;
        if (k == sizeof updates / sizeof updates[0])
            return ice_fail(c->err, ICE_ERR_INVALID, "unknown update action \"%.64s\"", act);
        if ((rc = updates[k].fn(c, r)) != ICE_OK)
            return rc;
    }
    return ICE_OK;
}

static json_t *load_array(const char *s, ice_err_t *err, ice_rc_t *rc)
{
    if (!s)
        return json_array();
    json_error_t je;
    json_t *v = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(v)) {
        json_decref(v);
        *rc = ice_fail(err, ICE_ERR_INVALID, "requirements/updates must be JSON arrays");
        return NULL;
    }
    return v;
}

ice_rc_t ice_commit_apply(arena_t *a, const ice_metadata_t *base, const char *requirements_json,
                          const char *updates_json, const ice_commit_opts_t *opts,
                          ice_metadata_t **out, bool *changed, ice_err_t *err)
{
    ice_rc_t rc = ICE_ERR_NOMEM;
    cctx_t c = {.base = base, .err = err, .last_schema = NONE_ADDED, .last_spec = NONE_ADDED,
                .last_order = NONE_ADDED};
    json_t *reqs = NULL, *ups = NULL;
    c.now = ice_now_ms(opts ? opts->now_ms : 0);
    c.scratch = arena_new(0);
    c.added_snapshots = json_array();
    if (!c.scratch || !c.added_snapshots)
        goto fail;
    if (base && base->format_version > 2) {
        rc = ice_fail(err, ICE_ERR_UNSUPPORTED, "format-version %d tables are read-only in kura",
                      base->format_version);
        goto fail;
    }
    rc = ICE_ERR_INVALID;
    if (!(reqs = load_array(requirements_json, err, &rc)) ||
        !(ups = load_array(updates_json, err, &rc)))
        goto fail;
    c.t = base ? json_loads(base->json, 0, NULL) : empty_table();
    if (!c.t) {
        rc = ICE_ERR_NOMEM;
        goto fail;
    }
    if ((rc = apply_all(&c, reqs, ups)) != ICE_OK)
        goto fail;
    if (!base && (rc = finish_create(&c)) != ICE_OK)
        goto fail;
    if (base) {
        char *text;
        size_t len;
        if ((rc = ice_json_canonical(c.scratch, c.t, &text, &len)) != ICE_OK)
            goto fail;
        if (len == base->json_len && memcmp(text, base->json, len) == 0) {
            if (changed)
                *changed = false;
            rc = ice_metadata_parse(a, base->json, base->json_len, out, err);
            goto fail; /* not a failure: shared cleanup */
        }
    }
    if ((rc = stamp(&c, opts)) != ICE_OK)
        goto fail;
    rc = ice_metadata_from_tree(a, c.t, out, err);
    if (rc == ICE_ERR_CORRUPT)
        rc = ICE_ERR_INVALID; /* the updates described an impossible table */
    if (rc == ICE_OK && changed)
        *changed = true;
fail:
    json_decref(reqs);
    json_decref(ups);
    json_decref(c.t);
    json_decref(c.added_snapshots);
    arena_free(c.scratch);
    return rc;
}
