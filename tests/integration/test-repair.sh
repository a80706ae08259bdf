#!/bin/bash
# lodge repair on the shared cluster: a VE broken three ways while stopped
# (by guestfish on its RBD disk, outside Lodge, as a customer's own mistakes
# would), seen exactly by `repair diff`, fixed by `revert` and `reset-root`,
# and back in service; undo restores the disk's exact bytes; a start is
# refused while a writing repair or a repair shell holds the VE; reading
# repairs leave a running VE alone; a hostile tree planted in the shell
# (symlink loops, links out of the root, a 2 GiB sparse file, names with
# newlines and invalid UTF-8) neither escapes, hangs nor bloats lodged.
# Appliance launches (~15 s each under TCG) are what this test costs: it
# makes ten.
# Real Ceph, real libguestfs appliances (lodged's and guestfish's), real
# QEMU guests.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
command -v guestfish >/dev/null || skip "guestfish is missing (apt-get install libguestfs-tools)"
ensure_busybox || skip "cannot import the busybox template"
user=${LODGE_CEPH_USER:-lodge}
# guestfish as Lodge runs libguestfs: direct, and under TCG where the
# nodes found that KVM does not work (lodge-agent tests it).
export LIBGUESTFS_BACKEND=direct
if "$lodge" node list -o json | grep -q '"accel":"tcg"'; then
  export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
fi

log_start=$(wc -l <"$LODGE_CLUSTER_DIR/log/lodged.log")
ve=rp1 ip=10.77.0.41
new_hash='$6$lodgerepair$Y4o0oZOYtiW5wUWyjEO9l9ZsV9NQ7Zk6w0uSmXjgqkTCoZP6j4zZ2WvHnH5xVQkGYg2ZbYxrsSxkL6QZzQk3x/'
# httpd drops to www-data: it needs /etc/passwd, and /usr/sbin/httpd.
define_ve "$ve" "$ip" 256 64 "httpd -f -p 80 -h /srv/www -u www-data" >/dev/null ||
  { not_ok "define $ve"; finish; exit; }
answers() { curl -sf --max-time 3 "http://$ip/" | grep -q "busybox template"; }
disk() { "$lodge" status "$ve" -o json | sed -n 's/.*"disk_pool":"\([^"]*\)".*"disk_image":"\([^"]*\)".*/\1\/\2/p'; }
snapshots() { rbd --id "$user" snap ls "$(disk)" 2>/dev/null | awk 'NR > 1 { print $2 }'; }
disk_sum() { rbd --id "$user" export "$(disk)" - 2>/dev/null | sha256sum | cut -d' ' -f1; }
# gf COMMANDS...: guestfish on the VE's disk (stopped), outside Lodge.
gf() {
  local pool_image
  pool_image=$(disk)
  guestfish <<EOF
add $pool_image protocol:rbd format:raw username:$user
run
mount /dev/sda /
$*
EOF
}

expect 0 "start" "running" -- "$lodge" start "$ve"
check "its web server answers" 'wait_for 20 answers'
expect 0 "stop" "stopped" -- "$lodge" stop "$ve"

echo "# the customer breaks it: garbage in /etc/passwd, httpd deleted, root's hash changed"
if ! gf "write /etc/passwd \"garbage\\x01\\n\"
rm /usr/sbin/httpd
write /etc/shadow \"root:\$6\$broken\$xyz:19000:0:99999:7:::\\ndaemon:*:19000:0:99999:7:::\\nwww-data:*:19000:0:99999:7:::\\nnobody:*:19000:0:99999:7:::\\n\"" >"$tmp/gf.log" 2>&1; then
  not_ok "guestfish breaks the VE"; show <"$tmp/gf.log"
fi

"$lodge" repair "$ve" diff >"$tmp/diff" 2>"$tmp/diff.err"
rc=$?
[ $rc -eq 0 ] && ok "repair diff" || { not_ok "repair diff: exit $rc"; show <"$tmp/diff.err"; }
grep -E '^[-+M] ' "$tmp/diff" | awk '{ print $1, $2 }' >"$tmp/diff.files"
printf 'M /etc/passwd\nM /etc/shadow\n- /usr/sbin/httpd\n' >"$tmp/diff.expected"
if diff <(sort "$tmp/diff.files") <(sort "$tmp/diff.expected") >/dev/null; then
  ok "repair diff shows exactly the three broken files"
else
  not_ok "repair diff shows exactly the three broken files"; show 20 <"$tmp/diff"
