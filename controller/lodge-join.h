/* Hosts joining the cluster: one-time tokens an admin makes, the cluster
 * CA that signs the joining host's certificate request, and the Ceph
 * identity it gets (docs/deploy.md).
 *
 * A token is "ID.SECRET.PIN": ID (8 hex digits) names its record in the
 * store (kind "join-token": {"role", "name", "expires_us", "created_by",
 * "created_us", "secret_sha256"}); SECRET (32 hex digits) is kept only as
 * its SHA-256; PIN is the SHA-256 of the cluster CA's certificate, which
 * the joining host checks before it trusts the controller (as kubeadm's
 * discovery hash). A token is used once: the join deletes its record at
 * the version it read, so of two joins with one token one wins. Expiry is
 * by the wall clock of the controller that checks (tokens live minutes to
 * hours: a few seconds of skew between controllers do not matter).
 *
 * The CA (kind "pki", record "ca": {"cert", "key"}) is readable by the
 * controllers' Ceph identity only: nodes' caps reach their own namespaces
 * of the state pool, not this one. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-enum.h"
#include "lodge-rados.h"
#include "lodge-store.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_JOIN_NODE,       /* a node: lodge-agent, libvirtd, QEMU */
  LODGE_JOIN_CONTROLLER, /* a standby controller */
  LODGE_JOIN_LAST
} LodgeJoinRole;
LODGE_ENUM_DECL (lodge_join_role);

/* Days a host certificate is valid (as the CA/Browser Forum's old limit). */
#define LODGE_JOIN_CERT_DAYS 825
#define LODGE_JOIN_CA_DAYS 3650
/* A token's life when none is asked for, and the longest. */
#define LODGE_JOIN_DEFAULT_TTL_S 3600
#define LODGE_JOIN_MAX_TTL_S (7 * 86400)

typedef struct {
  char *id;
  LodgeJoinRole role;
  char *name; /* the only host name it joins, or NULL: any */
  gint64 expires_us;
  char *created_by;
  gint64 created_us;
} LodgeJoinToken;

void lodge_join_token_free (LodgeJoinToken *token);
/* @t's members (role, name, expires_us, created_by, created_us) into the
 * object @b is building: its record and the API's answers share them. */
void lodge_join_token_build (JsonBuilder *b, const LodgeJoinToken *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeJoinToken, lodge_join_token_free)

/* The cluster CA: saved once (LODGE_STORAGE_ERROR_EXISTS if there is one),
 * read on each join. */
gboolean lodge_join_save_ca (LodgeStore *store, const char *cert_pem, const char *key_pem,
                             GError **error);
gboolean lodge_join_load_ca (LodgeStore *store, char **ret_cert_pem, char **ret_key_pem,
                             GError **error);

/* A new token for @role (and only host @name, if not NULL), valid for
 * @ttl_s seconds (1 to LODGE_JOIN_MAX_TTL_S), made by @by; its text in
 * *@ret_text (shown once: the store keeps only its hash). */
LodgeJoinToken *lodge_join_token_create (LodgeStore *store, LodgeJoinRole role, const char *name,
                                         guint ttl_s, const char *by, char **ret_text,
                                         GError **error);
/* The tokens not used yet (expired ones too: their expiry says so). */
GPtrArray *lodge_join_token_list (LodgeStore *store, GError **error);
/* Removes token @id (LODGE_STORAGE_ERROR_NOT_FOUND if there is none). */
gboolean lodge_join_token_delete (LodgeStore *store, const char *id, GError **error);

/* The caps of node @name's Ceph identity, client.lodge-NAME (pairs, for
 * lodge_rados_auth_get_or_create): RBD on the VE disk pools (and the
 * manager's RBD profile on them), the templates read-only, of the state
 * store its own report, decision and RPC objects, and no MDS access
 * (LODGE_JOIN_NODE_MDS_CAPS: every cap type is given, so that the
 * controllers' right to make node identities can pin each one). */
GStrv lodge_join_node_caps (const char *name);
/* "profile rbd pool=lodge-r1, profile rbd pool=lodge-r2, ...". */
char *lodge_join_node_rbd_pools (void);
/* A read-only grant under a path that does not exist: nothing. */
#define LODGE_JOIN_NODE_MDS_CAPS "allow r path=/lodge-none"

/* What a joining host asks for. */
typedef struct {
  LodgeJoinRole role;
  char *name;    /* its host name: its certificate's, its node's */
  char *address; /* the IP address others reach it at */
  char *request; /* its certificate request (PEM): its key stays on it */
} LodgeJoinRequest;

/* What it is given. */
typedef struct {
  char *name;
  char *certificate; /* PEM, signed by the CA, for @name and @address */
  char *ca;          /* PEM */
  char *ceph_user;   /* its Ceph identity, without "client." */
  char *ceph_key;
  GStrv monitors;    /* Ceph's monitors' addresses (for its ceph.conf) */
} LodgeJoinGrant;

void lodge_join_request_clear (LodgeJoinRequest *request);
void lodge_join_grant_free (LodgeJoinGrant *grant);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeJoinRequest, lodge_join_request_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeJoinGrant, lodge_join_grant_free)

/* Checks @token_text for @request (its role, its name, its expiry, its
 * secret), uses it up, signs the request and gives the host its Ceph
 * identity: a node's own (made on @rados, the controller's connection),
 * a controller's the controllers' (@controller_user, @controller_key).
 * Refusals are LODGE_STORAGE_ERROR_PERMISSION (the token: one message for
 * every reason it is not good, so that a guesser learns nothing) or
 * LODGE_STORAGE_ERROR_INVALID (the request), and change nothing. */
LodgeJoinGrant *lodge_join_grant (LodgeStore *store, LodgeRados *rados, const char *token_text,
                                  const LodgeJoinRequest *request, const char *controller_user,
                                  const char *controller_key, GError **error);

/* A node that left: its report, the decision about it and its Ceph
 * identity (client.lodge-NAME) deleted; what is already gone is no error.
 * Whether it may leave (down, no VE on it) is the caller's to check. */
gboolean lodge_join_forget_node (LodgeStore *store, LodgeRados *rados, const char *name,
                                 GError **error);

G_END_DECLS
