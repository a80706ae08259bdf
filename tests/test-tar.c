/* Tar archives of trees: a tree written by lodge_tar_write_tree() reads
 * back metadata for metadata and byte for byte (with Lodge's reader and,
 * when installed, GNU tar extracting it as libguestfs's tar-in does), and
 * what the archive holds is checked by reading it back with libarchive. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <glib/gstdio.h>
#include <archive.h>
#include <archive_entry.h>

#include "lodge-error.h"
#include "lodge-tar.h"
#include "lodge-tar-private.h"
#include "lib/lodge-tar-test.h"

/* An entry of the archive against the file it came from. */
static void
assert_entry_matches (Tree *t, const LodgeTarEntry *e)
{
  g_autofree char *path = host_path_of (t->src, e->name);
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);

  switch (st.st_mode & S_IFMT)
    {
    case S_IFREG:
      if (strcmp (e->name, "hosts.link") == 0)
        {
          g_assert_cmpint (e->type, ==, LODGE_TAR_ENTRY_HARDLINK);
          g_assert_cmpstr (e->link, ==, "etc/hosts");
          break;
        }
      g_assert_cmpint (e->type, ==, LODGE_TAR_ENTRY_FILE);
      g_assert_cmpuint (e->size, ==, st.st_size);
      {
        g_autofree char *sum = sha256_of_file (path);
        g_assert_cmpstr (e->sha256, ==, sum);
      }
      break;
    case S_IFDIR:
      g_assert_cmpint (e->type, ==, LODGE_TAR_ENTRY_DIRECTORY);
      break;
    case S_IFLNK:
      {
        g_assert_cmpint (e->type, ==, LODGE_TAR_ENTRY_SYMLINK);
        g_autofree char *target = g_file_read_link (path, NULL);
        g_assert_cmpstr (e->link, ==, target);
      }
      break;
    case S_IFIFO:
      g_assert_cmpint (e->type, ==, LODGE_TAR_ENTRY_FIFO);
      break;
    default:
      g_test_fail_printf ("%s: unexpected file type in the archive", e->name);
    }
  g_assert_cmpuint (e->mode, ==, st.st_mode & 07777);
  g_assert_cmpuint (e->uid, ==, st.st_uid);
  g_assert_cmpuint (e->gid, ==, st.st_gid);
  g_assert_cmpint (e->mtime, ==, st.st_mtim.tv_sec);
  g_assert_cmpint (e->mtime_nsec, ==, st.st_mtim.tv_nsec);
  if (e->type != LODGE_TAR_ENTRY_HARDLINK) /* the inode's are on its first name */
    {
      g_autoptr (GHashTable) xattrs = read_xattrs (path);
      assert_xattrs_equal (xattrs, e->xattrs, e->name);
    }
}

