/* The running VE through its guest agent: live configuration of an
 * application, its state as the guest reports it, `lodge exec` and
 * `lodge passwd`. Every call is logged with who asked. */
#include "lodge-apps-guest.h"

#include <string.h>

#include "lodge-define.h"
#include "lodge-error.h"
#include "lodge-libvirt.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"

/* Bounds of the work done through a guest's agent (see lodge-libvirt.h:
 * each guest agent operation ends within its own, whatever the guest
 * does). A live configuration holds the VE's operation
 * (lodge_ctl_try_begin_guest) at most CONFIGURE_TIMEOUT_S, every step in
 * it bounded by what is left of that too; a stop, a migration or a
 * failover does not wait for it but cancels it. */
#define AGENT_WAIT_S 30        /* an agent that is still coming up after boot */
#define STATE_MAX (64 << 10)   /* an application's status file */
#define FILE_TIMEOUT_S 30      /* reading or writing one file */
#define HEALTH_TIMEOUT_S 10
#define RELOAD_TIMEOUT_S 60
#define PASSWD_TIMEOUT_S 30
#define CONFIGURE_TIMEOUT_S 300 /* a whole live configuration */
#define LIST_TIMEOUT_S 120      /* the applications' live state, all of them */
#define EXEC_DEFAULT_TIMEOUT_S 60
#define EXEC_MAX_TIMEOUT_S 3600
#define EXEC_MAX_INPUT (8 << 20)

/* Guest work of one request: the VE's agent, the request's deadline and
 * what cancels it. */
typedef struct {
  LodgeLibvirt *lv;
  const char *name;
  const char *what;       /* "a live configuration", for the deadline's error */
  guint bound_s;
  gint64 deadline_us;
  GCancellable *cancellable;
} Live;

static void
live_init (Live *l, LodgeLibvirt *lv, const char *name, const char *what, guint bound_s,
           GCancellable *cancellable)
{
  *l = (Live) { lv, name, what, bound_s, g_get_monotonic_time () + (gint64) bound_s * G_USEC_PER_SEC,
                cancellable };
}

/* A step's bound: @own_s, or what is left of the request's when less;
 * 0 with an error when nothing is left. */
static guint
live_bound (const Live *l, guint own_s, GError **error)
{
  gint64 left_s = (l->deadline_us - g_get_monotonic_time ()) / G_USEC_PER_SEC;
  if (left_s < 1)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT,
                   "%s of %s did not finish within %u s", l->what, l->name, l->bound_s);
      return 0;
    }
  return (guint) MIN ((gint64) own_s, left_s);
}

/* The libvirt of the node VE @name runs on, its agent answering; a VE
 * that does not run is LODGE_LIBVIRT_ERROR_STATE naming its phase. */
static LodgeLibvirt *
open_running (LodgeCtl *ctl, const char *name, const char *what, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (ctl, name, error);
  if (rt == NULL)
    return NULL;
  if (rt->phase != LODGE_PHASE_RUNNING || rt->node == NULL)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE,
                   "environment %s is %s: %s needs it running", name,
                   lodge_phase_to_string (rt->phase), what);
      return NULL;
    }
  g_autoptr (LodgeLibvirt) lv = lodge_ctl_node_libvirt (ctl, rt->node, name, error);
  if (lv == NULL || !lodge_libvirt_guest_ping (lv, name, AGENT_WAIT_S, error))
    {
      g_prefix_error (error, "%s: ", what);
      return NULL;
    }
  return g_steal_pointer (&lv);
}

static char *
quote_argv (const char *const *argv)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *q = g_shell_quote (argv[i]);
      g_string_append_printf (s, "%s%s", i ? " " : "", q);
    }
  return g_string_free (s, FALSE);
}

/* Runs @argv in the guest; a non-zero exit is an error naming @what with
 * what it wrote on stderr. */
