#!/bin/bash
# Live migration and node drain on the local cluster's control plane. The VE
# runs a writer that appends a sequence number to a file and syncs it every
# 100 ms, and an echo server; the test holds a TCP connection to the echo
# server open across the migrations. Checks: the VE moves to the node asked
# for (or one the scheduler picks), keeps its address, the connection
# survives, no acknowledged write is lost, the record and `lodge status`
# carry the migration's time and downtime; bad requests change nothing; a
# drained node's VEs move away and new starts avoid it until undrained; a
# leftover definition of the VE on the destination does not stop it.
# Runs in the cluster's namespace.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"
[ "$(wc -w <<<"$LODGE_NODES")" -ge 2 ] || skip "migration needs two nodes"
check "the busybox template is there" 'ensure_busybox'
ip=10.77.0.30
writer='n=0; while :; do n=$((n+1)); echo $n >> /srv/www/seq.txt; sync; echo $n > /srv/www/durable.txt; sleep 0.1; done'
expect 0 "define" 'defined' -- define_ve mig1 "$ip" 256 64 "sh -c '($writer) & nc -ll -p 7 -e cat & exec httpd -f -p 80 -h /srv/www'"
expect 0 "start" 'mig1: running on node' -- "$lodge" start mig1
wait_for 60 curl -sf --max-time 2 "http://$ip/durable.txt" || not_ok "the writer does not answer"

durable() { curl -sf --max-time 5 "http://$ip/durable.txt"; }
# seq.txt holds 1..N, each once, in order, and N >= $1.
seq_complete() {
  curl -sf --max-time 10 "http://$ip/seq.txt" >"$tmp/seq.txt" || return 1
  awk -v min="$1" '$1 != NR { bad = 1 } END { exit bad || NR < min }' "$tmp/seq.txt"
}
wait_for 30 bash -c "[ \$(curl -sf http://$ip/durable.txt) -ge 5 ] 2>/dev/null"
exec 3<>"/dev/tcp/$ip/7" || not_ok "no echo server"
echo before >&3
read -r -t 10 line <&3
check "a TCP connection to the VE echoes ('$line')" '[ "$line" = before ]'

from=$(running_on mig1)
to=$(for n in $LODGE_NODES; do [ "$n" != "$from" ] && echo "$n"; done | head -n 1)
before=$(durable)
expect 0 "migrate --to $to" "mig1: running on $to" -- "$lodge" migrate mig1 --to "$to"
check "it runs on $to, and only there" '[ "$(running_on mig1)" = "$to" ]'
# Its config blob moved with it: written on $to by its agent before the
# migration, removed from the node it left.
check "its config blob is on $to and no longer on $from" \
  'on_host "$to" test -f /var/lib/lodge/ve/mig1/config && ! on_host "$from" test -e /var/lib/lodge/ve/mig1/config'
echo after >&3
read -r -t 10 line <&3
check "the TCP connection survived the migration ('$line')" '[ "$line" = after ]'
wait_for 10 bash -c "[ \$(curl -sf http://$ip/durable.txt) -gt $before ]"
check "the writer went on after the move ($before -> $(durable))" '[ "$(durable)" -gt "$before" ]'
last=$(durable)
check "no acknowledged write lost: seq.txt is 1..N, N >= $last" 'seq_complete "$last"'
expect 0 "status: the node, the migration's time and downtime" "downtime_ms +[0-9]+" -- "$lodge" status mig1
expect 0 "status names the new node" "node +$to\$" -- "$lodge" status mig1
downtime=$("$lodge" status mig1 | awk '$1 == "downtime_ms" { print $2 }')
total=$("$lodge" status mig1 | awk '$1 == "migration_ms" { print $2 }')
echo "# migration of a busy 256 MiB guest: ${total} ms, downtime ${downtime} ms"
check "a downtime was measured, within what was allowed (300 ms default, +slack: $downtime)" \
  '[ "${downtime:-0}" -ge 1 ] && [ "${downtime:-99999}" -le 1000 ]'
