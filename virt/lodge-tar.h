/* Tar archives for filling a guest filesystem with guestfs_tar_in_opts().
 *
 * libguestfs unpacks with GNU tar inside its appliance:
 *   tar -C DIR -xf - [--gzip] --xattrs --xattrs-include='*'
 * as root, without --numeric-owner. Archives are read and written with
 * libarchive; what remains here is Lodge's policy (what a template may
 * hold) and the glue. The appliance only ever unpacks an archive written
 * here: a user's tree is packed (lodge_tar_write_tree()) and a user's
 * archive is read, checked entry by entry and written again
 * (lodge_tar_rewrite()), so GNU tar never sees bytes that libarchive read
 * differently. Errors are in the LODGE_ERROR domain: LODGE_ERROR_INVALID
 * for refused content (the message names the path or the archive entry),
 * LODGE_ERROR_IO when a file cannot be read or written. */
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

/* Progress of a write: bytes done out of a total known beforehand (a
 * tree's content bytes, found by a first pass; an archive's file size,
 * counted as it is read). Called with 0 first, then at most once per MiB
 * and at most about four times a second, and once at the end with
 * bytes_done == bytes_total. */
typedef void (*LodgeTarProgress) (guint64 bytes_done, guint64 bytes_total, gpointer user_data);

/* The archives written here (by both functions below) are uncompressed
 * POSIX pax archives (a pax header only for what a ustar header cannot
 * hold), written by libarchive to @out_path (created mode 0600
 * under a temporary name and renamed into place on success, removed on
 * failure). Kept: content, directories, symlink targets as they are, hard
 * links (to the first name of the inode), FIFOs, numeric uid/gid (user
 * and group names are left empty, so GNU tar uses the numbers even
 * without --numeric-owner), mode bits 07777, mtime with nanoseconds (as
 * GNU tar reads pax times, also before 1970), extended attributes
 * (SCHILY.xattr records, as GNU tar --xattrs reads them; ACLs travel as
 * their system.posix_acl_* attributes). Not kept: atime, ctime, file
 * flags, sparseness (holes are written as zeros). Names go in the ustar
 * header or, when long or not ASCII, in pax records.
 *
 * Refused for both (LODGE_ERROR_INVALID, naming the path or entry): names
 * longer than LODGE_TAR_MAX_NAME; more than LODGE_TAR_MAX_META bytes of
 * names and extended attributes for one file; an extended attribute whose
 * name has a byte below '!' or above '~' (libarchive escapes those in the
 * record's keyword and GNU tar does not unescape them, so the guest would
 * get another name). */

/* Writes the tree under @dir to @out_path. Entries: the root as "./"
 * (GNU tar applies its mode, owner and mtime to the directory it extracts
 * into, so the filesystem root gets those of @dir), then every name under
 * it, relative ("etc/", "etc/hosts"), each directory's names sorted
 * bytewise, depth first: the same tree gives the same bytes. Metadata is
 * read by libarchive (archive_read_disk_entry_from_file()) from a
 * descriptor opened here.
 *
 * Refused besides the above: character and block devices (the guest's
 * devtmpfs provides /dev), before anything is written. Skipped silently:
 * sockets, and @out_path itself if it lies in the tree. @dir itself may
 * be a symlink; nothing below it is ever followed (openat/fstatat with
 * O_NOFOLLOW/AT_SYMLINK_NOFOLLOW). A file that changes size or mtime while
 * it is copied fails the write. Content is streamed; memory use does not
 * grow with file sizes.
 *
 * @progress may be NULL. On success *@ret_stats (may be NULL) describes
 * what was written. */
gboolean lodge_tar_write_tree (const char *dir, const char *out_path, LodgeTarProgress progress,
                               gpointer user_data, LodgeTarStats *ret_stats, GError **error);

/* Reads the archive at @path with libarchive from start to end-of-archive
 * marker, plain or gzip-compressed (compress, bzip2, xz, zstd, lzip and
 * lzop are refused, naming the format), streaming: memory use does not
 * grow with the archive, and metadata records (pax headers, GNU long
 * names) are capped at 1 MiB by libarchive.
 *
 * Refused, with the offending entry named: a name that is absolute, has
 * a ".." component, is empty, is longer than LODGE_TAR_MAX_NAME, or lies
 * below a symlink defined earlier in the archive; the same for hard link
 * targets; an empty or too long symlink target; character and block
 * devices; sparse files; a hard link with data; a root ("." or "./") that
 * is not a directory; a negative uid or gid; anything libarchive reports,
 * even as a warning (a bad header checksum, a malformed pax record, a
 * truncated archive or gzip stream), but that a name in a pax record is
 * not UTF-8 (its bytes are kept, as GNU tar keeps them); an archive
 * without an end-of-archive marker. Symlink targets may be absolute or
 * contain ".." (they are resolved in the guest, and GNU tar only creates
 * such links after all other entries). Entry types libarchive does not
 * know are read as regular files, as POSIX says, and written as such.
 *
 * On success sets *@ret_compression and *@ret_stats (either may be NULL). */
gboolean lodge_tar_check (const char *path, LodgeTarCompression *ret_compression,
                          LodgeTarStats *ret_stats, GError **error);

/* lodge_tar_check() of the archive at @path that also writes what it read
 * to @out_path (see above), for the appliance to unpack: names as checked
 * ("./" for the root, no "." or empty components, directories with a
 * '/'), with only the metadata listed above (owner names, ACL records,
 * global pax headers and other extensions of the input are dropped). The
 * output is uncompressed whatever the input. @progress (may be NULL)
 * counts bytes of the file at @path. */
gboolean lodge_tar_rewrite (const char *path, const char *out_path, LodgeTarProgress progress,
                            gpointer user_data, LodgeTarCompression *ret_compression,
                            LodgeTarStats *ret_stats, GError **error);

/* Unpacks the archive at @path (checked first as lodge_tar_check does:
 * no absolute or ".." names, no device nodes) into the existing, empty
 * directory @dir: owners, modes, times and extended attributes kept; no
 * entry written through a symlink or outside @dir (libarchive's secure
 * extraction). For the controller, which imports an application template
 * uploaded as an archive from the tree it unpacks into a private
 * directory. */
gboolean lodge_tar_extract (const char *path, const char *dir, GError **error);

/* Cap on the pax header of one entry that Lodge writes (libarchive reads
 * no more). */
#define LODGE_TAR_MAX_META (1024 * 1024)
/* Longest name or link target (PATH_MAX - 1: GNU tar cannot extract
 * longer ones). */
#define LODGE_TAR_MAX_NAME 4095

G_END_DECLS
