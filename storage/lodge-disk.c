#include "lodge-disk.h"

#include "lodge-storage-error.h"
#include "lodge-tier.h"

/* A disk being made is named IMAGE NEW_INFIX RANDOM until it is whole. */
#define NEW_INFIX ".new-"

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

  g_autofree char *tmp = g_strdup_printf ("%s" NEW_INFIX "%08x", ref.image, g_random_int ());
  if (!lodge_rbd_clone (rados, tmpl_pool, tmpl_image, tmpl_snap, ref.pool, tmp, error))
    return FALSE;
  if (!lodge_rbd_grow (rados, ref.pool, tmp, size, error)
      || !lodge_rbd_rename (rados, ref.pool, tmp, ref.image, error))
    {
      lodge_rbd_remove (rados, ref.pool, tmp, TRUE, NULL);
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
  gboolean removed = lodge_rbd_remove (rados, ref.pool, ref.image, TRUE, error);
  /* Leftovers of a creation cut short (best effort: they hold no data). */
  g_autofree char *prefix = g_strconcat (ref.image, NEW_INFIX, NULL);
  g_autoptr (GPtrArray) names = lodge_rbd_list (rados, ref.pool, NULL);
  for (guint i = 0; names != NULL && i < names->len; i++)
    if (g_str_has_prefix (names->pdata[i], prefix))
      lodge_rbd_remove (rados, ref.pool, names->pdata[i], TRUE, NULL);
  return removed;
}
