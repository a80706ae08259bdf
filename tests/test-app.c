/* Application template manifests: golden round trips and expected errors,
 * configuration values, rendering, and the path rules. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-app.h"
#include "lodge-error.h"
#include "lib/lodge-golden.h"

static const char *const app_outputs[] = { ".out.xml", ".err", NULL };

/* tests/data/app/<case>.xml: parses and formats to itself (or to
 * <case>.out.xml, when the input is not in canonical form), or fails with
 * exactly the message in <case>.err. */
static void
test_golden_case (gconstpointer data)
{
  lodge_golden_round_trip ("app", data, LODGE_ERROR, (LodgeGoldenParse) lodge_app_manifest_parse,
                           (LodgeGoldenFormat) lodge_app_manifest_format, (GDestroyNotify) lodge_app_manifest_free);
}

static LodgeAppManifest *
load_case (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "app", name, NULL);
  g_autofree char *input = lodge_golden_read (path);
  g_autoptr (GError) error = NULL;
  LodgeAppManifest *m = lodge_app_manifest_parse (input, strlen (input), name, &error);
  g_assert_no_error (error);
  return m;
}

static void
test_typed_values (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("static-web.xml");

  g_assert_cmpstr (m->description, ==, "A static web server (busybox httpd)");
  g_assert_cmpuint (m->copies->len, ==, 1);
  LodgeAppCopy *c = m->copies->pdata[0];
  g_assert_cmpstr (c->from, ==, "www");
  g_assert_cmpstr (c->to, ==, "/srv/static-web");
  g_assert_cmpuint (c->line, >, 0);
  g_assert_cmpuint (m->params->len, ==, 2);
  g_assert_cmpuint (m->files->len, ==, 1);
  LodgeAppFile *f = m->files->pdata[0];
  g_assert_cmpstr (f->path, ==, "/srv/static-web/index.html");
  g_assert_cmpstr (f->template_path, ==, "templates/index.html");
  g_assert_cmpuint (f->mode, ==, 0644);
  g_assert_cmpuint (f->uid, ==, 33);
  g_assert_cmpuint (f->gid, ==, 33);
  g_assert_nonnull (m->reload);
  g_assert_nonnull (m->health);

  const LodgeAppParam *port = lodge_app_manifest_find_param (m, "port");
  g_assert_nonnull (port);
  g_assert_cmpstr (port->default_value, ==, "80");
  g_assert_cmpstr (port->pattern, ==, "[0-9]{1,5}");
  g_assert_null (lodge_app_manifest_find_param (m, "colour"));
}

static void
test_defaults (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("minimal.xml");
  g_assert_null (m->description);
  g_assert_cmpuint (m->copies->len, ==, 0);
  g_assert_cmpuint (m->params->len, ==, 0);
  g_assert_null (m->reload);
  g_assert_null (m->health);

  g_autoptr (LodgeAppManifest) d = load_case ("file-defaults.xml");
  LodgeAppFile *f = d->files->pdata[0];
  g_assert_cmpuint (f->mode, ==, LODGE_APP_DEFAULT_MODE);
  g_assert_cmpuint (f->uid, ==, 0);
  g_assert_cmpuint (f->gid, ==, 0);
}

/* ---- values ---- */

static GHashTable *
given_table (const char *first_key, ...)
{
  GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);
  va_list ap;
  va_start (ap, first_key);
  for (const char *k = first_key; k != NULL; k = va_arg (ap, const char *))
    g_hash_table_insert (t, (char *) k, va_arg (ap, char *));
  va_end (ap);
  return t;
}

static void
test_values_defaults (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("static-web.xml");
  g_autoptr (GError) error = NULL;

  g_autoptr (GHashTable) v = lodge_app_manifest_values (m, NULL, "web", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (v), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (v, "greeting"), ==, "Hello");
  g_assert_cmpstr (g_hash_table_lookup (v, "port"), ==, "80");

  g_autoptr (GHashTable) given = given_table ("port", "8080", NULL);
  g_autoptr (GHashTable) w = lodge_app_manifest_values (m, given, "web", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (w, "greeting"), ==, "Hello");
  g_assert_cmpstr (g_hash_table_lookup (w, "port"), ==, "8080");
}

static void
test_values_undeclared (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("static-web.xml");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) given = given_table ("port", "8080", "colour", "red", NULL);
  g_autoptr (GHashTable) v = lodge_app_manifest_values (m, given, "web", &error);
  g_assert_null (v);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "application web: no configuration key 'colour'; the template declares: "
                   "greeting, port");

  g_autoptr (LodgeAppManifest) none = load_case ("minimal.xml");
  g_clear_error (&error);
  g_autoptr (GHashTable) w = lodge_app_manifest_values (none, given, "bare", &error);
  g_assert_null (w);
  g_assert_cmpstr (error->message, ==,
                   "application bare: no configuration key 'colour'; the template declares "
                   "none");
}

