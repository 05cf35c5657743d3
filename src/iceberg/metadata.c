/* iceberg/metadata.c: table metadata JSON — parse, validate, canonical
 * serialization, typed view, CreateTable (iceberg.md §1, §2, §8.3).
 *
 * The metadata value keeps its canonical JSON text; commits (commit.c) edit a
 * jansson tree loaded from that text and come back through
 * ice_metadata_from_tree, so one validator guards both files read from disk
 * and results of updates. */
#include "iceberg/iceberg.h"
#include "iceberg/ice_int.h"

#include "util/clock.h"
#include "util/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JS_SAFE_INT_MAX ((int64_t)9007199254740991) /* 2^53 - 1 */
#define METADATA_VERSION_MAX 99999                /* NNNNN in file names */

ice_rc_t ice_fail(ice_err_t *err, ice_rc_t rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *ice_rc_name(ice_rc_t rc)
{
    static const char *const names[] = {
        [ICE_OK] = "ok",
        [ICE_ERR_INVALID] = "invalid",
        [ICE_ERR_CONFLICT] = "conflict",
        [ICE_ERR_UNSUPPORTED] = "unsupported",
        [ICE_ERR_CORRUPT] = "corrupt",
        [ICE_ERR_NOT_FOUND] = "not_found",
        [ICE_ERR_IO] = "io",
        [ICE_ERR_NOMEM] = "nomem",
        [ICE_ERR_TOO_LARGE] = "too_large",
        [ICE_ERR_DUCKDB] = "duckdb",
    };
    _Static_assert(sizeof names / sizeof names[0] == ICE_ERR__COUNT, "ice_rc names incomplete");
    return (unsigned)rc < ICE_ERR__COUNT ? names[rc] : "unknown";
}

int64_t ice_now_ms(int64_t now_ms)
{
    return now_ms > 0 ? now_ms : clock_now_ms();
}

void ice_uuid_new(char out[37])
{
    char hex[33];
    codec_random_hex(16, hex);
    hex[12] = '4';                                      /* version 4 */
    hex[16] = "89ab"[(hex[16] <= '9' ? hex[16] - '0' : hex[16] - 'a' + 10) & 3]; /* variant */
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int64_t ice_snapshot_id_new(void)
{
    for (;;) {
        char hex[17];
        codec_random_hex(8, hex);
        uint64_t v = strtoull(hex, NULL, 16) & (uint64_t)JS_SAFE_INT_MAX;
        if (v != 0)
            return (int64_t)v;
    }
}

ice_rc_t ice_json_int(const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return ICE_ERR_NOT_FOUND;
    if (!json_is_integer(v))
        return ICE_ERR_CORRUPT;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return ICE_ERR_CORRUPT;
    *out = x;
    return ICE_OK;
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---------------------------------------------------------------------- */
/* Canonical serialization. The rank table puts keys where Java writes them
 * (readers do not care, but humans diff these files); unknown keys follow in
 * byte order, so the output is a pure function of the content. */

static const char *const key_rank[] = {
    "format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
    "last-column-id", "current-schema-id", "schema", "schemas", "default-spec-id",
    "partition-spec", "partition-specs", "last-partition-id", "default-sort-order-id",
    "sort-orders", "properties", "current-snapshot-id", "refs", "snapshots", "statistics",
    "partition-statistics", "snapshot-log", "metadata-log",
    /* nested objects */
    "operation", "id", "name", "required", "type", "schema-id", "identifier-field-ids",
    "fields", "element-id", "element", "element-required", "key-id", "key", "value-id",
    "value", "value-required", "doc", "initial-default", "write-default", "spec-id",
    "order-id", "source-id", "field-id", "transform", "direction", "null-order",
    "snapshot-id", "parent-snapshot-id", "sequence-number", "timestamp-ms", "manifest-list",
    "summary", "metadata-file",
};

static size_t rank_of(const char *k)
{
    for (size_t i = 0; i < sizeof key_rank / sizeof key_rank[0]; i++)
        if (strcmp(k, key_rank[i]) == 0)
            return i;
    return sizeof key_rank / sizeof key_rank[0];
}

/* A key with its rank, computed once per key rather than per comparison:
 * a metadata file with many snapshots has thousands of small objects. */
typedef struct {
    const char *k;
    size_t rank;
} ranked_key_t;

static int key_cmp(const void *x, const void *y)
{
    const ranked_key_t *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return strcmp(a->k, b->k);
}

/* A copy of v with every object's keys in canonical order. Depth is bounded
 * by jansson's parser (2048) for parsed input and by us for built trees. */
static json_t *canon(const json_t *v)
{
    if (json_is_array(v)) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < json_array_size(v); i++) {
            json_t *c = canon(json_array_get(v, i));
            if (!c || json_array_append_new(arr, c) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    if (!json_is_object(v))
        return json_deep_copy(v);
    size_t n = json_object_size(v), i = 0;
    ranked_key_t *keys = malloc((n ? n : 1) * sizeof *keys);
    json_t *obj = json_object();
    if (!keys || !obj)
        goto fail;
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)(uintptr_t)v, k, c) keys[i++] = (ranked_key_t){k, rank_of(k)};
    qsort(keys, n, sizeof *keys, key_cmp);
    for (i = 0; i < n; i++) {
        json_t *cc = canon(json_object_get(v, keys[i].k));
        if (!cc || json_object_set_new(obj, keys[i].k, cc) != 0)
            goto fail;
    }
    free(keys);
    return obj;
fail:
    free(keys);
    json_decref(obj);
    return NULL;
}

ice_rc_t ice_json_canonical(arena_t *a, const json_t *root, char **out, size_t *len)
{
    json_t *c = canon(root);
    if (!c)
        return ICE_ERR_NOMEM;
    char *s = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(c);
    if (!s)
        return ICE_ERR_NOMEM;
    size_t n = strlen(s);
    *out = arena_memdup(a, s, n + 1);
    free(s);
    if (!*out)
        return ICE_ERR_NOMEM;
    *len = n;
    return ICE_OK;
}

/* ---------------------------------------------------------------------- */
/* Schemas. */

typedef struct {
    arena_t *a;
    ice_err_t *err;
    int32_t highest;
    int32_t *ids; /* every id seen, for the duplicate check */
    size_t n_ids, cap_ids;
} schema_ctx_t;

static ice_rc_t note_id(schema_ctx_t *c, int64_t id)
{
    if (id < 0 || id > ICE_FIELD_ID_MAX)
        return ice_fail(c->err, ICE_ERR_CORRUPT, "field id %lld out of range", (long long)id);
    if (c->n_ids == c->cap_ids) {
        size_t cap = c->cap_ids ? c->cap_ids * 2 : 32;
        int32_t *n = arena_alloc(c->a, cap * sizeof *n);
        if (!n)
            return ICE_ERR_NOMEM;
        if (c->n_ids)
            memcpy(n, c->ids, c->n_ids * sizeof *n);
        c->ids = n;
        c->cap_ids = cap;
    }
    c->ids[c->n_ids++] = (int32_t)id;
    if ((int32_t)id > c->highest)
        c->highest = (int32_t)id;
    return ICE_OK;
}

static ice_rc_t parse_type(schema_ctx_t *c, const json_t *jt, int depth, const ice_type_t **out);

static ice_rc_t parse_field(schema_ctx_t *c, const json_t *jf, int depth, ice_field_t *f)
{
    int64_t id;
    if (!json_is_object(jf) || ice_json_int(jf, "id", INT32_MIN, INT32_MAX, &id) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_CORRUPT, "schema field without integer id");
    const char *name = jstr(jf, "name");
    const json_t *req = json_object_get(jf, "required");
    if (!name || !json_is_boolean(req))
        return ice_fail(c->err, ICE_ERR_CORRUPT, "field %lld: name and required needed",
                        (long long)id);
    ice_rc_t rc = note_id(c, id);
    if (rc != ICE_OK)
        return rc;
    f->id = (int32_t)id;
    f->name = arena_strdup(c->a, name);
    f->required = json_is_true(req);
    const char *doc = jstr(jf, "doc");
    f->doc = doc ? arena_strdup(c->a, doc) : NULL;
    if (!f->name || (doc && !f->doc))
        return ICE_ERR_NOMEM;
    return parse_type(c, json_object_get(jf, "type"), depth + 1, &f->type);
}

/* One element/key/value of a list or map: id and type members named by the
 * container ("element-id" + "element"). */
static ice_rc_t parse_child(schema_ctx_t *c, const json_t *jt, const char *idk, const char *tk,
                            const char *reqk, int depth, ice_field_t *f)
{
    int64_t id;
    if (ice_json_int(jt, idk, INT32_MIN, INT32_MAX, &id) != ICE_OK)
        return ice_fail(c->err, ICE_ERR_CORRUPT, "missing %s", idk);
    ice_rc_t rc = note_id(c, id);
    if (rc != ICE_OK)
        return rc;
    f->id = (int32_t)id;
    f->name = tk;
    if (reqk) {
        const json_t *r = json_object_get(jt, reqk);
        if (!json_is_boolean(r))
            return ice_fail(c->err, ICE_ERR_CORRUPT, "missing %s", reqk);
        f->required = json_is_true(r);
    } else {
        f->required = true; /* map keys */
    }
    return parse_type(c, json_object_get(jt, tk), depth + 1, &f->type);
}

static ice_rc_t parse_type(schema_ctx_t *c, const json_t *jt, int depth, const ice_type_t **out)
{
    if (depth > ICE_SCHEMA_MAX_DEPTH)
        return ice_fail(c->err, ICE_ERR_CORRUPT, "schema nested deeper than %d",
                        ICE_SCHEMA_MAX_DEPTH);
    ice_type_t *t = arena_alloc(c->a, sizeof *t);
    if (!t)
        return ICE_ERR_NOMEM;
    *out = t;
    if (json_is_string(jt)) {
        t->name = arena_strdup(c->a, json_string_value(jt));
        if (!t->name)
            return ICE_ERR_NOMEM;
        if (ice_kind_from_name(t->name, &t->kind, &t->precision, &t->scale, &t->length) !=
            ICE_OK)
            return ice_fail(c->err, ICE_ERR_CORRUPT, "unknown type \"%.64s\"", t->name);
        return ICE_OK;
    }
    const char *ty = json_is_object(jt) ? jstr(jt, "type") : NULL;
    if (!ty)
        return ice_fail(c->err, ICE_ERR_CORRUPT, "type is neither a name nor an object");
    if (strcmp(ty, "struct") == 0) {
        const json_t *fs = json_object_get(jt, "fields");
        if (!json_is_array(fs))
            return ice_fail(c->err, ICE_ERR_CORRUPT, "struct without fields");
        size_t n = json_array_size(fs);
        ice_field_t *f = arena_alloc(c->a, (n ? n : 1) * sizeof *f);
        if (!f)
            return ICE_ERR_NOMEM;
        t->kind = ICE_T_STRUCT;
        t->name = "struct";
        t->fields = f;
        t->n_fields = n;
        for (size_t i = 0; i < n; i++) {
            ice_rc_t rc = parse_field(c, json_array_get(fs, i), depth, &f[i]);
            if (rc != ICE_OK)
                return rc;
        }
        return ICE_OK;
    }
    if (strcmp(ty, "list") == 0) {
        t->kind = ICE_T_LIST;
        t->name = "list";
        return parse_child(c, jt, "element-id", "element", "element-required", depth,
                           &t->element);
    }
    if (strcmp(ty, "map") == 0) {
        t->kind = ICE_T_MAP;
        t->name = "map";
        ice_rc_t rc = parse_child(c, jt, "key-id", "key", NULL, depth, &t->key);
        if (rc != ICE_OK)
            return rc;
        return parse_child(c, jt, "value-id", "value", "value-required", depth, &t->value);
    }
    return ice_fail(c->err, ICE_ERR_CORRUPT, "unknown nested type \"%.32s\"", ty);
}

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

ice_rc_t ice_schema_from_json(arena_t *a, const json_t *js, ice_schema_t *out, ice_err_t *err)
{
    schema_ctx_t c = {.a = a, .err = err, .highest = 0};
    memset(out, 0, sizeof *out);
    if (!json_is_object(js) || !jstr(js, "type") || strcmp(jstr(js, "type"), "struct") != 0)
        return ice_fail(err, ICE_ERR_CORRUPT, "schema is not a struct");
    int64_t sid = 0;
    ice_rc_t rc = ice_json_int(js, "schema-id", 0, INT32_MAX, &sid);
    if (rc == ICE_ERR_CORRUPT)
        return ice_fail(err, rc, "bad schema-id");
    out->schema_id = (int32_t)sid;
    rc = parse_type(&c, js, 0, &out->root);
    if (rc != ICE_OK)
        return rc;
    if (c.n_ids > 1) {
        qsort(c.ids, c.n_ids, sizeof *c.ids, cmp_i32);
        for (size_t i = 1; i < c.n_ids; i++)
            if (c.ids[i] == c.ids[i - 1])
                return ice_fail(err, ICE_ERR_CORRUPT, "field id %d used twice", (int)c.ids[i]);
    }
    out->highest_field_id = c.highest;
    const json_t *ids = json_object_get(js, "identifier-field-ids");
    if (ids) {
        if (!json_is_array(ids))
            return ice_fail(err, ICE_ERR_CORRUPT, "identifier-field-ids not an array");
        size_t n = json_array_size(ids);
        int32_t *v = arena_alloc(a, (n ? n : 1) * sizeof *v);
        if (!v)
            return ICE_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            const json_t *x = json_array_get(ids, i);
            if (!json_is_integer(x) || !ice_schema_find(out, (int32_t)json_integer_value(x)))
                return ice_fail(err, ICE_ERR_CORRUPT, "identifier field id not in schema");
            v[i] = (int32_t)json_integer_value(x);
        }
        out->identifier_field_ids = v;
        out->n_identifier_field_ids = n;
    }
    return ICE_OK;
}

static const ice_field_t *find_in(const ice_type_t *t, int32_t id, int depth)
{
    if (!t || depth > ICE_SCHEMA_MAX_DEPTH)
        return NULL;
    const ice_field_t *kids[3];
    size_t nk = 0;
    switch (t->kind) {
    case ICE_T_STRUCT:
        for (size_t i = 0; i < t->n_fields; i++) {
            if (t->fields[i].id == id)
                return &t->fields[i];
            const ice_field_t *f = find_in(t->fields[i].type, id, depth + 1);
            if (f)
                return f;
        }
        return NULL;
    case ICE_T_LIST:
        kids[nk++] = &t->element;
        break;
    case ICE_T_MAP:
        kids[nk++] = &t->key;
        kids[nk++] = &t->value;
        break;
    default:
        return NULL;
    }
    for (size_t i = 0; i < nk; i++) {
        if (kids[i]->id == id)
            return kids[i];
        const ice_field_t *f = find_in(kids[i]->type, id, depth + 1);
        if (f)
            return f;
    }
    return NULL;
}

const ice_field_t *ice_schema_find(const ice_schema_t *s, int32_t id)
{
    return s ? find_in(s->root, id, 0) : NULL;
}

/* ---------------------------------------------------------------------- */
/* Normalization: v1 defaults, empty lists, sentinels. Works on the tree in
 * place so the canonical text is what every later reader sees. */

static ice_rc_t ensure(json_t *root, const char *key, json_t *dflt)
{
    if (!dflt)
        return ICE_ERR_NOMEM;
    if (json_object_get(root, key)) {
        json_decref(dflt);
        return ICE_OK;
    }
    return json_object_set_new(root, key, dflt) == 0 ? ICE_OK : ICE_ERR_NOMEM;
}

static ice_rc_t normalize_v1_lists(json_t *root, ice_err_t *err)
{
    if (!json_object_get(root, "schemas")) {
        json_t *s = json_object_get(root, "schema");
        if (!json_is_object(s))
            return ice_fail(err, ICE_ERR_CORRUPT, "neither schemas nor schema");
        json_t *c = json_deep_copy(s);
        if (!c || (!json_object_get(c, "schema-id") &&
                   json_object_set_new(c, "schema-id", json_integer(0)) != 0))
            return ICE_ERR_NOMEM;
        json_object_set_new(root, "schemas", json_pack("[o]", c));
        json_object_set_new(root, "current-schema-id", json_object_get(c, "schema-id")
                                                           ? json_deep_copy(json_object_get(c, "schema-id"))
                                                           : json_integer(0));
    }
    if (!json_object_get(root, "partition-specs")) {
        json_t *ps = json_object_get(root, "partition-spec");
        if (!json_is_array(ps))
            return ice_fail(err, ICE_ERR_CORRUPT, "neither partition-specs nor partition-spec");
        json_object_set_new(root, "partition-specs",
                            json_pack("[{s:i,s:O}]", "spec-id", 0, "fields", ps));
        json_object_set_new(root, "default-spec-id", json_integer(0));
    }
    if (!json_object_get(root, "last-partition-id")) {
        /* v1 tables from before the field existed: the max id in use. */
        int64_t max = 999;
        json_t *spec, *f;
        size_t i, j;
        json_array_foreach(json_object_get(root, "partition-specs"), i, spec)
            json_array_foreach(json_object_get(spec, "fields"), j, f)
        {
            int64_t id;
            if (ice_json_int(f, "field-id", 0, INT32_MAX, &id) == ICE_OK && id > max)
                max = id;
        }
        json_object_set_new(root, "last-partition-id", json_integer(max));
    }
    return ICE_OK;
}

/* Gives v1 partition fields without field-id the ids Java assigns (1000+). */
static void v1_assign_partition_ids(json_t *root)
{
    json_t *spec, *f;
    size_t i, j;
    json_array_foreach(json_object_get(root, "partition-specs"), i, spec)
    {
        int64_t next = 1000;
        json_array_foreach(json_object_get(spec, "fields"), j, f)
        {
            if (json_is_object(f) && !json_object_get(f, "field-id"))
                json_object_set_new(f, "field-id", json_integer(next));
            next++;
        }
    }
}

static ice_rc_t normalize(json_t *root, int fv, ice_err_t *err)
{
    ice_rc_t rc;
    if (fv == 1) {
        if ((rc = normalize_v1_lists(root, err)) != ICE_OK)
            return rc;
        v1_assign_partition_ids(root);
        if ((rc = ensure(root, "last-sequence-number", json_integer(0))) != ICE_OK)
            return rc;
    }
    if ((rc = ensure(root, "sort-orders", json_pack("[{s:i,s:[]}]", "order-id", 0, "fields"))) ||
        (rc = ensure(root, "default-sort-order-id", json_integer(0))) ||
        (rc = ensure(root, "properties", json_object())) ||
        (rc = ensure(root, "snapshots", json_array())) ||
        (rc = ensure(root, "statistics", json_array())) ||
        (rc = ensure(root, "partition-statistics", json_array())) ||
        (rc = ensure(root, "snapshot-log", json_array())) ||
        (rc = ensure(root, "metadata-log", json_array())))
        return rc;
    json_t *cur = json_object_get(root, "current-snapshot-id");
    if (!cur || json_is_null(cur))
        json_object_set_new(root, "current-snapshot-id", json_integer(-1));
    cur = json_object_get(root, "current-snapshot-id");
    if (!json_is_integer(cur))
        return ice_fail(err, ICE_ERR_CORRUPT, "current-snapshot-id not an integer");
    if (!json_object_get(root, "refs")) {
        /* Metadata from before refs: main is the current snapshot (spec). */
        json_t *refs = json_object();
        if (json_integer_value(cur) != -1)
            json_object_set_new(refs, "main", json_pack("{s:O,s:s}", "snapshot-id", cur, "type",
                                                        "branch"));
        json_object_set_new(root, "refs", refs);
    }
    /* v1 writers must also write the single schema / spec (spec: v1 column). */
    if (fv == 1) {
        int64_t sid = 0, pid = 0;
        ice_json_int(root, "current-schema-id", INT32_MIN, INT32_MAX, &sid);
        ice_json_int(root, "default-spec-id", INT32_MIN, INT32_MAX, &pid);
        json_t *s, *p;
        size_t i;
        json_array_foreach(json_object_get(root, "schemas"), i, s) if (json_integer_value(
                                                                           json_object_get(s, "schema-id")) == sid)
            json_object_set(root, "schema", s);
        json_array_foreach(json_object_get(root, "partition-specs"), i, p) if (
            json_integer_value(json_object_get(p, "spec-id")) == pid)
            json_object_set(root, "partition-spec", json_object_get(p, "fields"));
    } else {
        json_object_del(root, "schema");
        json_object_del(root, "partition-spec");
    }
    if (fv >= 3 && json_integer_value(cur) == -1)
        json_object_del(root, "current-snapshot-id"); /* v3 writes null: omit */
    return ICE_OK;
}

/* ---------------------------------------------------------------------- */
/* Typed view. */

static ice_rc_t parse_specs(arena_t *a, const json_t *root, ice_metadata_t *m, ice_err_t *err)
{
    const json_t *js = json_object_get(root, "partition-specs");
    if (!json_is_array(js) || json_array_size(js) == 0)
        return ice_fail(err, ICE_ERR_CORRUPT, "partition-specs missing or empty");
    size_t n = json_array_size(js);
    ice_partition_spec_t *specs = arena_alloc(a, n * sizeof *specs);
    if (!specs)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(js, i);
        int64_t id;
        const json_t *fs = json_object_get(s, "fields");
        if (ice_json_int(s, "spec-id", 0, INT32_MAX, &id) != ICE_OK || !json_is_array(fs))
            return ice_fail(err, ICE_ERR_CORRUPT, "partition spec %zu malformed", i);
        for (size_t k = 0; k < i; k++)
            if (specs[k].spec_id == id)
                return ice_fail(err, ICE_ERR_CORRUPT, "spec id %lld twice", (long long)id);
        size_t nf = json_array_size(fs);
        ice_partition_field_t *f = arena_alloc(a, (nf ? nf : 1) * sizeof *f);
        if (!f)
            return ICE_ERR_NOMEM;
        for (size_t j = 0; j < nf; j++) {
            const json_t *jf = json_array_get(fs, j);
            int64_t fid, src;
            const char *name = jstr(jf, "name"), *tr = jstr(jf, "transform");
            if (ice_json_int(jf, "field-id", 0, INT32_MAX, &fid) != ICE_OK ||
                ice_json_int(jf, "source-id", 0, INT32_MAX, &src) != ICE_OK || !name || !tr)
                return ice_fail(err, ICE_ERR_CORRUPT, "partition field malformed");
            if (fid > m->last_partition_id)
                return ice_fail(err, ICE_ERR_CORRUPT, "partition field id above last-partition-id");
            f[j].field_id = (int32_t)fid;
            f[j].source_id = (int32_t)src;
            f[j].name = arena_strdup(a, name);
            f[j].transform_str = arena_strdup(a, tr);
            if (!f[j].name || !f[j].transform_str)
                return ICE_ERR_NOMEM;
            if (ice_transform_parse(tr, &f[j].transform) != ICE_OK)
                f[j].transform.kind = 0; /* readable, not writable by kura */
        }
        specs[i] = (ice_partition_spec_t){(int32_t)id, f, nf};
    }
    m->specs = specs;
    m->n_specs = n;
    return ICE_OK;
}

