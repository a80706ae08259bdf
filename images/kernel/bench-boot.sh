#!/bin/bash
# Benchmark (not a test): boot-to-ready wall time of the Lodge guest kernel
# against Debian's distro kernel + initrd, and the host RSS of an idle guest
# with and without virtio-balloon free page reporting. Prints a markdown
# table on stdout; progress on stderr.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images=$(dirname "$here")
# shellcheck source=lib.sh
source "$here/lib.sh"

runs=5
idle_seconds=30
# Debian's initrd (MODULES=most, ~35 MB compressed) does not fit in 256 MiB:
# the kernel runs out of memory unpacking it. Both kernels get the same.
boot_mem=1024
timeout=300
distro_kernel=
distro_initrd=
do_boot=1
do_rss=1
do_tb=1
do_fw=1
tb_mode=idle
do_split=0
qboot=/usr/share/qemu/qboot.rom
tb_sizes="default 256 64 32 16"

usage() {
    cat <<EOF
Usage: $0 [--runs N] [--boot-mem MIB] [--idle-seconds S] [--tb-sizes "MIB..."]
          [--distro-kernel FILE --distro-initrd FILE]
          [--boot-only | --rss-only | --tb-only | --tb-work | --firmware-only | --split-only]

Boot-to-ready: QEMU (q35, TCG, BOOT-MEM MiB) is started with (a) the Lodge kernel
(images/out/vmlinuz-lodge, built with build.sh) and (b) Debian's kernel with
its initrd (newest /boot/vmlinuz-*), both on the same busybox ext4 root
(root=/dev/vda). The time is taken from just before QEMU starts to the
ready line on the serial console. Runs alternate a, b, a, b, ...; medians
and their ratio are reported.

Idle RSS: the Lodge kernel with 512 MiB of guest memory and a
virtio-balloon device, free-page-reporting on and off; VmRSS of the QEMU
process S seconds after the ready line, for a guest that has just booted
and for one that filled and freed 256 MiB of tmpfs before the ready line.

TCG translation cache: the Lodge kernel as a VE runs it (256 MiB, the
balloon with free page reporting), with each -accel tcg,tb-size= of
--tb-sizes ("default": QEMU's own, what a bare qemu-system-x86_64 gets),
runs alternated: the boot to the ready line, and the QEMU process's PSS
and RSS S seconds after it; medians, and ratios against the default.
With --tb-work (that part alone), the guest also runs work through much
more code than a boot after its ready line (lib.sh's lodge.mode=work):
its time, ready line to done line, is measured too, and the PSS is read
S seconds after the work.

Firmware: the Lodge kernel as the boot benchmark boots it, with QEMU's
default firmware (SeaBIOS) and with qboot ($qboot, a minimal firmware
that loads the kernel and QEMU's ACPI tables), runs alternated: boot to
the ready line (medians and their ratio), and whether the guest's
ACPI power-off ended QEMU.

  --runs N            boots per kernel (default $runs, at least 5 advised)
  --boot-mem MIB      guest memory for the boot benchmark (default $boot_mem;
                      the distro initrd needs more than 256)
  --idle-seconds S    wait before reading VmRSS (default $idle_seconds)
  --tb-sizes "MIB..." translation cache sizes to compare (default "$tb_sizes")
  --distro-kernel F   distro kernel (default: newest /boot/vmlinuz-*)
  --distro-initrd F   its initrd (default: the matching /boot/initrd.img-*)
  --boot-only         only the boot-time part
  --rss-only          only the idle RSS part
  --tb-only           only the translation cache part
  --tb-work           only the translation cache part, with the guest's work
  --firmware-only     only the firmware part
  --split-only        only where a boot's time goes: the Lodge kernel with
                      SeaBIOS and with qboot, alternated, booted quiet (as
                      VEs are); from the console and the guest's dmesg,
                      (a) QEMU's start, the firmware and the kernel's
                      decompression (the boot to ready less the kernel's
                      uptime at ready), (b) the kernel's init (its timestamp
                      on "Run /sbin/init"), (c) the init script's work to
                      ready (the uptime at ready less (b)); medians
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --runs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }; runs=$2; shift ;;
    --boot-mem) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }; boot_mem=$2; shift ;;
    --idle-seconds) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }; idle_seconds=$2; shift ;;
    --distro-kernel) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; distro_kernel=$2; shift ;;
    --distro-initrd) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; distro_initrd=$2; shift ;;
    --tb-sizes)
        [[ $# -ge 2 && $2 =~ ^(default|[1-9][0-9]*)( (default|[1-9][0-9]*))*$ ]] || { usage >&2; exit 2; }
        tb_sizes=$2; shift ;;
    --boot-only) do_rss=0 do_tb=0 do_fw=0 ;;
    --rss-only) do_boot=0 do_tb=0 do_fw=0 ;;
    --tb-only) do_boot=0 do_rss=0 do_fw=0 ;;
    --tb-work) do_boot=0 do_rss=0 do_fw=0 tb_mode=work ;;
    --firmware-only) do_boot=0 do_rss=0 do_tb=0 ;;
    --split-only) do_boot=0 do_rss=0 do_tb=0 do_fw=0 do_split=1 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf 'bench-boot: %s\n' "$*" >&2; }
