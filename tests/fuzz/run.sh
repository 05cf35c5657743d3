#!/usr/bin/env bash
# tests/fuzz/run.sh: builds every libFuzzer target (tests/fuzz/fuzz_*.c) with
# clang, ASan and UBSan in build-fuzz/, then runs each for FUZZ_SECONDS
# (default 10) on its checked-in corpus plus build-fuzz/corpus/<target>/
# (where new units go, so the tree stays clean). A crash, leak, timeout or
# OOM input is written to tests/fuzz/corpus/<target>/ (crash-*, leak-*, ...):
# commit it and it becomes a regression input that ctest replays in every
# build. Prints the executions of each target and ends with
# "N passed, N failed" (one per target). Used by scripts/test.sh and
# `make fuzz` (FUZZ_SECONDS=60).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${FUZZ_SECONDS:-10}
jobs=$(nproc 2>/dev/null || echo 2)
dir=${KURA_FUZZ_BUILD:-build-fuzz}
passed=0 failed=0

if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed (scripts/deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
targets=()
for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
echo "fuzz: building ${#targets[@]} targets in $dir (clang, -fsanitize=fuzzer,address,undefined)"
if ! CC=clang cmake -S . -B "$dir" -DKURA_FUZZ=ON -DKURA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
        >/dev/null || ! cmake --build "$dir" -j"$jobs" --target "${targets[@]}"; then
    echo "fuzz: BUILD FAILED"
    echo "0 passed, 1 failed"
    exit 1
fi

# Known, reported server leaks are suppressed until fixed (tests/fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
total=0
for t in "${targets[@]}"; do
    mkdir -p "$dir/corpus/$t" "tests/fuzz/corpus/$t"
    log="$dir/$t.log"
    before=$(ls "tests/fuzz/corpus/$t")
    start=$(date +%s)
    # -timeout: one input may take 25 s (server targets start DuckDB once);
    # -rss_limit_mb: the server targets keep a whole kura in the process.
    "$dir/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=4096 \
        -artifact_prefix="tests/fuzz/corpus/$t/" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    execs=${execs:-0}
    total=$((total + execs))
    # A checked-in regression input that still fails is written again under
    # its hash: keep the named copy only.
    for f in $(comm -13 <(echo "$before") <(ls "tests/fuzz/corpus/$t")); do
        for old in $before; do
            if cmp -s "tests/fuzz/corpus/$t/$f" "tests/fuzz/corpus/$t/$old"; then
                rm -f "tests/fuzz/corpus/$t/$f"
                echo "fuzz: $t still fails on the checked-in input $old"
                break
            fi
        done
    done
    after=$(ls "tests/fuzz/corpus/$t")
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        printf 'fuzz: %-24s %10s executions in %3ss, %s new units: PASS\n' "$t" "$execs" \
            "$(( $(date +%s) - start ))" "${newu:-0}"
    else
        failed=$((failed + 1))
        printf 'fuzz: %-24s %10s executions in %3ss: FAIL (exit %s)\n' "$t" "$execs" \
            "$(( $(date +%s) - start ))" "$rc"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^ +#[0-9]+ ' "$log" | grep -v 'fuzzer::' | head -30
        for f in $(comm -13 <(echo "$before") <(echo "$after")); do
            echo "fuzz: new failing input tests/fuzz/corpus/$t/$f: commit it as a regression input"
        done
    fi
done
echo "fuzz: $total executions over ${#targets[@]} targets, ${secs}s each"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
