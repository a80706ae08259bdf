#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What jansson would build, counted outside strings before it runs: its
 * own depth limit is 2048 and it has no limit on the number of values.
 * Numbers with a fraction or an exponent are refused too: nothing in the
 * protocol has one, and the agent never took them. */
static const char *
shape_problem (const char *buf, size_t len)
{
  size_t values = 1;
  int depth = 0, in_string = 0, escaped = 0;
  for (size_t i = 0; i < len; i++)
    {
      char c = buf[i];
      if (in_string)
        {
          if (escaped)
            escaped = 0;
          else if (c == '\\')
            escaped = 1;
          else if (c == '"')
            in_string = 0;
          continue;
        }
      if (c == '"')
        in_string = 1;
      else if (c == '[' || c == '{')
        {
          if (++depth > LODGE_JSON_MAX_DEPTH)
            return "nested too deeply";
          values++;
        }
      else if (c == ']' || c == '}')
        depth--;
      else if (c == ',')
        values++;
      else if ((c == '.' || c == 'e' || c == 'E') && i > 0 && buf[i - 1] >= '0'
               && buf[i - 1] <= '9')
        return "only integer numbers are supported";
      if (values > LODGE_JSON_MAX_VALUES)
        return "too many values";
    }
  return NULL;
}

json_t *
lodge_json_load (const char *buf, size_t len, char *err, size_t err_len)
{
  if (len > LODGE_JSON_MAX_BYTES)
    {
      snprintf (err, err_len, "%zu bytes, over the limit of %d", len, LODGE_JSON_MAX_BYTES);
      return NULL;
    }
  const char *problem = shape_problem (buf, len);
  if (problem != NULL)
    {
      snprintf (err, err_len, "%s", problem);
      return NULL;
    }
  json_error_t e;
  json_t *v = json_loadb (buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
  if (v == NULL)
    {
      /* jansson's words, with what they mean where they do not say it. */
      const char *what = "";
      if (json_error_code (&e) == json_error_numeric_overflow)
        what = "number out of range: ";
      else if (strncmp (e.text, "invalid Unicode '", 17) == 0)
        what = "lone surrogate in a \\u escape: ";
      snprintf (err, err_len, "%s%s", what, e.text);
    }
  return v;
}

/* The length of the UTF-8 sequence at @s (@len bytes left), or 0 when it
 * is none: what jansson accepts (no overlong forms, no surrogates, nothing
 * past U+10FFFF). */
static size_t
utf8_sequence (const unsigned char *s, size_t len)
{
  unsigned c = s[0], cp, min;
  size_t n;
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (len < n)
    return 0;
  for (size_t i = 1; i < n; i++)
    {
      if ((s[i] & 0xC0) != 0x80)
        return 0;
      cp = cp << 6 | (s[i] & 0x3F);
    }
  return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : n;
}

json_t *
lodge_json_text (const char *s, size_t len)
{
  json_t *v = json_stringn (s, len);
  if (v != NULL || len > SIZE_MAX / 3)
    return v;
  /* Not UTF-8 (a host name, an os-release value, a cut message). */
  char *fixed = malloc (len * 3);
  if (fixed == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len;)
    {
      size_t n = utf8_sequence ((const unsigned char *) s + i, len - i);
      if (n == 0)
        {
          memcpy (fixed + o, "\xef\xbf\xbd", 3);
          o += 3;
          i++;
          continue;
        }
      memcpy (fixed + o, s + i, n);
      o += n;
      i += n;
    }
  v = json_stringn (fixed, o);
  free (fixed);
  return v;
}

json_t *
lodge_json_str (const char *s)
{
  return lodge_json_text (s, strlen (s));
}

json_t *
lodge_json_base64 (const void *data, size_t len)
{
  char *b64 = lodge_base64_encode (len > 0 ? data : "", len);
  if (b64 == NULL)
    return NULL;
  json_t *v = json_stringn_nocheck (b64, (len + 2) / 3 * 4);
  free (b64);
  return v;
}

static int
add_to_buf (const char *data, size_t size, void *b)
{
  lodge_buf_add (b, data, size);
  return ((struct lodge_buf *) b)->failed ? -1 : 0;
}

int
lodge_json_dump (struct lodge_buf *b, const json_t *v)
{
  if (json_dump_callback (v, add_to_buf, b, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
    {
      b->failed = 1;
      return -1;
    }
  return 0;
}
