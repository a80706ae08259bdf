/* lodge template import|list|show|delete.
 *
 * Until the control center exists these call the storage and virt layers
 * directly; the API will call the same lodge_template_* functions. */
#include "lodge-template-cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "lodge-cli.h"
#include "lodge-rados.h"
#include "lodge-template.h"
#include "lodge-units.h"

/* A connection to the local (or configured) cluster and its state store. */
typedef struct {
  LodgeCephConfig *config;
  LodgeRados *rados;
  LodgeStore *store;
} Session;

static void
session_clear (Session *s)
{
  g_clear_pointer (&s->store, lodge_store_free);
  g_clear_pointer (&s->rados, lodge_rados_free);
  g_clear_pointer (&s->config, lodge_ceph_config_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Session, session_clear)

static gboolean
session_open (Session *s, GError **error)
{
  if (!lodge_cli_enter_cluster (error))
    return FALSE;
  s->config = lodge_ceph_config_new_default ();
  /* libguestfs's QEMU finds the cluster through $CEPH_CONF. */
  g_setenv ("CEPH_CONF", s->config->conf_path, FALSE);
  s->rados = lodge_rados_connect (s->config, error);
  if (s->rados == NULL)
    return FALSE;
  s->store = lodge_store_open (s->rados, NULL, error);
  return s->store != NULL;
}

/* NAME or NAME@VERSION. */
static void
split_ref (const char *ref, char **ret_name, char **ret_version)
{
  const char *at = strchr (ref, '@');
  *ret_name = at != NULL ? g_strndup (ref, at - ref) : g_strdup (ref);
  *ret_version = at != NULL ? g_strdup (at + 1) : NULL;
}

/* ---- import ---- */

typedef struct {
  gboolean tty;
  LodgeImportStage last_stage;
  gint64 last_print;
} ImportView;

static const char *
stage_text (LodgeImportStage stage)
{
  switch (stage)
    {
    case LODGE_IMPORT_CHECK:
      return "checking the archive";
    case LODGE_IMPORT_ARCHIVE:
      return "packing the tree";
    case LODGE_IMPORT_IMAGE:
      return "creating the RBD image";
    case LODGE_IMPORT_LAUNCH:
      return "starting the libguestfs appliance";
    case LODGE_IMPORT_COPY:
      return "formatting and copying the tree";
    case LODGE_IMPORT_SNAPSHOT:
      return "snapshotting the version";
    default:
      return "working";
    }
}

static void
import_progress (LodgeImportStage stage, guint64 done, guint64 total, gpointer user_data)
{
  ImportView *v = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean new_stage = stage != v->last_stage;
  if (!new_stage && now - v->last_print < G_USEC_PER_SEC / 4 && done < total)
    return;
  v->last_print = now;
  if (v->tty)
    {
      if (stage == LODGE_IMPORT_ARCHIVE && total > 0)
        g_printerr ("\r\033[K  %s: %3u%% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " MiB)",
                    stage_text (stage), (guint) (done * 100 / total), done >> 20, total >> 20);
      else
        g_printerr ("\r\033[K  %s...", stage_text (stage));
    }
  else if (new_stage)
    g_printerr ("  %s...\n", stage_text (stage));
  v->last_stage = stage;
}

