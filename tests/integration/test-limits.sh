#!/bin/bash
# Resource limits (docs/security.md, Resource limits): a hostile customer's
# VE, lim-hog, saturates its disk and fills its memory, from inside, as
# root; its neighbour lim-nb keeps answering, and what lim-hog gets stays
# within its definition and its node's memory.
# - Disk: lim-hog's root disk is throttled to 4 MiB/s and 100 IOPS
#   (<io>); its writes take as long as that says, lim-nb's (the default
#   200 MiB/s) do not, and lim-nb's synchronous writes stay quick while
#   lim-hog writes as fast as it can.
# - Memory: lim-hog sees 1536 MiB and is promised 128 MiB; its node offers
#   1024 MiB. It takes all the memory it can get: its node's agent grows
#   it out of the node's free memory only, up to what the node has left
#   and never more, and lim-nb keeps answering. (Measured with the balloon
#   of before, autodeflate and no agent: lim-hog crept from 128 to 359 MiB
#   a page batch per OOM event and its guest stopped answering; the agent
#   and reach checks failed.)
# - CPU: the weight (and limit) in the live domain where the node has a CPU
#   cgroup; otherwise the agent said why not, and that part is skipped.
# check's conditions are single-quoted strings that check evaluates.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
ensure_busybox || skip "the busybox template could not be imported"
hog_ip=10.77.0.151 nb_ip=10.77.0.152
node_mib=$("$lodge" node list -o json | python3 -c 'import json, sys; print(min(n["memory"] >> 20 for n in json.load(sys.stdin)))')
[ "$node_mib" -lt 1536 ] || skip "the nodes offer $node_mib MiB each: lim-hog (1536 MiB) would fit; this test wants less (up --node-memory 1024)"

ve_xml lim-hog "$hog_ip" 1536 128 |
  sed 's|<disk unit="GiB">1</disk>|&\n    <cpu><weight>50</weight><limit>50</limit></cpu>\n    <io><iops>100</iops><bandwidth unit="MiB">4</bandwidth></io>|' >"$tmp/lim-hog.xml"
echo lim-hog >>"$tmp/ves"
expect 0 "define lim-hog (1536 MiB, 128 MiB promised, 4 MiB/s, 100 IOPS)" 'lim-hog' -- "$lodge" define "$tmp/lim-hog.xml"
define_ve lim-nb "$nb_ip" >/dev/null || skip "could not define lim-nb"
expect 0 "start lim-hog" 'lim-hog: running on node' -- "$lodge" start lim-hog
expect 0 "start lim-nb" 'lim-nb: running on node' -- "$lodge" start lim-nb
wait_for 60 curl -sf -o /dev/null "http://$nb_ip/hostname.txt" || true
check "lim-nb answers" '[ "$(curl -s --max-time 5 "http://$nb_ip/hostname.txt")" = lim-nb ]'
# on_node_virsh NODE ARGS...: virsh on NODE's libvirt, from here.
on_node_virsh() {
  local uri
  uri=$(sed -n 's/^OPS_LIBVIRT_URI=//p' "$LODGE_CLUSTER_DIR/nodes/$1/node.env")
  shift
  virsh -q -c "$uri" "$@"
}
node=$(running_on lim-hog | head -n 1)
nb_node=$(running_on lim-nb | head -n 1)
hog_actual() { on_node_virsh "$node" dommemstat lim-hog | awk '$1 == "actual" { print int($2 / 1024) }'; }
# After boot the balloon holds lim-hog near its floor: 128 MiB, or what the
# agent gave a guest that needed more for its 1536 MiB's page tables.
settled() { [ "$(hog_actual)" -lt 512 ]; }
wait_for 30 settled || true
hog_start=$(hog_actual)
check "lim-hog's balloon holds it under a third of its 1536 MiB after boot ($hog_start MiB)" '[ "${hog_start:-9999}" -lt 512 ]'
on_node_virsh "$node" dumpxml lim-hog >"$tmp/hog.live.xml"
check "lim-hog's live disk has its throttle (4 MiB/s, 100 IOPS)" \
  'grep -q "<total_bytes_sec>4194304</total_bytes_sec>" "$tmp/hog.live.xml" && grep -q "<total_iops_sec>100</total_iops_sec>" "$tmp/hog.live.xml"'
