#include "lodge-client.h"

#include <string.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-rados.h"

G_DEFINE_QUARK (lodge-client-error-quark, lodge_client_error)

struct _LodgeClient {
  SoupSession *session;
  char *base;   /* "http://lodged" for the socket, or the TCP URL */
  char *target; /* for messages */
  char *token;
};

LodgeClient *
lodge_client_new (const char *target, const char *token, GError **error)
{
  g_autofree char *default_target = NULL;
  if (target == NULL)
    target = g_getenv ("LODGE_URL");
  if (target == NULL || *target == '\0')
    {
      const char *dir = g_getenv ("LODGE_CLUSTER_DIR");
      default_target = g_strdup_printf ("unix:%s/run/lodged.sock",
                                        dir != NULL && *dir ? dir : LODGE_CLUSTER_DEFAULT_DIR);
      target = default_target;
    }
  if (token == NULL)
    token = g_getenv ("LODGE_TOKEN");

  g_autoptr (LodgeClient) c = g_new0 (LodgeClient, 1);
  c->target = g_strdup (target);
  c->token = g_strdup (token);
  if (g_str_has_prefix (target, "unix:"))
    {
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (target + 5);
      c->session = soup_session_new_with_options ("remote-connectable", addr, "timeout", 600, NULL);
      c->base = g_strdup ("http://lodged");
    }
  else if (g_str_has_prefix (target, "http://") || g_str_has_prefix (target, "https://"))
    {
      c->session = soup_session_new_with_options ("timeout", 600, NULL);
      c->base = g_strdup (target);
      if (g_str_has_suffix (c->base, "/"))
        c->base[strlen (c->base) - 1] = '\0';
    }
  else
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                   "'%s' is not unix:/path or http://host:port", target);
      return NULL;
    }
  return g_steal_pointer (&c);
}

void
lodge_client_free (LodgeClient *c)
{
  if (c == NULL)
    return;
  g_clear_object (&c->session);
  g_free (c->base);
  g_free (c->target);
  g_free (c->token);
  g_free (c);
}

static LodgeClientErrorCode
code_of (const char *code)
{
  static const struct {
    const char *name;
    LodgeClientErrorCode code;
  } map[] = {
    { "invalid", LODGE_CLIENT_ERROR_INVALID },     { "unauthorized", LODGE_CLIENT_ERROR_UNAUTHORIZED },
    { "not-found", LODGE_CLIENT_ERROR_NOT_FOUND }, { "conflict", LODGE_CLIENT_ERROR_CONFLICT },
    { "capacity", LODGE_CLIENT_ERROR_CAPACITY },   { "unavailable", LODGE_CLIENT_ERROR_UNREACHABLE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_strcmp0 (code, map[i].name) == 0)
      return map[i].code;
  return LODGE_CLIENT_ERROR_FAILED;
}

GBytes *
lodge_client_request (LodgeClient *c, const char *method, const char *path,
                      const char *content_type, GBytes *body, GError **error)
{
  return lodge_client_request_full (c, method, path, content_type, body, NULL, NULL, error);
}

GBytes *
lodge_client_request_full (LodgeClient *c, const char *method, const char *path,
                           const char *content_type, GBytes *body, const char *header,
                           char **ret_header, GError **error)
{
  g_autofree char *url = g_strconcat (c->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  if (msg == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "bad request path %s", path);
      return NULL;
    }
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  if (c->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", c->token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) answer = soup_session_send_and_read (c->session, msg, NULL, &local);
  if (answer == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                   "no control center at %s (%s); is lodged running?", c->target, local->message);
      return NULL;
    }
  guint status = soup_message_get_status (msg);
  if (status >= 200 && status < 300)
    {
      if (header != NULL)
        *ret_header = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                              header));
      return g_steal_pointer (&answer);
    }

  /* {"error": {"code": ..., "message": ...}} */
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  const char *code = NULL, *message = NULL;
  if (json_parser_load_from_data (parser, data, (gssize) len, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonObject *e = json_object_has_member (o, "error") ? json_object_get_object_member (o, "error") : NULL;
      if (e != NULL)
        {
          code = json_object_get_string_member_with_default (e, "code", NULL);
          message = json_object_get_string_member_with_default (e, "message", NULL);
        }
    }
  g_set_error (error, LODGE_CLIENT_ERROR, code_of (code), "%s",
               message != NULL ? message : soup_message_get_reason_phrase (msg));
  return NULL;
}

