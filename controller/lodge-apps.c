/* Applications: planning from the definition, laying them into disks at
 * start and on `lodge app install`, offline configuration. The guest side
 * (live configuration, state, exec, passwd) is in lodge-apps-guest.c. */
#include "lodge-apps.h"

#include <string.h>

#include "lodge-define.h"
#include "lodge-error.h"
#include "lodge-rbd.h"
#include "lodge-disk-job.h"
#include "lodge-storage-error.h"

/* ---- `lodge app install|configure` ---- */

typedef struct {
  LodgeApps *apps;
  const char *app;
  LodgeAppChange *change;
} LodgeAppJob;

void
lodge_app_change_free (LodgeAppChange *c)
{
  if (c == NULL)
    return;
  lodge_env_def_free (c->def);
  g_clear_pointer (&c->plans, g_ptr_array_unref);
  g_free (c->xml);
  g_free (c);
}

LodgeAppChange *
lodge_app_change_new (LodgeStore *store, const LodgeEnvDef *current, const char *app,
                      JsonObject *args, gboolean install, GError **error)
{
  g_autofree char *xml0 = lodge_env_def_format (current);
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load (xml0, strlen (xml0), current->name, error);
  if (def == NULL)
    return NULL;
  const char *template = args != NULL ? json_object_get_string_member_with_default (args, "template", NULL) : NULL;
  const char *version = args != NULL ? json_object_get_string_member_with_default (args, "version", NULL) : NULL;
  JsonObject *params = args != NULL && json_object_has_member (args, "params")
                           && JSON_NODE_HOLDS_OBJECT (json_object_get_member (args, "params"))
                         ? json_object_get_object_member (args, "params") : NULL;
  LodgeEnvApplication *a = lodge_env_def_find_application (def, app);
  if (a == NULL && !install)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no application '%s'", current->name, app);
      return NULL;
    }
  if (a == NULL)
    {
      if (!lodge_template_check_name (app, error))
        {
          g_prefix_error (error, "application name: ");
          return NULL;
        }
      a = lodge_env_application_new (app);
      a->source_template = g_strdup (template != NULL ? template : app);
      g_ptr_array_add (def->applications, a);
    }
  else if (template != NULL && strcmp (template, a->source_template) != 0)
    {
      g_free (a->source_template);
      a->source_template = g_strdup (template);
      g_clear_pointer (&a->source_version, g_free);
    }
  if (version != NULL)
    {
      g_free (a->source_version);
      a->source_version = g_strdup (version);
    }
  if (args != NULL && json_object_has_member (args, "autostart"))
    a->autostart = json_object_get_boolean_member_with_default (args, "autostart", FALSE);
  GList *members = params != NULL ? json_object_get_members (params) : NULL;
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *v = json_object_get_member (params, l->data);
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
        {
          g_list_free (members);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "application %s: the value of '%s' must be a string", app,
                       (const char *) l->data);
          return NULL;
        }
      lodge_env_application_set_param (a, l->data, json_node_get_string (v));
    }
  g_list_free (members);
  if (!install && params == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "application %s: give at least one KEY=VALUE to configure", app);
      return NULL;
    }

  /* Checked as a definition, then against the template. */
  g_autoptr (LodgeAppChange) c = g_new0 (LodgeAppChange, 1);
  c->xml = lodge_env_def_format (def);
  c->def = lodge_env_def_load (c->xml, strlen (c->xml), current->name, error);
  if (c->def == NULL)
    return NULL;
  c->plans = lodge_app_plan_all (store, c->def, error);
  if (c->plans == NULL)
    return NULL;
  for (guint i = 0; i < c->plans->len; i++)
    if (strcmp (((LodgeAppPlan *) c->plans->pdata[i])->app->name, app) == 0)
      c->plan = c->plans->pdata[i];
  g_assert (c->plan != NULL);
  c->drives[0] = c->plan->disk;
  return g_steal_pointer (&c);
}

/* The definition, then the disk's record of what it holds. */
gboolean
lodge_app_change_commit (LodgeCtl *ctl, LodgeAppChange *c, const char *pool, const char *image,
                         GError **error)
{
  if (!lodge_define_env (ctl, c->xml, strlen (c->xml), LODGE_DEFINE_CREATE_OR_REPLACE,
                         c->def->name, NULL, NULL, error))
    {
      g_prefix_error (error, "the definition could not be updated: ");
      return FALSE;
    }
  if (pool == NULL)
    return TRUE;
  g_autofree char *key = lodge_app_plan_meta_key (c->plan->app->name);
  g_autoptr (GError) local = NULL;
  if (!lodge_rbd_meta_set (lodge_store_get_rados (lodge_ctl_get_store (ctl)), pool, image, key,
                           c->plan->stamp, &local))
    /* The next start lays it in again: no harm, some time. */
    g_warning ("cannot record application %s on %s/%s: %s", c->plan->app->name, pool, image,
               local->message);
  return TRUE;
}