die() { printf 'bench-boot: error: %s\n' "$*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
command -v mke2fs >/dev/null || die "mke2fs is not installed"
lodge_have_static_busybox || die "busybox-static is not installed"

"$here/build.sh" || die "build.sh failed"
lodge_kernel=$images/out/vmlinuz-lodge

if [[ $do_boot == 1 ]]; then
    if [[ -z $distro_kernel ]]; then
        distro_kernel=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n1)
        [[ -e $distro_kernel ]] || distro_kernel=
        [[ -n $distro_kernel ]] || die "no /boot/vmlinuz-* (apt-get install linux-image-amd64)"
    fi
    if [[ -z $distro_initrd ]]; then
        distro_initrd=/boot/initrd.img-${distro_kernel#*/vmlinuz-}
    fi
    [[ -r $distro_kernel ]] || die "cannot read $distro_kernel"
    [[ -r $distro_initrd ]] || die "cannot read $distro_initrd"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lodge-bench.XXXXXX")
cleanup() { lodge_qemu_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

lodge_build_rootfs "$work/root.img" || die "mke2fs -d failed"
append='console=ttyS0 root=/dev/vda rw panic=-1'
append_plain=$append

# boot_once NAME KERNEL INITRD: one boot to the ready line; sets BOOT_MS,
# and POWERED_OFF (1 when the guest's power-off ended QEMU). The console
# of a failed boot is kept in $work/NAME-fail.log and summarised. QEMU
# gets the arguments in BOOT_EXTRA too (none by default).
BOOT_EXTRA=()
boot_once() {
    local name=$1 kernel=$2 initrd=$3 log=$work/$1.log rc=0
    LODGE_QEMU_INITRD=$initrd lodge_qemu_start "$log" "$kernel" "$work/root.img" "$boot_mem" "$append" \
        -fw_cfg name=opt/lodge/config,string=hello \
        -device virtio-balloon-pci,free-page-reporting=on "${BOOT_EXTRA[@]}"
    lodge_wait_line "^$LODGE_READY_LINE\$" $((LODGE_QEMU_START_US + timeout * 1000000)) || rc=$?
    if [[ $rc != 0 ]]; then
        lodge_qemu_stop
        cp "$log" "$work/$name-fail.log"
        say "$name: no ready line ($([[ $rc == 1 ]] && echo "QEMU exited" || echo "timeout ${timeout}s")); last console lines:"
        tail -n 15 "$log" | sed 's/^/  | /' >&2
        if grep -qE 'ALERT! .* does not exist|Gave up waiting for root' "$log"; then
            say "$name: the initrd did not find the root device /dev/vda"
        elif grep -q 'invoked oom-killer' "$log"; then
            say "$name: out of memory (try a larger --boot-mem)"
        fi
        return 1
    fi
    BOOT_MS=$(((LODGE_LINE_US - LODGE_QEMU_START_US) / 1000))
    POWERED_OFF=1
    lodge_qemu_wait_exit 60 || { POWERED_OFF=0; say "$name: the guest did not power off (killed)"; }
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

fmt_ms() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }

if [[ $do_boot == 1 ]]; then
    lodge_times=() distro_times=() distro_failed=0
    for ((i = 1; i <= runs; i++)); do
        boot_once lodge "$lodge_kernel" '' || die "the Lodge kernel did not boot"
        lodge_times+=("$BOOT_MS")
        say "run $i/$runs: lodge $BOOT_MS ms"
        if boot_once distro "$distro_kernel" "$distro_initrd"; then
            distro_times+=("$BOOT_MS")
            say "run $i/$runs: distro $BOOT_MS ms"
        else
            distro_failed=$((distro_failed + 1))
        fi
    done
    lodge_med=$(printf '%s\n' "${lodge_times[@]}" | median)
    echo
    echo "### Boot to ready (QEMU q35, TCG, $boot_mem MiB, $runs runs each, alternated)"
    echo
    echo "| kernel | size | runs (ms) | median |"
    echo "| --- | ---: | --- | ---: |"
    echo "| Lodge \`vmlinuz-lodge\` (no initrd) | $(($(stat -c %s "$lodge_kernel") / 1024)) KiB | ${lodge_times[*]} | $(fmt_ms "$lodge_med") |"
    if [[ ${#distro_times[@]} -gt 0 ]]; then
        distro_med=$(printf '%s\n' "${distro_times[@]}" | median)
        echo "| Debian \`$(basename "$distro_kernel")\` + initrd | $(($(stat -c %s "$distro_kernel") / 1024)) KiB + $(($(stat -c %s "$distro_initrd") / 1024)) KiB | ${distro_times[*]} | $(fmt_ms "$distro_med") |"
        echo
        echo "Ratio distro / Lodge (medians): $(awk -v a="$distro_med" -v b="$lodge_med" 'BEGIN { printf "%.1f", a / b }')x"
    fi
    [[ $distro_failed == 0 ]] || echo "The distro kernel failed to reach the ready line in $distro_failed of $runs runs."
fi

# idle_rss MODE REPORTING: VmRSS (KiB) of QEMU $idle_seconds s after
# ready, in RSS_KIB.
idle_rss() {
    local mode=$1 reporting=$2 log=$work/idle.log rc=0
    lodge_qemu_start "$log" "$lodge_kernel" "$work/root.img" 512 "$append lodge.mode=$mode" \
        -device "virtio-balloon-pci,free-page-reporting=$reporting"
    lodge_wait_line "^$LODGE_READY_LINE\$" $((LODGE_QEMU_START_US + timeout * 1000000)) || rc=$?
    if [[ $rc != 0 ]]; then
        tail -n 15 "$log" | sed 's/^/  | /' >&2
        lodge_qemu_stop
        return 1
    fi
    # Keep reading the console while the guest idles (a full pipe would
    # stall it); nothing is expected.
    lodge_wait_line '' $((LODGE_LINE_US + idle_seconds * 1000000)) || rc=$?
    [[ $rc == 2 ]] || { say "QEMU exited while idle"; lodge_qemu_stop; return 1; }
    RSS_KIB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LODGE_QEMU_PID/status")
    lodge_qemu_stop
}

if [[ $do_rss == 1 ]]; then
    declare -A rss
    for mode in idle idle-used; do
        for reporting in off on; do
            say "idle RSS: $mode, free-page-reporting=$reporting (${idle_seconds}s after ready)"
            idle_rss $mode $reporting || die "the idle guest did not come up"
            rss[$mode,$reporting]=$RSS_KIB
            say "  VmRSS ${rss[$mode,$reporting]} KiB"
        done
    done
    mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
    echo
    echo "### Host RSS of an idle guest (Lodge kernel, 512 MiB, TCG, VmRSS of qemu ${idle_seconds} s after ready)"
    echo
    echo "| guest | free page reporting off | on |"
    echo "| --- | ---: | ---: |"
    echo "| just booted | $(mib "${rss[idle,off]}") | $(mib "${rss[idle,on]}") |"
    echo "| filled and freed 256 MiB of tmpfs before ready | $(mib "${rss[idle-used,off]}") | $(mib "${rss[idle-used,on]}") |"
fi

# tb_once SIZE: the Lodge kernel under -accel tcg,tb-size=SIZE (QEMU's
# default for "default"), 256 MiB with the balloon as a VE has it; sets
# BOOT_MS, and PSS_KIB and RSS_KIB of QEMU $idle_seconds s after ready.
tb_once() {
    local size=$1 log=$work/tb.log rc=0 accel=tcg
    [[ $size == default ]] || accel=tcg,tb-size=$size
    LODGE_QEMU_ACCEL=$accel lodge_qemu_start "$log" "$lodge_kernel" "$work/root.img" 256 "$append lodge.mode=$tb_mode" \
        -device virtio-balloon-pci,free-page-reporting=on
    lodge_wait_line "^$LODGE_READY_LINE\$" $((LODGE_QEMU_START_US + timeout * 1000000)) || rc=$?
    if [[ $rc != 0 ]]; then
        tail -n 15 "$log" | sed 's/^/  | /' >&2
        lodge_qemu_stop
        return 1
    fi
    BOOT_MS=$(((LODGE_LINE_US - LODGE_QEMU_START_US) / 1000))
    WORK_MS=0
    if [[ $tb_mode == work ]]; then
        local ready_us=$LODGE_LINE_US
        lodge_wait_line "^$LODGE_WORK_LINE\$" $((ready_us + 600 * 1000000)) ||
            { say "tb-size $size: the guest's work did not end"; tail -n 15 "$log" | sed 's/^/  | /' >&2; lodge_qemu_stop; return 1; }
        WORK_MS=$(((LODGE_LINE_US - ready_us) / 1000))
    fi
    lodge_wait_line '' $((LODGE_LINE_US + idle_seconds * 1000000)) || rc=$?
    [[ $rc == 2 ]] || { say "QEMU exited while idle"; lodge_qemu_stop; return 1; }
    PSS_KIB=$(awk '/^Pss:/ { print $2 }' "/proc/$LODGE_QEMU_PID/smaps_rollup")
    RSS_KIB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LODGE_QEMU_PID/status")
    lodge_qemu_stop
}

if [[ $do_tb == 1 ]]; then
    declare -A tb_boot tb_pss tb_rss tb_work
    for ((i = 1; i <= runs; i++)); do
        for size in $tb_sizes; do
            tb_once "$size" || die "the guest did not come up with tb-size $size"
            tb_boot[$size]+="$BOOT_MS " tb_pss[$size]+="$PSS_KIB " tb_rss[$size]+="$RSS_KIB " tb_work[$size]+="$WORK_MS "
            say "run $i/$runs: tb-size $size: boot $BOOT_MS ms, work $WORK_MS ms, PSS $PSS_KIB KiB, RSS $RSS_KIB KiB"
        done
    done
    med() { tr ' ' '\n' <<<"$1" | grep . | median; }
    base=${tb_sizes%% *}
    echo
    if [[ $tb_mode == work ]]; then
        echo "### TCG translation cache with work (Lodge kernel, 256 MiB, balloon, TCG; the guest's work timed from ready to done; PSS and RSS of qemu ${idle_seconds} s after it; medians of $runs, alternated)"
        echo
        echo "| tb-size | boot to ready | work | work against $base | PSS | RSS | PSS against $base |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    else
        echo "### TCG translation cache (Lodge kernel, 256 MiB, balloon, TCG; PSS and RSS of qemu ${idle_seconds} s after ready; medians of $runs, alternated)"
        echo
        echo "| tb-size | boot to ready | PSS | RSS | PSS against $base |"
        echo "| --- | ---: | ---: | ---: | ---: |"
    fi
    for size in $tb_sizes; do
        b=$(med "${tb_boot[$size]}") p=$(med "${tb_pss[$size]}") r=$(med "${tb_rss[$size]}") w=$(med "${tb_work[$size]}")
        work_cols=""
        [[ $tb_mode != work ]] ||
            work_cols="$(fmt_ms "$w") | $(awk -v a="$w" -v b="$(med "${tb_work[$base]}")" 'BEGIN { printf "%.2f", a / b }') | "
        echo "| $([[ $size == default ]] && echo "QEMU's default" || echo "$size MiB") | $(fmt_ms "$b") | $work_cols$((p / 1024)) MiB | $((r / 1024)) MiB | $(awk -v a="$p" -v b="$(med "${tb_pss[$base]}")" 'BEGIN { printf "%.2f", a / b }') |"
    done
fi

if [[ $do_fw == 1 ]]; then
    [[ -r $qboot ]] || die "no $qboot (Debian's qemu-system-data has it)"
    declare -A fw_boot=([seabios]="" [qboot]="") fw_off=([seabios]=0 [qboot]=0)
    for ((i = 1; i <= runs; i++)); do
        for fw in seabios qboot; do
            BOOT_EXTRA=()
            [[ $fw == qboot ]] && BOOT_EXTRA=(-bios "$qboot")
            boot_once "fw-$fw" "$lodge_kernel" "" || die "the guest did not come up with $fw"
            fw_boot[$fw]+="$BOOT_MS " fw_off[$fw]=$((fw_off[$fw] + POWERED_OFF))
            say "run $i/$runs: $fw: ready after $BOOT_MS ms, powered off: $POWERED_OFF"
        done
    done
    BOOT_EXTRA=()
    med() { tr ' ' '\n' <<<"$1" | grep . | median; }
    s=$(med "${fw_boot[seabios]}") q=$(med "${fw_boot[qboot]}")
    echo
    echo "### Firmware (Lodge kernel, q35, TCG, ${boot_mem} MiB; medians of $runs, alternated)"
    echo
    echo "| firmware | boot to ready | against SeaBIOS | ACPI power-off ended QEMU |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| SeaBIOS (QEMU's default) | $(fmt_ms "$s") | 1.00 | ${fw_off[seabios]} of $runs |"
    echo "| qboot | $(fmt_ms "$q") | $(awk -v a="$q" -v b="$s" 'BEGIN { printf "%.2f", a / b }') | ${fw_off[qboot]} of $runs |"
fi

if [[ $do_split == 1 ]]; then
    [[ -r $qboot ]] || die "no $qboot (Debian's qemu-system-data has it)"
    declare -A sp_total sp_pre sp_kernel sp_init
    for ((i = 1; i <= runs; i++)); do
        for fw in seabios qboot; do
            BOOT_EXTRA=()
            [[ $fw == qboot ]] && BOOT_EXTRA=(-bios "$qboot")
            # quiet, as VEs boot: the console at 115200 baud is slow under
            # TCG (the init script reads the kernel's timestamp from dmesg)
            append="$append_plain quiet" boot_once "split-$fw" "$lodge_kernel" "" ||
                die "the guest did not come up with $fw"
            log=$work/split-$fw.log
            read -r up init < <(sed -n "s/^$LODGE_UPTIME_PREFIX //p" "$log" | head -n 1)
            [[ -n $up && -n $init ]] || die "$fw: no uptime or 'Run /sbin/init' line on the console ($log)"
            up_ms=$(awk -v v="$up" 'BEGIN { printf "%d", v * 1000 }')
            init_ms=$(awk -v v="$init" 'BEGIN { printf "%d", v * 1000 }')
            sp_total[$fw]+="$BOOT_MS " sp_pre[$fw]+="$((BOOT_MS - up_ms)) "
            sp_kernel[$fw]+="$init_ms " sp_init[$fw]+="$((up_ms - init_ms)) "
            say "run $i/$runs: $fw: ready after $BOOT_MS ms: before the kernel's clock $((BOOT_MS - up_ms)), kernel init $init_ms, init script $((up_ms - init_ms))"
        done
    done
    BOOT_EXTRA=()
    med() { tr ' ' '\n' <<<"$1" | grep . | median; }
    echo
    echo "### Where a boot's time goes (Lodge kernel, q35, TCG, ${boot_mem} MiB; medians of $runs, alternated; ms)"
    echo
    echo "| firmware | boot to ready | QEMU start, firmware, decompression | kernel init | init script to ready |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    for fw in seabios qboot; do
        echo "| $fw | $(med "${sp_total[$fw]}") | $(med "${sp_pre[$fw]}") | $(med "${sp_kernel[$fw]}") | $(med "${sp_init[$fw]}") |"
    done
fi
