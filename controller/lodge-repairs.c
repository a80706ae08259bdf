#include "lodge-repairs-private.h"

#include <string.h>
#include <unistd.h>

#include "lodge-app-plan.h"
#include "lodge-claim.h"
#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"

#define RO_PREFIX "lodge-ro-"
#define REPAIR_PREFIX "repair-"

static void
kept_free (Kept *k)
{
  if (k == NULL)
    return;
  lodge_repair_free (k->session);
  g_free (k->ve);
  g_free (k->pool);
  g_free (k->image);
  g_free (k->snap);
  g_free (k->shell_id);
  g_free (k);
}

LodgeRepairs *
lodge_repairs_new (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, guint idle_s)
{
  LodgeRepairs *rs = g_new0 (LodgeRepairs, 1);
  rs->ctl = ctl;
  rs->opts = opts;
  rs->idle_s = idle_s;
  rs->owner = g_strdup_printf ("%s:%d:%" G_GINT64_FORMAT, g_get_host_name (), (int) getpid (),
                               g_get_real_time ());
  g_mutex_init (&rs->lock);
  rs->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kept_free);
  return rs;
}

LodgeRados *
lodge_repairs_rados (LodgeRepairs *rs)
{
  return lodge_store_get_rados (lodge_ctl_get_store (rs->ctl));
}


/* Closes @k's appliance (every write on the disk), removes its snapshot
 * (a reading one's) and releases its lodge_repairs_claim (a writing one's). */
gboolean
lodge_repairs_kept_close (LodgeRepairs *rs, Kept *k, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean ok = TRUE;
  if (k->session != NULL && !lodge_repair_close (k->session, &local))
    {
      g_warning ("repair of %s: closing the appliance: %s", k->ve, local->message);
      if (error != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      ok = FALSE;
    }
  g_clear_pointer (&k->session, lodge_repair_free);
  g_clear_error (&local);
  if (k->snap != NULL && !lodge_rbd_snap_remove (lodge_repairs_rados (rs), k->pool, k->image, k->snap, &local))
    g_warning ("repair of %s: removing snapshot %s: %s", k->ve, k->snap, local->message);
  if (k->claimed)
    lodge_claim_release (rs->ctl, k->ve, rs->owner);
  kept_free (k);
  return ok;
}

void
lodge_repairs_free (LodgeRepairs *rs)
{
  if (rs == NULL)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, rs->kept);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      g_hash_table_iter_steal (&it);
      lodge_repairs_kept_close (rs, value, NULL);
    }
  g_hash_table_unref (rs->kept);
  g_mutex_clear (&rs->lock);
  g_free (rs->owner);
  g_free (rs);
}

/* Takes out of the table what @match selects (and is not in use). */
static GPtrArray *
take_kept (LodgeRepairs *rs, const char *ve, gint64 idle_before_us)
{
  GPtrArray *taken = g_ptr_array_new ();
  g_mutex_lock (&rs->lock);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, rs->kept);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Kept *k = value;
      if (k->busy)
        continue;
      if ((ve != NULL && strcmp (k->ve, ve) == 0 && k->shell_id == NULL)
          || (ve == NULL && k->used_us < idle_before_us
              - (k->shell_id != NULL ? (gint64) SHELL_IDLE_S * G_USEC_PER_SEC : 0)))
        {
          g_hash_table_iter_steal (&it);
          g_ptr_array_add (taken, k);
        }
    }
  g_mutex_unlock (&rs->lock);
  return taken;
}

void
lodge_repairs_release (LodgeRepairs *rs, const char *name)
{
  g_autoptr (GPtrArray) taken = take_kept (rs, name, 0);
  for (guint i = 0; i < taken->len; i++)
    lodge_repairs_kept_close (rs, taken->pdata[i], NULL);
}

