/* RBD images through librbd: what templates, VE root disks and fencing are
 * built from. Names are pool and image names, checked before use. */
#pragma once

#include <glib.h>

#include "lodge-rados.h"

G_BEGIN_DECLS

/* Progress of a long operation: @done out of @total units (bytes or
 * objects). Runs in the calling thread. */
typedef void (*LodgeProgressFunc) (guint64 done, guint64 total, gpointer user_data);

typedef struct {
  guint64 size;
  char *parent_pool;  /* NULL when not a clone */
  char *parent_image;
  char *parent_snap;
} LodgeRbdInfo;

void lodge_rbd_info_clear (LodgeRbdInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeRbdInfo, lodge_rbd_info_clear)

gboolean lodge_rbd_create (LodgeRados *rados, const char *pool, const char *image, guint64 size,
                           GError **error);
gboolean lodge_rbd_stat (LodgeRados *rados, const char *pool, const char *image,
                         LodgeRbdInfo *ret_info, GError **error);
gboolean lodge_rbd_exists (LodgeRados *rados, const char *pool, const char *image,
                           gboolean *ret_exists, GError **error);
/* Removes @image; with @with_snapshots, unprotects and removes its
 * snapshots first (refused with LODGE_STORAGE_ERROR_BUSY naming the clones
 * when a snapshot still has some). */
gboolean lodge_rbd_remove (LodgeRados *rados, const char *pool, const char *image,
                           gboolean with_snapshots, GError **error);
/* Grows @image to @size; shrinking is refused (it would cut a filesystem). */
gboolean lodge_rbd_grow (LodgeRados *rados, const char *pool, const char *image, guint64 size,
                         GError **error);
GPtrArray *lodge_rbd_list (LodgeRados *rados, const char *pool, GError **error);

/* Image metadata (key/value strings kept with the image, gone with it).
 * get: NULL without an error when @key is not set. set with @value NULL
 * removes @key (not set is fine). */
char *lodge_rbd_meta_get (LodgeRados *rados, const char *pool, const char *image, const char *key,
                          GError **error);
gboolean lodge_rbd_meta_set (LodgeRados *rados, const char *pool, const char *image,
                             const char *key, const char *value, GError **error);

gboolean lodge_rbd_snap_create (LodgeRados *rados, const char *pool, const char *image,
                                const char *snap, gboolean protect, GError **error);
/* Unprotects (if protected) and removes; BUSY naming the clones if any. */
gboolean lodge_rbd_snap_remove (LodgeRados *rados, const char *pool, const char *image,
                                const char *snap, GError **error);
GPtrArray *lodge_rbd_snap_list (LodgeRados *rados, const char *pool, const char *image,
                                GError **error);
gboolean lodge_rbd_snap_rollback (LodgeRados *rados, const char *pool, const char *image,
                                  const char *snap, LodgeProgressFunc progress,
                                  gpointer user_data, GError **error);
/* "pool/image" of every clone of @image@@snap, sorted. */
GPtrArray *lodge_rbd_snap_children (LodgeRados *rados, const char *pool, const char *image,
                                    const char *snap, GError **error);

/* A copy-on-write clone of a protected snapshot: O(1) in the parent's size. */
gboolean lodge_rbd_clone (LodgeRados *rados, const char *parent_pool, const char *parent_image,
                          const char *parent_snap, const char *pool, const char *image,
                          GError **error);
/* Renames @image to @new_name in @pool: one update of the pool's
 * directory, so the image is found under one name or the other. EXISTS
 * if @new_name is taken. */
gboolean lodge_rbd_rename (LodgeRados *rados, const char *pool, const char *image,
                           const char *new_name, GError **error);
/* Copies the parent's data into the clone so the parent can go. */
gboolean lodge_rbd_flatten (LodgeRados *rados, const char *pool, const char *image,
                            LodgeProgressFunc progress, gpointer user_data, GError **error);

/* Fencing. The clients using @image: watchers (every client that has it
 * open) and exclusive-lock owners, as "addr" strings a blocklist takes. */
GPtrArray *lodge_rbd_clients (LodgeRados *rados, const char *pool, const char *image,
                              GError **error);
/* Breaks the exclusive lock of @image held by anyone but this client. */
gboolean lodge_rbd_break_lock (LodgeRados *rados, const char *pool, const char *image,
                               GError **error);
/* Blocklists @addr ("ip:port/nonce") for @seconds: the OSDs refuse it from
 * then on, so a frozen client that wakes up cannot write. */
gboolean lodge_rados_blocklist_add (LodgeRados *rados, const char *addr, guint seconds,
                                    GError **error);
gboolean lodge_rados_blocklist_remove (LodgeRados *rados, const char *addr, GError **error);

G_END_DECLS
