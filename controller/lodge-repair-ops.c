/* The repair operations: their arguments, checks and work on an open
 * appliance (lodge-repairs.c runs them: claims, snapshots, appliances). */
#include <string.h>

#include "lodge-define.h"
#include "lodge-error.h"
#include "lodge-repairs-private.h"

/* Files lodge-init writes at every boot from the definition: a diff
 * against the template leaves them out. */
const char *const lodge_repair_boot_written[] = {
  "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/timezone",
  "/etc/localtime", "/root/.ssh", NULL
};

/* ---- arguments and output ---- */

const char *
lodge_job_arg_string (LodgeRepairJob *j, const char *key)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return NULL;
  JsonNode *n = json_object_get_member (j->args, key);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

gboolean
lodge_job_arg_required (LodgeRepairJob *j, const char *key, const char **ret, GError **error)
{
  *ret = lodge_job_arg_string (j, key);
  if (*ret == NULL || (*ret)[0] == '\0')
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair %s needs \"%s\"",
                   j->op->name, key);
      return FALSE;
    }
  return TRUE;
}

/* A string array argument, NULL-terminated; NULL when absent. */
char **
lodge_job_arg_strv (LodgeRepairJob *j, const char *key, GError **error)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return NULL;
  JsonNode *n = json_object_get_member (j->args, key);
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "\"%s\" must be a list of strings", key);
      return NULL;
    }
  JsonArray *a = json_node_get_array (n);
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_strv_builder_unref (b);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "\"%s\" must be a list of strings",
                       key);
          return NULL;
        }
      g_strv_builder_add (b, json_node_get_string (e));
    }
  char **v = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return v;
}

gboolean
lodge_job_arg_bool (LodgeRepairJob *j, const char *key)
{
  if (j->args == NULL || !json_object_has_member (j->args, key))
    return FALSE;
  JsonNode *n = json_object_get_member (j->args, key);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
         && json_node_get_boolean (n);
}

G_GNUC_PRINTF (2, 3) void
lodge_job_say (LodgeRepairJob *j, const char *fmt, ...)
{
  if (j->progress == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  j->progress (msg, j->progress_data);
}

void
lodge_job_result_int (LodgeRepairJob *j, const char *key, gint64 v)
{
  json_builder_set_member_name (j->result, key);
  json_builder_add_int_value (j->result, v);
}

void
lodge_job_result_string (LodgeRepairJob *j, const char *key, const char *v)
{
  json_builder_set_member_name (j->result, key);
  json_builder_add_string_value (j->result, v);
}

/* ---- the operations ---- */

static gboolean
op_ls (LodgeRepairJob *j, GError **error)
{
  const char *path = lodge_job_arg_string (j, "path");
  return lodge_repair_ls (j->session, path != NULL ? path : "/", j->out, j->out_data, error);
}

static gboolean
op_cat (LodgeRepairJob *j, GError **error)
{
  const char *path;
  return lodge_job_arg_required (j, "path", &path, error)
         && lodge_repair_cat (j->session, path, j->out, j->out_data, error);
}

static gboolean
op_find (LodgeRepairJob *j, GError **error)
{
  const char *pattern;
  guint count = 0;
  if (!lodge_job_arg_required (j, "pattern", &pattern, error)
      || !lodge_repair_find (j->session, pattern, lodge_job_arg_string (j, "dir"), j->out, j->out_data,
                             &count, error))
    return FALSE;
  lodge_job_result_int (j, "matches", count);
  return TRUE;
}

static gboolean
op_log (LodgeRepairJob *j, GError **error)
{
  const char *lines_s = lodge_job_arg_string (j, "lines");
  guint64 lines = 50;
  if (lines_s != NULL && !g_ascii_string_to_unsigned (lines_s, 10, 1, 100000, &lines, NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "--lines %s: a number of lines from 1 to 100000", lines_s);
      return FALSE;
    }
  return lodge_repair_log (j->session, lodge_job_arg_string (j, "file"), (guint) lines, j->out, j->out_data,
                           error);
}

static gboolean
op_df (LodgeRepairJob *j, GError **error)
{
  return lodge_repair_df (j->session, j->out, j->out_data, error);
}

static gboolean
op_diff (LodgeRepairJob *j, GError **error)
{
  LodgeRepairDiffOptions opts = { lodge_repair_boot_written, j->def->root_password_hash };
  LodgeRepairDiffStats stats = { 0 };
  if (!lodge_repair_diff (j->session, lodge_job_arg_string (j, "path"), &opts, j->out, j->out_data, &stats,
                          error))
    return FALSE;
  lodge_job_result_int (j, "added", stats.added);
  lodge_job_result_int (j, "removed", stats.removed);
  lodge_job_result_int (j, "changed", stats.changed);
  lodge_job_result_int (j, "compared", stats.compared);
  lodge_job_result_int (j, "content_reads", stats.content_reads);
  return TRUE;
}

static gboolean
parse_mode (const char *s, guint *ret, GError **error)
{
  guint64 v = 0;
  if (s == NULL || !g_ascii_string_to_unsigned (s, 8, 0, 07777, &v, NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "mode '%s': an octal file mode from 0 to 7777 (such as 0644)", s ? s : "");
      return FALSE;
    }
  *ret = (guint) v;
  return TRUE;
}

static gboolean
check_write (LodgeRepairJob *j, GError **error)
{
  const char *path;
  guint mode = 0;
  if (!lodge_job_arg_required (j, "path", &path, error))
    return FALSE;
  if (lodge_job_arg_string (j, "content") == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair write needs \"content\" (base64)");
      return FALSE;
    }
  return lodge_job_arg_string (j, "mode") == NULL || parse_mode (lodge_job_arg_string (j, "mode"), &mode, error);
}

