/* Placement with memory overcommit: a pure function, no cluster. */
#include <string.h>

#include "lodge-error.h"
#include "lodge-scheduler.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static LodgeSchedVe
ve (const char *name, const char *node, guint vcpus, guint64 memory, guint64 current)
{
  return (LodgeSchedVe) { name, node, vcpus, memory, current };
}

static void
test_spread (void)
{
  LodgeSchedNode nodes[] = {
    { "node1", LODGE_NODE_UP, 4, 4 * GiB, 2.0, 4.0 },
    { "node2", LODGE_NODE_UP, 4, 4 * GiB, 2.0, 4.0 },
  };
  LodgeSchedVe placed[] = { ve ("a", "node1", 1, 1 * GiB, 512 * MiB) };
  LodgeSchedVe want = ve ("b", NULL, 1, 1 * GiB, 512 * MiB);
  g_autoptr (GError) error = NULL;
  g_assert_cmpstr (lodge_scheduler_place (nodes, 2, placed, 1, &want, NULL, &error), ==, "node2");
  /* Equal: the name decides. */
  g_assert_cmpstr (lodge_scheduler_place (nodes, 2, NULL, 0, &want, NULL, &error), ==, "node1");
  /* A VE of the same name (being restarted) does not count against it. */
  LodgeSchedVe again = ve ("a", NULL, 1, 1 * GiB, 512 * MiB);
  g_assert_cmpstr (lodge_scheduler_place (nodes, 2, placed, 1, &again, NULL, &error), ==, "node1");
  g_assert_no_error (error);
}

/* Guest memory may sum to twice a node's RAM under a 2.0 ratio; one VE
 * more is refused with the shortfall named. */
static void
test_overcommit (void)
{
  LodgeSchedNode node = { "node1", LODGE_NODE_UP, 8, 1 * GiB, 2.0, 4.0 };
  LodgeSchedVe placed[8];
  guint n = 0;
  g_autoptr (GError) error = NULL;
  for (guint i = 0; i < 4; i++)
    {
      LodgeSchedVe v = ve (g_strdup_printf ("ve%u", i), NULL, 1, 512 * MiB, 128 * MiB);
      const char *where = lodge_scheduler_place (&node, 1, placed, n, &v, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (where, ==, "node1");
      v.node = where;
      placed[n++] = v;
    }
  LodgeSchedVe fifth = ve ("ve4", NULL, 1, 512 * MiB, 128 * MiB);
  g_assert_null (lodge_scheduler_place (&node, 1, placed, n, &fifth, NULL, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_CAPACITY);
  g_assert_cmpstr (error->message, ==,
                   "no node can run ve4: node1 has 0 bytes of guest memory left under its 2.0x "
                   "overcommit (needs 512 MiB)");
  for (guint i = 0; i < n; i++)
    g_free ((char *) placed[i].name);
}

static void
test_committed_and_cpus (void)
{
  LodgeSchedNode node = { "node1", LODGE_NODE_UP, 2, 1 * GiB, 4.0, 1.0 };
  LodgeSchedVe placed[] = { ve ("a", "node1", 1, 1 * GiB, 768 * MiB) };
  g_autoptr (GError) error = NULL;
  LodgeSchedVe big = ve ("b", NULL, 1, 1 * GiB, 512 * MiB);
  g_assert_null (lodge_scheduler_place (&node, 1, placed, 1, &big, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "no node can run b: node1 has 256 MiB of RAM left to commit (needs 512 MiB)");
  g_clear_error (&error);
  LodgeSchedVe cpus = ve ("c", NULL, 2, 256 * MiB, 128 * MiB);
  g_assert_null (lodge_scheduler_place (&node, 1, placed, 1, &cpus, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "no node can run c: node1 has 1 vCPUs left under its 1.0x overcommit (needs 2)");
}

static void
test_unavailable_nodes (void)
{
  LodgeSchedNode nodes[] = {
    { "node1", LODGE_NODE_DOWN, 4, 4 * GiB, 2.0, 4.0 },
    { "node2", LODGE_NODE_DRAINING, 4, 4 * GiB, 2.0, 4.0 },
    { "node3", LODGE_NODE_FENCED, 4, 4 * GiB, 2.0, 4.0 },
    { "node4", LODGE_NODE_UP, 4, 4 * GiB, 2.0, 4.0 },
  };
  LodgeSchedVe v = ve ("web1", NULL, 1, 256 * MiB, 128 * MiB);
  g_autoptr (GError) error = NULL;
  g_assert_cmpstr (lodge_scheduler_place (nodes, 4, NULL, 0, &v, NULL, &error), ==, "node4");
  g_assert_null (lodge_scheduler_place (nodes, 4, NULL, 0, &v, "node4", &error));
  g_assert_cmpstr (error->message, ==,
                   "no node can run web1: node1 is down; node2 is draining; node3 is fenced; "
                   "node4 is the node it leaves");
  g_clear_error (&error);
  g_assert_null (lodge_scheduler_place (NULL, 0, NULL, 0, &v, NULL, &error));
  g_assert_cmpstr (error->message, ==, "no node can run web1: the cluster has no nodes");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/spread", test_spread);
  g_test_add_func ("/scheduler/overcommit", test_overcommit);
  g_test_add_func ("/scheduler/committed-and-cpus", test_committed_and_cpus);
  g_test_add_func ("/scheduler/unavailable-nodes", test_unavailable_nodes);
  return g_test_run ();
}
