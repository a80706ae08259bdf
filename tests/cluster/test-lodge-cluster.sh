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

# Not under /tmp: every host of the cluster has its own /tmp.
WORK=$(mktemp -d /var/tmp/lodge-cluster-test.XXXXXX)
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
no_netns() { ! ip netns list | awk '{ print $1 }' | grep -qE -- "^$LODGE_NETNS(-(ceph|ctl[12]|admin))?\$"; }
stderr_has() { grep -q -- "$1" "$WORK/stderr"; }

head -c 100000 /dev/urandom >"$WORK/payload"

echo "# bluestore: create, use, stop, start again, stop and erase"
timed "up (bluestore, create)" "$TOOL" up --nodes 0
check "up creates a bluestore cluster" test "$RC" = 0
check "up prints the path of the env file" test "$OUT" = "$LODGE_CLUSTER_DIR/env"
check "env file sets CEPH_CONF, LODGE_CEPH_USER, LODGE_NETNS" bash -c '
	. "$1/env" && [[ $CEPH_CONF == "$1/ceph.conf" && $LODGE_CEPH_USER == admin &&
		$LODGE_NETNS == "$2" && -s $LODGE_CEPH_KEYRING ]]' _ "$LODGE_CLUSTER_DIR" "$LODGE_NETNS"
check "client keyrings are written" test -s "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring" \
	-a -s "$LODGE_CLUSTER_DIR/ceph.client.admin.keyring"
check "status exits 0 when up" test "$(status_rc)" = 0
check "status shows every daemon running" \
	test "$(grep -cE '^  (mon.a|mgr.x|osd.[012]) +running +pid [0-9]+' "$WORK/status")" = 5
check "status shows ceph -s with HEALTH_OK" grep -q 'HEALTH_OK' "$WORK/status"
check "status shows the hosts ceph, ctl1 and admin, each at its address" test "$(grep -cE '^  (ceph +present +\S+ 10.78.0.2|ctl1 +present +\S+ 10.78.0.3|admin +present +\S+ 10.78.0.5)$' "$WORK/status")" = 3
check "the monitor listens inside the namespace only" bash -c \
	'! timeout 20 ceph --conf "$1" --connect-timeout 3 -s >/dev/null 2>&1' _ "$CONF"
fsid=$(in_cluster ceph fsid || true)
# Setup's identity, client.admin, makes pools; the controllers' may not
# (test-cephx has the rest of their caps).
check "client.lodge, the controllers' identity, may not create a pool" bash -c \
	'! "$1" exec ceph --id lodge osd pool create lodge-test 8 2>/dev/null' _ "$TOOL"
check "client.admin creates a pool" in_cluster ceph --id admin osd pool create lodge-test 8
check "client.admin writes an object" \
	in_cluster rados --id admin -p lodge-test put obj1 "$WORK/payload"
check "client.admin creates an RBD image" \
	in_cluster rbd --id admin create --size 16M lodge-test/img1

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
	'"$1" exec rados --id admin -p lodge-test get obj1 "$2/obj1.back" && cmp "$2/payload" "$2/obj1.back"' \
	_ "$TOOL" "$WORK"
check "the image survives down and up" bash -c \
	'"$1" exec rbd --id admin ls lodge-test | grep -qx img1' _ "$TOOL"

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
timed "up --memstore (create)" "$TOOL" up --memstore --nodes 0
check "up --memstore creates a cluster" test "$RC" = 0
check "status exits 0 when up (memstore)" test "$(status_rc)" = 0
check "status names the memstore backend" grep -q '^store *memstore' "$WORK/status"
fsid=$(in_cluster ceph fsid || true)
key=$(cat "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring")
check "client.admin writes and reads on memstore" bash -c '
	"$1" exec ceph --id admin osd pool create lodge-test 8 &&
	"$1" exec rados --id admin -p lodge-test put obj1 "$2/payload" &&
	"$1" exec rados --id admin -p lodge-test get obj1 "$2/obj1.mem" &&
	cmp "$2/payload" "$2/obj1.mem"' _ "$TOOL" "$WORK"
