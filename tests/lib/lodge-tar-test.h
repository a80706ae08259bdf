/* Helpers of the tar tests (test-tar.c, test-tar-check.c,
 * test-tar-rewrite.c): a tree with every kind of file, GNU tar as tar-in
 * runs it, and archives built header by header, independently of the code
 * under test. */
#pragma once

#include <sys/types.h>
#include <glib.h>

#include "lodge-tar.h"

G_BEGIN_DECLS

/* ---- files and trees ---- */

void rm_rf (const char *path);
void put_file (const char *path, const char *content, gsize len, mode_t mode);
void set_mtime (const char *path, gint64 sec, long nsec);
char *sha256_of_file (const char *path);
/* All extended attributes of @path (not followed): name -> GBytes. */
GHashTable *read_xattrs (const char *path);
void assert_xattrs_equal (GHashTable *expected, GHashTable *actual, const char *what);
/* The names lodge_tar_write_tree() should write for the tree at @root, in
 * its order: "./", then depth first, each directory's names sorted
 * bytewise, directories with a '/', sockets left out. */
void collect_names (const char *root, const char *rel, GPtrArray *out);
/* Where an archive name ("./", "etc/", "etc/hosts") is under @root. */
char *host_path_of (const char *root, const char *name);
void assert_stats_equal (const LodgeTarStats *a, const LodgeTarStats *b);
/* @a and @b are the same file: type, mode, owner, mtime (but of a
 * symlink), content, link target, xattrs. */
void assert_same_file (const char *a, const char *b, const char *name);
/* The bytes of a file. */
GBytes *file_bytes (const char *path);
gboolean bytes_contain (GBytes *bytes, const char *needle, gsize len);

/* ---- GNU tar ---- */

/* FALSE, and the test skipped, when it is not installed. */
gboolean have_gnu_tar (void);
/* Runs GNU tar; fails the test on a non-zero exit or any message but the
 * warning GNU tar gives for every pre-1970 mtime (the tree has one) and
 * those that contain @allowed (may be NULL). */
void run_gnu_tar_allowing (const char *const *args, const char *allowed);
void run_gnu_tar (const char *const *args);

/* ---- the tree (a g_test_add() fixture) ---- */

typedef struct {
  char *dir;   /* temporary directory holding everything */
  char *src;   /* the tree */
  gboolean root;
  gboolean xattrs;
} Tree;

void tree_set_up (Tree *t, gconstpointer data);
void tree_tear_down (Tree *t, gconstpointer data);
#define TREE_TEST(path, func) g_test_add (path, Tree, NULL, tree_set_up, func, tree_tear_down)
/* lodge_tar_write_tree() of the tree to @t->dir/@name, asserted. */
char *write_tree (Tree *t, const char *name, LodgeTarStats *ret_stats);
/* A tree of its own in @t->dir/@name. */
char *make_tree (Tree *t, const char *name);

/* Progress reports: monotonic, 0 first, the same total throughout. */
typedef struct {
  guint calls;
  guint64 last_done, last_total;
  gboolean monotonic;
} Progress;

void on_progress (guint64 done, guint64 total, gpointer user_data);

/* ---- archives, header by header ---- */

void set_checksum (guint8 *h);
/* A ustar header; returns its offset so a case can spoil a field. */
gsize put_header (GByteArray *a, const char *name, gsize name_len, char type, guint64 size,
                  const char *link);
void put_data (GByteArray *a, const void *data, gsize len);
void put_file_entry (GByteArray *a, const char *name, const char *content);
/* One pax record, written independently of the code under test. */
void pax_record (GString *out, const char *key, const char *value, gsize vlen);
void put_meta (GByteArray *a, char type, const char *data, gsize len);
void put_pax (GByteArray *a, char type, const char *key, const char *value, gsize vlen);
void put_end (GByteArray *a);
GBytes *gzip_bytes (const void *data, gsize len);
/* ./, etc/, etc/hosts, two symlinks, a hard link. */
void good_archive (GByteArray *a);
/* A temporary file holding @data. */
char *save_archive (const guint8 *data, gsize len);
/* lodge_tar_rewrite() of @archive to @out, asserted; returns @out. */
char *rewrite_ok (const char *archive, const char *out, LodgeTarStats *ret_stats);

G_END_DECLS