static gboolean
run_checked (const Live *l, const char *const *argv, guint timeout_s, const char *what,
             GError **error)
{
  const char *name = l->name;
  guint bound_s = live_bound (l, timeout_s, error);
  g_autoptr (LodgeGuestExec) x =
    bound_s > 0 ? lodge_libvirt_guest_exec (l->lv, name, argv, NULL, bound_s, l->cancellable, error)
                : NULL;
  if (x == NULL)
    return FALSE;
  if (x->exit_code == 0 && !x->timed_out)
    return TRUE;
  gsize len = 0;
  const char *err = g_bytes_get_data (x->err, &len);
  g_autofree char *text = g_strstrip (g_strndup (err != NULL ? err : "", MIN (len, 500)));
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_FAILED, "%s %s in %s%s%s", what,
               x->timed_out ? "was cut at its deadline" : "failed", name,
               *text ? ": " : "", text);
  return FALSE;
}

/* The status lodge-init keeps of @app, or NULL (no such file: a template
 * with an init of its own). */
static JsonNode *
guest_state (const Live *l, const char *app, GError **error)
{
  const char *name = l->name;
  g_autofree char *path = g_strdup_printf ("/run/lodge/apps/%s.json", app);
  g_autoptr (GError) local = NULL;
  guint bound_s = live_bound (l, FILE_TIMEOUT_S, &local);
  g_autoptr (GBytes) data =
    bound_s > 0 ? lodge_libvirt_guest_read (l->lv, name, path, STATE_MAX, bound_s, l->cancellable,
                                            &local)
                : NULL;
  if (data == NULL)
    {
      if (!g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_autofree char *text = g_strndup (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  JsonNode *node = json_from_string (text, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_clear_pointer (&node, json_node_unref);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_FAILED, "%s in %s is not a JSON object", path,
                   name);
    }
  return node;
}

/* The state of a systemd unit, as the same members lodge-init writes. */
static JsonNode *
unit_state (const Live *l, const char *app, GError **error)
{
  g_autofree char *unit = g_strdup_printf ("lodge-app-%s.service", app);
  const char *argv[] = { "systemctl", "show", "-p", "ActiveState", "-p", "MainPID", "-p",
                         "NRestarts", unit, NULL };
  guint bound_s = live_bound (l, HEALTH_TIMEOUT_S, error);
  g_autoptr (LodgeGuestExec) x =
    bound_s > 0 ? lodge_libvirt_guest_exec (l->lv, l->name, argv, NULL, bound_s, l->cancellable, error)
                : NULL;
  if (x == NULL)
    return NULL;
  g_autofree char *text = g_strndup (g_bytes_get_data (x->out, NULL), g_bytes_get_size (x->out));
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      if (strcmp (lines[i], "ActiveState") == 0)
        {
          json_builder_set_member_name (b, "state");
          json_builder_add_string_value (b, strcmp (eq + 1, "active") == 0 ? "running" : eq + 1);
        }
      else if (strcmp (lines[i], "MainPID") == 0 || strcmp (lines[i], "NRestarts") == 0)
        {
          json_builder_set_member_name (b, lines[i][0] == 'M' ? "pid" : "restarts");
          json_builder_add_int_value (b, g_ascii_strtoll (eq + 1, NULL, 10));
        }
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Reload after a live change: the manifest's reload command, or a
 * restart (lodge-init starts a killed application again; systemd is
 * asked to restart the unit). */
static gboolean
reload (const Live *l, const LodgeAppPlan *plan, GError **error)
{
  const char *app = plan->app->name;
  if (plan->manifest->reload != NULL)
    {
      g_autofree char *cmd = lodge_app_render (plan->manifest->reload, plan->values, TRUE,
                                               "reload", error);
      const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
      return cmd != NULL && run_checked (l, argv, RELOAD_TIMEOUT_S, "the reload command", error);
    }
  g_autoptr (JsonNode) st = guest_state (l, app, error);
  if (st == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (st == NULL)
    {
      g_autofree char *unit = g_strdup_printf ("lodge-app-%s.service", app);
      const char *argv[] = { "systemctl", "restart", unit, NULL };
      return run_checked (l, argv, RELOAD_TIMEOUT_S, "restarting the application", error);
    }
  gint64 pid = json_object_get_int_member_with_default (json_node_get_object (st), "pid", 0);
  if (pid <= 1)
    return TRUE; /* not running now: it starts with the new files */
  g_autofree char *pid_s = g_strdup_printf ("%" G_GINT64_FORMAT, pid);
  const char *argv[] = { "kill", pid_s, NULL };
  return run_checked (l, argv, HEALTH_TIMEOUT_S, "stopping the application for a restart", error);
}

/* Whether the application runs with another launch command than the new
 * configuration renders (it travels in the boot configuration: only a
 * restart of the VE changes it). Unknown (FALSE) without lodge-init's
 * status file. */
static gboolean
launch_changed (const Live *l, const LodgeAppPlan *plan)
{
  g_autoptr (JsonNode) st = guest_state (l, plan->app->name, NULL);
  const char *running = st != NULL ? json_object_get_string_member_with_default (
                                       json_node_get_object (st), "command", NULL)
                                   : NULL;
  return running != NULL && strcmp (running, plan->launch) != 0;
}

static gboolean
configure_live (LodgeApps *a, const Live *l, LodgeAppChange *c, gboolean *ret_launch_changed,
                LodgeProgress progress, gpointer progress_data, GError **error)
{
  const char *name = l->name;
  *ret_launch_changed = launch_changed (l, c->plan);
  LodgeRepairApp ra;
  lodge_app_plan_repair_app (c->plan, 0, &ra);
  g_autoptr (GHashTable) contents = NULL;
  if (!lodge_app_render_files (&ra, &contents, error))
    return FALSE;
  for (guint i = 0; i < c->plan->manifest->files->len; i++)
    {
      const LodgeAppFile *f = c->plan->manifest->files->pdata[i];
      g_autofree char *mode = g_strdup_printf ("%04o", f->mode);
      g_autofree char *owner = g_strdup_printf ("%u:%u", f->uid, f->gid);
      const char *chmod_argv[] = { "chmod", mode, f->path, NULL };
      const char *chown_argv[] = { "chown", owner, f->path, NULL };
      guint bound_s = live_bound (l, FILE_TIMEOUT_S, error);
      if (bound_s == 0
          || !lodge_libvirt_guest_write (l->lv, name, f->path,
                                         g_hash_table_lookup (contents, f->path), bound_s,
                                         l->cancellable, error)
          || !run_checked (l, chmod_argv, HEALTH_TIMEOUT_S, "chmod", error)
          || !run_checked (l, chown_argv, HEALTH_TIMEOUT_S, "chown", error))
        return FALSE;
      if (progress != NULL)
        {
          g_autofree char *line = g_strdup_printf ("%s written in the guest", f->path);
          progress (line, progress_data);
        }
    }
  if (!reload (l, c->plan, error))
    return FALSE;
  if (progress != NULL)
    progress (c->plan->manifest->reload != NULL ? "reloaded" : "restarted", progress_data);
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  return rt != NULL && lodge_app_change_commit (a->ctl, c, rt->disk_pool, rt->disk_image, error);
}

char *
lodge_apps_guest_configure (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                            const char *who, LodgeRepairOutput out, gpointer out_data,
                            LodgeProgress progress, gpointer progress_data, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  if (rt == NULL)
    return NULL;
  if (rt->phase != LODGE_PHASE_RUNNING)
    {
      if (rt->disk_image != NULL)
        return lodge_apps_configure_offline (a, name, app, args, who, out, out_data, progress,
                                             progress_data, error);
      /* No disk yet: the first start renders the files. */
      g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (a->ctl, name, error);
      g_autoptr (LodgeAppChange) c =
        def != NULL ? lodge_app_change_new (lodge_ctl_get_store (a->ctl), def, app, args, FALSE, error)
                    : NULL;
      if (c == NULL || !lodge_app_change_commit (a->ctl, c, NULL, NULL, error))
        return NULL;
      return lodge_app_result_new (app, c->plan->source, TRUE);
    }

  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (a->ctl, name, error);
  if (def == NULL)
    return NULL;
  g_autoptr (LodgeAppChange) c =
    lodge_app_change_new (lodge_ctl_get_store (a->ctl), def, app, args, FALSE, error);
  if (c == NULL)
    return NULL;
  g_autoptr (GCancellable) yields =
    lodge_ctl_try_begin_guest (a->ctl, name, LODGE_OP_APP_CONFIGURE, app, error);
  if (yields == NULL)
    return NULL;
  g_message ("app configure %s %s by %s (live)", name, app, who);
  g_autoptr (LodgeLibvirt) lv = open_running (a->ctl, name, "a live configuration", error);
  Live l;
  live_init (&l, lv, name, "a live configuration", CONFIGURE_TIMEOUT_S, yields);
  gboolean relaunch = FALSE;
  gboolean ok = lv != NULL
                && configure_live (a, &l, c, &relaunch, progress, progress_data, error);
  lodge_ctl_end (a->ctl, name);
  if (!ok && g_cancellable_is_cancelled (yields))
    g_prefix_error (error, "%s: a lifecycle operation came first; the configuration may be half "
                           "applied: ", name);
  if (!ok)
    return NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "application");
  json_builder_add_string_value (b, app);
  json_builder_set_member_name (b, "live");
  json_builder_add_boolean_value (b, TRUE);
  if (relaunch)
    {
      json_builder_set_member_name (b, "launch_changed");
      json_builder_add_boolean_value (b, TRUE);
    }
  return lodge_app_result (b);
}

/* ---- list ---- */

static void
add_live_state (JsonBuilder *b, const Live *l, const LodgeAppPlan *plan)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) st = guest_state (l, plan->app->name, &error);
  if (st == NULL && error == NULL)
    st = unit_state (l, plan->app->name, &error);
  json_builder_set_member_name (b, "guest");
  if (st != NULL)
    json_builder_add_value (b, g_steal_pointer (&st));
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
      json_builder_end_object (b);
    }
  if (plan->manifest->health == NULL)
    return;
  g_clear_error (&error);
  g_autofree char *cmd = lodge_app_render (plan->manifest->health, plan->values, TRUE, "health",
                                           &error);
  const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
  guint bound_s = cmd != NULL ? live_bound (l, HEALTH_TIMEOUT_S, &error) : 0;
  g_autoptr (LodgeGuestExec) x =
    bound_s > 0 ? lodge_libvirt_guest_exec (l->lv, l->name, argv, NULL, bound_s, NULL, &error)
                : NULL;
  json_builder_set_member_name (b, "health");
  g_autofree char *health =
    x == NULL ? g_strdup_printf ("unknown (%s)", error->message)
    : x->timed_out ? g_strdup_printf ("failing (no answer within %u s)", bound_s)
    : x->exit_code == 0 ? g_strdup ("ok")
    : x->signal != 0 ? g_strdup_printf ("failing (killed by signal %d)", x->signal)
                     : g_strdup_printf ("failing (exit status %d)", x->exit_code);
  json_builder_add_string_value (b, health);
}

