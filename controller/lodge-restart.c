#include "lodge-restart.h"

const char *
lodge_restart_describe (LodgeStopReason why)
{
  switch (why)
    {
    case LODGE_STOP_SHUTDOWN:
      return "the guest shut down from inside";
    case LODGE_STOP_CRASHED:
      return "the guest crashed (or its QEMU was killed)";
    case LODGE_STOP_PANICKED:
      return "the guest kernel panicked";
    case LODGE_STOP_FAILED:
      return "its QEMU failed";
    case LODGE_STOP_DESTROYED:
      return "the guest was destroyed outside Lodge";
    case LODGE_STOP_GONE:
      return "its domain disappeared (undefined outside Lodge)";
    default:
      return "the guest stopped outside Lodge";
    }
}

gboolean
lodge_restart_wanted (LodgeRestartPolicy policy, LodgeStopReason why)
{
  switch (policy)
    {
    case LODGE_RESTART_NEVER:
      return FALSE;
    case LODGE_RESTART_ON_FAILURE:
      return why == LODGE_STOP_CRASHED || why == LODGE_STOP_PANICKED || why == LODGE_STOP_FAILED
             || why == LODGE_STOP_OTHER;
    default:
      return TRUE;
    }
}

gboolean
lodge_restart_count (LodgeRuntimeRecord *rt, gint64 now_us)
{
  g_return_val_if_fail (rt != NULL, FALSE);
  guint kept = 0;
  for (guint i = 0; i < rt->n_recent_restarts; i++)
    if (now_us - rt->recent_restarts_us[i] < (gint64) LODGE_CRASH_LOOP_WINDOW_S * G_USEC_PER_SEC)
      rt->recent_restarts_us[kept++] = rt->recent_restarts_us[i];
  rt->n_recent_restarts = kept;
  if (kept >= LODGE_CRASH_LOOP_MAX)
    return FALSE;
  rt->recent_restarts_us[rt->n_recent_restarts++] = now_us;
  rt->restarts++;
  return TRUE;
}
