/* The bounds lodge-http-guard.c puts on a SoupServer's clients, against a
 * real server on loopback addresses (127.0.0.1, and 127.0.0.2 and .3 as
 * other clients) driven by raw sockets: a refused body is never read, a
 * chunked one is cut at its cap, idle and slow clients are closed, and
 * connections past a cap are answered 503. No daemons. */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <libsoup/soup.h>

#include "lodge-http-guard.h"

#define TOKEN "Bearer secret-token"
#define CAP 4096

static const LodgeHttpLimits limits = {
  .idle_s = 2, .read_s = 3, .per_client = 3, .total = 5, .refuse_s = 1,
};

/* The TLS server: Lodge's own accept path, roomier caps. */
static const LodgeHttpLimits tls_limits = {
  .idle_s = 2, .read_s = 3, .per_client = 64, .total = 1024, .refuse_s = 1,
};

typedef struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  LodgeHttpGuard *guard;
  guint16 port;
  SoupServer *tls_server;
  LodgeHttpGuard *tls_guard;
  guint16 tls_port; /* 0: no certificate could be made (no certtool) */
  char *dir;
  GMutex lock;
  GCond ready;
  gboolean up;
} Server;

static Server srv;

static void
early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  if (lodge_http_guard_over_cap (msg))
    return;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  if (g_strcmp0 (auth, TOKEN) != 0)
    return lodge_http_guard_refuse (msg, 401, "unauthorized", "no token");
  lodge_http_guard_limit_body (msg, CAP);
}

static gboolean
answer_late (gpointer data)
{
  SoupServerMessage *msg = data;
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "late", 4);
  soup_server_message_unpause (msg);
  return G_SOURCE_REMOVE;
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  if (strcmp (path, "/slow") == 0)
    {
      /* Longer than the idle limit: the client waits for the answer. */
      soup_server_message_pause (msg);
      GSource *later = g_timeout_source_new (limits.idle_s * 1000 + 1500);
      g_source_set_callback (later, answer_late, g_object_ref (msg), g_object_unref);
      g_source_attach (later, g_main_context_get_thread_default ());
      g_source_unref (later);
      return;
    }
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *text = g_strdup_printf ("%" G_GOFFSET_FORMAT, body != NULL ? body->length : 0);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text, strlen (text));
}

/* A self-signed ECDSA certificate for 127.0.0.1, made with certtool. */
static GTlsCertificate *
make_certificate (void)
{
  srv.dir = g_dir_make_tmp ("lodge-guard-XXXXXX", NULL);
  g_autofree char *tmpl = g_build_filename (srv.dir, "tmpl", NULL);
  g_autofree char *key = g_build_filename (srv.dir, "key.pem", NULL);
  g_autofree char *cert = g_build_filename (srv.dir, "cert.pem", NULL);
  g_file_set_contents (tmpl, "cn = 127.0.0.1\nip_address = 127.0.0.1\ntls_www_server\nsigning_key\n"
                             "expiration_days = 2\n", -1, NULL);
  g_autofree char *make_key = g_strdup_printf ("certtool --generate-privkey --key-type ecdsa --outfile %s", key);
  g_autofree char *make_cert = g_strdup_printf ("certtool --generate-self-signed --load-privkey %s "
                                                "--template %s --outfile %s", key, tmpl, cert);
  int status = 1;
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
  if (!g_spawn_command_line_sync (make_key, &o1, &e1, &status, NULL) || status != 0
      || !g_spawn_command_line_sync (make_cert, &o2, &e2, &status, NULL) || status != 0)
    return NULL;
  return g_tls_certificate_new_from_files (cert, key, NULL);
}

