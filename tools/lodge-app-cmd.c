/* lodge app list|install|configure, lodge exec, lodge passwd: the guest's
 * side of a VE, through the control center (which talks to the guest
 * agent over libvirt, or lays applications in with libguestfs). */
#include "lodge-app-cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "lodge-app.h"
#include "lodge-repair-cmd.h"
#include "lodge-ve-cmd.h"

#define EXEC_INPUT_MAX (8 << 20)
#define EXIT_TIMED_OUT 124 /* as timeout(1) */

/* An install's or a configuration's progress and output: the output may
 * be the guest's (a reload command's), so it is escaped. */
typedef struct {
  gboolean quiet;
  LodgeCliGuestOutput out;
} Progress;

static void
on_step (const char *step, gint64 ms, gpointer user_data)
{
  if (!((Progress *) user_data)->quiet)
    lodge_cli_print_step (step, ms);
}

static gboolean
on_data (const char *data, gsize len, gpointer user_data)
{
  Progress *p = user_data;
  if (p->quiet)
    return TRUE;
  return lodge_cli_guest_write (&p->out, data, len);
}

static char *
ve_path (const char *name, const char *suffix)
{
  g_autofree char *q = g_uri_escape_string (name, NULL, FALSE);
  return g_strdup_printf ("/v1/environments/%s%s", q, suffix);
}

static GBytes *
body_of (JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);
  return g_bytes_new_take (text, strlen (text));
}

static JsonObject *
parse_object (GBytes *answer, JsonParser *parser, GError **error)
{
  if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                   (gssize) g_bytes_get_size (answer), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED,
                   "the answer is not a JSON object");
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}

/* POSTs the object @b was building to /v1/environments/@name@suffix; the
 * answer's object (in @parser), or NULL. */
static JsonObject *
post (const char *name, const char *suffix, JsonBuilder *b, JsonParser *parser, GError **error)
{
  g_autoptr (GBytes) body = body_of (b);
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (error);
  g_autofree char *path = ve_path (name, suffix);
  g_autoptr (GBytes) answer =
    c != NULL ? lodge_client_request (c, "POST", path, "application/json", body, error) : NULL;
  return answer != NULL ? parse_object (answer, parser, error) : NULL;
}

/* KEY=VALUE arguments into "params". */
static gboolean
add_params (JsonBuilder *b, int argc, char **argv, int *ret_exit)
{
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  for (int i = 0; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      if (eq == NULL || eq == argv[i])
        {
          *ret_exit = lodge_cli_usage_error ("'%s' is not KEY=VALUE", argv[i]);
          return FALSE;
        }
      g_autofree char *key = g_strndup (argv[i], eq - argv[i]);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, eq + 1);
    }
  json_builder_end_object (b);
  return TRUE;
}

/* ---- app ---- */

