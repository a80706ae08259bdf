#!/bin/bash
# Applications in VEs on the shared cluster: the static-web and echo
# application templates (images/apps) laid into a busybox VE's disk at its
# first start, started by lodge-init and answering at the VE's address
# with the configured values; `lodge app configure` changes a running one
# through the guest agent and the page changes; a killed server is
# started again; `lodge exec` returns a command's output and exit code
# and cuts one at its timeout; `lodge passwd` changes root's hash in the
# running guest and in the definition; a stopped VE is configured on its
# disk, gets a new application and loses one. Bad input (an unknown application
# template, a manifest writing outside the VE, an undeclared key) is
# refused with a clear error and changes nothing.
# Real Ceph, real libguestfs appliances, real QEMU guests, the guest agent
# over virtio-serial.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
ensure_busybox || skip "cannot import the busybox template"
ensure_app static-web && ensure_app echo || skip "cannot import the application templates"
log_start=$(wc -l <"$LODGE_CLUSTER_DIR/log/lodged.log")
ve=app-web ip=10.77.0.61
nc="busybox nc"

# ---- bad input first: nothing of it may stay ----
mkdir -p "$tmp/evil" "$tmp/escape"
cat >"$tmp/evil/lodge-app.xml" <<'EOF'
<application-template>
  <files><copy from="payload" to="/srv/../../etc/cron.d"/></files>
  <launch>true</launch>
</application-template>
EOF
echo '* * * * * root reboot' >"$tmp/evil/payload"
expect 1 "a manifest writing outside the VE tree is refused" "/srv/\.\./\.\./etc/cron\.d.*'\.\.'" -- \
  "$lodge" template import --kind application evil "$tmp/evil"
expect 3 "... and no template is left of it" "unknown template 'evil'" -- "$lodge" template show evil
cat >"$tmp/escape/lodge-app.xml" <<'EOF'
<application-template>
  <files><copy from="data" to="/srv/data"/></files>
  <launch>true</launch>
</application-template>
EOF
ln -s /etc "$tmp/escape/data"
expect 1 "a copied path that leaves the tree through a symlink is refused" "leads out of the tree" -- \
  "$lodge" template import --kind application escape "$tmp/escape"

app_xml() { # NAME IP APPLICATIONS...
  local name=$1 ip=$2; shift 2
  cat <<EOF
<environment>
  <name>$name</name>
  <template name="busybox"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">256</memory><currentMemory unit="MiB">96</currentMemory><disk unit="GiB">1</disk></resources>
  <root><password hash="$ROOT_HASH"/></root>
  <network><interface name="eth0"><ip address="$ip" prefix="24"/><gateway address="10.77.0.1"/></interface></network>
  <applications>$*</applications>
</environment>
EOF
}
site_app() { echo "<application name=\"site\" autostart=\"yes\"><source template=\"${2:-static-web}\"/><config><param name=\"greeting\" value=\"$1\"/></config></application>"; }
echo_app='<application name="echo" autostart="yes"><source template="echo"/><config><param name="banner" value="echo of app-web"/></config></application>'

app_xml app-bad1 10.77.0.62 "$(site_app hi no-such-app)" >"$tmp/bad1.xml"
expect 3 "an unknown application template is refused at define" \
  "environment app-bad1: application site: unknown template 'no-such-app'" -- "$lodge" define "$tmp/bad1.xml"
app_xml app-bad2 10.77.0.62 "<application name=\"site\"><source template=\"static-web\"/><config><param name=\"colour\" value=\"red\"/></config></application>" >"$tmp/bad2.xml"
expect 1 "a configuration key the manifest does not declare is refused" \
  "no configuration key 'colour'; the template declares: greeting, port" -- "$lodge" define "$tmp/bad2.xml"
app_xml app-bad3 10.77.0.62 "$(site_app hi busybox)" >"$tmp/bad3.xml"
expect 1 "an OS template named as an application is refused" \
  "template 'busybox' is an OS template, not an application template" -- "$lodge" define "$tmp/bad3.xml"
