/* What the storage layer reads of a Ceph client's configuration without a
 * cluster: the monitors of mon_host (as a VE disk's <host> elements give
 * them to QEMU's librbd) and the client's key from its keyring. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"

/* ---- mon_host ---- */

static void
assert_monitors (const char *mon_host, const char *const *expected)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) mons = lodge_ceph_parse_mon_host (mon_host, &error);
  g_assert_no_error (error);
  g_assert_nonnull (mons);
  g_autofree char *got = g_strjoinv (" ", mons);
  g_autofree char *want = g_strjoinv (" ", (char **) expected);
  if (g_strcmp0 (got, want) != 0)
    g_test_message ("mon_host '%s'", mon_host);
  g_assert_cmpstr (got, ==, want);
}

#define MONS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
test_mon_groups (void)
{
  /* What cephadm and tools/lodge-cluster write: v2 and v1 of each monitor. */
  assert_monitors ("[v2:10.0.0.1:3300,v1:10.0.0.1:6789] [v2:10.0.0.2:3300,v1:10.0.0.2:6789]",
                   MONS ("10.0.0.1:6789", "10.0.0.2:6789"));
  /* Groups separated by commas, with nonces (as `ceph mon dump` prints). */
  assert_monitors ("[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0],"
                   "[v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]",
                   MONS ("10.0.0.1:6789", "10.0.0.2:6789"));
  /* v1 first, and a non-standard v1 port. */
  assert_monitors ("[v1:10.0.0.1:6790,v2:10.0.0.1:3301]", MONS ("10.0.0.1:6790"));
  assert_monitors ("[v2:127.0.0.1:3300,v1:127.0.0.1:6789]", MONS ("127.0.0.1:6789"));
  /* IPv6, bracketed inside the group. */
  assert_monitors ("[v2:[fd00::1]:3300,v1:[fd00::1]:6789]", MONS ("[fd00::1]:6789"));
}

static void
test_mon_plain (void)
{
  /* Without ports: Ceph's default v1 port. */
  assert_monitors ("10.0.0.1:6789,10.0.0.2,10.0.0.3:6790",
                   MONS ("10.0.0.1:6789", "10.0.0.2:6789", "10.0.0.3:6790"));
  assert_monitors (" 10.0.0.1; 10.0.0.2 ;10.0.0.3 ",
                   MONS ("10.0.0.1:6789", "10.0.0.2:6789", "10.0.0.3:6789"));
  assert_monitors ("v1:10.0.0.1,v1:10.0.0.2:6790", MONS ("10.0.0.1:6789", "10.0.0.2:6790"));
  assert_monitors ("127.0.0.1:6789", MONS ("127.0.0.1:6789"));
  /* The same monitor twice. */
  assert_monitors ("10.0.0.1,10.0.0.1:6789", MONS ("10.0.0.1:6789"));
  /* IPv6, bracketed or bare. */
  assert_monitors ("[fd00::1]:6789,[fd00::2],fd00::3",
                   MONS ("[fd00::1]:6789", "[fd00::2]:6789", "[fd00::3]:6789"));
  /* A v2 entry next to the v1 entry of the same host is that monitor. */
  assert_monitors ("v2:10.0.0.1:3300,v1:10.0.0.1:6789", MONS ("10.0.0.1:6789"));
  assert_monitors ("10.0.0.1:3300 10.0.0.1:6789", MONS ("10.0.0.1:6789"));
}

static void
test_mon_v2_only (void)
{
  /* A monitor that has only a v2 address is given by it: bare, 3300 is
   * v2 to Ceph. */
  assert_monitors ("[v2:10.0.0.1:3300]", MONS ("10.0.0.1:3300"));
  assert_monitors ("[v2:10.0.0.1:3300] [v2:10.0.0.2:3300] [v2:10.0.0.3:3300]",
                   MONS ("10.0.0.1:3300", "10.0.0.2:3300", "10.0.0.3:3300"));
  assert_monitors ("v2:10.0.0.1:3300,v2:10.0.0.2", MONS ("10.0.0.1:3300", "10.0.0.2:3300"));
  assert_monitors ("10.0.0.1:3300", MONS ("10.0.0.1:3300"));
  assert_monitors ("[v2:[fd00::1]:3300]", MONS ("[fd00::1]:3300"));
  /* v1 where a monitor has it, v2 where it has nothing else. */
  assert_monitors ("[v2:10.0.0.1:3300,v1:10.0.0.1:6789] [v2:10.0.0.2:3300]",
                   MONS ("10.0.0.1:6789", "10.0.0.2:3300"));
}

