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
