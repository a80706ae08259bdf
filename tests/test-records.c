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
  g_assert_null (back->firmware); /* QEMU's default */
  g_assert_false (back->ksm);
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

/* The agent's report: everything but the control center's part. */
static void
test_node_report_round_trip (void)
{
  g_autoptr (LodgeNodeReport) r = lodge_node_report_new ("node2");
  r->libvirt_uri = g_strdup ("qemu+tcp://127.0.1.2/system");
  r->address = g_strdup ("127.0.1.2");
  r->accel = LODGE_ACCEL_KVM;
  r->kernel = g_strdup ("/boot/vmlinuz");
  r->initrd = g_strdup ("/boot/initrd.img");
  r->firmware = g_strdup ("/usr/share/qemu/qboot.rom");
  r->ksm = TRUE;
  r->bridge = g_strdup ("lodgebr0");
  r->secret_uuid = g_strdup ("6c0d6a36-1b6a-4f4e-9a55-0d9e1f3c1a01");
  r->ceph_id = g_strdup ("node.node2");
  r->ceph_conf = g_strdup ("/etc/ceph/node2.conf");
  r->cpus = 8;
  r->memory = 16ULL << 30;
  r->memory_ratio = 1.5;
  r->cpu_ratio = 4.0;
  r->heartbeat_us = 1795655920453023;
  r->registered_us = 1795655900000000;
  r->agent = g_strdup ("lodge-agent 0.1.0 pid 7");
  r->rados_addr = g_strdup ("127.0.1.2:0/123456");
  lodge_node_report_set_domain (r, "web1", LODGE_DOMAIN_STATE_RUNNING);
  lodge_node_report_set_domain (r, "db1", LODGE_DOMAIN_STATE_CRASHED);
  lodge_node_report_set_domain (r, "gone1", LODGE_DOMAIN_STATE_SHUTOFF);
  lodge_node_report_remove_domain (r, "gone1");
  lodge_node_report_remove_domain (r, "never-there");
  g_autoptr (GBytes) json = lodge_node_report_to_json (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeNodeReport) back = lodge_node_report_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "node2");
  g_assert_cmpstr (back->libvirt_uri, ==, r->libvirt_uri);
  g_assert_cmpstr (back->address, ==, "127.0.1.2");
  g_assert_cmpint (back->accel, ==, LODGE_ACCEL_KVM);
  g_assert_null (back->accel_reason);
  g_assert_cmpstr (back->initrd, ==, "/boot/initrd.img");
  g_assert_cmpstr (back->firmware, ==, "/usr/share/qemu/qboot.rom");
  g_assert_true (back->ksm);
  g_assert_cmpstr (back->ceph_conf, ==, "/etc/ceph/node2.conf");
  g_assert_cmpstr (back->ceph_id, ==, "node.node2");
  g_assert_cmpuint (back->cpus, ==, 8);
  g_assert_cmpuint (back->memory, ==, 16ULL << 30);
  g_assert_cmpfloat (back->memory_ratio, ==, 1.5);
  g_assert_cmpfloat (back->cpu_ratio, ==, 4.0);
  g_assert_cmpint (back->heartbeat_us, ==, 1795655920453023);
  g_assert_cmpint (back->registered_us, ==, 1795655900000000);
  g_assert_cmpstr (back->rados_addr, ==, "127.0.1.2:0/123456");
  g_assert_cmpuint (back->domains->len, ==, 2);
  g_assert_cmpstr (((LodgeNodeDomain *) back->domains->pdata[1])->name, ==, "db1");
  g_assert_cmpint (((LodgeNodeDomain *) back->domains->pdata[1])->state, ==,
                   LODGE_DOMAIN_STATE_CRASHED);
  /* No control center's part in it, so none read back. */
  g_assert_null (back->legacy_decision);
  g_autoptr (GBytes) again = lodge_node_report_to_json (back);
  g_assert_true (g_bytes_equal (json, again));

  /* What the agent never reported reads as nothing known. */
  g_autoptr (GBytes) bare = bytes ("{\"name\":\"n\",\"libvirt_uri\":\"x\"}");
  g_autoptr (LodgeNodeReport) b = lodge_node_report_from_json (bare, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->accel, ==, LODGE_ACCEL_TCG);
  g_assert_cmpint (b->registered_us, ==, 0);
  g_assert_cmpfloat (b->memory_ratio, ==, 1.0);
  g_assert_cmpuint (b->domains->len, ==, 0);
  g_assert_null (b->legacy_decision);
}

