#!/bin/bash
# A VE end to end on the local cluster's nodes: agents register the nodes,
# lodged places the web example, clones its disk from the busybox template
# on RBD, boots the minimal kernel under libvirt/QEMU (TCG), and the
# guest's web server answers on the VE bridge; stop, start again, undefine
# with its storage (no RBD image left). Runs in the cluster's namespace
# (tools/lodge-cluster exec), on a cluster with nodes.
set -u
build=${LODGE_BUILD_DIR:?}
src=${LODGE_SOURCE_DIR:?}
lodge=$build/tools/lodge
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
skip() { echo "SKIP: $*"; exit 77; }
[ -n "${CEPH_CONF:-}" ] || skip "no cluster (run through tools/lodge-cluster exec)"
# shellcheck disable=SC1091
[ -z "${LODGE_NODES:-}" ] && [ -f "${LODGE_CLUSTER_DIR:-}/env" ] && . "$LODGE_CLUSTER_DIR/env"
[ -n "${LODGE_NODES:-}" ] || skip "the cluster has no nodes (tools/lodge-cluster up --nodes N)"
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"
command -v curl >/dev/null || skip "curl is missing"

tmp=$(mktemp -d)
pids=()
cleanup() {
  "$lodge" stop --force vetest >/dev/null 2>&1
  "$lodge" undefine --remove-storage vetest >/dev/null 2>&1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
expect() { # expect CODE DESCRIPTION PATTERN -- CMD...
  local code=$1 what=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ]; then not_ok "$what: exit $rc, expected $code"; echo "$out" | tail -8 | sed 's/^/#   /'; return 1; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then not_ok "$what: no /$pattern/ in output"; echo "$out" | tail -8 | sed 's/^/#   /'; return 1; fi
  ok "$what"
}
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $deadline ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

# Control center and one agent per node, for this test.
export LODGE_URL=unix:$tmp/lodged.sock
"$build/controller/lodged" --lease 3 --socket "$tmp/lodged.sock" --state-dir "$tmp/ve" \
  --ready-timeout 180 --stop-timeout 20 >"$tmp/lodged.log" 2>&1 &
pids+=($!)
for node in $LODGE_NODES; do
  # shellcheck disable=SC1090
  . "$LODGE_CLUSTER_DIR/nodes/$node/node.env"
  "$build/nodeagent/lodge-agent" --name "$NODE_NAME" --libvirt "$LIBVIRT_URI" --address "$NODE_ADDR" \
    --memory 2048 --memory-ratio 2 --kernel "$kernel" >"$tmp/agent-$node.log" 2>&1 &
  pids+=($!)
done
n_nodes=$(wc -w <<<"$LODGE_NODES")
if wait_for 30 bash -c "[ \$('$lodge' node list -o json | grep -o '\"state\":\"up\"' | wc -l) -ge $n_nodes ]"; then
  ok "$n_nodes nodes registered and up"
else
  not_ok "nodes did not come up"; tail -5 "$tmp"/agent-*.log "$tmp/lodged.log" | sed 's/^/#   /'; exit 1
fi
expect 0 "node list shows the accelerator each node proved" 'node1 +up +(tcg|kvm)' -- "$lodge" node list

"$src/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$tmp/bb" 2>/dev/null
"$lodge" template show busybox >/dev/null 2>&1 || "$lodge" template import busybox "$tmp/bb" >/dev/null 2>&1
sed -e 's/<name>web1</<name>vetest</' -e 's/192\.0\.2\.10/10.77.0.10/; s/192\.0\.2\.1"/10.77.0.1"/' \
  "$src/examples/web.xml" >"$tmp/vetest.xml"
expect 0 "define" 'defined' -- "$lodge" define "$tmp/vetest.xml"

start=$SECONDS
if expect 0 "start: placed, disk cloned, guest ready" 'vetest: running on node[0-9]' -- "$lodge" start vetest; then
  echo "# start to ready: $((SECONDS - start)) s"
else
  tail -20 "$tmp/lodged.log" | sed 's/^/#   /'; cat "$tmp"/ve/vetest/console.log 2>/dev/null | tail -20 | sed 's/^/#   /'
fi
expect 0 "status: running" 'phase +running' -- "$lodge" status vetest
expect 0 "start again: nothing to do" 'running' -- "$lodge" start vetest
if wait_for 60 curl -sf --max-time 2 http://10.77.0.10/; then
  ok "the VE's web server answers on its address"
else
  not_ok "no answer from http://10.77.0.10/"; tail -20 "$tmp"/ve/vetest/console.log | sed 's/^/#   /'
fi
expect 0 "the page is the template's" 'This VE runs the busybox template' -- curl -sf --max-time 5 http://10.77.0.10/
expect 4 "undefine refused while it runs" 'stop it first' -- "$lodge" undefine vetest

expect 0 "stop" 'vetest: stopped' -- "$lodge" stop vetest
expect 0 "start again (any node)" 'vetest: running on node' -- "$lodge" start vetest
expect 0 "stop --force" 'vetest: stopped' -- "$lodge" stop --force vetest
image_gone() { ! rbd --id "${LODGE_CEPH_USER:-lodge}" ls lodge-r3 2>/dev/null | grep -qx ve-vetest; }
expect 0 "undefine with its storage" 'disk removed' -- "$lodge" undefine --remove-storage vetest
image_gone && ok "no RBD image left behind" || not_ok "ve-vetest is still in lodge-r3"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
