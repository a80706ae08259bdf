/* lodge_tar_write_tree(): a host directory tree as a canonical archive.
 * The walk is Lodge's (sorted, through descriptors, never following a
 * symlink); each file's metadata comes from libarchive's
 * archive_read_disk_entry_from_file() and the archive is written by
 * libarchive (lodge_tar_writer_*). */
#include "lodge-tar-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lodge-error.h"

#define BUFFER_SIZE (1024 * 1024)

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
  DevIno out_id;         /* the archive being written is not archived */
  gboolean counting;     /* first pass: checks, stats and total only */
  GString *rel;          /* name of the current entry relative to root */
  GHashTable *links;     /* DevIno -> first name, for inodes with several names */
  gboolean have_proc;    /* /proc/self/fd, to name symlinks and FIFOs by their parent's fd */
  struct archive *disk;  /* archive_read_disk, for metadata */
  LodgeTarWriter *out;
  guint8 *buf;
  LodgeTarStats stats;
  guint64 total;
  LodgeTarReport report;
} Walker;

static char *
host_path (Walker *w)
{
  return w->rel->len == 0 ? g_strdup (w->root) : g_build_filename (w->root, w->rel->str, NULL);
}

G_GNUC_PRINTF (4, 5) static gboolean
fail (Walker *w, GError **error, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *path = host_path (w);
  g_set_error (error, LODGE_ERROR, code, "%s: %s", path, what);
  return FALSE;
}

G_GNUC_PRINTF (3, 4) static gboolean
fail_errno (Walker *w, GError **error, const char *fmt, ...)
{
  int saved = errno;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return fail (w, error, LODGE_ERROR_IO, "%s: %s", what, g_strerror (saved));
}

/* The ACL of a file as its system.posix_acl_* attributes (libarchive
 * reads ACLs as ACL records, which tar-in does not restore). */
static gboolean
add_acl_xattrs (Walker *w, int fd, const char *path, GHashTable *xattrs, GError **error)
{
  static const char *const names[] = { "system.posix_acl_access", "system.posix_acl_default" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char value[65536];
      ssize_t n = fd >= 0 ? fgetxattr (fd, names[i], value, sizeof value)
                          : lgetxattr (path, names[i], value, sizeof value);
      if (n < 0 && (errno == ENODATA || errno == ENOTSUP || errno == ENOSYS))
        continue;
      if (n < 0)
        return fail_errno (w, error, "cannot read extended attribute %s", names[i]);
      g_hash_table_insert (xattrs, g_strdup (names[i]), g_bytes_new (value, n));
    }
  return TRUE;
}

/* The archive entry of w->rel: only what Lodge keeps of the file's
 * metadata (lodge-tar.h), read by libarchive through @fd or, for a
 * symlink or FIFO (@fd -1), through @path. */
static struct archive_entry *
make_entry (Walker *w, int fd, const char *path, const struct stat *st, GError **error)
{
  g_autoptr (GString) name = g_string_new (w->rel->len == 0 ? "./" : w->rel->str);
  if (w->rel->len > 0 && S_ISDIR (st->st_mode))
    g_string_append_c (name, '/');

  struct archive_entry *disk = archive_entry_new ();
  archive_entry_copy_pathname (disk, name->str);
  archive_entry_copy_sourcepath (disk, path);
  int r = archive_read_disk_entry_from_file (w->disk, disk, fd, st);
  if (r != ARCHIVE_OK)
    {
      int code = archive_errno (w->disk);
      fail (w, error, LODGE_ERROR_IO, "cannot read metadata: %s%s%s",
            archive_error_string (w->disk), code > 0 ? ": " : "",
            code > 0 ? g_strerror (code) : "");
      archive_entry_free (disk);
      return NULL;
    }
  g_autoptr (GHashTable) xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_bytes_unref);
  const char *key;
  const void *value;
  size_t len;
  archive_entry_xattr_reset (disk);
  while (archive_entry_xattr_next (disk, &key, &value, &len) == ARCHIVE_OK)
    g_hash_table_insert (xattrs, g_strdup (key), g_bytes_new (value, len));

  struct archive_entry *e = archive_entry_new ();
  archive_entry_copy_pathname (e, name->str);
  archive_entry_set_filetype (e, st->st_mode & S_IFMT);
  archive_entry_set_perm (e, st->st_mode & 07777);
  archive_entry_set_uid (e, st->st_uid);
  archive_entry_set_gid (e, st->st_gid);
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  archive_entry_set_size (e, S_ISREG (st->st_mode) ? st->st_size : 0);
  if (S_ISLNK (st->st_mode))
    archive_entry_copy_symlink (e, archive_entry_symlink (disk));
  archive_entry_free (disk);
  if (!S_ISLNK (st->st_mode) && !add_acl_xattrs (w, fd, path, xattrs, error))
    {
      archive_entry_free (e);
      return NULL;
    }

  lodge_tar_entry_add_xattrs (e, xattrs);
  return e;
}

