#!/usr/bin/env bash
# Test of tools/lodge-cluster against real Ceph daemons, in a cluster
# directory and a network namespace of its own (a user's cluster in
# /var/lib/lodge-cluster is not touched).
#
# Exit status: 0 all checks passed, 1 some failed, 77 skipped (not root, or
# Ceph not installed).  The last line says "N passed, N failed".

# The single-quoted 'bash -c' scripts below get their values as arguments.
# shellcheck disable=SC2016

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
TOOL=${LODGE_CLUSTER_TOOL:-$HERE/../../tools/lodge-cluster}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}
[[ $EUID -eq 0 ]] || skip "needs root (network namespaces, Ceph daemons)"
for prog in ceph-mon ceph-osd ceph-mgr ceph rados rbd ip; do
	command -v "$prog" >/dev/null 2>&1 ||
		skip "$prog is missing (apt-get install ceph-mon ceph-osd ceph-mgr ceph-common iproute2)"
done

WORK=$(mktemp -d /tmp/lodge-cluster-test.XXXXXX)
export LODGE_CLUSTER_DIR=$WORK/cluster
export LODGE_NETNS=lodge-test-$$
unset LODGE_CEPH_STORE CEPH_ARGS CEPH_CONF
CONF=$LODGE_CLUSTER_DIR/ceph.conf
FOREIGN_NETNS=lodge-test-$$-x
FOREIGN_PID=""

cleanup() {
	"$TOOL" down --purge >/dev/null 2>&1 || true
	[[ -n $FOREIGN_PID ]] && kill "$FOREIGN_PID" 2>/dev/null
	ip netns delete "$FOREIGN_NETNS" 2>/dev/null
	rm -rf -- "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
TIMINGS=()

check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		printf 'ok    %s\n' "$what"
		passed=$((passed + 1))
	else
		printf 'FAIL  %s\n' "$what"
		failed=$((failed + 1))
	fi
}

now_us() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }
seconds() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

# timed LABEL COMMAND...: run COMMAND (its stdout into $OUT, stderr into
# $WORK/stderr, status into $RC) and record how long it took.
timed() {
	local label=$1 start
	shift
	start=$(now_us)
	RC=0
	OUT=$("$@" 2>"$WORK/stderr") || RC=$?
	ELAPSED=$(seconds $(($(now_us) - start)))
	TIMINGS+=("$(printf '%-38s %6ss' "$label" "$ELAPSED")")
	if ((RC != 0)); then
		printf '# %s exited %d; its stderr:\n' "$label" "$RC"
		sed 's/^/#   /' "$WORK/stderr"
	fi
}

in_cluster() { "$TOOL" exec "$@"; }
status_rc() {
	local rc=0
	"$TOOL" status >"$WORK/status" 2>&1 || rc=$?
	printf '%s' "$rc"
}
no_cluster_process() { ! pgrep -f -- "--conf $CONF " >/dev/null; }
no_netns() { ! ip netns list | grep -qw -- "$LODGE_NETNS"; }
stderr_has() { grep -q -- "$1" "$WORK/stderr"; }

head -c 100000 /dev/urandom >"$WORK/payload"

echo "# bluestore: create, use, stop, start again, stop and erase"
timed "up (bluestore, create)" "$TOOL" up
check "up creates a bluestore cluster" test "$RC" = 0
check "up prints the path of the env file" test "$OUT" = "$LODGE_CLUSTER_DIR/env"
check "env file sets CEPH_CONF, LODGE_CEPH_USER, LODGE_NETNS" bash -c '
	. "$1/env" && [[ $CEPH_CONF == "$1/ceph.conf" && $LODGE_CEPH_USER == lodge &&
		$LODGE_NETNS == "$2" && -s $LODGE_CEPH_KEYRING ]]' _ "$LODGE_CLUSTER_DIR" "$LODGE_NETNS"
check "client keyrings are written" test -s "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring" \
	-a -s "$LODGE_CLUSTER_DIR/ceph.client.admin.keyring"
check "status exits 0 when up" test "$(status_rc)" = 0
check "status shows every daemon running" \
	test "$(grep -cE '^  (mon.a|mgr.x|osd.[012]) +running +pid [0-9]+' "$WORK/status")" = 5
check "status shows ceph -s with HEALTH_OK" grep -q 'HEALTH_OK' "$WORK/status"
check "the monitor listens inside the namespace only" bash -c \
	'! timeout 20 ceph --conf "$1" --connect-timeout 3 -s >/dev/null 2>&1' _ "$CONF"
fsid=$(in_cluster ceph fsid || true)
check "client.lodge creates a pool" in_cluster ceph --id lodge osd pool create lodge-test 8
check "client.lodge writes an object" \
	in_cluster rados --id lodge -p lodge-test put obj1 "$WORK/payload"
check "client.lodge creates an RBD image" \
	in_cluster rbd --id lodge create --size 16M lodge-test/img1

timed "down (bluestore)" "$TOOL" down
check "down succeeds" test "$RC" = 0
check "no process of the cluster after down" no_cluster_process
check "no namespace after down" no_netns
check "status exits 3 when down" test "$(status_rc)" = 3
check "exec exits 3 when down" bash -c '"$1" exec true 2>/dev/null; test $? = 3' _ "$TOOL"

