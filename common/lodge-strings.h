/* Small string helpers shared by every layer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* For g_ptr_array_sort() of a GPtrArray of strings (it passes pointers to
 * the elements, not the elements). */
int lodge_compare_strings (gconstpointer a, gconstpointer b);

G_END_DECLS