timed "up --bluestore on a memstore cluster" "$TOOL" up --bluestore
check "the backend of an existing cluster cannot change" test "$RC" = 1

timed "down (memstore)" "$TOOL" down
check "no process of the cluster after down (memstore)" no_cluster_process
check "no namespace after down (memstore)" no_netns
timed "up (memstore, made anew)" "$TOOL" up
check "up after down makes a memstore cluster anew" test "$RC" = 0
check "it keeps the fsid" test "$(in_cluster ceph fsid)" = "$fsid"
check "it keeps the client key" test "$(cat "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring")" = "$key"
check "its pools are gone" bash -c '! "$1" exec rados --id admin lspools | grep -qx lodge-test' _ "$TOOL"
"$TOOL" down --purge 2>/dev/null

echo "# failures leave nothing behind"
# Stop 'up' while it creates a cluster (once the monitor runs).
"$TOOL" up --memstore --nodes 0 >/dev/null 2>"$WORK/stderr" &
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
timed "up in a foreign namespace" env LODGE_NETNS="$FOREIGN_NETNS" "$TOOL" up --memstore --nodes 0
check "up refuses a namespace that has other processes" test "$RC" = 1
check "the foreign process still runs" kill -0 "$FOREIGN_PID"
check "no cluster directory was made" test ! -e "$LODGE_CLUSTER_DIR"

echo "# nodes: libvirtd per node, in the cluster's namespace"
node_skip=""
for prog in libvirtd virtlogd virsh qemu-system-x86_64 nsenter unshare; do
	command -v "$prog" >/dev/null 2>&1 || node_skip="$prog is missing"
done
drivers=(/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so)
[[ -e ${drivers[0]} ]] || node_skip="libvirt's QEMU driver is missing"
if [[ -n $node_skip ]]; then
	printf 'SKIP  nodes: %s (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86)\n' "$node_skip"
