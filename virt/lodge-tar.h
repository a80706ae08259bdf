/* Tar archives for filling a guest filesystem with guestfs_tar_in_opts().
 *
 * libguestfs unpacks with GNU tar inside its appliance:
 *   tar -C DIR -xf - [--gzip] --xattrs --xattrs-include='*'
 * as root, without --numeric-owner. This module writes such archives from a
 * host directory (library code only, no external tar) and checks archives
 * supplied by users before they are handed to the appliance. Errors are in
 * the LODGE_ERROR domain: LODGE_ERROR_INVALID for refused content (the
 * message names the path or the archive entry), LODGE_ERROR_IO when a file
 * cannot be read or written. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"

G_BEGIN_DECLS

typedef struct {
  guint64 files;       /* regular files, counting each inode once */
  guint64 directories; /* including the root "./" */
  guint64 symlinks;
  guint64 hardlinks;   /* second and later names of an inode */
  guint64 fifos;
  guint64 bytes;       /* content of the regular files */
} LodgeTarStats;

/* Pass lodge_tar_compression_to_string() ("gzip") as the compress
 * optional argument of guestfs_tar_in_opts(); omit it for NONE. */
typedef enum {
  LODGE_TAR_COMPRESSION_NONE,
  LODGE_TAR_COMPRESSION_GZIP,
  LODGE_TAR_COMPRESSION_LAST
} LodgeTarCompression;
LODGE_ENUM_DECL (lodge_tar_compression); /* "none", "gzip" */

/* Content bytes written so far out of the total found by a first pass over
 * the tree. Called with 0 before the first file, then at most once per MiB
 * and at most about four times a second, and once at the end with
 * bytes_done == bytes_total. */
typedef void (*LodgeTarProgress) (guint64 bytes_done, guint64 bytes_total, gpointer user_data);

/* Writes an uncompressed POSIX pax archive of the tree under @dir to
 * @out_path (created mode 0600 under a temporary name and renamed into
 * place on success, removed on failure).
 *
 * Entries: the root as "./" (GNU tar applies its mode, owner and mtime to
 * the directory it extracts into, so the filesystem root gets those of
 * @dir), then every name under it, relative ("etc/", "etc/hosts"), each
 * directory's names sorted bytewise, depth first: the same tree gives the
 * same bytes. Kept: content, directories, symlink targets as they are,
 * hard links (second and later names of a device+inode become link
 * entries to the first), FIFOs, numeric uid/gid (user and group names
 * are left empty, so GNU tar uses the numbers even without
 * --numeric-owner), mode bits 07777, mtime with nanoseconds, all extended
 * attributes (SCHILY.xattr records, as GNU tar --xattrs reads them).
 * Names and targets of 100 bytes or more, sizes from 8 GiB and ids over
 * 2097151 go in pax records. ACLs travel as their system.posix_acl_*
 * xattrs. Sparse files are stored with their holes as zeros. atime and
 * ctime are not kept.
 *
 * Refused (LODGE_ERROR_INVALID, naming the path): character and block
 * devices (the guest's devtmpfs provides /dev), names longer than
 * LODGE_TAR_MAX_NAME, more than LODGE_TAR_MAX_META bytes of names and
 * xattrs for one file. Skipped silently: sockets, and @out_path itself if
 * it lies in the tree. @dir itself may be a symlink; nothing below it is
 * ever followed (openat/fstatat with O_NOFOLLOW/AT_SYMLINK_NOFOLLOW). A
 * file that changes size or mtime while it is copied fails the write.
 * Content is streamed; memory use does not grow with file sizes.
 *
 * @progress may be NULL. On success *@ret_stats (may be NULL) describes
 * what was written. */
gboolean lodge_tar_write_tree (const char *dir, const char *out_path, LodgeTarProgress progress,
                               gpointer user_data, LodgeTarStats *ret_stats, GError **error);

/* Reads the archive at @path from start to end-of-archive marker, plain or
 * gzip-compressed (by magic bytes; compress, bzip2, xz, zstd, lzip and lzop
 * are refused, naming the format), streaming: memory use does not grow with
 * the archive, and metadata records (pax headers, GNU long names) are
 * capped at LODGE_TAR_MAX_META bytes.
 *
 * Refused, with the offending entry named: a name that is absolute, has
 * a ".." component, is empty, has a NUL inside (or bytes after the NUL
 * that ends it), is longer than LODGE_TAR_MAX_NAME, or lies below a
 * symlink defined earlier in the archive; the same for hard link targets;
 * an empty symlink target; character and block devices; sparse,
 * multi-volume and other entry types GNU tar would not extract as a file,
 * directory, link or FIFO; path, linkpath or size in a global pax header;
 * two pax headers or long names for one entry; a bad header checksum, a
 * malformed number or pax record, a size that overflows, a size on an
 * entry type that has no data, a truncated archive or one without an
 * end-of-archive marker, trailing bytes after the gzip data. Symlink
 * targets may be absolute or contain ".." (they are resolved in the
 * guest, and GNU tar only creates such links after all other entries).
 * Which name an entry has is decided as GNU tar decides it: pax path over
 * GNU long name over the header's prefix/name.
 *
 * Not checked: owner names. Without --numeric-owner, which tar-in does
 * not pass, GNU tar maps a user or group name that exists in the
 * appliance's /etc/passwd or /etc/group to the appliance's id for it
 * (lodge_tar_write_tree() leaves the names empty for this reason).
 *
 * On success sets *@ret_compression and *@ret_stats (either may be NULL). */
gboolean lodge_tar_check (const char *path, LodgeTarCompression *ret_compression,
                          LodgeTarStats *ret_stats, GError **error);

/* Cap on one pax header or GNU long name/link record. */
#define LODGE_TAR_MAX_META (1024 * 1024)
/* Longest name or link target (PATH_MAX - 1: GNU tar cannot extract
 * longer ones). */
#define LODGE_TAR_MAX_NAME 4095

G_END_DECLS