static void
test_write_roundtrip (Tree *t, gconstpointer data)
{
  LodgeTarStats written = { 0 };
  g_autofree char *archive = write_tree (t, "out.tar", &written);

  g_autoptr (GError) error = NULL;
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
  LodgeTarStats checked = { 0 };
  g_autoptr (GPtrArray) entries = lodge_tar_list (archive, &compression, &checked, &error);
  g_assert_no_error (error);
  g_assert_cmpint (compression, ==, LODGE_TAR_COMPRESSION_NONE);
  assert_stats_equal (&written, &checked);

  /* Every name, in order: sorted, depth first, root first, no socket. */
  g_autoptr (GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  collect_names (t->src, "", expected);
  g_assert_cmpuint (entries->len, ==, expected->len);
  for (guint i = 0; i < entries->len; i++)
    {
      LodgeTarEntry *e = entries->pdata[i];
      g_assert_cmpstr (e->name, ==, expected->pdata[i]);
      assert_entry_matches (t, e);
    }

  g_assert_cmpuint (written.files, ==, 10);
  g_assert_cmpuint (written.directories, ==, 8);
  g_assert_cmpuint (written.symlinks, ==, 5);
  g_assert_cmpuint (written.hardlinks, ==, 1);
  g_assert_cmpuint (written.fifos, ==, 1);
  g_assert_cmpuint (written.bytes, ==, 3 * 1024 * 1024 + 123 + 7 + 8 + 20 + 5 + 5 + 5 + 7 + 6);

  /* What the test's own tree walk might have missed. */
  LodgeTarEntry *first = entries->pdata[0];
  g_assert_cmpstr (first->name, ==, "./");
  g_assert_cmpuint (first->mode, ==, 0751);
  for (guint i = 0; i < entries->len; i++)
    {
      LodgeTarEntry *e = entries->pdata[i];
      g_assert_false (g_str_has_prefix (e->name, "dirlink/")); /* never followed */
      g_assert_cmpstr (e->name, !=, "sock");
    }
  if (t->xattrs)
    {
      LodgeTarEntry *hosts = NULL;
      for (guint i = 0; i < entries->len; i++)
        if (strcmp (((LodgeTarEntry *) entries->pdata[i])->name, "etc/hosts") == 0)
          hosts = entries->pdata[i];
      g_assert_nonnull (hosts);
      GBytes *value = g_hash_table_lookup (hosts->xattrs, "user.lodge.a%b=c");
      g_assert_nonnull (value);
      g_assert_cmpuint (g_bytes_get_size (value), ==, 1);
    }
}

/* GNU tar extracts the archive, as libguestfs's tar-in runs it, to the
 * same tree. */
static void
test_write_gnu_tar_extracts (Tree *t, gconstpointer data)
{
  if (!have_gnu_tar ())
    return;
  g_autofree char *archive = write_tree (t, "out.tar", NULL);
  g_autofree char *dst = g_build_filename (t->dir, "dst", NULL);
  g_assert_cmpint (mkdir (dst, 0700), ==, 0);
  const char *args[] = { "-C", dst, "-xf", archive, "--xattrs", "--xattrs-include=*", NULL };
  run_gnu_tar (args);

  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  collect_names (t->src, "", names);
  g_autoptr (GPtrArray) extracted = g_ptr_array_new_with_free_func (g_free);
  collect_names (dst, "", extracted);
  g_assert_cmpuint (extracted->len, ==, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *a = host_path_of (t->src, names->pdata[i]);
      g_autofree char *b = host_path_of (dst, names->pdata[i]);
      assert_same_file (a, b, names->pdata[i]);
    }
  /* The hard link is one inode again. */
  g_autofree char *hosts = g_build_filename (dst, "etc", "hosts", NULL);
  g_autofree char *link = g_build_filename (dst, "hosts.link", NULL);
  struct stat s1, s2;
  g_assert_cmpint (lstat (hosts, &s1), ==, 0);
  g_assert_cmpint (lstat (link, &s2), ==, 0);
  g_assert_cmpuint (s1.st_ino, ==, s2.st_ino);
}

static void
test_write_deterministic (Tree *t, gconstpointer data)
{
  g_autofree char *a = write_tree (t, "a.tar", NULL);
  g_autofree char *b = write_tree (t, "b.tar", NULL);
  g_autofree char *sum_a = sha256_of_file (a);
  g_autofree char *sum_b = sha256_of_file (b);
  g_assert_cmpstr (sum_a, ==, sum_b);
}

static void
test_write_progress (Tree *t, gconstpointer data)
{
  g_autofree char *out = g_build_filename (t->dir, "out.tar", NULL);
  Progress p = { .monotonic = TRUE };
  LodgeTarStats stats = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (t->src, out, on_progress, &p, &stats, &error));
  g_assert_no_error (error);
  g_assert_true (p.monotonic);
  g_assert_cmpuint (p.calls, >=, 2);
  g_assert_cmpuint (p.calls, <=, 2 + stats.bytes / (1024 * 1024));
  g_assert_cmpuint (p.last_done, ==, stats.bytes);
  g_assert_cmpuint (p.last_total, ==, stats.bytes);
}

