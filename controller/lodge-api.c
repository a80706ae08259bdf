#include "lodge-api.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-access.h"
#include "lodge-addresses.h"
#include "lodge-api-join.h"
#include "lodge-api-app.h"
#include "lodge-api-repair.h"
#include "lodge-api-template.h"
#include "lodge-api-users.h"
#include "lodge-customers.h"
#include "lodge-define.h"
#include "lodge-drain.h"
#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-http-guard.h"
#include "lodge-http.h"
#include "lodge-node-rpc.h"
#include "lodge-users.h"
#include "lodge-xml.h"

#define UNAUTHORIZED "this request needs 'Authorization: Bearer TOKEN': a user's token (lodge user add), or the cluster's"
/* A body of exec: up to 8 MiB of input, in base64, and the rest of the JSON. */
#define LODGE_API_MAX_EXEC_BODY ((guint64) 12 << 20)
/* The headers and body of an upload arrive within this; no more than the
 * idle limit passes between two of its pieces. */
#define UPLOAD_READ_S (6 * 3600)

struct _LodgeApi {
  SoupServer *server;
  LodgeHttpGuard *guard;
  LodgeServices *services;
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *lifecycle;
  char *socket_path;
  char *token; /* the cluster's: its holder is an admin */
  LodgeApiJoin join; /* what a joining controller is given */
  LodgeUsers *users;
  guint users_timer;
  gboolean users_refreshing;
  GMutex lock; /* guards the figures below */
  guint64 requests;
  guint64 errors;
  double latency_sum_s;
};

/* A request on its way through a worker thread. */
typedef struct {
  LodgeApi *api;
  LodgeHttpRequest *r;
} Call;

/* [record, ...] of the records' JSON. */
static void
respond_records (LodgeHttpRequest *r, GPtrArray *records, GBytes *(*to_json) (gconstpointer))
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < records->len; i++)
    {
      g_autoptr (GBytes) json = to_json (records->pdata[i]);
      json_builder_add_value (b, lodge_http_json_node (json));
    }
  json_builder_end_array (b);
  lodge_http_respond_built (r, 200, b);
}

static GBytes *
runtime_json (gconstpointer record)
{
  return lodge_runtime_record_to_json (record);
}

static GBytes *
node_json (gconstpointer record)
{
  return lodge_node_record_to_json (record);
}

/* ---- routes, in a worker thread ---- */

/* The steps of an operation, each with when it happened (ms since the
 * request arrived). */
typedef struct {
  LodgeHttpRequest *r;
  GPtrArray *what;
  GArray *ms;
} Steps;

static void
collect_step (const char *what, gpointer user_data)
{
  Steps *steps = user_data;
  gint64 ms = (g_get_monotonic_time () - steps->r->start_us) / 1000;
  g_ptr_array_add (steps->what, g_strdup (what));
  g_array_append_val (steps->ms, ms);
  lodge_http_post_step (steps->r, what, ms);
}

