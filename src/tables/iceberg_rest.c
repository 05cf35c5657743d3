/* tables/iceberg_rest.c: the Iceberg REST catalog under /iceberg/v1/
 * (iceberg.md §8; what S3 Tables serves, s3tables-api §5), plus kura's
 * documented extensions (NOTES-ON-ISSUES 10): stage-create, register and the
 * OAuth2 client-credentials token endpoint.
 *
 * {prefix} is the URL-encoded table bucket ARN (the bucket name is accepted
 * too); namespaces are single-level. A commit is: load the current metadata,
 * ice_commit_apply (requirements + updates), write the new metadata file to
 * the warehouse, then compare-and-swap the table's pointer on the version
 * token read with the base (tables_table_set_location). Losing the swap
 * re-runs the whole commit on the new base, so requirements are checked
 * against what actually won; a failed requirement is 409
 * CommitFailedException with nothing changed (DESIGN invariant 4). */
#include "tables/tables_int.h"


#include "util/codec.h"
#include "util/timefmt.h"
#include "util/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ICE_COMMIT_RETRIES 4 /* as Java's CatalogHandlers */
#define ICE_FORM_MAX_PARAMS 16

static const char *const endpoints[] = {
    "GET /v1/{prefix}/namespaces",
    "POST /v1/{prefix}/namespaces",
    "GET /v1/{prefix}/namespaces/{namespace}",
    "HEAD /v1/{prefix}/namespaces/{namespace}",
    "DELETE /v1/{prefix}/namespaces/{namespace}",
    "POST /v1/{prefix}/namespaces/{namespace}/properties",
    "GET /v1/{prefix}/namespaces/{namespace}/tables",
    "POST /v1/{prefix}/namespaces/{namespace}/tables",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/register",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
    "POST /v1/{prefix}/tables/rename",
};

/* ---- helpers ---------------------------------------------------------------- */

/* The bucket named by a warehouse / prefix value: an ARN or a bare name. */
static tables_err_t warehouse_bucket(tables_req_t *q, const char *w, tables_rec_t *b)
{
    if (strncmp(w, "arn:", 4) == 0)
        return tables_req_bucket(q, w, b);
    if (!tables_lookup_name_ok(w, TABLES_BUCKET_NAME_MIN, TABLES_BUCKET_NAME_MAX))
        return tables_fail(q, TABLES_ERR_NO_BUCKET, "Unknown warehouse: %.80s", w);
    return tables_bucket_load(q->t, q->a, w, b);
}

/* A namespace path segment: one level only ("a\x1fb" is multi-level). */
static tables_err_t ns_segment(tables_req_t *q, const char *s)
{
    if (strchr(s, '\x1f'))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "S3 Tables supports single-level namespaces only.");
    if (!tables_lookup_name_ok(s, 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_NO_NAMESPACE, "Namespace does not exist: %.80s", s);
    return TABLES_OK;
}

/* {"namespace":["a"]} style identifiers: exactly one level. */
static const char *ns_from_list(const json_t *list)
{
    if (!json_is_array(list) || json_array_size(list) != 1)
        return NULL;
    return json_string_value(json_array_get(list, 0));
}

static json_t *table_config(tables_req_t *q)
{
    const char *host = http_header(q->r, "host");
    json_t *c = json_pack("{s:s,s:s}", "client.region", q->t->cfg->region,
                          "s3.path-style-access", "true");
    if (host)
        json_object_set_new(c, "s3.endpoint", json_string(arena_printf(q->a, "http://%s", host)));
    return c;
}

/* Reads and parses a table's current metadata file. */
static tables_err_t read_metadata(tables_req_t *q, const char *loc, ice_metadata_t **m)
{
    ice_io_t *io = tables_io(q->t, q->a);
    char *data;
    size_t len;
    if (!io)
        return TABLES_ERR_INTERNAL;
    int rc = io->read(io->ctx, loc, ICE_METADATA_MAX_BYTES, q->a, &data, &len);
    if (rc != ICE_OK)
        return tables_fail(q, rc == ICE_ERR_NOT_FOUND ? TABLES_ERR_BAD_REQUEST
                                                      : TABLES_ERR_INTERNAL,
                           "The specified metadata location is not valid: %s",
                           ice_rc_name((ice_rc_t)rc));
    ice_err_t err = {{0}};
    ice_rc_t irc = ice_metadata_parse(q->a, data, len, m, &err);
    return irc == ICE_OK ? TABLES_OK : tables_err_from_ice(q, irc, &err);
}

/* LoadTableResult for metadata m stored at loc (NULL: staged). */
static json_t *load_result(tables_req_t *q, const ice_metadata_t *m, const char *loc)
{
    size_t len;
    const char *text = ice_metadata_json(m, &len);
    json_error_t je;
    json_t *md = json_loadb(text, len, 0, &je);
    if (!md)
        return NULL;
    return json_pack("{s:s?,s:o,s:o}", "metadata-location", loc, "metadata", md, "config",
                     table_config(q));
}

