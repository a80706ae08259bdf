/* Manifests of a host tree and of a template; see template-manifest.h. */
#include "template-manifest.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <guestfs.h>

#include "lodge-guestfs-private.h"

static void
walk (const char *dir, const char *rel, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;
      g_assert_cmpint (lstat (path, &st), ==, 0);
      LodgeFileEntry *e = g_new0 (LodgeFileEntry, 1);
      e->path = g_strconcat (rel, "/", name, NULL);
      e->mode = st.st_mode & 07777;
      e->uid = st.st_uid;
      e->gid = st.st_gid;
      e->size = st.st_size;
      e->nlink = st.st_nlink;
      if (S_ISDIR (st.st_mode))
        e->type = LODGE_FILE_DIRECTORY;
      else if (S_ISLNK (st.st_mode))
        {
          e->type = LODGE_FILE_SYMLINK;
          e->link = g_file_read_link (path, NULL);
        }
      else if (S_ISFIFO (st.st_mode))
        e->type = LODGE_FILE_FIFO;
      else
        {
          e->type = LODGE_FILE_REGULAR;
          g_autofree char *data = NULL;
          gsize len = 0;
          g_assert_true (g_file_get_contents (path, &data, &len, NULL));
          e->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
        }
      char names[1024];
      ssize_t n = llistxattr (path, names, sizeof names);
      for (ssize_t i = 0; i < n; i += strlen (names + i) + 1)
        {
          char value[256];
          ssize_t vlen = lgetxattr (path, names + i, value, sizeof value);
          g_assert_cmpint (vlen, >=, 0);
          if (e->xattrs == NULL)
            e->xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_bytes_unref);
          g_hash_table_insert (e->xattrs, g_strdup (names + i), g_bytes_new (value, vlen));
        }
      g_ptr_array_add (out, e);
      if (S_ISDIR (st.st_mode))
        walk (path, e->path, out);
    }
}

static int
by_path (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(LodgeFileEntry *const *) a)->path, (*(LodgeFileEntry *const *) b)->path);
}

void
use_lodge_appliance (void)
{
  const char *dir = g_getenv ("LODGE_APPLIANCE");
  g_autoptr (GError) error = NULL;
  if (dir == NULL || !lodge_guestfs_use_appliance (dir, &error))
    g_printerr ("# libguestfs's own appliance: %s\n",
                error != NULL ? error->message : "no LODGE_APPLIANCE");
}

GPtrArray *
host_manifest (const char *tree)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_file_entry_free);
  walk (tree, "", out);
  g_ptr_array_sort (out, by_path);
  return out;
}

FileStat
host_stat (const char *path)
{
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  return (FileStat) { st.st_mode & 07777, st.st_uid, st.st_gid, st.st_mtim.tv_sec,
                      st.st_mtim.tv_nsec };
}

static void
add_guest_stat (guestfs_h *h, const char *path, GHashTable *stats)
{
  struct guestfs_statns *st = guestfs_lstatns (h, path);
  if (st == NULL)
    {
      g_test_fail_printf ("cannot lstat %s in the guest: %s", path, guestfs_last_error (h));
      return;
    }
  FileStat *s = g_new (FileStat, 1);
  *s = (FileStat) { st->st_mode & 07777, st->st_uid, st->st_gid, st->st_mtime_sec,
                    st->st_mtime_nsec };
  guestfs_free_statns (st);
  g_hash_table_insert (stats, g_strdup (path), s);
}

GPtrArray *
guest_manifest (const char *client_id, const char *pool, const char *image, const char *snap,
                GHashTable **ret_stats)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeGuestfs) g = lodge_guestfs_new (&error);
  g_assert_no_error (error);
  g_assert_true (lodge_guestfs_add_rbd (g, pool, image, snap, client_id, TRUE, &error));
  g_assert_true (lodge_guestfs_launch (g, &error));
  g_assert_no_error (error);
  g_assert_true (lodge_guestfs_mount (g, lodge_guestfs_disk (g), TRUE, &error));
  g_assert_no_error (error);
  GPtrArray *m = lodge_guestfs_manifest (g, TRUE, &error);
  g_assert_no_error (error);
  if (ret_stats != NULL)
    {
      *ret_stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      guestfs_h *h = lodge_guestfs_handle (g);
      add_guest_stat (h, "/", *ret_stats);
      for (guint i = 0; i < m->len; i++)
        add_guest_stat (h, ((LodgeFileEntry *) m->pdata[i])->path, *ret_stats);
    }
  return m;
}

