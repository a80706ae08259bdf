#include "lodge-rbd.h"

#include <errno.h>
#include <string.h>
#include <rbd/librbd.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"

/* An open image and the I/O context it lives in. */
typedef struct {
  LodgeIoctx *ioctx;
  rbd_image_t image;
} Image;

static void
image_close (Image *img)
{
  if (img == NULL)
    return;
  if (img->image != NULL)
    rbd_close (img->image);
  lodge_ioctx_free (img->ioctx);
  g_free (img);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Image, image_close)

static gboolean
check_names (const char *pool, const char *image, GError **error)
{
  return lodge_storage_check_name (pool, "pool name", error)
         && lodge_storage_check_name (image, "image name", error);
}

static Image *
image_open (LodgeRados *rados, const char *pool, const char *image, GError **error)
{
  if (!check_names (pool, image, error))
    return NULL;
  g_autoptr (Image) img = g_new0 (Image, 1);
  img->ioctx = lodge_ioctx_open (rados, pool, NULL, error);
  if (img->ioctx == NULL)
    return NULL;
  int r = rbd_open (img->ioctx->io, image, &img->image, NULL);
  if (r < 0)
    {
      img->image = NULL;
      lodge_storage_set_error (error, r, "cannot open RBD image %s/%s", pool, image);
      return NULL;
    }
  return g_steal_pointer (&img);
}

typedef struct {
  LodgeProgressFunc func;
  gpointer user_data;
} Progress;

static int
progress_cb (uint64_t offset, uint64_t total, void *ptr)
{
  Progress *p = ptr;
  if (p->func != NULL)
    p->func (offset, total, p->user_data);
  return 0;
}

void
lodge_rbd_info_clear (LodgeRbdInfo *info)
{
  g_clear_pointer (&info->parent_pool, g_free);
  g_clear_pointer (&info->parent_image, g_free);
  g_clear_pointer (&info->parent_snap, g_free);
}

