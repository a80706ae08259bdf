/* libFuzzer target for the environment parser: any byte sequence is either
 * a definition or an error, never a crash, a leak or undefined behaviour;
 * and what is accepted formats to a fixed point and generates domain XML. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lodge-domain.h"
#include "lodge-env.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load ((const char *) data, size, "fuzz.xml", &error);
  if (def == NULL)
    {
      if (error == NULL || error->message == NULL)
        abort (); /* a failure must say why */
      return 0;
    }

  g_autofree char *formatted = lodge_env_def_format (def);
  g_autoptr (LodgeEnvDef) again =
    lodge_env_def_load (formatted, strlen (formatted), "formatted.xml", &error);
  if (again == NULL)
    {
      fprintf (stderr, "accepted input formats to an invalid definition: %s\n%s\n",
               error->message, formatted);
      abort ();
    }
  g_autofree char *formatted_again = lodge_env_def_format (again);
  if (strcmp (formatted, formatted_again) != 0)
    {
      fprintf (stderr, "format is not a fixed point:\n%s\n---\n%s\n", formatted,
               formatted_again);
      abort ();
    }

  for (int accel = 0; accel < LODGE_ACCEL_LAST; accel++)
    {
      g_autoptr (LodgePlacement) p = lodge_placement_new_placeholder (def, accel);
      g_autofree char *xml = lodge_domain_xml_generate (def, p, &error);
      if (xml == NULL)
        {
          fprintf (stderr, "domain XML generation failed: %s\n", error->message);
          abort ();
        }
    }
  return 0;
}
