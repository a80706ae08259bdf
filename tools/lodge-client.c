#include "lodge-client.h"

#include <string.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-paths.h"

G_DEFINE_QUARK (lodge-client-error-quark, lodge_client_error)

struct _LodgeClient {
  GPtrArray *targets;   /* of char *: the controllers to try, in order */
  guint current;        /* the one in use */
  SoupSession *session; /* for it */
  char *base;           /* "http://lodged" for a socket, or the TCP URL */
  char *target;         /* for messages */
  char *token;
  char *ca_file;        /* the CA that https controllers are checked against */
  GTlsDatabase *tls_db; /* loaded from it, or NULL: the system's */
};

/* At most this many controllers are tried, redirections included. */
#define MAX_HOPS 8

/* "unix:/path" or an http(s) URL, else an error naming it. */
static gboolean
target_valid (const char *target, GError **error)
{
  if (g_str_has_prefix (target, "unix:/"))
    return TRUE;
  if (g_str_has_prefix (target, "http://") || g_str_has_prefix (target, "https://"))
    {
      g_autoptr (GUri) uri = g_uri_parse (target, G_URI_FLAGS_NONE, NULL);
      if (uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0')
        return TRUE;
    }
  g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
               "'%s' is not unix:/path or http://host:port", target);
  return FALSE;
}

/* 127.0.0.0/8, ::1 or "localhost" (as g_uri_get_host() gives it: an
 * IPv6 literal without its brackets): the request never leaves the host. */
static gboolean
host_is_loopback (const char *host)
{
  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (host);
  return ip != NULL && g_inet_address_get_is_loopback (ip);
}

static gboolean
use_target (LodgeClient *c, guint i, GError **error)
{
  const char *target = c->targets->pdata[i];
  if (!target_valid (target, error))
    return FALSE;
  g_clear_object (&c->session);
  g_clear_pointer (&c->base, g_free);
  g_free (c->target);
  c->target = g_strdup (target);
  c->current = i;
  if (g_str_has_prefix (target, "unix:"))
    {
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (target + 5);
      c->session = soup_session_new_with_options ("remote-connectable", addr, "timeout", 600, NULL);
      c->base = g_strdup ("http://lodged");
    }
  else
    {
      g_autoptr (GUri) uri = g_uri_parse (target, G_URI_FLAGS_NONE, NULL);
      if (g_str_has_prefix (target, "http:") && c->token != NULL && *c->token != '\0'
          && !host_is_loopback (g_uri_get_host (uri)))
        {
          /* Anyone on the way would read it. */
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                       "refusing to send the API token to %s over plain HTTP: use https:// (plain "
                       "HTTP only to a loopback address)", target);
          return FALSE;
        }
      if (g_str_has_prefix (target, "https:") && c->ca_file != NULL && c->tls_db == NULL)
        {
          c->tls_db = g_tls_file_database_new (c->ca_file, error);
          if (c->tls_db == NULL)
            {
              g_prefix_error (error, "the CA file %s: ", c->ca_file);
              return FALSE;
            }
        }
      c->session = c->tls_db != NULL ? soup_session_new_with_options ("timeout", 600, "tls-database",
                                                                      c->tls_db, NULL)
                                     : soup_session_new_with_options ("timeout", 600, NULL);
      c->base = g_strdup (target);
      if (g_str_has_suffix (c->base, "/"))
        c->base[strlen (c->base) - 1] = '\0';
    }
  return TRUE;
}