/* {"error": {"code", "message"}} in @o, as a GError. */
static void
set_api_error (JsonObject *o, const char *fallback, GError **error)
{
  JsonObject *e = o != NULL && json_object_has_member (o, "error")
                    ? json_object_get_object_member (o, "error")
                    : NULL;
  const char *code = e != NULL ? json_object_get_string_member_with_default (e, "code", NULL) : NULL;
  const char *message = e != NULL ? json_object_get_string_member_with_default (e, "message", NULL) : NULL;
  g_set_error (error, LODGE_CLIENT_ERROR, code_of (code), "%s", message != NULL ? message : fallback);
}

GBytes *
lodge_client_request_steps (LodgeClient *c, const char *method, const char *path,
                            LodgeClientStepFunc on_step, gpointer user_data, GError **error)
{
  return lodge_client_request_stream (c, method, path, NULL, NULL, on_step, NULL, user_data, error);
}

GBytes *
lodge_client_request_stream (LodgeClient *c, const char *method, const char *path,
                             const char *content_type, GBytes *body, LodgeClientStepFunc on_step,
                             LodgeClientDataFunc on_data, gpointer user_data, GError **error)
{
  g_autofree char *url = g_strconcat (c->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  if (msg == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "bad request path %s", path);
      return NULL;
    }
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  soup_message_headers_replace (h, "Accept", "application/x-ndjson, application/json");
  /* Who asks, for what the control center records (repairs name it). */
  const char *user = g_getenv ("SUDO_USER") != NULL ? g_getenv ("SUDO_USER") : g_get_user_name ();
  soup_message_headers_replace (h, "X-Lodge-User", user);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  if (c->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", c->token, NULL);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  g_autoptr (GError) local = NULL;
  g_autoptr (GInputStream) in = soup_session_send (c->session, msg, NULL, &local);
  if (in == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                   "no control center at %s (%s); is lodged running?", c->target, local->message);
      return NULL;
    }
  guint status = soup_message_get_status (msg);
  const char *type = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (in);
  g_data_input_stream_set_newline_type (lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
  if (status < 200 || status >= 300 || g_strcmp0 (type, "application/x-ndjson") != 0)
    {
      /* Not streamed: one JSON document (the answer, or an error). */
      g_autoptr (GString) all = g_string_new (NULL);
      char *line;
      while ((line = g_data_input_stream_read_line (lines, NULL, NULL, &local)) != NULL)
        {
          g_string_append (all, line);
          g_string_append_c (all, '\n');
          g_free (line);
        }
      if (status >= 200 && status < 300)
        return g_string_free_to_bytes (g_steal_pointer (&all));
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *o = json_parser_load_from_data (parser, all->str, (gssize) all->len, NULL)
                          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
                        ? json_node_get_object (json_parser_get_root (parser))
                        : NULL;
      set_api_error (o, soup_message_get_reason_phrase (msg), error);
      return NULL;
    }
  for (;;)
    {
      gsize len = 0;
      g_autofree char *line = g_data_input_stream_read_line (lines, &len, NULL, &local);
      if (line == NULL)
        {
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                       "the control center at %s went away before the operation ended%s%s",
                       c->target, local != NULL ? ": " : "", local != NULL ? local->message : "");
          return NULL;
        }
      g_autoptr (JsonParser) parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, line, (gssize) len, NULL)
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      if (json_object_has_member (o, "step"))
        {
          if (on_step != NULL)
            on_step (json_object_get_string_member_with_default (o, "step", ""),
                     json_object_get_int_member_with_default (o, "ms", 0), user_data);
        }
      else if (json_object_has_member (o, "data"))
        {
          gsize dlen = 0;
          g_autofree guchar *data =
            g_base64_decode (json_object_get_string_member_with_default (o, "data", ""), &dlen);
          if (on_data != NULL && !on_data ((const char *) data, dlen, user_data))
            {
              g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED,
                           "cannot write the output");
              return NULL;
            }
        }
      else if (json_object_has_member (o, "result"))
        {
          g_autoptr (JsonGenerator) gen = json_generator_new ();
          json_generator_set_root (gen, json_object_get_member (o, "result"));
          gsize rlen = 0;
          char *text = json_generator_to_data (gen, &rlen);
          return g_bytes_new_take (text, rlen);
        }
      else if (json_object_has_member (o, "error"))
        {
          set_api_error (o, "the operation failed", error);
          return NULL;
        }
    }
}
