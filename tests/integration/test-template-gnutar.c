/* Templates from tarballs that GNU tar made itself, against a real Ceph
 * cluster and real libguestfs. Lodge reads a user's archive with
 * libarchive, checks it and writes it again (lodge_tar_rewrite()); GNU tar
 * in the appliance unpacks that. What the template then holds is what GNU
 * tar packed, metadata for metadata, in the pax and the GNU format, with
 * and without --numeric-owner: long and non-UTF-8 names, times before
 * 1970 with nanoseconds, xattrs with '%' and '=' in their names, owners
 * without a name and owners whose names the appliance gives other
 * numbers. What Lodge refuses on purpose (sparse files, xattr names GNU
 * tar would get back under another name) is refused naming the entry,
 * and leaves no template behind. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lib/lodge-tar-test.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"
#include "lodge-template.h"
#include "lodge-tier.h"
#include "template-manifest.h"

#define GNU_TAR "/usr/bin/tar"
/* Regular files of the tree, each inode once. */
#define TREE_FILES 10

static LodgeCephConfig *config;
static LodgeRados *rados;
static LodgeStore *store;
static char *run_id;
static char *top;           /* temporary directory: trees and archives */
static char *tree;          /* the tree GNU tar packs */
static gboolean have_xattr; /* the host filesystem took user.* xattrs */
static gboolean have_root;  /* files could be given foreign owners */

static char *
unique (const char *what)
{
  return g_strdup_printf ("%s-%s", what, run_id);
}

static char *
in_tree (const char *rel)
{
  return g_build_filename (tree, rel, NULL);
}

static void
set_xattr (const char *rel, const char *name, const char *value, gsize len)
{
  g_autofree char *path = in_tree (rel);
  g_assert_cmpint (lsetxattr (path, name, value, len, 0), ==, 0);
}

/* Owners before modes (chown clears setuid); times last (a directory's
 * changes with every name made in it). */
