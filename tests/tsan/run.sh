#!/usr/bin/env bash
# tests/tsan/run.sh: ThreadSanitizer over kura's concurrency tests.
#   1. the store's unit test (group commit: 8 writer threads) under TSan
#   2. tests/integration/test_tables_concurrency.py against a TSan kura
#   3. a PUT/GET/LIST mix from 16 wrk connections + 4 signed clients
#      (tests/soak/soak.py) against a TSan kura for KURA_TSAN_SECONDS (20)
# Builds build-tsan/ with clang (gcc when clang is missing), -fsanitize=thread.
# A TSan report anywhere fails its step: the unit test and kura exit 66
# (TSAN_OPTIONS exitcode), and the harnesses check the exit status.
# tests/tsan/tsan.supp suppresses DuckDB-internal frames only (libduckdb.so
# is prebuilt and uninstrumented). Ends with "N passed, N failed".
# Used by `make tsan` and (bounded) by scripts/test.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
dir=${KURA_TSAN_BUILD:-build-tsan}
secs=${KURA_TSAN_SECONDS:-20}
jobs=$(nproc 2>/dev/null || echo 2)
cc=clang
command -v clang >/dev/null || cc=cc
passed=0 failed=0
tally() { # tally NAME RC
    if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "tsan: PASS $1"
    else failed=$((failed + 1)); echo "tsan: FAIL $1 (exit $2)"; fi
}

echo "tsan: building kura + test_store in $dir ($cc, -fsanitize=thread)"
if ! CC=$cc cmake -S . -B "$dir" -DKURA_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null ||
   ! cmake --build "$dir" -j"$jobs" --target kura test_store; then
    echo "tsan: BUILD FAILED"
    echo "0 passed, 1 failed"
    exit 1
fi
export TSAN_OPTIONS="suppressions=$root/tests/tsan/tsan.supp:halt_on_error=0:exitcode=66:second_deadlock_stack=1${KURA_TSAN_EXTRA:+:$KURA_TSAN_EXTRA}"

start=$(date +%s)
log=$(mktemp)
"$dir/test_store" >"$log" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q 'WARNING: ThreadSanitizer' "$log"; then rc=66; fi
[ "$rc" = 0 ] || grep -A30 'WARNING: ThreadSanitizer' "$log" | head -80
echo "tsan: test_store: $(tail -1 "$log") in $(( $(date +%s) - start ))s"
tally "unit test_store (8-thread group commit)" "$rc"
rm -f "$log"

start=$(date +%s)
KURA_BIN="$root/$dir/kura" PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover \
    -s tests/integration -p test_tables_concurrency.py -t tests/integration 2>&1 | tail -25
rc=${PIPESTATUS[0]}
echo "tsan: test_tables_concurrency.py in $(( $(date +%s) - start ))s"
tally "integration test_tables_concurrency.py against a TSan kura" "$rc"

start=$(date +%s)
python3 tests/soak/soak.py "$dir/kura" --seconds "$secs" --connections 16 --signers 4 \
    --no-rss-check --bin-env "TSAN_OPTIONS=$TSAN_OPTIONS" 2>&1 | sed 's/^/  /'
rc=${PIPESTATUS[0]}
echo "tsan: 16-connection PUT/GET/LIST mix in $(( $(date +%s) - start ))s"
tally "16-connection PUT/GET/LIST mix against a TSan kura (${secs}s)" "$rc"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
