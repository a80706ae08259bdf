/* A standby controller's API listener: it serves nothing but where the
 * leader is. Every request is answered 503, code "not-leader", with the
 * leader's URL in the header Lodge-Leader (empty when it is unknown), so
 * that a client given several controllers goes on to the leader; the
 * leader publishes its URL in the leader lease's description.
 *
 * Only the TCP listener: a standby never takes the UNIX socket from the
 * leader. Freed when this controller becomes the leader, before its API
 * listens on the same address. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "lodge-http-guard.h"

#include "lodge-store.h"

G_BEGIN_DECLS

/* The leader lease's description: who holds it and where its API is
 * (@url may be NULL: it has no TCP listener). Newly allocated JSON. */
char *lodge_leader_description (const char *host, int pid, const char *url);
/* The API URL in a description made by lodge_leader_description, or NULL
 * (none, or a description of older controllers). */
char *lodge_leader_url (const char *description);

typedef struct _LodgeStandby LodgeStandby;

/* Listens on @address for controller @id, reading the lease @lease_name;
 * HTTPS with @tls if not NULL; its connections held to @limits. */
LodgeStandby *lodge_standby_new (LodgeStore *store, const char *lease_name, const char *id,
                                 GSocketAddress *address, GTlsCertificate *tls,
                                 const LodgeHttpLimits *limits, GError **error);
/* Its server, listening still, without the standby's handler, and in
 * *@ret_guard the guard that accepts its connections: for the API of a
 * controller that now leads (lodge_api_new), so that a connection
 * accepted meanwhile (a TLS handshake under way) is answered by the API,
 * not dropped with the standby. */
SoupServer *lodge_standby_release_server (LodgeStandby *standby, LodgeHttpGuard **ret_guard);
void lodge_standby_free (LodgeStandby *standby);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeStandby, lodge_standby_free)

G_END_DECLS