/* Appends the comma- or space-separated controllers of @list. */
static void
add_targets (GPtrArray *targets, const char *list)
{
  g_auto (GStrv) parts = g_strsplit_set (list, ", \t\n", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0' && !g_ptr_array_find_with_equal_func (targets, parts[i], g_str_equal, NULL))
      g_ptr_array_add (targets, g_strdup (parts[i]));
}

/* The client configuration file: $LODGE_CONFIG, else /etc/lodge/client.conf:
 *   [client]
 *   controllers=https://ctl1:8443;https://ctl2:8443
 *   token-file=/etc/lodge/api-token
 *   ca-file=/etc/lodge/ca-cert.pem
 * The token file's first line is the token sent to those controllers (and
 * to no others: a controller from --connect or $LODGE_URL gets only
 * $LODGE_TOKEN); the CA file, what https controllers are checked against
 * ($LODGE_CA overrides it).  Missing is fine; unreadable or malformed is
 * an error. */
static gboolean
read_config (GPtrArray *targets, char **ret_token, char **ret_ca, GError **error)
{
  const char *path = g_getenv ("LODGE_CONFIG");
  gboolean explicit = path != NULL && *path != '\0';
  if (!explicit)
    path = "/etc/lodge/client.conf";
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (!explicit && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "%s: %s", path,
                   local->message);
      return FALSE;
    }
  g_auto (GStrv) list = g_key_file_get_string_list (kf, "client", "controllers", NULL, NULL);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    add_targets (targets, list[i]);
  *ret_ca = g_key_file_get_string (kf, "client", "ca-file", NULL);
  g_autofree char *token_file = g_key_file_get_string (kf, "client", "token-file", NULL);
  if (token_file != NULL && *token_file != '\0')
    {
      g_autofree char *token = NULL;
      if (!g_file_get_contents (token_file, &token, NULL, &local))
        {
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "%s: token-file: %s",
                       path, local->message);
          return FALSE;
        }
      char *nl = strchr (token, '\n');
      if (nl != NULL)
        *nl = '\0';
      g_strstrip (token);
      if (*token == '\0')
        {
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                       "%s: token-file %s is empty", path, token_file);
          return FALSE;
        }
      *ret_token = g_steal_pointer (&token);
    }
  return TRUE;
}

LodgeClient *
lodge_client_new (const char *target, const char *token, GError **error)
{
  g_autoptr (LodgeClient) c = g_new0 (LodgeClient, 1);
  c->targets = g_ptr_array_new_with_free_func (g_free);
  if (target == NULL)
    target = g_getenv ("LODGE_URL");
  g_autofree char *config_token = NULL;
  g_autofree char *config_ca = NULL;
  if (target != NULL && *target != '\0')
    add_targets (c->targets, target);
  else if (!read_config (c->targets, &config_token, &config_ca, error))
    return NULL;
  if (c->targets->len == 0)
    {
      const char *dir = g_getenv ("LODGE_CLUSTER_DIR");
      g_ptr_array_add (c->targets, g_strdup_printf ("unix:%s/run/lodged.sock",
                                                    dir != NULL && *dir ? dir : LODGE_CLUSTER_DEFAULT_DIR));
    }
  for (guint i = 0; i < c->targets->len; i++)
    if (!target_valid (c->targets->pdata[i], error))
      return NULL;
  if (token == NULL)
    token = g_getenv ("LODGE_TOKEN");
  if (token == NULL || *token == '\0')
    token = config_token;
  c->token = g_strdup (token);
  const char *ca = g_getenv ("LODGE_CA");
  c->ca_file = g_strdup (ca != NULL && *ca != '\0' ? ca : config_ca != NULL && *config_ca != '\0' ? config_ca : NULL);
  if (!use_target (c, 0, error))
    return NULL;
  return g_steal_pointer (&c);
}

void
lodge_client_free (LodgeClient *c)
{
  if (c == NULL)
    return;
  g_clear_object (&c->session);
  g_clear_pointer (&c->targets, g_ptr_array_unref);
  g_free (c->base);
  g_free (c->target);
  g_free (c->token);
  g_free (c->ca_file);
  g_clear_object (&c->tls_db);
  g_free (c);
}

/* Whether @error means the request never reached a controller (so that
 * sending it to another changes nothing twice). */
