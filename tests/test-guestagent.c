/* The guest agent (lodge-init --agent), on the host: the built lodge-init
 * runs as "lodge-init --agent --stdio --root SCRATCH" behind pipes and is
 * spoken to as libvirt would; hostile requests each get an error reply and
 * the agent keeps answering. (Its JSON and base64 in-process, where the
 * sanitizers see them: test-guestjson.c.) */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#define DEADLINE_US (20 * G_USEC_PER_SEC)

typedef struct {
  char *root;
  GSubprocess *proc;
  GOutputStream *in;
  GDataInputStream *out;
} Agent;

static char *
init_path (void)
{
  return g_test_build_filename (G_TEST_BUILT, "..", "images", "guestinit", "lodge-init", NULL);
}

static void
agent_setup (Agent *a, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  a->root = g_dir_make_tmp ("lodge-agent-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *etc = g_build_filename (a->root, "etc", NULL);
  g_assert_cmpint (g_mkdir (etc, 0755), ==, 0);
  g_autofree char *init = init_path ();
  a->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                              &error, init, "--agent", "--stdio", "--root", a->root, NULL);
  g_assert_no_error (error);
  a->in = g_subprocess_get_stdin_pipe (a->proc);
  a->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (a->proc));
}

static void
rm_rf (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *n;
      while (d != NULL && (n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *c = g_build_filename (path, n, NULL);
          rm_rf (c);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
agent_teardown (Agent *a, gconstpointer data)
{
  /* EOF on stdin: the agent exits 0. */
  g_autoptr (GError) error = NULL;
  g_output_stream_close (a->in, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (a->proc, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&a->out);
  g_clear_object (&a->proc);
  rm_rf (a->root);
  g_free (a->root);
}

static void
send_raw (Agent *a, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_output_stream_write_all (a->in, data, len, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_flush (a->in, NULL, &error);
  g_assert_no_error (error);
}

/* One reply line, parsed; @ret_delimited says whether it began with 0xFF. */
static JsonObject *
read_reply (Agent *a, gboolean *ret_delimited)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_autofree char *line = g_data_input_stream_read_line (a->out, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line); /* the agent died? */
  const char *text = line;
  gboolean delimited = len > 0 && (guchar) line[0] == 0xFF;
  if (delimited)
    text++;
  if (ret_delimited != NULL)
    *ret_delimited = delimited;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, &error))
    g_error ("reply is not JSON (%s): %.200s", error->message, text);
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
request (Agent *a, const char *json)
{
  g_autofree char *line = g_strconcat (json, "\n", NULL);
  send_raw (a, line, strlen (line));
  return read_reply (a, NULL);
}

static JsonObject *
request_printf (Agent *a, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static JsonObject *
request_printf (Agent *a, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *json = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return request (a, json);
}

/* The "return" member; fails the test on an error reply. */
static JsonNode *
ret_of (JsonObject *reply)
{
  if (json_object_has_member (reply, "error"))
    {
      JsonObject *e = json_object_get_object_member (reply, "error");
      g_error ("error reply: %s", json_object_get_string_member (e, "desc"));
    }
  g_assert_true (json_object_has_member (reply, "return"));
  return json_object_get_member (reply, "return");
}

static JsonObject *
ret_object (JsonObject *reply)
{
  JsonNode *n = ret_of (reply);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (n));
  return json_node_get_object (n);
}

static void
assert_error (JsonObject *reply, const char *class, const char *desc_part)
{
  if (!json_object_has_member (reply, "error"))
    g_error ("expected an error with '%s', got a return", desc_part);
  JsonObject *e = json_object_get_object_member (reply, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "class"), ==, class);
  const char *desc = json_object_get_string_member (e, "desc");
  if (strstr (desc, desc_part) == NULL)
    g_error ("error '%s' does not mention '%s'", desc, desc_part);
}

static void
assert_alive (Agent *a)
{
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-ping\"}");
  g_assert_cmpuint (json_object_get_size (ret_object (r)), ==, 0);
}

static char *
b64_member (JsonObject *o, const char *name)
{
  gsize len;
  guchar *data = g_base64_decode (json_object_get_string_member (o, name), &len);
  char *s = g_strndup ((const char *) data, len);
  g_free (data);
  return s;
}

/* ---- protocol ---- */

static void
test_sync (Agent *a, gconstpointer data)
{
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":123456789012}}");
  g_assert_cmpint (json_node_get_int (ret_of (r)), ==, 123456789012);

  /* Half a request, then 0xFF: dropped; the delimited reply starts with 0xFF. */
  const char msg[] = "{\"execute\":\"guest-pi\xff{\"execute\":\"guest-sync-delimited\","
                     "\"arguments\":{\"id\":-7}}";
  send_raw (a, msg, sizeof msg - 1);
  gboolean delimited = FALSE;
  g_autoptr (JsonObject) d = read_reply (a, &delimited);
  g_assert_true (delimited);
  g_assert_cmpint (json_node_get_int (ret_of (d)), ==, -7);

  /* Brace-delimited: two requests on one line, no line break. */
  send_raw (a, "{\"execute\":\"guest-ping\"}{\"execute\":\"guest-ping\"}", 48);
  g_autoptr (JsonObject) p1 = read_reply (a, NULL);
  g_autoptr (JsonObject) p2 = read_reply (a, NULL);
  ret_object (p1);
  ret_object (p2);
  assert_alive (a);
}

