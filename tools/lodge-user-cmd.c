/* `lodge user add|set|list|remove|whoami`: the API's users (admins only,
 * but whoami), and a customer's limits. */
#include "lodge-user-cmd.h"

#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-units.h"
#include "lodge-ve-cmd.h"

#define ROLES_HELP \
  "Roles:\n" \
  "  admin     everything\n" \
  "  operator  list, status, console; start, stop, restart, migrate; node drain, undrain\n" \
  "  support   list, status, console; repair, exec, passwd\n" \
  "  viewer    list, status, show (without the root credential), node list, templates\n" \
  "  customer  its own VEs only: list, status, show, console; start, stop, restart;\n" \
  "            exec, passwd, app configure; define and undefine, from the templates\n" \
  "            and applications an admin allows it, within its quotas\n\n"

#define LIMITS_HELP \
  "A customer's limits (options of add and set):\n" \
  "  --max-environments N  VEs it may have defined\n" \
  "  --max-vcpus N         vCPUs of its VEs that run (checked at each start)\n" \
  "  --max-memory SIZE     memory of its VEs that run (SIZE: 512M, 8G, 1T...)\n" \
  "  --max-disk SIZE       disk of its VEs defined\n" \
  "  --templates A,B       the OS templates its VEs may be defined from\n" \
  "  --applications A,B    the application templates its VEs may have\n" \
  "A quota of 'none' is no limit (add: the default); a list of '' is none.\n\n"

typedef struct {
  char *quota[4]; /* environments, vcpus, memory, disk: as given */
  char *templates, *applications;
} Limits;

static void
limits_clear (Limits *l)
{
  for (guint i = 0; i < G_N_ELEMENTS (l->quota); i++)
    g_free (l->quota[i]);
  g_free (l->templates);
  g_free (l->applications);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Limits, limits_clear)

#define LIMIT_ENTRIES(l) \
  { "max-environments", 0, 0, G_OPTION_ARG_STRING, &(l).quota[0], "VEs it may have defined", "N" }, \
  { "max-vcpus", 0, 0, G_OPTION_ARG_STRING, &(l).quota[1], "vCPUs of its running VEs", "N" }, \
  { "max-memory", 0, 0, G_OPTION_ARG_STRING, &(l).quota[2], "memory of its running VEs", "SIZE" }, \
  { "max-disk", 0, 0, G_OPTION_ARG_STRING, &(l).quota[3], "disk of its VEs", "SIZE" }, \
  { "templates", 0, 0, G_OPTION_ARG_STRING, &(l).templates, "OS templates it may use", "A,B" }, \
  { "applications", 0, 0, G_OPTION_ARG_STRING, &(l).applications, "applications it may use", "A,B" }

static const char *const quota_names[] = { "environments", "vcpus", "memory", "disk" };
static const char *const quota_options[] = { "--max-environments", "--max-vcpus", "--max-memory",
                                             "--max-disk" };

static gboolean
limits_given (const Limits *l)
{
  for (guint i = 0; i < G_N_ELEMENTS (l->quota); i++)
    if (l->quota[i] != NULL)
      return TRUE;
  return l->templates != NULL || l->applications != NULL;
}

/* Whether quota @i (of quota_names) is in bytes: memory and disk. */
static gboolean
sized (guint i)
{
  return i >= 2;
}

/* Quota @i's value @v for people: "2 GiB" for a size, "2" else. */
static char *
amount (guint i, gint64 v)
{
  return sized (i) ? lodge_units_format ((guint64) v) : g_strdup_printf ("%" G_GINT64_FORMAT, v);
}

/* "8", "8G", "512MiB", "none": into @b as a quota's value; FALSE (and
 * a usage error in *@ret_exit) when it is none of those. */
static gboolean
add_quota (JsonBuilder *b, guint i, const char *text, int *ret_exit)
{
  json_builder_set_member_name (b, quota_names[i]);
  if (strcmp (text, "none") == 0)
    {
      json_builder_add_null_value (b);
      return TRUE;
    }
  const char *end = text;
  while (g_ascii_isdigit (*end))
    end++;
  g_autofree char *digits = g_strndup (text, (gsize) (end - text));
  guint64 v = 0;
  g_autoptr (GError) error = NULL;
  if (digits[0] != '\0' && (sized (i) ? lodge_units_scale (digits, *end != '\0' ? end : NULL, "bytes", &v, &error)
                                   : *end == '\0' && g_ascii_string_to_unsigned (digits, 10, 0, G_MAXINT64, &v, NULL))
      && v <= ((guint64) 1 << 60))
    {
      json_builder_add_int_value (b, (gint64) v);
      return TRUE;
    }
  *ret_exit = lodge_cli_usage_error ("%s: '%s' is not %s, nor 'none'", quota_options[i], text,
                                     sized (i) ? "a size (512M, 8G, 1T; bytes without a unit)" : "a whole number");
  return FALSE;
}

