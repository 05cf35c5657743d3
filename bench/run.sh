#!/usr/bin/env bash
# kura benchmarks against a reference started in the same invocation; loopback
# only, bounded in time (~2 minutes), stops everything it started.
#   (a) GET 4 KiB, 32 connections, BENCH_SECONDS (10) with wrk: nginx serving
#       the file from disk vs kura answering a presigned GET. Prints req/s and
#       kura/nginx.
#   (b) PUT 64 MiB with curl through a presigned PUT URL (UNSIGNED-PAYLOAD) vs
#       `dd ... conv=fsync` of the same bytes on the same disk. Median of 5;
#       prints MB/s and kura/dd.
# Never part of `make test`. Needs wrk, nginx, curl (KURA_TEST_DEPS=1 scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
RUNS=${BENCH_RUNS:-5}
PUT_MIB=${BENCH_PUT_MIB:-64}
THREADS=$(nproc 2>/dev/null || echo 2)
[ "$THREADS" -le "$CONNS" ] || THREADS=$CONNS

for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (KURA_TEST_DEPS=1 scripts/deps.sh)"; exit 1; }
done

echo "== building kura (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
KURA=$PWD/build/kura

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/kura-bench.XXXXXX")
kura_pid="" nginx_pid=""
cleanup() {
    [ -z "$kura_pid" ] || kill -TERM "$kura_pid" 2>/dev/null || true
    [ -z "$nginx_pid" ] || kill -QUIT "$nginx_pid" 2>/dev/null || true
    [ -z "$kura_pid" ] || wait "$kura_pid" 2>/dev/null || true
    [ -z "$nginx_pid" ] || wait "$nginx_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
KPORT=$(free_port); NPORT=$(free_port)
export KURA_ACCESS_KEY_ID=KURABENCHACCESSKEY00 KURA_SECRET_ACCESS_KEY=kuraBenchSecret0000000000000000000000000

# ---- kura
mkdir -p "$tmp/data" "$tmp/www"
"$KURA" serve --data "$tmp/data" --listen "127.0.0.1:$KPORT" >"$tmp/kura.out" 2>"$tmp/kura.log" &
kura_pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$KPORT/kura/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$KPORT/kura/health" >/dev/null || { echo "bench: kura did not start"; tail "$tmp/kura.log"; exit 1; }

# ---- nginx serving the same 4 KiB file
head -c 4096 /dev/urandom >"$tmp/www/obj"
user_line=""; [ "$(id -u)" != 0 ] || user_line="user root;"
cat >"$tmp/nginx.conf" <<NGX
$user_line
worker_processes $THREADS;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx-body;
    proxy_temp_path $tmp/nginx-proxy;
    fastcgi_temp_path $tmp/nginx-fcgi;
    uwsgi_temp_path $tmp/nginx-uwsgi;
    scgi_temp_path $tmp/nginx-scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $tmp/www;
    }
}
NGX
nginx -c "$tmp/nginx.conf" -p "$tmp" &
nginx_pid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$NPORT/obj" -o /dev/null 2>/dev/null && break; sleep 0.1; done

# ---- the object and presigned URLs (boto3)
head -c $((PUT_MIB << 20)) /dev/urandom >"$tmp/put.bin"
python3 - "$KPORT" "$tmp" <<'PY'
import sys, boto3
from botocore.config import Config
port, tmp = sys.argv[1], sys.argv[2]
import os
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % port, region_name="us-east-1",
                  aws_access_key_id=os.environ["KURA_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["KURA_SECRET_ACCESS_KEY"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="bench")
s3.put_object(Bucket="bench", Key="obj", Body=open(tmp + "/www/obj", "rb").read())
with open(tmp + "/get.url", "w") as f:
    f.write(s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "obj"},
                                      ExpiresIn=604800))
with open(tmp + "/put.url", "w") as f:
    f.write(s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put"},
                                      ExpiresIn=604800))
PY
GET_URL=$(cat "$tmp/get.url"); PUT_URL=$(cat "$tmp/put.url")
cmp <(curl -fsS "$GET_URL") "$tmp/www/obj" || { echo "bench: kura GET returned other bytes"; exit 1; }

# ---- (a) GET 4 KiB
rps() { wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1" | tee -a "$tmp/wrk.txt" |
        awk '/^Requests\/sec:/ {print $2}'; }
echo "== (a) GET 4 KiB, $CONNS connections, ${SECS}s each (wrk -t$THREADS)"
ng=$(rps "http://127.0.0.1:$NPORT/obj")
ku=$(rps "$GET_URL")
non2xx=$(grep -c 'Non-2xx' "$tmp/wrk.txt" || true)
[ "$non2xx" = 0 ] || { echo "bench: wrk saw non-2xx answers:"; grep -B2 'Non-2xx' "$tmp/wrk.txt"; }

# ---- (b) PUT 64 MiB vs dd conv=fsync
echo "== (b) PUT ${PUT_MIB} MiB, median of $RUNS"
mbps() { python3 -c "import sys; print('%.1f' % ($PUT_MIB * 1.048576 / float(sys.argv[1])))" "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
put_times=() dd_times=()
for i in $(seq "$RUNS"); do
    code_time=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --upload-file "$tmp/put.bin" "$PUT_URL")
    [ "${code_time%% *}" = 200 ] || { echo "bench: PUT answered ${code_time%% *}"; exit 1; }
    put_times+=("${code_time##* }")
    s=$(date +%s.%N)
    dd if="$tmp/put.bin" of="$tmp/data/dd.out" bs=1M conv=fsync status=none
    e=$(date +%s.%N)
    dd_times+=("$(python3 -c "print($e - $s)")")
    rm -f "$tmp/data/dd.out"
done
put_t=$(median "${put_times[@]}"); dd_t=$(median "${dd_times[@]}")
put_mb=$(mbps "$put_t"); dd_mb=$(mbps "$dd_t")

echo
printf '%-34s %12s %12s %8s\n' "benchmark" "kura" "reference" "ratio"
printf '%-34s %12.0f %12.0f %8.2f\n' "GET 4KiB req/s (ref nginx)" "$ku" "$ng" "$(python3 -c "print($ku / $ng)")"
printf '%-34s %12.1f %12.1f %8.2f\n' "PUT ${PUT_MIB}MiB MB/s (ref dd fsync)" "$put_mb" "$dd_mb" "$(python3 -c "print($put_mb / $dd_mb)")"
echo "(machine: $(nproc) cores; kura $("$KURA" version 2>/dev/null || echo '?'); nginx $(nginx -v 2>&1 | sed 's/.*\///'))"
