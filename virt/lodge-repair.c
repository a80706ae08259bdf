#include "lodge-repair.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-repair-private.h"
#include "lodge-strings.h"

#define MAX_LINKS 40
#define CHUNK (1 << 20)              /* bytes per read from the appliance */
#define LOG_TAIL_MAX (4 << 20)       /* what `log` reads back from a file's end at most */

gboolean
lodge_repair_failf (LodgeRepair *r, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return lodge_guestfs_fail (r->g, error, "%s", msg);
}

gboolean
lodge_repair_refuse (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID, fmt, ap));
  va_end (ap);
  return FALSE;
}

gboolean
lodge_repair_missing (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_NOT_FOUND, fmt, ap));
  va_end (ap);
  return FALSE;
}

/* ---- opening ---- */

char *
lodge_repair_app_root (guint index)
{
  return g_strdup_printf (APPS_ROOT "/%u", index);
}

static gboolean
mount_all (LodgeRepair *r, GError **error)
{
  if (r->writable ? guestfs_mount (r->h, "/dev/sda", VE_ROOT) < 0
                  : guestfs_mount_ro (r->h, "/dev/sda", VE_ROOT) < 0)
    return lodge_repair_failf (r, error, "cannot mount the VE's filesystem");
  if (r->has_template && guestfs_mount_ro (r->h, "/dev/sdb", TMPL_ROOT) < 0)
    return lodge_repair_failf (r, error, "cannot mount the template's filesystem");
  for (guint i = 0; i < r->n_apps; i++)
    {
      g_autofree char *dev = g_strdup_printf ("/dev/sd%c", 'a' + 1 + r->has_template + i);
      g_autofree char *dir = lodge_repair_app_root (i);
      if (guestfs_mount_ro (r->h, dev, dir) < 0)
        return lodge_repair_failf (r, error, "cannot mount the application template's filesystem");
    }
  r->mounted = TRUE;
  return TRUE;
}

