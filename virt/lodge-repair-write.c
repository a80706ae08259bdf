/* The writing verbs of a repair session: only on the disk of a stopped
 * VE, on paths resolved inside its root (lodge-repair.c). */
#include "lodge-repair.h"

#include <string.h>
#include <sys/stat.h>

#include "lodge-repair-private.h"
#include "lodge-shadow.h"
#include "lodge-strings.h"

/* ---- writing ---- */

static gboolean
check_writable (LodgeRepair *r, GError **error)
{
  if (!r->writable)
    return lodge_repair_refuse (error, "this repair session is read-only");
  return TRUE;
}

gboolean
lodge_repair_write (LodgeRepair *r, const char *path, const char *data, gsize len, guint mode,
                    GError **error)
{
  if (!check_writable (r, error))
    return FALSE;
  g_autofree char *resolved = lodge_repair_resolve (r, path, TRUE, error);
  if (resolved == NULL)
    return FALSE;
  g_autofree char *full = lodge_repair_in_ve (resolved);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL && error != NULL && *error != NULL)
    return FALSE;
  gboolean exists = st != NULL, regular = st != NULL && S_ISREG (st->st_mode);
  guestfs_free_statns (st);
  g_autofree char *q = lodge_repair_quote (path);
  if (exists && !regular)
    return lodge_repair_refuse (error, "%s: not a regular file; remove it first", q);
  if (guestfs_write (r->h, full, data, len) < 0)
    return lodge_repair_failf (r, error, "cannot write %s", resolved);
  if ((!exists || mode != 0) && guestfs_chmod (r->h, mode != 0 ? (int) mode : 0644, full) < 0)
    return lodge_repair_failf (r, error, "cannot set the mode of %s", resolved);
  return TRUE;
}

gboolean
lodge_repair_revert (LodgeRepair *r, const char *const *paths, LodgeRepairOutput out,
                     gpointer user_data, GError **error)
{
  if (!check_writable (r, error))
    return FALSE;
  if (!r->has_template)
    return lodge_repair_refuse (error, "the VE's template version is not known: nothing to revert to");
  for (guint i = 0; paths[i] != NULL; i++)
    {
      /* The parent is followed in the VE; the file itself is not (a
       * symlink the customer put there is replaced, not its target). */
      g_autofree char *resolved = lodge_repair_resolve (r, paths[i], FALSE, error);
      if (resolved == NULL)
        return FALSE;
      g_autofree char *q = lodge_repair_quote (resolved);
      if (strcmp (resolved, "/") == 0)
        return lodge_repair_refuse (error, "reverting / would replace the whole tree: name files or directories");
      /* The same path in the template: its parents resolved there. */
      g_autofree char *tmpl = lodge_repair_resolve_in (r, TMPL_ROOT, resolved, FALSE, error);
      if (tmpl == NULL)
        {
          g_prefix_error (error, "in the template: ");
          return FALSE;
        }
      g_autofree char *ve_full = lodge_repair_in_ve (resolved);
      g_autofree char *tmpl_full = lodge_repair_in_tmpl (tmpl);
      struct guestfs_statns *tst = lodge_repair_lstat (r, tmpl_full, error);
      if (tst == NULL && error != NULL && *error != NULL)
        return FALSE;
      gboolean in_template = tst != NULL;
      guestfs_free_statns (tst);
      struct guestfs_statns *vst = lodge_repair_lstat (r, ve_full, error);
      if (vst == NULL && error != NULL && *error != NULL)
        return FALSE;
      gboolean in_ve_tree = vst != NULL;
      guestfs_free_statns (vst);

      if (in_ve_tree && guestfs_rm_rf (r->h, ve_full) < 0)
        return lodge_repair_failf (r, error, "cannot remove %s", resolved);
      const char *what = "removed (the template has no such file)";
      if (in_template)
        {
          if (guestfs_cp_a (r->h, tmpl_full, ve_full) < 0)
            return lodge_repair_failf (r, error, "cannot copy %s from the template", resolved);
          what = in_ve_tree ? "restored from the template" : "recreated from the template";
        }
      else if (!in_ve_tree)
        what = "absent in both: nothing to do";
      if (!lodge_repair_emitf (out, user_data, error, "%s: %s\n", q, what))
        return FALSE;
    }
  return TRUE;
}

