/* User archives checked by lodge_tar_check(): hostile ones, built header
 * by header, are refused with an error naming the entry; archives GNU tar
 * writes are accepted and read as GNU tar wrote them; random mutations
 * never crash. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "lodge-error.h"
#include "lodge-tar.h"
#include "lodge-tar-private.h"
#include "lib/lodge-tar-test.h"

/* ---- hostile archives, header by header ---- */

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
  { "gzip-evil", build_gzip_evil, { "entry '../x'", "'..' component" } },
  { "gzip-trailing", build_gzip_trailing, { "without an end-of-archive marker" } },
  { "gzip-truncated", build_gzip_truncated, { "truncated" } },
  { "xz", build_xz, { "xz-compressed archives are not supported" } },
  { "zstd", build_zstd, { "zstd-compressed archives are not supported" } },
  { "not-tar", build_not_tar, { "offset 0", "not a tar archive" } },
  { "empty-file", build_empty_file, { "empty file, not a tar archive" } },
};

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

/* ---- archives that are accepted ---- */

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
  g_test_add_func ("/tar/check/accepted", test_check_accepted);
  g_test_add_func ("/tar/check/io-error", test_check_io_error);
  g_test_add_func ("/tar/check/random-mutations", test_check_random_mutations);
  TREE_TEST ("/tar/check/gnu-tar-archives", test_check_gnu_tar_archives);
  TREE_TEST ("/tar/check/gnu-tar-sparse", test_check_gnu_tar_sparse);
  g_test_add_func ("/tar/check/pax-times", test_check_pax_times);
  for (guint i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tar/check/refused/%s", hostile_cases[i].id);
      g_test_add_data_func (path, &hostile_cases[i], test_check_refused);
    }
  return g_test_run ();
}
