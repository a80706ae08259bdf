# Shared by the integration tests that run on the local cluster's control
# plane (tools/lodge-cluster up starts lodged and an agent per node). Source
# it; run the test through `tools/lodge-cluster exec`.
# shellcheck shell=bash
set -u
build=${LODGE_BUILD_DIR:?}
src=${LODGE_SOURCE_DIR:?}
lodge=$build/tools/lodge
skip() { echo "SKIP: $*"; exit 77; }
[ -n "${CEPH_CONF:-}" ] || skip "no cluster (run through tools/lodge-cluster exec)"
# shellcheck disable=SC1091
[ -z "${LODGE_NODES:-}" ] && [ -f "${LODGE_CLUSTER_DIR:-}/env" ] && . "$LODGE_CLUSTER_DIR/env"
[ -n "${LODGE_NODES:-}" ] || skip "the cluster has no nodes (tools/lodge-cluster up --nodes N)"
# The controllers' API, as 'lodge-cluster exec' gives it (LODGE_URL, LODGE_TOKEN).
[ -n "${LODGE_URL:-}" ] && [ -n "${LODGE_TOKEN:-}" ] || skip "no LODGE_URL and LODGE_TOKEN (run through tools/lodge-cluster exec)"
"$lodge" node list >/dev/null 2>&1 || skip "the cluster's control center does not answer at $LODGE_URL (tools/lodge-cluster up)"
command -v curl >/dev/null || skip "curl is missing"