gboolean
lodge_rbd_create (LodgeRados *rados, const char *pool, const char *image, guint64 size,
                  GError **error)
{
  if (!check_names (pool, image, error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = lodge_ioctx_open (rados, pool, NULL, error);
  if (ioctx == NULL)
    return FALSE;
  rbd_image_options_t opts;
  rbd_image_options_create (&opts);
  rbd_image_options_set_uint64 (opts, RBD_IMAGE_OPTION_FEATURES, RBD_FEATURES_DEFAULT);
  int r = rbd_create4 (ioctx->io, image, size, opts);
  rbd_image_options_destroy (opts);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot create RBD image %s/%s", pool, image);
  return TRUE;
}

gboolean
lodge_rbd_stat (LodgeRados *rados, const char *pool, const char *image, LodgeRbdInfo *ret_info,
                GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  rbd_image_info_t info;
  int r = rbd_stat (img->image, &info, sizeof info);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot stat RBD image %s/%s", pool, image);
  memset (ret_info, 0, sizeof *ret_info);
  ret_info->size = info.size;

  rbd_linked_image_spec_t parent;
  rbd_snap_spec_t parent_snap;
  r = rbd_get_parent (img->image, &parent, &parent_snap);
  if (r == 0)
    {
      ret_info->parent_pool = g_strdup (parent.pool_name);
      ret_info->parent_image = g_strdup (parent.image_name);
      ret_info->parent_snap = g_strdup (parent_snap.name);
      rbd_linked_image_spec_cleanup (&parent);
      rbd_snap_spec_cleanup (&parent_snap);
    }
  else if (r != -ENOENT)
    return lodge_storage_set_error (error, r, "cannot read the parent of %s/%s", pool, image);
  return TRUE;
}

gboolean
lodge_rbd_exists (LodgeRados *rados, const char *pool, const char *image, gboolean *ret_exists,
                  GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (Image) img = image_open (rados, pool, image, &local);
  if (img != NULL)
    {
      *ret_exists = TRUE;
      return TRUE;
    }
  if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      *ret_exists = FALSE;
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static char *
join_children (GPtrArray *children)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < children->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", (char *) children->pdata[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
lodge_rbd_remove (LodgeRados *rados, const char *pool, const char *image,
                  gboolean with_snapshots, GError **error)
{
  if (with_snapshots)
    {
      g_autoptr (GPtrArray) snaps = lodge_rbd_snap_list (rados, pool, image, error);
      if (snaps == NULL)
        return FALSE;
      for (guint i = 0; i < snaps->len; i++)
        if (!lodge_rbd_snap_remove (rados, pool, image, snaps->pdata[i], error))
          return FALSE;
    }
  if (!check_names (pool, image, error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = lodge_ioctx_open (rados, pool, NULL, error);
  if (ioctx == NULL)
    return FALSE;
  Progress p = { NULL, NULL };
  int r = rbd_remove_with_progress (ioctx->io, image, progress_cb, &p);
  if (r == -EBUSY)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "cannot remove RBD image %s/%s: it is open (watched) by a client", pool, image);
      return FALSE;
    }
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot remove RBD image %s/%s", pool, image);
  return TRUE;
}

char *
lodge_rbd_meta_get (LodgeRados *rados, const char *pool, const char *image, const char *key,
                    GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return NULL;
  size_t len = 256;
  for (int tries = 0; tries < 4; tries++)
    {
      g_autofree char *buf = g_malloc0 (len + 1);
      size_t got = len;
      int r = rbd_metadata_get (img->image, key, buf, &got);
      if (r == -ENOENT)
        return NULL;
      if (r == -ERANGE)
        {
          len = MAX (got, len * 2);
          continue;
        }
      if (r < 0)
        {
          lodge_storage_set_error (error, r, "cannot read metadata %s of RBD image %s/%s", key, pool,
                                   image);
          return NULL;
        }
      return g_steal_pointer (&buf);
    }
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
               "metadata %s of RBD image %s/%s keeps growing", key, pool, image);
  return NULL;
}

gboolean
lodge_rbd_meta_set (LodgeRados *rados, const char *pool, const char *image, const char *key,
                    const char *value, GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  int r = value != NULL ? rbd_metadata_set (img->image, key, value)
                        : rbd_metadata_remove (img->image, key);
  if (r == -ENOENT && value == NULL)
    return TRUE;
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot %s metadata %s of RBD image %s/%s",
                                    value != NULL ? "set" : "remove", key, pool, image);
  return TRUE;
}

gboolean
lodge_rbd_grow (LodgeRados *rados, const char *pool, const char *image, guint64 size,
                GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  uint64_t cur = 0;
  int r = rbd_get_size (img->image, &cur);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot stat RBD image %s/%s", pool, image);
  if (size < cur)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "RBD image %s/%s is %" G_GUINT64_FORMAT " bytes; shrinking it to %"
                   G_GUINT64_FORMAT " would cut its filesystem",
                   pool, image, (guint64) cur, size);
      return FALSE;
    }
  if (size == cur)
    return TRUE;
  Progress p = { NULL, NULL };
  r = rbd_resize2 (img->image, size, false, progress_cb, &p);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot grow RBD image %s/%s", pool, image);
  return TRUE;
}

GPtrArray *
lodge_rbd_list (LodgeRados *rados, const char *pool, GError **error)
{
  if (!lodge_storage_check_name (pool, "pool name", error))
    return NULL;
  g_autoptr (LodgeIoctx) ioctx = lodge_ioctx_open (rados, pool, NULL, error);
  if (ioctx == NULL)
    return NULL;
  size_t max = 64;
  g_autofree rbd_image_spec_t *specs = NULL;
  int r;
  do
    {
      specs = g_renew (rbd_image_spec_t, specs, max);
      r = rbd_list2 (ioctx->io, specs, &max);
    }
  while (r == -ERANGE);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot list RBD images in %s", pool);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < max; i++)
    g_ptr_array_add (names, g_strdup (specs[i].name));
  rbd_image_spec_list_cleanup (specs, max);
  g_ptr_array_sort (names, lodge_compare_strings);
  return names;
}

gboolean
lodge_rbd_snap_create (LodgeRados *rados, const char *pool, const char *image, const char *snap,
                       gboolean protect, GError **error)
{
  if (!lodge_storage_check_name (snap, "snapshot name", error))
    return FALSE;
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  int r = rbd_snap_create (img->image, snap);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot snapshot %s/%s@%s", pool, image, snap);
  if (protect && (r = rbd_snap_protect (img->image, snap)) < 0)
    {
      rbd_snap_remove (img->image, snap); /* no half-made version */
      return lodge_storage_set_error (error, r, "cannot protect %s/%s@%s", pool, image, snap);
    }
  return TRUE;
}

