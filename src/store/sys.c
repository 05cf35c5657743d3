/* store/sys.c: system records (store.h, "system records"): one LMDB
 * sub-database keyed namespace \0 name. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define SYS_KEY_MAX (2 * STORE_SYS_NAME_MAX + 1)

static bool name_ok(const char *s)
{
    size_t n = s ? strnlen(s, STORE_SYS_NAME_MAX + 1) : 0;
    return n >= 1 && n <= STORE_SYS_NAME_MAX;
}

static size_t sys_key(uint8_t *out, const char *ns, const char *name)
{
    size_t a = strlen(ns), b = name ? strlen(name) : 0;
    memcpy(out, ns, a);
    out[a] = '\0';
    if (b)
        memcpy(out + a + 1, name, b);
    return a + 1 + b;
}

typedef struct {
    const char *ns, *name;
    const void *doc;
    size_t len;
    bool create;
} sys_arg_t;

static store_rc_t sys_put_fn(store_txn_t *t, void *arg)
{
    sys_arg_t *s = arg;
    uint8_t key[SYS_KEY_MAX];
    MDB_val k = {sys_key(key, s->ns, s->name), key};
    if (!s->doc)
        return store_txn_rc(t, mdb_del(t->txn, t->st->db[DB_SYS], &k, NULL));
    MDB_val v = mval(s->doc, s->len);
    int e = mdb_put(t->txn, t->st->db[DB_SYS], &k, &v, s->create ? MDB_NOOVERWRITE : 0);
    if (e == MDB_KEYEXIST)
        return STORE_EXISTS;
    return store_txn_rc(t, e);
}

static store_rc_t sys_write(store_t *st, const char *ns, const char *name, const void *doc,
                            size_t len, bool create)
{
    if (!name_ok(ns) || !name_ok(name) || len > REC_MAX_BYTES || (create && !doc))
        return STORE_INVALID;
    sys_arg_t s = {ns, name, doc, len, create};
    return store_mutate(st, sys_put_fn, &s);
}

store_rc_t store_sys_put(store_t *st, const char *ns, const char *name, const void *doc,
                         size_t len)
{
    return sys_write(st, ns, name, doc, len, false);
}

store_rc_t store_sys_create(store_t *st, const char *ns, const char *name, const void *doc,
                            size_t len)
{
    return sys_write(st, ns, name, doc, len, true);
}

store_rc_t store_sys_get(store_t *st, arena_t *a, const char *ns, const char *name, char **doc,
                         size_t *len)
{
    if (!name_ok(ns) || !name_ok(name))
        return STORE_INVALID;
    uint8_t key[SYS_KEY_MAX];
    MDB_val k = {sys_key(key, ns, name), key}, v;
    MDB_txn *txn;
    store_rc_t rc = store_read_begin(st, &txn);
    if (rc != STORE_OK)
        return rc;
    int e = mdb_get(txn, st->db[DB_SYS], &k, &v);
    if (e) {
        rc = store_mdb_rc(e);
    } else {
        /* +1: NUL-terminated, so text documents read as C strings. */
        *doc = arena_memdup(a, v.mv_data, v.mv_size);
        *len = v.mv_size;
        rc = *doc ? STORE_OK : STORE_NOMEM;
    }
    store_read_end(st, txn);
    return rc;
}

typedef struct {
    const char *name, *doc;
    size_t len;
} sys_row_t;

store_rc_t store_sys_list(store_t *st, arena_t *a, const char *ns, store_sys_cb cb, void *arg)
{
    if (!name_ok(ns))
        return STORE_INVALID;
    uint8_t key[SYS_KEY_MAX];
    size_t plen = sys_key(key, ns, NULL);
    MDB_txn *txn;
    store_rc_t rc = store_read_begin(st, &txn);
    if (rc != STORE_OK)
        return rc;
    MDB_cursor *c;
    int e = mdb_cursor_open(txn, st->db[DB_SYS], &c);
    if (e) {
        store_read_end(st, txn);
        return store_mdb_rc(e);
    }
    /* Rows are copied out and the transaction closed before calling back,
     * so callbacks may call any store function. */
    sys_row_t *rows = NULL;
    size_t n = 0, cap = 0;
    MDB_val k = {plen, key}, v;
    for (e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !e; e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, key, plen) != 0)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            sys_row_t *nr = realloc(rows, cap * sizeof *nr);
            if (!nr) {
                rc = STORE_NOMEM;
                break;
            }
            rows = nr;
        }
        rows[n].name = arena_strndup(a, (const char *)k.mv_data + plen, k.mv_size - plen);
        rows[n].doc = arena_memdup(a, v.mv_data, v.mv_size);
        rows[n].len = v.mv_size;
        if (!rows[n].name || !rows[n].doc) {
            rc = STORE_NOMEM;
            break;
        }
        n++;
    }
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    mdb_cursor_close(c);
    store_read_end(st, txn);
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        if (!cb(arg, rows[i].name, rows[i].doc, rows[i].len))
            break;
    free(rows);
    return rc;
}

