/* `repair diff`: a VE's tree against the template version it was cloned
 * from. Metadata first, a directory at a time (one lstatnslist and one
 * readlinklist per directory, not one call per file); content only where
 * metadata cannot tell (same size, other change time: compared by checksum
 * inside the appliance) and for the text diffs shown. */
#include <string.h>
#include <sys/stat.h>

#include "lodge-repair-private.h"
#include "lodge-shadow.h"
#include "lodge-strings.h"
#include "lodge-textdiff.h"

#define DIFF_TEXT_MAX (256 << 10) /* larger files are not diffed line by line */
/* Line diffs shown at most: each costs two reads from the appliance (tens
 * of ms under TCG), and a thousand of them help nobody; `diff PATH`
 * shows any one. */
#define DIFF_SHOW_MAX 50

typedef struct {
  struct guestfs_statns st;
  char *link;
} Entry;

static void
entry_free (Entry *e)
{
  g_free (e->link);
  g_free (e);
}

/* Guest path ("/etc/passwd") -> Entry for everything under appliance
 * directory @top_full, whose guest path is @guest_top. */
static GHashTable *
stat_tree (LodgeRepair *r, const char *top_full, const char *guest_top, GError **error)
{
  g_autoptr (GHashTable) entries =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
  g_autoptr (GPtrArray) paths = lodge_repair_list_tree (r, top_full, error);
  if (paths == NULL)
    return NULL;
  /* Relative directory -> the names in it. */
  g_autoptr (GHashTable) dirs =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *rel = paths->pdata[i];
      const char *slash = strrchr (rel, '/');
      g_autofree char *dir = slash != NULL ? g_strndup (rel, slash - rel) : g_strdup ("");
      GPtrArray *names = g_hash_table_lookup (dirs, dir);
      if (names == NULL)
        {
          names = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (dirs, g_strdup (dir), names);
        }
      g_ptr_array_add (names, g_strdup (slash != NULL ? slash + 1 : rel));
    }
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, dirs);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const char *dir = key;
      GPtrArray *names = value;
      g_ptr_array_add (names, NULL);
      g_autofree char *full = dir[0] != '\0' ? g_strconcat (top_full, "/", dir, NULL)
                                             : g_strdup (top_full);
      struct guestfs_statns_list *l = guestfs_lstatnslist (r->h, full, (char **) names->pdata);
      if (l == NULL)
        return lodge_repair_failf (r, error, "cannot look at the files of %s", full), NULL;
      /* The targets of the links among them, in one more call (none when
       * the directory holds no link: every call is a round trip). */
      g_autoptr (GPtrArray) link_names = g_ptr_array_new ();
      for (guint i = 0; i < l->len && i + 1 < names->len; i++)
        if (l->val[i].st_ino != -1 && S_ISLNK (l->val[i].st_mode))
          g_ptr_array_add (link_names, names->pdata[i]);
      g_ptr_array_add (link_names, NULL);
      g_auto (GStrv) links = NULL;
      if (link_names->len > 1
          && (links = guestfs_readlinklist (r->h, full, (char **) link_names->pdata)) == NULL)
        {
          guestfs_free_statns_list (l);
          return lodge_repair_failf (r, error, "cannot read the links of %s", full), NULL;
        }
      guint next_link = 0;
      for (guint i = 0; i < l->len && i + 1 < names->len; i++)
        {
          if (l->val[i].st_ino == -1)
            continue;
          Entry *e = g_new0 (Entry, 1);
          e->st = l->val[i];
          if (S_ISLNK (e->st.st_mode))
            e->link = g_strdup (links[next_link++]);
          const char *base = names->pdata[i];
          const char *sep = strcmp (guest_top, "/") == 0 ? "" : guest_top;
          char *guest = dir[0] != '\0' ? g_strconcat (sep, "/", dir, "/", base, NULL)
                                       : g_strconcat (sep, "/", base, NULL);
          g_hash_table_insert (entries, guest, e);
        }
      guestfs_free_statns_list (l);
    }
  return g_steal_pointer (&entries);
}

static const char *
type_name (gint64 mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "char device";
    case S_IFBLK: return "block device";
    default: return "file";
    }
}

