/* POST /v1/environments/NAME/repair/OP: a repair job (lodge-repairs.c)
 * with its arguments as a JSON object in the body.
 *
 * Asked for as a stream (Accept: application/x-ndjson), the answer is
 * one line per progress step {"step", "ms"}, the operation's output as it
 * comes in {"data": BASE64} lines (file contents are bytes, not text),
 * then {"result": {...}} or {"error": {...}}. Otherwise the result object
 * carries the whole output in "output" (at most 16 MiB). */
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-api-private.h"
#include "lodge-error.h"

#define COLLECT_MAX (16 << 20)
#define DATA_CHUNK (192 << 10) /* bytes of output per streamed line */

typedef struct {
  Request *r;
  GString *collected;
  gboolean overflow;
} Sink;

static gboolean
sink_out (const char *data, gsize len, gpointer user_data)
{
  Sink *s = user_data;
  if (s->r->stream != NULL)
    {
      for (gsize off = 0; off < len; off += DATA_CHUNK)
        {
          g_autofree char *b64 = g_base64_encode ((const guchar *) data + off, MIN (DATA_CHUNK, len - off));
          if (!lodge_api_stream_post (s->r->stream, g_strdup_printf ("{\"data\":\"%s\"}\n", b64)))
            return FALSE;
        }
      return TRUE;
    }
  if (s->collected->len + len > COLLECT_MAX)
    {
      s->overflow = TRUE;
      return FALSE;
    }
  g_string_append_len (s->collected, data, len);
  return TRUE;
}

static void
sink_step (const char *what, gpointer user_data)
{
  Sink *s = user_data;
  if (s->r->stream == NULL)
    return;
  g_autofree char *q = lodge_api_json_escape (what);
  gint64 ms = (g_get_monotonic_time () - s->r->start_us) / 1000;
  lodge_api_stream_post (s->r->stream,
                         g_strdup_printf ("{\"step\":%s,\"ms\":%" G_GINT64_FORMAT "}\n", q, ms));
}

/* Who asks, for the claim a start would be refused with and the log: the
 * name the client gives (X-Lodge-User), and on the UNIX socket the uid
 * the kernel vouches for. */
char *
lodge_api_requester (Request *r)
{
  const char *given = soup_message_headers_get_one (
    soup_server_message_get_request_headers (r->msg), "X-Lodge-User");
  g_autofree char *name = NULL;
  if (given != NULL && strlen (given) <= 64)
    {
      name = g_strdup (given);
      for (char *p = name; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p) && strchr ("._-@", *p) == NULL)
          *p = '_';
    }
  GSocket *sock = soup_server_message_get_socket (r->msg);
  g_autoptr (GCredentials) cred = sock != NULL ? g_socket_get_credentials (sock, NULL) : NULL;
  if (cred != NULL)
    {
      uid_t uid = g_credentials_get_unix_user (cred, NULL);
      return name != NULL ? g_strdup_printf ("%s (uid %u)", name, (guint) uid)
                          : g_strdup_printf ("uid %u", (guint) uid);
    }
  return name != NULL ? g_strdup_printf ("%s (API token)", name) : g_strdup ("an API token holder");
}

gboolean
lodge_api_body_object (Request *r, JsonParser *parser, JsonObject **ret_args)
{
  *ret_args = NULL;
  if (r->body == NULL || g_bytes_get_size (r->body) == 0)
    return TRUE;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (r->body, NULL),
                                   (gssize) g_bytes_get_size (r->body), NULL))
    {
      lodge_api_respond_error_code (r, 400, "invalid", "the body is not JSON");
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      lodge_api_respond_error_code (r, 400, "invalid", "the body must be a JSON object of arguments");
      return FALSE;
    }
  *ret_args = json_node_get_object (root);
  return TRUE;
}

typedef struct {
  const char *op;
  JsonObject *args;
  const char *who;
} RepairCall;

static char *
repair_job (Request *r, const char *name, gpointer data, LodgeRepairOutput out, gpointer out_data,
            LodgeProgress progress, gpointer progress_data, GError **error)
{
  RepairCall *c = data;
  return lodge_repairs_run (r->api->jobs, name, c->op, c->args, c->who, out, out_data, progress,
                            progress_data, error);
}

void
lodge_api_run_job (Request *r, const char *name, const char *what, LodgeApiJobFunc job,
                   gpointer data)
{
  g_autoptr (GError) error = NULL;
  Sink sink = { r, g_string_new (NULL), FALSE };
  g_autofree char *result = job (r, name, data, sink_out, &sink, sink_step, &sink, &error);
  g_autoptr (GString) collected = sink.collected;
  if (result == NULL && sink.overflow)
    return lodge_api_respond_error_code (
      r, 413, "invalid",
      "the output is over 16 MiB: ask for it as a stream (Accept: application/x-ndjson)");
  if (result == NULL)
    {
      g_message ("%s failed: %s", what, error->message);
      return lodge_api_respond_error (r, error);
    }
  if (r->stream != NULL)
    return lodge_api_respond_json (r, 200, g_bytes_new_take (g_strconcat (result, "\n", NULL),
                                                              strlen (result) + 1));
  /* The output goes into the result object. */
  g_autoptr (JsonNode) node = json_from_string (result, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) collected->str, collected->len);
  json_object_set_string_member (json_node_get_object (node), "output", b64);
  g_autofree char *text = json_to_string (node, FALSE);
  lodge_api_respond_json (r, 200, g_bytes_new_take (g_strconcat (text, "\n", NULL), strlen (text) + 1));
}

void
lodge_api_route_repair (Request *r, const char *name, const char *op)
{
  g_autoptr (GError) error = NULL;
  if (!lodge_repairs_is_op (op))
    {
      g_set_error (&error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "unknown repair operation '%s' (ls, cat, find, log, df, diff, write, revert, "
                   "rm, chmod, reset-root, fsck, undo, history, shell, close)", op);
      return lodge_api_respond_error (r, error);
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *args = NULL;
  if (!lodge_api_body_object (r, parser, &args))
    return;
  g_autofree char *who = lodge_api_requester (r);
  g_message ("repair %s %s by %s", name, op, who);
  g_autofree char *what = g_strdup_printf ("repair %s %s", name, op);
  RepairCall call = { op, args, who };
  lodge_api_run_job (r, name, what, repair_job, &call);
}
