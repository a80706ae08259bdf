#!/bin/bash
# Network isolation (docs/security.md, Network isolation): addresses are
# one VE's in the whole cluster, and a VE's interface sends only from its
# own MAC and addresses (libvirt nwfilter, virt/lodge-nwfilter.h). Two VEs,
# iso-a and iso-b; from inside iso-b, as a hostile customer's root: taking
# iso-a's IP address (with gratuitous ARP), its MAC, sending as a DHCP
# server, and reaching the control plane. Each attack is first shown to be
# one that works without the filter's reason to fail (a baseline), then
# to fail. The filter follows iso-b when it migrates. A definition without
# claims (from before them) gets them when a controller becomes active.
# check's conditions are single-quoted strings that check evaluates.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
ensure_busybox || skip "the busybox template could not be imported"
a_ip=10.77.0.141 b_ip=10.77.0.142 b_ip2=10.77.0.145

# ---- addresses are one VE's ----
define_ve iso-a "$a_ip" >/dev/null || skip "could not define iso-a"
# iso-b has a second address: its filter has a rule for each.
ve_xml iso-b "$b_ip" | sed "s|<ip address=\"$b_ip\" prefix=\"24\"/>|&\n      <ip address=\"$b_ip2\" prefix=\"24\"/>|" >"$tmp/iso-b.xml"
echo iso-b >>"$tmp/ves"
grep -q "$b_ip2" "$tmp/iso-b.xml" || skip "could not add a second address to iso-b's definition"
"$lodge" define "$tmp/iso-b.xml" >/dev/null || skip "could not define iso-b"
ve_xml iso-c "$a_ip" >"$tmp/iso-c.xml"
echo iso-c >>"$tmp/ves"
expect 4 "a VE with iso-a's IP address is refused, naming iso-a" \
  "address $a_ip \\(eth0\\) is taken: environment iso-a has it" -- "$lodge" define "$tmp/iso-c.xml"
a_mac=$("$lodge" domain-xml "$tmp/iso-a.xml" | sed -n 's/.*<mac address="\([^"]*\)".*/\1/p' | head -n 1)
ve_xml iso-c 10.77.0.143 | sed "s|<interface name=\"eth0\">|<interface name=\"eth0\">\n      <mac address=\"$a_mac\"/>|" >"$tmp/iso-c-mac.xml"
expect 4 "a VE with iso-a's MAC ($a_mac) is refused" "address MAC $a_mac \\(eth0\\) is taken: environment iso-a has it" -- \
  "$lodge" define "$tmp/iso-c-mac.xml"
check "iso-c was not defined" '! "$lodge" list | grep -q "^iso-c "'
expect 0 "iso-a redefined with its own address" 'iso-a' -- "$lodge" define "$tmp/iso-a.xml"
ve_xml iso-a 10.77.0.144 >"$tmp/iso-a-moved.xml"
expect 0 "iso-a moved to another address..." 'iso-a' -- "$lodge" define "$tmp/iso-a-moved.xml"
expect 0 "... frees its old one for iso-c" 'iso-c' -- "$lodge" define "$tmp/iso-c.xml"
expect 4 "... and takes the new one (iso-c cannot have it)" "address 10.77.0.144 \\(eth0\\) is taken: environment iso-a has it" -- \
  sh -c "sed 's/$a_ip/10.77.0.144/' '$tmp/iso-c.xml' >'$tmp/iso-c2.xml' && '$lodge' define '$tmp/iso-c2.xml'"
expect 0 "iso-c undefined..." '' -- "$lodge" undefine iso-c
expect 0 "... frees $a_ip for iso-a again" 'iso-a' -- "$lodge" define "$tmp/iso-a.xml"

# ---- the filter on a running VE ----
expect 0 "start iso-a" 'iso-a: running on node' -- "$lodge" start iso-a
expect 0 "start iso-b" 'iso-b: running on node' -- "$lodge" start iso-b
wait_for 60 curl -sf -o /dev/null "http://$a_ip/hostname.txt" || true
wait_for 60 curl -sf -o /dev/null "http://$b_ip/hostname.txt" || true
check "iso-a answers at $a_ip" '[ "$(curl -s --max-time 5 "http://$a_ip/hostname.txt")" = iso-a ]'
node=$(running_on iso-b | head -n 1)
# shellcheck disable=SC1090
check "iso-b's interface on $node has Lodge's filter with its own IP" \
  '(. "$LODGE_CLUSTER_DIR/nodes/$node/node.env" && virsh -q -c "$OPS_LIBVIRT_URI" dumpxml iso-b) |
     grep -A4 "<filterref filter=.lodge-ve." | grep -q "name=.IP. value=.$b_ip."'
