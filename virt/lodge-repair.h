/* Offline repair of a VE's root disk: a libguestfs appliance with the VE's
 * RBD disk (or a snapshot of it) and the template version it was cloned
 * from, each mounted inside the appliance only (/ve, /tmpl), never on the
 * host.
 *
 * The guest filesystem is hostile input. Every path a caller names is
 * resolved here, component by component, inside the VE's root: ".." stops
 * at its root, an absolute symlink starts again from its root, and more
 * than 40 links is a loop. What reaches libguestfs is a symlink-free path,
 * so nothing the guest holds can point an operation at the appliance's
 * own files, let alone the host's. Names printed are quoted (control
 * characters and invalid UTF-8 as \xNN escapes), and file contents are
 * read in bounded chunks. */
#pragma once

#include <glib.h>

#include "lodge-app.h"

G_BEGIN_DECLS

typedef struct _LodgeRepair LodgeRepair;

typedef struct {
  const char *client_id; /* the Ceph user whose keyring $CEPH_CONF names */
  const char *pool, *image;
  const char *snap;      /* a snapshot of the VE's disk (read-only), or NULL */
  gboolean writable;     /* the disk itself, mounted read-write */
  /* The template version the disk is a clone of; NULL when unknown (no
   * diff or revert then). */
  const char *tmpl_pool, *tmpl_image, *tmpl_snap;
  /* Application template versions, read-only, for lodge_repair_app_install
   * (NULL-terminated "pool/image@snap" strings; NULL: none). */
  const char *const *apps;
} LodgeRepairDisks;

/* Output of an operation, in pieces: returns FALSE to stop (the reader
 * went away). */
typedef gboolean (*LodgeRepairOutput) (const char *data, gsize len, gpointer user_data);

/* Launches the appliance and mounts the disks; LODGE_GUESTFS_ERROR_LAUNCH
 * when the appliance does not start. */
LodgeRepair *lodge_repair_open (const LodgeRepairDisks *disks, GError **error);
/* Unmounts and syncs (every write is on the disk when it returns TRUE)
 * and stops the appliance. */
gboolean lodge_repair_close (LodgeRepair *r, GError **error);
void lodge_repair_free (LodgeRepair *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRepair, lodge_repair_free)

gboolean lodge_repair_is_writable (LodgeRepair *r);

/* A writable session kept between operations: sync puts every write on
 * the disk; quiesce also unmounts (a snapshot taken then is a clean
 * filesystem), resume mounts it again. */
gboolean lodge_repair_sync (LodgeRepair *r, GError **error);
gboolean lodge_repair_quiesce (LodgeRepair *r, GError **error);
gboolean lodge_repair_resume (LodgeRepair *r, GError **error);

/* @path resolved inside the VE's root ("/etc/../etc/x" -> "/etc/x"), with
 * the last component followed when it is a symlink and @follow_last. A
 * missing last component is fine (a file to create); a missing directory
 * on the way is not. */
char *lodge_repair_resolve (LodgeRepair *r, const char *path, gboolean follow_last,
                            GError **error);

/* @s printable on a terminal and on one line: '\\' as "\\\\", control
 * characters and invalid UTF-8 as \xNN. */
char *lodge_repair_quote (const char *s);

/* ---- reading: allowed on a snapshot of a running VE ---- */

/* One line per entry of directory @path (or the one file): type and mode,
 * owner, size, modification time, quoted name, link target. */
gboolean lodge_repair_ls (LodgeRepair *r, const char *path, LodgeRepairOutput out,
                          gpointer user_data, GError **error);
/* The bytes of regular file @path, in chunks of at most 1 MiB. */
gboolean lodge_repair_cat (LodgeRepair *r, const char *path, LodgeRepairOutput out,
                           gpointer user_data, GError **error);
/* Every path under @dir (NULL: /) whose name matches the glob @pattern
 * (the whole path when the pattern holds a '/'), quoted, one a line. */
gboolean lodge_repair_find (LodgeRepair *r, const char *pattern, const char *dir,
                            LodgeRepairOutput out, gpointer user_data, guint *ret_count,
                            GError **error);
/* With @file NULL: the files under /var/log with their sizes. Else the
 * last @lines lines of @file (relative names are under /var/log), read
 * from the end: a huge log costs only what is shown. */
gboolean lodge_repair_log (LodgeRepair *r, const char *file, guint lines, LodgeRepairOutput out,
                           gpointer user_data, GError **error);
/* Size, use and inodes of the VE's filesystem, like df. */
gboolean lodge_repair_df (LodgeRepair *r, LodgeRepairOutput out, gpointer user_data,
                          GError **error);

