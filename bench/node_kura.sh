# bench/node_kura.sh: sourced by the node-driven benches (iceberg_commits,
# metadata_freshness, sql_bench). `bench_node_kura STEM MODULE...` checks the
# tools, builds build/kura (release) unless KURA_BIN names one, runs npm ci in
# tests/integration/js when a MODULE is missing, starts kura on a free
# loopback port with a fresh data dir under $tmp, waits for it, and stops it
# and removes $tmp on exit. Sets KURA, PORT, tmp and root; runs from the
# project root.
bench_node_kura() {
    local stem=$1 m need=0
    shift
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
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
    for m in "$@"; do
        [ -d "tests/integration/js/node_modules/$m" ] || need=1
    done
    if [ "$need" = 1 ]; then
        echo "== npm ci (tests/integration/js)"
        (cd tests/integration/js && npm ci --no-audit --no-fund >/dev/null)
    fi

    tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/kura-bench-$stem.XXXXXX")
    kura_pid=""
    trap bench_node_kura_cleanup EXIT INT TERM
    PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    export KURA_ACCESS_KEY_ID=KURABENCHACCESSKEY00 KURA_SECRET_ACCESS_KEY=kuraBenchSecret0000000000000000000000000
    mkdir -p "$tmp/data"
    "$KURA" serve --data "$tmp/data" --listen "127.0.0.1:$PORT" >"$tmp/kura.out" 2>"$tmp/kura.log" &
    kura_pid=$!
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$PORT/kura/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$PORT/kura/health" >/dev/null ||
        { echo "bench: kura did not start"; tail "$tmp/kura.log"; exit 1; }
}

bench_node_kura_cleanup() {
    [ -z "$kura_pid" ] || kill -TERM "$kura_pid" 2>/dev/null || true
    [ -z "$kura_pid" ] || wait "$kura_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
