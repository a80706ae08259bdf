/* The repair operations: their arguments, checks and work on an open
 * appliance or on the disk's snapshots (lodge-disk-job.c runs them:
 * claims, snapshots, appliances; the shell's are lodge-repairs-shell.c). */
#include "lodge-repairs.h"

#include <string.h>

#include "lodge-app-plan.h"
#include "lodge-define.h"
#include "lodge-error.h"
#include "lodge-rbd.h"
#include "lodge-repairs-shell.h"
#include "lodge-storage-error.h"

/* Files lodge-init writes at every boot from the definition: a diff
 * against the template leaves them out. */
static const char *const boot_written[] = {
  "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/timezone",
  "/etc/localtime", "/root/.ssh", NULL
};

/* ---- the operations ---- */

static gboolean
op_ls (LodgeDiskJob *j, GError **error)
{
  const char *path = lodge_disk_job_arg_string (j, "path");
  return lodge_repair_ls (j->session, path != NULL ? path : "/", j->out, j->out_data, error);
}

static gboolean
op_cat (LodgeDiskJob *j, GError **error)
{
  const char *path;
  return lodge_disk_job_arg_required (j, "path", &path, error)
         && lodge_repair_cat (j->session, path, j->out, j->out_data, error);
}

static gboolean
op_find (LodgeDiskJob *j, GError **error)
{
  const char *pattern;
  guint count = 0;
  if (!lodge_disk_job_arg_required (j, "pattern", &pattern, error)
      || !lodge_repair_find (j->session, pattern, lodge_disk_job_arg_string (j, "dir"), j->out, j->out_data,
                             &count, error))
    return FALSE;
  lodge_disk_job_result_int (j, "matches", count);
  return TRUE;
}

static gboolean
op_log (LodgeDiskJob *j, GError **error)
{
  const char *lines_s = lodge_disk_job_arg_string (j, "lines");
  guint64 lines = 50;
  if (lines_s != NULL && !g_ascii_string_to_unsigned (lines_s, 10, 1, 100000, &lines, NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "--lines %s: a number of lines from 1 to 100000", lines_s);
      return FALSE;
    }
  return lodge_repair_log (j->session, lodge_disk_job_arg_string (j, "file"), (guint) lines, j->out, j->out_data,
                           error);
}

static gboolean
op_df (LodgeDiskJob *j, GError **error)
{
  return lodge_repair_df (j->session, j->out, j->out_data, error);
}

static gboolean
op_diff (LodgeDiskJob *j, GError **error)
{
  LodgeRepairDiffOptions opts = { boot_written, j->def->root_password_hash };
  LodgeRepairDiffStats stats = { 0 };
  if (!lodge_repair_diff (j->session, lodge_disk_job_arg_string (j, "path"), &opts, j->out, j->out_data, &stats,
                          error))
    return FALSE;
  lodge_disk_job_result_int (j, "added", stats.added);
  lodge_disk_job_result_int (j, "removed", stats.removed);
  lodge_disk_job_result_int (j, "changed", stats.changed);
  lodge_disk_job_result_int (j, "compared", stats.compared);
  lodge_disk_job_result_int (j, "content_reads", stats.content_reads);
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
check_write (LodgeDiskJob *j, GError **error)
{
  const char *path;
  guint mode = 0;
  if (!lodge_disk_job_arg_required (j, "path", &path, error))
    return FALSE;
  if (lodge_disk_job_arg_string (j, "content") == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair write needs \"content\" (base64)");
      return FALSE;
    }
  return lodge_disk_job_arg_string (j, "mode") == NULL || parse_mode (lodge_disk_job_arg_string (j, "mode"), &mode, error);
}

static gboolean
check_path (LodgeDiskJob *j, GError **error)
{
  const char *path;
  return lodge_disk_job_arg_required (j, "path", &path, error);
}

static gboolean
check_chmod (LodgeDiskJob *j, GError **error)
{
  const char *path;
  guint mode;
  return lodge_disk_job_arg_required (j, "path", &path, error) && parse_mode (lodge_disk_job_arg_string (j, "mode"), &mode, error);
}