check "lim-hog's balloon does not deflate itself" 'grep -q "<memballoon model=.virtio. autodeflate=.off." "$tmp/hog.live.xml"'

# ---- CPU ----
# spin_share VE: the CPU its QEMU used (percent of one host CPU) while a
# vCPU of VE spun for 8 s.
spin_share() {
  local pid t0 t1 w0 w1
  pid=$(qemu_pid "$1")
  [ -n "$pid" ] || { echo 0; return; }
  t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  w0=$(date +%s%N)
  "$lodge" exec --timeout 8 "$1" -- sh -c 'while :; do :; done' >/dev/null 2>&1
  t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  w1=$(date +%s%N)
  awk -v t="$((t1 - t0))" -v w="$((w1 - w0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%d\n", t / hz * 1e9 / w * 100 }'
}
if grep -q "<cputune>" "$tmp/hog.live.xml"; then
  check "lim-hog's live domain has its weight and its 50% limit" \
    'grep -q "<shares>50</shares>" "$tmp/hog.live.xml" && grep -q "<global_quota>50000</global_quota>" "$tmp/hog.live.xml"'
  nb_cpu=$(spin_share lim-nb)
  hog_cpu=$(spin_share lim-hog)
  echo "# a vCPU spinning 8 s: lim-nb's QEMU used ${nb_cpu}% of a CPU (no limit), lim-hog's ${hog_cpu}% (limit 50%)"
  check "baseline: lim-nb's spinning vCPU takes over 70% of a CPU (${nb_cpu}%)" '[ "$nb_cpu" -gt 70 ]'
  check "lim-hog's takes at most 60% (${hog_cpu}%), its limit 50%" '[ "$hog_cpu" -le 60 ]'
else
  why=$(grep -o "CPU limits: none ([^)]*)" "$LODGE_CLUSTER_DIR/nodes/$node/log/agent.log" | tail -n 1)
  check "without <cputune>, $node's agent said why ($why)" '[ -n "$why" ]'
  skip_part "CPU weight and limit" "$node has no CPU cgroup for libvirt (${why:-?}); the local cluster's libvirt runs without cgroups"
fi

# ---- disk ----
# seconds CMD...: how long CMD takes, in seconds with two decimals.
seconds() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  awk -v n="$((t1 - t0))" 'BEGIN { printf "%.2f\n", n / 1e9 }'
}
write24() { "$lodge" exec "$1" -- sh -c 'dd if=/dev/zero of=/root/w24 bs=1M count=24 conv=fsync; rm -f /root/w24'; }
nb_s=$(seconds write24 lim-nb)
hog_s=$(seconds write24 lim-hog)
echo "# 24 MiB written with fsync: lim-nb ${nb_s} s (200 MiB/s), lim-hog ${hog_s} s (4 MiB/s)"
check "lim-hog's 24 MiB at 4 MiB/s take at least 5 s ($hog_s s)" 'awk -v t="$hog_s" "BEGIN { exit !(t >= 5) }"'
check "lim-nb's take less than half of that ($nb_s s)" 'awk -v a="$nb_s" -v b="$hog_s" "BEGIN { exit !(a < b / 2) }"'

# lim-hog writes as fast as it may (60 s); meanwhile lim-nb's synchronous
# 4 KiB writes, each with its exec, stay under 3 s.
"$lodge" exec lim-hog -- sh -c 'dd if=/dev/zero of=/root/flood bs=1M count=400 conv=fsync 2>/dev/null; rm -f /root/flood' >/dev/null 2>&1 &
flood=$!
sleep 3
worst=0
for i in 1 2 3 4 5; do
  s=$(seconds "$lodge" exec lim-nb -- sh -c "dd if=/dev/zero of=/root/s$i bs=4k count=1 conv=fsync")
  worst=$(awk -v a="$worst" -v b="$s" 'BEGIN { print (b > a ? b : a) }')
