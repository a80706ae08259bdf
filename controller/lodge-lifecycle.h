/* Starting and stopping environments on nodes.
 *
 * start: the runtime record is claimed with compare-and-set (desired
 * running, phase starting, a node, generation + 1) so two starts of one VE
 * cannot both proceed; the root disk is cloned from the template on first
 * start; the per-VE config blob is written (0600) where the node's QEMU
 * reads it; the domain XML is generated from the definition and the node's
 * facts and started on the node; then the guest's ready line is awaited
 * with a deadline. Any failure leaves no domain behind and records the
 * reason (phase failed).
 *
 * stop: ACPI shutdown with a deadline, then the plug; the domain's
 * definition is removed from the node, so a node that reboots never
 * starts a VE by itself. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"

G_BEGIN_DECLS

typedef struct {
  char *client_id;    /* the Ceph client VE disks use */
  guint ready_timeout_s;
  guint stop_timeout_s;
  guint migrate_timeout_s;       /* a live migration is aborted after this */
  guint migrate_downtime_ms;     /* the default pause a migration may cause */
} LodgeLifecycleOptions;

gboolean lodge_lifecycle_start (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                                LodgeProgress progress, gpointer user_data,
                                GError **error);
typedef enum {
  LODGE_RESUME_NOTHING,          /* nothing to do (or not this controller's) */
  LODGE_RESUME_FINISHED_START,   /* finished a start a dead controller began */
  LODGE_RESUME_FINISHED_STOP,    /* finished a stop a dead controller began */
  LODGE_RESUME_RECORDED_GONE,    /* a guest that stopped outside Lodge is recorded stopped */
  LODGE_RESUME_RESTARTED,        /* ... and started again, as its restart policy says */
  LODGE_RESUME_CRASH_LOOP,       /* ... and left failed: restarted too often already */
  LODGE_RESUME_FINISHED_MIGRATION, /* the record of a cut-short migration follows the guest */
  LODGE_RESUME_FAILED,
} LodgeResumeOutcome;

/* For the reconciler, on a VE no operation of this controller works on:
 * finishes a start or stop that a controller left half done, and records
 * a guest that is no longer running where its record says (confirmed with
 * the node's libvirt) as stopped, with the reason libvirt gives; then
 * starts it again when its restart policy says so (always: whatever
 * stopped it; on-failure: a crash or a failed QEMU), on the same node when
 * it can, at most LODGE_CRASH_LOOP_MAX times in LODGE_CRASH_LOOP_WINDOW_S.
 * VEs on a node that is down are left alone (failover's business). */
LodgeResumeOutcome lodge_lifecycle_resume (LodgeCtl *ctl, const LodgeLifecycleOptions *opts,
                                           const char *name, GError **error);
gboolean lodge_lifecycle_stop (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                               gboolean force, GError **error);

/* That no domain of @rt's VE, failed, still runs on the node it last ran
 * on, before the VE starts again or its disk is written by a repair:
 * confirmed with that node's libvirt (a leftover running, paused or
 * crashed there is destroyed: a destroy that failed before was only
 * logged), or the node is fenced. Fails, naming the node, when the node
 * neither answers nor is fenced: the caller tries again later. */
gboolean lodge_lifecycle_confirm_gone (LodgeCtl *ctl, const LodgeRuntimeRecord *rt, GError **error);

/* Whether @rt (NULL: no record) accounts for a domain of its VE on node
 * @node: it runs, starts, stops or migrates there. */
gboolean lodge_lifecycle_accounts_for (const LodgeRuntimeRecord *rt, const char *node);
/* For the reconciler, holding VE @name: a domain of it on @node that its
 * record (read again now) does not account for runs twice, or is left
 * over, and is destroyed and undefined; *@ret_report then says what was
 * done and why (NULL: the record accounts for it, or it is gone). */
gboolean lodge_lifecycle_clear_stray (LodgeCtl *ctl, const char *node, const char *name,
                                      char **ret_report, GError **error);

G_END_DECLS
