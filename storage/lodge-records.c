#include "lodge-records.h"

#include <string.h>

#include "lodge-json.h"

#include "lodge-storage-error.h"

LODGE_ENUM_IMPL (lodge_node_state, LODGE_NODE_STATE_LAST, "up", "down", "draining", "fenced");
LODGE_ENUM_IMPL (lodge_domain_state, LODGE_DOMAIN_STATE_LAST,
                 "shutoff", "running", "paused", "shutting-down", "crashed", "other");
LODGE_ENUM_IMPL (lodge_desired_state, LODGE_DESIRED_LAST, "stopped", "running");
LODGE_ENUM_IMPL (lodge_stop_reason, LODGE_STOP_LAST, "none", "shutdown", "crashed", "panicked", "failed",
                 "destroyed", "gone", "other");
LODGE_ENUM_IMPL (lodge_phase, LODGE_PHASE_LAST,
                 "stopped", "starting", "running", "stopping", "migrating", "failed");

/* ---- JSON helpers ---- */

/* A flag written only when set: a reader of before it reads it unset. */
static void
put_true (JsonBuilder *b, const char *name, gboolean value)
{
  if (!value)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, TRUE);
}

static void
put_string (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
put_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
put_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

static GBytes *
finish (JsonBuilder *b)
{
  json_builder_end_object (b);
  return lodge_json_to_bytes (b);
}

static JsonObject *
parse_object (GBytes *json, const char *what, JsonParser *parser, GError **error)
{
  return lodge_json_parse_object (json, parser, what, error);
}

static char *
get_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (n));
}

static gboolean
get_enum (JsonObject *o, const char *name, int (*from_string) (const char *), int *ret,
          const char *what, GError **error)
{
  g_autofree char *s = get_string (o, name);
  int v = from_string (s);
  if (v < 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "a %s record has no valid \"%s\" (%s)", what, name, s != NULL ? s : "missing");
      return FALSE;
    }
  *ret = v;
  return TRUE;
}

/* ---- nodes: their domains ---- */

static void
node_domain_free (LodgeNodeDomain *d)
{
  g_free (d->name);
  g_free (d);
}

static GPtrArray *
domains_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) node_domain_free);
}

static void
domains_set (GPtrArray *domains, const char *name, LodgeDomainState state)
{
  for (guint i = 0; i < domains->len; i++)
    {
      LodgeNodeDomain *d = domains->pdata[i];
      if (g_strcmp0 (d->name, name) == 0)
        {
          d->state = state;
          return;
        }
    }
  LodgeNodeDomain *d = g_new0 (LodgeNodeDomain, 1);
  d->name = g_strdup (name);
  d->state = state;
  g_ptr_array_add (domains, d);
}

static void
domains_copy (GPtrArray *to, GPtrArray *from)
{
  for (guint i = 0; i < from->len; i++)
    {
      const LodgeNodeDomain *d = from->pdata[i];
      domains_set (to, d->name, d->state);
    }
}

