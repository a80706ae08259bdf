/* Live migration of a running environment to another node.
 *
 * The runtime record is claimed with compare-and-set (phase migrating, the
 * target node); the destination is the one asked for, after the
 * scheduler's checks on it alone, or the one the scheduler picks among
 * the others. libvirt moves the running domain whole, with the
 * destination node's own facts (kernel, Ceph secret and configuration,
 * bridge) put into its XML; the record then follows where the guest runs
 * (node, generation + 1, the migration's figures), or keeps the source
 * node and the reason. A migration whose controller died is settled by
 * lodge_lifecycle_resume(). */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-lifecycle.h"

G_BEGIN_DECLS

/* Live-migrates running VE @name to @to_node, or (NULL) to the node the
 * scheduler picks among the others; the pause is at most @max_downtime_ms
 * (0: the default). On failure the VE still runs where it was and the
 * error says so; the record's last migration has the figures. */
gboolean lodge_migrate_ve (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                           const char *to_node, guint max_downtime_ms, LodgeProgress progress,
                           gpointer user_data, GError **error);

G_END_DECLS
