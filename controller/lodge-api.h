/* The control center's HTTP API (libsoup 3): on a UNIX socket (root only),
 * and optionally on TCP with a bearer token. Versioned paths (/v1/...);
 * environment definitions are XML, everything else JSON; an error is
 *   {"error": {"code": "not-found", "message": "unknown environment 'x'"}}
 * with a stable code: invalid (400), unauthorized (401), not-found (404),
 * conflict (409), capacity (409), unavailable (503), failed (500).
 *
 *   GET    /v1/environments              list (JSON)
 *   POST   /v1/environments              define a new one (body: the XML); 409 if taken
 *   PUT    /v1/environments/NAME         define or redefine NAME (body: the XML)
 *   GET    /v1/environments/NAME         the definition (XML)
 *   DELETE /v1/environments/NAME[?storage=yes]   undefine
 *   GET    /v1/environments/NAME/status  runtime state (JSON)
 *   GET    /v1/environments/NAME/console[?lines=N|?offset=B]  serial log (text)
 *   POST   /v1/environments/NAME/start|stop|restart[?force=yes]
 *                                         waits until done; JSON with the steps
 *   GET    /v1/nodes                     nodes (JSON)
 *   GET    /metrics                      Prometheus text
 *
 * Work that blocks (RADOS, libvirt) runs in a worker thread; the main loop
 * only parses and answers. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "lodge-http-guard.h"
#include "lodge-services.h"

G_BEGIN_DECLS

typedef struct _LodgeApi LodgeApi;

/* Listens on the UNIX socket @socket_path (made mode 0600 in a 0700
 * directory), and on the TCP address @listen if not NULL, where every
 * request must carry "Authorization: Bearer @token"; with @tls, that
 * listener is HTTPS with that certificate. With @server (a standby's,
 * lodge_standby_release_server(): taken, with its @guard), that server is
 * the API's, and already listens on @listen. Every connection is held to @limits
 * (NULL: LODGE_HTTP_LIMITS_DEFAULT); a request's body to its route's cap,
 * refused before it is read, as is a request that is not authorized. */
LodgeApi *lodge_api_new (LodgeServices *services, const char *socket_path, GSocketAddress *listen,
                         GTlsCertificate *tls, const char *token, const LodgeHttpLimits *limits,
                         SoupServer *server, LodgeHttpGuard *guard, GError **error);
/* The Ceph identity a joining controller is given: the controllers' own
 * (controller/lodge-join.h); without it, controllers cannot join. */
void lodge_api_set_join_identity (LodgeApi *api, const char *ceph_user, const char *ceph_key);
void lodge_api_free (LodgeApi *api);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeApi, lodge_api_free)

G_END_DECLS
