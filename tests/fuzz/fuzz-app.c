/* libFuzzer target for the application template manifest parser: any byte
 * sequence is either a manifest or an error, never a crash, a leak or
 * undefined behaviour; what is accepted formats to a fixed point, its
 * defaults are valid values, and its commands render (with every
 * placeholder a declared parameter). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lodge-app.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
render_or_abort (const char *text, GHashTable *values, const char *what)
{
  if (text == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = lodge_app_render (text, values, TRUE, what, &error);
  if (out == NULL)
    {
      fprintf (stderr, "an accepted manifest's %s does not render: %s\n", what, error->message);
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeAppManifest) m =
    lodge_app_manifest_parse ((const char *) data, size, "fuzz.xml", &error);
  if (m == NULL)
    {
      if (error == NULL || error->message == NULL)
        abort (); /* a failure must say why */
      return 0;
    }
  g_autofree char *formatted = lodge_app_manifest_format (m);
  g_autoptr (LodgeAppManifest) again =
    lodge_app_manifest_parse (formatted, strlen (formatted), "formatted.xml", &error);
  if (again == NULL)
    {
      fprintf (stderr, "accepted input formats to an invalid manifest: %s\n%s\n", error->message,
               formatted);
      abort ();
    }
  g_autofree char *formatted_again = lodge_app_manifest_format (again);
  if (strcmp (formatted, formatted_again) != 0)
    {
      fprintf (stderr, "format is not a fixed point:\n%s\n---\n%s\n", formatted, formatted_again);
      abort ();
    }

  /* Every required parameter gets a value; the rest take their defaults. */
  g_autoptr (GHashTable) given = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < m->params->len; i++)
    {
      const LodgeAppParam *p = m->params->pdata[i];
      if (p->default_value == NULL && p->pattern == NULL)
        g_hash_table_insert (given, p->name, "x");
    }
  g_autoptr (GHashTable) values = lodge_app_manifest_values (m, given, "fuzz", &error);
  if (values == NULL)
    {
      if (error == NULL || error->message == NULL)
        abort ();
      return 0; /* a required parameter with a pattern "x" does not fit */
    }
  render_or_abort (m->launch, values, "launch");
  render_or_abort (m->reload, values, "reload");
  render_or_abort (m->health, values, "health");
  return 0;
}
