/* lodge define|undefine|list|show|status and lodge node list: thin clients
 * of the control center's API. */
#include "lodge-ve-cmd.h"

#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-cli.h"
#include "lodge-client.h"
#include "lodge-env.h"
#include "lodge-join-cmd.h"
#include "lodge-strings.h"
#include "lodge-xml.h"

static char *connect_target;

static GOptionEntry connect_entries[] = {
  { "connect", 'C', 0, G_OPTION_ARG_STRING, &connect_target,
    "The control centers: unix:/path or https://host:port, comma-separated (default "
    "$LODGE_URL, else client.conf)", "URI" },
  G_OPTION_ENTRY_NULL
};


GOptionContext *
lodge_ve_cmd_context (const char *name, const char *params, const char *summary,
                      const char *description, GOptionEntry *entries)
{
  GOptionContext *ctx = lodge_cli_context (name, params, summary, description, entries);
  GOptionGroup *g = g_option_group_new ("connect", "Connection:", "Show connection options",
                                        NULL, NULL);
  g_option_group_add_entries (g, connect_entries);
  g_option_context_add_group (ctx, g);
  return ctx;
}

LodgeClient *
lodge_ve_cmd_client (GError **error)
{
  return lodge_client_new (connect_target, NULL, error);
}

/* @method /v1/environments/NAME@suffix on the control center. */
static GBytes *
request_ve (const char *method, const char *name, const char *suffix, GError **error)
{
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (error);
  if (c == NULL)
    return NULL;
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/environments/%s%s", escaped, suffix);
  return lodge_client_request (c, method, path, NULL, NULL, error);
}

static JsonArray *
parse_array (GBytes *json, JsonParser *parser)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (json, &len);
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    return NULL;
  return json_node_get_array (json_parser_get_root (parser));
}

static void
print_bytes (GBytes *b)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (b, &len);
  fwrite (data, 1, len, stdout);
}

/* The guest's console: what it wrote is hostile, escaped for the terminal
 * (unless --raw); a character cut between two reads of the log waits for
 * the next. */
static void
print_guest_bytes (LodgeCliGuestOutput *out, GBytes *b)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (b, &len);
  lodge_cli_guest_write (out, data != NULL ? data : "", len);
}

