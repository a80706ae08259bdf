#include "lodge-api-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-define.h"
#include "lodge-drain.h"
#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-libvirt.h"
#include "lodge-storage-error.h"
#include "lodge-xml.h"

/* Idle seconds a repair appliance is kept for the next operation. */
#define REPAIR_IDLE_S 60

static void
request_free (Request *r)
{
  lodge_api_stream_unref (r->stream);
  g_free (r->method);
  g_strfreev (r->parts);
  g_clear_pointer (&r->query, g_hash_table_unref);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->response, g_bytes_unref);
  g_object_unref (r->msg);
  g_free (r);
}

void
lodge_api_respond (Request *r, guint status, const char *content_type, GBytes *body)
{
  r->status = status;
  r->content_type = content_type;
  g_clear_pointer (&r->response, g_bytes_unref);
  r->response = body;
}

char *
lodge_api_json_escape (const char *s)
{
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (n, s);
  return json_to_string (n, FALSE);
}

void
lodge_api_respond_error_code (Request *r, guint status, const char *code, const char *message)
{
  g_autofree char *msg = lodge_api_json_escape (message);
  g_autofree char *text = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":%s}}\n", code, msg);
  lodge_api_respond (r, status, "application/json", g_bytes_new (text, strlen (text)));
}

void
lodge_api_respond_error (Request *r, const GError *error)
{
  guint status = 500;
  const char *code = "failed";
  if (error->domain == LODGE_ERROR)
    switch ((LodgeErrorCode) error->code)
      {
      case LODGE_ERROR_CAPACITY:
        status = 409, code = "capacity";
        break;
      case LODGE_ERROR_IO:
      case LODGE_ERROR_FAILED:
        break;
      default:
        status = 400, code = "invalid";
        break;
      }
  else if (error->domain == LODGE_STORAGE_ERROR)
    switch ((LodgeStorageErrorCode) error->code)
      {
      case LODGE_STORAGE_ERROR_NOT_FOUND:
        status = 404, code = "not-found";
        break;
      case LODGE_STORAGE_ERROR_EXISTS:
      case LODGE_STORAGE_ERROR_CONFLICT:
      case LODGE_STORAGE_ERROR_BUSY:
        status = 409, code = "conflict";
        break;
      case LODGE_STORAGE_ERROR_UNREACHABLE:
        status = 503, code = "unavailable";
        break;
      case LODGE_STORAGE_ERROR_INVALID:
        status = 400, code = "invalid";
        break;
      default:
        break;
      }
  else if (error->domain == LODGE_LIBVIRT_ERROR)
    switch ((LodgeLibvirtErrorCode) error->code)
      {
      case LODGE_LIBVIRT_ERROR_NOT_FOUND:
        status = 404, code = "not-found";
        break;
      case LODGE_LIBVIRT_ERROR_STATE:
        status = 409, code = "conflict";
        break;
      case LODGE_LIBVIRT_ERROR_INVALID:
        status = 400, code = "invalid";
        break;
      case LODGE_LIBVIRT_ERROR_UNREACHABLE:
      case LODGE_LIBVIRT_ERROR_TIMEOUT:
        status = 503, code = "unavailable";
        break;
      default:
        break;
      }
  else if (error->domain == LODGE_GUESTFS_ERROR && error->code == LODGE_GUESTFS_ERROR_INVALID)
    status = 400, code = "invalid";
  else if (error->domain == LODGE_GUESTFS_ERROR && error->code == LODGE_GUESTFS_ERROR_NOT_FOUND)
    status = 404, code = "not-found";
  lodge_api_respond_error_code (r, status, code, error->message);
}

void
lodge_api_respond_json (Request *r, guint status, GBytes *json)
{
  lodge_api_respond (r, status, "application/json", json);
}

/* "[" a "," b "]" of JSON objects. */
static GBytes *
json_array_of (GPtrArray *objects)
{
  GString *s = g_string_new ("[");
  for (guint i = 0; i < objects->len; i++)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (objects->pdata[i], &len);
      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append_len (s, data, len);
    }
  g_string_append (s, "]\n");
  return g_string_free_to_bytes (s);
}

