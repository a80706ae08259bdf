/* bench-xml: how long Lodge takes to load (parse, schema-validate, read,
 * check) a definition, to generate its domain XML, and to refuse each
 * hostile input. Medians of many runs; the baseline is a bare libxml2
 * parse of the same bytes, in the same process, so the ratio survives a
 * noisy machine.
 *
 *   bench-xml [--runs N] EXAMPLES_DIR */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>

#include "lodge-domain.h"
#include "lodge-env.h"
#include "lib/lodge-hostile.h"

typedef void (*BenchFunc) (gconstpointer data, gsize len);

/* Results land here so the compiler cannot drop the work. */
static volatile gsize sink;

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median_us (BenchFunc fn, gconstpointer data, gsize len, guint runs)
{
  g_autofree double *t = g_new (double, runs);
  for (guint i = 0; i < runs; i++)
    {
      gint64 start = g_get_monotonic_time ();
      fn (data, len);
      t[i] = (double) (g_get_monotonic_time () - start);
    }
  qsort (t, runs, sizeof *t, cmp_double);
  return t[runs / 2];
}

static void
bare_parse (gconstpointer data, gsize len)
{
  xmlDoc *doc = xmlReadMemory (data, (int) len, "bench.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  sink += doc != NULL;
  xmlFreeDoc (doc);
}

static void
lodge_load (gconstpointer data, gsize len)
{
  g_autoptr (GError) error = NULL;
  LodgeEnvDef *def = lodge_env_def_load (data, len, "bench.xml", &error);
  sink += def != NULL ? def->vcpus : (gsize) error->code;
  lodge_env_def_free (def);
}

static void
lodge_load_format (gconstpointer data, gsize len)
{
  LodgeEnvDef *def = lodge_env_def_load (data, len, "bench.xml", NULL);
  char *out = def != NULL ? lodge_env_def_format (def) : NULL;
  sink += out != NULL ? strlen (out) : 0;
  g_free (out);
  lodge_env_def_free (def);
}

static void
lodge_domain (gconstpointer data, gsize len)
{
  const LodgeEnvDef *def = data;
  g_autoptr (LodgePlacement) p = lodge_placement_new_placeholder (def, LODGE_ACCEL_TCG);
  char *xml = lodge_domain_xml_generate (def, p, NULL);
  sink += strlen (xml);
  g_free (xml);
}

int
main (int argc, char **argv)
{
  guint runs = 200;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs per measurement (default 200)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("EXAMPLES_DIR");
  g_option_context_set_summary (ctx, "Time definition loading, domain XML generation and "
                                     "refusal of hostile inputs (medians).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || runs < 1)
    {
      g_printerr ("bench-xml: %s\n", error != NULL ? error->message : "give EXAMPLES_DIR");
      return 2;
    }

  printf ("| input | bare libxml2 parse (µs) | lodge load (µs) | ratio | load+format (µs) | "
          "domain XML (µs) |\n|---|---|---|---|---|---|\n");
  const char *examples[] = { "web.xml", "maximal.xml" };
  for (guint i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      g_autofree char *path = g_build_filename (argv[1], examples[i], NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &data, &len, &error))
        {
          g_printerr ("bench-xml: %s\n", error->message);
          return 1;
        }
      g_autoptr (LodgeEnvDef) def = lodge_env_def_load (data, len, path, &error);
      if (def == NULL)
        {
          g_printerr ("bench-xml: %s\n", error->message);
          return 1;
        }
      double bare = median_us (bare_parse, data, len, runs);
      double load = median_us (lodge_load, data, len, runs);
      double fmt = median_us (lodge_load_format, data, len, runs);
      double dom = median_us (lodge_domain, def, 0, runs);
      printf ("| %s (%zu bytes) | %.0f | %.0f | %.1f× | %.0f | %.0f |\n", examples[i], len, bare,
              load, load / bare, fmt, dom);
    }

  /* Hostile inputs: time until refused. */
  g_autofree char *laughs = lodge_hostile_billion_laughs ();
  g_autofree char *deep = lodge_hostile_deep_nesting (10000);
  gsize big_len = 50 * 1000 * 1000;
  g_autofree char *big = g_malloc (big_len);
  memset (big, ' ', big_len);
  const char *xxe = "<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><e>&x;</e>";
  const char nul[] = "<environment><name>t\0</name></environment>";
  const char *utf8 = "<environment><name>t\xff</name></environment>";
  const struct {
    const char *name;
    const char *data;
    gsize len;
  } hostile[] = {
    { "XXE file entity", xxe, strlen (xxe) },
    { "billion laughs", laughs, strlen (laughs) },
    { "50 MB buffer", big, big_len },
    { "10,000-deep nesting", deep, strlen (deep) },
    { "NUL byte", nul, sizeof nul - 1 },
    { "invalid UTF-8", utf8, strlen (utf8) },
  };
  printf ("\n| hostile input | refused after (µs, median) |\n|---|---|\n");
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    printf ("| %s | %.0f |\n", hostile[i].name,
            median_us (lodge_load, hostile[i].data, hostile[i].len, runs));
  printf ("\nruns per figure: %u\n", runs);
  return 0;
}