GPtrArray *
lodge_rbd_snap_children (LodgeRados *rados, const char *pool, const char *image,
                         const char *snap, GError **error)
{
  if (!lodge_storage_check_name (snap, "snapshot name", error))
    return NULL;
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return NULL;
  int r = rbd_snap_set (img->image, snap);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "no snapshot %s/%s@%s", pool, image, snap);
      return NULL;
    }
  size_t max = 16;
  g_autofree rbd_linked_image_spec_t *specs = NULL;
  do
    {
      specs = g_renew (rbd_linked_image_spec_t, specs, max);
      r = rbd_list_children3 (img->image, specs, &max);
    }
  while (r == -ERANGE);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot list the clones of %s/%s@%s", pool, image, snap);
      return NULL;
    }
  GPtrArray *children = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < max; i++)
    if (!specs[i].trash)
      g_ptr_array_add (children, g_strdup_printf ("%s/%s", specs[i].pool_name,
                                                  specs[i].image_name));
  rbd_linked_image_spec_list_cleanup (specs, max);
  g_ptr_array_sort (children, lodge_compare_strings);
  return children;
}

gboolean
lodge_rbd_snap_remove (LodgeRados *rados, const char *pool, const char *image, const char *snap,
                       GError **error)
{
  g_autoptr (GPtrArray) children = lodge_rbd_snap_children (rados, pool, image, snap, error);
  if (children == NULL)
    return FALSE;
  if (children->len > 0)
    {
      g_autofree char *list = join_children (children);
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "%s/%s@%s has %u clone%s: %s", pool, image, snap, children->len,
                   children->len == 1 ? "" : "s", list);
      return FALSE;
    }
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  int is_protected = 0;
  int r = rbd_snap_is_protected (img->image, snap, &is_protected);
  if (r == 0 && is_protected)
    r = rbd_snap_unprotect (img->image, snap);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot unprotect %s/%s@%s", pool, image, snap);
  r = rbd_snap_remove (img->image, snap);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot remove %s/%s@%s", pool, image, snap);
  return TRUE;
}

GPtrArray *
lodge_rbd_snap_list (LodgeRados *rados, const char *pool, const char *image, GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return NULL;
  int max = 16, r;
  g_autofree rbd_snap_info_t *snaps = NULL;
  do
    {
      snaps = g_renew (rbd_snap_info_t, snaps, max);
      r = rbd_snap_list (img->image, snaps, &max);
    }
  while (r == -ERANGE);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot list the snapshots of %s/%s", pool, image);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < r; i++)
    g_ptr_array_add (names, g_strdup (snaps[i].name));
  rbd_snap_list_end (snaps);
  return names; /* in creation order */
}

gboolean
lodge_rbd_snap_rollback (LodgeRados *rados, const char *pool, const char *image,
                         const char *snap, LodgeProgressFunc progress, gpointer user_data,
                         GError **error)
{
  if (!lodge_storage_check_name (snap, "snapshot name", error))
    return FALSE;
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  Progress p = { progress, user_data };
  int r = rbd_snap_rollback_with_progress (img->image, snap, progress_cb, &p);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot roll %s/%s back to %s", pool, image, snap);
  return TRUE;
}

gboolean
lodge_rbd_clone (LodgeRados *rados, const char *parent_pool, const char *parent_image,
                 const char *parent_snap, const char *pool, const char *image, GError **error)
{
  if (!check_names (parent_pool, parent_image, error) || !check_names (pool, image, error)
      || !lodge_storage_check_name (parent_snap, "snapshot name", error))
    return FALSE;
  g_autoptr (LodgeIoctx) pio = lodge_ioctx_open (rados, parent_pool, NULL, error);
  if (pio == NULL)
    return FALSE;
  g_autoptr (LodgeIoctx) cio = lodge_ioctx_open (rados, pool, NULL, error);
  if (cio == NULL)
    return FALSE;
  rbd_image_options_t opts;
  rbd_image_options_create (&opts);
  rbd_image_options_set_uint64 (opts, RBD_IMAGE_OPTION_FEATURES, RBD_FEATURES_DEFAULT);
  int r = rbd_clone3 (pio->io, parent_image, parent_snap, cio->io, image, opts);
  rbd_image_options_destroy (opts);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot clone %s/%s@%s to %s/%s", parent_pool,
                                    parent_image, parent_snap, pool, image);
  return TRUE;
}