static void
test_mon_dns (void)
{
  assert_monitors ("mon1.example.com,mon2.example.com:6790,mon-3",
                   MONS ("mon1.example.com:6789", "mon2.example.com:6790", "mon-3:6789"));
  assert_monitors ("[v2:mon1.example.com:3300,v1:mon1.example.com:6789] v2:mon2.example.com",
                   MONS ("mon1.example.com:6789", "mon2.example.com:3300"));
}

static void
test_mon_long (void)
{
  /* 200 monitors: 7 KiB of text, past any small fixed buffer. */
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (text, "%s[v2:10.0.%u.%u:3300,v1:10.0.%u.%u:6789]", i ? " " : "",
                            i / 100, i % 100, i / 100, i % 100);
  g_assert_cmpuint (text->len, >, 4096);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) mons = lodge_ceph_parse_mon_host (text->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (mons), ==, 200);
  g_assert_cmpstr (mons[0], ==, "10.0.0.0:6789");
  g_assert_cmpstr (mons[199], ==, "10.0.1.99:6789");
}

static void
test_mon_garbage (void)
{
  const struct {
    const char *mon_host;
    const char *bad; /* the part the error names */
  } cases[] = {
    { "10.0.0.1:notaport", "10.0.0.1:notaport" },
    { "10.0.0.1:70000", "10.0.0.1:70000" },
    { "10.0.0.1:0", "10.0.0.1:0" },
    { "10.0.0.1:6789,v3:10.0.0.2", "v3:10.0.0.2" },
    { "[v2:10.0.0.1:3300,v1:10.0.0.1:6789", "[v2:10.0.0.1:3300,v1:10.0.0.1:6789" },
    { "[v2:10.0.0.1:3300]junk 10.0.0.2", "[v2:10.0.0.1:3300]junk" },
    { "[]", "[]" },
    { "[v2:10.0.0.1:3300,,v1:10.0.0.1:6789]", "[v2:10.0.0.1:3300,,v1:10.0.0.1:6789]" },
    { "[not-an-ip]:6789", "[not-an-ip]:6789" },
    { "mon_1?", "mon_1?" },
    { "10.0.0.1:6789/x", "10.0.0.1:6789/x" },
    { "-mon", "-mon" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) mons = lodge_ceph_parse_mon_host (cases[i].mon_host, &error);
      g_assert_null (mons);
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
      g_autofree char *whole = g_strdup_printf ("mon_host '%s'", cases[i].mon_host);
      g_autofree char *part = g_strdup_printf ("'%s' is not a monitor address", cases[i].bad);
      if (strstr (error->message, whole) == NULL || strstr (error->message, part) == NULL)
        g_error ("for '%s': %s", cases[i].mon_host, error->message);
    }
  /* Nothing at all. */
  const char *empty[] = { "", "  ", " ; , " };
  for (guint i = 0; i < G_N_ELEMENTS (empty); i++)
    {
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) mons = lodge_ceph_parse_mon_host (empty[i], &error);
      g_assert_null (mons);
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "names no monitor"));
    }
}

/* ---- what librados reads of ceph.conf, no cluster needed ---- */

