#include "buf.h"

#include <stdlib.h>
#include <string.h>

static int
reserve (struct lodge_buf *b, size_t more)
{
  if (b->failed)
    return -1;
  if (b->len + more + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *d = realloc (b->data, cap);
  if (d == NULL)
    {
      b->failed = 1;
      return -1;
    }
  b->data = d;
  b->cap = cap;
  return 0;
}

void
lodge_buf_add (struct lodge_buf *b, const void *data, size_t len)
{
  if (reserve (b, len) < 0)
    return;
  memcpy (b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
lodge_buf_consume (struct lodge_buf *b, size_t n)
{
  if (n >= b->len)
    {
      b->len = 0;
      return;
    }
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
}

void
lodge_buf_clear (struct lodge_buf *b)
{
  free (b->data);
  *b = (struct lodge_buf) { 0 };
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
lodge_base64_encode (const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = malloc ((len + 2) / 3 * 4 + 1);
  if (out == NULL)
    return NULL;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= len; i += 3)
    {
      unsigned v = (unsigned) p[i] << 16 | (unsigned) p[i + 1] << 8 | p[i + 2];
      *o++ = b64_chars[v >> 18];
      *o++ = b64_chars[(v >> 12) & 63];
      *o++ = b64_chars[(v >> 6) & 63];
      *o++ = b64_chars[v & 63];
    }
  if (i < len)
    {
      unsigned v = (unsigned) p[i] << 16 | (i + 1 < len ? (unsigned) p[i + 1] << 8 : 0);
      *o++ = b64_chars[v >> 18];
      *o++ = b64_chars[(v >> 12) & 63];
      *o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
      *o++ = '=';
    }
  *o = '\0';
  return out;
}

static int
b64_value (char c)
{
  const char *p = c != '\0' ? strchr (b64_chars, c) : NULL;
  return p != NULL ? (int) (p - b64_chars) : -1;
}

unsigned char *
lodge_base64_decode (const char *s, size_t len, size_t *ret_len)
{
  while (len > 0 && s[len - 1] == '=')
    len--;
  if (len % 4 == 1)
    return NULL;
  unsigned char *out = malloc (len / 4 * 3 + 3);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++)
    {
      int v = b64_value (s[i]);
      if (v < 0)
        {
          free (out);
          return NULL;
        }
      acc = (acc << 6) | (unsigned) v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (unsigned char) (acc >> bits);
          acc &= (1u << bits) - 1;
        }
    }
  out[o] = '\0';
  *ret_len = o;
  return out;
}
