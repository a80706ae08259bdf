/* Node, runtime and template records: one JSON form, read back to the
 * same values; records that lack what they need are refused; unknown
 * members pass. */
#include <string.h>

#include "lodge-records.h"
#include "lodge-storage-error.h"
#include "lodge-template-record.h"

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
test_node_round_trip (void)
{
  g_autoptr (LodgeNodeRecord) r = lodge_node_record_new ();
  r->name = g_strdup ("node1");
  r->libvirt_uri = g_strdup ("qemu+tcp://127.0.1.1/system");
  r->address = g_strdup ("127.0.1.1");
  r->accel = LODGE_ACCEL_TCG;
  r->accel_reason = g_strdup ("QEMU under KVM died of signal 6 (Aborted)");
  r->kernel = g_strdup ("/var/lib/lodge/kernel/vmlinuz-lodge");
  r->bridge = g_strdup ("lodgebr0");
  r->secret_uuid = g_strdup ("6c0d6a36-1b6a-4f4e-9a55-0d9e1f3c1a01");
  r->cpus = 2;
  r->memory = 8ULL << 30;
  r->memory_ratio = 2.5;
  r->cpu_ratio = 4.0;
  r->state = LODGE_NODE_DRAINING;
  r->heartbeat_us = 1795655920453023;
  r->agent = g_strdup ("lodge-agent 0.1.0 pid 42");
  lodge_node_record_set_domain (r, "web1", LODGE_DOMAIN_STATE_RUNNING);
  lodge_node_record_set_domain (r, "db1", LODGE_DOMAIN_STATE_SHUTOFF);
  lodge_node_record_set_domain (r, "web1", LODGE_DOMAIN_STATE_PAUSED);
  g_autoptr (GBytes) json = lodge_node_record_to_json (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeNodeRecord) back = lodge_node_record_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "node1");
  g_assert_cmpstr (back->libvirt_uri, ==, r->libvirt_uri);
  g_assert_cmpint (back->accel, ==, LODGE_ACCEL_TCG);
  g_assert_cmpstr (back->accel_reason, ==, "QEMU under KVM died of signal 6 (Aborted)");
  g_assert_null (back->initrd);
  g_assert_cmpstr (back->bridge, ==, "lodgebr0");
  g_assert_cmpstr (back->secret_uuid, ==, r->secret_uuid);
  g_assert_cmpuint (back->cpus, ==, 2);
  g_assert_cmpuint (back->memory, ==, 8ULL << 30);
  g_assert_cmpfloat (back->memory_ratio, ==, 2.5);
  g_assert_cmpint (back->state, ==, LODGE_NODE_DRAINING);
  g_assert_cmpint (back->heartbeat_us, ==, 1795655920453023);
  g_assert_cmpuint (back->domains->len, ==, 2);
  LodgeNodeDomain *web = back->domains->pdata[0];
  g_assert_cmpstr (web->name, ==, "web1");
  g_assert_cmpint (web->state, ==, LODGE_DOMAIN_STATE_PAUSED);
  g_autoptr (GBytes) again = lodge_node_record_to_json (back);
  g_assert_true (g_bytes_equal (json, again));
}

static void
test_runtime_round_trip (void)
{
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_new ("web1");
  r->desired = LODGE_DESIRED_RUNNING;
  r->phase = LODGE_PHASE_STARTING;
  r->node = g_strdup ("node2");
  r->generation = 7;
  r->since_us = 12345;
  r->disk_pool = g_strdup ("lodge-r3");
  r->disk_image = g_strdup ("ve-web1");
  r->template_version = g_strdup ("1");
  r->stop_reason = LODGE_STOP_CRASHED;
  r->restarts = 5;
  r->recent_restarts_us[0] = 1000;
  r->recent_restarts_us[1] = 2000;
  r->n_recent_restarts = 2;
  g_autoptr (GBytes) json = lodge_runtime_record_to_json (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) back = lodge_runtime_record_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->desired, ==, LODGE_DESIRED_RUNNING);
  g_assert_cmpint (back->phase, ==, LODGE_PHASE_STARTING);
  g_assert_cmpstr (back->node, ==, "node2");
  g_assert_cmpuint (back->generation, ==, 7);
  g_assert_null (back->last_error);
  g_assert_cmpint (back->stop_reason, ==, LODGE_STOP_CRASHED);
  g_assert_cmpuint (back->restarts, ==, 5);
  g_assert_cmpuint (back->n_recent_restarts, ==, 2);
  g_assert_cmpint (back->recent_restarts_us[1], ==, 2000);
  g_autoptr (GBytes) again = lodge_runtime_record_to_json (back);
  g_assert_true (g_bytes_equal (json, again));
}

