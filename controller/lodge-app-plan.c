/* Applications planned from a definition (template, manifest, values,
 * launch command), and laid into a VE's disk at its start. */
#include "lodge-app-plan.h"

#include <string.h>

#include "lodge-rbd.h"
#include "lodge-storage-error.h"

#define META_PREFIX "lodge.app."

void
lodge_app_plan_free (LodgeAppPlan *plan)
{
  if (plan == NULL)
    return;
  lodge_template_free (plan->tmpl);
  lodge_app_manifest_free (plan->manifest);
  g_clear_pointer (&plan->values, g_hash_table_unref);
  g_free (plan->launch);
  g_free (plan->source);
  g_free (plan->disk);
  g_free (plan->stamp);
  g_free (plan);
}

/* What the disk's metadata says once the plan is laid in: the source, and
 * a digest of the values (a change of them rewrites the config files). */
static char *
stamp_of (const LodgeAppPlan *plan)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GList) keys = g_hash_table_get_keys (plan->values);
  keys = g_list_sort (keys, (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const char *v = g_hash_table_lookup (plan->values, l->data);
      g_checksum_update (sum, l->data, -1);
      g_checksum_update (sum, (const guchar *) "=", 1);
      g_checksum_update (sum, (const guchar *) v, -1);
      g_checksum_update (sum, (const guchar *) "\n", 1);
    }
  g_autofree char *hex = g_strndup (g_checksum_get_string (sum), 16);
  return g_strdup_printf ("%s values=%s", plan->source, hex);
}

LodgeAppPlan *
lodge_app_plan_new (LodgeStore *store, const LodgeEnvApplication *app, GError **error)
{
  g_autoptr (LodgeAppPlan) plan = g_new0 (LodgeAppPlan, 1);
  plan->app = app;
  plan->tmpl = lodge_template_get_kind (store, app->source_template,
                                        LODGE_TEMPLATE_KIND_APPLICATION, error);
  plan->version = plan->tmpl != NULL
                    ? lodge_template_find_version (plan->tmpl, app->source_version, error) : NULL;
  if (plan->version != NULL && plan->version->manifest == NULL)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                 "template %s@%s has no manifest in its record", plan->tmpl->name,
                 plan->version->version);
  if (plan->version == NULL || plan->version->manifest == NULL)
    {
      g_prefix_error (error, "application %s: ", app->name);
      return NULL;
    }
  plan->source = g_strdup_printf ("%s@%s", plan->tmpl->name, plan->version->version);
  g_autofree char *origin = g_strdup_printf ("%s/" LODGE_APP_MANIFEST_NAME, plan->source);
  plan->manifest = lodge_app_manifest_parse (plan->version->manifest,
                                             strlen (plan->version->manifest), origin, error);
  if (plan->manifest == NULL)
    {
      g_prefix_error (error, "application %s: ", app->name);
      return NULL;
    }
  g_autoptr (GHashTable) given = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < app->params->len; i++)
    {
      LodgeEnvParam *p = app->params->pdata[i];
      g_hash_table_insert (given, p->name, p->value);
    }
  /* Its errors name the application. */
  plan->values = lodge_app_manifest_values (plan->manifest, given, app->name, error);
  if (plan->values == NULL)
    return NULL;
  plan->launch = app->launch != NULL
                   ? g_strdup (app->launch)
                   : lodge_app_render (plan->manifest->launch, plan->values, TRUE, "launch", error);
  if (plan->launch == NULL)
    {
      g_prefix_error (error, "application %s: ", app->name);
      return NULL;
    }
  plan->disk = g_strdup_printf ("%s/%s@%s", plan->tmpl->pool, plan->tmpl->image,
                                plan->version->snapshot);
  plan->stamp = stamp_of (plan);
  return g_steal_pointer (&plan);
}

GPtrArray *
lodge_app_plan_all (LodgeStore *store, const LodgeEnvDef *def, GError **error)
{
  g_autoptr (GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_app_plan_free);
  for (guint i = 0; i < def->applications->len; i++)
    {
      const LodgeEnvApplication *app = def->applications->pdata[i];
      LodgeAppPlan *plan = lodge_app_plan_new (store, app, error);
      if (plan == NULL)
        return NULL;
      g_ptr_array_add (plans, plan);
    }
  return g_steal_pointer (&plans);
}

void
lodge_app_plan_repair_app (const LodgeAppPlan *plan, guint app_index, LodgeRepairApp *ret)
{
  *ret = (LodgeRepairApp) {
    .name = plan->app->name,
    .source = plan->source,
    .app_index = app_index,
    .manifest = plan->manifest,
    .config_templates = plan->version->config_templates,
    .values = plan->values,
  };
}

gboolean
lodge_app_plan_writes_disk (const LodgeAppPlan *plan, gboolean install)
{
  return plan->manifest->files->len > 0 || (install && plan->manifest->copies->len > 0);
}

char *
lodge_app_plan_meta_key (const char *app)
{
  return g_strconcat (META_PREFIX, app, NULL);
}

/* Whether the disk holds @plan's version ("install"), only other values
 * ("configure"), or it as planned (NULL). */
