/* Pieces shared by the tree writer (lodge-tar-write.c) and the archive
 * reader (lodge-tar-read.c): the canonical archive writer, the locale
 * libarchive runs in, pre-1970 times, progress and messages. */
#include "lodge-tar-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-error.h"

#define PROGRESS_INTERVAL_US (250 * 1000)
#define NSEC_PER_SEC 1000000000

LODGE_ENUM_IMPL (lodge_tar_compression, LODGE_TAR_COMPRESSION_LAST, "none", "gzip");
LODGE_ENUM_IMPL (lodge_tar_entry_type, LODGE_TAR_ENTRY_LAST, "file", "hardlink", "symlink",
                 "directory", "fifo");

/* ---- locale ---- */

static gpointer
make_utf8_locale (gpointer data)
{
  locale_t l = newlocale (LC_ALL_MASK, "C.UTF-8", (locale_t) 0);
  return l != (locale_t) 0 ? l : NULL;
}

void
lodge_tar_locale_push (LodgeTarLocale *l)
{
  static GOnce once = G_ONCE_INIT;
  locale_t utf8 = g_once (&once, make_utf8_locale, NULL);
  /* Without C.UTF-8, the process locale stays: UTF-8 names may then
   * fail to convert, and are refused rather than changed. */
  l->old = utf8 != NULL ? uselocale (utf8) : (locale_t) 0;
}

void
lodge_tar_locale_pop (LodgeTarLocale *l)
{
  if (l->old != (locale_t) 0)
    uselocale (l->old);
  l->old = (locale_t) 0;
}

/* ---- times before 1970 ---- */

static void
mtime_to_archive (gint64 sec, long nsec, gint64 *ret_sec, long *ret_nsec)
{
  if (sec >= 0 || nsec == 0)
    {
      *ret_sec = sec;
      *ret_nsec = nsec;
    }
  else if (sec == -1) /* would need "-0.F", which libarchive cannot write */
    {
      *ret_sec = -1;
      *ret_nsec = 0;
    }
  else /* {-2 s, 0.25 s} is -1.75 s, written "-1.75" from {-1, 0.75} */
    {
      *ret_sec = sec + 1;
      *ret_nsec = NSEC_PER_SEC - nsec;
    }
}

void
lodge_tar_mtime_from_archive (gint64 sec, long nsec, gint64 *ret_sec, guint32 *ret_nsec)
{
  if (sec < 0 && nsec > 0 && nsec < NSEC_PER_SEC)
    {
      *ret_sec = sec - 1;
      *ret_nsec = NSEC_PER_SEC - nsec;
    }
  else
    {
      *ret_sec = sec;
      *ret_nsec = nsec >= 0 && nsec < NSEC_PER_SEC ? nsec : 0;
    }
}

/* ---- names ---- */

char *
lodge_tar_xattr_decode (const char *keyword)
{
  GString *out = g_string_new (NULL);
  for (const char *p = keyword; *p != '\0'; p++)
    {
      if (g_str_has_prefix (p, "%3D"))
        {
          g_string_append_c (out, '=');
          p += 2;
        }
      else if (g_str_has_prefix (p, "%25"))
        {
          g_string_append_c (out, '%');
          p += 2;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

void
lodge_tar_entry_add_xattrs (struct archive_entry *e, GHashTable *xattrs)
{
  g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (xattrs), (GCompareFunc) strcmp);
  for (GList *l = names; l != NULL; l = l->next)
    {
      GBytes *v = g_hash_table_lookup (xattrs, l->data);
      archive_entry_xattr_add_entry (e, l->data, g_bytes_get_data (v, NULL), g_bytes_get_size (v));
    }
}

char *
lodge_tar_quote (const char *name, gsize len)
{
  GString *out = g_string_new (NULL);
  const char *p = name, *end = name + len;
  for (guint n = 0; p < end && n < 200; n++)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x20 || (c >= 0x7f && c < 0xa0))
        {
          g_string_append_printf (out, "\\x%02x", (guint8) *p);
          p++;
        }
      else
        {
          const char *next = g_utf8_next_char (p);
          g_string_append_len (out, p, next - p);
          p = next;
        }
    }
  if (p < end)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

void
lodge_tar_entry_free (LodgeTarEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->name);
  g_free (entry->link);
  g_clear_pointer (&entry->xattrs, g_hash_table_unref);
  g_free (entry->sha256);
  g_free (entry);
}

