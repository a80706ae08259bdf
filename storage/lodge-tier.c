#include "lodge-tier.h"

#include <rbd/librbd.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"

char *
lodge_tier_pool (guint replicas)
{
  g_return_val_if_fail (replicas >= LODGE_TIER_MIN && replicas <= LODGE_TIER_MAX, NULL);
  return g_strdup_printf ("lodge-r%u", replicas);
}

guint
lodge_tier_min_size (guint replicas)
{
  return replicas >= 3 ? 2 : 1;
}

static gboolean
ensure_rbd_pool (LodgeRados *rados, const char *pool, guint size, guint min_size, GError **error)
{
  if (!lodge_rados_ensure_pool (rados, pool, size, min_size, "rbd", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = lodge_ioctx_open (rados, pool, NULL, error);
  if (ioctx == NULL)
    return FALSE;
  int r = rbd_pool_init (ioctx->io, false);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot initialise RBD pool %s", pool);
  return TRUE;
}

gboolean
lodge_tier_ensure (LodgeRados *rados, guint replicas, GError **error)
{
  if (replicas < LODGE_TIER_MIN || replicas > LODGE_TIER_MAX)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "fault-tolerance level %u is not 1, 2 or 3", replicas);
      return FALSE;
    }
  g_autofree char *pool = lodge_tier_pool (replicas);
  /* Every disk creation passes here: an existing tier costs no monitor
   * round trip. */
  if (rados_pool_lookup (lodge_rados_handle (rados), pool) >= 0)
    return TRUE;
  return ensure_rbd_pool (rados, pool, replicas, lodge_tier_min_size (replicas), error);
}

gboolean
lodge_tier_ensure_templates (LodgeRados *rados, GError **error)
{
  if (rados_pool_lookup (lodge_rados_handle (rados), LODGE_TEMPLATE_POOL) >= 0)
    return TRUE;
  return ensure_rbd_pool (rados, LODGE_TEMPLATE_POOL, 3, lodge_tier_min_size (3), error);
}
