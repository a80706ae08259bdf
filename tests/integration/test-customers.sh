#!/bin/bash
# Customers (controller/lodge-customers.h, docs/security.md): an admin adds
# two customers with quotas and allowed templates. Each one sees and runs
# only its own VEs: another's, and the provider's, are 404 to it, worded
# as a VE that does not exist. A customer defines VEs of its own from what
# it is allowed, within its quotas (VEs, disk at define; vCPUs, memory of
# running VEs at start), and two of its defines at once cannot both take
# its last VE. Whatever is not a customer's verb is 403.
# check's conditions are single-quoted strings that check evaluates.
# shellcheck disable=SC2016,SC2034
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
api=${LODGE_URL%%,*}
ensure_busybox || skip "the busybox template could not be imported"

# code TOKEN METHOD PATH [CURL-ARGS...]: the HTTP status of one request
# (its body in $tmp/body).
code() {
  local token=$1 method=$2 path=$3
  shift 3
  curl -s -o "$tmp/body" -w '%{http_code}' --max-time 120 --cacert "$LODGE_CA" \
    -H "Authorization: Bearer $token" -X "$method" "$@" "$api$path"
}
as() { local token=$1; shift; LODGE_TOKEN=$token "$@"; }
# own_xml NAME IP [MEMORY_MIB [DISK_GIB]]: a VE of ve_xml as a customer
# writes it (no <owner>), with its own memory and disk.
own_xml() {
  ve_xml "$1" "$2" "${3:-256}" 64 | sed "s|<disk unit=\"GiB\">1</disk>|<disk unit=\"GiB\">${4:-1}</disk>|"
  echo "$1" >>"$tmp/ves"
}
users=(c-acme c-other)
cleanup() {
  cleanup_ves
  for u in "${users[@]}"; do "$lodge" user remove "$u" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the customers, and VEs of others ----
acme=$("$lodge" user add c-acme --role customer --max-environments 2 --max-vcpus 2 --max-memory 512M \
  --max-disk 2G --templates busybox --applications busybox-httpd 2>"$tmp/err")
check "an admin adds customer c-acme with quotas; its token is printed" '[[ $acme == c-acme.* ]]'
other=$("$lodge" user add c-other --role customer --templates busybox --applications busybox-httpd 2>>"$tmp/err")
check "and customer c-other, without quotas" '[[ $other == c-other.* ]]'
expect 0 "user list shows c-acme's limits" \
  '^c-acme +customer .*2 VEs, 2 vCPUs, memory: 512 MiB, disk: 2 GiB; templates: busybox; applications: busybox-httpd' \
  -- "$lodge" user list
expect 2 "limits for a role that is not a customer's are refused" "are a customer's" -- \
  "$lodge" user add c-x --role operator --max-vcpus 2
got=$(code "$LODGE_TOKEN" POST /v1/users -H 'Content-Type: application/json' \
  -d '{"name": "c-x", "role": "customer", "quota": {"cpus": 1}}')
check "an unknown quota in the API is refused 400, naming it ($got)" \
  '[ "$got" = 400 ] && grep -q "unknown quota '"'"'cpus'"'"'" "$tmp/body"'
check "and no user c-x was made" '! "$lodge" user list | grep -q "^c-x "'

# The provider's VE (no owner), and one an admin defines for c-other.
define_ve cust-prov 10.77.0.92 >/dev/null
ve_xml cust-theirs 10.77.0.93 | sed 's|<template |<owner>c-other</owner>\n  &|' >"$tmp/cust-theirs.xml"
echo cust-theirs >>"$tmp/ves"
expect 0 "an admin defines cust-theirs for c-other" 'cust-theirs' -- "$lodge" define "$tmp/cust-theirs.xml"

# ---- a customer defines its own ----
own_xml acme1 10.77.0.94 >"$tmp/acme1.xml"
expect 0 "c-acme defines acme1" 'acme1' -- as "$acme" "$lodge" define "$tmp/acme1.xml"
check "acme1 is c-acme's: the stored definition says so" '"$lodge" show acme1 | grep -q "<owner>c-acme</owner>"'
check "c-acme's list is acme1 alone" '[ "$(as "$acme" "$lodge" list -o json | grep -o "\"name\":\"[^\"]*\"" | sort -u)" = "\"name\":\"acme1\"" ]'
check "c-other's list is cust-theirs alone" '[ "$(as "$other" "$lodge" list -o json | grep -o "\"name\":\"[^\"]*\"" | sort -u)" = "\"name\":\"cust-theirs\"" ]'
check "an admin's list has all three" 'out=$("$lodge" list) && grep -q "^acme1 " <<<"$out" && grep -q "^cust-theirs " <<<"$out" && grep -q "^cust-prov " <<<"$out"'

# ---- another's VE does not exist for a customer ----
code "$acme" GET /v1/environments/no-such-ve/status >/dev/null
absent=$(sed 's/no-such-ve/NAME/' "$tmp/body")
for ve in cust-theirs cust-prov; do
  for req in "GET /v1/environments/$ve" "GET /v1/environments/$ve/status" "GET /v1/environments/$ve/console" \
    "POST /v1/environments/$ve/start" "POST /v1/environments/$ve/stop" "POST /v1/environments/$ve/exec" \
    "POST /v1/environments/$ve/passwd" "DELETE /v1/environments/$ve" \
    "POST /v1/environments/$ve/apps/web/configure"; do
    read -r method path <<<"$req"
    got=$(code "$acme" "$method" "$path" -H 'Content-Type: application/json' -d '{}')
    check "c-acme: $method $path is 404, as for no VE ($got)" \
      '[ "$got" = 404 ] && [ "$(sed "s/$ve/NAME/" "$tmp/body")" = "$absent" ]'
  done
done
expect 3 "the CLI says so in the same words" "unknown environment 'cust-theirs'" -- as "$acme" "$lodge" status cust-theirs
sed 's|<vcpus>1</vcpus>|<vcpus>2</vcpus>|' "$tmp/cust-theirs.xml" | sed '/<owner>/d' >"$tmp/take.xml"
expect 4 "c-acme's redefinition of cust-theirs is refused: the name is taken" "the name 'cust-theirs' is taken" -- \
  as "$acme" "$lodge" define "$tmp/take.xml"
check "... and cust-theirs is unchanged: c-other's, 1 vCPU" \
  'out=$("$lodge" show cust-theirs) && grep -q "<owner>c-other</owner>" <<<"$out" && grep -q "<vcpus>1</vcpus>" <<<"$out"'

# ---- what a customer may define ----
sed 's|<template |<owner>c-other</owner>\n  &|' "$tmp/acme1.xml" >"$tmp/theirs-owner.xml"
expect 1 "a definition naming another owner is refused" "<owner> is c-other; c-acme defines only its own VEs" -- \
  as "$acme" "$lodge" define "$tmp/theirs-owner.xml"
own_xml acme-t 10.77.0.95 | sed 's|<template name="busybox"/>|<template name="debian-12"/>|' >"$tmp/acme-t.xml"
expect 1 "a template it is not allowed is refused, naming those it is" \
  "c-acme may not use the template debian-12 \\(allowed: busybox\\)" -- as "$acme" "$lodge" define "$tmp/acme-t.xml"
own_xml acme-p 10.77.0.95 | sed 's|  <applications>|  <availability><priority>900</priority></availability>\n&|' >"$tmp/acme-p.xml"
expect 1 "<priority> is the provider's" "<priority> is the provider's to set" -- as "$acme" "$lodge" define "$tmp/acme-p.xml"
own_xml acme2 10.77.0.95 1024 >"$tmp/acme2-big.xml"
expect 4 "a VE with more memory than the quota is refused at define" \
  "would take c-acme past the quota of memory: 1 GiB for this VE alone, 512 MiB allowed" -- \
  as "$acme" "$lodge" define "$tmp/acme2-big.xml"
own_xml acme2 10.77.0.95 256 2 >"$tmp/acme2-disk.xml"
expect 4 "a disk past the disk quota is refused (1 GiB used, 2 more, 2 allowed)" \
  "past the quota of disk: 1 GiB in use, 2 GiB more, 2 GiB allowed" -- as "$acme" "$lodge" define "$tmp/acme2-disk.xml"
check "none of these was defined" '! "$lodge" list | grep -Eq "^acme(-t|-p|2) "'
own_xml acme2 10.77.0.95 >"$tmp/acme2.xml"
expect 0 "c-acme defines acme2 within its quotas" 'acme2' -- as "$acme" "$lodge" define "$tmp/acme2.xml"
own_xml acme3 10.77.0.96 >"$tmp/acme3.xml"
expect 4 "a third VE is past the quota of 2" "past the quota of environments: 2 in use, 1 more, 2 allowed" -- \
  as "$acme" "$lodge" define "$tmp/acme3.xml"

# ---- two defines at once for the last VE: one wins ----
expect 0 "c-acme undefines acme2 (its own)" '' -- as "$acme" "$lodge" undefine acme2
own_xml acme4 10.77.0.97 >"$tmp/acme4.xml"
for x in acme3 acme4; do
  curl -s -o "$tmp/$x.out" -w '%{http_code}\n' --max-time 120 --cacert "$LODGE_CA" -H "Authorization: Bearer $acme" \
    -H 'Content-Type: application/xml' --data-binary "@$tmp/$x.xml" "$api/v1/environments" >"$tmp/$x.code" &
done
wait
codes=$(cat "$tmp/acme3.code" "$tmp/acme4.code" | sort | tr '\n' ' ')
check "of two defines at once with one VE left, one is 201 and one 403 ($codes)" '[ "$codes" = "201 403 " ]'
check "c-acme has 2 VEs, not 3" '[ "$(as "$acme" "$lodge" list -o json | grep -o "\"name\":\"acme[0-9]\"" | sort -u | wc -l)" = 2 ]'

# ---- starts: vCPUs and memory of running VEs ----
second=$(as "$acme" "$lodge" list -o json | grep -o '"name":"acme[34]"' | head -n 1 | cut -d'"' -f4)
expect 0 "an admin lowers c-acme's memory quota to 256 MiB" 'memory: 256 MiB' -- "$lodge" user set c-acme --max-memory 256M
expect 0 "c-acme starts acme1 (256 MiB)" 'acme1: running on node' -- as "$acme" "$lodge" start acme1
expect 4 "starting $second too would pass the memory quota" \
  "starting $second would take c-acme past the quota of memory: 256 MiB in use by running VEs, 256 MiB more, 256 MiB allowed" -- \
  as "$acme" "$lodge" start "$second"
check "$second stays stopped" '"$lodge" status "$second" | grep -q stopped'
expect 0 "whoami shows c-acme its quotas and what it uses" 'memory \(running\) +256 MiB of 256 MiB' -- \
  as "$acme" "$lodge" user whoami
expect 0 "c-acme runs a command in acme1" '^acme1$' -- as "$acme" "$lodge" exec acme1 -- cat /etc/hostname
got=$(code "$acme" GET /v1/environments/acme1/console)
check "c-acme reads acme1's console ($got)" '[ "$got" = 200 ]'
got=$(code "$acme" POST /v1/environments/acme1/apps/web/configure -H 'Content-Type: application/json' -d '{"params":{}}')
check "c-acme may configure acme1's application (not 403/404: $got)" '[ "$got" != 403 ] && [ "$got" != 404 ] && [ "$got" != 401 ]'
check "the audit line names c-acme" 'grep -q "exec in acme1 by c-acme (customer)" "$LODGE_CLUSTER_DIR/log/lodged.log"'

# ---- what is not a customer's ----
for req in "GET /v1/nodes" "GET /v1/templates" "GET /metrics" "GET /v1/users" \
  "POST /v1/environments/acme1/migrate" "POST /v1/environments/acme1/repair/ls" \
  "POST /v1/environments/acme1/apps/web/install" "PATCH /v1/users/c-acme"; do
  read -r method path <<<"$req"
  got=$(code "$acme" "$method" "$path" -H 'Content-Type: application/json' -d '{}')
  check "c-acme: $method $path is 403 ($got)" '[ "$got" = 403 ] && grep -q "c-acme is customer" "$tmp/body"'
done
check "c-acme does not see acme1's root password hash" '! as "$acme" "$lodge" show acme1 | grep -qF "$ROOT_HASH"'
expect 0 "c-acme stops acme1" 'acme1: stopped' -- as "$acme" "$lodge" stop acme1
finish
