/* Node and runtime records: one JSON form, read back to the same values;
 * records that lack what they need are refused; unknown members pass. */
#include <string.h>

#include "lodge-records.h"
#include "lodge-storage-error.h"

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
  r->accel = g_strdup ("tcg");
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
  g_assert_cmpstr (back->accel, ==, "tcg");
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
  g_test_add_func ("/records/repair-claim", test_repair_claim);
  g_test_add_func ("/records/repair-claim-old-record", test_repair_claim_old_record);
  return g_test_run ();
}