static void
test_write_output_inside_tree (Tree *t, gconstpointer data)
{
  g_autofree char *out = g_build_filename (t->src, "self.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (t->src, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) entries = lodge_tar_list (out, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    g_assert_false (g_str_has_prefix (((LodgeTarEntry *) entries->pdata[i])->name, "self.tar"));
}

static void
test_write_devices_refused (Tree *t, gconstpointer data)
{
  if (!t->root)
    {
      g_test_skip ("creating device nodes needs root");
      return;
    }
  g_autofree char *out = g_build_filename (t->dir, "out.tar", NULL);
  const struct {
    const char *name;
    mode_t type;
    const char *what;
  } cases[] = { { "null", S_IFCHR, "character device" }, { "sda", S_IFBLK, "block device" } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dev = g_build_filename (t->src, "etc", cases[i].name, NULL);
      g_assert_cmpint (mknod (dev, cases[i].type | 0600, makedev (1, 3)), ==, 0);
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_tar_write_tree (t->src, out, NULL, NULL, NULL, &error));
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, dev));
      g_assert_nonnull (strstr (error->message, cases[i].what));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS)); /* nothing left behind */
      g_assert_cmpint (unlink (dev), ==, 0);
    }
  g_autoptr (GDir) dir = g_dir_open (t->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, "out.tar")); /* no temporary file either */
}

static void
test_write_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (lodge_tar_write_tree ("/nonexistent/tree", "/tmp/x.tar", NULL, NULL, NULL,
                                        &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_IO);
  g_assert_cmpstr (error->message, ==, "/nonexistent/tree: cannot open: No such file or directory");
  g_clear_error (&error);
  g_assert_false (lodge_tar_write_tree ("/", "/nonexistent/dir/x.tar", NULL, NULL, NULL, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_IO);
  g_assert_cmpstr (error->message, ==,
                   "/nonexistent/dir/x.tar: cannot create: No such file or directory");
}

/* A file over 8 GiB (sparse on disk): a pax size record. Writes and reads
 * 9 GiB, so only with -m slow. */
static void
test_write_big_file (Tree *t, gconstpointer data)
{
  if (!g_test_slow ())
    {
      g_test_skip ("writes a 9 GiB archive; run with -m slow");
      return;
    }
  g_autofree char *dir = g_build_filename (t->dir, "bigtree", NULL);
  g_autofree char *file = g_build_filename (dir, "huge", NULL);
  g_assert_cmpint (mkdir (dir, 0755), ==, 0);
  int fd = open (file, O_WRONLY | O_CREAT, 0644);
  g_assert_cmpint (fd, >=, 0);
  guint64 size = (G_GUINT64_CONSTANT (9) << 30) + 1;
  g_assert_cmpint (pwrite (fd, "end", 3, size - 3), ==, 3);
  close (fd);
  g_autofree char *out = g_build_filename (t->dir, "big.tar", NULL);
  g_autoptr (GError) error = NULL;
  LodgeTarStats stats = { 0 }, checked = { 0 };
  g_assert_true (lodge_tar_write_tree (dir, out, NULL, NULL, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.bytes, ==, size);
  g_assert_true (lodge_tar_check (out, NULL, &checked, &error));
  g_assert_no_error (error);
  assert_stats_equal (&stats, &checked);
}

/* Owners are numeric only (GNU tar uses the numbers even without
 * --numeric-owner), no atime or ctime travels, and ids too large for the
 * ustar header are in pax records: read back with libarchive itself. */
static void
test_write_numeric_owners (Tree *t, gconstpointer data)
{
  LodgeTarStats stats = { 0 };
  g_autofree char *archive = write_tree (t, "out.tar", &stats);
  g_auto (LodgeTarLocale) locale = { 0 }; /* names are UTF-8 */
  lodge_tar_locale_push (&locale);
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_filename (a, archive, 10240), ==, ARCHIVE_OK);
  struct archive_entry *e;
  guint n = 0;
  gboolean big_ids = FALSE;
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      n++;
      g_assert_cmpstr (archive_entry_uname (e) ?: "", ==, "");
      g_assert_cmpstr (archive_entry_gname (e) ?: "", ==, "");
      g_assert_false (archive_entry_atime_is_set (e));
      g_assert_false (archive_entry_ctime_is_set (e));
      big_ids |= archive_entry_uid (e) == 3000000 && archive_entry_gid (e) == 3000001;
    }
  archive_read_free (a);
  g_assert_cmpuint (n, ==, stats.files + stats.directories + stats.symlinks + stats.hardlinks
                             + stats.fifos);

  g_autoptr (GBytes) bytes = file_bytes (archive);
  if (t->root)
    {
      g_assert_true (big_ids);
      g_assert_true (bytes_contain (bytes, " uid=3000000\n", 13));
      g_assert_true (bytes_contain (bytes, " gid=3000001\n", 13));
    }
  /* GNU tar's escaping of '%' and '=' in the keyword; no LIBARCHIVE.xattr
   * records, which GNU tar does not know. */
  if (t->xattrs)
    g_assert_true (bytes_contain (bytes, " SCHILY.xattr.user.lodge.a%25b%3Dc=x\n", 37));
  g_assert_false (bytes_contain (bytes, "LIBARCHIVE.", 11));
}

