/* Unified diffs of text for people: the repair diff shows what a customer
 * changed in a guest's files against the template they came from.
 *
 * Lines become small integers (equal lines, equal numbers), then Myers'
 * O(ND) algorithm in its linear-space form finds a shortest edit script:
 * search forwards from the start and backwards from the end until the two
 * searches meet, split the problem there, recurse. The first search gives up
 * past LODGE_TEXTDIFF_MAX_EDITS, which bounds time at O((N+M) * MAX_EDITS);
 * memory is O(N+M). Hunks are printed as GNU diff -u prints them. */
#include "lodge-textdiff.h"

#include <string.h>

typedef struct {
  const char *data;
  gsize len; /* with its '\n', when it has one */
} Line;

typedef struct {
  const guint *a, *b; /* line numbers of old and new: equal lines, equal numbers */
  gboolean *del, *ins; /* the script: which lines of old go, which of new come */
  gint *fd, *bd;       /* furthest x per diagonal x - y, forwards and backwards */
} Search;

typedef struct {
  gint a, na, b, nb; /* @na lines of old at @a replaced by @nb lines of new at @b */
} Change;

gboolean
lodge_text_is_text (const char *data, gsize len)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  /* With a length, g_utf8_validate_len() also refuses NUL bytes. */
  return g_utf8_validate_len (data, len, NULL);
}

static gsize
count_lines (const char *data, gsize len)
{
  gsize n = 0;
  for (const char *p = data, *end = data + len; p < end; p++)
    {
      p = memchr (p, '\n', end - p);
      if (p == NULL)
        return n + 1; /* a last line without '\n' */
      n++;
    }
  return n;
}

static GArray *
split_lines (const char *data, gsize len)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (Line));
  const char *p = data, *end = data + len;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      Line line = { p, nl != NULL ? (gsize) (nl + 1 - p) : (gsize) (end - p) };
      g_array_append_val (lines, line);
      p += line.len;
    }
  return lines;
}

static guint
line_hash (gconstpointer key)
{
  const Line *line = key;
  guint32 h = 2166136261u; /* FNV-1a */
  for (gsize i = 0; i < line->len; i++)
    h = (h ^ (guchar) line->data[i]) * 16777619u;
  return h;
}

static gboolean
line_equal (gconstpointer p, gconstpointer q)
{
  const Line *l = p, *m = q;
  return l->len == m->len && memcmp (l->data, m->data, l->len) == 0;
}

/* Numbers each line of @lines by its content, shared through @numbers. */
static guint *
number_lines (GHashTable *numbers, GArray *lines)
{
  guint *ret = g_new (guint, lines->len + 1);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = &g_array_index (lines, Line, i);
      gpointer n;
      if (!g_hash_table_lookup_extended (numbers, line, NULL, &n))
        {
          n = GUINT_TO_POINTER (g_hash_table_size (numbers));
          g_hash_table_insert (numbers, line, n);
        }
      ret[i] = GPOINTER_TO_UINT (n);
    }
  return ret;
}

/* A point on a shortest edit path from (xoff, yoff) to (xlim, ylim) that
 * splits it into two shorter paths, in *ret_x, *ret_y. Both ends must differ
 * (the caller strips equal lines there), so the path has two edits or more.
 * FALSE when it has more than @max_d. */