static void
build_tree (void)
{
  tree = g_build_filename (top, "tree", NULL);
  g_assert_cmpint (mkdir (tree, 0700), ==, 0);
  const char *dirs[] = { "etc", "usr", "usr/bin", "tmp", "srv", "run", "owners", "long",
                         "caf\xc3\xa9", "bytes-\xff\xfe" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = in_tree (dirs[i]);
      g_assert_cmpint (mkdir (p, 0755), ==, 0);
    }
  const struct {
    const char *rel, *content;
    guint mode;
  } files[] = {
    { "etc/hostname", "gnutar\n", 0644 },
    { "old", "1966\n", 0640 },
    { "usr/bin/su-tool", "#!/bin/sh\necho setuid\n", 0755 },
    { "caf\xc3\xa9/na\xc3\xafve \xe2\x9c\x93.txt", "unicode\n", 0644 },
    { "bytes-\xff\xfe/file-\xff", "not UTF-8\n", 0644 },
    { "srv/xattrs", "xattrs\n", 0644 },
    { "owners/ghost", "no name\n", 0644 },
    { "owners/liar", "a name of another number\n", 0644 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = in_tree (files[i].rel);
      put_file (p, files[i].content, strlen (files[i].content), files[i].mode);
    }

  /* Names over 100 bytes (the ustar name field) and over 255 (name and
   * prefix together), and a link target over 100. */
  g_autofree char *n120 = g_strnfill (120, 'n');
  g_autofree char *d200 = g_strnfill (200, 'd');
  g_autofree char *f240 = g_strnfill (240, 'f'); /* g_file_set_contents() adds 7 bytes */
  g_autofree char *over100 = g_build_filename (tree, "long", n120, NULL);
  put_file (over100, "over 100\n", 9, 0644);
  g_autofree char *deep_dir = g_build_filename (tree, "long", d200, NULL);
  g_assert_cmpint (mkdir (deep_dir, 0755), ==, 0);
  g_autofree char *over255 = g_build_filename (deep_dir, f240, NULL);
  g_assert_cmpuint (strlen (over255) - strlen (tree), >, 256);
  put_file (over255, "over 255\n", 9, 0644);
  g_autofree char *long_target = g_build_filename (d200, f240, NULL);
  g_autofree char *long_link = in_tree ("long/link");
  g_assert_cmpint (symlink (long_target, long_link), ==, 0);

  g_autofree char *hostname = in_tree ("etc/hostname");
  g_autofree char *hard = in_tree ("srv/hostname-hardlink");
  g_assert_cmpint (link (hostname, hard), ==, 0);
  g_autofree char *motd = in_tree ("etc/motd");
  g_assert_cmpint (symlink ("hostname", motd), ==, 0);
  g_autofree char *abs_link = in_tree ("srv/passwd");
  g_assert_cmpint (symlink ("/etc/passwd", abs_link), ==, 0);
  g_autofree char *fifo = in_tree ("run/fifo");
  g_assert_cmpint (mkfifo (fifo, 0620), ==, 0);
  g_autofree char *ghost_link = in_tree ("owners/ghost-link");
  g_assert_cmpint (symlink ("ghost", ghost_link), ==, 0);

  /* 1234:5678 has no name on the host nor in the appliance; 4321:8765 is
   * named root:daemon in the archive (--owner-map), names the appliance
   * gives other numbers. */
  have_root = geteuid () == 0;
  if (have_root)
    {
      const struct {
        const char *rel;
        guint uid, gid;
      } owners[] = {
        { "owners", 4321, 8765 },       { "owners/ghost", 1234, 5678 },
        { "owners/liar", 4321, 8765 },  { "owners/ghost-link", 1234, 5678 },
        { "srv", 33, 33 },
      };
      for (guint i = 0; i < G_N_ELEMENTS (owners); i++)
        {
          g_autofree char *p = in_tree (owners[i].rel);
          g_assert_cmpint (lchown (p, owners[i].uid, owners[i].gid), ==, 0);
        }
    }
  else
    g_test_message ("NOT ROOT: owners are not changed, so no owner is foreign and no name "
                    "in the archives lies; run as root (lodge-cluster exec) to test them");
  g_autofree char *su = in_tree ("usr/bin/su-tool");
  g_assert_cmpint (chmod (su, 04755), ==, 0);
  g_autofree char *tmp = in_tree ("tmp");
  g_assert_cmpint (chmod (tmp, 01777), ==, 0);
  g_assert_cmpint (chmod (tree, 0751), ==, 0);

  /* '%' and '=' are escaped in a SCHILY.xattr keyword ("%25", "%3D"),
   * and a literal "%3D" must not be unescaped twice. */
  g_autofree char *probe = g_build_filename (top, "probe", NULL);
  put_file (probe, "", 0, 0644);
  have_xattr = lsetxattr (probe, "user.lodge.probe", "1", 1, 0) == 0;
  if (have_xattr)
    {
      set_xattr ("srv/xattrs", "user.lodge.plain", "v\0nul\n", 6);
      set_xattr ("srv/xattrs", "user.lodge.a%b", "percent", 7);
      set_xattr ("srv/xattrs", "user.lodge.k=v", "equals", 6);
      set_xattr ("srv/xattrs", "user.lodge.100%=sure", "a=b", 3);
      set_xattr ("srv/xattrs", "user.lodge.lit%3D", "escaped", 7);
      set_xattr ("etc", "user.lodge.dir", "dir", 3);
    }
  else
    g_test_message ("NO XATTRS: the filesystem of %s refuses user.* xattrs; the pax "
                    "archives carry none", top);

  const struct {
    const char *rel;
    gint64 sec;
    long nsec;
  } times[] = {
    { "old", -123456789, 987654321 },         /* 1966, with nanoseconds */
    { "etc/hostname", 1700000000, 123456789 }, /* and its hard link */
    { "etc/motd", 1234567890, 999999999 },    /* a symlink */
    { "long", 1600000000, 0 },
    { "owners", -987654321, 500 },             /* a directory, 1938 */
  };
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *p = in_tree (times[i].rel);
      set_mtime (p, times[i].sec, times[i].nsec);
    }
}

typedef struct {
  const char *name;   /* of the test case and the template */
  const char *format; /* GNU tar's --format */
  gboolean pax;       /* keeps nanoseconds and xattrs */
  gboolean numeric_owner;
} Case;

static const Case cases[] = {
  { "pax", "--format=pax", TRUE, FALSE },
  { "pax-numeric-owner", "--format=pax", TRUE, TRUE },
  { "gnu", "--format=gnu", FALSE, FALSE },
  { "gnu-numeric-owner", "--format=gnu", FALSE, TRUE },
};

/* The tree packed by GNU tar as @c says, in @top. */
static char *
pack (const Case *c)
{
  g_autofree char *file = g_strconcat (c->name, ".tar", NULL);
  char *archive = g_build_filename (top, file, NULL);
  g_autofree char *owner_map = g_build_filename (top, "owner-map", NULL);
  g_autofree char *group_map = g_build_filename (top, "group-map", NULL);
  g_assert_true (g_file_set_contents (owner_map, "+4321 root:4321\n", -1, NULL));
  g_assert_true (g_file_set_contents (group_map, "+8765 daemon:8765\n", -1, NULL));
  g_autofree char *owner_arg = g_strconcat ("--owner-map=", owner_map, NULL);
  g_autofree char *group_arg = g_strconcat ("--group-map=", group_map, NULL);

  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const char *fixed[] = { "-C", tree, "--sort=name", c->format, "-cf", archive };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (args, (char *) fixed[i]);
  if (c->pax)
    {
      g_ptr_array_add (args, (char *) "--xattrs");
      g_ptr_array_add (args, (char *) "--xattrs-include=*");
    }
  if (c->numeric_owner)
    g_ptr_array_add (args, (char *) "--numeric-owner");
  else
    {
      g_ptr_array_add (args, owner_arg);
      g_ptr_array_add (args, group_arg);
    }
  g_ptr_array_add (args, (char *) ".");
  g_ptr_array_add (args, NULL);
  run_gnu_tar ((const char *const *) args->pdata);
  return archive;
}