static void
test_refused (void)
{
  const char *bad_nodes[][2] = {
    { "not json", "a node record is not a JSON object" },
    { "[1,2]", "a node record is not a JSON object" },
    { "{\"name\":\"n\"}", "a node record lacks \"name\" or \"libvirt_uri\"" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"sleepy\"}",
      "a node record has no valid \"state\" (sleepy)" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":7}", "a node record has no valid \"state\" (missing)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad_nodes); i++)
    {
      g_autoptr (GBytes) b = bytes (bad_nodes[i][0]);
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeNodeRecord) r = lodge_node_record_from_json (b, &error);
      g_assert_null (r);
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED);
      g_assert_cmpstr (error->message, ==, bad_nodes[i][1]);
    }
  g_autoptr (GBytes) b = bytes ("{\"name\":\"w\",\"desired\":\"running\",\"phase\":\"dancing\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_from_json (b, &error);
  g_assert_null (r);
  g_assert_cmpstr (error->message, ==, "a runtime record has no valid \"phase\" (dancing)");
}

static void
test_unknown_members (void)
{
  g_autoptr (GBytes) b = bytes ("{\"name\":\"w\",\"desired\":\"stopped\",\"phase\":\"stopped\","
                                "\"future\":{\"x\":1}}");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_from_json (b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->desired, ==, LODGE_DESIRED_STOPPED);
  g_assert_null (r->node);
}

/* A node's accelerator is typed: what is missing or unknown is not known
 * to work, so TCG. */
static void
test_node_accel (void)
{
  const char *cases[][2] = {
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"up\",\"accel\":\"kvm\"}", "kvm" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"up\",\"accel\":\"tcg\"}", "tcg" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"up\",\"accel\":\"hvf\"}", "tcg" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"up\",\"accel\":1}", "tcg" },
    { "{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"up\"}", "tcg" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) b = bytes (cases[i][0]);
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeNodeRecord) r = lodge_node_record_from_json (b, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (lodge_accel_to_string (r->accel), ==, cases[i][1]);
    }
}

/* ---- templates ---- */

static LodgeTemplateVersion *
template_version (const char *version, guint64 bytes)
{
  LodgeTemplateVersion *v = g_new0 (LodgeTemplateVersion, 1);
  v->version = g_strdup (version);
  v->snapshot = g_strconcat ("v-", version, NULL);
  v->created = g_strdup ("2025-03-01T12:00:00Z");
  v->source = g_strdup ("/srv/trees/debian");
  v->bytes = bytes;
  v->files = 1234;
  v->image_size = 256ULL << 20;
  return v;
}

static void
test_template_round_trip (void)
{
  g_autoptr (LodgeTemplate) t = lodge_template_new ("web");
  t->kind = LODGE_TEMPLATE_KIND_APPLICATION;
  g_ptr_array_add (t->versions, template_version ("1", 1000));
  LodgeTemplateVersion *v2 = template_version ("2", 5ULL << 30);
  v2->manifest = g_strdup ("<app name=\"web\"/>");
  v2->config_templates = lodge_template_config_templates_new ();
  const char binary[] = "port={{port}}\n\001\377";
  g_hash_table_insert (v2->config_templates, g_strdup ("etc/web.conf"),
                       g_bytes_new (binary, sizeof binary));
  g_ptr_array_add (t->versions, v2);

  g_autoptr (GBytes) json = lodge_template_to_json (t);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) back = lodge_template_from_json ("web", json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "web");
  g_assert_cmpstr (back->pool, ==, "lodge-templates");
  g_assert_cmpstr (back->image, ==, "tmpl-web");
  g_assert_cmpint (back->kind, ==, LODGE_TEMPLATE_KIND_APPLICATION);
  g_assert_cmpuint (back->versions->len, ==, 2);
  const LodgeTemplateVersion *b1 = back->versions->pdata[0];
  g_assert_cmpstr (b1->version, ==, "1");
  g_assert_cmpstr (b1->snapshot, ==, "v-1");
  g_assert_cmpstr (b1->created, ==, "2025-03-01T12:00:00Z");
  g_assert_cmpstr (b1->source, ==, "/srv/trees/debian");
  g_assert_cmpuint (b1->bytes, ==, 1000);
  g_assert_cmpuint (b1->files, ==, 1234);
  g_assert_cmpuint (b1->image_size, ==, 256ULL << 20);
  g_assert_null (b1->manifest);
  g_assert_null (b1->config_templates);
  const LodgeTemplateVersion *b2 = back->versions->pdata[1];
  g_assert_cmpuint (b2->bytes, ==, 5ULL << 30);
  g_assert_cmpstr (b2->manifest, ==, "<app name=\"web\"/>");
  g_assert_cmpuint (g_hash_table_size (b2->config_templates), ==, 1);
  GBytes *conf = g_hash_table_lookup (b2->config_templates, "etc/web.conf");
  g_assert_nonnull (conf);
  g_assert_cmpmem (g_bytes_get_data (conf, NULL), g_bytes_get_size (conf), binary, sizeof binary);
  g_autoptr (GBytes) again = lodge_template_to_json (back);
  g_assert_true (g_bytes_equal (json, again));

  /* The newest version is the default one. */
  g_assert_true (lodge_template_find_version (back, NULL, NULL) == b2);
  g_assert_true (lodge_template_find_version (back, "1", NULL) == b1);
  g_assert_null (lodge_template_find_version (back, "3", &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "template web has no version '3' (it has 1, 2)");
}

