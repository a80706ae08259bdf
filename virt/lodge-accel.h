/* Which accelerator really works on this host. /dev/kvm can exist and
 * still fail: nested virtualization that hangs, or a KVM that refuses an
 * MSR the CPU model sets so that QEMU aborts (`failed to set MSR 0x10a`).
 * So KVM is proven by running QEMU itself, the way Lodge's guests and
 * libguestfs's appliance run it, never assumed. */
#pragma once

#include <glib.h>

#include "lodge-domain.h"

G_BEGIN_DECLS

/* How long one QEMU probe may take before KVM is judged to hang. */
#define LODGE_ACCEL_PROBE_TIMEOUT_MS 15000

/* Boots a one-sector disk (its code writes to QEMU's isa-debug-exit port)
 * with QEMU under KVM, once with the VEs' CPU (host-passthrough) and once
 * with libguestfs's (max), on the VEs' machine type, each with a deadline.
 * Returns LODGE_ACCEL_KVM when both ran the guest to its exit, else
 * LODGE_ACCEL_TCG with *ret_reason saying why (QEMU's own last words where
 * it had any). *ret_reason may be NULL after KVM.
 *
 * $LODGE_ACCEL=kvm|tcg overrides the probe. The answer is kept for the
 * life of the process (a probe costs a QEMU start), until
 * lodge_accel_demote(). */
LodgeAccel lodge_accel_probe (char **ret_reason);

/* KVM was chosen but a real QEMU failed under it later (an appliance that
 * did not launch): from now on lodge_accel_probe() answers TCG with
 * @reason, unless $LODGE_ACCEL forces KVM. */
void lodge_accel_demote (const char *reason);

G_END_DECLS