/* GNU tar's listing of @archive shows @member owned by @owner ("root/daemon",
 * or "4321/8765"): what the archive itself says, before Lodge reads it. */
static void
assert_listed_owner (const char *archive, const char *member, const char *owner)
{
  const char *argv[] = { GNU_TAR, "-tvf", archive, NULL };
  const char *env[] = { "LC_ALL=C.UTF-8", NULL };
  g_autofree char *out = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, (char **) argv, (char **) env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  g_autofree char *suffix = g_strconcat (" ", member, NULL);
  g_autofree char *field = g_strconcat (" ", owner, " ", NULL);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_suffix (lines[i], suffix))
      {
        if (strstr (lines[i], field) == NULL)
          g_test_fail_printf ("%s lists %s, not owned by %s: %s", archive, member, owner,
                              lines[i]);
        return;
      }
  g_test_fail_printf ("%s does not list %s", archive, member);
}

static const LodgeFileEntry *
find_entry (GPtrArray *manifest, const char *path)
{
  for (guint i = 0; i < manifest->len; i++)
    if (strcmp (((LodgeFileEntry *) manifest->pdata[i])->path, path) == 0)
      return manifest->pdata[i];
  return NULL;
}

static void
test_import (gconstpointer data)
{
  const Case *c = data;
  if (!have_gnu_tar ())
    return;
  g_autofree char *archive = pack (c);
  if (have_root)
    assert_listed_owner (archive, "./owners/liar",
                         c->numeric_owner ? "4321/8765" : "root/daemon");

  g_autofree char *what = g_strconcat ("gnutar-", c->name, NULL);
  g_autofree char *name = unique (what);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplateVersion) v =
    lodge_template_import (store, config->client_id, name, archive, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (v->files, ==, TREE_FILES); /* the hard link counts once */
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_assert_no_error (error);

  g_autoptr (GPtrArray) host = host_manifest (tree);
  if (!c->pax) /* the GNU format has no xattrs: the guest must have none */
    for (guint i = 0; i < host->len; i++)
      g_clear_pointer (&((LodgeFileEntry *) host->pdata[i])->xattrs, g_hash_table_unref);
  g_autoptr (GHashTable) stats = NULL;
  g_autoptr (GPtrArray) guest =
    guest_manifest (config->client_id, t->pool, t->image, v->snapshot, &stats);
  assert_same_tree (host, guest, TRUE);
  assert_same_times (tree, host, stats, c->pax);

  /* The hard link stays one inode. */
  const LodgeFileEntry *a = find_entry (guest, "/etc/hostname");
  const LodgeFileEntry *b = find_entry (guest, "/srv/hostname-hardlink");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (a->ino, ==, b->ino);

  g_assert_true (lodge_template_delete (store, name, NULL, &error));
  g_assert_no_error (error);
  g_unlink (archive);
}

/* No record and no image of template @name. */
static void
assert_nothing_left (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_assert_null (t);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *image = g_strconcat ("tmpl-", name, NULL);
  gboolean exists = TRUE;
  g_assert_true (lodge_rbd_exists (rados, LODGE_TEMPLATE_POOL, image, &exists, &error));
  g_assert_no_error (error);
  g_assert_false (exists);
}

/* Importing @archive as template @name is refused: the error names
 * @entry and says @why. */
static void
assert_refused (const char *name, const char *archive, const char *entry, const char *why)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplateVersion) v =
    lodge_template_import (store, config->client_id, name, archive, NULL, NULL, NULL, &error);
  g_assert_null (v);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_autofree char *named = g_strdup_printf ("entry '%s' ", entry);
  if (strstr (error->message, named) == NULL || strstr (error->message, why) == NULL)
    g_test_fail_printf ("%s: expected \"%s\" and \"%s\" in: %s", archive, named, why,
                        error->message);
}

/* A small tree in @top/@dir_name with etc/hostname and @rel (not yet
 * made); returns the tree, and @rel's path in it. */
