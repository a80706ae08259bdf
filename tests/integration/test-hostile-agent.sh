#!/bin/bash
# A guest's hostile agent on the shared cluster: from inside a busybox VE
# (through `lodge exec`) the guest kills lodge-init's guest agent and
# takes the agent's virtio-serial port with a busybox sh loop that answers
# guest-sync, guest-ping and guest-file-open at once and every other
# command (a file's next chunk, an exec) one byte after 9 s, never at the
# end of the file: each call just inside libvirt's old per-call 10 s.
# Then:
#   - `lodge app list` shows the file read of the application's state cut
#     at its bound (FILE_TIMEOUT_S, 30 s in controller/lodge-apps-guest.c)
#     with an error naming the VE, the operation and the bound, and
#     returns within LIST_TIMEOUT_S (120 s) and libvirt's resync;
#   - `lodge stop` while an `app configure` reads through the agent (it
#     holds the VE's operation) finishes within 75 s (one agent call, 10 s,
#     the power button's 30 s, slack), and the configuration fails saying
#     the lifecycle operation came first;
#   - `lodge stop --force` in the same situation finishes within 30 s;
#   - a flooding agent, one that answers a file read with an endless line
#     of bytes: `lodge app list` fails within its bounds naming the VE,
#     the node's libvirtd and lodged hold no more than libvirt's 10 MiB cap
#     of an answer (each grows by less than 64 MiB), and `lodge stop`
#     finishes within 75 s.
# Real Ceph, a real QEMU guest, the guest agent's port over virtio-serial.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
ensure_busybox || skip "cannot import the busybox template"
ve=hagent1 ip=10.77.0.76

# The guest's side, a busybox sh script ($1: nothing). It leaves `lodge
# exec` a moment to collect its answer, then kills the real agent until it
# holds the port itself (lodge-init restarts its agent after a second; the
# port opens once at a time), and answers as said above; given "flood",
# it answers every other command with an endless line of x instead.
read -r -d '' trickle <<'EOF'
mode=$1
sleep 2
port=
for d in /sys/class/virtio-ports/*; do
  [ "$(cat "$d/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/${d##*/}
done
[ -n "$port" ] || port=/dev/virtio-ports/org.qemu.guest_agent.0
serve() {
  for t in /dev/console /dev/ttyS0; do
    [ -c "$t" ] && echo "hostile-agent holds $port" >"$t" && break
  done
  while :; do
    IFS= read -r line <&3 || { sleep 1; continue; }
    case $line in
      *'"guest-sync'*)
        id=$(echo "$line" | sed -n 's/.*"id" *: *\([0-9]*\).*/\1/p')
        printf '{"return": %s}\n' "${id:-0}" >&3 ;;
      *'"guest-ping"'*) printf '{"return": {}}\n' >&3 ;;
      *'"guest-file-open"'*) printf '{"return": 7}\n' >&3 ;;
      *'"guest-file-close"'*) printf '{"return": {}}\n' >&3 ;;
      *) if [ "$mode" = flood ]; then tr '\0' x </dev/zero >&3; fi
        sleep 9; printf '{"return": {"count": 1, "buf-b64": "eA==", "eof": false}}\n' >&3 ;;
    esac
  done
}
while :; do
  for p in /proc/[0-9]*; do
    # Exactly the agent's command line: this script's own holds the words.
    [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "/sbin/lodge-init --agent " ] &&
      kill -9 "${p#/proc/}" 2>/dev/null
  done
  serve 3<>"$port" 2>/dev/null
  sleep 0.2
done
EOF

# take_over [flood]: the guest replaces its agent (in the background: exec
# returns at once); the console says when the hostile one holds the port.
take_over() {
  "$lodge" exec "$ve" -- sh -c 'sh -c "$1" hostile "$2" </dev/null >/dev/null 2>&1 &' sh "$trickle" "${1:-trickle}" >/dev/null 2>&1
}
# now: seconds on this host's clock, for the bounds.
now() { date +%s; }
log_start=$(wc -l <"$LODGE_CLUSTER_DIR/log/lodged.log")
# taken: how many take-overs the console shows (its log may start again
# with the VE); holds_port N: more than N.
taken() { "$lodge" console -n 1000 "$ve" 2>/dev/null | grep -c 'hostile-agent holds'; }
holds_port() { [ "$(taken)" -gt "$1" ]; }
# configuring N: lodged logged the Nth live configuration of the VE (it
# holds the VE's operation from then on).
configuring() {
  [ "$(tail -n +"$log_start" "$LODGE_CLUSTER_DIR/log/lodged.log" | grep -c "app configure $ve web by .* (live)")" -ge "$1" ]
}

define_ve "$ve" "$ip" >/dev/null || { not_ok "define $ve"; finish; exit; }
expect 0 "start" "running" -- "$lodge" start "$ve"
check "the guest's agent answers before the take-over" '"$lodge" exec "$ve" -- true'

