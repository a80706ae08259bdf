#!/bin/bash
# Reliability: no stale controller acts, and Ceph trouble fails nothing over.
#  - The leader is paused (SIGSTOP) in the middle of a start, past its
#    lease. A standby takes the lease with a newer generation, finishes that
#    start, and restarts another VE. SIGCONT: the old leader refuses to
#    write or to act on a node, and exits with status 3; each VE runs once,
#    its QEMU the new leader's, its record stamped with the new generation.
#  - A migration cut short by killing the leader: the next leader settles
#    it where the guest runs; one copy runs, where the record says, and two
#    sweeps later still one.
#  - A domain that no record accounts for (the record says failed): the
#    sweep destroys it and says why.
#  - Ceph's only monitor frozen: node list and /metrics say there is no
#    quorum, nothing is fenced, the VE keeps its QEMU; all back after.
#  - Ceph full (the full ratio set below what the OSDs hold): status
#    answers, a start is refused naming the full pool and changes nothing,
#    no node is fenced, the running VE keeps its QEMU; when the ratio is
#    back, starts work again.
# Runs in the cluster's namespace (tools/lodge-cluster exec).
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(wc -w <<<"$LODGE_NODES")" -ge 2 ] || skip "these cases need two nodes"
cluster=$src/tools/lodge-cluster
log=$LODGE_CLUSTER_DIR/log/lodged.log
check "the busybox template is there" 'ensure_busybox'
phase() { "$1" status "$2" 2>/dev/null | awk '$1 == "phase" { print $2 }'; }
copies() { running_on "$1" | wc -l; }
stamp() { rados -p lodge-state -N runtime getxattr "$1" lodge.generation 2>/dev/null; }
ctl1_pid() { cat "$LODGE_CLUSTER_DIR/run/lodged.pid"; }
alive() { kill -0 "$1" 2>/dev/null; }
# lodge through the standby of this test.
standby_lodge() { LODGE_URL=unix:$tmp/standby.sock "$lodge" "$@"; }
main_lodge() { "$lodge" "$@"; }
restore_ctl1() { # the standby gone, ctl1's lodged leads again
  [ -n "${standby:-}" ] && { kill "$standby" 2>/dev/null; wait "$standby" 2>/dev/null; }
  standby=
  "$cluster" up >/dev/null 2>&1
  wait_for 60 "$lodge" list
}
ratios() { # FULL BACKFILL NEAR, in the order Ceph accepts them
  ceph osd set-full-ratio "$1" >/dev/null 2>&1
  ceph osd set-backfillfull-ratio "$2" >/dev/null 2>&1
  ceph osd set-nearfull-ratio "$3" >/dev/null 2>&1
  ceph osd set-backfillfull-ratio "$2" >/dev/null 2>&1
  ceph osd set-full-ratio "$1" >/dev/null 2>&1
}
trap 'ratios 0.95 0.90 0.85; restore_ctl1; lib_cleanup' EXIT

expect 0 "define r1" 'defined' -- define_ve rl1 10.77.0.80
expect 0 "define r2" 'defined' -- define_ve rl2 10.77.0.81
expect 0 "start r1" 'rl1: running on node' -- "$lodge" start rl1

# --- A stale leader ---------------------------------------------------------
"$build/controller/lodged" --socket "$tmp/standby.sock" --id standby-r >"$tmp/standby.log" 2>&1 &
standby=$!
check "a standby waits" 'wait_for 30 grep -q "standby:" "$tmp/standby.log"'
old=$(ctl1_pid)
old_gen=$(grep -o 'took the leader lease: generation [0-9]*' "$log" | tail -n 1 | awk '{ print $NF }')
lines=$(wc -l <"$log")
"$lodge" start rl2 >"$tmp/start-rl2.out" 2>&1 &
cli=$!
if wait_for 60 eval '[ "$(phase main_lodge rl2)" = starting ]'; then
  kill -STOP "$old"
  ok "the leader (generation $old_gen) paused while it starts rl2"
else
  not_ok "rl2 never was starting: $(cat "$tmp/start-rl2.out")"
  kill -STOP "$old"