static char *
small_tree (const char *dir_name, const char *rel, char **ret_path)
{
  char *dir = g_build_filename (top, dir_name, NULL);
  g_autofree char *etc = g_build_filename (dir, "etc", NULL);
  g_autofree char *sub = g_build_filename (dir, "var", NULL);
  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  g_autofree char *hostname = g_build_filename (etc, "hostname", NULL);
  put_file (hostname, "small\n", 6, 0644);
  *ret_path = g_build_filename (dir, rel, NULL);
  return dir;
}

/* A sparse file packed by GNU tar --sparse, in each of its formats, is
 * refused naming it (pax format 1.0 keeps the map in the file's data,
 * where a reader that missed it would see content). */
static void
test_sparse (void)
{
  if (!have_gnu_tar ())
    return;
  g_autofree char *holes = NULL;
  g_autofree char *src = small_tree ("sparse", "var/holes", &holes);
  int fd = open (holes, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "start", 5, 0), ==, 5);
  g_assert_cmpint (pwrite (fd, "middle", 6, 1 << 20), ==, 6);
  g_assert_cmpint (ftruncate (fd, 3 << 20), ==, 0);
  close (fd);

  g_autofree char *name = unique ("gnutar-sparse");
  const char *formats[][2] = {
    { "--format=gnu", NULL },
    { "--format=pax", "--sparse-version=0.0" },
    { "--format=pax", "--sparse-version=0.1" },
    { "--format=pax", "--sparse-version=1.0" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *file = g_strdup_printf ("sparse-%u.tar", i);
      g_autofree char *archive = g_build_filename (top, file, NULL);
      const char *args[] = { "-C", src, "--sparse", "--sort=name", "-cf", archive,
                             formats[i][0], ".", formats[i][1], NULL };
      run_gnu_tar (args);
      assert_refused (name, archive, "./var/holes",
                      "sparse files (GNU tar --sparse) are not supported");
      g_unlink (archive);
    }
  assert_nothing_left (name);
}

/* An xattr name with a space or a non-ASCII byte: GNU tar writes it as it
 * is, but Lodge's archive would carry it %-escaped, which GNU tar does not
 * undo; refused, naming the entry and the attribute. */
static void
test_xattr_names (void)
{
  if (!have_gnu_tar ())
    return;
  if (!have_xattr)
    {
      g_test_skip ("the host filesystem refuses user.* xattrs");
      return;
    }
  const char *names[] = { "user.lodge.with space", "user.lodge.caf\xc3\xa9" };
  g_autofree char *template_name = unique ("gnutar-xattr");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *dir_name = g_strdup_printf ("xattr-%u", i);
      g_autofree char *path = NULL;
      g_autofree char *src = small_tree (dir_name, "var/named", &path);
      put_file (path, "named\n", 6, 0644);
      g_assert_cmpint (lsetxattr (path, names[i], "v", 1, 0), ==, 0);
      g_autofree char *file = g_strconcat (dir_name, ".tar", NULL);
      g_autofree char *archive = g_build_filename (top, file, NULL);
      const char *args[] = { "-C", src, "--sort=name", "--format=pax", "--xattrs",
                             "--xattrs-include=*", "-cf", archive, ".", NULL };
      run_gnu_tar (args);
      g_autofree char *why = g_strdup_printf ("extended attribute name '%s' has a space, a "
                                              "control or a non-ASCII character", names[i]);
      assert_refused (template_name, archive, "./var/named", why);
      g_unlink (archive);
    }
  assert_nothing_left (template_name);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  use_lodge_appliance ();
  config = lodge_ceph_config_new_default ();
  g_autoptr (GError) error = NULL;
  rados = lodge_rados_connect (config, &error);
  if (rados == NULL)
    {
      g_printerr ("SKIP: no Ceph cluster: %s (run through tools/lodge-cluster exec)\n",
                  error->message);
      return 77;
    }
  g_setenv ("CEPH_CONF", config->conf_path, FALSE);
  store = lodge_store_open (rados, NULL, &error);
  g_assert_no_error (error);
  run_id = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () % 1000000000);
  top = g_dir_make_tmp ("lodge-gnutar-XXXXXX", &error);
  g_assert_no_error (error);
  build_tree ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/template/import-gnu-tar/", cases[i].name, NULL);
      g_test_add_data_func (path, &cases[i], test_import);
    }
  g_test_add_func ("/template/import-gnu-tar/sparse", test_sparse);
  g_test_add_func ("/template/import-gnu-tar/xattr-names", test_xattr_names);
  int rc = g_test_run ();

  rm_rf (top);
  lodge_store_free (store);
  lodge_rados_free (rados);
  lodge_ceph_config_free (config);
  return rc;
}
