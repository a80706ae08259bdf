/* lodge_tar_check(), lodge_tar_rewrite() and lodge_tar_list(): archives
 * supplied by users, read by libarchive and checked entry by entry with
 * Lodge's policy; lodge_tar_rewrite() writes what it checked as a
 * canonical archive (lodge_tar_writer_*), the only thing the appliance's
 * GNU tar ever reads. */
#include "lodge-tar-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lodge-error.h"

#define DATA_SIZE (64 * 1024)
#define SYMLINK_NAMES_MAX (64 * 1024 * 1024)
#define P61 ((G_GUINT64_CONSTANT (1) << 61) - 1)

/* A symlink name seen so far, keyed by a polynomial hash with a random
 * base (mod 2^61 - 1) that can be computed for every prefix of a name in
 * one pass: no quadratic work and no chosen collisions. */
typedef struct {
  guint64 hash;
  gsize len;
  char *str;
} PathKey;

typedef struct {
  const char *path;
  struct archive *a;
  LodgeTarStats stats;
  GHashTable *symlinks; /* PathKey set */
  gsize symlink_bytes;
  guint64 base;         /* of the path hash */
  guint64 offset;       /* where the current entry's headers start */
  char *previous;       /* name of the entry before, for messages */
  GPtrArray *entries;   /* lodge_tar_list() only */
  LodgeTarWriter *out;  /* lodge_tar_rewrite() only */
  LodgeTarReport report;
  guint8 *data;
} Reader;

G_GNUC_PRINTF (5, 6) static gboolean
refuse (Reader *r, GError **error, const char *entry, gssize entry_len, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (entry == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: offset %" G_GUINT64_FORMAT
                   ": %s", r->path, r->offset, msg);
      return FALSE;
    }
  gsize len = entry_len < 0 ? strlen (entry) : (gsize) entry_len;
  g_autofree char *shown = lodge_tar_quote (entry, len);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
               "%s: entry '%s' (offset %" G_GUINT64_FORMAT "): %s", r->path, shown, r->offset,
               msg);
  return FALSE;
}

/* What libarchive reported, for @entry or, when NULL, at r->offset after
 * the entry before. A read error of the file is LODGE_ERROR_IO. */
static gboolean
refuse_archive (Reader *r, const char *entry, GError **error)
{
  const char *msg = archive_error_string (r->a) ?: "unknown libarchive error";
  int code = archive_errno (r->a);
  if (code == EIO)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot read: %s", r->path, msg);
      return FALSE;
    }
  if (entry == NULL && r->previous != NULL)
    {
      g_autofree char *shown = lodge_tar_quote (r->previous, strlen (r->previous));
      return refuse (r, error, NULL, 0, "after entry '%s': %s", shown, msg);
    }
  return refuse (r, error, entry, -1, "%s", msg);
}

/* (h * base + c + 1) mod 2^61 - 1, for h and base below 2^61 - 1. */
static guint64
hash_step (guint64 h, guint64 base, guint8 c)
{
  unsigned __int128 x = (unsigned __int128) h * base;
  guint64 v = (guint64) (x & P61) + (guint64) (x >> 61) + c + 1;
  while (v >= P61)
    v -= P61;
  return v;
}

static guint
path_key_hash (gconstpointer k)
{
  return (guint) ((const PathKey *) k)->hash;
}

static gboolean
path_key_equal (gconstpointer a, gconstpointer b)
{
  const PathKey *x = a, *y = b;
  return x->hash == y->hash && x->len == y->len && memcmp (x->str, y->str, x->len) == 0;
}