void
lodge_repairs_expire (LodgeRepairs *rs)
{
  gint64 before = g_get_monotonic_time () - (gint64) rs->idle_s * G_USEC_PER_SEC;
  g_autoptr (GPtrArray) taken = take_kept (rs, NULL, before);
  for (guint i = 0; i < taken->len; i++)
    {
      Kept *k = taken->pdata[i];
      if (k->shell_id != NULL)
        g_message ("repair shell of %s closed after %u s idle", k->ve, SHELL_IDLE_S);
      else if (k->claimed)
        g_message ("repair appliance of %s closed after %u s idle; its claim released", k->ve,
                   rs->idle_s);
      lodge_repairs_kept_close (rs, k, NULL);
    }
}

gboolean
lodge_repairs_op_close (LodgeRepairJob *j, GError **error)
{
  lodge_repairs_release (j->rs, j->name);
  return TRUE;
}


/* ---- snapshots ---- */

/* "repair-20261126T071203Z", or with "-N" when that is taken. */
char *
lodge_repairs_new_snapshot_name (GPtrArray *existing)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  char *name = g_strconcat (REPAIR_PREFIX, stamp, NULL);
  for (guint n = 2; existing != NULL && g_ptr_array_find_with_equal_func (existing, name, g_str_equal, NULL); n++)
    {
      g_free (name);
      name = g_strdup_printf (REPAIR_PREFIX "%s-%u", stamp, n);
    }
  return name;
}

GPtrArray *
lodge_repairs_snapshots (LodgeRepairJob *j, GError **error)
{
  g_autoptr (GPtrArray) all = lodge_rbd_snap_list (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, error);
  if (all == NULL)
    return NULL;
  GPtrArray *mine = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < all->len; i++)
    if (g_str_has_prefix (all->pdata[i], REPAIR_PREFIX))
      g_ptr_array_add (mine, g_strdup (all->pdata[i]));
  return mine; /* oldest first */
}

gboolean
lodge_repairs_op_history (LodgeRepairJob *j, GError **error)
{
  g_autoptr (GPtrArray) snaps = lodge_repairs_snapshots (j, error);
  if (snaps == NULL)
    return FALSE;
  for (guint i = 0; i < snaps->len; i++)
    {
      g_autofree char *line = g_strdup_printf ("%s%s\n", (const char *) snaps->pdata[i],
                                               i + 1 == snaps->len ? "  (undo goes back to this one)" : "");
      if (!j->out (line, strlen (line), j->out_data))
        break;
    }
  lodge_job_result_int (j, "snapshots", snaps->len);
  return TRUE;
}

static void
rollback_progress (guint64 done, guint64 total, gpointer user_data)
{
  LodgeRepairJob *j = user_data;
  if (total > 0 && (done == total || done % MAX (total / 4, 1) == 0))
    lodge_job_say (j, "rolling back: %" G_GUINT64_FORMAT "%%", done * 100 / total);
}

gboolean
lodge_repairs_op_undo (LodgeRepairJob *j, GError **error)
{
  g_autoptr (GPtrArray) snaps = lodge_repairs_snapshots (j, error);
  if (snaps == NULL)
    return FALSE;
  if (snaps->len == 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no repair to undo", j->name);
      return FALSE;
    }
  const char *last = snaps->pdata[snaps->len - 1];
  if (!lodge_rbd_snap_rollback (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, last,
                                rollback_progress, j, error)
      || !lodge_rbd_snap_remove (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, last, error))
    return FALSE;
  /* The disk's record of its applications is not in the snapshot: the
   * next start checks and lays them in again (an undone `app install`
   * or `app configure` included). */
  for (guint i = 0; i < j->def->applications->len; i++)
    {
      const LodgeEnvApplication *app = j->def->applications->pdata[i];
      g_autofree char *key = lodge_app_plan_meta_key (app->name);
      if (!lodge_rbd_meta_set (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, key, NULL, error))
        return FALSE;
    }
  g_autofree char *line = g_strdup_printf ("the disk is back to %s\n", last);
  lodge_job_result_string (j, "snapshot", last);
  return j->out (line, strlen (line), j->out_data);
}