static ice_rc_t parse_kv(arena_t *a, const json_t *obj, const ice_kv_t **out, size_t *n_out)
{
    size_t n = json_object_size(obj), i = 0;
    ice_kv_t *kv = arena_alloc(a, (n ? n : 1) * sizeof *kv);
    if (!kv)
        return ICE_ERR_NOMEM;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, k, v)
    {
        if (!json_is_string(v))
            return ICE_ERR_CORRUPT;
        kv[i].key = arena_strdup(a, k);
        kv[i].value = arena_strdup(a, json_string_value(v));
        if (!kv[i].key || !kv[i].value)
            return ICE_ERR_NOMEM;
        i++;
    }
    *out = kv;
    *n_out = n;
    return ICE_OK;
}

static ice_rc_t parse_snapshots(arena_t *a, const json_t *root, ice_metadata_t *m,
                                ice_err_t *err)
{
    const json_t *js = json_object_get(root, "snapshots");
    if (!json_is_array(js))
        return ice_fail(err, ICE_ERR_CORRUPT, "snapshots not an array");
    size_t n = json_array_size(js);
    ice_snapshot_t *s = arena_alloc(a, (n ? n : 1) * sizeof *s);
    if (!s)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *j = json_array_get(js, i);
        int64_t v;
        if (ice_json_int(j, "snapshot-id", INT64_MIN, INT64_MAX, &s[i].snapshot_id) != ICE_OK ||
            ice_json_int(j, "timestamp-ms", INT64_MIN, INT64_MAX, &s[i].timestamp_ms) != ICE_OK)
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot %zu: id and timestamp-ms needed", i);
        ice_rc_t rc = ice_json_int(j, "parent-snapshot-id", INT64_MIN, INT64_MAX, &v);
        if (rc == ICE_ERR_CORRUPT && !json_is_null(json_object_get(j, "parent-snapshot-id")))
            return ice_fail(err, rc, "snapshot %zu: bad parent-snapshot-id", i);
        s[i].parent_snapshot_id = rc == ICE_OK ? v : -1;
        rc = ice_json_int(j, "sequence-number", 0, INT64_MAX, &v);
        if (rc == ICE_ERR_CORRUPT || (rc == ICE_ERR_NOT_FOUND && m->format_version >= 2))
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot %zu: sequence-number", i);
        s[i].sequence_number = rc == ICE_OK ? v : 0;
        if (s[i].sequence_number > m->last_sequence_number)
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot sequence above last-sequence-number");
        rc = ice_json_int(j, "schema-id", 0, INT32_MAX, &v);
        if (rc == ICE_ERR_CORRUPT)
            return ice_fail(err, rc, "snapshot %zu: schema-id", i);
        s[i].schema_id = rc == ICE_OK ? (int32_t)v : -1;
        const char *ml = jstr(j, "manifest-list");
        if (!ml && (m->format_version >= 2 || !json_is_array(json_object_get(j, "manifests"))))
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot %zu: manifest-list", i);
        s[i].manifest_list = ml ? arena_strdup(a, ml) : NULL;
        const json_t *sum = json_object_get(j, "summary");
        if (sum) {
            if (!json_is_object(sum) || parse_kv(a, sum, &s[i].summary, &s[i].n_summary) != ICE_OK)
                return ice_fail(err, ICE_ERR_CORRUPT, "snapshot %zu: summary", i);
            s[i].operation = ice_snapshot_summary(&s[i], "operation");
        }
        if (m->format_version >= 2 && !s[i].operation)
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot %zu: summary.operation", i);
        for (size_t k = 0; k < i; k++)
            if (s[k].snapshot_id == s[i].snapshot_id)
                return ice_fail(err, ICE_ERR_CORRUPT, "snapshot id twice");
    }
    m->snapshots = s;
    m->n_snapshots = n;
    return ICE_OK;
}