/* ---- routes, in a worker thread ---- */

/* The steps of an operation, each with when it happened (ms since the
 * request arrived). */
typedef struct {
  gint64 start_us;
  GPtrArray *what;
  GArray *ms;
  Stream *stream;
} Steps;

static void
collect_step (const char *what, gpointer user_data)
{
  Steps *steps = user_data;
  gint64 ms = (g_get_monotonic_time () - steps->start_us) / 1000;
  g_ptr_array_add (steps->what, g_strdup (what));
  g_array_append_val (steps->ms, ms);
  if (steps->stream != NULL)
    {
      g_autofree char *q = lodge_api_json_escape (what);
      lodge_api_stream_post (steps->stream,
                             g_strdup_printf ("{\"step\":%s,\"ms\":%" G_GINT64_FORMAT "}\n", q, ms));
    }
}

static void
route_lifecycle (Request *r, const char *name, LodgeLifecycleAction action)
{
  LodgeApi *api = r->api;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) step_what = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) step_ms = g_array_new (FALSE, FALSE, sizeof (gint64));
  Steps steps = { r->start_us, step_what, step_ms, r->stream };
  const char *force = r->query != NULL ? g_hash_table_lookup (r->query, "force") : NULL;
  gboolean forced = g_strcmp0 (force, "yes") == 0 || g_strcmp0 (force, "1") == 0;
  /* One operation per VE at a time in this controller: a second request
   * waits for the first, then acts on what it left (a second start of a
   * running VE does nothing). */
  guint wait_s = api->lifecycle->ready_timeout_s + api->lifecycle->stop_timeout_s
                 + api->lifecycle->migrate_timeout_s + 30;
  const char *to = r->query != NULL ? g_hash_table_lookup (r->query, "to") : NULL;
  const char *downtime_s = r->query != NULL ? g_hash_table_lookup (r->query, "max_downtime_ms") : NULL;
  guint64 downtime = 0;
  if (downtime_s != NULL && !g_ascii_string_to_unsigned (downtime_s, 10, 1, 60000, &downtime, NULL))
    return lodge_api_respond_error_code (r, 400, "invalid", "max_downtime_ms must be 1 to 60000");
  gboolean starts = action == LODGE_LIFECYCLE_START || action == LODGE_LIFECYCLE_RESTART;
  gboolean stops = action == LODGE_LIFECYCLE_STOP || action == LODGE_LIFECYCLE_RESTART;
  if (starts && !lodge_disk_jobs_settle (api->jobs, name, &error))
    return lodge_api_respond_error (r, error);
  if (!lodge_ctl_begin (api->ctl, name, lodge_lifecycle_action_op (action), wait_s, &error))
    return lodge_api_respond_error (r, error);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = TRUE;
  if (stops)
    ok = lodge_lifecycle_stop (api->ctl, api->lifecycle, name, forced, &error);
  if (ok && starts)
    ok = lodge_lifecycle_start (api->ctl, api->lifecycle, name, collect_step, &steps, &error);
  if (action == LODGE_LIFECYCLE_MIGRATE)
    ok = lodge_lifecycle_migrate (api->ctl, api->lifecycle, name, to, (guint) downtime,
                                  collect_step, &steps, &error);
  lodge_ctl_end (api->ctl, name);
  g_mutex_lock (&api->lock);
  api->op_count[action]++;
  api->op_failed[action] += !ok;
  api->op_sum_s[action] += (g_get_monotonic_time () - t0) / 1e6;
  g_mutex_unlock (&api->lock);
  if (!ok)
    return lodge_api_respond_error (r, error);
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (api->ctl, name, &error);
  if (rt == NULL)
    return lodge_api_respond_error (r, error);
  g_autoptr (GBytes) state = lodge_runtime_record_to_json (rt);
  g_autoptr (GString) out = g_string_new ("{\"steps\":[");
  for (guint i = 0; i < step_what->len; i++)
    {
      g_autofree char *q = lodge_api_json_escape (step_what->pdata[i]);
      g_string_append_printf (out, "%s%s", i ? "," : "", q);
    }
  g_string_append (out, "],\"step_ms\":[");
  for (guint i = 0; i < step_ms->len; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i ? "," : "", g_array_index (step_ms, gint64, i));
  g_string_append_printf (out, "],\"total_ms\":%" G_GINT64_FORMAT ",\"status\":",
                          (g_get_monotonic_time () - r->start_us) / 1000);
  g_string_append_len (out, g_bytes_get_data (state, NULL), g_bytes_get_size (state));
  g_string_append (out, "}\n");
  lodge_api_respond_json (r, 200, g_string_free_to_bytes (g_steal_pointer (&out)));
}

