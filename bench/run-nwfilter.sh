#!/bin/bash
# bench/run-nwfilter.sh BUILD_DIR [RUNS]: what a VE's network filter costs
# libvirt at each start and stop (bench/bench-nwfilter.c), against
# libvirt's stock clean-traffic in the same run. A libvirtd of its own runs
# in new mount and network namespaces: a bridge and a tap device there,
# /etc/libvirt a copy (defining filters writes it), /run and libvirt's
# state, cache and log directories empty (its pid file is /run/libvirtd.pid:
# another libvirtd on the machine is not disturbed). libvirtd is this
# shell's child, stopped and waited for at the end. Nothing of the machine's is changed; all of it
# goes when the script ends. Needs root, libvirtd and ebtables (iptables).
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-nwfilter.sh BUILD_DIR [RUNS]}")
runs=${2:-15}
bench=$build/bench/bench-nwfilter
[ -x "$bench" ] || { echo "run-nwfilter: no $bench (build the bench target first)" >&2; exit 1; }
command -v libvirtd >/dev/null || { echo "run-nwfilter: libvirtd is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inside the namespaces: everything below runs there, and the mounts and
# the network vanish with them.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --net --propagation private bash -euo pipefail -c '
  work=$1 bench=$2 runs=$3
  cp -a /etc/libvirt "$work/etc"
  mount --bind "$work/etc" /etc/libvirt
  for d in /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$d"; mount -t tmpfs tmpfs "$d"
  done
  ip link set lo up
  ip link add br-bench type bridge
  ip tuntap add tap-bench mode tap
  ip link set tap-bench master br-bench
  ip link set br-bench up; ip link set tap-bench up
  libvirtd >"$work/libvirtd.log" 2>&1 &
  lv=$!
  stop() { kill "$lv" 2>/dev/null && wait "$lv" 2>/dev/null || true; }
  trap stop EXIT
  for _ in $(seq 100); do
    [ -S /run/libvirt/libvirt-sock ] && virsh -q -c qemu:///system nwfilter-list >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$bench" qemu:///system tap-bench "$runs"
' run-nwfilter "$work" "$bench" "$runs"