static ice_rc_t parse_refs_logs(arena_t *a, const json_t *root, ice_metadata_t *m,
                                ice_err_t *err)
{
    const json_t *refs = json_object_get(root, "refs");
    if (!json_is_object(refs))
        return ice_fail(err, ICE_ERR_CORRUPT, "refs not an object");
    size_t n = json_object_size(refs), i = 0;
    ice_ref_t *r = arena_alloc(a, (n ? n : 1) * sizeof *r);
    if (!r)
        return ICE_ERR_NOMEM;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)refs, k, v)
    {
        const char *type = jstr(v, "type");
        if (ice_json_int(v, "snapshot-id", INT64_MIN, INT64_MAX, &r[i].snapshot_id) != ICE_OK ||
            !type || (strcmp(type, "branch") != 0 && strcmp(type, "tag") != 0))
            return ice_fail(err, ICE_ERR_CORRUPT, "ref \"%.64s\" malformed", k);
        r[i].name = arena_strdup(a, k);
        r[i].is_tag = strcmp(type, "tag") == 0;
        if (!r[i].name)
            return ICE_ERR_NOMEM;
        if (!ice_metadata_snapshot(m, r[i].snapshot_id))
            return ice_fail(err, ICE_ERR_CORRUPT, "ref \"%.64s\" names a missing snapshot", k);
        if (strcmp(k, "main") == 0 && (r[i].is_tag || r[i].snapshot_id != m->current_snapshot_id))
            return ice_fail(err, ICE_ERR_CORRUPT, "refs.main disagrees with current-snapshot-id");
        i++;
    }
    m->refs = r;
    m->n_refs = n;
    if (m->current_snapshot_id != -1 && !ice_metadata_snapshot(m, m->current_snapshot_id))
        return ice_fail(err, ICE_ERR_CORRUPT, "current-snapshot-id names a missing snapshot");

    const json_t *sl = json_object_get(root, "snapshot-log");
    const json_t *ml = json_object_get(root, "metadata-log");
    if (!json_is_array(sl) || !json_is_array(ml))
        return ice_fail(err, ICE_ERR_CORRUPT, "snapshot-log / metadata-log not arrays");
    n = json_array_size(sl);
    ice_snapshot_log_t *s = arena_alloc(a, (n ? n : 1) * sizeof *s);
    if (!s)
        return ICE_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(sl, i);
        if (ice_json_int(e, "timestamp-ms", INT64_MIN, INT64_MAX, &s[i].timestamp_ms) ||
            ice_json_int(e, "snapshot-id", INT64_MIN, INT64_MAX, &s[i].snapshot_id))
            return ice_fail(err, ICE_ERR_CORRUPT, "snapshot-log entry %zu", i);
    }
    m->snapshot_log = s;
    m->n_snapshot_log = n;
    n = json_array_size(ml);
    ice_metadata_log_t *l = arena_alloc(a, (n ? n : 1) * sizeof *l);
    if (!l)
        return ICE_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(ml, i);
        const char *f = jstr(e, "metadata-file");
        if (!f || ice_json_int(e, "timestamp-ms", INT64_MIN, INT64_MAX, &l[i].timestamp_ms))
            return ice_fail(err, ICE_ERR_CORRUPT, "metadata-log entry %zu", i);
        if (!(l[i].metadata_file = arena_strdup(a, f)))
            return ICE_ERR_NOMEM;
    }
    m->metadata_log = l;
    m->n_metadata_log = n;
    return ICE_OK;
}