static void
test_id (Agent *a, gconstpointer data)
{
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-ping\",\"id\":\"abc\\\"1\"}");
  g_assert_cmpstr (json_object_get_string_member (r, "id"), ==, "abc\"1");
  g_autoptr (JsonObject) n = request (a, "{\"id\":{\"n\":[7]},\"execute\":\"guest-ping\"}");
  JsonObject *id = json_object_get_object_member (n, "id");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (id, "n"), 0), ==, 7);
  /* Errors carry it too; a surrogate pair becomes UTF-8. */
  g_autoptr (JsonObject) e = request (a, "{\"execute\":\"nope\",\"id\":\"\\ud83d\\ude00\"}");
  assert_error (e, "CommandNotFound", "nope");
  g_assert_cmpstr (json_object_get_string_member (e, "id"), ==, "\xf0\x9f\x98\x80");
}

static void
test_info (Agent *a, gconstpointer data)
{
  static const char *const expected[] = {
    "guest-sync", "guest-sync-delimited", "guest-ping", "guest-info", "guest-exec",
    "guest-exec-status", "guest-file-open", "guest-file-close", "guest-file-read",
    "guest-file-write", "guest-file-seek", "guest-file-flush", "guest-set-user-password",
    "guest-get-host-name", "guest-get-osinfo", "guest-shutdown", "guest-fsfreeze-status",
    "guest-fsfreeze-freeze", "guest-fsfreeze-thaw",
  };
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-info\"}");
  JsonObject *info = ret_object (r);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (info, "version"), "lodge-"));
  JsonArray *cmds = json_object_get_array_member (info, "supported_commands");
  g_assert_cmpuint (json_array_get_length (cmds), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < json_array_get_length (cmds); j++)
        {
          JsonObject *c = json_array_get_object_element (cmds, j);
          if (g_strcmp0 (json_object_get_string_member (c, "name"), expected[i]) == 0)
            {
              found = TRUE;
              g_assert_true (json_object_get_boolean_member (c, "enabled"));
            }
        }
      if (!found)
        g_error ("guest-info does not list %s", expected[i]);
      /* And each answers (or refuses) rather than CommandNotFound. */
      g_autoptr (JsonObject) any = request_printf (a, "{\"execute\":\"%s\",\"arguments\":"
                                                      "{\"mode\":\"bogus\"}}", expected[i]);
      if (json_object_has_member (any, "error"))
        g_assert_cmpstr (json_object_get_string_member (
                           json_object_get_object_member (any, "error"), "class"),
                         ==, "GenericError");
    }
}

static void
test_system (Agent *a, gconstpointer data)
{
  g_autofree char *os = g_build_filename (a->root, "etc", "os-release", NULL);
  g_assert_true (g_file_set_contents (os, "ID=lodge\nPRETTY_NAME=\"Lodge \\\"Test\\\" 1\"\n"
                                          "VERSION_ID='1.0'\n# comment\n", -1, NULL));
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-get-osinfo\"}");
  JsonObject *info = ret_object (r);
  g_assert_cmpstr (json_object_get_string_member (info, "id"), ==, "lodge");
  g_assert_cmpstr (json_object_get_string_member (info, "version-id"), ==, "1.0");
  g_assert_nonnull (strstr (json_object_get_string_member (info, "pretty-name"), "Lodge"));
  g_assert_true (json_object_has_member (info, "kernel-release"));
  g_assert_true (json_object_has_member (info, "machine"));

  char host[256];
  g_assert_cmpint (gethostname (host, sizeof host), ==, 0);
  g_autoptr (JsonObject) h = request (a, "{\"execute\":\"guest-get-host-name\"}");
  g_assert_cmpstr (json_object_get_string_member (ret_object (h), "host-name"), ==, host);

  /* A test must not power off or freeze the machine it runs on. */
  g_autoptr (JsonObject) s = request (a, "{\"execute\":\"guest-shutdown\"}");
  assert_error (s, "GenericError", "refused");
  g_autoptr (JsonObject) f = request (a, "{\"execute\":\"guest-fsfreeze-freeze\"}");
  assert_error (f, "GenericError", "refused");
  g_autoptr (JsonObject) st = request (a, "{\"execute\":\"guest-fsfreeze-status\"}");
  g_assert_cmpstr (json_node_get_string (ret_of (st)), ==, "thawed");
}

