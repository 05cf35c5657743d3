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
cd "$(dirname "$0")/.."
root=$PWD

for tool in node npm curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing"; exit 1; }
done

if [ -n "${KURA_BIN:-}" ]; then
    KURA=$(cd "$(dirname "$KURA_BIN")" && pwd)/$(basename "$KURA_BIN")
else
    echo "== building kura (release)"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target kura >/dev/null
    KURA=$root/build/kura
fi

if [ ! -d tests/integration/js/node_modules/@duckdb/node-api ] ||
   [ ! -d tests/integration/js/node_modules/@smithy/signature-v4 ]; then
    echo "== npm ci (tests/integration/js)"
    (cd tests/integration/js && npm ci --no-audit --no-fund >/dev/null)
fi

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/kura-bench-sql.XXXXXX")
kura_pid=""
cleanup() {
    [ -z "$kura_pid" ] || kill -TERM "$kura_pid" 2>/dev/null || true
    [ -z "$kura_pid" ] || wait "$kura_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export KURA_ACCESS_KEY_ID=KURABENCHACCESSKEY00 KURA_SECRET_ACCESS_KEY=kuraBenchSecret0000000000000000000000000
mkdir -p "$tmp/data"
"$KURA" serve --data "$tmp/data" --listen "127.0.0.1:$PORT" >"$tmp/kura.out" 2>"$tmp/kura.log" &
kura_pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$PORT/kura/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/kura/health" >/dev/null || { echo "bench: kura did not start"; tail "$tmp/kura.log"; exit 1; }

echo "== SQL: ${BENCH_SQL_ROWS:-1000000}-row journal-shaped table (kura $KURA, 127.0.0.1:$PORT)"
KURA_ENDPOINT="http://127.0.0.1:$PORT" BENCH_TMP="$tmp" NODE_NO_WARNINGS=1 \
    timeout "${BENCH_TIMEOUT_S:-600}" node bench/sql_bench.mjs
