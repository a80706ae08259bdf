#!/bin/bash
# bench/run-cluster.sh BUILD_DIR: the control plane and the guests, on a
# local cluster of its own (3 nodes, memstore, its own directory and
# namespace), torn down at the end.
#
#  1. start to ready: 10 VEs, each started once (first start: the disk is
#     cloned), one at a time; the median of `lodge start` wall time, split by
#     the control center's own step times into control plane (API request
#     to domain started on the node: placement, clone, config, define+start)
#     and guest boot (domain started to the guest's ready line), with the
#     guest's own boot_ms from its ready line.
#  2. 20 VEs started at once (20 CLI processes): VEs per minute, against the
#     sequential rate of step 1 (same script, same machine).
#  3. host memory per idle VE with those 20 running: the QEMUs' summed PSS
#     (and RSS) over 20, after the guests settled, against the memory each
#     guest sees; beside it, in the same run and settled as long, a bare
#     qemu-system-x86_64 with QEMU's default options (TCG, 256 MiB) booting
#     the same kernel on a busybox disk (images/kernel/lib.sh's).
#  4. with BENCH_KSM=1, the same 20 VEs' memory merged: the agents run
#     with --ksm (their VEs' memory offered for merging), but the
#     machine's KSM is held off (unmerged) until step 3 is measured; then
#     KSM runs (2000 pages a pass) until it has scanned everything
#     BENCH_KSM_SCANS times (4): what KSM saved per VE by its own count
#     (pages_sharing), PSS per VE again (the guests also settle
#     meanwhile, so its drop is not KSM's alone), and ksmd's CPU.
#     The machine's KSM settings are put back at the end.
# Prints a Markdown table. Options by environment: BENCH_RUNS (10),
# BENCH_PARALLEL (20), BENCH_SETTLE_S (30), BENCH_KSM (0), BENCH_KSM_SCANS (4).
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-cluster.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-10} parallel=${BENCH_PARALLEL:-20} settle=${BENCH_SETTLE_S:-30}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
work=$(mktemp -d)
# shellcheck source=../images/kernel/lib.sh
source "$top/images/kernel/lib.sh"
ksm=${BENCH_KSM:-0}
ksm_dir=/sys/kernel/mm/ksm
ksm_restore=""
if [ "$ksm" = 1 ]; then
  [ -w "$ksm_dir/run" ] || { echo "run-cluster: BENCH_KSM=1, but $ksm_dir/run cannot be written" >&2; exit 1; }
  ksm_restore="run=$(cat "$ksm_dir/run") pages_to_scan=$(cat "$ksm_dir/pages_to_scan")"
fi
# ksm_set NAME=VALUE...: the machine's KSM settings (run=2 unmerges all).
ksm_set() { local kv; for kv in "$@"; do echo "${kv#*=}" >"$ksm_dir/${kv%%=*}"; done; }
# (the saved run value is written after an unmerge: what this left merged goes)
trap 'lodge_qemu_stop; "$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work";
  [ -z "$ksm_restore" ] || { ksm_set run=2; ksm_set $ksm_restore; }' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }

say "bringing up a 3-node cluster in $LODGE_CLUSTER_DIR"
if [ "$ksm" = 1 ]; then
  LODGE_NODE_KSM=1 "$cluster" up --memstore --nodes 3 --node-memory 4096 --memory-ratio 2 >/dev/null
  ksm_set run=2 # held off (and unmerged) until step 4
else
  "$cluster" up --memstore --nodes 3 --node-memory 4096 --memory-ratio 2 >/dev/null
fi
inns() { "$cluster" exec "$@"; }
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/bb" 2>/dev/null
inns "$lodge" template import busybox "$work/bb" >/dev/null 2>&1
inns "$lodge" template import --kind application busybox-httpd "$top/images/apps/busybox-httpd" >/dev/null 2>&1