static gboolean
check_revert (LodgeDiskJob *j, GError **error)
{
  g_auto (GStrv) paths = lodge_disk_job_arg_strv (j, "paths", error);
  if (paths != NULL && paths[0] != NULL)
    return TRUE;
  if (error == NULL || *error == NULL)
    g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair revert needs one PATH or more");
  return FALSE;
}

static gboolean
op_write (LodgeDiskJob *j, GError **error)
{
  const char *path, *content;
  guint mode = 0;
  if (!lodge_disk_job_arg_required (j, "path", &path, error))
    return FALSE;
  content = lodge_disk_job_arg_string (j, "content");
  if (content == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair write needs \"content\" (base64)");
      return FALSE;
    }
  if (lodge_disk_job_arg_string (j, "mode") != NULL && !parse_mode (lodge_disk_job_arg_string (j, "mode"), &mode, error))
    return FALSE;
  gsize len = 0;
  g_autofree guchar *data = g_base64_decode (content, &len);
  if (!lodge_repair_write (j->session, path, (const char *) data, len, mode, error))
    return FALSE;
  lodge_disk_job_result_int (j, "bytes", (gint64) len);
  return TRUE;
}

static gboolean
op_revert (LodgeDiskJob *j, GError **error)
{
  g_auto (GStrv) paths = lodge_disk_job_arg_strv (j, "paths", error);
  if (paths == NULL || paths[0] == NULL)
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "repair revert needs one PATH or more");
      return FALSE;
    }
  return lodge_repair_revert (j->session, (const char *const *) paths, j->out, j->out_data, error);
}

static gboolean
op_rm (LodgeDiskJob *j, GError **error)
{
  const char *path;
  return lodge_disk_job_arg_required (j, "path", &path, error)
         && lodge_repair_rm (j->session, path, lodge_disk_job_arg_bool (j, "recursive"), error);
}

static gboolean
op_chmod (LodgeDiskJob *j, GError **error)
{
  const char *path;
  guint mode;
  return lodge_disk_job_arg_required (j, "path", &path, error) && parse_mode (lodge_disk_job_arg_string (j, "mode"), &mode, error)
         && lodge_repair_chmod (j->session, mode, path, error);
}

static gboolean
op_fsck (LodgeDiskJob *j, GError **error)
{
  g_autofree char *outcome = lodge_repair_fsck (j->session, error);
  if (outcome == NULL)
    return FALSE;
  lodge_disk_job_result_string (j, "fsck", outcome);
  g_autofree char *line = g_strconcat (outcome, "\n", NULL);
  return j->out (line, strlen (line), j->out_data);
}

/* The definition with the new root credential, checked as a definition
 * would be at define time, before the disk is touched. */
