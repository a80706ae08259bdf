/* What the parts of the repair module share (lodge-repair.c: the session,
 * path resolution, the verbs; lodge-repair-diff.c: the template diff). */
#pragma once

#include "lodge-guestfs-private.h"
#include "lodge-repair.h"

G_BEGIN_DECLS

/* Where the disks are mounted inside the appliance. */
#define VE_ROOT "/ve"
#define TMPL_ROOT "/tmpl"
#define APPS_ROOT "/apps" /* application templates: /apps/0, /apps/1, ... */

struct _LodgeRepair {
  LodgeGuestfs *g;
  guestfs_h *h;
  gboolean writable;
  gboolean has_template;
  gboolean mounted;
  guint n_apps;
};

/* Where application template @index is mounted in the appliance. */
char *lodge_repair_app_root (guint index);

/* @error from libguestfs's last error, after "@fmt: ". */
G_GNUC_PRINTF (3, 4) gboolean lodge_repair_failf (LodgeRepair *r, GError **error,
                                                   const char *fmt, ...);
/* @error from Lodge's own refusal (LODGE_GUESTFS_ERROR_INVALID), or for
 * a file that is not there (_NOT_FOUND). */
G_GNUC_PRINTF (2, 3) gboolean lodge_repair_refuse (GError **error, const char *fmt, ...);
G_GNUC_PRINTF (2, 3) gboolean lodge_repair_missing (GError **error, const char *fmt, ...);
/* lstat in the appliance; NULL without an error when @path does not exist. */
struct guestfs_statns *lodge_repair_lstat (LodgeRepair *r, const char *path, GError **error);
/* lodge_repair_resolve in the tree mounted at @root. */
char *lodge_repair_resolve_in (LodgeRepair *r, const char *root, const char *path,
                               gboolean follow_last, GError **error);
/* A resolved guest path in the appliance's view. */
char *lodge_repair_in_ve (const char *guest_path);
char *lodge_repair_in_tmpl (const char *guest_path);
/* A filesystem with more files (inodes in use) than this is not listed. */
#define LODGE_REPAIR_MAX_FILES 1000000

/* Paths under appliance directory @top, relative to it, sorted (the
 * root's lost+found left out); refused on a filesystem over
 * LODGE_REPAIR_MAX_FILES files, or with over LODGE_GUESTFS_FIND_MAX_BYTES
 * of names. */
GPtrArray *lodge_repair_list_tree (LodgeRepair *r, const char *top, GError **error);
gboolean lodge_repair_emit (LodgeRepairOutput out, gpointer user_data, const char *s,
                            GError **error);
G_GNUC_PRINTF (4, 5) gboolean lodge_repair_emitf (LodgeRepairOutput out, gpointer user_data,
                                                   GError **error, const char *fmt, ...);
char *lodge_repair_mode_string (gint64 mode);
/* @shadow with root's password field set to @hash, as lodge-init sets it at
 * boot (lodge_shadow_set_hash: a missing entry is added first, dated
 * @today); NULL with @error when it is not a shadow file or @hash holds ':'
 * or a line break. */
char *lodge_repair_shadow_with_root_hash (const char *shadow, gsize len, const char *hash,
                                          glong today, GError **error);

G_END_DECLS
