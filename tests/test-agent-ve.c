/* The node's side of VE files (nodeagent/lodge-agent-ve.c): requests as
 * the control center sends them, answered from a temporary state
 * directory; hostile names and console bytes. No daemons. */
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "lodge-agent-ve.h"
#include "lodge-storage-error.h"

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("lodge-agent-ve-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d != NULL)
    {
      const char *e;
      while ((e = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, e, NULL);
          remove_tree (child);
        }
      g_dir_close (d);
    }
  g_remove (path);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

/* Sends @request; the answer parsed into an object, or NULL with @error. */
static JsonObject *
ask (Fixture *f, const char *request, GError **error)
{
  g_autoptr (GBytes) req = g_bytes_new (request, strlen (request));
  g_autoptr (GBytes) answer = lodge_agent_ve_handle (req, f->dir, error);
  if (answer == NULL)
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);
  g_assert_true (json_parser_load_from_data (parser, data, (gssize) len, NULL));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
write_log (Fixture *f, const char *ve, const char *text, gssize len)
{
  g_autofree char *path = g_build_filename (f->dir, ve, "console.log", NULL);
  g_assert_true (g_file_set_contents (path, text, len, NULL));
}

static void
test_put_config (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) o =
    ask (f, "{\"op\":\"put-config\",\"ve\":\"web1\",\"config\":\"hostname=web1\\n\",\"fresh_log\":true}", &error);
  g_assert_no_error (error);
  g_autofree char *want = g_build_filename (f->dir, "web1", "config", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "config_file"), ==, want);
  g_autofree char *log = g_build_filename (f->dir, "web1", "console.log", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "console_log"), ==, log);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (want, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "hostname=web1\n");
  GStatBuf st;
  g_assert_cmpint (g_stat (want, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* fresh_log removes an earlier boot's log; without it, the log stays. */
  write_log (f, "web1", "old boot\n", -1);
  g_autoptr (JsonObject) keep =
    ask (f, "{\"op\":\"put-config\",\"ve\":\"web1\",\"config\":\"x\"}", &error);
  g_assert_no_error (error);
  g_assert_nonnull (keep);
  g_assert_true (g_file_test (log, G_FILE_TEST_EXISTS));
  g_autoptr (JsonObject) fresh =
    ask (f, "{\"op\":\"put-config\",\"ve\":\"web1\",\"config\":\"x\",\"fresh_log\":true}", &error);
  g_assert_no_error (error);
  g_assert_nonnull (fresh);
  g_assert_false (g_file_test (log, G_FILE_TEST_EXISTS));

  /* forget removes the blob, keeps the log. */
  write_log (f, "web1", "kept\n", -1);
  g_autoptr (JsonObject) gone = ask (f, "{\"op\":\"forget\",\"ve\":\"web1\"}", &error);
  g_assert_no_error (error);
  g_assert_nonnull (gone);
  g_assert_false (g_file_test (want, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (log, G_FILE_TEST_EXISTS));
}

/* Requests carry their leader's generation: one older than the newest
 * heard from is refused (a controller paused past its lease); one without
 * (tools) is not. */
static void
test_generation (Fixture *f, gconstpointer data)
{
  struct {
    const char *request;
    gboolean ok;
  } steps[] = {
    { "{\"op\":\"forget\",\"ve\":\"web1\",\"generation\":5}", TRUE },
    { "{\"op\":\"forget\",\"ve\":\"web1\",\"generation\":4}", FALSE },
    { "{\"op\":\"forget\",\"ve\":\"web1\"}", TRUE },
    { "{\"op\":\"forget\",\"ve\":\"web1\",\"generation\":5}", TRUE },
    { "{\"op\":\"forget\",\"ve\":\"web1\",\"generation\":6}", TRUE },
    { "{\"op\":\"forget\",\"ve\":\"web1\",\"generation\":5}", FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) o = ask (f, steps[i].request, &error);
      g_test_message ("%s: %s", steps[i].request, error != NULL ? error->message : "done");
      g_assert_cmpint (o != NULL, ==, steps[i].ok);
      if (!steps[i].ok)
        g_assert_nonnull (strstr (error->message, "no longer leads"));
    }
}

static void
test_bad_requests (Fixture *f, gconstpointer data)
{
  const char *bad[] = {
    "",
    "not json",
    "[1,2]",
    "{\"op\":\"put-config\",\"config\":\"x\"}",              /* no VE */
    "{\"op\":\"put-config\",\"ve\":\"../etc\",\"config\":\"x\"}", /* a path */
    "{\"op\":\"put-config\",\"ve\":\"a/b\",\"config\":\"x\"}",
    "{\"op\":\"put-config\",\"ve\":\".hidden\",\"config\":\"x\"}",
    "{\"op\":\"put-config\",\"ve\":\"web1\"}",                 /* no config */
    "{\"op\":\"console\",\"ve\":\"web1\",\"lines\":-1}",
    "{\"op\":\"reboot\",\"ve\":\"web1\"}",                     /* unknown */
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) o = ask (f, bad[i], &error);
      g_assert_null (o);
      g_assert_nonnull (error);
      g_test_message ("%s -> %s", bad[i], error->message);
    }
  /* Nothing was written for any of them. */
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  g_assert_null (g_dir_read_name (d));

  /* A config too large for a blob. */
  GString *big = g_string_new ("{\"op\":\"put-config\",\"ve\":\"web1\",\"config\":\"");
  for (int i = 0; i < 70 * 1024; i++)
    g_string_append_c (big, 'a');
  g_string_append (big, "\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) o = ask (f, big->str, &error);
  g_string_free (big, TRUE);
  g_assert_null (o);
  g_assert_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID);
}

static void
test_ready (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* No log yet: not ready, not an error. */
  g_autoptr (JsonObject) none = ask (f, "{\"op\":\"ready\",\"ve\":\"web1\"}", &error);
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (none, "line"));

  g_autofree char *dir = g_build_filename (f->dir, "web1", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  /* Another VE's ready line is not this one's. */
  write_log (f, "web1", "boot\nlodge-ready name=web10 x\n", -1);
  g_autoptr (JsonObject) other = ask (f, "{\"op\":\"ready\",\"ve\":\"web1\"}", &error);
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (other, "line"));

  /* The guest's line, with an escape sequence in it: escaped, one line. */
  write_log (f, "web1", "boot\r\nlodge-ready name=web1 config=ok \x1b[2J\r\nmore\n", -1);
  g_autoptr (JsonObject) ready = ask (f, "{\"op\":\"ready\",\"ve\":\"web1\"}", &error);
  g_assert_no_error (error);
  const char *line = json_object_get_string_member (ready, "line");
  g_assert_true (g_str_has_prefix (line, "lodge-ready name=web1 config=ok "));
  g_assert_null (strchr (line, '\x1b'));
  g_assert_null (strchr (line, '\n'));
  g_assert_nonnull (strstr (line, "\\x1b"));

  /* An endless line is cut. */
  GString *endless = g_string_new ("lodge-ready name=web1 ");
  for (int i = 0; i < 10000; i++)
    g_string_append_c (endless, 'z');
  write_log (f, "web1", endless->str, (gssize) endless->len);
  g_string_free (endless, TRUE);
  g_autoptr (JsonObject) cut = ask (f, "{\"op\":\"ready\",\"ve\":\"web1\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (json_object_get_string_member (cut, "line")), <=, 512);
}

static char *
console_text (JsonObject *o)
{
  gsize len = 0;
  guchar *bytes = g_base64_decode (json_object_get_string_member (o, "data"), &len);
  char *text = g_strndup ((const char *) bytes, len);
  g_free (bytes);
  return text;
}

static void
test_console (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->dir, "web1", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  write_log (f, "web1", "one\ntwo\nthree\nfour", -1);

  g_autoptr (JsonObject) last2 = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"lines\":2}", &error);
  g_assert_no_error (error);
  g_autofree char *t1 = console_text (last2);
  g_assert_cmpstr (t1, ==, "three\nfour");
  g_assert_cmpint (json_object_get_int_member (last2, "size"), ==, 18);

  /* A finished last line is one line; 0 lines is nothing. */
  write_log (f, "web1", "a\nb\n", -1);
  g_autoptr (JsonObject) one = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"lines\":1}", &error);
  g_assert_no_error (error);
  g_autofree char *t0 = console_text (one);
  g_assert_cmpstr (t0, ==, "b\n");
  g_autoptr (JsonObject) zero = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"lines\":0}", &error);
  g_assert_no_error (error);
  g_autofree char *tz = console_text (zero);
  g_assert_cmpstr (tz, ==, "");
  write_log (f, "web1", "one\ntwo\nthree\nfour", -1);

  g_autoptr (JsonObject) from = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"offset\":8}", &error);
  g_assert_no_error (error);
  g_autofree char *t2 = console_text (from);
  g_assert_cmpstr (t2, ==, "three\nfour");
  g_assert_cmpint (json_object_get_int_member (from, "from"), ==, 8);

  /* An offset past the end: a new, shorter log (another boot), from its start. */
  g_autoptr (JsonObject) past = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"offset\":1000}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (past, "from"), ==, 0);

  /* A large log comes in bounded chunks. */
  gsize big = 3 * LODGE_AGENT_CONSOLE_CHUNK;
  char *bytes = g_malloc (big);
  memset (bytes, 'x', big);
  write_log (f, "web1", bytes, (gssize) big);
  g_free (bytes);
  g_autoptr (JsonObject) chunk = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"offset\":0}", &error);
  g_assert_no_error (error);
  g_autofree char *t3 = console_text (chunk);
  g_assert_cmpuint (strlen (t3), ==, LODGE_AGENT_CONSOLE_CHUNK);

  /* A log that is not a regular file (a guest cannot make one, but a
   * symlink planted there must not be followed). */
  g_autofree char *log = g_build_filename (dir, "console.log", NULL);
  g_remove (log);
  g_assert_cmpint (symlink ("/etc/shadow", log), ==, 0);
  g_autoptr (JsonObject) link = ask (f, "{\"op\":\"console\",\"ve\":\"web1\",\"lines\":5}", &error);
  g_assert_null (link);
  g_assert_nonnull (error);
}

