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
#include "lodge-cli.h"
#include "lodge-error.h"
#include "lodge-guest-config.h"
#include "lodge-app-cmd.h"
#include "lodge-app.h"
#include "lodge-repair-cmd.h"
#include "lodge-template-cmd.h"
#include "lodge-user-cmd.h"
#include "lodge-join-cmd.h"
#include "lodge-ve-cmd.h"
#include "lodge-xml.h"

/* ---- validate ---- */

static int
cmd_validate (int argc, char **argv)
{
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing for valid files", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "validate", "FILE...",
    "Check environment definitions against the schema and Lodge's rules.",
    "Each FILE is read (at most 1 MiB), checked against schemas/environment.rng,\n"
    "then checked for values and combinations Lodge refuses (memory committed\n"
    "beyond the memory the guest sees, an address used twice, ...). Errors are\n"
    "printed as FILE:LINE: message, one per invalid file; every file is checked.\n"
    "Use - to read standard input. An application template's manifest\n"
    "(lodge-app.xml, <application-template>) is checked against\n"
    "schemas/application.rng and the manifest's own rules instead.\n\n" LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc < 2)
    return lodge_cli_usage_error ("no FILE given");

  int status = LODGE_EXIT_OK;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *data = NULL;
      gsize len = 0;
      const char *origin = strcmp (argv[i], "-") == 0 ? "<stdin>" : argv[i];
      if (strcmp (argv[i], "-") == 0)
        {
          g_autoptr (GIOChannel) in = g_io_channel_unix_new (0);
          g_io_channel_set_encoding (in, NULL, NULL);
          if (g_io_channel_read_to_end (in, &data, &len, &error) != G_IO_STATUS_NORMAL)
            g_clear_pointer (&data, g_free);
          else if (len > LODGE_XML_MAX_BYTES)
            {
              g_clear_pointer (&data, g_free);
              g_set_error (&error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                           "<stdin>: larger than %d bytes", LODGE_XML_MAX_BYTES);
            }
        }
      else
        data = lodge_xml_read_file (argv[i], LODGE_XML_MAX_BYTES, &len, &error);

      /* An application template's manifest, or else an environment. */
      gboolean manifest = data != NULL && strstr (data, "<application-template") != NULL;
      g_autoptr (LodgeEnvDef) def = NULL;
      g_autoptr (LodgeAppManifest) m = NULL;
      if (data != NULL && manifest)
        m = lodge_app_manifest_parse (data, len, origin, &error);
      else if (data != NULL)
        def = lodge_env_def_load (data, len, origin, &error);

      if (def == NULL && m == NULL)
        {
          g_printerr ("%s\n", error->message);
          status = LODGE_EXIT_INVALID;
        }
      else if (!quiet && def != NULL)
        g_print ("%s: valid (environment %s, template %s)\n", argv[i], def->name,
                 def->template_name);
      else if (!quiet)
        g_print ("%s: valid (application template manifest: %u copies, %u parameters, %u "
                 "config files)\n", argv[i], m->copies->len, m->params->len, m->files->len);
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
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "domain-xml", "FILE",
    "Print the libvirt domain XML Lodge would generate for an environment.",
    "The definition in FILE is validated first. Placement facts that only a\n"
    "running cluster knows (RBD pool and image, Ceph monitors, the libvirt\n"
    "secret, the bridge, kernel paths, the per-VE config file) are filled in\n"
    "with placeholders; the result is what `virt-xml-validate FILE domain`\n"
    "checks and what a node would define.\n\n" LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no FILE given" : "only one FILE at a time");

  LodgeAccel accel = LODGE_ACCEL_TCG;
  if (accel_name != NULL)
    {
      int a = lodge_accel_from_string (accel_name);
      if (a < 0)
        return lodge_cli_usage_error ("--accel: '%s' is neither kvm nor tcg", accel_name);
      accel = a;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (argv[1], &error);
  if (def == NULL)
    {
      g_printerr ("%s\n", error->message);
      return LODGE_EXIT_INVALID;
    }
  g_autoptr (LodgePlacement) placement = lodge_placement_new_placeholder (def, accel);
  g_autofree char *xml = lodge_domain_xml_generate (def, placement, &error);
  if (xml == NULL)
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      return LODGE_EXIT_INVALID;
    }
  fputs (xml, stdout);
  return LODGE_EXIT_OK;
}

/* ---- guest-config ---- */

static int
cmd_guest_config (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "guest-config", "FILE",
    "Print the configuration blob a VE gets at boot through QEMU fw_cfg.",
    "The definition in FILE is validated first. The blob holds the VE's\n"
    "identity, root credential, OS parameters, network and applications; its\n"
    "format is described in docs/guest-config.md. It holds the root password\n"
    "hash: keep files made from it private (mode 0600).\n\n" LODGE_EXIT_CODES_HELP,
    NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no FILE given" : "only one FILE at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (argv[1], &error);
  g_autofree char *blob = def != NULL ? lodge_guest_config_format (def, &error) : NULL;
  if (blob == NULL)
    {
      g_printerr ("%s\n", error->message);
      return LODGE_EXIT_INVALID;
    }
  fputs (blob, stdout);
  return LODGE_EXIT_OK;
}

/* ---- dispatch ---- */

static const LodgeCommand commands[] = {
  { "validate", "FILE...", "Check environment definitions", cmd_validate },
  { "domain-xml", "FILE [--accel kvm|tcg]", "Print the libvirt domain XML for a definition",
    cmd_domain_xml },
  { "guest-config", "FILE", "Print the boot-time configuration blob of a definition",
    cmd_guest_config },
  { "template", "COMMAND ...", "Import, list, show and delete templates", lodge_template_cmd },
  { "repair", "NAME OPERATION ...", "Repair a VE's disk offline (diff, revert, reset-root, ...)",
    lodge_repair_cmd },
  { "app", "COMMAND ...", "Install, configure and list a VE's applications", lodge_app_cmd },
  { "exec", "NAME [--] COMMAND...", "Run a command in a running VE (guest agent)", lodge_exec_cmd },
  { "passwd", "NAME", "Change a VE's root password (live, and in its definition)",
    lodge_passwd_cmd },
  { "user", "COMMAND ...", "The API's users and their roles: add, list, remove, whoami",
    lodge_user_cmd },
  { "join-token", "COMMAND ...", "Tokens new hosts join with: create, list, delete", lodge_join_token_cmd },
  { "controller", "join ...", "Join this host to a cluster as a standby controller", lodge_controller_cmd },
  { "cluster", "init ...", "Create a cluster on an existing Ceph (on the first controller)", lodge_cluster_cmd },
};

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("lodge");
  if (argc >= 2 && strcmp (argv[1], "--version") == 0)
    {
      g_print ("lodge %s\n", LODGE_VERSION);
      return LODGE_EXIT_OK;
    }
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (LodgeCommand));
  g_array_append_vals (all, lodge_ve_commands, lodge_ve_n_commands);
  g_array_append_vals (all, commands, G_N_ELEMENTS (commands));
  return lodge_cli_dispatch (NULL, (const LodgeCommand *) all->data, all->len, argc, argv);
}
