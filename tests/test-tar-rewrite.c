/* lodge_tar_rewrite(): a user archive, checked, written again as the
 * canonical archive the appliance unpacks; GNU tar extracts exactly what
 * was checked. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "lodge-error.h"
#include "lodge-tar.h"
#include "lodge-tar-private.h"
#include "lib/lodge-tar-test.h"

/* Refused by Lodge's own parser before libarchive (see rewritten_cases). */
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
build_global_path (GByteArray *a)
{
  put_pax (a, 'g', "path", "../evil", 7);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

/* A pax path that is not UTF-8 (pax records should be): its bytes are
 * kept, as GNU tar keeps them. */
static void
build_pax_not_utf8 (GByteArray *a)
{
  put_pax (a, 'x', "path", "caf\xe9", 4);
  put_file_entry (a, "innocent", "x");
  put_end (a);
}

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

/* Archives that GNU tar and libarchive once read differently are now
 * read one way, libarchive's, and the appliance only sees what was
 * checked: the bytes after a NUL in a name are not part of it, a global
 * pax header sets nothing, bytes after the gzip data are not read. A pax
 * name that is not UTF-8 keeps its bytes. */
typedef struct {
  const char *id;
  void (*build) (GByteArray *a);
  const char *names[2]; /* of the rewritten archive */
} Rewritten;

static const Rewritten rewritten_cases[] = {
  { "pax-path-nul", build_pax_path_nul, { "ok" } },
  { "longname-nul", build_longname_nul, { "ok" } },
  { "name-nul", build_name_nul, { "ok" } },
  { "global-path", build_global_path, { "innocent" } },
  { "gzip-garbage", build_gzip_garbage, { "a" } },
  { "pax-not-utf8", build_pax_not_utf8, { "caf\xe9" } },
};

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
      /* A name that is not UTF-8 comes with hdrcharset=BINARY, which GNU
       * tar 1.34 ignores, taking the bytes as they are. */
      run_gnu_tar_allowing (args, "Ignoring unknown extended header keyword 'hdrcharset'");
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tar/rewrite/canonical", test_rewrite_canonical);
  g_test_add_func ("/tar/rewrite/refused", test_rewrite_refused);
  TREE_TEST ("/tar/rewrite/progress", test_rewrite_progress);
  TREE_TEST ("/tar/rewrite/long-names", test_rewrite_long_names);
  for (guint i = 0; i < G_N_ELEMENTS (rewritten_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tar/rewrite/ambiguous/%s", rewritten_cases[i].id);
      g_test_add_data_func (path, &rewritten_cases[i], test_rewrite_ambiguous);
    }
  return g_test_run ();
}
