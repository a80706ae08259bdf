/* The guest agent through libvirt: commands of the QEMU guest agent
 * protocol sent with virDomainQemuAgentCommand().
 *
 * The guest is hostile: every operation (a ping, a file read or write, an
 * exec, a password) has one total deadline, and each of its agent calls
 * gets what is left of it (at most CALL_MAX_S, at least 1 s), so that an
 * agent answering each call just in time cannot stretch the operation;
 * a cancellable ends it between two calls. What it returns is capped
 * (libvirt drops an answer over 10 MiB; a file read over its @max, exec's
 * output over EXEC_OUTPUT_MAX). */
#include "lodge-libvirt.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "lodge-libvirt-private.h"

#define CALL_MAX_S 10                 /* one agent call; the operation's deadline rules */
#define EXEC_KILL_S 10                /* exec: the kill and the last status after its deadline */
#define EXEC_OUTPUT_MAX (16 << 20)    /* exec: of stdout, of stderr */
#define ERROR_TEXT_MAX 300            /* of the agent's own error text */
#define FILE_CHUNK (1 << 20)
#define POLL_FIRST_MS 20
#define POLL_MAX_MS 250

void
lodge_guest_exec_free (LodgeGuestExec *x)
{
  if (x == NULL)
    return;
  g_clear_pointer (&x->out, g_bytes_unref);
  g_clear_pointer (&x->err, g_bytes_unref);
  g_free (x);
}

guint
lodge_agent_call_timeout (gint64 now_us, gint64 deadline_us, guint max_s)
{
  if (now_us >= deadline_us)
    return 0;
  gint64 left_s = (deadline_us - now_us) / G_USEC_PER_SEC;
  return (guint) CLAMP (left_s, 1, (gint64) MAX (max_s, 1));
}

/* One operation on one domain: what it is called in errors ("guest-file-read
 * of /x"), its deadline on the monotonic clock and the bound it came
 * from, and what may cancel it. */
typedef struct {
  LodgeLibvirt *lv;
  virDomainPtr dom;
  const char *domain;
  const char *what;
  gint64 deadline_us;
  guint bound_s;
  GCancellable *cancellable;
} Op;

static void
op_init (Op *op, LodgeLibvirt *lv, virDomainPtr dom, const char *domain, const char *what,
         guint bound_s, GCancellable *cancellable)
{
  *op = (Op) { lv, dom, domain, what, g_get_monotonic_time () + (gint64) bound_s * G_USEC_PER_SEC,
               bound_s, cancellable };
}

static gboolean
op_past (const Op *op, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (op->cancellable, error))
    {
      g_prefix_error (error, "guest agent of %s: %s: ", op->domain, op->what);
      return TRUE;
    }
  if (g_get_monotonic_time () < op->deadline_us)
    return FALSE;
  g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT,
               "guest agent of %s: %s did not finish within %u s", op->domain, op->what,
               op->bound_s);
  return TRUE;
}

/* Sends @cmd (a JSON object: {"execute": ..., "arguments": ...}) and
 * returns the "return" member of the answer; it waits for the answer no
 * longer than @op's deadline. */
static JsonNode *
agent_call (const Op *op, JsonNode *cmd, GError **error)
{
  if (op_past (op, error))
    return NULL;
  guint timeout_s = lodge_agent_call_timeout (g_get_monotonic_time (), op->deadline_us, CALL_MAX_S);
  g_autofree char *text = json_to_string (cmd, FALSE);
  g_autofree char *reply = virDomainQemuAgentCommand (op->dom, text, (int) timeout_s, 0);
  if (reply == NULL)
    {
      /* A call cut by its timeout leaves the deadline passed, or so near
       * that the timeout was what was left of it (whole seconds): say so. */
      gboolean shortened = timeout_s < CALL_MAX_S && virGetLastErrorCode () == VIR_ERR_AGENT_UNRESPONSIVE;
      if (op_past (op, error))
        {
          virResetLastError ();
          return NULL;
        }
      if (shortened)
        {
          virResetLastError ();
          g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT,
                       "guest agent of %s: %s did not finish within %u s", op->domain, op->what,
                       op->bound_s);
          return NULL;
        }
      JsonObject *o = json_node_get_object (cmd);
      g_autoptr (GError) local = NULL;
      lodge_libvirt_fail (op->lv, &local, "%s: guest agent of %s: %s", lodge_libvirt_uri (op->lv),
                          op->domain,
                          json_object_get_string_member_with_default (o, "execute", "?"));
      /* The agent's own error text is the guest's: cut it short. */
      if (strlen (local->message) > ERROR_TEXT_MAX)
        {
          char *cut = local->message + ERROR_TEXT_MAX - 3;
          while (cut > local->message && ((guchar) *cut & 0xC0) == 0x80)
            cut--; /* not inside a UTF-8 character */
          strcpy (cut, "...");
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_autoptr (JsonNode) root = json_from_string (reply, NULL);
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (o == NULL || !json_object_has_member (o, "return"))
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                   "guest agent of %s: an answer without a result: %.200s", op->domain, reply);
      return NULL;
    }
  return json_node_copy (json_object_get_member (o, "return"));
}

