#!/bin/bash
# lodge repair's command line: NAME and OPERATION are found among options
# that may come anywhere, whatever option takes a value (`-n 50 web1 log`
# is web1's log), and each operation's options reach the control center.
# A fake control center on a unix socket records each request as one line,
# "METHOD PATH BODY", and answers 404; no cluster is needed.
set -u
lodge=${LODGE_BIN:?LODGE_BIN names the lodge binary}
python3=$(command -v python3) || { echo "SKIP: python3 is missing (the fake control center is written in it)"; exit 77; }
tmp=$(mktemp -d)
fake_pid=
trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

cat >"$tmp/fake.py" <<'PY'
import http.server, socketserver, sys
sock, log = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(log, "a") as f:
            f.write(f"{self.command} {self.path} {body}\n")
        answer = b'{"error": {"code": "not-found", "message": "the fake control center knows no VE"}}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    do_GET = do_POST
    def log_message(self, *args):
        pass
server = socketserver.UnixStreamServer(sock, Handler)
print("ready", flush=True)
server.serve_forever()
PY
coproc FAKE { exec "$python3" "$tmp/fake.py" "$tmp/lodged.sock" "$tmp/requests"; }
fake_pid=$FAKE_PID
read -r ready <&"${FAKE[0]}"
[ "$ready" = ready ] || { echo "not ok - the fake control center did not start"; exit 1; }

not_ok() { echo "not ok - $1"; shift; printf '%s\n' "$@" | head -5 | sed 's/^/#   /'; fail=$((fail + 1)); }

# expect CODE DESCRIPTION PATTERN -- CMD...: CMD's exit code is CODE and its
# output (stdout+stderr) matches the extended regex PATTERN.
expect() {
  local code=$1 what=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1 </dev/null); rc=$?
  if [ "$rc" -ne "$code" ]; then not_ok "$what: exit $rc, expected $code" "$out"; return; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then not_ok "$what: output does not match /$pattern/" "$out"; return; fi
  echo "ok - $what"; pass=$((pass + 1))
}

# request DESCRIPTION 'METHOD PATH BODY' -- CMD...: CMD makes exactly that
# one request of the fake control center (and fails with its 404: exit 3).
request() {
  local what=$1 want=$2; shift 3
  local out rc got
  : >"$tmp/requests"
  out=$("$@" 2>&1 <"$tmp/stdin"); rc=$?
  got=$(cat "$tmp/requests")
  if [ "$got" != "$want" ]; then not_ok "$what: the request was not '$want'" "got: $got" "$out"; return; fi
  if [ "$rc" -ne 3 ] || ! grep -q 'the fake control center knows no VE' <<<"$out"; then
    not_ok "$what: exit $rc, expected 3 with the fake's answer" "$out"; return
  fi
  echo "ok - $what"; pass=$((pass + 1))
}

export LODGE_URL=unix:$tmp/lodged.sock
unset LODGE_TOKEN
: >"$tmp/stdin"
log=/v1/environments/web1/repair/log

# Options with a value, before, between and after NAME and OPERATION.
request "-n 50 before NAME" "POST $log {\"lines\":\"50\"}" -- "$lodge" repair -n 50 web1 log
request "-n 50 between NAME and OPERATION" "POST $log {\"lines\":\"50\"}" -- "$lodge" repair web1 -n 50 log
request "-n 50 after OPERATION, with a FILE" "POST $log {\"file\":\"messages\",\"lines\":\"50\"}" -- \
  "$lodge" repair web1 log -n 50 messages
request "--lines=7 and -q before NAME" "POST $log {\"lines\":\"7\"}" -- "$lodge" repair --lines=7 -q web1 log
request "--lines 7 before NAME" "POST $log {\"lines\":\"7\"}" -- "$lodge" repair --lines 7 web1 log
printf 'hi\n' >"$tmp/stdin"
request "-m 0600 before NAME (write)" \
  "POST /v1/environments/web1/repair/write {\"path\":\"/etc/motd\",\"mode\":\"0600\",\"content\":\"aGkK\"}" -- \
  "$lodge" repair -m 0600 web1 write /etc/motd
: >"$tmp/stdin"
request "-k twice before NAME (reset-root)" \
  "POST /v1/environments/web1/repair/reset-root {\"authorized_keys\":[\"ssh-ed25519 AAAA a@b\",\"ssh-rsa BBBB c@d\"]}" -- \
  "$lodge" repair -k 'ssh-ed25519 AAAA a@b' --authorized-key 'ssh-rsa BBBB c@d' web1 reset-root
request "--password-hash before NAME (reset-root)" \
  "POST /v1/environments/web1/repair/reset-root {\"password_hash\":\"\$6\$salt\$hash\"}" -- \
  "$lodge" repair --password-hash '$6$salt$hash' web1 reset-root
