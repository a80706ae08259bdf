/* Scaled sizes with libvirt's units. */
#include "lodge-error.h"
#include "lodge-units.h"

static void
test_scale (void)
{
  const struct {
    const char *value, *unit;
    guint64 bytes;
  } cases[] = {
    { "1", "b", 1 },           { "1", "bytes", 1 },        { "2", "K", 2048 },
    { "2", "k", 2048 },        { "2", "KiB", 2048 },       { "2", "KB", 2000 },
    { "3", "M", 3ULL << 20 },  { "3", "MiB", 3ULL << 20 }, { "3", "MB", 3000000 },
    { "4", "GiB", 4ULL << 30 }, { "4", "G", 4ULL << 30 },  { "5", "TiB", 5ULL << 40 },
    { "1", "PiB", 1ULL << 50 }, { "15", "EiB", 15ULL << 60 },
    { "0", "GiB", 0 },         { "512", NULL, 512ULL << 10 }, /* default unit: KiB */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 bytes = 0;
      g_assert_true (lodge_units_scale (cases[i].value, cases[i].unit, "KiB", &bytes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, cases[i].bytes);
    }
}

static void
test_scale_errors (void)
{
  const struct {
    const char *value, *unit, *message;
  } cases[] = {
    { "1", "furlong", "unknown unit 'furlong' (use bytes, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)" },
    { "1", "", "unknown unit '' (use bytes, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)" },
    { "1", "Kib2", "unknown unit 'Kib2' (use bytes, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)" },
    { "16", "EiB", "16 EiB does not fit in 64 bits of bytes" },
    { "18446744073709551616", "b",
      "'18446744073709551616' is not a whole number of b that fits in 64 bits" },
    { "-1", "MiB", "'-1' is not a whole number of MiB that fits in 64 bits" },
    { "1.5", "GiB", "'1.5' is not a whole number of GiB that fits in 64 bits" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 bytes = 42;
      g_assert_false (lodge_units_scale (cases[i].value, cases[i].unit, "KiB", &bytes, &error));
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_cmpuint (bytes, ==, 42); /* untouched on failure */
    }
}

static void
test_canonical (void)
{
  const struct {
    guint64 bytes, value;
    const char *unit;
  } cases[] = {
    { 0, 0, "bytes" },          { 1, 1, "bytes" },           { 1536, 1536, "bytes" },
    { 2048, 2, "KiB" },         { 3ULL << 20, 3, "MiB" },    { 1536ULL << 20, 1536, "MiB" },
    { 4ULL << 30, 4, "GiB" },   { 5ULL << 40, 5, "TiB" },    { 1ULL << 50, 1024, "TiB" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *unit = NULL;
      g_assert_cmpuint (lodge_units_canonical (cases[i].bytes, &unit), ==, cases[i].value);
      g_assert_cmpstr (unit, ==, cases[i].unit);
    }
}

static void
test_format_approx (void)
{
  const struct {
    guint64 bytes;
    const char *text;
  } cases[] = {
    { 0, "0 bytes" },         { 700, "700 bytes" },         { 1024, "1 KiB" },
    { 1982262, "1.9 MiB" },   { 512ULL << 20, "512 MiB" },  { (3ULL << 30) / 2, "1.5 GiB" },
    { 5ULL << 40, "5 TiB" },  { G_MAXUINT64, "16 EiB" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = lodge_units_format_approx (cases[i].bytes);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/units/scale", test_scale);
  g_test_add_func ("/units/scale-errors", test_scale_errors);
  g_test_add_func ("/units/canonical", test_canonical);
  g_test_add_func ("/units/format-approx", test_format_approx);
  return g_test_run ();
}