static void
assert_same_xattrs (const char *path, GHashTable *want, GHashTable *got)
{
  guint n_want = want != NULL ? g_hash_table_size (want) : 0;
  guint n_got = 0;
  GHashTableIter it;
  gpointer k, v;
  if (got != NULL)
    {
      g_hash_table_iter_init (&it, got);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (!g_str_has_prefix (k, "security.")) /* SELinux labels of the appliance */
          n_got++;
    }
  if (n_want != n_got)
    g_test_fail_printf ("%s: %u xattrs on the host, %u in the guest", path, n_want, n_got);
  if (want == NULL)
    return;
  g_hash_table_iter_init (&it, want);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      GBytes *other = got != NULL ? g_hash_table_lookup (got, k) : NULL;
      if (other == NULL || !g_bytes_equal (v, other))
        g_test_fail_printf ("%s: xattr %s differs", path, (char *) k);
    }
}

void
assert_same_tree (GPtrArray *host, GPtrArray *guest, gboolean xattrs)
{
  g_autoptr (GHashTable) by = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < guest->len; i++)
    {
      LodgeFileEntry *e = guest->pdata[i];
      g_hash_table_insert (by, e->path, e);
    }
  for (guint i = 0; i < host->len; i++)
    {
      LodgeFileEntry *h = host->pdata[i];
      LodgeFileEntry *g = g_hash_table_lookup (by, h->path);
      if (g == NULL)
        {
          g_test_fail_printf ("%s is missing in the guest", h->path);
          continue;
        }
      g_hash_table_remove (by, h->path);
      if (h->type != g->type || h->mode != g->mode || h->uid != g->uid || h->gid != g->gid)
        g_test_fail_printf ("%s: type/mode/owner %d/%04o/%u:%u on the host, %d/%04o/%u:%u in "
                            "the guest",
                            h->path, h->type, h->mode, h->uid, h->gid, g->type, g->mode, g->uid,
                            g->gid);
      if (h->type == LODGE_FILE_REGULAR
          && (h->size != g->size || g_strcmp0 (h->sha256, g->sha256) != 0 || h->nlink != g->nlink))
        g_test_fail_printf ("%s: content or link count differs", h->path);
      if (h->type == LODGE_FILE_SYMLINK && g_strcmp0 (h->link, g->link) != 0)
        g_test_fail_printf ("%s: link target '%s' became '%s'", h->path, h->link, g->link);
      if (xattrs)
        assert_same_xattrs (h->path, h->xattrs, g->xattrs);
    }
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, by);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_test_fail_printf ("%s is in the guest but not in the tree", (char *) k);
}

static void
assert_same_time (const char *path, const FileStat *host, const FileStat *guest, gboolean nsec)
{
  gint64 want_nsec = nsec ? host->mtime_nsec : 0;
  if (host->mtime_sec != guest->mtime_sec || want_nsec != guest->mtime_nsec)
    g_test_fail_printf ("%s: mtime %" G_GINT64_FORMAT " s %" G_GINT64_FORMAT " ns expected, %"
                        G_GINT64_FORMAT " s %" G_GINT64_FORMAT " ns in the guest", path,
                        host->mtime_sec, want_nsec, guest->mtime_sec, guest->mtime_nsec);
}

void
assert_same_times (const char *tree, GPtrArray *host, GHashTable *guest, gboolean nsec)
{
  FileStat root = host_stat (tree);
  const FileStat *groot = g_hash_table_lookup (guest, "/");
  g_assert_nonnull (groot);
  if (root.mode != groot->mode || root.uid != groot->uid || root.gid != groot->gid)
    g_test_fail_printf ("/: mode/owner %04o/%u:%u expected, %04o/%u:%u in the guest", root.mode,
                        root.uid, root.gid, groot->mode, groot->uid, groot->gid);
  assert_same_time ("/", &root, groot, nsec);
  for (guint i = 0; i < host->len; i++)
    {
      const LodgeFileEntry *e = host->pdata[i];
      const FileStat *g = g_hash_table_lookup (guest, e->path);
      if (g == NULL)
        continue; /* missing: assert_same_tree() said so */
      g_autofree char *path = g_build_filename (tree, e->path, NULL);
      FileStat h = host_stat (path);
      assert_same_time (e->path, &h, g, nsec);
    }
}
