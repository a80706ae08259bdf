/* A password hash set in the text of /etc/shadow: the one way lodge-init
 * (at boot, and for the guest agent's guest-set-user-password) and a repair
 * session (reset-root, the template diff) edit it. Plain C and libc only,
 * so lodge-init, which links no GLib, compiles this file too. */
#pragma once

#include <stddef.h>

/* Far more than any real shadow file; a larger text is refused. */
#define LODGE_SHADOW_MAX_BYTES (1024 * 1024)

typedef enum {
  LODGE_SHADOW_OK,
  LODGE_SHADOW_NO_ENTRY,  /* the user has no line and none was to be added */
  LODGE_SHADOW_REFUSED,   /* not a shadow file, or a bad user name or hash */
  LODGE_SHADOW_NO_MEMORY,
} LodgeShadowStatus;

/* Today as shadow(5) counts it (days since 1970-01-01 UTC), from this
 * machine's clock. */
long lodge_shadow_today (void);

/* @text (@len bytes: the whole file, "" for none) with the password field
 * of @user's first line set to @hash; the other fields stay. A line with no
 * field after the password gets ":@today:0:99999:7:::". When @user has no
 * line, one such line is added FIRST if @add_missing, else
 * LODGE_SHADOW_NO_ENTRY is returned. Every other line stays byte for byte;
 * a last line without a line break gets one.
 *
 * Refused (LODGE_SHADOW_REFUSED, the reason in @err): a text over
 * LODGE_SHADOW_MAX_BYTES, with a NUL byte, or with a non-empty line that is
 * not "NAME:..."; a user name that is empty or holds ':' or a line break; a
 * hash that holds ':' or a line break.
 *
 * On LODGE_SHADOW_OK, *@ret_text is the new text (malloc'd, NUL-terminated,
 * *@ret_len bytes); on anything else it is NULL. */
LodgeShadowStatus lodge_shadow_set_hash (const char *text, size_t len, const char *user,
                                         const char *hash, int add_missing, long today,
                                         char **ret_text, size_t *ret_len, char *err,
                                         size_t err_len);
