/* Applications laid into a VE's disk in the repair appliance: the
 * template tree is mounted read-only at /apps/N, every destination is
 * resolved inside the VE's root (lodge_repair_resolve), so neither the
 * manifest nor anything the guest holds can point a write outside it. */
#include "lodge-repair.h"

#include <string.h>
#include <sys/stat.h>

#include "lodge-repair-private.h"

#define APPS_RECORD_DIR "/etc/lodge/apps"

/* @dir (a guest path) as a directory of the VE, made where missing, one
 * component at a time; its resolved path. */
static char *
ensure_dir (LodgeRepair *r, const char *dir, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (dir, "/", -1);
  g_autofree char *cur = g_strdup ("/");
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0')
        continue;
      g_autofree char *next = g_build_filename (cur, parts[i], NULL);
      g_autofree char *resolved = lodge_repair_resolve (r, next, TRUE, error);
      if (resolved == NULL)
        return NULL;
      g_autofree char *full = lodge_repair_in_ve (resolved);
      struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
      if (st == NULL && error != NULL && *error != NULL)
        return NULL;
      gboolean is_dir = st != NULL && S_ISDIR (st->st_mode), exists = st != NULL;
      guestfs_free_statns (st);
      if (exists && !is_dir)
        {
          g_autofree char *q = lodge_repair_quote (resolved);
          return lodge_repair_refuse (error, "%s is in the way: not a directory", q), NULL;
        }
      if (!exists && guestfs_mkdir_mode (r->h, full, 0755) < 0)
        return lodge_repair_failf (r, error, "cannot make directory %s", resolved), NULL;
      g_free (cur);
      cur = g_steal_pointer (&resolved);
    }
  return g_steal_pointer (&cur);
}

/* Where @path (a guest path) goes: its directory made and resolved, its
 * last component not followed; what was there (a file, a symlink, a
 * tree) removed. The appliance's path. */
static char *
clear_destination (LodgeRepair *r, const char *path, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir = ensure_dir (r, parent, error);
  if (dir == NULL)
    return NULL;
  g_autofree char *dest = g_build_filename (dir, base, NULL);
  g_autofree char *full = lodge_repair_in_ve (dest);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL && error != NULL && *error != NULL)
    return NULL;
  gboolean exists = st != NULL;
  guestfs_free_statns (st);
  if (exists && guestfs_rm_rf (r->h, full) < 0)
    return lodge_repair_failf (r, error, "cannot remove %s", dest), NULL;
  return g_steal_pointer (&full);
}

static gboolean
write_file (LodgeRepair *r, const char *path, GBytes *data, guint mode, guint uid, guint gid,
            GError **error)
{
  g_autofree char *full = clear_destination (r, path, error);
  if (full == NULL)
    return FALSE;
  gsize len = 0;
  const char *bytes = g_bytes_get_data (data, &len);
  if (guestfs_write (r->h, full, bytes != NULL ? bytes : "", len) < 0
      || guestfs_chmod (r->h, (int) mode, full) < 0
      || guestfs_lchown (r->h, (int) uid, (int) gid, full) < 0)
    return lodge_repair_failf (r, error, "cannot write %s", path);
  return TRUE;
}

gboolean
lodge_app_render_files (const LodgeRepairApp *app, GHashTable **ret_contents, GError **error)
{
  g_autoptr (GHashTable) contents =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < app->manifest->files->len; i++)
    {
      const LodgeAppFile *f = app->manifest->files->pdata[i];
      GBytes *tmpl = app->config_templates != NULL
                       ? g_hash_table_lookup (app->config_templates, f->template_path) : NULL;
      if (tmpl == NULL)
        {
          g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID,
                       "application %s: config file template %s is not in its template version",
                       app->name, f->template_path);
          return FALSE;
        }
      gsize len = 0;
      const char *data = g_bytes_get_data (tmpl, &len);
      g_autofree char *text = g_strndup (data != NULL ? data : "", len);
      char *out = lodge_app_render (text, app->values, FALSE, f->template_path, error);
      if (out == NULL)
        {
          g_prefix_error (error, "application %s: ", app->name);
          return FALSE;
        }
      g_hash_table_insert (contents, g_strdup (f->path), g_bytes_new_take (out, strlen (out)));
    }
  *ret_contents = g_steal_pointer (&contents);
  return TRUE;
}