LodgeRepair *
lodge_repair_open (const LodgeRepairDisks *d, GError **error)
{
  g_return_val_if_fail (d->writable == (d->snap == NULL), NULL);
  g_autoptr (LodgeRepair) r = g_new0 (LodgeRepair, 1);
  r->g = lodge_guestfs_new (error);
  if (r->g == NULL)
    return NULL;
  r->writable = d->writable;
  r->has_template = d->tmpl_image != NULL;
  lodge_guestfs_set_durable (r->g, d->writable);
  if (!lodge_guestfs_add_rbd (r->g, d->pool, d->image, d->snap, d->client_id, !d->writable, error))
    return NULL;
  if (r->has_template
      && !lodge_guestfs_add_rbd (r->g, d->tmpl_pool, d->tmpl_image, d->tmpl_snap, d->client_id,
                                 TRUE, error))
    return NULL;
  for (guint i = 0; d->apps != NULL && d->apps[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit_set (d->apps[i], "/@", 3);
      if (g_strv_length (parts) != 3)
        return lodge_repair_refuse (error, "not pool/image@snap: %s", d->apps[i]), NULL;
      if (!lodge_guestfs_add_rbd (r->g, parts[0], parts[1], parts[2], d->client_id, TRUE, error))
        return NULL;
      r->n_apps++;
    }
  if (!lodge_guestfs_launch (r->g, error))
    return NULL;
  r->h = lodge_guestfs_handle (r->g); /* a TCG retry of the launch makes a new one */
  if (guestfs_mkmountpoint (r->h, VE_ROOT) < 0
      || (r->has_template && guestfs_mkmountpoint (r->h, TMPL_ROOT) < 0)
      || (r->n_apps > 0 && guestfs_mkmountpoint (r->h, APPS_ROOT) < 0))
    return lodge_repair_failf (r, error, "cannot make the mount points in the appliance"), NULL;
  for (guint i = 0; i < r->n_apps; i++)
    {
      g_autofree char *dir = lodge_repair_app_root (i);
      if (guestfs_mkmountpoint (r->h, dir) < 0)
        return lodge_repair_failf (r, error, "cannot make the mount points in the appliance"), NULL;
    }
  if (!mount_all (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

gboolean
lodge_repair_close (LodgeRepair *r, GError **error)
{
  return lodge_guestfs_shutdown (r->g, error);
}

gboolean
lodge_repair_sync (LodgeRepair *r, GError **error)
{
  if (guestfs_sync (r->h) < 0)
    return lodge_repair_failf (r, error, "cannot flush the VE's filesystem to its disk");
  return TRUE;
}

gboolean
lodge_repair_quiesce (LodgeRepair *r, GError **error)
{
  if (r->mounted && guestfs_umount (r->h, VE_ROOT) < 0)
    return lodge_repair_failf (r, error, "cannot unmount the VE's filesystem");
  r->mounted = FALSE;
  return lodge_repair_sync (r, error);
}

gboolean
lodge_repair_resume (LodgeRepair *r, GError **error)
{
  if (r->mounted)
    return TRUE;
  if (guestfs_mount (r->h, "/dev/sda", VE_ROOT) < 0)
    return lodge_repair_failf (r, error, "cannot mount the VE's filesystem again");
  r->mounted = TRUE;
  return TRUE;
}

void
lodge_repair_free (LodgeRepair *r)
{
  if (r == NULL)
    return;
  lodge_guestfs_free (r->g);
  g_free (r);
}

gboolean
lodge_repair_is_writable (LodgeRepair *r)
{
  return r->writable;
}

/* ---- names ---- */

char *
lodge_repair_quote (const char *s)
{
  GString *out = g_string_new (NULL);
  const char *end = s + strlen (s);
  for (const char *p = s; *p != '\0';)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      const char *next = g_utf8_next_char (p);
      if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029)
        for (const char *q = p; q < next; q++)
          g_string_append_printf (out, "\\x%02x", (guchar) *q);
      else
        g_string_append_len (out, p, next - p);
      p = next;
    }
  return g_string_free (out, FALSE);
}

/* lstat of @path in the appliance; NULL (and no error) when it does not
 * exist. */
struct guestfs_statns *
lodge_repair_lstat (LodgeRepair *r, const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  char *names[] = { base, NULL };
  struct guestfs_statns_list *l = guestfs_lstatnslist (r->h, dir, names);
  if (l == NULL)
    return lodge_repair_failf (r, error, "cannot look at %s", path), NULL;
  struct guestfs_statns *st = NULL;
  if (l->len == 1 && l->val[0].st_ino != -1)
    st = guestfs_copy_statns (&l->val[0]);
  guestfs_free_statns_list (l);
  return st;
}

static void
push_components (GQueue *todo, const char *path, gboolean front)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  guint n = g_strv_length (parts);
  for (guint i = 0; i < n; i++)
    {
      const char *c = front ? parts[n - 1 - i] : parts[i];
      if (c[0] == '\0' || strcmp (c, ".") == 0)
        continue;
      if (front)
        g_queue_push_head (todo, g_strdup (c));
      else
        g_queue_push_tail (todo, g_strdup (c));
    }
}

static char *
join_components (GPtrArray *done)
{
  if (done->len == 0)
    return g_strdup ("/");
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < done->len; i++)
    g_string_append_printf (s, "/%s", (const char *) done->pdata[i]);
  return g_string_free (s, FALSE);
}

/* The resolution behind lodge_repair_resolve, in the tree mounted at
 * @root (VE_ROOT or TMPL_ROOT). */
