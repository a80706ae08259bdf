#!/bin/bash
# Boots the minimal kernel with the busybox template under QEMU (TCG) from a
# local disk image, with a per-VE config in fw_cfg, and checks that
# lodge-init applied it: the ready line; hostname, root hash and
# authorized keys on the disk; sysctls, the IP address and the default
# route as the guest itself saw them. Then boots again with a corrupt
# config: the guest still comes up and says what was wrong.
#
# The disk is built with mke2fs -d and read back with debugfs: nothing is
# mounted on the host. The NIC is QEMU user networking with restrict=on:
# no packet leaves the guest.
set -u
src=${LODGE_SOURCE_DIR:?}
build=${LODGE_BUILD_DIR:?}
lodge=${LODGE_BIN:?}
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
init=$build/images/guestinit/lodge-init
qemu=$(command -v qemu-system-x86_64 || true)

skip() { echo "SKIP: $*"; exit 77; }
[ -n "$qemu" ] || skip "qemu-system-x86_64 is missing (Debian package qemu-system-x86)"
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh builds it)"
command -v mke2fs >/dev/null && command -v debugfs >/dev/null || skip "e2fsprogs is missing"
[ -x /bin/busybox ] || skip "busybox-static is missing"

tmp=$(mktemp -d)
qemu_pid=
cleanup() { [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; [ -n "${LODGE_KEEP_LOGS:-}" ] && cp "$tmp"/console*.log "$LODGE_KEEP_LOGS"/ 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
contains() { # contains DESCRIPTION HAYSTACK NEEDLE: NEEDLE is a substring of HAYSTACK
  if grep -qF -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1: '$3' not in:"; sed 's/^/#   /' <<<"$2" | head -20; fi
}

"$src/images/templates/busybox/build.sh" "$init" "$tmp/tree" 2>/dev/null || { echo "not ok - template build"; exit 1; }

hash='$6$lodgeexample$r8SYv0frjEDIPK9gDsOSvAXgC7FSGq51hLhlOzw/JbkoNILeLSJeZGsq1Zkcf/Ut9HPLELLo62qhqjBEvf.Ue1'
key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJLqehCZSSWGplt9dcMSuS0RqVoNDdilY3KLMZKIRJLc admin@example.org'
cat >"$tmp/ve.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<environment>
  <name>boottest</name>
  <template name="busybox"/>
  <resources>
    <vcpus>1</vcpus>
    <memory unit="MiB">256</memory>
    <disk unit="MiB">64</disk>
  </resources>
  <root>
    <password hash="$hash"/>
    <authorizedKey>$key</authorizedKey>
  </root>
  <os>
    <hostname>boot-test.example.org</hostname>
    <dns>
      <server address="192.0.2.53"/>
    </dns>
    <sysctl name="vm.swappiness" value="13"/>
    <sysctl name="net.ipv4.ip_forward" value="1"/>
  </os>
  <network>
    <interface name="eth0">
      <mac address="52:54:00:aa:bb:cc"/>
      <ip address="192.0.2.77" prefix="24"/>
      <gateway address="192.0.2.1"/>
    </interface>
  </network>
  <applications>
    <application name="probe" autostart="yes">
      <source template="none"/>
      <launch>sh -c '{ hostname; cat /proc/sys/vm/swappiness /proc/sys/net/ipv4/ip_forward; ip -o -4 addr show dev eth0; ip route; } &gt; /root/probe 2&gt;&amp;1; sync; poweroff'</launch>
    </application>
  </applications>
</environment>
EOF
"$lodge" guest-config "$tmp/ve.xml" >"$tmp/config" || { echo "not ok - guest-config"; exit 1; }
chmod 600 "$tmp/config"

# boot IMAGE CONFIG LOG: starts QEMU in the background.
boot() {
  "$qemu" -machine q35,accel=tcg -m 256 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$kernel" -append "console=ttyS0 root=/dev/vda rw init=/sbin/lodge-init panic=-1" \
    -drive "file=$1,if=virtio,format=raw" -fw_cfg "name=opt/lodge/config,file=$2" \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc \
    </dev/null >"$3" 2>&1 &
  qemu_pid=$!
}

# wait_for LOG PATTERN SECONDS: until PATTERN is in LOG or QEMU is gone.
wait_for() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    grep -qE -- "$2" "$1" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || { grep -qE -- "$2" "$1"; return; }
    sleep 0.2 # polling the console log with a deadline
  done
  return 1
}

# 1. A good config.
mke2fs -q -t ext4 -L lodge-root -d "$tmp/tree" "$tmp/root.img" 64M
start=$SECONDS
boot "$tmp/root.img" "$tmp/config" "$tmp/console.log"
if wait_for "$tmp/console.log" 'lodge-ready' 120; then
  ok "ready line after $((SECONDS - start)) s"
else
  not_ok "no ready line within 120 s"; tail -30 "$tmp/console.log" | sed 's/^/#   /'
fi
contains "ready line names the VE" "$(cat "$tmp/console.log")" \
  "lodge-ready name=boottest"
grep -q 'config=ok failures=0' "$tmp/console.log" && ok "config=ok failures=0" \
  || { not_ok "config not applied cleanly"; grep -E 'lodge' "$tmp/console.log" | sed 's/^/#   /'; }
# The probe application powers the guest off when it has written its file.
deadline=$((SECONDS + 60))
while kill -0 "$qemu_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if kill -0 "$qemu_pid" 2>/dev/null; then not_ok "guest did not power off"; kill "$qemu_pid"; fi
wait "$qemu_pid" 2>/dev/null; qemu_pid=

readback() { debugfs -R "cat $1" "$tmp/root.img" 2>/dev/null; }
contains "hostname on disk" "$(readback /etc/hostname)" "boot-test.example.org"
contains "root hash in /etc/shadow" "$(readback /etc/shadow)" "root:$hash:"
contains "authorized key" "$(readback /root/.ssh/authorized_keys)" "$key"
contains "resolv.conf" "$(readback /etc/resolv.conf)" "nameserver 192.0.2.53"
probe=$(readback /root/probe)
contains "hostname inside the guest" "$probe" "boot-test.example.org"
contains "sysctl vm.swappiness" "$(sed -n 2p <<<"$probe")" "13"
contains "sysctl net.ipv4.ip_forward" "$(sed -n 3p <<<"$probe")" "1"
contains "IPv4 address on eth0" "$probe" "inet 192.0.2.77/24"
contains "default route" "$probe" "default via 192.0.2.1 dev eth0"

# 2. A corrupt config: the guest boots with template defaults and says why.
head -c 60 "$tmp/config" >"$tmp/corrupt"
mke2fs -q -t ext4 -L lodge-root -d "$tmp/tree" "$tmp/root2.img" 64M
boot "$tmp/root2.img" "$tmp/corrupt" "$tmp/console2.log"
if wait_for "$tmp/console2.log" 'lodge-ready' 120; then ok "corrupt config: still boots"; else
  not_ok "corrupt config: no ready line"; tail -30 "$tmp/console2.log" | sed 's/^/#   /'; fi
contains "corrupt config: reported" "$(cat "$tmp/console2.log")" "lodge: config: cut short"
contains "corrupt config: ready with config=error" "$(cat "$tmp/console2.log")" "config=error"
kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; qemu_pid=
contains "corrupt config: template hostname kept" "$(debugfs -R 'cat /etc/hostname' "$tmp/root2.img" 2>/dev/null)" "busybox"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
