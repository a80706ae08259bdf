#!/bin/bash
# A VE end to end on the local cluster's control plane (lodged and an agent
# per node, started by tools/lodge-cluster up): the busybox template is
# imported, a VE defined and started; it becomes ready with its own hostname
# and root credential, its web server answers on its address, its console
# is readable; what the guest wrote survives a stop and a start; a guest
# destroyed outside Lodge is started again, with the reason; lodged is
# restarted while the VE runs (the VE is adopted: same QEMU, nothing started
# twice), and killed in the middle of a start (its successor finishes it);
# undefine with the storage leaves no RBD image. Runs in the cluster's
# namespace (tools/lodge-cluster exec).
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"
cluster=$src/tools/lodge-cluster
log=$LODGE_CLUSTER_DIR/log/lodged.log
ip=10.77.0.10

n_nodes=$(wc -w <<<"$LODGE_NODES")
expect 0 "every node is registered and up" "^node1 +up +(tcg|kvm)" -- "$lodge" node list
up=$("$lodge" node list | grep -c ' up ')
check "all $n_nodes nodes up ($up)" '[ "$up" -eq "$n_nodes" ]'
# Every node on TCG says why (its agent proved KVM with QEMU, or not).
"$lodge" node list >"$tmp/nodes"
tcg_nodes=$(awk 'NR > 1 && $3 == "tcg" { print $1 }' "$tmp/nodes")
why_lines=$(grep -cE '^node[0-9]+: tcg because .+' "$tmp/nodes")
check "each of the $(wc -w <<<"$tcg_nodes") node(s) on TCG says why in node list" \
  '[ "$why_lines" -eq "$(wc -w <<<"$tcg_nodes")" ]'
grep -E '^node[0-9]+: tcg because' "$tmp/nodes" | head -n 1 | show 1
check "the busybox template is there" 'ensure_busybox'
expect 0 "define" 'environment vetest defined' -- define_ve vetest "$ip"

start=$SECONDS
if expect 0 "start: placed, disk cloned, guest ready" 'vetest: running on node[0-9]' -- "$lodge" start vetest; then
  echo "# start to ready: $((SECONDS - start)) s"
else
  tail -20 "$log" | show 20; "$lodge" console vetest | show 20
fi
expect 0 "status: running, with its address and uptime" 'phase +running' -- "$lodge" status vetest
expect 0 "status shows the address" "addresses +$ip/24" -- "$lodge" status vetest
expect 0 "console shows this boot's ready line" 'lodge-ready name=vetest .*config=ok failures=0' -- "$lodge" console vetest
expect 0 "console -n 1 gives one line" '^.+$' -- bash -c "[ \$('$lodge' console -n 1 vetest | wc -l) -le 1 ] && '$lodge' console -n 1 vetest"
expect 0 "start again: nothing to do" 'already running' -- "$lodge" start vetest
# The disk is opened with the cephx id of the node that runs it, the one
# whose key that node's agent put in its libvirt secret.
ve_node=$(running_on vetest)
# node_field NODE FIELD DEFAULT: a field of NODE's record (lodge node list).
node_field() {
  "$lodge" node list -o json | python3 -c '
import json, sys
print(next(n.get(sys.argv[2], sys.argv[3]) for n in json.load(sys.stdin) if n["name"] == sys.argv[1]))' "$@"
}
node_ceph_id=$(node_field "$ve_node" ceph_id "")
disk_user=$(. "$LODGE_CLUSTER_DIR/nodes/$ve_node/node.env" &&
  virsh -q -c "$OPS_LIBVIRT_URI" dumpxml vetest | sed -n "s/.*<auth username='\([^']*\)'.*/\1/p" | head -n 1)
check "the disk's cephx user ($disk_user) is the one $ve_node reports ($node_ceph_id)" \
  '[ -n "$node_ceph_id" ] && [ "$disk_user" = "$node_ceph_id" ]'
# The firmware: qboot, which the node reports it has (QEMU's data).
node_fw=$(node_field "$ve_node" firmware "")
loader=$(. "$LODGE_CLUSTER_DIR/nodes/$ve_node/node.env" &&
  virsh -q -c "$OPS_LIBVIRT_URI" dumpxml vetest | sed -n "s|.*<loader type='rom'>\([^<]*\)</loader>.*|\1|p")
check "the domain boots with the firmware $ve_node reports ($node_fw): $loader" \
  '[ "$node_fw" = /usr/share/qemu/qboot.rom ] && [ "$loader" = "$node_fw" ]'
# Its memory is not offered for merging with other VEs' (KSM): its node
# runs without --ksm.
node_ksm=$(node_field "$ve_node" ksm False)
check "the VE's memory is not shared with other VEs' ($ve_node's ksm: $node_ksm): <nosharepages/>, QEMU's mem-merge=off" \
  '[ "$node_ksm" = False ] && (. "$LODGE_CLUSTER_DIR/nodes/$ve_node/node.env" &&
     virsh -q -c "$OPS_LIBVIRT_URI" dumpxml vetest | grep -q "<nosharepages/>") &&
   tr "\0" " " <"/proc/$(qemu_pid vetest)/cmdline" | grep -q "mem-merge=off"'
# The config blob (the root password hash is in it) is on the node that
# runs the VE, written by its agent, and nowhere else: the domain names
# it, mode 0600; no other node and not the control center has one.
blob_path=$(. "$LODGE_CLUSTER_DIR/nodes/$ve_node/node.env" &&
  virsh -q -c "$OPS_LIBVIRT_URI" dumpxml vetest | sed -n "s/.*<entry name='opt\/lodge\/config' file='\([^']*\)'.*/\1/p")