gboolean
lodge_rbd_rename (LodgeRados *rados, const char *pool, const char *image, const char *new_name,
                  GError **error)
{
  if (!check_names (pool, image, error) || !lodge_storage_check_name (new_name, "image name", error))
    return FALSE;
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (rados, pool, NULL, error);
  if (io == NULL)
    return FALSE;
  int r = rbd_rename (io->io, image, new_name);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot rename %s/%s to %s", pool, image, new_name);
  return TRUE;
}

gboolean
lodge_rbd_flatten (LodgeRados *rados, const char *pool, const char *image,
                   LodgeProgressFunc progress, gpointer user_data, GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  Progress p = { progress, user_data };
  int r = rbd_flatten_with_progress (img->image, progress_cb, &p);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot flatten %s/%s", pool, image);
  return TRUE;
}

GPtrArray *
lodge_rbd_clients (LodgeRados *rados, const char *pool, const char *image, GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return NULL;
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *self = lodge_rados_client_address (rados);

  size_t max = 16;
  g_autofree rbd_image_watcher_t *watchers = NULL;
  int r;
  do
    {
      watchers = g_renew (rbd_image_watcher_t, watchers, max);
      r = rbd_watchers_list (img->image, watchers, &max);
    }
  while (r == -ERANGE);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot list the watchers of %s/%s", pool, image);
      return NULL;
    }
  for (size_t i = 0; i < max; i++)
    if (g_strcmp0 (watchers[i].addr, self) != 0 /* our own open, just now */
        && !g_ptr_array_find_with_equal_func (addrs, watchers[i].addr, g_str_equal, NULL))
      g_ptr_array_add (addrs, g_strdup (watchers[i].addr));
  rbd_watchers_list_cleanup (watchers, max);
  return g_steal_pointer (&addrs);
}

gboolean
lodge_rbd_break_lock (LodgeRados *rados, const char *pool, const char *image, GError **error)
{
  g_autoptr (Image) img = image_open (rados, pool, image, error);
  if (img == NULL)
    return FALSE;
  rbd_lock_mode_t mode;
  char *owners[8];
  size_t n = G_N_ELEMENTS (owners);
  int r = rbd_lock_get_owners (img->image, &mode, owners, &n);
  if (r == -ENOENT)
    return TRUE; /* nobody holds it */
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot read the lock owners of %s/%s", pool, image);
  for (size_t i = 0; i < n && r >= 0; i++)
    r = rbd_lock_break (img->image, mode, owners[i]);
  rbd_lock_get_owners_cleanup (owners, n);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot break the lock of %s/%s", pool, image);
  return TRUE;
}

static gboolean
check_addr (const char *addr, GError **error)
{
  /* ip:port/nonce, as librados reports clients; nothing to quote in JSON. */
  gboolean ok = addr != NULL && *addr != '\0' && strlen (addr) < 128;
  for (const char *p = addr; ok && *p; p++)
    ok = g_ascii_isxdigit (*p) || strchr (".:/[]", *p) != NULL;
  if (!ok)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                 "'%s' is not a client address (ip:port/nonce)", addr != NULL ? addr : "");
  return ok;
}

gboolean
lodge_rados_blocklist_add (LodgeRados *rados, const char *addr, guint seconds, GError **error)
{
  if (!check_addr (addr, error))
    return FALSE;
  g_autofree char *json = g_strdup_printf ("{\"prefix\": \"osd blocklist\", \"blocklistop\": "
                                           "\"add\", \"addr\": \"%s\", \"expire\": %u.0}",
                                           addr, seconds);
  g_autofree char *out = lodge_rados_mon_command (rados, json, error);
  if (out == NULL)
    {
      g_prefix_error (error, "cannot fence %s: ", addr);
      return FALSE;
    }
  /* Make sure the OSDs we talk to next know of it. */
  rados_wait_for_latest_osdmap (lodge_rados_handle (rados));
  return TRUE;
}

gboolean
lodge_rados_blocklist_remove (LodgeRados *rados, const char *addr, GError **error)
{
  if (!check_addr (addr, error))
    return FALSE;
  g_autofree char *json = g_strdup_printf (
    "{\"prefix\": \"osd blocklist\", \"blocklistop\": \"rm\", \"addr\": \"%s\"}", addr);
  g_autofree char *out = lodge_rados_mon_command (rados, json, error);
  return out != NULL;
}
