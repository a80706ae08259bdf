/* Tar archives: a tree written by lodge_tar_write_tree() reads back
 * metadata for metadata and byte for byte (with Lodge's own reader and,
 * when installed, GNU tar extracting it as libguestfs's tar-in does), and
 * hostile archives, built header by header here, are refused with an error
 * naming the entry. */
#define _GNU_SOURCE /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include <archive.h>
#include <archive_entry.h>

#include "lodge-error.h"
#include "lodge-tar.h"
#include "lodge-tar-private.h"

#define GNU_TAR "/usr/bin/tar"
#define LONG_NAME_LEN 200

/* ---- helpers ---------------------------------------------------------- */

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path) < 0 && errno != ENOENT ? -1 : 0;
}

static void
rm_rf (const char *path)
{
  if (path != NULL)
    g_assert_cmpint (nftw (path, remove_one, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

static void
put_file (const char *path, const char *content, gsize len, mode_t mode)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, content, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (path, mode), ==, 0);
}

static void
set_mtime (const char *path, gint64 sec, long nsec)
{
  struct timespec times[2] = { { 0, UTIME_OMIT }, { sec, nsec } };
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static char *
sha256_of_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* All extended attributes of @path (not followed): name -> GBytes. */
static GHashTable *
read_xattrs (const char *path)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_bytes_unref);
  char names[4096];
  ssize_t len = llistxattr (path, names, sizeof names);
  for (ssize_t i = 0; i < len; i += strlen (names + i) + 1)
    {
      char value[4096];
      ssize_t vlen = lgetxattr (path, names + i, value, sizeof value);
      g_assert_cmpint (vlen, >=, 0);
      g_hash_table_insert (table, g_strdup (names + i), g_bytes_new (value, vlen));
    }
  return table;
}

static void
assert_xattrs_equal (GHashTable *expected, GHashTable *actual, const char *what)
{
  guint n = actual != NULL ? g_hash_table_size (actual) : 0;
  if (n != g_hash_table_size (expected))
    g_test_fail_printf ("%s: %u extended attributes, expected %u", what, n,
                        g_hash_table_size (expected));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, expected);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GBytes *got = actual != NULL ? g_hash_table_lookup (actual, key) : NULL;
      if (got == NULL || !g_bytes_equal (got, value))
        g_test_fail_printf ("%s: extended attribute %s differs or is missing", what,
                            (const char *) key);
    }
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names lodge_tar_write_tree() should write for the tree at @root, in
 * its order: "./", then depth first, each directory's names sorted
 * bytewise, directories with a '/', sockets left out. */
static void
collect_names (const char *root, const char *rel, GPtrArray *out)
{
  g_autofree char *path = rel[0] != '\0' ? g_build_filename (root, rel, NULL) : g_strdup (root);
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  if (S_ISSOCK (st.st_mode))
    return;
  if (!S_ISDIR (st.st_mode))
    {
      g_ptr_array_add (out, g_strdup (rel));
      return;
    }
  g_ptr_array_add (out, rel[0] != '\0' ? g_strconcat (rel, "/", NULL) : g_strdup ("./"));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (children, g_strdup (name));
  g_ptr_array_sort (children, compare_strings);
  for (guint i = 0; i < children->len; i++)
    {
      g_autofree char *child = rel[0] != '\0' ? g_strconcat (rel, "/", children->pdata[i], NULL)
                                              : g_strdup (children->pdata[i]);
      collect_names (root, child, out);
    }
}

/* Where an archive name ("./", "etc/", "etc/hosts") is under @root. */
static char *
host_path_of (const char *root, const char *name)
{
  if (strcmp (name, "./") == 0)
    return g_strdup (root);
  g_autofree char *rel = g_strdup (name);
  gsize n = strlen (rel);
  if (n > 0 && rel[n - 1] == '/')
    rel[n - 1] = '\0';
  return g_build_filename (root, rel, NULL);
}

static void
assert_stats_equal (const LodgeTarStats *a, const LodgeTarStats *b)
{
  g_assert_cmpuint (a->files, ==, b->files);
  g_assert_cmpuint (a->directories, ==, b->directories);
  g_assert_cmpuint (a->symlinks, ==, b->symlinks);
  g_assert_cmpuint (a->hardlinks, ==, b->hardlinks);
  g_assert_cmpuint (a->fifos, ==, b->fifos);
  g_assert_cmpuint (a->bytes, ==, b->bytes);
}