static ice_rc_t parse_schemas_orders(arena_t *a, const json_t *root, ice_metadata_t *m,
                                     ice_err_t *err)
{
    const json_t *js = json_object_get(root, "schemas");
    if (!json_is_array(js) || json_array_size(js) == 0)
        return ice_fail(err, ICE_ERR_CORRUPT, "schemas missing or empty");
    size_t n = json_array_size(js);
    ice_schema_t *s = arena_alloc(a, n * sizeof *s);
    if (!s)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        ice_rc_t rc = ice_schema_from_json(a, json_array_get(js, i), &s[i], err);
        if (rc != ICE_OK)
            return rc;
        if (s[i].highest_field_id > m->last_column_id)
            return ice_fail(err, ICE_ERR_CORRUPT, "field id %d above last-column-id %d",
                            (int)s[i].highest_field_id, (int)m->last_column_id);
        for (size_t k = 0; k < i; k++)
            if (s[k].schema_id == s[i].schema_id)
                return ice_fail(err, ICE_ERR_CORRUPT, "schema id twice");
    }
    m->schemas = s;
    m->n_schemas = n;
    const json_t *jo = json_object_get(root, "sort-orders");
    if (!json_is_array(jo) || json_array_size(jo) == 0)
        return ice_fail(err, ICE_ERR_CORRUPT, "sort-orders missing or empty");
    n = json_array_size(jo);
    ice_sort_order_t *o = arena_alloc(a, n * sizeof *o);
    if (!o)
        return ICE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(jo, i);
        int64_t id;
        if (ice_json_int(e, "order-id", 0, INT32_MAX, &id) != ICE_OK ||
            !json_is_array(json_object_get(e, "fields")))
            return ice_fail(err, ICE_ERR_CORRUPT, "sort order %zu malformed", i);
        o[i].order_id = (int32_t)id;
        o[i].n_fields = json_array_size(json_object_get(e, "fields"));
    }
    m->sort_orders = o;
    m->n_sort_orders = n;
    return ICE_OK;
}