/* An extended attribute name GNU tar would restore under another name
 * (libarchive escapes a space as %20, GNU tar does not unescape it) is
 * refused. */
static void
test_write_xattr_name_refused (Tree *t, gconstpointer data)
{
  if (!t->xattrs)
    {
      g_test_skip ("this filesystem refuses user xattrs");
      return;
    }
  g_autofree char *file = g_build_filename (t->src, "etc", "hosts", NULL);
  g_assert_cmpint (lsetxattr (file, "user.with space", "v", 1, 0), ==, 0);
  g_autofree char *out = g_build_filename (t->dir, "out.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (lodge_tar_write_tree (t->src, out, NULL, NULL, NULL, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, file));
  g_assert_nonnull (strstr (error->message, "extended attribute name 'user.with space'"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* The tree at @src written, listed and extracted by GNU tar: every name
 * in order, and every file the same after extraction. */
static void
assert_tree_roundtrip (Tree *t, const char *src, const char *tag)
{
  g_autofree char *archive_name = g_strconcat (tag, ".tar", NULL);
  g_autofree char *archive = g_build_filename (t->dir, archive_name, NULL);
  g_autoptr (GError) error = NULL;
  LodgeTarStats stats = { 0 };
  g_assert_true (lodge_tar_write_tree (src, archive, NULL, NULL, &stats, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) entries = lodge_tar_list (archive, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  collect_names (src, "", names);
  g_assert_cmpuint (entries->len, ==, names->len);
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpstr (((LodgeTarEntry *) entries->pdata[i])->name, ==, names->pdata[i]);
  if (!have_gnu_tar ())
    return;
  g_autofree char *dst_name = g_strconcat (tag, ".dst", NULL);
  g_autofree char *dst = make_tree (t, dst_name);
  const char *args[] = { "-C", dst, "-xf", archive, "--xattrs", "--xattrs-include=*", NULL };
  run_gnu_tar (args);
  g_autoptr (GPtrArray) extracted = g_ptr_array_new_with_free_func (g_free);
  collect_names (dst, "", extracted);
  g_assert_cmpuint (extracted->len, ==, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *a = host_path_of (src, names->pdata[i]);
      g_autofree char *b = host_path_of (dst, names->pdata[i]);
      assert_same_file (a, b, names->pdata[i]);
    }
}

/* Names over 100 bytes (pax path records, not split into the ustar
 * prefix), over 255 (no ustar field holds them) and near 1000, a
 * component of NAME_MAX bytes, and non-ASCII names (always a pax path
 * record) of lengths that make the record's length go from two to three
 * digits and from three to four. */
static void
test_write_long_names (Tree *t, gconstpointer data)
{
  g_autofree char *src = make_tree (t, "long");
  GString *path = g_string_new (src);
  for (const char *c = "abc"; *c != '\0'; c++)
    {
      g_string_append_c (path, '/');
      for (int i = 0; i < 255; i++)
        g_string_append_c (path, *c);
      g_assert_cmpint (mkdir (path->str, 0755), ==, 0);
    }
  g_autofree char *deep = g_string_free (path, FALSE); /* "long/aaa…/bbb…/ccc…" */
  gsize deep_rel = strlen (deep) - strlen (src) - 1;   /* 767 */
  for (gsize len = 985; len <= 1000; len++)
    {
      g_autofree char *leaf = g_strnfill (len - deep_rel - 1, 'z');
      g_autofree char *file = g_build_filename (deep, leaf, NULL);
      put_file (file, "deep\n", 5, 0644);
    }
  for (gsize len = 84; len <= 96; len++)
    {
      g_autofree char *tail = g_strnfill (len - 2, 'u');
      g_autofree char *leaf = g_strconcat ("\xc3\xa9", tail, NULL); /* "é…" */
      g_autofree char *file = g_build_filename (src, leaf, NULL);
      put_file (file, "utf8\n", 5, 0644);
    }
  for (gsize len = 99; len <= 102; len++)
    {
      g_autofree char *leaf = g_strnfill (len, 'q');
      g_autofree char *file = g_build_filename (src, leaf, NULL);
      put_file (file, "q\n", 2, 0644);
    }
  assert_tree_roundtrip (t, src, "long");
}

/* Times as GNU tar reads pax times, before 1970 too: -1.5 s is written
 * "-1.5" (libarchive 3.6 would write {-2 s, 0.5 s} as "-2.5"). A time in
 * (-1 s, 0) loses its fraction (see lodge-tar-private.h). */
static void
test_write_pax_times (Tree *t, gconstpointer data)
{
  g_autofree char *src = make_tree (t, "times");
  const struct {
    const char *name;
    gint64 sec;
    long nsec;
    const char *record;
  } times[] = {
    { "a", -2, 500000000, " mtime=-1.5\n" },
    { "b", -1000000, 500, " mtime=-999999.9999995\n" },
    { "c", 1700000000, 123456789, " mtime=1700000000.123456789\n" },
    { "d", 5, 0, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *file = g_build_filename (src, times[i].name, NULL);
      put_file (file, "t\n", 2, 0644);
      set_mtime (file, times[i].sec, times[i].nsec);
    }
  g_autofree char *edge = g_build_filename (src, "edge", NULL);
  put_file (edge, "t\n", 2, 0644);
  set_mtime (edge, -1, 250000000);
  set_mtime (src, 1600000000, 0);

  g_autofree char *archive = g_build_filename (t->dir, "times.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (src, archive, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes = file_bytes (archive);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    if (times[i].record != NULL && !bytes_contain (bytes, times[i].record,
                                                   strlen (times[i].record)))
      g_test_fail_printf ("%s: no record '%s'", times[i].name, times[i].record);
  g_autoptr (GPtrArray) entries = lodge_tar_list (archive, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, G_N_ELEMENTS (times) + 2);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      LodgeTarEntry *e = entries->pdata[i + 1]; /* after "./" */
      g_assert_cmpstr (e->name, ==, times[i].name);
      g_assert_cmpint (e->mtime, ==, times[i].sec);
      g_assert_cmpuint (e->mtime_nsec, ==, times[i].nsec);
    }
  LodgeTarEntry *last = entries->pdata[entries->len - 1];
  g_assert_cmpstr (last->name, ==, "edge");
  g_assert_cmpint (last->mtime, ==, -1);
  g_assert_cmpuint (last->mtime_nsec, ==, 0);

  if (!have_gnu_tar ())
    return;
  g_autofree char *dst = make_tree (t, "times.dst");
  const char *args[] = { "-C", dst, "-xf", archive, NULL };
  run_gnu_tar (args);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *a = g_build_filename (src, times[i].name, NULL);
      g_autofree char *b = g_build_filename (dst, times[i].name, NULL);
      assert_same_file (a, b, times[i].name);
    }
}

/* A sparse file is written with its holes as zeros: no sparse entry
 * (lodge_tar_list() refuses those), the same content. */
static void
test_write_sparse (Tree *t, gconstpointer data)
{
  g_autofree char *src = make_tree (t, "sparse");
  g_autofree char *file = g_build_filename (src, "holes", NULL);
  int fd = open (file, O_WRONLY | O_CREAT, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "middle", 6, 1 << 20), ==, 6);
  g_assert_cmpint (ftruncate (fd, 3 << 20), ==, 0);
  close (fd);
  struct stat st;
  g_assert_cmpint (stat (file, &st), ==, 0);
  if ((guint64) st.st_blocks * 512 >= (guint64) st.st_size)
    g_test_message ("this filesystem stored the file without holes");

  g_autofree char *archive = g_build_filename (t->dir, "sparse.tar", NULL);
  g_autoptr (GError) error = NULL;
  LodgeTarStats stats = { 0 };
  g_assert_true (lodge_tar_write_tree (src, archive, NULL, NULL, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.bytes, ==, 3 << 20);
  g_autoptr (GPtrArray) entries = lodge_tar_list (archive, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  LodgeTarEntry *e = entries->pdata[1];
  g_assert_cmpuint (e->size, ==, 3 << 20);
  g_autofree char *sum = sha256_of_file (file);
  g_assert_cmpstr (e->sha256, ==, sum);
  assert_tree_roundtrip (t, src, "sparse");
}

/* Names that are not UTF-8 keep their bytes: libarchive writes them in a
 * pax path record with hdrcharset=BINARY, which GNU tar 1.34 does not
 * know and ignores (a warning, exit status 0), taking the bytes as they
 * are. */
static void
test_write_not_utf8 (Tree *t, gconstpointer data)
{
  g_autofree char *src = make_tree (t, "latin1");
  const char *names[] = {
    "caf\xe9",
    "long-caf\xe9-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqqq", /* over 100 bytes */
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_build_filename (src, names[i], NULL);
      put_file (file, "latin1\n", 7, 0644);
    }
  g_autofree char *archive = g_build_filename (t->dir, "latin1.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (src, archive, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) entries = lodge_tar_list (archive, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  g_assert_cmpstr (((LodgeTarEntry *) entries->pdata[1])->name, ==, names[0]);
  g_assert_cmpstr (((LodgeTarEntry *) entries->pdata[2])->name, ==, names[1]);
  if (!have_gnu_tar ())
    return;
  g_autofree char *dst = make_tree (t, "latin1.dst");
  const char *args[] = { "-C", dst, "-xf", archive, NULL };
  run_gnu_tar_allowing (args, "Ignoring unknown extended header keyword 'hdrcharset'");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_build_filename (dst, names[i], NULL);
      g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
    }
}

static void
test_format_names (void)
{
  g_autofree char *dec = lodge_tar_xattr_decode ("user.a%25b%3Dc%20d");
  g_assert_cmpstr (dec, ==, "user.a%b=c%20d"); /* as GNU tar: only %25 and %3D */
  g_autofree char *quoted = lodge_tar_quote ("caf\xc3\xa9\n\0x\xff", 9);
  g_assert_cmpstr (quoted, ==, "caf\xc3\xa9\\x0a\\x00x\\xff");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  TREE_TEST ("/tar/write/roundtrip", test_write_roundtrip);
  TREE_TEST ("/tar/write/gnu-tar-extracts", test_write_gnu_tar_extracts);
  TREE_TEST ("/tar/write/deterministic", test_write_deterministic);
  TREE_TEST ("/tar/write/progress", test_write_progress);
  TREE_TEST ("/tar/write/output-inside-tree", test_write_output_inside_tree);
  TREE_TEST ("/tar/write/devices-refused", test_write_devices_refused);
  TREE_TEST ("/tar/write/big-file", test_write_big_file);
  TREE_TEST ("/tar/write/numeric-owners", test_write_numeric_owners);
  TREE_TEST ("/tar/write/xattr-name-refused", test_write_xattr_name_refused);
  TREE_TEST ("/tar/write/long-names", test_write_long_names);
  TREE_TEST ("/tar/write/pax-times", test_write_pax_times);
  TREE_TEST ("/tar/write/sparse", test_write_sparse);
  TREE_TEST ("/tar/write/not-utf8", test_write_not_utf8);
  g_test_add_func ("/tar/write/errors", test_write_errors);
  g_test_add_func ("/tar/format/names", test_format_names);
  return g_test_run ();
}
