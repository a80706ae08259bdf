#!/bin/bash
# Separate hosts on one machine: lodged runs on the host ctl1 and each
# node's libvirtd, virtlogd, agent and QEMUs on the host nodeK, each with
# its own host name and its own /run, /tmp, /var/log, /var/lib/lodge and
# /etc/lodge. A file written in one of them on one host is absent on every
# other host and on the machine itself. (A VE's config blob on its node
# only: test-ve and test-migrate.)
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
hosts="ctl1 $LODGE_NODES"
dirs="/run /tmp /var/log /var/lib/lodge /etc/lodge"
marker=lodge-hosts-test.$$

for h in $hosts; do
  name=$(on_host "$h" hostname 2>&1)
  check "$h: its host name is $h ($name)" '[ "$name" = "$h" ]'
done
# The programs themselves run there (not only what exec starts).
lodged=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
check "lodged runs on ctl1" '[ "$(nsenter --target "$lodged" --uts hostname)" = ctl1 ]'
for n in $LODGE_NODES; do
  agent=$(cat "$LODGE_CLUSTER_DIR/nodes/$n/run/agent.pid")
  check "$n's agent runs on $n" '[ "$(nsenter --target "$agent" --uts hostname)" = "$n" ]'
done

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
finish