static gboolean
never_reached (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)
         || error->domain == G_RESOLVER_ERROR;
}

/* A file to upload as a request's body. */
typedef struct {
  const char *path;
  const char *content_type;
  LodgeClientSentFunc on_sent;
  gpointer user_data;
  guint64 total;
  guint64 sent;
} Upload;

static void
wrote_body_data (SoupMessage *msg, guint chunk, gpointer data)
{
  Upload *up = data;
  up->sent += chunk;
  if (up->on_sent != NULL)
    up->on_sent (up->sent, up->total, up->user_data);
}

static SoupMessage *
new_message (LodgeClient *c, const char *method, const char *path, const char *content_type,
             GBytes *body, gboolean stream, Upload *upload, GError **error)
{
  g_autofree char *url = g_strconcat (c->base, path, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  if (msg == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "bad request path %s", path);
      return NULL;
    }
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (stream)
    {
      soup_message_headers_replace (h, "Accept", "application/x-ndjson, application/json");
    }
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  if (upload != NULL)
    {
      /* Opened anew for each controller tried. */
      g_autoptr (GFile) file = g_file_new_for_path (upload->path);
      g_autoptr (GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                      G_FILE_QUERY_INFO_NONE, NULL, error);
      g_autoptr (GFileInputStream) in = info != NULL ? g_file_read (file, NULL, error) : NULL;
      if (in == NULL)
        {
          g_object_unref (msg);
          return NULL;
        }
      upload->total = (guint64) g_file_info_get_size (info);
      upload->sent = 0;
      soup_message_set_request_body (msg, upload->content_type, G_INPUT_STREAM (in),
                                     (gssize) upload->total);
      g_signal_connect (msg, "wrote-body-data", G_CALLBACK (wrote_body_data), upload);
    }
  if (c->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", c->token, NULL);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  return msg;
}

/* Sends the request to the controllers in turn until one that leads
 * answers: a controller that cannot be reached is passed over, a standby
 * that names the leader (503 with Lodge-Leader) sends it there. The
 * answer's body as a stream (@stream) or read whole into *@ret_bytes. */
/* The first controller after the current one (in turn) not in @failed;
 * the number of targets when none is left. */
static guint
next_untried (LodgeClient *c, GHashTable *failed)
{
  for (guint k = 1; k <= c->targets->len; k++)
    {
      guint i = (c->current + k) % c->targets->len;
      if (!g_hash_table_contains (failed, c->targets->pdata[i]))
        return i;
    }
  return c->targets->len;
}

/* Sends the request to the controllers in turn until one that leads
 * answers: a controller that cannot be reached is passed over, a standby
 * that names the leader (503 with Lodge-Leader) sends it there. The
 * answer's body as a stream (@stream: *@ret_in) or read whole
 * (*@ret_bytes). */
static SoupMessage *
send_to_leader (LodgeClient *c, const char *method, const char *path, const char *content_type,
                GBytes *body, gboolean stream, Upload *upload, GInputStream **ret_in,
                GBytes **ret_bytes, GError **error)
{
  g_autoptr (GError) last = NULL;
  g_autoptr (GString) tried = g_string_new (NULL);
  g_autoptr (GHashTable) failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint hop = 0; hop < MAX_HOPS; hop++)
    {
      g_autoptr (SoupMessage) msg = new_message (c, method, path, content_type, body, stream, upload,
                                                 error);
      if (msg == NULL)
        return NULL;
      g_clear_error (&last);
      g_autoptr (GInputStream) in = NULL;
      g_autoptr (GBytes) bytes = NULL;
      if (stream)
        in = soup_session_send (c->session, msg, NULL, &last);
      else
        bytes = soup_session_send_and_read (c->session, msg, NULL, &last);
      g_string_append_printf (tried, "%s%s", tried->len > 0 ? ", " : "", c->target);
      guint next;
      if (in == NULL && bytes == NULL)
        {
          if (!never_reached (last))
            break; /* it may have been acted on: not sent again */
          g_hash_table_add (failed, g_strdup (c->target));
          next = next_untried (c, failed);
        }
      else
        {
          const char *leader = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                             "Lodge-Leader");
          if (soup_message_get_status (msg) != SOUP_STATUS_SERVICE_UNAVAILABLE || leader == NULL)
            {
              if (stream)
                *ret_in = g_steal_pointer (&in);
              else
                *ret_bytes = g_steal_pointer (&bytes);
              return g_steal_pointer (&msg);
            }
          /* A standby: on to the leader it names, or else the next one. */
          g_set_error (&last, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                       "%s is a standby%s%s", c->target, *leader != '\0' ? " naming " : "", leader);
          guint at = 0;
          if (target_valid (leader, NULL) && strcmp (leader, c->target) != 0
              && !g_hash_table_contains (failed, leader))
            {
              if (!g_ptr_array_find_with_equal_func (c->targets, leader, g_str_equal, &at))
                {
                  g_ptr_array_add (c->targets, g_strdup (leader));
                  at = c->targets->len - 1;
                }
              next = at;
            }
          else
            {
              g_hash_table_add (failed, g_strdup (c->target));
              next = next_untried (c, failed);
            }
        }
      if (next >= c->targets->len || !use_target (c, next, NULL))
        break;
    }
  const char *why = last != NULL ? last->message : "too many redirections";
  if (strchr (tried->str, ',') == NULL)
    g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                 "no control center at %s (%s); is lodged running?", tried->str, why);
  else
    g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_UNREACHABLE,
                 "no control center answers as the leader (tried %s; the last: %s)", tried->str, why);
  return NULL;
}

