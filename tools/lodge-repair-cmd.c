/* lodge repair NAME OP ...: offline repair of a VE's disk through the
 * control center (which runs libguestfs on it; nothing is mounted here). */
#include "lodge-repair-cmd.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lodge-ve-cmd.h"

/* The JSON body is capped at 1 MiB; base64 makes 3 bytes 4. */
#define WRITE_MAX (768 << 10)

typedef struct {
  const char *name;
  const char *params;
  const char *summary;
  const char *description;
  gboolean writes;
} RepairOp;

static const RepairOp repair_ops[] = {
  { "ls", "[PATH]", "List a directory (or one file) of the VE",
    "Type and mode, owner, size, modification time and name of each entry;\n"
    "symbolic links with their targets. PATH defaults to /. Control\n"
    "characters in names are escaped (\\x1b; a newline is \\x0a: one name,\n"
    "one line).", FALSE },
  { "cat", "PATH", "Print a file of the VE",
    "The file's bytes, streamed (a huge file is never held in memory), with\n"
    "control characters escaped (\\x1b, \\u009b, as cat -v or less would) so\n"
    "that they cannot drive the terminal; --raw prints them as they are.", FALSE },
  { "find", "PATTERN [DIR]", "Find files by name",
    "Every path under DIR (default /) whose name matches the glob PATTERN; a\n"
    "PATTERN with a '/' matches the whole path (\"/etc/*.conf\"). Control\n"
    "characters in names are escaped (\\x1b; a newline is \\x0a: one name,\n"
    "one line).", FALSE },
  { "log", "[FILE]", "Show the VE's logs",
    "Without FILE, the files under /var/log with their sizes; with FILE\n"
    "(relative to /var/log, or absolute), its last lines, with control\n"
    "characters escaped (as cat -v or less would); --raw prints them as\n"
    "they are.", FALSE },
  { "df", "", "Show the use of the VE's filesystem", "Size, used, available, inodes.", FALSE },
  { "diff", "[PATH]", "Compare the VE with its template",
    "Added (+), removed (-) and changed (M) files against the template\n"
    "version the VE was cloned from, with types, modes, owners and sizes,\n"
    "then a unified diff of each changed text file. Files Lodge writes at\n"
    "every boot (hostname, hosts, resolv.conf, timezone, /root/.ssh, and\n"
    "root's entry in /etc/shadow) are left out. PATH limits it to a subtree.\n"
    "Control characters in names and contents are escaped (as cat -v or less\n"
    "would); --raw prints them as they are.", FALSE },
  { "write", "PATH [--mode MODE]", "Replace a file with standard input",
    "At most 768 KiB; a new file gets MODE (default 0644).", TRUE },
  { "edit", "PATH", "Edit a file of the VE with $EDITOR",
    "The file is fetched, opened in $EDITOR (default vi), and written back\n"
    "only if it changed.", TRUE },
  { "revert", "PATH...", "Restore files as the template has them",
    "Content, type, mode, owner and times (a directory: all of it). A path the\n"
    "template does not have is removed.", TRUE },
  { "rm", "PATH [--recursive]", "Remove a file (a symlink itself, not its target)", "", TRUE },
  { "chmod", "MODE PATH", "Change a file's mode (octal)", "", TRUE },
  { "reset-root", "[--password-stdin|--password-hash HASH] [--authorized-key KEY...]",
    "Set a new root credential",
    "Written into the VE's /etc/shadow (and /root/.ssh/authorized_keys) and\n"
    "into its definition, so every later boot keeps it. --password-stdin\n"
    "reads the password from standard input and hashes it here (SHA-512\n"
    "crypt); the clear text never leaves this machine.", TRUE },
  { "fsck", "", "Check and repair the VE's filesystem", "It reports what it fixed.", TRUE },
  { "undo", "", "Roll the disk back to before the last repair",
    "Every writing repair takes a snapshot first; undo restores the newest one\n"
    "and removes it. `history` lists them.", TRUE },
  { "history", "", "List the repair snapshots", "Oldest first; undo returns to the last one.", FALSE },
  { "close", "", "Close the kept appliance now",
    "Reading operations keep their appliance (and its snapshot) for 60 s idle,\n"
    "so the next one answers at once; close ends that now and removes the\n"
    "snapshot.", FALSE },
  { "shell", "", "An interactive shell on the VE's disk",
    "Runs in the repair appliance (its own busybox shell, never the guest's\n"
    "programs) with the VE's tree at /sysroot/ve, read-write. The VE cannot\n"
    "start while the shell is open; exit (or end of input) closes it.", TRUE },
};

