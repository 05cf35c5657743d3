/* store/commit.c: group commit (DESIGN.md: "Durability is shared, never
 * skipped"). States of a mutation are listed in store_int.h.
 *
 * Callers enqueue a store_mut_t and sleep on its condition variable. The one
 * committer thread takes everything queued (up to STORE_BATCH_MAX), opens
 * one write txn, runs each mutation in a child txn (a failing one aborts
 * only its child), commits once (one fsync unless no_sync), unlinks the
 * blobs successful mutations freed, then wakes every caller with its own
 * rc. While the committer syncs, new mutations queue up and form the next
 * batch: the busier the store, the more writes share one sync. */
#include "store/store_int.h"

#include "util/log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs the batch once; true if the write txn committed. *grow is set when
 * the map filled and nothing of the batch was committed: the caller grows
 * the map and runs it again. */
static bool batch_run_once(store_t *st, store_mut_t *batch, bool *grow)
{
    MDB_txn *parent = NULL;
    store_rc_t fail_rc;
    int e;

    *grow = false;
    pthread_rwlock_rdlock(&st->map_lock);
    if ((e = mdb_txn_begin(st->env, NULL, 0, &parent))) {
        fail_rc = store_mdb_rc(e);
        goto fail;
    }
    for (store_mut_t *m = batch; m; m = m->next) {
        store_txn_t t = {.st = st, .m = m};
        m->ndead = 0;
        if ((e = mdb_txn_begin(st->env, parent, 0, &t.txn))) {
            m->rc = store_txn_rc(&t, e);
        } else {
            m->rc = m->fn(&t, m->arg);
            if (m->rc == STORE_OK && !t.map_full) {
                if ((e = mdb_txn_commit(t.txn)))
                    m->rc = store_txn_rc(&t, e);
            } else {
                mdb_txn_abort(t.txn);
            }
        }
        if (t.map_full) {
            *grow = true;
            fail_rc = STORE_FULL;
            goto fail;
        }
    }
    e = mdb_txn_commit(parent);
    parent = NULL;
    if (e) {
        if (e == MDB_MAP_FULL) {
            *grow = true;
        } else {
            log_error(NULL, "store.commit", "mdb=\"%s\"", mdb_strerror(e));
        }
        fail_rc = store_mdb_rc(e);
        goto fail;
    }
    pthread_rwlock_unlock(&st->map_lock);
    return true;
fail:
    if (parent)
        mdb_txn_abort(parent);
    pthread_rwlock_unlock(&st->map_lock);
    /* Nothing of the batch is visible: every mutation fails (unless rerun). */
    for (store_mut_t *m = batch; m; m = m->next) {
        m->ndead = 0;
        if (m->rc == STORE_OK)
            m->rc = fail_rc;
    }
    return false;
}

/* After a durable commit: the blobs whose refcount reached 0 go. A crash
 * before the unlink leaves an orphan that the next store_open() removes. */
static void unlink_dead(store_t *st, store_mut_t *m)
{
    char path[4096];
    for (size_t i = 0; i < m->ndead; i++) {
        blob_path(st, m->dead[i], path, sizeof path);
        if (unlink(path) != 0)
            log_warn(NULL, "store.blob_unlink", "blob=%s", m->dead[i]);
    }
    m->ndead = 0;
}

static void batch_run(store_t *st, store_mut_t *batch, size_t n)
{
    bool grow, committed;
    for (;;) {
        committed = batch_run_once(st, batch, &grow);
        if (!grow || store_map_grow(st) != STORE_OK)
            break;
    }
    pthread_mutex_lock(&st->q_mu);
    st->stats.mutations += n;
    if (committed)
        st->stats.commits++;
    if (n > st->stats.max_batch)
        st->stats.max_batch = n;
    pthread_mutex_unlock(&st->q_mu);
    for (store_mut_t *m = batch; m; m = m->next)
        if (m->rc == STORE_OK)
            unlink_dead(st, m);
}

static void *committer_main(void *arg)
{
    store_t *st = arg;
    pthread_mutex_lock(&st->q_mu);
    for (;;) {
        while (!st->q_head && !st->stopping)
            pthread_cond_wait(&st->q_cv, &st->q_mu);
        if (!st->q_head)
            break; /* stopping and drained */
        store_mut_t *batch = st->q_head, *last = batch;
        size_t n = 1;
        while (last->next && n < STORE_BATCH_MAX) {
            last = last->next;
            n++;
        }
        st->q_head = last->next;
        if (!st->q_head)
            st->q_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&st->q_mu);

        batch_run(st, batch, n);

        pthread_mutex_lock(&st->q_mu);
        for (store_mut_t *m = batch, *next; m; m = next) {
            next = m->next; /* m lives on the caller's stack: read before waking */
            m->done = true;
            pthread_cond_signal(&m->cv);
        }
    }
    pthread_mutex_unlock(&st->q_mu);
    return NULL;
}

store_rc_t store_committer_start(store_t *st)
{
    if (pthread_create(&st->committer, NULL, committer_main, st) != 0)
        return STORE_NOMEM;
    st->committer_started = true;
    return STORE_OK;
}

void store_committer_stop(store_t *st)
{
    if (!st->committer_started)
        return;
    pthread_mutex_lock(&st->q_mu);
    st->stopping = true;
    pthread_cond_signal(&st->q_cv);
    pthread_mutex_unlock(&st->q_mu);
    pthread_join(st->committer, NULL);
    st->committer_started = false;
}

store_rc_t store_mutate(store_t *st, store_mut_fn fn, void *arg)
{
    store_mut_t m;
    /* A mutation fn calling back into a mutating call would wait for itself. */
    assert(!st->committer_started || !pthread_equal(pthread_self(), st->committer));
    memset(&m, 0, sizeof m);
    m.fn = fn;
    m.arg = arg;
    m.ctx = store_reqctx_current();
    pthread_cond_init(&m.cv, NULL);

    pthread_mutex_lock(&st->q_mu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->q_mu);
        pthread_cond_destroy(&m.cv);
        return STORE_IO;
    }
    if (st->q_tail)
        st->q_tail->next = &m;
    else
        st->q_head = &m;
    st->q_tail = &m;
    pthread_cond_signal(&st->q_cv);
    while (!m.done)
        pthread_cond_wait(&m.cv, &st->q_mu);
    pthread_mutex_unlock(&st->q_mu);

    pthread_cond_destroy(&m.cv);
    free(m.dead);
    return m.rc;
}
