#!/usr/bin/env bash
# The whole suite (README's second command is `make test`, which runs this):
#   1. dependencies, build and test tools (KURA_TEST_DEPS=1 scripts/deps.sh)
#   2. release build in build/, ctest: unit + integration + fuzz-corpus replay
#   3. crash cycles, fault injection and a load soak against build/kura
#   4. ASan/UBSan build in build-asan/, the same ctest run
#   5. each libFuzzer target for FUZZ_SECONDS (10) in build-fuzz/ (clang)
#   6. ThreadSanitizer: store unit test + concurrent clients (build-tsan/)
# Exits non-zero on any failure; ends with one "N passed, N failed" line.
# KURA_TEST_SKIP_ASAN=1 runs only the plain pass and the release drivers (a
# quick local loop); KURA_TEST_SKIP_FUZZ=1 / KURA_TEST_SKIP_TSAN=1 /
# KURA_TEST_SKIP_SOAK=1 skip one step. KURA_SOAK_SECONDS (60),
# KURA_TSAN_SECONDS (15) and FUZZ_SECONDS (10) size the bounded steps.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
t0=$(date +%s)
passed=0 failed=0 rc=0

if ! KURA_TEST_DEPS=1 scripts/deps.sh; then
    # deps.sh can fail on a machine whose tools came from elsewhere (e.g. npm
    # bundled in NodeSource's nodejs conflicts with Debian's npm package). Go
    # on when every tool the suite drives is there anyway.
    missing=""
    for t in cmake cc python3 node npm curl s3cmd rclone; do
        command -v "$t" >/dev/null || missing="$missing $t"
    done
    python3 -c 'import boto3, awscli' 2>/dev/null || missing="$missing python3:boto3/awscli"
    if [ -n "$missing" ]; then
        echo "test: dependency install failed; missing:$missing"
        exit 1
    fi
    echo "test: scripts/deps.sh failed, but every tool the suite needs is installed; going on"
fi

# Sanitizer settings for every process ctest starts (kura included).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# pass NAME BUILD_DIR CMAKE_ARGS...: configure, build, ctest; tally the counts.
pass() {
    local name=$1 dir=$2; shift 2
    local start log
    start=$(date +%s)
    log=$(mktemp)
    echo "==== $name: configure + build ($dir)"
    if ! cmake -S . -B "$dir" "$@" >/dev/null || ! cmake --build "$dir" -j"$jobs"; then
        echo "==== $name: BUILD FAILED"
        failed=$((failed + 1)); rc=1; rm -f "$log"; return
    fi
    echo "==== $name: ctest"
    (cd "$dir" && ctest --output-on-failure --timeout 1500) 2>&1 | tee "$log"
    local crc=${PIPESTATUS[0]}
    local line total nfail
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
    if [ -n "$line" ]; then
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + total - nfail)); failed=$((failed + nfail))
    elif [ "$crc" != 0 ]; then
        failed=$((failed + 1))
    fi
    [ "$crc" = 0 ] || rc=1
    [ -n "$line" ] || [ "$crc" != 0 ] || { echo "==== $name: ctest ran no test"; rc=1; }
    echo "==== $name: ctest exit $crc in $(( $(date +%s) - start ))s"
    rm -f "$log"
}

pass "plain" build -DCMAKE_BUILD_TYPE=Release

# driver NAME COMMAND...: a standalone harness that ends with "N passed, N failed".
driver() {
    local name=$1; shift
    local log start line
    start=$(date +%s)
    log=$(mktemp)
    echo "==== $name"
    "$@" 2>&1 | tee "$log"
    local drc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -n "$line" ]; then
        passed=$((passed + $(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")))
        failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
    else
        failed=$((failed + 1))
    fi
    [ "$drc" = 0 ] || rc=1
    echo "==== $name: exit $drc in $(( $(date +%s) - start ))s"
    rm -f "$log"
}

# Crash cycles (kill -9 during a mixed workload) and fault injection (EIO,
# ENOSPC, a full tmpfs) against the release build. The fault shim is an
# LD_PRELOAD library, which AddressSanitizer does not allow, so both run here.
if [ -x build/kura ]; then
    driver "crash cycles" python3 tests/crash/crash.py build/kura --cycles "${KURA_CRASH_CYCLES:-50}"
    driver "fault injection" python3 tests/fault/fault.py build/kura
    # Load soak: wrk + signed clients on loopback; no errors, bounded memory,
    # p99 printed (tests/soak/soak.py; --seconds 1800 for the long run).
    if [ "${KURA_TEST_SKIP_SOAK:-0}" != 1 ]; then
        driver "load soak" python3 tests/soak/soak.py build/kura \
            --seconds "${KURA_SOAK_SECONDS:-60}"
    fi
fi
if [ "${KURA_TEST_SKIP_ASAN:-0}" != 1 ]; then
    pass "asan+ubsan" build-asan -DCMAKE_BUILD_TYPE=Debug -DKURA_SANITIZE=ON
    # libFuzzer: one result per target, executions printed (tests/fuzz/run.sh).
    if [ "${KURA_TEST_SKIP_FUZZ:-0}" != 1 ]; then
        FUZZ_SECONDS="${FUZZ_SECONDS:-10}" driver "fuzz" tests/fuzz/run.sh
    fi
    if [ "${KURA_TEST_SKIP_TSAN:-0}" != 1 ]; then
        KURA_TSAN_SECONDS="${KURA_TSAN_SECONDS:-15}" driver "tsan" tests/tsan/run.sh
    fi
fi

echo "==== whole suite: $(( $(date +%s) - t0 ))s"
echo "test: $passed passed, $failed failed"
exit $rc
