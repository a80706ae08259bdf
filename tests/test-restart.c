/* The decisions after a guest stopped without Lodge: which policy restarts
 * for which of libvirt's reasons, and the crash-loop limit. */
#include "lodge-restart.h"

#define S ((gint64) G_USEC_PER_SEC)

static void
test_policy (void)
{
  for (int why = LODGE_STOP_SHUTDOWN; why < LODGE_STOP_LAST; why++)
    {
      g_assert_true (lodge_restart_wanted (LODGE_RESTART_ALWAYS, why));
      g_assert_true (lodge_restart_wanted (LODGE_RESTART_DEFAULT, why));
      g_assert_false (lodge_restart_wanted (LODGE_RESTART_NEVER, why));
    }
  g_assert_true (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_CRASHED));
  g_assert_true (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_FAILED));
  g_assert_true (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_OTHER));
  g_assert_false (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_SHUTDOWN));
  g_assert_false (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_DESTROYED));
  g_assert_false (lodge_restart_wanted (LODGE_RESTART_ON_FAILURE, LODGE_STOP_GONE));
}

static void
test_crash_loop (void)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_new ("web1");
  gint64 t0 = 1795655920 * S;
  for (int i = 0; i < LODGE_CRASH_LOOP_MAX; i++)
    g_assert_true (lodge_restart_count (rt, t0 + i * 60 * S));
  g_assert_cmpuint (rt->restarts, ==, LODGE_CRASH_LOOP_MAX);
  /* One more inside the window: refused, and not counted. */
  g_assert_false (lodge_restart_count (rt, t0 + 5 * 60 * S));
  g_assert_cmpuint (rt->restarts, ==, LODGE_CRASH_LOOP_MAX);
  g_assert_cmpuint (rt->n_recent_restarts, ==, LODGE_CRASH_LOOP_MAX);
  /* Once the first has left the window, one more is allowed. */
  g_assert_true (lodge_restart_count (rt, t0 + LODGE_CRASH_LOOP_WINDOW_S * S));
  g_assert_cmpuint (rt->restarts, ==, LODGE_CRASH_LOOP_MAX + 1);
  g_assert_cmpuint (rt->n_recent_restarts, ==, LODGE_CRASH_LOOP_MAX);
  /* Long after, the old ones are forgotten. */
  g_assert_true (lodge_restart_count (rt, t0 + 10 * LODGE_CRASH_LOOP_WINDOW_S * S));
  g_assert_cmpuint (rt->n_recent_restarts, ==, 1);
}

static void
test_describe (void)
{
  for (int why = LODGE_STOP_NONE; why < LODGE_STOP_LAST; why++)
    g_assert_nonnull (lodge_restart_describe (why));
  g_assert_cmpstr (lodge_restart_describe (LODGE_STOP_CRASHED), ==,
                   "the guest crashed (or its QEMU was killed)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/restart/policy", test_policy);
  g_test_add_func ("/restart/crash-loop", test_crash_loop);
  g_test_add_func ("/restart/describe", test_describe);
  return g_test_run ();
}