for b in app-bad1 app-bad2 app-bad3; do
  expect 3 "... $b was not defined" "unknown environment '$b'" -- "$lodge" status "$b"
done

# ---- laid in at first start, started by lodge-init ----
echo "$ve" >>"$tmp/ves"
app_xml "$ve" "$ip" "$(site_app 'Hello from app-web')" "$echo_app" >"$tmp/$ve.xml"
expect 0 "define a VE with two applications" "environment $ve defined" -- "$lodge" define "$tmp/$ve.xml"
expect 0 "its first start lays both into its disk" \
  "applications: installing site \(static-web@1\), installing echo \(echo@1\)" -- "$lodge" start "$ve"
page() { curl -sf --max-time 3 "http://$ip/"; }
page_has() { page | grep -q "$1"; }
check "the web server answers with the configured greeting" 'wait_for 30 page_has "<h1>Hello from app-web</h1>"'
check "the copied files are served too" 'curl -sf --max-time 3 "http://$ip/style.css" | grep -q font-family'
echo_answer() { printf 'ping\n' | $nc -w 2 "$ip" 7; }
expect 0 "the echo service greets with its banner and echoes" "^echo of app-web" -- echo_answer
check "... and sends the bytes back" 'printf "ping\n" | $nc -w 2 "$ip" 7 | grep -qx ping'
expect 0 "app list shows both running, healthy, as the guest reports" \
  "site +static-web@1 +yes +running +[0-9]+ +0 +ok" -- "$lodge" app list "$ve"
expect 0 "... the echo service too" "echo +echo@1 +yes +running +[0-9]+ +0 +ok" -- "$lodge" app list "$ve"

# ---- lodge exec ----
expect 0 "exec cat /etc/hostname prints the VE's hostname" "^$ve\$" -- "$lodge" exec "$ve" -- cat /etc/hostname
out=$("$lodge" exec "$ve" -- sh -c 'echo to-out; echo to-err >&2; exit 7' 2>"$tmp/err"); rc=$?
check "a failing command's exit code comes back (7)" '[ "$rc" -eq 7 ]'
check "... with its stdout" '[ "$out" = to-out ]'
check "... and its stderr" 'grep -qx to-err "$tmp/err"'
start=$SECONDS
expect 124 "a command that hangs is cut at the timeout" "killed after 2 s" -- \
  "$lodge" exec --timeout 2 "$ve" -- sleep 600
check "... within seconds, not at its end" '[ $((SECONDS - start)) -lt 20 ]'
expect 1 "... and it no longer runs in the guest" '' -- "$lodge" exec "$ve" -- sh -c 'ps | grep -v grep | grep -q "sleep 600"'
expect 0 "exec -i passes standard input" "^HELLO\$" -- sh -c "echo hello | '$lodge' exec -i '$ve' -- tr a-z A-Z"
expect 6 "an unknown command is refused by the guest, naming it" "cannot run '/no/such/command'" -- \
  "$lodge" exec "$ve" -- /no/such/command
expect 3 "exec in an unknown VE" "unknown environment 'no-such-ve'" -- "$lodge" exec no-such-ve -- true
logged_exec() { tail -n +"$log_start" "$LODGE_CLUSTER_DIR/log/lodged.log" | grep -q "exec in $ve by .*: 'cat' '/etc/hostname'"; }
check "the control center logged who ran what" 'logged_exec'

# ---- live configuration, restart after a kill ----
expect 0 "app configure changes the running application" "configured \(live" -- \
  "$lodge" app configure "$ve" site "greeting=Changed live"
check "the page changes" 'wait_for 30 page_has "<h1>Changed live</h1>"'
expect 1 "an undeclared key is refused" "no configuration key 'colour'" -- \
  "$lodge" app configure "$ve" site colour=red
expect 1 "a value that does not fit is refused" "does not match its pattern" -- \
  "$lodge" app configure "$ve" site port=eighty