ve_xml() { # NAME INDEX
  cat <<X
<environment><name>$1</name><template name="busybox"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">256</memory><currentMemory unit="MiB">64</currentMemory><disk unit="GiB">1</disk></resources>
  <network><interface name="eth0"><ip address="10.77.0.$((20 + $2))" prefix="24"/></interface></network>
  <applications><application name="web" autostart="yes"><source template="busybox-httpd"/><launch>httpd -f -p 80 -h /srv/www</launch></application></applications>
</environment>
X
}
define() { ve_xml "$1" "$2" >"$work/$1.xml"; inns "$lodge" define "$work/$1.xml" >/dev/null; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The control center's step times: wall ms, control plane ms, guest ms, boot_ms.
cat >"$work/steps.py" <<'PY'
import json, re, sys
o = json.load(sys.stdin)
steps = dict(zip(o["steps"], o["step_ms"]))
started = next(ms for what, ms in steps.items() if what.startswith("domain started"))
ready = next(what for what in steps if what.startswith("lodge-ready"))
boot = int(re.search(r"boot_ms=(\d+)", ready).group(1))
print(sys.argv[1], started, o["total_ms"] - started, boot, sep="\t")
PY

# 1. One at a time.
say "start to ready, $runs VEs one at a time"
: >"$work/seq.tsv"
seq_start=$(date +%s%N)
for i in $(seq "$runs"); do
  define "b$i" "$i"
  t0=$(date +%s%N)
  # (the API of ctl1, with the cluster's token: lodge-cluster exec sets both)
  out=$(inns sh -c 'curl -sf --cacert "$LODGE_CA" -H "Authorization: Bearer $LODGE_TOKEN" -X POST "${LODGE_URL%%,*}/v1/environments/$1/start"' sh "b$i")
  t1=$(date +%s%N)
  python3 "$work/steps.py" "$(((t1 - t0) / 1000000))" <<<"$out" >>"$work/seq.tsv"
  inns "$lodge" stop --force "b$i" >/dev/null
done
seq_s=$(( ($(date +%s%N) - seq_start) / 1000000 ))
total=$(cut -f1 "$work/seq.tsv" | median)
control=$(cut -f2 "$work/seq.tsv" | median)
boot=$(cut -f3 "$work/seq.tsv" | median)
guest=$(cut -f4 "$work/seq.tsv" | median)

# 2. Many at once.
say "$parallel VEs started at once"
for i in $(seq "$parallel"); do define "p$i" "$((100 + i))"; done
avail_before=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
t0=$(date +%s%N)
pids=()
for i in $(seq "$parallel"); do inns "$lodge" start "p$i" >"$work/p$i.out" 2>&1 & pids+=($!); done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
par_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$failed" -eq 0 ] || { say "$failed starts failed:"; cat "$work"/p*.out | grep -v '^ ' | sort | uniq -c >&2; }

# 3. Memory of the idle VEs, and of the baseline QEMU started now.
kernel=${LODGE_KERNEL:-$top/images/out/vmlinuz-lodge}
lodge_build_rootfs "$work/root.img" || { say "mke2fs -d failed"; exit 1; }
lodge_qemu_start "$work/bare.log" "$kernel" "$work/root.img" 256 'console=ttyS0 root=/dev/vda rw panic=-1 lodge.mode=idle'
lodge_wait_line "^$LODGE_READY_LINE\$" $((LODGE_QEMU_START_US + 300 * 1000000)) ||
  { say "the baseline QEMU did not boot"; tail -n 15 "$work/bare.log" >&2; exit 1; }
say "letting $parallel guests and the baseline settle for ${settle} s"
# (reading the baseline's console meanwhile: a full pipe would stall it)
lodge_wait_line '' $((LODGE_LINE_US + settle * 1000000)) || [ $? = 2 ] || { say "the baseline QEMU exited"; exit 1; }
bare_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$LODGE_QEMU_PID/smaps_rollup")
bare_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LODGE_QEMU_PID/status")
lodge_qemu_stop
avail_after=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
# guests_memory: PSS, RSS (KiB) and count of the p* VEs' QEMUs, into pss, rss, n.
guests_memory() {
  pss=0 rss=0 n=0
  for pid in $(pgrep -f 'qemu-system-x86_64 .*-name guest=p[0-9]'); do
    pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")))
    rss=$((rss + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")))
    n=$((n + 1))
  done
}
guests_memory

# 4. The same VEs with KSM merging their memory.
ksm_rows=""
if [ "$ksm" = 1 ]; then
  ksmd=$(pgrep -x ksmd | head -n 1)
  cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$ksmd/stat"; }
  scans0=$(cat "$ksm_dir/full_scans") ticks0=$(cpu_ticks) t0=$(date +%s%N)
  ksm_set pages_to_scan=2000 run=1
  want_scans=${BENCH_KSM_SCANS:-4}
  say "KSM on: waiting for $want_scans full scans (at most 600 s)"
  deadline=$((SECONDS + 600))
  while [ "$(cat "$ksm_dir/full_scans")" -lt $((scans0 + want_scans)) ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
  scans=$(($(cat "$ksm_dir/full_scans") - scans0))
  ksm_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  ksm_cpu=$(awk -v t="$(($(cpu_ticks) - ticks0))" -v hz="$(getconf CLK_TCK)" -v ms="$ksm_ms" \
    'BEGIN { printf "%.0f%%", 100 * t / hz / (ms / 1000) }')
  shared=$(( $(cat "$ksm_dir/pages_sharing") * $(getconf PAGESIZE) / 1048576 ))
  pss_before=$pss rss_before=$rss n_before=$n
  guests_memory
  ksm_rows="| with KSM (\`lodge-agent --ksm\`), after $scans full scans in $(awk -v v="$ksm_ms" 'BEGIN { printf "%.0f s", v / 1000 }') | saved by KSM's count (pages_sharing): $shared MiB in all, $(awk -v a="$shared" -v n="$n" 'BEGIN { printf "%.1f", a / (n > 0 ? n : 1) }') MiB per VE; PSS then $((pss / (n > 0 ? n : 1) / 1024)) MiB per VE, $(awk -v a="$pss" -v b="$pss_before" 'BEGIN { printf "%.2f", a / b }')x the PSS above (the guests settled meanwhile too); ksmd used $ksm_cpu of a CPU |"
  pss=$pss_before rss=$rss_before n=$n_before
fi

seq_rate=$(awk -v n="$runs" -v ms="$seq_s" 'BEGIN { printf "%.1f", n * 60000 / ms }')
par_rate=$(awk -v n="$((parallel - failed))" -v ms="$par_ms" 'BEGIN { printf "%.1f", n * 60000 / ms }')
cat <<T

Lodge cluster bench: 3 nodes on one machine ($(nproc) cores, $(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)), $(inns "$lodge" node list | awk 'NR == 2 { print $3 }') guests, $(date -u +%Y-%m-%d)

| measure | value |
| --- | --- |
| start to ready, median of $runs (first start: disk cloned) | $(awk -v v="$total" 'BEGIN { printf "%.2f s", v / 1000 }') |
| — control plane: API request to domain started on the node | $(awk -v v="$control" 'BEGIN { printf "%.2f s", v / 1000 }') |
| — guest: domain started to ready line | $(awk -v v="$boot" 'BEGIN { printf "%.2f s", v / 1000 }') (the guest's own boot_ms: $guest ms) |
| one at a time: VEs started per minute (start + stop) | $seq_rate |
| $parallel at once: VEs started per minute | $par_rate ($((parallel - failed))/$parallel in $(awk -v v="$par_ms" 'BEGIN { printf "%.1f s", v / 1000 }'); $(awk -v a="$par_rate" -v b="$seq_rate" 'BEGIN { printf "%.1fx", a / b }') the sequential rate) |
| host memory per idle VE ($n QEMUs, ${settle} s after start), PSS | $((pss / (n > 0 ? n : 1) / 1024)) MiB (RSS $((rss / (n > 0 ? n : 1) / 1024)) MiB) for 256 MiB of guest memory |
| — baseline: a bare qemu-system-x86_64, default options, same kernel, busybox disk, 256 MiB, idle as long | PSS $((bare_pss / 1024)) MiB (RSS $((bare_rss / 1024)) MiB); Lodge's VE at $(awk -v a="$pss" -v n="$n" -v b="$bare_pss" 'BEGIN { printf "%.2f", (n > 0 ? a / n : 0) / b }')x its PSS |
| host MemAvailable drop per VE | $(( (avail_before - avail_after) / parallel / 1024 )) MiB |
${ksm_rows}
T
