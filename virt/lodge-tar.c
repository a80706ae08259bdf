/* Tar format pieces shared by the writer (lodge-tar-write.c) and the
 * reader (lodge-tar-read.c). */
#include "lodge-tar-private.h"

#include <string.h>

LODGE_ENUM_IMPL (lodge_tar_compression, LODGE_TAR_COMPRESSION_LAST, "none", "gzip");
LODGE_ENUM_IMPL (lodge_tar_entry_type, LODGE_TAR_ENTRY_LAST, "file", "hardlink", "symlink",
                 "directory", "fifo");

void
lodge_tar_header_sums (const LodgeTarHeader *h, guint32 *ret_unsigned, gint32 *ret_signed)
{
  const guint8 *p = (const guint8 *) h;
  gsize chksum = G_STRUCT_OFFSET (LodgeTarHeader, chksum);
  guint32 u = 0;
  gint32 s = 0;
  for (gsize i = 0; i < LODGE_TAR_BLOCK; i++)
    {
      if (i >= chksum && i < chksum + sizeof h->chksum)
        {
          u += ' ';
          s += ' ';
        }
      else
        {
          u += p[i];
          s += (gint8) p[i];
        }
    }
  *ret_unsigned = u;
  *ret_signed = s;
}

/* @width - 1 octal digits and a NUL. */
static gboolean
octal_fits (guint64 value, gsize width)
{
  return value < (G_GUINT64_CONSTANT (1) << (3 * (width - 1)));
}

static void
put_octal (char *field, gsize width, guint64 value)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%0*" G_GINT64_MODIFIER "o", (int) (width - 1), value);
  memcpy (field, buf, width);
}

void
lodge_tar_pax_append (GString *pax, const char *key, const char *value, gsize value_len)
{
  /* The length counts its own digits. */
  gsize base = strlen (key) + value_len + 3; /* ' ', '=', '\n' */
  char digits[24];
  gsize len = base + g_snprintf (digits, sizeof digits, "%" G_GSIZE_FORMAT, base);
  len = base + g_snprintf (digits, sizeof digits, "%" G_GSIZE_FORMAT, len);
  g_string_append_printf (pax, "%" G_GSIZE_FORMAT " %s=", len, key);
  g_string_append_len (pax, value, value_len);
  g_string_append_c (pax, '\n');
}

static void
pax_append_str (GString *pax, const char *key, const char *value)
{
  lodge_tar_pax_append (pax, key, value, strlen (value));
}

static void
pax_append_number (GString *pax, const char *key, guint64 value)
{
  char buf[24];
  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, value);
  pax_append_str (pax, key, buf);
}

static void
pax_append_mtime (GString *pax, gint64 sec, guint32 nsec)
{
  char buf[48];
  if (nsec == 0)
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, sec);
  else if (sec >= 0)
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT ".%09u", sec, nsec);
  else /* {-2 s, 0.5 s} is -1.5 s */
    g_snprintf (buf, sizeof buf, "-%" G_GINT64_FORMAT ".%09u", -(sec + 1), 1000000000 - nsec);
  if (nsec != 0)
    {
      gsize n = strlen (buf);
      while (buf[n - 1] == '0')
        buf[--n] = '\0';
    }
  pax_append_str (pax, "mtime", buf);
}

static void
put_name (char *field, gsize width, const char *name, const char *key, GString *pax)
{
  gsize len = strlen (name);
  if (len < width)
    {
      memcpy (field, name, len);
      return;
    }
  pax_append_str (pax, key, name);
  memcpy (field, name, width - 1); /* shown by readers without pax */
}

void
lodge_tar_header_format (LodgeTarHeader *h, char typeflag, const char *name, const char *link,
                         guint32 mode, guint64 uid, guint64 gid, guint64 size, gint64 mtime,
                         guint32 mtime_nsec, GString *pax)
{
  memset (h, 0, sizeof *h);
  put_name (h->name, sizeof h->name, name, "path", pax);
  if (link != NULL)
    put_name (h->linkname, sizeof h->linkname, link, "linkpath", pax);
  put_octal (h->mode, sizeof h->mode, mode & 07777);

  if (!octal_fits (uid, sizeof h->uid))
    pax_append_number (pax, "uid", uid);
  put_octal (h->uid, sizeof h->uid, octal_fits (uid, sizeof h->uid) ? uid : 0);
  if (!octal_fits (gid, sizeof h->gid))
    pax_append_number (pax, "gid", gid);
  put_octal (h->gid, sizeof h->gid, octal_fits (gid, sizeof h->gid) ? gid : 0);
  if (!octal_fits (size, sizeof h->size))
    pax_append_number (pax, "size", size);
  put_octal (h->size, sizeof h->size, octal_fits (size, sizeof h->size) ? size : 0);

  gboolean mtime_fits = mtime >= 0 && octal_fits (mtime, sizeof h->mtime);
  if (!mtime_fits || mtime_nsec != 0)
    pax_append_mtime (pax, mtime, mtime_nsec);
  put_octal (h->mtime, sizeof h->mtime, mtime_fits ? (guint64) mtime : 0);

  h->typeflag = typeflag;
  memcpy (h->magic, "ustar", 6);
  memcpy (h->version, "00", 2);
  put_octal (h->devmajor, sizeof h->devmajor, 0);
  put_octal (h->devminor, sizeof h->devminor, 0);

  guint32 sum;
  gint32 ssum;
  lodge_tar_header_sums (h, &sum, &ssum);
  char buf[16];
  g_snprintf (buf, sizeof buf, "%06o", sum);
  memcpy (h->chksum, buf, 7); /* six digits, NUL */
  h->chksum[7] = ' ';
}