/* The runtime record, with what people ask of a status: uptime, the
 * addresses of the definition, the tier (pool) of the disk. */
static void
route_status (Request *r, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (r->api->ctl, name, &error);
  if (rt == NULL)
    return lodge_api_respond_error (r, error);
  g_autoptr (GBytes) json = lodge_runtime_record_to_json (rt);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (json, NULL),
                                   (gssize) g_bytes_get_size (json), &error))
    return lodge_api_respond_error_code (r, 500, "failed", error->message);
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (rt->phase == LODGE_PHASE_RUNNING)
    json_object_set_int_member (o, "uptime_s", (g_get_real_time () - rt->since_us) / G_USEC_PER_SEC);
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (r->api->ctl, name, NULL);
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
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, json_parser_get_root (parser));
  gsize len = 0;
  char *text = json_generator_to_data (gen, &len);
  lodge_api_respond_json (r, 200, g_bytes_new_take (text, len));
}

/* The guest's serial console log: its last ?lines=N lines (default 100),
 * or, with ?offset=BYTES, what was written from there on (for following
 * it). The header Lodge-Console-Offset gives where the answer ends. */
static void
route_console (Request *r, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (r->api->ctl, name, &error);
  if (xml == NULL)
    return lodge_api_respond_error (r, error);
  const char *lines_s = r->query != NULL ? g_hash_table_lookup (r->query, "lines") : NULL;
  const char *offset_s = r->query != NULL ? g_hash_table_lookup (r->query, "offset") : NULL;
  guint64 lines = 100, offset = 0;
  if ((lines_s != NULL && !g_ascii_string_to_unsigned (lines_s, 10, 0, 1000000, &lines, NULL))
      || (offset_s != NULL && !g_ascii_string_to_unsigned (offset_s, 10, 0, G_MAXINT64, &offset, NULL)))
    return lodge_api_respond_error_code (r, 400, "invalid", "lines and offset must be non-negative numbers");
  g_autofree char *path = g_build_filename (r->api->lifecycle->state_dir, name, "console.log", NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, NULL))
    {
      text = g_strdup ("");
      len = 0;
    }
  gsize from = 0;
  if (offset_s != NULL)
    from = offset > len ? len : offset;
  else
    {
      /* Back from the end over @lines line ends (a last unfinished line counts). */
      guint64 seen = 0;
      from = len;
      while (from > 0 && seen <= lines)
        {
          if (text[from - 1] == '\n' && from != len)
            seen++;
          if (seen > lines)
            break;
          from--;
        }
    }
  g_autofree char *end = g_strdup_printf ("%" G_GSIZE_FORMAT, len);
  soup_message_headers_replace (soup_server_message_get_response_headers (r->msg),
                                "Lodge-Console-Offset", end);
  lodge_api_respond (r, 200, "text/plain; charset=utf-8", g_bytes_new (text + from, len - from));
}

