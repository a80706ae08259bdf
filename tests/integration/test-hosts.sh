#!/bin/bash
# Separate hosts on one machine: Ceph runs on the host ceph, lodged on ctl1
# (and ctl2, its standby, while this test asks for it), each node's
# libvirtd, virtlogd, agent and QEMUs on nodeK, and the admin host has only
# the lodge CLI. Each host has its own address on the datacenter bridge,
# its own host name and its own /run, /tmp, /var/log, /var/lib/lodge,
# /etc/lodge, /etc/libvirt and /var/lib/libvirt; none sees the cluster
# directory. A file written in one of them on one host is absent on every
# other host and on the machine itself. (A VE's config blob on its node
# only: test-ve and test-migrate.)
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cluster=$src/tools/lodge-cluster
hosts="admin ctl1 $LODGE_NODES"
dirs="/run /tmp /var/log /var/lib/lodge /etc/lodge /etc/libvirt /var/lib/libvirt"
marker=lodge-hosts-test.$$
declare -A addr=([ceph]=10.78.0.2 [ctl1]=10.78.0.3 [ctl2]=10.78.0.4 [admin]=10.78.0.5)
for n in $LODGE_NODES; do addr[$n]=10.78.0.$((10 + ${n#node})); done

for h in $hosts; do
  name=$(on_host "$h" hostname 2>&1)
  check "$h: its host name is $h ($name)" '[ "$name" = "$h" ]'
  a=$(on_host "$h" ip -4 -o addr show dev eth0 2>&1 | awk '{ print $4 }')
  check "$h: its address is ${addr[$h]} ($a)" '[ "$a" = "${addr[$h]}/24" ]'
  check "$h: the cluster directory is hidden there" \
    '[ -e "$LODGE_CLUSTER_DIR/ceph.client.admin.keyring" ] && on_host "$h" test -d "$LODGE_CLUSTER_DIR" && [ -z "$(on_host "$h" ls -A "$LODGE_CLUSTER_DIR")" ]'
done
# The programs themselves run there (not only what exec starts): their
# UTS and network namespaces are their host's.
lodged=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
check "lodged runs on ctl1" '[ "$(nsenter --target "$lodged" --uts hostname)" = ctl1 ]'
check "lodged listens on ctl1's address only" \
  '[ "$(nsenter --target "$lodged" --net ss -Hltn | awk "{ print \$4 }" | sort | tr "\n" " ")" = "10.78.0.3:8443 " ]'
# Its API is HTTPS only, with a certificate of the cluster's CA for its
# address; plain HTTP gets no answer, and the CLI sends no token over it.
check "ctl1's API answers HTTPS, verified against the cluster's CA" \
  '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 --cacert "$LODGE_CA" -H "Authorization: Bearer $LODGE_TOKEN" https://10.78.0.3:8443/v1/nodes)" = 200 ]'
check "ctl1's API does not answer plain HTTP" \
  '! curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $LODGE_TOKEN" http://10.78.0.3:8443/v1/nodes || [ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 http://10.78.0.3:8443/v1/nodes)" = 400 ]'
expect 5 "without the cluster's CA, the CLI does not trust ctl1" '[Cc]ertificate|TLS' -- \
  env -u LODGE_CA "$lodge" node list
expect 1 "the CLI refuses to send the token over plain HTTP" 'refusing to send the API token to http://10.78.0.3:8443 over plain HTTP' -- \
  "$lodge" list --connect http://10.78.0.3:8443
for n in $LODGE_NODES; do
  agent=$(cat "$LODGE_CLUSTER_DIR/nodes/$n/run/agent.pid")
  check "$n's agent runs on $n" '[ "$(nsenter --target "$agent" --uts hostname)" = "$n" ]'
done
mon=$(cat "$LODGE_CLUSTER_DIR/run/mon.a.pid")
check "the Ceph monitor runs on ceph, at 10.78.0.2" \
  '[ "$(nsenter --target "$mon" --uts hostname)" = ceph ] && nsenter --target "$mon" --net ip -4 -o addr show dev eth0 | grep -q " 10.78.0.2/24 " && nsenter --target "$mon" --net ss -Hltn | grep -q "10.78.0.2:3300 "'
check "ceph, ctl1 and the operations position are three network namespaces" \
  '[ "$(readlink /proc/"$mon"/ns/net /proc/"$lodged"/ns/net /proc/self/ns/net | sort -u | wc -l)" = 3 ]'

# No host takes a plaintext control connection: each one's TCP listeners
# are TLS (lodged 8443, libvirtd 16514) or Ceph's (cephx), and libvirt's
# plain port (qemu+tcp, 16509), plain HTTP, and a plain request to every
# port a host listens on get no answer.
only() { # WORDS REGEX: every word matches
  local w
  for w in $1; do [[ $w =~ $2 ]] || return 1; done
}
plain_refused() { # HOST REGEX CMD...: CMD runs in HOST's network namespace
  local host=$1 allowed=$2 a=${addr[$1]} l ports p codes=""
  shift 2
  l=$("$@" ss -Hltn | awk '{ print $4 }' | sort -u | tr '\n' ' ')
  check "$host listens for TCP on TLS or Ceph ports only (${l:-nothing})" 'only "$l" "$allowed"'
  check "$host: qemu+tcp:// is refused" '! timeout 20 virsh -c "qemu+tcp://$a/system" uri >/dev/null 2>&1'
  ports="$(for p in $l; do echo "${p##*:}"; done | sort -u | tr '\n' ' ')16509 8080 80"
  for p in $ports; do
    codes+="$p:$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "http://$a:$p/v1/nodes") "
  done
  check "$host: plain HTTP gets no HTTP answer on any port ($codes)" '! grep -qv ":000$" < <(tr " " "\n" <<<"${codes% }")'
}
plain_refused ceph '^10\.78\.0\.2:(3300|6789|6[89][0-9][0-9]|7[0-2][0-9][0-9]|7300)$' nsenter --target "$mon" --net
plain_refused ctl1 '^10\.78\.0\.3:8443$' nsenter --target "$lodged" --net
plain_refused admin '^$' on_host admin
for n in $LODGE_NODES; do
  plain_refused "$n" "^${addr[$n]//./\\.}:16514\$" nsenter --target "$(cat "$LODGE_CLUSTER_DIR/nodes/$n/run/agent.pid")" --net
done

# The admin host: the lodge CLI only, through the controllers of its own
# client.conf with its own token; no Ceph key, no QEMU, no Ceph or
# libguestfs library.
expect 0 "admin: lodge node list (client.conf and its token)" '^node1 +up' -- on_host admin "$lodge" node list
expect 0 "admin: lodge template list" 'NAME' -- on_host admin "$lodge" template list
expect 1 "admin: without the token the controller refuses" 'Authorization: Bearer' -- \
  on_host admin env LODGE_URL=https://10.78.0.3:8443 LODGE_CA=/etc/lodge/ca-cert.pem "$lodge" node list
lacks=$(on_host admin sh -c '
  for f in /usr/bin/qemu-system-* /usr/lib/*/libguestfs.so.* /usr/lib/*/librados.so.* /usr/lib/*/librbd.so.*; do
    [ -e "$f" ] && [ ! -c "$f" ] && echo "$f"
  done
  ls -A /etc/ceph 2>/dev/null
  find /etc /root /var/lib /tmp -name "*.keyring" 2>/dev/null
  ldd "$1" | grep -E "rados|rbd|guestfs|virt"
  true' sh "$lodge")
check "admin: no QEMU, Ceph key, Ceph or libguestfs library (found: ${lacks:-none})" '[ -z "$lacks" ]'
check "admin: a Ceph client fails there" '! on_host admin python3 -c "import rados" 2>/dev/null'

# Each host writes a file of its own name in each directory.
for h in $hosts; do
  for d in $dirs; do
    on_host "$h" sh -c 'echo "$1" >"$2"' sh "$h" "$d/$marker.$h" ||
      not_ok "$h: cannot write $d/$marker.$h"
  done
done
for h in $hosts; do
  for d in $dirs; do
    seen=$(on_host "$h" sh -c 'for f in "$1"/"$2".*; do [ -e "$f" ] && printf "%s " "${f##*.}"; done' sh "$d" "$marker")
    check "$h sees only its own file in $d (${seen:-none})" '[ "$seen" = "$h " ]'
  done
done
for d in $dirs; do
  seen=$(for f in "$d/$marker".*; do [ -e "$f" ] && printf '%s ' "${f##*.}"; done)
  check "the machine itself sees none of them in $d (${seen:-none})" '[ -z "$seen" ]'
done
for h in $hosts; do
  for d in $dirs; do on_host "$h" rm -f -- "$d/$marker.$h"; done
done

# A second controller: ctl2 waits as standby; when ctl1's lodged dies, the
# admin host's CLI reaches ctl2 without being reconfigured. Then back to
# one controller.
if expect 0 "up --controllers 2 starts lodged on ctl2" 'lodged: started on ctl2' -- "$cluster" up --controllers 2; then
  check "ctl2 is a standby" '"$cluster" status 2>/dev/null | grep -q "on ctl2 (standby)"'
  plain_refused ctl2 '^10\.78\.0\.4:8443$' on_host ctl2
  # The standby answers where the leader is without reading a body.
  truncate -s 2G "$tmp/big"
  out=$(curl -s -o /dev/null -w "%{http_code} %{time_total}" --max-time 30 --cacert "$LODGE_CA" -H "Expect:" -T "$tmp/big" https://10.78.0.4:8443/v1/environments/x || true)
  check "ctl2, a standby, answers a 2 GB body 503 at once, unread ($out s)" '[ "${out% *}" = 503 ] && awk -v t="${out#* }" "BEGIN { exit !(t < 5) }"'
  rm -f "$tmp/big"
  check "the admin host's client.conf names both controllers" \
    'on_host admin grep -qx "controllers=https://10.78.0.3:8443,https://10.78.0.4:8443" /etc/lodge/client.conf'
  kill -KILL "$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")"
  start=$SECONDS
  if wait_for 60 on_host admin "$lodge" node list; then
    ok "after ctl1's lodged was killed, the admin's CLI reaches ctl2 ($((SECONDS - start)) s)"
  else
    not_ok "after ctl1's lodged was killed, the admin's CLI reaches no controller"
    tail -n 20 "$LODGE_CLUSTER_DIR/log/lodged-ctl2.log" | show 20
  fi
  check "ctl2 leads" '"$cluster" status 2>/dev/null | grep -q "on ctl2 (active"'
fi
expect 0 "up --controllers 1: back to ctl1 alone" 'control plane ready' -- "$cluster" up --controllers 1
check "ctl2 is gone" '! ip netns list | grep -q "^$LODGE_NETNS-ctl2\b" && ! "$cluster" status 2>/dev/null | grep -q ctl2'
expect 0 "admin: lodge node list through ctl1 again" '^node1 +up' -- on_host admin "$lodge" node list
finish