static int
app_list (int argc, char **argv)
{
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "Output format: table or json", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "app list", "NAME", "Show a VE's applications and their state.",
    "For each application of the VE's definition: its template version, whether\n"
    "its disk holds it (or the next start lays it in), its configuration, and,\n"
    "while the VE runs, its state as the guest reports it (running, restarting,\n"
    "its pid and how often it was restarted) and the outcome of its health\n"
    "check, both asked through the guest agent.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  gboolean json = lodge_cli_output_json (output, &rc);
  if (rc != LODGE_EXIT_OK)
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "give NAME" : "too many arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *path = ve_path (argv[1], "/apps");
  g_autoptr (GBytes) answer = c != NULL ? lodge_client_request (c, "GET", path, NULL, NULL, &error) : NULL;
  if (answer == NULL)
    return lodge_cli_fail (error);
  if (json)
    {
      fwrite (g_bytes_get_data (answer, NULL), 1, g_bytes_get_size (answer), stdout);
      return LODGE_EXIT_OK;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (answer, parser, &error);
  if (o == NULL)
    return lodge_cli_fail (error);
  /* The state, health and errors are the guest agent's words: escaped. */
  const char *guest_error = json_object_get_string_member_with_default (o, "guest_error", NULL);
  if (guest_error != NULL)
    {
      g_autofree char *shown = lodge_line_safe (guest_error);
      g_printerr ("lodge: no state from the guest: %s\n", shown);
    }
  JsonArray *apps = json_object_get_array_member (o, "applications");
  g_print ("%-16s %-20s %-9s %-10s %7s %8s  %s\n", "NAME", "SOURCE", "AUTOSTART", "STATE", "PID",
           "RESTARTS", "HEALTH");
  for (guint i = 0; apps != NULL && i < json_array_get_length (apps); i++)
    {
      JsonObject *a = json_array_get_object_element (apps, i);
      const char *err = json_object_get_string_member_with_default (a, "error", NULL);
      JsonObject *g = json_object_has_member (a, "guest") ? json_object_get_object_member (a, "guest") : NULL;
      g_autofree char *state = lodge_line_safe (
        g != NULL ? json_object_get_string_member_with_default (g, "state", "?")
                  : json_object_get_string_member_with_default (o, "phase", "?"));
      g_autofree char *pid = g != NULL && json_object_has_member (g, "pid")
                               ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (g, "pid"))
                               : g_strdup ("-");
      g_autofree char *restarts = g != NULL && json_object_has_member (g, "restarts")
                                    ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (g, "restarts"))
                                    : g_strdup ("-");
      g_autofree char *app = lodge_line_safe (json_object_get_string_member_with_default (a, "name", "?"));
      g_autofree char *source = lodge_line_safe (json_object_get_string_member_with_default (a, "source", "-"));
      g_autofree char *health = lodge_line_safe (json_object_get_string_member_with_default (a, "health", "-"));
      g_print ("%-16s %-20s %-9s %-10s %7s %8s  %s\n", app, source,
               json_object_get_boolean_member_with_default (a, "autostart", FALSE) ? "yes" : "no",
               err != NULL ? "error" : state, pid, restarts, health);
      if (err != NULL)
        {
          g_autofree char *shown = lodge_line_safe (err);
          g_print ("    %s\n", shown);
        }
      else
        {
          const char *disk = json_object_get_string_member_with_default (a, "disk", "");
          int known = lodge_app_disk_from_string (disk);
          g_autofree char *shown = lodge_line_safe (disk);
          if (known != LODGE_APP_DISK_INSTALLED) /* an unknown one as it came */
            g_print ("    %s\n", known >= 0 ? lodge_app_disk_describe (known) : shown);
          const char *gerr = g != NULL ? json_object_get_string_member_with_default (g, "error", NULL) : NULL;
          g_autofree char *gshown = gerr != NULL ? lodge_line_safe (gerr) : NULL;
          if (gshown != NULL)
            g_print ("    guest: %s\n", gshown);
        }
    }
  return LODGE_EXIT_OK;
}

