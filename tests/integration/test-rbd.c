/* RBD images, tiers, clones, VE disks and fencing against a real Ceph
 * cluster (run through `tools/lodge-cluster exec`). */
#include <errno.h>
#include <string.h>
#include <rbd/librbd.h>

#include "lodge-disk.h"
#include "lodge-rados-private.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"
#include "lodge-tier.h"

static LodgeRados *rados;
static char *run_id;

static char *
unique (const char *what)
{
  return g_strdup_printf ("%s-%s", what, run_id);
}

/* How many images of @pool are @image or begin with it and ".new-" (a
 * disk being made). */
static guint
images_with_prefix (LodgeRados *r, const char *pool, const char *image)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = lodge_rbd_list (r, pool, &error);
  g_assert_no_error (error);
  g_autofree char *tmp = g_strconcat (image, ".new-", NULL);
  guint n = 0;
  for (guint i = 0; i < names->len; i++)
    n += g_strcmp0 (names->pdata[i], image) == 0 || g_str_has_prefix (names->pdata[i], tmp);
  return n;
}

/* Test-side I/O through librbd directly: Lodge itself never writes disk
 * contents except through libguestfs or a guest. */
static void
write_at (LodgeRados *r, const char *pool, const char *image, guint64 off, const char *data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (r, pool, NULL, &error);
  g_assert_no_error (error);
  rbd_image_t img;
  g_assert_cmpint (rbd_open (io->io, image, &img, NULL), ==, 0);
  g_assert_cmpint (rbd_write (img, off, strlen (data), data), ==, (ssize_t) strlen (data));
  g_assert_cmpint (rbd_flush (img), ==, 0);
  rbd_close (img);
}

static char *
read_at (const char *pool, const char *image, guint64 off, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (rados, pool, NULL, &error);
  g_assert_no_error (error);
  rbd_image_t img;
  g_assert_cmpint (rbd_open_read_only (io->io, image, &img, NULL), ==, 0);
  char *buf = g_malloc0 (len + 1);
  g_assert_cmpint (rbd_read (img, off, len, buf), ==, (ssize_t) len);
  rbd_close (img);
  return buf;
}