static void
add_list (JsonBuilder *b, const char *member, const char *text)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  g_auto (GStrv) names = g_strsplit (text, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (names[i][0] != '\0')
      json_builder_add_string_value (b, g_strstrip (names[i]));
  json_builder_end_array (b);
}

/* The members of @l into @b: "quota" (what was given), the lists. With
 * @add, "none" is no member (no limit is the default). */
static gboolean
add_limits (JsonBuilder *b, const Limits *l, gboolean add, int *ret_exit)
{
  gboolean any = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (l->quota); i++)
    any |= l->quota[i] != NULL && !(add && strcmp (l->quota[i], "none") == 0);
  if (any)
    {
      json_builder_set_member_name (b, "quota");
      json_builder_begin_object (b);
      for (guint i = 0; i < G_N_ELEMENTS (l->quota); i++)
        if (l->quota[i] != NULL && !(add && strcmp (l->quota[i], "none") == 0)
            && !add_quota (b, i, l->quota[i], ret_exit))
          return FALSE;
      json_builder_end_object (b);
    }
  if (l->templates != NULL)
    add_list (b, "templates", l->templates);
  if (l->applications != NULL)
    add_list (b, "applications", l->applications);
  return TRUE;
}

/* "3 VEs, 4 vCPUs, 2 GiB, 20 GiB disk; busybox; apps: site" of a
 * customer's JSON (its "quota" and lists). */
static char *
describe_limits (JsonObject *o)
{
  JsonObject *q = json_object_has_member (o, "quota") ? json_object_get_object_member (o, "quota") : NULL;
  if (q == NULL)
    return g_strdup ("");
  GString *s = g_string_new (NULL);
  static const char *const what[] = { "VEs", "vCPUs", "memory", "disk" };
  for (guint i = 0; i < G_N_ELEMENTS (quota_names); i++)
    {
      g_string_append (s, i > 0 ? ", " : "");
      if (!json_object_has_member (q, quota_names[i]))
        g_string_append_printf (s, "%s: no limit", what[i]);
      else
        {
          g_autofree char *v = amount (i, json_object_get_int_member (q, quota_names[i]));
          if (sized (i))
            g_string_append_printf (s, "%s: %s", what[i], v);
          else
            g_string_append_printf (s, "%s %s", v, what[i]);
        }
    }
  static const char *const lists[] = { "templates", "applications" };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      JsonArray *a = json_object_has_member (o, lists[i]) ? json_object_get_array_member (o, lists[i]) : NULL;
      g_string_append_printf (s, "; %s: ", lists[i]);
      guint n = a != NULL ? json_array_get_length (a) : 0;
      for (guint j = 0; j < n; j++)
        g_string_append_printf (s, "%s%s", j > 0 ? "," : "", json_array_get_string_element (a, j));
      if (n == 0)
        g_string_append (s, "none");
    }
  return g_string_free (s, FALSE);
}


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
  g_auto (Limits) limits = { 0 };
  GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role, "admin, operator, support, viewer or customer (required)", "ROLE" },
    LIMIT_ENTRIES (limits),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user add", "NAME --role ROLE [LIMITS]", "Add a user of the API and print its token.",
    "The token is printed once, on standard output, and kept nowhere: the\n"
    "controller keeps only its SHA-256. Give it to the user, who puts it in\n"
    "$LODGE_TOKEN or in the file that token-file= of client.conf names. A user\n"
    "whose token is lost is removed and added again. NAME: 1 to 32 of a-z,\n"
    "0-9 and '-'. Only an admin may add users.\n\n"
    "Example: lodge user add acme --role customer --max-environments 3 \\\n"
    "           --max-vcpus 4 --max-memory 4G --max-disk 60G --templates debian-12\n\n"
    ROLES_HELP LIMITS_HELP LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "one NAME at a time");
  if (role == NULL)
    return lodge_cli_usage_error ("--role is required (admin, operator, support, viewer or customer)");
  if (limits_given (&limits) && strcmp (role, "customer") != 0)
    return lodge_cli_usage_error ("quotas, --templates and --applications are a customer's (--role customer)");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  if (!add_limits (b, &limits, TRUE, &rc))
    return rc;
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
  g_print ("%-20s %-9s %-20s %-20s %s\n", "NAME", "ROLE", "ADDED", "BY", "LIMITS");
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      gint64 us = json_object_get_int_member_with_default (o, "created_us", 0);
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
      g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
      g_autofree char *limits = describe_limits (o);
      g_print ("%-20s %-9s %-20s %-20s %s\n", json_object_get_string_member_with_default (o, "name", "?"),
               json_object_get_string_member_with_default (o, "role", "?"), when,
               json_object_get_string_member_with_default (o, "created_by", "?"), limits);
    }
  return LODGE_EXIT_OK;
}

