#include "lodge-lease.h"

#include <errno.h>
#include <sys/time.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"

#define LOCK_NAME "lodge-lease"
#define GENERATION_XATTR "lodge.generation"

static LodgeIoctx *
open_leases (LodgeStore *store, GError **error)
{
  return lodge_ioctx_open (lodge_store_get_rados (store), lodge_store_get_pool (store),
                           lodge_store_kind_to_string (LODGE_STORE_LEASE), error);
}

gboolean
lodge_lease_get_holder (LodgeStore *store, const char *lease, char **ret_holder,
                        char **ret_description, GError **error)
{
  g_return_val_if_fail (ret_holder != NULL, FALSE);
  *ret_holder = NULL;
  if (ret_description != NULL)
    *ret_description = NULL;
  if (!lodge_storage_check_name (lease, "lease name", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_leases (store, error);
  if (ioctx == NULL)
    return FALSE;

  /* rados_lock_get_info is not in the C API; rados_list_lockers is. */
  int exclusive = 0;
  char tag[256], clients[1024], cookies[1024], addrs[1024];
  size_t tag_len = sizeof tag, clients_len = sizeof clients, cookies_len = sizeof cookies,
         addrs_len = sizeof addrs;
  ssize_t n = rados_list_lockers (ioctx->io, lease, LOCK_NAME, &exclusive, tag, &tag_len,
                                  clients, &clients_len, cookies, &cookies_len, addrs,
                                  &addrs_len);
  if (n == -ENOENT || n == 0)
    return TRUE;
  if (n < 0)
    return lodge_storage_set_error (error, (int) n, "cannot read lease %s", lease);
  *ret_holder = g_strdup (cookies);
  if (ret_description != NULL)
    {
      /* The description is the object's xattr written at acquire time. */
      char desc[512];
      int r = rados_getxattr (ioctx->io, lease, "lodge.description", desc, sizeof desc - 1);
      if (r >= 0)
        {
          desc[r] = '\0';
          *ret_description = g_strdup (desc);
        }
    }
  return TRUE;
}

gboolean
lodge_lease_acquire (LodgeStore *store, const char *lease, const char *holder,
                     const char *description, guint duration_s, GError **error)
{
  g_return_val_if_fail (duration_s > 0, FALSE);
  if (!lodge_storage_check_name (lease, "lease name", error)
      || !lodge_storage_check_name (holder, "lease holder", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_leases (store, error);
  if (ioctx == NULL)
    return FALSE;

  struct timeval duration = { .tv_sec = duration_s };
  int r = rados_lock_exclusive (ioctx->io, lease, LOCK_NAME, holder, description != NULL ? description : "",
                                &duration, LIBRADOS_LOCK_FLAG_MAY_RENEW);
  if (r == -EBUSY || r == -EEXIST)
    {
      g_autofree char *other = NULL, *other_desc = NULL;
      lodge_lease_get_holder (store, lease, &other, &other_desc, NULL);
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "lease %s is held by %s%s%s%s", lease, other != NULL ? other : "another client",
                   other_desc != NULL ? " (" : "", other_desc != NULL ? other_desc : "",
                   other_desc != NULL ? ")" : "");
      return FALSE;
    }
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot take lease %s", lease);
  if (description != NULL)
    rados_setxattr (ioctx->io, lease, "lodge.description", description, strlen (description));
  return TRUE;
}

gboolean
lodge_lease_release (LodgeStore *store, const char *lease, const char *holder, GError **error)
{
  if (!lodge_storage_check_name (lease, "lease name", error)
      || !lodge_storage_check_name (holder, "lease holder", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_leases (store, error);
  if (ioctx == NULL)
    return FALSE;
  int r = rados_unlock (ioctx->io, lease, LOCK_NAME, holder);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot release lease %s held as %s", lease, holder);
  return TRUE;
}

/* The generation xattr as text ("" when there is none) and as a number. */
static gboolean
read_generation (LodgeIoctx *ioctx, const char *lease, char text[32], guint64 *ret, GError **error)
{
  int r = rados_getxattr (ioctx->io, lease, GENERATION_XATTR, text, 31);
  if (r == -ENODATA || r == -ENOENT)
    r = 0;
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot read the generation of lease %s", lease);
  text[r] = '\0';
  *ret = 0;
  if (r > 0 && !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64 - 1, ret, NULL))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "lease %s has a generation that is not a number", lease);
      return FALSE;
    }
  return TRUE;
}

gboolean
lodge_lease_get_generation (LodgeStore *store, const char *lease, guint64 *ret_generation,
                            GError **error)
{
  if (!lodge_storage_check_name (lease, "lease name", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_leases (store, error);
  char text[32];
  return ioctx != NULL && read_generation (ioctx, lease, text, ret_generation, error);
}

gboolean
lodge_lease_next_generation (LodgeStore *store, const char *lease, guint64 *ret_generation,
                             GError **error)
{
  if (!lodge_storage_check_name (lease, "lease name", error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_leases (store, error);
  if (ioctx == NULL)
    return FALSE;
  /* Compare-and-set on the number itself: two holders (one whose lease
   * lapsed as it counted) never get the same one. */
  for (int attempt = 0; attempt < 10; attempt++)
    {
      char old[32], next[32];
      guint64 n = 0;
      if (!read_generation (ioctx, lease, old, &n, error))
        return FALSE;
      g_snprintf (next, sizeof next, "%020" G_GUINT64_FORMAT, n + 1);
      rados_write_op_t op = rados_create_write_op ();
      rados_write_op_assert_exists (op);
      rados_write_op_cmpxattr (op, GENERATION_XATTR, LIBRADOS_CMPXATTR_OP_EQ, old, strlen (old));
      rados_write_op_setxattr (op, GENERATION_XATTR, next, strlen (next));
      int r = rados_write_op_operate (op, ioctx->io, lease, NULL, 0);
      rados_release_write_op (op);
      if (r == 0)
        {
          *ret_generation = n + 1;
          return TRUE;
        }
      if (r != -ECANCELED)
        return lodge_storage_set_error (error, r, "cannot count a new generation of lease %s", lease);
    }
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
               "cannot count a new generation of lease %s: it changed under every attempt", lease);
  return FALSE;
}