fi
if wait_for 60 grep -q "active: serving" "$tmp/standby.log"; then
  new_gen=$(grep -o 'took the leader lease: generation [0-9]*' "$tmp/standby.log" | awk '{ print $NF }')
  ok "the standby took over, generation $new_gen"
else
  not_ok "the standby did not take over"; show <"$tmp/standby.log"
  new_gen=0
fi
check "its generation is newer" '[ "${new_gen:-0}" -gt "${old_gen:-0}" ]'
check "the new leader finishes the start of rl2" 'wait_for 120 eval "[ \"\$(phase standby_lodge rl2)\" = running ]"'
expect 0 "rl1 restarted through the new leader" 'rl1: running on node' -- standby_lodge restart rl1
pid1=$(qemu_pid rl1) pid2=$(qemu_pid rl2)
kill -CONT "$old"
if wait_for 30 eval '! alive "$old"'; then
  ok "the old leader, resumed, exits"
else
  not_ok "the old leader still runs after SIGCONT"
fi
expect 0 "... saying it lost the lease, status 3" "lost the leader lease \\(generation $old_gen\\).*status 3" -- \
  tail -n +"$((lines + 1))" "$log"
kill "$cli" 2>/dev/null; wait "$cli" 2>/dev/null
for ve in rl1 rl2; do
  check "$ve runs exactly once" '[ "$(copies "$ve")" -eq 1 ]'
done
check "their QEMUs are the new leader's (the old one killed and started nothing)" \
  '[ -n "$pid1" ] && [ "$(qemu_pid rl1)" = "$pid1" ] && [ -n "$pid2" ] && [ "$(qemu_pid rl2)" = "$pid2" ]'
check "the records carry the new generation" \
  '[ "$(stamp rl1)" = "$(printf %020d "$new_gen")" ] && [ "$(stamp rl2)" = "$(printf %020d "$new_gen")" ]'
restore_ctl1
check "ctl1's lodged leads again (as a standby first, then when the test's standby stopped)" \
  'wait_for 60 eval "[ \"\$(phase main_lodge rl1)\" = running ]"'

# --- A migration cut short -------------------------------------------------
from=$(running_on rl2)
lines=$(wc -l <"$log")
"$lodge" migrate rl2 >"$tmp/migrate.out" 2>&1 &
cli=$!
if wait_for 60 grep -q "migrating from" "$tmp/migrate.out"; then
  kill -KILL "$(ctl1_pid)"
  ok "the leader killed while it migrates rl2 from $from"
else
  not_ok "no migration began: $(cat "$tmp/migrate.out")"
fi
wait "$cli" 2>/dev/null
"$cluster" up >/dev/null 2>&1
check "the next leader settles it (within 90 s)" 'wait_for 90 eval "[ \"\$(phase main_lodge rl2)\" = running ]"'
where=$("$lodge" status rl2 | awk '$1 == "node" { print $2 }')
check "one copy runs, on the node its record shows ($where)" '[ "$(copies rl2)" -eq 1 ] && [ "$(running_on rl2)" = "$where" ]'
# Two full sweeps (every 10 s) later: still one (what is checked is that
# nothing happens, so this waits the time of two sweeps).
sleep 21
check "two sweeps later, still one copy, on $where" '[ "$(copies rl2)" -eq 1 ] && [ "$(running_on rl2)" = "$where" ]'

# --- A domain no record accounts for --------------------------------------
# rl2's record is made to say failed (as a start or stop that failed midway
# leaves it) while its domain still runs: the sweep confirms with the record
# and the node, destroys the domain, and says so; a start runs it once.
lines=$(wc -l <"$log")
rados -p lodge-state -N runtime get rl2 "$tmp/rt.json"
sed 's/"phase":"running"/"phase":"failed"/; s/"desired":"running"/"desired":"stopped"/' "$tmp/rt.json" >"$tmp/rt-failed.json"
check "rl2's record rewritten to failed (the domain still runs on $where)" \
  'grep -q "\"phase\":\"failed\"" "$tmp/rt-failed.json" && rados -p lodge-state -N runtime put rl2 "$tmp/rt-failed.json" && [ "$(copies rl2)" -eq 1 ]'