static ice_rc_t typed_view(arena_t *a, const json_t *root, ice_metadata_t *m, ice_err_t *err)
{
    int64_t v;
    const char *uuid = jstr(root, "table-uuid"), *loc = jstr(root, "location");
    if ((!uuid && m->format_version >= 2) || !loc)
        return ice_fail(err, ICE_ERR_CORRUPT, "table-uuid and location are required");
    m->table_uuid = uuid ? arena_strdup(a, uuid) : NULL;
    m->location = arena_strdup(a, loc);
    if (ice_json_int(root, "last-sequence-number", 0, INT64_MAX, &m->last_sequence_number) ||
        ice_json_int(root, "last-updated-ms", INT64_MIN, INT64_MAX, &m->last_updated_ms) ||
        ice_json_int(root, "last-column-id", 0, INT32_MAX, &v))
        return ice_fail(err, ICE_ERR_CORRUPT,
                        "last-sequence-number, last-updated-ms, last-column-id required");
    m->last_column_id = (int32_t)v;
    if (ice_json_int(root, "current-schema-id", 0, INT32_MAX, &v))
        return ice_fail(err, ICE_ERR_CORRUPT, "current-schema-id required");
    m->current_schema_id = (int32_t)v;
    if (ice_json_int(root, "default-spec-id", 0, INT32_MAX, &v))
        return ice_fail(err, ICE_ERR_CORRUPT, "default-spec-id required");
    m->default_spec_id = (int32_t)v;
    if (ice_json_int(root, "last-partition-id", 0, INT32_MAX, &v))
        return ice_fail(err, ICE_ERR_CORRUPT, "last-partition-id required");
    m->last_partition_id = (int32_t)v;
    if (ice_json_int(root, "default-sort-order-id", 0, INT32_MAX, &v))
        return ice_fail(err, ICE_ERR_CORRUPT, "default-sort-order-id required");
    m->default_sort_order_id = (int32_t)v;
    m->current_snapshot_id = -1;
    if (ice_json_int(root, "current-snapshot-id", -1, INT64_MAX, &m->current_snapshot_id) ==
        ICE_ERR_CORRUPT)
        return ice_fail(err, ICE_ERR_CORRUPT, "current-snapshot-id");
    ice_rc_t rc;
    if ((rc = parse_schemas_orders(a, root, m, err)) || (rc = parse_specs(a, root, m, err)) ||
        (rc = parse_snapshots(a, root, m, err)) || (rc = parse_refs_logs(a, root, m, err)))
        return rc;
    const json_t *props = json_object_get(root, "properties");
    if (!json_is_object(props))
        return ice_fail(err, ICE_ERR_CORRUPT, "properties not an object");
    rc = parse_kv(a, props, &m->properties, &m->n_properties);
    if (rc != ICE_OK)
        return ice_fail(err, rc, "property values must be strings");
    if (!ice_metadata_schema(m, m->current_schema_id))
        return ice_fail(err, ICE_ERR_CORRUPT, "current schema %d missing", (int)m->current_schema_id);
    if (!ice_metadata_spec(m, m->default_spec_id))
        return ice_fail(err, ICE_ERR_CORRUPT, "default spec %d missing", (int)m->default_spec_id);
    bool found = false;
    for (size_t i = 0; i < m->n_sort_orders; i++)
        found |= m->sort_orders[i].order_id == m->default_sort_order_id;
    if (!found)
        return ice_fail(err, ICE_ERR_CORRUPT, "default sort order missing");
    if (!m->location || (m->table_uuid == NULL && uuid))
        return ICE_ERR_NOMEM;
    return ICE_OK;
}