static char *
def_with_root (LodgeDiskJob *j, const char *hash, char **keys, GError **error)
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
check_reset_root (LodgeDiskJob *j, GError **error)
{
  const char *hash = lodge_disk_job_arg_string (j, "password_hash");
  g_auto (GStrv) keys = lodge_disk_job_arg_strv (j, "authorized_keys", error);
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
op_reset_root (LodgeDiskJob *j, GError **error)
{
  const char *hash = lodge_disk_job_arg_string (j, "password_hash");
  g_auto (GStrv) keys = lodge_disk_job_arg_strv (j, "authorized_keys", NULL);
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
  lodge_disk_job_say (j, "definition of %s updated", j->name);
  lodge_disk_job_result_string (j, "root", hash != NULL && keys != NULL ? "password and keys"
                                           : hash != NULL              ? "password"
                                                                       : "keys");
  return TRUE;
}

/* ---- on the disk ---- */

static gboolean
op_close (LodgeDiskJob *j, GError **error)
{
  lodge_disk_jobs_release (j->jobs, j->name);
  return TRUE;
}

static gboolean
op_history (LodgeDiskJob *j, GError **error)
{
  g_autoptr (GPtrArray) snaps = lodge_disk_job_snapshots (j, error);
  if (snaps == NULL)
    return FALSE;
  for (guint i = 0; i < snaps->len; i++)
    {
      g_autofree char *line = g_strdup_printf ("%s%s\n", (const char *) snaps->pdata[i],
                                               i + 1 == snaps->len ? "  (undo goes back to this one)" : "");
      if (!j->out (line, strlen (line), j->out_data))
        break;
    }
  lodge_disk_job_result_int (j, "snapshots", snaps->len);
  return TRUE;
}

static void
rollback_progress (guint64 done, guint64 total, gpointer user_data)
{
  LodgeDiskJob *j = user_data;
  if (total > 0 && (done == total || done % MAX (total / 4, 1) == 0))
    lodge_disk_job_say (j, "rolling back: %" G_GUINT64_FORMAT "%%", done * 100 / total);
}

static gboolean
op_undo (LodgeDiskJob *j, GError **error)
{
  g_autoptr (GPtrArray) snaps = lodge_disk_job_snapshots (j, error);
  if (snaps == NULL)
    return FALSE;
  if (snaps->len == 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no repair to undo", j->name);
      return FALSE;
    }
  const char *last = snaps->pdata[snaps->len - 1];
  if (!lodge_rbd_snap_rollback (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, last,
                                rollback_progress, j, error)
      || !lodge_rbd_snap_remove (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, last, error))
    return FALSE;
  /* The disk's record of its applications is not in the snapshot: the
   * next start checks and lays them in again (an undone `app install`
   * or `app configure` included). */
  for (guint i = 0; i < j->def->applications->len; i++)
    {
      const LodgeEnvApplication *app = j->def->applications->pdata[i];
      g_autofree char *key = lodge_app_plan_meta_key (app->name);
      if (!lodge_rbd_meta_set (lodge_disk_job_rados (j), j->disks.pool, j->disks.image, key, NULL, error))
        return FALSE;
    }
  g_autofree char *line = g_strdup_printf ("the disk is back to %s\n", last);
  lodge_disk_job_result_string (j, "snapshot", last);
  return j->out (line, strlen (line), j->out_data);
}

static const LodgeDiskJobOp ops[] = {
  { "ls", LODGE_DISK_JOB_READ, op_ls, NULL },
  { "cat", LODGE_DISK_JOB_READ, op_cat, NULL },
  { "find", LODGE_DISK_JOB_READ, op_find, NULL },
  { "log", LODGE_DISK_JOB_READ, op_log, NULL },
  { "df", LODGE_DISK_JOB_READ, op_df, NULL },
  { "diff", LODGE_DISK_JOB_READ, op_diff, NULL },
  { "write", LODGE_DISK_JOB_WRITE, op_write, check_write },
  { "revert", LODGE_DISK_JOB_WRITE, op_revert, check_revert },
  { "rm", LODGE_DISK_JOB_WRITE, op_rm, check_path },
  { "chmod", LODGE_DISK_JOB_WRITE, op_chmod, check_chmod },
  { "reset-root", LODGE_DISK_JOB_WRITE, op_reset_root, check_reset_root },
  { "fsck", LODGE_DISK_JOB_WRITE, op_fsck, NULL },
  { "undo", LODGE_DISK_JOB_DISK, op_undo, NULL },
  { "history", LODGE_DISK_JOB_OWN, op_history, NULL },
  { "close", LODGE_DISK_JOB_OWN, op_close, NULL },
  /* "shell" opens a shell, "sh" runs a command in it, "exit" ends it. */
  { "shell", LODGE_DISK_JOB_OWN, lodge_repairs_shell_open, NULL },
  { "sh", LODGE_DISK_JOB_OWN, lodge_repairs_shell_sh, NULL },
  { "exit", LODGE_DISK_JOB_OWN, lodge_repairs_shell_exit, NULL },
};

static const LodgeDiskJobOp *
find_op (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    if (strcmp (ops[i].name, name) == 0)
      return &ops[i];
  return NULL;
}

gboolean
lodge_repairs_is_op (const char *op)
{
  return op != NULL && find_op (op) != NULL;
}

char *
lodge_repairs_run (LodgeDiskJobs *jobs, const char *name, const char *op_name, JsonObject *args,
                   const char *who, LodgeRepairOutput out, gpointer out_data,
                   LodgeProgress progress, gpointer progress_data, GError **error)
{
  const LodgeDiskJobOp *op = find_op (op_name);
  if (op == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "unknown repair operation '%s' (ls, cat, find, log, df, diff, write, revert, "
                   "rm, chmod, reset-root, fsck, undo, history, shell, close)", op_name);
      return NULL;
    }
  return lodge_disk_jobs_run (jobs, name, op, NULL, args, who, out, out_data, progress,
                              progress_data, error);
}
