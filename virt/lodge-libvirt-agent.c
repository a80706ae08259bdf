/* The guest agent through libvirt: commands of the QEMU guest agent
 * protocol sent with virDomainQemuAgentCommand(), and the password with
 * virDomainSetUserPassword(). */
#include "lodge-libvirt.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>

#include "lodge-libvirt-private.h"

#define COMMAND_TIMEOUT_S 10
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

/* Sends @cmd (a JSON object: {"execute": ..., "arguments": ...}) and
 * returns the "return" member of the answer. */
static JsonNode *
agent_call (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, JsonNode *cmd, GError **error)
{
  g_autofree char *text = json_to_string (cmd, FALSE);
  g_autofree char *reply = virDomainQemuAgentCommand (dom, text, COMMAND_TIMEOUT_S, 0);
  if (reply == NULL)
    {
      JsonObject *o = json_node_get_object (cmd);
      lodge_libvirt_fail (lv, error, "%s: guest agent of %s: %s", lodge_libvirt_uri (lv), domain,
                          json_object_get_string_member_with_default (o, "execute", "?"));
      return NULL;
    }
  g_autoptr (JsonNode) root = json_from_string (reply, NULL);
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (o == NULL || !json_object_has_member (o, "return"))
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                   "guest agent of %s: an answer without a result: %.200s", domain, reply);
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
call (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, const char *execute,
      JsonBuilder *args, GError **error)
{
  if (args != NULL)
    json_builder_end_object (args);
  g_autoptr (JsonNode) cmd = command (execute, args);
  return agent_call (lv, dom, domain, cmd, error);
}

static GBytes *
b64_member (JsonObject *o, const char *name)
{
  const char *b64 = json_object_get_string_member_with_default (o, name, NULL);
  if (b64 == NULL || *b64 == '\0')
    return g_bytes_new (NULL, 0);
  gsize len = 0;
  guchar *data = g_base64_decode (b64, &len);
  return g_bytes_new_take (data, len);
}

/* exec-status until exited or @deadline_us; NULL on error, the status
 * object otherwise (exited or not). */
static JsonNode *
wait_exec (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, gint64 pid, gint64 deadline_us,
           GError **error)
{
  guint delay_ms = POLL_FIRST_MS;
  for (;;)
    {
      JsonBuilder *a = args_new ();
      json_builder_set_member_name (a, "pid");
      json_builder_add_int_value (a, pid);
      g_autoptr (JsonBuilder) args = a;
      g_autoptr (JsonNode) st = call (lv, dom, domain, "guest-exec-status", args, error);
      if (st == NULL)
        return NULL;
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (st) ? json_node_get_object (st) : NULL;
      if (o == NULL)
        {
          g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                       "guest agent of %s: guest-exec-status gave no object", domain);
          return NULL;
        }
      if (json_object_get_boolean_member_with_default (o, "exited", FALSE)
          || g_get_monotonic_time () >= deadline_us)
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
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-ping", NULL, &local);
      if (ret != NULL)
        return TRUE;
      if (!g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_AGENT)
          || g_get_monotonic_time () >= deadline)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* The agent connects after boot; libvirt says so at once. */
      g_usleep (200 * 1000);
    }
}

static gint64
start_exec (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, const char *const *argv,
            GBytes *input, GError **error)
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
  g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-exec", args, error);
  if (ret == NULL)
    return -1;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
  gint64 pid = o != NULL ? json_object_get_int_member_with_default (o, "pid", -1) : -1;
  if (pid <= 0)
    g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                 "guest agent of %s: guest-exec gave no pid", domain);
  return pid;
}