/* ---- guest-exec ---- */

static gint64
exec (Agent *a, const char *args)
{
  g_autoptr (JsonObject) r = request_printf (a, "{\"execute\":\"guest-exec\",\"arguments\":%s}",
                                             args);
  return json_object_get_int_member (ret_object (r), "pid");
}

/* Polls guest-exec-status until "exited", with a deadline. */
static JsonObject *
wait_exited (Agent *a, gint64 pid)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;
  for (;;)
    {
      g_autoptr (JsonObject) r = request_printf (
        a, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%" G_GINT64_FORMAT "}}", pid);
      JsonObject *st = ret_object (r);
      if (json_object_get_boolean_member (st, "exited"))
        return json_object_ref (st);
      if (g_get_monotonic_time () > deadline)
        g_error ("process %" G_GINT64_FORMAT " not reported exited within 20 s", pid);
      g_usleep (10 * 1000); /* polling a condition with a deadline (the agent has no event) */
    }
}

static void
test_exec (Agent *a, gconstpointer data)
{
  gint64 pid = exec (a, "{\"path\":\"echo\",\"arg\":[\"hi\"],\"capture-output\":true}");
  g_autoptr (JsonObject) st = wait_exited (a, pid);
  g_assert_cmpint (json_object_get_int_member (st, "exitcode"), ==, 0);
  g_autofree char *out = b64_member (st, "out-data");
  g_assert_cmpstr (out, ==, "hi\n");
  g_assert_false (json_object_has_member (st, "out-truncated"));

  pid = exec (a, "{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"echo err >&2; exit 3\"],"
                 "\"capture-output\":true}");
  g_autoptr (JsonObject) st2 = wait_exited (a, pid);
  g_assert_cmpint (json_object_get_int_member (st2, "exitcode"), ==, 3);
  g_assert_false (json_object_has_member (st2, "signal"));
  g_autofree char *err = b64_member (st2, "err-data");
  g_assert_cmpstr (err, ==, "err\n");
  g_autofree char *out2 = b64_member (st2, "out-data");
  g_assert_cmpstr (out2, ==, "");

  /* Returned once with exited=true: forgotten. */
  g_autoptr (JsonObject) gone = request_printf (
    a, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%" G_GINT64_FORMAT "}}", pid);
  assert_error (gone, "GenericError", "Invalid parameter 'pid'");

  /* The environment given replaces the agent's. */
  pid = exec (a, "{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"echo $LODGE_X\"],"
                 "\"env\":[\"LODGE_X=from-host\"],\"capture-output\":true}");
  g_autoptr (JsonObject) st3 = wait_exited (a, pid);
  g_autofree char *out3 = b64_member (st3, "out-data");
  g_assert_cmpstr (out3, ==, "from-host\n");

  g_autoptr (JsonObject) missing = request (a, "{\"execute\":\"guest-exec\",\"arguments\":"
                                               "{\"path\":\"/nonexistent/lodge\"}}");
  assert_error (missing, "GenericError", "/nonexistent/lodge");
  assert_alive (a);
}

static void
test_exec_input (Agent *a, gconstpointer data)
{
  g_autoptr (JsonObject) r = request (a, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":"
                                         "\"cat\",\"input-data\":\"aGVsbG8K\",\"capture-output\":true}}");
  g_autoptr (JsonObject) st = wait_exited (a, json_object_get_int_member (ret_object (r), "pid"));
  g_autofree char *out = b64_member (st, "out-data");
  g_assert_cmpstr (out, ==, "hello\n");

  /* More than a pipe holds, both ways. */
  gsize len = 1024 * 1024;
  g_autofree char *big = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    big[i] = (char) ('a' + i % 26);
  g_autofree char *b64 = g_base64_encode ((const guchar *) big, len);
  g_autofree char *args = g_strdup_printf ("{\"path\":\"cat\",\"input-data\":\"%s\","
                                           "\"capture-output\":true}", b64);
  g_autoptr (JsonObject) st2 = wait_exited (a, exec (a, args));
  gsize out_len;
  g_autofree guchar *out2 = g_base64_decode (json_object_get_string_member (st2, "out-data"),
                                             &out_len);
  g_assert_cmpmem (out2, out_len, big, len);
}

