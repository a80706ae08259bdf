#define _GNU_SOURCE /* setns */
#include "lodge-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lodge-client.h"
#include "lodge-error.h"
#include "lodge-rados.h"
#include "lodge-storage-error.h"

int
lodge_cli_usage_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("lodge: %s\nTry '%s --help'.\n", msg, g_get_prgname ());
  return LODGE_EXIT_USAGE;
}

GOptionContext *
lodge_cli_context (const char *name, const char *params, const char *summary,
                   const char *description, GOptionEntry *entries)
{
  g_autofree char *prgname = g_strdup_printf ("lodge %s", name);
  g_set_prgname (prgname);
  GOptionContext *ctx = g_option_context_new (params);
  g_option_context_set_summary (ctx, summary);
  g_option_context_set_description (ctx, description);
  g_option_context_set_help_enabled (ctx, TRUE);
  if (entries != NULL)
    g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

gboolean
lodge_cli_parse (GOptionContext *ctx, int *argc, char ***argv, int *ret_exit)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *ret_exit = lodge_cli_usage_error ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
lodge_cli_output_json (const char *output, int *ret_exit)
{
  if (output == NULL || strcmp (output, "table") == 0)
    return FALSE;
  if (strcmp (output, "json") == 0)
    return TRUE;
  *ret_exit = lodge_cli_usage_error ("-o: '%s' is neither table nor json", output);
  return FALSE;
}

int
lodge_cli_fail (const GError *error)
{
  g_printerr ("lodge: %s\n", error->message);
  if (error->domain == LODGE_STORAGE_ERROR)
    switch ((LodgeStorageErrorCode) error->code)
      {
      case LODGE_STORAGE_ERROR_NOT_FOUND:
        return LODGE_EXIT_NOT_FOUND;
      case LODGE_STORAGE_ERROR_EXISTS:
      case LODGE_STORAGE_ERROR_CONFLICT:
      case LODGE_STORAGE_ERROR_BUSY:
        return LODGE_EXIT_CONFLICT;
      case LODGE_STORAGE_ERROR_UNREACHABLE:
        return LODGE_EXIT_UNREACHABLE;
      case LODGE_STORAGE_ERROR_INVALID:
        return LODGE_EXIT_INVALID;
      default:
        return LODGE_EXIT_FAILED;
      }
  if (error->domain == LODGE_CLIENT_ERROR)
    switch ((LodgeClientErrorCode) error->code)
      {
      case LODGE_CLIENT_ERROR_UNREACHABLE:
        return LODGE_EXIT_UNREACHABLE;
      case LODGE_CLIENT_ERROR_INVALID:
      case LODGE_CLIENT_ERROR_UNAUTHORIZED:
        return LODGE_EXIT_INVALID;
      case LODGE_CLIENT_ERROR_NOT_FOUND:
        return LODGE_EXIT_NOT_FOUND;
      case LODGE_CLIENT_ERROR_CONFLICT:
      case LODGE_CLIENT_ERROR_CAPACITY:
        return LODGE_EXIT_CONFLICT;
      default:
        return LODGE_EXIT_FAILED;
      }
  if (error->domain == LODGE_ERROR)
    switch ((LodgeErrorCode) error->code)
      {
      case LODGE_ERROR_CAPACITY:
        return LODGE_EXIT_CONFLICT;
      case LODGE_ERROR_IO:
      case LODGE_ERROR_FAILED:
        return LODGE_EXIT_FAILED;
      default:
        return LODGE_EXIT_INVALID;
      }
  return LODGE_EXIT_FAILED;
}

/* KEY=VALUE lines of the cluster's env file (shell syntax, unquoted). */
static GHashTable *
read_env_file (const char *path)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  GHashTable *vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);
      const char *eq = strchr (line, '=');
      if (*line == '#' || eq == NULL || g_str_has_prefix (line, "export "))
        continue;
      g_hash_table_insert (vars, g_strndup (line, eq - line), g_strdup (eq + 1));
    }
  return vars;
}