gboolean
lodge_repair_app_configure (LodgeRepair *r, const LodgeRepairApp *app, GError **error)
{
  if (!lodge_repair_is_writable (r))
    return lodge_repair_refuse (error, "the VE's disk is not open for writing");
  g_autoptr (GHashTable) contents = NULL;
  if (!lodge_app_render_files (app, &contents, error))
    return FALSE;
  for (guint i = 0; i < app->manifest->files->len; i++)
    {
      const LodgeAppFile *f = app->manifest->files->pdata[i];
      if (!write_file (r, f->path, g_hash_table_lookup (contents, f->path), f->mode, f->uid,
                       f->gid, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
lodge_repair_app_install (LodgeRepair *r, const LodgeRepairApp *app, LodgeRepairOutput out,
                          gpointer user_data, GError **error)
{
  if (!lodge_repair_is_writable (r))
    return lodge_repair_refuse (error, "the VE's disk is not open for writing");
  if (app->app_index >= r->n_apps)
    return lodge_repair_refuse (error, "application %s: its template is not in the appliance",
                                app->name);
  g_autofree char *root = lodge_repair_app_root (app->app_index);
  for (guint i = 0; i < app->manifest->copies->len; i++)
    {
      const LodgeAppCopy *c = app->manifest->copies->pdata[i];
      g_autofree char *src = g_build_filename (root, c->from, NULL);
      struct guestfs_statns *st = lodge_repair_lstat (r, src, error);
      if (st == NULL)
        {
          if (error != NULL && *error == NULL)
            lodge_repair_missing (error, "application %s: %s is not in template %s", app->name,
                                  c->from, app->source);
          return FALSE;
        }
      guestfs_free_statns (st);
      g_autofree char *dest = clear_destination (r, c->to, error);
      if (dest == NULL)
        return FALSE;
      if (guestfs_cp_a (r->h, src, dest) < 0)
        return lodge_repair_failf (r, error, "cannot copy %s to %s", c->from, c->to);
      if (!lodge_repair_emitf (out, user_data, error, "  %s -> %s\n", c->from, c->to))
        return FALSE;
    }
  if (!lodge_repair_app_configure (r, app, error))
    return FALSE;
  for (guint i = 0; i < app->manifest->files->len; i++)
    {
      const LodgeAppFile *f = app->manifest->files->pdata[i];
      if (!lodge_repair_emitf (out, user_data, error, "  %s rendered to %s\n", f->template_path,
                               f->path))
        return FALSE;
    }
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *record = g_strdup_printf (
    "{\"name\":\"%s\",\"source\":\"%s\",\"installed\":\"%s\"}\n", app->name, app->source, when);
  g_autofree char *record_path = g_strdup_printf (APPS_RECORD_DIR "/%s.json", app->name);
  g_autoptr (GBytes) data = g_bytes_new_static (record, strlen (record));
  return write_file (r, record_path, data, 0644, 0, 0, error);
}

/* Removes guest path @path (not following its last component) if it is
 * there; whether it was. */
static gboolean
remove_path (LodgeRepair *r, const char *path, gboolean *ret_removed, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *resolved = lodge_repair_resolve (r, path, FALSE, &local);
  *ret_removed = FALSE;
  if (resolved == NULL)
    {
      /* A directory on the way is gone already: so is the path. */
      if (g_error_matches (local, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (strcmp (resolved, "/") == 0)
    return lodge_repair_refuse (error, "%s resolves to the VE's root; not removed", path);
  g_autofree char *full = lodge_repair_in_ve (resolved);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL)
    return error == NULL || *error == NULL;
  guestfs_free_statns (st);
  if (guestfs_rm_rf (r->h, full) < 0)
    return lodge_repair_failf (r, error, "cannot remove %s", resolved);
  *ret_removed = TRUE;
  return TRUE;
}

gboolean
lodge_repair_app_remove (LodgeRepair *r, const LodgeRepairApp *app, LodgeRepairOutput out,
                         gpointer user_data, GError **error)
{
  if (!lodge_repair_is_writable (r))
    return lodge_repair_refuse (error, "the VE's disk is not open for writing");
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < app->manifest->files->len; i++)
    g_ptr_array_add (paths, g_strdup (((LodgeAppFile *) app->manifest->files->pdata[i])->path));
  for (guint i = 0; i < app->manifest->copies->len; i++)
    g_ptr_array_add (paths, g_strdup (((LodgeAppCopy *) app->manifest->copies->pdata[i])->to));
  g_ptr_array_add (paths, g_strdup_printf (APPS_RECORD_DIR "/%s.json", app->name));
  for (guint i = 0; i < paths->len; i++)
    {
      gboolean removed;
      if (!remove_path (r, paths->pdata[i], &removed, error))
        return FALSE;
      if (removed && !lodge_repair_emitf (out, user_data, error, "  removed %s\n",
                                          (const char *) paths->pdata[i]))
        return FALSE;
    }
  return TRUE;
}
