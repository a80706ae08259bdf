#!/bin/bash
# Builds the debian-12 template tree: a minimal Debian bookworm with systemd
# and openssh-server, made with debootstrap from the Debian archive this
# machine's apt uses, plus Lodge's init shim. What a hosting customer gets.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: images/templates/debian-12/build.sh LODGE_INIT OUT_DIR [--tar FILE]

Runs debootstrap (variant minbase, with systemd, openssh-server, the QEMU
guest agent (lodge exec, lodge passwd, lodge app list), iproute2
and a few basics) into OUT_DIR (made anew), installs LODGE_INIT as
/sbin/lodge-init, and makes the tree fit to be cloned many times: no SSH
host keys (each VE makes its own at first boot), an empty machine-id, a
getty on the serial console only. With --tar, also packs it as FILE.

The mirror is the first Debian "main" URI of this machine's apt sources;
set DEBIAN_MIRROR to choose another. Needs root and debootstrap; takes a
few minutes and about 300 MB.
USAGE
}

[ "${1:-}" = --help ] || [ "${1:-}" = -h ] && { usage; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }
init=$1 out=$2 tar=
shift 2
if [ "${1:-}" = --tar ]; then tar=${2:?--tar needs a FILE}; fi
[ "$(id -u)" -eq 0 ] || { echo "build.sh: needs root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build.sh: apt-get install debootstrap" >&2; exit 1; }
[ -x "$init" ] || { echo "build.sh: $init: no lodge-init binary (build it first)" >&2; exit 1; }

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v -- '-security' | grep -m1 -oE 'https?://[^ ]*/debian/?' || true)
fi
[ -n "$mirror" ] || { echo "build.sh: no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
echo "build.sh: debootstrap bookworm from $mirror into $out" >&2
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,udev,dbus,openssh-server,qemu-guest-agent,iproute2,iputils-ping,procps,less,ca-certificates,netbase \
  bookworm "$out" "$mirror" >&2

install -m 0755 "$init" "$out/sbin/lodge-init"
# Per-VE identity comes at first boot, not from the template.
rm -f "$out"/etc/ssh/ssh_host_*
: > "$out/etc/machine-id"
rm -f "$out/var/lib/dbus/machine-id"
cat > "$out/etc/systemd/system/lodge-ssh-keys.service" <<'UNIT'
[Unit]
Description=Make this VE's own SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/lodge-ssh-keys.service \
  "$out/etc/systemd/system/multi-user.target.wants/lodge-ssh-keys.service"
# No VGA: the serial console is the console.
ln -sf /dev/null "$out/etc/systemd/system/getty@tty1.service"
mkdir -p "$out/etc/systemd/system/getty.target.wants"
ln -sf /lib/systemd/system/serial-getty@.service \
  "$out/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
# lodge-init configured the network from the VE's definition already.
echo debian > "$out/etc/hostname"
# debootstrap leaves device nodes in /dev; a template holds none (the
# guest mounts devtmpfs there, and `lodge template import` refuses them).
find "$out/dev" -mindepth 1 -delete
apt_clean() { rm -rf "$out"/var/cache/apt/archives/*.deb "$out"/var/lib/apt/lists/*; }
apt_clean
mkdir -p "$out/etc/lodge"
echo "debian-12 template, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $mirror" > "$out/etc/lodge/template"

if [ -n "$tar" ]; then
  tar --numeric-owner --xattrs -cf "$tar" -C "$out" .
fi
echo "build.sh: debian-12 template in $out ($(du -sh "$out" | cut -f1))" >&2