fi
check "the diff of /etc/passwd shows the garbage line" 'grep -q "^+garbage" "$tmp/diff"'
check "the diff of /etc/passwd shows the lost www-data line" 'grep -q "^-www-data:x:33:33" "$tmp/diff"'
check "the summary counts them" 'grep -q "^2 changed, 0 added, 1 removed" "$tmp/diff.err"'
check "the appliance on the snapshot is kept for the next command" 'grep -q "lodge-ro-" <(snapshots)'
expect 0 "repair diff of one file" '^M /etc/passwd' -- "$lodge" repair -q "$ve" diff /etc/passwd
expect 0 "repair ls shows the dangling state" 'passwd' -- "$lodge" repair -q "$ve" ls /etc
expect 3 "repair cat of the deleted binary: not found" 'no such file' -- \
  "$lodge" repair -q "$ve" cat /usr/sbin/httpd
expect 0 "repair close" '' -- "$lodge" repair -q "$ve" close
check "close removes the reading snapshot" 'output_lacks lodge-ro- rbd --id "$user" snap ls "$(disk)"'

echo "# a start while a writing repair holds the VE is refused"
"$lodge" repair -q "$ve" revert /etc/passwd /usr/sbin/httpd >"$tmp/revert" 2>&1 &
revert_pid=$!
held() { "$lodge" status "$ve" -o json | grep -q "\"repair\":\"$1 by"; }
if wait_for 30 held revert; then
  expect 4 "start during the repair: refused, naming it and who holds it" \
    'held by a repair \(revert by cluster \(admin\) since' -- "$lodge" start "$ve"
else
  not_ok "the repair claim shows in the status"
fi
wait $revert_pid && ok "repair revert" || { not_ok "repair revert"; show <"$tmp/revert"; }
check "revert says what it restored" 'grep -q "/usr/sbin/httpd: recreated from the template" "$tmp/revert"'
check "the appliance is kept after it, and the claim with it" 'held revert'
expect 0 "repair close ends both" '' -- "$lodge" repair -q "$ve" close
check "the claim is gone after close" 'output_lacks "\"repair\"" "$lodge" status "$ve" -o json'

echo "# undo: the exact bytes of before"
before=$(disk_sum)
echo "hello from support" | "$lodge" repair -q "$ve" write /etc/motd >/dev/null 2>&1
check "repair write changed the disk" '[ "$(disk_sum)" != "$before" ]'
expect 0 "repair history lists the snapshots" 'repair-[0-9]{8}T[0-9]{6}Z.*undo goes back' -- \
  "$lodge" repair -q "$ve" history
expect 0 "repair undo" 'the disk is back to repair-' -- "$lodge" repair -q "$ve" undo
check "undo restores the exact bytes (sha256 of the whole disk)" '[ "$(disk_sum)" = "$before" ]'

echo "# a session of writing repairs pays one appliance launch"
expect 0 "repair reset-root --password-hash" 'undo' -- \
  "$lodge" repair "$ve" reset-root --password-hash "$new_hash"
expect 0 "the definition holds the new hash" 'lodgerepair' -- "$lodge" show "$ve"
# edit: fetch, $EDITOR (here a script that appends a line), write back.
EDITOR="sh -c 'echo \"edited by support\" >> \"\$1\"' sh" "$lodge" repair "$ve" edit /etc/profile \
  >"$tmp/edit" 2>&1 && ok "repair edit" || { not_ok "repair edit"; show <"$tmp/edit"; }
check "edit reused the appliance reset-root left" 'grep -q "reusing the appliance" "$tmp/edit"'
check "edit launched none" 'output_lacks "starting the repair appliance" cat "$tmp/edit"'
expect 0 "the edit is there" '^edited by support$' -- "$lodge" repair -q "$ve" cat /etc/profile
expect 0 "revert undoes it" 'restored from the template' -- "$lodge" repair -q "$ve" revert /etc/profile

echo "# back in service"
expect 0 "a start closes the appliance a finished repair kept, and starts" "running" -- \
  "$lodge" start "$ve"
check "its web server answers again" 'wait_for 20 answers'
pid=$(qemu_pid "$ve")
expect 0 "repair diff of the running VE: nothing left of the breakage" \
  '^0 changed, 0 added, 0 removed' -- "$lodge" repair "$ve" diff
expect 0 "repair cat on the running VE: the new root credential is in place" \
  '^root:\$6\$lodgerepair\$' -- "$lodge" repair -q "$ve" cat /etc/shadow
expect 4 "a writing repair on the running VE is refused" 'needs it stopped' -- \
  "$lodge" repair -q "$ve" rm /etc/motd
expect 0 "repair close" '' -- "$lodge" repair -q "$ve" close
check "the running VE is untouched (same QEMU, still answering)" \
  '[ -n "$pid" ] && [ "$(qemu_pid "$ve")" = "$pid" ] && curl -sf --max-time 3 "http://$ip/" >/dev/null'
check "no reading snapshot is left behind" 'output_lacks lodge-ro- rbd --id "$user" snap ls "$(disk)"'
expect 0 "stop" "stopped" -- "$lodge" stop "$ve"

