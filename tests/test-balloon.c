/* The node's memory policy (virt/lodge-balloon.h): what the agent asks of
 * each guest's balloon, from what they have and need. */
#include "lodge-balloon.h"

#define MIB (1ULL << 20)

static LodgeBalloonGuest *
guest (const char *name, guint64 floor_mib, guint64 ceiling_mib, guint64 actual_mib,
       guint64 usable_mib)
{
  LodgeBalloonGuest *g = g_new0 (LodgeBalloonGuest, 1);
  g->name = g_strdup (name);
  g->floor = floor_mib * MIB;
  g->ceiling = ceiling_mib * MIB;
  g->actual = actual_mib * MIB;
  g->usable = usable_mib == G_MAXUINT64 ? G_MAXUINT64 : usable_mib * MIB;
  return g;
}

static GPtrArray *
guests_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_balloon_guest_free);
}

static guint64
next_mib (GPtrArray *gs, guint i)
{
  return ((LodgeBalloonGuest *) gs->pdata[i])->next / MIB;
}

static void
test_pressure_grows_within_budget (void)
{
  g_autoptr (GPtrArray) gs = guests_new ();
  g_ptr_array_add (gs, guest ("hog", 128, 1536, 128, 4));     /* under pressure */
  g_ptr_array_add (gs, guest ("calm", 64, 256, 64, 30));      /* neither */
  g_assert_cmpuint (lodge_balloon_plan (gs, 1024 * MIB), ==, 1);
  g_assert_cmpuint (next_mib (gs, 0), ==, 128 + 64); /* at least the minimum step */
  g_assert_cmpuint (next_mib (gs, 1), ==, 64);
  g_assert_cmpstr (((LodgeBalloonGuest *) gs->pdata[0])->why, ==, "under memory pressure");
  g_assert_null (((LodgeBalloonGuest *) gs->pdata[1])->why);

  /* Half of what it has, once that is more than the step... */
  LodgeBalloonGuest *hog = gs->pdata[0];
  hog->actual = 400 * MIB, hog->usable = 10 * MIB;
  lodge_balloon_plan (gs, 1024 * MIB);
  g_assert_cmpuint (next_mib (gs, 0), ==, 600);
  /* ... never more than the node has left (1024 - 64 - 900)... */
  hog->actual = 900 * MIB;
  lodge_balloon_plan (gs, 1024 * MIB);
  g_assert_cmpuint (next_mib (gs, 0), ==, 960);
  /* ... nothing when it has nothing left... */
  hog->actual = 960 * MIB;
  g_assert_cmpuint (lodge_balloon_plan (gs, 1024 * MIB), ==, 0);
  g_assert_cmpuint (next_mib (gs, 0), ==, 960);
  /* ... and never above the guest's ceiling. */
  hog->actual = 1500 * MIB;
  lodge_balloon_plan (gs, 8192 * MIB);
  g_assert_cmpuint (next_mib (gs, 0), ==, 1536);
}

static void
test_over_budget_most_grown_first (void)
{
  g_autoptr (GPtrArray) gs = guests_new ();
  g_ptr_array_add (gs, guest ("a", 128, 1024, 512, 1));  /* grown by 384, busy */
  g_ptr_array_add (gs, guest ("b", 128, 1024, 256, 1));  /* grown by 128, busy */
  g_ptr_array_add (gs, guest ("c", 256, 256, 256, 1));   /* at its floor */
  /* 1024 in use, 800 to spare: a gives 224 back, b and c nothing. */
  g_assert_cmpuint (lodge_balloon_plan (gs, 800 * MIB), ==, 1);
  g_assert_cmpuint (next_mib (gs, 0), ==, 288);
  g_assert_cmpuint (next_mib (gs, 1), ==, 256);
  g_assert_cmpuint (next_mib (gs, 2), ==, 256);
  /* Far over: every grown guest down to its floor, never below. */
  g_assert_cmpuint (lodge_balloon_plan (gs, 100 * MIB), ==, 2);
  g_assert_cmpuint (next_mib (gs, 0), ==, 128);
  g_assert_cmpuint (next_mib (gs, 1), ==, 128);
  g_assert_cmpuint (next_mib (gs, 2), ==, 256);
  g_assert_cmpstr (((LodgeBalloonGuest *) gs->pdata[0])->why, ==, "the node is over its memory");
}

