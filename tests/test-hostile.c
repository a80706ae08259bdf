/* Hostile definitions: each is refused with an error naming the problem,
 * and nothing from outside the document (files, network) is read. How fast
 * they are refused is measured by bench/bench-xml, not asserted here. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-xml.h"
#include "lib/lodge-hostile.h"

#define VALID_BODY \
  "<name>t1</name><template name=\"busybox\"/><resources><vcpus>1</vcpus>" \
  "<memory unit=\"MiB\">64</memory><disk unit=\"GiB\">1</disk></resources>"

static void
assert_refused (const char *xml, gsize len, int code, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load (xml, len, "hostile.xml", &error);
  g_assert_null (def);
  g_assert_error (error, LODGE_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_test_fail_printf ("message '%s' does not say '%s'", error->message, fragment);
  g_assert_true (g_str_has_prefix (error->message, "hostile.xml"));
  /* Nothing from /etc/passwd leaks into the message. */
  g_assert_null (strstr (error->message, "root:"));
}

static void
test_xxe_file (void)
{
  const char *xml = "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE environment [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
                    "<environment><name>&x;</name></environment>\n";
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, ":2: DOCTYPE declarations are not allowed");
}

static void
test_xxe_network (void)
{
  /* Port 9 (discard) on loopback: nothing may even try to connect. */
  const char *xml = "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE environment [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]>\n"
                    "<environment><name>&x;</name></environment>\n";
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "DOCTYPE declarations are not allowed");
}

static void
test_external_dtd (void)
{
  const char *xml = "<!DOCTYPE environment SYSTEM \"http://127.0.0.1:9/env.dtd\">\n"
                    "<environment>" VALID_BODY "</environment>\n";
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "DOCTYPE declarations are not allowed");
}

static void
test_parameter_entity (void)
{
  const char *xml = "<!DOCTYPE environment [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
                    "<environment>" VALID_BODY "</environment>\n";
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "DOCTYPE declarations are not allowed");
}

static void
test_billion_laughs (void)
{
  g_autofree char *xml = lodge_hostile_billion_laughs ();
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "DOCTYPE declarations are not allowed");
}

static void
test_huge_file (void)
{
  /* 50 MB on disk: refused after reading at most the limit + 1 byte. */
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("lodge-hostile-XXXXXX.xml", &path, &error);
  g_assert_no_error (error);
  g_autofree char *chunk = g_malloc (1 << 20);
  memset (chunk, 'a', 1 << 20);
  g_assert_cmpint (write (fd, "<environment><description>", 26), ==, 26);
  for (int i = 0; i < 50; i++)
    g_assert_cmpint (write (fd, chunk, 1 << 20), ==, 1 << 20);
  close (fd);

  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_null (def);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "file too large (the limit is 1 MiB)"));
  g_unlink (path);
}

static void
test_huge_buffer (void)
{
  gsize len = 50 * 1000 * 1000;
  g_autofree char *xml = g_malloc (len);
  memset (xml, ' ', len);
  assert_refused (xml, len, LODGE_ERROR_TOO_LARGE, "document too large");
}

static void
test_endless_file (void)
{
  /* An endless source is cut at the limit, not read until memory runs out. */
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file ("/dev/zero", &error);
  g_assert_null (def);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE);
}

static void
test_deep_nesting (void)
{
  g_autofree char *xml = lodge_hostile_deep_nesting (10000);
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "Excessive depth");
}

static void
test_nul_byte (void)
{
  const char xml[] = "<environment>\n<name>t\0x</name></environment>";
  assert_refused (xml, sizeof xml - 1, LODGE_ERROR_MALFORMED, "hostile.xml:2: NUL byte at offset 21");
}

static void
test_invalid_utf8 (void)
{
  const char *xml = "<environment>\n<name>t\xff\xfe</name></environment>";
  assert_refused (xml, strlen (xml), LODGE_ERROR_MALFORMED, "hostile.xml:2: invalid UTF-8 at offset 21");
  const char *overlong = "<environment><name>\xc0\xaf</name></environment>";
  assert_refused (overlong, strlen (overlong), LODGE_ERROR_MALFORMED, "invalid UTF-8");
}