static int
cmd_define (int argc, char **argv)
{
  gboolean create_only = FALSE;
  GOptionEntry entries[] = {
    { "new", 'n', 0, G_OPTION_ARG_NONE, &create_only,
      "Only define a new environment: fail (exit 4) if the name is taken", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "define", "FILE", "Define an environment (or change its definition) from XML.",
    "FILE is checked as `lodge validate` does, and by the control center again,\n"
    "which also checks that its template exists. An environment of that name\n"
    "gets the new definition (unless --new); a running one keeps running and\n"
    "gets it at its next start.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no FILE given" : "only one FILE at a time");
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_autofree char *xml = lodge_xml_read_file (argv[1], LODGE_XML_MAX_BYTES, &len, &error);
  /* The name for the request's path; the control center checks it all. */
  g_autoptr (LodgeEnvDef) def = xml != NULL ? lodge_env_def_load (xml, len, argv[1], &error) : NULL;
  g_autoptr (LodgeClient) c = def != NULL ? lodge_ve_cmd_client (&error) : NULL;
  if (c == NULL)
    return lodge_cli_fail (error);
  g_autoptr (GBytes) body = g_bytes_new (xml, len);
  g_autofree char *escaped = g_uri_escape_string (def->name, NULL, FALSE);
  g_autofree char *path = create_only ? g_strdup ("/v1/environments")
                                      : g_strdup_printf ("/v1/environments/%s", escaped);
  g_autoptr (GBytes) answer = lodge_client_request (c, create_only ? "POST" : "PUT", path,
                                                    "application/xml", body, &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize alen = 0;
  const char *adata = g_bytes_get_data (answer, &alen);
  const char *name = "?";
  gboolean created = FALSE;
  if (json_parser_load_from_data (parser, adata, (gssize) alen, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      name = json_object_get_string_member_with_default (o, "name", "?");
      created = json_object_get_boolean_member_with_default (o, "created", FALSE);
    }
  g_print ("environment %s %s\n", name, created ? "defined" : "redefined (applies at its next start)");
  return LODGE_EXIT_OK;
}

static int
cmd_undefine (int argc, char **argv)
{
  gboolean remove_storage = FALSE;
  GOptionEntry entries[] = {
    { "remove-storage", 0, 0, G_OPTION_ARG_NONE, &remove_storage,
      "Also delete the environment's root disk (and its snapshots)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "undefine", "NAME", "Remove an environment's definition.",
    "Refused while the environment runs: stop it first. Its root disk stays\n"
    "unless --remove-storage is given.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = request_ve ("DELETE", argv[1], remove_storage ? "?storage=yes" : "", &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_print ("environment %s undefined%s\n", argv[1], remove_storage ? ", its disk removed" : "");
  return LODGE_EXIT_OK;
}

static int
cmd_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context ("list", "", "List environments with their state.",
                                            LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("no arguments expected");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", "/v1/environments", NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      print_bytes (answer);
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *arr = parse_array (answer, parser);
  g_print ("%-24s %-10s %-10s %s\n", "NAME", "DESIRED", "PHASE", "NODE");
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      g_print ("%-24s %-10s %-10s %s\n", json_object_get_string_member_with_default (o, "name", "?"),
               json_object_get_string_member_with_default (o, "desired", "?"),
               json_object_get_string_member_with_default (o, "phase", "?"),
               json_object_get_string_member_with_default (o, "node", "-"));
    }
  return LODGE_EXIT_OK;
}

static int
cmd_show (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context ("show", "NAME", "Print an environment's definition (XML).",
                                            LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = request_ve ("GET", argv[1], "", &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  print_bytes (answer);
  return LODGE_EXIT_OK;
}

static int
cmd_status (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context ("status", "NAME", "Show an environment's state.",
                                            LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = request_ve ("GET", argv[1], "/status", &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      print_bytes (answer);
      g_print ("\n");
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL))
    return LODGE_EXIT_FAILED;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *keys[] = { "name", "desired", "phase", "node", "target_node", "uptime_s", "addresses",
                         "replicas", "generation", "disk_pool", "disk_image", "template_version",
                         "migration_ms", "downtime_ms", "stop_reason", "restarts", "repair",
                         "last_error" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      JsonNode *n = json_object_get_member (o, keys[i]);
      if (n == NULL)
        continue;
      if (JSON_NODE_HOLDS_ARRAY (n))
        {
          JsonArray *a = json_node_get_array (n);
          g_print ("%-17s", keys[i]);
          for (guint j = 0; j < json_array_get_length (a); j++)
            {
              g_autofree char *shown = lodge_line_safe (json_array_get_string_element (a, j));
              g_print (" %s", shown);
            }
          g_print ("%s\n", json_array_get_length (a) == 0 ? " -" : "");
          continue;
        }
      /* addresses, stop_reason, last_error: the guest's or its agent's words. */
      g_autofree char *v = json_node_get_value_type (n) == G_TYPE_STRING ? lodge_line_safe (json_node_get_string (n))
                                                                          : g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
      g_print ("%-17s %s\n", keys[i], v);
    }
  return LODGE_EXIT_OK;
}

static int
cmd_console (int argc, char **argv)
{
  int lines = 100;
  gboolean follow = FALSE, raw = FALSE;
  GOptionEntry entries[] = {
    { "lines", 'n', 0, G_OPTION_ARG_INT, &lines, "Show the last N lines (default 100)", "N" },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "Keep showing what the guest writes, until "
      "interrupted", NULL },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &raw, "Print the guest's bytes as they are", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "console", "NAME", "Show an environment's serial console log.",
    "The guest's console (kernel messages, its init's output, the ready line)\n"
    "as the node's libvirt logs it; the log of the VE's current or last boot.\n\n"
    LODGE_RAW_HELP
    LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  if (lines < 0)
    return lodge_cli_usage_error ("--lines must be 0 or more");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  if (c == NULL)
    return lodge_cli_fail (error);
  g_autofree char *escaped = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/environments/%s/console?lines=%d", escaped, lines);
  g_autofree char *offset = NULL;
  g_autoptr (GBytes) answer = lodge_client_request_full (c, "GET", path, NULL, NULL,
                                                         "Lodge-Console-Offset", &offset, &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  LodgeCliGuestOutput out = { .out = stdout, .escape = !raw };
  print_guest_bytes (&out, answer);
  fflush (stdout);
  while (follow && offset != NULL)
    {
      g_usleep (500 * 1000); /* the API has no push channel for the log: poll it */
      g_free (path);
      g_autofree char *token = g_uri_escape_string (offset, NULL, FALSE);
      path = g_strdup_printf ("/v1/environments/%s/console?offset=%s", escaped, token);
      g_autofree char *next = NULL;
      g_autoptr (GBytes) more = lodge_client_request_full (c, "GET", path, NULL, NULL,
                                                           "Lodge-Console-Offset", &next, &error);
      if (more == NULL)
        {
          lodge_cli_guest_end (&out);
          return lodge_cli_fail (error);
        }
      print_guest_bytes (&out, more);
      fflush (stdout);
      g_free (offset);
      offset = g_steal_pointer (&next);
    }
  lodge_cli_guest_end (&out);
  return LODGE_EXIT_OK;
}

/* The answer of a lifecycle operation: its steps (with their times) on
 * stderr, the outcome on stdout. */
static void
print_step (const char *step, gint64 ms, gpointer user_data)
{
  gboolean *printed = user_data;
  *printed = TRUE;
  lodge_cli_print_step (step, ms);
}

/* POST @suffix on environment @name, its steps shown as they happen. */
static GBytes *
request_operation (const char *name, const char *suffix, gboolean *ret_printed, GError **error)
{
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (error);
  if (c == NULL)
    return NULL;
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/environments/%s%s", escaped, suffix);
  return lodge_client_request_steps (c, "POST", path, print_step, ret_printed, error);
}

static void
print_operation (GBytes *answer, const char *name, gboolean steps_printed)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  if (json_parser_load_from_data (parser, data, (gssize) len, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonArray *steps = json_object_has_member (o, "steps") ? json_object_get_array_member (o, "steps") : NULL;
      JsonArray *ms = json_object_has_member (o, "step_ms") ? json_object_get_array_member (o, "step_ms") : NULL;
      for (guint i = 0; !steps_printed && steps != NULL && i < json_array_get_length (steps); i++)
        {
          g_autofree char *shown = lodge_line_safe (json_array_get_string_element (steps, i));
          if (ms != NULL && i < json_array_get_length (ms))
            g_printerr ("  [%6.2f s] ", json_array_get_int_element (ms, i) / 1000.0);
          else
            g_printerr ("  ");
          g_printerr ("%s\n", shown);
        }
      JsonObject *st = json_object_has_member (o, "status") ? json_object_get_object_member (o, "status") : NULL;
      if (st != NULL)
        g_print ("%s: %s%s%s\n", name, json_object_get_string_member_with_default (st, "phase", "?"),
                 json_object_has_member (st, "node") ? " on " : "",
                 json_object_get_string_member_with_default (st, "node", ""));
    }
}

static int
lifecycle (const char *action, const char *summary, const char *description, int argc, char **argv)
{
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Power off at once instead of shutting down", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (action, "NAME", summary, description,
                                            strcmp (action, "start") != 0 ? entries : NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  g_autoptr (GError) error = NULL;
  g_autofree char *suffix = g_strdup_printf ("/%s%s", action, force ? "?force=yes" : "");
  g_printerr ("%s %s...\n", strcmp (action, "start") == 0 ? "Starting" : strcmp (action, "stop") == 0 ? "Stopping" : "Restarting", argv[1]);
  gboolean printed = FALSE;
  g_autoptr (GBytes) answer = request_operation (argv[1], suffix, &printed, &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  print_operation (answer, argv[1], printed);
  return LODGE_EXIT_OK;
}

static int
cmd_start (int argc, char **argv)
{
  return lifecycle ("start", "Start an environment and wait until its guest is ready.",
                    "The control center places it on a node with room (memory is\n"
                    "overcommitted by each node's ratio), clones its root disk from its\n"
                    "template on first start, and waits for the guest's ready line.\n"
                    "Starting a running environment does nothing.\n\n" LODGE_CONNECT_HELP
                    LODGE_EXIT_CODES_HELP, argc, argv);
}

static int
cmd_stop (int argc, char **argv)
{
  return lifecycle ("stop", "Stop an environment.",
                    "The guest is asked to shut down (ACPI) and powered off if it has not\n"
                    "within the control center's deadline; --force powers it off at once.\n\n"
                    LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, argc, argv);
}

static int
cmd_restart (int argc, char **argv)
{
  return lifecycle ("restart", "Stop an environment, then start it (possibly on another node).",
                    LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, argc, argv);
}

static int
cmd_migrate (int argc, char **argv)
{
  g_autofree char *to = NULL;
  int downtime = 0;
  GOptionEntry entries[] = {
    { "to", 't', 0, G_OPTION_ARG_STRING, &to, "The node to move to (default: the scheduler picks "
      "one with room)", "NODE" },
    { "max-downtime", 'd', 0, G_OPTION_ARG_INT, &downtime, "Milliseconds the guest may be paused "
      "for the switch-over (default: the control center's, 300)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "migrate", "NAME", "Move a running environment to another node, live.",
    "Only memory moves (the disk is on RBD, shared by every node): the guest\n"
    "keeps running, keeps its address, and its TCP connections survive. Busy\n"
    "guests are slowed down (auto-converge) until the rest fits in the\n"
    "downtime. When the migration fails the environment still runs where it\n"
    "was, and the error says so. `lodge status` shows the last migration's\n"
    "total time and downtime.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "only one NAME at a time");
  if (downtime < 0 || downtime > 60000)
    return lodge_cli_usage_error ("--max-downtime: give 1 to 60000 milliseconds");
  g_autoptr (GString) suffix = g_string_new ("/migrate");
  char sep = '?';
  if (to != NULL)
    {
      g_autofree char *q = g_uri_escape_string (to, NULL, FALSE);
      g_string_append_printf (suffix, "%cto=%s", sep, q);
      sep = '&';
    }
  if (downtime > 0)
    g_string_append_printf (suffix, "%cmax_downtime_ms=%d", sep, downtime);
  g_printerr ("Migrating %s%s%s...\n", argv[1], to != NULL ? " to " : "", to != NULL ? to : "");
  g_autoptr (GError) error = NULL;
  gboolean printed = FALSE;
  g_autoptr (GBytes) answer = request_operation (argv[1], suffix->str, &printed, &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  print_operation (answer, argv[1], printed);
  return LODGE_EXIT_OK;
}

static int
node_state_change (const char *action, const char *summary, const char *description, int argc,
                   char **argv)
{
  g_autofree char *cmd = g_strdup_printf ("node %s", action);
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (cmd, "NODE", summary, description, NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NODE given" : "only one NODE at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  if (c == NULL)
    return lodge_cli_fail (error);
  g_autofree char *q = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/nodes/%s/%s", q, action);
  if (strcmp (action, "drain") == 0)
    g_printerr ("Draining %s: it takes no new environments; moving its running ones away...\n", argv[1]);
  g_autoptr (GBytes) answer = lodge_client_request (c, "POST", path, NULL, NULL, &error);
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (strcmp (action, "drain") != 0)
    {
      g_print ("%s: schedulable again\n", argv[1]);
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return LODGE_EXIT_FAILED;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  JsonArray *moved = json_object_get_array_member (o, "migrated");
  JsonArray *failed = json_object_get_array_member (o, "failed");
  for (guint i = 0; moved != NULL && i < json_array_get_length (moved); i++)
    {
      JsonObject *m = json_array_get_object_element (moved, i);
      g_print ("  %s: migrated to %s in %" G_GINT64_FORMAT " ms (downtime %" G_GINT64_FORMAT " ms)\n",
               json_object_get_string_member_with_default (m, "name", "?"),
               json_object_get_string_member_with_default (m, "to", "?"),
               json_object_get_int_member_with_default (m, "migration_ms", 0),
               json_object_get_int_member_with_default (m, "downtime_ms", 0));
    }
  guint n_failed = failed != NULL ? json_array_get_length (failed) : 0;
  for (guint i = 0; i < n_failed; i++)
    {
      JsonObject *m = json_array_get_object_element (failed, i);
      g_autofree char *why = lodge_line_safe (json_object_get_string_member_with_default (m, "error", "?"));
      g_print ("  %s: not moved: %s\n", json_object_get_string_member_with_default (m, "name", "?"), why);
    }
  g_print ("%s: draining; %u moved, %u left on it\n", argv[1],
           moved != NULL ? json_array_get_length (moved) : 0, n_failed);
  return n_failed == 0 ? LODGE_EXIT_OK : LODGE_EXIT_FAILED;
}

static int
cmd_node_drain (int argc, char **argv)
{
  return node_state_change ("drain", "Take a node out of service: no new VEs, its VEs move away.",
                            "The node is marked draining at once (the scheduler skips it), then\n"
                            "its running environments are live-migrated to other nodes, two at\n"
                            "a time; each one's outcome is shown. Exit status 6 if any could not\n"
                            "move (it still runs on the node). `lodge node undrain` ends it.\n\n"
                            LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, argc, argv);
}

static int
cmd_node_undrain (int argc, char **argv)
{
  return node_state_change ("undrain", "Make a drained node schedulable again.",
                            "Nothing moves back by itself.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
                            argc, argv);
}

static int
cmd_node_remove (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "node remove", "NODE", "Remove a node that left the cluster for good.",
    "Its records and its Ceph identity (client.lodge-NODE) are deleted: if its\n"
    "agent ran again it could not reach Ceph. Only a node that is down (drain it,\n"
    "then stop lodge-agent there) and has no VE on it. To bring the host back,\n"
    "join it again (lodge join-token create, lodge node join). Only an admin may.\n\n"
    LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NODE given" : "only one NODE at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *q = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/nodes/%s", q);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "DELETE", path, NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_print ("%s: removed\n", argv[1]);
  return LODGE_EXIT_OK;
}

static int
cmd_node_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context ("node list", "", "List nodes: state, capacity, accelerator (and, for a node without KVM, why).",
                                            LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", "/v1/nodes", NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      print_bytes (answer);
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *arr = parse_array (answer, parser);
  g_print ("%-12s %-9s %-5s %5s %10s %7s %s\n", "NAME", "STATE", "ACCEL", "CPUS", "MEMORY", "DOMAINS", "LIBVIRT");
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      JsonArray *doms = json_object_has_member (o, "domains") ? json_object_get_array_member (o, "domains") : NULL;
      g_print ("%-12s %-9s %-5s %5" G_GINT64_FORMAT " %7" G_GINT64_FORMAT " MiB %7u %s\n",
               json_object_get_string_member_with_default (o, "name", "?"),
               json_object_get_string_member_with_default (o, "state", "?"),
               json_object_get_string_member_with_default (o, "accel", "?"),
               json_object_get_int_member_with_default (o, "cpus", 0),
               json_object_get_int_member_with_default (o, "memory", 0) >> 20,
               doms != NULL ? json_array_get_length (doms) : 0,
               json_object_get_string_member_with_default (o, "libvirt_uri", "?"));
    }
  /* Why a node runs its VEs without KVM: it matters for their speed. */
  gboolean first = TRUE;
  /* Ceph's monitors without a quorum: said once, first (an older
   * controller without the route: nothing said). */
  g_autoptr (GBytes) ceph = lodge_client_request (c, "GET", "/v1/ceph", NULL, NULL, NULL);
  g_autoptr (JsonParser) ceph_parser = json_parser_new ();
  JsonNode *ceph_root = ceph != NULL && json_parser_load_from_data (ceph_parser, g_bytes_get_data (ceph, NULL),
                                                                    (gssize) g_bytes_get_size (ceph), NULL)
                          ? json_parser_get_root (ceph_parser)
                          : NULL;
  JsonObject *co = ceph_root != NULL && JSON_NODE_HOLDS_OBJECT (ceph_root) ? json_node_get_object (ceph_root) : NULL;
  if (co != NULL && g_strcmp0 (json_object_get_string_member_with_default (co, "monitors", ""), "no-quorum") == 0)
    {
      g_autofree char *why = g_strescape (json_object_get_string_member_with_default (co, "problem", "?"), NULL);
      gint64 since = json_object_get_int_member_with_default (co, "since_us", 0);
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (since / G_USEC_PER_SEC);
      g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
      g_print ("\nceph: the monitors have no quorum since %s (%s); nothing fails over for it, "
               "and fencing waits for them\n", when, why);
      first = FALSE;
    }
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      const char *why = json_object_get_string_member_with_default (o, "accel_reason", NULL);
      if (why != NULL)
        {
          g_autofree char *shown = g_strescape (why, NULL);
          g_print ("%s%s: %s because %s\n", first ? "\n" : "",
                   json_object_get_string_member_with_default (o, "name", "?"),
                   json_object_get_string_member_with_default (o, "accel", "?"), shown);
          first = FALSE;
        }
    }
  return LODGE_EXIT_OK;
}

static const LodgeCommand node_commands[] = {
  { "list", "[-o json]", "List nodes", cmd_node_list },
  { "drain", "NODE", "Stop scheduling on a node and move its VEs away", cmd_node_drain },
  { "undrain", "NODE", "Make a drained node schedulable again", cmd_node_undrain },
  { "join", "CONTROLLER --token TOKEN", "Join this host to a cluster as a node", lodge_node_join_cmd },
  { "remove", "NODE", "Remove a node that left the cluster (down, no VEs)", cmd_node_remove },
};

static int
cmd_node (int argc, char **argv)
{
  return lodge_cli_dispatch ("node", node_commands, G_N_ELEMENTS (node_commands), argc, argv);
}

const LodgeCommand lodge_ve_commands[] = {
  { "define", "FILE", "Define an environment from XML", cmd_define },
  { "undefine", "NAME", "Remove an environment's definition", cmd_undefine },
  { "start", "NAME", "Start an environment", cmd_start },
  { "stop", "NAME [--force]", "Stop an environment", cmd_stop },
  { "restart", "NAME", "Restart an environment", cmd_restart },
  { "list", "[-o json]", "List environments", cmd_list },
  { "show", "NAME", "Print an environment's definition", cmd_show },
  { "status", "NAME", "Show an environment's state", cmd_status },
  { "console", "NAME [-n N] [-f]", "Show an environment's serial console log", cmd_console },
  { "migrate", "NAME [--to NODE]", "Move a running environment to another node, live", cmd_migrate },
  { "node", "COMMAND ...", "Nodes: list, drain, undrain, join, remove", cmd_node },
};
const guint lodge_ve_n_commands = G_N_ELEMENTS (lodge_ve_commands);
