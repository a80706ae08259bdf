# shellcheck shell=bash disable=SC2034
# Shared by smoke-test.sh and bench-boot.sh (sourced, not run): a tiny
# busybox root image and a QEMU whose serial console is read line by line.
#
# The root image holds a static busybox and an /sbin/init script whose
# behaviour follows `lodge.mode=` on the kernel command line:
#   (none)      mount proc/sys/dev, print the kernel's uptime and its
#               timestamp of "Run /sbin/init" from dmesg (LODGE_UPTIME_PREFIX
#               SECONDS INIT_SECONDS), the ready line and the fw_cfg config,
#               power off
#   idle        the same, then stay alive (sleep) instead of powering off
#   idle-used   fill 256 MiB of tmpfs and free it again before the ready
#               line, then stay alive: a guest that used memory and is idle
#   work        after the ready line, run work that goes through much more
#               code than a boot (archiving, compressing, hashing, sorting,
#               awk, sed, find; three rounds), print LODGE_WORK_LINE, then
#               stay alive

LODGE_READY_LINE=lodge-smoke-ready
LODGE_WORK_LINE=lodge-smoke-work-done
LODGE_UPTIME_PREFIX=lodge-smoke-uptime
LODGE_FWCFG_PREFIX=lodge-fw-cfg:

lodge_busybox=/bin/busybox

# lodge_have_static_busybox: the static busybox is installed (the dynamic
# one from the busybox package would need a libc in the image).
lodge_have_static_busybox() {
    [[ -x $lodge_busybox ]] &&
        dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null | grep -qx installed
}

# lodge_build_rootfs IMAGE: a 64 MiB ext4 image made with `mke2fs -d`,
# nothing is mounted on the host.
lodge_build_rootfs() {
    local image=$1 tree
    tree=$(mktemp -d "${TMPDIR:-/tmp}/lodge-rootfs.XXXXXX")
    mkdir -p "$tree"/{bin,sbin,dev,proc,sys,run,tmp,etc,root}
    chmod 1777 "$tree/tmp"
    cp "$lodge_busybox" "$tree/bin/busybox"
    local applet
    for applet in $("$lodge_busybox" --list); do
        [[ $applet == busybox || $applet == init ]] && continue
        ln -s busybox "$tree/bin/$applet"
    done
    cat >"$tree/sbin/init" <<EOF
#!/bin/sh
# Lodge kernel smoke/bench init (see images/kernel/lib.sh).
export PATH=/bin:/sbin
# A distro initramfs has mounted these already.
[ -e /proc/mounts ] || mount -t proc proc /proc
grep -q "^sysfs /sys " /proc/mounts || mount -t sysfs sysfs /sys
grep -q "^devtmpfs /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mode=
for arg in \$(cat /proc/cmdline); do
    case \$arg in lodge.mode=*) mode=\${arg#lodge.mode=} ;; esac
done
if [ "\$mode" = idle-used ]; then
    mount -t tmpfs -o size=300m tmpfs /tmp
    dd if=/dev/zero of=/tmp/fill bs=1M count=256 2>/dev/null
    rm -f /tmp/fill
    sync
fi
echo "$LODGE_UPTIME_PREFIX \$(cut -d' ' -f1 /proc/uptime) \$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run .* as init process.*/\1/p' | head -n 1)"
echo $LODGE_READY_LINE
raw=/sys/firmware/qemu_fw_cfg/by_name/opt/lodge/config/raw
if [ -r "\$raw" ]; then
    echo "$LODGE_FWCFG_PREFIX \$(cat "\$raw")"
else
    echo "lodge-fw-cfg-missing: \$raw"
fi
case \$mode in
work)
    mount -t tmpfs -o size=64m tmpfs /tmp
    for round in 1 2 3; do
        tar cf /tmp/t.tar /bin /sbin /etc 2>/dev/null
        gzip -c /tmp/t.tar >/tmp/t.gz
        gunzip -c /tmp/t.gz | md5sum >/dev/null
        bzip2 -c /tmp/t.tar | sha1sum >/dev/null
        sha256sum /tmp/t.tar /tmp/t.gz >/dev/null
        head -c 65536 /tmp/t.gz | od -x | sort | uniq -c | sort -n | tail -n 1 >/dev/null
        awk 'BEGIN { for (k = 0; k < 20000; k++) s += sin(k) * k % 7; print s }' >/dev/null
        find / -xdev | sed 's/[aeiou]/_/g' | grep -c _ >/dev/null
        rm -f /tmp/t.tar /tmp/t.gz
    done
    echo $LODGE_WORK_LINE
    while :; do sleep 1000; done ;;
idle*) while :; do sleep 1000; done ;;
esac
poweroff -f
EOF
    chmod 755 "$tree/sbin/init"
    rm -f "$image"
    local out rc=0
    out=$(mke2fs -q -t ext4 -E root_owner=0:0 -L lodge-smoke -d "$tree" "$image" 64M 2>&1) || rc=$?
    rm -rf "$tree"
    [[ $rc == 0 ]] || { printf '%s\n' "$out" >&2; return 1; }
}