static void
route_lifecycle (LodgeApi *api, LodgeHttpRequest *r, const char *name,
                 LodgeLifecycleAction action)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) step_what = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) step_ms = g_array_new (FALSE, FALSE, sizeof (gint64));
  Steps steps = { r, step_what, step_ms };
  const char *downtime_s = lodge_http_query (r, "max_downtime_ms");
  guint64 downtime = 0;
  if (downtime_s != NULL && !g_ascii_string_to_unsigned (downtime_s, 10, 1, 60000, &downtime, NULL))
    return lodge_http_respond_error_code (r, 400, "invalid", "max_downtime_ms must be 1 to 60000");
  if (!lodge_services_lifecycle (api->services, name, action, lodge_http_query_yes (r, "force"),
                                 lodge_http_query (r, "to"), (guint) downtime, collect_step, &steps,
                                 &error))
    return lodge_http_respond_error (r, error);
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (api->ctl, name, &error);
  if (rt == NULL)
    return lodge_http_respond_error (r, error);
  g_autoptr (GBytes) state = lodge_runtime_record_to_json (rt);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < step_what->len; i++)
    json_builder_add_string_value (b, step_what->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "step_ms");
  json_builder_begin_array (b);
  for (guint i = 0; i < step_ms->len; i++)
    json_builder_add_int_value (b, g_array_index (step_ms, gint64, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total_ms");
  json_builder_add_int_value (b, (g_get_monotonic_time () - r->start_us) / 1000);
  json_builder_set_member_name (b, "status");
  json_builder_add_value (b, lodge_http_json_node (state));
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

/* The runtime record, with what people ask of a status: uptime, the
 * addresses of the definition, the tier (pool) of the disk. */
static void
route_status (LodgeApi *api, LodgeHttpRequest *r, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (api->ctl, name, &error);
  if (rt == NULL)
    return lodge_http_respond_error (r, error);
  g_autoptr (GBytes) json = lodge_runtime_record_to_json (rt);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (json, NULL),
                                   (gssize) g_bytes_get_size (json), &error))
    return lodge_http_respond_error_code (r, 500, "failed", error->message);
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (rt->phase == LODGE_PHASE_RUNNING)
    json_object_set_int_member (o, "uptime_s", (g_get_real_time () - rt->since_us) / G_USEC_PER_SEC);
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (api->ctl, name, NULL);
  g_autoptr (LodgeEnvDef) def =
    xml != NULL ? lodge_env_def_load (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml), name, NULL)
                : NULL;
  if (def != NULL)
    {
      JsonArray *addrs = json_array_new ();
      for (guint i = 0; i < def->interfaces->len; i++)
        {
          LodgeEnvInterface *iface = def->interfaces->pdata[i];
          for (guint j = 0; j < iface->ips->len; j++)
            {
              LodgeEnvIp *a = iface->ips->pdata[j];
              g_autofree char *text = g_strdup_printf ("%s/%u", a->address, a->prefix);
              json_array_add_string_element (addrs, text);
            }
        }
      json_object_set_array_member (o, "addresses", addrs);
      json_object_set_int_member (o, "replicas", lodge_env_def_effective_replicas (def));
    }
  char *text = json_to_string (json_parser_get_root (parser), FALSE); /* no newline, as ever */
  lodge_http_respond (r, 200, "application/json", g_bytes_new_take (text, strlen (text)));
}

/* The guest's serial console log, as its node's agent reads it there:
 * its last ?lines=N lines (default 100), or, with ?offset=TOKEN, what was
 * written from there on (for following it). The header
 * Lodge-Console-Offset gives where the answer ends, as NODE:BYTES: a
 * token of another node than the VE's now (it migrated, or failed over)
 * starts at the beginning of the new node's log. */
static void
route_console (LodgeApi *api, LodgeHttpRequest *r, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (api->ctl, name, &error);
  if (xml == NULL)
    return lodge_http_respond_error (r, error);
  const char *lines_s = lodge_http_query (r, "lines");
  const char *offset_s = lodge_http_query (r, "offset");
  guint64 lines = 100, offset = 0;
  g_autofree char *offset_node = NULL;
  if (offset_s != NULL)
    {
      const char *colon = strrchr (offset_s, ':');
      if (colon != NULL)
        offset_node = g_strndup (offset_s, (gsize) (colon - offset_s));
      if (!g_ascii_string_to_unsigned (colon != NULL ? colon + 1 : offset_s, 10, 0, G_MAXINT64,
                                       &offset, NULL))
        return lodge_http_respond_error_code (r, 400, "invalid",
                                              "offset must be what Lodge-Console-Offset gave");
    }
  if (lines_s != NULL && !g_ascii_string_to_unsigned (lines_s, 10, 0, 1000000, &lines, NULL))
    return lodge_http_respond_error_code (r, 400, "invalid", "lines must be a non-negative number");
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (api->ctl, name, NULL);
  const char *node = rt != NULL ? rt->node : NULL;
  g_autoptr (GBytes) text = NULL;
  guint64 end = 0;
  if (node == NULL)
    text = g_bytes_new (NULL, 0); /* never placed: no log anywhere */
  else
    {
      /* An offset on another node is from the start of this node's
       * log (a plain number, of older CLIs, is taken as this node's). */
      gint64 from = offset_s == NULL                                        ? -1
                    : offset_node == NULL || strcmp (offset_node, node) == 0 ? (gint64) offset
                                                                             : 0;
      text = lodge_node_rpc_console (lodge_ctl_get_store (api->ctl), node, name, lines, from, &end,
                                     &error);
      if (text == NULL)
        return lodge_http_respond_error_code (r, 502, "node", error->message);
    }
  g_autofree char *token = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, node != NULL ? node : "", end);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg),
                                "Lodge-Console-Offset", token);
  lodge_http_respond (r, 200, "text/plain; charset=utf-8", g_bytes_ref (text));
}

