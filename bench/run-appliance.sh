#!/bin/bash
# bench/run-appliance.sh BUILD_DIR [RUNS]: the libguestfs appliance launch
# and a repair's first command (mount, ls /, cat /etc/passwd), with Lodge's
# appliance (BUILD_DIR's images/appliance: the appliance kernel, Lodge's
# /init) against libguestfs's own (Debian's kernel and /init) on the same
# ext4 disk (the busybox template), alternated, RUNS of each (default 5);
# medians. Both appliances are built (supermin) before the timed runs. No
# cluster: the disk is a local file, as an RBD image is to QEMU.
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-appliance.sh BUILD_DIR [RUNS]}")
runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
appliance=$build/images/appliance/appliance
bench=$build/bench/bench-appliance
say() { printf 'bench: %s\n' "$*" >&2; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
[[ -x $bench ]] || { say "no $bench (build Lodge first)"; exit 1; }
[[ -s $appliance/vmlinuz ]] || { say "no appliance kernel in $appliance (images/kernel/build.sh)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export LIBGUESTFS_BACKEND=direct LIBGUESTFS_CACHEDIR=$work/cache
mkdir -p "$LIBGUESTFS_CACHEDIR"
say "the disk: the busybox template as ext4"
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/tree" >/dev/null 2>&1
truncate -s 256M "$work/disk.img"
mkfs.ext4 -q -F -d "$work/tree" "$work/disk.img"

say "building both appliances (supermin), untimed"
"$bench" "$appliance" "$work/disk.img" >/dev/null
"$bench" none "$work/disk.img" >/dev/null

declare -a l_launch=() l_first=() s_launch=() s_first=()
for r in $(seq "$runs"); do
  read -r a b accel < <("$bench" "$appliance" "$work/disk.img")
  l_launch+=("$a") l_first+=("$b")
  read -r a b accel < <("$bench" none "$work/disk.img")
  s_launch+=("$a") s_first+=("$b")
  say "run $r: Lodge's ${l_launch[-1]} + ${l_first[-1]} ms, libguestfs's ${s_launch[-1]} + ${s_first[-1]} ms"
done
m() { printf '%s\n' "$@" | median; }
ll=$(m "${l_launch[@]}") lf=$(m "${l_first[@]}") sl=$(m "${s_launch[@]}") sf=$(m "${s_first[@]}")
lt=$(for i in "${!l_launch[@]}"; do echo $((l_launch[i] + l_first[i])); done | median)
st=$(for i in "${!s_launch[@]}"; do echo $((s_launch[i] + s_first[i])); done | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<EOF2

Appliance launch and first command, $runs runs each, alternated, medians (ms); accelerator: $accel.

| appliance | launch | first command | total | ratio |
| --- | ---: | ---: | ---: | ---: |
| libguestfs's own (baseline: Debian's kernel, its /init with udev and scans) | $sl | $sf | $st | 1.00 |
| Lodge's (appliance kernel, Lodge's /init) | $ll | $lf | $lt | $(ratio "$lt" "$st") |
EOF2