check "the total time was measured ($total ms)" '[ "${total:-0}" -ge 1 ]'

# The scheduler picks a target.
expect 0 "migrate without --to" 'migrated to node[0-9]+ in' -- "$lodge" migrate mig1
check "it moved off $to, and runs on one node" '[ "$(running_on mig1)" != "$to" ] && [ "$(running_on mig1 | wc -l)" -eq 1 ]'
echo again >&3
read -r -t 10 line <&3
check "the TCP connection survived again ('$line')" '[ "$line" = again ]'

# A leftover definition of mig1 on the destination (shut off, with a UUID
# of its own: what a start or a migration cut short leaves) goes first.
here=$(running_on mig1)
back=$(for n in $LODGE_NODES; do [ "$n" != "$here" ] && echo "$n"; done | head -n 1)
uri_of() { sed -n 's/^OPS_LIBVIRT_URI=//p' "$LODGE_CLUSTER_DIR/nodes/$1/node.env"; }
virsh -q -c "$(uri_of "$here")" dumpxml --migratable mig1 | sed '/<uuid>/d' >"$tmp/leftover.xml"
check "a leftover definition of mig1 is put on $back" 'virsh -q -c "$(uri_of "$back")" define "$tmp/leftover.xml" >/dev/null'
expect 0 "migrate --to $back over it" "removed a leftover definition of mig1 on $back" -- "$lodge" migrate mig1 --to "$back"
check "mig1 runs on $back, on one node" '[ "$(running_on mig1)" = "$back" ]'
echo leftover >&3
read -r -t 10 line <&3
check "the TCP connection survived that too ('$line')" '[ "$line" = leftover ]'

# Bad requests change nothing.
here=$(running_on mig1)
generation() { "$lodge" status mig1 | awk '$1 == "generation" { print $2 }'; }
gen=$(generation)
expect 3 "to an unknown node" "unknown node 'node99'" -- "$lodge" migrate mig1 --to node99
expect 1 "to the node it runs on" "already runs on $here" -- "$lodge" migrate mig1 --to "$here"
expect 2 "an impossible downtime" "max-downtime" -- "$lodge" migrate mig1 --max-downtime -5
expect 3 "an unknown VE" "unknown environment 'nope'" -- "$lodge" migrate nope
check "none of them moved it" '[ "$(running_on mig1)" = "$here" ]'
check "nor changed its record (generation $gen)" '[ "$(generation)" = "$gen" ]'

# Drain the node it runs on.
expect 0 "define a second VE" 'defined' -- define_ve mig2 10.77.0.31 256 64 'exec httpd -f -p 80 -h /srv/www'
"$lodge" start mig2 >/dev/null 2>&1
drained=$(running_on mig1)
if [ "$(running_on mig2)" != "$drained" ]; then
  "$lodge" migrate mig2 --to "$drained" >/dev/null 2>&1
fi
expect 0 "drain $drained: both VEs move away" "$drained: draining; 2 moved, 0 left" -- "$lodge" node drain "$drained"
check "nothing runs on $drained" '[ "$(running_on mig1)" != "$drained" ] && [ "$(running_on mig2)" != "$drained" ] && [ -n "$(running_on mig1)" ]'
expect 0 "node list shows it draining" "^$drained +draining" -- "$lodge" node list
expect 0 "a stop and a start avoid it" "mig2: running on" -- bash -c "'$lodge' stop --force mig2 >/dev/null && '$lodge' start mig2"
check "mig2 did not land on $drained" '[ -n "$(running_on mig2)" ] && [ "$(running_on mig2)" != "$drained" ]'
expect 4 "a migration to it is refused" "$drained is draining" -- "$lodge" migrate mig2 --to "$drained"
expect 0 "undrain" "$drained: schedulable again" -- "$lodge" node undrain "$drained"
expect 0 "node list shows it up" "^$drained +up" -- "$lodge" node list
check "the writer's file is still whole after all the moves" 'seq_complete "$(durable)"'
exec 3>&-
finish