static void
route_environments (Request *r)
{
  LodgeCtl *ctl = r->api->ctl;
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (r->parts);
  const char *name = n >= 3 ? r->parts[2] : NULL;
  const char *action = n >= 4 ? r->parts[3] : NULL;

  if (n == 2 && strcmp (r->method, "GET") == 0)
    {
      g_autoptr (GPtrArray) list = lodge_ctl_list (ctl, &error);
      if (list == NULL)
        return lodge_api_respond_error (r, error);
      g_autoptr (GPtrArray) objs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      for (guint i = 0; i < list->len; i++)
        g_ptr_array_add (objs, lodge_runtime_record_to_json (list->pdata[i]));
      return lodge_api_respond_json (r, 200, json_array_of (objs));
    }
  if ((n == 2 && strcmp (r->method, "POST") == 0) || (n == 3 && strcmp (r->method, "PUT") == 0))
    {
      /* POST creates (409 if the name is taken); PUT creates or replaces. */
      gsize len = 0;
      const char *xml = r->body != NULL ? g_bytes_get_data (r->body, &len) : NULL;
      g_autofree char *defined = NULL;
      gboolean created = FALSE;
      LodgeDefineMode mode = n == 2 ? LODGE_DEFINE_CREATE : LODGE_DEFINE_CREATE_OR_REPLACE;
      if (!lodge_define_env (ctl, xml != NULL ? xml : "", len, mode, name, &defined, &created, &error))
        return lodge_api_respond_error (r, error);
      g_autofree char *qname = lodge_api_json_escape (defined);
      g_autofree char *text = g_strdup_printf ("{\"name\":%s,\"created\":%s}\n", qname,
                                               created ? "true" : "false");
      return lodge_api_respond_json (r, created ? 201 : 200, g_bytes_new (text, strlen (text)));
    }
  if (n == 3 && strcmp (r->method, "GET") == 0)
    {
      GBytes *xml = lodge_ctl_get_definition (ctl, name, &error);
      if (xml == NULL)
        return lodge_api_respond_error (r, error);
      return lodge_api_respond (r, 200, "application/xml", xml);
    }
  if (n == 3 && strcmp (r->method, "DELETE") == 0)
    {
      const char *storage = r->query != NULL ? g_hash_table_lookup (r->query, "storage") : NULL;
      gboolean remove_disk = g_strcmp0 (storage, "yes") == 0 || g_strcmp0 (storage, "1") == 0;
      lodge_disk_jobs_release (r->api->jobs, name); /* its snapshot goes with the disk */
      /* A claim a dead controller left is settled first, as for a start. */
      if (!lodge_disk_jobs_settle (r->api->jobs, name, &error)
          || !lodge_define_undefine (ctl, name, remove_disk, &error))
        return lodge_api_respond_error (r, error);
      return lodge_api_respond_json (r, 200, g_bytes_new_static ("{}\n", 3));
    }
  if (n == 4 && g_strcmp0 (action, "status") == 0 && strcmp (r->method, "GET") == 0)
    return route_status (r, name);
  if (n == 4 && g_strcmp0 (action, "console") == 0 && strcmp (r->method, "GET") == 0)
    return route_console (r, name);
  if (n == 5 && strcmp (action, "repair") == 0 && strcmp (r->method, "POST") == 0)
    return lodge_api_route_repair (r, name, r->parts[4]);
  if (n >= 4 && n <= 6 && (strcmp (action, "apps") == 0 || strcmp (action, "exec") == 0
                           || strcmp (action, "passwd") == 0))
    return lodge_api_route_guest (r, name, action);
  int lifecycle = n == 4 ? lodge_lifecycle_action_from_string (action) : -1;
  if (lifecycle >= 0 && strcmp (r->method, "POST") == 0)
    return route_lifecycle (r, name, lifecycle);
  lodge_api_respond_error_code (r, n <= 4 ? 405 : 404, n <= 4 ? "invalid" : "not-found",
                      "no such method or path in the API");
}

/* Drain: the node takes no new VEs, and its running VEs migrate away; the
 * answer lists each one's outcome. */