/* {"execute": @execute, "arguments": {...}} from a builder's object. */
static JsonNode *
command (const char *execute, JsonBuilder *args)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "execute");
  json_builder_add_string_value (b, execute);
  if (args != NULL)
    {
      json_builder_set_member_name (b, "arguments");
      json_builder_add_value (b, json_builder_get_root (args));
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonBuilder *
args_new (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

static JsonNode *
call (const Op *op, const char *execute, JsonBuilder *args, GError **error)
{
  if (args != NULL)
    json_builder_end_object (args);
  g_autoptr (JsonNode) cmd = command (execute, args);
  return agent_call (op, cmd, error);
}

/* At most @max bytes (more sets *@ret_truncated). */
static GBytes *
b64_member (JsonObject *o, const char *name, gsize max, gboolean *ret_truncated)
{
  const char *b64 = json_object_get_string_member_with_default (o, name, NULL);
  if (b64 == NULL || *b64 == '\0')
    return g_bytes_new (NULL, 0);
  gsize len = 0;
  guchar *data = g_base64_decode (b64, &len);
  if (len > max)
    {
      len = max;
      if (ret_truncated != NULL)
        *ret_truncated = TRUE;
    }
  return g_bytes_new_take (data, len);
}

/* exec-status until exited or @until_us (within @op's deadline); NULL on
 * error, the status object otherwise (exited or not). */
static JsonNode *
wait_exec (const Op *op, gint64 pid, gint64 until_us, GError **error)
{
  guint delay_ms = POLL_FIRST_MS;
  for (;;)
    {
      JsonBuilder *a = args_new ();
      json_builder_set_member_name (a, "pid");
      json_builder_add_int_value (a, pid);
      g_autoptr (JsonBuilder) args = a;
      g_autoptr (JsonNode) st = call (op, "guest-exec-status", args, error);
      if (st == NULL)
        return NULL;
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (st) ? json_node_get_object (st) : NULL;
      if (o == NULL)
        {
          g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                       "guest agent of %s: guest-exec-status gave no object", op->domain);
          return NULL;
        }
      if (json_object_get_boolean_member_with_default (o, "exited", FALSE)
          || g_get_monotonic_time () >= until_us)
        return g_steal_pointer (&st);
      /* Polling the agent: the protocol has no completion event. */
      g_usleep (delay_ms * 1000);
      delay_ms = MIN (delay_ms * 2, POLL_MAX_MS);
    }
}

gboolean
lodge_libvirt_guest_ping (LodgeLibvirt *lv, const char *domain, guint timeout_s, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return FALSE;
  Op op;
  op_init (&op, lv, dom, domain, "guest-ping", timeout_s, NULL);
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (JsonNode) ret = call (&op, "guest-ping", NULL, &local);
      if (ret != NULL)
        return TRUE;
      if (!g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_AGENT)
          || g_get_monotonic_time () >= op.deadline_us)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* The agent connects after boot; libvirt says so at once. */
      g_usleep (200 * 1000);
    }
}

static gint64
start_exec (const Op *op, const char *const *argv, GBytes *input, GError **error)
{
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "path");
  json_builder_add_string_value (args, argv[0]);
  json_builder_set_member_name (args, "arg");
  json_builder_begin_array (args);
  for (guint i = 1; argv[i] != NULL; i++)
    json_builder_add_string_value (args, argv[i]);
  json_builder_end_array (args);
  if (input != NULL && g_bytes_get_size (input) > 0)
    {
      gsize len = 0;
      const guchar *data = g_bytes_get_data (input, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      json_builder_set_member_name (args, "input-data");
      json_builder_add_string_value (args, b64);
    }
  json_builder_set_member_name (args, "capture-output");
  json_builder_add_boolean_value (args, TRUE);
  g_autoptr (JsonNode) ret = call (op, "guest-exec", args, error);
  if (ret == NULL)
    return -1;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
  gint64 pid = o != NULL ? json_object_get_int_member_with_default (o, "pid", -1) : -1;
  if (pid <= 0)
    g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                 "guest agent of %s: guest-exec gave no pid", op->domain);
  return pid;
}

