/* libguestfs, for everything Lodge does to a guest filesystem without
 * booting the guest: building templates, and (later) repair. The
 * filesystem is only ever mounted inside the libguestfs appliance, never on
 * the host; guestfs_last_error() is read here and nowhere else. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LODGE_GUESTFS_ERROR (lodge_guestfs_error_quark ())
GQuark lodge_guestfs_error_quark (void);

typedef enum {
  LODGE_GUESTFS_ERROR_FAILED,
  LODGE_GUESTFS_ERROR_LAUNCH, /* the appliance did not start */
  LODGE_GUESTFS_ERROR_INVALID, /* refused: a path or value that cannot be (repair) */
  LODGE_GUESTFS_ERROR_NOT_FOUND, /* no such file in the guest (repair) */
} LodgeGuestfsErrorCode;

typedef struct _LodgeGuestfs LodgeGuestfs;

/* Lodge's own appliance (images/appliance, docs/repair.md) for every
 * handle made after: @dir holds vmlinuz (the appliance kernel), modules/
 * and supermin.d/. supermin builds the appliance from them once, into a
 * cache directory of its own under $LIBGUESTFS_CACHEDIR (default
 * /var/tmp) named by the kernel and the init, so that a new kernel or init
 * makes a new appliance. It sets supermin's environment (SUPERMIN_KERNEL,
 * SUPERMIN_MODULES): call it before any thread starts. FALSE with @error
 * naming what @dir lacks; then nothing is changed and handles use
 * libguestfs's own appliance. */
gboolean lodge_guestfs_use_appliance (const char *dir, GError **error);

/* A handle with the direct backend, under TCG when KVM does not really
 * work here (lodge_accel_probe), with Lodge's appliance when one was set. */
LodgeGuestfs *lodge_guestfs_new (GError **error);
void lodge_guestfs_free (LodgeGuestfs *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeGuestfs, lodge_guestfs_free)

/* An RBD image (or a snapshot of it when @snap is not NULL, read-only) as
 * the next disk. The appliance's QEMU reads the monitors and @client_id's
 * keyring from $CEPH_CONF, so no key is put on a command line. */
gboolean lodge_guestfs_add_rbd (LodgeGuestfs *g, const char *pool, const char *image,
                                const char *snap, const char *client_id, gboolean readonly,
                                GError **error);
/* Drives added from now on honour flushes (cache=writeback): a sync in
 * the appliance puts every write on the disk, so the disk can be
 * snapshotted while the appliance stays. Without it (cache=unsafe, for
 * building templates) writes reach the disk only at shutdown. */
void lodge_guestfs_set_durable (LodgeGuestfs *g, gboolean durable);
gboolean lodge_guestfs_add_file (LodgeGuestfs *g, const char *path, gboolean readonly,
                                 GError **error);
gboolean lodge_guestfs_launch (LodgeGuestfs *g, GError **error);

/* The first disk's device ("/dev/sda"). */
const char *lodge_guestfs_disk (LodgeGuestfs *g);

gboolean lodge_guestfs_mkfs_ext4 (LodgeGuestfs *g, const char *device, const char *label,
                                  GError **error);
gboolean lodge_guestfs_mount (LodgeGuestfs *g, const char *device, gboolean readonly,
                              GError **error);
/* Unpacks the local archive @tarfile ("gzip" or NULL @compress) at / of the
 * mounted filesystem, with extended attributes. */
gboolean lodge_guestfs_tar_in (LodgeGuestfs *g, const char *tarfile, const char *compress,
                               GError **error);
/* Unmounts, syncs and stops the appliance: only then is every write on the
 * disk. */
gboolean lodge_guestfs_shutdown (LodgeGuestfs *g, GError **error);

/* One file of a guest tree, as lstat sees it in the appliance. */
typedef enum {
  LODGE_FILE_REGULAR,
  LODGE_FILE_DIRECTORY,
  LODGE_FILE_SYMLINK,
  LODGE_FILE_FIFO,
  LODGE_FILE_SOCKET,
  LODGE_FILE_CHAR,
  LODGE_FILE_BLOCK,
  LODGE_FILE_LAST
} LodgeFileType;

typedef struct {
  char *path; /* "/etc/passwd" */
  LodgeFileType type;
  guint mode; /* permission bits, with setuid/setgid/sticky */
  guint uid, gid;
  guint64 size;
  guint64 nlink;
  guint64 ino;
  char *link;   /* symlink target */
  char *sha256; /* regular files */
  GHashTable *xattrs; /* name -> GBytes */
} LodgeFileEntry;

void lodge_file_entry_free (LodgeFileEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeFileEntry, lodge_file_entry_free)

/* A guest's file list is held whole (sorted, compared): at most this many
 * bytes of names (about a million paths of ordinary length). */
#define LODGE_GUESTFS_FIND_MAX_BYTES (64 << 20)

/* Every path under directory @dir of the appliance, relative to it
 * ("etc/passwd"; names may hold any byte but NUL and '/'), sorted; with
 * @skip_lost_found, without @dir's lost+found and what is in it. A list
 * over LODGE_GUESTFS_FIND_MAX_BYTES is refused (LODGE_GUESTFS_ERROR_INVALID),
 * read no further than its size. */
GPtrArray *lodge_guestfs_find (LodgeGuestfs *g, const char *dir, gboolean skip_lost_found,
                               GError **error);

/* Every file under the mounted root except lost+found, sorted by path,
 * with content checksums when @checksums. */
GPtrArray *lodge_guestfs_manifest (LodgeGuestfs *g, gboolean checksums, GError **error);

G_END_DECLS