static int
app_change (int argc, char **argv, gboolean install)
{
  gboolean quiet = FALSE, autostart = FALSE, no_autostart = FALSE;
  g_autofree char *template = NULL, *version = NULL;
  GOptionEntry install_entries[] = {
    { "template", 't', 0, G_OPTION_ARG_STRING, &template,
      "The application template (default: APP)", "TEMPLATE" },
    { "version", 'V', 0, G_OPTION_ARG_STRING, &version,
      "Its version (default: the newest)", "VERSION" },
    { "autostart", 0, 0, G_OPTION_ARG_NONE, &autostart, "Start it at every boot", NULL },
    { "no-autostart", 0, 0, G_OPTION_ARG_NONE, &no_autostart, "Do not start it at boot", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress, no list of files", NULL },
    G_OPTION_ENTRY_NULL
  };
  GOptionEntry configure_entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = install
    ? lodge_ve_cmd_context (
        "app install", "NAME APP [KEY=VALUE...]",
        "Lay an application into a stopped VE's disk.",
        "APP is an application of the VE's definition, or a new one (from\n"
        "application template --template, default APP), which the definition\n"
        "gets. KEY=VALUE set its configuration; every key must be one the\n"
        "template's manifest declares. The VE must be stopped: a repair snapshot\n"
        "is taken first (a failed install changes nothing), the template's files\n"
        "are copied into the disk inside a libguestfs appliance, and its config\n"
        "files rendered. `lodge app remove` takes it out again. A VE never\n"
        "started gets it at its first\n"
        "start. Autostart applications are started at every boot and restarted\n"
        "when they exit.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
        install_entries)
    : lodge_ve_cmd_context (
        "app configure", "NAME APP KEY=VALUE...",
        "Change an application's configuration.",
        "The values are checked against the application template's manifest (a key\n"
        "it does not declare, or a value that does not fit, changes nothing), the\n"
        "config files are rendered again and the definition keeps the values. On\n"
        "a running VE the files are written through the guest agent and the\n"
        "application reloaded (its template's reload command, or a restart); on\n"
        "a stopped one they are written to its disk.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
        configure_entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc < 3)
    return lodge_cli_usage_error ("give NAME and APP");
  if (!install && argc < 4)
    return lodge_cli_usage_error ("give at least one KEY=VALUE");
  if (autostart && no_autostart)
    return lodge_cli_usage_error ("--autostart or --no-autostart, not both");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (template != NULL)
    {
      json_builder_set_member_name (b, "template");
      json_builder_add_string_value (b, template);
    }
  if (version != NULL)
    {
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, version);
    }
  if (autostart || no_autostart)
    {
      json_builder_set_member_name (b, "autostart");
      json_builder_add_boolean_value (b, autostart);
    }
  if (argc > 3 && !add_params (b, argc - 3, argv + 3, &rc))
    return rc;
  g_autoptr (GBytes) body = body_of (b);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *q = g_uri_escape_string (argv[2], NULL, FALSE);
  g_autofree char *suffix = g_strdup_printf ("/apps/%s/%s", q, install ? "install" : "configure");
  g_autofree char *path = ve_path (argv[1], suffix);
  if (!quiet)
    g_printerr ("%s %s of %s...\n", install ? "Installing" : "Configuring", argv[2], argv[1]);
  Progress progress = { .quiet = quiet, .out = { .out = stdout, .escape = TRUE } };
  g_autoptr (GBytes) answer =
    c != NULL ? lodge_client_request_stream (c, "POST", path, "application/json", body, on_step,
                                             on_data, &progress, &error)
              : NULL;
  lodge_cli_guest_end (&progress.out);
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse_object (answer, parser, &error);
  if (o == NULL)
    return lodge_cli_fail (error);
  if (json_object_get_boolean_member_with_default (o, "deferred", FALSE))
    g_print ("%s: %s is in the definition; the VE's first start lays it in\n", argv[1], argv[2]);
  else if (install)
    g_print ("%s: %s installed from %s%s%s\n", argv[1], argv[2],
             json_object_get_string_member_with_default (o, "source", "?"),
             json_object_has_member (o, "snapshot") ? "; snapshot before it: " : "",
             json_object_get_string_member_with_default (o, "snapshot", ""));
  else
    g_print ("%s: %s configured%s\n", argv[1], argv[2],
             json_object_get_boolean_member_with_default (o, "live", FALSE)
               ? " (live; the application was reloaded)" : " (on the disk; the next start uses it)");
  if (json_object_get_boolean_member_with_default (o, "launch_changed", FALSE))
    g_print ("%s: %s's launch command changed too; it runs with the new one after `lodge "
             "restart %s`\n", argv[1], argv[2], argv[1]);
  return LODGE_EXIT_OK;
}

static int
app_install (int argc, char **argv)
{
  return app_change (argc, argv, TRUE);
}

static int
app_configure (int argc, char **argv)
{
  return app_change (argc, argv, FALSE);
}