static char *
describe (const Entry *e)
{
  if (S_ISLNK (e->st.st_mode))
    {
      g_autofree char *q = lodge_repair_quote (e->link != NULL ? e->link : "");
      return g_strdup_printf ("symlink -> %s", q);
    }
  g_autofree char *mode = lodge_repair_mode_string (e->st.st_mode);
  if (S_ISREG (e->st.st_mode))
    return g_strdup_printf ("%s %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                            " bytes", mode, e->st.st_uid, e->st.st_gid, e->st.st_size);
  return g_strdup_printf ("%s %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, mode, e->st.st_uid,
                          e->st.st_gid);
}

static gboolean
skipped (const LodgeRepairDiffOptions *opts, const char *path)
{
  if (opts == NULL || opts->skip == NULL)
    return FALSE;
  for (guint i = 0; opts->skip[i] != NULL; i++)
    {
      gsize n = strlen (opts->skip[i]);
      if (strncmp (path, opts->skip[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
        return TRUE;
    }
  return FALSE;
}

static char *
read_small (LodgeRepair *r, const char *full, gsize *ret_len, GError **error)
{
  size_t len = 0;
  char *data = guestfs_read_file (r->h, full, &len);
  if (data == NULL)
    return lodge_repair_failf (r, error, "cannot read %s", full), NULL;
  *ret_len = len;
  return data;
}

/* The root entry's password field in a shadow file, or NULL. */
static char *
root_hash_of (const char *shadow, gsize len)
{
  g_autofree char *text = g_strndup (shadow, len);
  for (char *l = text; l != NULL && *l != '\0';)
    {
      char *nl = strchr (l, '\n');
      if (nl != NULL)
        *nl = '\0';
      if (g_str_has_prefix (l, "root:"))
        {
          char *end = strchr (l + 5, ':');
          return end != NULL ? g_strndup (l + 5, end - (l + 5)) : g_strdup (l + 5);
        }
      l = nl != NULL ? nl + 1 : NULL;
    }
  return NULL;
}

/* Whether the content of regular files @t (template) and @v (VE) at guest
 * @path differs. */
static gboolean
content_differs (LodgeRepair *r, const char *path, const Entry *t, const Entry *v,
                 const LodgeRepairDiffOptions *opts, LodgeRepairDiffStats *stats,
                 gboolean *ret_differs, GError **error)
{
  g_autofree char *tfull = lodge_repair_in_tmpl (path);
  g_autofree char *vfull = lodge_repair_in_ve (path);
  if (strcmp (path, "/etc/shadow") == 0 && opts != NULL && opts->root_hash != NULL
      && v->st.st_size <= LODGE_SHADOW_MAX_BYTES && t->st.st_size <= LODGE_SHADOW_MAX_BYTES)
    {
      /* Lodge writes the definition's root hash at boot: not a change. */
      stats->content_reads++;
      gsize tlen = 0, vlen = 0;
      g_autofree char *tdata = read_small (r, tfull, &tlen, error);
      g_autofree char *vdata = tdata != NULL ? read_small (r, vfull, &vlen, error) : NULL;
      if (vdata == NULL)
        return FALSE;
      g_autofree char *vhash = root_hash_of (vdata, vlen);
      g_autofree char *thash = root_hash_of (tdata, tlen);
      /* The VE's file with the template's root hash put back (NULL when
       * it is no shadow file: then its bytes are compared as they are). */
      g_autofree char *normal =
        vhash != NULL && thash != NULL && strcmp (vhash, opts->root_hash) == 0
          ? lodge_repair_shadow_with_root_hash (vdata, vlen, thash, lodge_shadow_today (), NULL)
          : NULL;
      if (normal != NULL)
        {
          *ret_differs = strlen (normal) != tlen || memcmp (normal, tdata, tlen) != 0;
          return TRUE;
        }
      *ret_differs = vlen != tlen || memcmp (vdata, tdata, tlen) != 0;
      return TRUE;
    }
  if (t->st.st_size != v->st.st_size)
    {
      *ret_differs = TRUE;
      return TRUE;
    }
  /* A clone shares the template's inodes: the same change time means
   * nothing touched the file since the template was made. */
  if (t->st.st_ino == v->st.st_ino && t->st.st_ctime_sec == v->st.st_ctime_sec
      && t->st.st_ctime_nsec == v->st.st_ctime_nsec && t->st.st_mtime_sec == v->st.st_mtime_sec
      && t->st.st_mtime_nsec == v->st.st_mtime_nsec)
    {
      *ret_differs = FALSE;
      return TRUE;
    }
  stats->content_reads++;
  g_autofree char *ts = guestfs_checksum (r->h, "sha256", tfull);
  g_autofree char *vs = ts != NULL ? guestfs_checksum (r->h, "sha256", vfull) : NULL;
  if (vs == NULL)
    return lodge_repair_failf (r, error, "cannot checksum %s", path);
  *ret_differs = strcmp (ts, vs) != 0;
  return TRUE;
}

static gboolean
show_text_diff (LodgeRepair *r, const char *path, const Entry *t, const Entry *v,
                LodgeRepairOutput out, gpointer user_data, GError **error)
{
  g_autofree char *q = lodge_repair_quote (path);
  if (t->st.st_size > DIFF_TEXT_MAX || v->st.st_size > DIFF_TEXT_MAX)
    return lodge_repair_emitf (out, user_data, error,
                               "\n%s: over %d KiB, no line diff (repair cat shows it)\n", q,
                               DIFF_TEXT_MAX >> 10);
  g_autofree char *tfull = lodge_repair_in_tmpl (path);
  g_autofree char *vfull = lodge_repair_in_ve (path);
  gsize tlen = 0, vlen = 0;
  g_autofree char *tdata = read_small (r, tfull, &tlen, error);
  g_autofree char *vdata = tdata != NULL ? read_small (r, vfull, &vlen, error) : NULL;
  if (vdata == NULL)
    return FALSE;
  if (!lodge_text_is_text (tdata, tlen) || !lodge_text_is_text (vdata, vlen))
    return lodge_repair_emitf (out, user_data, error, "\nBinary files template:%s and VE:%s differ\n",
                               q, q);
  g_autofree char *label_t = g_strconcat ("template:", q, NULL);
  g_autofree char *label_v = g_strconcat ("VE:", q, NULL);
  g_autofree char *diff = lodge_text_diff_unified (tdata, tlen, vdata, vlen, label_t, label_v, 3);
  if (diff == NULL)
    return TRUE;
  return lodge_repair_emit (out, user_data, "\n", error)
         && lodge_repair_emit (out, user_data, diff, error);
}

static GPtrArray *
sorted_union (GHashTable *a, GHashTable *b)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *all = g_ptr_array_new ();
  GHashTable *sides[] = { a, b };
  for (int s = 0; s < 2; s++)
    {
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, sides[s]);
      while (g_hash_table_iter_next (&it, &key, NULL))
        if (g_hash_table_add (seen, key))
          g_ptr_array_add (all, key);
    }
  g_ptr_array_sort (all, lodge_compare_strings);
  return all;
}

gboolean
lodge_repair_diff (LodgeRepair *r, const char *path, const LodgeRepairDiffOptions *opts,
                   LodgeRepairOutput out, gpointer user_data, LodgeRepairDiffStats *ret_stats,
                   GError **error)
{
  if (!r->has_template)
    return lodge_repair_refuse (error, "the VE's template version is not known: nothing to compare with");
  g_autofree char *top = lodge_repair_resolve (r, path != NULL ? path : "/", FALSE, error);
  if (top == NULL)
    return FALSE;
  g_autofree char *vtop = lodge_repair_in_ve (top);
  g_autofree char *ttop = lodge_repair_in_tmpl (top);

  /* The two trees, or the one file, each side. */
  g_autoptr (GHashTable) tmpl = NULL, ve = NULL;
  GHashTable **sides[] = { &tmpl, &ve };
  const char *fulls[] = { ttop, vtop };
  for (int s = 0; s < 2; s++)
    {
      struct guestfs_statns *st = lodge_repair_lstat (r, fulls[s], error);
      if (st == NULL && error != NULL && *error != NULL)
        return FALSE;
      if (st != NULL && S_ISDIR (st->st_mode))
        *sides[s] = stat_tree (r, fulls[s], top, error);
      else
        *sides[s] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) entry_free);
      if (*sides[s] == NULL)
        {
          guestfs_free_statns (st);
          return FALSE;
        }
      if (st != NULL && !S_ISDIR (st->st_mode))
        {
          Entry *e = g_new0 (Entry, 1);
          e->st = *st;
          if (S_ISLNK (st->st_mode))
            e->link = guestfs_readlink (r->h, fulls[s]);
          g_hash_table_insert (*sides[s], g_strdup (top), e);
        }
      guestfs_free_statns (st);
    }

  LodgeRepairDiffStats stats = { 0 };
  g_autoptr (GPtrArray) all = sorted_union (tmpl, ve);
  g_autoptr (GPtrArray) text = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      const char *p = all->pdata[i];
      if (skipped (opts, p))
        continue;
      const Entry *t = g_hash_table_lookup (tmpl, p);
      const Entry *v = g_hash_table_lookup (ve, p);
      g_autofree char *q = lodge_repair_quote (p);
      if (t == NULL || v == NULL)
        {
          g_autofree char *d = describe (t != NULL ? t : v);
          if (t == NULL)
            stats.added++;
          else
            stats.removed++;
          if (!lodge_repair_emitf (out, user_data, error, "%s %s  (%s)\n", t == NULL ? "+" : "-",
                                   q, d))
            return FALSE;
          continue;
        }
      stats.compared++;
      g_autoptr (GString) what = g_string_new (NULL);
      if ((t->st.st_mode & S_IFMT) != (v->st.st_mode & S_IFMT))
        g_string_append_printf (what, ", %s -> %s", type_name (t->st.st_mode),
                                type_name (v->st.st_mode));
      else
        {
          if ((t->st.st_mode & 07777) != (v->st.st_mode & 07777))
            g_string_append_printf (what, ", mode %04o -> %04o", (guint) (t->st.st_mode & 07777),
                                    (guint) (v->st.st_mode & 07777));
          if (t->st.st_uid != v->st.st_uid || t->st.st_gid != v->st.st_gid)
            g_string_append_printf (what, ", owner %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                                    " -> %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                    t->st.st_uid, t->st.st_gid, v->st.st_uid, v->st.st_gid);
          if (S_ISLNK (t->st.st_mode) && g_strcmp0 (t->link, v->link) != 0)
            {
              g_autofree char *a = lodge_repair_quote (t->link != NULL ? t->link : "");
              g_autofree char *b = lodge_repair_quote (v->link != NULL ? v->link : "");
              g_string_append_printf (what, ", target %s -> %s", a, b);
            }
          gboolean differs = FALSE;
          if (S_ISREG (t->st.st_mode)
              && !content_differs (r, p, t, v, opts, &stats, &differs, error))
            return FALSE;
          if (differs)
            {
              if (t->st.st_size != v->st.st_size)
                g_string_append_printf (what, ", content (%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                                        " bytes)", t->st.st_size, v->st.st_size);
              else
                g_string_append (what, ", content");
              g_ptr_array_add (text, (gpointer) p);
            }
        }
      if (what->len == 0)
        continue;
      stats.changed++;
      if (!lodge_repair_emitf (out, user_data, error, "M %s  (%s)\n", q, what->str + 2))
        return FALSE;
    }
  for (guint i = 0; i < MIN (text->len, DIFF_SHOW_MAX); i++)
    {
      const char *p = text->pdata[i];
      if (!show_text_diff (r, p, g_hash_table_lookup (tmpl, p), g_hash_table_lookup (ve, p), out,
                           user_data, error))
        return FALSE;
    }
  if (text->len > DIFF_SHOW_MAX
      && !lodge_repair_emitf (out, user_data, error,
                              "\n(%u more changed files not shown line by line: `repair diff "
                              "PATH` shows one)\n", text->len - DIFF_SHOW_MAX))
    return FALSE;
  if (ret_stats != NULL)
    *ret_stats = stats;
  return TRUE;
}
