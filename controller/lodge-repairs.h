/* Repair jobs: `lodge repair NAME OP ...` as the control center runs them.
 *
 * Reading operations (ls, cat, find, log, df, diff) work on a snapshot of
 * the VE's disk taken for the purpose and removed afterwards, so they are
 * allowed while the VE runs and never touch its disk.
 *
 * Writing operations (write, revert, rm, chmod, reset-root, fsck, undo)
 * need the VE stopped. Each one claims the VE in its runtime record
 * (compare-and-set; a start is refused while the claim stands, naming the
 * repair and who holds it), takes the RBD snapshot "repair-<UTC time>"
 * first, and on failure rolls the disk back to it: a failed repair leaves
 * the disk as it was. `undo` rolls back to the newest repair snapshot;
 * `history` lists them; the oldest beyond LODGE_REPAIR_KEEP are pruned.
 *
 * Appliances are kept between operations of one VE for a short idle time
 * (LodgeRepairOptions.idle_s), so a support session of several commands
 * pays the appliance launch once; a start or a writing repair closes a
 * kept read-only appliance first. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-ctl.h"
#include "lodge-lifecycle.h"
#include "lodge-repair.h"

G_BEGIN_DECLS

#define LODGE_REPAIR_KEEP 10

typedef struct _LodgeRepairs LodgeRepairs;

LodgeRepairs *lodge_repairs_new (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, guint idle_s);
void lodge_repairs_free (LodgeRepairs *rs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRepairs, lodge_repairs_free)

/* Whether @op names a repair operation. */
gboolean lodge_repairs_is_op (const char *op);

/* Runs @op on VE @name with the arguments in @args ("path", "paths",
 * "pattern", "dir", "file", "lines", "mode", "content" (base64),
 * "recursive", "password_hash", "authorized_keys", "command"), on behalf
 * of @who (for the claim and the history). Output goes to @out as it
 * comes, progress to @progress; the result is a JSON object (the
 * operation's figures: times, counts, snapshot). */
char *lodge_repairs_run (LodgeRepairs *rs, const char *name, const char *op, JsonObject *args,
                         const char *who, LodgeRepairOutput out, gpointer out_data,
                         LodgeProgress progress, gpointer progress_data, GError **error);

/* Before a start of @name: FALSE (LODGE_STORAGE_ERROR_BUSY, naming the
 * repair and who holds it) while a writing repair of this controller
 * holds it. A claim left by a controller that is gone (it died in the
 * middle of a writing repair) is settled: the disk is rolled back to the
 * claim's snapshot and the claim cleared. */
gboolean lodge_repairs_settle (LodgeRepairs *rs, const char *name, GError **error);
/* Closes the kept reading appliance of @name, if any (before an
 * undefine). */
void lodge_repairs_release (LodgeRepairs *rs, const char *name);
/* Closes kept appliances idle for longer than the idle time. */
void lodge_repairs_expire (LodgeRepairs *rs);

G_END_DECLS