# lodge_now_us: microseconds since the epoch, in LODGE_NOW (no subshell).
lodge_now_us() {
    LODGE_NOW=${EPOCHREALTIME/[.,]/}
}

# lodge_qemu_start LOG KERNEL ROOTFS MEM_MIB APPEND [extra qemu args...]
# Starts QEMU (q35, TCG) in the background. Its serial console goes through
# a FIFO to `tee LOG` (the whole console) and `grep 'lodge-'`, whose lines
# (those the init script prints) are read with lodge_wait_line. Reading the
# console byte by byte in bash would slow the guest's boot by seconds under
# TCG; tee and grep read it in blocks. Sets LODGE_QEMU_PID,
# LODGE_QEMU_START_US (just before QEMU starts). The root image is opened
# with snapshot=on, so every boot sees the same pristine file system. Set
# LODGE_QEMU_INITRD to pass an initrd, LODGE_QEMU_ACCEL for another -accel
# than tcg (tcg,tb-size=32).
lodge_qemu_start() {
    local log=$1 kernel=$2 rootfs=$3 mem=$4 append=$5
    shift 5
    local initrd_args=()
    [[ -n ${LODGE_QEMU_INITRD:-} ]] && initrd_args=(-initrd "$LODGE_QEMU_INITRD")
    LODGE_QEMU_FIFO=$log.fifo
    rm -f "$LODGE_QEMU_FIFO"
    mkfifo "$LODGE_QEMU_FIFO"
    coproc LODGE_QEMU_CO {
        tee "$log" <"$LODGE_QEMU_FIFO" | grep --line-buffered -a 'lodge-'
    }
    # bash forgets the coprocess variables once it has exited: keep copies.
    LODGE_QEMU_READER_PID=$LODGE_QEMU_CO_PID
    exec {LODGE_QEMU_FD}<&"${LODGE_QEMU_CO[0]}"
    lodge_now_us
    LODGE_QEMU_START_US=$LODGE_NOW
    qemu-system-x86_64 -machine q35 -accel "${LODGE_QEMU_ACCEL:-tcg}" -m "$mem" \
        -display none -monitor none -serial stdio -no-reboot \
        -kernel "$kernel" "${initrd_args[@]}" -append "$append" \
        -drive "file=$rootfs,if=virtio,format=raw,snapshot=on" \
        -nic none "$@" </dev/null >"$LODGE_QEMU_FIFO" 2>&1 &
    LODGE_QEMU_PID=$!
}

# lodge_wait_line PATTERN DEADLINE_US: read the init script's console lines
# until one matches the bash regex PATTERN (returns 0, the line in
# LODGE_LINE, the time it was read in LODGE_LINE_US), the console closes
# (QEMU exited: returns 1) or the clock passes DEADLINE_US (microseconds
# since the epoch; returns 2). An empty PATTERN matches nothing.
lodge_wait_line() {
    local pattern=$1 deadline=$2 line left status
    while :; do
        lodge_now_us
        left=$((deadline - LODGE_NOW))
        ((left > 0)) || return 2
        if IFS= read -r -t "$((left / 1000000)).$(printf %06d $((left % 1000000)))" \
            line <&"$LODGE_QEMU_FD"; then
            lodge_now_us
            line=${line%$'\r'}
            if [[ -n $pattern && $line =~ $pattern ]]; then
                LODGE_LINE=$line
                LODGE_LINE_US=$LODGE_NOW
                return 0
            fi
        else
            status=$?
            # > 128: timed out; otherwise the end of the console.
            ((status > 128)) && return 2
            return 1
        fi
    done
}

# lodge_qemu_reap: wait for QEMU and the console reader, forget them.
lodge_qemu_reap() {
    wait "$LODGE_QEMU_PID" 2>/dev/null || true
    wait "$LODGE_QEMU_READER_PID" 2>/dev/null || true
    exec {LODGE_QEMU_FD}<&-
    rm -f "$LODGE_QEMU_FIFO"
    LODGE_QEMU_PID='' LODGE_QEMU_READER_PID='' LODGE_QEMU_FD=''
}

# lodge_qemu_stop: kill QEMU if it still runs and reap it.
lodge_qemu_stop() {
    [[ -n ${LODGE_QEMU_PID:-} ]] || return 0
    kill "$LODGE_QEMU_PID" 2>/dev/null || true
    lodge_qemu_reap
}

# lodge_qemu_wait_exit SECONDS: wait for QEMU to exit on its own, as it does
# when the guest powers off; 0 if it did, 1 if it still ran after SECONDS
# (then it is killed).
lodge_qemu_wait_exit() {
    local seconds=$1 rc=0
    lodge_now_us
    lodge_wait_line '' $((LODGE_NOW + seconds * 1000000)) || rc=$?
    if [[ $rc == 2 ]]; then
        lodge_qemu_stop
        return 1
    fi
    lodge_qemu_reap
    return 0
}