ice_rc_t ice_metadata_from_tree(arena_t *a, json_t *root, ice_metadata_t **out, ice_err_t *err)
{
    int64_t fv;
    if (!json_is_object(root))
        return ice_fail(err, ICE_ERR_CORRUPT, "metadata is not a JSON object");
    ice_rc_t rc = ice_json_int(root, "format-version", INT64_MIN, INT64_MAX, &fv);
    if (rc != ICE_OK || fv < 1)
        return ice_fail(err, ICE_ERR_CORRUPT, "format-version missing or invalid");
    if (fv > 3)
        return ice_fail(err, ICE_ERR_UNSUPPORTED, "format-version %lld is newer than kura reads",
                        (long long)fv);
    if ((rc = normalize(root, (int)fv, err)) != ICE_OK)
        return rc;
    ice_metadata_t *m = arena_alloc(a, sizeof *m);
    if (!m)
        return ICE_ERR_NOMEM;
    m->format_version = (int)fv;
    if ((rc = typed_view(a, root, m, err)) != ICE_OK)
        return rc;
    char *text;
    if ((rc = ice_json_canonical(a, root, &text, &m->json_len)) != ICE_OK)
        return rc;
    m->json = text;
    *out = m;
    return ICE_OK;
}

ice_rc_t ice_metadata_parse(arena_t *a, const char *json, size_t len, ice_metadata_t **out,
                            ice_err_t *err)
{
    if (len > ICE_METADATA_MAX_BYTES)
        return ice_fail(err, ICE_ERR_TOO_LARGE, "metadata file over %zu bytes",
                        (size_t)ICE_METADATA_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return ice_fail(err, ICE_ERR_CORRUPT, "metadata JSON: %s (line %d)", je.text, je.line);
    ice_rc_t rc = ice_metadata_from_tree(a, root, out, err);
    json_decref(root);
    return rc;
}

const char *ice_metadata_json(const ice_metadata_t *m, size_t *len)
{
    if (len)
        *len = m->json_len;
    return m->json;
}

/* ---------------------------------------------------------------------- */
/* Lookups. */

const ice_schema_t *ice_metadata_schema(const ice_metadata_t *m, int32_t id)
{
    if (id == -1)
        id = m->current_schema_id;
    for (size_t i = 0; i < m->n_schemas; i++)
        if (m->schemas[i].schema_id == id)
            return &m->schemas[i];
    return NULL;
}

const ice_partition_spec_t *ice_metadata_spec(const ice_metadata_t *m, int32_t id)
{
    if (id == -1)
        id = m->default_spec_id;
    for (size_t i = 0; i < m->n_specs; i++)
        if (m->specs[i].spec_id == id)
            return &m->specs[i];
    return NULL;
}

const ice_snapshot_t *ice_metadata_snapshot(const ice_metadata_t *m, int64_t id)
{
    if (id == -1)
        id = m->current_snapshot_id;
    if (id == -1)
        return NULL;
    for (size_t i = 0; i < m->n_snapshots; i++)
        if (m->snapshots[i].snapshot_id == id)
            return &m->snapshots[i];
    return NULL;
}

const ice_ref_t *ice_metadata_ref(const ice_metadata_t *m, const char *name)
{
    for (size_t i = 0; i < m->n_refs; i++)
        if (strcmp(m->refs[i].name, name) == 0)
            return &m->refs[i];
    return NULL;
}

const char *ice_metadata_property(const ice_metadata_t *m, const char *key)
{
    for (size_t i = 0; i < m->n_properties; i++)
        if (strcmp(m->properties[i].key, key) == 0)
            return m->properties[i].value;
    return NULL;
}

const char *ice_snapshot_summary(const ice_snapshot_t *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_summary; i++)
        if (strcmp(s->summary[i].key, key) == 0)
            return s->summary[i].value;
    return NULL;
}

ice_rc_t ice_snapshot_as_of(const ice_metadata_t *m, int64_t ts, int64_t *snapshot_id)
{
    bool found = false;
    for (size_t i = 0; i < m->n_snapshot_log; i++) {
        if (m->snapshot_log[i].timestamp_ms <= ts) {
            *snapshot_id = m->snapshot_log[i].snapshot_id;
            found = true;
        }
    }
    return found ? ICE_OK : ICE_ERR_NOT_FOUND;
}

