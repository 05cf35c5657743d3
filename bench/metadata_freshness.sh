#!/usr/bin/env bash
# S3 Metadata freshness and cost (issue 7 "bench"): p50/p99 of the time
# from a PUT's acknowledgement to its row being visible in a DuckDB read of
# the journal table's current snapshot, at 100 and 1,000 PUT/s (goal p99 <=
# 5 s), and PUT throughput on a bucket with a metadata configuration over one
# without (goal ratio >= 0.9). Loopback only, bounded (BENCH_SECONDS=10 per
# rate, BENCH_ROUNDS=5 alternating rounds of BENCH_PUTS=4000 for the cost),
# stops the kura it started.
# Never part of `make test`.
#   bench/metadata_freshness.sh              builds build/kura (release)
#   KURA_BIN=path/to/kura bench/metadata_freshness.sh
# Needs node + npm (the modules of tests/integration/js: npm ci there).
set -euo pipefail
. "$(dirname "$0")/node_kura.sh"
bench_node_kura meta @duckdb/node-api avsc

echo "== S3 Metadata freshness and PUT cost (kura $KURA, 127.0.0.1:$PORT)"
KURA_ENDPOINT="http://127.0.0.1:$PORT" KURA_DATA="$tmp/data" NODE_NO_WARNINGS=1 \
    timeout "${BENCH_TIMEOUT_S:-600}" node bench/metadata_freshness.mjs