tmp=$(mktemp -d)
# VEs this test made, stopped and undefined at the end: kept in a file,
# since define_ve may run in a subshell (expect ... -- define_ve ...).
touch "$tmp/ves"
pass=0 fail=0 skipped=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
# skip_part WHAT REASON: a part of the test that does not run, said loudly
# and counted in the last line (the test itself goes on).
skip_part() { echo "SKIP: $1: $2"; skipped=$((skipped + 1)); }
show() { sed 's/^/#   /' | tail -"${1:-12}"; }
expect() { # expect CODE DESCRIPTION PATTERN -- CMD...
  local code=$1 what=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ]; then not_ok "$what: exit $rc, expected $code"; show <<<"$out"; return 1; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then not_ok "$what: no /$pattern/ in output"; show <<<"$out"; return 1; fi
  ok "$what"
}
# check DESCRIPTION 'CONDITION': CONDITION is one shell string, evaluated
# here in the test's own shell, so that all of it counts: compound lists
# ('[ a ] && [ b ]'), pipelines, '!'. Quote it in single quotes: its
# variables expand when it is evaluated, in this same shell. $1, $2... in it
# are unset (they would be check's): use named variables. Anything but two
# arguments is refused, as a failure: `check "x" [ a ] && [ b ]` would count
# only [ a ] (tests/cli/test-checks-lint.sh finds such lines).
check() {
  if [ $# -ne 2 ]; then
    not_ok "${1:-(no description)}: check takes one condition as one string (got $(($# > 0 ? $# - 1 : 0)) arguments)"
    return 1
  fi
  local __check_what=$1 __check_condition=$2
  set --
  if eval "$__check_condition"; then ok "$__check_what"; return 0; fi
  not_ok "$__check_what"
  return 1
}
# output_lacks PATTERN CMD...: CMD succeeds and no line of its output
# matches the extended regular expression PATTERN. A failing CMD is not an
# absence: it says so and fails (`! cmd | grep -q x` would pass).
output_lacks() {
  local __lacks_pattern=$1 __lacks_out __lacks_rc; shift
  __lacks_out=$("$@" 2>&1); __lacks_rc=$?
  if [ "$__lacks_rc" -ne 0 ]; then
    echo "# output_lacks: '$*' failed (exit $__lacks_rc): $(tail -n 3 <<<"$__lacks_out")"
    return 2
  fi
  ! grep -qE -- "$__lacks_pattern" <<<"$__lacks_out"
}
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds (polls every 0.2 s)
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $deadline ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
finish() {
  echo "$pass passed, $fail failed, $skipped skipped"
  if [ "$fail" -ne 0 ]; then
    echo "# the control center's log, for the failures above:"
    tail -n 40 "$LODGE_CLUSTER_DIR/log/lodged.log" 2>/dev/null | show 40
  fi
  [ "$fail" -eq 0 ]
}
cleanup_ves() {
  local ve
  for ve in $(sort -u "$tmp/ves"); do
    "$lodge" stop --force "$ve" >/dev/null 2>&1
    "$lodge" undefine --remove-storage "$ve" >/dev/null 2>&1
  done
}
lib_cleanup() { cleanup_ves; rm -rf "$tmp"; }
trap lib_cleanup EXIT

# Whether template $1 exists: `template list` reads only the state store
# (`template show` also looks for clones in every pool).
have_template() { "$lodge" template list 2>/dev/null | awk -v n="$1" '$1 == n { f = 1 } END { exit !f }'; }
# The busybox template, and the busybox-httpd application template the VEs
# of ve_xml run, imported once for the whole cluster.
ensure_busybox() {
  ensure_app busybox-httpd || return 1
  have_template busybox && return 0
  "$src/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$tmp/bb" 2>/dev/null &&
    "$lodge" template import busybox "$tmp/bb" >/dev/null 2>&1 ||
    have_template busybox # imported meanwhile by another test
}
# ensure_app NAME: application template images/apps/NAME.
ensure_app() {
  have_template "$1" && return 0
  "$lodge" template import --kind application "$1" "$src/images/apps/$1" >/dev/null 2>&1 ||
    have_template "$1" # imported meanwhile by another test
}

readonly ROOT_HASH='$6$lodgeexample$r8SYv0frjEDIPK9gDsOSvAXgC7FSGq51hLhlOzw/JbkoNILeLSJeZGsq1Zkcf/Ut9HPLELLo62qhqjBEvf.Ue1'

# ve_xml NAME IP [MEMORY_MIB [CURRENT_MIB [LAUNCH]]]: a busybox VE on the
# cluster's bridge whose web server shows what the guest itself sees.
ve_xml() {
  local name=$1 ip=$2 mem=${3:-256} cur=${4:-64}
  local launch=${5:-"sh -c 'hostname > /srv/www/hostname.txt; grep ^root: /etc/shadow | cut -d: -f2 > /srv/www/root-hash.txt; date +%s >> /root/boots; cp /root/boots /srv/www/boots.txt; exec httpd -f -p 80 -h /srv/www'"}
  launch=${launch//&/&amp;}
  launch=${launch//</&lt;}
  cat <<EOF
<environment>
  <name>$name</name>
  <template name="busybox"/>
  <resources>
    <vcpus>1</vcpus>
    <memory unit="MiB">$mem</memory>
    <currentMemory unit="MiB">$cur</currentMemory>
    <disk unit="GiB">1</disk>
  </resources>
  <root><password hash="$ROOT_HASH"/></root>
  <network>
    <interface name="eth0">
      <ip address="$ip" prefix="24"/>
      <gateway address="10.77.0.1"/>
    </interface>
  </network>
  <applications>
    <application name="web" autostart="yes">
      <source template="busybox-httpd"/>
      <launch>$launch</launch>
    </application>
  </applications>
</environment>
EOF
}

# define_ve NAME IP [...]: writes $tmp/NAME.xml and defines it.
define_ve() {
  local name=$1
  ve_xml "$@" >"$tmp/$name.xml"
  echo "$name" >>"$tmp/ves"
  "$lodge" define "$tmp/$name.xml"
}

# The domains named $1 running on any node, one line per node.
running_on() {
  local node pid
  for node in $LODGE_NODES; do
    # A node whose libvirtd does not run (a power loss) is skipped: its
    # address is gone with its network, and a connection would wait for
    # ARP to give up, not be refused.
    pid=$(tr -d '\n' <"$LODGE_CLUSTER_DIR/nodes/$node/run/libvirtd.pid" 2>/dev/null)
    { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || continue
    # shellcheck disable=SC1090
    (. "$LODGE_CLUSTER_DIR/nodes/$node/node.env" &&
      virsh -q -c "$OPS_LIBVIRT_URI" list --name 2>/dev/null | grep -qx "$1" && echo "$node")
  done
}

# on_host HOST CMD...: run CMD on host HOST of the cluster (admin, ctl1,
# nodeK): in its network, mount and UTS namespaces, where its own /run,
# /tmp, /var/log, /var/lib/lodge, /etc/lodge are.
on_host() { local host=$1; shift; "$src/tools/lodge-cluster" exec --host "$host" "$@"; }

# The pid of the QEMU of VE $1 (its node's libvirt writes it).
qemu_pid() {
  local node
  node=$(running_on "$1" | head -n 1)
  [ -n "$node" ] && cat "$LODGE_CLUSTER_DIR/nodes/$node/run/qemu/$1.pid" 2>/dev/null
}

rbd_images() { rbd --id "${LODGE_CEPH_USER:-lodge}" ls "$1" 2>/dev/null; }