static void
test_node_decision_round_trip (void)
{
  g_autoptr (LodgeNodeDecision) fresh = lodge_node_decision_new ("node3");
  g_assert_cmpint (fresh->state, ==, LODGE_NODE_UP);
  g_autoptr (GBytes) fresh_json = lodge_node_decision_to_json (fresh);
  const char *fresh_text = "{\"name\":\"node3\",\"state\":\"up\"}";
  g_assert_cmpmem (g_bytes_get_data (fresh_json, NULL), g_bytes_get_size (fresh_json), fresh_text,
                   strlen (fresh_text));

  g_autoptr (LodgeNodeDecision) d = lodge_node_decision_new ("node3");
  d->state = LODGE_NODE_FENCED;
  d->fenced_us = 1795655999000000;
  d->tcg_reason = g_strdup ("QEMU failed under KVM (failed to set MSR 0x10a)");
  d->tcg_registration = 1795655900000000;
  g_autoptr (GBytes) json = lodge_node_decision_to_json (d);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeNodeDecision) back = lodge_node_decision_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "node3");
  g_assert_cmpint (back->state, ==, LODGE_NODE_FENCED);
  g_assert_cmpint (back->fenced_us, ==, 1795655999000000);
  g_assert_cmpstr (back->tcg_reason, ==, d->tcg_reason);
  g_assert_cmpint (back->tcg_registration, ==, 1795655900000000);
  g_autoptr (GBytes) again = lodge_node_decision_to_json (back);
  g_assert_true (g_bytes_equal (json, again));

  const char *bad[][2] = {
    { "\"up\"", "a node decision record is not a JSON object" },
    { "{\"state\":\"up\"}", "a node decision record lacks \"name\"" },
    { "{\"name\":\"n\",\"state\":\"asleep\"}", "a node decision record has no valid \"state\" (asleep)" },
    { "{\"name\":\"n\"}", "a node decision record has no valid \"state\" (missing)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GBytes) b = bytes (bad[i][0]);
      g_autoptr (GError) e = NULL;
      g_autoptr (LodgeNodeDecision) r = lodge_node_decision_from_json (b, &e);
      g_assert_null (r);
      g_assert_error (e, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED);
      g_assert_cmpstr (e->message, ==, bad[i][1]);
    }
}

/* A node record as code before the split stored it: one object, the
 * agent's part and the control center's. */
static const char old_record[] =
  "{\"name\":\"node1\",\"libvirt_uri\":\"qemu+tcp://127.0.1.1/system\",\"address\":\"127.0.1.1\","
  "\"accel\":\"kvm\",\"kernel\":\"/var/lib/lodge/kernel/vmlinuz-lodge\",\"bridge\":\"lodgebr0\","
  "\"secret_uuid\":\"6c0d6a36-1b6a-4f4e-9a55-0d9e1f3c1a01\",\"cpus\":2,\"memory\":4294967296,"
  "\"memory_ratio\":1.5,\"cpu_ratio\":4.0,\"state\":\"fenced\",\"heartbeat_us\":1795655920453023,"
  "\"agent\":\"lodge-agent 0.1.0 pid 42\",\"rados_addr\":\"127.0.1.1:0/4242\","
  "\"fenced_us\":1795655930000000,\"domains\":[{\"name\":\"web1\",\"state\":\"running\"}]}";

/* Read during an upgrade: as a report carrying the control center's part,
 * which is in force while the node has no decision record and is written
 * back with the report; the combined view is what the old reader saw. */