char *
lodge_repair_resolve_in (LodgeRepair *r, const char *root, const char *path, gboolean follow_last,
            GError **error)
{
  if (path == NULL || path[0] != '/')
    return lodge_repair_refuse (error, "%s: not an absolute path", path != NULL ? path : "(none)"), NULL;
  if (strlen (path) > 4096)
    return lodge_repair_refuse (error, "a path of %zu bytes is over the 4096 limit", strlen (path)), NULL;
  g_autoptr (GQueue) todo = g_queue_new ();
  g_autoptr (GPtrArray) done = g_ptr_array_new_with_free_func (g_free);
  push_components (todo, path, FALSE);
  guint links = 0;
  char *c;
  while ((c = g_queue_pop_head (todo)) != NULL)
    {
      g_autofree char *name = c;
      if (strcmp (name, "..") == 0)
        {
          if (done->len > 0)
            g_ptr_array_remove_index (done, done->len - 1);
          continue;
        }
      gboolean last = g_queue_is_empty (todo);
      g_ptr_array_add (done, g_strdup (name));
      if (last && !follow_last)
        break;
      g_autofree char *here = join_components (done);
      g_autofree char *full = g_strconcat (root, here, NULL);
      struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
      if (st == NULL)
        {
          if (error != NULL && *error != NULL)
            return NULL;
          if (last)
            break;
          g_autofree char *q = lodge_repair_quote (here);
          return lodge_repair_missing (error, "%s: no such directory in the VE", q), NULL;
        }
      gint64 mode = st->st_mode;
      guestfs_free_statns (st);
      if (S_ISLNK (mode))
        {
          if (++links > MAX_LINKS)
            {
              g_autofree char *q = lodge_repair_quote (path);
              return lodge_repair_refuse (error, "%s: more than %d symbolic links (a loop?)", q, MAX_LINKS),
                     NULL;
            }
          g_autofree char *target = guestfs_readlink (r->h, full);
          if (target == NULL)
            return lodge_repair_failf (r, error, "cannot read the link %s", here), NULL;
          g_ptr_array_remove_index (done, done->len - 1);
          if (target[0] == '/')
            g_ptr_array_set_size (done, 0);
          push_components (todo, target, TRUE);
          continue;
        }
      if (!last && !S_ISDIR (mode))
        {
          g_autofree char *q = lodge_repair_quote (here);
          return lodge_repair_refuse (error, "%s: not a directory", q), NULL;
        }
    }
  return join_components (done);
}

char *
lodge_repair_resolve (LodgeRepair *r, const char *path, gboolean follow_last, GError **error)
{
  return lodge_repair_resolve_in (r, VE_ROOT, path, follow_last, error);
}

char *
lodge_repair_in_ve (const char *guest_path)
{
  return strcmp (guest_path, "/") == 0 ? g_strdup (VE_ROOT) : g_strconcat (VE_ROOT, guest_path, NULL);
}

char *
lodge_repair_in_tmpl (const char *guest_path)
{
  return strcmp (guest_path, "/") == 0 ? g_strdup (TMPL_ROOT)
                                       : g_strconcat (TMPL_ROOT, guest_path, NULL);
}

gboolean
lodge_repair_emit (LodgeRepairOutput out, gpointer user_data, const char *s, GError **error)
{
  if (!out (s, strlen (s), user_data))
    return lodge_repair_refuse (error, "the reader went away");
  return TRUE;
}

gboolean
lodge_repair_emitf (LodgeRepairOutput out, gpointer user_data, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *s = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return lodge_repair_emit (out, user_data, s, error);
}

/* ---- ls ---- */

static char
type_char (gint64 mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFIFO: return 'p';
    case S_IFSOCK: return 's';
    case S_IFCHR: return 'c';
    case S_IFBLK: return 'b';
    default: return '-';
    }
}

char *
lodge_repair_mode_string (gint64 mode)
{
  char s[11];
  s[0] = type_char (mode);
  const char *rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; i++)
    s[1 + i] = (mode & (0400 >> i)) ? rwx[i] : '-';
  if (mode & S_ISUID)
    s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & S_ISGID)
    s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & S_ISVTX)
    s[9] = (mode & 0001) ? 't' : 'T';
  s[10] = '\0';
  return g_strdup (s);
}

