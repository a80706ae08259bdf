/* Small string helpers shared by every layer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* For g_ptr_array_sort() of a GPtrArray of strings (it passes pointers to
 * the elements, not the elements). */
int lodge_compare_strings (gconstpointer a, gconstpointer b);

/* @len bytes a guest wrote (its console), made safe for a terminal: line
 * ends and tabs kept ("\r\n" as "\n"), valid UTF-8 text kept; control
 * characters (escape sequences start with one), C1 controls and bytes
 * that are not UTF-8 written as \xNN or \uNNNN. Newly allocated. */
char *lodge_terminal_safe (const char *data, gsize len);

/* @text (NUL-terminated, from a guest or with a guest's words in it) made
 * one safe line (of a log, or a table's cell): as lodge_terminal_safe, but
 * line ends and tabs are escaped too, so that no byte of it can end the
 * line and start a forged one. NULL is "(null)". Newly allocated. */
char *lodge_line_safe (const char *text);

/* lodge_terminal_safe over bytes that come in pieces cut anywhere (a
 * stream): a UTF-8 character or a "\r\n" cut in two is held back (3 bytes
 * at most) until the next piece. Zero-initialise one per stream. */
typedef struct {
  char held[4];
  gsize n_held;
} LodgeTerminalStream;

/* What of the stream up to @data (@len bytes) can be shown now, escaped.
 * Newly allocated (maybe ""). */
char *lodge_terminal_stream_feed (LodgeTerminalStream *ts, const char *data, gsize len);
/* The stream ended: what was held back, escaped. Newly allocated. */
char *lodge_terminal_stream_end (LodgeTerminalStream *ts);

/* Whether a guest's bytes written to @fd are escaped: unless @raw (the
 * user's --raw), when @fd is a terminal. Into a pipe or a file they go as
 * they are. */
gboolean lodge_terminal_escapes (gboolean raw, int fd);

/* Replaces the file at @path with @contents, whole or not at all (a
 * temporary file renamed over it), with permissions @mode whatever the
 * umask; its directory is made (0755) if missing. */
gboolean lodge_file_replace (const char *path, const char *contents, int mode, GError **error);

/* Gives the file at @path to group @group (its owner unchanged), when the
 * group exists: the lodge-controller package makes "lodge", which lodged
 * runs as; where there is none (a host that runs lodged as root) nothing
 * changes. */
gboolean lodge_file_set_group (const char *path, const char *group, GError **error);

G_END_DECLS
