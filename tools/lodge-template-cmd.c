/* lodge template import|list|show|delete, through the control center's
 * API (controller/lodge-api-template.h): this host needs no Ceph key, no
 * libguestfs and no QEMU. A tree is packed here into a tar archive
 * (libarchive) and uploaded; the controller builds the image. */
#include "lodge-template-cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lodge-cli.h"
#include "lodge-client.h"
#include "lodge-tar.h"
#include "lodge-units.h"
#include "lodge-ve-cmd.h"

/* NAME or NAME@VERSION. */
static void
split_ref (const char *ref, char **ret_name, char **ret_version)
{
  const char *at = strchr (ref, '@');
  *ret_name = at != NULL ? g_strndup (ref, at - ref) : g_strdup (ref);
  *ret_version = at != NULL ? g_strdup (at + 1) : NULL;
}

/* The answer of a GET as JSON, or NULL after printing the error (exit
 * code in *@rc). */
static JsonNode *
get_json (const char *path, int *rc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", path, NULL, NULL, &error) : NULL;
  JsonNode *node = NULL;
  if (answer != NULL)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (answer, &len);
      g_autofree char *text = g_strndup (data, len);
      node = json_from_string (text, &error);
      if (node == NULL && error == NULL)
        g_set_error (&error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED, "an empty answer");
    }
  if (node == NULL)
    *rc = lodge_cli_fail (error);
  return node;
}

static void
print_json_node (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static const char *
member_string (JsonObject *o, const char *name)
{
  return json_object_get_string_member_with_default (o, name, "-");
}

/* ---- import ---- */

typedef struct {
  gboolean tty;
  const char *stage;
  gint64 last_print;
} ImportView;

static void
import_line (ImportView *v, const char *text, gboolean done)
{
  if (v->tty)
    g_printerr ("\r\033[K  %s%s", text, done ? "\n" : "");
  else
    g_printerr ("  %s\n", text);
}

/* "WHAT: N% (DONE of TOTAL MiB)" on a terminal, at most four times a
 * second and at the end. */
static void
progress_line (ImportView *v, const char *what, guint64 done, guint64 total)
{
  gint64 now = g_get_monotonic_time ();
  if (!v->tty || (now - v->last_print < G_USEC_PER_SEC / 4 && done < total))
    return;
  v->last_print = now;
  g_autofree char *text = g_strdup_printf ("%s: %3u%% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                                           " MiB)",
                                           what, total > 0 ? (guint) (done * 100 / total) : 100,
                                           done >> 20, total >> 20);
  import_line (v, text, FALSE);
}

static void
pack_progress (guint64 done, guint64 total, gpointer user_data)
{
  progress_line (user_data, "packing the tree", done, total);
}

static void
upload_progress (guint64 sent, guint64 total, gpointer user_data)
{
  progress_line (user_data, "uploading", sent, total);
}

