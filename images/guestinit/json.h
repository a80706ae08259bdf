/* JSON for the guest agent (agent*.c) and the application status files
 * (appstatus.c), with jansson. What comes from the host is bounded before
 * jansson reads it; what is written is valid UTF-8 whatever bytes it was
 * made of. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define LODGE_JSON_MAX_BYTES (8 * 1024 * 1024)
#define LODGE_JSON_MAX_DEPTH 32       /* arrays and objects inside each other */
#define LODGE_JSON_MAX_VALUES 200000  /* counted as containers and commas, plus one */

/* Parses exactly one value from @buf (@len bytes; whitespace around it is
 * allowed). Refused before jansson sees it: more than LODGE_JSON_MAX_BYTES,
 * deeper than LODGE_JSON_MAX_DEPTH, more than LODGE_JSON_MAX_VALUES values,
 * a number that is not an integer.
 * jansson refuses the rest of what is not JSON, and also "\u0000", lone
 * surrogates, integers beyond 64 bits and an object's key given twice.
 * Returns a new reference, or NULL with a one-line reason in @err. */
json_t *lodge_json_load (const char *buf, size_t len, char *err, size_t err_len);

/* A JSON string of @len bytes of @s; what is not UTF-8 becomes U+FFFD, one
 * per byte. NULL only when memory is short. */
json_t *lodge_json_text (const char *s, size_t len);
/* lodge_json_text of a NUL-terminated @s. */
json_t *lodge_json_str (const char *s);
/* A JSON string of the base64 of @len bytes of @data (may be NULL when
 * @len is 0). NULL when memory is short. */
json_t *lodge_json_base64 (const void *data, size_t len);

/* @v written compactly (no spaces) at the end of @b. Returns 0, or -1 with
 * @b->failed set when memory is short. */
int lodge_json_dump (struct lodge_buf *b, const json_t *v);
