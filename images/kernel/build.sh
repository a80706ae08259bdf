#!/bin/bash
# Build Lodge's minimal guest kernel: `make tinyconfig` from Debian's
# linux-source-6.1, the fragment images/kernel/lodge.config merged on top,
# bzImage copied to images/out/vmlinuz-lodge. See docs/guest-kernel.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images=$(dirname "$here")

fragment=$here/lodge.config
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
The bzImage is copied to OUT-DIR/vmlinuz-lodge.

The output is rebuilt only when a hash of the fragment, the $src_pkg
package version and this script changes; the hash is kept in
OUT-DIR/vmlinuz-lodge.hash. Every kernel built is also kept by that hash in
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
hash_file=$output.hash
if [[ $(id -u) == 0 ]]; then store=${LODGE_CACHE_DIR:-/var/cache/lodge}
else store=${LODGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lodge}; fi
[[ $store == none ]] && store=""

[[ -r $fragment ]] || die "cannot read the config fragment $fragment"

pkg_version() {
    dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null |
        sed -n 's/^installed //p'
}

# The content hash of everything the output depends on.
input_hash() {
    local version=$1
    {
        printf 'fragment\n'; cat "$fragment"
        printf '\nsource %s %s\n' "$src_pkg" "$version"
        printf 'script\n'; cat "${BASH_SOURCE[0]}"
    } | sha256sum | cut -d' ' -f1
}

up_to_date() {
    local want=$1
    [[ $force == 0 && -s $output && -r $hash_file ]] &&
        [[ $(<"$hash_file") == "$want" ]]
}

# A kernel built from the same inputs earlier (another clone, the same
# machine): copied into OUT-DIR.
from_store() {
    local want=$1 kept=$store/kernel/$1
    [[ $force == 0 && -n $store && -s $kept/vmlinuz-lodge && -r $kept/vmlinuz-lodge.config ]] || return 1
    mkdir -p "$out_dir"
    cp "$kept/vmlinuz-lodge" "$output.tmp" && cp "$kept/vmlinuz-lodge.config" "$out_dir/vmlinuz-lodge.config" &&
        mv -f "$output.tmp" "$output" && printf '%s\n' "$want" >"$hash_file" || return 1
    say "$output copied from $kept (built earlier from the same inputs, hash ${want:0:12})"
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

# --- Configuration.
say "configuring: tinyconfig + $(basename "$fragment")"
config_log=$obj/config.log
kmake tinyconfig >"$config_log" 2>&1 ||
    { cat "$config_log" >&2; die "make tinyconfig failed"; }
(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" \
    "$obj/.config" "$fragment") >>"$config_log" 2>&1 ||
    { cat "$config_log" >&2; die "merge_config.sh failed"; }
kmake olddefconfig >>"$config_log" 2>&1 ||
    { cat "$config_log" >&2; die "make olddefconfig failed"; }

# --- Every line of the fragment must hold in the final .config.
not_applied=()
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
    for o in "${not_applied[@]}"; do
        printf '  %s\n' "$o" >&2
    done
    die "${#not_applied[@]} option(s) not applied"
fi
say "all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set$)' "$fragment") options of the fragment applied"

# --- Build.
say "building bzImage with make -j$jobs (log: $obj/build.log)"
start=$SECONDS
if ! kmake -j"$jobs" bzImage >"$obj/build.log" 2>&1; then
    tail -n 30 "$obj/build.log" >&2
    die "kernel build failed (full log: $obj/build.log)"
fi
say "built in $((SECONDS - start)) s"

bzimage=$obj/arch/x86/boot/bzImage
[[ -s $bzimage ]] || die "the build did not produce $bzimage"
cp "$bzimage" "$output.tmp"
cp "$obj/.config" "$out_dir/vmlinuz-lodge.config"
mv -f "$output.tmp" "$output"
printf '%s\n' "$hash" >"$hash_file"
say "$output: $(stat -c %s "$output") bytes, Linux $(<"$obj/include/config/kernel.release")"
if [[ -n $store ]]; then
    kept=$store/kernel/$hash
    if mkdir -p "$kept" && cp "$output" "$kept/vmlinuz-lodge.tmp" && cp "$out_dir/vmlinuz-lodge.config" "$kept/" &&
        mv -f "$kept/vmlinuz-lodge.tmp" "$kept/vmlinuz-lodge"; then
        say "kept in $kept for later clones"
    else
        say "warning: could not keep the kernel in $kept"
    fi
fi