static gboolean
have_gnu_tar (void)
{
  if (g_file_test (GNU_TAR, G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_skip (GNU_TAR " is not installed");
  return FALSE;
}

/* Runs GNU tar; fails the test on a non-zero exit or any message but the
 * warning GNU tar gives for every pre-1970 mtime (the tree has one) and
 * those that contain @allowed (may be NULL). */
static void
run_gnu_tar_allowing (const char *const *args, const char *allowed)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) GNU_TAR);
  for (const char *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  const char *env[] = { "LC_ALL=C.UTF-8", NULL };
  g_spawn_sync (NULL, (char **) argv->pdata, (char **) env, G_SPAWN_DEFAULT, NULL, NULL, &out,
                &err, &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  g_auto (GStrv) lines = g_strsplit (err, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && strstr (lines[i], ": implausibly old time stamp") == NULL
        && (allowed == NULL || strstr (lines[i], allowed) == NULL))
      g_test_fail_printf ("GNU tar says: %s", lines[i]);
}

static void
run_gnu_tar (const char *const *args)
{
  run_gnu_tar_allowing (args, NULL);
}

/* ---- the tree ---------------------------------------------------------- */

typedef struct {
  char *dir;   /* temporary directory holding everything */
  char *src;   /* the tree */
  gboolean root;
  gboolean xattrs;
} Tree;

static char *
long_name (void)
{
  char *s = g_malloc (LONG_NAME_LEN + 1);
  memset (s, 'n', LONG_NAME_LEN);
  s[LONG_NAME_LEN] = '\0';
  return s;
}

static void
tree_set_up (Tree *t, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  t->dir = g_dir_make_tmp ("lodge-tar-XXXXXX", &error);
  g_assert_no_error (error);
  t->src = g_build_filename (t->dir, "src", NULL);
  t->root = geteuid () == 0;
  g_assert_cmpint (mkdir (t->src, 0700), ==, 0);
  g_autofree char *probe = g_build_filename (t->dir, "probe", NULL);
  put_file (probe, "", 0, 0644);
  t->xattrs = lsetxattr (probe, "user.lodge.probe", "1", 1, 0) == 0;
  if (!t->root)
    g_test_message ("not root: owners are not changed");
  if (!t->xattrs)
    g_test_message ("this filesystem refuses user xattrs: none are set");

#define IN(rel) g_build_filename (t->src, rel, NULL)
  g_autofree char *bin = IN ("bin");
  g_autofree char *su = IN ("bin/su");
  g_autofree char *big = IN ("big.bin");
  g_autofree char *cafe = IN ("café");
  g_autofree char *naive = IN ("café/naïve ✓.txt");
  g_autofree char *dangling = IN ("dangling");
  g_autofree char *empty = IN ("empty");
  g_autofree char *emptydir = IN ("emptydir");
  g_autofree char *etc = IN ("etc");
  g_autofree char *hosts = IN ("etc/hosts");
  g_autofree char *abs = IN ("etc/passwd-link");
  g_autofree char *rel = IN ("etc/rel");
  g_autofree char *fifo = IN ("fifo");
  g_autofree char *hardlink = IN ("hosts.link");
  g_autofree char *longdir = IN ("long");
  g_autofree char *nsec = IN ("nsec");
  g_autofree char *old = IN ("old");
  g_autofree char *secret = IN ("secret");
  g_autofree char *sgid = IN ("sgid");
  g_autofree char *sock = IN ("sock");
  g_autofree char *sticky = IN ("sticky");
  g_autofree char *dirlink = IN ("dirlink");
  g_autofree char *bigid = IN ("bigid");
  g_autofree char *lname = long_name ();
  g_autofree char *longfile = g_build_filename (t->src, "long", lname, NULL);
  g_autofree char *longlink = g_build_filename (t->src, "long", "link", NULL);
#undef IN

  g_assert_cmpint (mkdir (bin, 0755), ==, 0);
  put_file (su, "setuid\n", 7, 0755);
  {
    gsize n = 3 * 1024 * 1024 + 123;
    g_autofree guint32 *buf = g_malloc (n + 4);
    g_autoptr (GRand) rand = g_rand_new_with_seed (42);
    for (gsize i = 0; i < n / 4 + 1; i++)
      buf[i] = g_rand_int (rand);
    put_file (big, (const char *) buf, n, 0644);
  }
  g_assert_cmpint (mkdir (cafe, 0755), ==, 0);
  put_file (naive, "unicode\n", 8, 0644);
  g_assert_cmpint (symlink ("nowhere/at/all", dangling), ==, 0);
  put_file (empty, "", 0, 0644);
  g_assert_cmpint (mkdir (emptydir, 0700), ==, 0);
  g_assert_cmpint (mkdir (etc, 0755), ==, 0);
  put_file (hosts, "127.0.0.1 localhost\n", 20, 0644);
  g_assert_cmpint (symlink ("/etc/passwd", abs), ==, 0);
  g_assert_cmpint (symlink ("../café/naïve ✓.txt", rel), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0640), ==, 0);
  g_assert_cmpint (link (hosts, hardlink), ==, 0);
  g_assert_cmpint (mkdir (longdir, 0755), ==, 0);
  put_file (longfile, "long\n", 5, 0644);
  {
    char target[200];
    memset (target, 't', 160);
    strcpy (target + 160, "/x");
    g_assert_cmpint (symlink (target, longlink), ==, 0);
  }
  put_file (nsec, "nsec\n", 5, 0644);
  put_file (old, "1969\n", 5, 0644);
  put_file (secret, "secret\n", 7, 0644);
  put_file (bigid, "bigid\n", 6, 0644);
  g_assert_cmpint (mkdir (sgid, 0755), ==, 0);
  g_assert_cmpint (mkdir (sticky, 0755), ==, 0);
  g_assert_cmpint (symlink ("/etc", dirlink), ==, 0);
  {
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_assert_cmpuint (strlen (sock), <, sizeof addr.sun_path);
    strcpy (addr.sun_path, sock);
    g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
    close (fd);
  }

  /* Owners before modes: chown clears setuid and setgid. */
  if (t->root)
    {
      g_assert_cmpint (lchown (t->src, 1234, 5678), ==, 0);
      g_assert_cmpint (lchown (secret, 1000, 1001), ==, 0);
      g_assert_cmpint (lchown (bigid, 3000000, 3000001), ==, 0);
      g_assert_cmpint (lchown (sgid, 0, 1001), ==, 0);
      g_assert_cmpint (lchown (rel, 1000, 1000), ==, 0);
    }
  g_assert_cmpint (chmod (su, 04755), ==, 0);
  g_assert_cmpint (chmod (secret, 0600), ==, 0);
  g_assert_cmpint (chmod (sgid, 02775), ==, 0);
  g_assert_cmpint (chmod (sticky, 01777), ==, 0);
  g_assert_cmpint (chmod (t->src, 0751), ==, 0);

  if (t->xattrs)
    {
      g_assert_cmpint (lsetxattr (hosts, "user.lodge.test", "a=b\0c\n", 6, 0), ==, 0);
      g_assert_cmpint (lsetxattr (hosts, "user.lodge.a%b=c", "x", 1, 0), ==, 0);
      g_assert_cmpint (lsetxattr (etc, "user.lodge.test", "dir", 3, 0), ==, 0);
    }

  set_mtime (nsec, 1700000000, 123456789);
  set_mtime (old, -1000000, 500);
  set_mtime (hosts, 1600000000, 0);
}

static void
tree_tear_down (Tree *t, gconstpointer data)
{
  rm_rf (t->dir);
  g_free (t->dir);
  g_free (t->src);
}

static char *
write_tree (Tree *t, const char *name, LodgeTarStats *ret_stats)
{
  char *out = g_build_filename (t->dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (t->src, out, NULL, NULL, ret_stats, &error));
  g_assert_no_error (error);
  return out;
}