static gboolean
check_path (LodgeRepairJob *j, GError **error)
{
  const char *path;
  return lodge_job_arg_required (j, "path", &path, error);
}

static gboolean
check_chmod (LodgeRepairJob *j, GError **error)
{
  const char *path;
  guint mode;
  return lodge_job_arg_required (j, "path", &path, error) && parse_mode (lodge_job_arg_string (j, "mode"), &mode, error);
}

static gboolean
check_revert (LodgeRepairJob *j, GError **error)
{
  g_auto (GStrv) paths = lodge_job_arg_strv (j, "paths", error);
  if (paths != NULL && paths[0] != NULL)
    return TRUE;
  if (error == NULL || *error == NULL)
    g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair revert needs one PATH or more");
  return FALSE;
}

static gboolean
op_write (LodgeRepairJob *j, GError **error)
{
  const char *path, *content;
  guint mode = 0;
  if (!lodge_job_arg_required (j, "path", &path, error))
    return FALSE;
  content = lodge_job_arg_string (j, "content");
  if (content == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair write needs \"content\" (base64)");
      return FALSE;
    }
  if (lodge_job_arg_string (j, "mode") != NULL && !parse_mode (lodge_job_arg_string (j, "mode"), &mode, error))
    return FALSE;
  gsize len = 0;
  g_autofree guchar *data = g_base64_decode (content, &len);
  if (!lodge_repair_write (j->session, path, (const char *) data, len, mode, error))
    return FALSE;
  lodge_job_result_int (j, "bytes", (gint64) len);
  return TRUE;
}

static gboolean
op_revert (LodgeRepairJob *j, GError **error)
{
  g_auto (GStrv) paths = lodge_job_arg_strv (j, "paths", error);
  if (paths == NULL || paths[0] == NULL)
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair revert needs one PATH or more");
      return FALSE;
    }
  return lodge_repair_revert (j->session, (const char *const *) paths, j->out, j->out_data, error);
}

static gboolean
op_rm (LodgeRepairJob *j, GError **error)
{
  const char *path;
  return lodge_job_arg_required (j, "path", &path, error)
         && lodge_repair_rm (j->session, path, lodge_job_arg_bool (j, "recursive"), error);
}

static gboolean
op_chmod (LodgeRepairJob *j, GError **error)
{
  const char *path;
  guint mode;
  return lodge_job_arg_required (j, "path", &path, error) && parse_mode (lodge_job_arg_string (j, "mode"), &mode, error)
         && lodge_repair_chmod (j->session, mode, path, error);
}

static gboolean
op_fsck (LodgeRepairJob *j, GError **error)
{
  g_autofree char *outcome = lodge_repair_fsck (j->session, error);
  if (outcome == NULL)
    return FALSE;
  lodge_job_result_string (j, "fsck", outcome);
  g_autofree char *line = g_strconcat (outcome, "\n", NULL);
  return j->out (line, strlen (line), j->out_data);
}

/* The definition with the new root credential, checked as a definition
 * would be at define time, before the disk is touched. */