gboolean
lodge_repair_rm (LodgeRepair *r, const char *path, gboolean recursive, GError **error)
{
  if (!check_writable (r, error))
    return FALSE;
  g_autofree char *resolved = lodge_repair_resolve (r, path, FALSE, error);
  if (resolved == NULL)
    return FALSE;
  if (strcmp (resolved, "/") == 0)
    return lodge_repair_refuse (error, "refusing to remove the VE's whole tree");
  g_autofree char *full = lodge_repair_in_ve (resolved);
  g_autofree char *q = lodge_repair_quote (path);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL)
    return (error != NULL && *error != NULL) ? FALSE
                                             : lodge_repair_missing (error, "%s: no such file in the VE", q);
  gboolean dir = S_ISDIR (st->st_mode);
  guestfs_free_statns (st);
  if (dir && !recursive)
    return lodge_repair_refuse (error, "%s: a directory; remove it with --recursive", q);
  if ((dir ? guestfs_rm_rf (r->h, full) : guestfs_rm (r->h, full)) < 0)
    return lodge_repair_failf (r, error, "cannot remove %s", resolved);
  return TRUE;
}

gboolean
lodge_repair_chmod (LodgeRepair *r, guint mode, const char *path, GError **error)
{
  if (!check_writable (r, error))
    return FALSE;
  if (mode > 07777)
    return lodge_repair_refuse (error, "mode %o is not a file mode (0 to 7777)", mode);
  g_autofree char *resolved = lodge_repair_resolve (r, path, TRUE, error);
  if (resolved == NULL)
    return FALSE;
  g_autofree char *full = lodge_repair_in_ve (resolved);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL)
    {
      g_autofree char *q = lodge_repair_quote (path);
      return (error != NULL && *error != NULL) ? FALSE
                                               : lodge_repair_missing (error, "%s: no such file in the VE", q);
    }
  guestfs_free_statns (st);
  if (guestfs_chmod (r->h, (int) mode, full) < 0)
    return lodge_repair_failf (r, error, "cannot change the mode of %s", resolved);
  return TRUE;
}

char *
lodge_repair_shadow_with_root_hash (const char *shadow, gsize len, const char *hash, glong today,
                                    GError **error)
{
  char *out = NULL;
  size_t out_len = 0;
  char err[256];
  if (lodge_shadow_set_hash (shadow, len, "root", hash, TRUE, today, &out, &out_len, err,
                             sizeof err)
      != LODGE_SHADOW_OK)
    return lodge_repair_refuse (error, "/etc/shadow: %s", err), NULL;
  return out;
}

static gboolean
write_owned (LodgeRepair *r, const char *full, const char *data, gsize len, int mode,
             GError **error)
{
  if (guestfs_write (r->h, full, data, len) < 0 || guestfs_chmod (r->h, mode, full) < 0
      || guestfs_lchown (r->h, 0, 0, full) < 0)
    return lodge_repair_failf (r, error, "cannot write %s", full + strlen (VE_ROOT));
  return TRUE;
}

