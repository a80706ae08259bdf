/* The repair shell: a writable appliance kept under the VE's claim for
 * "sh" commands until "exit" (lodge-repairs.c has the claims, snapshots
 * and kept appliances it uses). */
#include "lodge-repairs-private.h"

#include <string.h>

#include "lodge-claim.h"
#include "lodge-error.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"

/* "shell": claims the VE like a writing repair and keeps a writable
 * appliance for "sh" commands until "exit" (or SHELL_IDLE_S idle). */
gboolean
lodge_repairs_op_shell (LodgeRepairJob *j, GError **error)
{
  return TRUE;
}

gboolean
lodge_repairs_run_shell (LodgeRepairJob *j, GError **error)
{
  const char *id = lodge_job_arg_string (j, "shell");
  if (strcmp (j->op->name, "shell") == 0)
    {
      /* Claim, snapshot and launch as a writing repair would, but keep
       * the appliance: the claim stands until exit. */
      LodgeRados *rados = lodge_repairs_rados (j->rs);
      if (!lodge_ctl_try_begin (j->rs->ctl, j->name, LODGE_OP_REPAIR_SHELL, NULL, error))
        return FALSE;
      lodge_repairs_release (j->rs, j->name);
      g_autoptr (GPtrArray) existing = lodge_repairs_snapshots (j, error);
      g_autofree char *snap = existing != NULL ? lodge_repairs_new_snapshot_name (existing) : NULL;
      gboolean ok = snap != NULL
                    && lodge_claim_take (j->ctl, j->name, "shell", j->who, j->rs->owner, snap, FALSE,
                                         j->progress, j->progress_data, error)
                    && lodge_rbd_snap_create (rados, j->disks.pool, j->disks.image, snap, FALSE, error);
      if (ok)
        {
          j->disks.snap = NULL;
          j->disks.writable = TRUE;
          ok = lodge_repairs_open_session (j, error);
          if (!ok)
            lodge_rbd_snap_remove (rados, j->disks.pool, j->disks.image, snap, NULL);
        }
      lodge_ctl_end (j->rs->ctl, j->name);
      if (!ok)
        {
          lodge_claim_release (j->ctl, j->name, j->rs->owner);
          return FALSE;
        }
      Kept *k = g_new0 (Kept, 1);
      k->ve = g_strdup (j->name);
      k->session = g_steal_pointer (&j->session);
      k->shell_id = g_uuid_string_random ();
      k->claimed = TRUE;
      k->opened_us = k->used_us = g_get_monotonic_time ();
      lodge_job_result_string (j, "shell", k->shell_id);
      lodge_job_result_string (j, "snapshot", snap);
      lodge_job_say (j, "shell open on the disk of %s (snapshot %s; undo returns to it)", j->name, snap);
      g_mutex_lock (&j->rs->lock);
      g_hash_table_insert (j->rs->kept, g_strdup (k->shell_id), k);
      g_mutex_unlock (&j->rs->lock);
      return TRUE;
    }

  if (id == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair %s needs \"shell\" (the id shell gave)",
                   j->op->name);
      return FALSE;
    }
  g_mutex_lock (&j->rs->lock);
  Kept *k = g_hash_table_lookup (j->rs->kept, id);
  if (k != NULL && (k->busy || strcmp (k->ve, j->name) != 0))
    k = NULL;
  if (k != NULL)
    {
      k->busy = TRUE;
      if (strcmp (j->op->name, "exit") == 0)
        g_hash_table_steal (j->rs->kept, id);
    }
  g_mutex_unlock (&j->rs->lock);
  if (k == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "no open repair shell %s on %s (closed after %u s idle?)", id, j->name, SHELL_IDLE_S);
      return FALSE;
    }
  if (strcmp (j->op->name, "exit") == 0)
    {
      gboolean ok = lodge_repairs_kept_close (j->rs, k, error);
      if (ok)
        lodge_job_say (j, "shell closed; every change is on the disk");
      return ok;
    }
  j->session = k->session;
  gboolean ok = lodge_repair_op_sh (j, error);
  j->session = NULL;
  k->used_us = g_get_monotonic_time ();
  k->busy = FALSE;
  return ok;
}