LodgeGuestExec *
lodge_libvirt_guest_exec (LodgeLibvirt *lv, const char *domain, const char *const *argv,
                          GBytes *input, guint timeout_s, GCancellable *cancellable,
                          GError **error)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return NULL;
  /* The command's time, then EXEC_KILL_S to kill it and collect what it
   * wrote: the whole operation's bound. */
  g_autofree char *what = g_strdup_printf ("guest-exec of %s", argv[0]);
  Op op;
  op_init (&op, lv, dom, domain, what, timeout_s + EXEC_KILL_S, cancellable);
  gint64 pid = start_exec (&op, argv, input, error);
  if (pid <= 0)
    return NULL;
  gint64 deadline = op.deadline_us - (gint64) EXEC_KILL_S * G_USEC_PER_SEC;
  g_autoptr (JsonNode) st = wait_exec (&op, pid, deadline, error);
  if (st == NULL)
    return NULL;
  g_autoptr (LodgeGuestExec) x = g_new0 (LodgeGuestExec, 1);
  x->pid = pid;
  JsonObject *o = json_node_get_object (st);
  if (!json_object_get_boolean_member_with_default (o, "exited", FALSE))
    {
      /* The deadline: kill its process group (lodge-init's agent makes
       * one per command), or the process alone (qemu-guest-agent does
       * not), then collect what it wrote, all within EXEC_KILL_S. */
      g_autofree char *group = g_strdup_printf ("-%" G_GINT64_FORMAT, pid);
      g_autofree char *single = g_strdup_printf ("%" G_GINT64_FORMAT, pid);
      const char *kill_group[] = { "kill", "-9", "--", group, NULL };
      const char *kill_one[] = { "kill", "-9", single, NULL };
      x->timed_out = TRUE;
      gint64 step_us = (gint64) EXEC_KILL_S * G_USEC_PER_SEC / 3;
      gint64 killer = start_exec (&op, kill_group, NULL, NULL);
      g_autoptr (JsonNode) ks =
        killer > 0 ? wait_exec (&op, killer, g_get_monotonic_time () + step_us, NULL) : NULL;
      JsonObject *ko = ks != NULL ? json_node_get_object (ks) : NULL;
      if (ko == NULL || json_object_get_int_member_with_default (ko, "exitcode", 1) != 0)
        {
          gint64 k2 = start_exec (&op, kill_one, NULL, NULL);
          if (k2 > 0)
            json_node_unref (wait_exec (&op, k2, g_get_monotonic_time () + step_us, NULL));
        }
      json_node_unref (g_steal_pointer (&st));
      st = wait_exec (&op, pid, g_get_monotonic_time () + step_us, error);
      if (st == NULL)
        return NULL;
      o = json_node_get_object (st);
    }
  x->signal = (int) json_object_get_int_member_with_default (o, "signal", 0);
  x->exit_code = x->signal != 0 ? -1 : (int) json_object_get_int_member_with_default (o, "exitcode", -1);
  x->out_truncated = json_object_get_boolean_member_with_default (o, "out-truncated", FALSE);
  x->err_truncated = json_object_get_boolean_member_with_default (o, "err-truncated", FALSE);
  x->out = b64_member (o, "out-data", EXEC_OUTPUT_MAX, &x->out_truncated);
  x->err = b64_member (o, "err-data", EXEC_OUTPUT_MAX, &x->err_truncated);
  return g_steal_pointer (&x);
}

static gint64
file_open (const Op *op, const char *path, const char *mode, GError **error)
{
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "path");
  json_builder_add_string_value (args, path);
  json_builder_set_member_name (args, "mode");
  json_builder_add_string_value (args, mode);
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) ret = call (op, "guest-file-open", args, &local);
  if (ret == NULL)
    {
      /* The agent's error text is errno's ("No such file or directory"). */
      if (g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT)
          || strstr (local->message, "No such file") == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND,
                     "%s: no such file in %s", path, op->domain);
      return -1;
    }
  return JSON_NODE_HOLDS_VALUE (ret) ? json_node_get_int (ret) : -1;
}

/* Closing is a courtesy with a second of its own, so that an operation
 * cut short (past its deadline, cancelled) still closes its handle. */
static void
file_close (const Op *op, gint64 handle)
{
  Op closing = *op;
  closing.what = "guest-file-close";
  closing.cancellable = NULL;
  closing.deadline_us = g_get_monotonic_time () + G_USEC_PER_SEC;
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "handle");
  json_builder_add_int_value (args, handle);
  JsonNode *ret = call (&closing, "guest-file-close", args, NULL);
  if (ret != NULL)
    json_node_unref (ret);
}