static const char *
pending_work (LodgeRados *rados, const char *pool, const char *image, const LodgeAppPlan *plan,
              GError **error)
{
  g_autofree char *key = lodge_app_plan_meta_key (plan->app->name);
  g_autofree char *have = lodge_rbd_meta_get (rados, pool, image, key, error);
  if (have == NULL)
    return error != NULL && *error != NULL ? NULL : "install";
  if (strcmp (have, plan->stamp) == 0)
    return NULL;
  g_autofree char *prefix = g_strconcat (plan->source, " ", NULL);
  return g_str_has_prefix (have, prefix) ? "configure" : "install";
}

static gboolean
discard_output (const char *data, gsize len, gpointer user_data)
{
  return TRUE;
}

/* Lays @plans (with @work "install" or "configure" each) into the disk
 * in one appliance. */
static gboolean
lay_in (const char *client_id, const char *pool, const char *image, GPtrArray *plans,
        const char *const *work, GError **error)
{
  g_autoptr (GPtrArray) drives = g_ptr_array_new ();
  g_autoptr (GArray) index = g_array_new (FALSE, TRUE, sizeof (guint));
  for (guint i = 0; i < plans->len; i++)
    {
      guint at = drives->len;
      if (strcmp (work[i], "install") == 0)
        g_ptr_array_add (drives, ((LodgeAppPlan *) plans->pdata[i])->disk);
      g_array_append_val (index, at);
    }
  g_ptr_array_add (drives, NULL);
  LodgeRepairDisks disks = {
    .client_id = client_id, .pool = pool, .image = image, .writable = TRUE,
    .apps = drives->len > 1 ? (const char *const *) drives->pdata : NULL,
  };
  g_autoptr (LodgeRepair) r = lodge_repair_open (&disks, error);
  if (r == NULL)
    return FALSE;
  for (guint i = 0; i < plans->len; i++)
    {
      LodgeAppPlan *plan = plans->pdata[i];
      LodgeRepairApp ra;
      lodge_app_plan_repair_app (plan, g_array_index (index, guint, i), &ra);
      gboolean ok = strcmp (work[i], "install") == 0
                      ? lodge_repair_app_install (r, &ra, discard_output, NULL, error)
                      : lodge_repair_app_configure (r, &ra, error);
      if (!ok)
        {
          g_prefix_error (error, "application %s: ", plan->app->name);
          return FALSE;
        }
    }
  return lodge_repair_close (r, error);
}

gboolean
lodge_app_plan_prepare_start (LodgeStore *store, const char *client_id, LodgeEnvDef *def,
                              const char *pool, const char *image, LodgeProgress progress,
                              gpointer user_data, GError **error)
{
  if (def->applications->len == 0)
    return TRUE;
  g_autoptr (GPtrArray) plans = lodge_app_plan_all (store, def, error);
  if (plans == NULL)
    return FALSE;
  LodgeRados *rados = lodge_store_get_rados (store);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  g_autoptr (GPtrArray) work = g_ptr_array_new ();
  g_autoptr (GString) what = g_string_new (NULL);
  for (guint i = 0; i < plans->len; i++)
    {
      LodgeAppPlan *plan = plans->pdata[i];
      /* The boot configuration carries each launch command. */
      LodgeEnvApplication *app = def->applications->pdata[i];
      g_free (app->launch);
      app->launch = g_strdup (plan->launch);
      const char *w = pending_work (rados, pool, image, plan, error);
      if (w == NULL && error != NULL && *error != NULL)
        return FALSE;
      if (w == NULL)
        continue;
      if (!lodge_app_plan_writes_disk (plan, strcmp (w, "install") == 0))
        {
          /* Nothing of it goes on the disk: no appliance for it. */
          g_autofree char *key = lodge_app_plan_meta_key (plan->app->name);
          if (!lodge_rbd_meta_set (rados, pool, image, key, plan->stamp, error))
            return FALSE;
          continue;
        }
      g_ptr_array_add (todo, plan);
      g_ptr_array_add (work, (gpointer) w);
      g_string_append_printf (what, "%s%s %s (%s)", what->len ? ", " : "",
                              strcmp (w, "install") == 0 ? "installing" : "configuring",
                              plan->app->name, plan->source);
    }
  if (todo->len == 0)
    return TRUE;
  if (progress != NULL)
    {
      g_autofree char *line = g_strdup_printf ("applications: %s", what->str);
      progress (line, user_data);
    }
  g_autofree char *snap = g_strdup_printf ("lodge-apps-%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  if (!lodge_rbd_snap_create (rados, pool, image, snap, FALSE, error))
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (!lay_in (client_id, pool, image, todo, (const char *const *) work->pdata, &local))
    {
      g_autoptr (GError) undo = NULL;
      if (lodge_rbd_snap_rollback (rados, pool, image, snap, NULL, NULL, &undo)
          && lodge_rbd_snap_remove (rados, pool, image, snap, &undo))
        g_prefix_error (&local, "the disk was rolled back: ");
      else
        g_prefix_error (&local, "the disk could not be rolled back to %s (%s): ", snap,
                        undo->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!lodge_rbd_snap_remove (rados, pool, image, snap, &local))
    g_warning ("cannot remove snapshot %s of %s/%s: %s", snap, pool, image, local->message);
  for (guint i = 0; i < todo->len; i++)
    {
      LodgeAppPlan *plan = todo->pdata[i];
      g_autofree char *key = lodge_app_plan_meta_key (plan->app->name);
      if (!lodge_rbd_meta_set (rados, pool, image, key, plan->stamp, error))
        return FALSE;
    }
  if (progress != NULL)
    progress ("applications laid into the disk", user_data);
  return TRUE;
}
