/* The libvirt wrapper against libvirt's test driver (test:///default):
 * a unit test; the real libvirtd nodes are exercised by the integration
 * tests. */
#include <string.h>

#include "lodge-domain.h"
#include "lodge-libvirt.h"
#include "lodge-libvirt-private.h"

static char *
web_domain_xml (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", "web.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);
  g_free (def->name);
  def->name = g_strdup (name);
  g_autoptr (LodgePlacement) p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  char *xml = lodge_domain_xml_generate (def, p, &error);
  g_assert_no_error (error);
  return xml;
}

static void
test_lifecycle (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open ("test:///default", &error);
  g_assert_no_error (error);

  g_autofree char *xml = web_domain_xml ("ve-one");
  g_assert_true (lodge_libvirt_define_and_start (lv, xml, &error));
  g_assert_no_error (error);
  LodgeDomainState state = LODGE_DOMAIN_STATE_LAST;
  g_assert_true (lodge_libvirt_state (lv, "ve-one", &state, &error));
  g_assert_cmpint (state, ==, LODGE_DOMAIN_STATE_RUNNING);
  g_autoptr (GPtrArray) names = lodge_libvirt_list (lv, &error);
  g_assert_true (g_ptr_array_find_with_equal_func (names, "ve-one", g_str_equal, NULL));

  /* Running: not undefined. */
  g_assert_false (lodge_libvirt_undefine (lv, "ve-one", &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE);
  g_clear_error (&error);

  gboolean forced = TRUE;
  g_assert_true (lodge_libvirt_shutdown (lv, "ve-one", 10, TRUE, &forced, &error));
  g_assert_no_error (error);
  g_assert_false (forced);
  g_assert_true (lodge_libvirt_state (lv, "ve-one", &state, &error));
  g_assert_cmpint (state, ==, LODGE_DOMAIN_STATE_SHUTOFF);
  /* Shutting down a stopped domain, or destroying it, is fine. */
  g_assert_true (lodge_libvirt_shutdown (lv, "ve-one", 1, FALSE, NULL, &error));
  g_assert_true (lodge_libvirt_destroy (lv, "ve-one", &error));
  g_assert_true (lodge_libvirt_undefine (lv, "ve-one", &error));
  g_assert_no_error (error);
  g_assert_false (lodge_libvirt_state (lv, "ve-one", &state, &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "test:///default: domain ve-one"));
}

static gboolean
guard (gpointer data, GError **error)
{
  const gboolean *refuse = data;
  if (*refuse)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "the lease lapsed");
  return !*refuse;
}

/* The action guard (a controller whose lease lapsed) refuses every change
 * to a domain before libvirt sees it, with its reason; reads go on. */