static int
cmd_import (int argc, char **argv)
{
  g_autofree char *version = NULL;
  g_autofree char *kind = NULL;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_STRING, &version,
      "Version to create (default: one more than the highest numeric version)", "VERSION" },
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind,
      "os (default): a VE's root tree; application: a tree with lodge-app.xml", "KIND" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "template import", "NAME PATH",
    "Import a file tree as a new version of a template.",
    "PATH is a directory or a tar archive (plain or gzip-compressed). The tree is\n"
    "written into an ext4 filesystem on the template's RBD image by libguestfs,\n"
    "inside its appliance (never mounted on this host), with owners, modes,\n"
    "symlinks, hard links, FIFOs and extended attributes kept; then the version\n"
    "becomes a protected snapshot that VE disks are cloned from. An archive with\n"
    "absolute or '..' paths, or with device nodes, is refused before anything is\n"
    "written. NAME is created on its first import.\n\n"
    "With --kind application, PATH is a directory with a manifest, lodge-app.xml,\n"
    "at its top (see docs/application.md): it is checked first (the paths it\n"
    "copies and the config file templates it renders must be in the tree), and\n"
    "its config file templates are kept with the version, so configuring a VE\n"
    "needs no appliance. VEs name it in <application><source template=.../>.\n\n"
    LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 3)
    return lodge_cli_usage_error (argc < 3 ? "give NAME and PATH" : "too many arguments");
  int k = kind != NULL ? lodge_template_kind_from_string (kind) : LODGE_TEMPLATE_KIND_OS;
  if (k < 0)
    {
      return lodge_cli_usage_error ("unknown --kind '%s' (os or application)", kind);
    }

  g_autoptr (GError) error = NULL;
  g_auto (Session) s = { 0 };
  if (!session_open (&s, &error))
    return lodge_cli_fail (error);

  ImportView view = { isatty (STDERR_FILENO), LODGE_IMPORT_LAST, 0 };
  g_printerr ("Importing %s as %s template %s\n", argv[2],
              k == LODGE_TEMPLATE_KIND_OS ? "OS" : "application", argv[1]);
  g_autoptr (LodgeTemplateVersion) v =
    k == LODGE_TEMPLATE_KIND_OS
      ? lodge_template_import (s.store, s.config->client_id, argv[1], argv[2], version,
                               import_progress, &view, &error)
      : lodge_template_import_application (s.store, s.config->client_id, argv[1], argv[2],
                                           version, import_progress, &view, &error);
  if (view.tty)
    g_printerr ("\r\033[K");
  if (v == NULL)
    return lodge_cli_fail (error);
  g_autofree char *bytes = lodge_units_format_approx (v->bytes);
  g_print ("template %s@%s: %" G_GUINT64_FORMAT " files, %s\n", argv[1], v->version, v->files,
           bytes);
  return LODGE_EXIT_OK;
}

/* ---- list / show ---- */

static void
add_version_json (JsonBuilder *b, const LodgeTemplateVersion *v, GPtrArray *clones)
{
  json_builder_begin_object (b);
  lodge_template_version_add_json (b, v);
  if (clones != NULL)
    {
      json_builder_set_member_name (b, "clones");
      json_builder_begin_array (b);
      for (guint i = 0; i < clones->len; i++)
        json_builder_add_string_value (b, clones->pdata[i]);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static int
cmd_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "template list", "", "List templates with their newest version.",
    LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("no arguments expected");

  g_autoptr (GError) error = NULL;
  g_auto (Session) s = { 0 };
  if (!session_open (&s, &error))
    return lodge_cli_fail (error);
  g_autoptr (GPtrArray) templates = lodge_template_list (s.store, &error);
  if (templates == NULL)
    return lodge_cli_fail (error);

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < templates->len; i++)
        {
          LodgeTemplate *t = templates->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, t->name);
          json_builder_set_member_name (b, "versions");
          json_builder_begin_array (b);
          for (guint j = 0; j < t->versions->len; j++)
            add_version_json (b, t->versions->pdata[j], NULL);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      print_json (b);
      return LODGE_EXIT_OK;
    }
  g_print ("%-24s %-12s %-8s %-12s %10s  %s\n", "NAME", "KIND", "VERSIONS", "NEWEST", "SIZE",
           "CREATED");
  for (guint i = 0; i < templates->len; i++)
    {
      LodgeTemplate *t = templates->pdata[i];
      const LodgeTemplateVersion *v = lodge_template_find_version (t, NULL, NULL);
      g_autofree char *size = v != NULL ? lodge_units_format_approx (v->bytes) : g_strdup ("-");
      g_print ("%-24s %-12s %-8u %-12s %10s  %s\n", t->name, lodge_template_kind_to_string (t->kind),
               t->versions->len,
               v != NULL ? v->version : "-", size, v != NULL ? v->created : "-");
    }
  return LODGE_EXIT_OK;
}