/* The controller's steps: checking, creating the image, the appliance... */
static void
import_step (const char *step, gint64 ms, gpointer user_data)
{
  ImportView *v = user_data;
  g_autofree char *shown = lodge_line_safe (step); /* it may name a file of the tree */
  g_autofree char *text = g_strdup_printf ("%s (%.1f s)", shown, ms / 1000.0);
  import_line (v, text, TRUE);
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
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "template import", "NAME PATH",
    "Import a file tree as a new version of a template.",
    "PATH is a directory or a tar archive (plain or gzip-compressed). A directory\n"
    "is packed here into a tar archive (owners, modes, symlinks, hard links,\n"
    "FIFOs and extended attributes kept); the archive is uploaded to the control\n"
    "center, which writes the tree into an ext4 filesystem on the template's RBD\n"
    "image with libguestfs, inside its appliance (never mounted on a host), and\n"
    "makes the version a protected snapshot that VE disks are cloned from. This\n"
    "host needs no Ceph key and no QEMU. An archive with absolute or '..' paths,\n"
    "or with device nodes, is refused before anything is written. NAME is\n"
    "created on its first import.\n\n"
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
  if (kind != NULL && strcmp (kind, "os") != 0 && strcmp (kind, "application") != 0)
    return lodge_cli_usage_error ("unknown --kind '%s' (os or application)", kind);
  gboolean app = kind != NULL && strcmp (kind, "application") == 0;
  const char *source = argv[2];
  if (!g_file_test (source, G_FILE_TEST_EXISTS))
    return lodge_cli_usage_error ("%s: no such file or directory", source);

  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  if (c == NULL)
    return lodge_cli_fail (error);
  ImportView view = { isatty (STDERR_FILENO), NULL, 0 };
  g_printerr ("Importing %s as %s template %s\n", source, app ? "application" : "OS", argv[1]);

  /* A directory is packed into a private temporary archive first. */
  g_autofree char *packed = NULL;
  const char *archive = source;
  if (g_file_test (source, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *dir = g_dir_make_tmp ("lodge-import-XXXXXX", &error);
      if (dir == NULL)
        return lodge_cli_fail (error);
      packed = g_build_filename (dir, "tree.tar", NULL);
      gboolean ok = lodge_tar_write_tree (source, packed, pack_progress, &view, NULL, &error);
      if (!ok)
        {
          g_rmdir (dir);
          return lodge_cli_fail (error);
        }
      import_line (&view, "packed the tree", TRUE);
      archive = packed;
    }
  g_autofree char *escaped = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *vesc = version != NULL ? g_uri_escape_string (version, NULL, FALSE) : NULL;
  g_autofree char *path = g_strdup_printf ("/v1/templates/%s?kind=%s%s%s", escaped,
                                           app ? "application" : "os", vesc ? "&version=" : "",
                                           vesc ? vesc : "");
  g_autoptr (GBytes) answer = lodge_client_upload (c, "POST", path, "application/x-tar", archive,
                                                   upload_progress, import_step, &view, &error);
  if (packed != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (packed);
      g_unlink (packed);
      g_rmdir (dir);
    }
  if (view.tty)
    g_printerr ("\r\033[K");
  if (answer == NULL)
    return lodge_cli_fail (error);
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  g_autofree char *text = g_strndup (data, len);
  g_autoptr (JsonNode) node = json_from_string (text, NULL);
  JsonObject *o = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (o == NULL)
    {
      g_printerr ("lodge: the control center answered something that is not a JSON object\n");
      return LODGE_EXIT_FAILED;
    }
  g_autofree char *bytes = lodge_units_format_approx (
    (guint64) json_object_get_int_member_with_default (o, "bytes", 0));
  g_print ("template %s@%s: %" G_GINT64_FORMAT " files, %s\n", argv[1], member_string (o, "version"),
           json_object_get_int_member_with_default (o, "files", 0), bytes);
  return LODGE_EXIT_OK;
}

/* ---- list / show ---- */

static int
cmd_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
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
  g_autoptr (JsonNode) node = get_json ("/v1/templates", &rc);
  if (node == NULL)
    return rc;
  if (json)
    {
      print_json_node (node);
      return LODGE_EXIT_OK;
    }
  g_print ("%-24s %-12s %-8s %-12s %10s  %s\n", "NAME", "KIND", "VERSIONS", "NEWEST", "SIZE",
           "CREATED");
  JsonArray *list = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *t = json_array_get_object_element (list, i);
      JsonArray *versions = json_object_get_array_member (t, "versions");
      guint n = versions != NULL ? json_array_get_length (versions) : 0;
      /* The newest is the last one. */
      JsonObject *v = n > 0 ? json_array_get_object_element (versions, n - 1) : NULL;
      g_autofree char *size = v != NULL ? lodge_units_format_approx (
                                            (guint64) json_object_get_int_member_with_default (v, "bytes", 0))
                                        : g_strdup ("-");
      g_print ("%-24s %-12s %-8u %-12s %10s  %s\n", member_string (t, "name"), member_string (t, "kind"), n,
               v != NULL ? member_string (v, "version") : "-", size,
               v != NULL ? member_string (v, "created") : "-");
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
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
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
  g_autofree char *escaped = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/templates/%s", escaped);
  g_autoptr (JsonNode) node = get_json (path, &rc);
  if (node == NULL)
    return rc;
  if (json)
    {
      print_json_node (node);
      return LODGE_EXIT_OK;
    }
  JsonObject *t = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (t == NULL)
    return LODGE_EXIT_FAILED;
  g_print ("%s template %s (RBD image %s)\n%-12s %8s %10s %10s  %-20s %s\n",
           strcmp (member_string (t, "kind"), "os") == 0 ? "OS" : "application",
           member_string (t, "name"), member_string (t, "image"), "VERSION", "FILES", "SIZE",
           "IMAGE", "CREATED", "CLONES");
  JsonArray *versions = json_object_get_array_member (t, "versions");
  for (guint i = 0; versions != NULL && i < json_array_get_length (versions); i++)
    {
      JsonObject *v = json_array_get_object_element (versions, i);
      g_autofree char *bytes = lodge_units_format_approx (
        (guint64) json_object_get_int_member_with_default (v, "bytes", 0));
      g_autofree char *isize = lodge_units_format_approx (
        (guint64) json_object_get_int_member_with_default (v, "image_size", 0));
      JsonArray *clones = json_object_has_member (v, "clones") ? json_object_get_array_member (v, "clones") : NULL;
      g_autoptr (GString) list = g_string_new (NULL);
      for (guint j = 0; clones != NULL && j < json_array_get_length (clones); j++)
        g_string_append_printf (list, "%s%s", j ? ", " : "", json_array_get_string_element (clones, j));
      g_print ("%-12s %8" G_GINT64_FORMAT " %10s %10s  %-20s %s\n", member_string (v, "version"),
               json_object_get_int_member_with_default (v, "files", 0), bytes, isize,
               member_string (v, "created"), list->len > 0 ? list->str : "-");
    }
  return LODGE_EXIT_OK;
}

/* ---- delete ---- */

static int
cmd_delete (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
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
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *vesc = version != NULL ? g_uri_escape_string (version, NULL, FALSE) : NULL;
  g_autofree char *path = g_strdup_printf ("/v1/templates/%s%s%s", escaped, vesc ? "?version=" : "",
                                           vesc ? vesc : "");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "DELETE", path, NULL, NULL, &error) : NULL;
  if (answer == NULL)
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