static void
route_drain (Request *r, const char *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) outcomes = lodge_drain_node (r->api->ctl, r->api->lifecycle, node, &error);
  if (outcomes == NULL)
    return lodge_api_respond_error (r, error);
  g_autoptr (GString) migrated = g_string_new (NULL), failed = g_string_new (NULL);
  for (guint i = 0; i < outcomes->len; i++)
    {
      LodgeDrainOutcome *o = outcomes->pdata[i];
      g_autofree char *qname = lodge_api_json_escape (o->name);
      GString *to = o->error == NULL ? migrated : failed;
      if (to->len > 0)
        g_string_append_c (to, ',');
      if (o->error != NULL)
        {
          g_autofree char *qmsg = lodge_api_json_escape (o->error);
          g_string_append_printf (to, "{\"name\":%s,\"error\":%s}", qname, qmsg);
        }
      else
        {
          g_autofree char *qto = lodge_api_json_escape (o->to);
          g_string_append_printf (to, "{\"name\":%s,\"to\":%s,\"migration_ms\":%" G_GUINT64_FORMAT
                                  ",\"downtime_ms\":%" G_GUINT64_FORMAT "}",
                                  qname, qto, o->migration_ms, o->downtime_ms);
        }
    }
  g_autofree char *qnode = lodge_api_json_escape (node);
  g_autofree char *text = g_strdup_printf ("{\"node\":%s,\"migrated\":[%s],\"failed\":[%s]}\n",
                                           qnode, migrated->str, failed->str);
  lodge_api_respond_json (r, 200, g_bytes_new (text, strlen (text)));
}

static void
route_nodes (Request *r)
{
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (r->parts);
  if (n == 4 && strcmp (r->method, "POST") == 0 && strcmp (r->parts[3], "drain") == 0)
    return route_drain (r, r->parts[2]);
  if (n == 4 && strcmp (r->method, "POST") == 0 && strcmp (r->parts[3], "undrain") == 0)
    {
      g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (r->api->ctl, &error);
      LodgeNodeRecord *found = lodge_ctl_find_node (nodes, r->parts[2]);
      if (nodes == NULL)
        return lodge_api_respond_error (r, error);
      if (found == NULL)
        return lodge_api_respond_error_code (r, 404, "not-found", "unknown node");
      if (found->state == LODGE_NODE_FENCED)
        return lodge_api_respond_error_code (r, 409, "conflict",
                                   "the node is fenced; the control center clears that when its "
                                   "agent is back and has destroyed its stale guests");
      if (!lodge_ctl_set_node_state (r->api->ctl, r->parts[2], LODGE_NODE_UP, &error))
        return lodge_api_respond_error (r, error);
      return lodge_api_respond_json (r, 200, g_bytes_new_static ("{}\n", 3));
    }
  if (n != 2 || strcmp (r->method, "GET") != 0)
    return lodge_api_respond_error_code (r, 404, "not-found", "no such method or path in the API");
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (r->api->ctl, &error);
  if (nodes == NULL)
    return lodge_api_respond_error (r, error);
  g_autoptr (GPtrArray) objs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < nodes->len; i++)
    g_ptr_array_add (objs, lodge_node_record_to_json (nodes->pdata[i]));
  lodge_api_respond_json (r, 200, json_array_of (objs));
}

/* @v with six decimals and a point, in @buf. */
static const char *
seconds (char buf[G_ASCII_DTOSTR_BUF_SIZE], double v)
{
  return g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, "%.6f", v);
}