static gboolean
ls_line (LodgeRepair *r, const char *full, const char *shown, const struct guestfs_statns *st,
         LodgeRepairOutput out, gpointer user_data, GError **error)
{
  g_autofree char *mode = lodge_repair_mode_string (st->st_mode);
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (st->st_mtime_sec);
  g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%d %H:%M") : g_strdup ("?");
  g_autofree char *name = lodge_repair_quote (shown);
  g_autofree char *link = NULL;
  if (S_ISLNK (st->st_mode))
    {
      g_autofree char *target = guestfs_readlink (r->h, full);
      if (target == NULL)
        return lodge_repair_failf (r, error, "cannot read the link %s", shown);
      g_autofree char *q = lodge_repair_quote (target);
      link = g_strconcat (" -> ", q, NULL);
    }
  return lodge_repair_emitf (out, user_data, error, "%s %5" G_GINT64_FORMAT " %5" G_GINT64_FORMAT
                " %12" G_GINT64_FORMAT " %s %s%s\n", mode, st->st_uid, st->st_gid,
                st->st_size, when, name, link != NULL ? link : "");
}

gboolean
lodge_repair_ls (LodgeRepair *r, const char *path, LodgeRepairOutput out, gpointer user_data,
                 GError **error)
{
  g_autofree char *resolved = lodge_repair_resolve (r, path, TRUE, error);
  if (resolved == NULL)
    return FALSE;
  g_autofree char *full = lodge_repair_in_ve (resolved);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  if (st == NULL)
    {
      if (error != NULL && *error != NULL)
        return FALSE;
      g_autofree char *q = lodge_repair_quote (path);
      return lodge_repair_missing (error, "%s: no such file or directory in the VE", q);
    }
  gboolean is_dir = S_ISDIR (st->st_mode);
  if (!is_dir)
    {
      gboolean ok = ls_line (r, full, resolved, st, out, user_data, error);
      guestfs_free_statns (st);
      return ok;
    }
  guestfs_free_statns (st);
  g_auto (GStrv) names = guestfs_ls (r->h, full);
  if (names == NULL)
    return lodge_repair_failf (r, error, "cannot list %s", resolved);
  guint n = g_strv_length (names);
  if (n == 0)
    return TRUE;
  struct guestfs_statns_list *l = guestfs_lstatnslist (r->h, full, names);
  if (l == NULL)
    return lodge_repair_failf (r, error, "cannot look at the files of %s", resolved);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < l->len && i < n; i++)
    {
      if (l->val[i].st_ino == -1)
        continue;
      g_autofree char *child = g_build_filename (full, names[i], NULL);
      ok = ls_line (r, child, names[i], &l->val[i], out, user_data, error);
    }
  guestfs_free_statns_list (l);
  return ok;
}

/* ---- cat ---- */

/* Streams @full (a symlink-free appliance path of a regular file). */
static gboolean
stream_file (LodgeRepair *r, const char *full, gint64 size, gint64 offset, LodgeRepairOutput out,
             gpointer user_data, GError **error)
{
  while (offset < size)
    {
      size_t got = 0;
      int want = (int) MIN ((gint64) CHUNK, size - offset);
      g_autofree char *buf = guestfs_pread (r->h, full, want, offset, &got);
      if (buf == NULL)
        return lodge_repair_failf (r, error, "cannot read %s at %" G_GINT64_FORMAT, full + strlen (VE_ROOT),
                      offset);
      if (got == 0)
        break; /* shorter than its size said */
      if (!out (buf, got, user_data))
        return lodge_repair_refuse (error, "the reader went away");
      offset += got;
    }
  return TRUE;
}

static struct guestfs_statns *
regular_file (LodgeRepair *r, const char *path, char **ret_full, GError **error)
{
  g_autofree char *resolved = lodge_repair_resolve (r, path, TRUE, error);
  if (resolved == NULL)
    return NULL;
  g_autofree char *full = lodge_repair_in_ve (resolved);
  struct guestfs_statns *st = lodge_repair_lstat (r, full, error);
  g_autofree char *q = lodge_repair_quote (path);
  if (st == NULL && (error == NULL || *error == NULL))
    return lodge_repair_missing (error, "%s: no such file in the VE", q), NULL;
  if (st != NULL && !S_ISREG (st->st_mode))
    {
      char t = type_char (st->st_mode);
      guestfs_free_statns (st);
      return lodge_repair_refuse (error, "%s: not a regular file (%s)", q,
                     t == 'd' ? "a directory" : "a device, FIFO or socket"), NULL;
    }
  if (st != NULL)
    *ret_full = g_steal_pointer (&full);
  return st;
}