static void
put_domains (JsonBuilder *b, GPtrArray *domains)
{
  json_builder_set_member_name (b, "domains");
  json_builder_begin_array (b);
  for (guint i = 0; i < domains->len; i++)
    {
      LodgeNodeDomain *d = domains->pdata[i];
      json_builder_begin_object (b);
      put_string (b, "name", d->name);
      put_string (b, "state", lodge_domain_state_to_string (d->state));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
get_domains (JsonObject *o, GPtrArray *domains)
{
  JsonNode *node = json_object_get_member (o, "domains");
  JsonArray *arr = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonNode *e = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *d = json_node_get_object (e);
      g_autofree char *name = get_string (d, "name");
      g_autofree char *dstate = get_string (d, "state");
      int st = lodge_domain_state_from_string (dstate);
      if (name != NULL)
        domains_set (domains, name, st >= 0 ? st : LODGE_DOMAIN_STATE_OTHER);
    }
}

/* What is not known to work is TCG. */
static LodgeAccel
get_accel (JsonObject *o)
{
  g_autofree char *accel = get_string (o, "accel");
  int a = lodge_accel_from_string (accel);
  return a >= 0 ? a : LODGE_ACCEL_TCG;
}

/* ---- nodes: the control center's decisions ---- */

LodgeNodeDecision *
lodge_node_decision_new (const char *name)
{
  LodgeNodeDecision *d = g_new0 (LodgeNodeDecision, 1);
  d->name = g_strdup (name);
  d->state = LODGE_NODE_UP;
  return d;
}

void
lodge_node_decision_free (LodgeNodeDecision *d)
{
  if (d == NULL)
    return;
  g_free (d->name);
  g_free (d->tcg_reason);
  g_free (d);
}

LodgeNodeDecision *
lodge_node_decision_copy (const LodgeNodeDecision *d)
{
  LodgeNodeDecision *c = g_new0 (LodgeNodeDecision, 1);
  *c = *d;
  c->name = g_strdup (d->name);
  c->tcg_reason = g_strdup (d->tcg_reason);
  return c;
}

/* The members of a decision, in a record of its own or (before the split)
 * in the node's one record. */
static void
put_decision (JsonBuilder *b, const LodgeNodeDecision *d)
{
  put_string (b, "state", lodge_node_state_to_string (d->state));
  if (d->fenced_us != 0)
    put_int (b, "fenced_us", d->fenced_us);
  if (d->tcg_reason != NULL)
    {
      put_string (b, "tcg_reason", d->tcg_reason);
      put_int (b, "tcg_registration", d->tcg_registration);
    }
}

static LodgeNodeDecision *
get_decision (JsonObject *o, const char *name, const char *what, GError **error)
{
  g_autoptr (LodgeNodeDecision) d = lodge_node_decision_new (name);
  int state;
  if (!get_enum (o, "state", lodge_node_state_from_string, &state, what, error))
    return NULL;
  d->state = state;
  d->fenced_us = json_object_get_int_member_with_default (o, "fenced_us", 0);
  d->tcg_reason = get_string (o, "tcg_reason");
  d->tcg_registration = json_object_get_int_member_with_default (o, "tcg_registration", 0);
  return g_steal_pointer (&d);
}

GBytes *
lodge_node_decision_to_json (const LodgeNodeDecision *d)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  put_string (b, "name", d->name);
  put_decision (b, d);
  return finish (b);
}

LodgeNodeDecision *
lodge_node_decision_from_json (GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (json, "node decision", parser, error);
  if (o == NULL)
    return NULL;
  g_autofree char *name = get_string (o, "name");
  if (name == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "a node decision record lacks \"name\"");
      return NULL;
    }
  return get_decision (o, name, "node decision", error);
}

LodgeNodeDecision *
lodge_node_decision_in_force (const LodgeNodeDecision *stored, const LodgeNodeReport *report)
{
  if (stored != NULL)
    return lodge_node_decision_copy (stored);
  if (report->legacy_decision != NULL)
    return lodge_node_decision_copy (report->legacy_decision);
  return lodge_node_decision_new (report->name);
}

/* ---- nodes: their agents' reports ---- */

LodgeNodeReport *
lodge_node_report_new (const char *name)
{
  LodgeNodeReport *r = g_new0 (LodgeNodeReport, 1);
  r->name = g_strdup (name);
  r->domains = domains_new ();
  r->memory_ratio = 1.0;
  r->cpu_ratio = 1.0;
  return r;
}

void
lodge_node_report_free (LodgeNodeReport *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->libvirt_uri);
  g_free (r->address);
  g_free (r->accel_reason);
  g_free (r->kernel);
  g_free (r->initrd);
  g_free (r->firmware);
  g_free (r->bridge);
  g_free (r->secret_uuid);
  g_free (r->ceph_id);
  g_free (r->ceph_conf);
  g_free (r->agent);
  g_free (r->rados_addr);
  g_ptr_array_unref (r->domains);
  lodge_node_decision_free (r->legacy_decision);
  g_free (r);
}

void
lodge_node_report_set_domain (LodgeNodeReport *r, const char *name, LodgeDomainState state)
{
  domains_set (r->domains, name, state);
}

void
lodge_node_report_remove_domain (LodgeNodeReport *r, const char *name)
{
  for (guint i = 0; i < r->domains->len; i++)
    if (g_strcmp0 (((LodgeNodeDomain *) r->domains->pdata[i])->name, name) == 0)
      {
        g_ptr_array_remove_index (r->domains, i);
        return;
      }
}

