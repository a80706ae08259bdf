/* The control center's operations on environments and nodes, on top of the
 * state store. The HTTP API calls these; each is safe to run in a worker
 * thread and to repeat (a controller killed mid-operation is finished by
 * its successor). Errors are the layers' own (LODGE_ERROR for definitions
 * and capacity, LODGE_STORAGE_ERROR for the store, LODGE_LIBVIRT_ERROR for
 * nodes). */
#pragma once

#include <glib.h>

#include "lodge-ceph-health.h"

#include "lodge-env.h"
#include "lodge-libvirt.h"

#include "lodge-records.h"
#include "lodge-store.h"

G_BEGIN_DECLS

typedef struct _LodgeCtl LodgeCtl;

/* Progress of an operation, for people ("placed on node2", "disk cloned",
 * "snapshot taken"). */
typedef void (*LodgeProgress) (const char *what, gpointer user_data);

/* A node whose last heartbeat is older than this is down. */
#define LODGE_CTL_DEFAULT_NODE_GRACE_S 3

LodgeCtl *lodge_ctl_new (LodgeStore *store, guint node_grace_s);
void lodge_ctl_free (LodgeCtl *ctl);
LodgeStore *lodge_ctl_get_store (LodgeCtl *ctl);
guint lodge_ctl_get_node_grace_s (LodgeCtl *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeCtl, lodge_ctl_free)

/* The definition as stored (the XML as written). */
GBytes *lodge_ctl_get_definition (LodgeCtl *ctl, const char *name, GError **error);
/* The same, parsed and validated. */
LodgeEnvDef *lodge_ctl_definition (LodgeCtl *ctl, const char *name, GError **error);
/* The runtime records of every VE (a stopped one for a VE never started). */
GPtrArray *lodge_ctl_list (LodgeCtl *ctl, GError **error);
LodgeRuntimeRecord *lodge_ctl_runtime (LodgeCtl *ctl, const char *name, GError **error);

/* Operations in flight in this controller, one per VE at a time: the
 * API's start/stop, the reconciler's repairs, repair jobs, failovers. */
typedef enum {
  LODGE_OP_START,
  LODGE_OP_STOP,
  LODGE_OP_RESTART,
  LODGE_OP_MIGRATE,
  LODGE_OP_FAILOVER,
  LODGE_OP_RECONCILE,
  LODGE_OP_REPAIR,        /* a writing repair; its detail names it ("write", "app install") */
  LODGE_OP_REPAIR_SHELL,  /* opening a repair shell */
  LODGE_OP_APP_CONFIGURE, /* a live configuration; its detail names the application */
  LODGE_OP_LAST
} LodgeOp;
LODGE_ENUM_DECL (lodge_op);

/* Begins @op (with @detail, for messages; may be NULL) on @name unless
 * an operation runs on it already: then FALSE, with
 * LODGE_STORAGE_ERROR_BUSY naming what runs. The reconciler's look at the
 * VE is waited for (up to 60 s), unless @op is the reconciler's own. */
gboolean lodge_ctl_try_begin (LodgeCtl *ctl, const char *name, LodgeOp op, const char *detail,
                              GError **error);
/* The same for work through the guest agent (a live configuration): it
 * yields to a lifecycle operation, which cancels the returned cancellable
 * (the caller's reference; NULL when busy) and waits for the work to end,
 * one agent call at most (10 s; see lodge-libvirt.h). */
GCancellable *lodge_ctl_try_begin_guest (LodgeCtl *ctl, const char *name, LodgeOp op,
                                         const char *detail, GError **error);
/* Waits (up to @timeout_s) until no operation runs on @name, then begins
 * @op; LODGE_STORAGE_ERROR_BUSY when the wait times out. Guest work on
 * @name (lodge_ctl_try_begin_guest) is cancelled first: stop, migrate and
 * failover never wait on a guest. */
gboolean lodge_ctl_begin (LodgeCtl *ctl, const char *name, LodgeOp op, guint timeout_s,
                          GError **error);
void lodge_ctl_end (LodgeCtl *ctl, const char *name);
gboolean lodge_ctl_is_busy (LodgeCtl *ctl, const char *name);

/* Node records with their state as of now: a node whose heartbeat this
 * controller has not seen change for longer than the grace period (on its
 * own monotonic clock: lodge-liveness.h) shows as down. */
GPtrArray *lodge_ctl_nodes (LodgeCtl *ctl, GError **error);
LodgeNodeState lodge_ctl_effective_node_state (LodgeCtl *ctl, const LodgeNodeRecord *node);
/* How long (µs) this controller has seen @node's heartbeat value unchanged. */
gint64 lodge_ctl_node_silence_us (LodgeCtl *ctl, const LodgeNodeRecord *node);
/* Whether @node's record, as it is now, was written after @since_real_us
 * (a controller's wall clock, as runtime records keep it). */
gboolean lodge_ctl_node_reported_since (LodgeCtl *ctl, const LodgeNodeRecord *node,
                                        gint64 since_real_us);
/* The record of node @name in @nodes (from lodge_ctl_nodes), or NULL. */
LodgeNodeRecord *lodge_ctl_find_node (GPtrArray *nodes, const char *name);
/* A connection to the libvirt of node @node, where VE @ve is (for the
 * error when the node is not registered). */
LodgeLibvirt *lodge_ctl_node_libvirt (LodgeCtl *ctl, const char *node, const char *ve,
                                      GError **error);
/* Sets the control center's part of node @name's state: draining (takes
 * no new VEs), fenced, or up again. The agent's heartbeats keep it. */
gboolean lodge_ctl_set_node_state (LodgeCtl *ctl, const char *name, LodgeNodeState state,
                                   GError **error);
/* Records that QEMU failed under KVM on node @name although its agent had
 * proven KVM: VEs go there under TCG from now on, and `lodge node list`
 * shows @reason. The agent's next registration probes again. */
gboolean lodge_ctl_set_node_tcg (LodgeCtl *ctl, const char *name, const char *reason,
                                 GError **error);

/* The monitors' quorum as @watch (borrowed; set once at start) sees it. */
void lodge_ctl_set_ceph_watch (LodgeCtl *ctl, LodgeCephWatch *watch);
/* FALSE when no watch was set. */
gboolean lodge_ctl_ceph_health (LodgeCtl *ctl, LodgeCephHealth *ret);

G_END_DECLS
