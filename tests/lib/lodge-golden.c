#include "lodge-golden.h"

#include <string.h>
#include <glib/gstdio.h>

#include "lodge-strings.h"

gboolean
lodge_golden_regenerating (void)
{
  return g_strcmp0 (g_getenv ("LODGE_REGENERATE"), "1") == 0;
}

char *
lodge_golden_read (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  g_file_get_contents (path, &data, NULL, &error);
  g_assert_no_error (error);
  return data;
}

GPtrArray *
lodge_golden_cases (const char *dir, const char *const *output_suffixes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);

  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *cases = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_strdup (name));

  /* An input is a .xml file that is not some case's output. */
  for (guint i = 0; i < files->len; i++)
    {
      const char *f = files->pdata[i];
      gboolean is_output = FALSE;
      for (guint j = 0; output_suffixes[j] != NULL; j++)
        is_output |= g_str_has_suffix (f, output_suffixes[j]);
      if (!is_output && g_str_has_suffix (f, ".xml"))
        g_ptr_array_add (cases, g_strndup (f, strlen (f) - 4));
    }
  g_ptr_array_sort (cases, lodge_compare_strings);

  for (guint i = 0; i < files->len; i++)
    {
      const char *f = files->pdata[i];
      gboolean used = FALSE;
      for (guint c = 0; c < cases->len && !used; c++)
        {
          g_autofree char *input = g_strconcat (cases->pdata[c], ".xml", NULL);
          used = strcmp (f, input) == 0;
          for (guint j = 0; output_suffixes[j] != NULL && !used; j++)
            {
              g_autofree char *out = g_strconcat (cases->pdata[c], output_suffixes[j], NULL);
              used = strcmp (f, out) == 0;
            }
        }
      if (!used)
        g_test_fail_printf ("%s/%s belongs to no test case (an unused golden file)", dir, f);
    }
  return cases;
}

void
lodge_golden_assert (const char *path, const char *actual)
{
  if (lodge_golden_regenerating ())
    {
      g_autoptr (GError) error = NULL;
      g_file_set_contents (path, actual, -1, &error);
      g_assert_no_error (error);
      return;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s is missing; run with LODGE_REGENERATE=1 to create it, then "
                          "review it",
                          path);
      return;
    }
  g_autofree char *expected = lodge_golden_read (path);
  if (strcmp (expected, actual) != 0)
    {
      g_printerr ("--- %s (expected)\n%s\n+++ actual\n%s\n", path, expected, actual);
      g_test_fail_printf ("%s differs from the actual output", path);
    }
}

void
lodge_golden_add_tests (const char *module, const char *subdir,
                        const char *const *output_suffixes, GTestDataFunc func)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", subdir, NULL);
  g_autoptr (GPtrArray) cases = lodge_golden_cases (dir, output_suffixes);
  for (guint i = 0; i < cases->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/%s/golden/%s", module, (char *) cases->pdata[i]);
      g_test_add_data_func_full (path, g_strdup (cases->pdata[i]), func, g_free);
    }
}

void
lodge_golden_round_trip (const char *subdir, const char *name, GQuark error_domain,
                         LodgeGoldenParse parse, LodgeGoldenFormat format, GDestroyNotify free_doc)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", subdir, NULL);
  g_autofree char *input_name = g_strconcat (name, ".xml", NULL);
  g_autofree char *input_path = g_build_filename (dir, input_name, NULL);
  g_autofree char *out_path = g_strconcat (dir, "/", name, ".out.xml", NULL);
  g_autofree char *err_path = g_strconcat (dir, "/", name, ".err", NULL);
  g_autofree char *input = lodge_golden_read (input_path);

  g_autoptr (GError) error = NULL;
  gpointer doc = parse (input, strlen (input), input_name, &error);
  if (doc == NULL)
    {
      g_assert_true (error->domain == error_domain);
      g_autofree char *actual = g_strconcat (error->message, "\n", NULL);
      if (!g_file_test (err_path, G_FILE_TEST_EXISTS) && !lodge_golden_regenerating ())
        g_test_fail_printf ("%s: unexpected error: %s", input_name, error->message);
      else
        lodge_golden_assert (err_path, actual);
      return;
    }
  g_autofree char *formatted = format (doc);
  free_doc (doc);
  if (g_file_test (err_path, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("%s was accepted, but %s.err expects an error", input_name, name);
      return;
    }
  if (g_file_test (out_path, G_FILE_TEST_EXISTS) || lodge_golden_regenerating ())
    {
      if (strcmp (formatted, input) != 0)
        lodge_golden_assert (out_path, formatted);
      else if (lodge_golden_regenerating ())
        g_unlink (out_path);
      else
        g_test_fail_printf ("%s.out.xml is not needed: the input is canonical", name);
    }
  else
    g_assert_cmpstr (formatted, ==, input);

  /* The canonical form is a fixed point. */
  gpointer again = parse (formatted, strlen (formatted), "formatted", &error);
  g_assert_no_error (error);
  g_autofree char *formatted_again = format (again);
  free_doc (again);
  g_assert_cmpstr (formatted_again, ==, formatted);
}