GBytes *
lodge_node_report_to_json (const LodgeNodeReport *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  put_string (b, "name", r->name);
  put_string (b, "libvirt_uri", r->libvirt_uri);
  put_string (b, "address", r->address);
  put_string (b, "accel", lodge_accel_to_string (r->accel));
  put_string (b, "accel_reason", r->accel_reason);
  put_string (b, "kernel", r->kernel);
  put_string (b, "initrd", r->initrd);
  put_string (b, "firmware", r->firmware);
  put_string (b, "bridge", r->bridge);
  put_string (b, "secret_uuid", r->secret_uuid);
  put_string (b, "ceph_id", r->ceph_id);
  put_int (b, "cpus", r->cpus);
  put_int (b, "memory", (gint64) r->memory);
  put_double (b, "memory_ratio", r->memory_ratio);
  put_double (b, "cpu_ratio", r->cpu_ratio);
  put_int (b, "heartbeat_us", r->heartbeat_us);
  if (r->registered_us != 0)
    put_int (b, "registered_us", r->registered_us);
  put_string (b, "agent", r->agent);
  put_string (b, "ceph_conf", r->ceph_conf);
  put_true (b, "cpu_tuning", r->cpu_tuning);
  put_true (b, "ksm", r->ksm);
  put_string (b, "rados_addr", r->rados_addr);
  if (r->legacy_decision != NULL)
    put_decision (b, r->legacy_decision);
  put_domains (b, r->domains);
  return finish (b);
}

/* The members a report and the one record of before the split share. */
static LodgeNodeReport *
get_report (JsonObject *o, GError **error)
{
  g_autofree char *name = get_string (o, "name");
  g_autofree char *libvirt_uri = get_string (o, "libvirt_uri");
  if (name == NULL || libvirt_uri == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "a node record lacks \"name\" or \"libvirt_uri\"");
      return NULL;
    }
  LodgeNodeReport *r = lodge_node_report_new (name);
  r->libvirt_uri = g_steal_pointer (&libvirt_uri);
  r->address = get_string (o, "address");
  r->accel = get_accel (o);
  r->accel_reason = get_string (o, "accel_reason");
  r->kernel = get_string (o, "kernel");
  r->initrd = get_string (o, "initrd");
  r->firmware = get_string (o, "firmware");
  r->bridge = get_string (o, "bridge");
  r->secret_uuid = get_string (o, "secret_uuid");
  r->ceph_id = get_string (o, "ceph_id");
  r->agent = get_string (o, "agent");
  r->ceph_conf = get_string (o, "ceph_conf");
  r->cpu_tuning = json_object_get_boolean_member_with_default (o, "cpu_tuning", FALSE);
  r->ksm = json_object_get_boolean_member_with_default (o, "ksm", FALSE);
  r->rados_addr = get_string (o, "rados_addr");
  r->cpus = (guint) json_object_get_int_member_with_default (o, "cpus", 0);
  r->memory = (guint64) json_object_get_int_member_with_default (o, "memory", 0);
  r->memory_ratio = json_object_get_double_member_with_default (o, "memory_ratio", 1.0);
  r->cpu_ratio = json_object_get_double_member_with_default (o, "cpu_ratio", 1.0);
  r->heartbeat_us = json_object_get_int_member_with_default (o, "heartbeat_us", 0);
  r->registered_us = json_object_get_int_member_with_default (o, "registered_us", 0);
  get_domains (o, r->domains);
  return r;
}

LodgeNodeReport *
lodge_node_report_from_json (GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (json, "node", parser, error);
  if (o == NULL)
    return NULL;
  g_autoptr (LodgeNodeReport) r = get_report (o, error);
  if (r == NULL)
    return NULL;
  if (json_object_has_member (o, "state"))
    {
      r->legacy_decision = get_decision (o, r->name, "node", error);
      if (r->legacy_decision == NULL)
        return NULL;
    }
  return g_steal_pointer (&r);
}

/* ---- nodes: as readers see them ---- */

LodgeNodeRecord *
lodge_node_record_new (void)
{
  LodgeNodeRecord *r = g_new0 (LodgeNodeRecord, 1);
  r->domains = domains_new ();
  r->memory_ratio = 1.0;
  r->cpu_ratio = 1.0;
  return r;
}