/* A customer's definition @xml, checked (lodge-customers.h) and made its
 * own: the XML to store, or NULL. */
static char *
customer_definition (LodgeApi *api, const LodgeUser *customer, const char *xml, gsize len,
                     const char *expected_name, GError **error)
{
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load (xml, len, "definition", error);
  if (def == NULL || !lodge_define_check_name (def, expected_name, error))
    return NULL;
  /* An address another VE has: refused without naming it. */
  if (!lodge_customer_check_define (api->ctl, customer, def, error)
      || !lodge_addresses_check (lodge_ctl_get_store (api->ctl), def, FALSE, error))
    return NULL;
  return lodge_env_def_format (def);
}

/* A customer's VEs only, of @list. */
static gboolean
keep_own (LodgeApi *api, const char *owner, GPtrArray *list, GError **error)
{
  g_autoptr (GPtrArray) own = lodge_customer_environments (api->ctl, owner, error);
  if (own == NULL)
    return FALSE;
  for (guint i = list->len; i-- > 0;)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      if (!g_ptr_array_find_with_equal_func (own, rt->name, g_str_equal, NULL))
        g_ptr_array_remove_index (list, i);
    }
  return TRUE;
}

static void
route_environments (LodgeApi *api, LodgeHttpRequest *r)
{
  LodgeCtl *ctl = api->ctl;
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (r->parts);
  const char *name = n >= 3 ? r->parts[2] : NULL;
  const char *action = n >= 4 ? r->parts[3] : NULL;
  gboolean define = (n == 2 && strcmp (r->method, "POST") == 0) || (n == 3 && strcmp (r->method, "PUT") == 0);

  /* A customer: only its own VEs exist for it (lodge_access_customer_may
   * let through only their routes), and its defines and starts take its
   * lock, for its quotas. */
  const LodgeIdentity *id = g_object_get_data (G_OBJECT (r->msg), LODGE_HTTP_IDENTITY);
  g_autoptr (LodgeUser) customer = NULL;
  g_autoptr (GMutexLocker) locked = NULL;
  if (id != NULL && id->role == LODGE_ROLE_CUSTOMER)
    {
      customer = lodge_users_get (api->users, id->name);
      if (customer == NULL)
        return lodge_http_respond_error_code (r, 401, "unauthorized", "the user was removed");
      if (define || (n == 4 && (strcmp (action, "start") == 0 || strcmp (action, "restart") == 0)))
        locked = g_mutex_locker_new (lodge_customer_lock (customer->name));
      if (n >= 3 && !define && !lodge_customer_owns (ctl, customer->name, name, &error))
        return lodge_http_respond_error (r, error);
      if (locked != NULL && !define && !lodge_customer_check_start (ctl, customer, name, &error))
        return lodge_http_respond_error (r, error);
    }

  if (n == 2 && strcmp (r->method, "GET") == 0)
    {
      g_autoptr (GPtrArray) list = lodge_ctl_list (ctl, &error);
      if (list == NULL || (customer != NULL && !keep_own (api, customer->name, list, &error)))
        return lodge_http_respond_error (r, error);
      return respond_records (r, list, runtime_json);
    }
  if (define)
    {
      /* POST creates (409 if the name is taken); PUT creates or replaces. */
      gsize len = 0;
      const char *xml = r->body != NULL ? g_bytes_get_data (r->body, &len) : NULL;
      g_autofree char *defined = NULL;
      gboolean created = FALSE;
      LodgeDefineMode mode = n == 2 ? LODGE_DEFINE_CREATE : LODGE_DEFINE_CREATE_OR_REPLACE;
      g_autofree char *own = NULL;
      if (customer != NULL)
        {
          own = customer_definition (api, customer, xml != NULL ? xml : "", len, name, &error);
          if (own == NULL)
            return lodge_http_respond_error (r, error);
          xml = own;
          len = strlen (own);
          mode = n == 2 ? LODGE_DEFINE_CREATE : LODGE_DEFINE_CREATE_OR_REPLACE_OWN;
        }
      if (!lodge_define_env (ctl, xml != NULL ? xml : "", len, mode, name, &defined, &created,
                             &error))
        return lodge_http_respond_error (r, error);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, defined);
      json_builder_set_member_name (b, "created");
      json_builder_add_boolean_value (b, created);
      json_builder_end_object (b);
      return lodge_http_respond_built (r, created ? 201 : 200, b);
    }
  if (n == 3 && strcmp (r->method, "GET") == 0)
    {
      GBytes *xml = lodge_ctl_get_definition (ctl, name, &error);
      if (xml == NULL)
        return lodge_http_respond_error (r, error);
      if (id != NULL && id->role != LODGE_ROLE_ADMIN)
        {
          g_autoptr (GBytes) full = xml;
          xml = lodge_api_redacted_definition (full, &error);
          if (xml == NULL)
            return lodge_http_respond_error (r, error);
        }
      return lodge_http_respond (r, 200, "application/xml", xml);
    }
  if (n == 3 && strcmp (r->method, "DELETE") == 0)
    {
      if (!lodge_services_undefine (api->services, name, lodge_http_query_yes (r, "storage"),
                                    &error))
        return lodge_http_respond_error (r, error);
      return lodge_http_respond_json (r, 200, g_strdup ("{}"));
    }
  if (n == 4 && g_strcmp0 (action, "status") == 0 && strcmp (r->method, "GET") == 0)
    return route_status (api, r, name);
  if (n == 4 && g_strcmp0 (action, "console") == 0 && strcmp (r->method, "GET") == 0)
    return route_console (api, r, name);
  if (n == 5 && strcmp (action, "repair") == 0 && strcmp (r->method, "POST") == 0)
    return lodge_api_repair_route (r, api->services, name, r->parts[4]);
  if (n >= 4 && n <= 6 && (strcmp (action, "apps") == 0 || strcmp (action, "exec") == 0
                           || strcmp (action, "passwd") == 0))
    return lodge_api_app_route (r, api->services, name, action);
  int lifecycle = n == 4 ? lodge_lifecycle_action_from_string (action) : -1;
  if (lifecycle >= 0 && strcmp (r->method, "POST") == 0)
    return route_lifecycle (api, r, name, lifecycle);
  lodge_http_respond_error_code (r, n <= 4 ? 405 : 404, n <= 4 ? "invalid" : "not-found",
                                 "no such method or path in the API");
}

