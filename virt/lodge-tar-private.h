/* Internals of lodge-tar shared by the writer and the reader, and the
 * test-only listing entry point. */
#pragma once

#include <glib.h>

#include "lodge-tar.h"

G_BEGIN_DECLS

#define LODGE_TAR_BLOCK 512

/* POSIX ustar header (one 512-byte block). */
typedef struct {
  char name[100];
  char mode[8];
  char uid[8];
  char gid[8];
  char size[12];
  char mtime[12];
  char chksum[8];
  char typeflag;
  char linkname[100];
  char magic[6];
  char version[2];
  char uname[32];
  char gname[32];
  char devmajor[8];
  char devminor[8];
  char prefix[155];
  char pad[12];
} LodgeTarHeader;
G_STATIC_ASSERT (sizeof (LodgeTarHeader) == LODGE_TAR_BLOCK);

/* The checksum of @h with its chksum field counted as spaces, as unsigned
 * and (for old writers) signed bytes. */
void lodge_tar_header_sums (const LodgeTarHeader *h, guint32 *ret_unsigned, gint32 *ret_signed);

/* Fills @h as a ustar header (magic, version, empty user and group names,
 * checksum) and appends to @pax the records for what does not fit: path,
 * linkpath (100 bytes or more), size (8 GiB or more), uid, gid (over
 * 2097151), mtime (nanoseconds, negative or after 2242). */
void lodge_tar_header_format (LodgeTarHeader *h, char typeflag, const char *name,
                              const char *link, guint32 mode, guint64 uid, guint64 gid,
                              guint64 size, gint64 mtime, guint32 mtime_nsec, GString *pax);

/* The checksum field of @h matches (unsigned or signed sum). */
gboolean lodge_tar_header_checksum_ok (const LodgeTarHeader *h);

typedef enum {
  LODGE_TAR_NUMBER_OK,
  LODGE_TAR_NUMBER_MALFORMED,
  LODGE_TAR_NUMBER_OVERFLOW,
} LodgeTarNumber;

/* A numeric header field as GNU tar reads it: octal (leading spaces,
 * digits, then only spaces or NULs) or base-256 (high bit set, 0x40 the
 * sign); anything that does not fit in 64 signed bits overflows. */
LodgeTarNumber lodge_tar_parse_field (const char *field, gsize width, gint64 *ret);
/* Decimal digits only, at least one. */
LodgeTarNumber lodge_tar_parse_decimal (const char *s, gsize len, guint64 *ret);
/* A pax time, [-]seconds[.fraction]; digits past nanoseconds are dropped. */
gboolean lodge_tar_parse_mtime (const char *s, gsize len, gint64 *ret_sec, guint32 *ret_nsec);

/* A NUL-padded string (a header field, a GNU long name record): FALSE
 * when bytes follow the first NUL, a name that means different things to
 * different readers. *@ret_shown_len covers them, for messages. */
gboolean lodge_tar_padded_string (const char *f, gsize width, char **ret, gsize *ret_shown_len);

/* Appends the pax record "LEN key=value\n"; @value may hold any bytes. */
void lodge_tar_pax_append (GString *pax, const char *key, const char *value, gsize value_len);

/* GNU tar's escaping of an xattr name in a SCHILY.xattr.NAME keyword:
 * '%' as "%25", '=' as "%3D". */
char *lodge_tar_xattr_encode (const char *name);
char *lodge_tar_xattr_decode (const char *keyword);

/* @len bytes of a name as shown in messages: valid UTF-8 as is, control
 * characters and invalid bytes as \xNN, at most 200 characters. */
char *lodge_tar_quote (const char *name, gsize len);

/* The bytes of an archive file, decompressed when it is gzip. */
typedef struct _LodgeTarStream LodgeTarStream;

/* Opens @path and tells plain from gzip by the first bytes (a valid tar
 * header wins over magic numbers); refuses compress, bzip2, xz, zstd,
 * lzip and lzop, naming the format. */
LodgeTarStream *lodge_tar_stream_open (const char *path, LodgeTarCompression *ret_compression,
                                       GError **error);
/* Up to @len bytes; fewer only at the end. Refuses gzip data that is
 * corrupt, truncated, or followed by anything but more gzip members or
 * zero padding. */
gboolean lodge_tar_stream_read (LodgeTarStream *s, void *buf, gsize len, gsize *ret_got,
                                GError **error);
/* Bytes delivered so far. */
guint64 lodge_tar_stream_offset (LodgeTarStream *s);
void lodge_tar_stream_free (LodgeTarStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTarStream, lodge_tar_stream_free)

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
  char *name;          /* as in the archive: "./", "etc/", "etc/hosts" */
  char *link;          /* symlink or hard link target; NULL otherwise */
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
