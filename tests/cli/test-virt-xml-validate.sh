#!/bin/bash
# Every domain XML Lodge generates is valid against libvirt's own schema:
# the golden outputs, and `lodge domain-xml` of every example on both
# accelerators.
set -u
lodge=${LODGE_BIN:?LODGE_BIN names the lodge binary}
src=${LODGE_SOURCE_DIR:?LODGE_SOURCE_DIR names the source tree}
if ! command -v virt-xml-validate >/dev/null; then
  echo "SKIP: virt-xml-validate is missing (Debian package libvirt-clients)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {
  if out=$(virt-xml-validate "$1" domain 2>&1); then
    echo "ok - $2"; pass=$((pass + 1))
  else
    echo "not ok - $2"; echo "$out" | sed 's/^/#   /'; fail=$((fail + 1))
  fi
}
n=0
for f in "$src"/tests/data/domain/*.domain.xml; do
  check "$f" "golden $(basename "$f")"; n=$((n + 1))
done
for ex in "$src"/examples/*.xml; do
  for accel in kvm tcg; do
    out="$tmp/$(basename "$ex" .xml)-$accel.xml"
    if "$lodge" domain-xml --accel $accel "$ex" >"$out"; then
      check "$out" "lodge domain-xml --accel $accel $(basename "$ex")"
    else
      echo "not ok - lodge domain-xml --accel $accel $(basename "$ex") failed"; fail=$((fail + 1))
    fi
  done
done
[ "$n" -gt 0 ] || { echo "not ok - no golden domain files found"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