static const RepairOp *
find_repair_op (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (repair_ops); i++)
    if (strcmp (repair_ops[i].name, name) == 0)
      return &repair_ops[i];
  return NULL;
}

static void
print_repair_help (FILE *out)
{
  fprintf (out,
           "Usage: lodge repair NAME OPERATION [ARGS...]\n\n"
           "Repair a VE's disk offline, without booting it: the control center opens the\n"
           "disk in a libguestfs appliance (never on a host kernel). Reading operations\n"
           "work on a snapshot, also while the VE runs; writing ones need it stopped,\n"
           "take a snapshot first (undo returns to it), and hold the VE: it cannot\n"
           "start until they are done.\n\nReading:\n");
  for (guint i = 0; i < G_N_ELEMENTS (repair_ops); i++)
    if (!repair_ops[i].writes)
      fprintf (out, "  %-10s %-22s %s\n", repair_ops[i].name, repair_ops[i].params, repair_ops[i].summary);
  fprintf (out, "\nWriting (the VE stopped):\n");
  for (guint i = 0; i < G_N_ELEMENTS (repair_ops); i++)
    if (repair_ops[i].writes)
      fprintf (out, "  %-10s %-22s %s\n", repair_ops[i].name,
               strlen (repair_ops[i].params) > 22 ? "[OPTIONS]" : repair_ops[i].params,
               repair_ops[i].summary);
  fprintf (out, "\n`lodge repair NAME OPERATION --help` tells more of one.\n\n" LODGE_EXIT_CODES_HELP);
}

/* Where an operation's output goes: file contents and names from the
 * guest's disk, escaped unless --raw (or the file edit fetches). */
typedef struct {
  gboolean quiet;
  gboolean any_output;
  LodgeCliGuestOutput out;
} Printer;

static void
on_step (const char *step, gint64 ms, gpointer user_data)
{
  Printer *p = user_data;
  if (!p->quiet)
    lodge_cli_print_step (step, ms);
}

static gboolean
on_data (const char *data, gsize len, gpointer user_data)
{
  Printer *p = user_data;
  p->any_output = TRUE;
  return lodge_cli_guest_write (&p->out, data, len);
}

/* POSTs @op with @args (taken) for @name; output to @p. The result object
 * (NULL on error). */
static JsonObject *
run_op (LodgeClient *c, const char *name, const char *op, JsonBuilder *args, Printer *p,
        JsonParser *parser, GError **error)
{
  json_builder_end_object (args);
  g_autoptr (JsonNode) root = json_builder_get_root (args);
  gsize len = 0;
  g_autofree char *text = json_to_string (root, FALSE);
  len = strlen (text);
  g_autoptr (GBytes) body = g_bytes_new_take (g_steal_pointer (&text), len);
  g_autofree char *q = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/environments/%s/repair/%s", q, op);
  g_autoptr (GBytes) answer = lodge_client_request_stream (c, "POST", path, "application/json", body,
                                                           on_step, on_data, p, error);
  lodge_cli_guest_end (&p->out);
  if (answer == NULL)
    return NULL;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                   (gssize) g_bytes_get_size (answer), error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_clear_error (error);
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED, "the answer is not a JSON object");
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}

static void
add_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

static gboolean
read_stdin (GString *into, gsize max, GError **error)
{
  char buf[65536];
  size_t n;
  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
    {
      if (into->len + n > max)
        {
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                       "standard input is over %zu KiB: too big for repair write", max >> 10);
          return FALSE;
        }
      g_string_append_len (into, buf, n);
    }
  if (ferror (stdin))
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED, "cannot read standard input");
      return FALSE;
    }
  return TRUE;
}