static void
test_exec_killed (Agent *a, gconstpointer data)
{
  gint64 pid = exec (a, "{\"path\":\"sleep\",\"arg\":[\"60\"]}");
  g_autoptr (JsonObject) r = request_printf (
    a, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%" G_GINT64_FORMAT "}}", pid);
  g_assert_false (json_object_get_boolean_member (ret_object (r), "exited"));
  /* Its own session: the host kills the whole group. */
  g_assert_cmpint (getpgid ((pid_t) pid), ==, pid);
  g_assert_cmpint (kill (-(pid_t) pid, SIGKILL), ==, 0);
  g_autoptr (JsonObject) st = wait_exited (a, pid);
  g_assert_cmpint (json_object_get_int_member (st, "signal"), ==, SIGKILL);
  g_assert_false (json_object_has_member (st, "exitcode"));
  g_assert_false (json_object_has_member (st, "out-data")); /* not captured */

  g_autoptr (JsonObject) u = request (a, "{\"execute\":\"guest-exec-status\",\"arguments\":"
                                         "{\"pid\":999999999}}");
  assert_error (u, "GenericError", "Invalid parameter 'pid'");
}

/* ---- guest-file-* ---- */

static void
test_file (Agent *a, gconstpointer data)
{
  g_autofree char *path = g_build_filename (a->root, "f.txt", NULL);
  g_autoptr (JsonObject) o = request_printf (a, "{\"execute\":\"guest-file-open\",\"arguments\":"
                                                "{\"path\":\"%s\",\"mode\":\"w+\"}}", path);
  gint64 h = json_node_get_int (ret_of (o));
  g_autoptr (JsonObject) w = request_printf (a, "{\"execute\":\"guest-file-write\",\"arguments\":"
                                                "{\"handle\":%" G_GINT64_FORMAT ",\"buf-b64\":"
                                                "\"aGVsbG8gd29ybGQ=\"}}", h);
  g_assert_cmpint (json_object_get_int_member (ret_object (w), "count"), ==, 11);
  g_autoptr (JsonObject) fl = request_printf (a, "{\"execute\":\"guest-file-flush\",\"arguments\":"
                                                 "{\"handle\":%" G_GINT64_FORMAT "}}", h);
  ret_object (fl);
  g_autoptr (JsonObject) s = request_printf (a, "{\"execute\":\"guest-file-seek\",\"arguments\":"
                                                "{\"handle\":%" G_GINT64_FORMAT ",\"offset\":6,"
                                                "\"whence\":\"set\"}}", h);
  g_assert_cmpint (json_object_get_int_member (ret_object (s), "position"), ==, 6);
  g_autoptr (JsonObject) rd = request_printf (a, "{\"execute\":\"guest-file-read\",\"arguments\":"
                                                 "{\"handle\":%" G_GINT64_FORMAT ",\"count\":100}}", h);
  JsonObject *ro = ret_object (rd);
  g_assert_cmpint (json_object_get_int_member (ro, "count"), ==, 5);
  g_assert_true (json_object_get_boolean_member (ro, "eof"));
  g_autofree char *text = b64_member (ro, "buf-b64");
  g_assert_cmpstr (text, ==, "world");
  g_autoptr (JsonObject) e = request_printf (a, "{\"execute\":\"guest-file-seek\",\"arguments\":"
                                                "{\"handle\":%" G_GINT64_FORMAT ",\"offset\":-2,"
                                                "\"whence\":2}}", h);
  g_assert_cmpint (json_object_get_int_member (ret_object (e), "position"), ==, 9);
  g_autoptr (JsonObject) c = request_printf (a, "{\"execute\":\"guest-file-close\",\"arguments\":"
                                                "{\"handle\":%" G_GINT64_FORMAT "}}", h);
  ret_object (c);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "hello world");

  /* Closed: the handle is gone. */
  g_autoptr (JsonObject) again = request_printf (a, "{\"execute\":\"guest-file-read\",\"arguments\":"
                                                    "{\"handle\":%" G_GINT64_FORMAT "}}", h);
  assert_error (again, "GenericError", "has not been found");

  /* Read back in "r" mode, default count. */
  g_autoptr (JsonObject) o2 = request_printf (a, "{\"execute\":\"guest-file-open\",\"arguments\":"
                                                 "{\"path\":\"%s\"}}", path);
  gint64 h2 = json_node_get_int (ret_of (o2));
  g_autoptr (JsonObject) rd2 = request_printf (a, "{\"execute\":\"guest-file-read\",\"arguments\":"
                                                  "{\"handle\":%" G_GINT64_FORMAT "}}", h2);
  g_autofree char *text2 = b64_member (ret_object (rd2), "buf-b64");
  g_assert_cmpstr (text2, ==, "hello world");
  g_autoptr (JsonObject) big = request_printf (a, "{\"execute\":\"guest-file-read\",\"arguments\":"
                                                  "{\"handle\":%" G_GINT64_FORMAT ",\"count\":"
                                                  "60000000}}", h2);
  assert_error (big, "GenericError", "count");
  g_autoptr (JsonObject) c2 = request_printf (a, "{\"execute\":\"guest-file-close\",\"arguments\":"
                                                 "{\"handle\":%" G_GINT64_FORMAT "}}", h2);
  ret_object (c2);

  g_autoptr (JsonObject) m = request_printf (a, "{\"execute\":\"guest-file-open\",\"arguments\":"
                                                "{\"path\":\"%s/missing\"}}", a->root);
  assert_error (m, "GenericError", "failed to open");
  g_autoptr (JsonObject) bm = request_printf (a, "{\"execute\":\"guest-file-open\",\"arguments\":"
                                                 "{\"path\":\"%s\",\"mode\":\"x\"}}", path);
  assert_error (bm, "GenericError", "mode");
  assert_alive (a);
}

