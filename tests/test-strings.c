/* common/lodge-strings: what a guest wrote, made safe for a terminal or a
 * log line, whole or in pieces; and when the CLI escapes it. */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lodge-strings.h"

static void
check (const char *in, gssize len, const char *want)
{
  g_autofree char *got = lodge_terminal_safe (in, len < 0 ? strlen (in) : (gsize) len);
  g_assert_cmpstr (got, ==, want);
}

static void
test_terminal_safe (void)
{
  check ("plain text\n", -1, "plain text\n");
  check ("tab\there\r\n", -1, "tab\there\n");
  check ("lone\rreturn", -1, "lone\\x0dreturn");
  /* Escape sequences: clear screen, set title, 8-bit CSI as UTF-8. */
  check ("\x1b[2J\x1b]0;pwned\x07", -1, "\\x1b[2J\\x1b]0;pwned\\x07");
  check ("a\xc2\x9b" "31mb", -1, "a\\u009b31mb");
  /* Valid UTF-8 stays; invalid bytes and a cut sequence are escaped. */
  check ("gr\xc3\xbc\xc3\x9f", -1, "gr\xc3\xbc\xc3\x9f");
  check ("\xff\xfe", -1, "\\xff\\xfe");
  check ("cut \xe2\x82", -1, "cut \\xe2\\x82");
  check ("del\x7f", -1, "del\\x7f");
  /* A NUL inside the bytes does not end them. */
  check ("a\0b", 3, "a\\x00b");
  check ("", 0, "");
}

static void
check_line (const char *in, const char *want)
{
  g_autofree char *got = lodge_line_safe (in);
  g_assert_cmpstr (got, ==, want);
}

static void
test_line_safe (void)
{
  check_line ("plain words", "plain words");
  /* A line end cannot forge the next log line; tabs and returns go too. */
  check_line ("ok\n12:00:00.000 lodged: forged", "ok\\x0a12:00:00.000 lodged: forged");
  check_line ("a\tb\r\n", "a\\x09b\\x0d\\x0a");
  check_line ("\x1b]0;pwned\x07 gr\xc3\xbcn \xc2\x9b", "\\x1b]0;pwned\\x07 gr\xc3\xbcn \\u009b");
  check_line (NULL, "(null)");
}

/* @in fed in pieces of every size from 1 to its length gives what
 * lodge_terminal_safe gives for it whole. */
static void
check_stream (const char *in, gsize len)
{
  g_autofree char *whole = lodge_terminal_safe (in, len);
  for (gsize piece = 1; piece <= len; piece++)
    {
      LodgeTerminalStream ts = { 0 };
      g_autoptr (GString) got = g_string_new (NULL);
      for (gsize off = 0; off < len; off += piece)
        {
          g_autofree char *out = lodge_terminal_stream_feed (&ts, in + off, MIN (piece, len - off));
          g_string_append (got, out);
        }
      g_autofree char *rest = lodge_terminal_stream_end (&ts);
      g_string_append (got, rest);
      g_assert_cmpstr (got->str, ==, whole);
    }
}

static void
test_terminal_stream (void)
{
  /* "\r\n", 2-, 3- and 4-byte characters and a C1 control, cut anywhere. */
  const char mixed[] = "a\r\nb \xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x9b \x1b[2J\r";
  check_stream (mixed, sizeof mixed - 1);
  /* Bytes that are not UTF-8 are not held back for ever. */
  check_stream ("\xff\xfe\xe2\x82", 4);
  LodgeTerminalStream ts = { 0 };
  g_autofree char *first = lodge_terminal_stream_feed (&ts, "x\xe2\x82", 3);
  g_assert_cmpstr (first, ==, "x");
  g_assert_cmpuint (ts.n_held, ==, 2);
  g_autofree char *rest = lodge_terminal_stream_end (&ts);
  g_assert_cmpstr (rest, ==, "\\xe2\\x82");
  /* A lone '\r' at the end of a piece waits for the next one. */
  LodgeTerminalStream cr = { 0 };
  g_autofree char *a = lodge_terminal_stream_feed (&cr, "line\r", 5);
  g_autofree char *b = lodge_terminal_stream_feed (&cr, "\nnext\r", 6);
  g_autofree char *c = lodge_terminal_stream_end (&cr);
  g_assert_cmpstr (a, ==, "line");
  g_assert_cmpstr (b, ==, "\nnext");
  g_assert_cmpstr (c, ==, "\\x0d");
}

/* The CLI's choice: --raw always raw; else escaped on a terminal only. */
static void
test_terminal_escapes (void)
{
  int fds[2];
  g_assert_no_errno (pipe (fds));
  g_assert_false (lodge_terminal_escapes (FALSE, fds[1]));
  g_assert_false (lodge_terminal_escapes (TRUE, fds[1]));
  close (fds[0]);
  close (fds[1]);
  /* A terminal of our own: a pseudo-terminal's side that a program gets. */
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  g_assert_cmpint (master, >=, 0);
  g_assert_no_errno (grantpt (master));
  g_assert_no_errno (unlockpt (master));
  int tty = open (ptsname (master), O_RDWR | O_NOCTTY);
  g_assert_cmpint (tty, >=, 0);
  g_assert_true (lodge_terminal_escapes (FALSE, tty));
  g_assert_false (lodge_terminal_escapes (TRUE, tty));
  close (tty);
  close (master);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strings/terminal-safe", test_terminal_safe);
  g_test_add_func ("/strings/line-safe", test_line_safe);
  g_test_add_func ("/strings/terminal-stream", test_terminal_stream);
  g_test_add_func ("/strings/terminal-escapes", test_terminal_escapes);
  return g_test_run ();
}