static int
app_remove (int argc, char **argv)
{
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress, no list of files", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "app remove", "NAME APP", "Take an application out of a stopped VE.",
    "What the application's template copied into the VE and the config files it\n"
    "rendered are removed from the disk (a repair snapshot is taken first, so a\n"
    "failure changes nothing and `lodge repair NAME undo` brings them back),\n"
    "and the definition no longer has the application. Files the application\n"
    "itself wrote elsewhere while it ran stay.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 3)
    return lodge_cli_usage_error (argc < 3 ? "give NAME and APP" : "too many arguments");
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  g_autofree char *q = g_uri_escape_string (argv[2], NULL, FALSE);
  g_autofree char *suffix = g_strdup_printf ("/apps/%s/remove", q);
  g_autofree char *path = ve_path (argv[1], suffix);
  if (!quiet)
    g_printerr ("Removing %s from %s...\n", argv[2], argv[1]);
  g_autoptr (GBytes) body = g_bytes_new_static ("{}", 2);
  Progress progress = { .quiet = quiet, .out = { .out = stdout, .escape = TRUE } };
  g_autoptr (GBytes) answer =
    c != NULL ? lodge_client_request_stream (c, "POST", path, "application/json", body, on_step,
                                             on_data, &progress, &error)
              : NULL;
  lodge_cli_guest_end (&progress.out);
  if (answer == NULL)
    return lodge_cli_fail (error);
  g_print ("%s: %s removed\n", argv[1], argv[2]);
  return LODGE_EXIT_OK;
}

static const LodgeCommand app_commands[] = {
  { "list", "NAME", "Show a VE's applications and their state", app_list },
  { "install", "NAME APP [KEY=VALUE...]", "Lay an application into a stopped VE", app_install },
  { "configure", "NAME APP KEY=VALUE...", "Change an application's configuration", app_configure },
  { "remove", "NAME APP", "Take an application out of a stopped VE", app_remove },
};

int
lodge_app_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("app", app_commands, G_N_ELEMENTS (app_commands), argc, argv);
}

/* ---- exec ---- */

static GBytes *
b64_member (JsonObject *o, const char *name)
{
  gsize len = 0;
  guchar *data = g_base64_decode (json_object_get_string_member_with_default (o, name, ""), &len);
  return g_bytes_new_take (data, len);
}