/* A line of the terminal, not echoed. */
static gboolean
ask_hidden (const char *prompt, GString *into, GError **error)
{
  FILE *tty = fopen ("/dev/tty", "r+");
  if (tty == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                   "no terminal to ask for the password on");
      return FALSE;
    }
  struct termios old, quiet;
  gboolean restore = tcgetattr (fileno (tty), &old) == 0;
  quiet = old;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  if (restore)
    tcsetattr (fileno (tty), TCSAFLUSH, &quiet);
  fputs (prompt, tty);
  fflush (tty);
  char buf[4096];
  gboolean ok = fgets (buf, sizeof buf, tty) != NULL;
  if (restore)
    tcsetattr (fileno (tty), TCSAFLUSH, &old);
  fputs ("\n", tty);
  fclose (tty);
  if (ok)
    g_string_append (into, buf);
  explicit_bzero (buf, sizeof buf);
  if (!ok)
    g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "no password given");
  return ok;
}

char *
lodge_cli_hash_password (gboolean ask, GError **error)
{
  g_autoptr (GString) in = g_string_new (NULL);
  if (ask)
    {
      g_autoptr (GString) again = g_string_new (NULL);
      if (!ask_hidden ("New password: ", in, error) || !ask_hidden ("Again: ", again, error))
        return NULL;
      gboolean same = g_string_equal (in, again);
      explicit_bzero (again->str, again->len);
      if (!same)
        {
          explicit_bzero (in->str, in->len);
          g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID,
                       "the two passwords differ; nothing changed");
          return NULL;
        }
    }
  else if (!read_stdin (in, 4096, error))
    return NULL;
  char *nl = strchr (in->str, '\n');
  if (nl != NULL)
    g_string_truncate (in, nl - in->str);
  if (in->len == 0)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_INVALID, "an empty password");
      return NULL;
    }
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn ("$6$", 0, NULL, 0, salt, sizeof salt) == NULL)
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED, "cannot make a salt: %s",
                   g_strerror (errno));
      return NULL;
    }
  struct crypt_data data = { 0 };
  char *hash = crypt_r (in->str, salt, &data);
  explicit_bzero (in->str, in->len);
  if (hash == NULL || hash[0] == '*')
    {
      g_set_error (error, LODGE_CLIENT_ERROR, LODGE_CLIENT_ERROR_FAILED, "cannot hash the password");
      return NULL;
    }
  return g_strdup (hash);
}

static int
summarize (const char *op, JsonObject *result)
{
  const char *snap = json_object_get_string_member_with_default (result, "snapshot", NULL);
  if (strcmp (op, "diff") == 0)
    g_printerr ("%" G_GINT64_FORMAT " changed, %" G_GINT64_FORMAT " added, %" G_GINT64_FORMAT
                " removed (%" G_GINT64_FORMAT " compared, %" G_GINT64_FORMAT " contents read) in %.1f s\n",
                json_object_get_int_member_with_default (result, "changed", 0),
                json_object_get_int_member_with_default (result, "added", 0),
                json_object_get_int_member_with_default (result, "removed", 0),
                json_object_get_int_member_with_default (result, "compared", 0),
                json_object_get_int_member_with_default (result, "content_reads", 0),
                json_object_get_int_member_with_default (result, "total_ms", 0) / 1000.0);
  else if (find_repair_op (op)->writes && strcmp (op, "undo") != 0 && snap != NULL)
    g_printerr ("done; `lodge repair NAME undo` returns the disk to %s\n", snap);
  return LODGE_EXIT_OK;
}