void
lodge_node_record_free (LodgeNodeRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->libvirt_uri);
  g_free (r->address);
  g_free (r->accel_reason);
  g_free (r->kernel);
  g_free (r->initrd);
  g_free (r->firmware);
  g_free (r->bridge);
  g_free (r->secret_uuid);
  g_free (r->ceph_id);
  g_free (r->ceph_conf);
  g_free (r->agent);
  g_free (r->rados_addr);
  g_ptr_array_unref (r->domains);
  g_free (r);
}

void
lodge_node_record_set_domain (LodgeNodeRecord *r, const char *name, LodgeDomainState state)
{
  domains_set (r->domains, name, state);
}

LodgeNodeRecord *
lodge_node_record_combine (const LodgeNodeReport *report, const LodgeNodeDecision *decision)
{
  LodgeNodeRecord *r = lodge_node_record_new ();
  r->name = g_strdup (report->name);
  r->libvirt_uri = g_strdup (report->libvirt_uri);
  r->address = g_strdup (report->address);
  r->accel = report->accel;
  r->accel_reason = g_strdup (report->accel_reason);
  r->kernel = g_strdup (report->kernel);
  r->initrd = g_strdup (report->initrd);
  r->firmware = g_strdup (report->firmware);
  r->bridge = g_strdup (report->bridge);
  r->secret_uuid = g_strdup (report->secret_uuid);
  r->ceph_id = g_strdup (report->ceph_id);
  r->ceph_conf = g_strdup (report->ceph_conf);
  r->cpu_tuning = report->cpu_tuning;
  r->ksm = report->ksm;
  r->cpus = report->cpus;
  r->memory = report->memory;
  r->memory_ratio = report->memory_ratio;
  r->cpu_ratio = report->cpu_ratio;
  r->heartbeat_us = report->heartbeat_us;
  r->agent = g_strdup (report->agent);
  r->rados_addr = g_strdup (report->rados_addr);
  domains_copy (r->domains, report->domains);
  r->state = decision != NULL ? decision->state : LODGE_NODE_UP;
  r->fenced_us = decision != NULL ? decision->fenced_us : 0;
  /* TCG after KVM failed there: until the agent registers again (and
   * probes again). */
  if (decision != NULL && decision->tcg_reason != NULL && report->accel != LODGE_ACCEL_TCG
      && decision->tcg_registration == report->registered_us)
    {
      r->accel = LODGE_ACCEL_TCG;
      g_free (r->accel_reason);
      r->accel_reason = g_strdup (decision->tcg_reason);
    }
  return r;
}

GBytes *
lodge_node_record_to_json (const LodgeNodeRecord *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  put_string (b, "name", r->name);
  put_string (b, "libvirt_uri", r->libvirt_uri);
  put_string (b, "address", r->address);
  put_string (b, "accel", lodge_accel_to_string (r->accel));
  put_string (b, "accel_reason", r->accel_reason);
  put_string (b, "kernel", r->kernel);
  put_string (b, "initrd", r->initrd);
  put_string (b, "firmware", r->firmware);
  put_string (b, "bridge", r->bridge);
  put_string (b, "secret_uuid", r->secret_uuid);
  put_string (b, "ceph_id", r->ceph_id);
  put_int (b, "cpus", r->cpus);
  put_int (b, "memory", (gint64) r->memory);
  put_double (b, "memory_ratio", r->memory_ratio);
  put_double (b, "cpu_ratio", r->cpu_ratio);
  put_string (b, "state", lodge_node_state_to_string (r->state));
  put_int (b, "heartbeat_us", r->heartbeat_us);
  put_string (b, "agent", r->agent);
  put_string (b, "ceph_conf", r->ceph_conf);
  put_true (b, "cpu_tuning", r->cpu_tuning);
  put_true (b, "ksm", r->ksm);
  put_string (b, "rados_addr", r->rados_addr);
  if (r->fenced_us != 0)
    put_int (b, "fenced_us", r->fenced_us);
  put_domains (b, r->domains);
  return finish (b);
}

