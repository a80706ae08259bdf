#!/bin/bash
# Failover on the local cluster, by fault injection. A VE runs a writer that
# appends a sequence number to a file and syncs it every 100 ms, and
# publishes the last number it synced; the test keeps the last one it saw.
#  - power loss: node K's libvirtd, QEMUs and agent are SIGKILLed. The VE
#    becomes ready on another node; its file holds every number it
#    acknowledged before; the node is fenced, comes back empty with
#    `lodge-cluster up`, and is let in again.
#  - frozen node (split brain): node K's processes are SIGSTOPped; failover
#    happens; then they get SIGCONT. The old QEMU cannot write another byte
#    (its client is blocklisted): the file stays contiguous. It does run
#    again for a moment, until the woken agent destroys its stale domain:
#    sampled every 0.25 s once the node wakes, two copies are seen for at
#    most that moment, never three, and one only within 30 s.
#  - the active lodged killed in the middle of a failover: a standby takes
#    the lease and finishes it; the VE runs exactly once.
#  - one OSD killed while the VE writes (3 replicas): the writer goes on,
#    nothing is lost.
#  - network partition: node K's links (eth0 to the datacenter network,
#    uplink0 to the VE switch) go down on the node itself: the node is
#    fenced and its VE failed over; when the partition heals, the node's
#    agent finds itself fenced, destroys its stale copy, and the node
#    rejoins: no double run.
# Runs in the cluster's namespace; restores the cluster before it ends.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"
[ "$(wc -w <<<"$LODGE_NODES")" -ge 2 ] || skip "failover needs two nodes"
cluster=$src/tools/lodge-cluster
log=$LODGE_CLUSTER_DIR/log/lodged.log
check "the busybox template is there" 'ensure_busybox'
ip=10.77.0.40
writer='n=0; [ -f /srv/www/seq.txt ] && n=$(tail -n 1 /srv/www/seq.txt); while :; do n=$((n+1)); echo $n >> /srv/www/seq.txt; sync; echo $n > /srv/www/durable.txt; sleep 0.1; done'
expect 0 "define" 'defined' -- define_ve fo1 "$ip" 256 64 "sh -c '($writer) & exec httpd -f -p 80 -h /srv/www'"
expect 0 "start" 'fo1: running on node' -- "$lodge" start fo1