/* ---- progress ---- */

void
lodge_tar_report_start (LodgeTarReport *r, guint64 total)
{
  r->total = total;
  r->reported = 0;
  r->reported_time = g_get_monotonic_time ();
  if (r->func != NULL)
    r->func (0, total, r->user_data);
}

void
lodge_tar_report (LodgeTarReport *r, guint64 done, gboolean last)
{
  if (r->func == NULL)
    return;
  if (last)
    done = r->total = MAX (done, r->total);
  else
    {
      done = MIN (done, r->total);
      if (done - r->reported < 1024 * 1024)
        return;
      gint64 now = g_get_monotonic_time ();
      if (now - r->reported_time < PROGRESS_INTERVAL_US)
        return;
      r->reported_time = now;
    }
  r->reported = done;
  r->func (done, r->total, r->user_data);
}

/* ---- the canonical writer ---- */

struct _LodgeTarWriter {
  char *out_path;
  char *tmp_path;
  int fd;
  struct archive *a;
  gboolean finished;
};

void
lodge_tar_writer_free (LodgeTarWriter *w)
{
  if (w == NULL)
    return;
  if (w->a != NULL)
    archive_write_free (w->a); /* closes: the archive may be incomplete */
  if (w->fd >= 0)
    close (w->fd);
  if (!w->finished && w->tmp_path != NULL)
    g_unlink (w->tmp_path);
  g_free (w->out_path);
  g_free (w->tmp_path);
  g_free (w);
}

static gboolean
writer_fail (LodgeTarWriter *w, GError **error)
{
  int code = archive_errno (w->a);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot write: %s", w->out_path,
               code > 0 ? g_strerror (code) : archive_error_string (w->a));
  return FALSE;
}

LodgeTarWriter *
lodge_tar_writer_new (const char *out_path, GError **error)
{
  g_autoptr (LodgeTarWriter) w = g_new0 (LodgeTarWriter, 1);
  w->out_path = g_strdup (out_path);
  w->tmp_path = g_strconcat (out_path, ".XXXXXX", NULL);
  w->fd = g_mkstemp_full (w->tmp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (w->fd < 0)
    {
      int saved = errno;
      g_clear_pointer (&w->tmp_path, g_free);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot create: %s", out_path,
                   g_strerror (saved));
      return NULL;
    }
  w->a = archive_write_new ();
  if (w->a == NULL)
    g_error ("archive_write_new: out of memory");
  /* Full pax, not "restricted" pax, which drops an mtime's nanoseconds
   * unless the entry needs a pax header for something else. Entries
   * carry no atime, ctime or birth time, so their pax header holds only
   * what the ustar header cannot. SCHILY.xattr records only: GNU tar
   * ignores LIBARCHIVE.xattr ones. */
  if (archive_write_set_format_pax (w->a) != ARCHIVE_OK
      || archive_write_set_options (w->a, "xattrheader=SCHILY") != ARCHIVE_OK
      || archive_write_add_filter_none (w->a) != ARCHIVE_OK
      || archive_write_open_fd (w->a, w->fd) != ARCHIVE_OK)
    {
      writer_fail (w, error);
      return NULL;
    }
  return g_steal_pointer (&w);
}

void
lodge_tar_writer_file_id (LodgeTarWriter *w, dev_t *ret_dev, ino_t *ret_ino)
{
  struct stat st = { 0 };
  fstat (w->fd, &st);
  *ret_dev = st.st_dev;
  *ret_ino = st.st_ino;
}

