/* Disk jobs: work on a VE's disk in a libguestfs appliance, as repairs
 * (lodge-repairs.c, lodge-repairs-shell.c) and application installs
 * (lodge-apps.c) do it.
 *
 * A reading job works on a snapshot of the VE's disk taken for the
 * purpose and removed afterwards, so it is allowed while the VE runs and
 * never touches its disk.
 *
 * A writing job needs the VE stopped. It claims the VE in its runtime
 * record (lodge-claim.h: a start is refused while the claim stands,
 * naming the job and who holds it), takes the RBD snapshot
 * "repair-<UTC time>" first, and on failure rolls the disk back to it: a
 * failed job leaves the disk as it was. The oldest of those snapshots
 * beyond LODGE_REPAIR_KEEP are pruned.
 *
 * Appliances are kept between jobs of one VE for a short idle time, so a
 * support session of several commands pays the appliance launch once; a
 * start or a writing job closes a kept read-only appliance first. A repair
 * shell's appliance is kept (writable, claimed) until it exits. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-ctl.h"
#include "lodge-env.h"
#include "lodge-lifecycle.h"
#include "lodge-repair.h"

G_BEGIN_DECLS

#define LODGE_REPAIR_KEEP 10

typedef struct _LodgeDiskJobs LodgeDiskJobs;

/* Jobs of this controller; kept appliances close after @idle_s. */
LodgeDiskJobs *lodge_disk_jobs_new (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, guint idle_s);
void lodge_disk_jobs_free (LodgeDiskJobs *jobs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeDiskJobs, lodge_disk_jobs_free)

/* READ: on a snapshot; WRITE: claim, snapshot, appliance on the disk;
 * DISK: claim, no appliance (undo); OWN: none of these, the operation
 * does what it needs (history, close, a shell's). */
typedef enum {
  LODGE_DISK_JOB_READ,
  LODGE_DISK_JOB_WRITE,
  LODGE_DISK_JOB_DISK,
  LODGE_DISK_JOB_OWN,
} LodgeDiskJobKind;

typedef struct _LodgeDiskJob LodgeDiskJob;
typedef gboolean (*LodgeDiskJobFunc) (LodgeDiskJob *j, GError **error);

typedef struct {
  const char *name; /* in claims and messages: "write", "app install" */
  LodgeDiskJobKind kind;
  LodgeDiskJobFunc run;
  /* Checks the arguments before anything is claimed or launched. */
  LodgeDiskJobFunc check;
} LodgeDiskJobOp;

struct _LodgeDiskJob {
  LodgeCtl *ctl;
  LodgeDiskJobs *jobs;
  const LodgeDiskJobOp *op;
  const char *name; /* the VE */
  JsonObject *args;
  const char *who;
  LodgeRepairOutput out;
  gpointer out_data;
  LodgeProgress progress;
  gpointer progress_data;
  LodgeEnvDef *def;
  LodgeRepairDisks disks;
  LodgeRepair *session; /* the appliance, while run() runs (READ, WRITE) */
  JsonBuilder *result;  /* inside the result object */
  gint64 t0;
  gpointer op_data; /* what the caller of lodge_disk_jobs_run gave */
};

/* Runs @op on VE @name with the arguments in @args, on behalf of @who
 * (for the claim and the log). Output goes to @out as it comes, progress
 * to @progress; the result is a JSON object (the operation's figures:
 * times, counts, snapshot). */
char *lodge_disk_jobs_run (LodgeDiskJobs *jobs, const char *name, const LodgeDiskJobOp *op,
                           gpointer op_data, JsonObject *args, const char *who,
                           LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
                           gpointer progress_data, GError **error);

/* Before a start or an undefine of @name: FALSE (LODGE_STORAGE_ERROR_BUSY,
 * naming the job and who holds it) while a writing job of this controller
 * holds it (an idle appliance a writing job left is closed instead). A
 * claim left by a controller that is gone (it died in the middle of a
 * writing job) is settled: the disk is rolled back to the claim's
 * snapshot and the claim cleared. */
gboolean lodge_disk_jobs_settle (LodgeDiskJobs *jobs, const char *name, GError **error);
/* Closes the kept reading appliance of @name, if any. */
void lodge_disk_jobs_release (LodgeDiskJobs *jobs, const char *name);
/* Closes kept appliances idle for longer than the idle time. */
void lodge_disk_jobs_expire (LodgeDiskJobs *jobs);

/* A repair shell's appliance (writable, on the VE's disk, under its
 * claim), kept until it is closed or idle for 10 minutes: its id. */
char *lodge_disk_jobs_keep_shell (LodgeDiskJobs *jobs, const char *ve, LodgeRepair *session);
/* The appliance of shell @id of VE @ve for one command, until
 * lodge_disk_jobs_return_shell(); LODGE_STORAGE_ERROR_NOT_FOUND when
 * there is none (or it is at work). */
LodgeRepair *lodge_disk_jobs_borrow_shell (LodgeDiskJobs *jobs, const char *id, const char *ve,
                                           GError **error);
void lodge_disk_jobs_return_shell (LodgeDiskJobs *jobs, const char *id);
/* Closes shell @id of VE @ve (every write on the disk) and releases its
 * claim. */
gboolean lodge_disk_jobs_close_shell (LodgeDiskJobs *jobs, const char *id, const char *ve,
                                      GError **error);

/* ---- for the operations ---- */

/* Arguments of the job (NULL or FALSE when absent; _required sets the
 * error naming the missing one). */
const char *lodge_disk_job_arg_string (LodgeDiskJob *j, const char *key);
gboolean lodge_disk_job_arg_required (LodgeDiskJob *j, const char *key, const char **ret,
                                      GError **error);
char **lodge_disk_job_arg_strv (LodgeDiskJob *j, const char *key, GError **error);
gboolean lodge_disk_job_arg_bool (LodgeDiskJob *j, const char *key);
/* A progress line; members of the result object. */
G_GNUC_PRINTF (2, 3) void lodge_disk_job_say (LodgeDiskJob *j, const char *fmt, ...);
void lodge_disk_job_result_int (LodgeDiskJob *j, const char *key, gint64 v);
void lodge_disk_job_result_string (LodgeDiskJob *j, const char *key, const char *v);

LodgeRados *lodge_disk_job_rados (LodgeDiskJob *j);
/* The disk's "repair-*" snapshots, oldest first; a new name after them. */
GPtrArray *lodge_disk_job_snapshots (LodgeDiskJob *j, GError **error);
char *lodge_disk_job_new_snapshot_name (GPtrArray *existing);
/* Claims the VE for @j (lodge-claim.h), naming @snapshot; releases it. */
gboolean lodge_disk_job_claim (LodgeDiskJob *j, const char *snapshot, gboolean renew,
                               GError **error);
void lodge_disk_job_release_claim (LodgeDiskJob *j);
/* Launches the appliance on j->disks, saying so. */
gboolean lodge_disk_job_open_session (LodgeDiskJob *j, GError **error);

G_END_DECLS
