/* A connection to a Ceph cluster through librados: who we are (client id,
 * keyring), where the cluster is (ceph.conf), and how long to wait for it. */
#pragma once

#include <glib.h>

#include "lodge-paths.h"

G_BEGIN_DECLS

typedef struct {
  char *conf_path; /* ceph.conf */
  char *client_id; /* without "client." */
  char *keyring;   /* NULL: what ceph.conf says */
  guint timeout_s; /* connecting and monitor commands; 0: LODGE_CEPH_DEFAULT_TIMEOUT */
  guint op_timeout_s; /* each OSD operation; 0: LODGE_CEPH_DEFAULT_OP_TIMEOUT */
} LodgeCephConfig;

#define LODGE_CEPH_DEFAULT_TIMEOUT 10
/* librados waits forever for an OSD by default (blocked writes of a full
 * cluster, inactive placement groups): every operation of Lodge's ends,
 * with LODGE_STORAGE_ERROR_UNREACHABLE, within this. */
#define LODGE_CEPH_DEFAULT_OP_TIMEOUT 30

/* The local cluster that tools/lodge-cluster made: $LODGE_CLUSTER_DIR (or
 * /var/lib/lodge-cluster)/ceph.conf, client $LODGE_CEPH_USER (or "lodge"),
 * and its keyring ($LODGE_CEPH_KEYRING, or ceph.client.<id>.keyring next to
 * ceph.conf); $CEPH_CONF overrides the conf path. */
LodgeCephConfig *lodge_ceph_config_new_default (void);
void lodge_ceph_config_free (LodgeCephConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeCephConfig, lodge_ceph_config_free)

/* The base64 key of the configured client, from its keyring file (what
 * libvirt's Ceph secret holds). */
char *lodge_ceph_config_read_key (const LodgeCephConfig *config, GError **error);

typedef struct _LodgeRados LodgeRados;

/* Connects, or fails within the timeout with LODGE_STORAGE_ERROR_UNREACHABLE
 * naming the conf file and the monitors. */
LodgeRados *lodge_rados_connect (const LodgeCephConfig *config, GError **error);
void lodge_rados_free (LodgeRados *rados);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRados, lodge_rados_free)

/* This client's address as the cluster sees it ("127.0.0.1:0/123456"):
 * what fencing blocklists. */
char *lodge_rados_client_address (LodgeRados *rados);
guint64 lodge_rados_instance_id (LodgeRados *rados);

/* The monitors as "host:port", from the cluster's monitor map (each
 * monitor's v1 address, or its v2 one when it has no v1), for clients that
 * are told where the cluster is (a VE disk's <source><host>). */
GStrv lodge_rados_monitors (LodgeRados *rados, GError **error);

/* Runs a monitor command given as JSON; returns its output (may be ""). */
char *lodge_rados_mon_command (LodgeRados *rados, const char *json, GError **error);

/* The key of Ceph identity @entity ("client.NAME"), made with @caps (pairs:
 * "mon", "allow r", "osd", "...", NULL) if it does not exist ('auth
 * get-or-create'); an identity that exists with other caps is refused
 * (LODGE_STORAGE_ERROR_INVALID) and left as it is. */
char *lodge_rados_auth_get_or_create (LodgeRados *rados, const char *entity,
                                      const char *const *caps, GError **error);
/* Deletes Ceph identity @entity; one that is not there is no error. */
gboolean lodge_rados_auth_del (LodgeRados *rados, const char *entity, GError **error);
/* The pools Ceph has flagged full (an OSD they use passed the full ratio,
 * or a quota), from the monitors' OSD map: empty when none is. */
GStrv lodge_rados_full_pools (LodgeRados *rados, GError **error);

/* Creates a replicated pool of @size copies (and @min_size), with the
 * application @application enabled, if it does not exist; then checks the
 * sizes. Safe against a concurrent creator. */
gboolean lodge_rados_ensure_pool (LodgeRados *rados, const char *pool, guint size, guint min_size,
                                  const char *application, GError **error);
/* Replication size and min_size of @pool. */
gboolean lodge_rados_pool_size (LodgeRados *rados, const char *pool, guint *ret_size,
                                guint *ret_min_size, GError **error);

G_END_DECLS
