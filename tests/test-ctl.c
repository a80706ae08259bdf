/* The operations in flight on VEs (lodge-ctl.h): one per VE, typed, named
 * in the busy errors as before ("repair write", "app configure site"); the
 * lifecycle actions the API offers and the operation each runs as. No
 * store is touched. */
#include "lodge-addresses.h"
#include "lodge-ctl.h"
#include "lodge-services.h"
#include "lodge-storage-error.h"

static void
test_ops (void)
{
  g_autoptr (LodgeCtl) ctl = lodge_ctl_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_ctl_try_begin (ctl, "web", LODGE_OP_REPAIR, "write", &error));
  g_assert_no_error (error);
  g_assert_true (lodge_ctl_is_busy (ctl, "web"));
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_START, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_assert_cmpstr (error->message, ==,
                   "environment web is busy (repair write); try again when that is done");
  g_clear_error (&error);
  g_assert_false (lodge_ctl_begin (ctl, "web", LODGE_OP_START, 0, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_assert_cmpstr (error->message, ==,
                   "a repair write of web is still in progress after 0 s; try again later");
  g_clear_error (&error);
  /* Another VE is free; the reconciler asks without an error. */
  g_assert_true (lodge_ctl_try_begin (ctl, "db", LODGE_OP_APP_CONFIGURE, "site", NULL));
  g_assert_false (lodge_ctl_try_begin (ctl, "db", LODGE_OP_RECONCILE, NULL, NULL));
  g_assert_false (lodge_ctl_try_begin (ctl, "db", LODGE_OP_RECONCILE, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "environment db is busy (app configure site); try again when that is done");
  g_clear_error (&error);
  lodge_ctl_end (ctl, "web");
  g_assert_false (lodge_ctl_is_busy (ctl, "web"));
  g_assert_true (lodge_ctl_begin (ctl, "web", LODGE_OP_MIGRATE, 0, &error));
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_STOP, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "environment web is busy (migrate); try again when that is done");
}

typedef struct {
  LodgeCtl *ctl;
  const char *name;
} Release;

static gpointer
release_later (gpointer data)
{
  Release *r = data;
  /* Not a wait for an event: the reconciler's look, held this long. */
  g_usleep (300 * 1000);
  lodge_ctl_end (r->ctl, r->name);
  return NULL;
}

/* A user's operation waits for the reconciler's look at the VE to end,
 * where another operation refuses it at once. */
static void
test_waits_for_reconciler (void)
{
  g_autoptr (LodgeCtl) ctl = lodge_ctl_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_ctl_try_begin (ctl, "web", LODGE_OP_RECONCILE, NULL, NULL));
  /* The reconciler does not wait for itself. */
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_RECONCILE, NULL, NULL));
  Release r = { ctl, "web" };
  GThread *t = g_thread_new ("release", release_later, &r);
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (lodge_ctl_try_begin (ctl, "web", LODGE_OP_REPAIR, "write", &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 250 * 1000);
  g_thread_join (t);
  /* Now the repair holds it: no waiting. */
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_APP_CONFIGURE, "site", &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
}

static void
test_names (void)
{
  const char *ops[] = { "start", "stop", "restart", "migrate", "failover", "reconciliation",
                        "repair", "repair shell", "app configure" };
  G_STATIC_ASSERT (G_N_ELEMENTS (ops) == LODGE_OP_LAST);
  for (int i = 0; i < LODGE_OP_LAST; i++)
    {
      g_assert_cmpstr (lodge_op_to_string (i), ==, ops[i]);
      g_assert_cmpint (lodge_op_from_string (ops[i]), ==, i);
    }
  const char *actions[] = { "start", "stop", "restart", "migrate" };
  G_STATIC_ASSERT (G_N_ELEMENTS (actions) == LODGE_LIFECYCLE_ACTION_LAST);
  for (int i = 0; i < LODGE_LIFECYCLE_ACTION_LAST; i++)
    {
      g_assert_cmpint (lodge_lifecycle_action_from_string (actions[i]), ==, i);
      /* The operation in flight is named as the action. */
      g_assert_cmpstr (lodge_op_to_string (lodge_lifecycle_action_op (i)), ==, actions[i]);
    }
  g_assert_cmpint (lodge_lifecycle_action_from_string ("status"), ==, -1);
  g_assert_cmpint (lodge_lifecycle_action_from_string ("repair"), ==, -1);
}

