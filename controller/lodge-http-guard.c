#include "lodge-http-guard.h"

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "lodge-http.h"

#define CONN_KEY "lodge-guard-conn"
#define DEADLINE_KEY "lodge-guard-deadline"
#define BODY_KEY "lodge-guard-body"
#define REFUSED_KEY "lodge-guard-refused"
#define DRAIN_US (1 * G_USEC_PER_SEC)  /* how long a refused body is still read and dropped */
#define DRAIN_MAX ((guint64) 64 << 20) /* and how much of it */

struct _LodgeHttpGuard {
  gatomicrefcount ref; /* the guard's owner, and each connection it counts */
  GMutex lock;
  LodgeHttpLimits limits;
  GHashTable *clients; /* address -> connections from it */
  guint total;
  SoupServer *server;
  gulong started;
  /* Lodge's own accept path (lodge_http_guard_listen) */
  GSocketService *service;
  GTlsCertificate *tls;
  GHashTable *handshaking; /* address -> handshakes under way from it */
  guint handshakes;
  GQueue waiting; /* Pending: hello arrived, waiting for a handshake slot */
};

/* What the guard keeps on a connection's socket: it ends with the socket. */
typedef struct {
  LodgeHttpGuard *guard;
  GSocket *sock;   /* whose data this is */
  char *peer;      /* "LOCAL|REMOTE" on our own accept path (the registry's key), or NULL */
  char *client; /* NULL on a UNIX socket */
  guint refused;    /* 0, or the cap it is past: 1 the client's, 2 the total */
  gboolean counted; /* until the connection is closed */
  /* The connection's first message, held until it says the connection is
   * closed: a later one is seen only once its first byte has come, and
   * the socket object may outlive the connection. */
  SoupServerMessage *first;
} Conn;

static void
guard_unref (LodgeHttpGuard *guard)
{
  if (!g_atomic_ref_count_dec (&guard->ref))
    return;
  g_hash_table_unref (guard->clients);
  g_hash_table_unref (guard->handshaking);
  g_clear_object (&guard->tls);
  g_mutex_clear (&guard->lock);
  g_free (guard);
}

/* When the connection closes (its socket object may live on a while,
 * with the last of its messages). */
static void
conn_release (Conn *conn)
{
  LodgeHttpGuard *guard = conn->guard;
  g_mutex_lock (&guard->lock);
  if (!conn->counted)
    {
      g_mutex_unlock (&guard->lock);
      return;
    }
  conn->counted = FALSE;
  guard->total--;
  if (conn->client != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (guard->clients, conn->client));
      if (n <= 1)
        g_hash_table_remove (guard->clients, conn->client);
      else
        g_hash_table_insert (guard->clients, g_strdup (conn->client), GUINT_TO_POINTER (n - 1));
    }
  g_mutex_unlock (&guard->lock);
}

/* The connections of Lodge's own accept path by their addresses: libsoup
 * gives no socket for a stream it was handed (soup_server_accept_iostream),
 * only the addresses given with it. */
G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry; /* "LOCAL|REMOTE" -> Conn */

static char *
peer_key (GSocketAddress *local, GSocketAddress *remote)
{
  if (local == NULL || remote == NULL)
    return NULL;
  g_autofree char *a = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (local));
  g_autofree char *b = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote));
  return g_strconcat (a, "|", b, NULL);
}

static void
conn_free (gpointer data)
{
  Conn *conn = data;
  LodgeHttpGuard *guard = conn->guard;
  if (conn->peer != NULL)
    {
      G_LOCK (registry);
      if (registry != NULL && g_hash_table_lookup (registry, conn->peer) == conn)
        g_hash_table_remove (registry, conn->peer);
      G_UNLOCK (registry);
      g_free (conn->peer);
    }
  conn_release (conn);
  g_clear_object (&conn->first);
  g_free (conn->client);
  g_free (conn);
  guard_unref (guard);
}