/* ---- config and tokens ------------------------------------------------------ */

static tables_err_t ice_config(tables_req_t *q)
{
    const char *w = http_param_value(q->r, "warehouse");
    if (!w || !*w)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "warehouse (a table bucket ARN) is "
                                                      "required.");
    tables_rec_t b;
    tables_err_t e = warehouse_bucket(q, w, &b);
    if (e != TABLES_OK)
        return e;
    /* A user learns of a warehouse only if it may read it. */
    if ((e = tables_authorize(q, "s3tables:GetTableData", &b, NULL)) != TABLES_OK) {
        tables_rec_release(&b);
        return e;
    }
    const char *arn = tables_bucket_arn(q->t, q->a, tables_str(b.doc, "name"));
    tables_rec_release(&b);
    buf_t enc;
    buf_init(&enc, TABLES_ARN_MAX * 3);
    uri_encode(&enc, arn, strlen(arn), false);
    json_t *eps = json_array();
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        json_array_append_new(eps, json_string(endpoints[i]));
    json_t *over = table_config(q);
    json_object_set_new(over, "prefix", json_string(buf_cstr(&enc)));
    buf_release(&enc);
    tables_reply(q, 200, json_pack("{s:{},s:o,s:o}", "defaults", "overrides", over, "endpoints",
                                   eps));
    return TABLES_OK;
}

