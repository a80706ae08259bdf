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

# The cluster's own lodged (tools/lodge-cluster up) serves; a second one,
# with TCP and a token, waits as its standby.
cluster=$src/tools/lodge-cluster
# (LODGE_URL and LODGE_TOKEN: the cluster's controllers, from lodge-cluster exec)
[ -n "${LODGE_URL:-}" ] && "$lodge" node list >/dev/null 2>&1 ||
  { echo "SKIP: the cluster's control center does not answer at '${LODGE_URL:-}' (tools/lodge-cluster up)"; exit 77; }
token=0123456789abcdef0123456789abcdef
echo "$token" >"$tmp/token"
sock=$tmp/run/lodged.sock
"$lodged" --lease 3 --socket "$sock" --tcp-port 18917 --token-file "$tmp/token" --id standby-b >"$tmp/b.log" 2>&1 &
pids+=($!)
wait_for "$tmp/b.log" "standby: .* is active" 20 && ok "a second lodged waits as standby" || { not_ok "no standby"; cat "$tmp/b.log"; }

# A template to define against.
"$src/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$tmp/bb" 2>/dev/null
"$lodge" template show busybox >/dev/null 2>&1 || "$lodge" template import busybox "$tmp/bb" >/dev/null 2>&1
expect 0 "busybox template present" 'busybox' -- "$lodge" template show busybox
# examples/web.xml runs the static-web application.
"$lodge" template show static-web >/dev/null 2>&1 ||
  "$lodge" template import --kind application static-web "$src/images/apps/static-web" >/dev/null 2>&1
expect 0 "static-web application template present" 'application template static-web' -- "$lodge" template show static-web

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

# The cluster's own lodged, the first of LODGE_URL, with its token (and CA).
main_url=${LODGE_URL%%,*}
main_curl() { curl ${LODGE_CA:+--cacert "$LODGE_CA"} -H "Authorization: Bearer $LODGE_TOKEN" "$@"; }
api() { # api METHOD PATH [FILE]: prints "STATUS BODY" of a request to the cluster's lodged
  local status
  status=$(main_curl -s -o "$tmp/api.out" -w '%{http_code}' -X "$1" \
    ${3:+--data-binary @"$3" -H 'Content-Type: application/xml'} "$main_url$2")
  echo "$status $(cat "$tmp/api.out")"
}
# Name clashes: --new (POST) refuses a taken name; PUT must name the VE
# of its body.
expect 4 "define --new of a taken name" "environment 'api-web' exists already" -- "$lodge" define --new "$tmp/web.xml"
expect 0 "POST of a taken name: 409 conflict" '^409 .*"code":"conflict"' -- api POST /v1/environments "$tmp/web.xml"
expect 0 "PUT under another name: 400 invalid" "^400 .*not of 'other'" -- api PUT /v1/environments/other "$tmp/web.xml"
expect 0 "malformed XML through the API: 400 invalid" '^400 .*"code":"invalid".*malformed XML' -- api POST /v1/environments "$tmp/malformed.xml"
expect 0 "a VE of an unknown template through the API: 404" "^404 .*unknown template 'no-such-template'" -- api POST /v1/environments "$tmp/badtmpl.xml"
expect 3 "nothing was defined under the other name" "unknown environment 'other'" -- "$lodge" status other
expect 0 "the clashing requests changed nothing" '<name>api-web</name>' -- "$lodge" show api-web

# Metrics.
expect 0 "metrics: environments by phase" 'lodge_environments\{phase="stopped"\} [1-9]' -- main_curl -sf "$main_url/metrics"
expect 0 "metrics: request counter" 'lodge_api_requests_total [0-9]+' -- main_curl -sf "$main_url/metrics"
# Operation latencies: /metrics prints a _count of 0 for every operation
# from the start, so only a count that an operation raised shows that it
# was measured: a stop of the stopped api-web is one (it does nothing).
op_count() { # op_count OP: lodge_operation_seconds_count{op="OP"}, or nothing
  main_curl -sf "$main_url/metrics" |
    awk -v s="lodge_operation_seconds_count{op=\"$1\"}" '$1 == s { print $2 }'
}
stops_before=$(op_count stop)
expect 0 "a stop of a stopped VE does nothing, and succeeds" 'api-web: stopped' -- "$lodge" stop api-web
stops_after=$(op_count stop)
if [ -n "$stops_before" ] && [ -n "$stops_after" ] && [ "$stops_after" -gt "$stops_before" ]; then
  ok "metrics: operation latencies (stops measured: $stops_before, then $stops_after)"
else
  not_ok "metrics: operation latencies: the stop was not measured (lodge_operation_seconds_count{op=\"stop\"} '$stops_before', then '$stops_after')"
fi