/* The store names of a definition's addresses: each MAC (given or
 * derived), each IPv4 and IPv6 address, with how a message shows them. */
static void
test_address_names (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", "maximal.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) shown = NULL;
  g_autoptr (GPtrArray) names = lodge_addresses_of (def, &shown);
  g_autofree char *joined = NULL;
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (" ", (char **) names->pdata);
  g_assert_cmpstr (joined, ==,
                   "mac-525400123456 ip4-192.0.2.20 ip6-20010db8000000000000000000000020 "
                   "mac-52549df602be ip4-198.51.100.20");
  g_assert_cmpuint (shown->len, ==, 5);
  g_assert_cmpstr (shown->pdata[0], ==, "MAC 52:54:00:12:34:56 (eth0)");
  g_assert_cmpstr (shown->pdata[2], ==, "2001:db8::20 (eth0)");
  /* Every name is one the store takes. */
  for (guint i = 0; names->pdata[i] != NULL; i++)
    g_assert_true (lodge_storage_check_name (names->pdata[i], "address", NULL));
}

typedef struct {
  LodgeCtl *ctl;
  gboolean begun;
  GError *error;
} Stopper;

static gpointer
stop_thread (gpointer data)
{
  Stopper *st = data;
  st->begun = lodge_ctl_begin (st->ctl, "web", LODGE_OP_STOP, 30, &st->error);
  return NULL;
}

/* Guest work yields: a stop that waits for the VE cancels it, and begins
 * as soon as it ends; an operation that only tries is refused as before. */
static void
test_guest_yields (void)
{
  g_autoptr (LodgeCtl) ctl = lodge_ctl_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) yields =
    lodge_ctl_try_begin_guest (ctl, "web", LODGE_OP_APP_CONFIGURE, "site", &error);
  g_assert_no_error (error);
  g_assert_nonnull (yields);
  g_assert_null (lodge_ctl_try_begin_guest (ctl, "web", LODGE_OP_APP_CONFIGURE, "db", &error));
  g_assert_cmpstr (error->message, ==,
                   "environment web is busy (app configure site); try again when that is done");
  g_clear_error (&error);
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_REPAIR, "write", NULL));
  g_assert_false (g_cancellable_is_cancelled (yields));

  Stopper st = { ctl, FALSE, NULL };
  GThread *t = g_thread_new ("stop", stop_thread, &st);
  /* The guest work sees the cancellation (at its next agent call). */
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (!g_cancellable_is_cancelled (yields) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_assert_true (g_cancellable_is_cancelled (yields));
  lodge_ctl_end (ctl, "web");
  g_thread_join (t);
  g_assert_no_error (st.error);
  g_assert_true (st.begun);
  g_assert_false (lodge_ctl_try_begin (ctl, "web", LODGE_OP_START, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "environment web is busy (stop); try again when that is done");
  lodge_ctl_end (ctl, "web");

  /* A plain operation is not cancelled: the wait times out. */
  g_clear_error (&error);
  g_assert_true (lodge_ctl_try_begin (ctl, "web", LODGE_OP_REPAIR, "write", NULL));
  g_assert_false (lodge_ctl_begin (ctl, "web", LODGE_OP_STOP, 0, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/ops", test_ops);
  g_test_add_func ("/ctl/guest-yields", test_guest_yields);
  g_test_add_func ("/ctl/waits-for-reconciler", test_waits_for_reconciler);
  g_test_add_func ("/ctl/names", test_names);
  g_test_add_func ("/ctl/address-names", test_address_names);
  return g_test_run ();
}