static void
test_node_old_record (void)
{
  g_autoptr (GBytes) json = bytes (old_record);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeNodeReport) r = lodge_node_report_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->name, ==, "node1");
  g_assert_cmpint (r->accel, ==, LODGE_ACCEL_KVM);
  g_assert_cmpint (r->heartbeat_us, ==, 1795655920453023);
  g_assert_cmpint (r->registered_us, ==, 0);
  g_assert_cmpuint (r->domains->len, ==, 1);
  g_assert_nonnull (r->legacy_decision);
  g_assert_cmpstr (r->legacy_decision->name, ==, "node1");
  g_assert_cmpint (r->legacy_decision->state, ==, LODGE_NODE_FENCED);
  g_assert_cmpint (r->legacy_decision->fenced_us, ==, 1795655930000000);

  /* No decision record: the old one is in force, and the view is the
   * record as it was. */
  g_autoptr (LodgeNodeDecision) in_force = lodge_node_decision_in_force (NULL, r);
  g_assert_cmpint (in_force->state, ==, LODGE_NODE_FENCED);
  g_autoptr (LodgeNodeRecord) view = lodge_node_record_combine (r, in_force);
  g_autoptr (GBytes) view_json = lodge_node_record_to_json (view);
  g_assert_cmpmem (g_bytes_get_data (view_json, NULL), g_bytes_get_size (view_json), old_record,
                   strlen (old_record));
  g_autoptr (LodgeNodeRecord) old_reader = lodge_node_record_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (old_reader->state, ==, view->state);

  /* The agent writes it back with its report, unchanged. */
  g_autoptr (GBytes) rewritten = lodge_node_report_to_json (r);
  g_autoptr (LodgeNodeReport) again = lodge_node_report_from_json (rewritten, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again->legacy_decision);
  g_assert_cmpint (again->legacy_decision->state, ==, LODGE_NODE_FENCED);
  g_assert_cmpint (again->legacy_decision->fenced_us, ==, 1795655930000000);

  /* Once the control center has decided in a record of its own, that
   * record is in force. */
  g_autoptr (LodgeNodeDecision) stored = lodge_node_decision_new ("node1");
  stored->state = LODGE_NODE_DRAINING;
  g_autoptr (LodgeNodeDecision) now = lodge_node_decision_in_force (stored, r);
  g_assert_cmpint (now->state, ==, LODGE_NODE_DRAINING);
  g_assert_cmpint (now->fenced_us, ==, 0);

  /* A report of the new code carries nothing: up until decided. */
  g_clear_pointer (&r->legacy_decision, lodge_node_decision_free);
  g_autoptr (LodgeNodeDecision) none = lodge_node_decision_in_force (NULL, r);
  g_assert_cmpint (none->state, ==, LODGE_NODE_UP);
  g_assert_cmpstr (none->name, ==, "node1");

  /* An old record with a state no reader knows is refused as before. */
  g_autoptr (GBytes) bad = bytes ("{\"name\":\"n\",\"libvirt_uri\":\"x\",\"state\":\"sleepy\"}");
  g_autoptr (LodgeNodeReport) refused = lodge_node_report_from_json (bad, &error);
  g_assert_null (refused);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "a node record has no valid \"state\" (sleepy)");
}

/* The combined view: the decision's state; TCG after KVM failed only for
 * the registration the decision was made for. */
static void
test_node_combine (void)
{
  g_autoptr (LodgeNodeReport) r = lodge_node_report_new ("node1");
  r->libvirt_uri = g_strdup ("qemu:///system");
  r->accel = LODGE_ACCEL_KVM;
  r->registered_us = 100;
  r->heartbeat_us = 150;
  r->cpus = 4;
  r->ceph_id = g_strdup ("node.node1");
  lodge_node_report_set_domain (r, "web1", LODGE_DOMAIN_STATE_RUNNING);

  g_autoptr (LodgeNodeRecord) undecided = lodge_node_record_combine (r, NULL);
  g_assert_cmpint (undecided->state, ==, LODGE_NODE_UP);
  g_assert_cmpstr (undecided->ceph_id, ==, "node.node1");
  g_assert_cmpint (undecided->accel, ==, LODGE_ACCEL_KVM);
  g_assert_cmpint (undecided->heartbeat_us, ==, 150);
  g_assert_cmpuint (undecided->cpus, ==, 4);
  g_assert_cmpuint (undecided->domains->len, ==, 1);
  g_assert_true (undecided->domains != r->domains);

  g_autoptr (LodgeNodeDecision) d = lodge_node_decision_new ("node1");
  d->state = LODGE_NODE_DRAINING;
  d->tcg_reason = g_strdup ("QEMU failed under KVM (boom)");
  d->tcg_registration = 100;
  g_autoptr (LodgeNodeRecord) tcg = lodge_node_record_combine (r, d);
  g_assert_cmpint (tcg->state, ==, LODGE_NODE_DRAINING);
  g_assert_cmpint (tcg->accel, ==, LODGE_ACCEL_TCG);
  g_assert_cmpstr (tcg->accel_reason, ==, "QEMU failed under KVM (boom)");

  /* Registered again: the agent probed again, its word counts. */
  r->registered_us = 200;
  g_autoptr (LodgeNodeRecord) probed = lodge_node_record_combine (r, d);
  g_assert_cmpint (probed->accel, ==, LODGE_ACCEL_KVM);
  g_assert_null (probed->accel_reason);

  /* An agent that found TCG itself keeps its own reason. */
  r->registered_us = 100;
  r->accel = LODGE_ACCEL_TCG;
  r->accel_reason = g_strdup ("no /dev/kvm");
  g_autoptr (LodgeNodeRecord) own = lodge_node_record_combine (r, d);
  g_assert_cmpint (own->accel, ==, LODGE_ACCEL_TCG);
  g_assert_cmpstr (own->accel_reason, ==, "no /dev/kvm");
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

/* A repair claim's parts survive the round trip, and the record keeps the
 * sentence "OP by WHO since TIME" that controllers of the code before
 * the parts read. */
static void
test_repair_claim (void)
{
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_new ("web1");
  g_autoptr (GDateTime) t = g_date_time_new_utc (2026, 11, 26, 7, 12, 3);
  r->repair = lodge_repair_claim_new ("app install", "alice (uid 1000)",
                                      g_date_time_to_unix (t) * G_USEC_PER_SEC + 250000,
                                      "ctl-host:42:1", "repair-20261126T071203Z");
  g_autoptr (GBytes) json = lodge_runtime_record_to_json (r);
  g_autofree char *text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));
  g_assert_nonnull (strstr (
    text, "\"repair\":\"app install by alice (uid 1000) since 2026-11-26T07:12:03Z\""));
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) back = lodge_runtime_record_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back->repair);
  g_assert_cmpstr (back->repair->op, ==, "app install");
  g_assert_cmpstr (back->repair->who, ==, "alice (uid 1000)");
  g_assert_cmpint (back->repair->since_us, ==, r->repair->since_us);
  g_assert_cmpstr (back->repair->owner, ==, "ctl-host:42:1");
  g_assert_cmpstr (back->repair->snapshot, ==, "repair-20261126T071203Z");
  g_autoptr (GBytes) again = lodge_runtime_record_to_json (back);
  g_assert_true (g_bytes_equal (json, again));

  /* No claim: none of its members. */
  g_clear_pointer (&r->repair, lodge_repair_claim_free);
  g_autoptr (GBytes) unclaimed = lodge_runtime_record_to_json (r);
  g_autofree char *unclaimed_text = g_strndup (g_bytes_get_data (unclaimed, NULL),
                                               g_bytes_get_size (unclaimed));
  g_assert_null (strstr (unclaimed_text, "repair"));
}

