/* What the storage layer reads without a cluster: the monitors of a
 * monitor map (as a VE disk's <host> elements give them to QEMU's librbd)
 * and the client's key from its keyring. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"

/* ---- the monitor map ("mon dump", JSON) ---- */

static char *
monitors_of (const char *json, GError **error)
{
  g_auto (GStrv) mons = lodge_ceph_monitors_from_monmap (json, strlen (json), error);
  return mons != NULL ? g_strjoinv (" ", mons) : NULL;
}

/* One monitor entry as Pacific's `ceph mon dump -f json` prints it. */
#define MON(name, addrvec) \
  "{\"rank\":0,\"name\":\"" name "\",\"public_addrs\":{\"addrvec\":[" addrvec "]}," \
  "\"addr\":\"ignored:1/0\",\"public_addr\":\"ignored:1/0\",\"priority\":0,\"weight\":0}"
#define ADDR(type, addr) "{\"type\":\"" type "\",\"addr\":\"" addr "\",\"nonce\":0}"
#define MONMAP(...) "{\"epoch\":1,\"fsid\":\"x\",\"mons\":[" __VA_ARGS__ "]}"

/* Pools flagged full in "osd dump" (Ceph 16's words), the whole map's
 * flag, and what is not an OSD map. */
static void
test_osdmap_full (void)
{
  g_autoptr (GError) error = NULL;
  const char *some = "{\"epoch\": 45, \"flags\": \"sortbitwise,recovery_deletes\", \"pools\": ["
                     "{\"pool\": 2, \"pool_name\": \"lodge-state\", \"flags_names\": \"hashpspool,full\"},"
                     "{\"pool\": 3, \"pool_name\": \"lodge-r1\", \"flags_names\": \"hashpspool,selfmanaged_snaps\"},"
                     "{\"pool\": 4, \"pool_name\": \"lodge-r2\", \"flags_names\": \"hashpspool,full_quota\"},"
                     "{\"pool\": 5, \"pool_name\": \"fullish\", \"flags_names\": \"nearfull\"}]}";
  g_auto (GStrv) full = lodge_ceph_full_pools_from_osdmap (some, strlen (some), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (full), ==, 2);
  g_assert_cmpstr (full[0], ==, "lodge-state");
  g_assert_cmpstr (full[1], ==, "lodge-r2");

  const char *none = "{\"flags\": \"sortbitwise\", \"pools\": [{\"pool_name\": \"a\", \"flags_names\": \"hashpspool\"}]}";
  g_auto (GStrv) empty = lodge_ceph_full_pools_from_osdmap (none, strlen (none), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (empty), ==, 0);

  const char *map_full = "{\"flags\": \"full,sortbitwise\", \"pools\": [{\"pool_name\": \"a\"}]}";
  g_auto (GStrv) every = lodge_ceph_full_pools_from_osdmap (map_full, strlen (map_full), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (every), ==, 1);

  const char *bad[] = { "[]", "{\"pools\": 3}", "{\"pools\": [{\"flags_names\": \"full\"}]}", "{" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (GStrv) none_ = lodge_ceph_full_pools_from_osdmap (bad[i], strlen (bad[i]), &error);
      g_assert_null (none_);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
}

static void
test_monmap_addresses (void)
{
  const struct {
    const char *json;
    const char *want;
  } cases[] = {
    /* What cephadm and tools/lodge-cluster make: v2 and v1 of each. */
    { MONMAP (MON ("a", ADDR ("v2", "10.0.0.1:3300") "," ADDR ("v1", "10.0.0.1:6789")) ","
              MON ("b", ADDR ("v2", "10.0.0.2:3300") "," ADDR ("v1", "10.0.0.2:6790"))),
      "10.0.0.1:6789 10.0.0.2:6790" },
    /* v1 wherever it stands in the vector. */
    { MONMAP (MON ("a", ADDR ("v1", "127.0.0.1:6789") "," ADDR ("v2", "127.0.0.1:3300"))),
      "127.0.0.1:6789" },
    /* A monitor with only a v2 address is given by it (bare, 3300 is v2 to
     * Ceph); the others by v1. */
    { MONMAP (MON ("a", ADDR ("v2", "10.0.0.1:3300")) ","
              MON ("b", ADDR ("v2", "10.0.0.2:3300") "," ADDR ("v1", "10.0.0.2:6789"))),
      "10.0.0.1:3300 10.0.0.2:6789" },
    /* IPv6 comes bracketed from Ceph. */
    { MONMAP (MON ("a", ADDR ("v2", "[fd00::1]:3300") "," ADDR ("v1", "[fd00::1]:6789"))),
      "[fd00::1]:6789" },
    /* Unknown address types are passed over. */
    { MONMAP (MON ("a", ADDR ("any", "10.0.0.9:1") "," ADDR ("v2", "10.0.0.1:3300"))),
      "10.0.0.1:3300" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *got = monitors_of (cases[i].json, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, cases[i].want);
    }
}

static void
test_monmap_many (void)
{
  /* 200 monitors: far past the 1 KiB buffer mon_host was once read into. */
  g_autoptr (GString) json = g_string_new ("{\"mons\":[");
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (json,
                            "%s{\"name\":\"m%u\",\"public_addrs\":{\"addrvec\":["
                            "{\"type\":\"v2\",\"addr\":\"10.0.%u.%u:3300\",\"nonce\":0},"
                            "{\"type\":\"v1\",\"addr\":\"10.0.%u.%u:6789\",\"nonce\":0}]}}",
                            i ? "," : "", i, i / 100, i % 100, i / 100, i % 100);
  g_string_append (json, "]}");
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) mons = lodge_ceph_monitors_from_monmap (json->str, json->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (mons), ==, 200);
  g_assert_cmpstr (mons[0], ==, "10.0.0.0:6789");
  g_assert_cmpstr (mons[199], ==, "10.0.1.99:6789");
}

static void
test_monmap_garbage (void)
{
  const struct {
    const char *json;
    const char *says;
  } cases[] = {
    { "", "monitor map" },
    { "not json", "monitor map" },
    { "[1,2]", "monitor map" },
    { "{\"epoch\":1}", "no list of monitors" },
    { "{\"mons\":{}}", "no list of monitors" },
    { "{\"mons\":[]}", "names no monitor" },
    { MONMAP (MON ("a", "")), "monitor 0 of the monitor map has no v1 or v2 address" },
    { MONMAP (MON ("a", ADDR ("v1", "10.0.0.1:6789")) ",\"x\""),
      "monitor 1 of the monitor map has no v1 or v2 address" },
    { "{\"mons\":[{\"name\":\"a\"}]}", "monitor 0 of the monitor map has no v1 or v2 address" },
    { MONMAP (MON ("a", ADDR ("v1", ""))), "monitor 0 of the monitor map has no v1 or v2 address" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *got = monitors_of (cases[i].json, &error);
      g_assert_null (got);
      g_assert_nonnull (error);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("for '%s': '%s' lacks '%s'", cases[i].json, error->message, cases[i].says);
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

/* ---- the keyring ---- */

static char *
read_key (Fixture *f, const char *client, const char *keyring_text, GError **error)
{
  if (keyring_text != NULL)
    g_assert_true (g_file_set_contents (f->keyring, keyring_text, -1, NULL));
  LodgeCephConfig config = { f->conf, (char *) client, f->keyring, 0, 0 };
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
  LodgeCephConfig config = { f->conf, (char *) "lodge", NULL, 0, 0 };
  key = lodge_ceph_config_read_key (&config, &error);
  g_assert_null (key);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no keyring for client.lodge"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rados/osdmap/full", test_osdmap_full);
  g_test_add_func ("/rados/monmap/addresses", test_monmap_addresses);
  g_test_add_func ("/rados/monmap/many", test_monmap_many);
  g_test_add_func ("/rados/monmap/garbage", test_monmap_garbage);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/rados/keyring/sections", test_keyring_sections);
  ADD ("/rados/keyring/missing-key", test_keyring_missing_key);
  ADD ("/rados/keyring/bad", test_keyring_bad);
#undef ADD
  return g_test_run ();
}
