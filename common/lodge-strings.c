#include "lodge-strings.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

int
lodge_compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* What lodge_terminal_safe and lodge_line_safe share: with @lines, line
 * ends and tabs are kept; without, they are escaped too (one log line). */
static char *
escape (const char *data, gsize len, gboolean lines)
{
  GString *out = g_string_sized_new (len + 16);
  const char *p = data, *end = data + len;
  while (p < end)
    {
      guchar c = (guchar) *p;
      if (lines && c == '\r' && p + 1 < end && p[1] == '\n')
        {
          p++; /* the serial console's line end: "\r\n" is "\n" */
          continue;
        }
      if ((lines && (c == '\n' || c == '\t')) || (c >= 0x20 && c < 0x7f))
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

char *
lodge_terminal_safe (const char *data, gsize len)
{
  return escape (data, len, TRUE);
}

char *
lodge_line_safe (const char *text)
{
  return escape (text != NULL ? text : "(null)", text != NULL ? strlen (text) : 6, FALSE);
}

/* How many bytes at the end of @data (@len) may be the start of something
 * the next piece ends: a '\r' (of "\r\n"), or a UTF-8 character cut short. */
static gsize
unfinished_tail (const char *data, gsize len)
{
  if (len > 0 && data[len - 1] == '\r')
    return 1;
  for (gsize n = 1; n <= 3 && n <= len; n++)
    {
      guchar c = (guchar) data[len - n];
      if ((c & 0xc0) == 0x80)
        continue; /* a continuation byte: its lead byte is further back */
      if (c >= 0xc0 && g_utf8_get_char_validated (data + len - n, (gssize) n) == (gunichar) -2)
        return n;
      return 0;
    }
  return 0;
}

char *
lodge_terminal_stream_feed (LodgeTerminalStream *ts, const char *data, gsize len)
{
  g_autoptr (GString) all = g_string_sized_new (ts->n_held + len);
  g_string_append_len (all, ts->held, ts->n_held);
  g_string_append_len (all, data, len);
  gsize keep = unfinished_tail (all->str, all->len);
  memcpy (ts->held, all->str + all->len - keep, keep);
  ts->n_held = keep;
  return escape (all->str, all->len - keep, TRUE);
}

char *
lodge_terminal_stream_end (LodgeTerminalStream *ts)
{
  char *rest = escape (ts->held, ts->n_held, TRUE);
  ts->n_held = 0;
  return rest;
}

gboolean
lodge_terminal_escapes (gboolean raw, int fd)
{
  return !raw && isatty (fd);
}

gboolean
lodge_file_replace (const char *path, const char *contents, int mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error))
    return FALSE;
  if (g_chmod (path, mode) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
lodge_file_set_group (const char *path, const char *group, GError **error)
{
  struct group *g = getgrnam (group);
  if (g == NULL)
    return TRUE;
  if (chown (path, (uid_t) -1, g->gr_gid) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: group %s: %s", path, group,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}
