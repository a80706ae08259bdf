#!/bin/bash
# The lodge CLI end to end: help, exit codes, validate, domain-xml, and the
# hostile files of the foundation issue through the real binary.
set -u
lodge=${LODGE_BIN:?LODGE_BIN names the lodge binary}
src=${LODGE_SOURCE_DIR:?LODGE_SOURCE_DIR names the source tree}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect CODE DESCRIPTION PATTERN -- CMD...: runs CMD, checks its exit code
# and that its output (stdout+stderr) matches the extended regex PATTERN.
expect() {
  local code=$1 what=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "not ok - $what: exit $rc, expected $code"; echo "$out" | head -5 | sed 's/^/#   /'
    fail=$((fail + 1)); return
  fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "not ok - $what: output does not match /$pattern/"; echo "$out" | head -5 | sed 's/^/#   /'
    fail=$((fail + 1)); return
  fi
  echo "ok - $what"; pass=$((pass + 1))
}

expect 0 "lodge --help lists the commands" 'guest-config +Print' -- "$lodge" --help
expect 0 "lodge help validate" 'lodge validate \[OPTION' -- "$lodge" help validate
expect 0 "lodge validate --help" 'Exit status' -- "$lodge" validate --help
expect 0 "lodge domain-xml --help" '--accel' -- "$lodge" domain-xml --help
expect 2 "no command" 'Usage:' -- "$lodge"
expect 2 "unknown command" "unknown command 'frobnicate'" -- "$lodge" frobnicate
expect 2 "validate without a file" 'no FILE given' -- "$lodge" validate
expect 2 "unknown option" 'Unknown option --bogus' -- "$lodge" validate --bogus x.xml
expect 2 "bad accelerator" "--accel: 'xen' is neither kvm nor tcg" -- "$lodge" domain-xml --accel xen "$src/examples/web.xml"

expect 0 "validate every example" '^.*web.xml: valid \(environment web1, template busybox\)' -- "$lodge" validate "$src"/examples/*.xml
expect 0 "validate --quiet prints nothing" '^$' -- "$lodge" validate -q "$src"/examples/*.xml
expect 0 "validate from stdin" '^-: valid' -- bash -c "'$lodge' validate - < '$src/examples/web.xml'"

for ex in "$src"/examples/*.xml; do
  for accel in kvm tcg; do
    expect 0 "domain-xml $(basename "$ex") --accel $accel" '<domain type=' -- "$lodge" domain-xml --accel $accel "$ex"
  done
done

# The annotated example in docs/environment.md is a valid definition.
sed -n '/^```xml$/,/^```$/p' "$src/docs/environment.md" | sed '1d;$d' >"$tmp/doc-example.xml"
expect 0 "docs/environment.md's annotated example is valid" 'valid \(environment shop-db-01' -- "$lodge" validate "$tmp/doc-example.xml"

# Invalid files: FILE:LINE: message, every file checked, exit 1.
bad=$src/tests/data/env/err-current-memory-over.xml
expect 1 "an invalid file names file and line" '^.*err-current-memory-over.xml:8: <currentMemory> \(512 MiB\) is larger than <memory>' -- "$lodge" validate "$bad"
expect 1 "good and bad files: both reported" 'web.xml: valid' -- "$lodge" validate "$src/examples/web.xml" "$bad"
expect 1 "domain-xml refuses an invalid definition" 'err-current-memory-over.xml:8:' -- "$lodge" domain-xml "$bad"
expect 1 "missing file" 'nope.xml: cannot open: No such file or directory' -- "$lodge" validate "$tmp/nope.xml"

# Hostile files.
cat >"$tmp/xxe-file.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE environment [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<environment><name>&x;</name></environment>
X
cat >"$tmp/xxe-net.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE environment [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>
<environment><name>&x;</name></environment>
X
{
  echo '<?xml version="1.0"?>'; echo '<!DOCTYPE lolz ['; echo '<!ENTITY lol "lol">'
  prev=lol
  for i in 1 2 3 4 5 6 7 8 9; do
    printf '<!ENTITY lol%s "' $i; for j in 1 2 3 4 5 6 7 8 9 10; do printf '&%s;' $prev; done; echo '">'
    prev=lol$i
  done
  echo ']>'; echo '<environment><name>&lol9;</name></environment>'
} >"$tmp/laughs.xml"
head -c 50000000 /dev/zero | tr '\0' 'a' >"$tmp/50mb.xml"
{ printf '<environment>'; for i in $(seq 10000); do printf '<a>'; done; for i in $(seq 10000); do printf '</a>'; done; printf '</environment>'; } >"$tmp/deep.xml"
printf '<environment>\n<name>t\0x</name></environment>' >"$tmp/nul.xml"
printf '<environment>\n<name>t\xff\xfe</name></environment>' >"$tmp/utf8.xml"

expect 1 "XXE file entity" 'xxe-file.xml:2: DOCTYPE declarations are not allowed' -- "$lodge" validate "$tmp/xxe-file.xml"
expect 1 "XXE network entity" 'xxe-net.xml:2: DOCTYPE declarations are not allowed' -- "$lodge" validate "$tmp/xxe-net.xml"
expect 1 "billion laughs" 'laughs.xml:2: DOCTYPE declarations are not allowed' -- "$lodge" validate "$tmp/laughs.xml"
expect 1 "50 MB file" '50mb.xml: file too large \(the limit is 1 MiB\)' -- "$lodge" validate "$tmp/50mb.xml"
expect 1 "10,000-deep nesting" 'deep.xml:1: malformed XML: Excessive depth' -- "$lodge" validate "$tmp/deep.xml"
expect 1 "NUL byte" 'nul.xml:2: NUL byte at offset 21' -- "$lodge" validate "$tmp/nul.xml"
expect 1 "invalid UTF-8" 'utf8.xml:2: invalid UTF-8 at offset 21' -- "$lodge" validate "$tmp/utf8.xml"
if "$lodge" validate "$tmp/xxe-file.xml" 2>&1 | grep -q 'root:'; then
  echo "not ok - XXE leaked /etc/passwd"; fail=$((fail + 1))
else
  echo "ok - XXE leaks nothing"; pass=$((pass + 1))
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
