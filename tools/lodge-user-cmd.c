/* `lodge user add|list|remove|whoami`: the API's users (admins only, but
 * whoami). */
#include "lodge-user-cmd.h"

#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-ve-cmd.h"

#define ROLES_HELP \
  "Roles:\n" \
  "  admin     everything\n" \
  "  operator  list, status, console; start, stop, restart, migrate; node drain, undrain\n" \
  "  support   list, status, console; repair, exec, passwd\n" \
  "  viewer    list, status, show (without the root credential), node list, templates\n\n"

static JsonNode *
parse (GBytes *answer, GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static int
cmd_add (int argc, char **argv)
{
  g_autofree char *role = NULL;
  GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role, "admin, operator, support or viewer (required)", "ROLE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user add", "NAME --role ROLE", "Add a user of the API and print its token.",
    "The token is printed once, on standard output, and kept nowhere: the\n"
    "controller keeps only its SHA-256. Give it to the user, who puts it in\n"
    "$LODGE_TOKEN or in the file that token-file= of client.conf names. A user\n"
    "whose token is lost is removed and added again. NAME: 1 to 32 of a-z,\n"
    "0-9 and '-'. Only an admin may add users.\n\n" ROLES_HELP LODGE_CONNECT_HELP
    LODGE_EXIT_CODES_HELP,
    entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "one NAME at a time");
  if (role == NULL)
    return lodge_cli_usage_error ("--role is required (admin, operator, support or viewer)");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer
    = c != NULL ? lodge_client_request (c, "POST", "/v1/users", "application/json", body, &error) : NULL;
  g_autoptr (JsonNode) node = answer != NULL ? parse (answer, &error) : NULL;
  if (node == NULL)
    return lodge_cli_fail (error);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *token = o != NULL ? json_object_get_string_member_with_default (o, "token", NULL) : NULL;
  if (token == NULL)
    {
      g_printerr ("lodge: the control center's answer has no token\n");
      return LODGE_EXIT_FAILED;
    }
  g_printerr ("User %s added (%s). Its token, shown only now:\n", argv[1], role);
  g_print ("%s\n", token);
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
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user list", "[-o json]", "List the API's users: name, role, who added them and when.",
    "Only an admin may list users. Tokens are never shown again.\n\n" LODGE_CONNECT_HELP
    LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("user list takes no arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", "/v1/users", NULL, NULL, &error) : NULL;
  g_autoptr (JsonNode) node = answer != NULL ? parse (answer, &error) : NULL;
  if (node == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      fwrite (g_bytes_get_data (answer, NULL), 1, g_bytes_get_size (answer), stdout);
      return LODGE_EXIT_OK;
    }
  JsonArray *arr = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  g_print ("%-20s %-9s %-20s %s\n", "NAME", "ROLE", "ADDED", "BY");
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      gint64 us = json_object_get_int_member_with_default (o, "created_us", 0);
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
      g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
      g_print ("%-20s %-9s %-20s %s\n", json_object_get_string_member_with_default (o, "name", "?"),
               json_object_get_string_member_with_default (o, "role", "?"), when,
               json_object_get_string_member_with_default (o, "created_by", "?"));
    }
  return LODGE_EXIT_OK;
}

static int
cmd_remove (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user remove", "NAME", "Remove a user of the API: its token stops working at once.",
    "Only an admin may remove users.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, NULL);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "one NAME at a time");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *q = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/users/%s", q);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "DELETE", path, NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_print ("User %s removed\n", argv[1]);
  return LODGE_EXIT_OK;
}

static int
cmd_whoami (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user whoami", "", "Show who the control center takes you for, and your role.",
    ROLES_HELP LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, NULL);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 1)
    return lodge_cli_usage_error ("user whoami takes no arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", "/v1/whoami", NULL, NULL, &error) : NULL;
  g_autoptr (JsonNode) node = answer != NULL ? parse (answer, &error) : NULL;
  if (node == NULL)
    return lodge_cli_fail (error);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_print ("%s (%s)\n", o != NULL ? json_object_get_string_member_with_default (o, "name", "?") : "?",
           o != NULL ? json_object_get_string_member_with_default (o, "role", "?") : "?");
  return LODGE_EXIT_OK;
}

static const LodgeCommand user_commands[] = {
  { "add", "NAME --role ROLE", "Add a user and print its token", cmd_add },
  { "list", "[-o json]", "List users", cmd_list },
  { "remove", "NAME", "Remove a user", cmd_remove },
  { "whoami", "", "Show who you are to the control center", cmd_whoami },
};

int
lodge_user_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("user", user_commands, G_N_ELEMENTS (user_commands), argc, argv);
}
