/* A growing byte buffer and base64 (RFC 4648), for the guest agent: the
 * requests read from its channel and the replies queued on it, the output
 * of the processes it runs, the data of guest-file-* and guest-exec. Plain
 * C, libc only. */
#pragma once

#include <stddef.h>

/* A failed allocation sets @failed and drops the rest (the caller then
 * replies with an error instead). */
struct lodge_buf {
  char *data; /* NUL-terminated after the @len bytes, once any were added */
  size_t len, cap;
  int failed;
};

void lodge_buf_add (struct lodge_buf *b, const void *data, size_t len);
/* Drops the first @n bytes. */
void lodge_buf_consume (struct lodge_buf *b, size_t n);
void lodge_buf_clear (struct lodge_buf *b);

/* The base64 (padded) of @len bytes of @data, malloc'd and NUL-terminated,
 * (@len + 2) / 3 * 4 characters; NULL when memory is short. */
char *lodge_base64_encode (const void *data, size_t len);

/* Decodes base64 (padding optional, no whitespace); returns a malloc'd
 * buffer (NUL-terminated for convenience) and its length, or NULL when
 * @s is not base64 or memory is short. */
unsigned char *lodge_base64_decode (const char *s, size_t len, size_t *ret_len);