LodgeNodeRecord *
lodge_node_record_from_json (GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (json, "node", parser, error);
  if (o == NULL)
    return NULL;
  g_autoptr (LodgeNodeReport) report = get_report (o, error);
  if (report == NULL)
    return NULL;
  g_autoptr (LodgeNodeDecision) decision = get_decision (o, report->name, "node", error);
  if (decision == NULL)
    return NULL;
  return lodge_node_record_combine (report, decision);
}

/* ---- runtime ---- */

/* ---- repair claims ---- */

#define CLAIM_TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"

LodgeRepairClaim *
lodge_repair_claim_new (const char *op, const char *who, gint64 since_us, const char *owner,
                        const char *snapshot)
{
  LodgeRepairClaim *c = g_new0 (LodgeRepairClaim, 1);
  c->op = g_strdup (op);
  c->who = g_strdup (who);
  c->since_us = since_us;
  c->owner = g_strdup (owner);
  c->snapshot = g_strdup (snapshot);
  return c;
}

void
lodge_repair_claim_free (LodgeRepairClaim *c)
{
  if (c == NULL)
    return;
  g_free (c->op);
  g_free (c->who);
  g_free (c->owner);
  g_free (c->snapshot);
  g_free (c);
}

char *
lodge_repair_claim_describe (const LodgeRepairClaim *c)
{
  if (c->who == NULL)
    return g_strdup (c->op);
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (c->since_us / G_USEC_PER_SEC);
  g_autofree char *when = t != NULL ? g_date_time_format (t, CLAIM_TIME_FORMAT) : g_strdup ("?");
  return g_strdup_printf ("%s by %s since %s", c->op, c->who, when);
}

/* "repair" keeps the sentence the code before the structured members
 * wrote and read: a controller of that version still sees the claim. */
static void
put_repair_claim (JsonBuilder *b, const LodgeRepairClaim *c)
{
  if (c == NULL)
    return;
  g_autofree char *sentence = lodge_repair_claim_describe (c);
  put_string (b, "repair", sentence);
  put_string (b, "repair_owner", c->owner);
  put_string (b, "repair_snapshot", c->snapshot);
  put_string (b, "repair_op", c->op);
  put_string (b, "repair_who", c->who);
  put_int (b, "repair_since_us", c->since_us);
}

/* A record of the code before the structured members has only the
 * sentence "OP by WHO since TIME": read back into its parts when it
 * reads so (OP has no " by "; TIME is the last " since "). */
static void
parse_claim_sentence (LodgeRepairClaim *c, const char *sentence)
{
  const char *by = strstr (sentence, " by ");
  const char *since = g_strrstr (sentence, " since ");
  g_autoptr (GDateTime) t = by != NULL && since != NULL && since > by
                              ? g_date_time_new_from_iso8601 (since + 7, NULL) : NULL;
  if (t == NULL)
    {
      c->op = g_strdup (sentence); /* shown as it is */
      return;
    }
  c->op = g_strndup (sentence, by - sentence);
  c->who = g_strndup (by + 4, since - (by + 4));
  c->since_us = g_date_time_to_unix (t) * G_USEC_PER_SEC;
}

static LodgeRepairClaim *
get_repair_claim (JsonObject *o)
{
  g_autofree char *sentence = get_string (o, "repair");
  if (sentence == NULL)
    return NULL;
  LodgeRepairClaim *c = g_new0 (LodgeRepairClaim, 1);
  c->op = get_string (o, "repair_op");
  if (c->op != NULL)
    {
      c->who = get_string (o, "repair_who");
      c->since_us = json_object_get_int_member_with_default (o, "repair_since_us", 0);
    }
  else
    parse_claim_sentence (c, sentence);
  c->owner = get_string (o, "repair_owner");
  c->snapshot = get_string (o, "repair_snapshot");
  return c;
}

LodgeRuntimeRecord *
lodge_runtime_record_new (const char *name)
{
  LodgeRuntimeRecord *r = g_new0 (LodgeRuntimeRecord, 1);
  r->name = g_strdup (name);
  return r;
}

void
lodge_runtime_record_free (LodgeRuntimeRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->name);
  g_free (r->node);
  g_free (r->last_error);
  g_free (r->disk_pool);
  g_free (r->disk_image);
  g_free (r->template_version);
  g_free (r->target_node);
  lodge_repair_claim_free (r->repair);
  g_free (r);
}

