/* lodge_tar_write_tree(): a pax archive of a host directory tree. */
#include "lodge-tar-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-error.h"

#define BUFFER_SIZE (1024 * 1024)
#define PROGRESS_INTERVAL_US (250 * 1000)

typedef struct {
  dev_t dev;
  ino_t ino;
} DevIno;

static guint
dev_ino_hash (gconstpointer p)
{
  const DevIno *k = p;
  return (guint) (k->ino ^ (k->ino >> 32) ^ k->dev);
}

static gboolean
dev_ino_equal (gconstpointer a, gconstpointer b)
{
  const DevIno *x = a, *y = b;
  return x->dev == y->dev && x->ino == y->ino;
}

typedef struct {
  const char *root;      /* as given, for messages */
  const char *out_name;  /* out_path, for messages */
  int out_fd;
  DevIno out_id;         /* the archive being written is not archived */
  gboolean counting;     /* first pass: stats and total only */
  GString *rel;          /* name of the current entry relative to root */
  GHashTable *links;     /* DevIno -> first name, for inodes with several names */
  guint8 *buf;           /* output buffer */
  gsize buf_len;
  gboolean have_proc;    /* /proc/self/fd for xattrs of symlinks and FIFOs */
  LodgeTarStats stats;
  guint64 total;
  LodgeTarProgress progress;
  gpointer user_data;
  guint64 reported_bytes;
  gint64 reported_time;
} Writer;

static char *
host_path (Writer *w)
{
  return w->rel->len == 0 ? g_strdup (w->root) : g_build_filename (w->root, w->rel->str, NULL);
}

G_GNUC_PRINTF (3, 4) static gboolean
fail_errno (Writer *w, GError **error, const char *fmt, ...)
{
  int saved = errno;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *path = host_path (w);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: %s: %s", path, what, g_strerror (saved));
  return FALSE;
}

static gboolean
flush (Writer *w, GError **error)
{
  gsize done = 0;
  while (done < w->buf_len)
    {
      ssize_t n = write (w->out_fd, w->buf + done, w->buf_len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot write: %s", w->out_name,
                       g_strerror (saved));
          return FALSE;
        }
      done += n;
    }
  w->buf_len = 0;
  return TRUE;
}

static gboolean
emit (Writer *w, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;
  while (len > 0)
    {
      if (w->buf_len == BUFFER_SIZE && !flush (w, error))
        return FALSE;
      gsize n = MIN (len, BUFFER_SIZE - w->buf_len);
      memcpy (w->buf + w->buf_len, p, n);
      w->buf_len += n;
      p += n;
      len -= n;
    }
  return TRUE;
}

/* Zeros up to the next block boundary after @len bytes of data. */
static gboolean
emit_padding (Writer *w, guint64 len, GError **error)
{
  static const guint8 zeros[LODGE_TAR_BLOCK];
  gsize rest = len % LODGE_TAR_BLOCK;
  return rest == 0 || emit (w, zeros, LODGE_TAR_BLOCK - rest, error);
}

static void
report (Writer *w, gboolean last)
{
  if (w->progress == NULL)
    return;
  guint64 done = w->stats.bytes;
  if (!last)
    {
      if (done - w->reported_bytes < 1024 * 1024)
        return;
      gint64 now = g_get_monotonic_time ();
      if (now - w->reported_time < PROGRESS_INTERVAL_US)
        return;
      w->reported_time = now;
    }
  w->reported_bytes = done;
  w->progress (done, MAX (done, w->total), w->user_data);
}

/* Extended attributes as SCHILY.xattr records, sorted by name. @fd is an
 * open file or directory, or -1: then @path names the entry (not followed). */