# inb CMD: a shell command run as root inside iso-b.
inb() { "$lodge" exec iso-b -- sh -c "$1"; }
# (busybox's static wget crashes in the guest: nc speaks HTTP instead)
check "baseline: iso-b reaches iso-a's web server" \
  'inb "printf \"GET /hostname.txt HTTP/1.0\\r\\n\\r\\n\" | nc -w 5 $a_ip 80" | grep -q "^iso-a"'

# IP theft: iso-b adds iso-a's address and announces it (gratuitous ARP,
# replies, and pings from it, each an ARP packet claiming the address). The
# operations position knows iso-a's MAC for it (its entry is older than
# the neighbour table's lock time, 1 s): without the filter, the first
# announcement moves its entry to iso-b, whose web server then answers.
# steal: iso-b's attempt.
steal() {
  inb "ip addr add $a_ip/24 dev eth0 2>/dev/null; arping -U -c 2 -I eth0 $a_ip; arping -A -c 2 -I eth0 $a_ip;
    ping -c 2 -W 1 -I $a_ip 10.77.0.1" >/dev/null 2>&1
}
# answers N: who answers at iso-a's address, N times ("iso-a iso-a ...").
answers() { for _ in $(seq "$1"); do curl -s --max-time 5 "http://$a_ip/hostname.txt" || echo none; done | tr '\n' ' '; }
check "the operations position's ARP entry for $a_ip is iso-a's MAC" \
  'ip neigh show to "$a_ip" | grep -qi "lladdr $a_mac"'
sleep 2
steal
got=$(answers 5)
check "after iso-b took $a_ip and announced it, $a_ip is still iso-a ($got)" \
  '[ "$got" = "iso-a iso-a iso-a iso-a iso-a " ]'
check "and the operations position's ARP entry for $a_ip is still iso-a's MAC" \
  'ip neigh show to "$a_ip" | grep -qi "lladdr $a_mac"'
inb "ip addr del $a_ip/24 dev eth0" >/dev/null 2>&1
check "iso-b still reaches the bridge from its own address" 'inb "ping -c 1 -W 3 10.77.0.1" >/dev/null 2>&1'
check "iso-b answers at its second address $b_ip2 too (ARP and IPv4 from it pass)" \
  'wait_for 10 sh -c "[ \"\$(curl -s --max-time 3 http://$b_ip2/hostname.txt)\" = iso-b ]"'
check "and reaches the bridge from it" 'inb "ping -c 1 -W 3 -I $b_ip2 10.77.0.1" >/dev/null 2>&1'

# MAC theft: iso-b takes iso-a's MAC.
inb "ip link set eth0 down; ip link set eth0 address $a_mac; ip link set eth0 up; sleep 1" >/dev/null 2>&1
check "with iso-a's MAC, iso-b reaches nothing" '! inb "ping -c 2 -W 2 10.77.0.1" >/dev/null 2>&1'
b_mac=$("$lodge" domain-xml "$tmp/iso-b.xml" | sed -n 's/.*<mac address="\([^"]*\)".*/\1/p' | head -n 1)
inb "ip link set eth0 down; ip link set eth0 address $b_mac; ip link set eth0 up; ip route replace default via 10.77.0.1; sleep 1" >/dev/null 2>&1
check "with its own MAC again, it does" 'wait_for 10 inb "ping -c 1 -W 2 10.77.0.1"'

