/* router/iam.c: users and their access keys, and who a request acts as.
 *
 * Records (store system records, see store.h):
 *   users/<name>  {"name","arn","created","policy": <identity policy JSON text or null>}
 *   keys/<akid>   {"user": <name>, "secret": <secret access key>, "created"}
 * A key whose user is gone authenticates nobody. The root credentials are
 * not records: they come from the configuration (DATA/credentials).
 *
 * Admin calls (root only, see router.h):
 *   POST   /kura/admin/users            {"name", "policy"?}  -> {"user","arn","access_key_id","secret_access_key"}
 *   GET    /kura/admin/users            -> {"users":[{"name","arn","access_keys":[..]}]}
 *   PUT    /kura/admin/users/NAME/policy  the identity policy document as the body
 *   DELETE /kura/admin/users/NAME       removes the user and its keys */
#include "router/router_int.h"

#include "auth/policy.h"
#include "util/codec.h"
#include "util/timefmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IAM_USER_NAME_MAX 64
#define IAM_KEY_ID_BYTES 10 /* 20 hex characters, uppercased, after "KU" */

static bool user_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > IAM_USER_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("+=,.@_-", c);
        if (!ok)
            return false;
    }
    return true;
}

bool iam_secret_lookup(void *arg, const char *access_key, char *secret, size_t cap)
{
    const router_t *rt = arg;
    if (strcmp(access_key, rt->cfg->access_key) == 0) {
        size_t n = strlen(rt->cfg->secret_key);
        if (n >= cap)
            return false;
        memcpy(secret, rt->cfg->secret_key, n + 1);
        return true;
    }
    arena_t *a = arena_new(1 << 20);
    char *doc = NULL;
    size_t len = 0;
    bool ok = false;
    if (a && store_sys_get(rt->st, a, "keys", access_key, &doc, &len) == STORE_OK) {
        json_t *j = json_loadb(doc, len, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "secret"));
        if (s && strlen(s) < cap) {
            memcpy(secret, s, strlen(s) + 1);
            ok = true;
        }
        json_decref(j);
    }
    arena_free(a);
    return ok;
}

bool iam_caller(router_t *rt, http_req_t *r, const auth_result_t *auth, auth_caller_t *out,
                auth_policy_t **owned)
{
    memset(out, 0, sizeof *out);
    *owned = NULL;
    out->account_id = rt->cfg->account_id;
    if (!auth) {
        out->anonymous = true;
        return true;
    }
    if (strcmp(auth->access_key, rt->cfg->access_key) == 0) {
        out->root = true;
        out->principal_arn = arena_printf(r->arena, "arn:aws:iam::%s:root", rt->cfg->account_id);
        return out->principal_arn != NULL;
    }
    char *doc = NULL;
    size_t len = 0;
    if (store_sys_get(rt->st, r->arena, "keys", auth->access_key, &doc, &len) != STORE_OK)
        return false;
    json_t *k = json_loadb(doc, len, 0, NULL);
    const char *user = json_string_value(json_object_get(k, "user"));
    out->user = user ? arena_strdup(r->arena, user) : NULL;
    json_decref(k);
    if (!out->user || store_sys_get(rt->st, r->arena, "users", out->user, &doc, &len) != STORE_OK)
        return false;
    out->principal_arn =
        arena_printf(r->arena, "arn:aws:iam::%s:user/%s", rt->cfg->account_id, out->user);
    json_t *u = json_loadb(doc, len, 0, NULL);
    const char *pol = json_string_value(json_object_get(u, "policy"));
    bool ok = true;
    if (pol) {
        auth_policy_t *p = NULL;
        if (auth_policy_parse(pol, strlen(pol), AUTH_POLICY_IDENTITY, &p, NULL, 0) == AUTH_POLICY_OK) {
            out->identity_policy = p;
            *owned = p;
        } else {
            ok = false; /* a stored policy that no longer parses grants nothing */
        }
    }
    json_decref(u);
    return ok && out->principal_arn;
}

static void free_policy(void *p) { auth_policy_free(p); }

bool iam_caller_of_key(void *arg, http_req_t *r, const char *access_key, auth_caller_t *out)
{
    router_t *rt = arg;
    auth_result_t res;
    memset(&res, 0, sizeof res);
    snprintf(res.access_key, sizeof res.access_key, "%s", access_key);
    auth_policy_t *owned = NULL;
    bool ok = iam_caller(rt, r, &res, out, &owned);
    /* The identity policy lives until the request completes. */
    if (owned && !http_on_done(r, free_policy, owned)) {
        auth_policy_free(owned);
        out->identity_policy = NULL;
        return false;
    }
    return ok;
}

/* ---- admin ------------------------------------------------------------ */