LodgeGuestExec *
lodge_libvirt_guest_exec (LodgeLibvirt *lv, const char *domain, const char *const *argv,
                          GBytes *input, guint timeout_s, GError **error)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return NULL;
  gint64 pid = start_exec (lv, dom, domain, argv, input, error);
  if (pid <= 0)
    return NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  g_autoptr (JsonNode) st = wait_exec (lv, dom, domain, pid, deadline, error);
  if (st == NULL)
    return NULL;
  g_autoptr (LodgeGuestExec) x = g_new0 (LodgeGuestExec, 1);
  x->pid = pid;
  JsonObject *o = json_node_get_object (st);
  if (!json_object_get_boolean_member_with_default (o, "exited", FALSE))
    {
      /* The deadline: kill its process group (lodge-init's agent makes
       * one per command), or the process alone (qemu-guest-agent does
       * not), then collect what it wrote. */
      g_autofree char *group = g_strdup_printf ("-%" G_GINT64_FORMAT, pid);
      g_autofree char *single = g_strdup_printf ("%" G_GINT64_FORMAT, pid);
      const char *kill_group[] = { "kill", "-9", "--", group, NULL };
      const char *kill_one[] = { "kill", "-9", single, NULL };
      x->timed_out = TRUE;
      gint64 killer = start_exec (lv, dom, domain, kill_group, NULL, NULL);
      g_autoptr (JsonNode) ks = killer > 0 ? wait_exec (lv, dom, domain, killer,
                                                        g_get_monotonic_time () + 5 * G_USEC_PER_SEC,
                                                        NULL)
                                           : NULL;
      JsonObject *ko = ks != NULL ? json_node_get_object (ks) : NULL;
      if (ko == NULL || json_object_get_int_member_with_default (ko, "exitcode", 1) != 0)
        {
          gint64 k2 = start_exec (lv, dom, domain, kill_one, NULL, NULL);
          if (k2 > 0)
            json_node_unref (wait_exec (lv, dom, domain, k2,
                                        g_get_monotonic_time () + 5 * G_USEC_PER_SEC, NULL));
        }
      json_node_unref (g_steal_pointer (&st));
      st = wait_exec (lv, dom, domain, pid, g_get_monotonic_time () + 5 * G_USEC_PER_SEC, error);
      if (st == NULL)
        return NULL;
      o = json_node_get_object (st);
    }
  x->signal = (int) json_object_get_int_member_with_default (o, "signal", 0);
  x->exit_code = x->signal != 0 ? -1 : (int) json_object_get_int_member_with_default (o, "exitcode", -1);
  x->out = b64_member (o, "out-data");
  x->err = b64_member (o, "err-data");
  x->out_truncated = json_object_get_boolean_member_with_default (o, "out-truncated", FALSE);
  x->err_truncated = json_object_get_boolean_member_with_default (o, "err-truncated", FALSE);
  return g_steal_pointer (&x);
}

static gint64
file_open (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, const char *path,
           const char *mode, GError **error)
{
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "path");
  json_builder_add_string_value (args, path);
  json_builder_set_member_name (args, "mode");
  json_builder_add_string_value (args, mode);
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-file-open", args, &local);
  if (ret == NULL)
    {
      /* The agent's error text is errno's ("No such file or directory"). */
      if (strstr (local->message, "No such file") != NULL)
        g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND,
                     "%s: no such file in %s", path, domain);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return -1;
    }
  return JSON_NODE_HOLDS_VALUE (ret) ? json_node_get_int (ret) : -1;
}

static void
file_close (LodgeLibvirt *lv, virDomainPtr dom, const char *domain, gint64 handle)
{
  g_autoptr (JsonBuilder) args = args_new ();
  json_builder_set_member_name (args, "handle");
  json_builder_add_int_value (args, handle);
  JsonNode *ret = call (lv, dom, domain, "guest-file-close", args, NULL);
  if (ret != NULL)
    json_node_unref (ret);
}

GBytes *
lodge_libvirt_guest_read (LodgeLibvirt *lv, const char *domain, const char *path, gsize max,
                          GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return NULL;
  gint64 handle = file_open (lv, dom, domain, path, "r", error);
  if (handle < 0)
    return NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  gboolean ok = TRUE;
  for (;;)
    {
      g_autoptr (JsonBuilder) args = args_new ();
      json_builder_set_member_name (args, "handle");
      json_builder_add_int_value (args, handle);
      json_builder_set_member_name (args, "count");
      json_builder_add_int_value (args, FILE_CHUNK);
      g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-file-read", args, error);
      JsonObject *o = ret != NULL && JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
      if (o == NULL)
        {
          ok = FALSE;
          if (ret != NULL)
            g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_FAILED,
                         "guest agent of %s: guest-file-read gave no object", domain);
          break;
        }
      g_autoptr (GBytes) chunk = b64_member (o, "buf-b64");
      g_byte_array_append (data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      if (data->len > max)
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
  file_close (lv, dom, domain, handle);
  return ok ? g_byte_array_free_to_bytes (g_steal_pointer (&data)) : NULL;
}

gboolean
lodge_libvirt_guest_write (LodgeLibvirt *lv, const char *domain, const char *path, GBytes *data,
                           GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return FALSE;
  gint64 handle = file_open (lv, dom, domain, path, "w", error);
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
      g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-file-write", args, error);
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
      g_autoptr (JsonNode) ret = call (lv, dom, domain, "guest-file-flush", args, error);
      ok = ret != NULL;
    }
  file_close (lv, dom, domain, handle);
  return ok;
}

gboolean
lodge_libvirt_guest_set_password (LodgeLibvirt *lv, const char *domain, const char *user,
                                  const char *hash, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, domain, error);
  if (dom == NULL)
    return FALSE;
  if (virDomainSetUserPassword (dom, user, hash, VIR_DOMAIN_PASSWORD_ENCRYPTED) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot set the password of %s in %s",
                               lodge_libvirt_uri (lv), user, domain);
  return TRUE;
}