/* application/x-www-form-urlencoded value of `name`, decoded into the arena. */
static const char *form_value(tables_req_t *q, const char *name)
{
    const char *p = q->body, *end = q->body + q->len;
    size_t nl = strlen(name);
    for (unsigned i = 0; p < end && i < ICE_FORM_MAX_PARAMS; i++) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            buf_t b;
            buf_init(&b, TABLES_TOKEN_MAX);
            bool ok = uri_decode(&b, eq + 1, (size_t)(stop - eq - 1), true) && buf_ok(&b) &&
                      strlen(buf_cstr(&b)) == b.len;
            const char *v = ok ? arena_strdup(q->a, buf_cstr(&b)) : NULL;
            buf_release(&b);
            return v;
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

/* HTTP Basic credentials (client_secret_basic), if sent. */
static bool basic_auth(tables_req_t *q, const char **id, const char **secret)
{
    const char *h = http_header(q->r, "authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    size_t n = strlen(h + 6);
    uint8_t *raw = arena_alloc(q->a, n + 1);
    size_t len = 0;
    if (!raw || !codec_unb64(h + 6, n, raw, n, &len))
        return false;
    raw[len] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon)
        return false;
    *colon = '\0';
    *id = (const char *)raw;
    *secret = colon + 1;
    return true;
}

static tables_err_t ice_token(tables_req_t *q)
{
    q->r->op = "OAuthToken";
    const char *grant = form_value(q, "grant_type");
    const char *id = form_value(q, "client_id"), *secret = form_value(q, "client_secret");
    if (!id || !secret)
        (void)basic_auth(q, &id, &secret);
    if (!grant || strcmp(grant, "client_credentials") != 0) {
        tables_oauth_error(q->r, 400, "unsupported_grant_type",
                           "Only client_credentials is supported.");
        return TABLES_OK;
    }
    /* Any kura key pair, root's or a user's: the token acts as that key's
     * caller, with its policies (bearer_ok). */
    char want[AUTH_SECRET_MAX_BYTES + 1];
    size_t sl = 0;
    if (id && strlen(id) <= AUTH_ACCESS_KEY_MAX_BYTES && q->t->id.secret(q->t->id.arg, id, want, sizeof want))
        sl = strlen(want);
    if (!id || !secret || !sl || strlen(secret) != sl || !codec_ct_equal(secret, want, sl)) {
        memset(want, 0, sizeof want);
        tables_oauth_error(q->r, 401, "invalid_client", "Unknown client or wrong secret.");
        return TABLES_OK;
    }
    memset(want, 0, sizeof want);
    char tok[TABLES_TOKEN_MAX + 1];
    int64_t exp = timefmt_now_ms() / 1000 + TABLES_TOKEN_TTL_S;
    if (!tables_token_make(q->t->token_key, id, exp, tok, sizeof tok))
        return TABLES_ERR_INTERNAL;
    tables_reply(q, 200, json_pack("{s:s,s:s,s:i,s:s}", "access_token", tok, "token_type",
                                   "bearer", "expires_in", TABLES_TOKEN_TTL_S, "issued_token_type",
                                   "urn:ietf:params:oauth:token-type:access_token"));
    return TABLES_OK;
}

/* A request without SigV4 must carry a live bearer token of a key that
 * still exists; it then acts as that key's caller. */
static tables_err_t bearer_ok(tables_req_t *q)
{
    const char *h = http_header(q->r, "authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return tables_fail(q, TABLES_ERR_NOT_AUTHORIZED,
                           "Sign the request (SigV4, service s3tables) or send a bearer token "
                           "from /iceberg/v1/oauth/tokens.");
    char ak[AUTH_ACCESS_KEY_MAX_BYTES + 1];
    if (!tables_token_check(q->t->token_key, h + 7, timefmt_now_ms() / 1000, ak, sizeof ak) ||
        !q->t->id.caller(q->t->id.arg, q->r, ak, &q->bearer))
        return tables_fail(q, TABLES_ERR_NOT_AUTHORIZED, "The bearer token is invalid or "
                                                         "expired.");
    q->who = &q->bearer;
    return TABLES_OK;
}

/* ---- namespaces ---------------------------------------------------------------- */

typedef struct {
    tables_req_t *q;
    const char *after, *ns;
    uint64_t max;
    json_t *items;
    const char *last;
    bool more, tables;
} ice_list_t;

static bool ice_list_one(void *arg, const char *name, json_t *doc)
{
    ice_list_t *l = arg;
    if (l->after && strcmp(name, l->after) <= 0)
        return true;
    if (l->tables && strcmp(tables_str(doc, "namespace") ? tables_str(doc, "namespace") : "",
                            l->ns) != 0)
        return true;
    if (json_array_size(l->items) == l->max) {
        l->more = true;
        return false;
    }
    json_array_append_new(l->items,
                          l->tables ? json_pack("{s:[s],s:s}", "namespace", l->ns, "name",
                                                tables_str(doc, "name"))
                                    : json_pack("[s]", name));
    l->last = arena_strdup(l->q->a, name);
    return true;
}

/* Lists namespaces (ns NULL) or the tables of ns, paged by pageToken. */
static tables_err_t ice_list(tables_req_t *q, const tables_rec_t *b, const char *ns)
{
    ice_list_t l = {.q = q, .ns = ns, .tables = ns != NULL};
    const char *tok = http_param_value(q->r, "pageToken");
    tables_err_t e = tables_param_int(q, "pageSize", 1, TABLES_LIST_MAX, TABLES_LIST_MAX, &l.max);
    if (e != TABLES_OK)
        return e;
    if (tok && *tok) {
        size_t n = strlen(tok);
        uint8_t *raw = arena_alloc(q->a, n / 2 + 1);
        if (n % 2 || !raw || !codec_unhex(tok, n, raw) || memchr(raw, '\0', n / 2))
            return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid pageToken.");
        l.after = (const char *)raw;
    }
    const char *parent = http_param_value(q->r, "parent");
    l.items = json_array();
    if (!parent || !*parent) { /* namespaces are one level: no children */
        char sns[64 + TABLES_UUID_LEN];
        tables_ns_of(sns, sizeof sns, ns ? "ttab" : "tns", tables_str(b->doc, "id"));
        e = tables_rec_list(q->t, q->a, sns, ice_list_one, &l);
    }
    if (e != TABLES_OK) {
        json_decref(l.items);
        return e;
    }
    json_t *tokv = l.more && l.last ? tables_page_token(q->a, l.last) : json_null();
    tables_reply(q, 200, json_pack("{s:o,s:o}", ns ? "identifiers" : "namespaces", l.items,
                                   "next-page-token", tokv));
    return TABLES_OK;
}

static tables_err_t ice_create_namespace(tables_req_t *q, const tables_rec_t *b)
{
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *ns = ns_from_list(json_object_get(q->json, "namespace"));
    const json_t *props = json_object_get(q->json, "properties");
    if (!ns)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "namespace must be a list of exactly one level.");
    if (!tables_namespace_name_ok(ns))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid namespace name.");
    if (props && !json_is_object(props))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "properties must be a map.");
    if (tables_is_managed(b->doc))
        return TABLES_ERR_MANAGED;
    tables_rec_t n;
    if ((e = tables_namespace_create(q->t, q->a, b, ns, q->caller, &n)) != TABLES_OK)
        return e;
    tables_rec_release(&n);
    /* S3 Tables keeps no namespace properties (only "owner" is reported). */
    tables_reply(q, 200, json_pack("{s:[s],s:{}}", "namespace", ns, "properties"));
    return TABLES_OK;
}