static void
test_idle_gives_back (void)
{
  g_autoptr (GPtrArray) gs = guests_new ();
  g_ptr_array_add (gs, guest ("idle", 128, 1024, 600, 400));
  g_ptr_array_add (gs, guest ("low", 128, 1024, 160, 150));
  g_ptr_array_add (gs, guest ("floor", 128, 1024, 128, 120));
  g_assert_cmpuint (lodge_balloon_plan (gs, 4096 * MIB), ==, 2);
  g_assert_cmpuint (next_mib (gs, 0), ==, 400); /* half of its 400 unused */
  g_assert_cmpuint (next_mib (gs, 1), ==, 128); /* not below its floor */
  g_assert_cmpuint (next_mib (gs, 2), ==, 128);
  g_assert_cmpstr (((LodgeBalloonGuest *) gs->pdata[0])->why, ==, "idle");
}

/* A booting guest whose balloon is still moving counts more usable memory
 * than it has: it is not shrunk for it (the 531 -> 72 MiB of a 1 GiB
 * guest that then ran out of memory while booting). */
static void
test_balloon_in_motion_not_idle (void)
{
  g_autoptr (GPtrArray) gs = guests_new ();
  g_ptr_array_add (gs, guest ("booting", 64, 1024, 531, 918));
  g_assert_cmpuint (lodge_balloon_plan (gs, 4096 * MIB), ==, 0);
  g_assert_cmpuint (next_mib (gs, 0), ==, 531);
  g_assert_null (((LodgeBalloonGuest *) gs->pdata[0])->why);
  /* Once its numbers agree, the idle rule applies as before. */
  ((LodgeBalloonGuest *) gs->pdata[0])->usable = 500 * MIB;
  g_assert_cmpuint (lodge_balloon_plan (gs, 4096 * MIB), ==, 1);
  g_assert_cmpuint (next_mib (gs, 0), ==, 281);
}

static void
test_unknown_stats_no_growth (void)
{
  g_autoptr (GPtrArray) gs = guests_new ();
  g_ptr_array_add (gs, guest ("booting", 128, 1024, 128, G_MAXUINT64));
  g_ptr_array_add (gs, guest ("grown", 128, 1024, 512, G_MAXUINT64));
  g_assert_cmpuint (lodge_balloon_plan (gs, 4096 * MIB), ==, 0);
  /* ... but it gives back when the node is over. */
  g_assert_cmpuint (lodge_balloon_plan (gs, 512 * MIB), ==, 1);
  g_assert_cmpuint (next_mib (gs, 1), ==, 384);
}

/* Whatever the guests say: no target below a floor or above a ceiling,
 * and a node within its budget stays within it. */
static void
test_invariants (void)
{
  GRand *rand = g_rand_new_with_seed (20261207);
  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr (GPtrArray) gs = guests_new ();
      guint n = g_rand_int_range (rand, 1, 8);
      guint64 sum = 0, floors = 0;
      for (guint i = 0; i < n; i++)
        {
          guint64 floor = g_rand_int_range (rand, 32, 512);
          guint64 ceiling = floor + g_rand_int_range (rand, 0, 2048);
          guint64 actual = floor + g_rand_int_range (rand, 0, (gint32) (ceiling - floor + 1));
          guint64 usable = g_rand_boolean (rand) ? G_MAXUINT64 : (guint64) g_rand_int_range (rand, 0, (gint32) actual + 1);
          g_autofree char *name = g_strdup_printf ("g%u", i);
          g_ptr_array_add (gs, guest (name, floor, ceiling, actual, usable));
          sum += actual, floors += floor;
        }
      guint64 budget = (guint64) g_rand_int_range (rand, (gint32) floors, (gint32) floors + 4096) * MIB;
      lodge_balloon_plan (gs, budget);
      guint64 next_sum = 0;
      for (guint i = 0; i < n; i++)
        {
          LodgeBalloonGuest *g = gs->pdata[i];
          g_assert_cmpuint (g->next, >=, g->floor);
          g_assert_cmpuint (g->next, <=, g->ceiling);
          g_assert_true ((g->next != g->actual) == (g->why != NULL));
          next_sum += g->next;
        }
      if (sum * MIB <= budget)
        g_assert_cmpuint (next_sum, <=, budget);
      else
        g_assert_cmpuint (next_sum, <=, MAX (budget, floors * MIB) + n * MIB);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/balloon/pressure-grows-within-budget", test_pressure_grows_within_budget);
  g_test_add_func ("/balloon/over-budget-most-grown-first", test_over_budget_most_grown_first);
  g_test_add_func ("/balloon/idle-gives-back", test_idle_gives_back);
  g_test_add_func ("/balloon/in-motion-not-idle", test_balloon_in_motion_not_idle);
  g_test_add_func ("/balloon/unknown-stats-no-growth", test_unknown_stats_no_growth);
  g_test_add_func ("/balloon/invariants", test_invariants);
  return g_test_run ();
}
