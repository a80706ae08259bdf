#!/bin/bash
# bench/run-api.sh BUILD_DIR: the API's cost of TLS, and its bounds, on a
# local cluster of its own (1 node, memstore), torn down at the end.
#
#  1. GET /v1/environments/NAME/status: BENCH_REQUESTS (2000) requests,
#     BENCH_PARALLEL (8) at a time (curl --parallel), over HTTPS from the
#     admin host to ctl1 (a TLS handshake each: lodged closes every
#     connection after its answer on libsoup 3.2), against the same over
#     lodged's UNIX socket on ctl1 (plain HTTP: the baseline without TLS).
#     Requests per second, median and p99 latency, and their ratios.
#  2. start and stop of one VE, BENCH_CYCLES (8) of each both ways; median
#     and p99 (the slowest) wall time of each request.
#  3. a 2 GB body (Content-Length, no Expect: 100-continue) sent to the
#     API: without the token (401) and with it (413), and 2 GB chunked
#     (413 as it passes 1 MiB): the time to the answer, and lodged's
#     resident memory before and after.
#  4. 1,000 connections opened from the operations position that send
#     nothing, held while the admin host sends GET status 5 times: their
#     latency, and how lodged answered the 1,000 (the 64 a client may
#     hold wait; the rest are closed within 5 s).
# Prints a Markdown table.
# The sh -c scripts are single-quoted on purpose: they expand on the host.
# shellcheck disable=SC2016
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-api.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
requests=${BENCH_REQUESTS:-2000} parallel=${BENCH_PARALLEL:-8} cycles=${BENCH_CYCLES:-8}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-api-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bapi}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
work=$(mktemp -d /var/tmp/lodge-bench-api.XXXXXX)
chmod 755 "$work"
trap '"$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
p99() { sort -n | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; print a[i] }'; }

say "bringing up a 1-node cluster in $LODGE_CLUSTER_DIR"
"$cluster" up --memstore --nodes 1 --node-memory 2048 >/dev/null
inns() { "$cluster" exec "$@"; }
on() { local h=$1; shift; "$cluster" exec --host "$h" "$@"; }
lodged_pid=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$lodged_pid/status"; }
api=https://10.78.0.3:8443
sock=/run/lodge/lodged.sock
# The admin host's client files, and curl's arguments to reach ctl1 as it.
token_file=/etc/lodge/api-token ca=/etc/lodge/ca-cert.pem

"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/bb" 2>/dev/null
inns "$lodge" template import busybox "$work/bb" >/dev/null 2>&1
cat >"$work/b1.xml" <<X
<environment><name>b1</name><template name="busybox"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">256</memory><currentMemory unit="MiB">64</currentMemory><disk unit="GiB">1</disk></resources>
</environment>
X
inns "$lodge" define "$work/b1.xml" >/dev/null

# One curl config line per request: the same URL N times.
urls() { # BASE N
  for _ in $(seq "$2"); do printf 'url = "%s/v1/environments/b1/status"\noutput = "/dev/null"\n' "$1"; done
}
urls "$api" "$requests" >"$work/tls.conf"
urls http://localhost "$requests" >"$work/plain.conf"