static void
route_metrics (Request *r)
{
  g_autoptr (GError) error = NULL;
  LodgeApi *api = r->api;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) list = lodge_ctl_list (api->ctl, &error);
  g_autoptr (GPtrArray) nodes = list != NULL ? lodge_ctl_nodes (api->ctl, &error) : NULL;
  if (nodes == NULL)
    return lodge_api_respond_error (r, error);

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
                          api->requests, api->errors, seconds (num, api->latency_sum_s), api->requests);
  g_string_append (out, "# HELP lodge_operation_seconds Time lifecycle operations took.\n"
                        "# TYPE lodge_operation_seconds summary\n");
  for (int i = 0; i < LODGE_LIFECYCLE_ACTION_LAST; i++)
    g_string_append_printf (out,
                            "lodge_operation_seconds_sum{op=\"%s\"} %s\n"
                            "lodge_operation_seconds_count{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            lodge_lifecycle_action_to_string (i), seconds (num, api->op_sum_s[i]),
                            lodge_lifecycle_action_to_string (i), api->op_count[i]);
  g_string_append (out, "# HELP lodge_operation_failures_total Lifecycle operations that failed.\n"
                        "# TYPE lodge_operation_failures_total counter\n");
  for (int i = 0; i < LODGE_LIFECYCLE_ACTION_LAST; i++)
    g_string_append_printf (out, "lodge_operation_failures_total{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            lodge_lifecycle_action_to_string (i), api->op_failed[i]);
  g_mutex_unlock (&api->lock);
  lodge_api_respond (r, 200, "text/plain; version=0.0.4", g_string_free_to_bytes (g_steal_pointer (&out)));
}

static void
worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Request *r = data;
  const char *first = r->parts[0] != NULL ? r->parts[0] : "";
  const char *second = first[0] != '\0' ? r->parts[1] : NULL;
  if (strcmp (first, "metrics") == 0 && second == NULL)
    route_metrics (r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "environments") == 0)
    route_environments (r);
  else if (strcmp (first, "v1") == 0 && g_strcmp0 (second, "nodes") == 0)
    route_nodes (r);
  else
    lodge_api_respond_error_code (r, 404, "not-found", "no such path in the API (it starts with /v1/)");
  g_task_return_boolean (task, TRUE);
}

static void
worker_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  LodgeApi *api = r->api;
  gsize len = 0;
  const char *body = r->response != NULL ? g_bytes_get_data (r->response, &len) : "";
  if (r->stream != NULL && lodge_api_stream_is_gone (r->stream))
    ; /* the client went away: its message is finished already */
  else if (r->stream != NULL && r->stream->started)
    {
      /* The status is sent already: the outcome is the last line. */
      g_autofree char *text = g_strndup (body, len);
      g_strchomp (text);
      char *line = r->status < 300 ? g_strdup_printf ("{\"result\":%s}\n", text)
                                   : g_strdup_printf ("%s\n", text); /* {"error": ...} */
      lodge_api_stream_write (r->stream, line);
      soup_message_body_complete (soup_server_message_get_response_body (r->msg));
      soup_server_message_unpause (r->msg);
    }
  else
    {
      soup_server_message_set_status (r->msg, r->status, NULL);
      soup_server_message_set_response (r->msg, r->content_type, SOUP_MEMORY_COPY, body, len);
      soup_server_message_unpause (r->msg);
    }
  g_mutex_lock (&api->lock);
  api->requests++;
  api->errors += r->status >= 400;
  api->latency_sum_s += (g_get_monotonic_time () - r->start_us) / 1e6;
  g_mutex_unlock (&api->lock);
  request_free (r);
}

/* ---- the main loop's side ---- */