static char *
def_with_root (LodgeRepairJob *j, const char *hash, char **keys, GError **error)
{
  if (hash != NULL)
    {
      g_free (j->def->root_password_hash);
      j->def->root_password_hash = g_strdup (hash);
    }
  if (keys != NULL)
    {
      g_ptr_array_set_size (j->def->authorized_keys, 0);
      for (guint i = 0; keys[i] != NULL; i++)
        g_ptr_array_add (j->def->authorized_keys, g_strdup (keys[i]));
    }
  g_autofree char *xml = lodge_env_def_format (j->def);
  g_autoptr (LodgeEnvDef) check = lodge_env_def_load (xml, strlen (xml), j->name, error);
  if (check == NULL)
    return NULL;
  return g_steal_pointer (&xml);
}

static gboolean
check_reset_root (LodgeRepairJob *j, GError **error)
{
  const char *hash = lodge_job_arg_string (j, "password_hash");
  g_auto (GStrv) keys = lodge_job_arg_strv (j, "authorized_keys", error);
  if (error != NULL && *error != NULL)
    return FALSE;
  if (hash == NULL && keys == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "repair reset-root needs a password hash or authorized keys");
      return FALSE;
    }
  g_autofree char *xml = def_with_root (j, hash, keys, error);
  return xml != NULL;
}

/* After check_reset_root: the arguments are valid, and j->def has them. */
static gboolean
op_reset_root (LodgeRepairJob *j, GError **error)
{
  const char *hash = lodge_job_arg_string (j, "password_hash");
  g_auto (GStrv) keys = lodge_job_arg_strv (j, "authorized_keys", NULL);
  g_autofree char *xml = lodge_env_def_format (j->def);
  if (!lodge_repair_reset_root (j->session, hash, (const char *const *) keys, error))
    return FALSE;
  /* The definition too: lodge-init writes it at every boot. */
  if (!lodge_define_env (j->ctl, xml, strlen (xml), LODGE_DEFINE_CREATE_OR_REPLACE, j->name,
                         NULL, NULL, error))
    {
      g_prefix_error (error, "the disk was changed but the definition could not be: ");
      return FALSE;
    }
  lodge_job_say (j, "definition of %s updated", j->name);
  lodge_job_result_string (j, "root", hash != NULL && keys != NULL ? "password and keys"
                            : hash != NULL ? "password" : "keys");
  return TRUE;
}

gboolean
lodge_repair_op_sh (LodgeRepairJob *j, GError **error)
{
  const char *command;
  return lodge_job_arg_required (j, "command", &command, error)
         && lodge_repair_sh (j->session, command, j->out, j->out_data, error);
}

static const LodgeRepairOp ops[] = {
  { "ls", LODGE_REPAIR_KIND_READ, op_ls, NULL },
  { "cat", LODGE_REPAIR_KIND_READ, op_cat, NULL },
  { "find", LODGE_REPAIR_KIND_READ, op_find, NULL },
  { "log", LODGE_REPAIR_KIND_READ, op_log, NULL },
  { "df", LODGE_REPAIR_KIND_READ, op_df, NULL },
  { "diff", LODGE_REPAIR_KIND_READ, op_diff, NULL },
  { "write", LODGE_REPAIR_KIND_WRITE, op_write, check_write },
  { "revert", LODGE_REPAIR_KIND_WRITE, op_revert, check_revert },
  { "rm", LODGE_REPAIR_KIND_WRITE, op_rm, check_path },
  { "chmod", LODGE_REPAIR_KIND_WRITE, op_chmod, check_chmod },
  { "reset-root", LODGE_REPAIR_KIND_WRITE, op_reset_root, check_reset_root },
  { "fsck", LODGE_REPAIR_KIND_WRITE, op_fsck, NULL },
  { "undo", LODGE_REPAIR_KIND_DISK, lodge_repairs_op_undo, NULL },
  { "history", LODGE_REPAIR_KIND_META, lodge_repairs_op_history, NULL },
  { "close", LODGE_REPAIR_KIND_META, lodge_repairs_op_close, NULL },
  { "shell", LODGE_REPAIR_KIND_SHELL, lodge_repairs_op_shell, NULL },  /* opens a shell; "sh" runs in it, "exit" ends it */
  { "sh", LODGE_REPAIR_KIND_SHELL, lodge_repair_op_sh, NULL },
  { "exit", LODGE_REPAIR_KIND_SHELL, NULL, NULL },
};

const LodgeRepairOp *
lodge_repair_op_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    if (strcmp (ops[i].name, name) == 0)
      return &ops[i];
  return NULL;
}

gboolean
lodge_repairs_is_op (const char *op)
{
  return op != NULL && lodge_repair_op_find (op) != NULL;
}

