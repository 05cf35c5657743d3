/* store/env.c: store_open/close, the LMDB environment, map growth, read
 * transactions, sequence numbers, error names. */
#include "store/store_int.h"

#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_FORMAT 1u /* meta "format": bump on an incompatible layout change */

static const char *const rc_names[] = {
    [STORE_OK] = "OK",
    [STORE_NOT_FOUND] = "NOT_FOUND",
    [STORE_NO_BUCKET] = "NO_BUCKET",
    [STORE_EXISTS] = "EXISTS",
    [STORE_NOT_EMPTY] = "NOT_EMPTY",
    [STORE_PRECONDITION] = "PRECONDITION",
    [STORE_CONFLICT] = "CONFLICT",
    [STORE_LOCKED] = "LOCKED",
    [STORE_INVALID] = "INVALID",
    [STORE_TOO_LARGE] = "TOO_LARGE",
    [STORE_FULL] = "FULL",
    [STORE_IO] = "IO",
    [STORE_CORRUPT] = "CORRUPT",
    [STORE_NOMEM] = "NOMEM",
};
_Static_assert(sizeof rc_names / sizeof rc_names[0] == STORE_RC__COUNT, "rc_names incomplete");

const char *store_rc_name(store_rc_t rc)
{
    return (unsigned)rc < STORE_RC__COUNT ? rc_names[rc] : "?";
}

static const char *const db_names[DB__COUNT] = {
    [DB_META] = "meta",       [DB_BUCKETS] = "buckets", [DB_BCONF] = "bconf",
    [DB_OBJECTS] = "objects", [DB_UPLOADS] = "uploads", [DB_PARTS] = "parts",
    [DB_REFS] = "refs",       [DB_SYS] = "sys",         [DB_JOURNAL] = "journal",
};

void store_put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t store_get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

store_rc_t store_mdb_rc(int e)
{
    switch (e) {
    case MDB_SUCCESS:
        return STORE_OK;
    case MDB_NOTFOUND:
        return STORE_NOT_FOUND;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
        return STORE_FULL;
    case MDB_TXN_FULL:
        return STORE_TOO_LARGE;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return STORE_CORRUPT;
    case ENOMEM:
        return STORE_NOMEM;
    default:
        return STORE_IO;
    }
}

store_rc_t store_txn_rc(store_txn_t *t, int e)
{
    if (e == MDB_MAP_FULL)
        t->map_full = true;
    if (e != MDB_SUCCESS && e != MDB_NOTFOUND && e != MDB_MAP_FULL)
        log_warn(NULL, "store.txn", "mdb=\"%s\"", mdb_strerror(e));
    return store_mdb_rc(e);
}

store_rc_t store_read_begin(store_t *st, MDB_txn **out)
{
    pthread_rwlock_rdlock(&st->map_lock);
    int e = mdb_txn_begin(st->env, NULL, MDB_RDONLY, out);
    if (e) {
        pthread_rwlock_unlock(&st->map_lock);
        log_warn(NULL, "store.read_begin", "mdb=\"%s\"", mdb_strerror(e));
        return store_mdb_rc(e);
    }
    return STORE_OK;
}

void store_read_end(store_t *st, MDB_txn *txn)
{
    if (txn)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->map_lock);
}

store_rc_t store_map_grow(store_t *st)
{
    MDB_envinfo info;
    store_rc_t rc = STORE_OK;

    pthread_rwlock_wrlock(&st->map_lock);
    mdb_env_info(st->env, &info);
    size_t old = info.me_mapsize;
    size_t step = old < STORE_MAP_STEP_MAX_BYTES ? old : STORE_MAP_STEP_MAX_BYTES;
    size_t next = old + step;
    if (next < old) {
        rc = STORE_FULL;
    } else {
        int e = mdb_env_set_mapsize(st->env, next);
        if (e) {
            log_error(NULL, "store.map_grow", "bytes=%zu mdb=\"%s\"", next, mdb_strerror(e));
            rc = store_mdb_rc(e) == STORE_NOMEM ? STORE_FULL : STORE_IO;
        }
    }
    pthread_rwlock_unlock(&st->map_lock);
    if (rc == STORE_OK) {
        pthread_mutex_lock(&st->q_mu);
        st->stats.map_grows++;
        st->stats.map_bytes = next;
        pthread_mutex_unlock(&st->q_mu);
        log_info(NULL, "store.map_grow", "bytes=%zu", next);
    }
    return rc;
}

store_rc_t store_seq_next(store_txn_t *t, uint64_t *seq)
{
    MDB_val k = mval("seq", 3), v;
    uint64_t cur = 0;
    uint8_t raw[8];
    int e = mdb_get(t->txn, t->st->db[DB_META], &k, &v);
    if (e == MDB_SUCCESS) {
        if (v.mv_size != 8)
            return STORE_CORRUPT;
        cur = store_get_u64be(v.mv_data);
    } else if (e != MDB_NOTFOUND) {
        return store_txn_rc(t, e);
    }
    if (cur >= UINT64_MAX - 1)
        return STORE_FULL; /* 2^64 mutations: unreachable, but never wrap */
    store_put_u64be(raw, cur + 1);
    v.mv_size = 8;
    v.mv_data = raw;
    if ((e = mdb_put(t->txn, t->st->db[DB_META], &k, &v, 0)))
        return store_txn_rc(t, e);
    *seq = cur + 1;
    return STORE_OK;
}

