/* What happens to a VE whose guest stopped without Lodge stopping it: the
 * words for libvirt's reason, whether its restart policy starts it again,
 * and the crash-loop limit. Pure decisions on the runtime record; the
 * lifecycle acts on them. */
#pragma once

#include "lodge-env.h"
#include "lodge-records.h"

G_BEGIN_DECLS

/* "the guest crashed (or its QEMU was killed)", ... */
const char *lodge_restart_describe (LodgeStopReason why);

/* Whether a guest that stopped for @why is started again under @policy:
 * always, whatever stopped it; on-failure, when it crashed, its QEMU
 * failed, or the reason is unknown (not when it shut down from inside or
 * someone destroyed it); never, never. */
gboolean lodge_restart_wanted (LodgeRestartPolicy policy, LodgeStopReason why);

/* Counts one more automatic restart of @rt at @now_us (µs, wall clock)
 * and returns TRUE, unless it was restarted LODGE_CRASH_LOOP_MAX times in
 * the last LODGE_CRASH_LOOP_WINDOW_S already: then FALSE, and nothing is
 * counted. Restarts older than the window are forgotten either way. */
gboolean lodge_restart_count (LodgeRuntimeRecord *rt, gint64 now_us);

G_END_DECLS
