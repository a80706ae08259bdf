#!/bin/bash
# bench/run-repair.sh BUILD_DIR: `lodge repair` on a local cluster of its
# own (1 node, memstore, its own directory and namespace), torn down at the
# end.
#
# A template of about 5,000 files (the busybox tree and 5,000 small text
# files under /srv/data), one VE cloned from it, started once and stopped;
# then 10, and later 1,000, of its files changed outside Lodge (guestfish).
# For each: `repair diff` with a new appliance (cold: snapshot, launch,
# diff) and on the kept one (warm), and `repair revert` of the changed
# files; each split into the appliance launch and the work, as lodged
# reports them (launch_ms, work_ms, total_ms). The baseline, run on the
# same two disks in the same script: libguestfs's own virt-diff (template
# snapshot against the VE's disk), which launches appliances too; once per
# case (it takes minutes), cut at BENCH_VIRT_DIFF_TIMEOUT s (default 300).
# BENCH_RUNS (default 3) runs of each of Lodge's; medians.
set -euo pipefail
build=$(realpath "${1:?usage: bench/run-repair.sh BUILD_DIR}")
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3} vd_timeout=${BENCH_VIRT_DIFF_TIMEOUT:-300}
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-repair-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench-rp}
export LODGE_BIN_DIR=$build
cluster=$top/tools/lodge-cluster
lodge=$build/tools/lodge
work=$(mktemp -d)
trap '"$cluster" down --purge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
inns() { "$cluster" exec "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ms() { date +%s%3N; }

say "bringing up a 1-node cluster in $LODGE_CLUSTER_DIR"
"$cluster" up --memstore --nodes 1 --node-memory 2048 >/dev/null
export LIBGUESTFS_BACKEND=direct
inns "$lodge" node list -o json | grep -q '"accel":"tcg"' && export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

say "a template of ~5,000 files"
"$top/images/templates/busybox/build.sh" "$build/images/guestinit/lodge-init" "$work/tree" 2>/dev/null
for d in $(seq -w 0 49); do
  mkdir -p "$work/tree/srv/data/d$d"
  for f in $(seq -w 0 99); do
    printf 'line one of d%s/f%s\nline two\nline three\n' "$d" "$f" >"$work/tree/srv/data/d$d/f$f.txt"
  done
done
files=$(find "$work/tree" | wc -l)
inns "$lodge" template import bench5k "$work/tree" >/dev/null
cat >"$work/rb1.xml" <<X
<environment><name>rb1</name><template name="bench5k"/>
  <resources><vcpus>1</vcpus><memory unit="MiB">256</memory><currentMemory unit="MiB">64</currentMemory><disk unit="GiB">1</disk></resources>
</environment>
X
inns "$lodge" define "$work/rb1.xml" >/dev/null
inns "$lodge" start rb1 >/dev/null
inns "$lodge" stop rb1 >/dev/null
status=$(inns "$lodge" status rb1 -o json)
pool=$(sed -n 's/.*"disk_pool":"\([^"]*\)".*/\1/p' <<<"$status")
image=$(sed -n 's/.*"disk_image":"\([^"]*\)".*/\1/p' <<<"$status")
tmpl_pool=$(inns rbd --id lodge info "$pool/$image" | sed -n 's/.*parent: \([^/]*\)\/\([^@]*\)@\(.*\)/\1/p')
tmpl_spec=$(inns rbd --id lodge info "$pool/$image" | sed -n 's/.*parent: //p')

# api OP JSON: the result object of one repair, through ctl1's API (its
# URL and token: lodge-cluster exec sets LODGE_URL and LODGE_TOKEN).
api() { inns sh -c 'curl -sf --cacert "$LODGE_CA" -X POST -H "Authorization: Bearer $LODGE_TOKEN" -H "Content-Type: application/json" \
  -d "$2" "${LODGE_URL%%,*}/v1/environments/rb1/repair/$1"' sh "$1" "$2"; }
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# change N: the first N data files get a line more (outside Lodge).
change() {
  local n=$1 script="$work/gf.$1" i=0 d f
  printf 'add %s/%s protocol:rbd format:raw username:lodge\nrun\nmount /dev/sda /\n' "$pool" "$image" >"$script"
  for d in $(seq -w 0 49); do for f in $(seq -w 0 99); do
    [ $i -lt "$n" ] || break 2
    echo "write-append /srv/data/d$d/f$f.txt \"changed\\n\"" >>"$script"
    i=$((i + 1))
  done; done
  inns guestfish <"$script" >/dev/null
}
changed_paths() { # JSON list of the first N data files
  local n=$1 i=0 d f sep=
  printf '['
  for d in $(seq -w 0 49); do for f in $(seq -w 0 99); do
    [ $i -lt "$n" ] || break 2
    printf '%s"/srv/data/d%s/f%s.txt"' "$sep" "$d" "$f"; sep=,
    i=$((i + 1))
  done; done
  printf ']'
}

declare -A cell
measure() { # N: diff cold/warm, virt-diff, revert; fills cell[N,...]
  local n=$1 r out lc wc tc t0
  local -a cold_total=() cold_launch=() cold_work=() warm=() vd=() rv_total=() rv_launch=() rv_work=() rv_warm=()
  for r in $(seq "$runs"); do
    api close '{}' >/dev/null
    out=$(api diff '{}')
    [ "$(field changed <<<"$out")" = "$n" ] || { say "diff found $(field changed <<<"$out") changed, not $n"; exit 1; }
    cold_total+=("$(field total_ms <<<"$out")") cold_launch+=("$(field launch_ms <<<"$out")")
    cold_work+=("$(field work_ms <<<"$out")")
    out=$(api diff '{}')
    warm+=("$(field total_ms <<<"$out")")
  done
  api close '{}' >/dev/null
  t0=$(now_ms)
  if inns timeout "$vd_timeout" virt-diff --format=raw -a "rbd://lodge@/$tmpl_spec" \
    -A "rbd://lodge@/$pool/$image" >/dev/null 2>&1; then
    vd+=("$(( $(now_ms) - t0 ))")
  else
    say "virt-diff did not finish in ${vd_timeout} s"
    vd+=(">$((vd_timeout * 1000))")
  fi
  api close '{}' >/dev/null
  for r in $(seq "$runs"); do
    out=$(api revert "{\"paths\":$(changed_paths "$n")}")
    rv_total+=("$(field total_ms <<<"$out")") rv_launch+=("$(field launch_ms <<<"$out")")
    rv_work+=("$(field work_ms <<<"$out")")
    # Again, on the appliance the first one kept (the files are the
    # template's already; revert removes and copies them all the same).
    out=$(api revert "{\"paths\":$(changed_paths "$n")}")
    rv_warm+=("$(field total_ms <<<"$out")")
    api close '{}' >/dev/null # guestfish must not write while an appliance has the disk
    [ "$r" = "$runs" ] || change "$n"
  done
  cell[$n,cold]=$(printf '%s\n' "${cold_total[@]}" | median)
  cell[$n,cold_launch]=$(printf '%s\n' "${cold_launch[@]}" | median)
  cell[$n,cold_work]=$(printf '%s\n' "${cold_work[@]}" | median)
  cell[$n,warm]=$(printf '%s\n' "${warm[@]}" | median)
  cell[$n,vd]=${vd[0]}
  cell[$n,rv]=$(printf '%s\n' "${rv_total[@]}" | median)
  cell[$n,rv_launch]=$(printf '%s\n' "${rv_launch[@]}" | median)
  cell[$n,rv_work]=$(printf '%s\n' "${rv_work[@]}" | median)
  cell[$n,rv_warm]=$(printf '%s\n' "${rv_warm[@]}" | median)
}

for n in 10 1000; do
  say "$n files changed: diff and revert, $runs runs each"
  change "$n"
  measure "$n"
done

ratio() { # A B: A / B, "<x" when B is only a lower bound (">N")
  awk -v a="$1" -v b="$2" 'BEGIN { lt = sub(/^>/, "", b); if (a > 0 && b > 0) printf "%s%.2f", lt ? "<" : "", a / b; else print "-" }'
}
cat <<EOF

Template: $files paths; one VE cloned from it; TCG appliance; medians of $runs (virt-diff: one run).

| | 10 files changed | 1,000 files changed |
| --- | ---: | ---: |
| \`repair diff\`, new appliance (ms) | ${cell[10,cold]} | ${cell[1000,cold]} |
| — of it the appliance launch | ${cell[10,cold_launch]} | ${cell[1000,cold_launch]} |
| — of it the diff itself | ${cell[10,cold_work]} | ${cell[1000,cold_work]} |
| \`repair diff\` on the kept appliance (ms) | ${cell[10,warm]} | ${cell[1000,warm]} |
| baseline: \`virt-diff\` on the same disks (ms, one run) | ${cell[10,vd]} | ${cell[1000,vd]} |
| new appliance vs virt-diff | $(ratio "${cell[10,cold]}" "${cell[10,vd]}") | $(ratio "${cell[1000,cold]}" "${cell[1000,vd]}") |
| kept appliance vs virt-diff | $(ratio "${cell[10,warm]}" "${cell[10,vd]}") | $(ratio "${cell[1000,warm]}" "${cell[1000,vd]}") |
| \`repair revert\` of the changed files (ms) | ${cell[10,rv]} | ${cell[1000,rv]} |
| — of it the appliance launch | ${cell[10,rv_launch]} | ${cell[1000,rv_launch]} |
| — of it the revert itself | ${cell[10,rv_work]} | ${cell[1000,rv_work]} |
| \`repair revert\` again, on the kept appliance (ms) | ${cell[10,rv_warm]} | ${cell[1000,rv_warm]} |
EOF