else
	NODES_DIR=$LODGE_CLUSTER_DIR/nodes
	# How the node directories show in /proc/PID/mountinfo (relative to the
	# file system they are on): unique to this test.
	NODE_MOUNT_MARK=${WORK##*/}/cluster/nodes/
	# Node K is at 10.78.0.(10+K) on the datacenter bridge lodgedc0.
	node_addr() { printf '10.78.0.%s' $((10 + $1)); }
	# (TLS only: the operations position's certificate from pki/ops)
	node_uri() { printf 'qemu+tls://%s/system?pkipath=%s/pki/ops' "$(node_addr "$1")" "$LODGE_CLUSTER_DIR"; }
	# As a node's libvirtd reaches another (its own /etc/pki).
	peer_uri() { printf 'qemu+tls://%s/system' "$(node_addr "$1")"; }
	virsh_on() { # K ARG...: virsh on node K, from inside the namespace
		local k=$1
		shift
		in_cluster timeout 120 virsh -q -c "$(node_uri "$k")" "$@"
	}
	host_uuid() { virsh_on "$1" capabilities | sed -n 's:^ *<uuid>\(.*\)</uuid>:\1:p' | head -n 1; }
	domstate() { virsh_on "$1" domstate "$2" 2>/dev/null | head -n 1; }
	no_node_process() { ! pgrep -f -- "$NODES_DIR/" >/dev/null; }
	no_node_mounts() {
		! grep -qsF -- "$NODE_MOUNT_MARK" /proc/[0-9]*/mountinfo &&
			! grep -qF -- "$NODES_DIR" /proc/mounts &&
			! grep -qsF -- "${WORK##*/}/cluster/ctl1/" /proc/[0-9]*/mountinfo
	}
	# wait_for SECONDS WHAT COMMAND...: poll COMMAND until it succeeds.
	wait_for() {
		local deadline=$(($(now_us) + $1 * 1000000)) what=$2
		shift 2
		until "$@"; do
			if (($(now_us) > deadline)); then
				printf '# timed out waiting for %s\n' "$what"
				return 1
			fi
			sleep 0.05 # poll interval
		done
	}

	timed "up --memstore --nodes 2 (create)" "$TOOL" up --memstore --nodes 2
	check "up --nodes 2 creates a cluster with two nodes" test "$RC" = 0
	check "the env file lists the nodes and the bridge" bash -c '
		. "$1/env" && [[ $LODGE_NODES == "node1 node2" && $LODGE_VE_BRIDGE == lodgebr0 &&
			$LODGE_VE_SUBNET == 10.77.0.0/24 && $LODGE_NODES_DIR == "$1/nodes" ]]' _ "$LODGE_CLUSTER_DIR"
	check "node.env gives each node its address, URI and migration ports" bash -c '
		for k in 1 2; do
			(. "$1/nodes/node$k/node.env" && [[ $NODE_NAME == node$k &&
				$NODE_ADDR == 10.78.0.$((10 + k)) && $LIBVIRT_URI == qemu+tls://10.78.0.$((10 + k))/system &&
				$MIGRATION_PORTS == $((49152 + 100 * k))-$((49251 + 100 * k)) &&
				$NODE_HOST_UUID =~ ^[0-9a-f-]{36}$ ]]) || exit 1
		done' _ "$LODGE_CLUSTER_DIR"
	check "status exits 0 with the nodes up" test "$(status_rc)" = 0
	check "status shows both nodes running and answering" test "$(grep -cE \
		'^  node[12] +running +pid [0-9]+ .* answers: libvirt' "$WORK/status")" = 2
	check "status shows the VE switch" grep -qE '^  bridge +present +lodgebr0 10.77.0.1/24' "$WORK/status"
	check "status shows the datacenter bridge" grep -qE '^  bridge +present +lodgedc0 10.78.0.1/24' "$WORK/status"
	if [[ -x ${LODGE_BIN_DIR:-$HERE/../../build}/controller/lodged ]]; then
		check "status shows lodged active, its API answering" \
			grep -qE '^  lodged +running +pid [0-9]+ on ctl1 \(active, API answers\) at https://10.78.0.3:8443' "$WORK/status"
		check "status shows an agent per node" test "$(grep -cE '^  agent[12] +running +pid' "$WORK/status")" = 2
		# The hosts run Lodge as installed ('cmake --install' to /usr/local),
		# made by 'lodge cluster init' and 'lodge node join'.
		check "lodged and the agents run the installed programs, /usr/local/sbin of their hosts" bash -c '
			[[ $(tr "\0" " " </proc/"$(cat "$1/run/lodged.pid")"/cmdline) == "/usr/local/sbin/lodged --id ctl1 "* ]] &&
			for k in 1 2; do
				[[ $(tr "\0" " " </proc/"$(cat "$1/nodes/node$k/run/agent.pid")"/cmdline) == "/usr/local/sbin/lodge-agent --name node$k "* ]] || exit 1
			done' _ "$LODGE_CLUSTER_DIR"
		check "a host sees the installed programs read-only, the machine does not see them" bash -c '
			"$1" exec --host ctl1 test -x /usr/local/bin/lodge && ! "$1" exec --host ctl1 touch /usr/local/sbin/x 2>/dev/null &&
			"$1" exec --node 1 test -x /usr/local/sbin/lodge-agent && [ ! -e /usr/local/sbin/lodged ]' _ "$TOOL"
		check "ctl1 was made by lodge cluster init: its lodged.env, and the admin key of Ceph gone from its /etc/ceph" bash -c '
			grep -qx "LODGE_CEPH_USER=lodge" "$1/ctl1/lodge-etc/lodged.env" &&
			grep -q "wrote /etc/lodge/lodged.env" "$1/ctl1/log/cluster-init.log" &&
			[ -s "$1/ctl1/ceph-etc/ceph.conf" ] && [ ! -e "$1/ctl1/ceph-etc/ceph.client.admin.keyring" ]' _ "$LODGE_CLUSTER_DIR"
		check "each node joined: its lodge-agent.env, its own Ceph identity" bash -c '
			for k in 1 2; do
				grep -qx "LODGE_CEPH_USER=lodge-node$k" "$1/nodes/node$k/lodge-etc/lodge-agent.env" || exit 1
			done' _ "$LODGE_CLUSTER_DIR"
		check "both nodes registered and up in the control center" bash -c \
			'[ "$("$1" exec "$2/tools/lodge" node list | grep -cE "^node[12] +up ")" = 2 ]' \
			_ "$TOOL" "${LODGE_BIN_DIR:-$HERE/../../build}"
	else
		printf 'SKIP  control plane: lodged not built in %s\n' "${LODGE_BIN_DIR:-$HERE/../../build}"
	fi
	uuid1=$(host_uuid 1 || true)
	uuid2=$(host_uuid 2 || true)
	check "node1 answers on 10.78.0.11 with its own host UUID" bash -c \
		'[[ -n $1 && $1 == "$(sed -n "s/^NODE_HOST_UUID=//p" "$2/nodes/node1/node.env")" ]]' \
		_ "$uuid1" "$LODGE_CLUSTER_DIR"
	check "node2 answers on 10.78.0.12 with its own host UUID" bash -c \
		'[[ -n $1 && $1 == "$(sed -n "s/^NODE_HOST_UUID=//p" "$2/nodes/node2/node.env")" ]]' \
		_ "$uuid2" "$LODGE_CLUSTER_DIR"
	check "the two host UUIDs differ" test "$uuid1" != "$uuid2"
	for k in 1 2; do
		check "node$k's libvirtd listens on its own address only, in its own network" bash -c '
			l=$("$1" exec --node "$2" ss -Hltn) && grep -q " 10.78.0.$((10 + $2)):16514 " <<<"$l" &&
			! grep -qE " (0.0.0.0|\[::\]|\*):1651[49] " <<<"$l" && ! grep -q ":16509 " <<<"$l" &&
			! ip netns exec "$3" ss -Hltn | grep -q ":1651[49] "' _ "$TOOL" "$k" "$LODGE_NETNS"
		check "node$k is a network namespace of its own, with eth0 and its own lodgebr0" bash -c '
			[[ $("$1" exec --node "$2" readlink /proc/self/ns/net) != "$(ip netns exec "$3" readlink /proc/self/ns/net)" ]] &&
			"$1" exec --node "$2" ip -o addr show dev eth0 | grep -q " 10.78.0.$((10 + $2))/24 " &&
			"$1" exec --node "$2" ip -o link show master lodgebr0 | grep -q uplink0' _ "$TOOL" "$k" "$LODGE_NETNS"
	done
	check "no libvirtd of the cluster answers outside the namespace" bash -c \
		'! timeout 20 virsh -q -c "qemu+tls://10.78.0.11/system?pkipath=$1/pki/ops" uri >/dev/null 2>&1' _ "$LODGE_CLUSTER_DIR"
	check "libvirt refuses plain TCP and a client without the cluster's certificate" bash -c \
		'! "$1" exec timeout 20 virsh -q -c qemu+tcp://10.78.0.11/system uri >/dev/null 2>&1 &&
		mkdir -p "$2/nopki" && cp "$3/pki/ca-cert.pem" "$2/nopki/cacert.pem" &&
		certtool --generate-privkey --outfile "$2/nopki/clientkey.pem" >/dev/null 2>&1 &&
		printf "cn = \"ctl1\"\nexpiration_days = 1\ntls_www_client\n" >"$2/nopki/t" &&
		certtool --generate-self-signed --load-privkey "$2/nopki/clientkey.pem" --template "$2/nopki/t" \
			--outfile "$2/nopki/clientcert.pem" >/dev/null 2>&1 &&
		! "$1" exec timeout 20 virsh -q -c "qemu+tls://10.78.0.11/system?pkipath=$2/nopki" uri >/dev/null 2>&1 &&
		"$1" exec timeout 20 virsh -q -c "qemu+tls://10.78.0.11/system?pkipath=$3/pki/ops" uri >/dev/null' \
		_ "$TOOL" "$WORK" "$LODGE_CLUSTER_DIR"
	check "exec --node 2: virsh without -c talks to node2" bash -c \
		'"$1" exec --node 2 virsh capabilities | grep -qF "<uuid>$2</uuid>"' _ "$TOOL" "$uuid2"
	cat >"$WORK/in-node1.sh" <<'EOS'
grep -qx 'listen_addr = "10.78.0.11"' /etc/libvirt/libvirtd.conf &&
	[ "$NODE_NAME $LIBVIRT_URI" = "node1 qemu+tls://10.78.0.11/system" ] && [ "$(hostname)" = node1 ] &&
	[ -s /etc/pki/libvirt/servercert.pem ] && [ -s /etc/pki/qemu/server-key.pem ]
EOS
	check "exec --node 1: node1's /etc/libvirt, and node.env in the environment" \
		"$TOOL" exec --node 1 sh "$WORK/in-node1.sh"
	check "the machine's /etc/libvirt is untouched" bash -c \
		'! grep -qs "lodge-cluster" /etc/libvirt/libvirtd.conf /etc/libvirt/qemu.conf'
	check "no node directory is mounted outside the nodes' namespaces" \
		bash -c '! grep -qF -- "$1" /proc/self/mountinfo /proc/mounts' _ "$NODE_MOUNT_MARK"

	# A guest with no disk, under TCG: the distribution's kernel, which
	# panics without a root file system and stays so (panic=0); or, without
	# a kernel, the firmware that finds nothing to boot.  Either runs.
	kernels=(/boot/vmlinuz-*)
	kernel_xml=""
	[[ -e ${kernels[0]} ]] &&
		kernel_xml="<kernel>${kernels[0]}</kernel><cmdline>console=ttyS0 panic=0</cmdline>"
	cat >"$WORK/guest.xml" <<EOG
<domain type='qemu'>
  <name>lodge-test-guest</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    $kernel_xml
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <source bridge='lodgebr0'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
  </devices>
</domain>
EOG
	check "a guest is defined on node1" virsh_on 1 define "$WORK/guest.xml"
	timed "start a TCG guest on node1" virsh_on 1 start lodge-test-guest
	check "it runs on node1" test "$(domstate 1 lodge-test-guest)" = running
	check "its interface is a port of node1's own bridge lodgebr0" bash -c \
		'"$1" exec --node 1 ip -o link show master lodgebr0 | grep -qv uplink0' _ "$TOOL"
	check "node2 does not see node1's guest" bash -c \
		'! "$1" exec virsh -q -c "$2" list --all --name | grep -qx lodge-test-guest &&
		! "$1" exec virsh -q -c "$2" dominfo lodge-test-guest >/dev/null 2>&1' _ "$TOOL" "$(node_uri 2)"
	check "its log is node1's" test -s "$NODES_DIR/node1/log/qemu/lodge-test-guest.log"

	libvirtd1=$(cat "$NODES_DIR/node1/run/libvirtd.pid")
	kill -KILL "$libvirtd1"
	wait_for 30 "node1's libvirtd to end" bash -c \
		'! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]' _ "$libvirtd1" || true
	check "status exits 1 when a node's libvirtd is killed" test "$(status_rc)" = 1
	check "status shows node1 stopped" grep -qE '^  node1 +stopped' "$WORK/status"
	timed "up (node1's libvirtd killed)" "$TOOL" up
	check "up restarts the killed libvirtd" test "$RC" = 0 -a "$(status_rc)" = 0
	check "in node1's mount namespace, kept by its other processes" \
		stderr_has "node1: started libvirtd in its mount namespace"
	check "the new libvirtd found its running guest again" \
		test "$(domstate 1 lodge-test-guest)" = running
	check "node1 kept its host UUID" test "$(host_uuid 1)" = "$uuid1"

	# A failed 'up' on a running cluster stops nothing that ran (a test
	# that restarts one agent with 'up' from inside the namespace must not
	# be killed by it): node2's agent ends, and an 'up' that cannot start
	# it again (a malformed clock offset) fails.
	if [[ -x ${LODGE_BIN_DIR:-$HERE/../../build}/controller/lodged ]]; then
		agent2=$(cat "$NODES_DIR/node2/run/agent.pid")
		kill "$agent2"
		wait_for 20 "node2's agent to end" bash -c '! kill -0 "$1" 2>/dev/null' _ "$agent2" || true
		timed "up that fails (running cluster)" env LODGE_AGENT_CLOCK_OFFSET=never "$TOOL" up
		check "up fails when it cannot start an agent" test "$RC" = 1
		check "it says it leaves what runs" stderr_has "leaving what runs as it is"
		check "it did not roll the cluster back" bash -c '! grep -q "rolling back" "$1"' _ "$WORK/stderr"
		check "the guest still runs on node1" test "$(domstate 1 lodge-test-guest)" = running
		check "lodged and node1's agent still run" bash -c \
			'kill -0 "$(cat "$1/lodged.pid")" && kill -0 "$(cat "$2/node1/run/agent.pid")"' _ "$LODGE_CLUSTER_DIR/run" "$NODES_DIR"
		timed "up (node2's agent ended)" "$TOOL" up
		check "up again starts node2's agent" test "$RC" = 0 -a "$(status_rc)" = 0

		# An agent that never says "registered:" (a stand-in that only
		# sleeps): up waits for that agent's own line, not for the node's
		# state (which is still the last agent's), and says who it waited for.
		bin=${LODGE_BIN_DIR:-$HERE/../../build}
		fake=$WORK/fake-bin
		mkdir -p "$fake/controller" "$fake/nodeagent" "$fake/tools"
		ln -sf "$(realpath "$bin/controller/lodged")" "$fake/controller/lodged"
		ln -sf "$(realpath "$bin/tools/lodge")" "$fake/tools/lodge"
		printf '#!/bin/bash\nwhile :; do sleep 1; done\n' >"$fake/nodeagent/lodge-agent"
		chmod +x "$fake/nodeagent/lodge-agent"
		agent2=$(cat "$NODES_DIR/node2/run/agent.pid")
		kill "$agent2"
		wait_for 20 "node2's agent to end" bash -c '! kill -0 "$1" 2>/dev/null' _ "$agent2" || true
		timed "up with an agent that never registers" \
			env LODGE_BIN_DIR="$fake" LODGE_CLUSTER_TIMEOUT=5 "$TOOL" up
		check "up fails when an agent it started does not register" test "$RC" = 1
		check "it names that node" stderr_has "not registered: node2"
		check "it shows that agent's threads" stderr_has "node2: the agent.s threads"
		pkill -f -- "$fake/nodeagent/lodge-agent" || true
		timed "up (node2's real agent)" "$TOOL" up
		check "up then starts node2's agent" test "$RC" = 0 -a "$(status_rc)" = 0
	fi

	timed "live migration node1 -> node2 (64 MiB)" virsh_on 1 migrate --live --p2p \
		--persistent --undefinesource --tls lodge-test-guest "$(peer_uri 2)"
	check "the guest migrates live from node1 to node2" test "$RC" = 0
	check "it runs on node2" test "$(domstate 2 lodge-test-guest)" = running
	check "node1 has it no more" bash -c \
		'! "$1" exec virsh -q -c "$2" list --all --name | grep -qx lodge-test-guest' _ "$TOOL" "$(node_uri 1)"
	check "the guest is destroyed on node2" virsh_on 2 destroy lodge-test-guest
	check "it is shut off" test "$(domstate 2 lodge-test-guest)" = "shut off"
	check "and starts again on node2" virsh_on 2 start lodge-test-guest
	qemu_pids=$(pgrep -f -- 'guest=lodge-test-guest' || true)
	check "its QEMU runs in node2's mount namespace" bash -c '
		[[ -n $2 ]] && for p in $2; do
			[[ $(stat -L -c %d:%i "/proc/$p/root/run/libvirt") == $(stat -c %d:%i "$1/node2/run") ]] || exit 1
		done' _ "$NODES_DIR" "$qemu_pids"

	timed "up --nodes 1 (fewer nodes)" "$TOOL" up --nodes 1
	check "up refuses to remove nodes" test "$RC" = 1
	check "exec --node 3 fails: there is no node3" \
		bash -c '"$1" exec --node 3 true 2>/dev/null; test $? = 1' _ "$TOOL"
	check "exec --node x is a usage error" \
		bash -c '"$1" exec --node x true 2>/dev/null; test $? = 2' _ "$TOOL"

	timed "down --purge (2 nodes, guest running)" "$TOOL" down --purge
	check "down --purge succeeds" test "$RC" = 0
	check "no libvirtd or virtlogd of the cluster is left" no_node_process
	check "no QEMU of the cluster is left" bash -c \
		'for p in $1; do ! kill -0 "$p" 2>/dev/null || [[ $(ps -o stat= -p "$p") == Z* ]] || exit 1; done' \
		_ "$qemu_pids"
	check "no mount of the node directories is left (any process, /proc/mounts)" no_node_mounts
	check "no process of the cluster is left" no_cluster_process
	check "no namespace (and so no bridge) is left" no_netns
	check "no bridge lodgebr0 on the machine" bash -c '! ip link show lodgebr0 >/dev/null 2>&1'
	check "the cluster directory is erased" test ! -e "$LODGE_CLUSTER_DIR"

	# Stop 'up' while it starts the nodes: nothing may be left.
	"$TOOL" up --memstore --nodes 2 >/dev/null 2>"$WORK/stderr" &
	up_pid=$!
	wait_for 120 "node1's libvirtd to start" test -s "$NODES_DIR/node1/run/libvirtd.pid" || true
	kill -TERM "$up_pid"
	rc=0
	wait "$up_pid" || rc=$?
	check "up --nodes 2 stopped by SIGTERM exits 143" test "$rc" = 143
	check "it erases the half-created cluster (nodes too)" test ! -e "$LODGE_CLUSTER_DIR"
	check "it leaves no node process" no_node_process
	check "it leaves no mount of the node directories" no_node_mounts
	check "it leaves no process of the cluster" no_cluster_process
	check "it leaves no namespace" no_netns
fi

echo "# usage"
quiet() { "$@" >/dev/null 2>&1; }
check "--help succeeds" quiet "$TOOL" --help
for cmd in up down status exec; do
	check "$cmd --help succeeds" quiet "$TOOL" "$cmd" --help
done
check "an unknown command exits 2" bash -c '"$1" frobnicate 2>/dev/null; test $? = 2' _ "$TOOL"
check "--nodes 17 is a usage error (at most 16 nodes)" \
	bash -c '"$1" up --nodes 17 2>/dev/null; test $? = 2' _ "$TOOL"
check "--nodes x is a usage error" \
	bash -c '"$1" up --nodes x 2>/dev/null; test $? = 2' _ "$TOOL"
check "a cluster directory under /tmp is refused (every host has its own /tmp)" \
	bash -c 'out=$(LODGE_CLUSTER_DIR=/tmp/lodge-x "$1" up --nodes 0 2>&1); test $? = 1 &&
		grep -q "every host of the cluster has its own" <<<"$out" && test ! -e /tmp/lodge-x' _ "$TOOL"
check "exec --host ctl9 is a usage error" \
	bash -c '"$1" exec --host ctl9 true 2>/dev/null; test $? = 2' _ "$TOOL"

echo "# timings"
printf '#   %s\n' "${TIMINGS[@]}"
printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