check "the domain's config blob ($blob_path) is in $ve_node's /var/lib/lodge, mode 0600" \
  '[[ $blob_path == /var/lib/lodge/ve/* ]] && [ "$(on_host "$ve_node" stat -c %a "$blob_path")" = 600 ]'
others=""
for h in ctl1 $LODGE_NODES; do
  [ "$h" = "$ve_node" ] || ! on_host "$h" test -e "$blob_path" || others="$others $h"
done
check "no other host has it at that path (found on:${others:- none})" '[ -z "$others" ]'
blobs=$(find "$LODGE_CLUSTER_DIR" -path "*/vetest/config" -type f | wc -l)
check "no other copy of it anywhere in the cluster's directory ($blobs found)" '[ "$blobs" -eq 1 ]'

if wait_for 60 curl -sf --max-time 2 "http://$ip/hostname.txt"; then
  ok "the VE's web server answers on its address"
else
  not_ok "no answer from http://$ip/"; "$lodge" console vetest | show 20
fi
expect 0 "the guest's own hostname is the VE's name" '^vetest$' -- curl -sf --max-time 5 "http://$ip/hostname.txt"
expect 0 "the guest's root credential is the one defined" "^\\\$6\\\$lodgeexample\\\$r8SYv0" -- curl -sf --max-time 5 "http://$ip/root-hash.txt"
expect 0 "the page is the template's" 'This VE runs the busybox template' -- curl -sf --max-time 5 "http://$ip/"
boots=$(curl -sf --max-time 5 "http://$ip/boots.txt" | wc -l)
check "the guest wrote its first boot to its disk" '[ "$boots" -eq 1 ]'
expect 4 "undefine refused while it runs" 'stop it first' -- "$lodge" undefine vetest

# Restart lodged while the VE runs: adopted, not restarted.
qemu_before=$(qemu_pid vetest)
kill "$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")"
wait_for 20 bash -c "! kill -0 $(cat "$LODGE_CLUSTER_DIR/run/lodged.pid") 2>/dev/null"
expect 0 "lodge-cluster up starts lodged again" 'control plane ready' -- "$cluster" up
expect 0 "the new lodged adopts the running VE" 'adopted [1-9][0-9]* running' -- tail -n 5 "$log"
expect 0 "status after the restart: still running" 'phase +running' -- "$lodge" status vetest
check "the same QEMU runs the VE (pid $qemu_before)" '[ -n "$qemu_before" ] && [ "$(qemu_pid vetest)" = "$qemu_before" ]'
check "it runs on exactly one node" '[ "$(running_on vetest | wc -l)" -eq 1 ]'
expect 0 "the guest still answers" '^vetest$' -- curl -sf --max-time 5 "http://$ip/hostname.txt"

expect 0 "stop" 'vetest: stopped' -- "$lodge" stop vetest
check "no domain of it on any node" '[ -z "$(running_on vetest)" ]'
check "its config blob left $ve_node with it" '[ -n "$blob_path" ] && ! on_host "$ve_node" test -e "$blob_path"'
expect 0 "console after the stop still shows the last boot" 'lodge-ready name=vetest ' -- "$lodge" console vetest
expect 0 "start again (any node)" 'vetest: running on node' -- "$lodge" start vetest
wait_for 60 curl -sf --max-time 2 "http://$ip/boots.txt"
boots=$(curl -sf --max-time 5 "http://$ip/boots.txt" | wc -l)
check "what the guest wrote survived the stop (boots: $boots)" '[ "$boots" -eq 2 ]'

# A guest destroyed behind Lodge's back: recorded with libvirt's reason,
# and (restart policy always, the default) started again, on its node.
node=$(running_on vetest)
# shellcheck disable=SC1090
(. "$LODGE_CLUSTER_DIR/nodes/$node/node.env" && virsh -q -c "$OPS_LIBVIRT_URI" destroy vetest >/dev/null)
if wait_for 60 bash -c "'$lodge' status vetest | grep -q '^restarts *1\$' && '$lodge' status vetest | grep -q 'phase *running'"; then
  ok "a guest destroyed behind Lodge's back is started again (restart policy always)"
else
  not_ok "the record says: $("$lodge" status vetest | grep -E 'phase|restarts|last_error')"
fi
expect 0 "with libvirt's reason" 'stop_reason +destroyed' -- "$lodge" status vetest
check "on the node it ran on ($node)" '[ "$(running_on vetest)" = "$node" ]'
expect 0 "stop" 'vetest: stopped' -- "$lodge" stop vetest

# lodged killed in the middle of a start: the next one finishes it.
"$lodge" start vetest >"$tmp/start.out" 2>&1 &
start_pid=$!
wait_for 30 bash -c "'$lodge' status vetest | grep -q 'phase *starting'"
kill -9 "$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")"
wait "$start_pid"
rc=$?
check "the CLI says the control center went away (exit $rc, 5 expected)" '[ "$rc" -eq 5 ]'
"$cluster" up >/dev/null 2>&1
if wait_for 90 bash -c "'$lodge' status vetest | grep -q 'phase *running'"; then
  ok "the successor finished the start"
else
  not_ok "the start was not finished: $("$lodge" status vetest | grep -E 'phase|last_error')"; tail -n 8 "$log" | show
fi
check "it runs on exactly one node" '[ "$(running_on vetest | wc -l)" -eq 1 ]'
expect 0 "the log says so" 'vetest: finished the start' -- tail -n 20 "$log"

expect 0 "stop --force" 'vetest: stopped' -- "$lodge" stop --force vetest
expect 0 "undefine with its storage" 'undefined' -- "$lodge" undefine --remove-storage vetest
check "no RBD image left behind" 'output_lacks "^ve-vetest$" rbd --id "${LODGE_CEPH_USER:-lodge}" ls lodge-r3'
expect 3 "gone" "unknown environment 'vetest'" -- "$lodge" status vetest
finish