static void
prune (LodgeRepairJob *j)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) snaps = lodge_repairs_snapshots (j, &error);
  for (guint i = 0; snaps != NULL && i + LODGE_REPAIR_KEEP < snaps->len; i++)
    if (!lodge_rbd_snap_remove (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, snaps->pdata[i],
                                &error))
      {
        g_warning ("repair of %s: pruning %s: %s", j->name, (const char *) snaps->pdata[i],
                   error->message);
        g_clear_error (&error);
      }
  if (snaps == NULL)
    g_warning ("repair of %s: listing snapshots to prune: %s", j->name, error->message);
}

/* Removes snapshots "lodge-ro-*" of the disk that no kept appliance of
 * this controller uses: left by a controller that died. */
static void
remove_stale_ro (LodgeRepairJob *j)
{
  g_autoptr (GPtrArray) all = lodge_rbd_snap_list (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, NULL);
  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      const char *s = all->pdata[i];
      if (!g_str_has_prefix (s, RO_PREFIX))
        continue;
      gboolean used = FALSE;
      g_mutex_lock (&j->rs->lock);
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, j->rs->kept);
      while (g_hash_table_iter_next (&it, NULL, &value))
        used |= g_strcmp0 (((Kept *) value)->snap, s) == 0;
      g_mutex_unlock (&j->rs->lock);
      if (!used)
        lodge_rbd_snap_remove (lodge_repairs_rados (j->rs), j->disks.pool, j->disks.image, s, NULL);
    }
}

/* ---- claims ---- */

/* Claims the VE for @j (lodge-claim.h), naming @snapshot. */
gboolean
lodge_repairs_claim (LodgeRepairJob *j, const char *snapshot, gboolean renew, GError **error)
{
  return lodge_claim_take (j->ctl, j->name, j->op->name, j->who, j->rs->owner, snapshot, renew,
                           j->progress, j->progress_data, error);
}

gboolean
lodge_repairs_settle (LodgeRepairs *rs, const char *name, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (rs->ctl, name, NULL);
  if (rt == NULL || rt->repair == NULL)
    return TRUE;
  const LodgeRepairClaim *claim = rt->repair;
  if (g_strcmp0 (claim->owner, rs->owner) == 0)
    {
      /* An idle appliance kept after a writing repair is closed (its
       * writes on the disk) and the start goes on; a repair at work or an
       * open shell holds the VE. */
      Kept *idle = NULL;
      g_mutex_lock (&rs->lock);
      Kept *k = g_hash_table_lookup (rs->kept, name);
      if (k != NULL && k->claimed && !k->busy && k->shell_id == NULL)
        {
          g_hash_table_steal (rs->kept, name);
          idle = k;
        }
      g_mutex_unlock (&rs->lock);
      if (idle != NULL)
        return lodge_repairs_kept_close (rs, idle, error);
      return lodge_claim_check_start (rt, error);
    }
  g_autofree char *what = lodge_repair_claim_describe (claim);
  g_message ("%s: the repair claim '%s' of controller %s is stale (that controller is gone)",
             name, what, claim->owner);
  if (claim->snapshot != NULL && rt->disk_pool != NULL)
    {
      if (!lodge_rbd_snap_rollback (lodge_repairs_rados (rs), rt->disk_pool, rt->disk_image,
                                    claim->snapshot, NULL, NULL, error))
        {
          g_prefix_error (error, "rolling back the unfinished repair of %s: ", name);
          return FALSE;
        }
      lodge_rbd_snap_remove (lodge_repairs_rados (rs), rt->disk_pool, rt->disk_image,
                             claim->snapshot, NULL);
      g_message ("%s: the unfinished repair was rolled back to %s", name, claim->snapshot);
    }
  lodge_claim_release (rs->ctl, name, claim->owner);
  return TRUE;
}

/* ---- running ---- */

gboolean
lodge_repairs_open_session (LodgeRepairJob *j, GError **error)
{
  gint64 t = g_get_monotonic_time ();
  lodge_job_say (j, "starting the repair appliance");
  j->session = lodge_repair_open (&j->disks, error);
  if (j->session == NULL)
    return FALSE;
  gint64 ms = (g_get_monotonic_time () - t) / 1000;
  lodge_job_say (j, "appliance ready in %.1f s", ms / 1000.0);
  lodge_job_result_int (j, "launch_ms", ms);
  return TRUE;
}

