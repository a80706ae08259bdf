#!/bin/bash
# What a guest wrote, as the CLI shows it: a fake control center answers
# every request with hostile bytes (an OSC title, a clear screen, an 8-bit
# CSI, a line end in a name) in exec's output, the console, a repair's
# file, a step, the applications' states and an error message. On a
# terminal (a pseudo-terminal of script(1)) no raw ESC may reach it; into a
# pipe exec's output is exact, and --raw is exact everywhere. No cluster.
set -u
lodge=${LODGE_BIN:?LODGE_BIN names the lodge binary}
python3=$(command -v python3) || { echo "SKIP: python3 is missing (the fake control center is written in it)"; exit 77; }
command -v script >/dev/null || { echo "SKIP: script (util-linux) is missing: no pseudo-terminal to check with"; exit 77; }
tmp=$(mktemp -d)
fake_pid=
trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

cat >"$tmp/fake.py" <<'PY'
import base64, http.server, json, socketserver, sys
sock = sys.argv[1]
OUT = b"\x1b]0;pwned\x07title\n\x1b[2Jcleared \xc2\x9b31m csi\r\n"
ERR = b"\x1b[31mred\x1b[0m\n"
FILE = b"line1\n\x1b]2;file\x07 gr\xc3\xbcn\n"
HOSTILE = "\x1b]0;pwned\x07"
def b64(b):
    return base64.b64encode(b).decode()
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def stream(self, lines):
        self.answer(200, b"".join(json.dumps(l).encode() + b"\n" for l in lines),
                    "application/x-ndjson")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        p = self.path
        if p == "/v1/environments/web1/exec":
            self.answer(200, {"stdout": b64(OUT), "stderr": b64(ERR), "exit_code": 0})
        elif p == "/v1/environments/web1/repair/cat":
            # the file cut inside its escape sequence and its UTF-8 character
            self.stream([{"step": "appliance of " + HOSTILE + "ready", "ms": 5},
                         {"data": b64(FILE[:9])}, {"data": b64(FILE[9:19])},
                         {"data": b64(FILE[19:])}, {"result": {}}])
        elif p == "/v1/environments/web1/start":
            self.stream([{"step": "lodge-ready name=web1 " + HOSTILE + "\nforged", "ms": 7},
                         {"result": {"status": {"phase": "running", "node": "node1"}}}])
        else:
            self.answer(404, {"error": {"code": "not-found", "message": "no " + HOSTILE + "here"}})
    def do_GET(self):
        if self.path.startswith("/v1/environments/web1/console"):
            self.answer(200, OUT, "text/plain")
        elif self.path == "/v1/environments/web1/apps":
            self.answer(200, {"phase": "running", "applications": [
                {"name": "web", "source": "nginx@1", "autostart": True, "disk": "installed",
                 "health": "ok " + HOSTILE,
                 "guest": {"state": HOSTILE, "pid": 7, "restarts": 0, "error": "bad\n" + HOSTILE}}]})
        else:
            self.do_POST()
    def log_message(self, *args):
        pass
server = socketserver.UnixStreamServer(sock, Handler)
print("ready", flush=True)
server.serve_forever()
PY
coproc FAKE { exec "$python3" "$tmp/fake.py" "$tmp/lodged.sock"; }
fake_pid=$FAKE_PID
read -r ready <&"${FAKE[0]}"
[ "$ready" = ready ] || { echo "not ok - the fake control center did not start"; exit 1; }
export LODGE_URL=unix:$tmp/lodged.sock
unset LODGE_TOKEN

not_ok() { echo "not ok - $1"; shift; printf '%s\n' "$@" | head -5 | sed 's/^/#   /'; fail=$((fail + 1)); }
ok() { echo "ok - $1"; pass=$((pass + 1)); }

# on_tty FILE CMD...: CMD's stdout and stderr on a pseudo-terminal, what
# the terminal got into FILE; the exit code is CMD's.
on_tty() {
  local file=$1; shift
  local cmd
  printf -v cmd '%q ' "$@"
  script -qec "$cmd" /dev/null </dev/null >"$file" 2>&1
}

# no_esc DESCRIPTION FILE PATTERN: FILE has no raw ESC (nor an 8-bit CSI)
# byte, and has the fixed string PATTERN (what the escaped text shows).
no_esc() {
  local what=$1 file=$2 want=$3
  if LC_ALL=C grep -q $'\x1b\|\xc2\x9b' "$file"; then not_ok "$what: a raw ESC reached the terminal" "$(od -c "$file" | head -5)"; return; fi
  if ! grep -qF -- "$want" "$file"; then not_ok "$what: '$want' is not shown" "$(cat -v "$file")"; return; fi
  ok "$what"
}