static void admin_json(http_req_t *r, unsigned status, const char *err, json_t *body)
{
    r->status = status;
    r->err = err;
    buf_reset(&r->out);
    char *s = json_dumps(body, JSON_COMPACT);
    buf_puts(&r->out, s ? s : "{}");
    buf_putc(&r->out, '\n');
    free(s);
    json_decref(body);
    http_set_header(r, "Content-Type", "application/json");
}

static void admin_error(http_req_t *r, unsigned status, const char *code, const char *msg)
{
    admin_json(r, status, code, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

/* Validates an identity policy document; on error answers and returns false. */
static bool policy_ok(http_req_t *r, const char *doc, size_t len)
{
    auth_policy_t *p = NULL;
    char err[256] = "";
    auth_policy_rc_t rc = auth_policy_parse(doc, len, AUTH_POLICY_IDENTITY, &p, err, sizeof err);
    auth_policy_free(p);
    if (rc == AUTH_POLICY_OK)
        return true;
    admin_error(r, rc == AUTH_POLICY_NOMEM ? 500 : 400, "MalformedPolicy", err);
    return false;
}

static void user_create(router_t *rt, http_req_t *r, const char *body, size_t len)
{
    json_t *req = json_loadb(body, len, 0, NULL);
    const char *name = json_string_value(json_object_get(req, "name"));
    json_t *pol = json_object_get(req, "policy");
    char *poltext = NULL;
    if (!name || !user_name_ok(name)) {
        json_decref(req);
        admin_error(r, 400, "InvalidArgument", "name: 1-64 characters of [A-Za-z0-9+=,.@_-]");
        return;
    }
    if (pol && !json_is_null(pol)) {
        poltext = json_is_string(pol) ? strdup(json_string_value(pol)) : json_dumps(pol, JSON_COMPACT);
        if (!poltext || !policy_ok(r, poltext, strlen(poltext))) {
            free(poltext);
            json_decref(req);
            return;
        }
    }
    char iso[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ms(timefmt_now_ms(), iso);
    char *arn = arena_printf(r->arena, "arn:aws:iam::%s:user/%s", rt->cfg->account_id, name);
    json_t *u = json_pack("{s:s,s:s,s:s,s:s?}", "name", name, "arn", arn, "created", iso,
                          "policy", poltext);
    char *udoc = json_dumps(u, JSON_COMPACT);
    json_decref(u);
    free(poltext);
    store_rc_t rc = udoc ? store_sys_create(rt->st, "users", name, udoc, strlen(udoc)) : STORE_NOMEM;
    free(udoc);
    if (rc == STORE_EXISTS) {
        json_decref(req);
        admin_error(r, 409, "EntityAlreadyExists", "a user with that name exists");
        return;
    }
    char hex[2 * IAM_KEY_ID_BYTES + 1], secret_hex[41];
    codec_random_hex(IAM_KEY_ID_BYTES, hex);
    codec_random_hex(20, secret_hex);
    char akid[2 * IAM_KEY_ID_BYTES + 3] = "KU";
    for (size_t i = 0; i < 2 * IAM_KEY_ID_BYTES; i++)
        akid[2 + i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
    akid[2 + 2 * IAM_KEY_ID_BYTES] = '\0';
    json_t *k = json_pack("{s:s,s:s,s:s}", "user", name, "secret", secret_hex, "created", iso);
    char *kdoc = json_dumps(k, JSON_COMPACT);
    json_decref(k);
    if (rc == STORE_OK)
        rc = kdoc ? store_sys_create(rt->st, "keys", akid, kdoc, strlen(kdoc)) : STORE_NOMEM;
    free(kdoc);
    if (rc != STORE_OK) {
        json_decref(req);
        admin_error(r, 500, "InternalError", store_rc_name(rc));
        return;
    }
    r->op = "AdminCreateUser";
    admin_json(r, 200, NULL,
               json_pack("{s:s,s:s,s:s,s:s}", "user", name, "arn", arn, "access_key_id", akid,
                         "secret_access_key", secret_hex));
    json_decref(req);
}

typedef struct {
    json_t *users;
    json_t *keys_by_user;
} list_ctx_t;

static bool key_cb(void *arg, const char *name, const char *doc, size_t len)
{
    list_ctx_t *l = arg;
    json_t *k = json_loadb(doc, len, 0, NULL);
    const char *user = json_string_value(json_object_get(k, "user"));
    if (user) {
        json_t *arr = json_object_get(l->keys_by_user, user);
        if (!arr) {
            arr = json_array();
            json_object_set_new(l->keys_by_user, user, arr);
        }
        json_array_append_new(arr, json_string(name));
    }
    json_decref(k);
    return true;
}

static bool user_cb(void *arg, const char *name, const char *doc, size_t len)
{
    list_ctx_t *l = arg;
    json_t *u = json_loadb(doc, len, 0, NULL);
    json_t *keys = json_object_get(l->keys_by_user, name);
    json_array_append_new(
        l->users, json_pack("{s:s,s:O?,s:O?,s:O}", "name", name, "arn", json_object_get(u, "arn"),
                            "policy", json_object_get(u, "policy"), "access_keys",
                            keys ? keys : json_array()));
    json_decref(u);
    return true;
}

static void user_list(router_t *rt, http_req_t *r)
{
    list_ctx_t l = {json_array(), json_object()};
    store_sys_list(rt->st, r->arena, "keys", key_cb, &l);
    store_sys_list(rt->st, r->arena, "users", user_cb, &l);
    json_decref(l.keys_by_user);
    r->op = "AdminListUsers";
    admin_json(r, 200, NULL, json_pack("{s:o}", "users", l.users));
}

typedef struct {
    const char *user;
    char **ids;
    size_t n, cap;
    arena_t *a;
} keys_of_t;

static bool keys_of_cb(void *arg, const char *name, const char *doc, size_t len)
{
    keys_of_t *k = arg;
    json_t *j = json_loadb(doc, len, 0, NULL);
    const char *user = json_string_value(json_object_get(j, "user"));
    if (user && strcmp(user, k->user) == 0 && k->n < k->cap)
        k->ids[k->n++] = arena_strdup(k->a, name);
    json_decref(j);
    return true;
}

static void user_delete(router_t *rt, http_req_t *r, const char *name)
{
    r->op = "AdminDeleteUser";
    char *doc = NULL;
    size_t len = 0;
    if (store_sys_get(rt->st, r->arena, "users", name, &doc, &len) != STORE_OK) {
        admin_error(r, 404, "NoSuchEntity", "no such user");
        return;
    }
    /* The user record goes first: its keys then authenticate nobody, even
     * if removing them is interrupted. */
    if (store_sys_put(rt->st, "users", name, NULL, 0) != STORE_OK) {
        admin_error(r, 500, "InternalError", "could not remove the user");
        return;
    }
    keys_of_t k = {.user = name, .cap = 1024, .a = r->arena};
    k.ids = arena_alloc(r->arena, k.cap * sizeof *k.ids);
    if (k.ids)
        store_sys_list(rt->st, r->arena, "keys", keys_of_cb, &k);
    for (size_t i = 0; i < k.n; i++)
        store_sys_put(rt->st, "keys", k.ids[i], NULL, 0);
    r->status = 204;
}

static void user_put_policy(router_t *rt, http_req_t *r, const char *name, const char *body,
                            size_t len)
{
    r->op = "AdminPutUserPolicy";
    char *doc = NULL;
    size_t dlen = 0;
    if (store_sys_get(rt->st, r->arena, "users", name, &doc, &dlen) != STORE_OK) {
        admin_error(r, 404, "NoSuchEntity", "no such user");
        return;
    }
    if (!policy_ok(r, body, len))
        return;
    json_t *u = json_loadb(doc, dlen, 0, NULL);
    json_object_set_new(u, "policy", json_stringn(body, len));
    char *out = json_dumps(u, JSON_COMPACT);
    json_decref(u);
    store_rc_t rc = out ? store_sys_put(rt->st, "users", name, out, strlen(out)) : STORE_NOMEM;
    free(out);
    if (rc != STORE_OK) {
        admin_error(r, 500, "InternalError", store_rc_name(rc));
        return;
    }
    r->status = 204;
}

bool iam_admin(router_t *rt, http_req_t *r, const char *body, size_t len)
{
    const char *p = r->raw_path;
    const char *base = "/kura/admin/users";
    size_t bl = strlen(base);
    if (strncmp(p, base, bl) != 0 || (p[bl] != '\0' && p[bl] != '/'))
        return false;
    const char *rest = p[bl] == '/' ? p + bl + 1 : "";
    if (!*rest) {
        if (strcmp(r->method, "POST") == 0)
            user_create(rt, r, body, len);
        else if (strcmp(r->method, "GET") == 0)
            user_list(rt, r);
        else
            admin_error(r, 405, "MethodNotAllowed", "GET or POST");
        return true;
    }
    char name[IAM_USER_NAME_MAX + 1];
    const char *slash = strchr(rest, '/');
    size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nl == 0 || nl > IAM_USER_NAME_MAX) {
        admin_error(r, 404, "NoSuchEntity", "no such user");
        return true;
    }
    memcpy(name, rest, nl);
    name[nl] = '\0';
    if (!user_name_ok(name)) {
        admin_error(r, 404, "NoSuchEntity", "no such user");
    } else if (!slash && strcmp(r->method, "DELETE") == 0) {
        user_delete(rt, r, name);
    } else if (slash && strcmp(slash, "/policy") == 0 && strcmp(r->method, "PUT") == 0) {
        user_put_policy(rt, r, name, body, len);
    } else {
        admin_error(r, 404, "NotFound", "No such kura endpoint");
    }
    return true;
}
