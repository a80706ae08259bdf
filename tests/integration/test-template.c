/* Templates against a real Ceph cluster and real libguestfs: a tree with
 * every kind of file goes in, and what comes back out through libguestfs
 * is the same byte for byte and metadata for metadata. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "lodge-disk.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"
#include "lodge-tar.h"
#include "lodge-template.h"
#include "lodge-tier.h"
#include "template-manifest.h"

static LodgeCephConfig *config;
static LodgeRados *rados;
static LodgeStore *store;
static char *run_id;
static char *tree;          /* the host tree imported */
static gboolean have_xattr; /* the host filesystem took user.* xattrs */

static char *
unique (const char *what)
{
  return g_strdup_printf ("%s-%s", what, run_id);
}

static void
write_file (const char *rel, const char *content, guint mode)
{
  g_autofree char *path = g_build_filename (tree, rel, NULL);
  g_assert_true (g_file_set_contents (path, content, -1, NULL));
  g_assert_cmpint (chmod (path, mode), ==, 0);
}

/* Files, a nested directory, symlinks (relative, absolute, dangling), a
 * hard link, a FIFO, unicode names, a long name, special modes, foreign
 * owners, an extended attribute. */
static void
make_tree (void)
{
  tree = g_dir_make_tmp ("lodge-tree-XXXXXX", NULL);
  g_assert_nonnull (tree);
  const char *dirs[] = { "etc", "usr", "usr/bin", "srv", "srv/www", "tmp", "caf\xc3\xa9" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (tree, dirs[i], NULL);
      g_assert_cmpint (g_mkdir (p, 0755), ==, 0);
    }
  write_file ("etc/hostname", "template\n", 0644);
  write_file ("etc/shadow", "root:*:19000:0:99999:7:::\n", 0600);
  write_file ("usr/bin/tool", "#!/bin/sh\necho tool\n", 04755);
  write_file ("srv/www/index.html", "<h1>Hello</h1>\n", 0644);
  write_file ("caf\xc3\xa9/na\xc3\xafve \xe2\x9c\x93.txt", "unicode\n", 0644);
  g_autofree char *long_name = g_strnfill (200, 'x');
  g_autofree char *long_rel = g_strconcat ("srv/", long_name, NULL);
  write_file (long_rel, "long\n", 0644);

  /* 1 MiB of pseudo-random bytes. */
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint32 *blob = g_new (guint32, 256 * 1024);
  for (guint i = 0; i < 256 * 1024; i++)
    blob[i] = g_rand_int (rand);
  g_autofree char *blob_path = g_build_filename (tree, "srv/blob.bin", NULL);
  g_assert_true (g_file_set_contents (blob_path, (char *) blob, 1 << 20, NULL));

  g_autofree char *tmp = g_build_filename (tree, "tmp", NULL);
  g_assert_cmpint (chmod (tmp, 01777), ==, 0);

  g_autofree char *rel_link = g_build_filename (tree, "etc/motd", NULL);
  g_assert_cmpint (symlink ("../srv/www/index.html", rel_link), ==, 0);
  g_autofree char *abs_link = g_build_filename (tree, "srv/passwd", NULL);
  g_assert_cmpint (symlink ("/etc/passwd", abs_link), ==, 0); /* resolved in the guest only */
  g_autofree char *dangling = g_build_filename (tree, "srv/dangling", NULL);
  g_assert_cmpint (symlink ("nowhere/at/all", dangling), ==, 0);

  g_autofree char *index = g_build_filename (tree, "srv/www/index.html", NULL);
  g_autofree char *hard = g_build_filename (tree, "srv/www/index-hardlink.html", NULL);
  g_assert_cmpint (link (index, hard), ==, 0);
  g_autofree char *fifo = g_build_filename (tree, "srv/fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0620), ==, 0);

  g_autofree char *owned = g_build_filename (tree, "srv/www", NULL);
  if (geteuid () == 0)
    {
      g_assert_cmpint (lchown (owned, 33, 33), ==, 0);
      g_assert_cmpint (lchown (index, 1234, 5678), ==, 0);
    }
  have_xattr = lsetxattr (index, "user.lodge.test", "value\0with nul", 14, 0) == 0;
}

static void
test_import_directory (void)
{
  g_autofree char *name = unique ("tree");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplateVersion) v =
    lodge_template_import (store, config->client_id, name, tree, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (v->version, ==, "1");
  g_assert_cmpstr (v->snapshot, ==, "v-1");
  g_assert_cmpuint (v->files, ==, 7); /* the hard link counts once */

  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->versions->len, ==, 1);

  g_autoptr (GPtrArray) host = host_manifest (tree);
  g_autoptr (GHashTable) stats = NULL;
  g_autoptr (GPtrArray) guest =
    guest_manifest (config->client_id, t->pool, t->image, "v-1", &stats);
  assert_same_tree (host, guest, have_xattr);
  assert_same_times (tree, host, stats, TRUE);

  /* Hard links stay one inode. */
  LodgeFileEntry *a = NULL, *b = NULL;
  for (guint i = 0; i < guest->len; i++)
    {
      LodgeFileEntry *e = guest->pdata[i];
      if (strcmp (e->path, "/srv/www/index.html") == 0)
        a = e;
      if (strcmp (e->path, "/srv/www/index-hardlink.html") == 0)
        b = e;
    }
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (a->ino, ==, b->ino);

  /* A version that exists is refused; nothing changes. */
  g_autoptr (LodgeTemplateVersion) again =
    lodge_template_import (store, config->client_id, name, tree, "1", NULL, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS);
  g_autofree char *expected = g_strdup_printf ("template %s already has version 1", name);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_clone_sees_template (void)
{
  g_autofree char *name = unique ("tree");
  g_autofree char *ve = unique ("ve");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_assert_no_error (error);
  const LodgeTemplateVersion *v = lodge_template_find_version (t, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (lodge_disk_create (rados, ve, 2, t->pool, t->image, v->snapshot, 1ULL << 30, &error));
  g_assert_no_error (error);
  g_auto (LodgeDiskRef) ref = { 0 };
  lodge_disk_ref_init (&ref, ve, 2);

  /* The clone has the template's files; what is written to it stays in it. */
  {
    g_autoptr (LodgeGuestfs) g = lodge_guestfs_new (&error);
    g_assert_true (lodge_guestfs_add_rbd (g, ref.pool, ref.image, NULL, config->client_id, FALSE, &error));
    g_assert_true (lodge_guestfs_launch (g, &error));
    g_assert_true (lodge_guestfs_mount (g, lodge_guestfs_disk (g), FALSE, &error));
    g_assert_no_error (error);
    g_autoptr (GPtrArray) m = lodge_guestfs_manifest (g, TRUE, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) host = host_manifest (tree);
    assert_same_tree (host, m, have_xattr);
    g_autofree char *tarfile = NULL;
    int fd = g_file_open_tmp ("lodge-extra-XXXXXX.tar", &tarfile, &error);
    close (fd);
    g_autofree char *extra = g_dir_make_tmp ("lodge-extra-XXXXXX", NULL);
    g_autofree char *f = g_build_filename (extra, "customer-file", NULL);
    g_assert_true (g_file_set_contents (f, "mine\n", -1, NULL));
    g_assert_true (lodge_tar_write_tree (extra, tarfile, NULL, NULL, NULL, &error));
    g_assert_true (lodge_guestfs_tar_in (g, tarfile, NULL, &error));
    g_assert_true (lodge_guestfs_shutdown (g, &error));
    g_assert_no_error (error);
    g_unlink (f);
    g_rmdir (extra);
    g_unlink (tarfile);
  }
  g_autoptr (GPtrArray) tmpl_after =
    guest_manifest (config->client_id, t->pool, t->image, v->snapshot, NULL);
  for (guint i = 0; i < tmpl_after->len; i++)
    g_assert_cmpstr (((LodgeFileEntry *) tmpl_after->pdata[i])->path, !=, "/customer-file");

  /* While the clone exists the template cannot go; the error names it. */
  g_assert_false (lodge_template_delete (store, name, NULL, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_autofree char *clone_ref = g_strdup_printf ("%s/%s", ref.pool, ref.image);
  g_assert_nonnull (strstr (error->message, clone_ref));
  g_clear_error (&error);
  g_autoptr (GPtrArray) clones = lodge_template_clones (store, t, "1", &error);
  g_assert_cmpuint (clones->len, ==, 1);

  g_assert_true (lodge_disk_delete (rados, ve, 2, &error));
  g_assert_no_error (error);
}

/* A gzip-compressed archive of the same tree becomes version 2. */
static void
test_import_tarball (void)
{
  g_autofree char *name = unique ("tree");
  g_autoptr (GError) error = NULL;
  g_autofree char *tar_path = NULL, *gz_path = NULL;
  int fd = g_file_open_tmp ("lodge-tree-XXXXXX.tar", &tar_path, &error);
  close (fd);
  g_assert_true (lodge_tar_write_tree (tree, tar_path, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *raw = NULL;
  gsize raw_len = 0;
  g_assert_true (g_file_get_contents (tar_path, &raw, &raw_len, NULL));
  g_autoptr (GZlibCompressor) gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) conv = g_converter_output_stream_new (mem, G_CONVERTER (gz));
  g_assert_true (g_output_stream_write_all (conv, raw, raw_len, NULL, NULL, &error));
  g_assert_true (g_output_stream_close (conv, NULL, &error));
  gz_path = g_strconcat (tar_path, ".gz", NULL);
  g_assert_true (g_file_set_contents (gz_path, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (mem)),
                                      g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (mem)),
                                      &error));

  g_autoptr (LodgeTemplateVersion) v =
    lodge_template_import (store, config->client_id, name, gz_path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (v->version, ==, "2");
  g_assert_cmpuint (v->files, ==, 7);

  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_autoptr (GPtrArray) host = host_manifest (tree);
  g_autoptr (GHashTable) stats = NULL;
  g_autoptr (GPtrArray) guest =
    guest_manifest (config->client_id, t->pool, t->image, "v-2", &stats);
  assert_same_tree (host, guest, have_xattr);
  assert_same_times (tree, host, stats, TRUE);

  /* Version 1 can go on its own; then the whole template. */
  g_assert_true (lodge_template_delete (store, name, "1", &error));
  g_assert_no_error (error);
  g_autoptr (LodgeTemplate) t2 = lodge_template_get (store, name, &error);
  g_assert_cmpuint (t2->versions->len, ==, 1);
  g_assert_true (lodge_template_delete (store, name, NULL, &error));
  g_assert_no_error (error);
  gboolean exists = TRUE;
  g_assert_true (lodge_rbd_exists (rados, t->pool, t->image, &exists, &error));
  g_assert_false (exists);
  g_unlink (tar_path);
  g_unlink (gz_path);
}

/* Hand-made hostile archives: refused before anything is written. */
static char *
evil_tar (const char *entry_name)
{
  char header[512] = { 0 };
  strncpy (header, entry_name, 99);
  memcpy (header + 100, "0000644", 7);
  memcpy (header + 108, "0000000", 7);
  memcpy (header + 116, "0000000", 7);
  memcpy (header + 124, "00000000004", 11);
  memcpy (header + 136, "00000000000", 11);
  header[156] = '0';
  memcpy (header + 257, "ustar", 6);
  memcpy (header + 263, "00", 2);
  memset (header + 148, ' ', 8);
  guint sum = 0;
  for (int i = 0; i < 512; i++)
    sum += (guchar) header[i];
  g_snprintf (header + 148, 8, "%06o", sum);
  header[155] = ' ';
  g_autoptr (GByteArray) tar = g_byte_array_new ();
  g_byte_array_append (tar, (guint8 *) header, 512);
  char data[512] = "pwnd";
  g_byte_array_append (tar, (guint8 *) data, 512);
  char zeros[1024] = { 0 };
  g_byte_array_append (tar, (guint8 *) zeros, 1024);
  char *path = NULL;
  int fd = g_file_open_tmp ("lodge-evil-XXXXXX.tar", &path, NULL);
  g_assert_cmpint (write (fd, tar->data, tar->len), ==, (ssize_t) tar->len);
  close (fd);
  return path;
}

static void
test_bad_input (void)
{
  g_autofree char *name = unique ("evil");
  const char *entries[] = { "../x", "/etc/cron.d/evil", "a/../../x" };
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_autofree char *path = evil_tar (entries[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeTemplateVersion) v =
        lodge_template_import (store, config->client_id, name, path, NULL, NULL, NULL, &error);
      g_assert_null (v);
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, entries[i]));
      g_unlink (path);
    }
  /* Nothing was imported: no record, no image. */
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  g_assert_null (t);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *image = g_strconcat ("tmpl-", name, NULL);
  gboolean exists = TRUE;
  g_assert_true (lodge_rbd_exists (rados, LODGE_TEMPLATE_POOL, image, &exists, &error));
  g_assert_false (exists);

  g_autofree char *long_name = g_strnfill (300, 'a');
  const char *bad_names[] = { "../x", "", "a b", long_name, "Busybox" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr (GError) e = NULL;
      g_assert_null (lodge_template_import (store, config->client_id, bad_names[i], tree, NULL,
                                            NULL, NULL, &e));
      g_assert_error (e, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (e->message, "invalid template name"));
    }
  g_autoptr (GError) e2 = NULL;
  g_assert_null (lodge_template_import (store, config->client_id, name, tree, "../1", NULL, NULL, &e2));
  g_assert_error (e2, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);

  g_autoptr (GError) e3 = NULL;
  g_assert_null (lodge_template_get (store, "no-such-template", &e3));
  g_assert_error (e3, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_assert_cmpstr (e3->message, ==, "unknown template 'no-such-template'");

  g_autoptr (GError) e4 = NULL;
  g_assert_null (lodge_template_import (store, config->client_id, name, "/nonexistent/tree",
                                        NULL, NULL, NULL, &e4));
  g_assert_error (e4, LODGE_ERROR, LODGE_ERROR_IO);
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
  make_tree ();

  g_test_add_func ("/template/bad-input", test_bad_input);
  g_test_add_func ("/template/import-directory", test_import_directory);
  g_test_add_func ("/template/clone-sees-template", test_clone_sees_template);
  g_test_add_func ("/template/import-tarball", test_import_tarball);
  int rc = g_test_run ();

  lodge_store_free (store);
  lodge_rados_free (rados);
  lodge_ceph_config_free (config);
  return rc;
}