/* Drain: the node takes no new VEs, and its running VEs migrate away; the
 * answer lists each one's outcome. */
static void
route_drain (LodgeApi *api, LodgeHttpRequest *r, const char *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) outcomes = lodge_drain_node (api->ctl, api->lifecycle, node, &error);
  if (outcomes == NULL)
    return lodge_http_respond_error (r, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "node");
  json_builder_add_string_value (b, node);
  for (int moved = 1; moved >= 0; moved--)
    {
      json_builder_set_member_name (b, moved ? "migrated" : "failed");
      json_builder_begin_array (b);
      for (guint i = 0; i < outcomes->len; i++)
        {
          LodgeDrainOutcome *o = outcomes->pdata[i];
          if ((o->error == NULL) != moved)
            continue;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, o->name);
          if (o->error != NULL)
            {
              json_builder_set_member_name (b, "error");
              json_builder_add_string_value (b, o->error);
            }
          else
            {
              json_builder_set_member_name (b, "to");
              json_builder_add_string_value (b, o->to);
              json_builder_set_member_name (b, "migration_ms");
              json_builder_add_int_value (b, (gint64) o->migration_ms);
              json_builder_set_member_name (b, "downtime_ms");
              json_builder_add_int_value (b, (gint64) o->downtime_ms);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

static void
route_nodes (LodgeApi *api, LodgeHttpRequest *r)
{
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (r->parts);
  if (n == 4 && strcmp (r->method, "POST") == 0 && strcmp (r->parts[3], "drain") == 0)
    return route_drain (api, r, r->parts[2]);
  if (n == 4 && strcmp (r->method, "POST") == 0 && strcmp (r->parts[3], "undrain") == 0)
    {
      if (!lodge_services_undrain (api->services, r->parts[2], &error))
        return lodge_http_respond_error (r, error);
      return lodge_http_respond_json (r, 200, g_strdup ("{}"));
    }
  if (n == 3 && strcmp (r->method, "DELETE") == 0)
    return lodge_api_join_remove_node (r, api->ctl, r->parts[2]);
  if (n != 2 || strcmp (r->method, "GET") != 0)
    return lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (api->ctl, &error);
  if (nodes == NULL)
    return lodge_http_respond_error (r, error);
  respond_records (r, nodes, node_json);
}

/* @v with six decimals and a point, in @buf. */
static const char *
seconds (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  return g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, "%.6f", v);
}

static void
route_metrics (LodgeApi *api, LodgeHttpRequest *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) list = lodge_ctl_list (api->ctl, &error);
  g_autoptr (GPtrArray) nodes = list != NULL ? lodge_ctl_nodes (api->ctl, &error) : NULL;
  if (nodes == NULL)
    return lodge_http_respond_error (r, error);

  guint phases[LODGE_PHASE_LAST] = { 0 }, states[LODGE_NODE_STATE_LAST] = { 0 };
  for (guint i = 0; i < list->len; i++)
    phases[((LodgeRuntimeRecord *) list->pdata[i])->phase]++;
  for (guint i = 0; i < nodes->len; i++)
    states[((LodgeNodeRecord *) nodes->pdata[i])->state]++;
  g_string_append (out, "# HELP lodge_environments Environments by phase.\n"
                        "# TYPE lodge_environments gauge\n");
  for (int p = 0; p < LODGE_PHASE_LAST; p++)
    g_string_append_printf (out, "lodge_environments{phase=\"%s\"} %u\n", lodge_phase_to_string (p),
                            phases[p]);
  g_string_append (out, "# HELP lodge_nodes Nodes by state.\n# TYPE lodge_nodes gauge\n");
  for (int s = 0; s < LODGE_NODE_STATE_LAST; s++)
    g_string_append_printf (out, "lodge_nodes{state=\"%s\"} %u\n", lodge_node_state_to_string (s),
                            states[s]);
  /* Prometheus wants a point whatever the locale lodged runs in ("0,12"
   * under de_DE is not a number to it). */
  char num[G_ASCII_DTOSTR_BUF_SIZE];
  g_mutex_lock (&api->lock);
  guint64 requests = api->requests, errors = api->errors;
  double latency_s = api->latency_sum_s;
  g_mutex_unlock (&api->lock);
  g_string_append_printf (out,
                          "# HELP lodge_api_requests_total API requests answered.\n"
                          "# TYPE lodge_api_requests_total counter\n"
                          "lodge_api_requests_total %" G_GUINT64_FORMAT "\n"
                          "# HELP lodge_api_errors_total API requests answered with an error.\n"
                          "# TYPE lodge_api_errors_total counter\n"
                          "lodge_api_errors_total %" G_GUINT64_FORMAT "\n"
                          "# HELP lodge_api_request_seconds Time to answer API requests.\n"
                          "# TYPE lodge_api_request_seconds summary\n"
                          "lodge_api_request_seconds_sum %s\n"
                          "lodge_api_request_seconds_count %" G_GUINT64_FORMAT "\n",
                          requests, errors, seconds (num, latency_s), requests);
  LodgeActionStats ops;
  lodge_services_get_action_stats (api->services, &ops);
  g_string_append (out, "# HELP lodge_operation_seconds Time lifecycle operations took.\n"
                        "# TYPE lodge_operation_seconds summary\n");
  for (int i = 0; i < LODGE_LIFECYCLE_ACTION_LAST; i++)
    g_string_append_printf (out,
                            "lodge_operation_seconds_sum{op=\"%s\"} %s\n"
                            "lodge_operation_seconds_count{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            lodge_lifecycle_action_to_string (i), seconds (num, ops.seconds[i]),
                            lodge_lifecycle_action_to_string (i), ops.count[i]);
  g_string_append (out, "# HELP lodge_operation_failures_total Lifecycle operations that failed.\n"
                        "# TYPE lodge_operation_failures_total counter\n");
  for (int i = 0; i < LODGE_LIFECYCLE_ACTION_LAST; i++)
    g_string_append_printf (out, "lodge_operation_failures_total{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            lodge_lifecycle_action_to_string (i), ops.failed[i]);
  g_auto (LodgeCephHealth) ceph = { 0 };
  if (lodge_ctl_ceph_health (api->ctl, &ceph) && ceph.known)
    g_string_append_printf (out,
                            "# HELP lodge_ceph_monitor_quorum Whether Ceph's monitors answer with a "
                            "quorum (0: none; nothing fails over for it).\n"
                            "# TYPE lodge_ceph_monitor_quorum gauge\n"
                            "lodge_ceph_monitor_quorum %d\n",
                            ceph.quorum ? 1 : 0);
  lodge_http_respond (r, 200, "text/plain; version=0.0.4",
                      g_string_free_to_bytes (g_steal_pointer (&out)));
}

/* GET /v1/ceph: the monitors' quorum as this controller sees it. */
static void
route_ceph (LodgeApi *api, LodgeHttpRequest *r)
{
  if (strcmp (r->method, "GET") != 0 || r->parts[2] != NULL)
    return lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
  g_auto (LodgeCephHealth) ceph = { 0 };
  if (!lodge_ctl_ceph_health (api->ctl, &ceph))
    return lodge_http_respond_error_code (r, 404, "not-found", "this controller does not watch Ceph");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "monitors");
  json_builder_add_string_value (b, !ceph.known ? "unknown" : ceph.quorum ? "quorum" : "no-quorum");
  if (ceph.members != NULL)
    {
      json_builder_set_member_name (b, "quorum");
      json_builder_add_string_value (b, ceph.members);
    }
  if (ceph.problem != NULL)
    {
      json_builder_set_member_name (b, "problem");
      json_builder_add_string_value (b, ceph.problem);
    }
  json_builder_set_member_name (b, "since_us");
  json_builder_add_int_value (b, ceph.since_us);
  json_builder_set_member_name (b, "checked_us");
  json_builder_add_int_value (b, ceph.checked_us);
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

static void
worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Call *call = data;
  LodgeHttpRequest *r = call->r;
  const char *first = r->parts[0] != NULL ? r->parts[0] : "";
  const char *second = first[0] != '\0' ? r->parts[1] : NULL;
  if (strcmp (first, "metrics") == 0 && second == NULL)
    route_metrics (call->api, r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "environments") == 0)
    route_environments (call->api, r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "nodes") == 0)
    route_nodes (call->api, r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "ceph") == 0)
    route_ceph (call->api, r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "users") == 0)
    lodge_api_users_route (r, call->api->users);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "join") == 0)
    lodge_api_join_route (r, lodge_ctl_get_store (call->api->ctl), &call->api->join);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "join-tokens") == 0)
    lodge_api_join_tokens_route (r, lodge_ctl_get_store (call->api->ctl));
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "whoami") == 0 && r->parts[2] == NULL)
    lodge_api_whoami_route (r, call->api->users, call->api->ctl);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "templates") == 0)
    lodge_api_template_route (r, lodge_ctl_get_store (call->api->ctl), call->api->lifecycle->client_id);
  else
    lodge_http_respond_error_code (r, 404, "not-found",
                                   "no such path in the API (it starts with /v1/)");
  g_task_return_boolean (task, TRUE);
}

