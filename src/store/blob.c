/* store/blob.c: blob writers, blob files, refcounts, the sweep at open.
 *
 * This file and fsck.c are the only ones that know blobs are local files:
 * a RADOS backend (DESIGN.md: scale) replaces the file calls here.
 *
 * Writer states (store.h: store_blob_*):
 *   MEMORY    store_blob_begin(); bytes buffered while size <= inline_max
 *   SPILLED   store_blob_write() passed inline_max: tmp/<id> holds the bytes
 *   FINISHED  store_blob_finish(): in memory, or fsync'd and renamed to
 *             blobs/xx/yy/<id> with the directory fsync'd ("published")
 *   FAILED    a write failed: finish() refuses, the tmp file is gone
 * Consumption (blob_release) or store_blob_abort() frees the writer and
 * unlinks a file no committed row references. */
#include "store/store_int.h"

#include "util/codec.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { BLOB_MEMORY, BLOB_SPILLED, BLOB_FINISHED, BLOB_FAILED } blob_state_t;

struct store_blob {
    store_t *st;
    char id[BLOB_ID_LEN + 1];
    blob_state_t state;
    bool is_file; /* bytes are (or will be) a file, not inline */
    bool published;
    unsigned char *mem;
    size_t mem_len, mem_cap;
    int fd;
    uint64_t size;
    store_blob_t *live_prev, *live_next;
};

void blob_path(const store_t *st, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.2s/%.2s/%s", st->blobs_dir, id, id + 2, id);
}

static void tmp_path(const store_t *st, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", st->tmp_dir, id);
}

static store_rc_t errno_rc(int e)
{
    return e == ENOSPC || e == EDQUOT ? STORE_FULL : STORE_IO;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Creates `path` if needed; a new directory entry is durable only once its
 * parent is synced. */
static int mkdir_durable(const char *path, const char *parent, bool sync)
{
    if (mkdir(path, 0700) == 0)
        return sync ? fsync_dir(parent) : 0;
    return errno == EEXIST ? 0 : -1;
}

static void live_add(store_blob_t *w)
{
    store_t *st = w->st;
    pthread_mutex_lock(&st->live_mu);
    w->live_next = st->live;
    if (st->live)
        st->live->live_prev = w;
    st->live = w;
    pthread_mutex_unlock(&st->live_mu);
}

static void live_remove(store_blob_t *w)
{
    store_t *st = w->st;
    pthread_mutex_lock(&st->live_mu);
    if (w->live_prev)
        w->live_prev->live_next = w->live_next;
    else
        st->live = w->live_next;
    if (w->live_next)
        w->live_next->live_prev = w->live_prev;
    pthread_mutex_unlock(&st->live_mu);
}

bool blob_is_live(store_t *st, const char *id)
{
    bool found = false;
    pthread_mutex_lock(&st->live_mu);
    for (store_blob_t *w = st->live; w && !found; w = w->live_next)
        found = strcmp(w->id, id) == 0;
    pthread_mutex_unlock(&st->live_mu);
    return found;
}

store_rc_t store_blob_begin(store_t *st, store_blob_t **out)
{
    store_blob_t *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return STORE_NOMEM;
    w->st = st;
    w->fd = -1;
    w->state = BLOB_MEMORY;
    codec_random_hex(BLOB_ID_LEN / 2, w->id);
    live_add(w);
    *out = w;
    return STORE_OK;
}

static store_rc_t write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t r = write(fd, c, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno_rc(errno);
        }
        c += r;
        n -= (size_t)r;
    }
    return STORE_OK;
}

/* MEMORY -> SPILLED: the buffered bytes go to tmp/<id>. */
static store_rc_t blob_spill(store_blob_t *w)
{
    char path[4096];
    tmp_path(w->st, w->id, path, sizeof path);
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0)
        return errno_rc(errno);
    w->is_file = true;
    w->state = BLOB_SPILLED;
    store_rc_t rc = write_all(w->fd, w->mem, w->mem_len);
    free(w->mem);
    w->mem = NULL;
    w->mem_len = w->mem_cap = 0;
    return rc;
}

static void blob_fail(store_blob_t *w)
{
    char path[4096];
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->is_file) {
        tmp_path(w->st, w->id, path, sizeof path);
        unlink(path);
    }
    w->state = BLOB_FAILED;
}

