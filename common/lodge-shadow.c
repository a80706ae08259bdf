/* No GLib here: lodge-init compiles this file as well (lodge-shadow.h). */
#include "lodge-shadow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__ ((format (printf, 3, 4))) static LodgeShadowStatus
refuse (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
  return LODGE_SHADOW_REFUSED;
}

long
lodge_shadow_today (void)
{
  return (long) (time (NULL) / 86400);
}

static void
put (char *out, size_t *o, const char *s, size_t n)
{
  memcpy (out + *o, s, n);
  *o += n;
}

LodgeShadowStatus
lodge_shadow_set_hash (const char *text, size_t len, const char *user, const char *hash,
                       int add_missing, long today, char **ret_text, size_t *ret_len, char *err,
                       size_t err_len)
{
  *ret_text = NULL;
  *ret_len = 0;
  if (len > LODGE_SHADOW_MAX_BYTES)
    return refuse (err, err_len, "%zu bytes, more than a shadow file holds (at most %d)", len,
                   LODGE_SHADOW_MAX_BYTES);
  if (memchr (text, '\0', len) != NULL)
    return refuse (err, err_len, "a NUL byte: not a shadow file");
  if (user[0] == '\0' || strpbrk (user, ":\n") != NULL)
    return refuse (err, err_len, "user name '%.64s' is empty or holds ':' or a line break",
                   user);
  if (strpbrk (hash, ":\n") != NULL)
    return refuse (err, err_len, "a password hash holds no ':' and no line break");

  size_t ulen = strlen (user);
  const char *end = text + len;
  const char *found = NULL, *found_end = NULL;
  int lineno = 0;
  for (const char *l = text; l < end;)
    {
      const char *nl = memchr (l, '\n', (size_t) (end - l));
      const char *le = nl != NULL ? nl : end;
      size_t ll = (size_t) (le - l);
      lineno++;
      if (ll > 0 && (l[0] == ':' || memchr (l, ':', ll) == NULL))
        return refuse (err, err_len, "line %d is not NAME:FIELDS: not a shadow file", lineno);
      if (found == NULL && ll > ulen && memcmp (l, user, ulen) == 0 && l[ulen] == ':')
        {
          found = l;
          found_end = le;
        }
      l = nl != NULL ? nl + 1 : end;
    }
  if (found == NULL && !add_missing)
    return LODGE_SHADOW_NO_ENTRY;

  char fields[64];
  size_t flen = (size_t) snprintf (fields, sizeof fields, ":%ld:0:99999:7:::", today);
  size_t hlen = strlen (hash);
  /* The text, one line's user, hash and fields, and two line breaks. */
  char *out = malloc (len + ulen + 1 + hlen + flen + 3);
  if (out == NULL)
    {
      snprintf (err, err_len, "out of memory");
      return LODGE_SHADOW_NO_MEMORY;
    }
  size_t o = 0;
  if (found == NULL)
    {
      put (out, &o, user, ulen);
      put (out, &o, ":", 1);
      put (out, &o, hash, hlen);
      put (out, &o, fields, flen);
      put (out, &o, "\n", 1);
      put (out, &o, text, len);
    }
  else
    {
      /* user:OLD:rest -> user:NEW:rest */
      const char *rest = memchr (found + ulen + 1, ':', (size_t) (found_end - found - ulen - 1));
      put (out, &o, text, (size_t) (found - text) + ulen + 1);
      put (out, &o, hash, hlen);
      if (rest != NULL)
        put (out, &o, rest, (size_t) (found_end - rest));
      else
        put (out, &o, fields, flen);
      put (out, &o, found_end, (size_t) (end - found_end));
    }
  if (o > 0 && out[o - 1] != '\n')
    put (out, &o, "\n", 1);
  out[o] = '\0';
  *ret_text = out;
  *ret_len = o;
  return LODGE_SHADOW_OK;
}