static void
test_values_required (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("required-param.xml");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) v = lodge_app_manifest_values (m, NULL, "db", &error);
  g_assert_null (v);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "application db: configuration key 'password_file' is required (the "
                   "template gives no default)");

  g_clear_error (&error);
  g_autoptr (GHashTable) given = given_table ("password_file", "/etc/db.pw", NULL);
  g_autoptr (GHashTable) w = lodge_app_manifest_values (m, given, "db", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (w, "password_file"), ==, "/etc/db.pw");
}

static void
test_values_pattern (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("static-web.xml");
  g_autoptr (GError) error = NULL;
  /* anchored: a match of a part is not enough */
  g_autoptr (GHashTable) given = given_table ("port", "80; reboot", NULL);
  g_autoptr (GHashTable) v = lodge_app_manifest_values (m, given, "web", &error);
  g_assert_null (v);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "application web: value '80; reboot' for 'port' does not match its "
                   "pattern '[0-9]{1,5}'");
}

static void
test_values_control (void)
{
  g_autoptr (LodgeAppManifest) m = load_case ("static-web.xml");
  const char *bad[] = { "Hello\nWorld", "tab\there", "cr\r", "esc\033[2J" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GHashTable) given = given_table ("greeting", bad[i], NULL);
      g_autoptr (GHashTable) v = lodge_app_manifest_values (m, given, "web", &error);
      g_assert_null (v);
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "line break or other control character"));
      g_assert_null (strchr (error->message, '\n')); /* shown escaped */
    }
  g_autoptr (GError) utf8_error = NULL;
  g_autoptr (GHashTable) not_utf8 = given_table ("greeting", "caf\xe9", NULL);
  g_autoptr (GHashTable) u = lodge_app_manifest_values (m, not_utf8, "web", &utf8_error);
  g_assert_null (u);
  g_assert_cmpstr (utf8_error->message, ==,
                   "application web: value 'caf\\xe9' for 'greeting' is not valid UTF-8");

  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) given = given_table ("greeting", "Hello\nWorld", NULL);
  g_autoptr (GHashTable) v = lodge_app_manifest_values (m, given, "web", &error);
  g_assert_null (v);
  g_assert_cmpstr (error->message, ==,
                   "application web: value 'Hello\\nWorld' for 'greeting' has a line break or "
                   "other control character");
}

/* ---- rendering ---- */

static GHashTable *
render_values (void)
{
  GHashTable *v = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (v, (char *) "greeting", (char *) "Hello");
  g_hash_table_insert (v, (char *) "port", (char *) "80");
  g_hash_table_insert (v, (char *) "evil", (char *) "a'b; rm -rf /");
  g_hash_table_insert (v, (char *) "empty", (char *) "");
  return v;
}

static void
assert_renders (const char *text, gboolean shell_quote, const char *expected)
{
  g_autoptr (GHashTable) v = render_values ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = lodge_app_render (text, v, shell_quote, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, expected);
}

static void
test_render_plain (void)
{
  assert_renders ("", FALSE, "");
  assert_renders ("no placeholders", FALSE, "no placeholders");
  assert_renders ("<h1>${greeting}</h1>\nport ${port}${port}\n", FALSE,
                  "<h1>Hello</h1>\nport 8080\n");
  assert_renders ("[${empty}]", FALSE, "[]");
  /* values are inserted once, never rendered again */
  assert_renders ("${evil}", FALSE, "a'b; rm -rf /");
}

static void
test_render_dollar (void)
{
  assert_renders ("$$", FALSE, "$");
  assert_renders ("$${greeting}", FALSE, "${greeting}");
  assert_renders ("$$${port}", FALSE, "$80");
  assert_renders ("$$$${port}", FALSE, "$${port}");
  assert_renders ("cost: 5$ and $$5", FALSE, "cost: 5$ and $5");
  assert_renders ("kill -HUP $(cat /run/x.pid) $1 $", TRUE, "kill -HUP $(cat /run/x.pid) $1 $");
  assert_renders ("echo $$$$", TRUE, "echo $$");
}

static void
test_render_shell_quote (void)
{
  assert_renders ("httpd -p ${port}", TRUE, "httpd -p '80'");
  assert_renders ("echo ${evil}", TRUE, "echo 'a'\\''b; rm -rf /'");
  assert_renders ("echo ${empty}", TRUE, "echo ''");

  /* The shell sees one word, whatever the value. */
  g_autoptr (GHashTable) v = render_values ();
  g_autoptr (GError) error = NULL;
  g_autofree char *cmd = lodge_app_render ("echo ${evil} ${empty}", v, TRUE, "test", &error);
  g_assert_no_error (error);
  g_auto (GStrv) argv = NULL;
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (argv), ==, 3);
  g_assert_cmpstr (argv[1], ==, "a'b; rm -rf /");
  g_assert_cmpstr (argv[2], ==, "");
}

