/* Unpacking an archive into a private directory, with libarchive's
 * secure extraction (lodge-tar.h). */
#include "lodge-tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lodge-error.h"

static gboolean
archive_failed (struct archive *a, const char *path, GError **error)
{
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: %s", path,
               archive_error_string (a) != NULL ? archive_error_string (a) : "unreadable archive");
  return FALSE;
}

gboolean
lodge_tar_extract (const char *path, const char *dir, GError **error)
{
  g_return_val_if_fail (path != NULL && dir != NULL, FALSE);
  if (!lodge_tar_check (path, NULL, NULL, error))
    return FALSE;
  int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  close (dirfd);
  struct archive *in = archive_read_new ();
  archive_read_support_format_tar (in);
  archive_read_support_filter_gzip (in);
  struct archive *out = archive_write_disk_new ();
  /* Names get @dir in front (absolute, so not SECURE_NOABSOLUTEPATHS:
   * lodge_tar_check refused absolute names already). */
  archive_write_disk_set_options (out, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                         | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM
                                         | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
                                         | ARCHIVE_EXTRACT_UNLINK);
  gboolean ok = archive_read_open_filename (in, path, 64 * 1024) == ARCHIVE_OK
                  ? TRUE
                  : archive_failed (in, path, error);
  struct archive_entry *entry;
  while (ok)
    {
      int r = archive_read_next_header (in, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK)
        {
          ok = archive_failed (in, path, error);
          break;
        }
      /* Names under @dir; libarchive refuses ".." in them, and any entry
       * whose path goes through a symlink. */
      g_autofree char *name = g_build_filename (dir, archive_entry_pathname (entry), NULL);
      archive_entry_copy_pathname (entry, name);
      const char *hardlink = archive_entry_hardlink (entry);
      g_autofree char *link = hardlink != NULL ? g_build_filename (dir, hardlink, NULL) : NULL;
      if (link != NULL)
        archive_entry_copy_hardlink (entry, link);
      if (archive_write_header (out, entry) != ARCHIVE_OK)
        {
          ok = archive_failed (out, archive_entry_pathname (entry), error);
          break;
        }
      const void *buf;
      size_t len;
      la_int64_t offset;
      while (ok && (r = archive_read_data_block (in, &buf, &len, &offset)) == ARCHIVE_OK)
        if (archive_write_data_block (out, buf, len, offset) != ARCHIVE_OK)
          ok = archive_failed (out, name, error);
      if (ok && r != ARCHIVE_EOF)
        ok = archive_failed (in, path, error);
      if (ok && archive_write_finish_entry (out) != ARCHIVE_OK)
        ok = archive_failed (out, name, error);
    }
  if (ok && archive_write_close (out) != ARCHIVE_OK)
    ok = archive_failed (out, dir, error);
  archive_read_free (in);
  archive_write_free (out);
  return ok;
}
