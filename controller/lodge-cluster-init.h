/* `lodge cluster init` (lodged --init-cluster): a Lodge cluster made on an
 * existing Ceph, with its admin identity used this once. It makes Lodge's
 * pools, the controllers' Ceph identity, the cluster CA (kept in the state
 * store, controller/lodge-join.h), this controller's certificate, the first
 * admin user and a node join token, and writes this host's /etc/lodge. */
#pragma once

#include <glib.h>

#include "lodge-rados.h"
#include "lodge-store.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;         /* this controller's host name (certificate, lease id) */
  const char *address;      /* its IP address: the API listens there */
  guint port;               /* the API's port */
  const char *etc_dir;      /* where its files go (/etc/lodge) */
  const char *ca_cert_file; /* a CA to use instead of a new one (with its key) */
  const char *ca_key_file;
  const char *admin_user;   /* the first admin's name */
  const char *ceph_user;    /* the controllers' Ceph identity, without "client." */
} LodgeClusterInit;

/* What it made, to show once. */
typedef struct {
  char *admin_token;
  char *join_token;
  char *ca_fingerprint;
  GPtrArray *files; /* of char *: the files written */
} LodgeClusterInitResult;

void lodge_cluster_init_result_clear (LodgeClusterInitResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeClusterInitResult, lodge_cluster_init_result_clear)

/* The caps of the controllers' Ceph identity (pairs, NULL-ended): the
 * state store, RBD on Lodge's pools, blocklisting fenced clients, and
 * making node identities, client.lodge-NAME, with nodes' caps only, and
 * deleting them. */
GStrv lodge_cluster_controller_caps (void);

/* Lodge's pools, where they are missing (client.admin's work). */
gboolean lodge_cluster_init_storage (LodgeRados *rados, GError **error);

/* The cluster CA: the one in the store; or the one in @cert_file and
 * @key_file (if not NULL) saved there; or a new one. A CA in the store
 * that is not @cert_file's is refused (LODGE_STORAGE_ERROR_EXISTS): that
 * Ceph holds a Lodge cluster already. */
gboolean lodge_cluster_init_ca (LodgeStore *store, const char *cert_file, const char *key_file,
                                gboolean reuse, char **ret_cert_pem, char **ret_key_pem,
                                GError **error);

/* All of it, with @rados connected as Ceph's admin. */
gboolean lodge_cluster_init (LodgeRados *rados, LodgeStore *store, const LodgeClusterInit *options,
                             LodgeClusterInitResult *result, GError **error);

G_END_DECLS