static void
test_render_unknown (void)
{
  g_autoptr (GHashTable) v = render_values ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out =
    lodge_app_render ("<p>\n${greeting}\n${colour}</p>\n", v, FALSE, "templates/index.html",
                      &error);
  g_assert_null (out);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "templates/index.html:3: '${colour}' is not a parameter of the template "
                   "(the parameters are: empty, evil, greeting, port; write $$ for a literal "
                   "'$')");

  g_clear_error (&error);
  g_autofree char *out2 = lodge_app_render ("echo ${HOME", v, TRUE, "<launch>", &error);
  g_assert_null (out2);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "<launch>: '${HOME' has no closing '}' (write $$ for a literal '$')");

  g_clear_error (&error);
  g_autofree char *out3 = lodge_app_render ("${}", NULL, FALSE, "t", &error);
  g_assert_null (out3);
  g_assert_cmpstr (error->message, ==,
                   "t: '${}' is not a parameter of the template (there are none; write $$ for "
                   "a literal '$')");
}

static void
test_render_limits (void)
{
  g_autoptr (GHashTable) v = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;

  g_autofree char *big = g_strnfill (LODGE_APP_MAX_TEMPLATE_BYTES + 1, 'x');
  g_autofree char *out = lodge_app_render (big, v, FALSE, "big.conf", &error);
  g_assert_null (out);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE);

  /* 64 KiB of placeholders, each 4 KiB: far over the rendered limit */
  g_autofree char *value = g_strnfill (4096, 'v');
  g_hash_table_insert (v, (char *) "v", value);
  GString *text = g_string_new (NULL);
  while (text->len + 4 <= LODGE_APP_MAX_TEMPLATE_BYTES)
    g_string_append (text, "${v}");
  g_autofree char *bomb = g_string_free (text, FALSE);
  g_clear_error (&error);
  g_autofree char *out2 = lodge_app_render (bomb, v, FALSE, "bomb.conf", &error);
  g_assert_null (out2);
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE);
}

/* ---- paths ---- */

static void
test_tree_paths (void)
{
  const char *good[] = { "www", "templates/index.html", ".config", "a/..b/c..", "a b/ü" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (lodge_app_check_tree_path (good[i], &error));
      g_assert_no_error (error);
    }
  const char *bad[] = { "", "/www", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b",
                        "a//b", "a/", "a\tb" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_app_check_tree_path (bad[i], &error));
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
    }
}

static void
test_ve_paths (void)
{
  const char *good[] = { "/srv/www", "/etc/nginx/nginx.conf", "/proceed", "/devel/x",
                         "/var/run/x", "/.hidden" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (lodge_app_check_ve_path (good[i], &error));
      g_assert_no_error (error);
    }
  const char *bad[] = { "", "/", "srv", "./srv", "/srv/", "//srv", "/srv//x", "/srv/../etc",
                        "/srv/.", "/..", "/proc", "/proc/sys/x", "/sys/x", "/dev/null", "/run",
                        "/run/x.pid", "/srv/\nx" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_app_check_ve_path (bad[i], &error));
      g_assert_error (error, LODGE_ERROR, LODGE_ERROR_INVALID);
      g_assert_null (strchr (error->message, '\n'));
    }
}

/* The disk states of GET .../apps: each has its word on the wire and its
 * words for people, distinct; words the table does not know are -1 (the
 * CLI shows those as they came). */
static void
test_disk_states (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (int d = 0; d < LODGE_APP_DISK_LAST; d++)
    {
      const char *word = lodge_app_disk_to_string (d);
      const char *said = lodge_app_disk_describe (d);
      g_assert_nonnull (word);
      g_assert_nonnull (said);
      g_assert_cmpint (lodge_app_disk_from_string (word), ==, d);
      g_assert_true (g_hash_table_add (seen, (gpointer) word));
      g_assert_true (d == LODGE_APP_DISK_INSTALLED || g_hash_table_add (seen, (gpointer) said));
    }
  g_assert_cmpstr (lodge_app_disk_to_string (LODGE_APP_DISK_INSTALLED), ==, "installed");
  g_assert_cmpstr (lodge_app_disk_describe (LODGE_APP_DISK_NOT_INSTALLED), ==,
                   "not installed (the next start lays it in)");
  g_assert_cmpint (lodge_app_disk_from_string ("not installed (the next start lays it in)"), ==, -1);
  g_assert_null (lodge_app_disk_to_string (LODGE_APP_DISK_LAST));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  lodge_golden_add_tests ("app", "app", app_outputs, test_golden_case);

  g_test_add_func ("/app/typed-values", test_typed_values);
  g_test_add_func ("/app/defaults", test_defaults);
  g_test_add_func ("/app/values/defaults", test_values_defaults);
  g_test_add_func ("/app/values/undeclared", test_values_undeclared);
  g_test_add_func ("/app/values/required", test_values_required);
  g_test_add_func ("/app/values/pattern", test_values_pattern);
  g_test_add_func ("/app/values/control", test_values_control);
  g_test_add_func ("/app/render/plain", test_render_plain);
  g_test_add_func ("/app/render/dollar", test_render_dollar);
  g_test_add_func ("/app/render/shell-quote", test_render_shell_quote);
  g_test_add_func ("/app/render/unknown", test_render_unknown);
  g_test_add_func ("/app/render/limits", test_render_limits);
  g_test_add_func ("/app/path/tree", test_tree_paths);
  g_test_add_func ("/app/path/ve", test_ve_paths);
  g_test_add_func ("/app/disk-states", test_disk_states);
  return g_test_run ();
}