# curl --parallel: each request's code and seconds; the whole run's ms.
run_status() { # HOST CURL-ARGS... ; prints "ms" then the times in $work/times
  local host=$1; shift
  local start end
  start=$(date +%s%N)
  on "$host" sh -c 'exec curl -s --no-progress-meter -Z --parallel-max "$0" -w "%{http_code} %{time_total}\n" "$@"' \
    "$parallel" "$@" >"$work/times"
  end=$(date +%s%N)
  local bad
  bad=$(awk '$1 != 200' "$work/times" | wc -l)
  [ "$bad" -eq 0 ] || { say "$bad requests failed:"; awk '$1 != 200 { print $1 }' "$work/times" | sort | uniq -c >&2; exit 1; }
  echo $(((end - start) / 1000000))
}
say "GET status: $requests requests, $parallel at a time, HTTPS from admin to ctl1"
# curl reads the token from a header file in the admin host's /tmp.
on admin sh -c 'printf "Authorization: Bearer %s\n" "$(head -n1 "$0")" >/tmp/auth' "$token_file"
tls_ms=$(run_status admin --cacert "$ca" -H @/tmp/auth --config "$work/tls.conf")
tls_med=$(awk '{ print $2 * 1000 }' "$work/times" | median)
tls_p99=$(awk '{ print $2 * 1000 }' "$work/times" | p99)
say "GET status: the same over the UNIX socket on ctl1 (no TLS)"
plain_ms=$(run_status ctl1 --unix-socket "$sock" --config "$work/plain.conf")
plain_med=$(awk '{ print $2 * 1000 }' "$work/times" | median)
plain_p99=$(awk '{ print $2 * 1000 }' "$work/times" | p99)
rps() { awk -v n="$requests" -v ms="$1" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

say "start and stop: $cycles of each, both ways"
for f in tls-start tls-stop plain-start plain-stop; do : >"$work/$f"; done
timed() { # FILE HOST CURL-ARGS...
  local file=$1 host=$2; shift 2
  local start end code
  start=$(date +%s%N)
  code=$(on "$host" curl -s -o /dev/null -w "%{http_code}" -X POST "$@")
  end=$(date +%s%N)
  [ "$code" = 200 ] || { say "$* answered $code"; exit 1; }
  echo $(((end - start) / 1000000)) >>"$file"
}
for _ in $(seq "$cycles"); do
  timed "$work/tls-start" admin --cacert "$ca" -H @/tmp/auth "$api/v1/environments/b1/start"
  timed "$work/tls-stop" admin --cacert "$ca" -H @/tmp/auth "$api/v1/environments/b1/stop"
  timed "$work/plain-start" ctl1 --unix-socket "$sock" http://localhost/v1/environments/b1/start
  timed "$work/plain-stop" ctl1 --unix-socket "$sock" http://localhost/v1/environments/b1/stop
done

say "a 2 GB body"
truncate -s 2G "$work/big"
big() { # CURL-ARGS... ; prints "CODE ms rss-growth-MiB"
  local before after out
  before=$(rss_kib)
  out=$(on admin curl -s -o /dev/null -w "%{http_code} %{time_total}" --max-time 60 --cacert "$ca" -H "Expect:" "$@" || true)
  sleep 0.5
  after=$(rss_kib)
  awk -v o="$out" -v b="$before" -v a="$after" 'BEGIN { split(o, f, " "); printf "%s %.0f %.1f\n", f[1], f[2] * 1000, (a - b) / 1024 }'
}
read -r unauth_code unauth_ms unauth_mib < <(big -X PUT -T "$work/big" "$api/v1/environments/b1")
read -r large_code large_ms large_mib < <(big -H @/tmp/auth -X PUT -T "$work/big" "$api/v1/environments/b1")
read -r chunk_code chunk_ms chunk_mib < <(big -H @/tmp/auth -H "Transfer-Encoding: chunked" -X PUT -T "$work/big" "$api/v1/environments/b1")

say "1,000 connections that send nothing"
cat >"$work/hold.py" <<'PY'
import socket, sys, time
n, secs = int(sys.argv[1]), float(sys.argv[2])
held = []
for _ in range(n):
    s = socket.create_connection(("10.78.0.3", 8443), timeout=5)
    s.setblocking(False)
    held.append(s)
print("open", len(held), flush=True)
closed = set()
end = time.monotonic() + secs
while time.monotonic() < end:
    for i, s in enumerate(held):
        if i in closed:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
    time.sleep(0.2)
print("closed", len(closed), flush=True)
PY
inns python3 "$work/hold.py" 1000 8 >"$work/hold.out" &
holder=$!
until grep -q '^open' "$work/hold.out" 2>/dev/null; do sleep 0.1; done
: >"$work/during"
for _ in 1 2 3 4 5; do
  on admin curl -s -o /dev/null -w "%{http_code} %{time_total}\n" --max-time 10 --cacert "$ca" -H @/tmp/auth \
    "$api/v1/environments/b1/status" >>"$work/during"
done
wait "$holder"
during_bad=$(awk '$1 != 200' "$work/during" | wc -l)
during_max=$(awk '{ print $2 * 1000 }' "$work/during" | sort -n | tail -1)
closed=$(awk '/^closed/ { print $2 }' "$work/hold.out")

cat <<EOF
Lodge API bench: $(nproc) cores, $(date -u +%Y-%m-%d); lodged on ctl1, curl $(curl --version | awk 'NR == 1 { print $2 }')

| measure | HTTPS (admin → ctl1, TLS 1.3) | plain HTTP (UNIX socket on ctl1) | ratio |
| --- | --- | --- | --- |
| GET status: requests/s ($requests, $parallel at a time) | $(rps "$tls_ms") | $(rps "$plain_ms") | $(ratio "$(rps "$plain_ms")" "$(rps "$tls_ms")") fewer with TLS |
| GET status: median latency | $tls_med ms | $plain_med ms | $(ratio "$tls_med" "$plain_med") |
| GET status: p99 latency | $tls_p99 ms | $plain_p99 ms | $(ratio "$tls_p99" "$plain_p99") |
| start (boot to ready): median / slowest of $cycles | $(median <"$work/tls-start") / $(sort -n "$work/tls-start" | tail -1) ms | $(median <"$work/plain-start") / $(sort -n "$work/plain-start" | tail -1) ms | $(ratio "$(median <"$work/tls-start")" "$(median <"$work/plain-start")") |
| stop: median / slowest of $cycles | $(median <"$work/tls-stop") / $(sort -n "$work/tls-stop" | tail -1) ms | $(median <"$work/plain-stop") / $(sort -n "$work/plain-stop" | tail -1) ms | $(ratio "$(median <"$work/tls-stop")" "$(median <"$work/plain-stop")") |

| hostile client | answer | in | lodged's RSS growth |
| --- | --- | --- | --- |
| 2 GB body (Content-Length), no token | $unauth_code | $unauth_ms ms | $unauth_mib MiB |
| 2 GB body (Content-Length), with the token | $large_code | $large_ms ms | $large_mib MiB |
| 2 GB body, chunked, with the token | $chunk_code | $chunk_ms ms | $chunk_mib MiB |
| 1,000 connections sending nothing, from one address | GET status from another host meanwhile: $((5 - during_bad))/5 answered 200, the slowest in $during_max ms | $closed of the 1,000 closed by lodged within 8 s | — |
EOF