/* The interactive shell: one "sh" request per line. */
static int
run_shell (LodgeClient *c, const char *name, Printer *p)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) open = json_builder_new ();
  json_builder_begin_object (open);
  JsonObject *result = run_op (c, name, "shell", open, p, parser, &error);
  if (result == NULL)
    return lodge_cli_fail (error);
  g_autofree char *id = g_strdup (json_object_get_string_member_with_default (result, "shell", ""));
  gboolean tty = isatty (0);
  if (tty)
    g_printerr ("The VE's tree is at /sysroot/ve (read-write). `exit` closes the shell.\n");
  Printer quiet = *p;
  quiet.quiet = TRUE;
  for (;;)
    {
      if (tty)
        g_printerr ("repair:%s> ", name);
      char line[8192];
      if (fgets (line, sizeof line, stdin) == NULL)
        break;
      g_strstrip (line);
      if (line[0] == '\0')
        continue;
      if (strcmp (line, "exit") == 0 || strcmp (line, "quit") == 0)
        break;
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_string (b, "shell", id);
      add_string (b, "command", line);
      g_autoptr (JsonParser) pp = json_parser_new ();
      if (run_op (c, name, "sh", b, &quiet, pp, &error) == NULL)
        {
          g_autofree char *message = lodge_terminal_safe (error->message, strlen (error->message));
          g_printerr ("lodge: %s\n", message);
          g_clear_error (&error);
        }
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "shell", id);
  g_autoptr (JsonParser) pp = json_parser_new ();
  if (run_op (c, name, "exit", b, p, pp, &error) == NULL)
    return lodge_cli_fail (error);
  return LODGE_EXIT_OK;
}

static int
run_edit (LodgeClient *c, const char *name, const char *path, Printer *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp ("lodge-edit-XXXXXX", &tmp, &error);
  if (fd < 0)
    return lodge_cli_fail (error);
  Printer to_file = *p;
  to_file.out = (LodgeCliGuestOutput) { .out = fdopen (fd, "w"), .escape = FALSE }; /* exact bytes */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "path", path);
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean ok = run_op (c, name, "cat", b, &to_file, parser, &error) != NULL;
  fclose (to_file.out.out);
  g_autofree char *before = NULL;
  gsize before_len = 0;
  if (ok)
    ok = g_file_get_contents (tmp, &before, &before_len, &error);
  if (ok)
    {
      const char *editor = g_getenv ("VISUAL") ? g_getenv ("VISUAL")
                           : g_getenv ("EDITOR") ? g_getenv ("EDITOR") : "vi";
      g_auto (GStrv) words = NULL;
      int status = 0;
      ok = g_shell_parse_argv (editor, NULL, &words, &error);
      if (ok)
        {
          g_autoptr (GStrvBuilder) sb = g_strv_builder_new ();
          g_strv_builder_addv (sb, (const char **) words);
          g_strv_builder_add (sb, tmp);
          g_auto (GStrv) full = g_strv_builder_end (sb);
          ok = g_spawn_sync (NULL, full, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN,
                             NULL, NULL, NULL, NULL, &status, &error)
               && g_spawn_check_wait_status (status, &error);
          if (!ok)
            g_prefix_error (&error, "%s: ", editor);
        }
    }
  g_autofree char *after = NULL;
  gsize after_len = 0;
  if (ok)
    ok = g_file_get_contents (tmp, &after, &after_len, &error);
  g_unlink (tmp);
  if (!ok)
    return lodge_cli_fail (error);
  if (after_len == before_len && memcmp (after, before, after_len) == 0)
    {
      g_printerr ("no change: nothing written\n");
      return LODGE_EXIT_OK;
    }
  if (after_len > WRITE_MAX)
    return lodge_cli_usage_error ("the edited file is over 768 KiB: too big for repair edit");
  g_autoptr (JsonBuilder) w = json_builder_new ();
  json_builder_begin_object (w);
  add_string (w, "path", path);
  g_autofree char *b64 = g_base64_encode ((const guchar *) after, after_len);
  add_string (w, "content", b64);
  g_autoptr (JsonParser) wp = json_parser_new ();
  JsonObject *result = run_op (c, name, "write", w, p, wp, &error);
  if (result == NULL)
    return lodge_cli_fail (error);
  return summarize ("write", result);
}

/* What the options of `lodge repair` set. */
typedef struct {
  gboolean quiet, recursive, password_stdin, raw;
  char *mode, *password_hash;
  GStrv keys;
  int lines;
} RepairOptions;

static void
repair_options_clear (RepairOptions *o)
{
  g_free (o->mode);
  g_free (o->password_hash);
  g_strfreev (o->keys);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RepairOptions, repair_options_clear)