static int
cmd_set (int argc, char **argv)
{
  g_auto (Limits) limits = { 0 };
  GOptionEntry entries[] = { LIMIT_ENTRIES (limits), G_OPTION_ENTRY_NULL };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "user set", "NAME LIMITS...", "Change a customer's quotas and allowed templates.",
    "What is given changes, the rest stays. A lower quota does not stop what\n"
    "runs: it refuses the next define or start that would pass it. Only an\n"
    "admin may change users.\n\n"
    "Example: lodge user set acme --max-vcpus 8 --max-disk none --applications site\n\n"
    LIMITS_HELP LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP, entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no NAME given" : "one NAME at a time");
  if (!limits_given (&limits))
    return lodge_cli_usage_error ("nothing to change: give a --max-... option, --templates or --applications");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (!add_limits (b, &limits, FALSE, &rc))
    return rc;
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *q = g_uri_escape_string (argv[1], NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/users/%s", q);
  g_autoptr (GBytes) answer
    = c != NULL ? lodge_client_request (c, "PATCH", path, "application/json", body, &error) : NULL;
  g_autoptr (JsonNode) node = answer != NULL ? parse (answer, &error) : NULL;
  if (node == NULL)
    return lodge_cli_fail (error);
  g_autofree char *now = JSON_NODE_HOLDS_OBJECT (node) ? describe_limits (json_node_get_object (node)) : g_strdup ("?");
  g_print ("User %s: %s\n", argv[1], now);
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
  JsonObject *used = o != NULL && json_object_has_member (o, "used") ? json_object_get_object_member (o, "used") : NULL;
  if (used == NULL)
    return LODGE_EXIT_OK;
  /* A customer: each quota, used and allowed. */
  JsonObject *quota = json_object_has_member (o, "quota") ? json_object_get_object_member (o, "quota") : NULL;
  static const char *const what[] = { "environments", "vCPUs (running)", "memory (running)", "disk" };
  for (guint i = 0; i < G_N_ELEMENTS (quota_names); i++)
    {
      gint64 u = json_object_get_int_member_with_default (used, quota_names[i], 0);
      gboolean limited = quota != NULL && json_object_has_member (quota, quota_names[i]);
      gint64 l = limited ? json_object_get_int_member (quota, quota_names[i]) : 0;
      g_autofree char *us = amount (i, u);
      g_autofree char *ls = limited ? amount (i, l) : g_strdup ("no limit");
      g_print ("  %-18s %s of %s\n", what[i], us, ls);
    }
  g_autofree char *lists = describe_limits (o);
  const char *semi = strchr (lists, ';');
  g_print ("  %s\n", semi != NULL ? semi + 2 : lists);
  return LODGE_EXIT_OK;
}

static const LodgeCommand user_commands[] = {
  { "add", "NAME --role ROLE [LIMITS]", "Add a user and print its token", cmd_add },
  { "set", "NAME LIMITS...", "Change a customer's quotas and templates", cmd_set },
  { "list", "[-o json]", "List users", cmd_list },
  { "remove", "NAME", "Remove a user", cmd_remove },
  { "whoami", "", "Show who you are to the control center", cmd_whoami },
};

int
lodge_user_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("user", user_commands, G_N_ELEMENTS (user_commands), argc, argv);
}
