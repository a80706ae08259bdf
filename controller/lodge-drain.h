/* Draining a node: it takes no new VEs (state draining, which the
 * scheduler skips), and its running VEs live-migrate away, two at a time,
 * each under the controller's one-operation-per-VE rule. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-lifecycle.h"

G_BEGIN_DECLS

typedef struct {
  char *name;
  char *to;               /* where it went; NULL when it did not move */
  guint64 migration_ms, downtime_ms;
  char *error;            /* why it did not move (it still runs on the node) */
} LodgeDrainOutcome;

void lodge_drain_outcome_free (LodgeDrainOutcome *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeDrainOutcome, lodge_drain_outcome_free)

/* Marks @node draining and migrates its running VEs away. Returns one
 * LodgeDrainOutcome per VE that ran there; NULL with @error set only when
 * the node could not be marked or the VEs not listed. */
GPtrArray *lodge_drain_node (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *node,
                             GError **error);

G_END_DECLS