gboolean
lodge_repair_reset_root (LodgeRepair *r, const char *password_hash, const char *const *keys,
                         GError **error)
{
  if (!check_writable (r, error))
    return FALSE;
  if (password_hash != NULL)
    {
      g_autofree char *resolved = lodge_repair_resolve (r, "/etc/shadow", TRUE, error);
      if (resolved == NULL)
        return FALSE;
      g_autofree char *full = lodge_repair_in_ve (resolved);
      struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
      if (st == NULL && error != NULL && *error != NULL)
        return FALSE;
      gboolean exists = st != NULL && S_ISREG (st->st_mode);
      gint64 size = st != NULL ? st->st_size : 0;
      guestfs_free_statns (st);
      if (size > LODGE_SHADOW_MAX_BYTES)
        return lodge_repair_refuse (error, "/etc/shadow is %" G_GINT64_FORMAT " bytes: not a shadow file", size);
      g_autofree char *old = NULL;
      size_t len = 0;
      if (exists && (old = guestfs_read_file (r->h, full, &len)) == NULL)
        return lodge_repair_failf (r, error, "cannot read /etc/shadow");
      g_autofree char *shadow = lodge_repair_shadow_with_root_hash (
        old != NULL ? old : "", len, password_hash, lodge_shadow_today (), error);
      if (shadow == NULL || !write_owned (r, full, shadow, strlen (shadow), 0600, error))
        return FALSE;
    }
  if (keys != NULL)
    {
      g_autofree char *dir = lodge_repair_resolve (r, "/root/.ssh", TRUE, error);
      if (dir == NULL)
        return FALSE;
      g_autofree char *dir_full = lodge_repair_in_ve (dir);
      if (guestfs_mkdir_p (r->h, dir_full) < 0 || guestfs_chmod (r->h, 0700, dir_full) < 0)
        return lodge_repair_failf (r, error, "cannot make /root/.ssh");
      g_autofree char *joined = g_strjoinv ("\n", (char **) keys);
      g_autofree char *content = keys[0] != NULL ? g_strconcat (joined, "\n", NULL) : g_strdup ("");
      g_autofree char *file = lodge_repair_resolve_in (r, VE_ROOT, "/root/.ssh/authorized_keys", TRUE, error);
      if (file == NULL)
        return FALSE;
      g_autofree char *file_full = lodge_repair_in_ve (file);
      if (!write_owned (r, file_full, content, strlen (content), 0600, error))
        return FALSE;
    }
  return TRUE;
}

char *
lodge_repair_fsck (LodgeRepair *r, GError **error)
{
  if (!check_writable (r, error))
    return NULL;
  if (guestfs_umount (r->h, VE_ROOT) < 0)
    return lodge_repair_failf (r, error, "cannot unmount the VE's filesystem for the check"), NULL;
  r->mounted = FALSE;
  int status = guestfs_fsck (r->h, "ext4", "/dev/sda");
  if (status < 0)
    return lodge_repair_failf (r, error, "the filesystem check did not run"), NULL;
  if (guestfs_mount (r->h, "/dev/sda", VE_ROOT) < 0)
    return lodge_repair_failf (r, error, "the check ran (status %d) but the filesystem no longer mounts", status),
           NULL;
  r->mounted = TRUE;
  if (status & 4)
    return g_strdup_printf ("errors left uncorrected (e2fsck status %d): restore with undo, or "
                            "repair by hand in a shell", status);
  if (status & 3)
    return g_strdup_printf ("errors found and corrected (e2fsck status %d)", status);
  return g_strdup ("clean: nothing to fix");
}

gboolean
lodge_repair_sh (LodgeRepair *r, const char *command, LodgeRepairOutput out, gpointer user_data,
                 GError **error)
{
  /* debug sh runs the appliance's own shell, outside the guest's root:
   * nothing of the guest is executed. */
  g_autofree char *wrapped = g_strdup_printf ("cd /sysroot%s && { %s\n} 2>&1; echo \"[exit $?]\"",
                                              VE_ROOT, command);
  char *args[] = { wrapped, NULL };
  g_autofree char *output = guestfs_debug (r->h, "sh", args);
  if (output == NULL)
    return lodge_repair_failf (r, error, "the appliance's shell did not run the command");
  return lodge_repair_emit (out, user_data, output, error);
}