/* In the main loop: the answer goes out, and counts. */
static void
answered (LodgeApi *api, LodgeHttpRequest *r)
{
  lodge_http_request_send (r);
  g_mutex_lock (&api->lock);
  api->requests++;
  api->errors += r->status >= 400;
  api->latency_sum_s += (g_get_monotonic_time () - r->start_us) / 1e6;
  g_mutex_unlock (&api->lock);
  lodge_http_request_free (r);
}

static void
worker_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *call = data;
  answered (call->api, call->r);
  g_free (call);
}

/* ---- the main loop's side ---- */

/* Who asks, authenticated: root on the UNIX socket (its mode lets only
 * root connect), the cluster's token (an admin), or a user's token; NULL
 * for nobody. */
static LodgeIdentity *
authenticate (LodgeApi *api, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  if (remote == NULL || G_IS_UNIX_SOCKET_ADDRESS (remote))
    return lodge_identity_new ("root", LODGE_ROLE_ADMIN);
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  if (auth == NULL || !g_str_has_prefix (auth, "Bearer "))
    return NULL;
  const char *given = auth + 7;
  if (api->token != NULL)
    {
      /* Compare in constant time. */
      gsize a = strlen (given), b = strlen (api->token);
      guint diff = a != b;
      for (gsize i = 0; i < MIN (a, b); i++)
        diff |= (guchar) given[i] ^ (guchar) api->token[i];
      if (diff == 0)
        return lodge_identity_new ("cluster", LODGE_ROLE_ADMIN);
    }
  return lodge_users_authenticate (api->users, given);
}

