/* Scaled sizes with libvirt's units: "b"/"bytes" = 1; "KB" = 1000,
 * "K"/"k"/"KiB" = 1024; likewise M, G, T, P, E. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Multiplies @value by @unit (NULL: @default_unit). FALSE when the unit is
 * unknown or the product does not fit in 64 bits; the error says which. */
gboolean lodge_units_scale (const char *value, const char *unit, const char *default_unit,
                            guint64 *ret_bytes, GError **error);

/* The largest binary unit that divides @bytes exactly: sets *ret_unit to
 * "TiB", "GiB", "MiB", "KiB" or "bytes" and returns the scaled value. */
guint64 lodge_units_canonical (guint64 bytes, const char **ret_unit);

/* "512 MiB", "4 TiB", "1536 bytes": exact, ASCII, for messages. */
char *lodge_units_format (guint64 bytes);

/* "1.9 MiB", "512 MiB", "700 bytes": rounded to one decimal, ASCII, for
 * people reading a table. */
char *lodge_units_format_approx (guint64 bytes);

G_END_DECLS