static void
test_sweep (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) a = ask (f, "{\"op\":\"put-config\",\"ve\":\"a\",\"config\":\"x\"}", &error);
  g_autoptr (JsonObject) b = ask (f, "{\"op\":\"put-config\",\"ve\":\"b\",\"config\":\"x\"}", &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_autoptr (GPtrArray) defined = g_ptr_array_new ();
  g_ptr_array_add (defined, "a");
  /* Young blobs stay (a start whose domain is not defined yet). */
  lodge_agent_ve_sweep (f->dir, defined, 3600);
  g_autofree char *pa = g_build_filename (f->dir, "a", "config", NULL);
  g_autofree char *pb = g_build_filename (f->dir, "b", "config", NULL);
  g_assert_true (g_file_test (pb, G_FILE_TEST_EXISTS));
  /* Old enough, and b has no domain: it goes; a's domain is there. */
  lodge_agent_ve_sweep (f->dir, defined, 0);
  g_assert_true (g_file_test (pa, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (pb, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/agent-ve/put-config", Fixture, NULL, setup, test_put_config, teardown);
  g_test_add ("/agent-ve/bad-requests", Fixture, NULL, setup, test_bad_requests, teardown);
  g_test_add ("/agent-ve/generation", Fixture, NULL, setup, test_generation, teardown);
  g_test_add ("/agent-ve/ready", Fixture, NULL, setup, test_ready, teardown);
  g_test_add ("/agent-ve/console", Fixture, NULL, setup, test_console, teardown);
  g_test_add ("/agent-ve/sweep", Fixture, NULL, setup, test_sweep, teardown);
  return g_test_run ();
}