store_rc_t store_blob_write(store_blob_t *w, const void *p, size_t n)
{
    store_rc_t rc;
    uint64_t size;

    if (w->state != BLOB_MEMORY && w->state != BLOB_SPILLED)
        return w->state == BLOB_FAILED ? STORE_IO : STORE_INVALID;
    if (__builtin_add_overflow(w->size, (uint64_t)n, &size))
        return STORE_TOO_LARGE;
    if (w->state == BLOB_MEMORY && size <= w->st->opts.inline_max_bytes) {
        if (w->mem_len + n > w->mem_cap) {
            size_t cap = w->mem_cap ? w->mem_cap : 1024;
            while (cap < w->mem_len + n)
                cap *= 2;
            unsigned char *m = realloc(w->mem, cap);
            if (!m)
                return STORE_NOMEM;
            w->mem = m;
            w->mem_cap = cap;
        }
        if (n)
            memcpy(w->mem + w->mem_len, p, n);
        w->mem_len += n;
        w->size = size;
        return STORE_OK;
    }
    if (w->state == BLOB_MEMORY && (rc = blob_spill(w)) != STORE_OK)
        goto fail;
    if ((rc = write_all(w->fd, p, n)) != STORE_OK)
        goto fail;
    w->size = size;
    return STORE_OK;
fail:
    log_warn(NULL, "store.blob_write", "blob=%s rc=%s", w->id, store_rc_name(rc));
    blob_fail(w);
    return rc;
}

/* SPILLED -> FINISHED: fsync, rename into blobs/xx/yy/, fsync the directory.
 * After this the bytes survive a crash; the index commit comes next. */
static store_rc_t blob_publish(store_blob_t *w)
{
    char tmp[4096], final[4096], d1[4096], d2[4096];
    bool sync = !w->st->opts.no_sync;
    store_rc_t rc = STORE_IO;

    tmp_path(w->st, w->id, tmp, sizeof tmp);
    blob_path(w->st, w->id, final, sizeof final);
    snprintf(d1, sizeof d1, "%s/%.2s", w->st->blobs_dir, w->id);
    snprintf(d2, sizeof d2, "%s/%.2s/%.2s", w->st->blobs_dir, w->id, w->id + 2);
    if (sync && fsync(w->fd) != 0)
        goto fail;
    if (close(w->fd) != 0) {
        w->fd = -1;
        goto fail;
    }
    w->fd = -1;
    if (mkdir_durable(d1, w->st->blobs_dir, sync) != 0 || mkdir_durable(d2, d1, sync) != 0)
        goto fail;
    if (rename(tmp, final) != 0)
        goto fail;
    w->published = true;
    /* The rename survives a crash only once the directory is synced. */
    if (sync && fsync_dir(d2) != 0)
        goto fail;
    w->state = BLOB_FINISHED;
    return STORE_OK;
fail:
    rc = errno_rc(errno);
    log_warn(NULL, "store.blob_finish", "blob=%s errno=%d", w->id, errno);
    if (w->published)
        unlink(final);
    w->published = false;
    blob_fail(w);
    return rc;
}

store_rc_t store_blob_finish(store_blob_t *w)
{
    if (w->state == BLOB_MEMORY) {
        w->state = BLOB_FINISHED;
        return STORE_OK;
    }
    if (w->state != BLOB_SPILLED)
        return w->state == BLOB_FAILED ? STORE_IO : STORE_INVALID;
    return blob_publish(w);
}

store_rc_t store_blob_finish_file(store_blob_t *w)
{
    store_rc_t rc = store_blob_finish(w);
    return rc == STORE_OK ? blob_materialize(w) : rc;
}

store_rc_t store_object_path(store_t *st, arena_t *a, const char *bucket, const char *key,
                             size_t key_len, const char **path)
{
    store_object_t o;
    store_rc_t rc = store_object_get(st, a, bucket, key, key_len, NULL, &o);
    if (rc != STORE_OK)
        return rc;
    if (o.delete_marker)
        return STORE_NOT_FOUND;
    if (o.nsegs != 1 || o.segs[0].offset != 0 || o.segs[0].length != o.size)
        return STORE_INVALID;
    char p[4096];
    blob_path(st, o.segs[0].blob_id, p, sizeof p);
    *path = arena_strdup(a, p);
    return *path ? STORE_OK : STORE_NOMEM;
}