static gboolean
check_change (LodgeDiskJob *j, gboolean install, GError **error)
{
  LodgeAppJob *aj = j->op_data;
  aj->change = lodge_app_change_new (lodge_ctl_get_store (j->ctl), j->def, aj->app, j->args,
                                     install, error);
  if (aj->change == NULL)
    return FALSE;
  if (install)
    j->disks.apps = (const char *const *) aj->change->drives;
  return TRUE;
}

static gboolean
check_install (LodgeDiskJob *j, GError **error)
{
  return check_change (j, TRUE, error);
}

static gboolean
check_configure (LodgeDiskJob *j, GError **error)
{
  return check_change (j, FALSE, error);
}

static gboolean
op_install (LodgeDiskJob *j, GError **error)
{
  LodgeAppJob *aj = j->op_data;
  LodgeRepairApp ra;
  lodge_app_plan_repair_app (aj->change->plan, 0, &ra);
  lodge_disk_job_say (j, "laying %s (%s) into the disk", ra.name, ra.source);
  if (!lodge_repair_app_install (j->session, &ra, j->out, j->out_data, error)
      || !lodge_app_change_commit (j->ctl, aj->change, j->disks.pool, j->disks.image, error))
    return FALSE;
  lodge_disk_job_result_string (j, "application", ra.name);
  lodge_disk_job_result_string (j, "source", ra.source);
  return TRUE;
}

static gboolean
op_configure (LodgeDiskJob *j, GError **error)
{
  LodgeAppJob *aj = j->op_data;
  LodgeRepairApp ra;
  lodge_app_plan_repair_app (aj->change->plan, 0, &ra);
  if (!lodge_repair_app_configure (j->session, &ra, error)
      || !lodge_app_change_commit (j->ctl, aj->change, j->disks.pool, j->disks.image, error))
    return FALSE;
  lodge_disk_job_say (j, "config files of %s written to the disk", ra.name);
  lodge_disk_job_result_string (j, "application", ra.name);
  return TRUE;
}

static const LodgeDiskJobOp install_op = { "app install", LODGE_DISK_JOB_WRITE, op_install,
                                          check_install };
static const LodgeDiskJobOp configure_op = { "app configure", LODGE_DISK_JOB_WRITE, op_configure,
                                            check_configure };

char *
lodge_app_result_new (const char *app, const char *source, gboolean deferred)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "application");
  json_builder_add_string_value (b, app);
  if (source != NULL)
    {
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, source);
    }
  if (deferred)
    {
      json_builder_set_member_name (b, "deferred");
      json_builder_add_boolean_value (b, TRUE);
    }
  return lodge_app_result (b);
}

char *
lodge_app_result (JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* An install or configuration of a stopped VE with a disk: a repair job
 * (claim, snapshot, appliance) when files go on the disk, else only the
 * definition and the disk's record. */
static char *
run_change (LodgeApps *a, const char *name, const char *app, JsonObject *args, gboolean install,
            const char *who, LodgeRepairOutput out, gpointer out_data,
            LodgeProgress progress, gpointer progress_data, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  g_autoptr (LodgeEnvDef) def = rt != NULL ? lodge_ctl_definition (a->ctl, name, error) : NULL;
  g_autoptr (LodgeAppChange) c =
    def != NULL ? lodge_app_change_new (lodge_ctl_get_store (a->ctl), def, app, args, install, error)
                : NULL;
  if (c == NULL)
    return NULL;
  if (lodge_app_plan_writes_disk (c->plan, install))
    {
      LodgeAppJob aj = { a, app, NULL };
      char *result = lodge_disk_jobs_run (a->jobs, name, install ? &install_op : &configure_op,
                                          &aj, args, who, out, out_data, progress,
                                          progress_data, error);
      lodge_app_change_free (aj.change);
      return result;
    }
  if (rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is %s; %s it when it is stopped", name,
                   lodge_phase_to_string (rt->phase), install ? "install into" : "configure");
      return NULL;
    }
  if (!lodge_app_change_commit (a->ctl, c, rt->disk_pool, rt->disk_image, error))
    return NULL;
  if (progress != NULL)
    progress ("nothing of it goes on the disk: the definition has it", progress_data);
  return lodge_app_result_new (app, c->plan->source, FALSE);
}

char *
lodge_apps_install (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                    const char *who, LodgeRepairOutput out, gpointer out_data,
                    LodgeProgress progress, gpointer progress_data, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  if (rt == NULL)
    return NULL;
  if (rt->disk_image == NULL)
    {
      /* Never started: the definition is enough; the first start lays
       * the application in. */
      g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (a->ctl, name, error);
      if (def == NULL)
        return NULL;
      g_autoptr (LodgeAppChange) c =
        lodge_app_change_new (lodge_ctl_get_store (a->ctl), def, app, args, TRUE, error);
      if (c == NULL || !lodge_app_change_commit (a->ctl, c, NULL, NULL, error))
        return NULL;
      if (progress != NULL)
        progress ("the VE has no disk yet: its first start lays the application in", progress_data);
      return lodge_app_result_new (app, c->plan->source, TRUE);
    }
  return run_change (a, name, app, args, TRUE, who, out, out_data, progress, progress_data, error);
}