static void
test_tiers (void)
{
  for (guint replicas = 1; replicas <= 3; replicas++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (lodge_tier_ensure (rados, replicas, &error));
      g_assert_no_error (error);
      /* Twice is harmless. */
      g_assert_true (lodge_tier_ensure (rados, replicas, &error));
      g_autofree char *pool = lodge_tier_pool (replicas);
      guint size = 0, min_size = 0;
      g_assert_true (lodge_rados_pool_size (rados, pool, &size, &min_size, &error));
      g_assert_cmpuint (size, ==, replicas);
      g_assert_cmpuint (min_size, ==, lodge_tier_min_size (replicas));
    }
  g_autoptr (GError) error = NULL;
  g_assert_false (lodge_tier_ensure (rados, 4, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
}

static void
test_clone (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tier_ensure_templates (rados, &error));
  g_assert_true (lodge_tier_ensure (rados, 2, &error));
  g_assert_no_error (error);
  g_autofree char *parent = unique ("tmpl");
  g_autofree char *child = unique ("child");

  g_assert_true (lodge_rbd_create (rados, LODGE_TEMPLATE_POOL, parent, 64 << 20, &error));
  g_assert_no_error (error);
  write_at (rados, LODGE_TEMPLATE_POOL, parent, 4096, "template data");
  g_assert_true (lodge_rbd_snap_create (rados, LODGE_TEMPLATE_POOL, parent, "v-1", TRUE, &error));
  g_assert_no_error (error);

  g_assert_true (lodge_rbd_clone (rados, LODGE_TEMPLATE_POOL, parent, "v-1", "lodge-r2", child, &error));
  g_assert_no_error (error);
  g_assert_true (lodge_rbd_grow (rados, "lodge-r2", child, 128 << 20, &error));
  g_assert_no_error (error);

  g_auto (LodgeRbdInfo) info = { 0 };
  g_assert_true (lodge_rbd_stat (rados, "lodge-r2", child, &info, &error));
  g_assert_cmpuint (info.size, ==, 128 << 20);
  g_assert_cmpstr (info.parent_pool, ==, LODGE_TEMPLATE_POOL);
  g_assert_cmpstr (info.parent_image, ==, parent);
  g_assert_cmpstr (info.parent_snap, ==, "v-1");

  /* The clone sees the template; its writes stay its own. */
  g_autofree char *seen = read_at ("lodge-r2", child, 4096, 13);
  g_assert_cmpstr (seen, ==, "template data");
  write_at (rados, "lodge-r2", child, 4096, "customer data");
  g_autofree char *tmpl_after = read_at (LODGE_TEMPLATE_POOL, parent, 4096, 13);
  g_assert_cmpstr (tmpl_after, ==, "template data");

  /* Shrinking would cut the filesystem. */
  g_assert_false (lodge_rbd_grow (rados, "lodge-r2", child, 1 << 20, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  g_clear_error (&error);

  /* The version cannot go while the clone needs it; the error names it. */
  g_autoptr (GPtrArray) children = lodge_rbd_snap_children (rados, LODGE_TEMPLATE_POOL, parent, "v-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (children->len, ==, 1);
  g_autofree char *child_ref = g_strdup_printf ("lodge-r2/%s", child);
  g_assert_cmpstr (children->pdata[0], ==, child_ref);
  g_assert_false (lodge_rbd_snap_remove (rados, LODGE_TEMPLATE_POOL, parent, "v-1", &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, child_ref));
  g_clear_error (&error);

  /* Flattened, the clone keeps its data and lets the version go. */
  g_assert_true (lodge_rbd_flatten (rados, "lodge-r2", child, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *flat = read_at ("lodge-r2", child, 4096, 13);
  g_assert_cmpstr (flat, ==, "customer data");
  g_assert_true (lodge_rbd_snap_remove (rados, LODGE_TEMPLATE_POOL, parent, "v-1", &error));
  g_assert_no_error (error);

  /* Snapshot and rollback of a disk. */
  g_assert_true (lodge_rbd_snap_create (rados, "lodge-r2", child, "before", FALSE, &error));
  write_at (rados, "lodge-r2", child, 4096, "broken stuff!");
  g_assert_true (lodge_rbd_snap_rollback (rados, "lodge-r2", child, "before", NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *restored = read_at ("lodge-r2", child, 4096, 13);
  g_assert_cmpstr (restored, ==, "customer data");

  g_assert_true (lodge_rbd_remove (rados, "lodge-r2", child, TRUE, &error));
  g_assert_true (lodge_rbd_remove (rados, LODGE_TEMPLATE_POOL, parent, TRUE, &error));
  g_assert_no_error (error);
  gboolean exists = TRUE;
  g_assert_true (lodge_rbd_exists (rados, "lodge-r2", child, &exists, &error));
  g_assert_false (exists);
}

static void
test_disk (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmpl = unique ("disk-tmpl");
  g_autofree char *ve = unique ("ve");
  g_assert_true (lodge_tier_ensure_templates (rados, &error));
  g_assert_true (lodge_rbd_create (rados, LODGE_TEMPLATE_POOL, tmpl, 256 << 20, &error));
  g_assert_true (lodge_rbd_snap_create (rados, LODGE_TEMPLATE_POOL, tmpl, "v-1", TRUE, &error));
  g_assert_no_error (error);

  /* Smaller than the template: refused, nothing left behind. */
  g_assert_false (lodge_disk_create (rados, ve, 1, LODGE_TEMPLATE_POOL, tmpl, "v-1", 64 << 20, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "disk of VE "));
  g_clear_error (&error);
  g_auto (LodgeDiskRef) ref = { 0 };
  lodge_disk_ref_init (&ref, ve, 1);
  gboolean exists = TRUE;
  g_assert_true (lodge_rbd_exists (rados, ref.pool, ref.image, &exists, &error));
  g_assert_false (exists);
  g_assert_cmpuint (images_with_prefix (rados, ref.pool, ref.image), ==, 0);

  /* Made under a name of its own, then renamed: under the VE's name, the
   * image is the whole clone, grown. */
  g_assert_true (lodge_disk_create (rados, ve, 1, LODGE_TEMPLATE_POOL, tmpl, "v-1", 1ULL << 30, &error));
  g_assert_no_error (error);
  g_auto (LodgeRbdInfo) info = { 0 };
  g_assert_true (lodge_rbd_stat (rados, ref.pool, ref.image, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.size, ==, 1ULL << 30);
  g_assert_cmpstr (info.parent_image, ==, tmpl);
  g_assert_cmpuint (images_with_prefix (rados, ref.pool, ref.image), ==, 1);
  g_assert_false (lodge_disk_create (rados, ve, 1, LODGE_TEMPLATE_POOL, tmpl, "v-1", 1ULL << 30, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_cmpuint (images_with_prefix (rados, ref.pool, ref.image), ==, 1); /* its own only */

  /* What a controller stopped in the middle of a creation leaves goes
   * with the VE's disk. */
  g_autofree char *leftover = g_strconcat (ref.image, ".new-0badc0de", NULL);
  g_assert_true (lodge_rbd_clone (rados, LODGE_TEMPLATE_POOL, tmpl, "v-1", ref.pool, leftover, &error));
  g_assert_no_error (error);

  /* Unknown template version. */
  g_autofree char *ve2 = unique ("ve2");
  g_assert_false (lodge_disk_create (rados, ve2, 1, LODGE_TEMPLATE_POOL, tmpl, "v-9", 1ULL << 30, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (lodge_disk_delete (rados, ve, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (images_with_prefix (rados, ref.pool, ref.image), ==, 0);
  g_assert_true (lodge_rbd_remove (rados, LODGE_TEMPLATE_POOL, tmpl, TRUE, &error));
  g_assert_no_error (error);
}

static void
test_bad_names (void)
{
  const char *bad[] = { "../x", "", "a b", "a/b", "x@y" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_rbd_create (rados, "lodge-r1", bad[i], 1 << 20, &error));
      g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
    }
  g_autoptr (GError) error = NULL;
  g_assert_false (lodge_rbd_create (rados, "no-such-pool", "x", 1 << 20, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "cannot open pool no-such-pool: No such file or directory");
}

/* A second client opens a disk; fencing lists it, blocklists it, and from
 * then on its writes fail while ours succeed. */
static void
test_fence (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *image = unique ("fenced");
  g_assert_true (lodge_tier_ensure (rados, 2, &error));
  g_assert_true (lodge_rbd_create (rados, "lodge-r2", image, 16 << 20, &error));
  g_assert_no_error (error);

  g_autoptr (LodgeCephConfig) config = lodge_ceph_config_new_default ();
  g_autoptr (LodgeRados) other = lodge_rados_connect (config, &error);
  g_assert_no_error (error);
  rados_conf_set (lodge_rados_handle (other), "rados_osd_op_timeout", "10");
  g_autoptr (LodgeIoctx) io = lodge_ioctx_open (other, "lodge-r2", NULL, &error);
  g_assert_no_error (error);
  rbd_image_t img;
  g_assert_cmpint (rbd_open (io->io, image, &img, NULL), ==, 0);
  g_assert_cmpint (rbd_write (img, 0, 5, "alive"), ==, 5);
  g_assert_cmpint (rbd_flush (img), ==, 0);

  g_autofree char *addr = lodge_rados_client_address (other);
  g_autoptr (GPtrArray) clients = lodge_rbd_clients (rados, "lodge-r2", image, &error);
  g_assert_no_error (error);
  g_assert_true (g_ptr_array_find_with_equal_func (clients, addr, g_str_equal, NULL));

  g_assert_true (lodge_rados_blocklist_add (rados, addr, 600, &error));
  g_assert_no_error (error);
  g_assert_true (lodge_rbd_break_lock (rados, "lodge-r2", image, &error));
  g_assert_no_error (error);

  /* The fenced client cannot write another byte. */
  ssize_t w = rbd_write (img, 0, 5, "zombi");
  int f = w >= 0 ? rbd_flush (img) : (int) w;
  g_assert_cmpint (f, <, 0);
  g_test_message ("fenced client's write: %s", g_strerror ((int) -f));
  rbd_close (img);

  write_at (rados, "lodge-r2", image, 0, "owner");
  g_autofree char *data = read_at ("lodge-r2", image, 0, 5);
  g_assert_cmpstr (data, ==, "owner");

  g_assert_true (lodge_rados_blocklist_remove (rados, addr, &error));
  g_assert_no_error (error);
  g_assert_false (lodge_rados_blocklist_add (rados, "127.0.0.1:0/1; rm -rf", 10, &error));
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (lodge_rbd_remove (rados, "lodge-r2", image, TRUE, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (LodgeCephConfig) config = lodge_ceph_config_new_default ();
  g_autoptr (GError) error = NULL;
  rados = lodge_rados_connect (config, &error);
  if (rados == NULL)
    {
      g_printerr ("SKIP: no Ceph cluster: %s (run through tools/lodge-cluster exec)\n",
                  error->message);
      return 77;
    }
  run_id = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time ());
  g_test_add_func ("/rbd/tiers", test_tiers);
  g_test_add_func ("/rbd/clone", test_clone);
  g_test_add_func ("/rbd/disk", test_disk);
  g_test_add_func ("/rbd/bad-names", test_bad_names);
  g_test_add_func ("/rbd/fence", test_fence);
  int rc = g_test_run ();
  lodge_rados_free (rados);
  g_free (run_id);
  return rc;
}