# The standby takes over when the active one stops; then TCP needs the token.
main_pid=$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")
kill "$main_pid"
start=$SECONDS
wait_for "$tmp/b.log" "active:" 20 && ok "standby took over after $((SECONDS - start)) s" || { not_ok "standby did not take over"; cat "$tmp/b.log"; }
expect 0 "the new leader serves the same state" 'api-web' -- env LODGE_URL=unix:$sock "$lodge" list
expect 1 "TCP without a token" "Authorization: Bearer" -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN= "$lodge" list
expect 1 "TCP with a wrong token" "Authorization: Bearer" -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN=wrong "$lodge" list
expect 0 "TCP with the token" 'api-web' -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN=$token "$lodge" list
expect 0 "--connect names the control center" 'api-web' -- env LODGE_TOKEN=$token "$lodge" list --connect http://127.0.0.1:18917
# Template uploads: refused before their body without the token; an empty
# body or one that is not a tar archive is refused, and leaves nothing.
upload() { # TOKEN BODY-FILE: the HTTP status of a POST of BODY-FILE as template junk
  curl -s -o "$tmp/up.body" -w '%{http_code}' -X POST ${1:+-H "Authorization: Bearer $1"} \
    --data-binary @"$2" http://127.0.0.1:18917/v1/templates/junk
}
head -c 100000 /dev/urandom >"$tmp/junk.bin"
: >"$tmp/empty"
status=$(upload "" "$tmp/junk.bin")
[ "$status" = 401 ] && ok "an upload without the token: 401" || not_ok "an upload without the token: $status"
status=$(upload "$token" "$tmp/empty")
[ "$status" = 400 ] && grep -q 'empty' "$tmp/up.body" && ok "an empty upload: 400, named empty" ||
  { not_ok "an empty upload: $status"; sed 's/^/#   /' "$tmp/up.body"; }
status=$(upload "$token" "$tmp/junk.bin")
[ "$status" = 400 ] && grep -q '"invalid"' "$tmp/up.body" && ok "an upload that is not a tar archive: 400 invalid" ||
  { not_ok "an upload that is not a tar archive: $status"; sed 's/^/#   /' "$tmp/up.body"; }
expect 3 "... and no template junk is left" "unknown template 'junk'" -- \
  env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN=$token "$lodge" template show junk
expect 1 "an undefine without the token changes nothing" "Authorization: Bearer" -- env LODGE_URL=http://127.0.0.1:18917 LODGE_TOKEN= "$lodge" undefine api-web
expect 0 "still defined" '<name>api-web</name>' -- env LODGE_URL=unix:$sock "$lodge" show api-web

expect 0 "undefine" 'undefined' -- env LODGE_URL=unix:$sock "$lodge" undefine api-web
expect 3 "gone" "unknown environment 'api-web'" -- env LODGE_URL=unix:$sock "$lodge" show api-web

# Finding the leader. b leads now and publishes its URL in the lease; a
# third controller waits as standby on a TCP port of its own, where it
# says who leads and where, and changes nothing.
"$lodged" --lease 3 --socket "$tmp/c/lodged.sock" --tcp-port 18918 --token-file "$tmp/token" --id standby-c >"$tmp/c.log" 2>&1 &
pids+=($!)
wait_for "$tmp/c.log" "standby: standby-b is active" 20 && ok "a third lodged waits as standby" || { not_ok "no third standby"; cat "$tmp/c.log"; }
curl -s -D "$tmp/c.headers" -o "$tmp/c.body" -X DELETE -H "Authorization: Bearer $token" http://127.0.0.1:18918/v1/environments/nothing
if head -n 1 "$tmp/c.headers" | grep -q ' 503 ' && grep -qi '^Lodge-Leader: http://127.0.0.1:18917' "$tmp/c.headers" &&
  grep -q '"not-leader"' "$tmp/c.body" && grep -q 'the leader is standby-b at http://127.0.0.1:18917' "$tmp/c.body"; then
  ok "the standby answers 503 not-leader, naming the leader and its URL"
else
  not_ok "the standby's answer"; sed 's/^/#   /' "$tmp/c.headers" "$tmp/c.body"
fi
expect 0 "the CLI given only the standby follows it to the leader" '^node1 +up' -- \
  env LODGE_URL=http://127.0.0.1:18918 LODGE_TOKEN=$token "$lodge" node list
sed 's/<name>api-web</<name>api-web2</' "$tmp/web.xml" >"$tmp/web2.xml"
expect 0 "... and acts there (define through the standby's address)" 'environment api-web2 defined' -- \
  env LODGE_URL=http://127.0.0.1:18918 LODGE_TOKEN=$token "$lodge" define "$tmp/web2.xml"
expect 0 "a list of controllers, the first a standby: the leader answers" 'api-web2' -- \
  env LODGE_URL="http://127.0.0.1:18918,http://127.0.0.1:18917" LODGE_TOKEN=$token "$lodge" list
# A takeover needs no reconfiguration: the same list reaches the new leader.
both="http://127.0.0.1:18917,http://127.0.0.1:18918"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
wait_for "$tmp/c.log" "active:" 20 && ok "the third took over" || { not_ok "the third did not take over"; cat "$tmp/c.log"; }
expect 0 "the same list of controllers reaches the new leader" 'api-web2' -- env LODGE_URL="$both" LODGE_TOKEN=$token "$lodge" list
expect 5 "no controller at all: both named in the error" 'tried http://127.0.0.1:18919, http://127.0.0.1:18920' -- \
  env LODGE_URL="http://127.0.0.1:18919,http://127.0.0.1:18920" LODGE_TOKEN=$token "$lodge" list
expect 0 "undefine api-web2" 'undefined' -- env LODGE_URL="$both" LODGE_TOKEN=$token "$lodge" undefine api-web2

# Hand back to the cluster's own lodged.
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
expect 0 "lodge-cluster up brings the cluster's lodged back" 'control plane ready' -- "$cluster" up

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
