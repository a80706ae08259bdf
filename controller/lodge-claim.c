#include "lodge-claim.h"

#include "lodge-rbd.h"
#include "lodge-storage-error.h"

gboolean
lodge_claim_take (LodgeCtl *ctl, const char *name, const char *op, const char *who,
                  const char *owner, const char *snapshot, gboolean renew, LodgeProgress progress,
                  gpointer progress_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  LodgeRados *rados = lodge_store_get_rados (store);
  for (int attempt = 0; attempt < 5; attempt++)
    {
      guint64 version = 0;
      g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, &version, error);
      if (json == NULL)
        return FALSE;
      g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_from_json (json, error);
      if (rt == NULL)
        return FALSE;
      if (rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                       "environment %s is %s%s%s: repair %s writes to its disk and needs it "
                       "stopped (lodge stop %s); ls, cat, find, log, df and diff work while it runs",
                       name, lodge_phase_to_string (rt->phase), rt->node ? " on " : "",
                       rt->node ? rt->node : "", op, name);
          return FALSE;
        }
      LodgeRepairClaim *held = rt->repair;
      if (held != NULL && g_strcmp0 (held->owner, owner) == 0 && !renew)
        {
          g_autofree char *what = lodge_repair_claim_describe (held);
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                       "environment %s is held by another repair (%s)", name, what);
          return FALSE;
        }
      if (held != NULL && held->snapshot != NULL && g_strcmp0 (held->owner, owner) != 0)
        {
          /* Its controller died in the middle: back to before it. */
          if (progress != NULL)
            {
              g_autofree char *what = lodge_repair_claim_describe (held);
              g_autofree char *line = g_strdup_printf (
                "a repair left unfinished (%s) is rolled back to %s", what, held->snapshot);
              progress (line, progress_data);
            }
          if (!lodge_rbd_snap_rollback (rados, rt->disk_pool, rt->disk_image, held->snapshot, NULL,
                                        NULL, error))
            return FALSE;
          lodge_rbd_snap_remove (rados, rt->disk_pool, rt->disk_image, held->snapshot, NULL);
        }
      lodge_repair_claim_free (rt->repair);
      rt->repair = lodge_repair_claim_new (op, who, g_get_real_time (), owner, snapshot);
      g_autoptr (GBytes) out = lodge_runtime_record_to_json (rt);
      g_autoptr (GError) local = NULL;
      if (lodge_store_update (store, LODGE_STORE_RUNTIME, name, version, out, NULL, &local))
        return TRUE;
      if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
               "environment %s changed under the repair five times in a row; try again", name);
  return FALSE;
}

void
lodge_claim_release (LodgeCtl *ctl, const char *name, const char *owner)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  for (int attempt = 0; attempt < 10; attempt++)
    {
      guint64 version = 0;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, &version, &error);
      g_autoptr (LodgeRuntimeRecord) rt = json != NULL ? lodge_runtime_record_from_json (json, &error) : NULL;
      if (rt == NULL)
        {
          g_warning ("repair of %s: cannot release the claim: %s", name, error->message);
          return;
        }
      if (rt->repair == NULL || g_strcmp0 (rt->repair->owner, owner) != 0)
        return;
      g_clear_pointer (&rt->repair, lodge_repair_claim_free);
      g_autoptr (GBytes) out = lodge_runtime_record_to_json (rt);
      if (lodge_store_update (store, LODGE_STORE_RUNTIME, name, version, out, NULL, &error))
        return;
      if (!g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        {
          g_warning ("repair of %s: cannot release the claim: %s", name, error->message);
          return;
        }
    }
}

gboolean
lodge_claim_check_start (const LodgeRuntimeRecord *rt, GError **error)
{
  if (rt->repair == NULL)
    return TRUE;
  g_autofree char *what = lodge_repair_claim_describe (rt->repair);
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
               "environment %s is held by a repair (%s); start it when the repair is done",
               rt->name, what);
  return FALSE;
}