/* Takes the kept appliance of @j's VE for the job (busy), if it is free;
 * *@ret_busy when one is at work for another job. */
static Kept *
borrow_kept (LodgeRepairJob *j, gboolean *ret_busy)
{
  g_mutex_lock (&j->rs->lock);
  Kept *k = g_hash_table_lookup (j->rs->kept, j->name);
  *ret_busy = k != NULL && k->busy;
  if (k != NULL && !k->busy)
    k->busy = TRUE;
  else
    k = NULL;
  g_mutex_unlock (&j->rs->lock);
  return k;
}

/* Gives @k back after a job: kept for the next one (idle time counting
 * from now), or, when @keep is FALSE or another appliance took its
 * place meanwhile, closed. */
static void
return_kept (LodgeRepairJob *j, Kept *k, gboolean keep)
{
  k->used_us = g_get_monotonic_time ();
  g_mutex_lock (&j->rs->lock);
  Kept *there = g_hash_table_lookup (j->rs->kept, j->name);
  if (keep && j->rs->idle_s > 0 && (there == NULL || there == k))
    {
      if (there == NULL)
        g_hash_table_insert (j->rs->kept, g_strdup (j->name), k);
      k->busy = FALSE;
      k = NULL;
    }
  else if (there == k)
    g_hash_table_steal (j->rs->kept, j->name);
  g_mutex_unlock (&j->rs->lock);
  if (k != NULL)
    lodge_repairs_kept_close (j->rs, k, NULL);
}

/* An appliance that failed at the libguestfs level may be dead. */
static gboolean
appliance_may_be_dead (GError **error)
{
  return error != NULL && *error != NULL && (*error)->domain == LODGE_GUESTFS_ERROR
         && (*error)->code != LODGE_GUESTFS_ERROR_INVALID
         && (*error)->code != LODGE_GUESTFS_ERROR_NOT_FOUND;
}

/* A reading operation: on the kept appliance of this VE when there is
 * one (a reading one on its snapshot, or the writable one a writing
 * repair left, on the disk itself), else on a new snapshot. */
static gboolean
run_read (LodgeRepairJob *j, GError **error)
{
  gboolean busy;
  Kept *k = borrow_kept (j, &busy);
  if (k == NULL)
    {
      remove_stale_ro (j);
      k = g_new0 (Kept, 1);
      k->ve = g_strdup (j->name);
      k->pool = g_strdup (j->disks.pool);
      k->image = g_strdup (j->disks.image);
      k->snap = g_strdup_printf (RO_PREFIX "%" G_GINT64_FORMAT, g_get_real_time () / 1000);
      k->busy = TRUE;
      if (!lodge_rbd_snap_create (lodge_repairs_rados (j->rs), k->pool, k->image, k->snap, FALSE, error))
        {
          kept_free (k);
          return FALSE;
        }
      lodge_job_say (j, "snapshot %s taken", k->snap);
      j->disks.snap = k->snap;
      j->disks.writable = FALSE;
      if (!lodge_repairs_open_session (j, error))
        {
          lodge_repairs_kept_close (j->rs, k, NULL);
          return FALSE;
        }
      k->session = j->session;
      k->opened_us = g_get_monotonic_time ();
    }
  else
    {
      j->session = k->session;
      if (k->snap != NULL)
        lodge_job_say (j, "reusing the appliance on snapshot %s (%.0f s old)", k->snap,
                       (g_get_monotonic_time () - k->opened_us) / 1e6);
      else
        lodge_job_say (j, "reusing the repair appliance on the disk");
      lodge_job_result_int (j, "launch_ms", 0);
    }
  if (k->snap != NULL)
    lodge_job_result_string (j, "snapshot", k->snap);
  gint64 t = g_get_monotonic_time ();
  gboolean ok = j->op->run (j, error);
  lodge_job_result_int (j, "work_ms", (g_get_monotonic_time () - t) / 1000);
  j->session = NULL;
  return_kept (j, k, ok || !appliance_may_be_dead (error));
  return ok;
}

/* undo: the disk rolled back to the newest repair snapshot; no
 * appliance may have it open meanwhile. */