/* g_ptr_array_sort() passes pointers to the elements. */
static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
collect_xattrs (Writer *w, int fd, const char *path, GString *pax, GError **error)
{
  g_autofree char *names = NULL;
  ssize_t len = 0;
  for (;;)
    {
      len = fd >= 0 ? flistxattr (fd, NULL, 0) : llistxattr (path, NULL, 0);
      if (len <= 0)
        break;
      g_free (names);
      names = g_malloc (len);
      len = fd >= 0 ? flistxattr (fd, names, len) : llistxattr (path, names, len);
      if (len >= 0 || errno != ERANGE)
        break;
    }
  if (len < 0 && (errno == ENOTSUP || errno == ENOSYS))
    return TRUE;
  if (len < 0)
    return fail_errno (w, error, "cannot list extended attributes");

  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  for (ssize_t i = 0; i < len; i += strlen (names + i) + 1)
    g_ptr_array_add (sorted, names + i);
  g_ptr_array_sort (sorted, compare_names);

  for (guint i = 0; i < sorted->len; i++)
    {
      const char *name = sorted->pdata[i];
      g_autofree char *value = NULL;
      ssize_t vlen = 0;
      for (;;)
        {
          vlen = fd >= 0 ? fgetxattr (fd, name, NULL, 0) : lgetxattr (path, name, NULL, 0);
          if (vlen < 0)
            break;
          g_free (value);
          value = g_malloc (vlen + 1);
          vlen = fd >= 0 ? fgetxattr (fd, name, value, vlen + 1)
                         : lgetxattr (path, name, value, vlen + 1);
          if (vlen >= 0 || errno != ERANGE)
            break;
        }
      if (vlen < 0 && errno == ENODATA) /* removed since listed */
        continue;
      if (vlen < 0)
        return fail_errno (w, error, "cannot read extended attribute %s", name);
      g_autofree char *encoded = lodge_tar_xattr_encode (name);
      g_autofree char *key = g_strconcat ("SCHILY.xattr.", encoded, NULL);
      lodge_tar_pax_append (pax, key, value, vlen);
    }
  return TRUE;
}

static gboolean
emit_header (Writer *w, char typeflag, const char *link, const struct stat *st, guint64 size,
             GString *pax, GError **error)
{
  g_autofree char *name = NULL;
  if (w->rel->len == 0)
    name = g_strdup ("./");
  else if (typeflag == '5')
    name = g_strconcat (w->rel->str, "/", NULL);
  else
    name = g_strdup (w->rel->str);

  LodgeTarHeader h;
  lodge_tar_header_format (&h, typeflag, name, link, st->st_mode, st->st_uid, st->st_gid, size,
                           st->st_mtim.tv_sec, st->st_mtim.tv_nsec, pax);
  if (pax->len > LODGE_TAR_MAX_META)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: %" G_GSIZE_FORMAT " bytes of names and extended attributes; the limit "
                   "is %d", path, pax->len, LODGE_TAR_MAX_META);
      return FALSE;
    }
  if (pax->len > 0)
    {
      LodgeTarHeader x;
      g_autoptr (GString) none = g_string_new (NULL);
      lodge_tar_header_format (&x, 'x', "././@PaxHeader", NULL, 0644, 0, 0, pax->len, 0, 0,
                               none);
      if (!emit (w, &x, sizeof x, error) || !emit (w, pax->str, pax->len, error)
          || !emit_padding (w, pax->len, error))
        return FALSE;
    }
  return emit (w, &h, sizeof h, error);
}

/* Copies exactly st->st_size bytes of @fd, reading straight into the
 * output buffer. */
static gboolean
emit_content (Writer *w, int fd, const struct stat *st, GError **error)
{
  guint64 left = st->st_size;
  while (left > 0)
    {
      if (w->buf_len == BUFFER_SIZE && !flush (w, error))
        return FALSE;
      gsize want = MIN (left, (guint64) (BUFFER_SIZE - w->buf_len));
      ssize_t n = read (fd, w->buf + w->buf_len, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail_errno (w, error, "cannot read");
      if (n == 0)
        {
          g_autofree char *path = host_path (w);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO,
                       "%s: file shrank while it was archived", path);
          return FALSE;
        }
      w->buf_len += n;
      left -= n;
      w->stats.bytes += n;
      report (w, FALSE);
    }
  struct stat after;
  if (fstat (fd, &after) < 0)
    return fail_errno (w, error, "cannot stat");
  if (after.st_size != st->st_size || after.st_mtim.tv_sec != st->st_mtim.tv_sec
      || after.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: file changed while it was archived",
                   path);
      return FALSE;
    }
  return emit_padding (w, st->st_size, error);
}

/* Opens @name in @parent_fd without following a symlink, and checks that
 * it is still the inode that fstatat() saw. */
