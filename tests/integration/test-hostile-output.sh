#!/bin/bash
# A guest's escape sequences on the shared cluster: a busybox VE prints a
# window title (OSC ... BEL), a clear screen and an 8-bit CSI on exec's
# stdout and stderr and on its console, and leaves a file of them, a log of
# them and a file whose name has an ESC and a newline on its disk. Through
# a pseudo-terminal (script(1)) `lodge exec`, `lodge console` and the
# repair commands show them escaped (no raw ESC reaches the terminal);
# into a pipe `lodge exec` gives the exact bytes, as `--raw` does; file
# names are one quoted line; lodged.log and the agents' logs hold no raw
# ESC, not even after a command named with one.
# Real Ceph, real QEMU guests, the guest agent over virtio-serial, real
# libguestfs appliances.
# check's conditions are single-quoted strings that check evaluates: their
# expansions, and the variables they use, are not seen by shellcheck.
# shellcheck disable=SC2016,SC2034
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || skip "script (util-linux) is missing: no pseudo-terminal to check with"
ensure_busybox || skip "cannot import the busybox template"
log_start=$(wc -l <"$LODGE_CLUSTER_DIR/log/lodged.log")
ve=ho1 ip=10.77.0.75

# on_tty FILE CMD...: CMD with its stdout and stderr on a pseudo-terminal;
# what the terminal got goes to FILE; the exit code is CMD's.
on_tty() {
  local file=$1 cmd; shift
  printf -v cmd '%q ' "$@"
  SHELL=/bin/bash script -qec "$cmd" /dev/null </dev/null >"$file" 2>&1
}
# has_esc FILE: FILE holds a raw ESC byte, or an 8-bit CSI (U+009B).
has_esc() { LC_ALL=C grep -q $'\x1b\|\xc2\x9b' "$1"; }
# shows FILE TEXT: FILE has the fixed string TEXT (what an escape shows as).
shows() { grep -qF -- "$2" "$1"; }
# has_bytes FILE FORMAT: FILE has the bytes printf FORMAT makes, raw.
# shellcheck disable=SC2059 # FORMAT is the test's own
has_bytes() { LC_ALL=C grep -qF -- "$(printf "$2")" "$1"; }

define_ve "$ve" "$ip" >/dev/null || { not_ok "define $ve"; finish; exit; }
expect 0 "start" "running" -- "$lodge" start "$ve"

# ---- lodge exec ----
payload='printf "\033]0;pwned\007title \033[2Jcleared \302\23331m csi\n"; printf "\033[31mred-stderr\033[0m\n" >&2'
printf '\033]0;pwned\007title \033[2Jcleared \302\23331m csi\n' >"$tmp/want.out"
printf '\033[31mred-stderr\033[0m\n' >"$tmp/want.err"
"$lodge" exec "$ve" -- sh -c "$payload" >"$tmp/exec.out" 2>"$tmp/exec.err"
rc=$?
check "exec into files: the command succeeds ($rc)" '[ "$rc" -eq 0 ]'
check "exec into a file: stdout's exact bytes" 'cmp -s "$tmp/exec.out" "$tmp/want.out"'
check "exec into a file: stderr's exact bytes" 'cmp -s "$tmp/exec.err" "$tmp/want.err"'
got=$("$lodge" exec "$ve" -- sh -c "$payload" 2>/dev/null | od -An -tx1 | tr -d ' \n')
want=$(od -An -tx1 <"$tmp/want.out" | tr -d ' \n')
check "exec into a pipe: the exact bytes" '[ -n "$got" ] && [ "$got" = "$want" ]'

on_tty "$tmp/exec.tty" "$lodge" exec "$ve" -- sh -c "$payload"
rc=$?
check "exec on a terminal: the command succeeds ($rc)" '[ "$rc" -eq 0 ]'
check "exec on a terminal: no raw ESC reaches it" '! has_esc "$tmp/exec.tty"'
check "... the title sequence is shown escaped" 'shows "$tmp/exec.tty" "\x1b]0;pwned\x07title \x1b[2Jcleared"'
check "... the 8-bit CSI too" 'shows "$tmp/exec.tty" "cleared \u009b31m csi"'
check "... and stderr's colours" 'shows "$tmp/exec.tty" "\x1b[31mred-stderr\x1b[0m"'
on_tty "$tmp/exec-raw.tty" "$lodge" exec --raw "$ve" -- sh -c "$payload"
check "exec --raw on a terminal: the raw bytes" 'has_bytes "$tmp/exec-raw.tty" "\033]0;pwned\007title"'
expect 0 "exec --help tells of --raw" '--raw' -- "$lodge" exec --help

