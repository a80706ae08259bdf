/* lodge: the command line of the Lodge hosting platform.
 *
 * Each subcommand is one function taking its own argv; `lodge CMD --help`
 * is GOption's, with a summary and the exit codes. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "lodge-domain.h"
#include "lodge-env.h"
#include "lodge-error.h"

/* Exit codes, stable for scripts. */
enum {
  EXIT_OK = 0,
  EXIT_INVALID = 1, /* a definition or argument value is not valid */
  EXIT_USAGE = 2,   /* the command line itself is wrong */
};

#define EXIT_CODES_HELP \
  "Exit status:\n" \
  "  0  success\n" \
  "  1  a definition is not valid (or cannot be read)\n" \
  "  2  wrong usage of the command line\n"

typedef struct {
  const char *name;
  const char *params;
  const char *summary;
  int (*run) (int argc, char **argv);
} LodgeCommand;

static int
usage_error (GOptionContext *ctx, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static int
usage_error (GOptionContext *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("lodge: %s\nTry '%s --help'.\n", msg, g_get_prgname ());
  return EXIT_USAGE;
}

static GOptionContext *
command_context (const char *name, const char *params, const char *summary,
                 const char *description, GOptionEntry *entries)
{
  g_autofree char *prgname = g_strdup_printf ("lodge %s", name);
  g_set_prgname (prgname);
  GOptionContext *ctx = g_option_context_new (params);
  g_option_context_set_summary (ctx, summary);
  g_option_context_set_description (ctx, description);
  g_option_context_set_help_enabled (ctx, TRUE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

static gboolean
parse_options (GOptionContext *ctx, int *argc, char ***argv, int *ret_exit)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *ret_exit = usage_error (ctx, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- validate ---- */

static int
cmd_validate (int argc, char **argv)
{
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing for valid files", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = command_context (
    "validate", "FILE...",
    "Check environment definitions against the schema and Lodge's rules.",
    "Each FILE is read (at most 1 MiB), checked against schemas/environment.rng,\n"
    "then checked for values and combinations Lodge refuses (memory committed\n"
    "beyond the memory the guest sees, an address used twice, ...). Errors are\n"
    "printed as FILE:LINE: message, one per invalid file; every file is checked.\n"
    "Use - to read standard input.\n\n" EXIT_CODES_HELP,
    entries);
  int rc;
  if (!parse_options (ctx, &argc, &argv, &rc))
    return rc;
  if (argc < 2)
    return usage_error (ctx, "no FILE given");

  int status = EXIT_OK;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeEnvDef) def = NULL;
      if (strcmp (argv[i], "-") == 0)
        {
          g_autofree char *data = NULL;
          gsize len = 0;
          g_autoptr (GIOChannel) in = g_io_channel_unix_new (0);
          g_io_channel_set_encoding (in, NULL, NULL);
          if (g_io_channel_read_to_end (in, &data, &len, &error) == G_IO_STATUS_NORMAL)
            def = lodge_env_def_load (data, len, "<stdin>", &error);
        }
      else
        def = lodge_env_def_load_file (argv[i], &error);

      if (def == NULL)
        {
          g_printerr ("%s\n", error->message);
          status = EXIT_INVALID;
        }
      else if (!quiet)
        g_print ("%s: valid (environment %s, template %s)\n", argv[i], def->name,
                 def->template_name);
    }
  return status;
}

/* ---- domain-xml ---- */

static int
cmd_domain_xml (int argc, char **argv)
{
  g_autofree char *accel_name = NULL;
  GOptionEntry entries[] = {
    { "accel", 'a', 0, G_OPTION_ARG_STRING, &accel_name,
      "Accelerator of the node: kvm or tcg (default: tcg)", "ACCEL" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = command_context (
    "domain-xml", "FILE",
    "Print the libvirt domain XML Lodge would generate for an environment.",
    "The definition in FILE is validated first. Placement facts that only a\n"
    "running cluster knows (RBD pool and image, Ceph monitors, the libvirt\n"
    "secret, the bridge, kernel paths, the per-VE config file) are filled in\n"
    "with placeholders; the result is what `virt-xml-validate FILE domain`\n"
    "checks and what a node would define.\n\n" EXIT_CODES_HELP,
    entries);
  int rc;
  if (!parse_options (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return usage_error (ctx, argc < 2 ? "no FILE given" : "only one FILE at a time");

  LodgeAccel accel = LODGE_ACCEL_TCG;
  if (accel_name != NULL)
    {
      int a = lodge_accel_from_string (accel_name);
      if (a < 0)
        return usage_error (ctx, "--accel: '%s' is neither kvm nor tcg", accel_name);
      accel = a;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (argv[1], &error);
  if (def == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_INVALID;
    }
  g_autoptr (LodgePlacement) placement = lodge_placement_new_placeholder (def, accel);
  g_autofree char *xml = lodge_domain_xml_generate (def, placement, &error);
  if (xml == NULL)
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      return EXIT_INVALID;
    }
  fputs (xml, stdout);
  return EXIT_OK;
}

/* ---- dispatch ---- */

static const LodgeCommand commands[] = {
  { "validate", "FILE...", "Check environment definitions", cmd_validate },
  { "domain-xml", "FILE [--accel kvm|tcg]", "Print the libvirt domain XML for a definition",
    cmd_domain_xml },
};

static void
print_main_help (FILE *out)
{
  fprintf (out,
           "Usage:\n  lodge COMMAND [OPTION...] [ARG...]\n\n"
           "Lodge runs virtual environments (VEs): lightweight VMs on libvirt/QEMU\n"
           "whose disks live on Ceph RADOS, so any node can run any VE.\n\n"
           "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "\nRun 'lodge COMMAND --help' for a command's arguments and options.\n"
           "Definitions are described in docs/environment.md.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("lodge");

  if (argc < 2)
    {
      print_main_help (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      if (strcmp (argv[1], "help") == 0 && argc > 2)
        {
          char *help_argv[] = { argv[2], (char *) "--help", NULL };
          for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
            if (strcmp (commands[i].name, argv[2]) == 0)
              return commands[i].run (2, help_argv);
          g_printerr ("lodge: unknown command '%s'\n", argv[2]);
          return EXIT_USAGE;
        }
      print_main_help (stdout);
      return EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("lodge %s\n", LODGE_VERSION);
      return EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, argv[1]) == 0)
      return commands[i].run (argc - 1, argv + 1);

  g_printerr ("lodge: unknown command '%s'\nTry 'lodge --help'.\n", argv[1]);
  return EXIT_USAGE;
}