store_rc_t blob_materialize(store_blob_t *w)
{
    store_rc_t rc;
    if (w->state != BLOB_FINISHED)
        return STORE_INVALID;
    if (w->is_file)
        return STORE_OK;
    if ((rc = blob_spill(w)) != STORE_OK) {
        blob_fail(w);
        return rc;
    }
    return blob_publish(w);
}

uint64_t store_blob_size(const store_blob_t *w)
{
    return w->size;
}

bool blob_is_file(const store_blob_t *w)
{
    return w->is_file;
}

const char *blob_id(const store_blob_t *w)
{
    return w->id;
}

const void *blob_mem(const store_blob_t *w, size_t *len)
{
    *len = w->mem_len;
    return w->mem;
}

bool blob_finished(const store_blob_t *w)
{
    return w->state == BLOB_FINISHED;
}

void blob_release(store_blob_t *w, bool referenced)
{
    char path[4096];
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->published && !referenced) {
        blob_path(w->st, w->id, path, sizeof path);
        unlink(path);
    } else if (w->is_file && !w->published && w->state != BLOB_FAILED) {
        tmp_path(w->st, w->id, path, sizeof path);
        unlink(path);
    }
    live_remove(w);
    free(w->mem);
    free(w);
}

void store_blob_abort(store_blob_t *w)
{
    blob_release(w, false);
}