/* ---- compare-and-swap batches (store_sys_cas) --------------------------- */

typedef struct {
    const store_sys_op_t *ops;
    size_t n;
    size_t failed;
} sys_cas_arg_t;

/* Is there a record in ns whose name starts with prefix? */
static store_rc_t sys_any_prefix(store_txn_t *t, const char *ns, const char *prefix, bool *any)
{
    uint8_t key[SYS_KEY_MAX];
    size_t plen = sys_key(key, ns, prefix[0] ? prefix : NULL);
    MDB_cursor *c;
    int e = mdb_cursor_open(t->txn, t->st->db[DB_SYS], &c);
    if (e)
        return store_txn_rc(t, e);
    MDB_val k = {plen, key}, v;
    e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    *any = !e && k.mv_size >= plen && memcmp(k.mv_data, key, plen) == 0;
    mdb_cursor_close(c);
    if (e && e != MDB_NOTFOUND)
        return store_txn_rc(t, e);
    return STORE_OK;
}

/* One step's condition; STORE_CONFLICT when it does not hold. */
static store_rc_t sys_cas_check(store_txn_t *t, const store_sys_op_t *op)
{
    if (op->expect == STORE_SYS_ANY)
        return STORE_OK;
    if (op->expect == STORE_SYS_NO_PREFIX) {
        bool any = false;
        store_rc_t rc = sys_any_prefix(t, op->ns, op->name, &any);
        return rc != STORE_OK ? rc : any ? STORE_CONFLICT : STORE_OK;
    }
    uint8_t key[SYS_KEY_MAX];
    MDB_val k = {sys_key(key, op->ns, op->name), key}, v;
    int e = mdb_get(t->txn, t->st->db[DB_SYS], &k, &v);
    if (e && e != MDB_NOTFOUND)
        return store_txn_rc(t, e);
    bool present = e == 0;
    switch (op->expect) {
    case STORE_SYS_ABSENT:
        return present ? STORE_CONFLICT : STORE_OK;
    case STORE_SYS_PRESENT:
        return present ? STORE_OK : STORE_CONFLICT;
    case STORE_SYS_EQUAL:
        if (!present || v.mv_size != op->expect_len ||
            (op->expect_len && memcmp(v.mv_data, op->expect_doc, op->expect_len) != 0))
            return STORE_CONFLICT;
        return STORE_OK;
    default:
        return STORE_INVALID;
    }
}

static store_rc_t sys_cas_fn(store_txn_t *t, void *arg)
{
    sys_cas_arg_t *s = arg;
    for (size_t i = 0; i < s->n; i++) {
        const store_sys_op_t *op = &s->ops[i];
        store_rc_t rc = sys_cas_check(t, op);
        if (rc == STORE_CONFLICT)
            s->failed = i;
        if (rc != STORE_OK)
            return rc;
        if (op->action == STORE_SYS_KEEP)
            continue;
        uint8_t key[SYS_KEY_MAX];
        MDB_val k = {sys_key(key, op->ns, op->name), key};
        int e;
        if (op->action == STORE_SYS_DELETE) {
            e = mdb_del(t->txn, t->st->db[DB_SYS], &k, NULL);
            if (e == MDB_NOTFOUND)
                e = 0;
        } else {
            MDB_val v = mval(op->doc, op->len);
            e = mdb_put(t->txn, t->st->db[DB_SYS], &k, &v, 0);
        }
        if (e)
            return store_txn_rc(t, e);
    }
    return STORE_OK;
}

store_rc_t store_sys_cas(store_t *st, const store_sys_op_t *ops, size_t n, size_t *failed)
{
    if (n == 0 || n > STORE_SYS_CAS_MAX)
        return STORE_INVALID;
    for (size_t i = 0; i < n; i++) {
        const store_sys_op_t *op = &ops[i];
        bool prefix = op->expect == STORE_SYS_NO_PREFIX;
        if (!name_ok(op->ns) || !(prefix ? op->name && strlen(op->name) <= STORE_SYS_NAME_MAX
                                         : name_ok(op->name)))
            return STORE_INVALID;
        if (prefix && op->action != STORE_SYS_KEEP)
            return STORE_INVALID;
        if (op->action == STORE_SYS_WRITE && (!op->doc || op->len > REC_MAX_BYTES))
            return STORE_INVALID;
        if (op->expect > STORE_SYS_NO_PREFIX || op->action > STORE_SYS_DELETE)
            return STORE_INVALID;
    }
    sys_cas_arg_t s = {ops, n, 0};
    store_rc_t rc = store_mutate(st, sys_cas_fn, &s);
    if (rc == STORE_CONFLICT && failed)
        *failed = s.failed;
    return rc;
}