static tables_err_t ice_namespace(tables_req_t *q, const tables_rec_t *b, const char *method)
{
    tables_rec_t n;
    tables_err_t e = ns_segment(q, q->seg[3]);
    if (e == TABLES_OK)
        e = tables_namespace_load(q->t, q->a, tables_str(b->doc, "id"), q->seg[3], &n);
    if (e != TABLES_OK)
        return e;
    if (strcmp(method, "DELETE") == 0) {
        q->r->op = "DropNamespace";
        e = tables_namespace_delete(q->t, b, &n);
        if (e == TABLES_OK)
            tables_reply_empty(q, 204);
    } else if (strcmp(method, "HEAD") == 0) {
        q->r->op = "NamespaceExists";
        tables_reply_empty(q, 204);
    } else {
        q->r->op = "LoadNamespaceMetadata";
        tables_reply(q, 200, json_pack("{s:[s],s:{s:s}}", "namespace", q->seg[3], "properties",
                                       "owner", tables_str(n.doc, "createdBy")));
    }
    tables_rec_release(&n);
    return e;
}

static tables_err_t ice_namespace_properties(tables_req_t *q, const tables_rec_t *b)
{
    tables_rec_t n;
    tables_err_t e = ns_segment(q, q->seg[3]);
    if (e == TABLES_OK)
        e = tables_req_json(q);
    if (e == TABLES_OK)
        e = tables_namespace_load(q->t, q->a, tables_str(b->doc, "id"), q->seg[3], &n);
    if (e != TABLES_OK)
        return e;
    tables_rec_release(&n);
    const json_t *rem = json_object_get(q->json, "removals");
    const json_t *upd = json_object_get(q->json, "updates");
    if ((rem && !json_is_array(rem)) || (upd && !json_is_object(upd)))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid properties update.");
    size_t i;
    const json_t *k;
    json_array_foreach(rem, i, k)
    {
        if (json_is_string(k) && json_object_get(upd, json_string_value(k)))
            return tables_fail(q, TABLES_ERR_UNPROCESSABLE,
                               "A key is both updated and removed: %.80s", json_string_value(k));
    }
    if (json_object_size(upd) > 0)
        return tables_fail(q, TABLES_ERR_UNSUPPORTED,
                           "S3 Tables does not store namespace properties.");
    /* Nothing is stored, so every removal names a missing key. */
    /* "O" takes a new reference: hand over a fresh array with "o" instead. */
    tables_reply(q, 200, rem ? json_pack("{s:[],s:[],s:O}", "updated", "removed", "missing", rem)
                             : json_pack("{s:[],s:[],s:o}", "updated", "removed", "missing",
                                         json_array()));
    return TABLES_OK;
}

/* ---- tables ------------------------------------------------------------------ */

/* The table at segments 3 (namespace) and 5 (name). */
static tables_err_t ice_table_load(tables_req_t *q, const tables_rec_t *b, tables_rec_t *tb)
{
    memset(tb, 0, sizeof *tb);
    tables_err_t e = ns_segment(q, q->seg[3]);
    if (e != TABLES_OK)
        return e;
    if (!tables_lookup_name_ok(q->seg[5], 1, TABLES_NAME_MAX))
        return tables_fail(q, TABLES_ERR_NO_TABLE, "Table does not exist: %.80s", q->seg[5]);
    const char *bid = tables_str(b->doc, "id");
    e = tables_table_load(q->t, q->a, bid, q->seg[3], q->seg[5], tb);
    if (e == TABLES_ERR_NO_TABLE) { /* tell a missing namespace apart */
        tables_rec_t n;
        if (tables_namespace_load(q->t, q->a, bid, q->seg[3], &n) != TABLES_OK)
            return TABLES_ERR_NO_NAMESPACE;
        tables_rec_release(&n);
    }
    return e;
}

static tables_err_t ice_load_table(tables_req_t *q, const tables_rec_t *b, bool head)
{
    q->r->op = head ? "TableExists" : "LoadTable";
    tables_rec_t tb;
    tables_err_t e = ice_table_load(q, b, &tb);
    if (e != TABLES_OK)
        return e;
    if (head) {
        tables_rec_release(&tb);
        tables_reply_empty(q, 204);
        return TABLES_OK;
    }
    const char *loc = tables_str(tb.doc, "metadataLocation");
    ice_metadata_t *m = NULL;
    char *lc = loc ? arena_strdup(q->a, loc) : NULL;
    tables_rec_release(&tb);
    if (!lc)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "The specified metadata location is not valid: the table has no "
                           "metadata yet.");
    if ((e = read_metadata(q, lc, &m)) != TABLES_OK)
        return e;
    http_set_header(q->r, "ETag", arena_printf(q->a, "\"%s\"", lc));
    tables_reply(q, 200, load_result(q, m, lc));
    return TABLES_OK;
}

/* Iceberg createTable (stage-create is a kura extension: the metadata is
 * returned, nothing is stored; a commit with assert-create creates it). */
