/* controller/lodge-join and lodge-cluster-init: the caps a node identity
 * gets are exactly what the controllers' right to make node identities
 * allows (the monitor's constraints, read back from the caps string). */
#include <string.h>
#include <glib.h>

#include "lodge-cluster-init.h"
#include "lodge-join.h"

/* The value of constraint @arg in the controllers' mon caps: after
 * '@arg=' (exact) or '@arg regex ' (a pattern), quoted. */
static char *
constraint (const char *mon_caps, const char *arg, gboolean *ret_regex)
{
  g_autofree char *exact = g_strdup_printf (" %s=\"", arg);
  g_autofree char *regex = g_strdup_printf (" %s regex \"", arg);
  const char *at = strstr (mon_caps, exact);
  *ret_regex = at == NULL;
  if (at == NULL)
    at = strstr (mon_caps, regex);
  g_assert_nonnull (at);
  at += strlen (*ret_regex ? regex : exact);
  const char *end = strchr (at, '"');
  g_assert_nonnull (end);
  return g_strndup (at, (gsize) (end - at));
}

static const char *
cap_of (GStrv caps, const char *type)
{
  for (guint i = 0; caps[i] != NULL && caps[i + 1] != NULL; i += 2)
    if (strcmp (caps[i], type) == 0)
      return caps[i + 1];
  return NULL;
}

static void
test_node_caps_allowed (void)
{
  g_auto (GStrv) ctl = lodge_cluster_controller_caps ();
  const char *mon = cap_of (ctl, "mon");
  g_assert_nonnull (strstr (mon, "allow command \"auth get-or-create\" with entity prefix client.lodge-"));
  const char *names[] = { "node4", "n", "rack2.node-17_b" };
  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_auto (GStrv) node = lodge_join_node_caps (names[n]);
      g_assert_cmpuint (g_strv_length (node), ==, 8); /* every type, so that each is pinned */
      const char *types[] = { "mon", "osd", "mgr", "mds" };
      for (guint t = 0; t < G_N_ELEMENTS (types); t++)
        {
          g_autofree char *arg = g_strdup_printf ("caps_%s", types[t]);
          gboolean is_regex = FALSE;
          g_autofree char *want = constraint (mon, arg, &is_regex);
          const char *got = cap_of (node, types[t]);
          g_assert_nonnull (got);
          if (is_regex)
            g_assert_true (g_regex_match_simple (want, got, 0, 0));
          else
            g_assert_cmpstr (got, ==, want);
        }
    }
}

/* The pattern lets through only a node's caps: not a wider grant spliced
 * in where the name goes. */
static void
test_caps_regex_anchored (void)
{
  g_auto (GStrv) ctl = lodge_cluster_controller_caps ();
  gboolean is_regex = FALSE;
  g_autofree char *re = constraint (cap_of (ctl, "mon"), "caps_osd", &is_regex);
  g_assert_true (is_regex);
  g_auto (GStrv) node = lodge_join_node_caps ("node4");
  const char *osd = cap_of (node, "osd");
  g_autofree char *widened = g_strconcat (osd, ", allow rwx pool=lodge-state", NULL);
  g_assert_false (g_regex_match_simple (re, widened, 0, 0));
  g_autofree char *prefixed = g_strconcat ("allow *, ", osd, NULL);
  g_assert_false (g_regex_match_simple (re, prefixed, 0, 0));
  g_autofree char *spliced = g_strdup (osd);
  char *at = strstr (spliced, "object_prefix node4");
  g_assert_nonnull (at);
  g_autofree char *with_space = g_strdup_printf ("%.*sobject_prefix node4 allow%s", (int) (at - spliced), spliced,
                                                 at + strlen ("object_prefix node4"));
  g_assert_false (g_regex_match_simple (re, with_space, 0, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/join/node-caps-allowed", test_node_caps_allowed);
  g_test_add_func ("/join/caps-regex-anchored", test_caps_regex_anchored);
  return g_test_run ();
}