/* What the body of a request may weigh: a template upload's goes to a
 * spool file; exec's carries up to 8 MiB of input in base64; the rest are
 * definitions and small JSON objects. */
static guint64
body_cap (const char *method, const char *path)
{
  if (strcmp (method, "POST") != 0 && strcmp (method, "PUT") != 0)
    return LODGE_XML_MAX_BYTES;
  if (g_str_has_prefix (path, "/v1/templates/"))
    return LODGE_API_MAX_UPLOAD;
  if (g_str_has_prefix (path, "/v1/environments/") && g_str_has_suffix (path, "/exec"))
    return LODGE_API_MAX_EXEC_BODY;
  if (strcmp (path, "/v1/join") == 0)
    return LODGE_API_JOIN_MAX_BODY;
  return LODGE_XML_MAX_BYTES;
}

/* When a request's headers are read, before its body is: who may send
 * one, how much of it, and (an upload) where it goes. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  LodgeApi *api = user_data;
  if (lodge_http_guard_over_cap (msg))
    return;
  const char *method = soup_server_message_get_method (msg);
  LodgeIdentity *identity = authenticate (api, msg);
  /* A joining host has no credential yet: its token is in the body. */
  if (identity == NULL && lodge_api_join_is_open (method, path))
    identity = lodge_identity_new ("joining-host", LODGE_ROLE_VIEWER);
  else if (identity == NULL)
    return lodge_http_guard_refuse (msg, 401, "unauthorized", UNAUTHORIZED);
  g_object_set_data_full (G_OBJECT (msg), LODGE_HTTP_IDENTITY, identity,
                          (GDestroyNotify) lodge_identity_free);
  if (!lodge_access_allows (identity->role, method, path) && !lodge_api_join_is_open (method, path))
    {
      LodgeVerb verb = lodge_access_verb (method, path);
      g_autofree char *message = g_strdup_printf ("%s %s needs the role %s; %s is %s", method, path,
                                                  lodge_access_roles_for (verb), identity->name,
                                                  lodge_role_to_string (identity->role));
      return lodge_http_guard_refuse (msg, 403, "forbidden", message);
    }
  guint64 cap = body_cap (method, path);
  if (!lodge_http_guard_limit_body (msg, cap))
    return;
  if (cap == LODGE_API_MAX_UPLOAD)
    {
      lodge_http_guard_extend_read (msg, UPLOAD_READ_S);
      lodge_api_template_early (msg);
    }
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  LodgeApi *api = user_data;
  LodgeHttpRequest *r = lodge_http_request_new (msg, path, query);
  if (g_object_get_data (G_OBJECT (msg), LODGE_HTTP_IDENTITY) == NULL)
    {
      lodge_http_respond_error_code (r, 401, "unauthorized", UNAUTHORIZED);
      return answered (api, r);
    }
  if (!lodge_http_request_read (r))
    return answered (api, r);
  Call *call = g_new0 (Call, 1);
  call->api = api;
  call->r = r;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, worker_done, call);
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, worker);
}

