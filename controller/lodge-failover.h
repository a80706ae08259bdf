/* Failover: a node that stopped heartbeating past the grace period is
 * fenced, then its VEs are restarted elsewhere; a fenced node that comes
 * back empty is let in again.
 *
 * Fencing comes first and is complete before any restart: every RADOS
 * client of the node (the QEMU RBD clients of its VEs, found as the
 * watchers and exclusive-lock owners of their disks, and its agent's) is
 * blocklisted in Ceph, the disks' exclusive locks are broken, and the node
 * is marked fenced. A node that was only frozen can then never write to a
 * disk that moved, even if it wakes up before it learns it was fenced.
 *
 * Every step is idempotent and its progress is in the state store (the
 * node's state, the "fence-NODE" operation record with the blocklisted
 * addresses, the VEs' runtime records), so a controller that dies in the
 * middle is finished by the next one; each VE restarts exactly once (the
 * runtime record's compare-and-set). */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-lifecycle.h"

G_BEGIN_DECLS

typedef void (*LodgeFailoverLog) (const char *message, gpointer user_data);

/* How long blocklist entries last unless the controller clears them when
 * the node rejoins: far longer than a frozen node could stay frozen and
 * still be let back in. */
#define LODGE_FAILOVER_BLOCKLIST_S 3600

/* Whether @node (effective state) needs failing over: it is down or fenced
 * while VEs are recorded on it. */
gboolean lodge_failover_needed (const LodgeNodeRecord *node, GPtrArray *runtimes);

/* Fences @node (if not done yet) and restarts its VEs, highest priority
 * first, as their restart policies say; VEs that fit nowhere stay stopped
 * with the reason. */
gboolean lodge_failover_node (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *node,
                              LodgeFailoverLog log, gpointer user_data, gboolean *ret_alive,
                              GError **error);

/* Before a node past its grace is fenced, its libvirtd is asked (within
 * this): one that answers means a late agent (a loaded host, a slow Ceph),
 * not a dead node; *ret_alive is then set and nothing is done. */
#define LODGE_FAILOVER_PROBE_MS 1500

/* A fenced node whose agent is back and runs no guest: its blocklist
 * entries are removed and it is up again. FALSE (and nothing done) when it
 * is not ready for that. */
gboolean lodge_failover_try_rejoin (LodgeCtl *ctl, const LodgeNodeRecord *node,
                                    LodgeFailoverLog log, gpointer user_data, GError **error);

G_END_DECLS