static tables_err_t ice_create_table(tables_req_t *q, const tables_rec_t *b)
{
    q->r->op = "CreateTable";
    tables_err_t e = ns_segment(q, q->seg[3]);
    if (e == TABLES_OK)
        e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *name = tables_str(q->json, "name");
    const json_t *schema = json_object_get(q->json, "schema");
    const json_t *props = json_object_get(q->json, "properties");
    if (!name || !json_is_object(schema))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "name and schema are required.");
    if (!tables_table_name_ok(name))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table name.");
    if (json_object_get(q->json, "location") && !json_is_null(json_object_get(q->json, "location")))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "S3 Tables chooses the table location; do not set one.");
    if (props && !json_is_object(props))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "properties must be a map.");
    if (tables_is_managed(b->doc))
        return TABLES_ERR_MANAGED;
    char *sj = json_dumps(schema, JSON_COMPACT);
    char *pj = json_object_get(q->json, "partition-spec")
                   ? json_dumps(json_object_get(q->json, "partition-spec"), JSON_COMPACT)
                   : NULL;
    char *oj = json_object_get(q->json, "write-order")
                   ? json_dumps(json_object_get(q->json, "write-order"), JSON_COMPACT)
                   : NULL;
    char *prj = props ? json_dumps(props, JSON_COMPACT) : NULL;
    tables_rec_t n = {0}, tb = {0};
    ice_metadata_t *m = NULL;
    const char *bid = tables_str(b->doc, "id");
    e = tables_namespace_load(q->t, q->a, bid, q->seg[3], &n);
    if (e == TABLES_OK && tables_table_load(q->t, q->a, bid, q->seg[3], name, &tb) == TABLES_OK)
        e = TABLES_ERR_TABLE_EXISTS;
    tables_rec_release(&tb);
    if (e == TABLES_OK && json_is_true(json_object_get(q->json, "stage-create"))) {
        char id[TABLES_UUID_LEN + 1];
        tables_uuid(id);
        ice_err_t err = {{0}};
        ice_rc_t rc = ice_metadata_new(q->a, sj, pj, oj, tables_warehouse(q->a, bid, id), prj, 0,
                                       &m, &err);
        e = rc == ICE_OK ? TABLES_OK : tables_err_from_ice(q, rc, &err);
        if (e == TABLES_OK)
            tables_reply(q, 200, load_result(q, m, NULL));
    } else if (e == TABLES_OK) {
        json_t *extra = json_object();
        e = tables_table_create_full(q, b, &n, name, sj, pj, oj, prj, extra, &tb, &m);
        json_decref(extra);
        if (e == TABLES_OK)
            tables_reply(q, 200, load_result(q, m, tables_str(tb.doc, "metadataLocation")));
        tables_rec_release(&tb);
    }
    tables_rec_release(&n);
    free(sj);
    free(pj);
    free(oj);
    free(prj);
    return e;
}

static bool has_assert_create(const json_t *reqs)
{
    size_t i;
    const json_t *r;
    json_array_foreach(reqs, i, r)
    {
        if (strcmp(tables_str(r, "type") ? tables_str(r, "type") : "", "assert-create") == 0)
            return true;
    }
    return false;
}

/* The table id a staged create's location names: <warehouse of bid>/<uuid>. */
static const char *staged_id(tables_req_t *q, const char *bid, const char *location)
{
    const char *wh = tables_warehouse(q->a, bid, "");
    size_t n = wh ? strlen(wh) : 0;
    if (!wh || !location || strncmp(location, wh, n) != 0 ||
        strlen(location + n) != TABLES_UUID_LEN)
        return NULL;
    for (const char *p = location + n; *p; p++)
        if (!((*p >= 'a' && *p <= 'f') || (*p >= '0' && *p <= '9') || *p == '-'))
            return NULL;
    return location + n;
}