static gboolean
run_disk (LodgeRepairJob *j, GError **error)
{
  lodge_repairs_release (j->rs, j->name);
  gboolean ok = lodge_repairs_claim (j, NULL, FALSE, error);
  if (ok)
    {
      ok = j->op->run (j, error);
      lodge_claim_release (j->ctl, j->name, j->rs->owner);
    }
  return ok;
}

/* A writing operation: the VE claimed, a snapshot "repair-<time>" taken
 * of a clean filesystem, the operation on the writable appliance, every
 * write flushed to the disk. The appliance (and the claim) are kept for
 * the next operation of the session: a second writing repair pays no
 * launch (its snapshot is taken with the filesystem unmounted). Any
 * failure closes the appliance and rolls the disk back to the snapshot. */
static gboolean
run_writing (LodgeRepairJob *j, GError **error)
{
  LodgeRados *rados = lodge_repairs_rados (j->rs);
  gboolean busy;
  Kept *k = borrow_kept (j, &busy);
  if (busy)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s has a repair at work; try again when it is done", j->name);
      return FALSE;
    }
  if (k != NULL && (k->snap != NULL || j->disks.apps != NULL))
    {
      /* A reading appliance on an old snapshot: of no use for writing;
       * nor is one without the application templates the job needs. */
      return_kept (j, k, FALSE);
      k = NULL;
    }
  g_autoptr (GPtrArray) existing = lodge_repairs_snapshots (j, error);
  g_autofree char *snap = existing != NULL ? lodge_repairs_new_snapshot_name (existing) : NULL;
  if (snap == NULL || !lodge_repairs_claim (j, snap, k != NULL, error))
    {
      if (k != NULL)
        return_kept (j, k, TRUE);
      return FALSE;
    }
  gboolean ok;
  if (k != NULL)
    {
      j->session = k->session;
      ok = lodge_repair_quiesce (k->session, error)
           && lodge_rbd_snap_create (rados, j->disks.pool, j->disks.image, snap, FALSE, error)
           && lodge_repair_resume (k->session, error);
      if (ok)
        {
          lodge_job_say (j, "snapshot %s taken (undo returns to it); reusing the appliance", snap);
          lodge_job_result_int (j, "launch_ms", 0);
        }
    }
  else
    {
      ok = lodge_rbd_snap_create (rados, j->disks.pool, j->disks.image, snap, FALSE, error);
      k = g_new0 (Kept, 1);
      k->ve = g_strdup (j->name);
      k->busy = TRUE;
      k->claimed = TRUE;
      if (ok)
        {
          lodge_job_say (j, "snapshot %s taken (undo returns to it)", snap);
          j->disks.snap = NULL;
          j->disks.writable = TRUE;
          ok = lodge_repairs_open_session (j, error);
          k->session = j->session;
          k->opened_us = g_get_monotonic_time ();
        }
    }
  lodge_job_result_string (j, "snapshot", snap);
  if (ok)
    {
      gint64 t = g_get_monotonic_time ();
      ok = j->op->run (j, error) && lodge_repair_sync (j->session, error);
      lodge_job_result_int (j, "work_ms", (g_get_monotonic_time () - t) / 1000);
    }
  j->session = NULL;
  if (ok)
    {
      prune (j);
      return_kept (j, k, TRUE);
      return TRUE;
    }
  /* Nothing of a failed repair stays: the appliance goes (its writes
   * with it), then the disk goes back to the snapshot. */
  gboolean snapped = FALSE;
  g_autoptr (GPtrArray) now = lodge_repairs_snapshots (j, NULL);
  snapped = now != NULL && g_ptr_array_find_with_equal_func (now, snap, g_str_equal, NULL);
  k->claimed = FALSE;
  return_kept (j, k, FALSE);
  g_autoptr (GError) undo_error = NULL;
  if (!snapped)
    g_prefix_error (error, "nothing changed: ");
  else if (lodge_rbd_snap_rollback (rados, j->disks.pool, j->disks.image, snap, NULL, NULL,
                                    &undo_error)
           && lodge_rbd_snap_remove (rados, j->disks.pool, j->disks.image, snap, &undo_error))
    g_prefix_error (error, "nothing changed (the disk was rolled back): ");
  else
    g_prefix_error (error, "the disk could not be rolled back to %s (%s): ", snap,
                    undo_error->message);
  lodge_claim_release (j->ctl, j->name, j->rs->owner);
  return FALSE;
}

