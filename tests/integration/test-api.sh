#!/bin/bash
# The control center's API through the lodge CLI, against the real cluster
# of the ceph fixture: define, list, show, status, undefine; bad input;
# the token on TCP; a standby taking over from a stopped leader. Runs in
# the cluster's namespace (tools/lodge-cluster exec).
set -u
build=${LODGE_BUILD_DIR:?}
src=${LODGE_SOURCE_DIR:?}
lodge=$build/tools/lodge
lodged=$build/controller/lodged
[ -n "${CEPH_CONF:-}" ] || { echo "SKIP: no cluster (run through tools/lodge-cluster exec)"; exit 77; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
expect() { # expect CODE DESCRIPTION PATTERN -- CMD...
  local code=$1 what=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ]; then not_ok "$what: exit $rc, expected $code"; echo "$out" | head -5 | sed 's/^/#   /'; return; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then not_ok "$what: no /$pattern/ in output"; echo "$out" | head -5 | sed 's/^/#   /'; return; fi
  ok "$what"
}
# wait_for FILE PATTERN SECONDS
wait_for() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

token=0123456789abcdef0123456789abcdef
echo "$token" >"$tmp/token"
sock=$tmp/run/lodged.sock
"$lodged" --lease 3 --socket "$sock" --tcp-port 18917 --token-file "$tmp/token" --id leader-a >"$tmp/a.log" 2>&1 &
pids+=($!)
wait_for "$tmp/a.log" "active:" 20 && ok "lodged became active" || { not_ok "lodged did not become active"; cat "$tmp/a.log"; exit 1; }
export LODGE_URL=unix:$sock

# A template to define against.
"$src/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$tmp/bb" 2>/dev/null
"$lodge" template show busybox >/dev/null 2>&1 || "$lodge" template import busybox "$tmp/bb" >/dev/null 2>&1
expect 0 "busybox template present" 'busybox' -- "$lodge" template show busybox

sed 's/<name>web1</<name>api-web</' "$src/examples/web.xml" >"$tmp/web.xml"
expect 0 "define" 'environment api-web defined' -- "$lodge" define "$tmp/web.xml"
expect 0 "define again: a redefinition" 'redefined' -- "$lodge" define "$tmp/web.xml"
expect 0 "list" 'api-web +stopped +stopped' -- "$lodge" list
expect 0 "list -o json" '"name":"api-web"' -- "$lodge" list -o json
expect 0 "show gives the XML as defined" '<name>api-web</name>' -- "$lodge" show api-web
expect 0 "status" 'phase +stopped' -- "$lodge" status api-web

# Bad input: clear errors, nothing changed.
printf '<environment><name>x</name>' >"$tmp/malformed.xml"
expect 1 "malformed XML" 'malformed XML' -- "$lodge" define "$tmp/malformed.xml"
sed 's/name="busybox"/name="no-such-template"/; s/<name>web1</<name>api-bad</' "$src/examples/web.xml" >"$tmp/badtmpl.xml"
expect 3 "unknown template" "unknown template 'no-such-template'" -- "$lodge" define "$tmp/badtmpl.xml"
expect 3 "nothing defined by a refused definition" '' -- "$lodge" status api-bad
expect 3 "unknown environment" "unknown environment 'nope'" -- "$lodge" status nope
expect 2 "usage error" 'no FILE given' -- "$lodge" define
big=$tmp/big.xml; { echo '<environment><description>'; head -c 2000000 /dev/zero | tr '\0' a; echo '</description></environment>'; } >"$big"
expect 1 "an oversized definition" 'too large' -- "$lodge" define "$big"

# TCP: the token is required.
expect 1 "TCP without a token" "Authorization: Bearer" -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN= "$lodge" list
expect 1 "TCP with a wrong token" "Authorization: Bearer" -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN=wrong "$lodge" list
expect 0 "TCP with the token" 'api-web' -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN=$token "$lodge" list

# Metrics.
expect 0 "metrics: environments by phase" 'lodge_environments\{phase="stopped"\} [1-9]' -- curl -sf --unix-socket "$sock" http://lodged/metrics
expect 0 "metrics: request counter" 'lodge_api_requests_total [0-9]+' -- curl -sf --unix-socket "$sock" http://lodged/metrics

# A standby takes over when the leader stops.
"$lodged" --lease 3 --socket "$tmp/run/b.sock" --id standby-b >"$tmp/b.log" 2>&1 &
pids+=($!)
wait_for "$tmp/b.log" "standby: leader-a is active" 20 && ok "second lodged waits as standby" || { not_ok "no standby"; cat "$tmp/b.log"; }
kill "${pids[0]}"
start=$SECONDS
wait_for "$tmp/b.log" "active:" 20 && ok "standby took over after $((SECONDS - start)) s" || { not_ok "standby did not take over"; cat "$tmp/b.log"; }
expect 0 "the new leader serves the same state" 'api-web' -- env LODGE_URL=unix:$tmp/run/b.sock "$lodge" list

expect 0 "undefine" 'undefined' -- env LODGE_URL=unix:$tmp/run/b.sock "$lodge" undefine api-web
expect 3 "gone" "unknown environment 'api-web'" -- env LODGE_URL=unix:$tmp/run/b.sock "$lodge" show api-web

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
