/* store/journal.c: the seam where the metadata journal (DESIGN.md promise 1,
 * invariant 2) will append one row per object mutation, inside the
 * mutation's own transaction. Nothing is written yet: the journal issue
 * fills store_journal_append() in (a per-bucket sequence counter and a
 * journal-queue row, both in t->txn), and every caller already passes what
 * a journal row needs. */
#include "store/store_int.h"

store_rc_t store_journal_append(store_txn_t *t, store_journal_kind_t kind, const char *bucket,
                                const store_object_t *row)
{
    (void)t;
    (void)kind;
    (void)bucket;
    (void)row;
    return STORE_OK;
}