# A DHCP server: iso-b's DHCP client's DISCOVER (UDP from port 68) reaches
# the bridge, but its DHCP server's OFFER (UDP from port 67) does not.
# dhcp MODE WAIT: what the operations position hears on the bridge, as
# "ADDRESS:PORT", within WAIT seconds: MODE listen hears port 67 (a
# client's broadcast); MODE discover sends a DISCOVER to iso-b's port 67
# and hears port 68 (a server's answer).
dhcp() {
  timeout "$(($2 + 4))" python3 - "$1" "$2" "$b_ip" <<'PY'
import os, socket, struct, sys
mode, wait, server = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("", 67 if mode == "listen" else 68))
s.settimeout(wait)
if mode == "discover":
    mac = bytes.fromhex("525400aabbcc")
    pkt = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, int.from_bytes(os.urandom(4), "big"), 0,
                      0x8000, bytes(4), bytes(4), bytes(4), bytes(4), mac + bytes(10), bytes(64), bytes(128))
    s.sendto(pkt + bytes([99, 130, 83, 99, 53, 1, 1, 255]), (server, 67))
try:
    data, addr = s.recvfrom(2048)
    print("%s:%d" % addr)
except socket.timeout:
    pass
PY
}
dhcp listen 8 >"$tmp/heard" &
sleep 1
inb "udhcpc -i eth0 -n -q -t 2 -T 1 -s /bin/true" >/dev/null 2>&1
wait
check "baseline: iso-b's DHCP client's DISCOVER, UDP from port 68, reaches the bridge ($(cat "$tmp/heard"))" \
  'grep -q ":68$" "$tmp/heard"'
inb "printf 'interface eth0\nstart 10.77.0.200\nend 10.77.0.210\nlease_file /tmp/leases\n' >/tmp/udhcpd.conf;
  touch /tmp/leases; udhcpd /tmp/udhcpd.conf" >/dev/null 2>&1
check "iso-b runs a DHCP server" 'inb "pidof udhcpd" >/dev/null 2>&1'
heard=$(dhcp discover 5)
check "its OFFER (UDP from port 67) does not leave iso-b (heard: '$heard')" '[ -z "$heard" ]'
inb "killall udhcpd" >/dev/null 2>&1

# The control plane: no route from the VE network to the datacenter's.
check "baseline: iso-b connects to iso-a's port 80" 'inb "nc -w 3 $a_ip 80 </dev/null"'
for target in "10.78.0.3 8443 the API on ctl1" "10.78.0.2 6789 Ceph's monitor" \
  "10.78.0.11 16514 node1's libvirt"; do
  read -r addr port what <<<"$target"
  check "iso-b cannot connect to $what ($addr:$port)" '! inb "nc -w 3 $addr $port </dev/null" >/dev/null 2>&1'
done

# The filter follows a migrated VE.
if [ "$(wc -w <<<"$LODGE_NODES")" -ge 2 ]; then
  to=$(for n in $LODGE_NODES; do [ "$n" != "$node" ] && echo "$n"; done | head -n 1)
  expect 0 "migrate iso-b to $to" "iso-b: running on $to" -- "$lodge" migrate iso-b --to "$to"
  answers 1 >/dev/null
  sleep 2
  steal
  got=$(answers 3)
  check "on $to too, iso-b's theft of $a_ip fails ($got)" '[ "$got" = "iso-a iso-a iso-a " ]'
else
  skip_part "the filter after a migration" "one node only"
fi

# A definition from before address claims (here: iso-a's claim removed
# behind lodged's back) gets its claims when a controller becomes active.
if command -v rados >/dev/null; then
  check "iso-a's claim of $a_ip is removed from the store" \
    'rados --id "${LODGE_CEPH_USER:-lodge}" -p lodge-state -N address rm "ip4-$a_ip"'
  log=$LODGE_CLUSTER_DIR/log/lodged.log
  lines=$(wc -l <"$log")
  lodged=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
  kill -TERM "$lodged"
  wait_for 30 bash -c "! kill -0 $lodged 2>/dev/null" || not_ok "lodged did not stop within 30 s of SIGTERM"
  expect 0 "lodge-cluster up starts lodged again" 'up in' -- "$src/tools/lodge-cluster" up
  check "the new lodged claimed iso-a's address at start, and said so" \
    'wait_for 30 bash -c "tail -n +$((lines + 1)) \"$log\" | grep -q \"environment iso-a: claimed 1 of its addresses\""'
  expect 4 "a VE with iso-a's IP address is refused again, naming iso-a" \
    "address $a_ip \\(eth0\\) is taken: environment iso-a has it" -- "$lodge" define "$tmp/iso-c.xml"
else
  skip_part "claims of older definitions" "no rados command (ceph-common)"
fi
finish