check "the sweep destroys the domain its record does not account for (within 40 s)" \
  'wait_for 40 eval "[ \"\$(copies rl2)\" -eq 0 ]"'
expect 0 "... and says why" "destroyed a domain of rl2 on $where that was running: its record says failed" -- \
  tail -n +"$((lines + 1))" "$log"
expect 0 "a start runs it again" 'rl2: running on node' -- "$lodge" start rl2
check "... once" '[ "$(copies rl2)" -eq 1 ]'

# --- Ceph full --------------------------------------------------------------
expect 0 "define r3 (before Ceph is full)" 'defined' -- define_ve rl3 10.77.0.82
node1=$(running_on rl1) pid1=$(qemu_pid rl1)
lines=$(wc -l <"$log")
full() { ceph osd dump 2>/dev/null | grep -q "^pool [0-9]* 'lodge-state'.*flags [a-z_,]*full"; }
ratios 0.00002 0.00001 0.00001
check "Ceph flags the pools full" 'wait_for 60 full'
t0=$(date +%s%N)
if timeout 10 "$lodge" status rl1 >"$tmp/status.out" 2>&1; then
  ok "status answers while Ceph is full ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
  not_ok "status while Ceph is full: $(cat "$tmp/status.out")"
fi
expect 6 "a start is refused (507), naming the full pool" 'pool lodge-[a-z0-9]* flagged full' -- "$lodge" start rl3
check "... and changes nothing (rl3 stopped, no domain)" '[ "$(phase main_lodge rl3)" != running ] && [ "$(copies rl3)" -eq 0 ]'
# Absence of fencing: nodes keep their heartbeats' grace (3 s) many times over.
sleep 15
check "no node is fenced or down" 'output_lacks " (fenced|down) " "$lodge" node list'
check "... nor in the log" 'output_lacks "fenced" tail -n +"$((lines + 1))" "$log"'
check "rl1 keeps its QEMU on $node1" '[ "$(running_on rl1)" = "$node1" ] && [ "$(qemu_pid rl1)" = "$pid1" ]'
ratios 0.95 0.90 0.85
check "Ceph has space again" 'wait_for 60 eval "! full"'
expect 0 "a start works again" 'rl3: running on node' -- "$lodge" start rl3


# --- Monitors without a quorum --------------------------------------------
# The only monitor frozen (SIGSTOP): node list and /metrics say there is no
# quorum; the OSDs serve on, so heartbeats go on and nothing fails over.
main_url=${LODGE_URL%%,*}
metrics() { curl -sf ${LODGE_CA:+--cacert "$LODGE_CA"} -H "Authorization: Bearer $LODGE_TOKEN" "$main_url/metrics"; }
mon_pid=$(cat "$LODGE_CLUSTER_DIR/run/mon.a.pid")
node1=$(running_on rl1) pid1=$(qemu_pid rl1)
lines=$(wc -l <"$log")
check "metrics: the monitors have a quorum" 'metrics | grep -qx "lodge_ceph_monitor_quorum 1"'
kill -STOP "$mon_pid"
trap 'kill -CONT "$mon_pid" 2>/dev/null; ratios 0.95 0.90 0.85; restore_ctl1; lib_cleanup' EXIT
check "node list says the monitors have no quorum (within 40 s)" \
  'wait_for 40 eval "\"\$lodge\" node list | grep -q \"ceph: the monitors have no quorum\""'
check "... and so does /metrics" 'metrics | grep -qx "lodge_ceph_monitor_quorum 0"'
# Absence of failover: the nodes' grace (3 s) passes many times over.
sleep 15
check "no node is fenced or down without the monitors" 'output_lacks " (fenced|down) " "$lodge" node list'
check "... nor in the log" 'output_lacks "fenced" tail -n +"$((lines + 1))" "$log"'
check "rl1 keeps its QEMU on $node1" '[ "$(running_on rl1)" = "$node1" ] && [ "$(qemu_pid rl1)" = "$pid1" ]'
kill -CONT "$mon_pid"
check "the quorum is back, and said so (within 60 s)" \
  'wait_for 60 eval "metrics | grep -qx \"lodge_ceph_monitor_quorum 1\""'
check "node list no longer warns" 'output_lacks "no quorum" "$lodge" node list'

finish
