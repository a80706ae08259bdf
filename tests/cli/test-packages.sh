#!/bin/bash
# The Debian packages packaging/ builds (tools/bootstrap: cpack in build/,
# into build/packages): their fields and files, their programs run from an
# unpacked root, every dependency resolvable by apt, lintian clean but for
# the tags allowed below with their reasons, the service units verified by
# systemd-analyze with no warning. Installing lodge-node into a clean
# Debian 12 root with apt-get is the fresh-machine check's
# (tests/fresh/run.sh): it needs Debian's archive, which a test may not
# reach.
set -u
src=${LODGE_SOURCE_DIR:?LODGE_SOURCE_DIR names the source tree}
version=${LODGE_VERSION:?LODGE_VERSION names the version the packages carry}
pkgdir=${LODGE_PACKAGE_DIR:-$src/build/packages}
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
# check NAME -- CMD...: one condition, seen whole.
check() {
  local name=$1
  shift 2
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

declare -A deb
for p in controller node client guest; do
  deb[$p]=$pkgdir/lodge-${p}_${version}-1_amd64.deb
  if [ ! -s "${deb[$p]}" ]; then
    echo "SKIP: no ${deb[$p]##*/} in $pkgdir (tools/bootstrap builds the packages: cpack --config build/CPackConfig.cmake; or set LODGE_PACKAGE_DIR)"
    exit 77
  fi
done
for prog in dpkg-deb systemd-analyze lintian apt-get man; do
  command -v "$prog" >/dev/null || { echo "SKIP: $prog is missing"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"
for p in "${!deb[@]}"; do dpkg-deb -x "${deb[$p]}" "$root" || not_ok "dpkg-deb -x ${deb[$p]}"; done

field() { dpkg-deb -f "${deb[$1]}" "$2"; }
# depends_on PKG NAME...: PKG's Depends names each NAME (as a whole word).
depends_on() {
  local p=$1 d n
  d=$(field "$p" Depends)
  shift
  for n in "$@"; do grep -qE "(^|, |\| )$n( |,|$)" <<<"$d" || { echo "# lodge-$p Depends lacks $n: $d"; return 1; }; done
}
depends_none() {
  local p=$1 d n
  d=$(field "$p" Depends)
  shift
  for n in "$@"; do grep -q "$n" <<<"$d" && { echo "# lodge-$p Depends has $n: $d"; return 1; }; done
  return 0
}
check "lodge-node depends on libvirt's daemon, QEMU with RBD, its lodge-guest and lodge-client (node join)" -- \
  depends_on node libvirt-daemon-system libvirt-daemon-driver-qemu \
  qemu-system-x86 qemu-block-extra librados2 libvirt0 "lodge-guest \\(= ${version}-1\\)" "lodge-client \\(= ${version}-1\\)"
check "lodge-controller depends on libguestfs, librbd, adduser (its user), a kernel for the appliance and lodge-client (cluster init)" -- \
  depends_on controller libguestfs0 librbd1 librados2 adduser linux-image-amd64 "lodge-client \\(= ${version}-1\\)"
check "lodge-client depends on no Ceph, libvirt, libguestfs or QEMU" -- \
  depends_none client librados librbd libvirt libguestfs qemu
check "lodge-guest depends on nothing (its programs are static or a kernel)" -- test -z "$(field guest Depends)"

# has PATH...: the unpacked root has each.
has() {
  local f
  for f in "$@"; do [ -e "$root/$f" ] || { echo "# missing: $f"; return 1; }; done
}
check "lodge-controller: lodged, its unit, its man page" -- \
  has usr/sbin/lodged lib/systemd/system/lodged.service usr/share/man/man8/lodged.8.gz
check "lodge-node: lodge-agent, its unit, its man page" -- \
  has usr/sbin/lodge-agent lib/systemd/system/lodge-agent.service usr/share/man/man8/lodge-agent.8.gz
check "lodge-client: lodge and its man page" -- has usr/bin/lodge usr/share/man/man1/lodge.1.gz
check "lodge-guest: lodge-init and the busybox template's builder" -- \
  has usr/lib/lodge/guest/lodge-init usr/share/lodge/templates/busybox/build.sh
if [ -s "$src/images/out/vmlinuz-lodge" ]; then
  check "lodge-guest: the guest kernel images/kernel/build.sh made, byte for byte" -- \
    cmp -s "$src/images/out/vmlinuz-lodge" "$root/usr/lib/lodge/guest/vmlinuz-lodge"
else
  echo "# SKIP part: no images/out/vmlinuz-lodge here (images/kernel/build.sh), so no kernel to compare"
fi
if [ -s "$src/images/out/vmlinuz-lodge-appliance" ]; then
  check "lodge-controller: the appliance kernel images/kernel/build.sh made, byte for byte" -- \
    cmp -s "$src/images/out/vmlinuz-lodge-appliance" "$root/usr/lib/lodge/appliance/vmlinuz"
else
  echo "# SKIP part: no images/out/vmlinuz-lodge-appliance here (images/kernel/build.sh), so no appliance kernel to compare"
fi
# appliance_inputs: Lodge's init and fstab, an empty modules.dep, and
# every other supermin input a link to libguestfs0's own.
appliance_inputs() {
  local d=$root/usr/lib/lodge/appliance l
  has usr/lib/lodge/appliance/modules/modules.dep || return 1
  [ ! -s "$d/modules/modules.dep" ] || { echo "# modules.dep is not empty"; return 1; }
  tar -tzf "$d/supermin.d/init.tar.gz" | sort | tr '\n' ' ' | grep -qx 'etc/lodge-appliance.fstab init ' ||
    { echo "# init.tar.gz holds: $(tar -tzf "$d/supermin.d/init.tar.gz" | tr '\n' ' ')"; return 1; }
  for l in base.tar.gz daemon.tar.gz packages; do
    [ "$(readlink "$d/supermin.d/$l")" = "../../../x86_64-linux-gnu/guestfs/supermin.d/$l" ] ||
      { echo "# supermin.d/$l -> $(readlink "$d/supermin.d/$l")"; return 1; }
  done
}
check "lodge-controller: Lodge's appliance (its init and fstab, no modules, libguestfs's other inputs linked)" -- \
  appliance_inputs
check "lodged's default --appliance is lodge-controller's" -- \
  grep -q -- "--appliance=DIR.*default /usr/lib/lodge/appliance" <(LD_LIBRARY_PATH= "$root/usr/sbin/lodged" --help 2>&1)
# The agent's default kernel is where lodge-guest puts it.
check "lodge-agent's default --kernel is lodge-guest's" -- \
  grep -q -- "--kernel=PATH.*default /usr/lib/lodge/guest/vmlinuz-lodge" <(LD_LIBRARY_PATH= "$root/usr/sbin/lodge-agent" --help 2>&1)

# The programs as packaged run, and find every library they need.
for prog in usr/sbin/lodged usr/sbin/lodge-agent usr/bin/lodge; do
  name=${prog##*/}
  check "$name --version (from the package) says $name $version" -- \
    test "$("$root/$prog" --version 2>&1)" = "$name $version"
  check "$name (from the package) finds every library it needs" -- \
    test -z "$(ldd "$root/$prog" | grep 'not found')"
done
check "lodge-init is static (no program interpreter: it is the guest's PID 1)" -- \
  test -z "$(readelf -l "$root/usr/lib/lodge/guest/lodge-init" | grep -i interpreter)"

# Man pages render, and name every option --help does (they are made from it).
man_has_options() { # PAGE PROGRAM
  local page=$1 prog=$2 text opt opts
  text=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b) || return 1
  [ -n "$text" ] || return 1
  opts=$("$prog" --help 2>&1 | grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+')
  # --help and --version at least: a help text that lists none is no check.
  [ "$(wc -w <<<"$opts")" -ge 2 ] || { echo "# $prog --help lists no options"; return 1; }
  for opt in $opts; do
    grep -q -- "$opt" <<<"$text" || { echo "# $page lacks $opt"; return 1; }
  done
}
check "lodged(8) renders and names every option of lodged --help" -- \
  man_has_options "$root/usr/share/man/man8/lodged.8.gz" "$root/usr/sbin/lodged"
check "lodge-agent(8) renders and names every option of lodge-agent --help" -- \
  man_has_options "$root/usr/share/man/man8/lodge-agent.8.gz" "$root/usr/sbin/lodge-agent"
man_has_commands() { # PAGE PROGRAM: the CLI's help lists commands
  local text cmds cmd
  text=$(MANWIDTH=200 man -l "$1" 2>/dev/null | col -b) || return 1
  cmds=$("$2" --help 2>&1 | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p')
  [ "$(wc -w <<<"$cmds")" -ge 10 ] || { echo "# $2 --help lists few commands: $cmds"; return 1; }
  for cmd in $cmds; do
    grep -qE "^ +$cmd( |$)" <<<"$text" || { echo "# $1 lacks the command $cmd"; return 1; }
  done
}
check "lodge(1) renders and names every command of lodge --help" -- \
  man_has_commands "$root/usr/share/man/man1/lodge.1.gz" "$root/usr/bin/lodge"

# The units: systemd-analyze verify in the unpacked root, beside the host's
# own units (sysinit.target, libvirtd.service), man pages looked up there.
# It exits 0 on an unknown key, so any line it prints is a failure; the
# self-test shows a misspelt key is caught.
cp -an /lib/systemd/system/. "$root/lib/systemd/system/" 2>/dev/null
verify() { # UNIT...: prints what systemd-analyze says
  (cd "$root" && MANPATH=$root/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$root" "$@" 2>&1)
}
sed 's/^Restart=/Restrat=/' "$root/lib/systemd/system/lodged.service" >"$root/lib/systemd/system/lodge-selftest.service"
check "self-test: systemd-analyze's words on a misspelt key are caught" -- \
  grep -q "Unknown key 'Restrat'" <(verify /lib/systemd/system/lodge-selftest.service)
rm -f "$root/lib/systemd/system/lodge-selftest.service"
out=$(verify /lib/systemd/system/lodged.service /lib/systemd/system/lodge-agent.service)
check "systemd-analyze verify: lodged.service and lodge-agent.service, not one warning" -- test -z "$out"
[ -z "$out" ] || printf '# %s\n' "$out"
unit_says() { grep -qxF "$2" "$root/lib/systemd/system/$1"; }
check "both units restart their daemon and wait for its readiness (Type=notify, a watchdog)" -- \
  eval 'for u in lodged.service lodge-agent.service; do unit_says $u Restart=always && unit_says $u Type=notify && grep -q "^WatchdogSec=" "$root/lib/systemd/system/$u" || exit 1; done'
check "lodge-agent.service comes after libvirtd and the network" -- \
  unit_says lodge-agent.service "After=network-online.target libvirtd.service"

# apt resolves every dependency of the four packages together (a
# simulation: nothing is installed).
out=$(apt-get install -s -q -o Debug::NoLocking=1 "${deb[controller]}" "${deb[node]}" "${deb[client]}" \
  "${deb[guest]}" 2>&1)
check "apt-get resolves every dependency of the four packages" -- \
  grep -qE "^(Inst|Conf) lodge-node " <<<"$out"
grep -qE "^(Inst|Conf) lodge-node " <<<"$out" || printf '# %s\n' "$out" | tail -n 15

# lintian: clean but for these tags, each with its reason.
#   initial-upload-closes-no-bugs: an upload to Debian's archive closes its
#   ITP bug; these packages go to a provider's own repository.
allowed='initial-upload-closes-no-bugs'
out=$(lintian --tag-display-limit 0 "${deb[@]}" 2>&1 | grep -E '^[EWX]: ' | grep -vE ": ($allowed)( |$)")
check "lintian: no error or warning but the allowed ones" -- test -z "$out"
[ -z "$out" ] || printf '# %s\n' "$out"

echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