gboolean
lodge_repair_cat (LodgeRepair *r, const char *path, LodgeRepairOutput out, gpointer user_data,
                  GError **error)
{
  g_autofree char *full = NULL;
  struct guestfs_statns *st = regular_file (r, path, &full, error);
  if (st == NULL)
    return FALSE;
  gint64 size = st->st_size;
  guestfs_free_statns (st);
  return stream_file (r, full, size, 0, out, user_data, error);
}

/* ---- find ---- */

/* Every path under appliance directory @top, relative to it ("etc/passwd"),
 * sorted; lost+found left out. */
GPtrArray *
lodge_repair_list_tree (LodgeRepair *r, const char *top, GError **error)
{
  gboolean at_root = strcmp (top, VE_ROOT) == 0 || strcmp (top, TMPL_ROOT) == 0;
  /* A filesystem of millions of files is not listed at all (the list is
   * held whole, and libguestfs writes it to a file here first). */
  struct guestfs_statvfs *vfs = guestfs_statvfs (r->h, top);
  gint64 used = vfs != NULL ? vfs->files - vfs->ffree : 0;
  if (vfs != NULL)
    guestfs_free_statvfs (vfs);
  if (used > LODGE_REPAIR_MAX_FILES)
    {
      lodge_repair_refuse (error, "the filesystem holds %" G_GINT64_FORMAT " files, over the %d "
                                  "that find, diff and log list (repair shell can)",
                           used, LODGE_REPAIR_MAX_FILES);
      return NULL;
    }
  return lodge_guestfs_find (r->g, top, at_root, error);
}

gboolean
lodge_repair_find (LodgeRepair *r, const char *pattern, const char *dir, LodgeRepairOutput out,
                   gpointer user_data, guint *ret_count, GError **error)
{
  g_autofree char *resolved = lodge_repair_resolve (r, dir != NULL ? dir : "/", TRUE, error);
  if (resolved == NULL)
    return FALSE;
  g_autofree char *full = lodge_repair_in_ve (resolved);
  g_autoptr (GPtrArray) paths = lodge_repair_list_tree (r, full, error);
  if (paths == NULL)
    return FALSE;
  g_autoptr (GPatternSpec) spec = g_pattern_spec_new (pattern);
  gboolean whole = strchr (pattern, '/') != NULL;
  guint count = 0;
  for (guint i = 0; i < paths->len; i++)
    {
      const char *rel = paths->pdata[i];
      g_autofree char *guest = strcmp (resolved, "/") == 0 ? g_strconcat ("/", rel, NULL)
                                                           : g_strconcat (resolved, "/", rel, NULL);
      const char *slash = strrchr (guest, '/');
      const char *subject = whole ? guest : slash + 1;
      if (!g_pattern_spec_match_string (spec, subject))
        continue;
      count++;
      g_autofree char *q = lodge_repair_quote (guest);
      if (!lodge_repair_emitf (out, user_data, error, "%s\n", q))
        return FALSE;
    }
  *ret_count = count;
  return TRUE;
}

/* ---- log ---- */

