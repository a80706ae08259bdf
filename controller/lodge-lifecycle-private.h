/* For lodge-migrate.c, which moves the VEs lodge-lifecycle.c starts: the
 * runtime record read and written with compare-and-set, the scheduler's
 * view of the cluster, the facts of running a VE on a node, and progress
 * lines. All defined in lodge-lifecycle.c. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-domain.h"
#include "lodge-lifecycle.h"

G_BEGIN_DECLS

/* Hands "@fmt, ..." to @progress (nothing when it is NULL). */
void lodge_lifecycle_progress_say (LodgeProgress progress, gpointer user_data, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);
/* The runtime record of @name at *@version; a stopped one is created for a
 * defined VE that has none (defined while an undefine raced it). */
LodgeRuntimeRecord *lodge_lifecycle_load_runtime (LodgeStore *store, const char *name,
                                                  guint64 *version, GError **error);
/* Writes @rt if the record is still at *@version; updates *@version. */
gboolean lodge_lifecycle_save_runtime (LodgeStore *store, LodgeRuntimeRecord *rt, guint64 *version,
                                       GError **error);
/* The node of @nodes the scheduler places @def on (never @exclude_node),
 * given every VE starting, running or migrating; NULL with @error when
 * none can take it. */
const char *lodge_lifecycle_place (LodgeCtl *ctl, GPtrArray *nodes, const LodgeEnvDef *def,
                                   const char *exclude_node, GError **error);
/* The facts of running @def's VE on @node: the node's own kernel, Ceph
 * secret and configuration, bridge; the VE's disk (from @rt); its config
 * blob, which this writes on the node through its agent (@fresh_log: a
 * new boot, whose console log starts empty), and its console log there. */
LodgePlacement *lodge_lifecycle_node_placement (LodgeCtl *ctl, const LodgeLifecycleOptions *opts,
                                                const LodgeNodeRecord *node,
                                                const LodgeEnvDef *def,
                                                const LodgeRuntimeRecord *rt, gboolean fresh_log,
                                                GError **error);
/* Asks @node's agent to remove @name's config blob (the VE left it);
 * a failure is logged: the agent's sweep removes it later. */
void lodge_lifecycle_forget_config (LodgeCtl *ctl, const char *node, const char *name);
/* Whether domain @name runs on @node (FALSE also when the node does not
 * answer). */
gboolean lodge_lifecycle_runs_on (const LodgeNodeRecord *node, const char *name);

typedef enum {
  LODGE_MIGRATION_MOVED,   /* the destination runs it */
  LODGE_MIGRATION_STAYED,  /* the source has it, the destination does not */
  LODGE_MIGRATION_NEITHER, /* the deadline passed with neither */
} LodgeMigrationOutcome;
/* Where a live migration of @name from @src to @dst ended, as libvirt
 * settles it: moved only once the destination runs the guest (a paused
 * one may still be receiving it, or be left over) and the source's is gone
 * (libvirt tears it down at the end); waits up to @timeout_s while it is
 * between the two, or neither has it. */
LodgeMigrationOutcome lodge_lifecycle_migration_outcome (const LodgeNodeRecord *src,
                                                         const LodgeNodeRecord *dst,
                                                         const char *name, guint timeout_s);

G_END_DECLS
