#include "lodge-http.h"

#include <string.h>

#include "lodge-access.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-libvirt.h"
#include "lodge-storage-error.h"

#define COLLECT_MAX (16 << 20)
#define DATA_CHUNK (192 << 10) /* bytes of output per streamed line */

/* ---- the request ---- */

LodgeHttpRequest *
lodge_http_request_new (SoupServerMessage *msg, const char *path, GHashTable *query)
{
  LodgeHttpRequest *r = g_new0 (LodgeHttpRequest, 1);
  r->msg = g_object_ref (msg);
  r->start_us = g_get_monotonic_time ();
  r->method = g_strdup (soup_server_message_get_method (msg));
  r->parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", 6);
  r->query = query != NULL ? g_hash_table_ref (query) : NULL;
  soup_server_message_pause (msg);
  return r;
}

gboolean
lodge_http_request_read (LodgeHttpRequest *r)
{
  SoupMessageBody *body = soup_server_message_get_request_body (r->msg);
  gboolean spooled = g_object_get_data (G_OBJECT (r->msg), LODGE_HTTP_SPOOLED) != NULL;
  if (body != NULL && body->length > 0 && !spooled)
    {
      r->body = soup_message_body_flatten (body);
      soup_message_body_truncate (body); /* the message may outlive the request */
    }
  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (r->msg),
                                                     "Accept");
  if (accept != NULL && strstr (accept, "application/x-ndjson") != NULL)
    r->stream = lodge_http_stream_new (r->msg);
  return TRUE;
}

/* The last line of a streamed response: {"result": @body}, or @body, the
 * {"error": ...} object. */
static char *
last_line (LodgeHttpRequest *r, const char *body, gsize len)
{
  g_autofree char *text = g_strndup (body, len);
  g_strchomp (text);
  if (r->status >= 300)
    return g_strconcat (text, "\n", NULL);
  g_autoptr (JsonNode) result = json_from_string (text, NULL);
  if (result == NULL)
    {
      result = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (result, text);
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, g_steal_pointer (&result));
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *line = json_to_string (root, FALSE);
  return g_strconcat (line, "\n", NULL);
}

void
lodge_http_request_send (LodgeHttpRequest *r)
{
  gsize len = 0;
  const char *body = r->response != NULL ? g_bytes_get_data (r->response, &len) : "";
  if (r->stream != NULL && lodge_http_stream_is_gone (r->stream))
    ; /* the client went away: its message is finished already */
  else if (r->stream != NULL && lodge_http_stream_is_started (r->stream))
    {
      /* The status is sent already: the outcome is the last line. */
      lodge_http_stream_write (r->stream, last_line (r, body, len));
      soup_message_body_complete (soup_server_message_get_response_body (r->msg));
      soup_server_message_unpause (r->msg);
    }
  else
    {
      soup_server_message_set_status (r->msg, r->status, NULL);
      soup_server_message_set_response (r->msg, r->content_type, SOUP_MEMORY_COPY, body, len);
      soup_server_message_unpause (r->msg);
    }
}

void
lodge_http_request_free (LodgeHttpRequest *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->stream, lodge_http_stream_unref);
  g_free (r->method);
  g_strfreev (r->parts);
  g_clear_pointer (&r->query, g_hash_table_unref);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->response, g_bytes_unref);
  g_object_unref (r->msg);
  g_free (r);
}

const char *
lodge_http_query (LodgeHttpRequest *r, const char *key)
{
  return r->query != NULL ? g_hash_table_lookup (r->query, key) : NULL;
}

gboolean
lodge_http_query_yes (LodgeHttpRequest *r, const char *key)
{
  const char *v = lodge_http_query (r, key);
  return g_strcmp0 (v, "yes") == 0 || g_strcmp0 (v, "1") == 0;
}

/* ---- answers ---- */

void
lodge_http_respond (LodgeHttpRequest *r, guint status, const char *content_type, GBytes *body)
{
  r->status = status;
  r->content_type = content_type;
  g_clear_pointer (&r->response, g_bytes_unref);
  r->response = body;
}

void
lodge_http_respond_json (LodgeHttpRequest *r, guint status, char *json)
{
  gsize len = strlen (json);
  char *text = g_realloc (json, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  lodge_http_respond (r, status, "application/json", g_bytes_new_take (text, len + 1));
}

void
lodge_http_respond_built (LodgeHttpRequest *r, guint status, JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  lodge_http_respond_json (r, status, json_to_string (root, FALSE));
}

JsonNode *
lodge_http_json_node (GBytes *json)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));
  JsonNode *node = json_from_string (text, NULL);
  return node != NULL ? node : json_node_new (JSON_NODE_NULL);
}