check "... and the page is as it was" 'page_has "<h1>Changed live</h1>"'
check "... and so is the definition" '"$lodge" show "$ve" | grep -q "value=\"Changed live\""'
site_pid() { "$lodge" app list -o json "$ve" | sed -n 's/.*"guest":{"name":"site","state":"running","pid":\([0-9]*\).*/\1/p'; }
pid=$(site_pid)
check "the guest reports the server's pid" '[ -n "$pid" ]'
expect 0 "kill the web server inside the VE" '' -- "$lodge" exec "$ve" -- kill -9 "$pid"
new_pid() { p=$(site_pid); [ -n "$p" ] && [ "$p" != "$pid" ]; }
check "lodge-init starts it again" 'wait_for 30 new_pid'
check "... and it answers again" 'wait_for 30 page_has "<h1>Changed live</h1>"'
expect 0 "app list counts the restarts" "site +static-web@1 +yes +running +[0-9]+ +[2-9]" -- "$lodge" app list "$ve"

# ---- passwd ----
expect 0 "passwd changes root's password while it runs" "in the running VE and in its definition" -- \
  sh -c "echo 'new secret' | '$lodge' passwd --password-stdin '$ve'"
def_hash=$("$lodge" show "$ve" | sed -n 's/.*<password hash="\([^"]*\)".*/\1/p')
guest_hash=$("$lodge" exec "$ve" -- sh -c 'grep ^root: /etc/shadow | cut -d: -f2')
check "the guest has the definition's new hash" '[ -n "$def_hash" ] && [ "$def_hash" = "$guest_hash" ] && [ "$def_hash" != "$ROOT_HASH" ]'

# ---- a stopped VE: configuration on its disk, a new application ----
expect 0 "stop" "stopped" -- "$lodge" stop "$ve"
expect 4 "exec needs the VE running" "is stopped: exec needs it running" -- "$lodge" exec "$ve" -- true
expect 0 "app configure of a stopped VE writes its disk (a repair snapshot first)" \
  "config files of site written to the disk" -- "$lodge" app configure "$ve" site "greeting=Set offline"
expect 0 "app install adds busybox-httpd on port 8080 (nothing to copy: no appliance)" \
  "docs installed from busybox-httpd@1" -- "$lodge" app install "$ve" docs --template busybox-httpd --autostart port=8080
expect 0 "the definition has the new application" 'name="docs" autostart="yes"' -- "$lodge" show "$ve"
expect 0 "app remove takes echo out of the stopped VE (on the kept appliance)" \
  "removed /usr/local/bin/lodge-echo-session" -- "$lodge" app remove "$ve" echo
check "... and out of the definition" 'output_lacks "name=\"echo\"" "$lodge" show "$ve"'
expect 3 "removing it again: it is not there" "has no application 'echo'" -- "$lodge" app remove "$ve" echo
expect 0 "start" "lodge-ready name=$ve" -- "$lodge" start "$ve"
check "the page has the greeting set offline" 'wait_for 30 page_has "<h1>Set offline</h1>"'
docs_answers() { curl -sf --max-time 3 "http://$ip:8080/" | grep -q "busybox template"; }
check "the new application answers on port 8080" 'wait_for 30 docs_answers'
guest_hash=$("$lodge" exec "$ve" -- sh -c 'grep ^root: /etc/shadow | cut -d: -f2')
check "the password set by passwd survived the reboot" '[ "$guest_hash" = "$def_hash" ]'
expect 0 "app list: the new application runs" "docs +busybox-httpd@1 +yes +running" -- "$lodge" app list "$ve"
check "the removed one is gone from app list" 'output_lacks "^echo " "$lodge" app list "$ve"'
expect 1 "... and its files from the disk" '' -- "$lodge" exec "$ve" -- test -e /usr/local/bin/lodge-echo-session
check "... and nothing answers on its port" '! printf "ping\n" | $nc -w 2 "$ip" 7 | grep -q ping'

finish
