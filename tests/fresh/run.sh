#!/bin/bash
# tests/fresh/run.sh: the README's two commands on a machine that has never
# seen Lodge. Makes a clean Debian 12 root with mmdebstrap, copies a clean
# clone of this tree into it, enters it in private mount, PID and network
# namespaces and runs `tools/bootstrap run` there, then a smoke test (the
# example VE answers its web page), then `tools/bootstrap test`, and
# reports each step's time.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prog=tests/fresh/run.sh

usage() {
	cat <<EOF
Usage: $prog [OPTIONS]

Checks that the README's two commands work on a new Debian 12 machine, with
nothing installed by hand:

  1. debootstrap: a clean Debian 12 root (mmdebstrap --variant=important:
     what a Debian install has before any task is chosen), from the mirror
     this host's apt uses.
  2. download: the packages tools/bootstrap installs are downloaded inside
     the root (apt-get --download-only) and made a local archive there, so
     that step 4 needs no network: its apt-get install takes them from it.
  3. clone: a clean 'git clone' of this tree's HEAD, copied into the root.
  4. bootstrap: in private mount, PID and network namespaces (only a
     loopback), with /dev, /proc, /sys and the cgroup tree as the daemons
     need them, the root runs 'tools/bootstrap run' as a new user would.
  5. smoke: the example VE's web page answers with its greeting, and
     'lodge node list' says which accelerator each node uses, and why.
  6. packages: 'tools/bootstrap debs' in the same root builds the Debian
     packages; lodge-node (with lodge-guest and lodge-client), then
     lodge-controller, are installed with apt-get into a copy of the clean
     root of step 1 (taken before anything else was installed), their
     dependencies from Debian's archive, and each program's --version runs.
  7. test: the README's second command, 'tools/bootstrap test' (what CI
     runs), in the same root and namespaces, after the cluster of step 4
     is stopped.
The PID namespace ends every daemon the run started; the root is removed
unless --keep.

Options:
  --dir DIR        where the root and the download cache go
                   (default /var/tmp/lodge-fresh)
  --keep           keep the root afterwards (DIR/root)
  --reuse-kernel   copy the guest kernels this host built before
                   (/var/cache/lodge/kernel, kept by their input hash) into
                   the root, so that the kernel is not built again (about
                   15 minutes on 2 cores); the report says so
  --rev REV        the revision to clone (default HEAD)
  --no-test        stop after the packages (step 7 takes 15 to 25 minutes)
  -h, --help       this text

Needs root, mmdebstrap, dpkg-dev (dpkg-scanpackages) and git; installs the
first two with apt-get when missing. Takes 25 to 45 minutes (10 to 20
without step 6). The downloaded
packages are kept in DIR/archives for the next run.

Exit status: 0 when every step passed; 1 when one failed (its output says
which, and the report lists the steps up to it); 2 wrong usage.
EOF
}

