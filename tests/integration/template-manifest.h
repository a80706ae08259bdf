/* What a template holds, compared with the host tree it came from: the
 * helpers of test-template and test-template-gnutar. A manifest is a
 * GPtrArray of LodgeFileEntry with paths "/etc/hostname", the root itself
 * left out. */
#pragma once

#include <glib.h>

#include "lodge-guestfs.h"

G_BEGIN_DECLS

/* Lodge's appliance, as lodged uses it, from $LODGE_APPLIANCE (the build
 * tree's; CMake sets it) when it has a kernel, else libguestfs's own (said
 * on stderr). Call first in main(), before any thread. */
void use_lodge_appliance (void);

/* The tree under @tree as a manifest, sorted by path, in the form
 * lodge_guestfs_manifest() gives the guest's. */
GPtrArray *host_manifest (const char *tree);

/* What lstat says of a path beyond the manifest. */
typedef struct {
  guint mode; /* permission bits, with setuid/setgid/sticky */
  guint uid, gid;
  gint64 mtime_sec, mtime_nsec;
} FileStat;

/* lstat of @path on the host. */
FileStat host_stat (const char *path);

/* The manifest of @pool/@image (at @snap when not NULL), read in a
 * libguestfs appliance with @client_id's keyring; with @ret_stats, also
 * path -> FileStat of every path and of the root "/". */
GPtrArray *guest_manifest (const char *client_id, const char *pool, const char *image,
                           const char *snap, GHashTable **ret_stats);

/* Every entry of @host is in @guest with the same type, mode, owner, size,
 * content, link count, link target and, with @xattrs, extended
 * attributes (security.* of the guest aside); nothing else is. */
void assert_same_tree (GPtrArray *host, GPtrArray *guest, gboolean xattrs);

/* Every entry of @host (the manifest of @tree) has its mtime in @guest
 * (guest_manifest()'s stats): the seconds, and the nanoseconds when
 * @nsec (else none). The guest's root "/" has the mode, owner and mtime of
 * @tree itself. */
void assert_same_times (const char *tree, GPtrArray *host, GHashTable *guest, gboolean nsec);

G_END_DECLS
