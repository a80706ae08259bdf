#!/bin/bash
# Installing on hosts (docs/deploy.md): 'lodge cluster init' on the shared
# cluster's Ceph, join tokens, and a fourth node added with 'lodge node
# join', started from what the join wrote (tools/lodge-cluster join), made
# to run a VE, and removed again. Refused joins (a wrong CA pin, a wrong
# secret, a token of another role or host, an expired or a used token)
# write nothing.
# check's conditions are single-quoted strings that check evaluates.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cluster=$src/tools/lodge-cluster
lodged=$build/controller/lodged
api=${LODGE_URL%%,*}
n=$(wc -w <<<"$LODGE_NODES")
k=$((n + 1))
new=node$k
ve=join-ve
ca=$LODGE_CLUSTER_DIR/pki/ca-cert.pem
ca_key=$LODGE_CLUSTER_DIR/pki/ca-key.pem
[ -r "$ca_key" ] || skip "no cluster CA key at $ca_key (tools/lodge-cluster up makes it)"
command -v openssl >/dev/null || skip "openssl is missing (the certificates' checks)"
added=0
cleanup() {
  "$lodge" stop "$ve" --force >/dev/null 2>&1
  "$lodge" undefine "$ve" >/dev/null 2>&1
  ((added)) && "$cluster" remove-node "$k" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
fp=$(openssl x509 -in "$ca" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')

# ---- lodge cluster init, on the Ceph the cluster already uses
etc=$tmp/etc
expect 4 "cluster init refuses a Ceph that holds a Lodge cluster, naming its CA" \
  "holds a Lodge cluster already \\(its CA's SHA-256 is $fp\\)" -- \
  env LODGE_LODGED="$lodged" "$lodge" cluster init --etc "$etc" --name ctl9 --address 10.77.0.99 --admin-user init-admin
check "the refused init wrote nothing" '[ ! -e "$etc" ]'
expect 0 "cluster init with the cluster's own CA (as a provider with its own CA would)" 'lodge node join https://' -- \
  env LODGE_LODGED="$lodged" "$lodge" cluster init --etc "$etc" --name ctl9 --address 10.77.0.99 \
  --admin-user init-admin --ca-cert "$ca" --ca-key "$ca_key"
init_out=$(grep -A1 'shown this once' <<<"$(env LODGE_LODGED="$lodged" "$lodge" cluster init --etc "$tmp/etc2" \
  --name ctl9 --address 10.77.0.99 --admin-user init-admin2 --ca-cert "$ca" --ca-key "$ca_key" 2>&1)" | tail -n 1)
admin_token=$(tr -d ' ' <<<"$init_out")
check "a second init (another admin) prints that admin's token" '[[ $admin_token == init-admin2.* ]]'
for f in ceph.conf ceph.client.lodge.keyring ca-cert.pem tls/cert.pem tls/key.pem pki/clientkey.pem admin-token \
  client.conf lodged.env; do
  check "cluster init wrote $f" '[ -s "$etc/$f" ]'
done
check "its secrets are not world-readable (key, keyring, admin token)" \
  '[ "$(stat -c %a "$etc/tls/key.pem" "$etc/ceph.client.lodge.keyring" "$etc/admin-token" | sort -u | tr "\n" " ")" = "600 640 " ]'
check "its certificate is the CA's, for ctl9 and 10.77.0.99" \
  'openssl verify -CAfile "$ca" "$etc/tls/cert.pem" >/dev/null && openssl x509 -in "$etc/tls/cert.pem" -noout -ext subjectAltName | grep -q "DNS:ctl9, IP Address:10.77.0.99"'
check "lodged.env names the identity, the certificate and the listener" \
  'grep -qx "LODGE_CEPH_USER=lodge" "$etc/lodged.env" && grep -q -- "--listen 10.77.0.99:8443 --tls-cert $etc/tls/cert.pem" "$etc/lodged.env"'
check "the controllers' Ceph identity it wrote is the one lodged runs with" \
  'grep -q "key = $(sed -n "s/.*key = //p" "$LODGE_CLUSTER_DIR/ceph.client.lodge.keyring")" "$etc/ceph.client.lodge.keyring"'
# (the controller reads users again every 5 s: the init wrote its own)
whoami_init() { env LODGE_TOKEN="$(cat "$etc/admin-token")" "$lodge" user whoami; }
check "the first admin's token works: whoami says init-admin (admin)" \
  'wait_for 15 whoami_init && [ "$(whoami_init)" = "init-admin (admin)" ]'
"$lodge" user remove init-admin >/dev/null 2>&1
"$lodge" user remove init-admin2 >/dev/null 2>&1

# ---- tokens
expect 0 "an admin makes a node token for $new" '^[0-9a-f]{8}\.[0-9a-f]{32}\.[0-9a-f]{64}$' -- \
  "$lodge" join-token create --role node --name "$new" --ttl 10m
token=$("$lodge" join-token create --role node --name "$new" --ttl 10m 2>/dev/null)
check "the token pins the cluster CA's SHA-256" '[ "${token##*.}" = "$fp" ]'
expect 0 "join-token list shows it, without its secret" "^${token%%.*} +node +$new " -- "$lodge" join-token list
check "no secret in the list" 'output_lacks "$(cut -d. -f2 <<<"$token")" "$lodge" join-token list -o json'
expect 1 "a token's life is bounded" "must be 1 to 604800 seconds" -- "$lodge" join-token create --ttl 8d
expect 1 "a viewer may not make tokens" "needs the role admin" -- \
  env LODGE_TOKEN="$("$lodge" user add join-viewer --role viewer)" "$lodge" join-token create
"$lodge" user remove join-viewer >/dev/null 2>&1

# join_into DIR TOKEN [ARGS...]: a join from the operations position, its
# files under DIR (a host being prepared), nothing started.
join_into() {
  local dir=$1 t=$2
  shift 2
  "$lodge" node join "$api" --token "$t" --root "$dir" --no-start --address 10.77.0.98 "$@"
}
# ---- refused joins write nothing
bad_pin=${token%.*}.$(printf '%064d' 0)
expect 6 "a token pinning another CA: the controller is not trusted" "is not the one the token names" -- \
  join_into "$tmp/r1" "$bad_pin" --name "$new"
check "nothing written" '[ ! -e "$tmp/r1/etc" ]'
bad_secret=${token%%.*}.$(printf '%032d' 0).$fp
expect 6 "a wrong secret is refused" "the join token is not valid" -- join_into "$tmp/r2" "$bad_secret" --name "$new"
expect 6 "the token for $new is refused to another name" "the join token is not valid" -- \
  join_into "$tmp/r3" "$token" --name node99
ctl_token=$("$lodge" join-token create --role controller --ttl 10m 2>/dev/null)
expect 6 "a controller's token does not join a node" "the join token is not valid" -- \
  join_into "$tmp/r4" "$ctl_token" --name "$new"
short=$("$lodge" join-token create --role node --ttl 1s 2>/dev/null)
sleep 1.5 # the token's whole life, and a little
expect 6 "an expired token is refused" "the join token is not valid" -- join_into "$tmp/r5" "$short" --name node98
check "none of the refused joins wrote a file" '[ -z "$(ls -A "$tmp" | grep "^r[1-5]$")" ]'
expect 0 "a controller token joins a standby controller's files (written, not started)" "joined: certificate for 'ctl8'" -- \
  "$lodge" controller join "$api" --token "$ctl_token" --root "$tmp/ctl8" --no-start --name ctl8 --address 10.77.0.97
check "the standby has the controllers' identity and its own certificate" \
  'grep -qx "LODGE_CEPH_USER=lodge" "$tmp/ctl8/etc/lodge/lodged.env" && openssl verify -CAfile "$ca" "$tmp/ctl8/etc/lodge/tls/cert.pem" >/dev/null'
expect 6 "a used token is refused (replayed)" "the join token is not valid" -- \
  "$lodge" controller join "$api" --token "$ctl_token" --root "$tmp/ctl7" --no-start --name ctl7 --address 10.77.0.96

# ---- the fourth node
expect 0 "$new joins (lodge node join as the host $new)" "$new joined" -- "$cluster" join "$k" "$api" "$token"
added=1
dir=$LODGE_CLUSTER_DIR/nodes/$new
addr=$(sed -n 's/^NODE_ADDR=//p' "$dir/node.env")
check "its key is its own, 0600, in its own /etc/pki" '[ "$(stat -c %a "$dir/pki/libvirt/private/serverkey.pem")" = 600 ]'
check "its certificate is the CA's, for $new and its address" \
  'openssl verify -CAfile "$ca" "$dir/pki/libvirt/servercert.pem" >/dev/null && openssl x509 -in "$dir/pki/libvirt/servercert.pem" -noout -ext subjectAltName | grep -q "DNS:$new, IP Address:$addr"'
check "its agent's settings name it and its identity" \
  'grep -q -- "--name $new --address $addr " "$dir/lodge-etc/lodge-agent.env" && grep -qx "LODGE_CEPH_USER=lodge-$new" "$dir/lodge-etc/lodge-agent.env"'
caps_got() { ceph auth get "client.lodge-$new" 2>/dev/null | sed -n 's/^\tcaps \([a-z]*\) = "\(.*\)"$/\1=\2/p' | sort; }
caps_want() { "$lodged" --print-caps "node:$new" | paste -d= - - | sort; }
check "its Ceph identity has a node's caps, every type, as lodged states them" \
  '[ "$(caps_got | wc -l)" = 4 ] && [ "$(caps_got)" = "$(caps_want)" ]'
expect 6 "the same token again is refused" "the join token is not valid" -- join_into "$tmp/r6" "$token" --name "$new"
expect 0 "lodge-cluster up --nodes $k starts it from the join's files" "up in" -- "$cluster" up --nodes "$k"
node_up() { "$lodge" node list | grep -Eq "^$new +up "; }
check "$new is up in lodge node list, reached over TLS at its address" 'wait_for 60 node_up && "$lodge" node list | grep -q "^$new .*qemu+tls://$addr/system"'
ensure_busybox || skip "the busybox template could not be imported"
define_ve "$ve" 10.77.0.88 >/dev/null
expect 0 "a VE starts" "running" -- "$lodge" start "$ve"
expect 0 "and moves to $new live (libvirt TLS between the nodes, the joined one's certificate)" "$new" -- \
  "$lodge" migrate "$ve" --to "$new"
check "it runs on $new" '[ "$(LODGE_NODES="$LODGE_NODES $new" running_on "$ve")" = "$new" ]'
expect 4 "lodge node remove refuses a node that is up" "node $new is up: drain it, stop lodge-agent there" -- \
  "$lodge" node remove "$new"
expect 3 "lodge node remove of an unknown node" "no such node" -- "$lodge" node remove node-none
"$lodge" stop "$ve" --force >/dev/null 2>&1

expect 0 "remove-node takes $new away again (lodge node remove once it is down)" "removed" -- \
  "$cluster" remove-node "$k"
added=0
node_gone() { ! "$lodge" node list | grep -q "^$new "; }
check "$new is gone from lodge node list" 'wait_for 30 node_gone'
check "and its Ceph identity is gone" '! ceph auth get "client.lodge-$new" >/dev/null 2>&1'
check "the cluster's env file names the nodes there are again" \
  '[ "$(. "$LODGE_CLUSTER_DIR/env" && echo "$LODGE_NODES")" = "$LODGE_NODES" ]'
finish