done
check "while lim-hog floods its disk, lim-nb's 4 KiB synchronous writes take under 3 s each (worst ${worst} s)" \
  'awk -v t="$worst" "BEGIN { exit !(t < 3) }"'
kill "$flood" 2>/dev/null
"$lodge" exec lim-hog -- sh -c 'pkill dd; rm -f /root/flood' >/dev/null 2>&1
wait "$flood" 2>/dev/null

# ---- memory ----
# node_actual_mib NODE: the balloon sizes (MiB) of NODE's running domains,
# summed; and lim-hog's, as "SUM HOG".
node_actual_mib() {
  local sum=0 hog=0 d a
  for d in $(on_node_virsh "$1" list --name); do
    a=$(on_node_virsh "$1" dommemstat "$d" 2>/dev/null | awk '$1 == "actual" { print int($2 / 1024) }')
    sum=$((sum + ${a:-0}))
    [ "$d" = lim-hog ] && hog=${a:-0}
  done
  echo "$sum $hog"
}
read -r before hog_before < <(node_actual_mib "$node")
echo "# $node: its domains hold $before MiB, lim-hog $hog_before MiB, of $node_mib MiB"
# The filler holds anonymous memory, 64 MiB more every second, for 90 s:
# each holder a dd blocked writing its buffer into a pipe, the OOM killer's
# first choice (it frees what it held), and the loop its last, so that the
# guest keeps asking for memory and never runs out of processes to kill.
"$lodge" exec --timeout 90 lim-hog -- sh -c 'echo -1000 >/proc/self/oom_score_adj
  while :; do
    sh -c "echo 1000 >/proc/self/oom_score_adj; exec dd if=/dev/zero bs=64M count=1 2>/dev/null" | sleep 3600 &
    sleep 1
  done' >/dev/null 2>&1 &
filler=$!
max_sum=0 max_hog=0 nb_down=0
for _ in $(seq 40); do
  read -r s h < <(node_actual_mib "$node")
  printf '%s ' "$h" >>"$tmp/samples"
  [ "$s" -gt "$max_sum" ] && max_sum=$s
  [ "$h" -gt "$max_hog" ] && max_hog=$h
  curl -sf --max-time 3 -o /dev/null "http://$nb_ip/hostname.txt" || nb_down=$((nb_down + 1))
  sleep 1
done
kill "$filler" 2>/dev/null
wait "$filler" 2>/dev/null
echo "# while lim-hog filled its memory: lim-hog at most $max_hog MiB, $node's domains at most $max_sum MiB"
echo "# lim-hog's balloon, MiB, each second: $(cat "$tmp/samples")"
boots=$(curl -s --max-time 5 "http://$hog_ip/boots.txt" | wc -l)
check "lim-hog did not reboot meanwhile (boots: $boots)" '[ "$boots" -eq 1 ]'
check "lim-hog grew above its floor out of $node's free memory (to $max_hog MiB)" '[ "$max_hog" -gt 192 ]'
check "$node's agent gave it by the balloon, and said so" \
  'grep -q "lim-hog: memory [0-9]* -> [0-9]* MiB (under memory pressure" "$LODGE_CLUSTER_DIR/nodes/$node/log/agent.log"'
check "... up to what $node had left: its domains held over $((node_mib * 7 / 8)) MiB ($max_sum MiB)" '[ "$max_sum" -gt $((node_mib * 7 / 8)) ]'
check "$node's domains never held more than its $node_mib MiB (at most $max_sum MiB)" '[ "$max_sum" -le "$node_mib" ]'
check "lim-hog never got its whole 1536 MiB ($max_hog MiB)" '[ "$max_hog" -lt 1536 ]'
check "lim-nb answered all along (missed $nb_down of 40)" '[ "$nb_down" -eq 0 ]'
check "lim-nb still runs on $nb_node" '[ "$(running_on lim-nb | head -n 1)" = "$nb_node" ]'
check "lim-nb's QEMU is alive" '[ -n "$(qemu_pid lim-nb)" ] && kill -0 "$(qemu_pid lim-nb)"'

expect 0 "stop lim-hog" '' -- "$lodge" stop --force lim-hog
expect 0 "stop lim-nb" '' -- "$lodge" stop lim-nb
finish
