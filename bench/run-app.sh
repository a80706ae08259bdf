#!/bin/bash
# bench/run-app.sh BUILD_DIR: applications and the guest agent on a local
# cluster of its own (1 node, memstore, its own directory and namespace),
# torn down at the end.
#
# - First start of a VE whose applications must be laid into its disk
#   (static-web and echo: one appliance) against the first start of the
#   same VE with busybox-httpd (nothing to copy: no appliance); then a
#   second start of each (the disk's metadata says all is there).
# - `lodge exec VE -- true`, end to end (CLI, API, lodged, libvirt, the
#   agent), against the baseline a virsh user has: `virsh
#   qemu-agent-command` guest-exec, then guest-exec-status until it has
#   exited, on the same VE in the same script; and a bare guest-ping
#   through virsh (one agent round trip, process start included).
# - `lodge app list` (status file and health check per application) and
#   `lodge app configure` live (agent) and offline (appliance).
# BENCH_RUNS (default 3) starts of each kind, BENCH_CALLS (default 20) of
# each quick call; medians, in ms.
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-app.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3} calls=${BENCH_CALLS:-20}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-app-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench-app}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
work=$(mktemp -d)
trap '"$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
inns() { "$cluster" exec "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ms() { date +%s%3N; }
timed() { local t0; t0=$(now_ms); "$@" >/dev/null; echo $(($(now_ms) - t0)); }

say "bringing up a 1-node cluster in $LODGE_CLUSTER_DIR"
"$cluster" up --memstore --nodes 1 --node-memory 2048 >/dev/null
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/bb" 2>/dev/null
say "importing busybox and the application templates"
inns "$lodge" template import busybox "$work/bb" >/dev/null 2>&1
for a in busybox-httpd static-web echo; do
  inns "$lodge" template import --kind application "$a" "$top/images/apps/$a" >/dev/null 2>&1
done
# shellcheck disable=SC1091
uri=$(. "$LODGE_CLUSTER_DIR/nodes/node1/node.env" && echo "$OPS_LIBVIRT_URI")
hash='$6$lodgeexample$r8SYv0frjEDIPK9gDsOSvAXgC7FSGq51hLhlOzw/JbkoNILeLSJeZGsq1Zkcf/Ut9HPLELLo62qhqjBEvf.Ue1'

ve_xml() { # NAME IP APPS
  cat >"$work/$1.xml" <<X
<environment><name>$1</name><template name="busybox"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">256</memory><currentMemory unit="MiB">96</currentMemory><disk unit="GiB">1</disk></resources>
  <root><password hash="$hash"/></root>
  <network><interface name="eth0"><ip address="$2" prefix="24"/><gateway address="10.77.0.1"/></interface></network>
  <applications>$3</applications>
</environment>
X
}
ve_xml plain 10.77.0.81 '<application name="web" autostart="yes"><source template="busybox-httpd"/></application>'
ve_xml apps 10.77.0.82 '<application name="site" autostart="yes"><source template="static-web"/></application><application name="echo" autostart="yes"><source template="echo"/></application>'

declare -A first second
for ve in plain apps; do
  f=() s=()
  for r in $(seq "$runs"); do
    say "$ve: first and second start, run $r"
    inns "$lodge" undefine --remove-storage "$ve" >/dev/null 2>&1 || true
    inns "$lodge" define "$work/$ve.xml" >/dev/null
    f+=("$(timed inns "$lodge" start "$ve")")
    inns "$lodge" stop "$ve" >/dev/null
    s+=("$(timed inns "$lodge" start "$ve")")
    [ "$r" -lt "$runs" ] && inns "$lodge" stop "$ve" >/dev/null
  done
  first[$ve]=$(printf '%s\n' "${f[@]}" | median)
  second[$ve]=$(printf '%s\n' "${s[@]}" | median)
done

say "exec: $calls calls each way"
inns "$lodge" exec apps -- true >/dev/null # the agent is up
# The baseline: what `virsh` offers for running a command in a guest.
cat >"$work/virsh-exec.sh" <<'X'
uri=$1 dom=$2
pid=$(virsh -c "$uri" qemu-agent-command "$dom" '{"execute":"guest-exec","arguments":{"path":"true","capture-output":true}}' |
  sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
until virsh -c "$uri" qemu-agent-command "$dom" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}" | grep -q '"exited":true'; do :; done
X
le=() ve=() ping=() list=()
for i in $(seq "$calls"); do
  le+=("$(timed inns "$lodge" exec apps -- true)")
  ve+=("$(timed inns bash "$work/virsh-exec.sh" "$uri" apps)")
  ping+=("$(timed inns virsh -c "$uri" qemu-agent-command apps '{"execute":"guest-ping"}')")
done
for i in $(seq 10); do list+=("$(timed inns "$lodge" app list apps)"); done
live=()
for i in $(seq 5); do
  live+=("$(timed inns "$lodge" app configure -q apps site "greeting=Live $i")")
done
say "offline configuration: $runs runs"
inns "$lodge" stop apps >/dev/null
off=()
for r in $(seq "$runs"); do
  off+=("$(timed inns "$lodge" app configure -q apps site "greeting=Offline $r")")
  inns "$lodge" repair apps close >/dev/null 2>&1 || true # the next run pays its launch again
done

m_le=$(printf '%s\n' "${le[@]}" | median)
m_ve=$(printf '%s\n' "${ve[@]}" | median)
m_ping=$(printf '%s\n' "${ping[@]}" | median)
cat <<X

| | ms (median) |
| --- | ---: |
| first start, busybox-httpd (nothing laid in) | ${first[plain]} |
| first start, static-web + echo laid in (one appliance) | ${first[apps]} |
| second start, busybox-httpd | ${second[plain]} |
| second start, static-web + echo (already on the disk) | ${second[apps]} |
| \`lodge exec apps -- true\` | $m_le |
| baseline: \`virsh qemu-agent-command\` guest-exec + guest-exec-status | $m_ve |
| baseline: one \`virsh qemu-agent-command\` guest-ping | $m_ping |
| \`lodge app list apps\` (2 applications, state + health) | $(printf '%s\n' "${list[@]}" | median) |
| \`lodge app configure\` live (write through the agent, restart) | $(printf '%s\n' "${live[@]}" | median) |
| \`lodge app configure\` offline (snapshot, appliance, write) | $(printf '%s\n' "${off[@]}" | median) |

lodge exec / virsh guest-exec loop: $(awk -v a="$m_le" -v b="$m_ve" 'BEGIN { printf "%.2f", a / b }')
X