static void
path_key_clear (PathKey *k)
{
  g_clear_pointer (&k->str, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PathKey, path_key_clear)

static void
path_key_free (gpointer k)
{
  path_key_clear (k);
  g_free (k);
}

/* Refuses a name (or hard link target, @what) that is empty, absolute,
 * too long, has a ".." component, or lies below a symlink seen earlier.
 * Sets *@ret_key to the name without "." and empty components. */
static gboolean
check_path (Reader *r, const char *entry, const char *path, const char *what, PathKey *ret_key,
            GError **error)
{
  gsize len = strlen (path);
  if (len == 0)
    return refuse (r, error, entry, -1, "empty %s", what);
  if (path[0] == '/')
    return refuse (r, error, entry, -1, "%s is absolute", what);
  if (len > LODGE_TAR_MAX_NAME)
    return refuse (r, error, entry, -1, "%s is %" G_GSIZE_FORMAT " bytes long; the limit is %d",
                   what, len, LODGE_TAR_MAX_NAME);

  g_autoptr (GString) norm = g_string_new (NULL);
  guint64 hash = 0;
  const char *p = path, *end = path + len;
  while (p < end)
    {
      const char *slash = memchr (p, '/', end - p);
      const char *next = slash != NULL ? slash : end;
      gsize n = next - p;
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return refuse (r, error, entry, -1, "%s has a '..' component", what);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (norm->len > 0)
            {
              PathKey prefix = { hash, norm->len, norm->str };
              PathKey *link = g_hash_table_lookup (r->symlinks, &prefix);
              if (link != NULL)
                return refuse (r, error, entry, -1, "%s lies below the symlink '%s'", what,
                               link->str);
              g_string_append_c (norm, '/');
              hash = hash_step (hash, r->base, '/');
            }
          for (gsize i = 0; i < n; i++)
            hash = hash_step (hash, r->base, p[i]);
          g_string_append_len (norm, p, n);
        }
      p = next + (slash != NULL);
    }
  ret_key->hash = hash;
  ret_key->len = norm->len;
  ret_key->str = g_string_free (g_steal_pointer (&norm), FALSE);
  return TRUE;
}

static gboolean
remember_symlink (Reader *r, PathKey *key, const char *entry, GError **error)
{
  if (g_hash_table_contains (r->symlinks, key))
    return TRUE;
  r->symlink_bytes += key->len + sizeof *key;
  if (r->symlink_bytes > SYMLINK_NAMES_MAX)
    return refuse (r, error, entry, -1, "more than %d MiB of symlink names",
                   SYMLINK_NAMES_MAX >> 20);
  PathKey *copy = g_memdup2 (key, sizeof *key);
  copy->str = g_strdup (key->str);
  g_hash_table_add (r->symlinks, copy);
  return TRUE;
}

/* The type Lodge accepts @e as, or a refusal. */
static gboolean
entry_type (Reader *r, struct archive_entry *e, const char *name, LodgeTarEntryType *ret,
            GError **error)
{
  if (archive_entry_hardlink (e) != NULL)
    {
      if (archive_entry_size (e) != 0)
        return refuse (r, error, name, -1, "a hard link with %" G_GINT64_FORMAT " bytes of data",
                       (gint64) archive_entry_size (e));
      *ret = LODGE_TAR_ENTRY_HARDLINK;
      return TRUE;
    }
  switch (archive_entry_filetype (e))
    {
    case AE_IFREG: *ret = LODGE_TAR_ENTRY_FILE; break;
    case AE_IFDIR: *ret = LODGE_TAR_ENTRY_DIRECTORY; break;
    case AE_IFLNK: *ret = LODGE_TAR_ENTRY_SYMLINK; break;
    case AE_IFIFO: *ret = LODGE_TAR_ENTRY_FIFO; break;
    case AE_IFCHR:
      return refuse (r, error, name, -1, "character device; device nodes are not allowed");
    case AE_IFBLK:
      return refuse (r, error, name, -1, "block device; device nodes are not allowed");
    default:
      return refuse (r, error, name, -1, "unsupported entry type 0%o",
                     (guint) archive_entry_filetype (e));
    }
  if (archive_entry_sparse_count (e) > 0)
    return refuse (r, error, name, -1, "sparse files (GNU tar --sparse) are not supported");
  return TRUE;
}

/* Extended attributes as GNU tar would set them: a SCHILY.xattr name
 * unescaped as GNU tar does (libarchive leaves it as it is; names from
 * LIBARCHIVE.xattr records come unescaped already). */
static GHashTable *
entry_xattrs (struct archive_entry *e)
{
  GHashTable *xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) g_bytes_unref);
  const char *key;
  const void *value;
  size_t len;
  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &key, &value, &len) == ARCHIVE_OK)
    g_hash_table_insert (xattrs, lodge_tar_xattr_decode (key), g_bytes_new (value, len));
  return xattrs;
}

/* Copies (rewrite) and hashes (list) the data of a file entry. */
static gboolean
read_data (Reader *r, const char *name, guint64 size, GChecksum *sum, GError **error)
{
  guint64 got = 0;
  for (;;)
    {
      la_ssize_t n = archive_read_data (r->a, r->data, DATA_SIZE);
      if (n < 0)
        return refuse_archive (r, name, error);
      if (n == 0)
        break;
      got += n;
      if (sum != NULL)
        g_checksum_update (sum, r->data, n);
      if (r->out != NULL && !lodge_tar_writer_data (r->out, r->data, n, error))
        return FALSE;
      lodge_tar_report (&r->report, archive_filter_bytes (r->a, -1), FALSE);
    }
  if (got != size) /* libarchive reads exactly the size it reported */
    return refuse (r, error, name, -1, "%" G_GUINT64_FORMAT " bytes of data instead of %"
                   G_GUINT64_FORMAT, got, size);
  return TRUE;
}

