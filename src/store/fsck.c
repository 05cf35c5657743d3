/* store/fsck.c: store_fsck, the refcount and blob-file audit.
 *
 * Runs as a mutation, i.e. inside the committer: no commit can land while
 * it counts, so the references it sees and the files it lists agree. A blob
 * being written (a live writer, renamed into blobs/ but not yet committed)
 * is not an orphan and is left alone. Memory: one entry per distinct blob
 * id referenced or present, O(blobs). */
#include "store/store_int.h"

#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char id[BLOB_ID_LEN + 1];
    uint64_t expected; /* references from object and part rows */
    uint64_t counted;  /* the refs row */
    bool file;
} fent_t;

typedef struct {
    fent_t *tab;
    size_t cap, n; /* cap a power of two, n <= cap / 2 */
    bool nomem;
    store_t *st;
    store_txn_t *t;
    bool repair;
    store_fsck_t *out;
} fmap_t;

static uint64_t id_hash(const char *id)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < BLOB_ID_LEN; i++)
        h = (h ^ (uint8_t)id[i]) * 0x100000001b3ull;
    return h;
}

static fent_t *fmap_get(fmap_t *m, const char *id)
{
    if (m->n + 1 > m->cap / 2) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        fent_t *tab = calloc(cap, sizeof *tab);
        if (!tab) {
            m->nomem = true;
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->tab[i].id[0])
                continue;
            size_t j = id_hash(m->tab[i].id) & (cap - 1);
            while (tab[j].id[0])
                j = (j + 1) & (cap - 1);
            tab[j] = m->tab[i];
        }
        free(m->tab);
        m->tab = tab;
        m->cap = cap;
    }
    size_t j = id_hash(id) & (m->cap - 1);
    while (m->tab[j].id[0] && memcmp(m->tab[j].id, id, BLOB_ID_LEN))
        j = (j + 1) & (m->cap - 1);
    if (!m->tab[j].id[0]) {
        memcpy(m->tab[j].id, id, BLOB_ID_LEN);
        m->n++;
    }
    return &m->tab[j];
}

static store_rc_t count_seg(fmap_t *m, const store_seg_t *s)
{
    fent_t *e = fmap_get(m, s->blob_id);
    if (!e)
        return STORE_NOMEM;
    e->expected++;
    return STORE_OK;
}

/* Every segment of every version and part. */
static store_rc_t count_references(fmap_t *m)
{
    MDB_cursor *c;
    MDB_val k, v;
    store_rc_t rc = STORE_OK;
    int e;

    for (int db = 0; db < 2 && rc == STORE_OK; db++) {
        MDB_dbi dbi = m->st->db[db == 0 ? DB_OBJECTS : DB_PARTS];
        if ((e = mdb_cursor_open(m->t->txn, dbi, &c)))
            return store_mdb_rc(e);
        for (e = mdb_cursor_get(c, &k, &v, MDB_FIRST); !e && rc == STORE_OK;
             e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            arena_t *a = arena_new(0); /* per row: fsck must not grow with the store */
            if (!a) {
                rc = STORE_NOMEM;
                break;
            }
            if (db == 0) {
                store_object_t o;
                rc = rec_object_decode(a, v.mv_data, v.mv_size, &o);
                for (size_t i = 0; rc == STORE_OK && i < o.nsegs; i++)
                    rc = count_seg(m, &o.segs[i]);
            } else {
                store_part_t p;
                memset(&p, 0, sizeof p);
                rc = rec_part_decode(v.mv_data, v.mv_size, &p, a);
                if (rc == STORE_OK)
                    rc = count_seg(m, &p.seg);
            }
            arena_free(a);
        }
        mdb_cursor_close(c);
        if (rc == STORE_OK && e && e != MDB_NOTFOUND)
            rc = store_mdb_rc(e);
    }
    return rc;
}