static LodgeClientErrorCode
code_of (const char *code)
{
  static const struct {
    const char *name;
    LodgeClientErrorCode code;
  } map[] = {
    { "invalid", LODGE_CLIENT_ERROR_INVALID },     { "unauthorized", LODGE_CLIENT_ERROR_UNAUTHORIZED },
    { "forbidden", LODGE_CLIENT_ERROR_UNAUTHORIZED }, { "quota", LODGE_CLIENT_ERROR_CAPACITY },
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
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (SoupMessage) msg = send_to_leader (c, method, path, content_type, body, FALSE, NULL,
                                                NULL, &answer, error);
  if (msg == NULL)
    return NULL;
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

static GBytes *
request_stream (LodgeClient *c, const char *method, const char *path, const char *content_type,
                GBytes *body, Upload *upload, LodgeClientStepFunc on_step,
                LodgeClientDataFunc on_data, gpointer user_data, GError **error);

GBytes *
lodge_client_request_stream (LodgeClient *c, const char *method, const char *path,
                             const char *content_type, GBytes *body, LodgeClientStepFunc on_step,
                             LodgeClientDataFunc on_data, gpointer user_data, GError **error)
{
  return request_stream (c, method, path, content_type, body, NULL, on_step, on_data, user_data,
                         error);
}

GBytes *
lodge_client_upload (LodgeClient *c, const char *method, const char *path, const char *content_type,
                     const char *file, LodgeClientSentFunc on_sent, LodgeClientStepFunc on_step,
                     gpointer user_data, GError **error)
{
  Upload upload = { file, content_type, on_sent, user_data, 0, 0 };
  return request_stream (c, method, path, NULL, NULL, &upload, on_step, NULL, user_data, error);
}

static GBytes *
request_stream (LodgeClient *c, const char *method, const char *path, const char *content_type,
                GBytes *body, Upload *upload, LodgeClientStepFunc on_step,
                LodgeClientDataFunc on_data, gpointer user_data, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (SoupMessage) msg = send_to_leader (c, method, path, content_type, body, TRUE, upload,
                                                &in, NULL, error);
  if (msg == NULL)
    return NULL;
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
