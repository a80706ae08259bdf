/* The monitors' quorum as "quorum_status" says it (Ceph 16's words), and
 * answers that are not one. */
#include <string.h>

#include "lodge-ceph-health.h"

static void
test_members (void)
{
  g_autoptr (GError) error = NULL;
  const char *three = "{\"election_epoch\": 7, \"quorum\": [0, 1, 2], "
                      "\"quorum_names\": [\"a\", \"b\", \"c\"], \"quorum_leader_name\": \"a\"}";
  g_autofree char *m = lodge_ceph_quorum_members (three, strlen (three), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (m, ==, "a,b,c");

  const char *none = "{\"quorum\": [], \"quorum_names\": []}";
  g_autofree char *empty = lodge_ceph_quorum_members (none, strlen (none), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (empty, ==, "");
}

static void
test_garbage (void)
{
  const char *bad[] = { "", "[]", "{}", "{\"quorum_names\": \"a\"}", "{\"quorum_names\": [1]}", "{" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *m = lodge_ceph_quorum_members (bad[i], strlen (bad[i]), &error);
      g_assert_null (m);
      g_assert_nonnull (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ceph-health/members", test_members);
  g_test_add_func ("/ceph-health/garbage", test_garbage);
  return g_test_run ();
}
