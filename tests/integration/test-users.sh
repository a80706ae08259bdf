#!/bin/bash
# Users and roles (controller/lodge-access.h, docs/security.md): an admin
# adds a user of each role; each one's token is then allowed exactly its
# verbs, refused the rest with 403 naming the role needed (before a body
# is read), and recorded under its own name, whatever header it sends.
# Secrets in definitions are an admin's only. A removed user's token stops
# working at once.
# check's conditions are single-quoted strings that check evaluates.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
api=${LODGE_URL%%,*}
ve=users-ve
node=$(awk '{ print $NF }' <<<"$LODGE_NODES")
ensure_busybox || skip "the busybox template could not be imported"
define_ve "$ve" 10.77.0.91 >/dev/null || skip "could not define $ve"

# code TOKEN METHOD PATH [CURL-ARGS...]: the HTTP status of one request.
code() {
  local token=$1 method=$2 path=$3
  shift 3
  curl -s -o "$tmp/body" -w '%{http_code}' --max-time 120 --cacert "$LODGE_CA" \
    -H "Authorization: Bearer $token" -X "$method" "$@" "$api$path"
}
# as TOKEN CMD...: the CLI with that token.
as() { local token=$1; shift; LODGE_TOKEN=$token "$@"; }

declare -A token
for role in admin operator support viewer; do
  out=$("$lodge" user add "t-$role" --role "$role" 2>"$tmp/err")
  token[$role]=$out
  check "an admin adds t-$role ($role): its token is printed once" '[[ ${token[$role]} == t-$role.* ]] && [ ${#out} -eq $((${#role} + 2 + 1 + 64)) ]'
done
expect 0 "user list shows them with their roles, not their tokens" '^t-viewer +viewer ' -- "$lodge" user list
check "user list shows no token" '! "$lodge" user list -o json | grep -q "${token[viewer]#*.}"'
expect 4 "a taken name is refused" 'there is a user t-viewer already' -- "$lodge" user add t-viewer --role viewer
expect 1 "an unknown role is refused, naming the roles" "unknown role 'boss' \\(admin, operator, support, viewer or customer\\)" -- \
  "$lodge" user add t-x --role boss
expect 1 "a bad name is refused" "is not a user name" -- "$lodge" user add 'T x' --role viewer
expect 1 "Lodge's own names are refused" "is Lodge's own" -- "$lodge" user add root --role viewer
for role in admin operator support viewer; do
  expect 0 "whoami with t-$role's token" "^t-$role \\($role\\)$" -- as "${token[$role]}" "$lodge" user whoami
done
expect 0 "whoami with the cluster's token" '^cluster \(admin\)$' -- "$lodge" user whoami

# What each role may do: allowed means the request got past the role
# check (its own answer may still be an error: a VE that is not running,
# a repair of a VE that is not there), refused means 403.
v=/v1/environments/$ve
verb_cases=(
  "read GET /v1/environments"
  "read GET $v/status"
  "read GET $v"
  "read GET /v1/nodes"
  "read GET /v1/templates"
  "console GET $v/console"
  "support POST /v1/environments/no-such-ve/repair/ls"
  "support POST $v/exec"
  "admin POST /v1/users"
  "admin DELETE /v1/environments/no-such-ve"
  "admin DELETE /v1/templates/no-such-template"
)
declare -A may=([read]="admin operator support viewer" [console]="admin operator support"
  [support]="admin support" [admin]="admin")
for c in "${verb_cases[@]}"; do
  read -r verb method path <<<"$c"
  for role in admin operator support viewer; do
    got=$(code "${token[$role]}" "$method" "$path" -H 'Content-Type: application/json' -d '{}')
    if [[ " ${may[$verb]} " == *" $role "* ]]; then
      check "$role: $method $path is allowed ($got)" '[ "$got" != 403 ] && [ "$got" != 401 ] && [ "$got" != 000 ]'
    else
      check "$role: $method $path is refused 403 ($got)" '[ "$got" = 403 ] && grep -q "\"forbidden\"" "$tmp/body"'
    fi
  done
done
expect 1 "the refusal names the role needed and who asked" \
  "POST /v1/environments/$ve/start needs the role operator or admin; t-viewer is viewer" -- \
  as "${token[viewer]}" "$lodge" start "$ve"
expect 1 "support may not drain a node" "needs the role operator or admin; t-support is support" -- \
  as "${token[support]}" "$lodge" node drain "$node"
expect 1 "support may not undefine" "needs the role admin; t-support is support" -- \
  as "${token[support]}" "$lodge" undefine "$ve"
expect 1 "operator may not define" "needs the role admin; t-operator is operator" -- \
  as "${token[operator]}" "$lodge" define "$tmp/$ve.xml"
expect 1 "operator may not add users" "needs the role admin" -- \
  as "${token[operator]}" "$lodge" user add t-y --role admin
# A refused request's body is not read: 2 GB announced, none sent.
out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 --cacert "$LODGE_CA" \
  -H "Authorization: Bearer ${token[viewer]}" -H 'Expect:' -H 'Content-Length: 2147483648' -X PUT \
  --data-binary 'x' "$api$v" || true)
check "a viewer's 2 GB PUT is refused 403 at once ($out s)" '[ "${out% *}" = 403 ] && awk -v t="${out#* }" "BEGIN { exit !(t < 5) }"'

# The operator's verbs, for real: start, stop; drain and undrain.
expect 0 "operator starts $ve" "$ve: running on node" -- as "${token[operator]}" "$lodge" start "$ve"
expect 0 "operator stops $ve" "$ve: stopped" -- as "${token[operator]}" "$lodge" stop "$ve"
expect 0 "operator drains $node" 'draining' -- as "${token[operator]}" "$lodge" node drain "$node"
expect 0 "operator undrains $node" 'schedulable again' -- as "${token[operator]}" "$lodge" node undrain "$node"

# Secrets: the root password hash only to an admin.
check "an admin sees the root password hash" 'as "${token[admin]}" "$lodge" show "$ve" | grep -qF "$ROOT_HASH"'
check "a viewer does not, and is told it is hidden" \
  'out=$(as "${token[viewer]}" "$lodge" show "$ve") && ! grep -qF "$ROOT_HASH" <<<"$out" && grep -q "hidden: only an admin sees it" <<<"$out"'
check "an operator does not either" '! as "${token[operator]}" "$lodge" show "$ve" | grep -qF "$ROOT_HASH"'

# Who is recorded is who was authenticated, not a header.
got=$(code "${token[support]}" POST "$v/stop" -H 'X-Lodge-User: root')
check "X-Lodge-User does not lend a support user an operator's verbs ($got)" '[ "$got" = 403 ]'
lodged_log=$LODGE_CLUSTER_DIR/log/lodged.log
as "${token[admin]}" "$lodge" user add t-audit --role viewer >/dev/null 2>&1
check "lodged records the authenticated name (t-admin) for what it does" \
  'grep -q "user t-audit added (viewer) by t-admin (admin)" "$lodged_log"'

# Removal: the token stops working at once.
expect 0 "an admin removes t-viewer" 'User t-viewer removed' -- "$lodge" user remove t-viewer
got=$(code "${token[viewer]}" GET /v1/environments)
check "t-viewer's token is refused now (401: $got)" '[ "$got" = 401 ]'
expect 3 "removing an unknown user" 'no user t-viewer' -- "$lodge" user remove t-viewer
for u in t-admin t-operator t-support t-audit; do "$lodge" user remove "$u" >/dev/null 2>&1; done
check "no test user is left" '! "$lodge" user list | grep -q "^t-"'
finish
