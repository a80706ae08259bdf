/* What lodge-repairs.c (jobs: claims, snapshots, kept appliances) and
 * lodge-repair-ops.c (the operations) share. */
#pragma once

#include <json-glib/json-glib.h>

#include "lodge-env.h"
#include "lodge-repairs.h"

G_BEGIN_DECLS

/* READ: on a snapshot; WRITE: claim, snapshot, appliance on the disk;
 * DISK: claim, no appliance (undo); META: neither (history); SHELL: a
 * kept writable appliance. */
typedef enum {
  LODGE_REPAIR_KIND_READ,
  LODGE_REPAIR_KIND_WRITE,
  LODGE_REPAIR_KIND_DISK,
  LODGE_REPAIR_KIND_META,
  LODGE_REPAIR_KIND_SHELL,
} LodgeRepairKind;

typedef struct _LodgeRepairJob LodgeRepairJob;
typedef gboolean (*LodgeRepairOpFunc) (LodgeRepairJob *j, GError **error);

typedef struct {
  const char *name;
  LodgeRepairKind kind;
  LodgeRepairOpFunc run;
  /* Checks the arguments before anything is claimed or launched. */
  LodgeRepairOpFunc check;
} LodgeRepairOp;

struct _LodgeRepairJob {
  LodgeCtl *ctl;
  LodgeRepairs *rs;
  const LodgeRepairOp *op;
  const char *name;
  JsonObject *args;
  const char *who;
  LodgeRepairOutput out;
  gpointer out_data;
  LodgeProgress progress;
  gpointer progress_data;
  LodgeEnvDef *def;
  LodgeRepairDisks disks;
  LodgeRepair *session;
  JsonBuilder *result; /* inside the result object */
  gint64 t0;
  gpointer op_data; /* what the caller of lodge_repairs_run_op gave */
};

/* lodge_repairs_run() with an operation of the caller's own (the
 * application operations of lodge-apps.c) and its data. */
char *lodge_repairs_run_op (LodgeRepairs *rs, const char *name, const LodgeRepairOp *op,
                            gpointer op_data, JsonObject *args, const char *who,
                            LodgeRepairOutput out, gpointer out_data,
                            LodgeProgress progress, gpointer progress_data,
                            GError **error);

#define SHELL_IDLE_S 600

/* A kept appliance, at most one per VE (a shell's aside): read-only on a
 * snapshot (@snap) for the reading verbs, or writable on the disk itself
 * after a writing verb, holding the VE's claim until it is closed; or a
 * shell's (writable, claimed, found by @shell_id). */
typedef struct {
  char *ve;
  char *pool, *image, *snap;
  LodgeRepair *session;
  gint64 opened_us, used_us;
  gboolean busy;
  gboolean claimed; /* the VE's repair claim is this appliance's */
  char *shell_id;
} Kept;

struct _LodgeRepairs {
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *opts;
  guint idle_s;
  char *owner; /* this controller, in claims */
  GMutex lock;
  GHashTable *kept; /* VE name (reading) or shell id -> Kept */
};

/* What lodge-repairs.c (jobs, claims, snapshots, kept appliances) gives
 * lodge-repairs-shell.c. */
LodgeRados *lodge_repairs_rados (LodgeRepairs *rs);
/* The disk's "repair-*" snapshots, oldest first; a new name after them. */
GPtrArray *lodge_repairs_snapshots (LodgeRepairJob *j, GError **error);
char *lodge_repairs_new_snapshot_name (GPtrArray *existing);
/* Claims the VE in its runtime record for @j (lodge-claim.h). */
gboolean lodge_repairs_claim (LodgeRepairJob *j, const char *snapshot, gboolean renew,
                              GError **error);
/* Launches the appliance on j->disks, saying so. */
gboolean lodge_repairs_open_session (LodgeRepairJob *j, GError **error);
gboolean lodge_repairs_kept_close (LodgeRepairs *rs, Kept *k, GError **error);
/* "shell", "sh", "exit" (lodge-repairs-shell.c). */
gboolean lodge_repairs_run_shell (LodgeRepairJob *j, GError **error);

/* Files lodge-init writes at every boot: a diff leaves them out. */
extern const char *const lodge_repair_boot_written[];

const LodgeRepairOp *lodge_repair_op_find (const char *name);

/* Arguments of the job (NULL or FALSE when absent; _required sets the
 * error naming the missing one). */
const char *lodge_job_arg_string (LodgeRepairJob *j, const char *key);
gboolean lodge_job_arg_required (LodgeRepairJob *j, const char *key, const char **ret,
                                 GError **error);
char **lodge_job_arg_strv (LodgeRepairJob *j, const char *key, GError **error);
gboolean lodge_job_arg_bool (LodgeRepairJob *j, const char *key);
/* A progress line; members of the result object. */
G_GNUC_PRINTF (2, 3) void lodge_job_say (LodgeRepairJob *j, const char *fmt, ...);
void lodge_job_result_int (LodgeRepairJob *j, const char *key, gint64 v);
void lodge_job_result_string (LodgeRepairJob *j, const char *key, const char *v);
gboolean lodge_repair_op_sh (LodgeRepairJob *j, GError **error);

/* The operations that work on the job's disk or appliances rather than
 * on files (lodge-repairs.c). */
gboolean lodge_repairs_op_undo (LodgeRepairJob *j, GError **error);
gboolean lodge_repairs_op_history (LodgeRepairJob *j, GError **error);
gboolean lodge_repairs_op_shell (LodgeRepairJob *j, GError **error);
gboolean lodge_repairs_op_close (LodgeRepairJob *j, GError **error);

G_END_DECLS
