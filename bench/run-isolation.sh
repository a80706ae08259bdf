#!/bin/bash
# bench/run-isolation.sh BUILD_DIR: what a noisy VE does to its neighbour
# on the same node, on a local cluster of its own (1 node of 4096 MiB,
# memstore, its own directory and namespace), torn down at the end.
#
# The neighbour, quiet (1 vCPU, busybox httpd), is measured with each
# noisy VE beside it in turn, and with none (the baseline, first and
# last):
#   - web: BENCH_REQUESTS (default 200) requests for a small page, one
#     after another from the operations position: median and p99 ms;
#   - disk: 50 synchronous 4 KiB writes in the guest, timed there by
#     busybox's time: the mean ms per write.
# The noisy VEs (2 vCPUs each, all on the same node):
#   cpu      both vCPUs spinning (default weight 200, no limit)
#   cpu-50   the same, limited to 50% of one host CPU (<cpu><limit>)
#   disk     writing 256 MiB with fsync in a loop, at the default throttle
#            (200 MiB/s, 2000 IOPS)
#   disk-20  the same, throttled to 20 MiB/s and 200 IOPS (<io>)
#   memory   filling a 2 GiB tmpfs (sees 2 GiB, promised 256 MiB)
# Prints a Markdown table: medians, p99 and ratios against the baseline.
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-isolation.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
requests=${BENCH_REQUESTS:-200}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-iso-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench-iso}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
work=$(mktemp -d)
trap '"$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
inns() { "$cluster" exec "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
p99() { sort -n | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; print a[i] }'; }

say "bringing up a 1-node cluster in $LODGE_CLUSTER_DIR"
"$cluster" up --memstore --nodes 1 --node-memory 4096 --memory-ratio 2 >/dev/null
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/bb" 2>/dev/null
inns "$lodge" template import busybox "$work/bb" >/dev/null 2>&1
inns "$lodge" template import --kind application busybox-httpd "$top/images/apps/busybox-httpd" >/dev/null 2>&1

ve() { # NAME IP VCPUS MEMORY_MIB CURRENT_MIB EXTRA_RESOURCES
  cat >"$work/$1.xml" <<X
<environment><name>$1</name><template name="busybox"/>
  <resources><vcpus>$3</vcpus><memory unit="MiB">$4</memory><currentMemory unit="MiB">$5</currentMemory><disk unit="GiB">2</disk>$6</resources>
  <network><interface name="eth0"><ip address="$2" prefix="24"/></interface></network>
  <applications><application name="app" autostart="yes"><source template="busybox-httpd"/><launch>exec httpd -f -p 80 -h /srv/www</launch></application></applications>
</environment>
X
  inns "$lodge" define "$work/$1.xml" >/dev/null
}
ve quiet 10.77.0.60 1 256 256 ""
ve noisy 10.77.0.61 2 2048 256 ""
ve noisy20 10.77.0.62 2 2048 256 "<io><iops>200</iops><bandwidth unit=\"MiB\">20</bandwidth></io>"
ve noisy50 10.77.0.63 2 2048 256 "<cpu><limit>50</limit></cpu>"
inns "$lodge" start quiet >/dev/null
cpu_tuning=$(inns "$lodge" node list -o json | python3 -c 'import json, sys; print("yes" if all(n.get("cpu_tuning") for n in json.load(sys.stdin)) else "no")')
say "the node's CPU cgroup for <cputune>: $cpu_tuning"

# measure LABEL: the quiet VE's web and disk figures, as "LABEL MED P99 DISK".
measure() {
  local urls=() i
  # (-o for each URL: curl writes the bodies of the others to stdout)
  for ((i = 0; i < requests; i++)); do urls+=(-o /dev/null "http://10.77.0.60/index.html"); done
  inns curl -s -w '%{time_total}\n' "${urls[@]}" | awk '{ print $1 * 1000 }' >"$work/web"
  local disk=()
  for i in 1 2 3; do
    # busybox time: "real 0m 1.23s" on stderr (the $(seq) is the guest's).
    # shellcheck disable=SC2016
    disk+=("$(inns "$lodge" exec quiet -- sh -c 'time sh -c "for i in \$(seq 50); do dd if=/dev/zero of=/root/p bs=4k count=1 conv=fsync 2>/dev/null; done"' 2>&1 |
      awk '/^real/ { sub(/s$/, "", $3); split($2, m, "m"); print (m[1] * 60 + $3) * 1000 / 50 }')")
  done
  echo "$1 $(median <"$work/web") $(p99 <"$work/web") $(printf '%s\n' "${disk[@]}" | median)"
}

# noisy NAME SCRIPT: start NAME, run SCRIPT in it in the background.
noisy_start() {
  inns "$lodge" start "$1" >/dev/null
  inns "$lodge" exec --timeout 3600 "$1" -- sh -c "$2" >/dev/null 2>&1 &
  echo $! >"$work/noisy.pid"
  sleep 10 # under way
}
noisy_stop() {
  kill "$(cat "$work/noisy.pid")" 2>/dev/null || true
  inns "$lodge" stop --force "$1" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
}

: >"$work/rows"
say "baseline"
measure baseline >>"$work/rows"
say "cpu"
noisy_start noisy 'for i in 1 2; do (while :; do :; done) & done; wait'
measure cpu >>"$work/rows"
noisy_stop noisy
say "cpu-50"
noisy_start noisy50 'for i in 1 2; do (while :; do :; done) & done; wait'
measure cpu-50 >>"$work/rows"
noisy_stop noisy50
say "disk"
noisy_start noisy 'while :; do dd if=/dev/zero of=/root/f bs=1M count=256 conv=fsync 2>/dev/null; done'
measure disk >>"$work/rows"
noisy_stop noisy
say "disk-20"
noisy_start noisy20 'while :; do dd if=/dev/zero of=/root/f bs=1M count=256 conv=fsync 2>/dev/null; done'
measure disk-20 >>"$work/rows"
noisy_stop noisy20
say "memory"
noisy_start noisy 'mkdir -p /mnt/m && mount -t tmpfs -o size=2g m /mnt/m && while :; do dd if=/dev/zero of=/mnt/m/x bs=1M count=2000 2>/dev/null; rm -f /mnt/m/x; done'
measure memory >>"$work/rows"
noisy_stop noisy
say "baseline again"
measure baseline-after >>"$work/rows"

read -r _ _ base_p99 base_disk < <(head -n 1 "$work/rows")
echo
echo "| beside quiet (same node; CPU cgroup: $cpu_tuning) | web median ms | web p99 ms | p99 / baseline | 4 KiB sync write, mean ms | / baseline |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
while read -r label med p disk; do
  awk -v l="$label" -v m="$med" -v p="$p" -v d="$disk" -v bp="$base_p99" -v bd="$base_disk" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.1f | %.2f |\n", l, m, p, p / bp, d, d / bd }'
done <"$work/rows"