typedef struct {
  char *dir;
  char *conf;
  char *keyring;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("lodge-rados-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->conf = g_build_filename (f->dir, "ceph.conf", NULL);
  f->keyring = g_build_filename (f->dir, "ceph.client.lodge.keyring", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unlink (f->conf);
  g_unlink (f->keyring);
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->conf);
  g_free (f->keyring);
}

static void
test_conf_mon_host_long (Fixture *f, gconstpointer data)
{
  /* librados keeps mon_host as written; lodge_rados_monitors reads all of
   * it, however long (the buffer grows while librados says it is short). */
  g_autoptr (GString) mon_host = g_string_new (NULL);
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (mon_host, "%s[v2:10.1.0.%u:3300,v1:10.1.0.%u:6789]", i ? "," : "",
                            i, i);
  g_assert_cmpuint (mon_host->len, >, 3000);
  g_autofree char *conf = g_strdup_printf ("[global]\nmon host = %s\nauth supported = none\n",
                                           mon_host->str);
  g_assert_true (g_file_set_contents (f->conf, conf, -1, NULL));
  LodgeCephConfig config = { f->conf, (char *) "lodge", NULL, 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRados) rados = lodge_rados_new (&config, &error);
  g_assert_no_error (error);
  g_auto (GStrv) mons = lodge_rados_monitors (rados, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (mons), ==, 100);
  g_assert_cmpstr (mons[0], ==, "10.1.0.0:6789");
  g_assert_cmpstr (mons[99], ==, "10.1.0.99:6789");
}

static void
test_conf_mon_host_v2 (Fixture *f, gconstpointer data)
{
  g_assert_true (g_file_set_contents (
    f->conf, "[global]\nmon_host = [v2:10.1.0.1:3300] [v2:10.1.0.2:3300]\n", -1, NULL));
  LodgeCephConfig config = { f->conf, (char *) "lodge", NULL, 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRados) rados = lodge_rados_new (&config, &error);
  g_assert_no_error (error);
  g_auto (GStrv) mons = lodge_rados_monitors (rados, &error);
  g_assert_no_error (error);
  g_autofree char *got = g_strjoinv (" ", mons);
  g_assert_cmpstr (got, ==, "10.1.0.1:3300 10.1.0.2:3300");
}

/* ---- the keyring ---- */

static char *
read_key (Fixture *f, const char *client, const char *keyring_text, GError **error)
{
  if (keyring_text != NULL)
    g_assert_true (g_file_set_contents (f->keyring, keyring_text, -1, NULL));
  LodgeCephConfig config = { f->conf, (char *) client, f->keyring, 0 };
  return lodge_ceph_config_read_key (&config, error);
}

#define KEYRING \
  "# written by ceph-authtool, then by hand\n" \
  "[client.admin]\n" \
  "\tkey = AQAdmin0000000000000000000000000000000==\n" \
  "\tcaps mds = \"allow *\"\n" \
  "\tcaps mon = \"allow *\"\n" \
  "\n" \
  "[client.lodge]\n" \
  "    key   =   AQBx/y+zLodgeKey0000000000000000000000==   \n" \
  "\tcaps mon = \"allow r\"\n" \
  "\tcaps osd = \"allow rwx pool=lodge\"\n" \
  "[client.nokey]\n" \
  "\tcaps mon = \"allow r\"\n" \
  "[client.empty]\n" \
  "\tkey =\n"

static void
test_keyring_sections (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *lodge = read_key (f, "lodge", KEYRING, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lodge, ==, "AQBx/y+zLodgeKey0000000000000000000000==");
  g_autofree char *admin = read_key (f, "admin", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (admin, ==, "AQAdmin0000000000000000000000000000000==");
}

static void
test_keyring_missing_key (Fixture *f, gconstpointer data)
{
  const char *clients[] = { "nokey", "empty", "absent" };
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *key = read_key (f, clients[i], KEYRING, &error);
      g_assert_null (key);
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
      g_autofree char *want = g_strdup_printf ("%s has no key for client.%s", f->keyring,
                                               clients[i]);
      g_assert_cmpstr (error->message, ==, want);
    }
}

static void
test_keyring_bad (Fixture *f, gconstpointer data)
{
  /* A file that is not a keyring. */
  g_autoptr (GError) error = NULL;
  g_autofree char *key = read_key (f, "lodge", "key = AQ==\n", &error);
  g_assert_null (key);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "keyring "));
  g_assert_nonnull (strstr (error->message, f->keyring));
  g_clear_error (&error);

  /* No file. */
  g_unlink (f->keyring);
  key = read_key (f, "lodge", NULL, &error);
  g_assert_null (key);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, f->keyring));
  g_clear_error (&error);

  /* None configured. */
  LodgeCephConfig config = { f->conf, (char *) "lodge", NULL, 0 };
  key = lodge_ceph_config_read_key (&config, &error);
  g_assert_null (key);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no keyring for client.lodge"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rados/mon-host/groups", test_mon_groups);
  g_test_add_func ("/rados/mon-host/plain", test_mon_plain);
  g_test_add_func ("/rados/mon-host/v2-only", test_mon_v2_only);
  g_test_add_func ("/rados/mon-host/dns", test_mon_dns);
  g_test_add_func ("/rados/mon-host/long", test_mon_long);
  g_test_add_func ("/rados/mon-host/garbage", test_mon_garbage);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/rados/conf/mon-host-long", test_conf_mon_host_long);
  ADD ("/rados/conf/mon-host-v2", test_conf_mon_host_v2);
  ADD ("/rados/keyring/sections", test_keyring_sections);
  ADD ("/rados/keyring/missing-key", test_keyring_missing_key);
  ADD ("/rados/keyring/bad", test_keyring_bad);
#undef ADD
  return g_test_run ();
}
