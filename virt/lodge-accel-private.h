/* For tests: the QEMU probe itself, with the binary and the deadline
 * chosen by the caller and no cache. */
#pragma once

#include "lodge-accel.h"

G_BEGIN_DECLS

/* Runs @qemu under KVM as lodge_accel_probe() describes. Returns TRUE when
 * every probe's guest ran to its exit; else FALSE with *ret_reason. */
gboolean lodge_accel_probe_qemu (const char *qemu, guint timeout_ms, char **ret_reason);

G_END_DECLS