char *ice_metadata_file_location(arena_t *a, const ice_metadata_t *m, const char *prev)
{
    long version = 0;
    if (prev) {
        const char *base = strrchr(prev, '/');
        base = base ? base + 1 : prev;
        long v = 0;
        int digits = 0;
        while (digits < 5 && base[digits] >= '0' && base[digits] <= '9')
            v = v * 10 + (base[digits++] - '0');
        if (digits == 5 && base[5] == '-')
            version = v + 1;
        if (version > METADATA_VERSION_MAX)
            version = METADATA_VERSION_MAX; /* names stay unique through the uuid */
    }
    char uuid[37];
    ice_uuid_new(uuid);
    return arena_printf(a, "%s/metadata/%05ld-%s.metadata.json", m->location, version, uuid);
}

/* ---------------------------------------------------------------------- */
/* CreateTable: fresh ids. */

typedef struct {
    int32_t *old_ids, *new_ids;
    size_t n, cap;
    int32_t next;
    ice_err_t *err;
} remap_t;

static ice_rc_t remap_add(remap_t *r, json_t *holder, const char *key)
{
    int64_t old;
    if (ice_json_int(holder, key, INT32_MIN, INT32_MAX, &old) != ICE_OK)
        return ice_fail(r->err, ICE_ERR_INVALID, "schema: missing or bad %s", key);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        int32_t *o = realloc(r->old_ids, cap * sizeof *o);
        if (!o)
            return ICE_ERR_NOMEM;
        r->old_ids = o;
        int32_t *nn = realloc(r->new_ids, cap * sizeof *nn);
        if (!nn)
            return ICE_ERR_NOMEM;
        r->new_ids = nn;
        r->cap = cap;
    }
    if (r->next == INT32_MAX)
        return ice_fail(r->err, ICE_ERR_INVALID, "too many fields");
    r->old_ids[r->n] = (int32_t)old;
    r->new_ids[r->n++] = ++r->next;
    json_object_set_new(holder, key, json_integer(r->next));
    return ICE_OK;
}

/* Java's AssignFreshIds order: a struct's own fields first, then what is
 * nested in each; a list's element id, a map's key then value id, then
 * their types. Matching it keeps ids equal to what Java clients expect. */
static ice_rc_t fresh_ids(remap_t *r, json_t *t, int depth)
{
    if (depth > ICE_SCHEMA_MAX_DEPTH)
        return ice_fail(r->err, ICE_ERR_INVALID, "schema nested too deep");
    if (!json_is_object(t))
        return ICE_OK;
    const char *ty = jstr(t, "type");
    ice_rc_t rc;
    if (ty && strcmp(ty, "struct") == 0) {
        json_t *fs = json_object_get(t, "fields"), *f;
        size_t i;
        if (!json_is_array(fs))
            return ice_fail(r->err, ICE_ERR_INVALID, "struct without fields");
        json_array_foreach(fs, i, f) if ((rc = remap_add(r, f, "id")) != ICE_OK) return rc;
        json_array_foreach(fs, i, f) if ((rc = fresh_ids(r, json_object_get(f, "type"),
                                                         depth + 1)) != ICE_OK) return rc;
        return ICE_OK;
    }
    if (ty && strcmp(ty, "list") == 0) {
        if ((rc = remap_add(r, t, "element-id")) != ICE_OK)
            return rc;
        return fresh_ids(r, json_object_get(t, "element"), depth + 1);
    }
    if (ty && strcmp(ty, "map") == 0) {
        if ((rc = remap_add(r, t, "key-id")) || (rc = remap_add(r, t, "value-id")))
            return rc;
        if ((rc = fresh_ids(r, json_object_get(t, "key"), depth + 1)) != ICE_OK)
            return rc;
        return fresh_ids(r, json_object_get(t, "value"), depth + 1);
    }
    return ICE_OK;
}

static bool remap_lookup(const remap_t *r, json_t *holder, const char *key)
{
    int64_t old;
    if (ice_json_int(holder, key, INT32_MIN, INT32_MAX, &old) != ICE_OK)
        return false;
    for (size_t i = 0; i < r->n; i++)
        if (r->old_ids[i] == old) {
            json_object_set_new(holder, key, json_integer(r->new_ids[i]));
            return true;
        }
    return false;
}

static const char *const reserved_props[] = {
    "format-version", "uuid", "snapshot-count", "current-snapshot-id",
    "current-snapshot-summary", "current-snapshot-timestamp-ms", "current-schema",
    "default-partition-spec", "default-sort-order",
};

static bool is_reserved_prop(const char *k)
{
    for (size_t i = 0; i < sizeof reserved_props / sizeof reserved_props[0]; i++)
        if (strcmp(k, reserved_props[i]) == 0)
            return true;
    return false;
}

static ice_rc_t new_spec(remap_t *r, const char *spec_json, json_t **out, int32_t *last_pid)
{
    *last_pid = 999;
    json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : json_pack("{s:[]}", "fields");
    json_t *fs = json_object_get(spec, "fields"), *f;
    size_t i;
    if (!json_is_array(fs)) {
        json_decref(spec);
        return ice_fail(r->err, ICE_ERR_INVALID, "partition spec malformed");
    }
    json_array_foreach(fs, i, f)
    {
        ice_transform_t tr;
        if (!jstr(f, "name") || !jstr(f, "transform") ||
            ice_transform_parse(jstr(f, "transform"), &tr) != ICE_OK ||
            !remap_lookup(r, f, "source-id")) {
            json_decref(spec);
            return ice_fail(r->err, ICE_ERR_INVALID, "partition field %zu invalid", i);
        }
        json_object_set_new(f, "field-id", json_integer(++*last_pid));
    }
    json_object_set_new(spec, "spec-id", json_integer(0));
    *out = spec;
    return ICE_OK;
}

static ice_rc_t new_order(remap_t *r, const char *order_json, json_t **out)
{
    json_t *o = order_json ? json_loads(order_json, 0, NULL) : json_pack("{s:[]}", "fields");
    json_t *fs = json_object_get(o, "fields"), *f;
    size_t i;
    if (!json_is_array(fs)) {
        json_decref(o);
        return ice_fail(r->err, ICE_ERR_INVALID, "sort order malformed");
    }
    json_array_foreach(fs, i, f)
    {
        if (!jstr(f, "transform") || !jstr(f, "direction") || !jstr(f, "null-order") ||
            !remap_lookup(r, f, "source-id")) {
            json_decref(o);
            return ice_fail(r->err, ICE_ERR_INVALID, "sort field %zu invalid", i);
        }
    }
    json_object_set_new(o, "order-id", json_integer(json_array_size(fs) ? 1 : 0));
    *out = o;
    return ICE_OK;
}