static int
cmd_show (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "template show", "NAME",
    "Show a template: its image, its versions, and the VE disks cloned from each.",
    LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "give NAME" : "too many arguments");

  g_autoptr (GError) error = NULL;
  g_auto (Session) s = { 0 };
  if (!session_open (&s, &error))
    return lodge_cli_fail (error);
  g_autoptr (LodgeTemplate) t = lodge_template_get (s.store, argv[1], &error);
  if (t == NULL)
    return lodge_cli_fail (error);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, t->name);
  json_builder_set_member_name (b, "image");
  g_autofree char *image = g_strdup_printf ("%s/%s", t->pool, t->image);
  json_builder_add_string_value (b, image);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, lodge_template_kind_to_string (t->kind));
  json_builder_set_member_name (b, "versions");
  json_builder_begin_array (b);
  if (!json)
    g_print ("%s template %s (RBD image %s)\n%-12s %8s %10s %10s  %-20s %s\n", t->kind == LODGE_TEMPLATE_KIND_OS ? "OS" : "application",
             t->name, image,
             "VERSION", "FILES", "SIZE", "IMAGE", "CREATED", "CLONES");
  for (guint i = 0; i < t->versions->len; i++)
    {
      LodgeTemplateVersion *v = t->versions->pdata[i];
      g_autoptr (GPtrArray) clones = lodge_template_clones (s.store, t, v->version, &error);
      if (clones == NULL)
        return lodge_cli_fail (error);
      add_version_json (b, v, clones);
      if (!json)
        {
          g_autofree char *bytes = lodge_units_format_approx (v->bytes);
          g_autofree char *isize = lodge_units_format_approx (v->image_size);
          g_autoptr (GString) list = g_string_new (clones->len == 0 ? "-" : "");
          for (guint j = 0; j < clones->len; j++)
            g_string_append_printf (list, "%s%s", j ? ", " : "", (char *) clones->pdata[j]);
          g_print ("%-12s %8" G_GUINT64_FORMAT " %10s %10s  %-20s %s\n", v->version, v->files,
                   bytes, isize, v->created, list->str);
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (json)
    print_json (b);
  return LODGE_EXIT_OK;
}

/* ---- delete ---- */

static int
cmd_delete (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_cli_context (
    "template delete", "NAME[@VERSION]",
    "Delete a template version, or a whole template.",
    "Refused while VE disks are cloned from the version (or any version): the\n"
    "error names them. Undefine those VEs with their storage, or flatten their\n"
    "disks, first.\n\n" LODGE_EXIT_CODES_HELP,
    NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "give NAME or NAME@VERSION" : "too many arguments");

  g_autofree char *name = NULL, *version = NULL;
  split_ref (argv[1], &name, &version);
  g_autoptr (GError) error = NULL;
  g_auto (Session) s = { 0 };
  if (!session_open (&s, &error) || !lodge_template_delete (s.store, name, version, &error))
    return lodge_cli_fail (error);
  g_print ("deleted template %s%s%s\n", name, version ? "@" : "", version ? version : "");
  return LODGE_EXIT_OK;
}

static const LodgeCommand template_commands[] = {
  { "import", "NAME PATH [--version V]", "Import a directory or tarball as a new version",
    cmd_import },
  { "list", "[-o json]", "List templates", cmd_list },
  { "show", "NAME [-o json]", "Show a template's versions and their clones", cmd_show },
  { "delete", "NAME[@VERSION]", "Delete a version, or a whole template", cmd_delete },
};

int
lodge_template_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("template", template_commands, G_N_ELEMENTS (template_commands),
                             argc, argv);
}
