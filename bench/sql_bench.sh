#!/usr/bin/env bash
# SQL speed (issue 8): a group-by over a journal-shaped table of
# BENCH_SQL_ROWS (1,000,000) rows through kura's POST /kura/sql vs DuckDB
# reading the same Parquet files directly (ratio duckdb/kura, goal >= 0.9),
# and the first-row latency of a point lookup. The table is built with
# INSERT ... SELECT from range() through kura itself. Loopback only, bounded
# (BENCH_TIMEOUT_S, default 600 s), stops the kura it started. Never part of
# `make test`.
#   bench/sql_bench.sh                   builds build/kura (release)
#   KURA_BIN=path/to/kura bench/sql_bench.sh
#   BENCH_SQL_ROWS=N BENCH_SQL_RUNS=N BENCH_SQL_THREADS=N (DuckDB direct's threads; kura's are 2)
# Needs node + npm (the modules of tests/integration/js: npm ci there), curl, python3.
set -euo pipefail
. "$(dirname "$0")/node_kura.sh"
bench_node_kura sql @duckdb/node-api @smithy/signature-v4

echo "== SQL: ${BENCH_SQL_ROWS:-1000000}-row journal-shaped table (kura $KURA, 127.0.0.1:$PORT)"
KURA_ENDPOINT="http://127.0.0.1:$PORT" BENCH_TMP="$tmp" NODE_NO_WARNINGS=1 \
    timeout "${BENCH_TIMEOUT_S:-600}" node bench/sql_bench.mjs