static void
test_guard (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open ("test:///default", &error);
  g_assert_no_error (error);
  g_autofree char *xml = web_domain_xml ("ve-guard");
  gboolean refuse = TRUE;
  lodge_libvirt_set_action_guard (guard, &refuse);

  g_assert_false (lodge_libvirt_define_and_start (lv, xml, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (error->message, ==, "test:///default: not starting ve-guard: the lease lapsed");
  g_clear_error (&error);
  LodgeDomainState state = LODGE_DOMAIN_STATE_LAST;
  g_assert_false (lodge_libvirt_state (lv, "ve-guard", &state, &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  refuse = FALSE;
  g_assert_true (lodge_libvirt_define_and_start (lv, xml, &error));
  g_assert_no_error (error);
  g_assert_true (lodge_libvirt_is_lodge_domain (lv, "ve-guard"));
  refuse = TRUE;
  g_assert_false (lodge_libvirt_destroy (lv, "ve-guard", &error));
  g_assert_nonnull (strstr (error->message, "not destroying ve-guard: the lease lapsed"));
  g_clear_error (&error);
  g_assert_false (lodge_libvirt_shutdown (lv, "ve-guard", 0, TRUE, NULL, &error));
  g_clear_error (&error);
  g_assert_false (lodge_libvirt_undefine (lv, "ve-guard", &error));
  g_clear_error (&error);
  g_assert_false (lodge_libvirt_migrate (lv, "ve-guard", "test:///default", NULL, NULL, 0, 1, NULL,
                                         NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "not migrating ve-guard"));
  g_clear_error (&error);
  g_assert_true (lodge_libvirt_state (lv, "ve-guard", &state, &error));
  g_assert_cmpint (state, ==, LODGE_DOMAIN_STATE_RUNNING);

  refuse = FALSE;
  g_assert_true (lodge_libvirt_destroy (lv, "ve-guard", &error));
  g_assert_true (lodge_libvirt_undefine (lv, "ve-guard", &error));
  g_assert_no_error (error);
  lodge_libvirt_set_action_guard (NULL, NULL);
  /* A domain without Lodge's metadata, or none at all, is not a VE's. */
  g_assert_false (lodge_libvirt_is_lodge_domain (lv, "ve-guard"));
  g_assert_false (lodge_libvirt_is_lodge_domain (lv, "test"));
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open ("test:///default", &error);
  g_assert_no_error (error);

  /* XML libvirt refuses: an error, and nothing defined. */
  g_assert_false (lodge_libvirt_define_and_start (lv, "<domain type='qemu'><name>bad</name></domain>", &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "cannot define domain bad"));
  g_clear_error (&error);
  LodgeDomainState state;
  g_assert_false (lodge_libvirt_state (lv, "bad", &state, &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (lodge_libvirt_destroy (lv, "nonexistent", &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (LodgeLibvirt) none = lodge_libvirt_open ("qemu+tcp://127.0.0.1:1/system", &error);
  g_assert_null (none);
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system"));
}

/* A qemu+tls:// URI takes its client certificate from
 * $LODGE_LIBVIRT_PKIPATH when set: libvirt looks for the CA there (and
 * fails before it connects, naming the file), not in /etc/pki. */
static void
test_pkipath (void)
{
  g_autoptr (GError) error = NULL;
  g_setenv ("LODGE_LIBVIRT_PKIPATH", "/nonexistent/lodge-pki", TRUE);
  g_autoptr (LodgeLibvirt) none = lodge_libvirt_open ("qemu+tls://127.0.0.1:1/system", &error);
  g_unsetenv ("LODGE_LIBVIRT_PKIPATH");
  g_assert_null (none);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/lodge-pki/cacert.pem"));
  /* And the URI in the message is the one asked for. */
  g_assert_nonnull (strstr (error->message, "at qemu+tls://127.0.0.1:1/system:"));
  g_clear_error (&error);
  /* One that names its own pkipath keeps it. */
  g_setenv ("LODGE_LIBVIRT_PKIPATH", "/nonexistent/lodge-pki", TRUE);
  g_autoptr (LodgeLibvirt) own
    = lodge_libvirt_open ("qemu+tls://127.0.0.1:1/system?pkipath=/nonexistent/own", &error);
  g_unsetenv ("LODGE_LIBVIRT_PKIPATH");
  g_assert_null (own);
  g_assert_nonnull (strstr (error->message, "/nonexistent/own/cacert.pem"));
}

/* The test driver has no secrets: storing a key is exercised against the
 * nodes' libvirtds in the integration tests; a bad key is refused before
 * libvirt is asked. */
static void
test_secret_bad_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open ("test:///default", &error);
  g_assert_no_error (error);
  g_assert_false (lodge_libvirt_set_ceph_secret (lv, "2a5b7c9d-1e3f-4a6b-8c0d-2e4f6a8b0c1d",
                                                 "lodge", "!!!", &error));
  g_assert_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "the Ceph key of client.lodge is not base64");
}

typedef struct {
  GMutex lock;
  GCond cond;
  GPtrArray *events;
} Events;

static void
on_event (const char *domain, LodgeDomainState state, gboolean gone, gpointer user_data)
{
  Events *e = user_data;
  g_mutex_lock (&e->lock);
  g_ptr_array_add (e->events, g_strdup_printf ("%s %s%s", domain, lodge_domain_state_to_string (state),
                                               gone ? " gone" : ""));
  g_cond_broadcast (&e->cond);
  g_mutex_unlock (&e->lock);
}

static gboolean
wait_event (Events *e, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gboolean found = FALSE;
  g_mutex_lock (&e->lock);
  while (!(found = g_ptr_array_find_with_equal_func (e->events, what, g_str_equal, NULL)))
    if (!g_cond_wait_until (&e->cond, &e->lock, deadline))
      break;
  g_mutex_unlock (&e->lock);
  return found;
}

/* Lifecycle events arrive without polling. */
static void
test_events (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open ("test:///default", &error);
  g_assert_no_error (error);
  Events e = { .events = g_ptr_array_new_with_free_func (g_free) };
  g_mutex_init (&e.lock);
  g_cond_init (&e.cond);
  int handle = lodge_libvirt_watch (lv, on_event, &e, &error);
  g_assert_no_error (error);

  g_autofree char *xml = web_domain_xml ("ve-events");
  g_assert_true (lodge_libvirt_define_and_start (lv, xml, &error));
  if (!wait_event (&e, "ve-events running"))
    g_test_fail_printf ("no 'running' event within 10 s");
  g_assert_true (lodge_libvirt_destroy (lv, "ve-events", &error));
  if (!wait_event (&e, "ve-events shutoff"))
    g_test_fail_printf ("no 'shutoff' event within 10 s");
  g_assert_true (lodge_libvirt_undefine (lv, "ve-events", &error));
  if (!wait_event (&e, "ve-events shutoff gone"))
    g_test_fail_printf ("no 'undefined' event within 10 s");
  lodge_libvirt_unwatch (lv, handle);
  g_ptr_array_unref (e.events);
  g_mutex_clear (&e.lock);
  g_cond_clear (&e.cond);
}

static void
test_state_names (void)
{
  for (int i = 0; i < LODGE_DOMAIN_STATE_LAST; i++)
    g_assert_cmpint (lodge_domain_state_from_string (lodge_domain_state_to_string (i)), ==, i);
}

/* A guest agent operation's calls share its deadline: each waits what is
 * left (whole seconds, at least 1, at most the cap), none starts after it,
 * so an agent answering every call just in time cannot stretch it. */
static void
test_agent_call_timeout (void)
{
  const gint64 s = G_USEC_PER_SEC;
  g_assert_cmpuint (lodge_agent_call_timeout (0, 30 * s, 10), ==, 10);
  g_assert_cmpuint (lodge_agent_call_timeout (25 * s, 30 * s, 10), ==, 5);
  g_assert_cmpuint (lodge_agent_call_timeout (29 * s + 1, 30 * s, 10), ==, 1);
  g_assert_cmpuint (lodge_agent_call_timeout (30 * s - 1, 30 * s, 10), ==, 1);
  g_assert_cmpuint (lodge_agent_call_timeout (30 * s, 30 * s, 10), ==, 0);
  g_assert_cmpuint (lodge_agent_call_timeout (31 * s, 30 * s, 10), ==, 0);
  g_assert_cmpuint (lodge_agent_call_timeout (0, 3 * s, 0), ==, 1);
  /* The trickle: a call answered after 9 s each time. The sum of
   * what the calls may wait never passes the operation's bound. */
  gint64 now = 0, deadline = 30 * s;
  guint calls = 0;
  for (guint t; (t = lodge_agent_call_timeout (now, deadline, 10)) > 0; calls++)
    now += MIN ((gint64) t * s, 9 * s);
  g_assert_cmpint (now, <=, deadline + s);
  g_assert_cmpuint (calls, <=, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/libvirt/lifecycle", test_lifecycle);
  g_test_add_func ("/libvirt/errors", test_errors);
  g_test_add_func ("/libvirt/guard", test_guard);
  g_test_add_func ("/libvirt/secret-bad-key", test_secret_bad_key);
  g_test_add_func ("/libvirt/pkipath", test_pkipath);
  g_test_add_func ("/libvirt/events", test_events);
  g_test_add_func ("/libvirt/state-names", test_state_names);
  g_test_add_func ("/libvirt/agent-call-timeout", test_agent_call_timeout);
  return g_test_run ();
}