static store_rc_t read_refcounts(fmap_t *m)
{
    MDB_cursor *c;
    MDB_val k, v;
    int e = mdb_cursor_open(m->t->txn, m->st->db[DB_REFS], &c);
    store_rc_t rc = STORE_OK;
    if (e)
        return store_mdb_rc(e);
    for (e = mdb_cursor_get(c, &k, &v, MDB_FIRST); !e; e = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != BLOB_ID_LEN || !blob_id_ok(k.mv_data, BLOB_ID_LEN) || v.mv_size != 8) {
            rc = STORE_CORRUPT;
            break;
        }
        char id[BLOB_ID_LEN + 1];
        memcpy(id, k.mv_data, BLOB_ID_LEN);
        id[BLOB_ID_LEN] = 0;
        fent_t *f = fmap_get(m, id);
        if (!f) {
            rc = STORE_NOMEM;
            break;
        }
        f->counted = store_get_u64be(v.mv_data);
    }
    mdb_cursor_close(c);
    if (rc == STORE_OK && e && e != MDB_NOTFOUND)
        rc = store_mdb_rc(e);
    return rc;
}

static void see_file(void *arg, const char *id)
{
    fmap_t *m = arg;
    fent_t *f = fmap_get(m, id);
    if (f)
        f->file = true;
}

/* Sets a refs row to n (deleting it at 0). */
static store_rc_t refs_fix(fmap_t *m, const char *id, uint64_t n)
{
    MDB_val k = mval(id, BLOB_ID_LEN);
    uint8_t raw[8];
    if (n == 0) {
        int e = mdb_del(m->t->txn, m->st->db[DB_REFS], &k, NULL);
        return e == MDB_NOTFOUND ? STORE_OK : store_txn_rc(m->t, e);
    }
    store_put_u64be(raw, n);
    MDB_val v = {8, raw};
    return store_txn_rc(m->t, mdb_put(m->t->txn, m->st->db[DB_REFS], &k, &v, 0));
}

static store_rc_t judge(fmap_t *m)
{
    char path[4096];
    store_rc_t rc = STORE_OK;
    for (size_t i = 0; i < m->cap && rc == STORE_OK; i++) {
        fent_t *f = &m->tab[i];
        if (!f->id[0])
            continue;
        bool live = blob_is_live(m->st, f->id);
        if (f->file)
            m->out->blobs++;
        if (f->file && !f->expected && !live) {
            m->out->orphans++;
            log_warn(NULL, "store.fsck", "orphan=%s", f->id);
            if (m->repair) {
                blob_path(m->st, f->id, path, sizeof path);
                unlink(path);
            }
        }
        if (!f->file && f->expected) {
            m->out->missing++;
            log_error(NULL, "store.fsck", "missing=%s refs=%llu", f->id,
                      (unsigned long long)f->expected);
        }
        if (f->counted != f->expected && !(live && !f->expected)) {
            m->out->bad_refcounts++;
            log_warn(NULL, "store.fsck", "blob=%s refcount=%llu expected=%llu", f->id,
                     (unsigned long long)f->counted, (unsigned long long)f->expected);
            if (m->repair)
                rc = refs_fix(m, f->id, f->expected);
        }
    }
    return rc;
}

static store_rc_t fsck_fn(store_txn_t *t, void *arg)
{
    fmap_t *m = arg;
    store_rc_t rc;
    m->t = t;
    m->nomem = false;
    m->n = 0;
    memset(m->out, 0, sizeof *m->out);
    if (m->tab)
        memset(m->tab, 0, m->cap * sizeof *m->tab);
    if ((rc = count_references(m)) != STORE_OK || (rc = read_refcounts(m)) != STORE_OK)
        return rc;
    if ((rc = blob_walk(m->st, see_file, m)) != STORE_OK)
        return rc;
    if (m->nomem)
        return STORE_NOMEM;
    return judge(m);
}

store_rc_t store_fsck(store_t *st, bool repair, store_fsck_t *out)
{
    fmap_t m = {.st = st, .repair = repair, .out = out};
    store_rc_t rc = store_mutate(st, fsck_fn, &m);
    free(m.tab);
    return rc;
}
