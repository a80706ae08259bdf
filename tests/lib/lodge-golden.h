/* Golden files for unit tests: tests/data/<dir>/<case>.xml is an input;
 * files named <case><suffix> next to it are its expected outputs. Set
 * LODGE_REGENERATE=1 to rewrite outputs (then review the diff). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sorted input case names (without .xml) in @dir; fails the test when a
 * file there belongs to no case (its name is not <case>.xml nor
 * <case><one of @output_suffixes>). */
GPtrArray *lodge_golden_cases (const char *dir, const char *const *output_suffixes);

/* Registers @func once per case of tests/data/@subdir as
 * /@module/golden/<case>, with the case name as its data. */
void lodge_golden_add_tests (const char *module, const char *subdir,
                             const char *const *output_suffixes, GTestDataFunc func);

/* Compares @actual with the file @path, or rewrites it when regenerating.
 * A missing file is a failure unless regenerating. */
void lodge_golden_assert (const char *path, const char *actual);

gboolean lodge_golden_regenerating (void);

char *lodge_golden_read (const char *path);

/* A parser of an XML document (definition, manifest) and its formatter. */
typedef gpointer (*LodgeGoldenParse) (const char *xml, gsize len, const char *origin,
                                      GError **error);
typedef char *(*LodgeGoldenFormat) (gconstpointer doc);

/* Case @name of tests/data/@subdir: <name>.xml parses and formats to
 * itself (or to <name>.out.xml, when the input is not in canonical form),
 * and the canonical form is a fixed point; or it fails with exactly the
 * message in <name>.err (an error of @error_domain). */
void lodge_golden_round_trip (const char *subdir, const char *name, GQuark error_domain,
                              LodgeGoldenParse parse, LodgeGoldenFormat format,
                              GDestroyNotify free_doc);

G_END_DECLS