static char *
client_of (GSocket *sock)
{
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (sock, NULL);
  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* A new connection: counted, and bounded in time. */
static Conn *
conn_new (LodgeHttpGuard *guard, GSocket *sock)
{
  Conn *conn = g_new0 (Conn, 1);
  conn->guard = guard;
  conn->sock = sock;
  g_atomic_ref_count_inc (&guard->ref);
  conn->client = client_of (sock);
  g_mutex_lock (&guard->lock);
  conn->counted = TRUE;
  guint total = ++guard->total, from = 0;
  if (conn->client != NULL)
    {
      from = GPOINTER_TO_UINT (g_hash_table_lookup (guard->clients, conn->client)) + 1;
      g_hash_table_insert (guard->clients, g_strdup (conn->client), GUINT_TO_POINTER (from));
    }
  g_mutex_unlock (&guard->lock);
  const LodgeHttpLimits *l = &guard->limits;
  if (conn->client != NULL && from > l->per_client)
    conn->refused = 1;
  else if (total > l->total)
    conn->refused = 2;
  g_socket_set_timeout (sock, conn->refused ? l->refuse_s : l->idle_s);
  /* Past twice the total, not even a 503: the descriptors are the limit. */
  if (total > 2 * l->total)
    g_socket_shutdown (sock, TRUE, TRUE, NULL);
  return conn;
}

/* The Conn of @msg's connection, or NULL. */
static Conn *
conn_of (SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket (msg);
  if (sock != NULL)
    return g_object_get_data (G_OBJECT (sock), CONN_KEY);
  g_autofree char *key = peer_key (soup_server_message_get_local_address (msg),
                                   soup_server_message_get_remote_address (msg));
  Conn *conn = NULL;
  G_LOCK (registry);
  if (key != NULL && registry != NULL)
    conn = g_hash_table_lookup (registry, key);
  G_UNLOCK (registry);
  return conn;
}

/* ---- the deadline of a request's headers and body ---- */

static gboolean
deadline_passed (gpointer data)
{
  /* The reads fail, and libsoup closes the connection. */
  g_socket_shutdown (data, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void
deadline_free (gpointer data)
{
  GSource *source = data;
  g_source_destroy (source);
  g_source_unref (source);
}

static void
set_deadline (SoupServerMessage *msg, GSocket *sock, guint seconds)
{
  GSource *source = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (source, deadline_passed, g_object_ref (sock), g_object_unref);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_object_set_data_full (G_OBJECT (msg), DEADLINE_KEY, source, deadline_free);
}

static void
got_body (SoupServerMessage *msg, gpointer data)
{
  g_object_set_data (G_OBJECT (msg), DEADLINE_KEY, NULL);
}

/* Each message of the connection still alive hears that it is closed. */
static void
disconnected (SoupServerMessage *msg, gpointer data)
{
  Conn *conn = data;
  g_object_set_data (G_OBJECT (msg), DEADLINE_KEY, NULL);
  conn_release (conn);
  if (msg == conn->first)
    {
      conn->first = NULL;
      g_object_unref (msg); /* the socket, and this Conn, may go with it */
    }
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  LodgeHttpGuard *guard = data;
  Conn *conn = conn_of (msg);
  GSocket *sock = soup_server_message_get_socket (msg);
  if (conn == NULL && sock == NULL)
    return; /* not a connection of ours */
  if (conn == NULL)
    {
      conn = conn_new (guard, sock);
      g_object_set_data_full (G_OBJECT (sock), CONN_KEY, conn, conn_free);
    }
  if (conn->first == NULL && conn->counted)
    conn->first = g_object_ref (msg);
  set_deadline (msg, conn->sock, guard->limits.read_s);
  g_signal_connect (msg, "got-body", G_CALLBACK (got_body), NULL);
  g_signal_connect (msg, "disconnected", G_CALLBACK (disconnected), conn);
  if (!lodge_http_guard_keeps_alive ())
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
}

gboolean
lodge_http_guard_keeps_alive (void)
{
  return soup_get_major_version () > 3 || (soup_get_major_version () == 3 && soup_get_minor_version () >= 3);
}

LodgeHttpGuard *
lodge_http_guard_new (SoupServer *server, const LodgeHttpLimits *limits)
{
  g_return_val_if_fail (SOUP_IS_SERVER (server) && limits != NULL, NULL);
  LodgeHttpGuard *guard = g_new0 (LodgeHttpGuard, 1);
  g_atomic_ref_count_init (&guard->ref);
  g_mutex_init (&guard->lock);
  guard->limits = *limits;
  guard->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guard->server = server;
  guard->started = g_signal_connect (server, "request-started", G_CALLBACK (request_started), guard);
  guard->handshaking = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&guard->waiting);
  return guard;
}

void
lodge_http_guard_free (LodgeHttpGuard *guard)
{
  if (guard == NULL)
    return;
  g_signal_handler_disconnect (guard->server, guard->started);
  if (guard->service != NULL)
    {
      g_socket_service_stop (guard->service);
      g_socket_listener_close (G_SOCKET_LISTENER (guard->service));
      g_signal_handlers_disconnect_by_data (guard->service, guard);
      g_clear_object (&guard->service);
    }
  guard_unref (guard);
}

guint
lodge_http_guard_connections (LodgeHttpGuard *guard)
{
  g_mutex_lock (&guard->lock);
  guint n = guard->total;
  g_mutex_unlock (&guard->lock);
  return n;
}

/* ---- refusing a request without reading its body ---- */

typedef struct {
  SoupServerMessage *msg;
  GIOStream *stream;
  GSocket *sock;
  GBytes *answer;
  gint64 until;
  guint64 dropped;
  GSocket *conn_sock;
} Refusal;

static void
refusal_free (Refusal *f)
{
  if (f->sock != NULL)
    g_socket_close (f->sock, NULL);
  g_clear_object (&f->sock);
  g_clear_object (&f->conn_sock);
  g_clear_object (&f->stream);
  g_clear_object (&f->msg);
  g_bytes_unref (f->answer);
  g_free (f);
}

/* After the answer: what the client still sends is read and dropped for a
 * while, so that closing does not reset the connection before the client
 * has read the answer. */
static gboolean
drain (GSocket *sock, GIOCondition condition, gpointer data)
{
  Refusal *f = data;
  char buf[65536];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive_with_blocking (sock, buf, sizeof buf, FALSE, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n > 0)
    f->dropped += (guint64) n;
  if (n <= 0 || f->dropped > DRAIN_MAX
      || g_get_monotonic_time () > f->until)
    return G_SOURCE_REMOVE;
  return G_SOURCE_CONTINUE;
}

static void
written (GObject *source, GAsyncResult *result, gpointer data)
{
  Refusal *f = data;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL)
      || f->sock == NULL)
    return refusal_free (f);
  /* A client that sends nothing more: the source fires after a second
   * without a byte, and the read fails. */
  g_socket_set_timeout (f->sock, DRAIN_US / G_USEC_PER_SEC);
  g_socket_shutdown (f->sock, FALSE, TRUE, NULL);
  f->until = g_get_monotonic_time () + DRAIN_US;
  GSource *wait = g_socket_create_source (f->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (wait, G_SOURCE_FUNC (drain), f, (GDestroyNotify) refusal_free);
  g_source_attach (wait, g_main_context_get_thread_default ());
  g_source_unref (wait);
}

/* Outside libsoup's reading (which stealing in its midst would pull from
 * under it): the connection becomes ours. */
static gboolean
take_connection (gpointer data)
{
  Refusal *f = data;
  Conn *conn = conn_of (f->msg);
  f->conn_sock = conn != NULL ? g_object_ref (conn->sock) : NULL;
  f->stream = soup_server_message_steal_connection (f->msg);
  if (f->stream == NULL)
    {
      refusal_free (f);
      return G_SOURCE_REMOVE;
    }
  GSocket *sock = g_object_get_data (G_OBJECT (f->stream), "GSocket");
  if (sock == NULL && f->conn_sock != NULL)
    sock = f->conn_sock; /* our own accept path's */
  f->sock = sock != NULL ? g_object_ref (sock) : NULL;
  g_clear_object (&f->conn_sock);
  gsize len = 0;
  const void *answer = g_bytes_get_data (f->answer, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (f->stream), answer, len,
                                   G_PRIORITY_DEFAULT, NULL, written, f);
  return G_SOURCE_REMOVE;
}

static gboolean
has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  switch (soup_message_headers_get_encoding (h))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (h) > 0;
    default:
      return TRUE;
    }
}

