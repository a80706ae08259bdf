/* Typed state with one string table per enum (after libvirt's VIR_ENUM_IMPL).
 *
 *   typedef enum { LODGE_FOO_A, LODGE_FOO_B, LODGE_FOO_LAST } LodgeFoo;
 *   LODGE_ENUM_DECL (lodge_foo);                                 (header)
 *   LODGE_ENUM_IMPL (lodge_foo, LODGE_FOO_LAST, "a", "b");       (source)
 *
 * gives lodge_foo_to_string (v) (NULL when out of range) and
 * lodge_foo_from_string (s) (-1 when unknown).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *lodge_enum_to_string (const char *const *table, int n, int value);
int lodge_enum_from_string (const char *const *table, int n, const char *str);

#define LODGE_ENUM_DECL(prefix) \
  const char *prefix##_to_string (int value); \
  int prefix##_from_string (const char *str)

#define LODGE_ENUM_IMPL(prefix, last, ...) \
  static const char *const prefix##_table[] = { __VA_ARGS__ }; \
  G_STATIC_ASSERT (G_N_ELEMENTS (prefix##_table) == (last)); \
  const char *prefix##_to_string (int value) \
  { return lodge_enum_to_string (prefix##_table, (last), value); } \
  int prefix##_from_string (const char *str) \
  { return lodge_enum_from_string (prefix##_table, (last), str); }

G_END_DECLS