char *
lodge_apps_guest_list (LodgeApps *a, const char *name, GError **error)
{
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (a->ctl, name, error);
  if (def == NULL)
    return NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  if (rt == NULL)
    return NULL;
  LodgeStore *store = lodge_ctl_get_store (a->ctl);
  LodgeRados *rados = lodge_store_get_rados (store);
  g_autoptr (GError) live_error = NULL;
  g_autoptr (LodgeLibvirt) lv = NULL;
  if (rt->phase == LODGE_PHASE_RUNNING && def->applications->len > 0)
    lv = open_running (a->ctl, name, "the applications' state", &live_error);
  Live l;
  live_init (&l, lv, name, "the applications' state", LIST_TIMEOUT_S, NULL);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "phase");
  json_builder_add_string_value (b, lodge_phase_to_string (rt->phase));
  if (live_error != NULL)
    {
      json_builder_set_member_name (b, "guest_error");
      json_builder_add_string_value (b, live_error->message);
    }
  json_builder_set_member_name (b, "applications");
  json_builder_begin_array (b);
  for (guint i = 0; i < def->applications->len; i++)
    {
      const LodgeEnvApplication *app = def->applications->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, app->name);
      json_builder_set_member_name (b, "autostart");
      json_builder_add_boolean_value (b, app->autostart);
      g_autoptr (GError) plan_error = NULL;
      g_autoptr (LodgeAppPlan) plan = lodge_app_plan_new (store, app, &plan_error);
      if (plan == NULL)
        {
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, plan_error->message);
          json_builder_end_object (b);
          continue;
        }
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, plan->source);
      json_builder_set_member_name (b, "launch");
      json_builder_add_string_value (b, plan->launch);
      json_builder_set_member_name (b, "config");
      json_builder_begin_object (b);
      for (guint k = 0; k < plan->manifest->params->len; k++)
        {
          const LodgeAppParam *p = plan->manifest->params->pdata[k];
          json_builder_set_member_name (b, p->name);
          json_builder_add_string_value (b, g_hash_table_lookup (plan->values, p->name));
        }
      json_builder_end_object (b);
      LodgeAppDisk disk = LODGE_APP_DISK_NO_DISK;
      g_autofree char *have = NULL;
      if (rt->disk_image != NULL)
        {
          g_autofree char *key = lodge_app_plan_meta_key (app->name);
          have = lodge_rbd_meta_get (rados, rt->disk_pool, rt->disk_image, key, NULL);
          disk = have == NULL ? LODGE_APP_DISK_NOT_INSTALLED
                 : strcmp (have, plan->stamp) == 0 ? LODGE_APP_DISK_INSTALLED
                 : g_str_has_prefix (have, plan->source) ? LODGE_APP_DISK_CONFIG_PENDING
                                                         : LODGE_APP_DISK_OTHER_VERSION;
        }
      json_builder_set_member_name (b, "disk");
      json_builder_add_string_value (b, lodge_app_disk_to_string (disk));
      if (lv != NULL)
        add_live_state (b, &l, plan);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return lodge_app_result (b);
}