/* The name the canonical archive gives an entry with key @key. */
static char *
canonical_name (const PathKey *key, LodgeTarEntryType type)
{
  if (key->len == 0)
    return g_strdup ("./");
  return g_strconcat (key->str, type == LODGE_TAR_ENTRY_DIRECTORY ? "/" : "", NULL);
}

/* Checks, and writes or lists, one entry. */
static gboolean
read_entry (Reader *r, struct archive_entry *e, GError **error)
{
  const char *name = archive_entry_pathname (e) ?: "";
  g_auto (PathKey) key = { 0 };
  LodgeTarEntryType type = LODGE_TAR_ENTRY_FILE; /* (set by entry_type; gcc cannot tell) */
  if (!check_path (r, name, name, "name", &key, error) || !entry_type (r, e, name, &type, error))
    return FALSE;
  if (key.len == 0 && type != LODGE_TAR_ENTRY_DIRECTORY)
    return refuse (r, error, name, -1, "the archive root must be a directory");
  if (archive_entry_uid (e) < 0 || archive_entry_gid (e) < 0)
    return refuse (r, error, name, -1, "negative owner");

  g_autofree char *link = NULL; /* as written */
  const char *raw_link = archive_entry_hardlink (e) ?: archive_entry_symlink (e);
  if (type == LODGE_TAR_ENTRY_HARDLINK)
    {
      const char *target = archive_entry_hardlink (e);
      g_autofree char *shown = lodge_tar_quote (target, strlen (target));
      g_autofree char *what = g_strdup_printf ("hard link target '%s'", shown);
      g_auto (PathKey) target_key = { 0 };
      if (!check_path (r, name, target, what, &target_key, error))
        return FALSE;
      link = g_strdup (target_key.len > 0 ? target_key.str : ".");
    }
  else if (type == LODGE_TAR_ENTRY_SYMLINK)
    {
      const char *target = archive_entry_symlink (e) ?: "";
      gsize len = strlen (target);
      if (len == 0 || len > LODGE_TAR_MAX_NAME)
        {
          g_autofree char *shown = lodge_tar_quote (target, len);
          return refuse (r, error, name, -1, "symlink target '%s' is empty or too long", shown);
        }
      if (!remember_symlink (r, &key, name, error))
        return FALSE;
      link = g_strdup (target);
    }

  guint64 size = type == LODGE_TAR_ENTRY_FILE ? (guint64) archive_entry_size (e) : 0;
  guint64 *counter[] = {
    [LODGE_TAR_ENTRY_FILE] = &r->stats.files, [LODGE_TAR_ENTRY_HARDLINK] = &r->stats.hardlinks,
    [LODGE_TAR_ENTRY_SYMLINK] = &r->stats.symlinks,
    [LODGE_TAR_ENTRY_DIRECTORY] = &r->stats.directories, [LODGE_TAR_ENTRY_FIFO] = &r->stats.fifos,
  };
  (*counter[type])++;
  if (!g_uint64_checked_add (&r->stats.bytes, r->stats.bytes, size))
    return refuse (r, error, name, -1, "total size overflows");

  gint64 mtime = 0;
  guint32 mtime_nsec = 0;
  lodge_tar_mtime_from_archive (archive_entry_mtime (e), archive_entry_mtime_nsec (e), &mtime,
                                &mtime_nsec);
  g_autoptr (GHashTable) xattrs = type != LODGE_TAR_ENTRY_HARDLINK ? entry_xattrs (e) : NULL;
  g_autofree char *canonical = canonical_name (&key, type);
  if (r->out != NULL)
    {
      struct archive_entry *c = archive_entry_new ();
      static const mode_t ae_type[] = {
        [LODGE_TAR_ENTRY_FILE] = AE_IFREG, [LODGE_TAR_ENTRY_HARDLINK] = AE_IFREG,
        [LODGE_TAR_ENTRY_SYMLINK] = AE_IFLNK, [LODGE_TAR_ENTRY_DIRECTORY] = AE_IFDIR,
        [LODGE_TAR_ENTRY_FIFO] = AE_IFIFO,
      };
      archive_entry_copy_pathname (c, canonical);
      archive_entry_set_filetype (c, ae_type[type]);
      archive_entry_set_perm (c, archive_entry_perm (e));
      archive_entry_set_uid (c, archive_entry_uid (e));
      archive_entry_set_gid (c, archive_entry_gid (e));
      archive_entry_set_mtime (c, mtime, mtime_nsec);
      archive_entry_set_size (c, size);
      if (type == LODGE_TAR_ENTRY_HARDLINK)
        archive_entry_copy_hardlink (c, link);
      else if (type == LODGE_TAR_ENTRY_SYMLINK)
        archive_entry_copy_symlink (c, link);
      if (xattrs != NULL)
        lodge_tar_entry_add_xattrs (c, xattrs);
      g_autofree char *shown = lodge_tar_quote (name, strlen (name));
      g_autofree char *subject = g_strdup_printf ("%s: entry '%s' (offset %" G_GUINT64_FORMAT ")",
                                                  r->path, shown, r->offset);
      gboolean ok = lodge_tar_writer_header (r->out, c, subject, error);
      archive_entry_free (c);
      if (!ok)
        return FALSE;
    }

  g_autoptr (GChecksum) sum = NULL;
  if (r->entries != NULL)
    {
      LodgeTarEntry *le = g_new0 (LodgeTarEntry, 1);
      *le = (LodgeTarEntry) {
        .type = type, .name = g_strdup (name), .link = g_strdup (raw_link),
        .mode = archive_entry_perm (e) & 07777, .uid = archive_entry_uid (e),
        .gid = archive_entry_gid (e), .mtime = mtime, .mtime_nsec = mtime_nsec, .size = size,
        .xattrs = xattrs != NULL && g_hash_table_size (xattrs) > 0 ? g_hash_table_ref (xattrs)
                                                                   : NULL,
      };
      g_ptr_array_add (r->entries, le);
      if (type == LODGE_TAR_ENTRY_FILE)
        sum = g_checksum_new (G_CHECKSUM_SHA256);
    }
  if (!read_data (r, name, size, sum, error))
    return FALSE;
  if (sum != NULL)
    {
      LodgeTarEntry *le = r->entries->pdata[r->entries->len - 1];
      le->sha256 = g_strdup (g_checksum_get_string (sum));
    }
  return TRUE;
}