/* Commit of a staged create: build from nothing, store as a new table. */
static tables_err_t commit_create(tables_req_t *q, const tables_rec_t *b, const char *reqs,
                                  const char *upds)
{
    ice_err_t err = {{0}};
    ice_metadata_t *m = NULL;
    ice_commit_opts_t opts = {0};
    ice_rc_t rc = ice_commit_apply(q->a, NULL, reqs, upds, &opts, &m, NULL, &err);
    if (rc != ICE_OK)
        return tables_err_from_ice(q, rc, &err);
    const char *bid = tables_str(b->doc, "id");
    const char *id = staged_id(q, bid, m->location);
    if (!id)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "A staged table must keep the location "
                                                      "returned by stage-create.");
    tables_rec_t n;
    tables_err_t e = tables_namespace_load(q->t, q->a, bid, q->seg[3], &n);
    if (e != TABLES_OK)
        return e;
    char *loc = ice_metadata_file_location(q->a, m, NULL);
    ice_io_t *io = tables_io(q->t, q->a);
    size_t len;
    const char *text = ice_metadata_json(m, &len);
    int w = loc && io ? io->write(io->ctx, loc, text, len) : ICE_ERR_NOMEM;
    tables_rec_t tb = {0};
    if (w != ICE_OK) {
        e = tables_err_from_ice(q, (ice_rc_t)w, NULL);
    } else {
        json_t *extra = json_pack("{s:s,s:s}", "id", id, "metadataLocation", loc);
        e = tables_table_create(q->t, q->a, b, &n, q->seg[5], q->caller, extra, &tb);
        json_decref(extra);
        if (e == TABLES_ERR_TABLE_EXISTS)
            e = tables_fail(q, TABLES_ERR_COMMIT_FAILED, "Table already exists: %.80s",
                            q->seg[5]);
        if (e == TABLES_OK)
            tables_reply(q, 200, json_pack("{s:s,s:o}", "metadata-location", loc, "metadata",
                                           json_loadb(text, len, 0, NULL)));
    }
    tables_rec_release(&tb);
    tables_rec_release(&n);
    return e;
}

/* One commit attempt on the current table record: TABLES_ERR_STALE_TOKEN
 * when another commit won the swap (the caller retries from the top). */
static tables_err_t commit_once(tables_req_t *q, tables_rec_t *tb, const char *reqs,
                                const char *upds)
{
    const char *base_loc = tables_str(tb->doc, "metadataLocation");
    ice_metadata_t *base = NULL, *m = NULL;
    tables_err_t e = TABLES_OK;
    if (base_loc && (e = read_metadata(q, base_loc, &base)) != TABLES_OK)
        return e;
    ice_err_t err = {{0}};
    ice_commit_opts_t opts = {.base_location = base_loc};
    bool changed = true;
    ice_rc_t rc = ice_commit_apply(q->a, base, reqs, upds, &opts, &m, &changed, &err);
    if (rc != ICE_OK)
        return tables_err_from_ice(q, rc, &err);
    const char *loc = base_loc;
    if (changed || !base) {
        loc = ice_metadata_file_location(q->a, m, base_loc);
        if (!loc || !tables_location_ok(tb->doc, loc))
            return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                               "The table location must stay the S3 Tables warehouse location.");
        ice_io_t *io = tables_io(q->t, q->a);
        size_t len;
        const char *text = ice_metadata_json(m, &len);
        int w = io ? io->write(io->ctx, loc, text, len) : ICE_ERR_NOMEM;
        if (w != ICE_OK)
            return tables_err_from_ice(q, (ice_rc_t)w, NULL);
        e = tables_table_set_location(q->t, q->a, tb, tables_str(tb->doc, "versionToken"), loc,
                                      q->caller);
        if (e != TABLES_OK) {
            if (io->remove)
                (void)io->remove(io->ctx, loc); /* never referenced */
            return e;
        }
    }
    size_t len;
    const char *text = ice_metadata_json(m, &len);
    tables_reply(q, 200, json_pack("{s:s,s:o}", "metadata-location", loc, "metadata",
                                   json_loadb(text, len, 0, NULL)));
    return TABLES_OK;
}

static tables_err_t ice_commit(tables_req_t *q, const tables_rec_t *b)
{
    q->r->op = "UpdateTable";
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const json_t *rj = json_object_get(q->json, "requirements");
    const json_t *uj = json_object_get(q->json, "updates");
    if ((rj && !json_is_array(rj)) || (uj && !json_is_array(uj)))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "requirements and updates must be lists.");
    char *rs = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
    char *us = uj ? json_dumps(uj, JSON_COMPACT) : NULL;
    char *reqs = rs ? arena_strdup(q->a, rs) : NULL, *upds = us ? arena_strdup(q->a, us) : NULL;
    free(rs);
    free(us);
    for (unsigned attempt = 0; attempt < ICE_COMMIT_RETRIES; attempt++) {
        tables_rec_t tb;
        e = ice_table_load(q, b, &tb);
        if (e == TABLES_ERR_NO_TABLE && has_assert_create(rj)) {
            if (tables_is_managed(b->doc))
                return TABLES_ERR_MANAGED;
            return commit_create(q, b, reqs, upds);
        }
        if (e != TABLES_OK)
            return e;
        if (tables_is_managed(tb.doc)) { /* NOTES-ON-ISSUES 13 */
            tables_rec_release(&tb);
            return TABLES_ERR_MANAGED;
        }
        e = commit_once(q, &tb, reqs, upds);
        tables_rec_release(&tb);
        if (e != TABLES_ERR_STALE_TOKEN)
            return e;
    }
    return tables_fail(q, TABLES_ERR_COMMIT_FAILED, "The table changed concurrently; retry.");
}

