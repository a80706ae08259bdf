/* Internals of lodge-tar shared by the tree writer (lodge-tar-write.c)
 * and the archive reader (lodge-tar-read.c), and the test-only listing
 * entry point. */
#pragma once

#include <locale.h>
#include <glib.h>
#include <archive.h>
#include <archive_entry.h>

#include "lodge-tar.h"

G_BEGIN_DECLS

/* libarchive converts names between the locale's charset and the UTF-8 of
 * pax records. Lodge runs its calls in C.UTF-8 whatever the process
 * locale, so UTF-8 names pass unchanged and a name that is not UTF-8 is
 * noticed. Push before the first libarchive call, pop (g_auto) after the
 * last. */
typedef struct {
  locale_t old;
} LodgeTarLocale;

void lodge_tar_locale_push (LodgeTarLocale *l);
void lodge_tar_locale_pop (LodgeTarLocale *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeTarLocale, lodge_tar_locale_pop)

/* libarchive 3.6 writes and reads a pax mtime before 1970 as
 * "-SECONDS.FRACTION" meaning -SECONDS + FRACTION, where GNU tar (and
 * POSIX) read -(SECONDS.FRACTION). lodge_tar_writer_header() converts the
 * entry's time so that GNU tar gets it (a time in (-1 s, 0) cannot be
 * given to libarchive 3.6 that way and loses its fraction); this is the
 * converse, for times libarchive read ("-0.F" reads as +0.F). */
void lodge_tar_mtime_from_archive (gint64 sec, long nsec, gint64 *ret_sec, guint32 *ret_nsec);

/* GNU tar's unescaping of an xattr name in a SCHILY.xattr.NAME keyword:
 * "%25" as '%', "%3D" as '='. */
char *lodge_tar_xattr_decode (const char *keyword);

/* Adds @xattrs (name -> GBytes) to @e sorted by name: the same
 * attributes give the same bytes. */
void lodge_tar_entry_add_xattrs (struct archive_entry *e, GHashTable *xattrs);

/* @len bytes of a name as shown in messages: valid UTF-8 as is, control
 * characters and invalid bytes as \xNN, at most 200 characters. */
char *lodge_tar_quote (const char *name, gsize len);

/* The canonical archive being written (see lodge-tar.h): libarchive's pax
 * writer to a temporary file next to @out_path. */
typedef struct _LodgeTarWriter LodgeTarWriter;

LodgeTarWriter *lodge_tar_writer_new (const char *out_path, GError **error);
/* Writes the header of @entry, a clean entry holding only what Lodge
 * keeps, with the file's own mtime (converted here, see above; @entry is
 * changed). Refuses, as "@subject: reason", names and xattrs listed in
 * lodge-tar.h. */
gboolean lodge_tar_writer_header (LodgeTarWriter *w, struct archive_entry *entry,
                                  const char *subject, GError **error);
gboolean lodge_tar_writer_data (LodgeTarWriter *w, const void *buf, gsize len, GError **error);
/* The end of the archive; renames the file into place. */
gboolean lodge_tar_writer_finish (LodgeTarWriter *w, GError **error);
/* Removes the temporary file unless finished. */
void lodge_tar_writer_free (LodgeTarWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTarWriter, lodge_tar_writer_free)
/* Device and inode of the file being written, so a tree walk can skip it. */
void lodge_tar_writer_file_id (LodgeTarWriter *w, dev_t *ret_dev, ino_t *ret_ino);

/* Calls @progress with 0 of @total now, then as lodge-tar.h says. */
typedef struct {
  LodgeTarProgress func;
  gpointer user_data;
  guint64 total;
  guint64 reported;
  gint64 reported_time;
} LodgeTarReport;

void lodge_tar_report_start (LodgeTarReport *r, guint64 total);
void lodge_tar_report (LodgeTarReport *r, guint64 done, gboolean last);

/* What lodge_tar_list() reports: entries that lodge_tar_check() accepts. */
typedef enum {
  LODGE_TAR_ENTRY_FILE,
  LODGE_TAR_ENTRY_HARDLINK,
  LODGE_TAR_ENTRY_SYMLINK,
  LODGE_TAR_ENTRY_DIRECTORY,
  LODGE_TAR_ENTRY_FIFO,
  LODGE_TAR_ENTRY_LAST
} LodgeTarEntryType;
LODGE_ENUM_DECL (lodge_tar_entry_type); /* "file", "hardlink", ... */

typedef struct {
  LodgeTarEntryType type;
  char *name;          /* as libarchive read it: "./", "etc/", "etc/hosts" */
  char *link;          /* symlink or hard link target, as read; NULL otherwise */
  guint32 mode;        /* 07777 bits */
  guint64 uid, gid;
  gint64 mtime;
  guint32 mtime_nsec;
  guint64 size;        /* content bytes (files only) */
  GHashTable *xattrs;  /* name -> GBytes */
  char *sha256;        /* of the content (files only) */
} LodgeTarEntry;

void lodge_tar_entry_free (LodgeTarEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTarEntry, lodge_tar_entry_free)

/* lodge_tar_check() that also returns the entries, in archive order
 * (LodgeTarEntry, owned by the array). */
GPtrArray *lodge_tar_list (const char *path, LodgeTarCompression *ret_compression,
                           LodgeTarStats *ret_stats, GError **error);

G_END_DECLS