gboolean
lodge_repair_log (LodgeRepair *r, const char *file, guint lines, LodgeRepairOutput out,
                  gpointer user_data, GError **error)
{
  if (file == NULL)
    {
      g_autofree char *resolved = lodge_repair_resolve (r, "/var/log", TRUE, error);
      if (resolved == NULL)
        return FALSE;
      g_autofree char *full = lodge_repair_in_ve (resolved);
      g_autoptr (GPtrArray) paths = lodge_repair_list_tree (r, full, error);
      if (paths == NULL)
        return FALSE;
      for (guint i = 0; i < paths->len; i++)
        {
          g_autofree char *child = g_build_filename (full, paths->pdata[i], NULL);
          struct guestfs_statns *st = lodge_repair_lstat (r, child, error);
          if (st == NULL)
            {
              if (error != NULL && *error != NULL)
                return FALSE;
              continue;
            }
          gboolean reg = S_ISREG (st->st_mode);
          gint64 size = st->st_size;
          guestfs_free_statns (st);
          g_autofree char *q = lodge_repair_quote (paths->pdata[i]);
          if (reg && !lodge_repair_emitf (out, user_data, error, "%12" G_GINT64_FORMAT "  %s\n", size, q))
            return FALSE;
        }
      return TRUE;
    }
  g_autofree char *path = file[0] == '/' ? g_strdup (file) : g_strconcat ("/var/log/", file, NULL);
  g_autofree char *full = NULL;
  struct guestfs_statns *st = regular_file (r, path, &full, error);
  if (st == NULL)
    return FALSE;
  gint64 size = st->st_size;
  guestfs_free_statns (st);
  /* Back from the end, a chunk at a time, until @lines line breaks (one
   * more when the file ends with one) or LOG_TAIL_MAX bytes. */
  gint64 start = size;
  guint seen = 0;
  g_autoptr (GByteArray) tail = g_byte_array_new ();
  while (start > 0 && size - start < LOG_TAIL_MAX)
    {
      gint64 from = MAX (0, start - (64 << 10));
      size_t got = 0;
      g_autofree char *buf = guestfs_pread (r->h, full, (int) (start - from), from, &got);
      if (buf == NULL)
        return lodge_repair_failf (r, error, "cannot read %s", path);
      g_byte_array_prepend (tail, (const guint8 *) buf, got);
      start = from;
      seen = 0;
      for (guint i = 0; i < tail->len; i++)
        seen += tail->data[i] == '\n';
      if (tail->len > 0 && tail->data[tail->len - 1] == '\n')
        seen--;
      if (seen >= lines)
        break;
    }
  /* Keep the last @lines lines. */
  guint skip = 0, breaks = seen > lines ? seen - lines : 0;
  if (start > 0 || seen >= lines)
    {
      guint found = 0;
      if (seen < lines)
        breaks = 1; /* cut to a line start: the first line read is partial */
      for (; skip < tail->len && found < breaks; skip++)
        found += tail->data[skip] == '\n';
    }
  if (tail->len > skip && !out ((const char *) tail->data + skip, tail->len - skip, user_data))
    return lodge_repair_refuse (error, "the reader went away");
  return TRUE;
}

/* ---- df ---- */

gboolean
lodge_repair_df (LodgeRepair *r, LodgeRepairOutput out, gpointer user_data, GError **error)
{
  struct guestfs_statvfs *v = guestfs_statvfs (r->h, VE_ROOT);
  if (v == NULL)
    return lodge_repair_failf (r, error, "cannot read the filesystem's usage");
  guint64 bs = v->frsize > 0 ? v->frsize : v->bsize;
  guint64 size = v->blocks * bs, avail = v->bavail * bs, used = (v->blocks - v->bfree) * bs;
  guint64 files = v->files, ifree = v->ffree;
  guestfs_free_statvfs (v);
  g_autofree char *s = g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *u = g_format_size_full (used, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *a = g_format_size_full (avail, G_FORMAT_SIZE_IEC_UNITS);
  return lodge_repair_emitf (out, user_data, error,
                "Size       Used       Avail      Use%%  Inodes    IUsed     IFree     IUse%%\n"
                "%-10s %-10s %-10s %3u%%  %-9" G_GUINT64_FORMAT " %-9" G_GUINT64_FORMAT
                " %-9" G_GUINT64_FORMAT " %3u%%\n",
                s, u, a, size ? (guint) ((used * 100 + size - 1) / size) : 0, files,
                files - ifree, ifree, files ? (guint) (((files - ifree) * 100 + files - 1) / files) : 0);
}