void
lodge_http_guard_answer (SoupServerMessage *msg, guint status, SoupMessageHeaders *headers,
                         const char *json)
{
  g_object_set_data (G_OBJECT (msg), DEADLINE_KEY, NULL);
  if (!has_body (msg))
    {
      /* Nothing to skip: libsoup answers, and the handler is not called. */
      SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
      SoupMessageHeadersIter iter;
      const char *name, *value;
      soup_message_headers_replace (h, "Connection", "close");
      if (headers != NULL)
        for (soup_message_headers_iter_init (&iter, headers); soup_message_headers_iter_next (&iter, &name, &value);)
          soup_message_headers_replace (h, name, value);
      soup_server_message_set_status (msg, status, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json,
                                        strlen (json));
      return;
    }
  if (g_object_get_data (G_OBJECT (msg), REFUSED_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (msg), REFUSED_KEY, GINT_TO_POINTER (1));
  GString *head = g_string_new (NULL);
  g_string_append_printf (head, "HTTP/1.1 %u %s\r\nServer: lodged\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n", status, soup_status_get_phrase (status),
                          strlen (json));
  SoupMessageHeadersIter iter;
  const char *name, *value;
  if (headers != NULL)
    for (soup_message_headers_iter_init (&iter, headers); soup_message_headers_iter_next (&iter, &name, &value);)
      if (strpbrk (value, "\r\n") == NULL)
        g_string_append_printf (head, "%s: %s\r\n", name, value);
  g_string_append_printf (head, "\r\n%s", json);
  Refusal *f = g_new0 (Refusal, 1);
  f->msg = g_object_ref (msg);
  f->answer = g_string_free_to_bytes (head);
  soup_server_message_pause (msg);
  GSource *idle = g_idle_source_new ();
  g_source_set_callback (idle, take_connection, f, NULL);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

void
lodge_http_guard_refuse (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  g_autofree char *text = lodge_http_error_text (code, message);
  g_autofree char *json = g_strconcat (text, "\n", NULL);
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (status == 503)
    soup_message_headers_replace (headers, "Retry-After", "5");
  lodge_http_guard_answer (msg, status, headers, json);
}

gboolean
lodge_http_guard_over_cap (SoupServerMessage *msg)
{
  Conn *conn = conn_of (msg);
  if (conn == NULL || !conn->refused)
    return FALSE;
  const LodgeHttpLimits *l = &conn->guard->limits;
  g_autofree char *message
      = conn->refused == 1
            ? g_strdup_printf ("too many connections from %s (at most %u): try again when some close",
                               conn->client, l->per_client)
            : g_strdup_printf ("the server has too many connections (at most %u): try again later",
                               l->total);
  lodge_http_guard_refuse (msg, 503, "unavailable", message);
  return TRUE;
}

typedef struct {
  guint64 cap;
  guint64 seen;
} BodyCount;

static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  BodyCount *count = data;
  count->seen += g_bytes_get_size (chunk);
  if (count->seen <= count->cap)
    return;
  g_autofree char *message = g_strdup_printf ("the request body is over this request's limit of %"
                                              G_GUINT64_FORMAT " bytes", count->cap);
  lodge_http_guard_refuse (msg, 413, "invalid", message);
}

gboolean
lodge_http_guard_limit_body (SoupServerMessage *msg, guint64 cap)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (h);
  if (encoding == SOUP_ENCODING_NONE)
    return TRUE;
  if (encoding == SOUP_ENCODING_CONTENT_LENGTH)
    {
      goffset length = soup_message_headers_get_content_length (h);
      if (length >= 0 && (guint64) length <= cap)
        return TRUE;
      g_autofree char *message = g_strdup_printf ("a request body of %" G_GOFFSET_FORMAT
                                                  " bytes is over this request's limit of %"
                                                  G_GUINT64_FORMAT " bytes", length, cap);
      lodge_http_guard_refuse (msg, 413, "invalid", message);
      return FALSE;
    }
  BodyCount *count = g_new0 (BodyCount, 1);
  count->cap = cap;
  g_object_set_data_full (G_OBJECT (msg), BODY_KEY, count, g_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), count);
  return TRUE;
}

