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
   [ ! -d tests/integration/js/node_modules/avsc ]; then
    echo "== npm ci (tests/integration/js)"
    (cd tests/integration/js && npm ci --no-audit --no-fund >/dev/null)
fi

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/kura-bench-meta.XXXXXX")
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

echo "== S3 Metadata freshness and PUT cost (kura $KURA, 127.0.0.1:$PORT)"
KURA_ENDPOINT="http://127.0.0.1:$PORT" KURA_DATA="$tmp/data" NODE_NO_WARNINGS=1 \
    timeout "${BENCH_TIMEOUT_S:-600}" node bench/metadata_freshness.mjs