/* Writes the header of @e and frees it. */
static gboolean
write_header (Walker *w, struct archive_entry *e, GError **error)
{
  g_autofree char *path = host_path (w);
  gboolean ok = lodge_tar_writer_header (w->out, e, path, error);
  archive_entry_free (e);
  return ok;
}

/* Copies exactly st->st_size bytes of @fd. */
static gboolean
write_content (Walker *w, int fd, const struct stat *st, GError **error)
{
  guint64 left = st->st_size;
  while (left > 0)
    {
      ssize_t n = read (fd, w->buf, MIN (left, (guint64) BUFFER_SIZE));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail_errno (w, error, "cannot read");
      if (n == 0)
        return fail (w, error, LODGE_ERROR_IO, "file shrank while it was archived");
      if (!lodge_tar_writer_data (w->out, w->buf, n, error))
        return FALSE;
      left -= n;
      w->stats.bytes += n;
      lodge_tar_report (&w->report, w->stats.bytes, FALSE);
    }
  struct stat after;
  if (fstat (fd, &after) < 0)
    return fail_errno (w, error, "cannot stat");
  if (after.st_size != st->st_size || after.st_mtim.tv_sec != st->st_mtim.tv_sec
      || after.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
    return fail (w, error, LODGE_ERROR_IO, "file changed while it was archived");
  return TRUE;
}

/* Opens @name in @parent_fd without following a symlink, and checks that
 * it is still the inode that fstatat() saw. */
static int
open_same (Walker *w, int parent_fd, const char *name, int flags, const struct stat *st,
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
      fail (w, error, LODGE_ERROR_IO, "replaced while it was archived");
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean visit_dir (Walker *w, int fd, const struct stat *st, GError **error);

/* For a second or later name of an inode, the first one; records the
 * first. */
static const char *
hardlink_target (Walker *w, const struct stat *st)
{
  if (st->st_nlink < 2)
    return NULL;
  DevIno key = { st->st_dev, st->st_ino };
  const char *first = g_hash_table_lookup (w->links, &key);
  if (first == NULL)
    g_hash_table_insert (w->links, g_memdup2 (&key, sizeof key), g_strdup (w->rel->str));
  return first;
}

static gboolean
visit_file (Walker *w, int parent_fd, const char *name, const struct stat *st, GError **error)
{
  w->stats.files++;
  if (w->counting)
    {
      w->total += st->st_size;
      return TRUE;
    }
  int fd = open_same (w, parent_fd, name, O_NONBLOCK, st, error);
  if (fd < 0)
    return FALSE;
  g_autofree char *path = host_path (w);
  struct archive_entry *e = make_entry (w, fd, path, st, error);
  gboolean ok = e != NULL && write_header (w, e, error) && write_content (w, fd, st, error);
  close (fd);
  return ok;
}

/* The entry w->rel, named @name in @parent_fd. */
static gboolean
visit (Walker *w, int parent_fd, const char *name, GError **error)
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
    return fail (w, error, LODGE_ERROR_INVALID,
                 "the name in the archive would be longer than %d bytes", LODGE_TAR_MAX_NAME);
  if (type == S_IFCHR || type == S_IFBLK)
    return fail (w, error, LODGE_ERROR_INVALID,
                 "%s device; a template may not contain device nodes (the guest's devtmpfs "
                 "provides /dev)", type == S_IFCHR ? "character" : "block");
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
    return fail (w, error, LODGE_ERROR_INVALID, "unknown file type 0%o", (guint) type);

  const char *first = hardlink_target (w, &st);
  if (first != NULL)
    {
      w->stats.hardlinks++;
      if (w->counting)
        return TRUE;
      struct archive_entry *e = archive_entry_new ();
      archive_entry_copy_pathname (e, w->rel->str);
      archive_entry_copy_hardlink (e, first);
      archive_entry_set_filetype (e, type);
      archive_entry_set_perm (e, st.st_mode & 07777);
      archive_entry_set_uid (e, st.st_uid);
      archive_entry_set_gid (e, st.st_gid);
      archive_entry_set_mtime (e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
      return write_header (w, e, error);
    }
  if (type == S_IFREG)
    return visit_file (w, parent_fd, name, &st, error);

  if (type == S_IFLNK)
    w->stats.symlinks++;
  else
    w->stats.fifos++;
  if (w->counting)
    return TRUE;
  /* No fd for these: libarchive names them through the parent's fd, not
   * following the last component (or through the full path without
   * /proc). */
  g_autofree char *path = w->have_proc ? g_strdup_printf ("/proc/self/fd/%d/%s", parent_fd, name)
                                       : host_path (w);
  struct archive_entry *e = make_entry (w, -1, path, &st, error);
  return e != NULL && write_header (w, e, error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
visit_dir (Walker *w, int fd, const struct stat *st, GError **error)
{
  w->stats.directories++;
  if (!w->counting)
    {
      g_autofree char *path = host_path (w);
      struct archive_entry *e = make_entry (w, fd, path, st, error);
      if (e == NULL || !write_header (w, e, error))
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
walk (Walker *w, int root_fd, GError **error)
{
  struct stat st;
  if (fstat (root_fd, &st) < 0)
    return fail_errno (w, error, "cannot stat");
  g_string_truncate (w->rel, 0);
  g_hash_table_remove_all (w->links);
  memset (&w->stats, 0, sizeof w->stats);
  return visit_dir (w, root_fd, &st, error);
}

/* Both passes over the tree: the first refuses what cannot be archived
 * before anything is written, and finds the total for progress reports. */
static gboolean
write_archive (Walker *w, int root_fd, GError **error)
{
  w->counting = TRUE;
  if (!walk (w, root_fd, error))
    return FALSE;
  w->counting = FALSE;
  lodge_tar_report_start (&w->report, w->total);
  return walk (w, root_fd, error) && lodge_tar_writer_finish (w->out, error);
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
  Walker w = {
    .root = dir, .rel = rel, .links = links, .buf = buf,
    .have_proc = g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR),
    .report = { .func = progress, .user_data = user_data },
  };

  int root_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return fail_errno (&w, error, "cannot open");

  g_auto (LodgeTarLocale) locale = { 0 };
  lodge_tar_locale_push (&locale);
  g_autoptr (LodgeTarWriter) out = lodge_tar_writer_new (out_path, error);
  struct archive *disk = archive_read_disk_new ();
  gboolean ok = FALSE;
  if (out != NULL && disk != NULL)
    {
      w.out = out;
      w.disk = disk;
      lodge_tar_writer_file_id (out, &w.out_id.dev, &w.out_id.ino);
      /* ACLs are added as xattrs; file flags and sparseness are not kept. */
      archive_read_disk_set_behavior (disk, ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS
                                              | ARCHIVE_READDISK_NO_SPARSE);
      archive_read_disk_set_symlink_physical (disk);
      ok = write_archive (&w, root_fd, error);
    }
  if (disk != NULL)
    archive_read_free (disk);
  close (root_fd);
  if (!ok)
    return FALSE;
  lodge_tar_report (&w.report, w.stats.bytes, TRUE);
  if (ret_stats != NULL)
    *ret_stats = w.stats;
  return TRUE;
}