static gboolean
authorized (LodgeApi *api, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  if (remote == NULL || G_IS_UNIX_SOCKET_ADDRESS (remote))
    return TRUE; /* the socket's mode decides who may connect */
  if (api->token == NULL)
    return FALSE;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  if (auth == NULL || !g_str_has_prefix (auth, "Bearer "))
    return FALSE;
  /* Compare in constant time. */
  const char *given = auth + 7;
  gsize a = strlen (given), b = strlen (api->token);
  guint diff = a != b;
  for (gsize i = 0; i < MIN (a, b); i++)
    diff |= (guchar) given[i] ^ (guchar) api->token[i];
  return diff == 0;
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  LodgeApi *api = user_data;
  Request *r = g_new0 (Request, 1);
  r->api = api;
  r->msg = g_object_ref (msg);
  r->start_us = g_get_monotonic_time ();
  r->method = g_strdup (soup_server_message_get_method (msg));
  r->parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", 6);
  r->query = query != NULL ? g_hash_table_ref (query) : NULL;

  if (!authorized (api, msg))
    {
      lodge_api_respond_error_code (r, 401, "unauthorized",
                          "this request needs 'Authorization: Bearer TOKEN' (the API token)");
      soup_server_message_pause (msg);
      worker_done (NULL, NULL, r);
      return;
    }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body != NULL && body->length > LODGE_XML_MAX_BYTES)
    {
      lodge_api_respond_error_code (r, 413, "invalid", "the request body is over the 1 MiB limit");
      soup_server_message_pause (msg);
      worker_done (NULL, NULL, r);
      return;
    }
  if (body != NULL && body->length > 0)
    r->body = soup_message_body_flatten (body);

  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Accept");
  if (accept != NULL && strstr (accept, "application/x-ndjson") != NULL)
    {
      r->stream = lodge_api_stream_new (msg);
    }
  soup_server_message_pause (msg);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, worker_done, r);
  g_task_set_task_data (task, r, NULL);
  g_task_run_in_thread (task, worker);
}

static void
expire_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LodgeApi *api = data;
  lodge_disk_jobs_expire (api->jobs);
  g_atomic_int_set (&api->expiring, 0);
  g_task_return_boolean (task, TRUE);
}

/* Idle repair appliances are closed in a thread: a shutdown takes a
 * second or so, the main loop never waits for it. */
static gboolean
expire_repairs_cb (gpointer data)
{
  LodgeApi *api = data;
  if (!g_atomic_int_compare_and_exchange (&api->expiring, 0, 1))
    return G_SOURCE_CONTINUE;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, api, NULL);
  g_task_run_in_thread (task, expire_thread);
  return G_SOURCE_CONTINUE;
}

LodgeApi *
lodge_api_new (LodgeCtl *ctl, const LodgeLifecycleOptions *lifecycle, const char *socket_path,
               guint tcp_port, const char *token, GError **error)
{
  g_return_val_if_fail (ctl != NULL && socket_path != NULL, NULL);
  if (tcp_port != 0 && (token == NULL || strlen (token) < 16))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "a TCP listener needs an API token of at least 16 characters");
      return NULL;
    }
  g_autoptr (LodgeApi) api = g_new0 (LodgeApi, 1);
  g_mutex_init (&api->lock);
  api->ctl = ctl;
  api->lifecycle = lifecycle;
  api->socket_path = g_strdup (socket_path);
  api->token = g_strdup (token);
  api->jobs = lodge_disk_jobs_new (ctl, lifecycle, REPAIR_IDLE_S);
  api->apps = (LodgeApps) { ctl, api->jobs, lifecycle };
  api->expire_source = g_timeout_add_seconds (5, expire_repairs_cb, api);
  api->server = soup_server_new ("server-header", "lodged", NULL);
  soup_server_add_handler (api->server, NULL, handler, api, NULL);

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
  if (tcp_port != 0
      && !soup_server_listen_local (api->server, tcp_port, SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    {
      g_prefix_error (error, "cannot listen on 127.0.0.1:%u: ", tcp_port);
      return NULL;
    }
  return g_steal_pointer (&api);
}

void
lodge_api_free (LodgeApi *api)
{
  if (api == NULL)
    return;
  if (api->server != NULL)
    {
      soup_server_disconnect (api->server);
      g_object_unref (api->server);
    }
  if (api->expire_source != 0)
    g_source_remove (api->expire_source);
  while (g_atomic_int_get (&api->expiring))
    g_usleep (10000); /* the expiry thread uses the repairs */
  lodge_disk_jobs_free (api->jobs);
  if (api->socket_path != NULL)
    g_unlink (api->socket_path);
  g_free (api->socket_path);
  g_free (api->token);
  g_mutex_clear (&api->lock);
  g_free (api);
}
