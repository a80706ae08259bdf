#!/bin/bash
# bench/run-ha.sh BUILD_DIR: failover and live migration, on a local
# cluster of its own (3 nodes, memstore, its own directory and namespace),
# torn down at the end.
#
#  1. failover, BENCH_FAILOVERS times (default 5): the node running a VE
#     is killed (SIGKILL of its libvirtd, QEMUs and agent); the time until
#     the VE serves again on another node, split by lodged's log (ms
#     timestamps) into detection (kill to "is down"), fencing ("is down" to
#     "fenced"), restart (to "domain started" on the new node) and guest
#     boot (to the ready line). The node is brought back between runs.
#  2. live migration of a 512 MiB guest, idle and busy (rewriting 64 MiB of
#     random bytes in tmpfs in a loop), BENCH_MIGRATIONS times each (default
#     5): total time, downtime and data sent as libvirt measured them.
#  3. crash restart, BENCH_CRASHES times (default 5), each on a VE of its
#     own (the crash-loop limit is 3 in 10 minutes): its QEMU SIGKILLed,
#     the time until its web server answers again on the same node, split
#     at lodged's "restarted" line; the baseline is the same VE's first
#     start (lodge start to its web server answering).
# BENCH_FAILOVERS=0, BENCH_MIGRATIONS=0 or BENCH_CRASHES=0 leaves a part
# out.
# Prints Markdown tables of medians.
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-ha.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
failovers=${BENCH_FAILOVERS:-5} migrations=${BENCH_MIGRATIONS:-5} crashes=${BENCH_CRASHES:-5}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-ha-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench-ha}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
log=$LODGE_CLUSTER_DIR/log/lodged.log
work=$(mktemp -d)
trap '"$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
inns() { "$cluster" exec "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms_of() { # a lodged log line's time of day, in ms since midnight
  awk '{ split($1, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}
now_ms() { date -u +%H:%M:%S.%N | awk '{ split($1, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + int(substr(t[4], 1, 3)) }'; }

say "bringing up a 3-node cluster in $LODGE_CLUSTER_DIR"
"$cluster" up --memstore --nodes 3 --node-memory 4096 --memory-ratio 2 >/dev/null
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/bb" 2>/dev/null
inns "$lodge" template import busybox "$work/bb" >/dev/null 2>&1
inns "$lodge" template import --kind application busybox-httpd "$top/images/apps/busybox-httpd" >/dev/null 2>&1

ve() { # NAME IP MEMORY_MIB LAUNCH
  cat >"$work/$1.xml" <<X
<environment><name>$1</name><template name="busybox"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">$3</memory><currentMemory unit="MiB">$3</currentMemory><disk unit="GiB">1</disk></resources>
  <network><interface name="eth0"><ip address="$2" prefix="24"/></interface></network>
  <applications><application name="app" autostart="yes"><source template="busybox-httpd"/><launch>$4</launch></application></applications>
</environment>
X
  inns "$lodge" define "$work/$1.xml" >/dev/null
}
running_on() { # (a node without libvirtd is skipped: its address is gone)
  local n uri pid
  for n in node1 node2 node3; do
    pid=$(tr -d '\n' <"$LODGE_CLUSTER_DIR/nodes/$n/run/libvirtd.pid" 2>/dev/null) || continue
    kill -0 "$pid" 2>/dev/null || continue
    uri=$(sed -n 's/^OPS_LIBVIRT_URI=//p' "$LODGE_CLUSTER_DIR/nodes/$n/node.env")
    inns virsh -q -c "$uri" list --name 2>/dev/null | grep -qx "$1" && echo "$n"
  done
  return 0
}

# 1. Failover.
ve ha1 10.77.0.50 256 'exec httpd -f -p 80 -h /srv/www'
inns "$lodge" start ha1 >/dev/null 2>&1
: >"$work/fo.tsv"
for i in $(seq "$failovers"); do
  victim=$(running_on ha1)
  k=${victim#node}
  dir=$LODGE_CLUSTER_DIR/nodes/$victim/run
  lines=$(wc -l <"$log")
  t_kill=$(now_ms)
  pids=()
  for f in "$dir/libvirtd.pid" "$dir/virtlogd.pid" "$dir/agent.pid" "$dir"/qemu/*.pid; do
    [ -f "$f" ] && pids+=("$(tr -d ' \n' <"$f")") # libvirt writes pid files without a newline
  done
  kill -KILL "${pids[@]}"
  deadline=$((SECONDS + 90))
  until tail -n +"$((lines + 1))" "$log" | grep -q 'ha1: restarted on'; do
    [ $SECONDS -lt $deadline ] || { say "run $i: no failover within 90 s"; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.1 # polling the log with a deadline
  done
  until inns curl -sf --max-time 1 http://10.77.0.50/ >/dev/null; do
    [ $SECONDS -lt $deadline ] || { say "run $i: ha1 does not answer"; exit 1; }
    sleep 0.05
  done
  t_serving=$(now_ms)
  new=$(tail -n +"$((lines + 1))" "$log")
  t_down=$(grep -m1 "$victim is down" <<<"$new" | ms_of)
  t_fenced=$(grep -m1 "$victim fenced" <<<"$new" | ms_of)
  t_started=$(grep -m1 'ha1: domain started' <<<"$new" | ms_of)
  t_ready=$(grep -m1 'ha1: lodge-ready' <<<"$new" | ms_of)
  printf '%d\t%d\t%d\t%d\t%d\t%d\n' $((t_serving - t_kill)) $((t_down - t_kill)) $((t_fenced - t_down)) \
    $((t_started - t_fenced)) $((t_ready - t_started)) $((t_serving - t_ready)) >>"$work/fo.tsv"
  say "failover $i: $((t_serving - t_kill)) ms ($victim killed)"
  "$cluster" up >/dev/null 2>&1
  deadline=$((SECONDS + 60))
  until inns "$lodge" node list | grep -qE "^$victim +up"; do
    [ $SECONDS -lt $deadline ] || { say "$victim did not rejoin"; exit 1; }
    sleep 0.2
  done
done
inns "$lodge" stop --force ha1 >/dev/null 2>&1

# 2. Migration, idle and busy.
ve idle 10.77.0.51 512 'exec httpd -f -p 80 -h /srv/www'
# Random bytes, not zeros: QEMU sends a zero page as a flag, so a guest
# rewriting zeros does not load the migration at all.
ve busy 10.77.0.52 512 'sh -c "mkdir -p /run/fill; mount -t tmpfs -o size=200m tmpfs /run/fill; dd if=/dev/urandom of=/run/fill/src bs=1M count=64 2>/dev/null; while :; do cp /run/fill/src /run/fill/x; done"'
: >"$work/mig.tsv"
for name in idle busy; do
  [ "$migrations" -gt 0 ] || break
  inns "$lodge" start "$name" >/dev/null 2>&1
  sleep 15 # let the busy guest make its random file and get its loop going
  for i in $(seq "$migrations"); do
    inns "$lodge" migrate "$name" >/dev/null 2>"$work/mig.err" || { say "$name: migration $i failed: $(tail -n 1 "$work/mig.err")"; continue; }
    inns "$lodge" status -o json "$name" | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(sys.argv[1], o["migration_ms"], o["downtime_ms"], sep="\t")' "$name" >>"$work/mig.tsv"
  done
  inns "$lodge" stop --force "$name" >/dev/null 2>&1
done

# 3. Crash restart.
: >"$work/crash.tsv"
serving() { # IP DEADLINE_SECONDS
  local deadline=$((SECONDS + $2))
  until inns curl -sf --max-time 1 "http://$1/" >/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}
for i in $(seq "$crashes"); do
  name=cr$i ip=10.77.0.$((60 + i))
  ve "$name" "$ip" 256 'exec httpd -f -p 80 -h /srv/www'
  t0=$(now_ms)
  inns "$lodge" start "$name" >/dev/null 2>&1
  serving "$ip" 90 || { say "$name: does not answer after its start"; exit 1; }
  t_first=$(now_ms)
  node=$(running_on "$name")
  lines=$(wc -l <"$log")
  t_kill=$(now_ms)
  kill -KILL "$(tr -d ' \n' <"$LODGE_CLUSTER_DIR/nodes/$node/run/qemu/$name.pid")"
  sleep 0.5 # the old QEMU's web server is gone; then waiting for the new one
  serving "$ip" 90 || { say "$name: does not answer after its crash"; tail -n 20 "$log" >&2; exit 1; }
  t_serving=$(now_ms)
  t_restarted=$(tail -n +"$((lines + 1))" "$log" | grep -m1 "$name: stopped (crashed); restarted on" | ms_of)
  printf '%d\t%d\t%d\t%d\n' $((t_serving - t_kill)) $((t_restarted - t_kill)) $((t_serving - t_restarted)) \
    $((t_first - t0)) >>"$work/crash.tsv"
  say "crash $i: $((t_serving - t_kill)) ms to serving again on $node (first start: $((t_first - t0)) ms)"
  inns "$lodge" stop --force "$name" >/dev/null 2>&1
done

col() { cut -f"$1" "$work/fo.tsv" | median; }
ccol() { cut -f"$1" "$work/crash.tsv" | median; }
crange() { cut -f1 "$work/crash.tsv" | sort -n | sed -n '1p;$p' | paste -sd- | sed 's/-/–/'; }
mcol() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/mig.tsv" | median; }
cat <<T

Lodge HA bench: 3 nodes on one machine ($(nproc) cores), $(inns "$lodge" node list | awk 'NR == 2 { print $3 }') guests, $(date -u +%Y-%m-%d)

| failover, node killed (median of $failovers) | ms |
| --- | ---: |
| node killed to VE serving on another node | $(col 1) |
| — detection (grace 3 s, checked every 0.5 s) | $(col 2) |
| — fencing (blocklist its clients, break locks) | $(col 3) |
| — restart: placement to domain started | $(col 4) |
| — guest boot to its ready line | $(col 5) |
| — ready line to its web server answering | $(col 6) |

| live migration, 512 MiB guest (median of $migrations) | total ms | downtime ms |
| --- | ---: | ---: |
| idle | $(mcol idle 2) | $(mcol idle 3) |
| busy (rewriting 64 MiB of random bytes in a loop) | $(mcol busy 2) | $(mcol busy 3) |

| crash restart, QEMU SIGKILLed, restart always (median of $crashes) | ms |
| --- | ---: |
| QEMU killed to the VE serving again, same node (runs: $(crange)) | $(ccol 1) |
| — to lodged's "restarted" (noticed, lock broken, started, ready line) | $(ccol 2) |
| — "restarted" to its web server answering | $(ccol 3) |
| baseline: lodge start to serving, the same VEs | $(ccol 4) |
T
