/* Unit tests of the repair module's pure parts: how hostile names are
 * printed, and how root's entry in a shadow file is replaced. (Path
 * resolution and the verbs run in libguestfs: tests/integration/test-repair.sh.) */
#include <string.h>
#include <glib.h>

#include "lodge-repair-private.h"

static void
test_quote (void)
{
  struct { const char *in, *out; } cases[] = {
    { "/etc/passwd", "/etc/passwd" },
    { "/new\nline", "/new\\x0aline" },
    { "/tab\there", "/tab\\x09here" },
    { "/bad\xffutf8", "/bad\\xffutf8" },
    { "/cut\xc3", "/cut\\xc3" },
    { "/back\\slash", "/back\\\\slash" },
    { "/esc\x1b[31mred", "/esc\\x1b[31mred" },
    { "/del\x7f", "/del\\x7f" },
    { "/c1\xc2\x9b", "/c1\\xc2\\x9b" },          /* U+009B, a C1 control (CSI) */
    { "/\xe2\x80\xa8sep", "/\\xe2\\x80\\xa8sep" }, /* U+2028, a line separator */
    { "/gr\xc3\xbc\xc3\x9f", "/gr\xc3\xbc\xc3\x9f" }, /* printable UTF-8 stays */
    { "", "" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *q = lodge_repair_quote (cases[i].in);
      g_assert_cmpstr (q, ==, cases[i].out);
      g_assert_null (strchr (q, '\n'));
    }
}

static void
test_shadow (void)
{
  const char *h = "$6$salt$hash";
  struct { const char *in, *out; } cases[] = {
    { "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
      "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n" },
    /* root not first; no newline at the end */
    { "daemon:*:1::\nroot:old:2::", "daemon:*:1::\nroot:$6$salt$hash:2::\n" },
    /* no root entry: one is added first */
    { "daemon:*:1::\n", "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:1::\n" },
    /* a root entry without fields after the hash */
    { "root:x\n", "root:$6$salt$hash:19000:0:99999:7:::\n" },
    /* "rootkit" is not root */
    { "rootkit:*:1::\n", "root:$6$salt$hash:19000:0:99999:7:::\nrootkit:*:1::\n" },
    { "", "root:$6$salt$hash:19000:0:99999:7:::\n" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out =
        lodge_repair_shadow_with_root_hash (cases[i].in, strlen (cases[i].in), h, 19000, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/repair/quote", test_quote);
  g_test_add_func ("/repair/shadow-root-hash", test_shadow);
  return g_test_run ();
}