static int
open_same (Writer *w, int parent_fd, const char *name, int flags, const struct stat *st,
           GError **error)
{
  int fd = openat (parent_fd, name, flags | O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      fail_errno (w, error, "cannot open");
      return -1;
    }
  struct stat now;
  if (fstat (fd, &now) < 0)
    {
      fail_errno (w, error, "cannot stat");
      close (fd);
      return -1;
    }
  if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: replaced while it was archived",
                   path);
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean visit_dir (Writer *w, int fd, const struct stat *st, GError **error);

/* For a second or later name of an inode, the first one; records the
 * first. */
static const char *
hardlink_target (Writer *w, const struct stat *st)
{
  if (st->st_nlink < 2)
    return NULL;
  DevIno key = { st->st_dev, st->st_ino };
  const char *first = g_hash_table_lookup (w->links, &key);
  if (first == NULL)
    g_hash_table_insert (w->links, g_memdup2 (&key, sizeof key), g_strdup (w->rel->str));
  return first;
}

/* The entry w->rel, named @name in @parent_fd. */
static gboolean
visit (Writer *w, int parent_fd, const char *name, GError **error)
{
  struct stat st;
  if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno (w, error, "cannot stat");
  if (st.st_dev == w->out_id.dev && st.st_ino == w->out_id.ino)
    return TRUE;

  mode_t type = st.st_mode & S_IFMT;
  if (type == S_IFSOCK)
    return TRUE;
  if (w->rel->len + (type == S_IFDIR) > LODGE_TAR_MAX_NAME)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: the name in the archive would be longer than %d bytes", path,
                   LODGE_TAR_MAX_NAME);
      return FALSE;
    }
  if (type == S_IFCHR || type == S_IFBLK)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: %s device; a template may not contain device nodes (the guest's "
                   "devtmpfs provides /dev)", path, type == S_IFCHR ? "character" : "block");
      return FALSE;
    }
  if (type == S_IFDIR)
    {
      int fd = open_same (w, parent_fd, name, O_DIRECTORY, &st, error);
      if (fd < 0)
        return FALSE;
      gboolean ok = visit_dir (w, fd, &st, error);
      close (fd);
      return ok;
    }
  if (type != S_IFREG && type != S_IFLNK && type != S_IFIFO)
    {
      g_autofree char *path = host_path (w);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: unknown file type 0%o", path,
                   (guint) type);
      return FALSE;
    }

  const char *first = hardlink_target (w, &st);
  if (first != NULL)
    {
      w->stats.hardlinks++;
      if (w->counting)
        return TRUE;
      g_autoptr (GString) pax = g_string_new (NULL);
      return emit_header (w, '1', first, &st, 0, pax, error);
    }

  if (type == S_IFREG)
    {
      w->stats.files++;
      if (w->counting)
        {
          w->total += st.st_size;
          return TRUE;
        }
      int fd = open_same (w, parent_fd, name, O_NONBLOCK, &st, error);
      if (fd < 0)
        return FALSE;
      g_autoptr (GString) pax = g_string_new (NULL);
      gboolean ok = collect_xattrs (w, fd, NULL, pax, error)
                    && emit_header (w, '0', NULL, &st, st.st_size, pax, error)
                    && emit_content (w, fd, &st, error);
      close (fd);
      return ok;
    }

  if (type == S_IFLNK)
    w->stats.symlinks++;
  else
    w->stats.fifos++;
  if (w->counting)
    return TRUE;

  /* No fd for these: name them through the parent's fd, not following
   * the last component (or through the full path without /proc). */
  g_autofree char *xattr_path = w->have_proc
                                  ? g_strdup_printf ("/proc/self/fd/%d/%s", parent_fd, name)
                                  : host_path (w);
  g_autoptr (GString) pax = g_string_new (NULL);
  if (!collect_xattrs (w, -1, xattr_path, pax, error))
    return FALSE;
  if (type == S_IFIFO)
    return emit_header (w, '6', NULL, &st, 0, pax, error);

  gsize cap = st.st_size > 0 ? st.st_size + 1 : 256;
  for (;;)
    {
      g_autofree char *target = g_malloc (cap);
      ssize_t n = readlinkat (parent_fd, name, target, cap);
      if (n < 0)
        return fail_errno (w, error, "cannot read symlink");
      if ((gsize) n < cap)
        {
          target[n] = '\0';
          return emit_header (w, '2', target, &st, 0, pax, error);
        }
      cap *= 2;
    }
}