/* ---- exec, passwd ---- */

char *
lodge_apps_guest_exec (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                       GError **error)
{
  JsonArray *argv_json = args != NULL && json_object_has_member (args, "argv")
                             && JSON_NODE_HOLDS_ARRAY (json_object_get_member (args, "argv"))
                           ? json_object_get_array_member (args, "argv") : NULL;
  guint n = argv_json != NULL ? json_array_get_length (argv_json) : 0;
  if (n == 0)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "exec needs \"argv\": the command and its arguments, as strings");
      return NULL;
    }
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (argv_json, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING
          || (i == 0 && *json_node_get_string (e) == '\0'))
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "exec: argv[%u] must be a string (and the command not empty)", i);
          return NULL;
        }
      g_ptr_array_add (argv, (gpointer) json_node_get_string (e));
    }
  g_ptr_array_add (argv, NULL);
  gint64 timeout = json_object_get_int_member_with_default (args, "timeout", EXEC_DEFAULT_TIMEOUT_S);
  if (timeout < 1 || timeout > EXEC_MAX_TIMEOUT_S)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "exec: timeout %" G_GINT64_FORMAT " s is out of range (1 to %d)", timeout,
                   EXEC_MAX_TIMEOUT_S);
      return NULL;
    }
  g_autoptr (GBytes) input = NULL;
  const char *input_b64 = json_object_get_string_member_with_default (args, "input", NULL);
  if (input_b64 != NULL)
    {
      gsize len = 0;
      guchar *data = g_base64_decode (input_b64, &len);
      input = g_bytes_new_take (data, len);
      if (len > EXEC_MAX_INPUT)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                       "exec: standard input is over %d MiB", EXEC_MAX_INPUT >> 20);
          return NULL;
        }
    }
  g_autofree char *cmdline = quote_argv ((const char *const *) argv->pdata);
  g_autoptr (LodgeLibvirt) lv = open_running (a->ctl, name, "exec", error);
  if (lv == NULL)
    return NULL;
  g_message ("exec in %s by %s: %s", name, who, cmdline);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (LodgeGuestExec) x = lodge_libvirt_guest_exec (lv, name, (const char *const *) argv->pdata,
                                                           input, (guint) timeout, NULL, error);
  if (x == NULL)
    {
      g_message ("exec in %s by %s failed: %s", name, who, (*error)->message);
      return NULL;
    }
  g_autofree char *outcome =
    x->timed_out ? g_strdup ("killed at the deadline")
    : x->signal != 0 ? g_strdup_printf ("killed by signal %d", x->signal)
                     : g_strdup_printf ("exit status %d", x->exit_code);
  g_message ("exec in %s by %s: pid %" G_GUINT64_FORMAT ", %s after %.1f s", name, who, x->pid,
             outcome, (g_get_monotonic_time () - t0) / 1e6);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, (gint64) x->pid);
  json_builder_set_member_name (b, "exit_code");
  json_builder_add_int_value (b, x->exit_code);
  json_builder_set_member_name (b, "signal");
  json_builder_add_int_value (b, x->signal);
  json_builder_set_member_name (b, "timed_out");
  json_builder_add_boolean_value (b, x->timed_out);
  const struct { const char *key, *trunc; GBytes *data; gboolean truncated; } outs[] = {
    { "stdout", "stdout_truncated", x->out, x->out_truncated },
    { "stderr", "stderr_truncated", x->err, x->err_truncated },
  };
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    {
      gsize len = 0;
      const guchar *data = g_bytes_get_data (outs[i].data, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      json_builder_set_member_name (b, outs[i].key);
      json_builder_add_string_value (b, b64);
      json_builder_set_member_name (b, outs[i].trunc);
      json_builder_add_boolean_value (b, outs[i].truncated);
    }
  json_builder_set_member_name (b, "ms");
  json_builder_add_int_value (b, (g_get_monotonic_time () - t0) / 1000);
  return lodge_app_result (b);
}

