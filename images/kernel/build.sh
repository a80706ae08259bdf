#!/bin/bash
# Build Lodge's minimal guest kernel: `make tinyconfig` from Debian's
# linux-source-6.1, the fragment images/kernel/lodge.config merged on top,
# bzImage copied to images/out/vmlinuz-lodge; then the repair appliance's
# kernel, images/kernel/appliance.config merged on top of that, built from
# the same objects, to images/out/vmlinuz-lodge-appliance. See
# docs/guest-kernel.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images=$(dirname "$here")

fragment=$here/lodge.config
appliance_fragment=$here/appliance.config
out_dir=$images/out
cache_dir=$out_dir/kernel-build
jobs=$(nproc)
force=0

src_pkg=linux-source-6.1
src_tarball=/usr/src/linux-source-6.1.tar.xz
# What the build needs beyond the source: kconfig (bison, flex), the
# timeconst generator (bc), objtool (libelf-dev), host programs (gcc,
# libc6-dev), the linker (binutils), unpacking the source (xz-utils) and
# compressing the kernel image (zstd). No libssl-dev: without modules there
# is nothing to sign and no certificate to extract.
build_deps=("$src_pkg" bc bison flex libelf-dev gcc libc6-dev binutils make xz-utils zstd)

usage() {
    cat <<EOF
Usage: $0 [--force] [--jobs N] [--cache-dir DIR] [--out-dir DIR]

Builds the Lodge guest kernel: 'make tinyconfig' from Debian's $src_pkg,
then $fragment merged on top
(merge_config.sh -m, make olddefconfig). Every option the fragment sets must
hold in the final .config, or the build fails naming the ones that do not.
The bzImage is copied to OUT-DIR/vmlinuz-lodge. The repair appliance's
kernel follows: the VE kernel's configuration with
$appliance_fragment merged on top, built in the
same objects (so only what that fragment changes is compiled), to
OUT-DIR/vmlinuz-lodge-appliance.

The outputs are rebuilt only when a hash of the fragments, the $src_pkg
package version and this script changes; the hash is kept in
OUT-DIR/vmlinuz-lodge.hash. Every pair of kernels built is also kept by that hash in
\$LODGE_CACHE_DIR/kernel/HASH/ (default /var/cache/lodge as root, else
~/.cache/lodge), so a fresh clone on the same machine (CI's) copies it
instead of building it again; LODGE_CACHE_DIR=none turns that off. Missing build dependencies are installed with
apt-get (as root).

Options:
  --force          rebuild even if the output is up to date
  --jobs N         parallel make jobs (default: nproc = $jobs)
  --cache-dir DIR  where the source is unpacked and built
                   (default: images/out/kernel-build)
  --out-dir DIR    where vmlinuz-lodge goes (default: images/out)
  -h, --help       this text
EOF
}

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

cache_dir_set=0
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --force) force=1 ;;
    --jobs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--jobs needs a positive number"
        jobs=$2; shift ;;
    --cache-dir) [[ $# -ge 2 ]] || die "--cache-dir needs a directory"
        cache_dir=$2; cache_dir_set=1; shift ;;
    --out-dir) [[ $# -ge 2 ]] || die "--out-dir needs a directory"
        out_dir=$2; shift ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done
[[ $cache_dir_set == 1 ]] || cache_dir=$out_dir/kernel-build

output=$out_dir/vmlinuz-lodge
appliance_output=$out_dir/vmlinuz-lodge-appliance
hash_file=$output.hash
if [[ $(id -u) == 0 ]]; then store=${LODGE_CACHE_DIR:-/var/cache/lodge}
else store=${LODGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lodge}; fi
[[ $store == none ]] && store=""

[[ -r $fragment ]] || die "cannot read the config fragment $fragment"
[[ -r $appliance_fragment ]] || die "cannot read the config fragment $appliance_fragment"

pkg_version() {
    dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null |
        sed -n 's/^installed //p'
}

# The content hash of everything the output depends on.
input_hash() {
    local version=$1
    {
        printf 'fragment\n'; cat "$fragment"
        printf 'appliance fragment\n'; cat "$appliance_fragment"
        printf '\nsource %s %s\n' "$src_pkg" "$version"
        printf 'script\n'; cat "${BASH_SOURCE[0]}"
    } | sha256sum | cut -d' ' -f1
}

up_to_date() {
    local want=$1
    [[ $force == 0 && -s $output && -s $appliance_output && -r $hash_file ]] &&
        [[ $(<"$hash_file") == "$want" ]]
}

# A kernel built from the same inputs earlier (another clone, the same
# machine): copied into OUT-DIR.
from_store() {
    local want=$1 kept=$store/kernel/$1
    local f
    for f in vmlinuz-lodge vmlinuz-lodge.config vmlinuz-lodge-appliance vmlinuz-lodge-appliance.config; do
        [[ $force == 0 && -n $store && -s $kept/$f ]] || return 1
    done
    mkdir -p "$out_dir"
    for f in vmlinuz-lodge vmlinuz-lodge.config vmlinuz-lodge-appliance vmlinuz-lodge-appliance.config; do
        cp "$kept/$f" "$out_dir/$f.tmp" && mv -f "$out_dir/$f.tmp" "$out_dir/$f" || return 1
    done
    printf '%s\n' "$want" >"$hash_file" || return 1
    say "$output and $appliance_output copied from $kept (built earlier from the same inputs, hash ${want:0:12})"
}

# Fast path: nothing to install, nothing changed.
src_version=$(pkg_version $src_pkg)
if [[ -n $src_version ]]; then
    hash=$(input_hash "$src_version")
    if up_to_date "$hash"; then
        say "$output is up to date ($src_pkg $src_version, hash ${hash:0:12})"
        exit 0
    fi
    from_store "$hash" && exit 0
fi

# --- Build dependencies.
missing=()
for p in "${build_deps[@]}"; do
    [[ -n $(pkg_version "$p") ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) == 0 ]] ||
        die "missing build dependencies (${missing[*]}); run as root or install them with apt-get"
    say "installing build dependencies: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi
src_version=$(pkg_version $src_pkg)
[[ -n $src_version ]] || die "$src_pkg is not installed"
[[ -r $src_tarball ]] || die "$src_tarball is missing (reinstall $src_pkg)"
hash=$(input_hash "$src_version")
from_store "$hash" && exit 0

mkdir -p "$cache_dir" "$out_dir"
cache_dir=$(cd "$cache_dir" && pwd)

# One build at a time per cache directory.
exec 9>"$cache_dir/.lock"
if ! flock -n 9; then
    say "waiting for another build in $cache_dir"
    flock 9
fi
if up_to_date "$hash"; then
    say "$output is up to date (built by a concurrent run)"
    exit 0
fi

# --- Source: unpacked once per package version.
src=$cache_dir/linux-source-6.1
obj=$cache_dir/obj
stamp=$cache_dir/unpacked
if [[ ! -d $src || ! -r $stamp || $(<"$stamp") != "$src_version" ]]; then
    say "unpacking $src_tarball ($src_pkg $src_version) into $cache_dir"
    rm -rf "$src" "$obj" "$stamp"
    tar -xJf "$src_tarball" -C "$cache_dir" || die "cannot unpack $src_tarball"
    [[ -d $src ]] || die "$src_tarball did not contain linux-source-6.1/"
    printf '%s\n' "$src_version" >"$stamp"
else
    say "using the unpacked source in $src"
fi
mkdir -p "$obj"

kmake() {
    make -C "$src" O="$obj" ARCH=x86_64 "$@"
}

# check_fragment FRAGMENT: every line of FRAGMENT holds in $obj/.config,
# or the build stops naming the options that do not.
check_fragment() {
    local fragment=$1 line not_applied=()
    while IFS= read -r line; do
        if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
            grep -qxF -- "$line" "$obj/.config" ||
                not_applied+=("${BASH_REMATCH[1]} (wanted ${BASH_REMATCH[2]}, got $(
                    grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$obj/.config" |
                        sed -e 's/^# .* is not set$/unset/' -e 's/^[^=]*=//' |
                        head -n1 | grep . || echo unavailable))")
        elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
            ! grep -qE "^${BASH_REMATCH[1]}=" "$obj/.config" ||
                not_applied+=("${BASH_REMATCH[1]} (wanted unset, got $(
                    sed -n "s/^${BASH_REMATCH[1]}=//p" "$obj/.config"))")
        fi
    done <"$fragment"
    if [[ ${#not_applied[@]} -gt 0 ]]; then
        say "options of $(basename "$fragment") that did not survive 'make olddefconfig'"
        say "(usually a dependency that is not enabled; see 'make menuconfig' in $obj):"
        local o
        for o in "${not_applied[@]}"; do
            printf '  %s\n' "$o" >&2
        done
        die "${#not_applied[@]} option(s) not applied"
    fi
    say "all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set$)' "$fragment") options of $(basename "$fragment") applied"
}

# merge FRAGMENT: FRAGMENT merged on top of $obj/.config, then checked.
merge() {
    local fragment=$1 config_log=$obj/config.log
    (cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" \
        "$obj/.config" "$fragment") >>"$config_log" 2>&1 ||
        { cat "$config_log" >&2; die "merge_config.sh $(basename "$fragment") failed"; }
    kmake olddefconfig >>"$config_log" 2>&1 ||
        { cat "$config_log" >&2; die "make olddefconfig failed"; }
    check_fragment "$fragment"
}

# build OUTPUT: bzImage in $obj, copied to OUTPUT with its .config.
build() {
    local out=$1 start=$SECONDS
    say "building $(basename "$out") with make -j$jobs (log: $obj/build.log)"
    if ! kmake -j"$jobs" bzImage >"$obj/build.log" 2>&1; then
        tail -n 30 "$obj/build.log" >&2
        die "kernel build failed (full log: $obj/build.log)"
    fi
    say "built in $((SECONDS - start)) s"
    local bzimage=$obj/arch/x86/boot/bzImage
    [[ -s $bzimage ]] || die "the build did not produce $bzimage"
    cp "$bzimage" "$out.tmp"
    cp "$obj/.config" "$out.config"
    mv -f "$out.tmp" "$out"
    say "$out: $(stat -c %s "$out") bytes, Linux $(<"$obj/include/config/kernel.release")"
}

# --- The VE kernel.
say "configuring: tinyconfig + $(basename "$fragment")"
: >"$obj/config.log"
kmake tinyconfig >>"$obj/config.log" 2>&1 ||
    { cat "$obj/config.log" >&2; die "make tinyconfig failed"; }
merge "$fragment"
build "$output"

# --- The appliance kernel: the VE kernel's configuration with the
# appliance's fragment on top, built in the same objects, so that make
# compiles only what those options change (a fraction of a full build; a
# copy of the objects would not do: objtool records its absolute path, and
# a new objtool rebuilds everything). The next run's tinyconfig and merge
# bring the objects back to the VE kernel the same way.
say "configuring the appliance kernel: the VE kernel + $(basename "$appliance_fragment")"
merge "$appliance_fragment"
build "$appliance_output"

printf '%s\n' "$hash" >"$hash_file"
if [[ -n $store ]]; then
    kept=$store/kernel/$hash
    ok=1
    mkdir -p "$kept" || ok=0
    for f in vmlinuz-lodge.config vmlinuz-lodge-appliance.config vmlinuz-lodge-appliance vmlinuz-lodge; do
        [[ $ok == 1 ]] || break
        cp "$out_dir/$f" "$kept/$f.tmp" && mv -f "$kept/$f.tmp" "$kept/$f" || ok=0
    done
    if [[ $ok == 1 ]]; then
        say "kept in $kept for later clones"
    else
        say "warning: could not keep the kernels in $kept"
    fi
fi