char *
lodge_apps_configure_offline (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                              const char *who, LodgeRepairOutput out, gpointer out_data,
                              LodgeProgress progress, gpointer progress_data,
                              GError **error)
{
  return run_change (a, name, app, args, FALSE, who, out, out_data, progress, progress_data, error);
}

/* ---- `lodge app remove` ---- */

typedef struct {
  LodgeAppPlan *plan; /* of the application, in the current definition */
  char *xml;          /* the definition without it */
} RemoveJob;

static gboolean
op_remove (LodgeDiskJob *j, GError **error)
{
  RemoveJob *rj = j->op_data;
  LodgeRepairApp ra;
  lodge_app_plan_repair_app (rj->plan, 0, &ra);
  lodge_disk_job_say (j, "taking %s (%s) out of the disk", ra.name, ra.source);
  if (!lodge_repair_app_remove (j->session, &ra, j->out, j->out_data, error))
    return FALSE;
  if (!lodge_define_env (j->ctl, rj->xml, strlen (rj->xml), LODGE_DEFINE_CREATE_OR_REPLACE,
                         j->name, NULL, NULL, error))
    {
      g_prefix_error (error, "the definition could not be updated: ");
      return FALSE;
    }
  g_autofree char *key = lodge_app_plan_meta_key (ra.name);
  g_autoptr (GError) local = NULL;
  if (!lodge_rbd_meta_set (lodge_store_get_rados (lodge_ctl_get_store (j->ctl)), j->disks.pool,
                           j->disks.image, key, NULL, &local))
    g_warning ("cannot clear the record of %s on %s/%s: %s", ra.name, j->disks.pool,
               j->disks.image, local->message);
  lodge_disk_job_result_string (j, "application", ra.name);
  return TRUE;
}

static const LodgeDiskJobOp remove_op = { "app remove", LODGE_DISK_JOB_WRITE, op_remove, NULL };

char *
lodge_apps_remove (LodgeApps *a, const char *name, const char *app, const char *who,
                   LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
                   gpointer progress_data, GError **error)
{
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (a->ctl, name, error);
  g_autoptr (LodgeEnvDef) def = rt != NULL ? lodge_ctl_definition (a->ctl, name, error) : NULL;
  if (def == NULL)
    return NULL;
  guint index = 0;
  LodgeEnvApplication *found = lodge_env_def_find_application (def, app);
  if (found == NULL || !g_ptr_array_find (def->applications, found, &index))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "environment %s has no application '%s'", name, app);
      return NULL;
    }
  if (rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is %s; remove %s when it is stopped", name,
                   lodge_phase_to_string (rt->phase), app);
      return NULL;
    }
  /* Its files are known from its template; a template gone meanwhile
   * leaves them on the disk (said so), and the definition loses it. */
  g_autoptr (GError) plan_error = NULL;
  g_autoptr (LodgeEnvApplication) removed = g_ptr_array_steal_index (def->applications, index);
  g_autoptr (LodgeAppPlan) plan =
    lodge_app_plan_new (lodge_ctl_get_store (a->ctl), removed, &plan_error); /* borrows it */
  RemoveJob rj = { plan, lodge_env_def_format (def) };
  g_autofree char *new_xml = rj.xml;
  g_autoptr (LodgeEnvDef) check = lodge_env_def_load (new_xml, strlen (new_xml), name, error);
  if (check == NULL)
    return NULL;
  if (rt->disk_image != NULL && plan != NULL && lodge_app_plan_writes_disk (plan, TRUE))
    return lodge_disk_jobs_run (a->jobs, name, &remove_op, &rj, NULL, who, out, out_data,
                                progress, progress_data, error);
  if (!lodge_define_env (a->ctl, new_xml, strlen (new_xml), LODGE_DEFINE_CREATE_OR_REPLACE, name,
                         NULL, NULL, error))
    return NULL;
  if (rt->disk_image != NULL)
    {
      g_autofree char *key = lodge_app_plan_meta_key (app);
      if (!lodge_rbd_meta_set (lodge_store_get_rados (lodge_ctl_get_store (a->ctl)), rt->disk_pool,
                               rt->disk_image, key, NULL, error))
        return NULL;
    }
  if (progress != NULL && plan == NULL)
    {
      g_autofree char *line = g_strdup_printf ("its template is gone (%s): its files stay on the disk",
                                               plan_error->message);
      progress (line, progress_data);
    }
  return lodge_app_result_new (app, NULL, FALSE);
}