char *
lodge_tar_xattr_encode (const char *name)
{
  GString *out = g_string_new (NULL);
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '%')
        g_string_append (out, "%25");
      else if (*p == '=')
        g_string_append (out, "%3D");
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
lodge_tar_xattr_decode (const char *keyword)
{
  GString *out = g_string_new (NULL);
  for (const char *p = keyword; *p != '\0'; p++)
    {
      if (g_str_has_prefix (p, "%3D"))
        {
          g_string_append_c (out, '=');
          p += 2;
        }
      else if (g_str_has_prefix (p, "%25"))
        {
          g_string_append_c (out, '%');
          p += 2;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* A numeric header field: octal (leading spaces, then digits, then spaces
 * or NULs), or GNU base-256 (high bit set; 0x40 is the sign). */
LodgeTarNumber
lodge_tar_parse_field (const char *field, gsize width, gint64 *ret)
{
  const guint8 *f = (const guint8 *) field;
  if (f[0] & 0x80)
    {
      guint8 flip = (f[0] & 0x40) ? 0xff : 0;
      guint64 v = (f[0] ^ flip) & 0x3f;
      for (gsize i = 1; i < width; i++)
        {
          if (v > (guint64) (G_MAXINT64 >> 8))
            return LODGE_TAR_NUMBER_OVERFLOW;
          v = (v << 8) | (guint8) (f[i] ^ flip);
        }
      *ret = flip ? -(gint64) v - 1 : (gint64) v;
      return LODGE_TAR_NUMBER_OK;
    }
  gsize i = 0;
  while (i < width && f[i] == ' ')
    i++;
  gsize start = i;
  guint64 v = 0;
  for (; i < width && f[i] >= '0' && f[i] <= '7'; i++)
    v = v * 8 + (f[i] - '0'); /* at most 12 digits: no overflow */
  if (i == start)
    return LODGE_TAR_NUMBER_MALFORMED;
  for (; i < width; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return LODGE_TAR_NUMBER_MALFORMED;
  *ret = v;
  return LODGE_TAR_NUMBER_OK;
}

LodgeTarNumber
lodge_tar_parse_decimal (const char *s, gsize len, guint64 *ret)
{
  guint64 v = 0;
  if (len == 0)
    return LODGE_TAR_NUMBER_MALFORMED;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return LODGE_TAR_NUMBER_MALFORMED;
      guint d = s[i] - '0';
      if (v > (G_MAXUINT64 - d) / 10)
        return LODGE_TAR_NUMBER_OVERFLOW;
      v = v * 10 + d;
    }
  *ret = v;
  return LODGE_TAR_NUMBER_OK;
}

/* pax mtime: [-]seconds[.fraction] */
gboolean
lodge_tar_parse_mtime (const char *s, gsize len, gint64 *ret_sec, guint32 *ret_nsec)
{
  gboolean negative = len > 0 && s[0] == '-';
  const char *p = s + negative, *end = s + len;
  const char *dot = memchr (p, '.', end - p);
  guint64 sec = 0;
  if (lodge_tar_parse_decimal (p, (dot != NULL ? dot : end) - p, &sec) != LODGE_TAR_NUMBER_OK
      || sec > G_MAXINT64 - 1)
    return FALSE;
  guint32 nsec = 0;
  if (dot != NULL)
    {
      /* Digits past nanoseconds are dropped, as GNU tar does. */
      const char *f = dot + 1;
      gsize digits = end - f;
      if (digits == 0)
        return FALSE;
      for (gsize i = 0; i < digits; i++)
        {
          if (!g_ascii_isdigit (f[i]))
            return FALSE;
          if (i < 9)
            nsec = nsec * 10 + (f[i] - '0');
        }
      for (gsize i = digits; i < 9; i++)
        nsec *= 10;
    }
  if (negative && nsec > 0)
    {
      *ret_sec = -(gint64) sec - 1;
      *ret_nsec = 1000000000 - nsec;
    }
  else
    {
      *ret_sec = negative ? -(gint64) sec : (gint64) sec;
      *ret_nsec = nsec;
    }
  return TRUE;
}

/* A NUL-padded string (header field or GNU long name): FALSE when bytes
 * follow the first NUL, a name that means different things to different
 * readers. *@ret_shown_len covers them, for messages. */
gboolean
lodge_tar_padded_string (const char *f, gsize width, char **ret, gsize *ret_shown_len)
{
  gsize len = strnlen (f, width), shown = width;
  while (shown > len && f[shown - 1] == '\0')
    shown--;
  *ret = g_strndup (f, len);
  *ret_shown_len = shown;
  return shown == len;
}

gboolean
lodge_tar_header_checksum_ok (const LodgeTarHeader *h)
{
  gint64 recorded = 0;
  if (lodge_tar_parse_field (h->chksum, sizeof h->chksum, &recorded) != LODGE_TAR_NUMBER_OK)
    return FALSE;
  guint32 sum;
  gint32 ssum;
  lodge_tar_header_sums (h, &sum, &ssum);
  return recorded == sum || recorded == ssum;
}

char *
lodge_tar_quote (const char *name, gsize len)
{
  GString *out = g_string_new (NULL);
  const char *p = name, *end = name + len;
  for (guint n = 0; p < end && n < 200; n++)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x20 || (c >= 0x7f && c < 0xa0))
        {
          g_string_append_printf (out, "\\x%02x", (guint8) *p);
          p++;
        }
      else
        {
          const char *next = g_utf8_next_char (p);
          g_string_append_len (out, p, next - p);
          p = next;
        }
    }
  if (p < end)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

void
lodge_tar_entry_free (LodgeTarEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->name);
  g_free (entry->link);
  g_clear_pointer (&entry->xattrs, g_hash_table_unref);
  g_free (entry->sha256);
  g_free (entry);
}
