#!/usr/bin/env bash
# Iceberg commit latency through kura's REST catalog (issue 6): appends
# BENCH_COMMITS (1000) snapshots of BENCH_ROWS (1000) rows each to one table,
# each commit built like an external engine's (Parquet by DuckDB, uploaded
# through S3, manifests by avsc, POST add-snapshot + set-snapshot-ref), and
# prints commit latency p50/p99 next to the time DuckDB alone takes to write
# the same Parquet (ratio). Loopback only, bounded (~1-3 minutes), stops the
# kura it started. Never part of `make test`.
#   bench/iceberg_commits.sh              builds build/kura (release)
#   KURA_BIN=path/to/kura bench/iceberg_commits.sh
# Needs node + npm (the modules of tests/integration/js: npm ci there).
set -euo pipefail
. "$(dirname "$0")/node_kura.sh"
bench_node_kura ice @duckdb/node-api avsc

echo "== ${BENCH_COMMITS:-1000} appends of ${BENCH_ROWS:-1000} rows (kura $KURA, 127.0.0.1:$PORT)"
KURA_ENDPOINT="http://127.0.0.1:$PORT" NODE_NO_WARNINGS=1 \
    timeout "${BENCH_TIMEOUT_S:-900}" node bench/iceberg_commits.mjs