# ---- the console ----
to_console='for t in /dev/console /dev/ttyS0; do [ -c "$t" ] && printf "\033]0;console-pwned\007 marker-hostile \033[2J\n" >"$t" && exit 0; done; exit 1'
expect 0 "the guest writes escape sequences to its console" '' -- "$lodge" exec "$ve" -- sh -c "$to_console"
console_has_marker() { "$lodge" console -n 1000 "$ve" | grep -q marker-hostile; }
check "the console log has them" 'wait_for 30 console_has_marker'
"$lodge" console -n 1000 "$ve" >"$tmp/console.out" 2>&1
check "console into a file: no raw ESC" '! has_esc "$tmp/console.out"'
check "... the title sequence is shown escaped" 'shows "$tmp/console.out" "\x1b]0;console-pwned\x07 marker-hostile \x1b[2J"'
on_tty "$tmp/console.tty" "$lodge" console -n 1000 "$ve"
check "console on a terminal: no raw ESC reaches it" '! has_esc "$tmp/console.tty"'
check "... the title sequence is shown escaped" 'shows "$tmp/console.tty" "\x1b]0;console-pwned\x07 marker-hostile"'
"$lodge" console --raw -n 1000 "$ve" >"$tmp/console.raw" 2>&1
check "console --raw: the raw bytes" 'has_bytes "$tmp/console.raw" "\033]0;console-pwned\007 marker-hostile"'

# ---- a command named with an ESC: the guest agent's error, and the log ----
evil_cmd=$(printf '/no/such\033]0;cmd-pwned\007')
"$lodge" exec "$ve" -- "$evil_cmd" >"$tmp/evil-cmd.out" 2>&1
rc=$?
check "a command named with an ESC is refused by the guest ($rc)" '[ "$rc" -ne 0 ]'
check "... and its error shows it escaped" '! has_esc "$tmp/evil-cmd.out" && shows "$tmp/evil-cmd.out" "cmd-pwned"'

# ---- files on the disk: their contents and names ----
plant='mkdir -p /root/hostile /var/log &&
touch "/root/hostile/$(printf "evil\033]0;fname\007\nname")" &&
printf "content \033]0;file-pwned\007 end\r\n" >/root/hostile/file.txt &&
printf "log \033[2J\033]0;log-pwned\007 line\n" >/var/log/hostile.log && sync'
expect 0 "the guest leaves hostile files on its disk" '' -- "$lodge" exec "$ve" -- sh -c "$plant"
expect 0 "stop" "stopped" -- "$lodge" stop "$ve"

"$lodge" repair -q "$ve" cat /root/hostile/file.txt >"$tmp/cat.out" 2>&1
check "repair cat: no raw ESC" '! has_esc "$tmp/cat.out"'
check "... the content is shown escaped" 'shows "$tmp/cat.out" "content \x1b]0;file-pwned\x07 end"'
on_tty "$tmp/cat.tty" "$lodge" repair "$ve" cat /root/hostile/file.txt
check "repair cat on a terminal: no raw ESC reaches it" '! has_esc "$tmp/cat.tty"'
check "... the content is shown escaped" 'shows "$tmp/cat.tty" "content \x1b]0;file-pwned\x07 end"'
printf 'content \033]0;file-pwned\007 end\r\n' >"$tmp/want.cat"
"$lodge" repair -q "$ve" cat --raw /root/hostile/file.txt >"$tmp/cat.raw" 2>/dev/null
check "repair cat --raw: the exact bytes" 'cmp -s "$tmp/cat.raw" "$tmp/want.cat"'

"$lodge" repair -q "$ve" log hostile.log >"$tmp/log.out" 2>&1
check "repair log: no raw ESC" '! has_esc "$tmp/log.out"'
check "... the line is shown escaped" 'shows "$tmp/log.out" "log \x1b[2J\x1b]0;log-pwned\x07 line"'

"$lodge" repair -q "$ve" ls /root/hostile >"$tmp/ls.out" 2>&1
check "repair ls: no raw ESC" '! has_esc "$tmp/ls.out"'
check "... the name is one quoted line" 'shows "$tmp/ls.out" "evil\x1b]0;fname\x07\x0aname"'
"$lodge" repair -q "$ve" find 'evil*' /root >"$tmp/find.out" 2>&1
find_lines=$(wc -l <"$tmp/find.out")
check "repair find: no raw ESC" '! has_esc "$tmp/find.out"'
check "... one line for the name ($find_lines)" '[ "$find_lines" -eq 1 ] && shows "$tmp/find.out" "/root/hostile/evil\x1b]0;fname\x07\x0aname"'
on_tty "$tmp/diff.tty" "$lodge" repair "$ve" diff /root
check "repair diff on a terminal: no raw ESC reaches it" '! has_esc "$tmp/diff.tty"'
check "... the added name is shown escaped" 'shows "$tmp/diff.tty" "evil\x1b]0;fname\x07\x0aname"'
expect 0 "repair close" '' -- "$lodge" repair -q "$ve" close

# ---- the logs ----
lodged_logged_evil() { tail -n +"$log_start" "$LODGE_CLUSTER_DIR/log/lodged.log" | grep -qF '/no/such\x1b]0;cmd-pwned\x07'; }
check "lodged logged the command named with an ESC, escaped" 'lodged_logged_evil'
check "lodged.log holds no raw ESC" '! has_esc "$LODGE_CLUSTER_DIR/log/lodged.log"'
for node in $LODGE_NODES; do
  agent_log=$LODGE_CLUSTER_DIR/nodes/$node/log/agent.log
  if [ -f "$agent_log" ]; then
    check "$node's agent.log holds no raw ESC" '! has_esc "$agent_log"'
  else
    skip_part "$node's agent.log" "not at $agent_log"
  fi
done

finish
