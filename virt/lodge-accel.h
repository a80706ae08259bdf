/* Which accelerator really works on this host. /dev/kvm can exist and
 * still fail (nested virtualization that hangs or aborts), so KVM is
 * proven by running a guest instruction, not assumed. */
#pragma once

#include <glib.h>

#include "lodge-domain.h"

G_BEGIN_DECLS

/* Runs a one-instruction guest (HLT) under KVM in a child process with a
 * deadline. Returns LODGE_ACCEL_KVM when it halts as it should, else
 * LODGE_ACCEL_TCG with *ret_reason saying why (may be NULL). Takes well
 * under a second either way. $LODGE_ACCEL=kvm|tcg overrides the probe. */
LodgeAccel lodge_accel_probe (char **ret_reason);

G_END_DECLS