/* ---- writing ------------------------------------------------------------ */

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
assert_same_file (const char *a, const char *b, const char *name)
{
  struct stat sa, sb;
  g_assert_cmpint (lstat (a, &sa), ==, 0);
  if (lstat (b, &sb) < 0)
    {
      g_test_fail_printf ("%s: not extracted", name);
      return;
    }
  if (sa.st_mode != sb.st_mode || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
    g_test_fail_printf ("%s: mode/owner %o %u:%u extracted as %o %u:%u", name, sa.st_mode,
                        sa.st_uid, sa.st_gid, sb.st_mode, sb.st_uid, sb.st_gid);
  if (!S_ISLNK (sa.st_mode) && (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec
                                || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec))
    g_test_fail_printf ("%s: mtime %ld.%09ld extracted as %ld.%09ld", name,
                        (long) sa.st_mtim.tv_sec, sa.st_mtim.tv_nsec, (long) sb.st_mtim.tv_sec,
                        sb.st_mtim.tv_nsec);
  if (S_ISREG (sa.st_mode))
    {
      g_autofree char *sum_a = sha256_of_file (a);
      g_autofree char *sum_b = sha256_of_file (b);
      if (strcmp (sum_a, sum_b) != 0)
        g_test_fail_printf ("%s: content differs", name);
    }
  if (S_ISLNK (sa.st_mode))
    {
      g_autofree char *ta = g_file_read_link (a, NULL);
      g_autofree char *tb = g_file_read_link (b, NULL);
      g_assert_cmpstr (ta, ==, tb);
    }
  g_autoptr (GHashTable) xa = read_xattrs (a);
  g_autoptr (GHashTable) xb = read_xattrs (b);
  assert_xattrs_equal (xa, xb, name);
}

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

typedef struct {
  guint calls;
  guint64 last_done, last_total;
  gboolean monotonic;
} Progress;

static void
on_progress (guint64 done, guint64 total, gpointer user_data)
{
  Progress *p = user_data;
  if (p->calls > 0 && (done < p->last_done || total != p->last_total))
    p->monotonic = FALSE;
  if (p->calls == 0 && done != 0)
    p->monotonic = FALSE;
  p->calls++;
  p->last_done = done;
  p->last_total = total;
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

/* ---- what the archive holds, read back with libarchive ------------------- */

/* The bytes of a file. */
static GBytes *
file_bytes (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

static gboolean
bytes_contain (GBytes *bytes, const char *needle, gsize len)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  return memmem (data, size, needle, len) != NULL;
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

/* A tree of its own in @t->dir/@name, for the cases below. */
static char *
make_tree (Tree *t, const char *name)
{
  char *dir = g_build_filename (t->dir, name, NULL);
  g_assert_cmpint (mkdir (dir, 0755), ==, 0);
  return dir;
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
  const char *names[] = { "caf\xe9", "long-caf\xe9-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
                                     "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq" };
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

/* ---- hostile archives, header by header ----------------------------------- */

static void
set_checksum (guint8 *h)
{
  memset (h + 148, ' ', 8);
  guint sum = 0;
  for (int i = 0; i < 512; i++)
    sum += h[i];
  g_snprintf ((char *) h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

/* A ustar header; returns its offset so a case can spoil a field. */
static gsize
put_header (GByteArray *a, const char *name, gsize name_len, char type, guint64 size,
            const char *link)
{
  guint8 h[512] = { 0 };
  memcpy (h, name, MIN (name_len, 100));
  memcpy (h + 100, "0000644", 8);
  memcpy (h + 108, "0000000", 8);
  memcpy (h + 116, "0000000", 8);
  g_snprintf ((char *) h + 124, 12, "%011" G_GINT64_MODIFIER "o", size);
  memcpy (h + 136, "14500000000", 12);
  h[156] = type;
  if (link != NULL)
    memcpy (h + 157, link, MIN (strlen (link), 100));
  memcpy (h + 257, "ustar\0" "00", 8);
  set_checksum (h);
  gsize off = a->len;
  g_byte_array_append (a, h, sizeof h);
  return off;
}

static void
put_data (GByteArray *a, const void *data, gsize len)
{
  static const guint8 zeros[512];
  g_byte_array_append (a, data, len);
  if (len % 512 != 0)
    g_byte_array_append (a, zeros, 512 - len % 512);
}

static void
put_file_entry (GByteArray *a, const char *name, const char *content)
{
  put_header (a, name, strlen (name), '0', strlen (content), NULL);
  put_data (a, content, strlen (content));
}

/* One pax record, written independently of the code under test. */
static void
pax_record (GString *out, const char *key, const char *value, gsize vlen)
{
  gsize len = strlen (key) + vlen + 3;
  for (gsize digits = 1;; digits++)
    {
      g_autofree char *n = g_strdup_printf ("%" G_GSIZE_FORMAT, len + digits);
      if (strlen (n) == digits)
        {
          len += digits;
          break;
        }
    }
  g_string_append_printf (out, "%" G_GSIZE_FORMAT " %s=", len, key);
  g_string_append_len (out, value, vlen);
  g_string_append_c (out, '\n');
}

static void
put_meta (GByteArray *a, char type, const char *data, gsize len)
{
  put_header (a, "././@PaxHeader", 14, type, len, NULL);
  put_data (a, data, len);
}

static void
put_pax (GByteArray *a, char type, const char *key, const char *value, gsize vlen)
{
  g_autoptr (GString) pax = g_string_new (NULL);
  pax_record (pax, key, value, vlen);
  put_meta (a, type, pax->str, pax->len);
}

static void
put_end (GByteArray *a)
{
  static const guint8 zeros[1024];
  g_byte_array_append (a, zeros, sizeof zeros);
}

static GBytes *
gzip_bytes (const void *data, gsize len)
{
  g_autoptr (GZlibCompressor) zlib = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (zlib));
  g_autoptr (GError) error = NULL;
  g_output_stream_write_all (out, data, len, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static void
good_archive (GByteArray *a)
{
  put_header (a, "./", 2, '5', 0, NULL);
  put_header (a, "etc/", 4, '5', 0, NULL);
  put_file_entry (a, "etc/hosts", "127.0.0.1 localhost\n");
  put_header (a, "etc/localtime", 13, '2', 0, "/usr/share/zoneinfo/UTC");
  put_header (a, "etc/up", 6, '2', 0, "../../../../x");
  put_header (a, "hosts", 5, '1', 0, "etc/hosts");
  put_end (a);
}

static void
build_dotdot (GByteArray *a)
{
  put_file_entry (a, "../x", "x");
  put_end (a);
}

static void
build_absolute (GByteArray *a)
{
  put_file_entry (a, "/etc/passwd", "root::0:0::/:/bin/sh\n");
  put_end (a);
}

static void
build_dotdot_inner (GByteArray *a)
{
  put_file_entry (a, "a/../../x", "x");
  put_end (a);
}

static void
build_pax_path (GByteArray *a)
{
  put_pax (a, 'x', "path", "../evil", 7);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_gnu_longname (GByteArray *a)
{
  put_meta (a, 'L', "../evil", 8);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_hardlink_absolute (GByteArray *a)
{
  put_header (a, "innocent", 8, '1', 0, "/etc/shadow");
  put_end (a);
}

static void
build_hardlink_dotdot (GByteArray *a)
{
  put_header (a, "innocent", 8, '1', 0, "../../etc/shadow");
  put_end (a);
}

static void
build_pax_linkpath (GByteArray *a)
{
  put_pax (a, 'x', "linkpath", "/etc/shadow", 11);
  put_header (a, "innocent", 8, '1', 0, "harmless");
  put_end (a);
}

static void
build_gnu_longlink (GByteArray *a)
{
  put_meta (a, 'K', "/etc/shadow", 12);
  put_header (a, "innocent", 8, '1', 0, "harmless");
  put_end (a);
}

static void
build_chardev (GByteArray *a)
{
  put_header (a, "dev/null", 8, '3', 0, NULL);
  put_end (a);
}

static void
build_blockdev (GByteArray *a)
{
  put_header (a, "dev/sda", 7, '4', 0, NULL);
  put_end (a);
}

static void
build_bad_checksum (GByteArray *a)
{
  put_file_entry (a, "first", "fine");
  gsize off = put_header (a, "victim", 6, '0', 0, NULL);
  a->data[off + 100] = '7'; /* mode, after the checksum was computed */
  put_end (a);
}

static void
build_truncated (GByteArray *a)
{
  put_header (a, "big", 3, '0', 4096, NULL);
  g_autofree char *data = g_strnfill (1000, 'd');
  g_byte_array_append (a, (const guint8 *) data, 1000);
}

static void
build_no_end_marker (GByteArray *a)
{
  put_file_entry (a, "last", "x");
}

static void
build_size_base256 (GByteArray *a)
{
  gsize off = put_header (a, "huge", 4, '0', 0, NULL);
  a->data[off + 124] = 0x80;
  memset (a->data + off + 125, 0xff, 11);
  set_checksum (a->data + off);
  put_end (a);
}

static void
build_size_pax (GByteArray *a)
{
  put_pax (a, 'x', "size", "99999999999999999999999", 23);
  put_file_entry (a, "huge", "x");
  put_end (a);
}

static void
build_size_garbage (GByteArray *a)
{
  gsize off = put_header (a, "odd", 3, '0', 0, NULL);
  memcpy (a->data + off + 124, "0000000x001", 12);
  set_checksum (a->data + off);
  put_end (a);
}

static void
build_empty_name (GByteArray *a)
{
  put_file_entry (a, "", "x");
  put_end (a);
}

static void
build_pax_path_nul (GByteArray *a)
{
  put_pax (a, 'x', "path", "ok\0../../x", 10);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_longname_nul (GByteArray *a)
{
  put_meta (a, 'L', "ok\0../evil", 11);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_name_nul (GByteArray *a)
{
  put_header (a, "ok\0../evil", 10, '0', 0, NULL);
  put_end (a);
}

static void
build_below_symlink (GByteArray *a)
{
  put_header (a, "s", 1, '2', 0, "/etc");
  put_file_entry (a, "./s//passwd", "root::0:0::/:/bin/sh\n");
  put_end (a);
}

static void
build_hardlink_below_symlink (GByteArray *a)
{
  put_header (a, "s", 1, '2', 0, "/etc");
  put_header (a, "h", 1, '1', 0, "s/shadow");
  put_end (a);
}

static void
build_global_path (GByteArray *a)
{
  put_pax (a, 'g', "path", "../evil", 7);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_sparse_name (GByteArray *a)
{
  put_pax (a, 'x', "GNU.sparse.name", "../evil", 7);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

/* GNU tar's pax sparse format 0.1: 1 byte of data at offset 512. */
static void
build_sparse (GByteArray *a)
{
  g_autoptr (GString) pax = g_string_new (NULL);
  pax_record (pax, "GNU.sparse.size", "513", 3);
  pax_record (pax, "GNU.sparse.map", "512,1", 5);
  pax_record (pax, "GNU.sparse.name", "holes", 5);
  put_meta (a, 'x', pax->str, pax->len);
  put_file_entry (a, "GNUSparseFile.0/holes", "x");
  put_end (a);
}

/* A pax size on a hard link: data libarchive reads as the link's. */
static void
build_hardlink_data (GByteArray *a)
{
  put_file_entry (a, "target", "x");
  put_pax (a, 'x', "size", "5", 1);
  put_header (a, "innocent", 8, '1', 0, "target");
  put_data (a, "hello", 5);
  put_end (a);
}

/* A pax path that is not UTF-8 (pax records are). */
static void
build_pax_not_utf8 (GByteArray *a)
{
  put_pax (a, 'x', "path", "caf\xe9", 4);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_two_pax (GByteArray *a)
{
  put_pax (a, 'x', "path", "ok", 2);
  put_pax (a, 'x', "mtime", "1", 1);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

/* An old GNU sparse entry ('S'): 1 byte of data at offset 512. */
static void
build_old_sparse (GByteArray *a)
{
  gsize off = put_header (a, "holes", 5, 'S', 1, NULL);
  guint8 *h = a->data + off;
  memcpy (h + 257, "ustar  ", 8);       /* GNU magic */
  memcpy (h + 386, "00000001000", 12);  /* sparse[0].offset */
  memcpy (h + 398, "00000000001", 12);  /* sparse[0].numbytes */
  memcpy (h + 483, "00000001001", 12);  /* realsize */
  set_checksum (h);
  put_data (a, "x", 1);
  put_end (a);
}

static void
build_dir_with_data (GByteArray *a)
{
  put_header (a, "d/", 2, '5', 512, NULL);
  put_data (a, "ignored by some readers, not by others", 38);
  put_end (a);
}

static void
build_root_file (GByteArray *a)
{
  put_header (a, ".", 1, '2', 0, "/");
  put_end (a);
}

static void
build_malformed_pax (GByteArray *a)
{
  put_meta (a, 'x', "5 path\n", 7);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_meta_without_entry (GByteArray *a)
{
  put_pax (a, 'x', "path", "dangling", 8);
  put_end (a);
}

static void
build_too_long (GByteArray *a)
{
  g_autofree char *path = g_strnfill (5000, 'a');
  put_pax (a, 'x', "path", path, 5000);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

static void
build_huge_pax (GByteArray *a)
{
  put_header (a, "././@PaxHeader", 14, 'x', 2 * 1024 * 1024, NULL);
  put_end (a);
}

static void
build_empty_symlink (GByteArray *a)
{
  put_header (a, "nowhere", 7, '2', 0, "");
  put_end (a);
}

static void
build_gzip_evil (GByteArray *a)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  build_dotdot (plain);
  g_autoptr (GBytes) gz = gzip_bytes (plain->data, plain->len);
  g_byte_array_append (a, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
}

static void
build_gzip_trailing (GByteArray *a)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  put_file_entry (plain, "a", "x"); /* no end marker: the reader looks further */
  g_autoptr (GBytes) gz = gzip_bytes (plain->data, plain->len);
  g_byte_array_append (a, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
  g_byte_array_append (a, (const guint8 *) "garbage", 7);
}

static void
build_gzip_truncated (GByteArray *a)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  good_archive (plain);
  g_autoptr (GBytes) gz = gzip_bytes (plain->data, plain->len);
  g_byte_array_append (a, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz) / 2);
}

static void
build_xz (GByteArray *a)
{
  g_byte_array_append (a, (const guint8 *) "\xfd" "7zXZ\0\0\4\xe6\xd6\xb4\x46", 12);
}

static void
build_zstd (GByteArray *a)
{
  g_byte_array_append (a, (const guint8 *) "\x28\xb5\x2f\xfd\x04\x58", 6);
}

static void
build_not_tar (GByteArray *a)
{
  g_autofree char *text = g_strnfill (2048, 'z');
  memcpy (text, "hello", 5);
  g_byte_array_append (a, (const guint8 *) text, 2048);
}

static void
build_empty_file (GByteArray *a)
{
}

typedef struct {
  const char *id;
  void (*build) (GByteArray *a);
  const char *fragments[3]; /* each must be in the message */
} Hostile;

static const Hostile hostile_cases[] = {
  { "dotdot", build_dotdot, { "entry '../x'", "'..' component" } },
  { "absolute", build_absolute, { "entry '/etc/passwd'", "name is absolute" } },
  { "dotdot-inner", build_dotdot_inner, { "entry 'a/../../x'", "'..' component" } },
  { "pax-path", build_pax_path, { "entry '../evil'", "'..' component" } },
  { "gnu-longname", build_gnu_longname, { "entry '../evil'", "'..' component" } },
  { "hardlink-absolute", build_hardlink_absolute,
    { "entry 'innocent'", "hard link target '/etc/shadow' is absolute" } },
  { "hardlink-dotdot", build_hardlink_dotdot,
    { "entry 'innocent'", "hard link target '../../etc/shadow' has a '..' component" } },
  { "pax-linkpath", build_pax_linkpath,
    { "entry 'innocent'", "hard link target '/etc/shadow' is absolute" } },
  { "gnu-longlink", build_gnu_longlink,
    { "entry 'innocent'", "hard link target '/etc/shadow' is absolute" } },
  { "chardev", build_chardev, { "entry 'dev/null'", "character device" } },
  { "blockdev", build_blockdev, { "entry 'dev/sda'", "block device" } },
  /* What libarchive reports is quoted: the entry before, or the entry the
   * warning is about, names the place. */
  { "bad-checksum", build_bad_checksum,
    { "offset 1024", "after entry 'first'", "Damaged tar archive" } },
  { "truncated", build_truncated, { "entry 'big'", "Truncated tar archive" } },
  { "no-end-marker", build_no_end_marker, { "truncated", "without an end-of-archive marker" } },
  { "size-base256", build_size_base256, { "offset 0", "Tar entry size overflow" } },
  { "size-pax", build_size_pax, { "offset 0", "Tar size attribute overflow" } },
  /* libarchive does not recognise an archive whose first header has a
   * malformed number (a later one is read as libarchive reads it). */
  { "size-garbage", build_size_garbage, { "offset 0", "not a tar archive" } },
  { "empty-name", build_empty_name, { "entry '' (offset 0)", "empty name" } },
  { "below-symlink", build_below_symlink,
    { "entry './s//passwd'", "name lies below the symlink 's'" } },
  { "hardlink-below-symlink", build_hardlink_below_symlink,
    { "entry 'h'", "hard link target 's/shadow' lies below the symlink 's'" } },
  { "sparse-name", build_sparse_name, { "entry '../evil'", "'..' component" } },
  { "sparse", build_sparse, { "entry 'holes'", "sparse files" } },
  { "two-pax", build_two_pax, { "entry 'innocent'", "malformed pax extended attribute" } },
  { "old-sparse", build_old_sparse, { "entry 'holes'", "sparse files" } },
  /* libarchive reads no data for a directory: the data is a bad header. */
  { "dir-with-data", build_dir_with_data,
    { "offset 512", "after entry 'd/'", "Damaged tar archive" } },
  { "root-symlink", build_root_file, { "entry '.'", "root must be a directory" } },
  { "malformed-pax", build_malformed_pax,
    { "entry 'innocent'", "malformed pax extended attribute" } },
  { "meta-without-entry", build_meta_without_entry, { "offset 0", "Damaged tar archive" } },
  { "too-long", build_too_long, { "entry 'aaaa", "5000 bytes long" } },
  { "huge-pax", build_huge_pax, { "offset 0", "Special header too large" } },
  { "empty-symlink", build_empty_symlink, { "entry 'nowhere'", "symlink target ''" } },
  { "hardlink-data", build_hardlink_data,
    { "entry 'innocent' (offset 1024)", "hard link with 5 bytes of data" } },
  { "pax-not-utf8", build_pax_not_utf8, { "entry 'caf\\xe9'", "converted" } },
  { "gzip-evil", build_gzip_evil, { "entry '../x'", "'..' component" } },
  { "gzip-trailing", build_gzip_trailing, { "without an end-of-archive marker" } },
  { "gzip-truncated", build_gzip_truncated, { "truncated" } },
  { "xz", build_xz, { "xz-compressed archives are not supported" } },
  { "zstd", build_zstd, { "zstd-compressed archives are not supported" } },
  { "not-tar", build_not_tar, { "offset 0", "not a tar archive" } },
  { "empty-file", build_empty_file, { "empty file, not a tar archive" } },
};

static char *
save_archive (const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("lodge-tar-XXXXXX.tar", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, (const char *) data, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_check_refused (gconstpointer data)
{
  const Hostile *c = data;
  g_autoptr (GByteArray) a = g_byte_array_new ();
  c->build (a);
  g_autofree char *path = save_archive (a->data, a->len);
  g_autoptr (GError) error = NULL;
  LodgeTarStats stats = { .files = 42 };
  g_assert_false (lodge_tar_check (path, NULL, &stats, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, path));
  for (guint i = 0; i < G_N_ELEMENTS (c->fragments) && c->fragments[i] != NULL; i++)
    if (strstr (error->message, c->fragments[i]) == NULL)
      g_test_fail_printf ("message '%s' does not say '%s'", error->message, c->fragments[i]);
  g_assert_cmpuint (stats.files, ==, 42); /* untouched on failure */
  g_unlink (path);
}

static void
test_check_accepted (void)
{
  g_autoptr (GByteArray) a = g_byte_array_new ();
  good_archive (a);
  g_autofree char *plain = save_archive (a->data, a->len);
  g_autoptr (GBytes) gz = gzip_bytes (a->data, a->len);
  g_autofree char *gzip = save_archive (g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));

  /* Two gzip members (as `cat a.gz b.gz`), and zero padding after. */
  g_autoptr (GBytes) gz1 = gzip_bytes (a->data, 1536);
  g_autoptr (GBytes) gz2 = gzip_bytes (a->data + 1536, a->len - 1536);
  g_autoptr (GByteArray) multi = g_byte_array_new ();
  g_byte_array_append (multi, g_bytes_get_data (gz1, NULL), g_bytes_get_size (gz1));
  g_byte_array_append (multi, g_bytes_get_data (gz2, NULL), g_bytes_get_size (gz2));
  static const guint8 zeros[100];
  g_byte_array_append (multi, zeros, sizeof zeros);
  g_autofree char *members = save_archive (multi->data, multi->len);

  const struct {
    const char *path;
    LodgeTarCompression compression;
  } cases[] = {
    { plain, LODGE_TAR_COMPRESSION_NONE },
    { gzip, LODGE_TAR_COMPRESSION_GZIP },
    { members, LODGE_TAR_COMPRESSION_GZIP },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
      LodgeTarStats stats = { 0 };
      g_assert_true (lodge_tar_check (cases[i].path, &compression, &stats, &error));
      g_assert_no_error (error);
      g_assert_cmpint (compression, ==, cases[i].compression);
      LodgeTarStats expected = { .files = 1, .directories = 2, .symlinks = 2, .hardlinks = 1,
                                 .bytes = 20 };
      assert_stats_equal (&stats, &expected);
      g_unlink (cases[i].path);
    }
  g_assert_cmpstr (lodge_tar_compression_to_string (LODGE_TAR_COMPRESSION_GZIP), ==, "gzip");
}

static void
test_check_io_error (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (lodge_tar_check ("/nonexistent.tar", NULL, NULL, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_IO);
  g_assert_cmpstr (error->message, ==, "/nonexistent.tar: cannot open: No such file or directory");
}

/* ---- archives read with pax features, and the rewrite ------------------ */

/* Writes @a to a temporary file and returns lodge_tar_list() of it. */
static GPtrArray *
list_bytes (GByteArray *a, GError **error)
{
  g_autofree char *path = save_archive (a->data, a->len);
  GPtrArray *entries = lodge_tar_list (path, NULL, NULL, error);
  g_unlink (path);
  return entries;
}

/* pax times are read as GNU tar reads them; base-256 numbers too. */
static void
test_check_pax_times (void)
{
  const struct {
    const char *text;
    gint64 sec;
    guint32 nsec;
  } times[] = {
    { "1700000000", 1700000000, 0 }, { "1.5", 1, 500000000 },
    { "-1.5", -2, 500000000 },       { "1.0000000019", 1, 1 },
    { "-7", -7, 0 },                 { "-999999.9999995", -1000000, 500 },
  };
  g_autoptr (GByteArray) a = g_byte_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      put_pax (a, 'x', "mtime", times[i].text, strlen (times[i].text));
      g_autofree char *name = g_strdup_printf ("f%u", i);
      put_file_entry (a, name, "x");
    }
  /* uid 3000000 and mtime -1000000 in GNU base-256. */
  gsize off = put_header (a, "base256", 7, '0', 0, NULL);
  guint8 *h = a->data + off;
  memset (h + 108, 0, 8);
  h[108] = 0x80;
  h[113] = 0x2d, h[114] = 0xc6, h[115] = 0xc0;
  memset (h + 136, 0xff, 12);
  h[145] = 0xf0, h[146] = 0xbd, h[147] = 0xc0;
  set_checksum (h);
  put_end (a);

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = list_bytes (a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, G_N_ELEMENTS (times) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      LodgeTarEntry *e = entries->pdata[i];
      if (e->mtime != times[i].sec || e->mtime_nsec != times[i].nsec)
        g_test_fail_printf ("mtime=%s read as %" G_GINT64_FORMAT " s %u ns", times[i].text,
                            e->mtime, e->mtime_nsec);
    }
  LodgeTarEntry *e = entries->pdata[G_N_ELEMENTS (times)];
  g_assert_cmpuint (e->uid, ==, 3000000);
  g_assert_cmpint (e->mtime, ==, -1000000);
}

static char *
rewrite_ok (const char *archive, const char *out, LodgeTarStats *ret_stats)
{
  g_autoptr (GError) error = NULL;
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
  g_assert_true (lodge_tar_rewrite (archive, out, NULL, NULL, &compression, ret_stats, &error));
  g_assert_no_error (error);
  g_assert_cmpint (compression, !=, LODGE_TAR_COMPRESSION_LAST);
  return g_strdup (out);
}

/* The rewrite gives names as checked ("./", no "." or empty components,
 * directories with '/'; hard link targets too) and an uncompressed
 * archive, whatever the input. */
static void
test_rewrite_canonical (void)
{
  g_autoptr (GByteArray) a = g_byte_array_new ();
  put_header (a, ".", 1, '5', 0, NULL);
  put_header (a, ".//etc", 6, '5', 0, NULL);
  put_file_entry (a, "./etc//hosts", "127.0.0.1 localhost\n");
  put_header (a, "etc/./hosts.link", 16, '1', 0, "./etc/hosts");
  put_header (a, "etc/localtime", 13, '2', 0, "/usr/share/zoneinfo/UTC");
  put_header (a, "fifo", 4, '6', 0, NULL);
  put_end (a);
  g_autoptr (GBytes) gz = gzip_bytes (a->data, a->len);
  g_autofree char *in = save_archive (g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
  g_autofree char *out_path = g_strconcat (in, ".out", NULL);
  LodgeTarStats stats = { 0 };
  g_autofree char *out = rewrite_ok (in, out_path, &stats);
  LodgeTarStats expected = { .files = 1, .directories = 2, .symlinks = 1, .hardlinks = 1,
                             .fifos = 1, .bytes = 20 };
  assert_stats_equal (&stats, &expected);

  g_autoptr (GError) error = NULL;
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
  g_autoptr (GPtrArray) entries = lodge_tar_list (out, &compression, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (compression, ==, LODGE_TAR_COMPRESSION_NONE);
  const struct {
    const char *name, *link;
    LodgeTarEntryType type;
  } want[] = {
    { "./", NULL, LODGE_TAR_ENTRY_DIRECTORY },
    { "etc/", NULL, LODGE_TAR_ENTRY_DIRECTORY },
    { "etc/hosts", NULL, LODGE_TAR_ENTRY_FILE },
    { "etc/hosts.link", "etc/hosts", LODGE_TAR_ENTRY_HARDLINK },
    { "etc/localtime", "/usr/share/zoneinfo/UTC", LODGE_TAR_ENTRY_SYMLINK },
    { "fifo", NULL, LODGE_TAR_ENTRY_FIFO },
  };
  g_assert_cmpuint (entries->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      LodgeTarEntry *e = entries->pdata[i];
      g_assert_cmpstr (e->name, ==, want[i].name);
      g_assert_cmpstr (e->link, ==, want[i].link);
      g_assert_cmpint (e->type, ==, want[i].type);
      g_assert_cmpuint (e->mode, ==, 0644);
      g_assert_cmpint (e->mtime, ==, 014500000000);
    }
  g_unlink (in);
  g_unlink (out);
}

/* A refused archive leaves nothing behind. */
static void
test_rewrite_refused (void)
{
  g_autoptr (GByteArray) a = g_byte_array_new ();
  put_file_entry (a, "fine", "x");
  put_file_entry (a, "../x", "x");
  put_end (a);
  g_autofree char *in = save_archive (a->data, a->len);
  g_autofree char *dir = g_dir_make_tmp ("lodge-tar-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "out.tar", NULL);
  g_autoptr (GError) error = NULL;
  LodgeTarStats stats = { .files = 42 };
  g_assert_false (lodge_tar_rewrite (in, out, NULL, NULL, NULL, &stats, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "entry '../x'"));
  g_assert_cmpuint (stats.files, ==, 42);
  g_assert_cmpint (g_rmdir (dir), ==, 0); /* empty: no output, no temporary file */
  g_unlink (in);
}

/* Archives that GNU tar and libarchive once read differently are now
 * read one way, libarchive's, and the appliance only sees what was
 * checked: the bytes after a NUL in a name are not part of it, a global
 * pax header sets nothing, bytes after the gzip data are not read. */
typedef struct {
  const char *id;
  void (*build) (GByteArray *a);
  const char *names[2]; /* of the rewritten archive */
} Rewritten;

static void
build_gzip_garbage (GByteArray *a)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  put_file_entry (plain, "a", "x");
  put_end (plain);
  g_autoptr (GBytes) gz = gzip_bytes (plain->data, plain->len);
  g_byte_array_append (a, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
  g_byte_array_append (a, (const guint8 *) "garbage", 7);
}

static const Rewritten rewritten_cases[] = {
  { "pax-path-nul", build_pax_path_nul, { "ok" } },
  { "longname-nul", build_longname_nul, { "ok" } },
  { "name-nul", build_name_nul, { "ok" } },
  { "global-path", build_global_path, { "innocent" } },
  { "gzip-garbage", build_gzip_garbage, { "a" } },
};

static void
test_rewrite_ambiguous (gconstpointer data)
{
  const Rewritten *c = data;
  g_autoptr (GByteArray) a = g_byte_array_new ();
  c->build (a);
  g_autofree char *in = save_archive (a->data, a->len);
  g_autofree char *dir = g_dir_make_tmp ("lodge-tar-XXXXXX", NULL);
  g_autofree char *out_path = g_build_filename (dir, "out.tar", NULL);
  g_autofree char *out = rewrite_ok (in, out_path, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = lodge_tar_list (out, NULL, NULL, &error);
  g_assert_no_error (error);
  guint n = 0;
  while (n < G_N_ELEMENTS (c->names) && c->names[n] != NULL)
    n++;
  g_assert_cmpuint (entries->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (((LodgeTarEntry *) entries->pdata[i])->name, ==, c->names[i]);

  /* GNU tar, as tar-in runs it, creates exactly those. */
  if (have_gnu_tar ())
    {
      g_autofree char *dst = g_build_filename (dir, "dst", NULL);
      g_assert_cmpint (mkdir (dst, 0700), ==, 0);
      const char *args[] = { "-C", dst, "-xf", out, "--xattrs", "--xattrs-include=*", NULL };
      run_gnu_tar (args);
      g_autoptr (GPtrArray) extracted = g_ptr_array_new_with_free_func (g_free);
      collect_names (dst, "", extracted);
      g_assert_cmpuint (extracted->len, ==, n + 1); /* and "./" */
      for (guint i = 0; i < n; i++)
        g_assert_cmpstr (extracted->pdata[i + 1], ==, c->names[i]);
    }
  rm_rf (dir);
  g_unlink (in);
}

static void
test_rewrite_progress (Tree *t, gconstpointer data)
{
  g_autofree char *archive = write_tree (t, "in.tar", NULL);
  g_autofree char *out = g_build_filename (t->dir, "out.tar", NULL);
  Progress p = { .monotonic = TRUE };
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_rewrite (archive, out, on_progress, &p, NULL, NULL, &error));
  g_assert_no_error (error);
  struct stat st;
  g_assert_cmpint (stat (archive, &st), ==, 0);
  g_assert_true (p.monotonic);
  g_assert_cmpuint (p.calls, >=, 2);
  g_assert_cmpuint (p.calls, <=, 2 + st.st_size / (1024 * 1024));
  g_assert_cmpuint (p.last_done, ==, st.st_size);
  g_assert_cmpuint (p.last_total, ==, st.st_size);
  /* Our own archive comes back byte for byte. */
  g_autofree char *sum_in = sha256_of_file (archive);
  g_autofree char *sum_out = sha256_of_file (out);
  g_assert_cmpstr (sum_in, ==, sum_out);
}

/* Sparse archives from GNU tar --sparse, in each of its formats, are
 * refused, naming the file. */
static void
test_check_gnu_tar_sparse (Tree *t, gconstpointer data)
{
  if (!have_gnu_tar ())
    return;
  g_autofree char *src = make_tree (t, "sparse");
  g_autofree char *file = g_build_filename (src, "holes", NULL);
  int fd = open (file, O_WRONLY | O_CREAT, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "middle", 6, 1 << 20), ==, 6);
  g_assert_cmpint (ftruncate (fd, 3 << 20), ==, 0);
  close (fd);
  const char *formats[][2] = {
    { "--format=gnu", NULL },
    { "--format=pax", "--sparse-version=0.0" },
    { "--format=pax", "--sparse-version=0.1" },
    { "--format=pax", "--sparse-version=1.0" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *archive = g_build_filename (t->dir, "sparse.tar", NULL);
      const char *args[] = { "-C", src, "--sparse", "-cf", archive, formats[i][0], "holes",
                             formats[i][1], NULL };
      run_gnu_tar (args);
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_tar_check (archive, NULL, NULL, &error));
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      if (strstr (error->message, "entry 'holes'") == NULL
          || strstr (error->message, "sparse files") == NULL)
        g_test_fail_printf ("%s %s: %s", formats[i][0], formats[i][1] ?: "", error->message);
    }
}

/* What GNU tar writes for a long-name tree (GNU format: 'L' and 'K'
 * records; pax: path records), rewritten, is what Lodge writes. */
static void
test_rewrite_long_names (Tree *t, gconstpointer data)
{
  if (!have_gnu_tar ())
    return;
  g_autofree char *src = make_tree (t, "long");
  g_autofree char *c255 = g_strnfill (255, 'c');
  g_autofree char *dir = g_build_filename (src, c255, c255, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *leaf = g_strnfill (240, 'f'); /* put_file's temporary name adds 7 */
  g_autofree char *file = g_build_filename (dir, leaf, NULL);
  put_file (file, "x\n", 2, 0644);
  g_autofree char *t300 = g_strnfill (300, 't');
  g_autofree char *sym = g_build_filename (src, "link", NULL);
  g_assert_cmpint (symlink (t300, sym), ==, 0);
  g_autofree char *hard = g_build_filename (dir, "hard", NULL);
  g_assert_cmpint (link (file, hard), ==, 0);

  g_autofree char *ours = g_build_filename (t->dir, "ours.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (src, ours, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) expected = lodge_tar_list (ours, NULL, NULL, &error);
  g_assert_no_error (error);
  const char *formats[] = { "--format=gnu", "--format=pax" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *archive = g_build_filename (t->dir, "gnu.tar", NULL);
      g_autofree char *out = g_build_filename (t->dir, "rewritten.tar", NULL);
      const char *args[] = { "-C", src, "--sort=name", formats[i], "-cf", archive, ".", NULL };
      run_gnu_tar (args);
      g_free (rewrite_ok (archive, out, NULL));
      g_autoptr (GPtrArray) entries = lodge_tar_list (out, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (entries->len, ==, expected->len);
      for (guint j = 0; j < entries->len; j++)
        {
          LodgeTarEntry *theirs = entries->pdata[j], *mine = expected->pdata[j];
          g_assert_cmpstr (theirs->name, ==, mine->name);
          g_assert_cmpstr (theirs->link, ==, mine->link);
          g_assert_cmpint (theirs->type, ==, mine->type);
        }
    }
}

/* Archives GNU tar writes (GNU format: long names as 'L'/'K' records;
 * pax format with xattrs; gzip) are accepted, and read as GNU tar wrote
 * them; rewritten, they hold what Lodge writes for the same tree (GNU
 * tar's "./etc/hosts" becomes "etc/hosts"), and GNU tar extracts the
 * rewritten pax archives to the same tree, metadata and xattrs
 * included. */
static void
test_check_gnu_tar_archives (Tree *t, gconstpointer data)
{
  if (!have_gnu_tar ())
    return;
  g_autofree char *ours = write_tree (t, "ours.tar", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) expected = lodge_tar_list (ours, NULL, NULL, &error);
  g_assert_no_error (error);

  const struct {
    const char *file, *format, *compress;
    LodgeTarCompression compression;
    gboolean pax;
  } cases[] = {
    { "gnu.tar", "--format=gnu", NULL, LODGE_TAR_COMPRESSION_NONE, FALSE },
    { "pax.tar", "--format=pax", NULL, LODGE_TAR_COMPRESSION_NONE, TRUE },
    { "pax.tar.gz", "--format=pax", "--gzip", LODGE_TAR_COMPRESSION_GZIP, TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *archive = g_build_filename (t->dir, cases[i].file, NULL);
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      const char *fixed[] = { "-C", t->src, "--exclude=./sock", "--sort=name", cases[i].format,
                              "--xattrs", "--xattrs-include=*", "-cf", archive };
      for (guint k = 0; k < G_N_ELEMENTS (fixed); k++)
        g_ptr_array_add (args, (char *) fixed[k]);
      if (cases[i].compress != NULL)
        g_ptr_array_add (args, (char *) cases[i].compress);
      g_ptr_array_add (args, (char *) ".");
      g_ptr_array_add (args, NULL);
      run_gnu_tar ((const char *const *) args->pdata);
      LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
      g_autoptr (GPtrArray) entries = lodge_tar_list (archive, &compression, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (compression, ==, cases[i].compression);
      g_assert_cmpuint (entries->len, ==, expected->len);
      for (guint j = 0; j < entries->len; j++)
        {
          LodgeTarEntry *theirs = entries->pdata[j], *mine = expected->pdata[j];
          /* GNU tar names "./etc/hosts" where Lodge writes "etc/hosts". */
          const char *name = strcmp (theirs->name, "./") == 0 ? "./" : theirs->name + 2;
          g_assert_cmpstr (name, ==, mine->name);
          g_assert_cmpint (theirs->type, ==, mine->type);
          g_assert_cmpuint (theirs->mode, ==, mine->mode);
          g_assert_cmpuint (theirs->uid, ==, mine->uid);
          g_assert_cmpuint (theirs->gid, ==, mine->gid);
          g_assert_cmpint (theirs->mtime, ==, mine->mtime);
          g_assert_cmpuint (theirs->size, ==, mine->size);
          g_assert_cmpstr (theirs->sha256, ==, mine->sha256);
          if (mine->type == LODGE_TAR_ENTRY_HARDLINK)
            g_assert_cmpstr (theirs->link + 2, ==, mine->link);
          else
            g_assert_cmpstr (theirs->link, ==, mine->link);
        }

      g_autofree char *out_name = g_strconcat (cases[i].file, ".rewritten", NULL);
      g_autofree char *out_path = g_build_filename (t->dir, out_name, NULL);
      g_autofree char *out = rewrite_ok (archive, out_path, NULL);
      g_autoptr (GPtrArray) rewritten = lodge_tar_list (out, &compression, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (compression, ==, LODGE_TAR_COMPRESSION_NONE);
      g_assert_cmpuint (rewritten->len, ==, expected->len);
      for (guint j = 0; j < rewritten->len; j++)
        {
          LodgeTarEntry *theirs = rewritten->pdata[j], *mine = expected->pdata[j];
          g_assert_cmpstr (theirs->name, ==, mine->name);
          g_assert_cmpstr (theirs->link, ==, mine->link);
          g_assert_cmpint (theirs->type, ==, mine->type);
          g_assert_cmpuint (theirs->mode, ==, mine->mode);
          g_assert_cmpint (theirs->mtime, ==, mine->mtime);
          g_assert_cmpstr (theirs->sha256, ==, mine->sha256);
          if (cases[i].pax) /* the GNU format has no nanoseconds, no xattrs */
            {
              g_assert_cmpuint (theirs->mtime_nsec, ==, mine->mtime_nsec);
              if (mine->xattrs != NULL)
                assert_xattrs_equal (mine->xattrs, theirs->xattrs, mine->name);
            }
        }
      if (!cases[i].pax)
        continue;
      g_autofree char *dst_name = g_strconcat (cases[i].file, ".dst", NULL);
      g_autofree char *dst = make_tree (t, dst_name);
      const char *extract[] = { "-C", dst, "-xf", out, "--xattrs", "--xattrs-include=*", NULL };
      run_gnu_tar (extract);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      collect_names (t->src, "", names);
      for (guint j = 0; j < names->len; j++)
        {
          g_autofree char *a = host_path_of (t->src, names->pdata[j]);
          g_autofree char *b = host_path_of (dst, names->pdata[j]);
          assert_same_file (a, b, names->pdata[j]);
        }
    }
}

/* Random mutations of an archive using every kind of header: never a
 * crash (ASan/UBSan watch in CI), always entries or an error. Half the
 * mutated headers get a correct checksum, so mutations reach the parser. */
static void
test_check_random_mutations (void)
{
  g_autoptr (GByteArray) base = g_byte_array_new ();
  g_autoptr (GArray) headers = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize off;
#define H(call) (off = (call), g_array_append_val (headers, off))
  H (put_header (base, "./", 2, '5', 0, NULL));
  g_autoptr (GString) pax = g_string_new (NULL);
  pax_record (pax, "path", "dir/long-name", 13);
  pax_record (pax, "mtime", "-1.25", 5);
  pax_record (pax, "SCHILY.xattr.user.a%3Db", "v\0v", 3);
  pax_record (pax, "uid", "3000000", 7);
  H (put_header (base, "././@PaxHeader", 14, 'x', pax->len, NULL));
  put_data (base, pax->str, pax->len);
  H (put_header (base, "short", 5, '0', 3, NULL));
  put_data (base, "abc", 3);
  H (put_header (base, "././@LongLink", 13, 'L', 9, NULL));
  put_data (base, "gnu/long", 9);
  H (put_header (base, "gnu/lo", 6, '0', 0, NULL));
  H (put_header (base, "sym", 3, '2', 0, "../target"));
  H (put_header (base, "hard", 4, '1', 0, "short"));
  H (put_header (base, "fifo", 4, '6', 0, NULL));
  put_end (base);
#undef H

  g_autoptr (GRand) rand = g_rand_new_with_seed (20261126);
  g_autofree char *path = save_archive (base->data, base->len);
  guint accepted = 0;
  for (int round = 0; round < 3000; round++)
    {
      g_autoptr (GByteArray) a = g_byte_array_new ();
      g_byte_array_append (a, base->data, base->len);
      int edits = g_rand_int_range (rand, 1, 4);
      for (int e = 0; e < edits; e++)
        {
          gsize h = g_array_index (headers, gsize, g_rand_int_range (rand, 0, headers->len));
          gsize pos = g_rand_boolean (rand) ? h + g_rand_int_range (rand, 0, 512)
                                            : (gsize) g_rand_int_range (rand, 0, a->len);
          a->data[pos] = g_rand_boolean (rand) ? g_rand_int_range (rand, 0, 256)
                                               : "0123456789 /.\0\x80\xff"[g_rand_int_range (rand, 0, 16)];
          if (g_rand_boolean (rand))
            set_checksum (a->data + h);
        }
      if (g_rand_int_range (rand, 0, 10) == 0)
        g_byte_array_set_size (a, g_rand_int_range (rand, 0, a->len));
      g_autoptr (GError) error = NULL;
      g_file_set_contents_full (path, (const char *) a->data, a->len, G_FILE_SET_CONTENTS_NONE,
                                0600, &error);
      g_assert_no_error (error);
      g_autoptr (GPtrArray) entries = lodge_tar_list (path, NULL, NULL, &error);
      g_assert_true ((entries == NULL) == (error != NULL));
      if (error != NULL)
        g_assert_true (error->domain == LODGE_ERROR && error->code == LODGE_ERROR_INVALID);
      accepted += entries != NULL;
    }
  g_test_message ("%u of 3000 mutated archives accepted", accepted);
  g_assert_cmpuint (accepted, >, 0);
  g_assert_cmpuint (accepted, <, 3000);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define TREE_TEST(path, func) g_test_add (path, Tree, NULL, tree_set_up, func, tree_tear_down)
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
  g_test_add_func ("/tar/check/accepted", test_check_accepted);
  g_test_add_func ("/tar/check/io-error", test_check_io_error);
  g_test_add_func ("/tar/check/random-mutations", test_check_random_mutations);
  TREE_TEST ("/tar/check/gnu-tar-archives", test_check_gnu_tar_archives);
  TREE_TEST ("/tar/check/gnu-tar-sparse", test_check_gnu_tar_sparse);
  g_test_add_func ("/tar/check/pax-times", test_check_pax_times);
  g_test_add_func ("/tar/rewrite/canonical", test_rewrite_canonical);
  g_test_add_func ("/tar/rewrite/refused", test_rewrite_refused);
  TREE_TEST ("/tar/rewrite/progress", test_rewrite_progress);
  TREE_TEST ("/tar/rewrite/long-names", test_rewrite_long_names);
  for (guint i = 0; i < G_N_ELEMENTS (rewritten_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tar/rewrite/ambiguous/%s", rewritten_cases[i].id);
      g_test_add_data_func (path, &rewritten_cases[i], test_rewrite_ambiguous);
    }
  for (guint i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tar/check/refused/%s", hostile_cases[i].id);
      g_test_add_data_func (path, &hostile_cases[i], test_check_refused);
    }
#undef TREE_TEST
  return g_test_run ();
}