durable() { curl -sf --max-time 2 "http://$ip/durable.txt"; }
seq_complete() { # 1..N each once in order, N >= $1
  curl -sf --max-time 10 "http://$ip/seq.txt" >"$tmp/seq.txt" || return 1
  awk -v min="$1" '$1 != NR { bad = 1 } END { exit bad || NR < min }' "$tmp/seq.txt"
}
node_pids() { # K: libvirtd, virtlogd, agent and QEMUs of node K
  local dir=$LODGE_CLUSTER_DIR/nodes/node$1/run f
  for f in "$dir/libvirtd.pid" "$dir/virtlogd.pid" "$dir/agent.pid" "$dir"/qemu/*.pid; do
    [ -f "$f" ] && tr -d '\n' <"$f" && echo
  done
}
copies() { running_on fo1 | wc -l; }

# Power loss.
wait_for 60 bash -c "[ \$(curl -sf http://$ip/durable.txt) -ge 10 ] 2>/dev/null"
victim=$(running_on fo1)
k=${victim#node}
acked=$(durable)
t0=$(date +%s%N)
# shellcheck disable=SC2046
kill -KILL $(node_pids "$k")
acked=$(( $(durable 2>/dev/null || echo 0) > acked ? $(durable 2>/dev/null || echo 0) : acked ))
if wait_for 60 bash -c "'$lodge' status fo1 | grep -q 'phase *running' && '$lodge' status fo1 | grep -qv 'node *$victim\$' && curl -sf --max-time 1 http://$ip/durable.txt"; then
  t1=$(date +%s%N)
  ok "after $victim's power loss, fo1 is ready elsewhere in $(( (t1 - t0) / 1000000 )) ms"
  echo "# node-kill to VE serving again: $(( (t1 - t0) / 1000000 )) ms"
else
  not_ok "fo1 did not come back: $("$lodge" status fo1 | grep -E 'phase|node|last_error')"; tail -n 15 "$log" | show 15
fi
expect 0 "the controller fenced before restarting" "$victim fenced: [0-9]+ RADOS clients blocklisted" -- tail -n 30 "$log"
check "fencing came before the restart in the log" \
  'tail -n 30 "$log" | grep -n -e "$victim fenced" -e "fo1: restarted" | head -n 1 | grep -q fenced'
expect 0 "node list shows $victim fenced" "^$victim +fenced" -- "$lodge" node list
check "fo1 runs on exactly one node, not $victim" '[ "$(copies)" -eq 1 ] && [ "$(running_on fo1)" != "$victim" ]'
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $acked ]"
check "no acknowledged write lost: 1..N, N >= $acked" 'seq_complete "$acked"'

# The node comes back: empty, then let in again.
expect 0 "lodge-cluster up brings $victim back" 'up in' -- "$cluster" up
if wait_for 30 bash -c "'$lodge' node list | grep -qE '^$victim +up'"; then
  ok "$victim rejoined: up again once back and empty"
else
  not_ok "$victim did not rejoin: $("$lodge" node list | grep "^$victim")"; tail -n 8 "$log" | show
fi
check "fo1 still runs once" '[ "$(copies)" -eq 1 ]'

# Frozen node: the split-brain case.
victim=$(running_on fo1)
k=${victim#node}
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $acked ]"
acked=$(durable)
# shellcheck disable=SC2046
kill -STOP $(node_pids "$k")
if wait_for 60 bash -c "'$lodge' status fo1 | grep -q 'phase *running' && ! '$lodge' status fo1 | grep -q 'node *$victim\$' && curl -sf --max-time 1 http://$ip/durable.txt"; then
  ok "with $victim frozen, fo1 is ready elsewhere"
else
  not_ok "no failover from the frozen $victim: $("$lodge" status fo1 | grep -E 'phase|node|last_error')"; tail -n 15 "$log" | show 15
fi
new_node=$("$lodge" status fo1 | awk '$1 == "node" { print $2 }')
# shellcheck disable=SC2046
kill -CONT $(node_pids "$k")
# Watch every node while the old one wakes up (every 0.25 s, 10 to 30 s).
# The old QEMU wakes with its node and cannot write (blocklisted); it runs
# until its agent destroys it, so two copies may be seen for a moment, but
# never three, and one only once the agent has acted.
max_copies=0 doubled=0 last=0 samples=0
while [ "$samples" -lt 120 ]; do
  samples=$((samples + 1))
  n=0
  for node in $LODGE_NODES; do
    # shellcheck disable=SC1090
    (. "$LODGE_CLUSTER_DIR/nodes/$node/node.env" && virsh -q -c "$OPS_LIBVIRT_URI" domstate fo1 2>/dev/null | grep -qx running) && n=$((n + 1))
  done
  [ "$n" -gt "$max_copies" ] && max_copies=$n
  [ "$n" -ge 2 ] && doubled=$((doubled + 1))
  last=$n
  # At least 10 s watched; then until one copy is left (30 s at most).
  [ "$samples" -ge 40 ] && [ "$n" -eq 1 ] && break
  sleep 0.25
done
echo "# two running copies of fo1 seen in $doubled of $samples samples (0.25 s apart) after $victim woke"
check "after $victim woke, the stale copy of fo1 went away within 30 s (at most $max_copies at once, one at the end)" \
  '[ "$max_copies" -le 2 ] && [ "$last" -eq 1 ]'
if wait_for 30 bash -c "! (. '$LODGE_CLUSTER_DIR/nodes/$victim/node.env' && virsh -q -c \"\$OPS_LIBVIRT_URI\" list --name | grep -qx fo1)"; then
  ok "the woken agent destroyed the stale fo1 on $victim"
else
  not_ok "a stale fo1 still runs on $victim"
fi
expect 0 "its agent says so" "destroyed stale guest fo1" -- cat "$LODGE_CLUSTER_DIR/nodes/$victim/log/agent.log"
check "fo1 runs once, on $new_node" '[ "$(running_on fo1)" = "$new_node" ]'
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $acked ]"
check "the disk stayed whole: 1..N in order, N >= $acked (the old copy wrote nothing)" 'seq_complete "$acked"'
if wait_for 30 bash -c "'$lodge' node list | grep -qE '^$victim +up'"; then
  ok "$victim rejoined after waking"
else
  not_ok "$victim did not rejoin: $("$lodge" node list | grep "^$victim")"
fi

# The active controller dies in the middle of a failover; a standby ends it.
"$build/controller/lodged" --socket "$tmp/standby.sock" --id standby-f >"$tmp/standby.log" 2>&1 &
standby=$!
wait_for 20 grep -q "standby:" "$tmp/standby.log" || not_ok "no standby lodged"
victim=$(running_on fo1)
k=${victim#node}
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $acked ]"
acked=$(durable)
lines=$(wc -l <"$log")
# shellcheck disable=SC2046
kill -KILL $(node_pids "$k")
if wait_for 20 bash -c "tail -n +$((lines + 1)) '$log' | grep -q '$victim fenced'"; then
  kill -KILL "$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")"
  ok "the active lodged was killed right after fencing $victim"
else
  not_ok "no failover began"; tail -n 10 "$log" | show
fi
done_re='fo1: (restarted on|finished the start)'
if wait_for 60 bash -c "grep -Eq '$done_re' '$tmp/standby.log' || tail -n +$((lines + 1)) '$log' | grep -Eq '$done_re'"; then
  ok "fo1 restarted (by $(grep -Eq "$done_re" "$tmp/standby.log" && echo the standby || echo 'the first lodged, before it died'))"
else
  not_ok "fo1 was not restarted: $(LODGE_URL=unix:$tmp/standby.sock "$lodge" status fo1 | grep -E 'phase|node|last_error')"; tail -n 10 "$tmp/standby.log" | show
fi
expect 0 "the standby took over" 'active: serving' -- cat "$tmp/standby.log"
check "fo1 runs exactly once" '[ "$(copies)" -eq 1 ]'
wait_for 20 curl -sf --max-time 1 "http://$ip/durable.txt"
check "no acknowledged write lost: 1..N, N >= $acked" 'seq_complete "$acked"'
kill "$standby"; wait "$standby" 2>/dev/null
expect 0 "lodge-cluster up restores the cluster's lodged and $victim" 'up in' -- "$cluster" up
wait_for 30 bash -c "'$lodge' node list | grep -qE '^$victim +up'" || not_ok "$victim did not rejoin"

# One OSD killed while the VE writes.
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt 0 ]"
osd=$(cat "$LODGE_CLUSTER_DIR/run/osd.2.pid" 2>/dev/null || pgrep -f "ceph-osd --conf $LODGE_CLUSTER_DIR/ceph.conf -i 2")
kill -KILL "$osd"
# Awaited, each with a deadline: the monitors mark osd.2 down (until then
# every write waits for it: each PG of the 3-replica pool has it), then the
# writer syncs 10 more numbers (a second of writing) on the degraded pool.
osd2_down() { ceph --id "${LODGE_CEPH_USER:-lodge}" osd dump 2>/dev/null | grep -q '^osd\.2 down'; }
durable_beyond() { [ "$(durable)" -gt "$1" ] 2>/dev/null; }
check "the monitors mark the killed osd.2 down (within 60 s)" 'wait_for 60 osd2_down'
before=$(durable)
check "with osd.2 down the writer goes on: 10 more writes synced within 60 s (after ${before:-none})" \
  'wait_for 60 durable_beyond $((${before:-0} + 10))'
after=$(durable)
echo "# with osd.2 down the writer went from ${before:-none} to ${after:-none}"
check "nothing lost: 1..N, N >= $after" 'seq_complete "$after"'
check "the guest's kernel saw no I/O error" 'output_lacks "[Ii]/[Oo] [Ee][Rr][Rr][Oo][Rr]" "$lodge" console -n 1000 fo1'
expect 0 "lodge-cluster up restarts osd.2" 'up in' -- "$cluster" up

# Network partition of one node: its links go down, on the node itself
# (each node is a network namespace of its own, lodge-cluster).
victim=$(running_on fo1)
links='eth0 uplink0'
if [ -z "$victim" ] || ! on_host "$victim" ip link show dev eth0 >/dev/null 2>&1; then
  not_ok "network partition: fo1 runs on no node with an eth0 ('$victim'; lodge-cluster gives each node one)"
else
  wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt 0 ]"
  acked=$(durable)
  cut=''
  set_links() { on_host "$victim" sh -c 'for l in $2; do ip link set dev "$l" "$1" || exit; done' sh "$1" "$links"; }
  heal() { [ -z "$cut" ] || { set_links up && cut=; }; }
  trap 'heal; lib_cleanup' EXIT
  set_links down && cut=1
  if [ -z "$cut" ]; then
    not_ok "network partition: the links $links of $victim did not go down"
    heal
  else
    if wait_for 60 bash -c "'$lodge' status fo1 | grep -q 'phase *running' && ! '$lodge' status fo1 | grep -q 'node *$victim\$' && curl -sf --max-time 1 http://$ip/durable.txt"; then
      ok "with $victim cut off, fo1 is ready elsewhere"
    else
      not_ok "no failover from the partitioned $victim: $("$lodge" status fo1 | grep -E 'phase|node|last_error')"; tail -n 15 "$log" | show 15
    fi
    expect 0 "$victim is fenced" "^$victim +fenced" -- "$lodge" node list
    heal
    if wait_for 60 bash -c "'$lodge' node list | grep -qE '^$victim +up'"; then
      ok "healed: $victim destroyed its stale copy and rejoined"
    else
      not_ok "$victim did not rejoin after the partition healed: $("$lodge" node list | grep "^$victim")"
      tail -n 8 "$LODGE_CLUSTER_DIR/nodes/$victim/log/agent.log" | show
    fi
    check "fo1 runs exactly once, not on $victim" '[ "$(copies)" -eq 1 ] && [ "$(running_on fo1)" != "$victim" ]'
    wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $acked ]"
    check "no acknowledged write lost across the partition: 1..N, N >= $acked" 'seq_complete "$acked"'
  fi
fi
finish