# exec: escaped on a terminal, exact into a pipe, exact with --raw.
on_tty "$tmp/exec.tty" "$lodge" exec web1 -- sh -c x
rc=$?
if [ "$rc" -eq 0 ]; then ok "exec on a terminal: the command's exit code"; else not_ok "exec on a terminal: exit $rc, expected 0" "$(cat -v "$tmp/exec.tty")"; fi
no_esc "exec's stdout on a terminal is escaped" "$tmp/exec.tty" '\x1b]0;pwned\x07title'
no_esc "exec's 8-bit CSI on a terminal is escaped" "$tmp/exec.tty" 'cleared \u009b31m csi'
no_esc "exec's stderr on a terminal is escaped" "$tmp/exec.tty" '\x1b[31mred\x1b[0m'
"$lodge" exec web1 -- sh -c x >"$tmp/exec.out" 2>"$tmp/exec.err"
printf '\033]0;pwned\007title\n\033[2Jcleared \302\23331m csi\r\n' >"$tmp/want.out"
printf '\033[31mred\033[0m\n' >"$tmp/want.err"
if cmp -s "$tmp/exec.out" "$tmp/want.out" && cmp -s "$tmp/exec.err" "$tmp/want.err"; then
  ok "exec into a pipe and a file: the exact bytes"
else
  not_ok "exec into a pipe and a file: the bytes changed" "$(od -c "$tmp/exec.out" | head -3)"
fi
on_tty "$tmp/exec-raw.tty" "$lodge" exec --raw web1 -- sh -c x
if LC_ALL=C grep -q $'\x1b\]0;pwned\x07' "$tmp/exec-raw.tty"; then ok "exec --raw on a terminal: the raw bytes"
else not_ok "exec --raw on a terminal: not the raw bytes" "$(od -c "$tmp/exec-raw.tty" | head -3)"; fi
# stdout into a pipe, stderr on the terminal: each is decided on its own.
on_tty "$tmp/exec-split.tty" bash -c "'$lodge' exec web1 -- sh -c x >'$tmp/split.out'"
if cmp -s "$tmp/split.out" "$tmp/want.out"; then ok "exec: stdout into a file exact while stderr is a terminal"
else not_ok "exec: stdout into a file changed while stderr is a terminal" "$(od -c "$tmp/split.out" | head -3)"; fi
no_esc "exec: stderr on the terminal escaped while stdout is a file" "$tmp/exec-split.tty" '\x1b[31mred'

# console: escaped, on a terminal or not; --raw exact.
on_tty "$tmp/console.tty" "$lodge" console web1
no_esc "console on a terminal is escaped" "$tmp/console.tty" '\x1b]0;pwned\x07title'
"$lodge" console web1 >"$tmp/console.out" 2>&1
no_esc "console into a file is escaped too" "$tmp/console.out" '\x1b[2Jcleared'
"$lodge" console --raw web1 >"$tmp/console.raw" 2>&1
if cmp -s "$tmp/console.raw" "$tmp/want.out"; then ok "console --raw: the exact bytes"
else not_ok "console --raw: the bytes changed" "$(od -c "$tmp/console.raw" | head -3)"; fi

# repair cat: a file cut in pieces inside its escape and its UTF-8
# character: escaped whole, the step too; --raw exact.
on_tty "$tmp/cat.tty" "$lodge" repair web1 cat /etc/motd
no_esc "repair cat on a terminal is escaped" "$tmp/cat.tty" '\x1b]2;file\x07 grün'
no_esc "repair cat's step on a terminal is escaped" "$tmp/cat.tty" 'appliance of \x1b]0;pwned\x07ready'
"$lodge" repair -q web1 cat --raw /etc/motd >"$tmp/cat.raw" 2>/dev/null
printf 'line1\n\033]2;file\007 gr\303\274n\n' >"$tmp/want.cat"
if cmp -s "$tmp/cat.raw" "$tmp/want.cat"; then ok "repair cat --raw: the exact bytes"
else not_ok "repair cat --raw: the bytes changed" "$(od -c "$tmp/cat.raw" | head -3)"; fi

# A step, the applications' state and an error: escaped, one line each.
on_tty "$tmp/start.tty" "$lodge" start web1
no_esc "a start's step (the ready line) is escaped" "$tmp/start.tty" 'name=web1 \x1b]0;pwned\x07\x0aforged'
on_tty "$tmp/apps.tty" "$lodge" app list web1
no_esc "app list: the guest's state, health and error are escaped" "$tmp/apps.tty" 'guest: bad\x0a\x1b]0;pwned'
on_tty "$tmp/error.tty" "$lodge" status web2
no_esc "an error message is escaped" "$tmp/error.tty" 'lodge: no \x1b]0;pwned\x07here'

# Help: where --raw is, and what it does.
for cmd in "exec" "console" "repair web1 cat" "repair web1 log" "repair web1 diff"; do
  # shellcheck disable=SC2086 # the words of the command
  out=$("$lodge" $cmd --help 2>&1)
  if grep -q -- '--raw' <<<"$out" && grep -q 'cat -v' <<<"$out"; then ok "lodge $cmd --help: --raw and the escaping"
  else not_ok "lodge $cmd --help does not tell of --raw and the escaping" "$out"; fi
done
if "$lodge" repair web1 ls --raw >/dev/null 2>&1; then not_ok "repair ls takes no --raw"; else ok "repair ls takes no --raw"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
