#!/bin/bash
# Two admins at once, on the local cluster's control plane: two `lodge start`
# of one VE start it once (both succeed, one domain on one node, one disk);
# a stop racing a start ends stopped or running, never in between; define
# racing undefine (many rounds) always leaves a consistent state: either
# defined, stopped and listed, or gone with no record left. Runs in the
# cluster's namespace.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${LODGE_KERNEL:-$src/images/out/vmlinuz-lodge}
[ -f "$kernel" ] || skip "no guest kernel at $kernel (images/kernel/build.sh)"
check "the busybox template is there" 'ensure_busybox'

expect 0 "define" 'defined' -- define_ve race1 10.77.0.20 256 64 'exec httpd -f -p 80 -h /srv/www'
"$lodge" start race1 >"$tmp/a.out" 2>&1 &
a=$!
"$lodge" start race1 >"$tmp/b.out" 2>&1 &
b=$!
wait "$a"; rc_a=$?
wait "$b"; rc_b=$?
check "both starts succeed (exit $rc_a and $rc_b)" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
check "both say it runs" 'grep -q "race1: running on" "$tmp/a.out" && grep -q "race1: running on" "$tmp/b.out"'
placed=$(cat "$tmp/a.out" "$tmp/b.out" | grep -c 'placed on')
check "only one of them placed it ($placed)" '[ "$placed" -eq 1 ]'
check "one domain, on one node" '[ "$(running_on race1 | wc -l)" -eq 1 ]'
expect 0 "the record agrees" "phase +running" -- "$lodge" status race1
expect 0 "generation 1: placed once" "generation +1$" -- "$lodge" status race1

# Stop and start at once: whichever comes second wins, cleanly.
"$lodge" stop race1 >"$tmp/stop.out" 2>&1 &
a=$!
"$lodge" start race1 >"$tmp/start.out" 2>&1 &
b=$!
wait "$a"; rc_a=$?
wait "$b"; rc_b=$?
check "stop and start racing both succeed (exit $rc_a and $rc_b)" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
phase=$("$lodge" status race1 | awk '$1 == "phase" { print $2 }')
on=$(running_on race1 | wc -l)
case $phase in
  running) check "running, with one domain ($on)" '[ "$on" -eq 1 ]' ;;
  stopped) check "stopped, with no domain ($on)" '[ "$on" -eq 0 ]' ;;
  *) not_ok "ended $phase" ;;
esac
expect 0 "stop --force" 'stopped' -- "$lodge" stop --force race1
expect 0 "undefine" 'undefined' -- "$lodge" undefine --remove-storage race1

# define racing undefine.
ve_xml race2 10.77.0.21 >"$tmp/race2.xml"
echo race2 >>"$tmp/ves"
bad=0 defined=0 gone=0
for round in $(seq 12); do
  "$lodge" define "$tmp/race2.xml" >/dev/null 2>&1
  "$lodge" define "$tmp/race2.xml" >"$tmp/d.out" 2>&1 &
  a=$!
  "$lodge" undefine race2 >"$tmp/u.out" 2>&1 &
  b=$!
  wait "$a"; rc_d=$?
  wait "$b"; rc_u=$?
  listed=$("$lodge" list -o json | grep -c '"name":"race2"')
  if "$lodge" show race2 >/dev/null 2>&1; then
    # Defined: stopped, listed once, and it can start/undefine normally.
    st=$("$lodge" status race2 | awk '$1 == "phase" { print $2 }')
    [ "$st" = stopped ] && [ "$listed" -eq 1 ] && defined=$((defined + 1)) ||
      { bad=$((bad + 1)); echo "# round $round: defined but phase '$st', listed $listed (define $rc_d, undefine $rc_u)"; }
  else
    [ "$listed" -eq 0 ] && gone=$((gone + 1)) ||
      { bad=$((bad + 1)); echo "# round $round: undefined but still listed (define $rc_d, undefine $rc_u)"; }
  fi
  # Each command either did its work or said why not.
  [ "$rc_d" -eq 0 ] || grep -q . "$tmp/d.out" || { bad=$((bad + 1)); echo "# round $round: define failed silently"; }
  [ "$rc_u" -eq 0 ] || grep -q . "$tmp/u.out" || { bad=$((bad + 1)); echo "# round $round: undefine failed silently"; }
done
echo "# 12 rounds: $defined ended defined, $gone ended undefined"
check "define racing undefine: always consistent ($bad bad rounds)" '[ "$bad" -eq 0 ]'
expect 0 "what is left starts normally" 'race2: running on' -- bash -c "'$lodge' define '$tmp/race2.xml' >/dev/null && '$lodge' start race2"
expect 0 "and stops" 'race2: stopped' -- "$lodge" stop --force race2
finish