echo "# repair shell: a hostile tree planted by hand; a start meanwhile is refused"
mkfifo "$tmp/sh.in"
"$lodge" repair -q "$ve" shell <"$tmp/sh.in" >"$tmp/sh.out" 2>&1 &
sh_pid=$!
exec 3>"$tmp/sh.in"
if wait_for 40 held shell; then
  expect 4 "start while a repair shell is open: refused" 'held by a repair \(shell by' -- \
    "$lodge" start "$ve"
else
  not_ok "the shell's claim shows in the status"
fi
cat >&3 <<'SH'
ln -s /etc/shadow escape-abs && ln -s ../../../../../../../etc/hostname escape-rel
ln -s /loop2 loop1 && ln -s /loop1 loop2 && ln -s /proc/self/environ host-proc
truncate -s 2G big && touch "$(printf 'new\nline')" "$(printf 'bad\377utf8')"
ls -la big escape-rel
exit
SH
exec 3>&-
wait $sh_pid && ok "repair shell" || { not_ok "repair shell"; show <"$tmp/sh.out"; }
check "the shell ran the commands in the VE's tree" 'grep -q "escape-rel -> ../../../../../../../etc/hostname" "$tmp/sh.out"'
check "the claim is gone after exit" 'output_lacks "\"repair\"" "$lodge" status "$ve" -o json'

host_hostname=$(cat /etc/hostname)
printf 'evil\n' | "$lodge" repair -q "$ve" write /escape-rel >/dev/null 2>&1
check "a write through a .. link does not touch the host" '[ "$(cat /etc/hostname)" = "$host_hostname" ]'
expect 0 "repair fsck" 'clean|corrected' -- "$lodge" repair -q "$ve" fsck
expect 0 "the write through the .. link landed in the VE's /etc/hostname" '^evil$' -- \
  "$lodge" repair -q "$ve" cat /etc/hostname
expect 0 "a link to /etc/hostname by .. chains resolves inside the VE" '^evil$' -- \
  "$lodge" repair -q "$ve" cat /escape-rel
expect 0 "an absolute link resolves inside the VE" '^root:\$6\$lodgerepair' -- \
  "$lodge" repair -q "$ve" cat /escape-abs
expect 1 "a symlink loop is an error, not a hang" 'more than 40 symbolic links' -- \
  "$lodge" repair -q "$ve" cat /loop1
expect 3 "a link to /proc/self/environ finds the VE's empty /proc" 'no such' -- \
  "$lodge" repair -q "$ve" cat /host-proc
lines=$("$lodge" repair -q "$ve" find '*line*' | wc -l)
check "a name with a newline is one quoted line" '[ "$lines" = 1 ]'
expect 0 "it is shown escaped" '^/new\\x0aline$' -- "$lodge" repair -q "$ve" find '*line*'
expect 0 "invalid UTF-8 is shown escaped" '^/bad\\xffutf8$' -- "$lodge" repair -q "$ve" find 'bad*'
lodged_rss() { awk '/VmRSS/ { print $2 }' "/proc/$(cat "$LODGE_CLUSTER_DIR/run/lodged.pid")/status"; }
rss_before=$(lodged_rss)
expect 0 "diff lists the sparse 2 GiB file without reading it" \
  '^\+ /big  \(-rw-r--r-- 0:0, 2147483648 bytes\)' -- "$lodge" repair "$ve" diff
got=$(timeout 120 "$lodge" repair -q "$ve" cat /big 2>/dev/null | head -c 1048576 | wc -c)
check "cat of the 2 GiB file streams (a reader that stops early stops it)" '[ "$got" = 1048576 ]'
expect 0 "the appliance is free again after the reader left" 'big' -- "$lodge" repair -q "$ve" ls /
rss_after=$(lodged_rss)
echo "# lodged RSS: ${rss_before} KiB before, ${rss_after} KiB after"
check "lodged's memory did not grow by 100 MiB" '[ $((rss_after - rss_before)) -lt 102400 ]'

echo "# bad input"
repairs_before=$(snapshots | grep -c repair-)
expect 3 "an unknown VE" "unknown environment" -- "$lodge" repair nosuchve diff
expect 2 "an unknown operation" "unknown repair operation" -- "$lodge" repair "$ve" frobnicate
expect 1 "a relative path" "not an absolute path" -- "$lodge" repair -q "$ve" cat etc/passwd
expect 1 "an impossible mode" "octal file mode" -- "$lodge" repair -q "$ve" chmod 99999 /etc/motd
expect 1 "a bad hash" "password" -- "$lodge" repair -q "$ve" reset-root --password-hash "plaintext"
check "the refused writes left no snapshot" '[ "$(snapshots | grep -c repair-)" = "$repairs_before" ]'
"$lodge" repair -q "$ve" close >/dev/null 2>&1
check "lodged logged no assertion failure meanwhile" \
  '! tail -n +$((log_start + 1)) "$LODGE_CLUSTER_DIR/log/lodged.log" | grep -Ei "assertion|critical"'

finish
