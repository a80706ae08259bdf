/* Repair jobs: `lodge repair NAME OP ...` as the control center runs them,
 * disk jobs (lodge-disk-job.h) of these operations:
 *
 *   ls, cat, find, log, df, diff   read, on a snapshot (the VE may run)
 *   write, revert, rm, chmod, reset-root, fsck
 *                                  write, under a claim, after a snapshot
 *                                  "repair-<UTC time>"
 *   undo                           the disk back to the newest of those
 *   history                        those snapshots
 *   close                          closes the VE's kept appliance
 *   shell, sh, exit                a repair shell (lodge-repairs-shell.h) */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-disk-job.h"

G_BEGIN_DECLS

/* Whether @op names a repair operation. */
gboolean lodge_repairs_is_op (const char *op);

/* Runs @op on VE @name with the arguments in @args ("path", "paths",
 * "pattern", "dir", "file", "lines", "mode", "content" (base64),
 * "recursive", "password_hash", "authorized_keys", "command", "shell"),
 * on behalf of @who (lodge_disk_jobs_run). */
char *lodge_repairs_run (LodgeDiskJobs *jobs, const char *name, const char *op, JsonObject *args,
                         const char *who, LodgeRepairOutput out, gpointer out_data,
                         LodgeProgress progress, gpointer progress_data, GError **error);

G_END_DECLS
