#include "lodge-disk-job.h"

#include <string.h>
#include <unistd.h>

#include "lodge-claim.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-lifecycle.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"

#define RO_PREFIX "lodge-ro-"
#define REPAIR_PREFIX "repair-"
#define SHELL_IDLE_S 600

/* A kept appliance, at most one per VE (a shell's aside): read-only on a
 * snapshot (@snap) for the reading jobs, or writable on the disk itself
 * after a writing job, holding the VE's claim until it is closed; or a
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

struct _LodgeDiskJobs {
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *opts;
  guint idle_s;
  char *owner; /* this controller, in claims */
  GMutex lock;
  GHashTable *kept; /* VE name (reading) or shell id -> Kept */
};

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

LodgeDiskJobs *
lodge_disk_jobs_new (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, guint idle_s)
{
  LodgeDiskJobs *jobs = g_new0 (LodgeDiskJobs, 1);
  jobs->ctl = ctl;
  jobs->opts = opts;
  jobs->idle_s = idle_s;
  jobs->owner = g_strdup_printf ("%s:%d:%" G_GINT64_FORMAT, g_get_host_name (), (int) getpid (),
                                 g_get_real_time ());
  g_mutex_init (&jobs->lock);
  jobs->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kept_free);
  return jobs;
}

static LodgeRados *
jobs_rados (LodgeDiskJobs *jobs)
{
  return lodge_store_get_rados (lodge_ctl_get_store (jobs->ctl));
}

LodgeRados *
lodge_disk_job_rados (LodgeDiskJob *j)
{
  return jobs_rados (j->jobs);
}

/* ---- arguments and results ---- */

const char *
lodge_disk_job_arg_string (LodgeDiskJob *j, const char *key)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return NULL;
  JsonNode *n = json_object_get_member (j->args, key);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

gboolean
lodge_disk_job_arg_required (LodgeDiskJob *j, const char *key, const char **ret, GError **error)
{
  *ret = lodge_disk_job_arg_string (j, key);
  if (*ret == NULL || (*ret)[0] == '\0')
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair %s needs \"%s\"",
                   j->op->name, key);
      return FALSE;
    }
  return TRUE;
}

/* A string array argument, NULL-terminated; NULL when absent. */
char **
lodge_disk_job_arg_strv (LodgeDiskJob *j, const char *key, GError **error)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return NULL;
  JsonNode *n = json_object_get_member (j->args, key);
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "\"%s\" must be a list of strings", key);
      return NULL;
    }
  JsonArray *a = json_node_get_array (n);
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_strv_builder_unref (b);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "\"%s\" must be a list of strings",
                       key);
          return NULL;
        }
      g_strv_builder_add (b, json_node_get_string (e));
    }
  char **v = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return v;
}

gboolean
lodge_disk_job_arg_bool (LodgeDiskJob *j, const char *key)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return FALSE;
  JsonNode *n = json_object_get_member (j->args, key);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
         && json_node_get_boolean (n);
}

G_GNUC_PRINTF (2, 3) void
lodge_disk_job_say (LodgeDiskJob *j, const char *fmt, ...)
{
  if (j->progress == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  j->progress (msg, j->progress_data);
}

void
lodge_disk_job_result_int (LodgeDiskJob *j, const char *key, gint64 v)
{
  json_builder_set_member_name (j->result, key);
  json_builder_add_int_value (j->result, v);
}

void
lodge_disk_job_result_string (LodgeDiskJob *j, const char *key, const char *v)
{
  json_builder_set_member_name (j->result, key);
  json_builder_add_string_value (j->result, v);
}

/* Closes @k's appliance (every write on the disk), removes its snapshot
 * (a reading one's) and releases its claim (a writing one's or a shell's). */
static gboolean
kept_close (LodgeDiskJobs *jobs, Kept *k, GError **error)
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
  if (k->snap != NULL && !lodge_rbd_snap_remove (jobs_rados (jobs), k->pool, k->image, k->snap, &local))
    g_warning ("repair of %s: removing snapshot %s: %s", k->ve, k->snap, local->message);
  if (k->claimed)
    lodge_claim_release (jobs->ctl, k->ve, jobs->owner);
  kept_free (k);
  return ok;
}