/* The warning libarchive gives for a pax name or link target that is
 * not UTF-8 (it keeps the bytes, as GNU tar does): not a refusal. */
static gboolean
name_not_utf8 (Reader *r, struct archive_entry *e)
{
  const char *msg = archive_error_string (r->a);
  const char *name = archive_entry_pathname (e);
  const char *link = archive_entry_hardlink (e) ?: archive_entry_symlink (e);
  return msg != NULL && strstr (msg, "can't be converted from") != NULL
         && ((name != NULL && !g_utf8_validate (name, -1, NULL))
             || (link != NULL && !g_utf8_validate (link, -1, NULL)));
}

/* Entries up to the end-of-archive marker. libarchive also ends without
 * one, at a block boundary; that is refused (a truncated upload), seen
 * as an end that consumed no zero block. */
static gboolean
read_entries (Reader *r, GError **error)
{
  for (;;)
    {
      r->offset = archive_filter_bytes (r->a, 0);
      struct archive_entry *e = NULL;
      int res = archive_read_next_header (r->a, &e);
      if (res == ARCHIVE_EOF)
        {
          if ((guint64) archive_filter_bytes (r->a, 0) < r->offset + 512)
            return refuse (r, error, NULL, 0,
                           "truncated: the archive ends without an end-of-archive marker");
          return TRUE;
        }
      /* A warning comes with the entry it is about. */
      if (res != ARCHIVE_OK && !(res == ARCHIVE_WARN && name_not_utf8 (r, e)))
        return refuse_archive (r, res == ARCHIVE_WARN ? archive_entry_pathname (e) : NULL, error);
      if (!read_entry (r, e, error))
        return FALSE;
      g_free (r->previous);
      r->previous = g_strdup (archive_entry_pathname (e));
    }
}

