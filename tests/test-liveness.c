/* Node liveness on the controller's own monotonic clock: only changes of
 * the heartbeat value count, never its distance from the controller's wall
 * clock. */
#include "lodge-liveness.h"

#define S ((gint64) G_USEC_PER_SEC)

static void
test_silence (void)
{
  g_autoptr (LodgeLiveness) l = lodge_liveness_new ();
  /* First sight: a full grace period from now, whatever the value says. */
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 1000 * S, 50 * S), ==, 0);
  /* The same value later: silent for that long. */
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 1000 * S, 52 * S), ==, 2 * S);
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 1000 * S, 54 * S), ==, 4 * S);
  /* A new value: a heartbeat. */
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 1001 * S, 55 * S), ==, 0);
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 1001 * S, 58 * S), ==, 3 * S);
  /* Nodes are apart. */
  g_assert_cmpint (lodge_liveness_observe (l, "node2", 7, 58 * S), ==, 0);
}

static void
test_skewed_clocks (void)
{
  /* The agent's clock 60 s behind, or ahead, of anything: heartbeats one
   * second apart are heartbeats one second apart. */
  const gint64 offsets[] = { -60 * S, 60 * S, -3600 * S };
  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autoptr (LodgeLiveness) l = lodge_liveness_new ();
      gint64 wall = 1795655920 * S + offsets[i];
      for (int t = 0; t < 10; t++)
        g_assert_cmpint (lodge_liveness_observe (l, "node1", wall + t * S, 100 * S + t * S), ==, 0);
      /* Then it stops: silent from the last change on. */
      g_assert_cmpint (lodge_liveness_observe (l, "node1", wall + 9 * S, 113 * S), ==, 4 * S);
    }
}

static void
test_clock_stepped_back (void)
{
  g_autoptr (LodgeLiveness) l = lodge_liveness_new ();
  lodge_liveness_observe (l, "node1", 5000 * S, 10 * S);
  /* NTP stepped the agent's clock back: still a new value, still alive. */
  g_assert_cmpint (lodge_liveness_observe (l, "node1", 4000 * S, 12 * S), ==, 0);
}

static void
test_written_after (void)
{
  g_autoptr (LodgeLiveness) l = lodge_liveness_new ();
  g_assert_false (lodge_liveness_written_after (l, "node1", 0));
  lodge_liveness_observe (l, "node1", 1, 10 * S);
  lodge_liveness_observe (l, "node1", 1, 12 * S);
  /* Seen since this controller started only: it may be older than anything. */
  g_assert_false (lodge_liveness_written_after (l, "node1", 0));
  /* It changes between the observations at 12 s and 13 s: written after
   * 12 s, and nothing more is known. */
  lodge_liveness_observe (l, "node1", 2, 13 * S);
  g_assert_true (lodge_liveness_written_after (l, "node1", 11 * S));
  g_assert_true (lodge_liveness_written_after (l, "node1", 12 * S));
  g_assert_false (lodge_liveness_written_after (l, "node1", 12 * S + 1));
  /* Unchanged later observations say nothing newer. */
  lodge_liveness_observe (l, "node1", 2, 20 * S);
  g_assert_false (lodge_liveness_written_after (l, "node1", 15 * S));
  lodge_liveness_observe (l, "node1", 3, 21 * S);
  g_assert_true (lodge_liveness_written_after (l, "node1", 20 * S));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/liveness/silence", test_silence);
  g_test_add_func ("/liveness/skewed-clocks", test_skewed_clocks);
  g_test_add_func ("/liveness/clock-stepped-back", test_clock_stepped_back);
  g_test_add_func ("/liveness/written-after", test_written_after);
  return g_test_run ();
}