/* The options of @op (--quiet and its own, at most 4) into @ret, setting @o. */
static void
repair_op_entries (const RepairOp *op, RepairOptions *o, GOptionEntry ret[5])
{
  memset (ret, 0, 5 * sizeof (GOptionEntry));
  ret[0] = (GOptionEntry) { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
                            "Do not show the steps on standard error", NULL };
  GOptionEntry *extra = ret + 1;
  if (strcmp (op->name, "write") == 0)
    extra[0] = (GOptionEntry) { "mode", 'm', 0, G_OPTION_ARG_STRING, &o->mode,
                                "The mode of a new file (octal, default 0644)", "MODE" };
  else if (strcmp (op->name, "rm") == 0)
    extra[0] = (GOptionEntry) { "recursive", 'r', 0, G_OPTION_ARG_NONE, &o->recursive,
                                "Remove a directory and everything under it", NULL };
  else if (strcmp (op->name, "log") == 0)
    extra[0] = (GOptionEntry) { "lines", 'n', 0, G_OPTION_ARG_INT, &o->lines,
                                "How many of the last lines (default 50)", "N" };
  else if (strcmp (op->name, "reset-root") == 0)
    {
      extra[0] = (GOptionEntry) { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &o->password_stdin,
                                  "Read the new password from standard input", NULL };
      extra[1] = (GOptionEntry) { "password-hash", 0, 0, G_OPTION_ARG_STRING, &o->password_hash,
                                  "A crypt(5) hash ($6$ or $y$) to set as it is", "HASH" };
      extra[2] = (GOptionEntry) { "authorized-key", 'k', 0, G_OPTION_ARG_STRING_ARRAY, &o->keys,
                                  "An OpenSSH public key line for root (repeatable; replaces "
                                  "the keys)", "KEY" };
    }
  /* What prints a file's content can print it as it is. */
  if (strcmp (op->name, "cat") == 0 || strcmp (op->name, "log") == 0
      || strcmp (op->name, "diff") == 0)
    extra[strcmp (op->name, "log") == 0 ? 1 : 0] =
      (GOptionEntry) { "raw", 0, 0, G_OPTION_ARG_NONE, &o->raw,
                       "Print the file's bytes as they are (no escaping)", NULL };
}

/* Adds @e to @entries with its arity only: a flag sets @flag, a value goes
 * to @values. A long name seen before is left out. */
static void
add_arity (GArray *entries, const GOptionEntry *e, gboolean *flag, GStrv *values)
{
  for (guint i = 0; i < entries->len; i++)
    if (strcmp (g_array_index (entries, GOptionEntry, i).long_name, e->long_name) == 0)
      return;
  GOptionEntry copy = *e;
  copy.arg = e->arg == G_OPTION_ARG_NONE ? G_OPTION_ARG_NONE : G_OPTION_ARG_STRING_ARRAY;
  copy.arg_data = e->arg == G_OPTION_ARG_NONE ? (gpointer) flag : (gpointer) values;
  g_array_append_val (entries, copy);
}

/* NAME and OPERATION are the first two words that are neither options nor
 * their values; options may come anywhere (`lodge repair -n 50 web1 log`).
 * GOption finds them in a first pass over a copy of @argv that knows every
 * option of every operation (and --connect, --help) by its arity alone;
 * the operation's own context parses them for real afterwards. Their
 * indexes in @argv go to @ret_word; FALSE with *@ret_exit when there are
 * not two (help asked for, or a usage error). */
