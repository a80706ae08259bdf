/* `lodge join-token create|list|delete` (an admin's: the tokens new hosts
 * join with) and `lodge cluster init` (on the first controller: lodged
 * does it). */
#include "lodge-join-cmd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "lodge-ve-cmd.h"

/* ---- join tokens ---- */

static gboolean
parse_duration (const char *text, gint64 *ret_s)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (text, &end, 10);
  if (end == text || v <= 0)
    return FALSE;
  gint64 unit = 1;
  if (*end == 's' || *end == '\0')
    unit = 1;
  else if (*end == 'm')
    unit = 60;
  else if (*end == 'h')
    unit = 3600;
  else if (*end == 'd')
    unit = 86400;
  else
    return FALSE;
  if (*end != '\0' && end[1] != '\0')
    return FALSE;
  if (v > G_MAXINT64 / unit)
    return FALSE;
  *ret_s = v * unit;
  return TRUE;
}

static int
cmd_token_create (int argc, char **argv)
{
  g_autofree char *role = NULL, *name = NULL, *ttl = NULL;
  GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role, "node (default) or controller", "ROLE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "The only host name it joins (default: any)", "NAME" },
    { "ttl", 0, 0, G_OPTION_ARG_STRING, &ttl, "How long it is good: 90s, 30m, 2h, 1d (default 1h; at most 7d)", "DURATION" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "join-token create", "[--role node|controller] [--name NAME] [--ttl DURATION]",
    "Make a token a new host joins the cluster with, once.",
    "Prints the token and the command to run on the new host. The token is\n"
    "shown once (the cluster keeps only its hash); it is used up by the first\n"
    "join, and refused after its time. It carries the cluster CA's SHA-256, so\n"
    "the joining host can tell the real controller from another. Only an admin\n"
    "may make one.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("join-token create takes no arguments");
  if (role == NULL)
    role = g_strdup ("node");
  if (strcmp (role, "node") != 0 && strcmp (role, "controller") != 0)
    return lodge_cli_usage_error ("--role must be node or controller, not '%s'", role);
  gint64 ttl_s = 3600;
  if (ttl != NULL && !parse_duration (ttl, &ttl_s))
    return lodge_cli_usage_error ("--ttl must be a duration like 90s, 30m, 2h or 1d, not '%s'", ttl);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  if (name != NULL)
    {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, name);
    }
  json_builder_set_member_name (b, "ttl");
  json_builder_add_int_value (b, ttl_s);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "POST", "/v1/join-tokens", "application/json", body, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o = json_parser_load_from_data (p, g_bytes_get_data (answer, NULL), (gssize) g_bytes_get_size (answer), NULL)
                      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))
                    ? json_node_get_object (json_parser_get_root (p)) : NULL;
  const char *token = o != NULL ? json_object_get_string_member_with_default (o, "token", NULL) : NULL;
  if (token == NULL)
    {
      g_printerr ("lodge: the controller's answer has no token\n");
      return LODGE_EXIT_FAILED;
    }
  g_print ("%s\n", token);
  g_printerr ("lodge: on the new %s, as root: lodge %s join https://CONTROLLER:8443 --token %s%s%s\n", role, role,
              token, name != NULL ? " --name " : "", name != NULL ? name : "");
  return LODGE_EXIT_OK;
}

static int
cmd_token_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "join-token list", "[-o json]", "List the join tokens not used yet (never their secrets).",
    "An expired one stays listed, marked so, until it is deleted.\n\n" LODGE_CONNECT_HELP
    LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("join-token list takes no arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", "/v1/join-tokens", NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      fwrite (g_bytes_get_data (answer, NULL), 1, g_bytes_get_size (answer), stdout);
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *arr = json_parser_load_from_data (p, g_bytes_get_data (answer, NULL), (gssize) g_bytes_get_size (answer), NULL)
                       && JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p))
                     ? json_node_get_array (json_parser_get_root (p)) : NULL;
  g_print ("%-9s %-11s %-16s %-21s %s\n", "ID", "ROLE", "NAME", "EXPIRES", "BY");
  gint64 now = g_get_real_time ();
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      gint64 exp = json_object_get_int_member_with_default (o, "expires_us", 0);
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (exp / G_USEC_PER_SEC);
      g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
      g_print ("%-9s %-11s %-16s %-21s %s%s\n", json_object_get_string_member_with_default (o, "id", "?"),
               json_object_get_string_member_with_default (o, "role", "?"),
               json_object_get_string_member_with_default (o, "name", "(any)"), when,
               json_object_get_string_member_with_default (o, "created_by", "?"), exp <= now ? "  (expired)" : "");
    }
  return LODGE_EXIT_OK;
}

static int
cmd_token_delete (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "join-token delete", "ID", "Delete a join token: no host can join with it after.",
    LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, NULL);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no token ID given" : "one token ID at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *path = g_strdup_printf ("/v1/join-tokens/%s", argv[1]);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "DELETE", path, NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  return LODGE_EXIT_OK;
}

static const LodgeCommand token_commands[] = {
  { "create", "[--role ROLE] [--name NAME] [--ttl DURATION]", "Make a join token", cmd_token_create },
  { "list", "[-o json]", "List join tokens not used yet", cmd_token_list },
  { "delete", "ID", "Delete a join token", cmd_token_delete },
};

int
lodge_join_token_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("join-token", token_commands, G_N_ELEMENTS (token_commands), argc, argv);
}

/* ---- cluster init ---- */

/* `lodge cluster init` needs Ceph's admin key and librados, which the
 * CLI does not link: lodged (lodge-controller) does it. */
static int
cmd_cluster_init (int argc, char **argv)
{
  const char *dir = g_getenv ("LODGE_LODGED");
  g_autofree char *lodged = dir != NULL && *dir != '\0' ? g_strdup (dir) : g_find_program_in_path ("lodged");
  if (lodged == NULL && g_file_test ("/usr/sbin/lodged", G_FILE_TEST_IS_EXECUTABLE))
    lodged = g_strdup ("/usr/sbin/lodged");
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) && lodged == NULL)
    {
      g_print ("Usage: lodge cluster init [OPTION...]\n\nCreate a Lodge cluster on an existing Ceph: runs "
               "'lodged --init-cluster' of the lodge-controller package, which is not installed here.\n");
      return LODGE_EXIT_OK;
    }
  if (lodged == NULL)
    {
      g_printerr ("lodge: cluster init runs on the first controller, with lodged: install lodge-controller "
                  "there (apt-get install lodge-controller)\n");
      return LODGE_EXIT_FAILED;
    }
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_add_many (b, lodged, "--init-cluster", NULL);
  for (int i = 1; i < argc; i++)
    g_strv_builder_add (b, argv[i]);
  g_auto (GStrv) args = g_strv_builder_end (b);
  execv (lodged, args);
  int saved = errno;
  g_printerr ("lodge: cannot run %s: %s\n", lodged, g_strerror (saved));
  return LODGE_EXIT_FAILED;
}

static const LodgeCommand cluster_commands[] = {
  { "init", "[OPTION...]", "Create a cluster on an existing Ceph (runs lodged --init-cluster)", cmd_cluster_init },
};

int
lodge_cluster_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("cluster", cluster_commands, G_N_ELEMENTS (cluster_commands), argc, argv);
}