GBytes *
lodge_runtime_record_to_json (const LodgeRuntimeRecord *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  put_string (b, "name", r->name);
  put_string (b, "desired", lodge_desired_state_to_string (r->desired));
  put_string (b, "phase", lodge_phase_to_string (r->phase));
  put_string (b, "node", r->node);
  put_int (b, "generation", (gint64) r->generation);
  put_int (b, "since_us", r->since_us);
  put_string (b, "last_error", r->last_error);
  put_string (b, "disk_pool", r->disk_pool);
  put_string (b, "disk_image", r->disk_image);
  put_string (b, "template_version", r->template_version);
  put_string (b, "target_node", r->target_node);
  put_repair_claim (b, r->repair);
  if (r->migrated_us != 0)
    {
      put_int (b, "migrated_us", r->migrated_us);
      put_int (b, "migration_ms", (gint64) r->migration_ms);
      put_int (b, "downtime_ms", (gint64) r->downtime_ms);
    }
  if (r->stop_reason != LODGE_STOP_NONE)
    put_string (b, "stop_reason", lodge_stop_reason_to_string (r->stop_reason));
  if (r->restarts != 0)
    {
      put_int (b, "restarts", r->restarts);
      json_builder_set_member_name (b, "recent_restarts_us");
      json_builder_begin_array (b);
      for (guint i = 0; i < r->n_recent_restarts; i++)
        json_builder_add_int_value (b, r->recent_restarts_us[i]);
      json_builder_end_array (b);
    }
  return finish (b);
}

LodgeRuntimeRecord *
lodge_runtime_record_from_json (GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (json, "runtime", parser, error);
  if (o == NULL)
    return NULL;
  g_autofree char *name = get_string (o, "name");
  if (name == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "a runtime record lacks \"name\"");
      return NULL;
    }
  g_autoptr (LodgeRuntimeRecord) r = lodge_runtime_record_new (name);
  int desired, phase;
  if (!get_enum (o, "desired", lodge_desired_state_from_string, &desired, "runtime", error)
      || !get_enum (o, "phase", lodge_phase_from_string, &phase, "runtime", error))
    return NULL;
  r->desired = desired;
  r->phase = phase;
  r->node = get_string (o, "node");
  r->generation = (guint64) json_object_get_int_member_with_default (o, "generation", 0);
  r->since_us = json_object_get_int_member_with_default (o, "since_us", 0);
  r->last_error = get_string (o, "last_error");
  r->disk_pool = get_string (o, "disk_pool");
  r->disk_image = get_string (o, "disk_image");
  r->template_version = get_string (o, "template_version");
  r->target_node = get_string (o, "target_node");
  r->repair = get_repair_claim (o);
  r->migrated_us = json_object_get_int_member_with_default (o, "migrated_us", 0);
  r->migration_ms = (guint64) json_object_get_int_member_with_default (o, "migration_ms", 0);
  r->downtime_ms = (guint64) json_object_get_int_member_with_default (o, "downtime_ms", 0);
  g_autofree char *reason = get_string (o, "stop_reason");
  int stop = reason != NULL ? lodge_stop_reason_from_string (reason) : LODGE_STOP_NONE;
  r->stop_reason = stop >= 0 ? stop : LODGE_STOP_OTHER;
  r->restarts = (guint) json_object_get_int_member_with_default (o, "restarts", 0);
  JsonNode *recent_node = json_object_get_member (o, "recent_restarts_us");
  JsonArray *recent = recent_node != NULL && JSON_NODE_HOLDS_ARRAY (recent_node)
                        ? json_node_get_array (recent_node)
                        : NULL;
  for (guint i = 0; recent != NULL && i < json_array_get_length (recent)
                    && r->n_recent_restarts < LODGE_CRASH_LOOP_MAX; i++)
    {
      JsonNode *t = json_array_get_element (recent, i);
      if (JSON_NODE_HOLDS_VALUE (t) && json_node_get_value_type (t) == G_TYPE_INT64)
        r->recent_restarts_us[r->n_recent_restarts++] = json_node_get_int (t);
    }
  return g_steal_pointer (&r);
}
