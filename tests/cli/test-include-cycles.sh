#!/bin/bash
# The controller's modules include each other without a cycle. A module is
# a .c with its .h and its -private.h (lodge-foo.c, lodge-foo.h,
# lodge-foo-private.h); module A depends on module B when a file of A
# includes a header of B. Any cycle is printed with the #include lines
# that make it, and the test fails.
#
# The include graph tells the truth only if each header declares its own
# module's functions: a function declared in lodge-x.h but defined in
# lodge-y.c lets lodge-y call into lodge-x's callers unseen. So a
# declaration in one module's header of a function another module's .c
# defines (GNU style: the name at the start of its line) fails too.
# A self-test first proves both checks can fail. python3 reads the files;
# nothing is compiled or run.
set -u
src=${LODGE_SOURCE_DIR:?LODGE_SOURCE_DIR names the source tree}
python3=$(command -v python3) || { echo "SKIP: python3 is missing (the check is written in it)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }

cat >"$tmp/cycles.py" <<'PY'
"""cycles.py DIR: the include graph of DIR/*.c and DIR/*.h by module.
Prints "not ok - ..." for each cycle (one per strongly connected set of
modules, with the #include lines of one cycle through it) and for each
function declared in one module's header and defined in another's .c;
the last line says how many modules and dependencies it saw. Exit 1 if
anything was printed as not ok."""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# A definition in GNU style: the function's name opens its line.
DEFINITION = re.compile(r'^([a-z_][a-z0-9_]*)\s*\(', re.M)
# A prototype in a header: a name followed by its parameter list, ending
# with ';' (after attributes), outside comments and macros.
PROTOTYPE = re.compile(r'\b([a-z_][a-z0-9_]*)\s*\([^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*\)\s*(?:G_GNUC_[A-Z_]+\s*(?:\([^)]*\))?\s*)*;')


def module(name):
    stem = name.rsplit('.', 1)[0]
    return stem[:-len('-private')] if stem.endswith('-private') else stem


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def prototypes(text):
    """Names of the functions a header declares."""
    text = strip_comments(text)
    # Macro definitions (and their continuation lines) declare nothing here.
    text = re.sub(r'^\s*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.M)
    names = set()
    for m in PROTOTYPE.finditer(text):
        before = text[:m.start()].rstrip()
        # "typedef void (*F) (...);" and calls inside macros are not declarations.
        if before.endswith('(') or before.endswith(',') or before.endswith('*)'):
            continue
        names.add(m.group(1))
    return names


def sccs(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def cycle_in(comp, edges):
    """One cycle through the first module of comp, inside comp (a path
    found breadth first back to where it began)."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges.get(v, {})):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start, start]


def main(directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(('.c', '.h')))
    present = set(files)
    nodes = {module(f) for f in files}
    edges = {}  # module -> {module: "file:line: #include ..."}
    defined = {}  # function -> the .c defining it
    declared = {}  # header -> functions
    bad = 0
    for f in files:
        with open(os.path.join(directory, f), encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        for n, line in enumerate(text.split('\n'), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in present and module(m.group(1)) != module(f):
                edges.setdefault(module(f), {}).setdefault(module(m.group(1)), '%s:%d: %s' % (f, n, line.strip()))
        if f.endswith('.c'):
            for name in DEFINITION.findall(strip_comments(text)):
                defined.setdefault(name, f)
        else:
            declared[f] = prototypes(text)
    for header, names in sorted(declared.items()):
        for name in sorted(names):
            where = defined.get(name)
            if where is not None and module(where) != module(header):
                bad += 1
                print('not ok - %s declares %s, which %s defines: what includes %s depends on %s '
                      'unseen (a header declares only its own module\'s functions)'
                      % (header, name, where, header, module(where)))
    for comp in sccs(nodes, edges):
        if len(comp) < 2:
            continue
        bad += 1
        path = cycle_in(comp, edges)
        print('not ok - modules include each other in a cycle: %s' % ' -> '.join(path))
        for a, b in zip(path, path[1:]):
            print('#   %s' % edges[a][b])
        if len(comp) > len(path) - 1:
            print('#   it is one of the cycles among %d modules: %s; their other includes of each other:'
                  % (len(comp), ', '.join(comp)))
            shown = set(zip(path, path[1:]))
            for a in comp:
                for b in sorted(edges.get(a, {})):
                    if b in comp and (a, b) not in shown:
                        print('#   %s' % edges[a][b])
    print('# %d modules, %d dependencies, %d problems'
          % (len(nodes), sum(len(v) for v in edges.values()), bad))
    return 1 if bad else 0


sys.exit(main(sys.argv[1]))
PY
cycles() { "$python3" "$tmp/cycles.py" "$@"; }

# ---- self-test: it fails on a cycle and on a misplaced declaration ----
# tree NAME FILE=TEXT...: a directory of files (TEXT as printf %b).
tree() {
  local dir="$tmp/$1" spec
  shift
  mkdir -p "$dir"
  for spec in "$@"; do printf '%b' "${spec#*=}" >"$dir/${spec%%=*}"; done
}
tree cycle 'a.h=void a_run (void);\n' 'a.c=#include "a.h"\n#include "b.h"\nvoid\na_run (void)\n{ b_run (); }\n' \
  'b.h=void b_run (void);\n' 'b-private.h=#include "c.h"\n' 'b.c=#include "b-private.h"\nvoid\nb_run (void)\n{}\n' \
  'c.h=#pragma once\n' 'c.c=#include "c.h"\n#include "a.h"\n'
tree acyclic 'a.h=void a_run (int x);\n' 'a.c=#include "a.h"\n#include "b.h"\nvoid\na_run (int x)\n{ b_run (); }\n' \
  'b.h=/* b_run (void); in a comment */\n#define B(x) b_stop (x)\ntypedef void (*BFunc) (int);\nG_DEFINE_AUTOPTR_CLEANUP_FUNC (B, b_free)\nvoid b_run (void) G_GNUC_CONST;\n' \
  'b-private.h=#include "b.h"\n' 'b.c=#include "b-private.h"\nvoid\nb_run (void)\n{}\nvoid\nb_stop (int x)\n{}\n'
tree misplaced 'a.h=void a_run (void);\nvoid b_helper (const char *s,\n                int n);\n' \
  'a.c=#include "a.h"\nvoid\na_run (void)\n{}\n' 'b.c=#include "a.h"\nvoid\nb_helper (const char *s, int n)\n{ a_run (); }\n'
out=$(cycles "$tmp/cycle")
if [ $? -eq 1 ] && grep -qx 'not ok - modules include each other in a cycle: a -> b -> c -> a' <<<"$out" \
   && grep -qx '#   b-private.h:1: #include "c.h"' <<<"$out"; then
  ok "self-test: a cycle through a private header fails, printed with its #include lines"
else
  not_ok "self-test: the cycle a -> b -> c -> a is not reported as such"; sed 's/^/#   /' <<<"$out"
fi
out=$(cycles "$tmp/acyclic")
if [ $? -eq 0 ] && grep -qx '# 2 modules, 1 dependencies, 0 problems' <<<"$out"; then
  ok "self-test: a tree without cycles passes (comments, macros, typedefs are no declarations)"
else
  not_ok "self-test: a tree without cycles fails"; sed 's/^/#   /' <<<"$out"
fi
out=$(cycles "$tmp/misplaced")
if [ $? -eq 1 ] && grep -q '^not ok - a.h declares b_helper, which b.c defines' <<<"$out"; then
  ok "self-test: a header declaring another module's function fails"
else
  not_ok "self-test: a.h declaring b.c's b_helper is not reported"; sed 's/^/#   /' <<<"$out"
fi

# ---- the controller ----
out=$(cycles "$src/controller")
rc=$?
echo "$out"
summary=$(tail -n 1 <<<"$out")
if [ "$rc" -eq 0 ]; then
  ok "controller/: no include cycle, every header declares its own module's functions (${summary#\# })"
else
  not_ok "controller/: include cycles or misplaced declarations (${summary#\# })"
fi
# It did look: the controller has a dozen modules or more, and they include each other.
deps=$(sed -n 's/^# [0-9]* modules, \([0-9]*\) dependencies.*/\1/p' <<<"$summary")
if [ "${deps:-0}" -ge 20 ]; then
  ok "the check saw the controller's includes ($deps dependencies)"
else
  not_ok "the check saw only ${deps:-no} dependencies in controller/: does it still find them?"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