static gboolean
find_split (Search *s, gint xoff, gint xlim, gint yoff, gint ylim, gint max_d, gint *ret_x,
            gint *ret_y)
{
  gint *fd = s->fd, *bd = s->bd;
  const gint dmin = xoff - ylim, dmax = xlim - yoff; /* diagonals on the board */
  const gint fmid = xoff - yoff, bmid = xlim - ylim;
  const gboolean odd = ((fmid - bmid) & 1) != 0;
  gint fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;

  fd[fmid] = xoff;
  bd[bmid] = xlim;
  for (gint c = 1; 2 * c - 1 <= max_d; c++)
    {
      /* Each round reaches one diagonal further out, except at the board's
       * edge; the diagonal just outside gets a value no path can use. */
      if (fmin > dmin)
        fd[--fmin - 1] = -1;
      else
        fmin++;
      if (fmax < dmax)
        fd[++fmax + 1] = -1;
      else
        fmax--;
      for (gint d = fmax; d >= fmin; d -= 2)
        {
          gint lo = fd[d - 1], hi = fd[d + 1];
          gint x = lo < hi ? hi : lo + 1;
          gint y = x - d;
          while (x < xlim && y < ylim && s->a[x] == s->b[y])
            x++, y++;
          fd[d] = x;
          if (odd && bmin <= d && d <= bmax && bd[d] <= x)
            {
              *ret_x = x, *ret_y = y;
              return TRUE; /* 2c - 1 edits */
            }
        }

      if (bmin > dmin)
        bd[--bmin - 1] = G_MAXINT;
      else
        bmin++;
      if (bmax < dmax)
        bd[++bmax + 1] = G_MAXINT;
      else
        bmax--;
      for (gint d = bmax; d >= bmin; d -= 2)
        {
          gint lo = bd[d - 1], hi = bd[d + 1];
          gint x = lo < hi ? lo : hi - 1;
          gint y = x - d;
          while (x > xoff && y > yoff && s->a[x - 1] == s->b[y - 1])
            x--, y--;
          bd[d] = x;
          if (!odd && fmin <= d && d <= fmax && x <= fd[d])
            {
              *ret_x = x, *ret_y = y;
              return 2 * c <= max_d;
            }
        }
    }
  return FALSE;
}

/* Marks a shortest script from old[xoff, xlim) to new[yoff, ylim); FALSE
 * when it has more than @max_d edits. */
static gboolean
compare (Search *s, gint xoff, gint xlim, gint yoff, gint ylim, gint max_d)
{
  while (xoff < xlim && yoff < ylim && s->a[xoff] == s->b[yoff])
    xoff++, yoff++;
  while (xoff < xlim && yoff < ylim && s->a[xlim - 1] == s->b[ylim - 1])
    xlim--, ylim--;

  if (xoff == xlim || yoff == ylim)
    {
      for (gint x = xoff; x < xlim; x++)
        s->del[x] = TRUE;
      for (gint y = yoff; y < ylim; y++)
        s->ins[y] = TRUE;
      return (xlim - xoff) + (ylim - yoff) <= max_d;
    }

  gint x, y;
  if (!find_split (s, xoff, xlim, yoff, ylim, max_d, &x, &y))
    return FALSE;
  g_assert (xoff <= x && x <= xlim && yoff <= y && y <= ylim);
  return compare (s, xoff, x, yoff, y, G_MAXINT) && compare (s, x, xlim, y, ylim, G_MAXINT);
}

/* The script as runs of deleted and inserted lines, in order. */
static GArray *
collect_changes (const gboolean *del, gint n, const gboolean *ins, gint m)
{
  GArray *changes = g_array_new (FALSE, FALSE, sizeof (Change));
  gint x = 0, y = 0;
  while (x < n || y < m)
    {
      if (x < n && y < m && !del[x] && !ins[y])
        {
          x++, y++;
          continue;
        }
      Change c = { x, 0, y, 0 };
      while (x < n && del[x])
        x++, c.na++;
      while (y < m && ins[y])
        y++, c.nb++;
      g_array_append_val (changes, c);
    }
  return changes;
}

/* "start,count" as diff -u writes it: ",1" left out, and an empty range
 * named by the line before it. */
static void
append_range (GString *out, gint start, gint count)
{
  if (count == 1)
    g_string_append_printf (out, "%d", start + 1);
  else
    g_string_append_printf (out, "%d,%d", count == 0 ? start : start + 1, count);
}

static void
append_line (GString *out, char prefix, const Line *line)
{
  g_string_append_c (out, prefix);
  g_string_append_len (out, line->data, line->len);
  if (line->data[line->len - 1] != '\n')
    g_string_append (out, "\n\\ No newline at end of file\n");
}

