#!/usr/bin/env bash
# Installs what kura needs to build and run: Debian packages, and DuckDB's
# C library from the npm registry (DESIGN.md: Dependencies). Idempotent.
# KURA_TEST_DEPS=1 also installs what the test suite and benchmarks drive.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

pkgs="build-essential cmake pkg-config libmicrohttpd-dev liblmdb-dev libssl-dev libjansson-dev
      libexpat1-dev zlib1g-dev libisal-dev libedit-dev"
if [ "${KURA_TEST_DEPS:-0}" = 1 ]; then
    pkgs="$pkgs clang valgrind awscli s3cmd rclone nginx wrk curl"
    # Node.js may come from elsewhere than Debian (bundling its own npm): take
    # Debian's only when there is no node at all.
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# DuckDB 1.4.x: header from the `duckdb` npm package, shared library from the
# prebuilt node bindings. A system copy (duckdb.h + libduckdb.so) wins.
DUCK=third_party/duckdb
if [ ! -f "$DUCK/libduckdb.so" ]; then
    if [ -f /usr/include/duckdb.h ] && ls /usr/lib/*/libduckdb.so /usr/lib/libduckdb.so >/dev/null 2>&1; then
        echo "deps: using the system DuckDB"
    else
        echo "deps: fetching DuckDB 1.4.4 from the npm registry"
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent duckdb@1.4.4 @duckdb/node-bindings-linux-x64@1.4.4-r.1 >/dev/null)
        mkdir -p "$DUCK/include"
        tar -xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp" package/src/duckdb/src/include/duckdb.h
        cp "$tmp"/package/src/duckdb/src/include/duckdb.h "$DUCK/include/"
        rm -rf "$tmp/package"
        tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-1.4.4-r.1.tgz -C "$tmp" package/libduckdb.so
        cp "$tmp"/package/libduckdb.so "$DUCK/"
        rm -rf "$tmp"
    fi
fi