timed "up (bluestore, restart)" "$TOOL" up
check "up brings the stopped cluster back" test "$RC" = 0
check "same fsid after restart" test "$(in_cluster ceph fsid)" = "$fsid"
check "the object survives down and up" bash -c \
	'"$1" exec rados --id lodge -p lodge-test get obj1 "$2/obj1.back" && cmp "$2/payload" "$2/obj1.back"' \
	_ "$TOOL" "$WORK"
check "the image survives down and up" bash -c \
	'"$1" exec rbd --id lodge ls lodge-test | grep -qx img1' _ "$TOOL"

timed "up (already up)" "$TOOL" up
check "up on a running cluster succeeds" test "$RC" = 0
check "up on a running cluster says it is already up" stderr_has "already up"

osd_pid=$(cat "$LODGE_CLUSTER_DIR/run/osd.1.pid")
kill "$osd_pid"
deadline=$(($(now_us) + 30000000))
while kill -0 "$osd_pid" 2>/dev/null && [[ $(ps -o stat= -p "$osd_pid") != Z* ]] &&
	(($(now_us) < deadline)); do
	sleep 0.05 # poll interval
done
check "status exits 1 when an OSD is stopped" test "$(status_rc)" = 1
timed "up (one OSD stopped)" "$TOOL" up
check "up restarts a stopped OSD" test "$RC" = 0 -a "$(status_rc)" = 0

timed "down --purge (bluestore)" "$TOOL" down --purge
check "down --purge succeeds" test "$RC" = 0
check "down --purge erases the cluster directory" test ! -e "$LODGE_CLUSTER_DIR"
check "no process of the cluster after down --purge" no_cluster_process
check "no namespace after down --purge" no_netns

echo "# memstore: create, use, stop, make anew"
timed "up --memstore (create)" "$TOOL" up --memstore
check "up --memstore creates a cluster" test "$RC" = 0
check "status exits 0 when up (memstore)" test "$(status_rc)" = 0
check "status names the memstore backend" grep -q '^store *memstore' "$WORK/status"
fsid=$(in_cluster ceph fsid || true)
key=$(cat "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring")
check "client.lodge writes and reads on memstore" bash -c '
	"$1" exec ceph --id lodge osd pool create lodge-test 8 &&
	"$1" exec rados --id lodge -p lodge-test put obj1 "$2/payload" &&
	"$1" exec rados --id lodge -p lodge-test get obj1 "$2/obj1.mem" &&
	cmp "$2/payload" "$2/obj1.mem"' _ "$TOOL" "$WORK"
timed "up --bluestore on a memstore cluster" "$TOOL" up --bluestore
check "the backend of an existing cluster cannot change" test "$RC" = 1

timed "down (memstore)" "$TOOL" down
check "no process and no namespace after down (memstore)" bash -c \
	'! pgrep -f -- "--conf $1 " >/dev/null && ! ip netns list | grep -qw -- "$2"' \
	_ "$CONF" "$LODGE_NETNS"
timed "up (memstore, made anew)" "$TOOL" up
check "up after down makes a memstore cluster anew" test "$RC" = 0
check "it keeps the fsid" test "$(in_cluster ceph fsid)" = "$fsid"
check "it keeps the client key" test "$(cat "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring")" = "$key"
check "its pools are gone" bash -c '! "$1" exec rados --id lodge lspools | grep -qx lodge-test' _ "$TOOL"
"$TOOL" down --purge 2>/dev/null

echo "# failures leave nothing behind"
# Stop 'up' while it creates a cluster (once the monitor runs).
"$TOOL" up --memstore >/dev/null 2>"$WORK/stderr" &
up_pid=$!
deadline=$(($(now_us) + 60000000))
until [[ -s $LODGE_CLUSTER_DIR/run/mon.a.pid ]] || (($(now_us) > deadline)); do
	sleep 0.05 # poll interval
done
kill -TERM "$up_pid"
rc=0
wait "$up_pid" || rc=$?
check "up stopped by SIGTERM exits 143" test "$rc" = 143
check "it erases the half-created cluster" test ! -e "$LODGE_CLUSTER_DIR"
check "it leaves no process" no_cluster_process
check "it leaves no namespace" no_netns

# A namespace of the same name that is not the cluster's is not touched.
ip netns add "$FOREIGN_NETNS"
ip netns exec "$FOREIGN_NETNS" sleep 300 &
FOREIGN_PID=$!
deadline=$(($(now_us) + 10000000))
until [[ -n $(ip netns pids "$FOREIGN_NETNS") ]] || (($(now_us) > deadline)); do
	sleep 0.05 # poll interval
done
timed "up in a foreign namespace" env LODGE_NETNS="$FOREIGN_NETNS" "$TOOL" up --memstore
check "up refuses a namespace that has other processes" test "$RC" = 1
check "the foreign process still runs" kill -0 "$FOREIGN_PID"
check "no cluster directory was made" test ! -e "$LODGE_CLUSTER_DIR"

echo "# usage"
quiet() { "$@" >/dev/null 2>&1; }
check "--help succeeds" quiet "$TOOL" --help
for cmd in up down status exec; do
	check "$cmd --help succeeds" quiet "$TOOL" "$cmd" --help
done
check "an unknown command exits 2" bash -c '"$1" frobnicate 2>/dev/null; test $? = 2' _ "$TOOL"
check "--nodes 1 is refused (not implemented yet)" \
	bash -c '"$1" up --nodes 1 2>/dev/null; test $? = 1' _ "$TOOL"

echo "# timings"
printf '#   %s\n' "${TIMINGS[@]}"
printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
