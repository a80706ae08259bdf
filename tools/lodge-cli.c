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
  g_autofree char *message = lodge_terminal_safe (error->message, strlen (error->message));
  g_printerr ("lodge: %s\n", message);
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
      case LODGE_ERROR_QUOTA:
        return LODGE_EXIT_CONFLICT;
      case LODGE_ERROR_IO:
      case LODGE_ERROR_FAILED:
        return LODGE_EXIT_FAILED;
      default:
        return LODGE_EXIT_INVALID;
      }
  return LODGE_EXIT_FAILED;
}

void
lodge_cli_print_step (const char *step, gint64 ms)
{
  g_autofree char *shown = lodge_line_safe (step);
  g_printerr ("  [%6.2f s] %s\n", ms / 1000.0, shown);
}

gboolean
lodge_cli_guest_write (LodgeCliGuestOutput *g, const char *data, gsize len)
{
  if (!g->escape)
    return fwrite (data, 1, len, g->out) == len;
  g_autofree char *safe = lodge_terminal_stream_feed (&g->stream, data, len);
  return fputs (safe, g->out) != EOF;
}

gboolean
lodge_cli_guest_end (LodgeCliGuestOutput *g)
{
  gboolean ok = TRUE;
  if (g->escape)
    {
      g_autofree char *rest = lodge_terminal_stream_end (&g->stream);
      ok = fputs (rest, g->out) != EOF;
    }
  return fflush (g->out) == 0 && ok;
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
