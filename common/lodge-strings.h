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

G_END_DECLS
