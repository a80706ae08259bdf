/* The operations in flight on VEs (lodge-ctl.h): one per VE, typed, named
 * in the busy errors as before ("repair write", "app configure site"); the
 * lifecycle actions the API offers and the operation each runs as. No
 * store is touched. */
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/ops", test_ops);
  g_test_add_func ("/ctl/names", test_names);
  return g_test_run ();
}