char *
lodge_apps_guest_passwd (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                         GError **error)
{
  const char *hash = args != NULL ? json_object_get_string_member_with_default (args, "password_hash", NULL) : NULL;
  if (hash == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "passwd needs \"password_hash\": a crypt(5) hash ($6$ or $y$)");
      return NULL;
    }
  /* Checked as the definition would be, before the guest is touched. */
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (a->ctl, name, error);
  if (def == NULL)
    return NULL;
  g_free (def->root_password_hash);
  def->root_password_hash = g_strdup (hash);
  g_autofree char *xml = lodge_env_def_format (def);
  g_autoptr (LodgeEnvDef) check = lodge_env_def_load (xml, strlen (xml), name, error);
  if (check == NULL)
    return NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  if (rt == NULL)
    return NULL;
  gboolean live = rt->phase == LODGE_PHASE_RUNNING;
  g_message ("passwd %s by %s (%s)", name, who, live ? "live and definition" : "definition");
  if (live)
    {
      g_autoptr (LodgeLibvirt) lv = open_running (a->ctl, name, "passwd", error);
      if (lv == NULL || !lodge_libvirt_guest_set_password (lv, name, "root", hash, PASSWD_TIMEOUT_S,
                                                            error))
        return NULL;
    }
  if (!lodge_define_env (a->ctl, xml, strlen (xml), LODGE_DEFINE_CREATE_OR_REPLACE, name, NULL,
                         NULL, error))
    {
      g_prefix_error (error, "%s: ", live ? "the guest has the new password, but the definition "
                                            "could not be updated (the next boot would undo it)"
                                          : "the definition could not be updated");
      return NULL;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "live");
  json_builder_add_boolean_value (b, live);
  return lodge_app_result (b);
}