static void
append_hunks (GString *out, GArray *old_lines, GArray *new_lines, GArray *changes, guint context)
{
  const gint n = old_lines->len, ctx = (gint) MIN (context, (guint) G_MAXINT / 4);
  for (guint first = 0, last; first < changes->len; first = last + 1)
    {
      /* Changes closer than twice the context share a hunk. */
      last = first;
      while (last + 1 < changes->len)
        {
          const Change *c = &g_array_index (changes, Change, last);
          if (g_array_index (changes, Change, last + 1).a - (c->a + c->na) > 2 * ctx)
            break;
          last++;
        }
      const Change *cf = &g_array_index (changes, Change, first);
      const Change *cl = &g_array_index (changes, Change, last);
      gint a_start = MAX (0, cf->a - ctx), a_end = MIN (n, cl->a + cl->na + ctx);
      gint b_start = cf->b - (cf->a - a_start);
      gint b_end = cl->b + cl->nb + (a_end - (cl->a + cl->na));

      g_string_append (out, "@@ -");
      append_range (out, a_start, a_end - a_start);
      g_string_append (out, " +");
      append_range (out, b_start, b_end - b_start);
      g_string_append (out, " @@\n");

      gint x = a_start;
      for (guint i = first; i <= last; i++)
        {
          const Change *c = &g_array_index (changes, Change, i);
          for (; x < c->a; x++)
            append_line (out, ' ', &g_array_index (old_lines, Line, x));
          for (gint k = 0; k < c->na; k++)
            append_line (out, '-', &g_array_index (old_lines, Line, c->a + k));
          for (gint k = 0; k < c->nb; k++)
            append_line (out, '+', &g_array_index (new_lines, Line, c->b + k));
          x = c->a + c->na;
        }
      for (; x < a_end; x++)
        append_line (out, ' ', &g_array_index (old_lines, Line, x));
    }
}

char *
lodge_text_diff_unified (const char *old_data, gsize old_len, const char *new_data, gsize new_len,
                         const char *label_old, const char *label_new, guint context)
{
  g_return_val_if_fail (old_data != NULL || old_len == 0, NULL);
  g_return_val_if_fail (new_data != NULL || new_len == 0, NULL);
  g_return_val_if_fail (label_old != NULL && label_new != NULL, NULL);

  if (old_len == new_len && (old_len == 0 || memcmp (old_data, new_data, old_len) == 0))
    return NULL;

  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "--- %s\n+++ %s\n", label_old, label_new);

  gsize n = count_lines (old_data, old_len), m = count_lines (new_data, new_len);
  gsize n_minus_m = n > m ? n - m : m - n;
  gboolean diffed = FALSE;
  if (n <= LODGE_TEXTDIFF_MAX_LINES && m <= LODGE_TEXTDIFF_MAX_LINES
      && n_minus_m <= LODGE_TEXTDIFF_MAX_EDITS)
    {
      g_autoptr (GArray) old_lines = split_lines (old_data, old_len);
      g_autoptr (GArray) new_lines = split_lines (new_data, new_len);
      g_autoptr (GHashTable) numbers = g_hash_table_new (line_hash, line_equal);
      g_autofree guint *a = number_lines (numbers, old_lines);
      g_autofree guint *b = number_lines (numbers, new_lines);
      g_autofree gboolean *del = g_new0 (gboolean, n + 1);
      g_autofree gboolean *ins = g_new0 (gboolean, m + 1);
      /* Diagonals run from -m - 1 to n + 1. */
      g_autofree gint *fd = g_new (gint, n + m + 3);
      g_autofree gint *bd = g_new (gint, n + m + 3);
      Search s = { a, b, del, ins, fd + m + 1, bd + m + 1 };

      if (compare (&s, 0, n, 0, m, LODGE_TEXTDIFF_MAX_EDITS))
        {
          g_autoptr (GArray) changes = collect_changes (del, n, ins, m);
          append_hunks (out, old_lines, new_lines, changes, context);
          diffed = TRUE;
        }
    }
  if (!diffed)
    g_string_append_printf (out, "(files differ; too large to diff: %" G_GSIZE_FORMAT
                            " and %" G_GSIZE_FORMAT " lines)\n", n, m);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
