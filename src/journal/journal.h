/* journal/journal.h: S3 Metadata's publisher (DESIGN.md promise 1;
 * specs/s3-metadata.md §3, §5). For every bucket with a metadata
 * configuration it keeps the journal table of the managed table bucket
 * ("aws-s3", namespace "b_<bucket>", table "journal"; V1: the customer's
 * table bucket, namespace "aws_s3_metadata") in step with the store's
 * journal queue:
 *
 *   queued rows (store) -> Parquet (DuckDB) -> Iceberg append -> swap the
 *   table's metadata pointer (compare-and-swap) -> trim the queue
 *
 * Exactly once (DESIGN invariant 3): each snapshot records in its summary
 * the last sequence number it holds ("kura.journal.last-seq"). A publish
 * first trims the queue up to that number, so a crash after the swap but
 * before the trim republishes nothing, and a crash before the swap leaves
 * the rows queued (the unreferenced Parquet file is for maintenance).
 *
 * The publisher also reports each table's state in the system record
 * metadata-status/<bucket>, which GetBucketMetadataConfiguration reads.
 * Threads: one background thread; journal_publish_now may run concurrently
 * (a mutex serialises passes). */
#ifndef KURA_JOURNAL_JOURNAL_H
#define KURA_JOURNAL_JOURNAL_H

#include "store/store.h"
#include "tables/tables.h"
#include "util/config.h"

#include <stddef.h>

typedef struct journal journal_t;

/* Starts the publisher thread (a pass every interval_ms). NULL on failure
 * (logged); the server then runs without publishing. */
journal_t *journal_start(const kura_config_t *cfg, store_t *st, tables_t *tables,
                         int64_t interval_ms);
void journal_stop(journal_t *j); /* NULL is a no-op; finishes a running pass */

/* One pass now, over every configured bucket; returns the rows published. */
size_t journal_publish_now(journal_t *j);

#endif