static void
users_refresh_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LodgeApi *api = data;
  g_autoptr (GError) error = NULL;
  if (!lodge_users_refresh (api->users, &error))
    g_warning ("reading the API's users again failed: %s", error->message);
  g_atomic_int_set (&api->users_refreshing, FALSE);
}

/* The users, read again in a worker thread (others may have changed them:
 * a standby that led a moment ago, an operator's script on the store). */
static gboolean
users_tick (gpointer data)
{
  LodgeApi *api = data;
  if (!g_atomic_int_compare_and_exchange (&api->users_refreshing, FALSE, TRUE))
    return G_SOURCE_CONTINUE;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, api, NULL);
  g_task_run_in_thread (task, users_refresh_thread);
  return G_SOURCE_CONTINUE;
}

LodgeApi *
lodge_api_new (LodgeServices *services, const char *socket_path, GSocketAddress *listen,
               GTlsCertificate *tls, const char *token, const LodgeHttpLimits *limits,
               SoupServer *server, LodgeHttpGuard *guard, GError **error)
{
  g_autoptr (SoupServer) taken = server;
  g_autoptr (LodgeHttpGuard) taken_guard = guard;
  g_return_val_if_fail (services != NULL && socket_path != NULL, NULL);
  /* Over TCP every request is a user's (lodge-users.h), or the cluster
   * token's where one is set (the local cluster's scripts use one). */
  if (token != NULL && strlen (token) < 16)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "the cluster's API token must have at least 16 characters");
      return NULL;
    }
  g_autoptr (LodgeApi) api = g_new0 (LodgeApi, 1);
  g_mutex_init (&api->lock);
  api->services = services;
  api->ctl = lodge_services_get_ctl (services);
  api->lifecycle = lodge_services_get_lifecycle (services);
  api->socket_path = g_strdup (socket_path);
  api->token = g_strdup (token);
  api->users = lodge_users_new (lodge_ctl_get_store (api->ctl));
  g_autoptr (GError) users_error = NULL;
  if (!lodge_users_refresh (api->users, &users_error))
    g_warning ("reading the API's users failed (tried again every %d s): %s", LODGE_USERS_REFRESH_S,
               users_error->message);
  api->users_timer = g_timeout_add_seconds (LODGE_USERS_REFRESH_S, users_tick, api);
  api->server = taken != NULL ? g_steal_pointer (&taken)
                              : soup_server_new ("server-header", "lodged", "tls-certificate", tls, NULL);
  gboolean listening = server != NULL;
  static const LodgeHttpLimits defaults = LODGE_HTTP_LIMITS_DEFAULT;
  api->guard = taken_guard != NULL ? g_steal_pointer (&taken_guard)
                                   : lodge_http_guard_new (api->server, limits != NULL ? limits : &defaults);
  soup_server_add_handler (api->server, NULL, handler, api, NULL);
  /* For every path: libsoup keeps one handler a path, and one registered
   * for /v1/templates with only an early callback would answer its
   * requests 500 (no handler). */
  soup_server_add_early_handler (api->server, NULL, early_handler, api, NULL);

  g_autofree char *dir = g_path_get_dirname (socket_path);
  if (g_mkdir_with_parents (dir, 0700) < 0 || g_chmod (dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: %s", dir, g_strerror (saved));
      return NULL;
    }
  g_unlink (socket_path); /* a predecessor's; only the lease holder serves */
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_DEFAULT, error);
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (socket_path);
  if (sock == NULL || !g_socket_bind (sock, addr, TRUE, error) || g_chmod (socket_path, 0600) < 0
      || !g_socket_listen (sock, error)
      || !soup_server_listen_socket (api->server, sock, 0, error))
    {
      g_prefix_error (error, "cannot listen on %s: ", socket_path);
      return NULL;
    }
  if (listen != NULL && !listening
      && !lodge_http_guard_listen (api->guard, listen, tls, error))
    {
      g_autofree char *where = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (listen));
      g_prefix_error (error, "cannot listen on %s: ", where);
      return NULL;
    }
  return g_steal_pointer (&api);
}

void
lodge_api_set_join_identity (LodgeApi *api, const char *ceph_user, const char *ceph_key)
{
  g_free (api->join.ceph_user);
  g_free (api->join.ceph_key);
  api->join.ceph_user = g_strdup (ceph_user);
  api->join.ceph_key = g_strdup (ceph_key);
}

void
lodge_api_free (LodgeApi *api)
{
  if (api == NULL)
    return;
  lodge_http_guard_free (api->guard);
  if (api->server != NULL)
    {
      soup_server_disconnect (api->server);
      g_object_unref (api->server);
    }
  if (api->socket_path != NULL)
    g_unlink (api->socket_path);
  g_free (api->socket_path);
  g_free (api->token);
  g_free (api->join.ceph_user);
  g_free (api->join.ceph_key);
  if (api->users_timer != 0)
    g_source_remove (api->users_timer);
  /* A refresh under way holds the users: wait for it. */
  while (g_atomic_int_get (&api->users_refreshing))
    g_usleep (10 * 1000);
  lodge_users_free (api->users);
  g_mutex_clear (&api->lock);
  g_free (api);
}