void
lodge_disk_jobs_free (LodgeDiskJobs *jobs)
{
  if (jobs == NULL)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, jobs->kept);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      g_hash_table_iter_steal (&it);
      kept_close (jobs, value, NULL);
    }
  g_hash_table_unref (jobs->kept);
  g_mutex_clear (&jobs->lock);
  g_free (jobs->owner);
  g_free (jobs);
}

/* Takes out of the table what @match selects (and is not in use). */
static GPtrArray *
take_kept (LodgeDiskJobs *jobs, const char *ve, gint64 idle_before_us)
{
  GPtrArray *taken = g_ptr_array_new ();
  g_mutex_lock (&jobs->lock);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, jobs->kept);
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
  g_mutex_unlock (&jobs->lock);
  return taken;
}

void
lodge_disk_jobs_release (LodgeDiskJobs *jobs, const char *name)
{
  g_autoptr (GPtrArray) taken = take_kept (jobs, name, 0);
  for (guint i = 0; i < taken->len; i++)
    kept_close (jobs, taken->pdata[i], NULL);
}

void
lodge_disk_jobs_expire (LodgeDiskJobs *jobs)
{
  gint64 before = g_get_monotonic_time () - (gint64) jobs->idle_s * G_USEC_PER_SEC;
  g_autoptr (GPtrArray) taken = take_kept (jobs, NULL, before);
  for (guint i = 0; i < taken->len; i++)
    {
      Kept *k = taken->pdata[i];
      if (k->shell_id != NULL)
        g_message ("repair shell of %s closed after %u s idle", k->ve, SHELL_IDLE_S);
      else if (k->claimed)
        g_message ("repair appliance of %s closed after %u s idle; its claim released", k->ve,
                   jobs->idle_s);
      kept_close (jobs, k, NULL);
    }
}

/* ---- repair shells ---- */

char *
lodge_disk_jobs_keep_shell (LodgeDiskJobs *jobs, const char *ve, LodgeRepair *session)
{
  Kept *k = g_new0 (Kept, 1);
  k->ve = g_strdup (ve);
  k->session = session;
  k->shell_id = g_uuid_string_random ();
  k->claimed = TRUE;
  k->opened_us = k->used_us = g_get_monotonic_time ();
  g_mutex_lock (&jobs->lock);
  g_hash_table_insert (jobs->kept, g_strdup (k->shell_id), k);
  g_mutex_unlock (&jobs->lock);
  return g_strdup (k->shell_id);
}

/* Shell @id of VE @ve, marked busy (and out of the table, with @take). */
static Kept *
find_shell (LodgeDiskJobs *jobs, const char *id, const char *ve, gboolean take, GError **error)
{
  g_mutex_lock (&jobs->lock);
  Kept *k = g_hash_table_lookup (jobs->kept, id);
  if (k != NULL && (k->busy || k->shell_id == NULL || strcmp (k->ve, ve) != 0))
    k = NULL;
  if (k != NULL)
    {
      k->busy = TRUE;
      if (take)
        g_hash_table_steal (jobs->kept, id);
    }
  g_mutex_unlock (&jobs->lock);
  if (k == NULL)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                 "no open repair shell %s on %s (closed after %u s idle?)", id, ve, SHELL_IDLE_S);
  return k;
}

LodgeRepair *
lodge_disk_jobs_borrow_shell (LodgeDiskJobs *jobs, const char *id, const char *ve, GError **error)
{
  Kept *k = find_shell (jobs, id, ve, FALSE, error);
  return k != NULL ? k->session : NULL;
}

void
lodge_disk_jobs_return_shell (LodgeDiskJobs *jobs, const char *id)
{
  g_mutex_lock (&jobs->lock);
  Kept *k = g_hash_table_lookup (jobs->kept, id);
  if (k != NULL)
    {
      k->used_us = g_get_monotonic_time ();
      k->busy = FALSE;
    }
  g_mutex_unlock (&jobs->lock);
}

gboolean
lodge_disk_jobs_close_shell (LodgeDiskJobs *jobs, const char *id, const char *ve, GError **error)
{
  Kept *k = find_shell (jobs, id, ve, TRUE, error);
  return k != NULL && kept_close (jobs, k, error);
}

/* ---- snapshots ---- */