void
lodge_http_guard_extend_read (SoupServerMessage *msg, guint seconds)
{
  Conn *conn = conn_of (msg);
  if (conn != NULL && g_object_get_data (G_OBJECT (msg), DEADLINE_KEY) != NULL)
    set_deadline (msg, conn->sock, seconds);
}

/* ---- Lodge's own accept path ----
 *
 * glib-networking (2.74) runs a server's TLS handshake in GLib's shared
 * worker-thread pool, blocking on the client's bytes: connections that
 * send nothing would hold its threads, and every other client's handshake
 * (and lodged's own work in that pool) would wait. So a connection's
 * handshake starts only once its client has sent its hello, at most
 * HANDSHAKES_PER_CLIENT at a time from one address and HANDSHAKES in all,
 * each within HANDSHAKE_S; a client that sends nothing is closed after
 * refuse_s without a thread. Then libsoup gets the established stream. */

#define HANDSHAKES 8
#define HANDSHAKES_PER_CLIENT 4
#define HANDSHAKE_S 5

typedef struct {
  LodgeHttpGuard *guard; /* a reference */
  GSocketConnection *connection;
  Conn *conn;
  GTlsConnection *tls;
  GSource *wait;   /* the hello */
  GSource *timer;  /* its deadline */
  GList *queued;   /* in guard->waiting */
} Pending;

