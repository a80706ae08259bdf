#!/bin/bash
# What each program needs on its host, read from the ELF's NEEDED entries
# (readelf): a node's agent needs no libguestfs and no libarchive
# (appliances run on the controllers: docs/repair.md); the control center
# does; the CLI needs no Ceph, libguestfs or libvirt (templates are
# uploaded to the API). A self-test first proves the check can fail.
set -u
build=${LODGE_BIN_DIR:-}
[ -n "$build" ] || build=$(dirname "$(dirname "${LODGE_BIN:?LODGE_BIN names the lodge binary}")")
readelf=$(command -v readelf) || { echo "SKIP: readelf is missing (binutils)"; exit 77; }
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
needed() { "$readelf" -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# links_none PROGRAM LIB...: PROGRAM exists and needs none of LIB.
links_none() {
  local prog=$1 lib libs
  shift
  [ -x "$prog" ] || return 1
  libs=$(needed "$prog")
  [ -n "$libs" ] || return 1
  for lib in "$@"; do grep -q "^$lib" <<<"$libs" && return 1; done
  return 0
}
links() { grep -q "^$2" <<<"$(needed "$1")"; }

agent=$build/nodeagent/lodge-agent
lodged=$build/controller/lodged
if links "$lodged" libguestfs && ! links_none "$lodged" libguestfs; then
  ok "self-test: a program that links libguestfs is caught ($lodged)"
else
  not_ok "self-test: lodged should link libguestfs, and the check should see it"
fi
if links_none "$agent" libguestfs libarchive; then
  ok "lodge-agent links neither libguestfs nor libarchive"
else
  not_ok "lodge-agent links: $(needed "$agent" | tr '\n' ' ')"
fi
if links "$agent" libvirt && links "$agent" librados; then
  ok "lodge-agent links libvirt and librados (what it does need)"
else
  not_ok "lodge-agent's NEEDED lacks libvirt or librados: $(needed "$agent" | tr '\n' ' ')"
fi
# The admin's CLI is a thin client of the API: no Ceph, no libguestfs, no
# libvirt on the admin's host.
lodge=$build/tools/lodge
if links_none "$lodge" librados librbd libguestfs libvirt; then
  ok "lodge (the CLI) links none of librados, librbd, libguestfs, libvirt"
else
  not_ok "lodge links: $(needed "$lodge" | tr '\n' ' ')"
fi
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