typedef struct {
  guint added, removed, changed;
  guint compared;      /* paths present on both sides */
  guint content_reads; /* files whose content had to be compared */
} LodgeRepairDiffStats;

typedef struct {
  /* Paths Lodge itself writes at every boot (hostname, hosts, ...): not
   * compared, since their difference from the template says nothing of
   * what the customer did. */
  const char *const *skip;
  /* The root password hash Lodge writes into /etc/shadow at boot: a
   * shadow whose root entry holds it compares as the template's. */
  const char *root_hash;
} LodgeRepairDiffOptions;

/* The VE's tree (under @path, NULL: all of it) against the template
 * version it was cloned from: added, removed and changed files with their
 * types, modes, owners and sizes, then a unified diff of each changed text
 * file. Metadata is compared first; content is read only where sizes match
 * but change times differ (checksums inside the appliance) or where a
 * text diff is shown. */
gboolean lodge_repair_diff (LodgeRepair *r, const char *path, const LodgeRepairDiffOptions *opts,
                            LodgeRepairOutput out, gpointer user_data,
                            LodgeRepairDiffStats *ret_stats, GError **error);

/* ---- writing: only on the disk of a stopped VE ---- */

/* Replaces (or creates, with @mode, 0644 when 0) regular file @path. */
gboolean lodge_repair_write (LodgeRepair *r, const char *path, const char *data, gsize len,
                             guint mode, GError **error);
/* Restores each path as the template has it: content, type, mode, owner,
 * times and, for a directory, everything under it. A path the template
 * does not have is removed. */
gboolean lodge_repair_revert (LodgeRepair *r, const char *const *paths, LodgeRepairOutput out,
                              gpointer user_data, GError **error);
/* Removes @path itself (a symlink, not its target); a directory only with
 * @recursive. */
gboolean lodge_repair_rm (LodgeRepair *r, const char *path, gboolean recursive, GError **error);
gboolean lodge_repair_chmod (LodgeRepair *r, guint mode, const char *path, GError **error);
/* Root's entry in /etc/shadow gets @password_hash (when not NULL);
 * /root/.ssh/authorized_keys gets @keys (when not NULL). */
gboolean lodge_repair_reset_root (LodgeRepair *r, const char *password_hash,
                                  const char *const *keys, GError **error);
/* Checks and repairs the VE's filesystem (unmounted for it); the outcome
 * in words. */
char *lodge_repair_fsck (LodgeRepair *r, GError **error);
/* Runs @command with /bin/sh of the appliance (not of the guest), the VE's
 * tree at /sysroot/ve; its output and exit status. */
gboolean lodge_repair_sh (LodgeRepair *r, const char *command, LodgeRepairOutput out,
                          gpointer user_data, GError **error);

/* ---- applications (lodge-repair-app.c) ---- */

/* Application @name of the VE, from the template version given as
 * disks->apps[@app_index] when the session was opened, with its manifest,
 * the config file templates it names
 * (tree path -> GBytes) and the values of its parameters. */
typedef struct {
  const char *name;
  const char *source; /* "template@version", for the record in the VE */
  guint app_index;
  const LodgeAppManifest *manifest;
  GHashTable *config_templates;
  GHashTable *values;
} LodgeRepairApp;

/* Lays the application into the VE: each copy of the manifest (what was
 * at a destination goes first), its config files rendered, and
 * /etc/lodge/apps/NAME.json saying what was installed. Destinations are
 * resolved inside the VE's root like every repair path. (How it starts is
 * not on the disk: lodge-init runs it, or writes a systemd unit for it,
 * at every boot, from the launch command in the boot configuration.) */
gboolean lodge_repair_app_install (LodgeRepair *r, const LodgeRepairApp *app, LodgeRepairOutput out,
                                   gpointer user_data, GError **error);
/* Takes what lodge_repair_app_install() put into the VE out again: each
 * copy's destination, each config file and the record. */
gboolean lodge_repair_app_remove (LodgeRepair *r, const LodgeRepairApp *app, LodgeRepairOutput out,
                                  gpointer user_data, GError **error);
/* Renders and writes the application's config files only (a new
 * configuration of a stopped VE). */
gboolean lodge_repair_app_configure (LodgeRepair *r, const LodgeRepairApp *app, GError **error);
/* Renders the application's config files: guest path -> GBytes (also for
 * writing them through the guest agent). */
gboolean lodge_app_render_files (const LodgeRepairApp *app, GHashTable **ret_contents,
                                 GError **error);

G_END_DECLS