static gboolean
find_name_and_op (int argc, char **argv, int ret_word[2], int *ret_exit)
{
  gboolean flag = FALSE, help = FALSE;
  g_auto (GStrv) values = NULL;
  g_autoptr (GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  const GOptionEntry more[] = {
    /* lodge_ve_cmd_context's connection option */
    { "connect", 'C', 0, G_OPTION_ARG_STRING, NULL, NULL, NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
  };
  add_arity (entries, &more[0], &flag, &values);
  add_arity (entries, &more[1], &help, &values);
  for (guint i = 0; i < G_N_ELEMENTS (repair_ops); i++)
    {
      RepairOptions unused = { 0 };
      GOptionEntry op[5];
      repair_op_entries (&repair_ops[i], &unused, op);
      for (guint j = 0; op[j].long_name != NULL; j++)
        add_arity (entries, &op[j], &flag, &values);
    }
  g_set_prgname ("lodge repair");
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_ignore_unknown_options (ctx, TRUE);
  g_option_context_add_main_entries (ctx, (GOptionEntry *) (gpointer) entries->data, NULL);

  /* GOption rewrites the strings of grouped short options: a deep copy,
   * whose pointers say where each word left was in @argv. */
  g_auto (GStrv) copy = g_strdupv (argv);
  g_autofree char **left = g_memdup2 (copy, (argc + 1) * sizeof (char *));
  char **left_argv = left;
  int left_argc = argc;
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &left_argc, &left_argv, &error))
    {
      *ret_exit = lodge_cli_usage_error ("%s", error->message);
      return FALSE;
    }
  int found = 0;
  const char *unknown = NULL;
  gboolean dashdash = FALSE;
  for (int i = 1; i < left_argc && found < 2; i++)
    {
      if (!dashdash && strcmp (left_argv[i], "--") == 0)
        dashdash = TRUE;
      else if (!dashdash && left_argv[i][0] == '-' && left_argv[i][1] != '\0')
        unknown = unknown != NULL ? unknown : left_argv[i];
      else
        for (int j = 1; j < argc; j++)
          if (copy[j] == left_argv[i])
            {
              ret_word[found++] = j;
              break;
            }
    }
  if (found == 2)
    return TRUE;
  if (unknown != NULL)
    *ret_exit = lodge_cli_usage_error ("unknown option %s", unknown);
  else
    {
      print_repair_help (help ? stdout : stderr);
      *ret_exit = help ? LODGE_EXIT_OK : LODGE_EXIT_USAGE;
    }
  return FALSE;
}

