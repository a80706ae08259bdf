/* What the leader publishes in its lease, and what a standby takes from
 * it for clients (controller/lodge-standby). */
#include "lodge-standby.h"

static void
test_round_trip (void)
{
  g_autofree char *d = lodge_leader_description ("ctl1", 4242, "http://10.0.0.5:8080");
  g_autofree char *url = lodge_leader_url (d);
  g_assert_cmpstr (url, ==, "http://10.0.0.5:8080");
  g_autofree char *none = lodge_leader_description ("ctl1", 4242, NULL);
  g_assert_null (lodge_leader_url (none));
}

static void
test_refused (void)
{
  const char *bad[] = {
    NULL,
    "",
    "lodged on ctl1, pid 4242", /* an older controller's */
    "{\"api\": 5}",
    "{\"api\": \"ftp://10.0.0.5/\"}",
    "{\"api\": \"http://10.0.0.5:8080\\r\\nSet-Cookie: x=1\"}", /* header injection */
    "{\"api\": \"http://\"}",
    "{not json",
    "[\"http://10.0.0.5\"]",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *url = lodge_leader_url (bad[i]);
      g_assert_null (url);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/standby/leader-url", test_round_trip);
  g_test_add_func ("/standby/refused", test_refused);
  return g_test_run ();
}
