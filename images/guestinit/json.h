/* A small, bounded JSON parser and writer and base64, for the guest agent
 * (agent.c). Plain C, libc only. The parser builds a tree, refuses rather
 * than guesses: nesting deeper than LODGE_JSON_MAX_DEPTH, more than
 * LODGE_JSON_MAX_VALUES values, non-integer numbers, "\u0000" and lone
 * surrogates are errors, never crashes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LODGE_JSON_MAX_DEPTH 32
#define LODGE_JSON_MAX_VALUES 200000

enum lodge_json_type {
  LODGE_JSON_NULL,
  LODGE_JSON_BOOL,
  LODGE_JSON_INT,
  LODGE_JSON_STRING,
  LODGE_JSON_ARRAY,
  LODGE_JSON_OBJECT,
};

struct lodge_json {
  enum lodge_json_type type;
  int64_t i;                 /* BOOL (0/1) and INT */
  char *s;                   /* STRING: UTF-8, NUL-terminated, no inner NUL */
  size_t len;                /* STRING: bytes; ARRAY/OBJECT: members */
  struct lodge_json **items; /* ARRAY and OBJECT values */
  char **keys;               /* OBJECT keys */
};

/* Parses exactly one value from @buf (@len bytes; whitespace around it is
 * allowed). Returns the tree, or NULL with a one-line reason in @err. */
struct lodge_json *lodge_json_parse (const char *buf, size_t len, char *err, size_t err_len);
void lodge_json_free (struct lodge_json *v);

/* The value of @key in object @obj (the first one), or NULL. */
const struct lodge_json *lodge_json_get (const struct lodge_json *obj, const char *key);

/* A growing byte buffer; a failed allocation sets @failed and drops the
 * rest (the caller then replies with an error instead). */
struct lodge_buf {
  char *data;
  size_t len, cap;
  int failed;
};

void lodge_buf_add (struct lodge_buf *b, const void *data, size_t len);
void lodge_buf_puts (struct lodge_buf *b, const char *s);
void lodge_buf_printf (struct lodge_buf *b, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Drops the first @n bytes. */
void lodge_buf_consume (struct lodge_buf *b, size_t n);
void lodge_buf_clear (struct lodge_buf *b);

/* A JSON string literal of @len bytes of @s, quotes included. */
void lodge_buf_json_string (struct lodge_buf *b, const char *s, size_t len);
/* @v written back as JSON. */
void lodge_buf_json_value (struct lodge_buf *b, const struct lodge_json *v);
/* The base64 (RFC 4648, padded) of @len bytes of @data, without quotes. */
void lodge_buf_base64 (struct lodge_buf *b, const void *data, size_t len);

/* Decodes base64 (padding optional, no whitespace); returns a malloc'd
 * buffer (NUL-terminated for convenience) and its length, or NULL when
 * @s is not base64 or memory is short. */
unsigned char *lodge_base64_decode (const char *s, size_t len, size_t *ret_len);