int
lodge_exec_cmd (int argc, char **argv)
{
  gboolean interactive = FALSE, raw = FALSE;
  gint timeout = 60;
  GOptionEntry entries[] = {
    { "stdin", 'i', 0, G_OPTION_ARG_NONE, &interactive,
      "Pass standard input to the command (at most 8 MiB)", NULL },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &raw,
      "Print the command's output as it is, also on a terminal", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Kill the command after SECONDS (default 60, at most 3600)", "SECONDS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "exec", "NAME [--] COMMAND [ARG...]", "Run a command in a running VE.",
    "COMMAND runs in the VE as root, through its guest agent (a virtio-serial\n"
    "channel: no network path or SSH is needed), with ARGs as they are given\n"
    "(no shell: use `sh -c '...'` for one). Its output is printed when it ends:\n"
    "stdout here on stdout, stderr on stderr. The control center logs who ran\n"
    "what. A command still running at the timeout is killed with its process\n"
    "group.\n\n"
    "The output is the guest's: on a terminal, its control characters are\n"
    "escaped (\\x1b, \\u009b, as cat -v or less would), so that it cannot drive\n"
    "the terminal; into a pipe or a file (each of stdout and stderr on its\n"
    "own) it goes as it came, byte for byte. --raw prints it as it came on a\n"
    "terminal too.\n\n" LODGE_CONNECT_HELP
    "Exit status: the command's own; 124 when it was killed at the timeout;\n"
    "128+N when a signal N ended it. When lodge itself fails: 1 invalid\n"
    "input, 2 wrong usage, 3 an unknown VE, 4 the VE is not running, 5 the\n"
    "cluster or the guest agent does not answer, 6 any other failure.\n",
    entries);
  /* Options end at NAME: what follows is the command's. */
  g_option_context_set_strict_posix (ctx, TRUE);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  int first = 2;
  if (argc > 2 && strcmp (argv[2], "--") == 0)
    first = 3;
  if (argc < 2 || strcmp (argv[1], "--") == 0)
    return lodge_cli_usage_error ("give NAME, then the COMMAND");
  if (argc <= first)
    return lodge_cli_usage_error ("give the COMMAND to run in %s", argv[1]);
  if (timeout < 1 || timeout > 3600)
    return lodge_cli_usage_error ("--timeout %d is out of range (1 to 3600 s)", timeout);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "argv");
  json_builder_begin_array (b);
  for (int i = first; i < argc; i++)
    json_builder_add_string_value (b, argv[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "timeout");
  json_builder_add_int_value (b, timeout);
  g_autoptr (GError) error = NULL;
  if (interactive)
    {
      g_autoptr (GString) in = g_string_new (NULL);
      char buf[65536];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        {
          if (in->len + n > EXEC_INPUT_MAX)
            return lodge_cli_usage_error ("standard input is over %d MiB", EXEC_INPUT_MAX >> 20);
          g_string_append_len (in, buf, n);
        }
      g_autofree char *b64 = g_base64_encode ((const guchar *) in->str, in->len);
      json_builder_set_member_name (b, "input");
      json_builder_add_string_value (b, b64);
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = post (argv[1], "/exec", b, parser, &error);
  if (o == NULL)
    return lodge_cli_fail (error);
  g_autoptr (GBytes) out = b64_member (o, "stdout");
  g_autoptr (GBytes) err = b64_member (o, "stderr");
  LodgeCliGuestOutput to_out = { .out = stdout, .escape = lodge_terminal_escapes (raw, STDOUT_FILENO) };
  LodgeCliGuestOutput to_err = { .out = stderr, .escape = lodge_terminal_escapes (raw, STDERR_FILENO) };
  lodge_cli_guest_write (&to_out, g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  lodge_cli_guest_end (&to_out);
  lodge_cli_guest_write (&to_err, g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  lodge_cli_guest_end (&to_err);
  if (json_object_get_boolean_member_with_default (o, "stdout_truncated", FALSE)
      || json_object_get_boolean_member_with_default (o, "stderr_truncated", FALSE))
    g_printerr ("lodge: the output was cut at 16 MiB\n");
  if (json_object_get_boolean_member_with_default (o, "timed_out", FALSE))
    {
      g_printerr ("lodge: %s in %s was killed after %d s (--timeout)\n", argv[first], argv[1], timeout);
      return EXIT_TIMED_OUT;
    }
  gint64 sig = json_object_get_int_member_with_default (o, "signal", 0);
  if (sig != 0)
    return (int) (128 + MIN (sig, 127));
  return (int) CLAMP (json_object_get_int_member_with_default (o, "exit_code", 1), 0, 255);
}

/* ---- passwd ---- */

int
lodge_passwd_cmd (int argc, char **argv)
{
  gboolean from_stdin = FALSE;
  g_autofree char *hash = NULL;
  GOptionEntry entries[] = {
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin,
      "Read the new password from standard input (its first line)", NULL },
    { "password-hash", 0, 0, G_OPTION_ARG_STRING, &hash,
      "A crypt(5) hash ($6$ or $y$) to set as it is", "HASH" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (
    "passwd", "NAME", "Change the root password of a VE.",
    "The password is hashed here (SHA-512 crypt); the clear text never leaves\n"
    "this machine. A running VE gets the new hash at once, through its guest\n"
    "agent (libvirt's set-user-password); the definition keeps it, so every\n"
    "later boot keeps it too. A stopped VE gets it at its next start. Without\n"
    "--password-stdin or --password-hash, the password is asked for on the\n"
    "terminal.\n\n" LODGE_CONNECT_HELP LODGE_EXIT_CODES_HELP,
    entries);
  int rc = LODGE_EXIT_OK;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "give NAME" : "too many arguments");
  if (from_stdin && hash != NULL)
    return lodge_cli_usage_error ("--password-stdin or --password-hash, not both");
  g_autoptr (GError) error = NULL;
  if (hash == NULL)
    {
      if (!from_stdin && !isatty (STDIN_FILENO))
        return lodge_cli_usage_error ("no terminal to ask on: give --password-stdin or --password-hash");
      hash = lodge_cli_hash_password (!from_stdin, &error);
      if (hash == NULL)
        return lodge_cli_fail (error);
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "password_hash");
  json_builder_add_string_value (b, hash);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = post (argv[1], "/passwd", b, parser, &error);
  if (o == NULL)
    return lodge_cli_fail (error);
  g_print ("%s: root password changed%s\n", argv[1],
           json_object_get_boolean_member_with_default (o, "live", FALSE)
             ? " in the running VE and in its definition"
             : " in the definition (the next start applies it)");
  return LODGE_EXIT_OK;
}
