#!/bin/bash
# The check calls of the integration shell tests, linted: lib.sh's
# `check DESCRIPTION 'CONDITION'` sees only its two arguments, so a call
# with more words (`check "x" [ a ]`) or one followed by an operator on its
# line (`check "x" '[ a ]' && [ b ]`: the `[ b ]` runs outside check, its
# result ignored) asserts less than it says. Each such call is named
# FILE:LINE. A self-test first proves the lint can fail.
# python3 tokenizes the shell (shlex, POSIX mode, operators split out);
# nothing of the scanned files is expanded or run (each condition is only
# parsed, bash -n).
set -u
src=${LODGE_SOURCE_DIR:?LODGE_SOURCE_DIR names the source tree}
python3=$(command -v python3) || { echo "SKIP: python3 is missing (the lint is written in it)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }

cat >"$tmp/lint.py" <<'PY'
"""lint.py FILE...: every check call in FILE that is not `check WORD WORD`
alone on its logical line is printed as "not ok - FILE:LINE: ..."; the last
line says how many calls in how many files were checked. Exit 1 if any was
flagged or a file could not be read or tokenized whole."""
import re
import shlex
import shutil
import subprocess
import sys

BASH = shutil.which('bash') or '/bin/bash'
PUNCT = set('();<>|&')
# Tokens after which a word is a command name.
COMMAND_START = {';', ';;', '&', '&&', '||', '|', '|&', '(', ')', '{', '}', '!',
                 'then', 'do', 'else', 'elif', 'if', 'while', 'until', 'time'}
HEREDOC = re.compile(r'(?<!<)<<(?!<)(-?)[ \t]*(["\']?)([A-Za-z_][A-Za-z0-9_]*)\2')


def tokens(text):
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    return list(lex)


def is_operator(tok):
    return tok != '' and all(c in PUNCT for c in tok)


def without_heredocs(lines):
    """The lines, with the bodies of here-documents blanked (numbers kept)."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        delims = [(m.group(1) == '-', m.group(3)) for m in HEREDOC.finditer(line)]
        for strip_tabs, delim in delims:
            while i < len(lines):
                body = lines[i].lstrip('\t') if strip_tabs else lines[i]
                out.append('')
                i += 1
                if body == delim:
                    break
    return out


def logical_lines(lines):
    """(first line number, text) of each logical line: backslash-newline
    joined, and a quoted string that spans lines kept whole."""
    buf, start = None, 0
    for n, line in enumerate(lines, 1):
        if buf is None:
            buf, start = line, n
        else:
            buf += line
        trailing = len(buf) - len(buf.rstrip('\\'))
        if trailing % 2 == 1:
            try:
                tokens(buf[:-1])
                buf = buf[:-1] + ' '  # outside quotes: a continuation
            except ValueError:
                buf += '\n'  # inside a quoted string
            continue
        try:
            tokens(buf)
        except ValueError:
            buf += '\n'  # a quoted string goes on
            continue
        yield start, buf
        buf = None
    if buf is not None:
        raise ValueError('line %d: unterminated quote or continuation to the end of the file' % start)


def lint(path, report):
    """Number of check calls in path; report(line, why) for each bad one."""
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        lines = f.read().split('\n')
    calls = 0
    for n, text in logical_lines(without_heredocs(lines)):
        toks = tokens(text)
        for i, tok in enumerate(toks):
            if tok != 'check' or (i > 0 and toks[i - 1] not in COMMAND_START):
                continue
            rest = toks[i + 1:]
            if rest[:1] == ['()'] or rest[:2] == ['(', ')']:
                continue  # check() { ...: the definition
            calls += 1
            words = []
            for t in rest:
                if is_operator(t):
                    break
                words.append(t)
            after = rest[len(words):]
            why = []
            if len(words) != 2:
                why.append('check has %d words after it, not 2 (DESCRIPTION and one quoted CONDITION): %s'
                           % (len(words), ' '.join(shlex.quote(w) for w in words)))
            if after and (after[0].startswith('(') or after[0] in ('<(', '>(')):
                # $( ), $(( )), <( ) unquoted: not an operator in the shell,
                # but no single quoted condition either.
                why.append("it has an unquoted '%s' in its words: quote the whole condition" % after[0])
            elif after and after[0] != ';;':
                why.append("it is followed by '%s' on its line: what comes after is no part of the check"
                           % after[0])
            if len(words) == 2:
                # The condition as check will evaluate it: it must parse.
                r = subprocess.run([BASH, '-n', '-c', words[1]], capture_output=True, text=True)
                if r.returncode != 0:
                    why.append('its condition does not parse: %s' % ' '.join(r.stderr.split()))
            if why:
                report(n, '; '.join(why))
    return calls


def main(paths):
    bad = calls = 0
    for path in paths:
        def report(line, why, path=path):
            nonlocal bad
            bad += 1
            print('not ok - %s:%d: %s' % (path, line, why))
        try:
            calls += lint(path, report)
        except (OSError, ValueError) as e:
            bad += 1
            print('not ok - %s: cannot lint it: %s' % (path, e))
    print('# %d check calls in %d files, %d flagged' % (calls, len(paths), bad))
    return 1 if bad else 0


sys.exit(main(sys.argv[1:]))
PY
lint() { "$python3" "$tmp/lint.py" "$@"; }

# ---- self-test: the lint flags what it must, and only that ----
# flagged CASE LINE: the lint fails on a file of the given text (printf %b),
# naming the file and LINE.
flagged() {
  local name=$1 line=$2 out
  out=$(lint "$tmp/$name.sh" 2>&1)
  if [ $? -eq 1 ] && grep -q "^not ok - $tmp/$name.sh:$line: " <<<"$out"; then
    ok "self-test: the lint flags $name at line $line"
  else
    not_ok "self-test: the lint does not flag $name at line $line"; sed 's/^/#   /' <<<"$out"
  fi
}
clean() {
  local name=$1 out
  out=$(lint "$tmp/$name.sh" 2>&1)
  if [ $? -eq 0 ] && grep -q '^# [1-9][0-9]* check calls in 1 files, 0 flagged$' <<<"$out"; then
    ok "self-test: the lint passes $name"
  else
    not_ok "self-test: the lint flags $name, which is good"; sed 's/^/#   /' <<<"$out"
  fi
}
printf '%s\n' "check \"x\" '[ 1 ]' && [ 2 ]" >"$tmp/and-outside.sh"
printf '%s\n' 'check "x" [ 1 ]' >"$tmp/words.sh"
printf '%s\n' "check \"x\" '[ 1 ] && [ 2 ]'" >"$tmp/good.sh"
printf '%s\n' 'echo start' "check \"y\" \\" "  '[ 1 ]' || true" >"$tmp/continued.sh"
printf '%s\n' "check \"x\" '[ 1 ]'; [ 2 ]" >"$tmp/semicolon.sh"
printf '%s\n' "check \"x\" '[ 1 ]' | cat" >"$tmp/pipe.sh"
printf '%s\n' "[ -n \"\$a\" ] && check \"x\" [ \"\$a\" = b ]" >"$tmp/after-and.sh"
printf '%s\n' 'check "only a description"' >"$tmp/one-word.sh"
printf '%s\n' "check \"x\" '[ 1 ] &&'" >"$tmp/no-parse.sh"
printf '%s\n' 'f() {' "  check \"x\" '[ 1 ]'" '}' "f; check \"y\" \"[ 2 ]\" &&" '  [ 3 ]' >"$tmp/later-line.sh"
printf '%s\n' 'check() { :; }' '# check "x" [ a ] && [ b ]' "echo check \"x\" [ 1 ]" \
  'cat <<EOF' 'check "in a here-document" [ 1 ] && [ 2 ]' 'EOF' \
  "case \$p in a) check \"case \$p\" '[ 1 ]' ;; esac" \
  "check \"a condition on two lines (\$x's)\" '[ 1 ] &&" "  [ 2 ]' # with a comment" \
  "check \"d\" \\" "  '! grep -q x f | grep -q y'" >"$tmp/good-forms.sh"
flagged and-outside 1
flagged words 1
clean good
flagged continued 2
flagged semicolon 1
flagged pipe 1
flagged after-and 1
flagged one-word 1
flagged no-parse 1
flagged later-line 4
clean good-forms
if [ "$(lint "$tmp/good-forms.sh" | tail -n 1)" = "# 3 check calls in 1 files, 0 flagged" ]; then
  ok "self-test: the lint counts the calls it saw (3 in good-forms), not definitions, comments or here-documents"
else
  not_ok "self-test: the lint miscounts good-forms: $(lint "$tmp/good-forms.sh" | tail -n 1)"
fi
printf '%s\n' "check \"x\" '[ 1 ]" >"$tmp/unterminated.sh"
out=$(lint "$tmp/unterminated.sh")
if [ $? -eq 1 ] && grep -q "^not ok - $tmp/unterminated.sh: cannot lint it" <<<"$out"; then
  ok "self-test: a file it cannot tokenize whole fails, not passes"
else
  not_ok "self-test: a file it cannot tokenize whole passes"
fi

# ---- the integration tests ----
files=("$src"/tests/integration/*.sh)
if [ ! -f "${files[0]}" ]; then
  not_ok "no shell tests in $src/tests/integration"
else
  out=$(lint "${files[@]}")
  rc=$?
  echo "$out"
  summary=$(tail -n 1 <<<"$out")
  if [ "$rc" -eq 0 ]; then
    ok "every check call in tests/integration/*.sh is one description and one condition (${summary#\# })"
  else
    not_ok "check calls that assert less than they say in tests/integration/*.sh (${summary#\# })"
  fi
  # It did look: the tests have check calls (lib.sh's users).
  calls=$(sed -n 's/^# \([0-9]*\) check calls.*/\1/p' <<<"$summary")
  if [ "${calls:-0}" -ge 50 ]; then
    ok "the lint saw the tests' check calls ($calls)"
  else
    not_ok "the lint saw only ${calls:-no} check calls in tests/integration: does it still find them?"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