char *
lodge_http_error_text (const char *code, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

void
lodge_http_respond_error_code (LodgeHttpRequest *r, guint status, const char *code,
                               const char *message)
{
  lodge_http_respond_json (r, status, lodge_http_error_text (code, message));
}

void
lodge_http_respond_error (LodgeHttpRequest *r, const GError *error)
{
  guint status = 500;
  const char *code = "failed";
  if (error->domain == LODGE_ERROR)
    switch ((LodgeErrorCode) error->code)
      {
      case LODGE_ERROR_CAPACITY:
        status = 409, code = "capacity";
        break;
      case LODGE_ERROR_FORBIDDEN:
        status = 403, code = "forbidden";
        break;
      case LODGE_ERROR_QUOTA:
        status = 403, code = "quota";
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
      case LODGE_STORAGE_ERROR_SUPERSEDED: /* this controller no longer leads */
        status = 503, code = "unavailable";
        break;
      case LODGE_STORAGE_ERROR_FULL:
        status = 507, code = "full";
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
  lodge_http_respond_error_code (r, status, code, error->message);
}

/* ---- what the routes ask of a request ---- */

/* Who asks, for the claim a start would be refused with and the log: the
 * identity the early handler authenticated (lodge-api.c). */
char *
lodge_http_requester (LodgeHttpRequest *r)
{
  const LodgeIdentity *id = g_object_get_data (G_OBJECT (r->msg), LODGE_HTTP_IDENTITY);
  if (id == NULL)
    return g_strdup ("nobody");
  return g_strdup_printf ("%s (%s)", id->name, lodge_role_to_string (id->role));
}

gboolean
lodge_http_body_object (LodgeHttpRequest *r, JsonParser *parser, JsonObject **ret_args)
{
  *ret_args = NULL;
  if (r->body == NULL || g_bytes_get_size (r->body) == 0)
    return TRUE;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (r->body, NULL),
                                   (gssize) g_bytes_get_size (r->body), NULL))
    {
      lodge_http_respond_error_code (r, 400, "invalid", "the body is not JSON");
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      lodge_http_respond_error_code (r, 400, "invalid", "the body must be a JSON object of arguments");
      return FALSE;
    }
  *ret_args = json_node_get_object (root);
  return TRUE;
}

/* @b's object as one line of a stream. */
static char *
stream_line (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  return g_strconcat (text, "\n", NULL);
}

void
lodge_http_post_step (LodgeHttpRequest *r, const char *what, gint64 ms)
{
  if (r->stream == NULL)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "step");
  json_builder_add_string_value (b, what);
  json_builder_set_member_name (b, "ms");
  json_builder_add_int_value (b, ms);
  json_builder_end_object (b);
  lodge_http_stream_post (r->stream, stream_line (b));
}

/* ---- jobs ---- */

/* Where a job's output and progress go: the stream, or (output) a buffer
 * for the result. */
typedef struct {
  LodgeHttpRequest *r;
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
          g_autoptr (JsonBuilder) b = json_builder_new ();
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "data");
          json_builder_add_string_value (b, b64);
          json_builder_end_object (b);
          if (!lodge_http_stream_post (s->r->stream, stream_line (b)))
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
  lodge_http_post_step (s->r, what, (g_get_monotonic_time () - s->r->start_us) / 1000);
}

void
lodge_http_run_job (LodgeHttpRequest *r, const char *what, LodgeHttpJobFunc job, gpointer data)
{
  g_autoptr (GError) error = NULL;
  Sink sink = { r, g_string_new (NULL), FALSE };
  g_autofree char *result = job (data, sink_out, &sink, sink_step, &sink, &error);
  g_autoptr (GString) collected = sink.collected;
  if (result == NULL && sink.overflow)
    return lodge_http_respond_error_code (
      r, 413, "invalid",
      "the output is over 16 MiB: ask for it as a stream (Accept: application/x-ndjson)");
  if (result == NULL)
    {
      g_message ("%s failed: %s", what, error->message);
      return lodge_http_respond_error (r, error);
    }
  if (r->stream != NULL)
    return lodge_http_respond_json (r, 200, g_steal_pointer (&result));
  /* The output goes into the result object. */
  g_autoptr (JsonNode) node = json_from_string (result, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) collected->str, collected->len);
  json_object_set_string_member (json_node_get_object (node), "output", b64);
  lodge_http_respond_json (r, 200, json_to_string (node, FALSE));
}
