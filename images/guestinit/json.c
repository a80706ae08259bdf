#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parser ---- */

typedef struct {
  const char *p, *end;
  int values;
  char *err;
  size_t err_len;
} Parser;

static struct lodge_json *parse_value (Parser *ps, int depth);

static int
fail (Parser *ps, const char *what)
{
  if (ps->err[0] == '\0')
    snprintf (ps->err, ps->err_len, "%s", what);
  return -1;
}

static void
skip_ws (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int
hex4 (const char *p, const char *end)
{
  if (end - p < 4)
    return -1;
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      char c = p[i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

static size_t
put_utf8 (char *o, unsigned cp)
{
  if (cp < 0x80)
    {
      o[0] = (char) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      o[0] = (char) (0xC0 | (cp >> 6));
      o[1] = (char) (0x80 | (cp & 0x3F));
      return 2;
    }
  if (cp < 0x10000)
    {
      o[0] = (char) (0xE0 | (cp >> 12));
      o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
      o[2] = (char) (0x80 | (cp & 0x3F));
      return 3;
    }
  o[0] = (char) (0xF0 | (cp >> 18));
  o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char) (0x80 | (cp & 0x3F));
  return 4;
}

/* At the opening quote; returns a malloc'd string. The decoded form is
 * never longer than the literal, so one allocation of that size is enough. */
static char *
parse_string (Parser *ps, size_t *ret_len)
{
  const char *start = ++ps->p;
  const char *q = start;
  while (q < ps->end && *q != '"')
    q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
  if (q >= ps->end)
    {
      fail (ps, "unterminated string");
      return NULL;
    }
  char *out = malloc ((size_t) (q - start) + 1);
  if (out == NULL)
    {
      fail (ps, "out of memory");
      return NULL;
    }
  size_t o = 0;
  const char *p = start;
  while (p < q)
    {
      unsigned char c = (unsigned char) *p;
      if (c < 0x20)
        {
          fail (ps, "control character in a string");
          goto error;
        }
      if (c != '\\')
        {
          out[o++] = (char) c;
          p++;
          continue;
        }
      p++;
      switch (*p++)
        {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u':
          {
            int cp = hex4 (p, q);
            if (cp < 0)
              {
                fail (ps, "bad \\u escape");
                goto error;
              }
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF)
              {
                int lo = q - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4 (p + 2, q) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                  {
                    fail (ps, "lone surrogate in a \\u escape");
                    goto error;
                  }
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              }
            else if (cp >= 0xDC00 && cp <= 0xDFFF)
              {
                fail (ps, "lone surrogate in a \\u escape");
                goto error;
              }
            else if (cp == 0)
              {
                fail (ps, "\\u0000 is not supported");
                goto error;
              }
            o += put_utf8 (out + o, (unsigned) cp);
            break;
          }
        default:
          fail (ps, "bad escape in a string");
          goto error;
        }
    }
  out[o] = '\0';
  ps->p = q + 1;
  *ret_len = o;
  return out;

error:
  free (out);
  return NULL;
}

static int
parse_int (Parser *ps, int64_t *ret)
{
  int neg = 0;
  if (ps->p < ps->end && *ps->p == '-')
    {
      neg = 1;
      ps->p++;
    }
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
    return fail (ps, "bad number");
  uint64_t v = 0;
  uint64_t limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
    {
      unsigned d = (unsigned) (*ps->p++ - '0');
      if (v > (limit - d) / 10)
        return fail (ps, "number out of range");
      v = v * 10 + d;
    }
  if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
    return fail (ps, "only integer numbers are supported");
  *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
  return 0;
}

static int
add_member (Parser *ps, struct lodge_json *v, char *key, struct lodge_json *item, size_t *cap)
{
  if (v->len == *cap)
    {
      size_t ncap = *cap ? *cap * 2 : 4;
      struct lodge_json **items = realloc (v->items, ncap * sizeof *items);
      if (items != NULL)
        v->items = items;
      char **keys = v->type == LODGE_JSON_OBJECT && items != NULL
                      ? realloc (v->keys, ncap * sizeof *keys)
                      : v->keys;
      if (items == NULL || (v->type == LODGE_JSON_OBJECT && keys == NULL))
        {
          free (key);
          lodge_json_free (item);
          return fail (ps, "out of memory");
        }
      v->keys = keys;
      *cap = ncap;
    }
  if (v->type == LODGE_JSON_OBJECT)
    v->keys[v->len] = key;
  v->items[v->len++] = item;
  return 0;
}

static struct lodge_json *
parse_container (Parser *ps, struct lodge_json *v, int depth)
{
  char close = v->type == LODGE_JSON_OBJECT ? '}' : ']';
  size_t cap = 0;
  ps->p++;
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == close)
    {
      ps->p++;
      return v;
    }
  for (;;)
    {
      char *key = NULL;
      if (v->type == LODGE_JSON_OBJECT)
        {
          size_t klen;
          skip_ws (ps);
          if (ps->p >= ps->end || *ps->p != '"')
            {
              fail (ps, "expected a member name");
              break;
            }
          if ((key = parse_string (ps, &klen)) == NULL)
            break;
          skip_ws (ps);
          if (ps->p >= ps->end || *ps->p != ':')
            {
              free (key);
              fail (ps, "expected ':'");
              break;
            }
          ps->p++;
        }
      struct lodge_json *item = parse_value (ps, depth + 1);
      if (item == NULL)
        {
          free (key);
          break;
        }
      if (add_member (ps, v, key, item, &cap) < 0)
        break;
      skip_ws (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (ps->p < ps->end && *ps->p == close)
        {
          ps->p++;
          return v;
        }
      fail (ps, v->type == LODGE_JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
      break;
    }
  lodge_json_free (v);
  return NULL;
}

static int
literal (Parser *ps, const char *word)
{
  size_t n = strlen (word);
  if ((size_t) (ps->end - ps->p) < n || memcmp (ps->p, word, n) != 0)
    return 0;
  ps->p += n;
  return 1;
}

static struct lodge_json *
parse_value (Parser *ps, int depth)
{
  if (depth > LODGE_JSON_MAX_DEPTH)
    {
      fail (ps, "nested too deeply");
      return NULL;
    }
  if (++ps->values > LODGE_JSON_MAX_VALUES)
    {
      fail (ps, "too many values");
      return NULL;
    }
  skip_ws (ps);
  if (ps->p >= ps->end)
    {
      fail (ps, "unexpected end of input");
      return NULL;
    }
  struct lodge_json *v = calloc (1, sizeof *v);
  if (v == NULL)
    {
      fail (ps, "out of memory");
      return NULL;
    }
  char c = *ps->p;
  if (c == '{' || c == '[')
    {
      v->type = c == '{' ? LODGE_JSON_OBJECT : LODGE_JSON_ARRAY;
      return parse_container (ps, v, depth);
    }
  if (c == '"')
    {
      v->type = LODGE_JSON_STRING;
      if ((v->s = parse_string (ps, &v->len)) != NULL)
        return v;
    }
  else if (c == '-' || (c >= '0' && c <= '9'))
    {
      v->type = LODGE_JSON_INT;
      if (parse_int (ps, &v->i) == 0)
        return v;
    }
  else if (literal (ps, "true") || literal (ps, "false"))
    {
      v->type = LODGE_JSON_BOOL;
      v->i = c == 't';
      return v;
    }
  else if (literal (ps, "null"))
    return v;
  else
    fail (ps, "unexpected character");
  free (v);
  return NULL;
}

struct lodge_json *
lodge_json_parse (const char *buf, size_t len, char *err, size_t err_len)
{
  Parser ps = { buf, buf + len, 0, err, err_len };
  err[0] = '\0';
  struct lodge_json *v = parse_value (&ps, 1);
  if (v == NULL)
    return NULL;
  skip_ws (&ps);
  if (ps.p != ps.end)
    {
      fail (&ps, "text after the value");
      lodge_json_free (v);
      return NULL;
    }
  return v;
}

void
lodge_json_free (struct lodge_json *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->len && v->items != NULL; i++)
    {
      lodge_json_free (v->items[i]);
      if (v->keys != NULL)
        free (v->keys[i]);
    }
  free (v->items);
  free (v->keys);
  free (v->s);
  free (v);
}

const struct lodge_json *
lodge_json_get (const struct lodge_json *obj, const char *key)
{
  if (obj == NULL || obj->type != LODGE_JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < obj->len; i++)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

/* ---- writer ---- */

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
lodge_buf_puts (struct lodge_buf *b, const char *s)
{
  lodge_buf_add (b, s, strlen (s));
}

void
lodge_buf_printf (struct lodge_buf *b, const char *fmt, ...)
{
  char small[256];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (small, sizeof small, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t) n < sizeof small)
    {
      lodge_buf_add (b, small, (size_t) n);
      return;
    }
  if (reserve (b, (size_t) n) < 0)
    return;
  va_start (ap, fmt);
  vsnprintf (b->data + b->len, (size_t) n + 1, fmt, ap);
  va_end (ap);
  b->len += (size_t) n;
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

void
lodge_buf_json_string (struct lodge_buf *b, const char *s, size_t len)
{
  lodge_buf_add (b, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F)
        continue;
      lodge_buf_add (b, s + run, i - run);
      run = i + 1;
      if (c == '"' || c == '\\')
        lodge_buf_printf (b, "\\%c", c);
      else if (c == '\n')
        lodge_buf_puts (b, "\\n");
      else if (c == '\t')
        lodge_buf_puts (b, "\\t");
      else if (c == '\r')
        lodge_buf_puts (b, "\\r");
      else
        lodge_buf_printf (b, "\\u%04x", c);
    }
  lodge_buf_add (b, s + run, len - run);
  lodge_buf_add (b, "\"", 1);
}

void
lodge_buf_json_value (struct lodge_buf *b, const struct lodge_json *v)
{
  switch (v->type)
    {
    case LODGE_JSON_NULL: lodge_buf_puts (b, "null"); break;
    case LODGE_JSON_BOOL: lodge_buf_puts (b, v->i ? "true" : "false"); break;
    case LODGE_JSON_INT: lodge_buf_printf (b, "%lld", (long long) v->i); break;
    case LODGE_JSON_STRING: lodge_buf_json_string (b, v->s, v->len); break;
    case LODGE_JSON_ARRAY:
    case LODGE_JSON_OBJECT:
      lodge_buf_puts (b, v->type == LODGE_JSON_ARRAY ? "[" : "{");
      for (size_t i = 0; i < v->len; i++)
        {
          if (i > 0)
            lodge_buf_puts (b, ",");
          if (v->type == LODGE_JSON_OBJECT)
            {
              lodge_buf_json_string (b, v->keys[i], strlen (v->keys[i]));
              lodge_buf_puts (b, ":");
            }
          lodge_buf_json_value (b, v->items[i]);
        }
      lodge_buf_puts (b, v->type == LODGE_JSON_ARRAY ? "]" : "}");
      break;
    }
}

/* ---- base64 ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
lodge_buf_base64 (struct lodge_buf *b, const void *data, size_t len)
{
  const unsigned char *p = data;
  if (reserve (b, (len + 2) / 3 * 4) < 0)
    return;
  char *o = b->data + b->len;
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
  b->len = (size_t) (o - b->data);
  b->data[b->len] = '\0';
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