# ---- a file read through the hostile agent: cut at its bound ----
before=$(taken)
check "the guest replaces its agent with a trickling one" 'take_over'
check "... which holds the agent's port" 'wait_for 60 holds_port "$before"'
t0=$(now)
"$lodge" app list -o json "$ve" >"$tmp/list.out" 2>&1
rc=$? took=$(($(now) - t0))
check "app list returns ($rc) within 150 s ($took s)" '[ "$rc" -eq 0 ] && [ "$took" -le 150 ]'
check "... the state's read is cut at 30 s, naming the VE, the file and the bound" \
  'grep -qF "guest agent of $ve: guest-file-read of /run/lodge/apps/web.json did not finish within 30 s" "$tmp/list.out"'
check "... and took at least its bound: the agent did trickle ($took s)" '[ "$took" -ge 25 ]'

# ---- stop while app configure holds the VE ----
t0=$(now)
"$lodge" app configure "$ve" web port=8080 >"$tmp/configure.out" 2>&1 &
configure_pid=$!
check "app configure holds the VE and waits on the agent" 'wait_for 30 configuring 1'
t1=$(now)
"$lodge" stop "$ve" >"$tmp/stop.out" 2>&1
rc=$? took=$(($(now) - t1))
check "stop succeeds ($rc) within 75 s while app configure waits on the agent ($took s)" \
  '[ "$rc" -eq 0 ] && [ "$took" -le 75 ] && grep -q stopped "$tmp/stop.out"'
wait "$configure_pid"
rc=$? took=$(($(now) - t0))
check "... the configuration fails ($rc) within 75 s ($took s)" '[ "$rc" -ne 0 ] && [ "$took" -le 75 ]'
check "... saying the stop came first" 'grep -q "a lifecycle operation came first" "$tmp/configure.out"'
[ -s "$tmp/configure.out" ] && show 3 <"$tmp/configure.out"

# ---- stop --force in the same situation ----
expect 0 "start again" "running" -- "$lodge" start "$ve"
before=$(taken)
check "the guest replaces its agent again" 'take_over'
check "... which holds the agent's port" 'wait_for 60 holds_port "$before"'
"$lodge" app configure "$ve" web port=8081 >"$tmp/configure2.out" 2>&1 &
configure_pid=$!
check "app configure holds the VE again" 'wait_for 30 configuring 2'
t1=$(now)
"$lodge" stop --force "$ve" >"$tmp/force.out" 2>&1
rc=$? took=$(($(now) - t1))
check "stop --force succeeds ($rc) within 30 s while app configure waits on the agent ($took s)" \
  '[ "$rc" -eq 0 ] && [ "$took" -le 30 ] && grep -q stopped "$tmp/force.out"'
wait "$configure_pid"
rc=$?
check "... the configuration fails ($rc)" '[ "$rc" -ne 0 ]'

# ---- a flooding agent ----
# rss_kib PID: its resident memory.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
expect 0 "start a third time" "running" -- "$lodge" start "$ve"
node=$(running_on "$ve" | head -n 1)
libvirtd_pid=$(tr -d ' \n' <"$LODGE_CLUSTER_DIR/nodes/$node/run/libvirtd.pid")
lodged_pid=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
before=$(taken)
check "the guest replaces its agent with a flooding one" 'take_over flood'
check "... which holds the agent's port" 'wait_for 60 holds_port "$before"'
lv0=$(rss_kib "$libvirtd_pid") ld0=$(rss_kib "$lodged_pid")
t0=$(now)
"$lodge" app list -o json "$ve" >"$tmp/flood.out" 2>&1
rc=$? took=$(($(now) - t0))
lv1=$(rss_kib "$libvirtd_pid") ld1=$(rss_kib "$lodged_pid")
echo "# flooding agent: app list took $took s; $node's libvirtd RSS $lv0 -> $lv1 KiB, lodged's $ld0 -> $ld1 KiB"
check "app list returns ($rc) within 150 s ($took s)" '[ "$took" -le 150 ]'
check "... the state's read fails, naming the VE" 'grep -qF "guest agent of $ve" "$tmp/flood.out"'
check "$node's libvirtd grew by less than 64 MiB ($((lv1 - lv0)) KiB)" '[ $((lv1 - lv0)) -lt 65536 ]'
check "lodged grew by less than 64 MiB ($((ld1 - ld0)) KiB)" '[ $((ld1 - ld0)) -lt 65536 ]'
t1=$(now)
"$lodge" stop "$ve" >"$tmp/stop3.out" 2>&1
rc=$? took=$(($(now) - t1))
check "stop succeeds ($rc) within 75 s with the flooding agent ($took s)" \
  '[ "$rc" -eq 0 ] && [ "$took" -le 75 ] && grep -q stopped "$tmp/stop3.out"'

finish