GBytes *
lodge_libvirt_guest_read (LodgeLibvirt *lv, const char *domain, const char *path, gsize max,
                          guint timeout_s, GCancellable *cancellable, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return NULL;
  g_autofree char *what = g_strdup_printf ("guest-file-read of %s", path);
  Op op;
  op_init (&op, lv, dom, domain, what, timeout_s, cancellable);
  gint64 handle = file_open (&op, path, "r", error);
  if (handle < 0)
    return NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  gboolean ok = TRUE;
  for (;;)
    {
      /* One byte past @max tells a file that is too large. */
      gsize want = MIN ((gsize) FILE_CHUNK, max + 1 - data->len);
      g_autoptr (JsonBuilder) args = args_new ();
      json_builder_set_member_name (args, "handle");
      json_builder_add_int_value (args, handle);
      json_builder_set_member_name (args, "count");
      json_builder_add_int_value (args, (gint64) want);
      g_autoptr (JsonNode) ret = call (&op, "guest-file-read", args, error);
      JsonObject *o = ret != NULL && JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
      if (o == NULL)
        {
          ok = FALSE;
          if (ret != NULL)
            g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                         "guest agent of %s: guest-file-read gave no object", domain);
          break;
        }
      gboolean over = FALSE;
      g_autoptr (GBytes) chunk = b64_member (o, "buf-b64", max - data->len, &over);
      g_byte_array_append (data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      if (over)
        {
          g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_INVALID,
                       "%s in %s is larger than %" G_GSIZE_FORMAT " bytes", path, domain, max);
          ok = FALSE;
          break;
        }
      if (json_object_get_boolean_member_with_default (o, "eof", FALSE)
          || g_bytes_get_size (chunk) == 0)
        break;
    }
  file_close (&op, handle);
  return ok ? g_byte_array_free_to_bytes (g_steal_pointer (&data)) : NULL;
}

gboolean
lodge_libvirt_guest_write (LodgeLibvirt *lv, const char *domain, const char *path, GBytes *data,
                           guint timeout_s, GCancellable *cancellable, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return FALSE;
  g_autofree char *what = g_strdup_printf ("guest-file-write of %s", path);
  Op op;
  op_init (&op, lv, dom, domain, what, timeout_s, cancellable);
  gint64 handle = file_open (&op, path, "w", error);
  if (handle < 0)
    return FALSE;
  gsize len = 0;
  const guchar *bytes = g_bytes_get_data (data, &len);
  gboolean ok = TRUE;
  for (gsize off = 0; ok && off < len; off += FILE_CHUNK)
    {
      gsize n = MIN (FILE_CHUNK, len - off);
      g_autofree char *b64 = g_base64_encode (bytes + off, n);
      g_autoptr (JsonBuilder) args = args_new ();
      json_builder_set_member_name (args, "handle");
      json_builder_add_int_value (args, handle);
      json_builder_set_member_name (args, "buf-b64");
      json_builder_add_string_value (args, b64);
      g_autoptr (JsonNode) ret = call (&op, "guest-file-write", args, error);
      JsonObject *o = ret != NULL && JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
      if (o == NULL || (gsize) json_object_get_int_member_with_default (o, "count", -1) != n)
        {
          if (ret != NULL)
            g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                         "%s in %s: a short write through the guest agent", path, domain);
          ok = FALSE;
        }
    }
  if (ok)
    {
      g_autoptr (JsonBuilder) args = args_new ();
      json_builder_set_member_name (args, "handle");
      json_builder_add_int_value (args, handle);
      g_autoptr (JsonNode) ret = call (&op, "guest-file-flush", args, error);
      ok = ret != NULL;
    }
  file_close (&op, handle);
  return ok;
}

gboolean
lodge_libvirt_guest_set_password (LodgeLibvirt *lv, const char *domain, const char *user,
                                  const char *hash, guint timeout_s, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return FALSE;
  /* What virDomainSetUserPassword() sends, under this operation's
   * deadline instead of libvirt's own agent timeout. */
  Op op;
  op_init (&op, lv, dom, domain, "guest-set-user-password", timeout_s, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) hash, strlen (hash));
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "username");
  json_builder_add_string_value (args, user);
  json_builder_set_member_name (args, "password");
  json_builder_add_string_value (args, b64);
  json_builder_set_member_name (args, "crypted");
  json_builder_add_boolean_value (args, TRUE);
  g_autoptr (JsonNode) ret = call (&op, "guest-set-user-password", args, error);
  if (ret == NULL)
    {
      g_prefix_error (error, "cannot set the password of %s in %s: ", user, domain);
      return FALSE;
    }
  return TRUE;
}