/* "repair-20261126T071203Z", or with "-N" when that is taken. */
char *
lodge_disk_job_new_snapshot_name (GPtrArray *existing)
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
lodge_disk_job_snapshots (LodgeDiskJob *j, GError **error)
{
  g_autoptr (GPtrArray) all = lodge_rbd_snap_list (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, error);
  if (all == NULL)
    return NULL;
  GPtrArray *mine = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < all->len; i++)
    if (g_str_has_prefix (all->pdata[i], REPAIR_PREFIX))
      g_ptr_array_add (mine, g_strdup (all->pdata[i]));
  return mine; /* oldest first */
}

static void
prune (LodgeDiskJob *j)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) snaps = lodge_disk_job_snapshots (j, &error);
  for (guint i = 0; snaps != NULL && i + LODGE_REPAIR_KEEP < snaps->len; i++)
    if (!lodge_rbd_snap_remove (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, snaps->pdata[i],
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
remove_stale_ro (LodgeDiskJob *j)
{
  g_autoptr (GPtrArray) all = lodge_rbd_snap_list (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, NULL);
  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      const char *s = all->pdata[i];
      if (!g_str_has_prefix (s, RO_PREFIX))
        continue;
      gboolean used = FALSE;
      g_mutex_lock (&j->jobs->lock);
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, j->jobs->kept);
      while (g_hash_table_iter_next (&it, NULL, &value))
        used |= g_strcmp0 (((Kept *) value)->snap, s) == 0;
      g_mutex_unlock (&j->jobs->lock);
      if (!used)
        lodge_rbd_snap_remove (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, s, NULL);
    }
}

/* ---- claims ---- */

gboolean
lodge_disk_job_claim (LodgeDiskJob *j, const char *snapshot, gboolean renew, GError **error)
{
  if (!renew)
    {
      /* A failed VE may have left a domain that still writes its disk. */
      g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (j->ctl, j->name, error);
      if (rt == NULL || !lodge_lifecycle_confirm_gone (j->ctl, rt, error))
        return FALSE;
    }
  return lodge_claim_take (j->ctl, j->name, j->op->name, j->who, j->jobs->owner, snapshot, renew,
                           j->progress, j->progress_data, error);
}

void
lodge_disk_job_release_claim (LodgeDiskJob *j)
{
  lodge_claim_release (j->ctl, j->name, j->jobs->owner);
}

gboolean
lodge_disk_jobs_settle (LodgeDiskJobs *jobs, const char *name, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (jobs->ctl, name, NULL);
  if (rt == NULL || rt->repair == NULL)
    return TRUE;
  const LodgeRepairClaim *claim = rt->repair;
  if (g_strcmp0 (claim->owner, jobs->owner) == 0)
    {
      /* An idle appliance kept after a writing repair is closed (its
       * writes on the disk) and the start goes on; a repair at work or an
       * open shell holds the VE. */
      Kept *idle = NULL;
      g_mutex_lock (&jobs->lock);
      Kept *k = g_hash_table_lookup (jobs->kept, name);
      if (k != NULL && k->claimed && !k->busy && k->shell_id == NULL)
        {
          g_hash_table_steal (jobs->kept, name);
          idle = k;
        }
      g_mutex_unlock (&jobs->lock);
      if (idle != NULL)
        return kept_close (jobs, idle, error);
      return lodge_claim_check_start (rt, error);
    }
  g_autofree char *what = lodge_repair_claim_describe (claim);
  g_message ("%s: the repair claim '%s' of controller %s is stale (that controller is gone)",
             name, what, claim->owner);
  if (claim->snapshot != NULL && rt->disk_pool != NULL)
    {
      if (!lodge_rbd_snap_rollback (jobs_rados (jobs), rt->disk_pool, rt->disk_image,
                                    claim->snapshot, NULL, NULL, error))
        {
          g_prefix_error (error, "rolling back the unfinished repair of %s: ", name);
          return FALSE;
        }
      lodge_rbd_snap_remove (jobs_rados (jobs), rt->disk_pool, rt->disk_image,
                             claim->snapshot, NULL);
      g_message ("%s: the unfinished repair was rolled back to %s", name, claim->snapshot);
    }
  lodge_claim_release (jobs->ctl, name, claim->owner);
  return TRUE;
}

