#include "lodge-standby.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-http-guard.h"
#include "lodge-lease.h"

/* The lease is read at most this often, however many requests come. */
#define LEADER_CACHE_US (1 * G_USEC_PER_SEC)

struct _LodgeStandby {
  LodgeStore *store;
  char *lease_name;
  char *id;
  SoupServer *server;
  LodgeHttpGuard *guard; /* while the server is the standby's */
  char *leader;     /* its holder id, or NULL */
  char *leader_url; /* its API, or NULL */
  gint64 read_us;   /* when they were read (monotonic) */
};

char *
lodge_leader_description (const char *host, int pid, const char *url)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "host");
  json_builder_add_string_value (b, host);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, pid);
  if (url != NULL)
    {
      json_builder_set_member_name (b, "api");
      json_builder_add_string_value (b, url);
    }
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

char *
lodge_leader_url (const char *description)
{
  if (description == NULL || *description != '{')
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, description, -1, NULL)
      || json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *url = json_object_get_string_member_with_default (o, "api", NULL);
  /* Only a URL a client may follow: http(s), nothing to inject in a header. */
  if (url == NULL || strpbrk (url, "\r\n \t") != NULL
      || !(g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://")))
    return NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return NULL;
  return g_strdup (url);
}

static void
refresh (LodgeStandby *s)
{
  gint64 now = g_get_monotonic_time ();
  if (s->read_us != 0 && now - s->read_us < LEADER_CACHE_US)
    return;
  s->read_us = now;
  g_clear_pointer (&s->leader, g_free);
  g_clear_pointer (&s->leader_url, g_free);
  g_autofree char *description = NULL;
  if (lodge_lease_get_holder (s->store, s->lease_name, &s->leader, &description, NULL))
    s->leader_url = lodge_leader_url (description);
}

/* Every request, as soon as its headers are read: where the leader is.
 * A body is not read (the connection is closed after the answer). */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  LodgeStandby *s = user_data;
  if (lodge_http_guard_over_cap (msg))
    return;
  refresh (s);
  g_autofree char *message =
    s->leader == NULL        ? g_strdup_printf ("%s is a standby, and no controller leads now; "
                                                "try again in a few seconds", s->id)
    : s->leader_url != NULL ? g_strdup_printf ("%s is a standby; the leader is %s at %s", s->id,
                                               s->leader, s->leader_url)
                            : g_strdup_printf ("%s is a standby; the leader is %s, whose API has "
                                               "no published address",
                                               s->id, s->leader);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "not-leader");
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "leader");
  json_builder_add_string_value (b, s->leader_url != NULL ? s->leader_url : "");
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autofree char *json = g_strconcat (text, "\n", NULL);
  g_autoptr (SoupMessageHeaders) h = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  soup_message_headers_replace (h, "Lodge-Leader", s->leader_url != NULL ? s->leader_url : "");
  soup_message_headers_replace (h, "Retry-After", "1");
  lodge_http_guard_answer (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, h, json);
}

/* Not reached: every request is answered early. */
static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
}

LodgeStandby *
lodge_standby_new (LodgeStore *store, const char *lease_name, const char *id,
                   GSocketAddress *address, GTlsCertificate *tls, const LodgeHttpLimits *limits,
                   GError **error)
{
  g_autoptr (LodgeStandby) s = g_new0 (LodgeStandby, 1);
  s->store = store;
  s->lease_name = g_strdup (lease_name);
  s->id = g_strdup (id);
  s->server = soup_server_new ("server-header", "lodged", "tls-certificate", tls, NULL);
  soup_server_add_handler (s->server, NULL, handler, s, NULL);
  soup_server_add_early_handler (s->server, NULL, early_handler, s, NULL);
  s->guard = lodge_http_guard_new (s->server, limits);
  if (!lodge_http_guard_listen (s->guard, address, tls, error))
    {
      g_autofree char *where = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
      g_prefix_error (error, "cannot listen on %s: ", where);
      return NULL;
    }
  return g_steal_pointer (&s);
}

SoupServer *
lodge_standby_release_server (LodgeStandby *s, LodgeHttpGuard **ret_guard)
{
  g_return_val_if_fail (s != NULL, NULL);
  if (s->server != NULL)
    soup_server_remove_handler (s->server, NULL);
  *ret_guard = g_steal_pointer (&s->guard);
  return g_steal_pointer (&s->server);
}

void
lodge_standby_free (LodgeStandby *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->guard, lodge_http_guard_free);
  if (s->server != NULL)
    {
      soup_server_disconnect (s->server);
      g_object_unref (s->server);
    }
  g_free (s->lease_name);
  g_free (s->id);
  g_free (s->leader);
  g_free (s->leader_url);
  g_free (s);
}
