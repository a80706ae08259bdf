/* Shared plumbing of the lodge CLI's subcommands: option parsing with
 * man-page-like --help, exit codes, and finding the local cluster. */
#pragma once

#include <stdio.h>
#include <glib.h>

#include "lodge-strings.h"

G_BEGIN_DECLS

/* Exit codes, stable for scripts. */
enum {
  LODGE_EXIT_OK = 0,
  LODGE_EXIT_INVALID = 1,     /* a definition, name or argument value is not valid */
  LODGE_EXIT_USAGE = 2,       /* the command line itself is wrong */
  LODGE_EXIT_NOT_FOUND = 3,   /* an unknown VE, template, version, ... */
  LODGE_EXIT_CONFLICT = 4,    /* exists already, in use, or changed by someone else */
  LODGE_EXIT_UNREACHABLE = 5, /* the cluster is down or does not answer in time */
  LODGE_EXIT_FAILED = 6,      /* anything else */
};

#define LODGE_EXIT_CODES_HELP \
  "Exit status:\n" \
  "  0  success\n" \
  "  1  invalid input: a definition, a name or a value\n" \
  "  2  wrong usage of the command line\n" \
  "  3  not found: an unknown environment, template or version\n" \
  "  4  conflict: exists already, in use, or changed by another command\n" \
  "  5  the cluster is down or did not answer in time\n" \
  "  6  any other failure\n"

typedef struct {
  const char *name;
  const char *params;
  const char *summary;
  int (*run) (int argc, char **argv);
} LodgeCommand;

int lodge_cli_usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
GOptionContext *lodge_cli_context (const char *name, const char *params, const char *summary,
                                   const char *description, GOptionEntry *entries);
gboolean lodge_cli_parse (GOptionContext *ctx, int *argc, char ***argv, int *ret_exit);

/* -o/--output: TRUE for "json", FALSE for "table" (or none); an unknown
 * format sets *ret_exit to a usage error. */
gboolean lodge_cli_output_json (const char *output, int *ret_exit);

/* Prints "lodge: <message>" and returns the exit code for @error. The
 * message is escaped: the control center's errors may quote a guest. */
int lodge_cli_fail (const GError *error);

/* One step of an operation, "  [  1.23 s] what", on stderr; @step is
 * escaped (a step may quote the guest: its ready line, an agent's error). */
void lodge_cli_print_step (const char *step, gint64 ms);

/* Where bytes from a guest go (exec's output, a file of its disk, the
 * console): @out, escaped for a terminal with @escape, else as they came.
 * Zero the rest. */
typedef struct {
  FILE *out;
  gboolean escape;
  LodgeTerminalStream stream;
} LodgeCliGuestOutput;

/* Writes @len bytes of the guest's to @g; FALSE when @g's file fails. */
gboolean lodge_cli_guest_write (LodgeCliGuestOutput *g, const char *data, gsize len);
/* The guest's output ended: what the escaping held back, and a flush. */
gboolean lodge_cli_guest_end (LodgeCliGuestOutput *g);

#define LODGE_RAW_HELP \
  "A guest's bytes are shown with control characters escaped (\\x1b, \\u009b,\n" \
  "as cat -v or less would), so that they cannot drive the terminal; --raw\n" \
  "prints them as they are.\n\n"

/* Dispatches argv[1] among @commands; "help" and --help included. */
int lodge_cli_dispatch (const char *group, const LodgeCommand *commands, guint n_commands,
                        int argc, char **argv);

G_END_DECLS