ice_rc_t ice_metadata_new(arena_t *a, const char *schema_json, const char *spec_json,
                          const char *sort_order_json, const char *location,
                          const char *properties_json, int64_t now_ms, ice_metadata_t **out,
                          ice_err_t *err)
{
    remap_t r = {.err = err};
    json_t *schema = NULL, *spec = NULL, *order = NULL, *props = NULL, *root = NULL;
    ice_rc_t rc = ICE_ERR_INVALID;
    int fv = 2;
    size_t loclen = location ? strlen(location) : 0;
    if (loclen == 0 || !strstr(location, "://")) {
        rc = ice_fail(err, ICE_ERR_INVALID, "location must be an absolute URI");
        goto fail;
    }
    while (loclen > 0 && location[loclen - 1] == '/')
        loclen--;
    schema = schema_json ? json_loads(schema_json, 0, NULL) : NULL;
    if (!json_is_object(schema) || !jstr(schema, "type") ||
        strcmp(jstr(schema, "type"), "struct") != 0) {
        rc = ice_fail(err, ICE_ERR_INVALID, "schema must be a struct object");
        goto fail;
    }
    if ((rc = fresh_ids(&r, schema, 0)) != ICE_OK)
        goto fail;
    json_t *ids = json_object_get(schema, "identifier-field-ids"), *x;
    size_t i;
    json_array_foreach(ids, i, x)
    {
        bool ok = false;
        for (size_t k = 0; json_is_integer(x) && k < r.n; k++)
            if (r.old_ids[k] == json_integer_value(x)) {
                json_array_set_new(ids, i, json_integer(r.new_ids[k]));
                ok = true;
                break;
            }
        if (!ok) {
            rc = ice_fail(err, ICE_ERR_INVALID, "identifier-field-ids names no field");
            goto fail;
        }
    }
    json_object_set_new(schema, "schema-id", json_integer(0));
    int32_t last_pid;
    if ((rc = new_spec(&r, spec_json, &spec, &last_pid)) != ICE_OK ||
        (rc = new_order(&r, sort_order_json, &order)) != ICE_OK)
        goto fail;
    props = json_object();
    if (properties_json) {
        json_t *in = json_loads(properties_json, 0, NULL);
        const char *k;
        json_t *v;
        if (!json_is_object(in)) {
            json_decref(in);
            rc = ice_fail(err, ICE_ERR_INVALID, "properties must be an object");
            goto fail;
        }
        json_object_foreach(in, k, v)
        {
            if (!json_is_string(v)) {
                json_decref(in);
                rc = ice_fail(err, ICE_ERR_INVALID, "property \"%.64s\" is not a string", k);
                goto fail;
            }
            if (strcmp(k, "format-version") == 0) {
                const char *fs = json_string_value(v);
                if (strcmp(fs, "1") != 0 && strcmp(fs, "2") != 0) {
                    json_decref(in);
                    rc = ice_fail(err, ICE_ERR_INVALID, "format-version must be 1 or 2");
                    goto fail;
                }
                fv = fs[0] - '0';
            } else if (!is_reserved_prop(k)) {
                json_object_set(props, k, v);
            }
        }
        json_decref(in);
    }
    char uuid[37];
    ice_uuid_new(uuid);
    root = json_pack("{s:i,s:s,s:s%,s:i,s:I,s:i,s:i,s:[O],s:i,s:[O],s:i,s:I,s:[O],s:O}",
                     "format-version", fv, "table-uuid", uuid, "location", location, loclen,
                     "last-sequence-number", 0, "last-updated-ms", (json_int_t)ice_now_ms(now_ms),
                     "last-column-id", (int)r.next, "current-schema-id", 0, "schemas", schema,
                     "default-spec-id", 0, "partition-specs", spec, "last-partition-id",
                     (int)last_pid, "default-sort-order-id",
                     json_integer_value(json_object_get(order, "order-id")), "sort-orders",
                     order, "properties", props);
    if (!root) {
        rc = ICE_ERR_NOMEM;
        goto fail;
    }
    rc = ice_metadata_from_tree(a, root, out, err);
    if (rc == ICE_ERR_CORRUPT)
        rc = ICE_ERR_INVALID; /* the request described an impossible table */
fail:
    free(r.old_ids);
    free(r.new_ids);
    json_decref(schema);
    json_decref(spec);
    json_decref(order);
    json_decref(props);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* JSON of typed pieces (manifest headers). */

static json_t *type_to_json(const ice_type_t *t);

static json_t *field_to_json(const ice_field_t *f)
{
    json_t *o = json_pack("{s:i,s:s,s:b,s:o}", "id", (int)f->id, "name", f->name, "required",
                          f->required, "type", type_to_json(f->type));
    if (o && f->doc)
        json_object_set_new(o, "doc", json_string(f->doc));
    return o;
}

static json_t *type_to_json(const ice_type_t *t)
{
    switch (t->kind) {
    case ICE_T_STRUCT: {
        json_t *fs = json_array();
        for (size_t i = 0; fs && i < t->n_fields; i++)
            json_array_append_new(fs, field_to_json(&t->fields[i]));
        return json_pack("{s:s,s:o}", "type", "struct", "fields", fs);
    }
    case ICE_T_LIST:
        return json_pack("{s:s,s:i,s:o,s:b}", "type", "list", "element-id", (int)t->element.id,
                         "element", type_to_json(t->element.type), "element-required",
                         t->element.required);
    case ICE_T_MAP:
        return json_pack("{s:s,s:i,s:o,s:i,s:o,s:b}", "type", "map", "key-id", (int)t->key.id,
                         "key", type_to_json(t->key.type), "value-id", (int)t->value.id, "value",
                         type_to_json(t->value.type), "value-required", t->value.required);
    default:
        return json_string(t->name);
    }
}

json_t *ice_schema_to_json(const ice_schema_t *s)
{
    json_t *o = type_to_json(s->root);
    if (!o)
        return NULL;
    json_object_set_new(o, "schema-id", json_integer(s->schema_id));
    if (s->n_identifier_field_ids) {
        json_t *ids = json_array();
        for (size_t i = 0; i < s->n_identifier_field_ids; i++)
            json_array_append_new(ids, json_integer(s->identifier_field_ids[i]));
        json_object_set_new(o, "identifier-field-ids", ids);
    }
    return o;
}

json_t *ice_spec_fields_to_json(const ice_partition_spec_t *spec)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < spec->n_fields; i++) {
        const ice_partition_field_t *f = &spec->fields[i];
        json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i}", "name", f->name, "transform",
                                           f->transform_str, "source-id", (int)f->source_id,
                                           "field-id", (int)f->field_id));
    }
    return a;
}
