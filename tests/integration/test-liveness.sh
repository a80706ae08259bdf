#!/bin/bash
# Liveness without trusting clocks: one node's agent runs with its wall
# clock 60 s behind the control center's (libfaketime, through
# LODGE_AGENT_CLOCK_OFFSET of tools/lodge-cluster). Its heartbeats carry
# that clock, and the control center must judge them by their changing, on
# its own monotonic clock: the node stays up, nothing is fenced. (Before,
# a heartbeat 60 s "old" made it down at once.) A dead node is still
# fenced within the grace period: test-failover's power loss shows it.
# A VE placed on the skewed node stays there, in the same QEMU.
# Runs in the cluster's namespace; restores the agent before it ends.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cluster=$src/tools/lodge-cluster
log=$LODGE_CLUSTER_DIR/log/lodged.log
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || {
  not_ok "libfaketime is missing (tools/bootstrap installs faketime)"; finish; exit; }

node=${LODGE_NODES##* }
pidfile=$LODGE_CLUSTER_DIR/nodes/$node/run/agent.pid
agent_alive() { kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; }
# up waits for the new agent's own "registered:" line; when it does not
# come, what the agent's threads wait in is shown (gdb, when there is one):
# an ASan build under libfaketime once deadlocked before main (see
# agent_start in tools/lodge-cluster).
restart_agent() { # OFFSET ("" for the true clock)
  local pid out rc=0
  pid=$(cat "$pidfile")
  kill "$pid" && wait_for 20 eval '! kill -0 '"$pid" || return 1
  out=$(LODGE_CLUSTER_TIMEOUT=40 LODGE_AGENT_CLOCK_OFFSET=$1 "$cluster" up 2>&1) || rc=$?
  # All of it when it failed (what it waited for, the logs' ends).
  if [ "$rc" -eq 0 ]; then printf '%s\n' "$out" | tail -n 3; return 0; fi
  printf '%s\n' "$out"
  # (expect shows the end of it; restart_failure all of it)
  { printf '%s\n' "$out"
    if grep -q "not registered: $node" <<<"$out" && command -v gdb >/dev/null; then
      echo "the agent's stack (gdb):"
      gdb -batch -p "$(cat "$pidfile")" -ex 'thread apply all bt 40' 2>/dev/null | grep -E '^(Thread|#)' | head -n 200
    fi; } >"$tmp/restart.out"
  return "$rc"
}
restart_failure() { [ ! -s "$tmp/restart.out" ] || { show 300 <"$tmp/restart.out"; : >"$tmp/restart.out"; }; }
node_field() { # FIELD: of $node, from node list -o json
  "$lodge" node list -o json | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["name"] == sys.argv[1]:
        print(n.get(sys.argv[2], ""))' "$node" "$1"
}
node_state() { "$lodge" node list | awk -v n="$node" '$1 == n { print $2 }'; }

check "$node is up before" '[ "$(node_state)" = up ]'
expect 0 "$node's agent restarted with its clock 60 s behind" 'up in' -- restart_agent -60s
restart_failure
# While its agent was away the node may have been judged late (that is
# right); from here on, with the agent back, nothing may be said of it.
check "$node is up with the new agent" 'wait_for 20 eval "[ \"\$(node_state)\" = up ]"'
lines_before=$(wc -l <"$log")
check "the agent runs with the offset" \
  'agent_alive && tr "\0" "\n" </proc/"$(cat "$pidfile")"/environ | grep -qx "FAKETIME=-60s"'
# Its heartbeats really are 60 s behind this clock (once the new agent
# has written one).
skew() { local hb; hb=$(node_field heartbeat_us); [ -n "$hb" ] && echo $(( ($(date +%s%6N) - hb) / 1000000 )); }
wait_for 15 eval '[ "$(skew)" -ge 55 ]'
skew_s=$(skew)
check "its heartbeats carry the wrong clock (${skew_s:-?} s behind)" '[ "${skew_s:-0}" -ge 55 ] && [ "$skew_s" -le 70 ]'

# A VE on it, so that a node judged down would be failed over.
check "the busybox template is there" 'ensure_busybox'
expect 0 "define" 'environment lv1 defined' -- define_ve lv1 10.77.0.60
expect 0 "start" 'lv1: running on' -- "$lodge" start lv1
[ "$(running_on lv1)" = "$node" ] ||
  expect 0 "migrate it to $node" "lv1: running on $node" -- "$lodge" migrate lv1 --to "$node"
qemu_before=$(qemu_pid lv1)
check "lv1 runs on $node" '[ "$(running_on lv1)" = "$node" ] && [ -n "$qemu_before" ]'

# Three grace periods (3 s each by default) and then some.
not_up=0 samples=0
while [ "$samples" -lt 24 ]; do
  samples=$((samples + 1))
  [ "$(node_state)" = up ] || not_up=$((not_up + 1))
  sleep 0.5
done
check "$node stays up with its clock 60 s off ($not_up of $samples samples not up)" '[ "$not_up" -eq 0 ]'
check "lodged never judged it late, down or fenced" \
  'output_lacks "$node(: its agent is late| is down|: fenc| fenced)" tail -n +"$((lines_before + 1))" "$log"'
check "lv1 was not failed over: the same QEMU on $node" \
  '[ "$(running_on lv1)" = "$node" ] && [ "$(qemu_pid lv1)" = "$qemu_before" ]'
expect 0 "stop lv1" 'stopped' -- "$lodge" stop lv1
[ "$fail" -eq 0 ] || tail -n 20 "$LODGE_CLUSTER_DIR/nodes/$node/log/agent.log" | show 20

expect 0 "$node's agent restarted with the true clock" 'up in' -- restart_agent ""
restart_failure
check "$node is up again" 'wait_for 20 eval "[ \"\$(node_state)\" = up ]"'
finish