static gboolean
visit_dir (Writer *w, int fd, const struct stat *st, GError **error)
{
  w->stats.directories++;
  if (!w->counting)
    {
      g_autoptr (GString) pax = g_string_new (NULL);
      if (!collect_xattrs (w, fd, NULL, pax, error)
          || !emit_header (w, '5', NULL, st, 0, pax, error))
        return FALSE;
    }

  int list_fd = dup (fd);
  DIR *dir = list_fd < 0 ? NULL : fdopendir (list_fd);
  if (dir == NULL)
    {
      if (list_fd >= 0)
        close (list_fd);
      return fail_errno (w, error, "cannot list");
    }
  rewinddir (dir); /* the dup shares its offset with @fd, read in the first pass */
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      errno = 0;
      struct dirent *d = readdir (dir);
      if (d == NULL)
        break;
      if (strcmp (d->d_name, ".") != 0 && strcmp (d->d_name, "..") != 0)
        g_ptr_array_add (names, g_strdup (d->d_name));
    }
  int saved = errno;
  closedir (dir);
  if (saved != 0)
    {
      errno = saved;
      return fail_errno (w, error, "cannot list");
    }
  g_ptr_array_sort (names, compare_names);

  gsize rel_len = w->rel->len;
  for (guint i = 0; i < names->len; i++)
    {
      if (rel_len > 0)
        g_string_append_c (w->rel, '/');
      g_string_append (w->rel, names->pdata[i]);
      if (!visit (w, fd, names->pdata[i], error))
        return FALSE;
      g_string_truncate (w->rel, rel_len);
    }
  return TRUE;
}

static gboolean
walk (Writer *w, int root_fd, GError **error)
{
  struct stat st;
  if (fstat (root_fd, &st) < 0)
    return fail_errno (w, error, "cannot stat");
  g_string_truncate (w->rel, 0);
  g_hash_table_remove_all (w->links);
  memset (&w->stats, 0, sizeof w->stats);
  return visit_dir (w, root_fd, &st, error);
}

/* Both passes over the tree, then the end-of-archive marker. */
static gboolean
write_archive (Writer *w, int root_fd, GError **error)
{
  /* First pass: refuse what cannot be archived before writing anything,
   * and find the total for progress reports. */
  w->counting = TRUE;
  if (!walk (w, root_fd, error))
    return FALSE;
  w->counting = FALSE;
  if (w->progress != NULL)
    {
      w->reported_time = g_get_monotonic_time ();
      w->progress (0, w->total, w->user_data);
    }
  if (!walk (w, root_fd, error))
    return FALSE;
  static const guint8 end[2 * LODGE_TAR_BLOCK];
  return emit (w, end, sizeof end, error) && flush (w, error);
}

gboolean
lodge_tar_write_tree (const char *dir, const char *out_path, LodgeTarProgress progress,
                      gpointer user_data, LodgeTarStats *ret_stats, GError **error)
{
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (out_path != NULL, FALSE);

  g_autoptr (GString) rel = g_string_new (NULL);
  g_autoptr (GHashTable) links = g_hash_table_new_full (dev_ino_hash, dev_ino_equal, g_free,
                                                        g_free);
  g_autofree guint8 *buf = g_malloc (BUFFER_SIZE);
  Writer w = {
    .root = dir, .out_name = out_path, .out_fd = -1, .rel = rel, .links = links, .buf = buf,
    .have_proc = g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR), .progress = progress,
    .user_data = user_data,
  };

  int root_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return fail_errno (&w, error, "cannot open");

  g_autofree char *tmp = g_strconcat (out_path, ".XXXXXX", NULL);
  w.out_fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (w.out_fd < 0)
    {
      int saved = errno;
      close (root_fd);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot create: %s", out_path,
                   g_strerror (saved));
      return FALSE;
    }
  struct stat out_st;
  if (fstat (w.out_fd, &out_st) == 0)
    w.out_id = (DevIno) { out_st.st_dev, out_st.st_ino };

  gboolean ok = write_archive (&w, root_fd, error);
  close (root_fd);
  if (close (w.out_fd) < 0 && ok)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot write: %s", out_path,
                   g_strerror (saved));
      ok = FALSE;
    }
  if (ok && rename (tmp, out_path) < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot rename to %s: %s", tmp,
                   out_path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      return FALSE;
    }
  report (&w, TRUE);
  if (ret_stats != NULL)
    *ret_stats = w.stats;
  return TRUE;
}