dir=/var/tmp/lodge-fresh keep=0 reuse_kernel=0 rev=HEAD run_test=1
while (($#)); do
	case $1 in
	--dir) [[ $# -ge 2 ]] || { echo "$prog: --dir needs a directory" >&2; exit 2; }
		dir=$2; shift ;;
	--keep) keep=1 ;;
	--reuse-kernel) reuse_kernel=1 ;;
	--no-test) run_test=0 ;;
	--rev) [[ $# -ge 2 ]] || { echo "$prog: --rev needs a revision" >&2; exit 2; }
		rev=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$prog: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[[ $EUID -eq 0 ]] || { echo "$prog: must run as root (namespaces, chroot, apt-get)" >&2; exit 1; }

root=$dir/root
clean=$dir/clean
archives=$dir/archives
report=()
start_all=$SECONDS
say() { printf '\n%s: %s\n' "$prog" "$*"; }
step_start() { step_name=$1; step_t0=$SECONDS; say "step: $1"; }
step_done() {
	local took=$((SECONDS - step_t0))
	report+=("$(printf '%-10s %5d s  %s' "$step_name" "$took" "${1:-ok}")")
}
print_report() {
	printf '\n%s: report (%d s in all)\n' "$prog" "$((SECONDS - start_all))"
	printf '  %s\n' "${report[@]}"
}
fail() {
	report+=("$(printf '%-10s %5d s  FAILED: %s' "$step_name" "$((SECONDS - step_t0))" "$*")")
	print_report
	exit 1
}

cleanup() {
	# The namespaces are gone with their processes; only the root is left.
	local r
	[[ $keep == 0 ]] || return 0
	for r in "$root" "$clean"; do
		[[ -d $r ]] || continue
		findmnt -rn -o TARGET | grep -F "$r/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
		rm -rf --one-file-system "$r"
	done
}
trap cleanup EXIT

host_tools() {
	local missing=()
	command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
	command -v dpkg-scanpackages >/dev/null || missing+=(dpkg-dev)
	command -v git >/dev/null || missing+=(git)
	((${#missing[@]} == 0)) && return 0
	say "installing on this host: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The mirror this host's apt uses, as a sources file for the root.
host_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[[ -s $f ]] && grep -qE '^(deb |URIs:)' "$f" && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# In a mount namespace of its own: the root's /proc, /sys, /dev, then CMD
# with the root as / (pivot_root, not chroot: a process that enters a mount
# namespace, as nsenter --mount does for the nodes' agents, gets that
# namespace's root, which a chroot would not be). With network "host", the
# host's network namespace (only for apt's downloads in step 2); with
# "none", a new one with only loopback.
in_root() { # NETWORK CMD...
	in_a_root "$root" "$@"
}
in_a_root() { # ROOT NETWORK CMD...
	local root=$1 net=$2; shift 2
	local ns=(--mount --pid --fork --propagation private)
	[[ $net == none ]] && ns+=(--net)
	unshare "${ns[@]}" /bin/bash -euc '
		root=$1 net=$2; shift 2
		# The root a mount of its own, as / is on a machine.
		mount --bind "$root" "$root"
		mount -t proc proc "$root/proc"
		mount -t sysfs sysfs "$root/sys"
		mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs -o mode=755 tmpfs "$root/run"
		mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
		if [[ $net == none ]]; then ip link set lo up; else cp /etc/resolv.conf "$root/etc/resolv.conf"; fi
		mkdir -p "$root/.host"
		cd "$root"
		pivot_root . .host
		cd /
		umount -l /.host
		exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb "$@"' in_root "$root" "$net" "$@"
}

step_start prepare
host_tools || fail "cannot install mmdebstrap, dpkg-dev or git on this host"
sources=$(host_sources) || fail "this host's apt has no Debian sources to build the root from"
git -C "$top" rev-parse --verify -q "$rev^{commit}" >/dev/null || fail "no revision '$rev' in $top"
commit=$(git -C "$top" rev-parse "$rev")
for r in "$root" "$clean"; do
	[[ -e $r ]] && { umount -R "$r" 2>/dev/null || true; rm -rf --one-file-system "$r"; }
done
mkdir -p "$dir" "$archives"
step_done "revision ${commit:0:12}, sources from $sources"

step_start debootstrap
# /etc/apt's other files (proxies, the archive's date checks) come along.
mmdebstrap --variant=important --skip=cleanup/apt/lists \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
	bookworm "$root" "$sources" || fail "mmdebstrap failed"
# A copy kept clean, for installing the packages as on a new host (step 6).
cp -a "$root" "$clean" || fail "cannot copy the clean root to $clean"
step_done "$(du -sm --one-file-system "$root" | cut -f1) MiB"

step_start download
# The packages of tools/bootstrap, with what they depend on, downloaded in
# the root (it resolves them against its own, fresh dpkg database).
mapfile -t pkgs < <(bash "$top/tools/bootstrap" packages)
mkdir -p "$root/var/cache/apt/archives/partial"
cp -l "$archives"/*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
in_root host apt-get update -q >/dev/null || fail "apt-get update in the root failed"
in_root host env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --download-only \
	--no-install-recommends "${pkgs[@]}" >"$dir/download.log" 2>&1 ||
	{ tail -n 20 "$dir/download.log"; fail "apt-get --download-only failed (log: $dir/download.log)"; }
cp -l -n "$root"/var/cache/apt/archives/*.deb "$archives/" 2>/dev/null || true
# The local archive: the root's apt sources now name only it.
repo=$root/var/lib/lodge-fresh-repo
mkdir -p "$repo"
mv "$root"/var/cache/apt/archives/*.deb "$repo/"
(cd "$repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null | gzip -9n >Packages.gz)
rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/var/lib/lodge-fresh-repo ./' >"$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/*
step_done "$(ls "$repo" | grep -c '\.deb$') packages, $(du -sm "$repo" | cut -f1) MiB"

step_start clone
git clone -q --no-hardlinks "$top" "$root/root/lodge" || fail "git clone failed"
git -C "$root/root/lodge" checkout -q "$commit" || fail "git checkout $commit failed"
if [[ $reuse_kernel == 1 && -d /var/cache/lodge/kernel ]]; then
	mkdir -p "$root/var/cache/lodge"
	cp -a /var/cache/lodge/kernel "$root/var/cache/lodge/"
	step_done "${commit:0:12}; the host's built kernels copied in (--reuse-kernel)"
else
	step_done "${commit:0:12}"
fi

step_start bootstrap
# Each of bootstrap's own steps ("==> ...") timed as it starts.
set +e
in_root none /bin/bash -c '
	cd /root/lodge
	tools/bootstrap run 2>&1 | while IFS= read -r line; do
		case $line in "==> "*) printf "[%5d s] %s\n" "$SECONDS" "$line" ;; *) printf "%s\n" "$line" ;; esac
	done
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || { echo "tools/bootstrap run: exit $rc"; exit "$rc"; }
	echo "--- smoke"
	# The CLI on the admin host, as the README has it.
	lodge="tools/lodge-cluster exec --host admin build/tools/lodge"
	start=$SECONDS
	page=""
	while [ $((SECONDS - start)) -lt 30 ]; do
		page=$(tools/lodge-cluster exec curl -sf --max-time 2 http://10.77.0.10/ 2>/dev/null) && break
		sleep 0.5
	done
	echo "$page" | grep -q "Hello from web1" || { echo "smoke: the page of web1 lacks its greeting:"; echo "$page" | head -5; exit 11; }
	echo "smoke: web1 answers: $(echo "$page" | grep -o "Hello from web1")"
	$lodge node list || exit 12
	$lodge status web1 || exit 13
	tools/lodge-cluster down >/dev/null 2>&1 || true
' 2>&1 | tee "$dir/bootstrap.log"
rc=${PIPESTATUS[0]}
set -e
grep -E '^\[ *[0-9]+ s\] ==> ' "$dir/bootstrap.log" | sed 's/^/    /' >"$dir/steps.txt" || true
case $rc in
0) step_done "tools/bootstrap run and the smoke passed (log: $dir/bootstrap.log)" ;;
11 | 12 | 13) fail "the smoke failed (exit $rc; log: $dir/bootstrap.log)" ;;
*) fail "tools/bootstrap run failed (exit $rc; log: $dir/bootstrap.log)" ;;
esac

step_start packages
# Built in the root that built Lodge, installed into the clean copy with
# apt-get from Debian's archive (the packages downloaded in step 2 seed its
# cache), as a provider's host would.
in_root none /bin/bash -c 'cd /root/lodge && tools/bootstrap debs' >"$dir/debs.log" 2>&1 ||
	{ tail -n 20 "$dir/debs.log"; fail "tools/bootstrap debs failed (log: $dir/debs.log)"; }
mkdir -p "$clean/root/debs" "$clean/var/cache/apt/archives/partial"
cp -- "$root"/root/lodge/build/packages/*.deb "$clean/root/debs/" || fail "no packages in build/packages"
cp -l -n "$archives"/*.deb "$clean/var/cache/apt/archives/" 2>/dev/null || true
in_a_root "$clean" host /bin/bash -euc '
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	echo "--- lodge-node (with lodge-guest and lodge-client), into a clean root"
	apt-get install -y -q --no-install-recommends /root/debs/lodge-node_*.deb /root/debs/lodge-guest_*.deb \
		/root/debs/lodge-client_*.deb
	dpkg-query -W -f "\${Package} \${Version} \${Status}\n" lodge-node lodge-guest lodge-client
	lodge-agent --version
	lodge node join --help | grep -q -- "--token" || { echo "no lodge node join on the node"; exit 1; }
	getent passwd libvirt-qemu >/dev/null || { echo "no libvirt-qemu user: libvirt-daemon-system was not configured"; exit 1; }
	test -s /usr/lib/lodge/guest/vmlinuz-lodge || { echo "no guest kernel in lodge-guest"; exit 1; }
	if command -v systemd-analyze >/dev/null; then systemd-analyze verify --man=no /lib/systemd/system/lodge-agent.service; else echo "SKIP: no systemd-analyze in the clean root"; fi
	echo "--- lodge-controller, into the same root"
	apt-get install -y -q --no-install-recommends /root/debs/lodge-controller_*.deb
	lodged --version
	lodge --version
	getent passwd lodge >/dev/null || { echo "no lodge user: the postinst did not make it"; exit 1; }
	if command -v systemd-analyze >/dev/null; then systemd-analyze verify --man=no /lib/systemd/system/lodged.service; else echo "SKIP: no systemd-analyze in the clean root"; fi
' >"$dir/install.log" 2>&1 || { tail -n 30 "$dir/install.log"; fail "installing the packages into a clean root failed (log: $dir/install.log)"; }
grep -E '^(lodge|lodged|lodge-agent) [0-9]' "$dir/install.log" | sed 's/^/    /'
step_done "$(ls "$clean/root/debs" | tr '\n' ' ')installed into a clean root (log: $dir/install.log)"

if [[ $run_test == 1 ]]; then
	step_start test
	set +e
	in_root none /bin/bash -c 'cd /root/lodge && tools/bootstrap test' >"$dir/test.log" 2>&1
	rc=$?
	set -e
	summary=$(grep -E '^[0-9]+% tests passed' "$dir/test.log" | tail -n 1)
	if [[ $rc -eq 0 ]]; then
		step_done "tools/bootstrap test passed: ${summary:-no ctest summary} (log: $dir/test.log)"
	else
		grep -E '^ *[0-9]+/[0-9]+ Test .*(Failed|Timeout|Not Run)' "$dir/test.log" | tail -n 10
		tail -n 20 "$dir/test.log"
		fail "tools/bootstrap test: exit $rc; ${summary:-no ctest summary} (log: $dir/test.log)"
	fi
fi

print_report
echo "  bootstrap run's own steps (seconds since it started):"
cat "$dir/steps.txt"