/* Formats refused by their magic bytes, for the message. */
static const char *
compressed_format (const guint8 *b, gsize len)
{
  static const struct {
    const char *magic;
    gsize len;
    const char *name;
  } formats[] = {
    { "\x1f\x9d", 2, "compress (.Z)" }, { "BZh", 3, "bzip2" },
    { "\xfd" "7zXZ\0", 6, "xz" },        { "\x28\xb5\x2f\xfd", 4, "zstd" },
    { "LZIP", 4, "lzip" },               { "\x89LZO\0", 5, "lzop" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (len >= formats[i].len && memcmp (b, formats[i].magic, formats[i].len) == 0)
      return formats[i].name;
  return NULL;
}

/* Why libarchive could not open @fd as a plain or gzip tar archive. */
static gboolean
refuse_open (Reader *r, int fd, GError **error)
{
  guint8 head[8] = { 0 };
  ssize_t n = pread (fd, head, sizeof head, 0);
  const char *format = n > 0 ? compressed_format (head, n) : NULL;
  if (format != NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: %s-compressed archives are not supported; use an uncompressed or "
                   "gzip-compressed tar", r->path, format);
      return FALSE;
    }
  if (g_strcmp0 (archive_error_string (r->a), "Unrecognized archive format") == 0)
    return refuse (r, error, NULL, 0, "not a tar archive, plain or gzip-compressed");
  return refuse_archive (r, NULL, error);
}

/* Opens @fd with libarchive and reads every entry, writing them to
 * @out_path when not NULL. */
static gboolean
read_fd (Reader *r, int fd, const struct stat *st, const char *out_path, GError **error)
{
  if (S_ISREG (st->st_mode) && st->st_size == 0)
    return refuse (r, error, NULL, 0, "empty file, not a tar archive");
  if (archive_read_support_format_tar (r->a) != ARCHIVE_OK
      || archive_read_support_filter_gzip (r->a) != ARCHIVE_OK
      || archive_read_open_fd (r->a, fd, DATA_SIZE) != ARCHIVE_OK)
    return refuse_open (r, fd, error);
  g_autoptr (LodgeTarWriter) out = NULL;
  if (out_path != NULL && (out = lodge_tar_writer_new (out_path, error)) == NULL)
    return FALSE;
  r->out = out;
  lodge_tar_report_start (&r->report, st->st_size);
  gboolean ok = read_entries (r, error) && (out == NULL || lodge_tar_writer_finish (out, error));
  r->out = NULL;
  return ok;
}

static gboolean
read_file (const char *path, GPtrArray *entries, const char *out_path, LodgeTarProgress progress,
           gpointer user_data, LodgeTarCompression *ret_compression, LodgeTarStats *ret_stats,
           GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);

  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  g_auto (LodgeTarLocale) locale = { 0 };
  lodge_tar_locale_push (&locale);
  g_autoptr (GHashTable) symlinks = g_hash_table_new_full (path_key_hash, path_key_equal,
                                                           path_key_free, NULL);
  g_autofree guint8 *data = g_malloc (DATA_SIZE);
  Reader r = {
    .path = path,
    .a = archive_read_new (),
    .symlinks = symlinks,
    .base = ((guint64) g_random_int () << 32 | g_random_int ()) % (P61 - 256) + 256,
    .entries = entries,
    .report = { .func = progress, .user_data = user_data },
    .data = data,
  };
  if (r.a == NULL)
    g_error ("archive_read_new: out of memory");
  gboolean ok = read_fd (&r, fd, &st, out_path, error);
  gboolean gzip = ok && archive_filter_code (r.a, 0) == ARCHIVE_FILTER_GZIP;
  archive_read_free (r.a);
  close (fd);
  g_free (r.previous);
  if (!ok)
    return FALSE;
  lodge_tar_report (&r.report, st.st_size, TRUE);
  if (ret_compression != NULL)
    *ret_compression = gzip ? LODGE_TAR_COMPRESSION_GZIP : LODGE_TAR_COMPRESSION_NONE;
  if (ret_stats != NULL)
    *ret_stats = r.stats;
  return TRUE;
}

gboolean
lodge_tar_check (const char *path, LodgeTarCompression *ret_compression,
                 LodgeTarStats *ret_stats, GError **error)
{
  return read_file (path, NULL, NULL, NULL, NULL, ret_compression, ret_stats, error);
}

gboolean
lodge_tar_rewrite (const char *path, const char *out_path, LodgeTarProgress progress,
                   gpointer user_data, LodgeTarCompression *ret_compression,
                   LodgeTarStats *ret_stats, GError **error)
{
  g_return_val_if_fail (out_path != NULL, FALSE);
  return read_file (path, NULL, out_path, progress, user_data, ret_compression, ret_stats, error);
}

GPtrArray *
lodge_tar_list (const char *path, LodgeTarCompression *ret_compression,
                LodgeTarStats *ret_stats, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (
    (GDestroyNotify) lodge_tar_entry_free);
  if (!read_file (path, entries, NULL, NULL, NULL, ret_compression, ret_stats, error))
    return NULL;
  return g_steal_pointer (&entries);
}
