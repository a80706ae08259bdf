#!/bin/bash
# Memory overcommit on the local cluster: every node offers LODGE_NODE_MEMORY
# MiB (tools/lodge-cluster up --node-memory) at a 2x ratio, so VEs whose
# guest memory sums to twice a node's memory run on every node at once; one
# more is refused with an error that names each node's shortfall, and
# nothing of it is left (no disk, no domain, its record stopped). A VE larger
# than any node is refused the same way. Runs in the cluster's namespace.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"

# The nodes' capacity, as their agents registered it.
nodes_json=$("$lodge" node list -o json)
read -r node_mib ratio < <(python3 -c '
import json, sys
nodes = [n for n in json.load(sys.stdin) if n["state"] == "up"]
mems = {n["memory"] >> 20 for n in nodes}
ratios = {n["memory_ratio"] for n in nodes}
assert len(mems) == 1 and len(ratios) == 1, "nodes differ"
print(mems.pop(), ratios.pop())' <<<"$nodes_json") || skip "the nodes offer different capacities"
n_nodes=$(wc -w <<<"$LODGE_NODES")
[ "$node_mib" -le 4096 ] || skip "nodes offer $node_mib MiB each; this test wants at most 4096 (up --node-memory)"
[ "$ratio" = 2 ] || [ "$ratio" = 2.0 ] || skip "the nodes' overcommit ratio is $ratio, not 2"
# Two VEs per node, each seeing the node's whole memory: 2x per node.
ve_mib=$node_mib
echo "# $n_nodes nodes of $node_mib MiB at ${ratio}x: $((2 * n_nodes)) VEs of $ve_mib MiB (64 MiB committed each)"
check "the busybox template is there" 'ensure_busybox'

names=()
for ((i = 1; i <= 2 * n_nodes; i++)); do
  name=oc$i
  names+=("$name")
  define_ve "$name" "10.77.0.$((100 + i))" "$ve_mib" 64 'exec httpd -f -p 80 -h /srv/www' >/dev/null
done
started=0
for name in "${names[@]}"; do
  "$lodge" start "$name" >"$tmp/$name.out" 2>&1 && started=$((started + 1)) || show <"$tmp/$name.out"
done
check "all $((2 * n_nodes)) VEs started ($started)" '[ "$started" -eq $((2 * n_nodes)) ]'
running=0
for name in "${names[@]}"; do
  [ "$(running_on "$name" | wc -l)" -eq 1 ] && running=$((running + 1))
done
check "all of them run at once, each on one node ($running)" '[ "$running" -eq $((2 * n_nodes)) ]'
per_node=$("$lodge" list -o json | python3 -c '
import collections, json, sys
c = collections.Counter(e["node"] for e in json.load(sys.stdin) if e["name"].startswith("oc") and e["phase"] == "running")
print(" ".join(str(v) for v in sorted(c.values())))')
two_each=$(printf '2 %.0s' $(seq "$n_nodes") | sed 's/ $//')
check "two on every node ($per_node)" '[ "$per_node" = "$two_each" ]'
for name in "${names[@]}"; do
  curl -sf --max-time 5 "http://10.77.0.$((100 + ${name#oc}))/" >/dev/null || { not_ok "$name does not answer"; break; }
done

define_ve ocmore 10.77.0.99 "$ve_mib" 64 >/dev/null
expect 4 "one more is refused: no node has room" "no node can run ocmore: node1 has [0-9.]+ [A-Za-z]+ of guest memory left under its 2.0x overcommit \(needs [0-9.]+ [MG]iB\)" -- "$lodge" start ocmore
expect 0 "the refusal names every node" "$(printf 'node%s.*' $(seq "$n_nodes"))" -- bash -c "'$lodge' start ocmore 2>&1; true"
expect 0 "the refused VE stays stopped" 'phase +stopped' -- "$lodge" status ocmore
check "no disk was made for it" 'output_lacks "^ve-ocmore$" rbd --id "${LODGE_CEPH_USER:-lodge}" ls lodge-r3'
check "no domain of it anywhere" '[ -z "$(running_on ocmore)" ]'

big=$((node_mib * 3))
define_ve ocbig 10.77.0.98 "$big" 64 >/dev/null
expect 4 "a VE larger than any node is refused" "no node can run ocbig: node1 has .* left .*\(needs [0-9.]+ [MG]iB\)" -- "$lodge" start ocbig
expect 0 "and stays stopped" 'phase +stopped' -- "$lodge" status ocbig

# Room again once one stops.
expect 0 "stop one" 'oc1: stopped' -- "$lodge" stop --force oc1
expect 0 "now the extra one fits" 'ocmore: running on node' -- "$lodge" start ocmore
finish
