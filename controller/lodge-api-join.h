/* Joining hosts through the API (controller/lodge-join.h):
 *   GET    /v1/join/ca          the cluster CA's certificate (PEM)       (anyone)
 *   POST   /v1/join             {token, role, name, address, request}
 *                               -> {name, certificate, ca, ceph: {user, key, monitors}} (anyone
 *                               with a join token)
 *   GET    /v1/join-tokens      [{id, role, name, expires_us, created_by, created_us}] (admin)
 *   POST   /v1/join-tokens      {role, name, ttl} -> {id, token, role, name, expires_us} (admin)
 *   DELETE /v1/join-tokens/ID                                                (admin)
 *   DELETE /v1/nodes/NAME        a node that left: down, no VE on it      (admin)
 * The first two need no credential: a host that joins has none yet. The
 * join's own proof is its token, in the body (at most 16 KiB). */
#pragma once

#include "lodge-ctl.h"
#include "lodge-http.h"
#include "lodge-rados.h"
#include "lodge-store.h"

G_BEGIN_DECLS

/* The largest body of POST /v1/join. */
#define LODGE_API_JOIN_MAX_BODY (16 * 1024)

/* Whether @method @path is one of the two routes open to anyone. */
gboolean lodge_api_join_is_open (const char *method, const char *path);

/* What a join gives a controller: the controllers' Ceph identity. */
typedef struct {
  char *ceph_user;
  char *ceph_key;
} LodgeApiJoin;

/* In a worker thread: /v1/join and /v1/join/ca. */
void lodge_api_join_route (LodgeHttpRequest *r, LodgeStore *store, const LodgeApiJoin *join);
/* In a worker thread: /v1/join-tokens[/ID]. */
void lodge_api_join_tokens_route (LodgeHttpRequest *r, LodgeStore *store);
/* In a worker thread: DELETE /v1/nodes/NAME, the other end of a join. */
void lodge_api_join_remove_node (LodgeHttpRequest *r, LodgeCtl *ctl, const char *name);

G_END_DECLS