void store_stats(store_t *st, store_stats_t *out)
{
    pthread_mutex_lock(&st->q_mu);
    *out = st->stats;
    pthread_mutex_unlock(&st->q_mu);
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static bool mkdir_ok(const char *p)
{
    return mkdir(p, 0700) == 0 || errno == EEXIST;
}

/* Opens every sub-database and checks the format, in one write txn. */
static store_rc_t open_dbs(store_t *st)
{
    MDB_txn *txn;
    uint8_t raw[4] = {0, 0, 0, STORE_FORMAT};
    MDB_val k = mval("format", 6), v;
    int e = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (e)
        return store_mdb_rc(e);
    for (int i = 0; i < DB__COUNT; i++)
        if ((e = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->db[i])))
            goto fail;
    e = mdb_get(txn, st->db[DB_META], &k, &v);
    if (e == MDB_NOTFOUND) {
        v.mv_size = sizeof raw;
        v.mv_data = raw;
        e = mdb_put(txn, st->db[DB_META], &k, &v, 0);
    } else if (e == MDB_SUCCESS && (v.mv_size != sizeof raw || memcmp(v.mv_data, raw, 4))) {
        mdb_txn_abort(txn);
        log_error(NULL, "store.open", "msg=\"unknown store format\"");
        return STORE_CORRUPT;
    }
    if (e)
        goto fail;
    if ((e = mdb_txn_commit(txn)))
        return store_mdb_rc(e);
    return STORE_OK;
fail:
    mdb_txn_abort(txn);
    return store_mdb_rc(e);
}

static store_rc_t open_env(store_t *st)
{
    size_t map = st->opts.initial_map_bytes ? st->opts.initial_map_bytes : STORE_MAP_DEFAULT_BYTES;
    unsigned flags = MDB_NOTLS | (st->opts.no_sync ? MDB_NOSYNC : 0);
    MDB_envinfo info;
    int e;

    if ((e = mdb_env_create(&st->env)))
        return store_mdb_rc(e);
    if ((e = mdb_env_set_maxdbs(st->env, STORE_MAX_DBS)) ||
        (e = mdb_env_set_maxreaders(st->env, STORE_MAX_READERS)) ||
        (e = mdb_env_set_mapsize(st->env, map)) ||
        (e = mdb_env_open(st->env, st->mdb_dir, flags, 0600))) {
        log_error(NULL, "store.open", "dir=%s mdb=\"%s\"", st->mdb_dir, mdb_strerror(e));
        return store_mdb_rc(e);
    }
    mdb_env_info(st->env, &info);
    st->stats.map_bytes = info.me_mapsize;
    return open_dbs(st);
}

store_rc_t store_open(const char *data_dir, const store_opts_t *opts, store_t **out)
{
    store_rc_t rc = STORE_NOMEM;
    store_t *st = calloc(1, sizeof *st);
    char *lock_path = NULL;

    *out = NULL;
    if (!st)
        return STORE_NOMEM;
    st->lock_fd = -1;
    if (opts)
        st->opts = *opts;
    if (!st->opts.inline_max_bytes)
        st->opts.inline_max_bytes = 8192;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* Writer-preferring: a growth request must not starve behind a stream
     * of readers. Safe because no store code nests read locks. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->map_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&st->q_mu, NULL);
    pthread_cond_init(&st->q_cv, NULL);
    pthread_mutex_init(&st->live_mu, NULL);

    if (!(st->dir = strdup(data_dir)) || !(st->mdb_dir = path_join(data_dir, "kura.mdb")) ||
        !(st->blobs_dir = path_join(data_dir, "blobs")) ||
        !(st->tmp_dir = path_join(data_dir, "tmp")) ||
        !(lock_path = path_join(data_dir, "store.lock")))
        goto fail;
    rc = STORE_IO;
    if (!mkdir_ok(st->dir) || !mkdir_ok(st->mdb_dir) || !mkdir_ok(st->blobs_dir) ||
        !mkdir_ok(st->tmp_dir)) {
        log_error(NULL, "store.open", "dir=%s errno=%d", data_dir, errno);
        goto fail;
    }
    st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_error(NULL, "store.open", "msg=\"data dir locked or unwritable\" errno=%d", errno);
        goto fail;
    }
    if ((rc = open_env(st)) != STORE_OK)
        goto fail;
    if ((rc = blob_sweep_at_open(st)) != STORE_OK)
        goto fail;
    if ((rc = store_committer_start(st)) != STORE_OK)
        goto fail;
    free(lock_path);
    *out = st;
    return STORE_OK;
fail:
    free(lock_path);
    store_close(st);
    return rc;
}

void store_close(store_t *st)
{
    if (!st)
        return;
    store_committer_stop(st);
    if (st->env)
        mdb_env_close(st->env);
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    pthread_rwlock_destroy(&st->map_lock);
    pthread_mutex_destroy(&st->q_mu);
    pthread_cond_destroy(&st->q_cv);
    pthread_mutex_destroy(&st->live_mu);
    free(st->dir);
    free(st->mdb_dir);
    free(st->blobs_dir);
    free(st->tmp_dir);
    free(st);
}
