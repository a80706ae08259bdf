#!/bin/bash
# A VE comes back from a crash. Its QEMU is SIGKILLed (what a QEMU crash
# or the host's OOM killer does): libvirt says "crashed", and the VE
# (<restart>on-failure</restart>) runs again on its node, its disk as it
# was; status shows the reason and the count. Past the crash-loop limit
# (3 restarts in 10 minutes) it is left failed, with the reason, and
# nothing runs. A start by an operator begins the count anew. A guest
# kernel panic (pvpanic) is restarted too, with the reason "panicked". A
# guest shut down from inside stays stopped under on-failure.
# Runs in the cluster's namespace (tools/lodge-cluster exec).
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
ve=crash1 ip=10.77.0.70
field() { "$lodge" status "$ve" | awk -v k="$1" '$1 == k { print $2 }'; }
boots() { curl -sf --max-time 3 "http://$ip/boots.txt" | wc -l; }

check "the busybox template is there" 'ensure_busybox'
ve_xml "$ve" "$ip" | sed 's|  <applications>|  <availability><restart>on-failure</restart></availability>\n  <applications>|' \
  >"$tmp/$ve.xml"
echo "$ve" >>"$tmp/ves"
expect 0 "define (restart on-failure)" "environment $ve defined" -- "$lodge" define "$tmp/$ve.xml"
expect 0 "start" "$ve: running on" -- "$lodge" start "$ve"
node=$(running_on "$ve")
check "its web server answers" 'wait_for 30 curl -sf --max-time 2 "http://$ip/boots.txt"'

for n in 1 2 3; do
  # What the guest wrote is on its disk before the crash (a crash loses
  # what was only in the guest's page cache).
  "$lodge" exec "$ve" -- sync >/dev/null 2>&1
  before=$(qemu_pid "$ve")
  start=$SECONDS
  kill -9 "$before"
  if wait_for 60 eval '[ "$(field restarts)" = "$n" ] && [ "$(field phase)" = running ]'; then
    ok "QEMU killed ($n): running again after $((SECONDS - start)) s, restart $n"
  else
    not_ok "QEMU killed ($n): the record says $("$lodge" status "$ve" | grep -E 'phase|restarts|last_error' | tr '\n' ' ')"
  fi
  check "... libvirt's reason: crashed" '[ "$(field stop_reason)" = crashed ]'
  check "... a new QEMU, on $node" '[ "$(running_on "$ve")" = "$node" ] && [ -n "$(qemu_pid "$ve")" ] && [ "$(qemu_pid "$ve")" != "$before" ]'
  check "... serving, with what its disk held (boot $((n + 1)))" \
    'wait_for 30 eval "[ \"\$(boots)\" = $((n + 1)) ]"'
done

kill -9 "$(qemu_pid "$ve")"
if wait_for 60 eval '[ "$(field phase)" = failed ]'; then
  ok "the fourth crash in 10 minutes leaves it failed"
else
  not_ok "after a fourth crash: $("$lodge" status "$ve" | grep -E 'phase|restarts' | tr '\n' ' ')"
fi
expect 0 "... saying why" 'last_error +the guest crashed .*restarted 3 times in the last 10 minutes' -- \
  "$lodge" status "$ve"
check "... and nothing runs" '[ -z "$(running_on "$ve")" ] && [ "$(field restarts)" = 3 ]'

expect 0 "an operator's start" "$ve: running on" -- "$lodge" start "$ve"
check "it serves again" 'wait_for 30 curl -sf --max-time 2 "http://$ip/boots.txt"'
before=$(qemu_pid "$ve")
kill -9 "$before"
check "a crash after it is restarted again (the count began anew)" \
  'wait_for 60 eval "[ \"\$(field restarts)\" = 4 ] && [ \"\$(field phase)\" = running ]"'

# A guest kernel panic: pvpanic tells libvirt, which keeps the domain
# crashed (reason "panicked"); Lodge destroys it and starts the VE again.
check "the guest answers exec" 'wait_for 30 "$lodge" exec "$ve" -- true'
before=$(qemu_pid "$ve")
"$lodge" exec --timeout 5 "$ve" -- sh -c 'echo c > /proc/sysrq-trigger' >/dev/null 2>&1
if wait_for 60 eval '[ "$(field restarts)" = 5 ] && [ "$(field phase)" = running ]'; then
  ok "a guest kernel panic: running again, restart 5"
else
  not_ok "after a guest kernel panic: $("$lodge" status "$ve" | grep -E 'phase|restarts|stop_reason|last_error' | tr '\n' ' ')"
fi
check "... libvirt's reason: panicked; a new QEMU" \
  '[ "$(field stop_reason)" = panicked ] && [ -n "$(qemu_pid "$ve")" ] && [ "$(qemu_pid "$ve")" != "$before" ]'
check "... serving again" 'wait_for 30 curl -sf --max-time 2 "http://$ip/boots.txt"'

# Shut down from inside: on-failure leaves it stopped.
check "the guest answers exec" 'wait_for 30 "$lodge" exec "$ve" -- true'
"$lodge" exec --timeout 5 "$ve" -- poweroff >/dev/null 2>&1
if wait_for 60 eval '[ "$(field phase)" = stopped ]'; then
  ok "a guest powered off from inside is recorded stopped"
else
  not_ok "after poweroff inside: $("$lodge" status "$ve" | grep -E 'phase|restarts' | tr '\n' ' ')"
fi
check "... with the reason shutdown, and not restarted" \
  '[ "$(field stop_reason)" = shutdown ] && [ "$(field restarts)" = 5 ] && [ -z "$(running_on "$ve")" ]'
finish