/* ---- running ---- */

gboolean
lodge_disk_job_open_session (LodgeDiskJob *j, GError **error)
{
  gint64 t = g_get_monotonic_time ();
  lodge_disk_job_say (j, "starting the repair appliance");
  j->session = lodge_repair_open (&j->disks, error);
  if (j->session == NULL)
    return FALSE;
  gint64 ms = (g_get_monotonic_time () - t) / 1000;
  lodge_disk_job_say (j, "appliance ready in %.1f s", ms / 1000.0);
  lodge_disk_job_result_int (j, "launch_ms", ms);
  return TRUE;
}

/* Takes the kept appliance of @j's VE for the job (busy), if it is free;
 * *@ret_busy when one is at work for another job. */
static Kept *
borrow_kept (LodgeDiskJob *j, gboolean *ret_busy)
{
  g_mutex_lock (&j->jobs->lock);
  Kept *k = g_hash_table_lookup (j->jobs->kept, j->name);
  *ret_busy = k != NULL && k->busy;
  if (k != NULL && !k->busy)
    k->busy = TRUE;
  else
    k = NULL;
  g_mutex_unlock (&j->jobs->lock);
  return k;
}

/* Gives @k back after a job: kept for the next one (idle time counting
 * from now), or, when @keep is FALSE or another appliance took its
 * place meanwhile, closed. */
static void
return_kept (LodgeDiskJob *j, Kept *k, gboolean keep)
{
  k->used_us = g_get_monotonic_time ();
  g_mutex_lock (&j->jobs->lock);
  Kept *there = g_hash_table_lookup (j->jobs->kept, j->name);
  if (keep && j->jobs->idle_s > 0 && (there == NULL || there == k))
    {
      if (there == NULL)
        g_hash_table_insert (j->jobs->kept, g_strdup (j->name), k);
      k->busy = FALSE;
      k = NULL;
    }
  else if (there == k)
    g_hash_table_steal (j->jobs->kept, j->name);
  g_mutex_unlock (&j->jobs->lock);
  if (k != NULL)
    kept_close (j->jobs, k, NULL);
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
run_read (LodgeDiskJob *j, GError **error)
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
      if (!lodge_rbd_snap_create (lodge_disk_job_rados (j), k->pool, k->image, k->snap, FALSE, error))
        {
          kept_free (k);
          return FALSE;
        }
      lodge_disk_job_say (j, "snapshot %s taken", k->snap);
      j->disks.snap = k->snap;
      j->disks.writable = FALSE;
      if (!lodge_disk_job_open_session (j, error))
        {
          kept_close (j->jobs, k, NULL);
          return FALSE;
        }
      k->session = j->session;
      k->opened_us = g_get_monotonic_time ();
    }
  else
    {
      j->session = k->session;
      if (k->snap != NULL)
        lodge_disk_job_say (j, "reusing the appliance on snapshot %s (%.0f s old)", k->snap,
                       (g_get_monotonic_time () - k->opened_us) / 1e6);
      else
        lodge_disk_job_say (j, "reusing the repair appliance on the disk");
      lodge_disk_job_result_int (j, "launch_ms", 0);
    }
  if (k->snap != NULL)
    lodge_disk_job_result_string (j, "snapshot", k->snap);
  gint64 t = g_get_monotonic_time ();
  gboolean ok = j->op->run (j, error);
  lodge_disk_job_result_int (j, "work_ms", (g_get_monotonic_time () - t) / 1000);
  j->session = NULL;
  return_kept (j, k, ok || !appliance_may_be_dead (error));
  return ok;
}

/* undo: the disk rolled back to the newest repair snapshot; no
 * appliance may have it open meanwhile. */