int
lodge_repair_cmd (int argc, char **argv)
{
  int word[2], rc;
  if (!find_name_and_op (argc, argv, word, &rc))
    return rc;
  const char *name = argv[word[0]];
  const RepairOp *op = find_repair_op (argv[word[1]]);
  if (op == NULL)
    return lodge_cli_usage_error ("unknown repair operation '%s' (lodge repair --help lists them)",
                                  argv[word[1]]);

  g_auto (RepairOptions) o = { 0 };
  GOptionEntry entries[5];
  repair_op_entries (op, &o, entries);
  g_autofree char *cmd = g_strdup_printf ("repair NAME %s", op->name);
  g_autoptr (GOptionContext) ctx = lodge_ve_cmd_context (cmd, op->params, op->summary,
                                                         op->description, entries);
  /* Parse the rest: everything but NAME and OPERATION. */
  g_autofree char **rest = g_new0 (char *, argc + 1);
  int sub_argc = 0;
  rest[sub_argc++] = argv[0];
  for (int i = 1; i < argc; i++)
    if (i != word[0] && i != word[1])
      rest[sub_argc++] = argv[i];
  char **sub_argv = rest;
  if (!lodge_cli_parse (ctx, &sub_argc, &sub_argv, &rc))
    return rc;
  char **args = sub_argv + 1;
  int nargs = sub_argc - 1;
  /* GOption keeps "--" when an argument after it starts with '-'. */
  for (int i = 0; i < nargs; i++)
    if (strcmp (args[i], "--") == 0)
      {
        memmove (&args[i], &args[i + 1], (nargs - i) * sizeof (char *));
        nargs--;
        break;
      }

  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeClient) c = lodge_ve_cmd_client (&error);
  if (c == NULL)
    return lodge_cli_fail (error);
  Printer p = { .quiet = o.quiet, .out = { .out = stdout, .escape = !o.raw } };
  if (strcmp (op->name, "shell") == 0)
    return nargs == 0 ? run_shell (c, name, &p) : lodge_cli_usage_error ("shell takes no arguments");
  if (strcmp (op->name, "edit") == 0)
    return nargs == 1 ? run_edit (c, name, args[0], &p) : lodge_cli_usage_error ("edit takes one PATH");

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  const char *op_name = op->name;
  if (strcmp (op_name, "ls") == 0 || strcmp (op_name, "diff") == 0)
    {
      if (nargs > 1)
        return lodge_cli_usage_error ("%s takes at most one PATH", op_name);
      if (nargs == 1)
        add_string (b, "path", args[0]);
    }
  else if (strcmp (op_name, "cat") == 0 || strcmp (op_name, "write") == 0
           || strcmp (op_name, "rm") == 0)
    {
      if (nargs != 1)
        return lodge_cli_usage_error ("%s takes one PATH", op_name);
      add_string (b, "path", args[0]);
      if (o.mode != NULL)
        add_string (b, "mode", o.mode);
      if (o.recursive)
        {
          json_builder_set_member_name (b, "recursive");
          json_builder_add_boolean_value (b, TRUE);
        }
      if (strcmp (op_name, "write") == 0)
        {
          g_autoptr (GString) in = g_string_new (NULL);
          if (!read_stdin (in, WRITE_MAX, &error))
            return lodge_cli_fail (error);
          g_autofree char *b64 = g_base64_encode ((const guchar *) in->str, in->len);
          add_string (b, "content", b64);
        }
    }
  else if (strcmp (op_name, "find") == 0)
    {
      if (nargs < 1 || nargs > 2)
        return lodge_cli_usage_error ("find takes a PATTERN and at most one DIR");
      add_string (b, "pattern", args[0]);
      if (nargs == 2)
        add_string (b, "dir", args[1]);
    }
  else if (strcmp (op_name, "log") == 0)
    {
      if (nargs > 1)
        return lodge_cli_usage_error ("log takes at most one FILE");
      if (nargs == 1)
        add_string (b, "file", args[0]);
      if (o.lines < 0 || o.lines > 100000)
        return lodge_cli_usage_error ("--lines: give 1 to 100000");
      if (o.lines > 0)
        {
          g_autofree char *n = g_strdup_printf ("%d", o.lines);
          add_string (b, "lines", n);
        }
    }
  else if (strcmp (op_name, "revert") == 0)
    {
      if (nargs < 1)
        return lodge_cli_usage_error ("revert takes one PATH or more");
      json_builder_set_member_name (b, "paths");
      json_builder_begin_array (b);
      for (int i = 0; i < nargs; i++)
        json_builder_add_string_value (b, args[i]);
      json_builder_end_array (b);
    }
  else if (strcmp (op_name, "chmod") == 0)
    {
      if (nargs != 2)
        return lodge_cli_usage_error ("chmod takes a MODE and a PATH");
      add_string (b, "mode", args[0]);
      add_string (b, "path", args[1]);
    }
  else if (strcmp (op_name, "reset-root") == 0)
    {
      if (nargs != 0)
        return lodge_cli_usage_error ("reset-root takes options only");
      if (o.password_stdin && o.password_hash != NULL)
        return lodge_cli_usage_error ("--password-stdin or --password-hash, not both");
      if (!o.password_stdin && o.password_hash == NULL && o.keys == NULL)
        return lodge_cli_usage_error ("give --password-stdin, --password-hash or --authorized-key");
      if (o.password_stdin
          && (o.password_hash = lodge_cli_hash_password (FALSE, &error)) == NULL)
        return lodge_cli_fail (error);
      if (o.password_hash != NULL)
        add_string (b, "password_hash", o.password_hash);
      if (o.keys != NULL)
        {
          json_builder_set_member_name (b, "authorized_keys");
          json_builder_begin_array (b);
          for (guint i = 0; o.keys[i] != NULL; i++)
            json_builder_add_string_value (b, o.keys[i]);
          json_builder_end_array (b);
        }
    }
  else if (nargs != 0)
    return lodge_cli_usage_error ("%s takes no arguments", op_name);

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *result = run_op (c, name, op_name, b, &p, parser, &error);
  if (result == NULL)
    return lodge_cli_fail (error);
  return summarize (op_name, result);
}
