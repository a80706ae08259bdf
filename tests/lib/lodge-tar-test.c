/* Helpers of the tar tests; see lodge-tar-test.h. */
#define _GNU_SOURCE /* nftw */
#include "lodge-tar-test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#define GNU_TAR "/usr/bin/tar"
#define LONG_NAME_LEN 200

/* ---- files and trees ---- */

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path) < 0 && errno != ENOENT ? -1 : 0;
}

void
rm_rf (const char *path)
{
  if (path != NULL)
    g_assert_cmpint (nftw (path, remove_one, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

void
put_file (const char *path, const char *content, gsize len, mode_t mode)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, content, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (path, mode), ==, 0);
}

void
set_mtime (const char *path, gint64 sec, long nsec)
{
  struct timespec times[2] = { { 0, UTIME_OMIT }, { sec, nsec } };
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

char *
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
GHashTable *
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

void
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
void
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
char *
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

void
assert_stats_equal (const LodgeTarStats *a, const LodgeTarStats *b)
{
  g_assert_cmpuint (a->files, ==, b->files);
  g_assert_cmpuint (a->directories, ==, b->directories);
  g_assert_cmpuint (a->symlinks, ==, b->symlinks);
  g_assert_cmpuint (a->hardlinks, ==, b->hardlinks);
  g_assert_cmpuint (a->fifos, ==, b->fifos);
  g_assert_cmpuint (a->bytes, ==, b->bytes);
}

/* ---- GNU tar ---- */

gboolean
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
void
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

void
run_gnu_tar (const char *const *args)
{
  run_gnu_tar_allowing (args, NULL);
}

/* ---- the tree ---- */

static char *
long_name (void)
{
  char *s = g_malloc (LONG_NAME_LEN + 1);
  memset (s, 'n', LONG_NAME_LEN);
  s[LONG_NAME_LEN] = '\0';
  return s;
}

void
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

void
tree_tear_down (Tree *t, gconstpointer data)
{
  rm_rf (t->dir);
  g_free (t->dir);
  g_free (t->src);
}

char *
write_tree (Tree *t, const char *name, LodgeTarStats *ret_stats)
{
  char *out = g_build_filename (t->dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (lodge_tar_write_tree (t->src, out, NULL, NULL, ret_stats, &error));
  g_assert_no_error (error);
  return out;
}

void
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

void
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

/* The bytes of a file. */
GBytes *
file_bytes (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

gboolean
bytes_contain (GBytes *bytes, const char *needle, gsize len)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  return memmem (data, size, needle, len) != NULL;
}

char *
make_tree (Tree *t, const char *name)
{
  char *dir = g_build_filename (t->dir, name, NULL);
  g_assert_cmpint (mkdir (dir, 0755), ==, 0);
  return dir;
}

/* ---- archives, header by header ---- */

void
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
gsize
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

void
put_data (GByteArray *a, const void *data, gsize len)
{
  static const guint8 zeros[512];
  g_byte_array_append (a, data, len);
  if (len % 512 != 0)
    g_byte_array_append (a, zeros, 512 - len % 512);
}

void
put_file_entry (GByteArray *a, const char *name, const char *content)
{
  put_header (a, name, strlen (name), '0', strlen (content), NULL);
  put_data (a, content, strlen (content));
}

/* One pax record, written independently of the code under test. */
void
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

void
put_meta (GByteArray *a, char type, const char *data, gsize len)
{
  put_header (a, "././@PaxHeader", 14, type, len, NULL);
  put_data (a, data, len);
}

void
put_pax (GByteArray *a, char type, const char *key, const char *value, gsize vlen)
{
  g_autoptr (GString) pax = g_string_new (NULL);
  pax_record (pax, key, value, vlen);
  put_meta (a, type, pax->str, pax->len);
}

void
put_end (GByteArray *a)
{
  static const guint8 zeros[1024];
  g_byte_array_append (a, zeros, sizeof zeros);
}

GBytes *
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

void
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

char *
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

char *
rewrite_ok (const char *archive, const char *out, LodgeTarStats *ret_stats)
{
  g_autoptr (GError) error = NULL;
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_LAST;
  g_assert_true (lodge_tar_rewrite (archive, out, NULL, NULL, &compression, ret_stats, &error));
  g_assert_no_error (error);
  g_assert_cmpint (compression, !=, LODGE_TAR_COMPRESSION_LAST);
  return g_strdup (out);
}