static gboolean
same_netns (const char *path)
{
  struct stat a, b;
  return stat ("/proc/self/ns/net", &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino
         && a.st_dev == b.st_dev;
}

gboolean
lodge_cli_enter_cluster (GError **error)
{
  if (g_getenv ("CEPH_CONF") != NULL)
    return TRUE; /* set by `lodge-cluster exec` or by the user */

  const char *dir = g_getenv ("LODGE_CLUSTER_DIR");
  if (dir == NULL || *dir == '\0')
    dir = LODGE_CLUSTER_DEFAULT_DIR;
  g_autofree char *env_path = g_build_filename (dir, "env", NULL);
  g_autoptr (GHashTable) vars = read_env_file (env_path);
  if (vars == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE,
                   "no local cluster at %s (start one with tools/lodge-cluster up, or set "
                   "CEPH_CONF)",
                   dir);
      return FALSE;
    }
  const char *names[] = { "CEPH_CONF", "LODGE_CEPH_USER", "LODGE_CEPH_KEYRING" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *v = g_hash_table_lookup (vars, names[i]);
      if (v != NULL)
        g_setenv (names[i], v, FALSE);
    }
  const char *netns = g_hash_table_lookup (vars, "LODGE_NETNS");
  if (netns == NULL || *netns == '\0')
    return TRUE;
  g_autofree char *ns_path = g_build_filename ("/run/netns", netns, NULL);
  if (same_netns (ns_path))
    return TRUE;
  int fd = open (ns_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns (fd, CLONE_NEWNET) < 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, LODGE_STORAGE_ERROR,
                   saved == ENOENT ? LODGE_STORAGE_ERROR_UNREACHABLE
                                   : LODGE_STORAGE_ERROR_PERMISSION,
                   "cannot enter the cluster's network namespace %s: %s%s", netns,
                   g_strerror (saved),
                   saved == ENOENT ? " (is the cluster up? tools/lodge-cluster up)"
                                   : " (run as root)");
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static void
print_help (FILE *out, const char *group, const LodgeCommand *commands, guint n)
{
  if (group == NULL)
    fprintf (out,
             "Usage:\n  lodge COMMAND [OPTION...] [ARG...]\n\n"
             "Lodge runs virtual environments (VEs): lightweight VMs on libvirt/QEMU\n"
             "whose disks live on Ceph RADOS, so any node can run any VE.\n\n"
             "Commands:\n");
  else
    fprintf (out, "Usage:\n  lodge %s COMMAND [OPTION...] [ARG...]\n\nCommands:\n", group);
  for (guint i = 0; i < n; i++)
    fprintf (out, "  %-14s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'lodge %s%sCOMMAND --help' for a command's arguments and options.\n",
           group != NULL ? group : "", group != NULL ? " " : "");
  if (group == NULL)
    fprintf (out, "Definitions are described in docs/environment.md.\n");
}

int
lodge_cli_dispatch (const char *group, const LodgeCommand *commands, guint n, int argc,
                    char **argv)
{
  if (argc < 2)
    {
      print_help (stderr, group, commands, n);
      return LODGE_EXIT_USAGE;
    }
  const char *cmd = argv[1];
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0)
    {
      if (strcmp (cmd, "help") == 0 && argc > 2)
        {
          char *help_argv[] = { argv[2], (char *) "--help", NULL };
          for (guint i = 0; i < n; i++)
            if (strcmp (commands[i].name, argv[2]) == 0)
              return commands[i].run (2, help_argv);
          g_printerr ("lodge: unknown command '%s'\n", argv[2]);
          return LODGE_EXIT_USAGE;
        }
      print_help (stdout, group, commands, n);
      return LODGE_EXIT_OK;
    }
  for (guint i = 0; i < n; i++)
    if (strcmp (commands[i].name, cmd) == 0)
      return commands[i].run (argc - 1, argv + 1);
  g_printerr ("lodge: unknown command '%s%s%s'\nTry 'lodge %s%s--help'.\n",
              group != NULL ? group : "", group != NULL ? " " : "", cmd,
              group != NULL ? group : "", group != NULL ? " " : "");
  return LODGE_EXIT_USAGE;
}