/* The writing kinds, as one operation per VE in this controller. */
static gboolean
run_write (LodgeRepairJob *j, GError **error)
{
  if (!lodge_ctl_try_begin (j->rs->ctl, j->name, LODGE_OP_REPAIR, j->op->name, error))
    return FALSE;
  gboolean ok = j->op->kind == LODGE_REPAIR_KIND_DISK ? run_disk (j, error) : run_writing (j, error);
  lodge_ctl_end (j->rs->ctl, j->name);
  return ok;
}

char *
lodge_repairs_run (LodgeRepairs *rs, const char *name, const char *op_name, JsonObject *args,
                   const char *who, LodgeRepairOutput out, gpointer out_data,
                   LodgeProgress progress, gpointer progress_data, GError **error)
{
  const LodgeRepairOp *op = lodge_repair_op_find (op_name);
  if (op == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "unknown repair operation '%s' (ls, cat, find, log, df, diff, write, revert, "
                   "rm, chmod, reset-root, fsck, undo, history, shell, close)", op_name);
      return NULL;
    }
  return lodge_repairs_run_op (rs, name, op, NULL, args, who, out, out_data, progress,
                               progress_data, error);
}

char *
lodge_repairs_run_op (LodgeRepairs *rs, const char *name, const LodgeRepairOp *op,
                      gpointer op_data, JsonObject *args, const char *who, LodgeRepairOutput out,
                      gpointer out_data, LodgeProgress progress, gpointer progress_data,
                      GError **error)
{
  lodge_repairs_expire (rs);
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (rs->ctl, name, error);
  if (def == NULL)
    return NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (rs->ctl, name, error);
  if (rt == NULL)
    return NULL;
  if (rt->disk_pool == NULL || rt->disk_image == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no disk yet (it was never started): nothing to repair", name);
      return NULL;
    }
  LodgeRados *rados = lodge_repairs_rados (rs);
  g_auto (LodgeRbdInfo) info = { 0 };
  if (!lodge_rbd_stat (rados, rt->disk_pool, rt->disk_image, &info, error))
    return NULL;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  LodgeRepairJob j = {
    .rs = rs, .ctl = rs->ctl, .op = op, .name = name, .args = args, .who = who != NULL ? who : "someone",
    .out = out, .out_data = out_data, .progress = progress, .progress_data = progress_data,
    .def = def, .result = b, .t0 = g_get_monotonic_time (), .op_data = op_data,
  };
  j.disks.client_id = rs->opts->client_id;
  j.disks.pool = rt->disk_pool;
  j.disks.image = rt->disk_image;
  j.disks.tmpl_pool = info.parent_pool;
  j.disks.tmpl_image = info.parent_image;
  j.disks.tmpl_snap = info.parent_snap;
  lodge_job_result_string (&j, "op", op->name);
  if (info.parent_image != NULL)
    {
      g_autofree char *from = g_strdup_printf ("%s/%s@%s", info.parent_pool, info.parent_image,
                                               info.parent_snap);
      lodge_job_result_string (&j, "template", from);
    }

  if (op->check != NULL && !op->check (&j, error))
    return NULL;
  gboolean ok;
  switch (op->kind)
    {
    case LODGE_REPAIR_KIND_READ:
      ok = run_read (&j, error);
      break;
    case LODGE_REPAIR_KIND_SHELL:
      ok = lodge_repairs_run_shell (&j, error);
      break;
    case LODGE_REPAIR_KIND_META:
      ok = op->run (&j, error);
      break;
    default:
      ok = run_write (&j, error);
      break;
    }
  if (!ok)
    return NULL;
  lodge_job_result_int (&j, "total_ms", (g_get_monotonic_time () - j.t0) / 1000);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
