/* common/lodge-strings: what a guest wrote, made safe for a terminal. */
#include <string.h>

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strings/terminal-safe", test_terminal_safe);
  return g_test_run ();
}
