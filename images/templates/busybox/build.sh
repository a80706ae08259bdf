#!/bin/bash
# Builds the busybox template tree: Debian's busybox-static, Lodge's init
# shim, a console login and a small web root. What tests boot and what
# `lodge template import busybox DIR` takes.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: images/templates/busybox/build.sh LODGE_INIT OUT_DIR [--tar FILE]

Writes the busybox template's file tree to OUT_DIR (made anew), with
LODGE_INIT (the static lodge-init binary, build/images/guestinit/lodge-init)
as /sbin/lodge-init. With --tar, also packs it as FILE (a tarball `lodge
template import` takes). Needs busybox-static (/bin/busybox) and fakeroot-free
root: files are owned by root.

The template has no /sbin/init: lodge-init stays PID 1, runs the VE's
autostart applications and a getty on the serial console.
USAGE
}

[ "${1:-}" = --help ] || [ "${1:-}" = -h ] && { usage; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }
init=$1 out=$2 tar=
shift 2
if [ "${1:-}" = --tar ]; then tar=${2:?--tar needs a FILE}; fi

busybox=/bin/busybox
"$busybox" --list >/dev/null 2>&1 \
  || { echo "build.sh: no $busybox (apt-get install busybox-static)" >&2; exit 1; }
[ -x "$init" ] || { echo "build.sh: $init: no lodge-init binary (build it first)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin etc root srv/www tmp var/log proc sys dev run \
  etc/lodge home
# lodge-init mounts a tmpfs on /run: runtime files (utmp, pids) never reach
# the disk, so they are not part of what `lodge repair diff` shows.
ln -s ../run var/run
chmod 1777 tmp
chmod 0700 root

install -m 0755 "$busybox" bin/busybox
install -m 0755 "$init" sbin/lodge-init
# One link per applet, except init: lodge-init is this template's PID 1.
"$busybox" --list-full | while read -r applet; do
  case "$applet" in
    sbin/init|linuxrc|bin/busybox) continue ;;
  esac
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

cat > etc/passwd <<'X'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/srv/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
X
cat > etc/group <<'X'
root:x:0:
daemon:x:1:
tty:x:5:
www-data:x:33:
nogroup:x:65534:
X
# No password until the VE's definition gives one (lodge-init writes it).
printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nwww-data:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > etc/shadow
chmod 0600 etc/shadow
echo busybox > etc/hostname
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' > etc/hosts
printf 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='"'"'\\h:\\w\\$ '"'"'\n' > etc/profile
echo '/bin/sh' > etc/shells
cat > srv/www/index.html <<'X'
<!doctype html>
<title>Lodge VE</title>
<p>This VE runs the busybox template.</p>
X
chown -R 33:33 srv/www
echo "busybox template, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $("$busybox" | head -1)" > etc/lodge/template

if [ -n "$tar" ]; then
  tar --numeric-owner --xattrs -cf "$tar" -C "$out" .
fi
echo "build.sh: busybox template in $out ($(du -sh "$out" | cut -f1))" >&2
