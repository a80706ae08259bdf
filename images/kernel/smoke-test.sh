#!/bin/bash
# Boots the Lodge guest kernel under QEMU (q35, TCG) on a tiny busybox ext4
# root and checks that init runs and sees the fw_cfg config blob.
# Exit status: 0 pass, 1 fail, 77 skipped (the reason is printed).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images=$(dirname "$here")
# shellcheck source=lib.sh
source "$here/lib.sh"

kernel=
timeout=180
keep=0

usage() {
    cat <<EOF
Usage: $0 [--kernel FILE] [--timeout SECONDS] [--keep]

Builds (or reuses) the Lodge guest kernel with build.sh, makes a 64 MiB
ext4 root image with busybox (mke2fs -d, nothing mounted on the host), boots
it with qemu-system-x86_64 -machine q35 -accel tcg and waits on the serial
console for the ready line and the fw_cfg config (opt/lodge/config = hello).

  --kernel FILE      boot FILE instead of building images/out/vmlinuz-lodge
  --timeout SECONDS  give up waiting after SECONDS (default $timeout)
  --keep             keep the work directory (root image, console log)

Exit status: 0 pass, 1 fail, 77 skipped.
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --kernel) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; kernel=$2; shift ;;
    --timeout) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
        timeout=$2; shift ;;
    --keep) keep=1 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf 'smoke-test: %s\n' "$*" >&2; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*"; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
command -v mke2fs >/dev/null || skip "mke2fs is not installed (apt-get install e2fsprogs)"
lodge_have_static_busybox || skip "$lodge_busybox from busybox-static is missing (apt-get install busybox-static)"

if [[ -z $kernel ]]; then
    "$here/build.sh" || fail "images/kernel/build.sh failed"
    kernel=$images/out/vmlinuz-lodge
fi
[[ -r $kernel ]] || fail "no kernel at $kernel"

work=$(mktemp -d "${TMPDIR:-/tmp}/lodge-smoke.XXXXXX")
log=$work/console.log
cleanup() {
    lodge_qemu_stop
    if [[ $keep == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say "building the root image"
lodge_build_rootfs "$work/root.img" || fail "mke2fs -d failed"

say "booting $kernel (TCG, timeout ${timeout}s)"
lodge_qemu_start "$log" "$kernel" "$work/root.img" 256 \
    'console=ttyS0 root=/dev/vda rw panic=-1' \
    -fw_cfg name=opt/lodge/config,string=hello \
    -device virtio-balloon-pci,free-page-reporting=on
deadline=$((LODGE_QEMU_START_US + timeout * 1000000))

show_log() {
    say "last console lines ($log):"
    tail -n 25 "$log" | sed 's/^/  | /' >&2
}

rc=0
lodge_wait_line "^$LODGE_READY_LINE\$" "$deadline" || rc=$?
case $rc in
0) say "ready after $(((LODGE_LINE_US - LODGE_QEMU_START_US) / 1000)) ms" ;;
1) show_log; fail "QEMU exited before the ready line" ;;
*) show_log; fail "no ready line within ${timeout}s" ;;
esac

rc=0
lodge_wait_line "^$LODGE_FWCFG_PREFIX|^lodge-fw-cfg-missing" "$deadline" || rc=$?
[[ $rc == 0 ]] || { show_log; fail "no fw_cfg line after the ready line"; }
[[ $LODGE_LINE == "$LODGE_FWCFG_PREFIX hello" ]] ||
    { show_log; fail "fw_cfg opt/lodge/config: expected 'hello', console says: $LODGE_LINE"; }
say "fw_cfg opt/lodge/config reads 'hello'"

lodge_qemu_wait_exit 60 || { show_log; fail "the guest did not power off"; }
for want in 'virtio_blk virtio[0-9]+: \[vda\]' 'EXT4-fs \(vda\): mounted filesystem' \
    'Free page reporting enabled' 'reboot: Power down'; do
    grep -Eq "$want" "$log" || { show_log; fail "the console lacks /$want/"; }
done
say "PASS: booted, read fw_cfg, powered off"
