#include "lodge-strings.h"

int
lodge_compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

char *
lodge_terminal_safe (const char *data, gsize len)
{
  GString *out = g_string_sized_new (len + 16);
  const char *p = data, *end = data + len;
  while (p < end)
    {
      guchar c = (guchar) *p;
      if (c == '\r' && p + 1 < end && p[1] == '\n')
        {
          p++; /* the serial console's line end: "\r\n" is "\n" */
          continue;
        }
      if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
        {
          g_string_append_c (out, (char) c);
          p++;
          continue;
        }
      if (c >= 0x80)
        {
          gunichar u = g_utf8_get_char_validated (p, end - p);
          /* Valid, and not a C1 control (U+0080..U+009F: CSI among them). */
          if (u != (gunichar) -1 && u != (gunichar) -2 && u > 0x9f)
            {
              const char *next = g_utf8_next_char (p);
              g_string_append_len (out, p, next - p);
              p = next;
              continue;
            }
          if (u != (gunichar) -1 && u != (gunichar) -2)
            {
              g_string_append_printf (out, "\\u%04x", u);
              p = g_utf8_next_char (p);
              continue;
            }
        }
      g_string_append_printf (out, "\\x%02x", c);
      p++;
    }
  return g_string_free (out, FALSE);
}