static void
source_clear (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

static void
pending_free (Pending *p)
{
  source_clear (&p->wait);
  source_clear (&p->timer);
  if (p->queued != NULL)
    g_queue_delete_link (&p->guard->waiting, p->queued);
  g_clear_object (&p->tls);
  g_clear_object (&p->connection);
  guard_unref (p->guard);
  g_free (p);
}

static void
pending_close (Pending *p)
{
  g_io_stream_close (G_IO_STREAM (p->connection), NULL, NULL);
  pending_free (p);
}

static void
hand_over (LodgeHttpGuard *guard, GSocketConnection *connection, GIOStream *stream)
{
  GSocket *sock = g_socket_connection_get_socket (connection);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (sock, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (sock, NULL);
  soup_server_accept_iostream (guard->server, stream, local, remote, NULL);
}

static guint
handshaking_from (LodgeHttpGuard *guard, const char *client)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (guard->handshaking, client != NULL ? client : ""));
}

static void start_handshake (Pending *p);

/* A handshake slot is free: the first waiting client that may use it. */
static void
admit_next (LodgeHttpGuard *guard)
{
  for (GList *l = guard->waiting.head; l != NULL && guard->handshakes < HANDSHAKES; l = l->next)
    {
      Pending *p = l->data;
      if (handshaking_from (guard, p->conn->client) >= HANDSHAKES_PER_CLIENT)
        continue;
      g_queue_delete_link (&guard->waiting, p->queued);
      p->queued = NULL;
      return start_handshake (p);
    }
}

static void
handshake_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Pending *p = data;
  LodgeHttpGuard *guard = p->guard;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, NULL);
  const char *key = p->conn->client != NULL ? p->conn->client : "";
  guint n = handshaking_from (guard, p->conn->client);
  if (n <= 1)
    g_hash_table_remove (guard->handshaking, key);
  else
    g_hash_table_insert (guard->handshaking, g_strdup (key), GUINT_TO_POINTER (n - 1));
  guard->handshakes--;
  if (ok)
    {
      const LodgeHttpLimits *l = &guard->limits;
      g_socket_set_timeout (p->conn->sock, p->conn->refused ? l->refuse_s : l->idle_s);
      hand_over (guard, p->connection, G_IO_STREAM (p->tls));
      pending_free (p);
    }
  else
    pending_close (p);
  admit_next (guard);
}

