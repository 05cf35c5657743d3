/* query/text.h: result values as DuckDB's CAST(... AS VARCHAR) text,
 * formatted by kura from result vectors (text.c says why and for which
 * types). Inside the query room only: it brings in duckdb.h. */
#ifndef KURA_QUERY_TEXT_H
#define KURA_QUERY_TEXT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

typedef enum {
    QUERY_TX_BOOL = 1,
    QUERY_TX_I8,
    QUERY_TX_I16,
    QUERY_TX_I32,
    QUERY_TX_I64,
    QUERY_TX_U8,
    QUERY_TX_U16,
    QUERY_TX_U32,
    QUERY_TX_U64,
    QUERY_TX_I128,
    QUERY_TX_U128,
    QUERY_TX_VARCHAR,
    QUERY_TX_DATE,
    QUERY_TX_TIMESTAMP,
    QUERY_TX_DEC16,
    QUERY_TX_DEC32,
    QUERY_TX_DEC64,
    QUERY_TX_DEC128,
} query_text_kind_t;

typedef struct {
    query_text_kind_t kind;
    uint8_t width, scale; /* DECIMAL only */
} query_text_col_t;

/* How to write values of type t; false: kura does not format this type
 * itself and the result needs DuckDB's cast. */
bool query_text_col(duckdb_logical_type t, query_text_col_t *c);

/* Appends row `row` of a vector's data (duckdb_vector_get_data) of a
 * column described by c, without a terminator. NULLs are the caller's. */
void query_text_put(buf_t *b, const query_text_col_t *c, const void *data, idx_t row);

#endif
