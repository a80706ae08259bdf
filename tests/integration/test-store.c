/* The state store and leases against a real Ceph cluster (run through
 * `tools/lodge-cluster exec`, which sets CEPH_CONF). Exits 77 when no
 * cluster is reachable. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-lease.h"
#include "lodge-storage-error.h"
#include "lodge-store.h"

#define TEST_POOL "lodge-test-state"

static LodgeRados *shared_rados;
static LodgeStore *shared_store;
static char *run_id; /* keeps record names of this run apart from earlier ones */

static LodgeRados *
connect_or_die (void)
{
  g_autoptr (LodgeCephConfig) config = lodge_ceph_config_new_default ();
  g_autoptr (GError) error = NULL;
  LodgeRados *rados = lodge_rados_connect (config, &error);
  g_assert_no_error (error);
  return rados;
}

static char *
record_name (const char *what)
{
  return g_strdup_printf ("%s-%s", what, run_id);
}

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
assert_value (GBytes *value, const char *expected)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (value, &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));
}

static void
test_crud (void)
{
  LodgeStore *store = shared_store;
  g_autofree char *name = record_name ("crud");
  g_autoptr (GError) error = NULL;
  guint64 v1 = 0, v2 = 0, v = 0;

  g_autoptr (GBytes) one = bytes ("<environment>one</environment>");
  g_autoptr (GBytes) two = bytes ("<environment>two</environment>");
  g_assert_true (lodge_store_create (store, LODGE_STORE_ENV, name, one, &v1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (v1, >, 0);

  g_assert_false (lodge_store_create (store, LODGE_STORE_ENV, name, two, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);

  g_autoptr (GBytes) got = lodge_store_get (store, LODGE_STORE_ENV, name, &v, &error);
  g_assert_no_error (error);
  assert_value (got, "<environment>one</environment>");
  g_assert_cmpuint (v, ==, v1);

  /* The same name in another kind is another record. */
  g_autoptr (GBytes) none = lodge_store_get (store, LODGE_STORE_RUNTIME, name, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (lodge_store_update (store, LODGE_STORE_ENV, name, v1, two, &v2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (v2, >, v1);

  /* A stale version loses and changes nothing. */
  g_autoptr (GBytes) three = bytes ("three");
  g_assert_false (lodge_store_update (store, LODGE_STORE_ENV, name, v1, three, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (lodge_store_delete (store, LODGE_STORE_ENV, name, v1, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_autoptr (GBytes) still = lodge_store_get (store, LODGE_STORE_ENV, name, &v, &error);
  assert_value (still, "<environment>two</environment>");
  g_assert_cmpuint (v, ==, v2);

  g_autoptr (GPtrArray) names = lodge_store_list (store, LODGE_STORE_ENV, &error);
  g_assert_no_error (error);
  g_assert_true (g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL));
  for (guint i = 0; i < names->len; i++)
    g_assert_cmpint (((char *) names->pdata[i])[0], !=, '_');

  g_assert_true (lodge_store_delete (store, LODGE_STORE_ENV, name, v2, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) gone = lodge_store_get (store, LODGE_STORE_ENV, name, NULL, &error);
  g_assert_null (gone);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (lodge_store_update (store, LODGE_STORE_ENV, name, v2, two, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
}

static void
test_large_value (void)
{
  g_autofree char *name = record_name ("large");
  g_autoptr (GError) error = NULL;
  gsize len = 300 * 1024; /* more than the first read */
  g_autofree char *data = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    data[i] = 'a' + i % 26;
  g_autoptr (GBytes) value = g_bytes_new (data, len);
  g_assert_true (lodge_store_create (shared_store, LODGE_STORE_OPERATION, name, value, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) got = lodge_store_get (shared_store, LODGE_STORE_OPERATION, name, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, value));

  gsize too_big = LODGE_STORE_MAX_VALUE + 1;
  g_autofree char *big = g_malloc0 (too_big);
  g_autoptr (GBytes) big_value = g_bytes_new (big, too_big);
  g_assert_false (lodge_store_update (shared_store, LODGE_STORE_OPERATION, name, 1, big_value, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  lodge_store_delete (shared_store, LODGE_STORE_OPERATION, name, 0, NULL);
}

static void
test_bad_names (void)
{
  const char *bad[] = { "../x", "", "a b", "_changes", ".hidden", "-x", "a/b", "x\n" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) v = bytes ("x");
      g_assert_false (lodge_store_create (shared_store, LODGE_STORE_ENV, bad[i], v, NULL, &error));
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "invalid record name"));
    }
  g_autofree char *long_name = g_strnfill (300, 'a');
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) v = bytes ("x");
  g_assert_false (lodge_store_create (shared_store, LODGE_STORE_ENV, long_name, v, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
}

/* Two writers, each its own RADOS client, increment one counter with
 * compare-and-set: every increment lands exactly once. */
typedef struct {
  const char *name;
  guint rounds;
  guint conflicts;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  g_autoptr (LodgeRados) rados = connect_or_die ();
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeStore) store = lodge_store_open (rados, TEST_POOL, &error);
  g_assert_no_error (error);

  for (guint done = 0; done < w->rounds;)
    {
      guint64 version = 0;
      g_autoptr (GBytes) cur = lodge_store_get (store, LODGE_STORE_RUNTIME, w->name, &version, &error);
      g_assert_no_error (error);
      g_autofree char *text = g_strndup (g_bytes_get_data (cur, NULL), g_bytes_get_size (cur));
      g_autofree char *next = g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (text, NULL, 10) + 1);
      g_autoptr (GBytes) value = bytes (next);
      if (lodge_store_update (store, LODGE_STORE_RUNTIME, w->name, version, value, NULL, &error))
        done++;
      else
        {
          g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT);
          g_clear_error (&error);
          w->conflicts++;
        }
    }
  return NULL;
}

static void
test_cas_race (void)
{
  g_autofree char *name = record_name ("counter");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) zero = bytes ("0");
  g_assert_true (lodge_store_create (shared_store, LODGE_STORE_RUNTIME, name, zero, NULL, &error));
  g_assert_no_error (error);

  Writer a = { name, 500, 0 }, b = { name, 500, 0 };
  GThread *ta = g_thread_new ("writer-a", writer_thread, &a);
  GThread *tb = g_thread_new ("writer-b", writer_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);

  g_autoptr (GBytes) final = lodge_store_get (shared_store, LODGE_STORE_RUNTIME, name, NULL, &error);
  g_assert_no_error (error);
  assert_value (final, "1000");
  g_test_message ("1000 increments by two writers; %u + %u lost races retried", a.conflicts,
                  b.conflicts);
  lodge_store_delete (shared_store, LODGE_STORE_RUNTIME, name, 0, NULL);
}

typedef struct {
  GMutex lock;
  GCond cond;
  GPtrArray *seen;
} Seen;

static void
on_change (LodgeStoreKind kind, const char *name, gpointer user_data)
{
  Seen *s = user_data;
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->seen, g_strdup_printf ("%s/%s", lodge_store_kind_to_string (kind),
                                             name != NULL ? name : "(resync)"));
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

static gboolean
wait_seen (Seen *s, const char *what, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean found = FALSE;
  g_mutex_lock (&s->lock);
  while (!(found = g_ptr_array_find_with_equal_func (s->seen, what, g_str_equal, NULL)))
    if (!g_cond_wait_until (&s->cond, &s->lock, deadline))
      break;
  g_mutex_unlock (&s->lock);
  return found;
}

static void
test_watch (void)
{
  Seen s = { .seen = g_ptr_array_new_with_free_func (g_free) };
  g_mutex_init (&s.lock);
  g_cond_init (&s.cond);
  g_autoptr (GError) error = NULL;
  LodgeStoreWatch *watch = lodge_store_watch (shared_store, LODGE_STORE_NODE, on_change, &s, &error);
  g_assert_no_error (error);

  /* The change comes from another client. */
  g_autoptr (LodgeRados) other_rados = connect_or_die ();
  g_autoptr (LodgeStore) other = lodge_store_open (other_rados, TEST_POOL, &error);
  g_assert_no_error (error);
  g_autofree char *name = record_name ("node");
  g_autofree char *expected = g_strdup_printf ("node/%s", name);
  g_autoptr (GBytes) v = bytes ("{\"state\": \"up\"}");
  g_assert_true (lodge_store_create (other, LODGE_STORE_NODE, name, v, NULL, &error));
  g_assert_no_error (error);
  if (!wait_seen (&s, expected, 10 * G_USEC_PER_SEC))
    g_test_fail_printf ("no change notification for %s within 10 s", expected);

  /* Other kinds are not reported to this watch: an env record is written,
   * then the node record deleted; once the delete is seen, the env write
   * (notified earlier) would have been seen too. */
  g_mutex_lock (&s.lock);
  g_ptr_array_set_size (s.seen, 0);
  g_mutex_unlock (&s.lock);
  g_autoptr (GBytes) w = bytes ("x");
  g_assert_true (lodge_store_create (other, LODGE_STORE_ENV, name, w, NULL, &error));
  g_assert_true (lodge_store_delete (other, LODGE_STORE_NODE, name, 0, &error));
  g_assert_no_error (error);
  if (!wait_seen (&s, expected, 10 * G_USEC_PER_SEC))
    g_test_fail_printf ("no notification of the delete of %s within 10 s", expected);

  lodge_store_watch_free (watch);
  lodge_store_delete (other, LODGE_STORE_ENV, name, 0, NULL);
  g_mutex_lock (&s.lock);
  g_assert_cmpuint (s.seen->len, >=, 1);
  for (guint i = 0; i < s.seen->len; i++)
    g_assert_false (g_str_has_prefix (s.seen->pdata[i], "env/"));
  g_mutex_unlock (&s.lock);
  g_ptr_array_unref (s.seen);
  g_mutex_clear (&s.lock);
  g_cond_clear (&s.cond);
}

static void
test_lease (void)
{
  g_autofree char *lease = record_name ("leader");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRados) rados_b = connect_or_die ();
  g_autoptr (LodgeStore) store_b = lodge_store_open (rados_b, TEST_POOL, &error);
  g_assert_no_error (error);
  const guint duration = 3;

  g_assert_true (lodge_lease_acquire (shared_store, lease, "ctl-a", "lodged a", duration, &error));
  g_assert_no_error (error);

  /* Held: B is refused and told who holds it. */
  g_assert_false (lodge_lease_acquire (store_b, lease, "ctl-b", "lodged b", duration, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "held by ctl-a (lodged a)"));
  g_clear_error (&error);
  g_autofree char *holder = NULL, *desc = NULL;
  g_assert_true (lodge_lease_get_holder (store_b, lease, &holder, &desc, &error));
  g_assert_cmpstr (holder, ==, "ctl-a");
  g_assert_cmpstr (desc, ==, "lodged a");

  /* A renews; then releases; B takes it. */
  g_assert_true (lodge_lease_acquire (shared_store, lease, "ctl-a", "lodged a", duration, &error));
  g_assert_true (lodge_lease_release (shared_store, lease, "ctl-a", &error));
  g_assert_no_error (error);
  g_assert_true (lodge_lease_acquire (store_b, lease, "ctl-b", "lodged b", duration, &error));
  g_assert_no_error (error);

  /* B stops renewing (it froze). A gets the lease only once it lapsed. */
  gint64 taken_at = g_get_monotonic_time ();
  g_assert_false (lodge_lease_acquire (shared_store, lease, "ctl-a", "lodged a", duration, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_clear_error (&error);
  gint64 deadline = taken_at + (duration + 10) * G_USEC_PER_SEC;
  gboolean got = FALSE;
  while (!got && g_get_monotonic_time () < deadline)
    {
      got = lodge_lease_acquire (shared_store, lease, "ctl-a", "lodged a", duration, NULL);
      if (!got)
        g_usleep (100 * 1000); /* polling a condition with a deadline */
    }
  if (!got)
    g_test_fail_printf ("lease not taken over within %u s of its holder stopping", duration + 10);
  gint64 waited_ms = (g_get_monotonic_time () - taken_at) / 1000;
  g_test_message ("lease taken over %" G_GINT64_FORMAT " ms after the holder stopped renewing",
                  waited_ms);
  g_assert_cmpint (waited_ms, >=, (duration - 1) * 1000);
  lodge_lease_release (shared_store, lease, "ctl-a", NULL);
}

static gboolean
lease_lapsed (gpointer user_data, GError **error)
{
  gboolean *lapsed = user_data;
  if (*lapsed)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED, "the lease lapsed");
  return !*lapsed;
}

/* Two leaders one after the other: the old one's writes are refused where
 * the new one wrote, and all of them once its own check says its lease
 * lapsed; a writer without a fence (an agent) is not affected. */
static void
test_fence (void)
{
  g_autofree char *lease = record_name ("fenced");
  g_autofree char *rec = record_name ("fenced-rec");
  g_autofree char *other = record_name ("fenced-other");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRados) rados_new = connect_or_die ();
  g_autoptr (LodgeStore) store_new = lodge_store_open (rados_new, TEST_POOL, &error);
  g_autoptr (LodgeRados) rados_old = connect_or_die ();
  g_autoptr (LodgeStore) store_old = lodge_store_open (rados_old, TEST_POOL, &error);
  g_assert_no_error (error);

  /* Generations: 0 before anyone, then one more per holder. */
  guint64 gen = 99, old_gen = 0, new_gen = 0;
  g_assert_true (lodge_lease_acquire (store_old, lease, "old", NULL, 30, &error));
  g_assert_true (lodge_lease_get_generation (store_old, lease, &gen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gen, ==, 0);
  g_assert_true (lodge_lease_next_generation (store_old, lease, &old_gen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (old_gen, ==, 1);
  g_assert_true (lodge_lease_next_generation (store_new, lease, &new_gen, &error));
  g_assert_cmpuint (new_gen, ==, 2);
  g_assert_true (lodge_lease_get_generation (store_old, lease, &gen, &error));
  g_assert_cmpuint (gen, ==, 2);

  gboolean old_lapsed = FALSE;
  lodge_store_set_fence (store_old, old_gen, lease_lapsed, &old_lapsed);
  lodge_store_set_fence (store_new, new_gen, NULL, NULL);
  g_assert_cmpuint (lodge_store_get_fence (store_old), ==, old_gen);

  guint64 v = 0;
  g_autoptr (GBytes) a = bytes ("<environment>a</environment>");
  g_assert_true (lodge_store_create (store_old, LODGE_STORE_RUNTIME, rec, a, &v, &error));
  g_assert_true (lodge_store_update (store_old, LODGE_STORE_RUNTIME, rec, v, a, &v, &error));
  g_assert_no_error (error);
  /* The new leader writes it: the old one, even at the right version, is
   * refused and told why; the record keeps the new value. */
  g_autoptr (GBytes) b = bytes ("<environment>b</environment>");
  g_assert_true (lodge_store_update (store_new, LODGE_STORE_RUNTIME, rec, v, b, &v, &error));
  g_assert_no_error (error);
  g_assert_false (lodge_store_update (store_old, LODGE_STORE_RUNTIME, rec, v, a, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED);
  g_assert_nonnull (strstr (error->message, "newer leader"));
  g_clear_error (&error);
  g_assert_false (lodge_store_delete (store_old, LODGE_STORE_RUNTIME, rec, v, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED);
  g_clear_error (&error);
  g_autoptr (GBytes) now = lodge_store_get (shared_store, LODGE_STORE_RUNTIME, rec, NULL, &error);
  assert_value (now, "<environment>b</environment>");
  /* An unfenced writer (an agent's report) still writes. */
  g_assert_true (lodge_store_update (shared_store, LODGE_STORE_RUNTIME, rec, v, a, &v, &error));
  g_assert_no_error (error);

  /* A record the new leader has not written yet: the old one's lease
   * check stops it before anything is sent. */
  g_assert_true (lodge_store_create (store_old, LODGE_STORE_RUNTIME, other, a, &v, &error));
  old_lapsed = TRUE;
  g_assert_false (lodge_store_update (store_old, LODGE_STORE_RUNTIME, other, v, b, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED);
  g_clear_error (&error);
  g_assert_false (lodge_store_check_fence (store_old, &error));
  g_clear_error (&error);
  g_assert_true (lodge_store_check_fence (store_new, &error));
  g_autoptr (GBytes) still = lodge_store_get (shared_store, LODGE_STORE_RUNTIME, other, NULL, &error);
  assert_value (still, "<environment>a</environment>");

  lodge_store_delete (store_new, LODGE_STORE_RUNTIME, rec, 0, NULL);
  lodge_store_delete (store_new, LODGE_STORE_RUNTIME, other, 0, NULL);
  lodge_lease_release (store_old, lease, "old", NULL);
}

static void
test_monitors (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) mons = lodge_rados_monitors (shared_rados, &error);
  g_assert_no_error (error);
  g_assert_nonnull (mons[0]);
  /* The local cluster's monitor, v1 protocol: the address its ceph.conf
   * gives ("mon host = [v2:ADDR:3300,v1:ADDR:6789]"). */
  g_autofree char *conf = NULL;
  g_assert_true (g_file_get_contents (g_getenv ("CEPH_CONF"), &conf, NULL, NULL));
  g_autoptr (GRegex) re = g_regex_new ("^mon host = .*v1:([0-9.]+:6789)", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_assert_true (g_regex_match (re, conf, 0, &match));
  g_autofree char *v1 = g_match_info_fetch (match, 1);
  g_assert_cmpstr (mons[0], ==, v1);
}

static void
test_unreachable (void)
{
  /* A monitor address where nothing listens: a clear error, not a hang. */
  g_autofree char *dir = g_dir_make_tmp ("lodge-unreachable-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "ceph.conf", NULL);
  g_assert_true (g_file_set_contents (conf,
                                      "[global]\nmon host = 127.0.0.1:1\n"
                                      "auth supported = none\n", -1, NULL));
  LodgeCephConfig config = { conf, (char *) "lodge", NULL, 2, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRados) rados = lodge_rados_connect (&config, &error);
  g_assert_null (rados);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "cannot connect to the Ceph cluster of"));
  g_assert_nonnull (strstr (error->message, "within 2 s"));
  g_unlink (conf);
  g_rmdir (dir);

  LodgeCephConfig missing = { (char *) "/nonexistent/ceph.conf", (char *) "lodge", NULL, 2, 0 };
  g_clear_error (&error);
  g_assert_null (lodge_rados_connect (&missing, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "no Ceph configuration at /nonexistent/ceph.conf"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/unreachable", test_unreachable);

  g_autoptr (LodgeCephConfig) config = lodge_ceph_config_new_default ();
  g_autoptr (GError) error = NULL;
  shared_rados = lodge_rados_connect (config, &error);
  if (shared_rados == NULL)
    {
      g_printerr ("SKIP: no Ceph cluster: %s (run through tools/lodge-cluster exec)\n",
                  error->message);
      return 77;
    }
  shared_store = lodge_store_open (shared_rados, TEST_POOL, &error);
  g_assert_no_error (error);
  run_id = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time ());

  g_test_add_func ("/store/crud", test_crud);
  g_test_add_func ("/store/large-value", test_large_value);
  g_test_add_func ("/store/bad-names", test_bad_names);
  g_test_add_func ("/store/cas-race", test_cas_race);
  g_test_add_func ("/store/watch", test_watch);
  g_test_add_func ("/store/lease", test_lease);
  g_test_add_func ("/store/fence", test_fence);
  g_test_add_func ("/store/monitors", test_monitors);
  int rc = g_test_run ();

  lodge_store_free (shared_store);
  lodge_rados_free (shared_rados);
  g_free (run_id);
  return rc;
}
