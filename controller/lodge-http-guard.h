/* Bounds on what a client of a SoupServer can make it hold: connections
 * (per client address and in all, a clear 503 past either), time (a
 * connection idle for long is closed; the headers and body of one request
 * must arrive within a deadline) and memory (a body over its route's cap
 * is refused before it is read, and a chunked one as soon as it passes
 * the cap).
 *
 * libsoup 3.2 reads a request's whole body even when an early handler has
 * already answered it. A refusal here therefore takes the connection from
 * libsoup, writes the answer itself and closes it: nothing of the body is
 * read but what was in flight. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  guint idle_s;          /* a connection with no byte either way this long is closed */
  guint read_s;          /* a request's headers and body arrive within this */
  guint per_client;      /* connections from one address (not counted on a UNIX socket) */
  guint total;           /* connections in all */
  guint refuse_s;        /* the idle limit of a connection past a cap, which is answered 503 */
} LodgeHttpLimits;

/* The limits of lodged's API. */
#define LODGE_HTTP_LIMITS_DEFAULT { 60, 60, 64, 1024, 5 }

/* The accept queue of lodged's listeners (the kernel caps it at
 * net.core.somaxconn, 4096 on Linux 6.1). */
#define LODGE_HTTP_BACKLOG 1024

typedef struct _LodgeHttpGuard LodgeHttpGuard;

/* Watches every connection of @server from now on. */
LodgeHttpGuard *lodge_http_guard_new (SoupServer *server, const LodgeHttpLimits *limits);
/* Stops watching; connections still open keep their bounds. */
void lodge_http_guard_free (LodgeHttpGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeHttpGuard, lodge_http_guard_free)

/* From an early handler (the request's headers are read), before anything
 * else: TRUE after refusing @msg because its connection is past a cap. */
gboolean lodge_http_guard_over_cap (SoupServerMessage *msg);

/* From an early handler: refuses @msg now with {"error": {@code, @message}}
 * and closes its connection; its body, if any, is not read. */
void lodge_http_guard_refuse (SoupServerMessage *msg, guint status, const char *code,
                              const char *message);

/* The same with any answer: @json (a complete body) and @headers
 * (nullable) besides the usual. */
void lodge_http_guard_answer (SoupServerMessage *msg, guint status, SoupMessageHeaders *headers,
                              const char *json);

/* From an early handler: whether @msg's body may be up to @cap bytes. A
 * Content-Length over @cap is refused (413) at once and FALSE returned; a
 * body of unknown length is counted as it comes and refused the moment it
 * passes @cap. */
gboolean lodge_http_guard_limit_body (SoupServerMessage *msg, guint64 cap);

/* From an early handler: the rest of @msg's body may take @seconds (an
 * upload of gigabytes); the idle limit still holds. */
void lodge_http_guard_extend_read (SoupServerMessage *msg, guint seconds);

/* Whether a connection is kept open for another request. libsoup before
 * 3.3 (Debian 12 has 3.2) never closes a kept-alive connection that its
 * client closes, nor one idle past the limit (upstream commit d20c660,
 * "server: do not leak idle connections closed by the client"): there,
 * every answer closes its connection. */
gboolean lodge_http_guard_keeps_alive (void);

/* Serves the guard's server on the TCP @address (HTTPS with @tls), with an
 * accept queue of LODGE_HTTP_BACKLOG (GLib's default of 10 drops SYNs
 * under a burst), through Lodge's own accept path: a TLS handshake starts
 * only once the client has sent its hello, a few at a time per client
 * address (glib-networking runs each one in GLib's shared thread pool,
 * blocking: idle connections would starve it). */
gboolean lodge_http_guard_listen (LodgeHttpGuard *guard, GSocketAddress *address, GTlsCertificate *tls,
                                  GError **error);

/* How many connections the guard counts now (for tests and status). */
guint lodge_http_guard_connections (LodgeHttpGuard *guard);

G_END_DECLS