/* ---- guest-set-user-password ---- */

static void
test_password (Agent *a, gconstpointer data)
{
  g_autofree char *shadow = g_build_filename (a->root, "etc", "shadow", NULL);
  const char *before = "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n";
  g_assert_true (g_file_set_contents (shadow, before, -1, NULL));
  g_assert_cmpint (g_chmod (shadow, 0640), ==, 0);

  g_autofree char *hash = g_base64_encode ((const guchar *) "$6$salt$HASH", 12);
  g_autoptr (JsonObject) ok = request_printf (a, "{\"execute\":\"guest-set-user-password\","
                                                 "\"arguments\":{\"username\":\"bob\",\"password\":"
                                                 "\"%s\",\"crypted\":true}}", hash);
  ret_object (ok);
  g_autofree char *after = NULL;
  g_assert_true (g_file_get_contents (shadow, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "root:*:19000:0:99999:7:::\nbob:$6$salt$HASH:19000:0:99999:7:::\n");
  GStatBuf st;
  g_assert_cmpint (g_stat (shadow, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);

  g_autofree char *plain = g_base64_encode ((const guchar *) "secret", 6);
  g_autofree char *colon = g_base64_encode ((const guchar *) "$6$a:b", 6);
  struct {
    const char *user, *password, *crypted, *error;
  } refused[] = {
    { "bob", plain, "false", "plain text passwords are not supported" },
    { "bob", plain, "true", "not a crypt(5) hash" },
    { "bob", colon, "true", "not a crypt(5) hash" },
    { "bob", "!!notbase64", "true", "base64" },
    { "nobody", hash, "true", "'nobody'" },
    { "bo:b", hash, "true", "username" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (JsonObject) r = request_printf (
        a, "{\"execute\":\"guest-set-user-password\",\"arguments\":{\"username\":\"%s\","
           "\"password\":\"%s\",\"crypted\":%s}}",
        refused[i].user, refused[i].password, refused[i].crypted);
      assert_error (r, "GenericError", refused[i].error);
    }
  g_autofree char *unchanged = NULL;
  g_assert_true (g_file_get_contents (shadow, &unchanged, NULL, NULL));
  g_assert_cmpstr (unchanged, ==, after);
  assert_alive (a);
}

/* ---- hostile input ---- */

static void
test_hostile (Agent *a, gconstpointer data)
{
  GString *deep = g_string_new ("{\"execute\":\"guest-ping\",\"arguments\":");
  for (int i = 0; i < 40; i++)
    g_string_append (deep, "{\"a\":");
  g_string_append (deep, "1");
  for (int i = 0; i < 40; i++)
    g_string_append (deep, "}");
  g_string_append (deep, "}");
  g_autofree char *deep_s = g_string_free (deep, FALSE);
  struct {
    const char *request, *class, *error;
  } cases[] = {
    { "{\"execute\":\"guest-ping\",}", "GenericError", "Invalid JSON" },
    { "{\"execute\" \"guest-ping\"}", "GenericError", "Invalid JSON" },
    { "{\"execute\":tru}", "GenericError", "Invalid JSON" },
    { "hello world", "GenericError", "Invalid JSON" },
    { deep_s, "GenericError", "nested too deeply" },
    { "[1,2,3]", "GenericError", "Expected a JSON object" },
    { "42", "GenericError", "Expected a JSON object" },
    { "\"guest-ping\"", "GenericError", "Expected a JSON object" },
    { "}", "GenericError", "Invalid JSON" },
    { "{}", "GenericError", "'execute'" },
    { "{\"execute\":42}", "GenericError", "'execute'" },
    { "{\"execute\":\"guest-ping\",\"arguments\":[1]}", "GenericError", "'arguments'" },
    { "{\"execute\":\"guest-nonsense\"}", "CommandNotFound", "guest-nonsense" },
    { "{\"execute\":\"guest-exec\"}", "GenericError", "Parameter 'path' is missing" },
    { "{\"execute\":\"guest-sync\",\"arguments\":{}}", "GenericError", "Parameter 'id' is missing" },
    { "{\"execute\":\"guest-file-read\",\"arguments\":{}}", "GenericError", "'handle'" },
    { "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":\"1\"}}", "GenericError",
      "expects an integer" },
    { "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"true\",\"arg\":[1]}}",
      "GenericError", "array of strings" },
    { "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":99999999999999999999}}",
      "GenericError", "out of range" },
    { "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1.5}}", "GenericError", "integer" },
    { "{\"execute\":\"guest-ping\",\"id\":\"\\ud800\"}", "GenericError", "surrogate" },
    { "{\"execute\":\"guest-ping\",\"id\":\"\\u0000\"}", "GenericError", "\\u0000" },
    { "{\"execute\":\"guest-ping\",\"id\":\"\\x\"}", "GenericError", "escape" },
    { "{\"execute\":\"guest-ping\",\"id\":\"a\tb\"}", "GenericError", "control character" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonObject) r = request (a, cases[i].request);
      assert_error (r, cases[i].class, cases[i].error);
      assert_alive (a);
    }

  /* A string over the 8 MiB limit: one error, the rest of its line
   * dropped, and the next request answered. */
  gsize n = 9 * 1024 * 1024;
  GString *huge = g_string_sized_new (n + 64);
  g_string_append (huge, "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":\"");
  for (gsize i = 0; i < n; i++)
    g_string_append_c (huge, 'A');
  g_string_append (huge, "\"}}\n");
  send_raw (a, huge->str, huge->len);
  g_string_free (huge, TRUE);
  g_autoptr (JsonObject) r = read_reply (a, NULL);
  assert_error (r, "GenericError", "8 MiB");
  assert_alive (a);

  /* Binary garbage on a line of its own: an error. */
  const char garbage[] = "\x01\x02\x80\x81\n";
  send_raw (a, garbage, sizeof garbage - 1);
  g_autoptr (JsonObject) g = read_reply (a, NULL);
  assert_error (g, "GenericError", "Invalid JSON");
  assert_alive (a);
  /* Half an object never ends by itself; 0xFF drops it, silently. */
  const char half[] = "{\"execute\":\"\x80\n\n{\xff";
  send_raw (a, half, sizeof half - 1);
  assert_alive (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *init = init_path ();
  if (!g_file_test (init, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("%s not built", init);
#define ADD(path, fn) g_test_add (path, Agent, NULL, agent_setup, fn, agent_teardown)
  ADD ("/guestagent/sync", test_sync);
  ADD ("/guestagent/id", test_id);
  ADD ("/guestagent/info", test_info);
  ADD ("/guestagent/system", test_system);
  ADD ("/guestagent/exec", test_exec);
  ADD ("/guestagent/exec-input", test_exec_input);
  ADD ("/guestagent/exec-killed", test_exec_killed);
  ADD ("/guestagent/file", test_file);
  ADD ("/guestagent/password", test_password);
  ADD ("/guestagent/hostile", test_hostile);
  return g_test_run ();
}