static tables_err_t ice_drop_table(tables_req_t *q, const tables_rec_t *b)
{
    q->r->op = "DropTable";
    const char *purge = http_param_value(q->r, "purgeRequested");
    tables_rec_t tb;
    tables_err_t e = ice_table_load(q, b, &tb);
    if (e != TABLES_OK)
        return e;
    if (!purge || strcmp(purge, "true") != 0) {
        tables_rec_release(&tb);
        return tables_fail(q, TABLES_ERR_BAD_REQUEST,
                           "S3 Tables only supports dropping tables with purge enabled");
    }
    e = tables_table_delete(q->t, q->a, b, &tb, NULL);
    tables_rec_release(&tb);
    if (e == TABLES_OK)
        tables_reply_empty(q, 204);
    return e;
}

static tables_err_t ice_rename(tables_req_t *q, const tables_rec_t *b)
{
    q->r->op = "RenameTable";
    tables_err_t e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const json_t *src = json_object_get(q->json, "source");
    const json_t *dst = json_object_get(q->json, "destination");
    const char *sns = ns_from_list(json_object_get(src, "namespace"));
    const char *dns = ns_from_list(json_object_get(dst, "namespace"));
    const char *sname = tables_str(src, "name"), *dname = tables_str(dst, "name");
    if (!sns || !dns || !sname || !dname)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "source and destination are required.");
    if (!tables_namespace_name_ok(dns) || !tables_table_name_ok(dname))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid destination name.");
    if (!tables_lookup_name_ok(sns, 1, TABLES_NAME_MAX) ||
        !tables_lookup_name_ok(sname, 1, TABLES_NAME_MAX))
        return TABLES_ERR_NO_TABLE;
    tables_rec_t tb;
    if ((e = tables_table_load(q->t, q->a, tables_str(b->doc, "id"), sns, sname, &tb)))
        return e;
    e = tables_is_managed(tb.doc) ? TABLES_ERR_MANAGED
                                  : tables_table_rename(q->t, q->a, b, &tb, dns, dname, NULL);
    tables_rec_release(&tb);
    if (e == TABLES_OK)
        tables_reply_empty(q, 204);
    return e;
}

/* Extension: adopt a metadata file already written under this bucket's
 * warehouse at a fresh table id (s3://<bucket id>--table-s3/<uuid>/...). */
static tables_err_t ice_register(tables_req_t *q, const tables_rec_t *b)
{
    q->r->op = "RegisterTable";
    tables_err_t e = ns_segment(q, q->seg[3]);
    if (e == TABLES_OK)
        e = tables_req_json(q);
    if (e != TABLES_OK)
        return e;
    const char *name = tables_str(q->json, "name");
    const char *loc = tables_str(q->json, "metadata-location");
    if (!name || !loc)
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "name and metadata-location are required.");
    if (json_is_true(json_object_get(q->json, "overwrite")))
        return tables_fail(q, TABLES_ERR_UNSUPPORTED, "overwrite is not supported.");
    if (!tables_table_name_ok(name))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "Invalid table name.");
    if (tables_is_managed(b->doc))
        return TABLES_ERR_MANAGED;
    const char *bid = tables_str(b->doc, "id");
    const char *wh = tables_warehouse(q->a, bid, "");
    size_t wl = wh ? strlen(wh) : 0;
    char *id = wh && strncmp(loc, wh, wl) == 0 ? arena_strndup(q->a, loc + wl, TABLES_UUID_LEN)
                                               : NULL;
    if (!id || !staged_id(q, bid, arena_printf(q->a, "%s%s", wh, id)))
        return tables_fail(q, TABLES_ERR_BAD_REQUEST, "metadata-location must lie under "
                                                      "s3://<bucket id>--table-s3/<new uuid>/.");
    ice_metadata_t *m;
    if ((e = read_metadata(q, loc, &m)) != TABLES_OK)
        return e;
    tables_rec_t n, tb = {0};
    if ((e = tables_namespace_load(q->t, q->a, bid, q->seg[3], &n)) != TABLES_OK)
        return e;
    json_t *extra = json_pack("{s:s,s:s}", "id", id, "metadataLocation", loc);
    e = tables_table_create(q->t, q->a, b, &n, name, q->caller, extra, &tb);
    json_decref(extra);
    if (e == TABLES_OK && !tables_location_ok(tb.doc, loc)) {
        (void)tables_table_delete(q->t, q->a, b, &tb, NULL);
        e = tables_fail(q, TABLES_ERR_BAD_REQUEST, "metadata-location is not a metadata file.");
    } else if (e == TABLES_OK) {
        tables_reply(q, 200, load_result(q, m, loc));
    }
    tables_rec_release(&tb);
    tables_rec_release(&n);
    return e;
}

/* ---- dispatch ------------------------------------------------------------------- */

