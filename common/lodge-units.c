#include "lodge-units.h"

#include <string.h>

#include "lodge-error.h"

static gboolean
unit_multiplier (const char *unit, guint64 *ret)
{
  if (g_ascii_strcasecmp (unit, "b") == 0 || g_ascii_strcasecmp (unit, "byte") == 0
      || g_ascii_strcasecmp (unit, "bytes") == 0)
    {
      *ret = 1;
      return TRUE;
    }

  static const char prefixes[] = "kmgtpe";
  const char *p = strchr (prefixes, g_ascii_tolower (unit[0]));
  if (unit[0] == '\0' || p == NULL)
    return FALSE;
  guint power = (p - prefixes) + 1;
  const char *rest = unit + 1;

  guint64 base;
  if (*rest == '\0' || g_ascii_strcasecmp (rest, "ib") == 0)
    base = 1024;
  else if (g_ascii_strcasecmp (rest, "b") == 0)
    base = 1000;
  else
    return FALSE;

  guint64 m = 1;
  for (guint i = 0; i < power; i++)
    m *= base;
  *ret = m;
  return TRUE;
}

gboolean
lodge_units_scale (const char *value, const char *unit, const char *default_unit,
                   guint64 *ret_bytes, GError **error)
{
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (default_unit != NULL, FALSE);

  const char *u = unit != NULL ? unit : default_unit;
  guint64 multiplier;
  if (!unit_multiplier (u, &multiplier))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "unknown unit '%s' (use bytes, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)", u);
      return FALSE;
    }

  guint64 n;
  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &n, NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "'%s' is not a whole number of %s that fits in 64 bits", value, u);
      return FALSE;
    }
  if (n != 0 && multiplier > G_MAXUINT64 / n)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s %s does not fit in 64 bits of bytes", value, u);
      return FALSE;
    }
  *ret_bytes = n * multiplier;
  return TRUE;
}

guint64
lodge_units_canonical (guint64 bytes, const char **ret_unit)
{
  static const char *const names[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  guint i = 0;
  while (i + 1 < G_N_ELEMENTS (names) && bytes != 0 && bytes % 1024 == 0)
    {
      bytes /= 1024;
      i++;
    }
  if (bytes == 0)
    i = 0;
  *ret_unit = names[i];
  return bytes;
}

char *
lodge_units_format (guint64 bytes)
{
  const char *unit;
  guint64 value = lodge_units_canonical (bytes, &unit);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", value, unit);
}

char *
lodge_units_format_approx (guint64 bytes)
{
  static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
  double value = bytes / 1024.0;
  guint i = 0;
  while (value >= 1024.0 && i + 1 < G_N_ELEMENTS (names))
    {
      value /= 1024.0;
      i++;
    }
  if (value == (guint64) value)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", (guint64) value, names[i]);
  return g_strdup_printf ("%.1f %s", value, names[i]);
}
