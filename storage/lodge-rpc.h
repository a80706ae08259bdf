/* Requests from the control center to one node's agent, and their
 * answers, over RADOS watch/notify: the agent watches the object
 * "rpc.NODE" (namespace "rpc" of the state pool), a caller notifies it
 * with the request, and the agent's acknowledgement carries the answer.
 *
 * So nothing reaches a node but through Ceph and libvirt: no port of its
 * own on the node, the same cephx identities as the store, and the agent
 * answers wherever it runs. A request and its answer are small (bounded
 * below); the handler runs in librados's callback thread, one request at
 * a time per server. */
#pragma once

#include <glib.h>

#include "lodge-store.h"

G_BEGIN_DECLS

#define LODGE_RPC_MAX_REQUEST (256 * 1024)
#define LODGE_RPC_MAX_REPLY (256 * 1024)

/* Answers @request (at most LODGE_RPC_MAX_REQUEST bytes); NULL with
 * @error set to refuse it: the caller gets the error's message. An answer
 * longer than LODGE_RPC_MAX_REPLY is refused as such. */
typedef GBytes *(*LodgeRpcHandler) (GBytes *request, gpointer user_data, GError **error);

typedef struct _LodgeRpcServer LodgeRpcServer;

/* Serves @node's requests with @handler until freed. */
LodgeRpcServer *lodge_rpc_serve (LodgeStore *store, const char *node, LodgeRpcHandler handler,
                                 gpointer user_data, GError **error);
/* Watches again when the watch was lost (a reconnection, a long stall);
 * call it now and then (the agent does at each heartbeat). */
gboolean lodge_rpc_server_check (LodgeRpcServer *server, GError **error);
/* Stops serving; when it returns, the handler is not running and won't. */
void lodge_rpc_server_free (LodgeRpcServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRpcServer, lodge_rpc_server_free)

/* Sends @request to @node's agent and returns its answer within
 * @timeout_ms. Errors: LODGE_STORAGE_ERROR_UNREACHABLE when no agent
 * serves @node or it did not answer in time; LODGE_STORAGE_ERROR_FAILED
 * with the agent's message when it refused. */
GBytes *lodge_rpc_call (LodgeStore *store, const char *node, GBytes *request, guint timeout_ms,
                        GError **error);

G_END_DECLS
