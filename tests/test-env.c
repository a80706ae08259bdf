/* Environment definitions: golden round trips and expected errors,
 * the shipped examples, and the defaults. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-env.h"
#include "lodge-error.h"
#include "lib/lodge-golden.h"

static const char *const env_outputs[] = { ".out.xml", ".err", NULL };

/* tests/data/env/<case>.xml: loads and formats to itself (or to
 * <case>.out.xml, when the input is not in canonical form), or fails with
 * exactly the message in <case>.err. */
static void
test_golden_case (gconstpointer data)
{
  lodge_golden_round_trip ("env", data, LODGE_ERROR, (LodgeGoldenParse) lodge_env_def_load,
                           (LodgeGoldenFormat) lodge_env_def_format, (GDestroyNotify) lodge_env_def_free);
}

/* Every example is valid and already in canonical form. */
static void
test_example (gconstpointer data)
{
  const char *path = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);
  g_autofree char *input = lodge_golden_read (path);
  g_autofree char *formatted = lodge_env_def_format (def);
  g_assert_cmpstr (formatted, ==, input);
}

static void
test_defaults (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "env", "minimal.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (def->current_memory, ==, 0);
  g_assert_cmpuint (lodge_env_def_effective_current_memory (def), ==, 256ULL << 20);
  g_assert_cmpuint (lodge_env_def_effective_replicas (def), ==, LODGE_ENV_DEFAULT_REPLICAS);
  g_assert_cmpint (lodge_env_def_effective_restart (def), ==, LODGE_RESTART_ALWAYS);
  g_assert_cmpuint (lodge_env_def_effective_priority (def), ==, LODGE_ENV_DEFAULT_PRIORITY);
  g_assert_cmpstr (lodge_env_def_effective_hostname (def), ==, "t1");
  g_assert_null (def->template_version);
}

static void
test_typed_values (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", "maximal.xml",
                                                 NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (def->name, ==, "shop-db-01");
  g_assert_cmpstr (def->owner, ==, "shop-example");
  g_assert_cmpstr (def->template_version, ==, "2026.11");
  g_assert_cmpuint (def->vcpus, ==, 4);
  g_assert_cmpuint (def->memory, ==, 8ULL << 30);
  g_assert_cmpuint (def->current_memory, ==, 2ULL << 30);
  g_assert_cmpuint (def->disk, ==, 40ULL << 30);
  g_assert_true (g_str_has_prefix (def->root_password_hash, "$y$"));
  g_assert_cmpuint (def->authorized_keys->len, ==, 2);
  g_assert_cmpstr (def->timezone, ==, "Europe/Berlin");
  g_assert_cmpuint (def->dns_servers->len, ==, 2);
  g_assert_cmpint (((LodgeEnvIp *) def->dns_servers->pdata[1])->family, ==, LODGE_IP_V6);
  g_assert_cmpuint (def->sysctls->len, ==, 3);
  g_assert_cmpuint (def->interfaces->len, ==, 2);
  LodgeEnvInterface *eth0 = def->interfaces->pdata[0];
  g_assert_cmpstr (eth0->mac, ==, "52:54:00:12:34:56");
  g_assert_cmpuint (eth0->ips->len, ==, 2);
  g_assert_cmpuint (((LodgeEnvIp *) eth0->ips->pdata[1])->prefix, ==, 64);
  g_assert_cmpuint (eth0->gateways->len, ==, 2);
  g_assert_cmpuint (def->replicas, ==, 3);
  g_assert_cmpint (def->restart, ==, LODGE_RESTART_ALWAYS);
  g_assert_cmpuint (def->priority, ==, 900);
  g_assert_cmpuint (def->applications->len, ==, 2);
  LodgeEnvApplication *pg = def->applications->pdata[0];
  g_assert_true (pg->autostart);
  g_assert_cmpuint (pg->params->len, ==, 3);
  g_assert_false (((LodgeEnvApplication *) def->applications->pdata[1])->autostart);
}

static void
test_enum_tables (void)
{
  for (int i = 0; i < LODGE_RESTART_LAST; i++)
    g_assert_cmpint (lodge_restart_policy_from_string (lodge_restart_policy_to_string (i)), ==, i);
  g_assert_cmpint (lodge_restart_policy_from_string ("sometimes"), ==, -1);
  g_assert_null (lodge_restart_policy_to_string (LODGE_RESTART_LAST));
  g_assert_cmpstr (lodge_ip_family_to_string (LODGE_IP_V6), ==, "ipv6");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  lodge_golden_add_tests ("env", "env", env_outputs, test_golden_case);

  g_autofree char *examples = g_test_build_filename (G_TEST_DIST, "..", "examples", NULL);
  g_autoptr (GDir) d = g_dir_open (examples, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  guint n_examples = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".xml"))
      {
        g_autofree char *path = g_strconcat ("/env/example/", name, NULL);
        g_test_add_data_func_full (path, g_build_filename (examples, name, NULL), test_example,
                                   g_free);
        n_examples++;
      }
  g_assert_cmpuint (n_examples, >=, 2);

  g_test_add_func ("/env/defaults", test_defaults);
  g_test_add_func ("/env/typed-values", test_typed_values);
  g_test_add_func ("/env/enum-tables", test_enum_tables);
  return g_test_run ();
}