/* Bytes of the pax header libarchive will write for @e, or more. */
static gsize
meta_size (struct archive_entry *e)
{
  const char *name = archive_entry_pathname (e);
  const char *link = archive_entry_hardlink (e) ?: archive_entry_symlink (e);
  gsize size = 256 + strlen (name) + (link != NULL ? strlen (link) : 0);
  const char *key;
  const void *value;
  size_t len;
  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &key, &value, &len) == ARCHIVE_OK)
    size += 3 * strlen (key) + len + 32; /* "LEN SCHILY.xattr.KEY=VALUE\n" */
  return size;
}

static gboolean
check_entry (struct archive_entry *e, const char *subject, GError **error)
{
  const char *link = archive_entry_hardlink (e) ?: archive_entry_symlink (e);
  if (strlen (archive_entry_pathname (e)) > LODGE_TAR_MAX_NAME
      || (link != NULL && strlen (link) > LODGE_TAR_MAX_NAME))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: the name or link target in the archive would be longer than %d bytes",
                   subject, LODGE_TAR_MAX_NAME);
      return FALSE;
    }
  const char *key;
  const void *value;
  size_t len;
  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &key, &value, &len) == ARCHIVE_OK)
    for (const guint8 *p = (const guint8 *) key; *p != '\0'; p++)
      if (*p < '!' || *p > '~')
        {
          g_autofree char *shown = lodge_tar_quote (key, strlen (key));
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: extended attribute name '%s' has a space, a control or a non-ASCII "
                       "character, which GNU tar would not restore under that name", subject,
                       shown);
          return FALSE;
        }
  gsize meta = meta_size (e);
  if (meta > LODGE_TAR_MAX_META)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: %" G_GSIZE_FORMAT " bytes of names and extended attributes; the limit "
                   "is %d", subject, meta, LODGE_TAR_MAX_META);
      return FALSE;
    }
  return TRUE;
}

gboolean
lodge_tar_writer_header (LodgeTarWriter *w, struct archive_entry *entry, const char *subject,
                         GError **error)
{
  if (!check_entry (entry, subject, error))
    return FALSE;
  gint64 sec = 0;
  long nsec = 0;
  mtime_to_archive (archive_entry_mtime (entry), archive_entry_mtime_nsec (entry), &sec, &nsec);
  archive_entry_set_mtime (entry, sec, nsec);
  int r = archive_write_header (w->a, entry);
  /* libarchive warns when a name is not UTF-8 and writes it as it is,
   * with hdrcharset=BINARY (GNU tar ignores that record and takes the
   * bytes as they are). Any other warning is an error. */
  const char *link = archive_entry_hardlink (entry) ?: archive_entry_symlink (entry);
  gboolean utf8 = g_utf8_validate (archive_entry_pathname (entry), -1, NULL)
                  && (link == NULL || g_utf8_validate (link, -1, NULL));
  if (r == ARCHIVE_OK || (r == ARCHIVE_WARN && !utf8))
    return TRUE;
  return writer_fail (w, error);
}

gboolean
lodge_tar_writer_data (LodgeTarWriter *w, const void *buf, gsize len, GError **error)
{
  const guint8 *p = buf;
  while (len > 0)
    {
      la_ssize_t n = archive_write_data (w->a, p, len);
      if (n <= 0)
        return writer_fail (w, error);
      p += n;
      len -= n;
    }
  return TRUE;
}

gboolean
lodge_tar_writer_finish (LodgeTarWriter *w, GError **error)
{
  if (archive_write_close (w->a) != ARCHIVE_OK)
    return writer_fail (w, error);
  int fd = w->fd;
  w->fd = -1;
  if (close (fd) < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot write: %s", w->out_path,
                   g_strerror (saved));
      return FALSE;
    }
  if (rename (w->tmp_path, w->out_path) < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot rename to %s: %s",
                   w->tmp_path, w->out_path, g_strerror (saved));
      return FALSE;
    }
  w->finished = TRUE;
  return TRUE;
}
