/* Unified text diffs: hand-written expectations, byte-for-byte agreement
 * with GNU diff -u on unambiguous cases, and on random inputs a diff that
 * applies and is as short as GNU diff's. */
#include <stdarg.h>
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-textdiff.h"

#define GNU_DIFF "/usr/bin/diff"

/* ---- helpers ---------------------------------------------------------- */

static gboolean
have_gnu_diff (void)
{
  if (g_file_test (GNU_DIFF, G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_skip (GNU_DIFF " is not installed");
  return FALSE;
}

/* What `diff -U@context --label a --label b` prints; NULL when it finds no
 * difference. */
static char *
gnu_diff (const char *old_text, const char *new_text, guint context)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lodge-textdiff-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *old_path = g_build_filename (dir, "old", NULL);
  g_autofree char *new_path = g_build_filename (dir, "new", NULL);
  g_file_set_contents (old_path, old_text, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (new_path, new_text, -1, &error);
  g_assert_no_error (error);

  g_autofree char *u = g_strdup_printf ("-U%u", context);
  const char *argv[] = { GNU_DIFF, u, "--label", "a", "--label", "b", old_path, new_path, NULL };
  const char *env[] = { "LC_ALL=C", NULL };
  g_autofree char *out = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, (char **) env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (old_path), ==, 0);
  g_assert_cmpint (g_unlink (new_path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  if (g_spawn_check_wait_status (status, &error))
    return NULL; /* exit 0: the same */
  g_assert_error (error, G_SPAWN_EXIT_ERROR, 1);
  return g_steal_pointer (&out);
}

static char *
diff (const char *old_text, const char *new_text, guint context)
{
  return lodge_text_diff_unified (old_text, strlen (old_text), new_text, strlen (new_text), "a",
                                  "b", context);
}

static void
assert_same_as_gnu_diff (const char *old_text, const char *new_text, guint context)
{
  g_autofree char *ours = diff (old_text, new_text, context);
  g_autofree char *theirs = gnu_diff (old_text, new_text, context);
  g_assert_cmpstr (ours, ==, theirs);
}

/* "line01\n" to "lineNN\n" for @n lines, where each (index, text) pair
 * after @n puts text in place of line index (from 1); ends with 0. */
static char *
numbered (guint n, ...)
{
  va_list ap;
  va_start (ap, n);
  guint at = va_arg (ap, guint);
  GString *s = g_string_new (NULL);
  for (guint i = 1; i <= n; i++)
    {
      if (i == at)
        {
          g_string_append (s, va_arg (ap, const char *));
          at = va_arg (ap, guint);
        }
      else
        g_string_append_printf (s, "line%02u\n", i);
    }
  va_end (ap);
  return g_string_free (s, FALSE);
}

/* Lines of @text, each with its '\n' when it has one. */
static GPtrArray *
split (const char *text)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  while (*text != '\0')
    {
      const char *nl = strchr (text, '\n');
      gsize len = nl != NULL ? (gsize) (nl + 1 - text) : strlen (text);
      g_ptr_array_add (lines, g_strndup (text, len));
      text += len;
    }
  return lines;
}

static guint
parse_count (const char *s, const char **ret_end, guint *ret_count)
{
  char *end;
  guint start = (guint) g_ascii_strtoull (s, &end, 10);
  *ret_count = 1;
  if (*end == ',')
    *ret_count = (guint) g_ascii_strtoull (end + 1, &end, 10);
  *ret_end = end;
  return start;
}

/* @old with the unified diff @patch applied; fails the test when a hunk
 * header, context line or removed line does not fit. */
static char *
apply (const char *old_text, const char *patch)
{
  g_autoptr (GPtrArray) old = split (old_text);
  g_autoptr (GPtrArray) lines = split (patch);
  g_autoptr (GString) out = g_string_new (NULL);
  g_assert_cmpuint (lines->len, >=, 3);
  g_assert_cmpstr (lines->pdata[0], ==, "--- a\n");
  g_assert_cmpstr (lines->pdata[1], ==, "+++ b\n");
  guint x = 0; /* lines of @old used so far */
  for (guint i = 2; i < lines->len;)
    {
      const char *h = lines->pdata[i++];
      guint na, nb;
      g_assert_true (g_str_has_prefix (h, "@@ -"));
      guint a = parse_count (h + 4, &h, &na);
      g_assert_true (g_str_has_prefix (h, " +"));
      parse_count (h + 2, &h, &nb);
      g_assert_cmpstr (h, ==, " @@\n");
      guint first = na == 0 ? a : a - 1;
      g_assert_cmpuint (first, >=, x);
      for (; x < first; x++)
        g_string_append (out, old->pdata[x]);
      guint seen_a = 0, seen_b = 0;
      while (i < lines->len && !g_str_has_prefix (lines->pdata[i], "@@ "))
        {
          g_autofree char *line = g_strdup ((char *) lines->pdata[i++] + 1);
          char kind = ((char *) lines->pdata[i - 1])[0];
          if (i < lines->len && g_strcmp0 (lines->pdata[i], "\\ No newline at end of file\n") == 0)
            {
              line[strlen (line) - 1] = '\0';
              i++;
            }
          if (kind == ' ' || kind == '-')
            {
              g_assert_cmpuint (x, <, old->len);
              g_assert_cmpstr (line, ==, old->pdata[x++]);
              seen_a++;
            }
          if (kind == ' ' || kind == '+')
            {
              g_string_append (out, line);
              seen_b++;
            }
          g_assert_true (kind == ' ' || kind == '-' || kind == '+');
        }
      g_assert_cmpuint (seen_a, ==, na);
      g_assert_cmpuint (seen_b, ==, nb);
    }
  for (; x < old->len; x++)
    g_string_append (out, old->pdata[x]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Lines a diff adds or removes. */
static guint
count_edits (const char *patch)
{
  g_autoptr (GPtrArray) lines = split (patch);
  guint n = 0;
  for (guint i = 2; i < lines->len; i++)
    n += ((char *) lines->pdata[i])[0] == '+' || ((char *) lines->pdata[i])[0] == '-';
  return n;
}

/* ---- cases ------------------------------------------------------------ */

static void
test_is_text (void)
{
  g_assert_true (lodge_text_is_text ("", 0));
  g_assert_true (lodge_text_is_text (NULL, 0));
  g_assert_true (lodge_text_is_text ("a\nb\r\n", 5));
  g_assert_true (lodge_text_is_text ("gr\xc3\xbc\xc3\x9f dich\n", 12));
  g_assert_false (lodge_text_is_text ("a\0b", 3));
  g_assert_false (lodge_text_is_text ("\0", 1));
  g_assert_false (lodge_text_is_text ("caf\xe9\n", 5));     /* Latin-1 */
  g_assert_false (lodge_text_is_text ("\xc3", 1));          /* cut short */
  g_assert_false (lodge_text_is_text ("\xed\xa0\x80", 3));  /* a surrogate */
  g_assert_true (lodge_text_is_text ("ab\0", 2));           /* only @len counts */
}

static void
test_equal (void)
{
  g_assert_null (diff ("", "", 3));
  g_assert_null (diff ("a\nb\n", "a\nb\n", 3));
  g_assert_null (diff ("a\nb", "a\nb", 0));
  g_assert_null (lodge_text_diff_unified (NULL, 0, NULL, 0, "a", "b", 3));
}

/* Expected outputs written by hand, checked against GNU diff as well. */
static void
test_expected (void)
{
  g_autofree char *twenty = numbered (20, 0);
  g_autofree char *five = numbered (5, 0);
  g_autofree char *middle = numbered (20, 10, "changed\n", 0);
  g_autofree char *start = numbered (20, 2, "changed\n", 0);
  g_autofree char *end = numbered (20, 19, "changed\n", 0);
  g_autofree char *far = numbered (20, 5, "five\n", 15, "fifteen\n", 0);
  g_autofree char *near = numbered (20, 5, "five\n", 12, "twelve\n", 0);
  g_autofree char *no_three = numbered (5, 3, "", 0);
  const struct {
    const char *old_text, *new_text;
    guint context;
    const char *expected;
  } cases[] = {
    { "", "x\n", 3, "@@ -0,0 +1 @@\n+x\n" },
    { "x\n", "", 3, "@@ -1 +0,0 @@\n-x\n" },
    { "b\n", "a\nb\n", 0, "@@ -0,0 +1 @@\n+a\n" },
    { "b\n", "a\nb\n", 3, "@@ -1 +1,2 @@\n+a\n b\n" },
    { five, no_three, 0, "@@ -3 +2,0 @@\n-line03\n" },
    { twenty, middle, 3,
      "@@ -7,7 +7,7 @@\n line07\n line08\n line09\n-line10\n+changed\n line11\n line12\n line13\n" },
    { twenty, middle, 0, "@@ -10 +10 @@\n-line10\n+changed\n" },
    { twenty, start, 3, "@@ -1,5 +1,5 @@\n line01\n-line02\n+changed\n line03\n line04\n line05\n" },
    { twenty, end, 3, "@@ -16,5 +16,5 @@\n line16\n line17\n line18\n-line19\n+changed\n line20\n" },
    { twenty, far, 3,
      "@@ -2,7 +2,7 @@\n line02\n line03\n line04\n-line05\n+five\n line06\n line07\n line08\n"
      "@@ -12,7 +12,7 @@\n line12\n line13\n line14\n-line15\n+fifteen\n line16\n line17\n line18\n" },
    /* Six unchanged lines between: the two contexts of three touch. */
    { twenty, near, 3,
      "@@ -2,14 +2,14 @@\n line02\n line03\n line04\n-line05\n+five\n line06\n line07\n line08\n"
      " line09\n line10\n line11\n-line12\n+twelve\n line13\n line14\n line15\n" },
    { "a\nb\n", "a\nb", 3, "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n" },
    { "a\nb", "a\nc\n", 3, "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n" },
    { "a\nb\nc", "a\nB\nc", 3, "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n" },
    { "a", "b", 3,
      "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n" },
    { "a\r\nb\r\nc\r\n", "a\r\nb\nc\r\n", 3, "@@ -1,3 +1,3 @@\n a\r\n-b\r\n+b\n c\r\n" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u", i);
      g_autofree char *got = diff (cases[i].old_text, cases[i].new_text, cases[i].context);
      g_autofree char *expected = g_strconcat ("--- a\n+++ b\n", cases[i].expected, NULL);
      g_assert_cmpstr (got, ==, expected);
      if (g_file_test (GNU_DIFF, G_FILE_TEST_IS_EXECUTABLE))
        assert_same_as_gnu_diff (cases[i].old_text, cases[i].new_text, cases[i].context);
    }
}

/* Labels are written as given. */
static void
test_labels (void)
{
  g_autofree char *got = lodge_text_diff_unified ("a\n", 2, "b\n", 2, "template/etc/hosts",
                                                  "guest/etc/hosts", 1);
  g_assert_cmpstr (got, ==, "--- template/etc/hosts\n+++ guest/etc/hosts\n@@ -1 +1 @@\n-a\n+b\n");
}

/* Unambiguous edits of 20 numbered lines, at every context width. */
static void
test_gnu_diff (void)
{
  if (!have_gnu_diff ())
    return;
  g_autofree char *twenty = numbered (20, 0);
  for (guint gap = 4; gap <= 9; gap++) /* around where two hunks merge */
    for (guint context = 0; context <= 5; context++)
      {
        g_autofree char *changed = numbered (20, 4, "four\n", 5 + gap, "x\n", 0);
        assert_same_as_gnu_diff (twenty, changed, context);
        assert_same_as_gnu_diff (changed, twenty, context);
      }
  const char *pairs[][2] = {
    { "", "a\nb\nc\n" },
    { "a\nb\nc\n", "" },
    { "a\nb\nc\n", "x\na\nb\nc\n" },
    { "a\nb\nc\n", "a\nb\nc\nx\n" },
    { "a\nb\nc\n", "a\nb\nc\nx" },
    { "a\nb\nc", "a\nb\nc\nx\n" },
    { "a\nb\nc", "a\nb\nc\n" },
    { "a\r\nb\r\n", "a\nb\n" },
    { "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n" },
    { "\n\n\n", "\n\nx\n\n" },
    { "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n",
      "zero\none\n2\nthree\nfour\nfive\nsix\nseven\n8\nnine\nten" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    for (guint context = 0; context <= 3; context++)
      assert_same_as_gnu_diff (pairs[i][0], pairs[i][1], context);
}

static char *
random_text (void)
{
  static const char *const alphabet[] = { "a\n", "b\n", "c\n", "a\r\n" };
  GString *s = g_string_new (NULL);
  guint n = g_test_rand_int_range (0, 12);
  for (guint i = 0; i < n; i++)
    g_string_append (s, alphabet[g_test_rand_int_range (0, G_N_ELEMENTS (alphabet))]);
  if (s->len > 0 && g_test_rand_int_range (0, 6) == 0)
    g_string_truncate (s, s->len - 1); /* no newline at the end */
  return g_string_free (s, FALSE);
}

/* A copy of @text with a few lines dropped, added or swapped. */
static char *
mutate (const char *text)
{
  g_autoptr (GPtrArray) lines = split (text);
  guint edits = g_test_rand_int_range (1, 4);
  for (guint e = 0; e < edits; e++)
    {
      guint at = g_test_rand_int_range (0, lines->len + 1);
      if (at < lines->len && g_test_rand_bit ())
        g_ptr_array_remove_index (lines, at);
      else
        g_ptr_array_insert (lines, at, g_strdup (g_test_rand_bit () ? "b\n" : "d\n"));
    }
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < lines->len; i++)
    g_string_append (s, lines->pdata[i]);
  return g_string_free (s, FALSE);
}

/* GNU diff may align ambiguous lines differently (it slides changes and
 * sets aside lines with no match first), so a random diff must apply and
 * be as short as GNU diff's, not the same. */
static void
test_random (void)
{
  if (!have_gnu_diff ())
    return;
  guint same = 0, n = g_test_slow () ? 3000 : 300;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *old_text = random_text ();
      g_autofree char *new_text = g_test_rand_bit () ? random_text () : mutate (old_text);
      guint context = g_test_rand_int_range (0, 4);
      g_autofree char *ours = diff (old_text, new_text, context);
      g_autofree char *theirs = gnu_diff (old_text, new_text, context);
      if (theirs == NULL)
        {
          g_assert_null (ours);
          continue;
        }
      g_assert_nonnull (ours);
      g_autofree char *applied = apply (old_text, ours);
      g_assert_cmpstr (applied, ==, new_text);
      g_assert_cmpuint (count_edits (ours), ==, count_edits (theirs));
      same += g_str_equal (ours, theirs);
    }
  g_test_message ("%u of %u random diffs identical to GNU diff's", same, n);
}

static void
test_too_large (void)
{
  g_autoptr (GString) big = g_string_new (NULL);
  for (guint i = 0; i <= LODGE_TEXTDIFF_MAX_LINES; i++)
    g_string_append (big, "x\n");
  g_autofree char *got = lodge_text_diff_unified (big->str, big->len, "x\n", 2, "a", "b", 3);
  g_assert_cmpstr (got, ==, "--- a\n+++ b\n(files differ; too large to diff: 100001 and 1 lines)\n");
  /* Equal is equal at any size. */
  g_assert_null (lodge_text_diff_unified (big->str, big->len, big->str, big->len, "a", "b", 3));

  /* 10001 lines replaced by 10001 others: 20002 edits, one too many... */
  g_autoptr (GString) old_text = g_string_new (NULL);
  g_autoptr (GString) new_text = g_string_new (NULL);
  for (guint i = 0; i <= LODGE_TEXTDIFF_MAX_EDITS / 2; i++)
    {
      g_string_append_printf (old_text, "old %u\n", i);
      g_string_append_printf (new_text, "new %u\n", i);
    }
  g_autofree char *summary = lodge_text_diff_unified (old_text->str, old_text->len, new_text->str,
                                                      new_text->len, "a", "b", 3);
  g_assert_cmpstr (summary, ==,
                   "--- a\n+++ b\n(files differ; too large to diff: 10001 and 10001 lines)\n");

  /* ...but 20000 are diffed, in full. */
  g_string_truncate (old_text, strrchr (old_text->str, 'o') - old_text->str);
  g_string_truncate (new_text, strrchr (new_text->str, 'n') - new_text->str);
  g_autofree char *full = lodge_text_diff_unified (old_text->str, old_text->len, new_text->str,
                                                   new_text->len, "a", "b", 3);
  g_assert_true (g_str_has_prefix (full, "--- a\n+++ b\n@@ -1,10000 +1,10000 @@\n-old 0\n"));
  g_assert_cmpuint (count_edits (full), ==, LODGE_TEXTDIFF_MAX_EDITS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/textdiff/is-text", test_is_text);
  g_test_add_func ("/textdiff/equal", test_equal);
  g_test_add_func ("/textdiff/expected", test_expected);
  g_test_add_func ("/textdiff/labels", test_labels);
  g_test_add_func ("/textdiff/gnu-diff", test_gnu_diff);
  g_test_add_func ("/textdiff/random", test_random);
  g_test_add_func ("/textdiff/too-large", test_too_large);
  return g_test_run ();
}
