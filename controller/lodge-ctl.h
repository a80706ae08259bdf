/* The control center's operations on environments and nodes, on top of the
 * state store. The HTTP API calls these; each is safe to run in a worker
 * thread and to repeat (a controller killed mid-operation is finished by
 * its successor). Errors are the layers' own (LODGE_ERROR for definitions
 * and capacity, LODGE_STORAGE_ERROR for the store, LODGE_LIBVIRT_ERROR for
 * nodes). */
#pragma once

#include <glib.h>

#include "lodge-records.h"
#include "lodge-store.h"

G_BEGIN_DECLS

typedef struct _LodgeCtl LodgeCtl;

/* A node whose last heartbeat is older than this is down. */
#define LODGE_CTL_DEFAULT_NODE_GRACE_S 3

LodgeCtl *lodge_ctl_new (LodgeStore *store, guint node_grace_s);
void lodge_ctl_free (LodgeCtl *ctl);
LodgeStore *lodge_ctl_get_store (LodgeCtl *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeCtl, lodge_ctl_free)

/* Validates @xml and stores it as the definition of its VE (created, or
 * replaced: a running VE gets it at its next start). The template must
 * exist. Sets *ret_name and *ret_created. */
gboolean lodge_ctl_define (LodgeCtl *ctl, const char *xml, gsize len, char **ret_name,
                           gboolean *ret_created, GError **error);
/* The definition as stored (the XML as written). */
GBytes *lodge_ctl_get_definition (LodgeCtl *ctl, const char *name, GError **error);
/* Removes a VE; refused (LODGE_STORAGE_ERROR_BUSY) unless it is stopped.
 * With @remove_disk its root disk goes too. */
gboolean lodge_ctl_undefine (LodgeCtl *ctl, const char *name, gboolean remove_disk,
                             GError **error);
/* The runtime records of every VE (a stopped one for a VE never started). */
GPtrArray *lodge_ctl_list (LodgeCtl *ctl, GError **error);
LodgeRuntimeRecord *lodge_ctl_runtime (LodgeCtl *ctl, const char *name, GError **error);

/* Node records with their state as of now: a node whose heartbeat is older
 * than the grace period shows as down. */
GPtrArray *lodge_ctl_nodes (LodgeCtl *ctl, GError **error);
LodgeNodeState lodge_ctl_effective_node_state (LodgeCtl *ctl, const LodgeNodeRecord *node);

G_END_DECLS
