#!/bin/bash
# Ceph identities by role, least privilege (docs/security.md): run Ceph's
# own CLIs as a node's identity and as the controller's, and expect what
# each may not do to be refused (EPERM/EACCES), and what it needs to be
# allowed. That the product works with these caps is the rest of the
# suite: agents write their reports, QEMUs open their disks, the
# controller clones, fences (blocklist) and moves VEs.
# check's conditions are single-quoted strings that check evaluates: their
# expansions are not seen by shellcheck.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
{ command -v rados && command -v rbd; } >/dev/null || skip "rados and rbd (ceph-common) are missing"
node=$(awk '{ print $1 }' <<<"$LODGE_NODES")
other=$(awk '{ print $2 }' <<<"$LODGE_NODES")
[ -n "$other" ] || skip "this test needs two nodes"
n_id=lodge-$node
echo probe >"$tmp/probe"
refused() { # CMD...: fails, and says why: a permission (not a missing object)
  local out
  if out=$("$@" 2>&1); then
    echo "# allowed: $*"
    return 1
  fi
  grep -Eq 'Operation not permitted|Permission denied|EACCES|EPERM|access denied|\(1\)|\(13\)' <<<"$out" || {
    show <<<"$out"
    return 1
  }
}
as_node() { local tool=$1; shift; "$tool" --id "$n_id" "$@"; }
as_ctl() { local tool=$1; shift; "$tool" --id lodge "$@"; }

check "$node's key is its own identity, client.$n_id" '[ -s "$LODGE_CLUSTER_DIR/ceph.client.$n_id.keyring" ]'
# What a node needs.
check "$node reads its own report" 'as_node rados -p lodge-state -N node stat "$node" >/dev/null'
# (there may be no decision about it yet: not found is allowed, a refusal is not)
decision=$(as_node rados -p lodge-state -N node-decision stat "$node" 2>&1)
check "$node reads the decision about it ($decision)" '! grep -Eq "not permitted|denied" <<<"$decision"'
check "$node lists the VE disk pools (profile rbd)" 'as_node rbd ls lodge-r3 >/dev/null'
check "$node lists the templates (read-only)" 'as_node rbd ls lodge-templates >/dev/null'
# What it may not do.
check "$node may not write another node's report ($other)" \
  'refused as_node rados -p lodge-state -N node put "$other" "$tmp/probe"'
check "$node may not read another node's report" 'refused as_node rados -p lodge-state -N node get "$other" "$tmp/out"'
check "$node may not write the decision about itself" \
  'refused as_node rados -p lodge-state -N node-decision put "$node" "$tmp/probe"'
for ns in env runtime operation template lease; do
  check "$node may not write the state store's $ns records" \
    'refused as_node rados -p lodge-state -N "$ns" put probe "$tmp/probe"'
done
check "$node may not read environment definitions" 'refused as_node rados -p lodge-state -N env ls'
check "$node may not answer another node's RPC" \
  'refused as_node rados -p lodge-state -N rpc put "rpc.$other" "$tmp/probe"'
check "$node may not write a template" 'refused as_node rados -p lodge-templates put probe "$tmp/probe"'
check "$node may not make a template image" 'refused as_node rbd create --size 1M lodge-templates/probe'
check "$node may not blocklist (fence) anyone" 'refused as_node ceph osd blocklist add 10.78.0.250:0/1 60'
check "$node may not create a pool" 'refused as_node ceph osd pool create probe 8'
check "$node may not read the keys" 'refused as_node ceph auth ls'

# The controller's: the store, RBD in Lodge's pools, blocklisting; not
# pools, not keys, not other pools.
check "the controller reads the state store" 'as_ctl rados -p lodge-state -N node ls >/dev/null'
check "the controller may blocklist (and unblocklist) a client" \
  'as_ctl ceph osd blocklist add 10.78.0.250:0/7 60 >/dev/null 2>&1 && as_ctl ceph osd blocklist rm 10.78.0.250:0/7 >/dev/null 2>&1'
check "the controller may not create a pool" 'refused as_ctl ceph osd pool create probe 8'
check "the controller may not read the keys" 'refused as_ctl ceph auth ls'
check "the controller may not change a pool" 'refused as_ctl ceph osd pool set lodge-r3 size 1'

# Making node identities (a join): a client.lodge-NAME with exactly a
# node's caps, and nothing more: not another name, not another cap of any
# type, not a type left out, not an existing key's read.
mapfile -t probe < <("$LODGE_BUILD_DIR/controller/lodged" --print-caps node:cxprobe)
caps_with() { # TYPE CAPS: the probe's caps with TYPE's replaced
  local i out=()
  for ((i = 0; i < ${#probe[@]}; i += 2)); do
    out+=("${probe[i]}" "$([ "${probe[i]}" = "$1" ] && echo "$2" || echo "${probe[i + 1]}")")
  done
  printf '%s\n' "${out[@]}"
}
check "the controller makes a node's identity, with a node's caps" \
  'as_ctl ceph auth get-or-create client.lodge-cxprobe "${probe[@]}" | grep -q "key = "'
for t in mon osd mgr mds; do
  mapfile -t more < <(caps_with "$t" "allow *")
  check "the controller may not give a node identity $t 'allow *'" 'refused as_ctl ceph auth get-or-create client.lodge-cxprobe2 "${more[@]}"'
done
check "the controller may not leave a cap type out (mds: one it could not pin)" \
  'refused as_ctl ceph auth get-or-create client.lodge-cxprobe3 "${probe[@]:0:6}"'
check "the controller may not name an identity outside client.lodge-*" \
  'refused as_ctl ceph auth get-or-create client.cxprobe "${probe[@]}"'
check "the controller may not read another identity's key" 'refused as_ctl ceph auth get client.admin'
ceph auth del client.lodge-cxprobe >/dev/null 2>&1
finish