static void
start_handshake (Pending *p)
{
  LodgeHttpGuard *guard = p->guard;
  source_clear (&p->timer);
  g_autoptr (GError) error = NULL;
  /* Without a database, as libsoup's own accept path: a client's
   * certificate is never asked for, and g_tls_server_connection_new's
   * default one makes each connection parse the system's CA bundle
   * again (glib-networking 2.74: 6 ms of the main loop per handshake). */
  GIOStream *tls = g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                                   NULL, &error, "base-io-stream", p->connection, "certificate", guard->tls,
                                   "database", NULL, NULL);
  if (tls == NULL)
    {
      g_warning ("cannot start TLS: %s", error->message);
      return pending_close (p);
    }
  p->tls = G_TLS_CONNECTION (tls);
  const char *key = p->conn->client != NULL ? p->conn->client : "";
  g_hash_table_insert (guard->handshaking, g_strdup (key),
                       GUINT_TO_POINTER (handshaking_from (guard, p->conn->client) + 1));
  guard->handshakes++;
  /* The handshake's blocking reads and writes end within this. */
  g_socket_set_timeout (p->conn->sock, HANDSHAKE_S);
  g_tls_connection_handshake_async (p->tls, G_PRIORITY_DEFAULT, NULL, handshake_done, p);
}

static gboolean
hello_late (gpointer data)
{
  Pending *p = data;
  g_source_unref (p->timer);
  p->timer = NULL; /* being dispatched: it goes by itself */
  pending_close (p);
  return G_SOURCE_REMOVE;
}

static gboolean
hello_came (GSocket *sock, GIOCondition condition, gpointer data)
{
  Pending *p = data;
  g_source_unref (p->wait);
  p->wait = NULL;
  LodgeHttpGuard *guard = p->guard;
  if (guard->handshakes < HANDSHAKES && handshaking_from (guard, p->conn->client) < HANDSHAKES_PER_CLIENT)
    start_handshake (p);
  else
    {
      g_queue_push_tail (&guard->waiting, p);
      p->queued = guard->waiting.tail;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
incoming (GSocketService *service, GSocketConnection *connection, GObject *source, gpointer data)
{
  LodgeHttpGuard *guard = data;
  GSocket *sock = g_socket_connection_get_socket (connection);
  Conn *conn = conn_new (guard, sock);
  g_object_set_data_full (G_OBJECT (sock), CONN_KEY, conn, conn_free);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (sock, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (sock, NULL);
  conn->peer = peer_key (local, remote);
  if (conn->peer != NULL)
    {
      G_LOCK (registry);
      if (registry == NULL)
        registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (registry, g_strdup (conn->peer), conn);
      G_UNLOCK (registry);
    }
  if (guard->tls == NULL)
    {
      hand_over (guard, connection, G_IO_STREAM (connection));
      return TRUE;
    }
  g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  Pending *p = g_new0 (Pending, 1);
  p->guard = guard;
  g_atomic_ref_count_inc (&guard->ref);
  p->connection = g_object_ref (connection);
  p->conn = conn;
  /* No thread until the client has said something. */
  p->wait = g_socket_create_source (sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (p->wait, G_SOURCE_FUNC (hello_came), p, NULL);
  g_source_attach (p->wait, g_main_context_get_thread_default ());
  const LodgeHttpLimits *l = &guard->limits;
  p->timer = g_timeout_source_new_seconds (MIN (conn->refused ? l->refuse_s : l->idle_s, HANDSHAKE_S));
  g_source_set_callback (p->timer, hello_late, p, NULL);
  g_source_attach (p->timer, g_main_context_get_thread_default ());
  return TRUE;
}

gboolean
lodge_http_guard_listen (LodgeHttpGuard *guard, GSocketAddress *address, GTlsCertificate *tls,
                         GError **error)
{
  g_autoptr (GSocket) sock = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, LODGE_HTTP_BACKLOG);
  if (!g_socket_bind (sock, address, TRUE, error) || !g_socket_listen (sock, error))
    return FALSE;
  if (guard->service == NULL)
    {
      guard->service = g_socket_service_new ();
      g_signal_connect (guard->service, "incoming", G_CALLBACK (incoming), guard);
    }
  if (!g_socket_listener_add_socket (G_SOCKET_LISTENER (guard->service), sock, NULL, error))
    return FALSE;
  g_set_object (&guard->tls, tls);
  g_socket_service_start (guard->service);
  return TRUE;
}