static void
start_tls_server (void)
{
  g_autoptr (GTlsCertificate) cert = make_certificate ();
  if (cert == NULL)
    return;
  srv.tls_server = soup_server_new ("server-header", "test", NULL);
  soup_server_add_handler (srv.tls_server, NULL, handler, NULL, NULL);
  soup_server_add_early_handler (srv.tls_server, NULL, early, NULL, NULL);
  srv.tls_guard = lodge_http_guard_new (srv.tls_server, &tls_limits);
  /* A free port: bound and let go (a race only with other programs). */
  g_autoptr (GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (probe, any, TRUE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (probe, NULL);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (probe, NULL);
  g_autoptr (GSocketAddress) at = g_inet_socket_address_new (lo, port);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_http_guard_listen (srv.tls_guard, at, cert, &error));
  g_assert_no_error (error);
  srv.tls_port = port;
}

static gpointer
server_thread (gpointer data)
{
  g_main_context_push_thread_default (srv.context);
  srv.server = soup_server_new ("server-header", "test", NULL);
  soup_server_add_handler (srv.server, NULL, handler, NULL, NULL);
  soup_server_add_early_handler (srv.server, NULL, early, NULL, NULL);
  srv.guard = lodge_http_guard_new (srv.server, &limits);
  g_autoptr (GError) error = NULL;
  g_assert_true (soup_server_listen_local (srv.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  GSList *uris = soup_server_get_uris (srv.server);
  srv.port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  start_tls_server ();
  g_mutex_lock (&srv.lock);
  srv.up = TRUE;
  g_cond_signal (&srv.ready);
  g_mutex_unlock (&srv.lock);
  g_main_loop_run (srv.loop);
  lodge_http_guard_free (srv.tls_guard);
  g_clear_object (&srv.tls_server);
  lodge_http_guard_free (srv.guard);
  soup_server_disconnect (srv.server);
  g_object_unref (srv.server);
  g_main_context_pop_thread_default (srv.context);
  return NULL;
}

static GSocket *
connect_from (const char *from)
{
  g_autoptr (GError) error = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (from);
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new (a, 0);
  g_assert_true (g_socket_bind (sock, local, FALSE, &error));
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, srv.port);
  g_assert_true (g_socket_connect (sock, to, NULL, &error));
  g_socket_set_timeout (sock, 10);
  return sock;
}

static void
send_text (GSocket *sock, const char *text)
{
  /* A refused request's connection may be closed under the rest. */
  g_socket_send (sock, text, strlen (text), NULL, NULL);
}

/* Reads until the peer closes (or 10 s pass): all it sent. */
static char *
read_all (GSocket *sock, gint64 *ret_ms)
{
  gint64 start = g_get_monotonic_time ();
  GString *got = g_string_new (NULL);
  char buf[4096];
  for (;;)
    {
      gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_len (got, buf, n);
    }
  if (ret_ms != NULL)
    *ret_ms = (g_get_monotonic_time () - start) / 1000;
  return g_string_free (got, FALSE);
}

/* The status of an answer that starts @text. */
static guint
status_of (const char *text)
{
  guint status = 0;
  if (sscanf (text, "HTTP/1.%*c %u", &status) != 1)
    return 0;
  return status;
}

/* Until @guard counts @want connections (the server thread closes them;
 * the guard has no event for it), within 15 s: a loaded machine (a CI
 * run's Ceph and guests beside it) made 5 s too short once in a few runs. */
static void
wait_count (LodgeHttpGuard *guard, guint want)
{
  gint64 start = g_get_monotonic_time ();
  for (int i = 0; i < 300 && lodge_http_guard_connections (guard) != want; i++)
    g_usleep (50 * 1000); /* polling a condition with a deadline */
  if (g_get_monotonic_time () - start > 60 * 1000)
    g_test_message ("%u connections after %" G_GINT64_FORMAT " ms", lodge_http_guard_connections (guard),
                    (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpuint (lodge_http_guard_connections (guard), ==, want);
}

static void
wait_connections (guint want)
{
  wait_count (srv.guard, want);
}

static char *
request (const char *from, const char *text)
{
  g_autoptr (GSocket) sock = connect_from (from);
  send_text (sock, text);
  return read_all (sock, NULL);
}

static void
test_ok (void)
{
  wait_connections (0); /* those of the test before are closed */
  g_autofree char *got = request ("127.0.0.1", "POST /x HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN
                                               "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  g_assert_cmpuint (status_of (got), ==, 200);
  g_assert_true (g_str_has_suffix (got, "\r\n\r\n5"));
}

/* Headers that announce 2 GB, and not a byte of it sent: the answer comes
 * anyway, so the server does not wait for (or keep) the body. */
static void
big_body_refused (const char *auth, guint want, const char *words)
{
  wait_connections (0); /* those of the test before are closed */
  g_autoptr (GSocket) sock = connect_from ("127.0.0.1");
  g_autofree char *head = g_strdup_printf ("PUT /x HTTP/1.1\r\nHost: x\r\n%s"
                                           "Content-Length: 2147483648\r\n\r\n", auth);
  send_text (sock, head);
  send_text (sock, "the first bytes of the body");
  gint64 ms = 0;
  g_autofree char *got = read_all (sock, &ms);
  g_test_message ("answered in %" G_GINT64_FORMAT " ms: %s", ms, got);
  g_assert_cmpuint (status_of (got), ==, want);
  g_assert_nonnull (strstr (got, words));
  g_assert_nonnull (strstr (got, "Connection: close"));
  g_assert_cmpint (ms, <, 5000); /* not the read deadline's close */
}

static void
test_unauthorized_body (void)
{
  big_body_refused ("", 401, "\"code\":\"unauthorized\"");
}

static void
test_large_body (void)
{
  big_body_refused ("Authorization: " TOKEN "\r\n", 413,
                    "2147483648 bytes is over this request's limit of 4096 bytes");
}

static void
test_chunked (void)
{
  wait_connections (0); /* those of the test before are closed */
  /* Under the cap: taken. */
  g_autofree char *small = request ("127.0.0.1", "POST /x HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN
                                                 "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                                 "5\r\nhello\r\n0\r\n\r\n");
  g_assert_cmpuint (status_of (small), ==, 200);
  g_assert_true (g_str_has_suffix (small, "\r\n\r\n5"));

  /* Past it: refused as it passes, the rest not waited for. */
  g_autoptr (GSocket) sock = connect_from ("127.0.0.1");
  send_text (sock, "POST /x HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN
                   "\r\nTransfer-Encoding: chunked\r\n\r\n");
  g_autofree char *chunk = g_strnfill (1000, 'a');
  g_autofree char *framed = g_strdup_printf ("3e8\r\n%s\r\n", chunk);
  for (int i = 0; i < 5; i++)
    send_text (sock, framed);
  gint64 ms = 0;
  g_autofree char *got = read_all (sock, &ms);
  g_assert_cmpuint (status_of (got), ==, 413);
  g_assert_nonnull (strstr (got, "over this request's limit of 4096 bytes"));
  g_assert_cmpint (ms, <, 5000);
}

static void
test_idle (void)
{
  wait_connections (0); /* those of the test before are closed */
  g_autoptr (GSocket) sock = connect_from ("127.0.0.1");
  gint64 ms = 0;
  g_autofree char *got = read_all (sock, &ms);
  g_test_message ("an idle connection closed after %" G_GINT64_FORMAT " ms", ms);
  g_assert_cmpstr (got, ==, "");
  g_assert_cmpint (ms, >=, limits.idle_s * 1000 - 500);
  g_assert_cmpint (ms, <, limits.idle_s * 1000 + 3000);
}

/* A byte of headers a second keeps a connection from being idle, not
 * from the read deadline. */
static void
test_slow_headers (void)
{
  wait_connections (0); /* those of the test before are closed */
  g_autoptr (GSocket) sock = connect_from ("127.0.0.1");
  gint64 start = g_get_monotonic_time ();
  const char *head = "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa";
  gboolean closed = FALSE;
  for (const char *p = head; *p != '\0' && !closed; p++)
    {
      closed = g_socket_send (sock, p, 1, NULL, NULL) < 0;
      if (g_socket_condition_timed_wait (sock, G_IO_IN | G_IO_HUP, 700 * 1000, NULL, NULL))
        break; /* closed (or answered): read it below */
    }
  g_autofree char *got = read_all (sock, NULL);
  gint64 ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("a slow client closed after %" G_GINT64_FORMAT " ms", ms);
  g_assert_cmpstr (got, ==, "");
  g_assert_cmpint (ms, >=, limits.read_s * 1000 - 500);
  g_assert_cmpint (ms, <, limits.read_s * 1000 + 3000);
}

static void
test_slow_handler (void)
{
  wait_connections (0); /* those of the test before are closed */
  g_autofree char *got = request ("127.0.0.1", "GET /slow HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN
                                               "\r\nConnection: close\r\n\r\n");
  g_assert_cmpuint (status_of (got), ==, 200);
  g_assert_true (g_str_has_suffix (got, "late"));
}

/* A client that keeps its connection for another request, and closes it
 * at last: the server does not hold it after that. */
static void
test_keepalive (void)
{
  wait_connections (0); /* those of the test before are closed */
  g_autoptr (GSocket) sock = connect_from ("127.0.0.1");
  const char *req = "POST /x HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN "\r\nContent-Length: 2\r\n\r\nab";
  if (!lodge_http_guard_keeps_alive ())
    {
      /* libsoup 3.2: each answer closes its connection. */
      send_text (sock, req);
      g_autofree char *got = read_all (sock, NULL);
      g_assert_cmpuint (status_of (got), ==, 200);
      g_assert_nonnull (strstr (got, "Connection: close"));
      g_assert_true (g_str_has_suffix (got, "\r\n\r\n2"));
      wait_connections (0);
      return;
    }
  for (int i = 0; i < 2; i++)
    {
      send_text (sock, req);
      /* The answer, which may come in pieces; the connection stays open. */
      g_autoptr (GString) got = g_string_new (NULL);
      while (!g_str_has_suffix (got->str, "\r\n\r\n2"))
        {
          char buf[4096];
          gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
          g_assert_cmpint (n, >, 0);
          g_string_append_len (got, buf, n);
        }
      g_assert_cmpuint (status_of (got->str), ==, 200);
    }
  g_socket_close (sock, NULL);
  wait_connections (0);
}

static void
test_caps (void)
{
  const char *get = "GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN "\r\nConnection: close\r\n\r\n";
  wait_connections (0);
  GSocket *held[5];
  for (int i = 0; i < 3; i++)
    held[i] = connect_from ("127.0.0.1");
  wait_connections (3);

  /* One more from the same address: 503, naming it and the cap. */
  g_autofree char *more = request ("127.0.0.1", get);
  g_assert_cmpuint (status_of (more), ==, 503);
  g_assert_nonnull (strstr (more, "too many connections from 127.0.0.1 (at most 3)"));
  g_assert_nonnull (strstr (more, "Retry-After: 5"));
  /* Another client is served. */
  g_autofree char *other = request ("127.0.0.2", get);
  g_assert_cmpuint (status_of (other), ==, 200);

  /* The total: 5 held, one more from anywhere is 503. */
  held[3] = connect_from ("127.0.0.2");
  held[4] = connect_from ("127.0.0.3");
  wait_connections (5);
  g_autofree char *full = request ("127.0.0.3", get);
  g_assert_cmpuint (status_of (full), ==, 503);
  g_assert_nonnull (strstr (full, "the server has too many connections (at most 5)"));

  /* When they close, they are no longer counted. */
  for (int i = 0; i < 5; i++)
    g_object_unref (held[i]);
  wait_connections (0);
  g_autofree char *again = request ("127.0.0.1", get);
  g_assert_cmpuint (status_of (again), ==, 200);
}

/* curl over TLS from @from: "CODE SECONDS" */
static char *
curl_tls (const char *from, const char *extra)
{
  g_autofree char *cmd = g_strdup_printf ("curl -sk -o /dev/null -w '%%{http_code} %%{time_total}' --max-time 20 "
                                          "--interface %s -H 'Authorization: " TOKEN "' %s "
                                          "https://127.0.0.1:%u/x", from, extra, srv.tls_port);
  char *out = NULL;
  g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL);
  return out != NULL ? out : g_strdup ("");
}

/* Connections that send nothing take no handshake thread: another
 * client's request over TLS is answered at once, however many there are
 * (glib-networking's threaded handshakes of libsoup's own accept path
 * made an honest request wait 13.7 s behind 64 of them). */
static void
test_tls_idle (void)
{
  if (srv.tls_port == 0)
    return g_test_skip ("no certificate: certtool (gnutls-bin) is missing");
  g_autofree char *curl = g_find_program_in_path ("curl");
  if (curl == NULL)
    return g_test_skip ("curl is missing");
  GPtrArray *held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, srv.tls_port);
  for (int i = 0; i < 200; i++)
    {
      GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
      g_assert_true (g_socket_connect (sock, to, NULL, NULL));
      g_ptr_array_add (held, sock);
    }
  g_autofree char *got = curl_tls ("127.0.0.2", "");
  g_test_message ("with 200 idle TLS connections, another client: %s", got);
  g_assert_true (g_str_has_prefix (got, "200 "));
  /* Generous for a slow sanitized build; behind 200 threaded handshakes
   * it would be past curl's 20 s. */
  g_assert_cmpfloat (g_ascii_strtod (got + 4, NULL), <, 10.0);
  /* They are closed by the hello deadline (the idle limit), without a thread. */
  wait_count (srv.tls_guard, 0);
  g_ptr_array_unref (held);
}

/* The bounds hold on that path too: a body refused unread, a token checked. */
static void
test_tls_refusals (void)
{
  if (srv.tls_port == 0)
    return g_test_skip ("no certificate: certtool (gnutls-bin) is missing");
  g_autofree char *curl = g_find_program_in_path ("curl");
  if (curl == NULL)
    return g_test_skip ("curl is missing");
  g_autofree char *ok = curl_tls ("127.0.0.1", "-d hello");
  g_assert_true (g_str_has_prefix (ok, "200 "));
  g_autofree char *big = curl_tls ("127.0.0.1", "-H 'Expect:' -H 'Content-Length: 2147483648' -d x");
  g_test_message ("2 GB announced over TLS: %s", big);
  g_assert_true (g_str_has_prefix (big, "413 "));
  g_autofree char *cmd = g_strdup_printf ("curl -sk -o /dev/null -w '%%{http_code}' --max-time 20 "
                                          "https://127.0.0.1:%u/x", srv.tls_port);
  g_autofree char *out = NULL;
  g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL);
  g_assert_cmpstr (out, ==, "401");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mutex_init (&srv.lock);
  g_cond_init (&srv.ready);
  srv.context = g_main_context_new ();
  srv.loop = g_main_loop_new (srv.context, FALSE);
  srv.thread = g_thread_new ("server", server_thread, NULL);
  g_mutex_lock (&srv.lock);
  while (!srv.up)
    g_cond_wait (&srv.ready, &srv.lock);
  g_mutex_unlock (&srv.lock);

  g_test_add_func ("/http-guard/ok", test_ok);
  g_test_add_func ("/http-guard/unauthorized-body", test_unauthorized_body);
  g_test_add_func ("/http-guard/large-body", test_large_body);
  g_test_add_func ("/http-guard/chunked", test_chunked);
  g_test_add_func ("/http-guard/idle", test_idle);
  g_test_add_func ("/http-guard/slow-headers", test_slow_headers);
  g_test_add_func ("/http-guard/slow-handler", test_slow_handler);
  g_test_add_func ("/http-guard/keepalive", test_keepalive);
  g_test_add_func ("/http-guard/caps", test_caps);
  g_test_add_func ("/http-guard/tls-idle", test_tls_idle);
  g_test_add_func ("/http-guard/tls-refusals", test_tls_refusals);
  int status = g_test_run ();

  g_main_loop_quit (srv.loop);
  g_thread_join (srv.thread);
  g_main_loop_unref (srv.loop);
  g_main_context_unref (srv.context);
  if (srv.dir != NULL)
    {
      g_autofree char *rm = g_strdup_printf ("rm -rf %s", srv.dir);
      g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL);
      g_free (srv.dir);
    }
  return status;
}
