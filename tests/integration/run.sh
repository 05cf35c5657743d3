#!/usr/bin/env bash
# Integration suite: real clients against real kura processes.
#   tests/integration/run.sh path/to/kura
# Runs the Python unittest suite (boto3, aws-cli v1/v2, s3cmd, rclone), then the
# node:test suite (@aws-sdk/client-s3 v3). Each test class starts its own kura
# on a fresh data dir and a free loopback port. Exits non-zero if anything fails.
# KURA_IT_PATTERN=test_s3_objects.py narrows the Python run; KURA_IT_SKIP_JS=1
# skips node.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-${KURA_BIN:-}}"
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "usage: $0 path/to/kura (got '${bin}')" >&2
    exit 2
fi
export KURA_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1

py_rc=0 js_rc=0
# The node modules first: Python tests read Iceberg tables back through
# them too (metadata_table_dump.mjs: avsc + DuckDB).
cd "$here/js" || exit 1
if ! cmp -s package-lock.json node_modules/.kura-installed-lock 2>/dev/null; then
    if npm ci --no-audit --no-fund; then
        cp package-lock.json node_modules/.kura-installed-lock
    else
        js_rc=1
    fi
fi
cd "$root" || exit 1

echo "== integration (python unittest) against $KURA_BIN"
start=$(date +%s)
(cd "$root" && python3 -m unittest discover -s tests/integration \
    -p "${KURA_IT_PATTERN:-test_*.py}" -t tests/integration -v) 2>&1 | tee "${TMPDIR:-/tmp}/kura-it-py.$$.log"
py_rc=${PIPESTATUS[0]}
py_summary=$(grep -E '^(Ran [0-9]+ tests?|OK|FAILED)' "${TMPDIR:-/tmp}/kura-it-py.$$.log" | tr '\n' ' ')
rm -f "${TMPDIR:-/tmp}/kura-it-py.$$.log"
echo "== python: $py_summary($(( $(date +%s) - start ))s, exit $py_rc)"

if [ "${KURA_IT_SKIP_JS:-0}" != 1 ]; then
    echo "== integration (node --test, @aws-sdk/client-s3)"
    start=$(date +%s)
    cd "$here/js" || exit 1
    if [ "$js_rc" = 0 ]; then
        node --test --test-reporter=spec ./*.test.mjs
        js_rc=$?
    fi
    echo "== node: exit $js_rc ($(( $(date +%s) - start ))s)"
fi

if [ "$py_rc" != 0 ] || [ "$js_rc" != 0 ]; then
    echo "== integration FAILED (python exit $py_rc, node exit $js_rc)"
    exit 1
fi
echo "== integration passed"