/* A record the code before the parts wrote: the sentence only, read into
 * its parts; one that does not read so is kept whole. */
static void
test_repair_claim_old_record (void)
{
  g_autoptr (GBytes) b = bytes ("{\"name\":\"w\",\"desired\":\"stopped\",\"phase\":\"stopped\","
                                "\"repair\":\"revert by bob (API token) since 2026-01-02T03:04:05Z\","
                                "\"repair_owner\":\"h:1:2\",\"repair_snapshot\":\"repair-x\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_from_json (b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r->repair);
  g_assert_cmpstr (r->repair->op, ==, "revert");
  g_assert_cmpstr (r->repair->who, ==, "bob (API token)");
  g_autoptr (GDateTime) t = g_date_time_new_utc (2026, 1, 2, 3, 4, 5);
  g_assert_cmpint (r->repair->since_us, ==, g_date_time_to_unix (t) * G_USEC_PER_SEC);
  g_assert_cmpstr (r->repair->owner, ==, "h:1:2");
  g_assert_cmpstr (r->repair->snapshot, ==, "repair-x");
  g_autofree char *said = lodge_repair_claim_describe (r->repair);
  g_assert_cmpstr (said, ==, "revert by bob (API token) since 2026-01-02T03:04:05Z");

  g_autoptr (GBytes) odd = bytes ("{\"name\":\"w\",\"desired\":\"stopped\",\"phase\":\"stopped\","
                                  "\"repair\":\"held since yesterday\",\"repair_owner\":\"h:1:2\"}");
  g_autoptr (LodgeRuntimeRecord) o = lodge_runtime_record_from_json (odd, &error);
  g_assert_no_error (error);
  g_assert_nonnull (o->repair);
  g_assert_cmpstr (o->repair->op, ==, "held since yesterday");
  g_assert_null (o->repair->who);
  g_assert_null (o->repair->snapshot);
  g_autofree char *odd_said = lodge_repair_claim_describe (o->repair);
  g_assert_cmpstr (odd_said, ==, "held since yesterday");
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
  g_test_add_func ("/records/node-report-round-trip", test_node_report_round_trip);
  g_test_add_func ("/records/node-decision-round-trip", test_node_decision_round_trip);
  g_test_add_func ("/records/node-old-record", test_node_old_record);
  g_test_add_func ("/records/node-combine", test_node_combine);
  g_test_add_func ("/records/template-round-trip", test_template_round_trip);
  g_test_add_func ("/records/template-stored-form", test_template_stored_form);
  g_test_add_func ("/records/template-refused", test_template_refused);
  g_test_add_func ("/records/repair-claim", test_repair_claim);
  g_test_add_func ("/records/repair-claim-old-record", test_repair_claim_old_record);
  return g_test_run ();
}