static gboolean
run_disk (LodgeDiskJob *j, GError **error)
{
  lodge_disk_jobs_release (j->jobs, j->name);
  gboolean ok = lodge_disk_job_claim (j, NULL, FALSE, error);
  if (ok)
    {
      ok = j->op->run (j, error);
      lodge_disk_job_release_claim (j);
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
run_writing (LodgeDiskJob *j, GError **error)
{
  LodgeRados *rados = lodge_disk_job_rados (j);
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
  g_autoptr (GPtrArray) existing = lodge_disk_job_snapshots (j, error);
  g_autofree char *snap = existing != NULL ? lodge_disk_job_new_snapshot_name (existing) : NULL;
  if (snap == NULL || !lodge_disk_job_claim (j, snap, k != NULL, error))
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
          lodge_disk_job_say (j, "snapshot %s taken (undo returns to it); reusing the appliance", snap);
          lodge_disk_job_result_int (j, "launch_ms", 0);
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
          lodge_disk_job_say (j, "snapshot %s taken (undo returns to it)", snap);
          j->disks.snap = NULL;
          j->disks.writable = TRUE;
          ok = lodge_disk_job_open_session (j, error);
          k->session = j->session;
          k->opened_us = g_get_monotonic_time ();
        }
    }
  lodge_disk_job_result_string (j, "snapshot", snap);
  if (ok)
    {
      gint64 t = g_get_monotonic_time ();
      ok = j->op->run (j, error) && lodge_repair_sync (j->session, error);
      lodge_disk_job_result_int (j, "work_ms", (g_get_monotonic_time () - t) / 1000);
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
  g_autoptr (GPtrArray) now = lodge_disk_job_snapshots (j, NULL);
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
  lodge_disk_job_release_claim (j);
  return FALSE;
}

/* The writing kinds, as one operation per VE in this controller. */
static gboolean
run_write (LodgeDiskJob *j, GError **error)
{
  if (!lodge_ctl_try_begin (j->jobs->ctl, j->name, LODGE_OP_REPAIR, j->op->name, error))
    return FALSE;
  gboolean ok = j->op->kind == LODGE_DISK_JOB_DISK ? run_disk (j, error) : run_writing (j, error);
  lodge_ctl_end (j->jobs->ctl, j->name);
  return ok;
}

char *
lodge_disk_jobs_run (LodgeDiskJobs *jobs, const char *name, const LodgeDiskJobOp *op,
                     gpointer op_data, JsonObject *args, const char *who, LodgeRepairOutput out,
                     gpointer out_data, LodgeProgress progress, gpointer progress_data,
                     GError **error)
{
  lodge_disk_jobs_expire (jobs);
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (jobs->ctl, name, error);
  if (def == NULL)
    return NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (jobs->ctl, name, error);
  if (rt == NULL)
    return NULL;
  if (rt->disk_pool == NULL || rt->disk_image == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no disk yet (it was never started): nothing to repair", name);
      return NULL;
    }
  LodgeRados *rados = jobs_rados (jobs);
  g_auto (LodgeRbdInfo) info = { 0 };
  if (!lodge_rbd_stat (rados, rt->disk_pool, rt->disk_image, &info, error))
    return NULL;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  LodgeDiskJob j = {
    .jobs = jobs, .ctl = jobs->ctl, .op = op, .name = name, .args = args, .who = who != NULL ? who : "someone",
    .out = out, .out_data = out_data, .progress = progress, .progress_data = progress_data,
    .def = def, .result = b, .t0 = g_get_monotonic_time (), .op_data = op_data,
  };
  j.disks.client_id = jobs->opts->client_id;
  j.disks.pool = rt->disk_pool;
  j.disks.image = rt->disk_image;
  j.disks.tmpl_pool = info.parent_pool;
  j.disks.tmpl_image = info.parent_image;
  j.disks.tmpl_snap = info.parent_snap;
  lodge_disk_job_result_string (&j, "op", op->name);
  if (info.parent_image != NULL)
    {
      g_autofree char *from = g_strdup_printf ("%s/%s@%s", info.parent_pool, info.parent_image,
                                               info.parent_snap);
      lodge_disk_job_result_string (&j, "template", from);
    }

  if (op->check != NULL && !op->check (&j, error))
    return NULL;
  gboolean ok;
  switch (op->kind)
    {
    case LODGE_DISK_JOB_READ:
      ok = run_read (&j, error);
      break;
    case LODGE_DISK_JOB_WRITE:
    case LODGE_DISK_JOB_DISK:
      ok = run_write (&j, error);
      break;
    case LODGE_DISK_JOB_OWN:
    default:
      ok = op->run (&j, error);
      break;
    }
  if (!ok)
    return NULL;
  lodge_disk_job_result_int (&j, "total_ms", (g_get_monotonic_time () - j.t0) / 1000);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