store_rc_t store_blob_open(store_t *st, const char *blob_id_str, int *fd_out)
{
    char path[4096];
    if (!blob_id_str || strnlen(blob_id_str, BLOB_ID_LEN + 1) != BLOB_ID_LEN ||
        !blob_id_ok(blob_id_str, BLOB_ID_LEN))
        return STORE_INVALID;
    blob_path(st, blob_id_str, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? STORE_NOT_FOUND : STORE_IO;
    *fd_out = fd;
    return STORE_OK;
}

store_rc_t store_blob_refcount(store_t *st, const char *id, uint64_t *n)
{
    MDB_txn *txn;
    store_rc_t rc;
    if (!id || strnlen(id, BLOB_ID_LEN + 1) != BLOB_ID_LEN || !blob_id_ok(id, BLOB_ID_LEN))
        return STORE_INVALID;
    if ((rc = store_read_begin(st, &txn)) != STORE_OK)
        return rc;
    MDB_val k = mval(id, BLOB_ID_LEN), v;
    int e = mdb_get(txn, st->db[DB_REFS], &k, &v);
    *n = 0;
    if (e == MDB_SUCCESS)
        rc = v.mv_size == 8 ? (*n = store_get_u64be(v.mv_data), STORE_OK) : STORE_CORRUPT;
    else
        rc = e == MDB_NOTFOUND ? STORE_OK : store_mdb_rc(e);
    store_read_end(st, txn);
    return rc;
}

/* ---- refcounts -------------------------------------------------------- */

static store_rc_t ref_get(store_txn_t *t, const char *id, uint64_t *n)
{
    MDB_val k = mval(id, BLOB_ID_LEN), v;
    int e = mdb_get(t->txn, t->st->db[DB_REFS], &k, &v);
    if (e)
        return store_txn_rc(t, e);
    if (v.mv_size != 8 || (*n = store_get_u64be(v.mv_data)) == 0)
        return STORE_CORRUPT;
    return STORE_OK;
}

static store_rc_t ref_set(store_txn_t *t, const char *id, uint64_t n, unsigned flags)
{
    uint8_t raw[8];
    MDB_val k = mval(id, BLOB_ID_LEN), v = {8, raw};
    store_put_u64be(raw, n);
    int e = mdb_put(t->txn, t->st->db[DB_REFS], &k, &v, flags);
    return e == MDB_KEYEXIST ? STORE_CONFLICT : store_txn_rc(t, e);
}

store_rc_t ref_new(store_txn_t *t, const char *id)
{
    return ref_set(t, id, 1, MDB_NOOVERWRITE);
}

store_rc_t ref_add(store_txn_t *t, const char *id)
{
    uint64_t n;
    store_rc_t rc = ref_get(t, id, &n);
    if (rc != STORE_OK)
        return rc;
    return n == UINT64_MAX ? STORE_TOO_LARGE : ref_set(t, id, n + 1, 0);
}

store_rc_t ref_drop(store_txn_t *t, const char *id)
{
    uint64_t n;
    store_rc_t rc = ref_get(t, id, &n);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? STORE_CORRUPT : rc; /* a row referenced it */
    if (n > 1)
        return ref_set(t, id, n - 1, 0);
    MDB_val k = mval(id, BLOB_ID_LEN);
    int e = mdb_del(t->txn, t->st->db[DB_REFS], &k, NULL);
    if (e)
        return store_txn_rc(t, e);
    store_mut_t *m = t->m;
    if (m->ndead == m->capdead) {
        size_t cap = m->capdead ? m->capdead * 2 : 8;
        void *d = realloc(m->dead, cap * sizeof *m->dead);
        if (!d)
            return STORE_NOMEM;
        m->dead = d;
        m->capdead = cap;
    }
    memcpy(m->dead[m->ndead++], id, BLOB_ID_LEN + 1);
    return STORE_OK;
}

store_rc_t ref_drop_object(store_txn_t *t, const store_object_t *o)
{
    for (size_t i = 0; i < o->nsegs; i++) {
        store_rc_t rc = ref_drop(t, o->segs[i].blob_id);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* ---- walking blobs/ --------------------------------------------------- */

static bool hex2(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[2] == 0;
}

store_rc_t blob_walk(store_t *st, void (*cb)(void *arg, const char *id), void *arg)
{
    char p1[4096], p2[4096];
    DIR *d0 = opendir(st->blobs_dir);
    if (!d0)
        return STORE_IO;
    for (struct dirent *e0; (e0 = readdir(d0));) {
        if (!hex2(e0->d_name))
            continue;
        int r = snprintf(p1, sizeof p1, "%s/%s", st->blobs_dir, e0->d_name);
        DIR *d1 = r > 0 && (size_t)r < sizeof p1 ? opendir(p1) : NULL;
        if (!d1)
            continue;
        for (struct dirent *e1; (e1 = readdir(d1));) {
            if (!hex2(e1->d_name))
                continue;
            r = snprintf(p2, sizeof p2, "%s/%s", p1, e1->d_name);
            DIR *d2 = r > 0 && (size_t)r < sizeof p2 ? opendir(p2) : NULL;
            if (!d2)
                continue;
            for (struct dirent *e2; (e2 = readdir(d2));) {
                const char *n = e2->d_name;
                if (n[0] == '.')
                    continue;
                if (strlen(n) != BLOB_ID_LEN || !blob_id_ok(n, BLOB_ID_LEN) ||
                    memcmp(n, e0->d_name, 2) || memcmp(n + 2, e1->d_name, 2)) {
                    log_warn(NULL, "store.blob_walk", "msg=\"foreign file left alone\" dir=%s",
                             p2);
                    continue;
                }
                cb(arg, n);
            }
            closedir(d2);
        }
        closedir(d1);
    }
    closedir(d0);
    return STORE_OK;
}

typedef struct {
    store_t *st;
    MDB_txn *txn;
    uint64_t removed;
    store_rc_t rc;
} sweep_t;

static void sweep_one(void *arg, const char *id)
{
    sweep_t *s = arg;
    MDB_val k = mval(id, BLOB_ID_LEN), v;
    int e = mdb_get(s->txn, s->st->db[DB_REFS], &k, &v);
    if (e == MDB_NOTFOUND) {
        char path[4096];
        blob_path(s->st, id, path, sizeof path);
        if (unlink(path) == 0)
            s->removed++;
    } else if (e) {
        s->rc = store_mdb_rc(e);
    }
}

store_rc_t blob_sweep_at_open(store_t *st)
{
    char path[4096];
    sweep_t s = {.st = st};
    store_rc_t rc;

    /* tmp/ holds only writes that were never acknowledged. */
    DIR *d = opendir(st->tmp_dir);
    if (!d)
        return STORE_IO;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int r = snprintf(path, sizeof path, "%s/%s", st->tmp_dir, e->d_name);
        if (r > 0 && (size_t)r < sizeof path)
            unlink(path);
    }
    closedir(d);

    if ((rc = store_read_begin(st, &s.txn)) != STORE_OK)
        return rc;
    rc = blob_walk(st, sweep_one, &s);
    store_read_end(st, s.txn);
    if (rc == STORE_OK)
        rc = s.rc;
    if (s.removed)
        log_info(NULL, "store.sweep", "orphans_removed=%llu", (unsigned long long)s.removed);
    return rc;
}