static bool is(const tables_req_t *q, size_t i, const char *s)
{
    return i < q->nseg && strcmp(q->seg[i], s) == 0;
}

/* Users (SigV4 with a user's key, or a user's bearer token) need the S3
 * Tables data actions -- reads GetTableData, changes PutTableData -- on the
 * table a route names (.../namespaces/{ns}/tables/{t}...), else on the
 * warehouse's bucket, from their identity policy or the bucket's and
 * table's resource policies. */
static tables_err_t ice_authorize(tables_req_t *q, const tables_rec_t *b)
{
    if (!q->who || q->who->root)
        return TABLES_OK;
    bool read = strcmp(q->r->method, "GET") == 0 || strcmp(q->r->method, "HEAD") == 0;
    const char *action = read ? "s3tables:GetTableData" : "s3tables:PutTableData";
    tables_rec_t tb = {0};
    bool has_t = q->nseg >= 6 && is(q, 2, "namespaces") && is(q, 4, "tables") &&
                 tables_table_load(q->t, q->a, tables_str(b->doc, "id"), q->seg[3], q->seg[5],
                                   &tb) == TABLES_OK;
    tables_err_t e = tables_authorize(q, action, b, has_t ? &tb : NULL);
    tables_rec_release(&tb);
    return e;
}

/* Routes under /v1/{prefix}/ (segments from 2 on). */
static tables_err_t ice_prefixed(tables_req_t *q, const tables_rec_t *b)
{
    const char *m = q->r->method;
    size_t n = q->nseg;
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE"),
         head = !strcmp(m, "HEAD");
    if (is(q, 2, "namespaces")) {
        if (n == 3 && get)
            return q->r->op = "ListNamespaces", ice_list(q, b, NULL);
        if (n == 3 && post)
            return q->r->op = "CreateNamespace", ice_create_namespace(q, b);
        if (n == 4 && (get || head || del))
            return ice_namespace(q, b, m);
        if (n == 5 && post && is(q, 4, "properties"))
            return q->r->op = "UpdateNamespaceProperties", ice_namespace_properties(q, b);
        if (n == 5 && post && is(q, 4, "register"))
            return ice_register(q, b);
        if (n == 5 && is(q, 4, "tables")) {
            tables_err_t e = ns_segment(q, q->seg[3]);
            tables_rec_t ns;
            if (e == TABLES_OK && get && (e = tables_namespace_load(q->t, q->a,
                                                                     tables_str(b->doc, "id"),
                                                                     q->seg[3], &ns)) == TABLES_OK)
                tables_rec_release(&ns);
            if (e != TABLES_OK)
                return e;
            if (get)
                return q->r->op = "ListTables", ice_list(q, b, q->seg[3]);
            if (post)
                return ice_create_table(q, b);
        }
        if (n == 6 && is(q, 4, "tables")) {
            if (get || head)
                return ice_load_table(q, b, head);
            if (post)
                return ice_commit(q, b);
            if (del)
                return ice_drop_table(q, b);
        }
        if (n == 7 && is(q, 4, "tables") && is(q, 6, "metrics") && post) {
            q->r->op = "ReportMetrics"; /* accepted and dropped */
            tables_reply_empty(q, 204);
            return TABLES_OK;
        }
    }
    if (n == 4 && post && is(q, 2, "tables") && is(q, 3, "rename"))
        return ice_rename(q, b);
    if (n == 4 && post && is(q, 2, "transactions") && is(q, 3, "commit"))
        return tables_fail(q, TABLES_ERR_UNSUPPORTED, "Multi-table transactions are not "
                                                      "supported.");
    return TABLES_ERR_UNKNOWN_OP;
}

tables_err_t tables_iceberg_dispatch(tables_req_t *q, const auth_result_t *auth)
{
    if (!is(q, 0, "v1"))
        return TABLES_ERR_UNKNOWN_OP;
    if (q->nseg == 3 && is(q, 1, "oauth") && is(q, 2, "tokens") &&
        strcmp(q->r->method, "POST") == 0)
        return ice_token(q);
    tables_err_t e = auth ? TABLES_OK : bearer_ok(q);
    if (e != TABLES_OK)
        return e;
    if (q->nseg == 2 && is(q, 1, "config") && strcmp(q->r->method, "GET") == 0) {
        q->r->op = "GetConfig";
        return ice_config(q);
    }
    if (q->nseg < 3)
        return TABLES_ERR_UNKNOWN_OP;
    tables_rec_t b;
    if ((e = warehouse_bucket(q, q->seg[1], &b)) != TABLES_OK)
        return e;
    if ((e = ice_authorize(q, &b)) == TABLES_OK)
        e = ice_prefixed(q, &b);
    tables_rec_release(&b);
    return e;
}