request "-r before NAME (rm)" \
  "POST /v1/environments/web1/repair/rm {\"path\":\"/tmp/x\",\"recursive\":true}" -- \
  "$lodge" repair -r web1 rm /tmp/x
request "a NAME that is an operation's name" "POST /v1/environments/log/repair/ls {}" -- \
  "$lodge" repair log ls
request "a PATH after --" "POST /v1/environments/web1/repair/cat {\"path\":\"-n\"}" -- \
  "$lodge" repair web1 cat -- -n

# -C/--connect before NAME: its value is the control center, not the VE.
LODGE_URL=unix:$tmp/nowhere.sock request "-C URI before NAME" \
  "POST /v1/environments/web1/repair/ls {}" -- "$lodge" repair -C "unix:$tmp/lodged.sock" web1 ls
LODGE_URL=unix:$tmp/nowhere.sock request "--connect=URI before NAME" \
  "POST /v1/environments/web1/repair/df {}" -- "$lodge" repair --connect="unix:$tmp/lodged.sock" web1 df

# Without a control center: web1's log is asked for, and the connection fails.
LODGE_URL=unix:$tmp/nowhere.sock expect 5 "-n 50 web1 log without a control center: a connection error" \
  "no control center at unix:$tmp/nowhere.sock" -- "$lodge" repair -n 50 web1 log

# Usage errors.
expect 2 "an option of another operation" 'Unknown option -n' -- "$lodge" repair -n 50 web1 ls
expect 2 "-n without a number" 'Cannot parse integer value .abc. for -n' -- "$lodge" repair -n abc web1 log
expect 2 "-n without a value" 'Missing argument for -n' -- "$lodge" repair web1 log -n
expect 2 "an unknown option" 'unknown option -Z' -- "$lodge" repair -Z web1
expect 2 "an unknown option with both words" 'Unknown option -qZ' -- "$lodge" repair -qZ web1 ls
expect 2 "an unknown operation" "unknown repair operation 'frob'" -- "$lodge" repair web1 frob
expect 2 "no operation" 'Usage: lodge repair NAME OPERATION' -- "$lodge" repair -n 50 web1
: >"$tmp/requests"
"$lodge" repair -n 50 web1 ls >/dev/null 2>&1
if [ -s "$tmp/requests" ]; then not_ok "a usage error asks nothing" "$(cat "$tmp/requests")"; else echo "ok - a usage error asks nothing"; pass=$((pass + 1)); fi

# Help.
expect 0 "lodge repair --help" 'Usage: lodge repair NAME OPERATION' -- "$lodge" repair --help
expect 0 "lodge repair -h" 'Usage: lodge repair NAME OPERATION' -- "$lodge" repair -h
expect 0 "lodge repair NAME --help" 'reset-root' -- "$lodge" repair web1 --help
expect 0 "lodge repair NAME log --help" '--lines=N' -- "$lodge" repair web1 log --help
expect 0 "lodge repair -n 5 NAME log --help" 'lodge repair NAME log' -- "$lodge" repair -n 5 web1 log --help
expect 0 "lodge repair NAME reset-root --help" '--password-hash=HASH' -- "$lodge" repair web1 reset-root --help
expect 0 "lodge repair NAME ls --help-connect" '--connect=URI' -- "$lodge" repair web1 ls --help-connect

# The client configuration's token-file (an admin host's client.conf): a
# missing or empty token file is named, and nothing is sent.
printf '[client]\ncontrollers=unix:%s/lodged.sock\ntoken-file=%s/token\n' "$tmp" "$tmp" >"$tmp/client.conf"
: >"$tmp/requests"
expect 1 "client.conf: a missing token-file is named" "client.conf: token-file: .*$tmp/token" -- \
  env -u LODGE_URL -u LODGE_TOKEN LODGE_CONFIG="$tmp/client.conf" "$lodge" repair web1 ls
: >"$tmp/token"
expect 1 "client.conf: an empty token-file is refused" "token-file $tmp/token is empty" -- \
  env -u LODGE_URL -u LODGE_TOKEN LODGE_CONFIG="$tmp/client.conf" "$lodge" repair web1 ls
if [ -s "$tmp/requests" ]; then not_ok "a bad client.conf sent nothing" "$(cat "$tmp/requests")"; else echo "ok - a bad client.conf sent nothing"; pass=$((pass + 1)); fi
echo "tok" >"$tmp/token"
expect 3 "client.conf: its controllers are used with a token-file" "fake control center" -- \
  env -u LODGE_URL -u LODGE_TOKEN LODGE_CONFIG="$tmp/client.conf" "$lodge" repair web1 ls

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
