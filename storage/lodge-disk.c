#include "lodge-disk.h"

#include "lodge-storage-error.h"
#include "lodge-tier.h"

void
lodge_disk_ref_clear (LodgeDiskRef *ref)
{
  g_clear_pointer (&ref->pool, g_free);
  g_clear_pointer (&ref->image, g_free);
}

void
lodge_disk_ref_init (LodgeDiskRef *ref, const char *ve, guint replicas)
{
  ref->pool = lodge_tier_pool (replicas);
  ref->image = g_strconcat ("ve-", ve, NULL);
}

gboolean
lodge_disk_create (LodgeRados *rados, const char *ve, guint replicas, const char *tmpl_pool,
                   const char *tmpl_image, const char *tmpl_snap, guint64 size, GError **error)
{
  if (!lodge_storage_check_name (ve, "VE name", error) || !lodge_tier_ensure (rados, replicas, error))
    return FALSE;
  g_auto (LodgeDiskRef) ref = { 0 };
  lodge_disk_ref_init (&ref, ve, replicas);

  if (!lodge_rbd_clone (rados, tmpl_pool, tmpl_image, tmpl_snap, ref.pool, ref.image, error))
    return FALSE;
  if (!lodge_rbd_grow (rados, ref.pool, ref.image, size, error))
    {
      lodge_rbd_remove (rados, ref.pool, ref.image, TRUE, NULL);
      g_prefix_error (error, "disk of VE %s: ", ve);
      return FALSE;
    }
  return TRUE;
}

gboolean
lodge_disk_delete (LodgeRados *rados, const char *ve, guint replicas, GError **error)
{
  if (!lodge_storage_check_name (ve, "VE name", error))
    return FALSE;
  g_auto (LodgeDiskRef) ref = { 0 };
  lodge_disk_ref_init (&ref, ve, replicas);
  return lodge_rbd_remove (rados, ref.pool, ref.image, TRUE, error);
}