static void
test_lying_encoding (void)
{
  /* The bytes are UTF-8 whatever the declaration claims. */
  const char *xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
                    "<environment><name>t1</name><description>caf\xc3\xa9</description>"
                    "<template name=\"busybox\"/><resources><vcpus>1</vcpus>"
                    "<memory unit=\"MiB\">64</memory><disk unit=\"GiB\">1</disk></resources>"
                    "</environment>";
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load (xml, strlen (xml), "enc.xml", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (def->description, ==, "caf\xc3\xa9");
}

static void
test_xinclude (void)
{
  const char *xml = "<environment xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                    "<name>t1</name><xi:include href=\"/etc/passwd\" parse=\"text\"/>"
                    "</environment>";
  assert_refused (xml, strlen (xml), LODGE_ERROR_SCHEMA, "include");
}

static void
test_empty (void)
{
  assert_refused ("", 0, LODGE_ERROR_MALFORMED, "empty document");
  assert_refused ("   \n", 4, LODGE_ERROR_MALFORMED, "malformed XML");
}

static void
test_not_a_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file ("/", &error);
  g_assert_null (def);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_IO);
  g_clear_error (&error);
  def = lodge_env_def_load_file ("/nonexistent/web.xml", &error);
  g_assert_null (def);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_IO);
  g_assert_cmpstr (error->message, ==, "/nonexistent/web.xml: cannot open: No such file or directory");
}

/* Random bytes and random mutations of a valid definition: never a crash
 * (ASan/UBSan watch in CI), always a definition or an error. The libFuzzer
 * target goes much further; this keeps a deterministic slice of it in the
 * unit tests. */
static void
test_random_mutations (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", "maximal.xml",
                                                 NULL);
  g_autofree char *seed = NULL;
  gsize seed_len = 0;
  g_assert_true (g_file_get_contents (path, &seed, &seed_len, NULL));
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261126);

  for (int round = 0; round < 2000; round++)
    {
      g_autofree char *buf = g_memdup2 (seed, seed_len);
      gsize len = seed_len;
      int edits = g_rand_int_range (rand, 1, 8);
      for (int e = 0; e < edits; e++)
        {
          gsize at = g_rand_int_range (rand, 0, len);
          switch (g_rand_int_range (rand, 0, 3))
            {
            case 0:
              buf[at] = (char) g_rand_int_range (rand, 0, 256);
              break;
            case 1:
              len = at; /* truncate */
              break;
            default:
              buf[at] = "<>&\"'=/ $\n"[g_rand_int_range (rand, 0, 10)];
              break;
            }
          if (len == 0)
            break;
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (LodgeEnvDef) def = lodge_env_def_load (buf, len, "mutant.xml", &error);
      g_assert_true ((def == NULL) != (error == NULL));
      if (def != NULL)
        {
          g_autofree char *out = lodge_env_def_format (def);
          g_assert_nonnull (out);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostile/xxe-file", test_xxe_file);
  g_test_add_func ("/hostile/xxe-network", test_xxe_network);
  g_test_add_func ("/hostile/external-dtd", test_external_dtd);
  g_test_add_func ("/hostile/parameter-entity", test_parameter_entity);
  g_test_add_func ("/hostile/billion-laughs", test_billion_laughs);
  g_test_add_func ("/hostile/huge-file", test_huge_file);
  g_test_add_func ("/hostile/huge-buffer", test_huge_buffer);
  g_test_add_func ("/hostile/endless-file", test_endless_file);
  g_test_add_func ("/hostile/deep-nesting", test_deep_nesting);
  g_test_add_func ("/hostile/nul-byte", test_nul_byte);
  g_test_add_func ("/hostile/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/hostile/lying-encoding", test_lying_encoding);
  g_test_add_func ("/hostile/xinclude", test_xinclude);
  g_test_add_func ("/hostile/empty", test_empty);
  g_test_add_func ("/hostile/not-a-file", test_not_a_file);
  g_test_add_func ("/hostile/random-mutations", test_random_mutations);
  return g_test_run ();
}