/* The form records were stored in before the record moved to storage/:
 * read, and written again byte for byte. */
static void
test_template_stored_form (void)
{
  const char *stored =
    "{\"name\":\"debian\",\"pool\":\"lodge-templates\",\"image\":\"tmpl-debian\",\"kind\":\"os\","
    "\"versions\":[{\"version\":\"1\",\"snapshot\":\"v-1\",\"created\":\"2025-03-01T12:00:00Z\","
    "\"source\":\"/srv/debian.tar.gz\",\"bytes\":123456789,\"files\":4321,"
    "\"image_size\":268435456}]}";
  g_autoptr (GBytes) json = bytes (stored);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_from_json ("debian", json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->kind, ==, LODGE_TEMPLATE_KIND_OS);
  g_assert_cmpuint (t->versions->len, ==, 1);
  g_assert_cmpuint (((LodgeTemplateVersion *) t->versions->pdata[0])->bytes, ==, 123456789);
  g_autoptr (GBytes) again = lodge_template_to_json (t);
  g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again), stored, strlen (stored));

  /* The oldest records had only versions: an OS template in the usual
   * place; members of the wrong type are left out, not trusted. */
  g_autoptr (GBytes) old = bytes ("{\"versions\":[{\"version\":\"7\"},3,\"x\"],\"future\":true}");
  g_autoptr (LodgeTemplate) o = lodge_template_from_json ("old", old, &error);
  g_assert_no_error (error);
  g_assert_cmpint (o->kind, ==, LODGE_TEMPLATE_KIND_OS);
  g_assert_cmpstr (o->pool, ==, "lodge-templates");
  g_assert_cmpstr (o->image, ==, "tmpl-old");
  g_assert_cmpuint (o->versions->len, ==, 1);
  const LodgeTemplateVersion *v = o->versions->pdata[0];
  g_assert_cmpstr (v->version, ==, "7");
  g_assert_cmpstr (v->snapshot, ==, "?");
  g_assert_cmpuint (v->image_size, ==, 0);
  g_autoptr (GBytes) odd = bytes ("{\"versions\":{\"version\":\"1\"}}");
  g_autoptr (LodgeTemplate) none = lodge_template_from_json ("odd", odd, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->versions->len, ==, 0);
}

static void
test_template_refused (void)
{
  const char *bad[][2] = {
    { "[]", "a template record is not a JSON object" },
    { "{\"versions\":[", "a template record is not a JSON object" },
    { "{\"kind\":\"vm\"}", "template t: unknown kind 'vm' in its record" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GBytes) b = bytes (bad[i][0]);
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeTemplate) t = lodge_template_from_json ("t", b, &error);
      g_assert_null (t);
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, bad[i][1]);
    }
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_template_check_name ("debian-12", NULL));
  g_assert_false (lodge_template_check_name ("Debian", &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (lodge_template_check_version ("12.1_rc-2", NULL));
  g_assert_false (lodge_template_check_version ("-1", &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/node-round-trip", test_node_round_trip);
  g_test_add_func ("/records/runtime-round-trip", test_runtime_round_trip);
  g_test_add_func ("/records/refused", test_refused);
  g_test_add_func ("/records/unknown-members", test_unknown_members);
  g_test_add_func ("/records/node-accel", test_node_accel);
  g_test_add_func ("/records/template-round-trip", test_template_round_trip);
  g_test_add_func ("/records/template-stored-form", test_template_stored_form);
  g_test_add_func ("/records/template-refused", test_template_refused);
  return g_test_run ();
}
