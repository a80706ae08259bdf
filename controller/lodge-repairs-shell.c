/* The repair shell (lodge-repairs-shell.h): the claim, the snapshot and
 * the kept appliance are lodge-disk-job.c's. */
#include "lodge-repairs-shell.h"

#include "lodge-error.h"
#include "lodge-rbd.h"

gboolean
lodge_repairs_shell_open (LodgeDiskJob *j, GError **error)
{
  /* Claim, snapshot and launch as a writing repair would, but keep the
   * appliance: the claim stands until exit. */
  LodgeRados *rados = lodge_disk_job_rados (j);
  if (!lodge_ctl_try_begin (j->ctl, j->name, LODGE_OP_REPAIR_SHELL, NULL, error))
    return FALSE;
  lodge_disk_jobs_release (j->jobs, j->name);
  g_autoptr (GPtrArray) existing = lodge_disk_job_snapshots (j, error);
  g_autofree char *snap = existing != NULL ? lodge_disk_job_new_snapshot_name (existing) : NULL;
  gboolean ok = snap != NULL && lodge_disk_job_claim (j, snap, FALSE, error)
                && lodge_rbd_snap_create (rados, j->disks.pool, j->disks.image, snap, FALSE, error);
  if (ok)
    {
      j->disks.snap = NULL;
      j->disks.writable = TRUE;
      ok = lodge_disk_job_open_session (j, error);
      if (!ok)
        lodge_rbd_snap_remove (rados, j->disks.pool, j->disks.image, snap, NULL);
    }
  lodge_ctl_end (j->ctl, j->name);
  if (!ok)
    {
      lodge_disk_job_release_claim (j);
      return FALSE;
    }
  g_autofree char *id = lodge_disk_jobs_keep_shell (j->jobs, j->name, g_steal_pointer (&j->session));
  lodge_disk_job_result_string (j, "shell", id);
  lodge_disk_job_result_string (j, "snapshot", snap);
  lodge_disk_job_say (j, "shell open on the disk of %s (snapshot %s; undo returns to it)", j->name,
                      snap);
  return TRUE;
}

/* The id "sh" and "exit" need. */
static const char *
shell_id (LodgeDiskJob *j, GError **error)
{
  const char *id = lodge_disk_job_arg_string (j, "shell");
  if (id == NULL)
    g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                 "repair %s needs \"shell\" (the id shell gave)", j->op->name);
  return id;
}

gboolean
lodge_repairs_shell_sh (LodgeDiskJob *j, GError **error)
{
  const char *id = shell_id (j, error);
  LodgeRepair *session = id != NULL ? lodge_disk_jobs_borrow_shell (j->jobs, id, j->name, error)
                                    : NULL;
  if (session == NULL)
    return FALSE;
  const char *command;
  gboolean ok = lodge_disk_job_arg_required (j, "command", &command, error)
                && lodge_repair_sh (session, command, j->out, j->out_data, error);
  lodge_disk_jobs_return_shell (j->jobs, id);
  return ok;
}

gboolean
lodge_repairs_shell_exit (LodgeDiskJob *j, GError **error)
{
  const char *id = shell_id (j, error);
  if (id == NULL || !lodge_disk_jobs_close_shell (j->jobs, id, j->name, error))
    return FALSE;
  lodge_disk_job_say (j, "shell closed; every change is on the disk");
  return TRUE;
}
