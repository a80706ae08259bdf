#include "lodge-define.h"

#include <string.h>

#include "lodge-addresses.h"
#include "lodge-app-plan.h"
#include "lodge-disk.h"
#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-storage-error.h"
#include "lodge-template.h"

static LodgeRuntimeRecord *
load_runtime (LodgeStore *store, const char *name, guint64 *ret_version, GError **error)
{
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, ret_version, error);
  if (json == NULL)
    return NULL;
  return lodge_runtime_record_from_json (json, error);
}

static void
set_exists (GError **error, const char *name)
{
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
               "environment '%s' exists already; redefine it with 'lodge define' "
               "(PUT /v1/environments/%s)", name, name);
}

/* Defines (and the claims of lodge_define_claim_all) run one at a time. */
static GMutex define_lock;

/* Stores @def (@xml) as its VE's definition: created, or (by @mode)
 * replaced, the definition it replaced in *@ret_old. */
static gboolean
store_definition (LodgeStore *store, const LodgeEnvDef *def, const char *xml, gsize len,
                  LodgeDefineMode mode, GBytes **ret_old, GError **error)
{
  g_autoptr (GBytes) value = g_bytes_new (xml, len);
  g_autoptr (GError) local = NULL;
  if (!lodge_store_create (store, LODGE_STORE_ENV, def->name, value, NULL, &local))
    {
      if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (mode == LODGE_DEFINE_CREATE)
        {
          set_exists (error, def->name);
          return FALSE;
        }
      /* Redefine: last writer wins, but never over a concurrent undefine
       * (nor, for a customer, over a change of owner: the update is at
       * the version whose owner was checked). */
      g_clear_error (&local);
      guint64 version = 0;
      g_autoptr (GBytes) old = lodge_store_get (store, LODGE_STORE_ENV, def->name, &version, error);
      if (old == NULL)
        return FALSE;
      if (mode == LODGE_DEFINE_CREATE_OR_REPLACE_OWN)
        {
          g_autoptr (LodgeEnvDef) was = lodge_env_def_parse (g_bytes_get_data (old, NULL),
                                                             g_bytes_get_size (old), def->name, NULL);
          if (was == NULL || g_strcmp0 (was->owner, def->owner) != 0)
            {
              g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                           "the name '%s' is taken (not by a VE of yours): choose another",
                           def->name);
              return FALSE;
            }
        }
      if (!lodge_store_update (store, LODGE_STORE_ENV, def->name, version, value, NULL, error))
        return FALSE;
      *ret_old = g_steal_pointer (&old);
    }
  return TRUE;
}

gboolean
lodge_define_check_name (const LodgeEnvDef *def, const char *expected_name, GError **error)
{
  if (expected_name == NULL || strcmp (expected_name, def->name) == 0)
    return TRUE;
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
               "the definition is of '%s', not of '%s' (the name in the request's path)", def->name,
               expected_name);
  return FALSE;
}

gboolean
lodge_define_env (LodgeCtl *ctl, const char *xml, gsize len, LodgeDefineMode mode,
                  const char *expected_name, char **ret_name, gboolean *ret_created,
                  GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load (xml, len, "definition", error);
  if (def == NULL)
    return FALSE;
  if (!lodge_define_check_name (def, expected_name, error))
    return FALSE;
  /* The template (and version) must exist now, not at first start. */
  g_autoptr (LodgeTemplate) tmpl =
    lodge_template_get_kind (store, def->template_name, LODGE_TEMPLATE_KIND_OS, error);
  /* So must its applications, with every configuration value fitting. */
  g_autoptr (GPtrArray) plans = NULL;
  if (tmpl == NULL || lodge_template_find_version (tmpl, def->template_version, error) == NULL
      || (plans = lodge_app_plan_all (store, def, error)) == NULL)
    {
      g_prefix_error (error, "environment %s: ", def->name);
      return FALSE;
    }

  /* Its addresses, then the definition, one define at a time (see
   * lodge-addresses.h); a failure releases the addresses it took. */
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locked = g_mutex_locker_new (&define_lock);
  g_autoptr (GPtrArray) taken = g_ptr_array_new_with_free_func (g_free);
  if (!lodge_addresses_claim (store, def, taken, error))
    {
      g_prefix_error (error, "environment %s: ", def->name);
      return FALSE;
    }
  g_autoptr (GBytes) old = NULL;
  if (!store_definition (store, def, xml, len, mode, &old, error))
    {
      lodge_addresses_release (store, def->name, taken);
      return FALSE;
    }
  gboolean created = old == NULL;
  /* What the definition it replaced had, and this one lacks, is free now. */
  g_autoptr (LodgeEnvDef) was = old != NULL ? lodge_env_def_parse (g_bytes_get_data (old, NULL),
                                                                   g_bytes_get_size (old), def->name, NULL)
                                            : NULL;
  if (was != NULL)
    {
      g_autoptr (GPtrArray) now = lodge_addresses_of (def, NULL);
      g_autoptr (GPtrArray) gone = lodge_addresses_of (was, NULL);
      for (guint i = gone->len; i-- > 0;)
        if (g_ptr_array_find_with_equal_func (now, gone->pdata[i], g_str_equal, NULL))
          g_ptr_array_remove_index (gone, i);
      lodge_addresses_release (store, def->name, gone);
    }
  g_autoptr (GError) local = NULL;

  /* A runtime record for a new VE: stopped. */
  g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_new (def->name);
  rt->desired = LODGE_DESIRED_STOPPED;
  rt->phase = LODGE_PHASE_STOPPED;
  rt->since_us = g_get_real_time ();
  g_autoptr (GBytes) rt_json = lodge_runtime_record_to_json (rt);
  if (!lodge_store_create (store, LODGE_STORE_RUNTIME, def->name, rt_json, NULL, &local)
      && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (ret_name != NULL)
    *ret_name = g_strdup (def->name);
  if (ret_created != NULL)
    *ret_created = created;
  return TRUE;
}

gboolean
lodge_define_undefine (LodgeCtl *ctl, const char *name, gboolean remove_disk, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  guint64 env_version = 0, rt_version = 0;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) xml = lodge_store_get (store, LODGE_STORE_ENV, name, &env_version, &local);
  if (xml == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown environment '%s'", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_autoptr (LodgeRuntimeRecord) rt = load_runtime (store, name, &rt_version, &local);
  if (rt == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_clear_error (&local);
  if (rt != NULL && (rt->desired != LODGE_DESIRED_STOPPED
                     || (rt->phase != LODGE_PHASE_STOPPED && rt->phase != LODGE_PHASE_FAILED)))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is %s on %s; stop it first", name,
                   lodge_phase_to_string (rt->phase), rt->node != NULL ? rt->node : "no node");
      return FALSE;
    }
  if (rt != NULL && rt->repair != NULL)
    {
      g_autofree char *what = lodge_repair_claim_describe (rt->repair);
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is held by a repair (%s); undefine it when that is done",
                   name, what);
      return FALSE;
    }

  /* The runtime record goes first, at the version read: a start that
   * claimed it meanwhile wins (this undefine fails), and a start that
   * comes later finds no record to claim. */
  if (rt != NULL && !lodge_store_delete (store, LODGE_STORE_RUNTIME, name, rt_version, &local))
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                     "environment %s changed meanwhile (a start?); nothing was removed", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_clear_error (&local);
  if (remove_disk)
    {
      g_autoptr (LodgeEnvDef) def = lodge_env_def_parse (g_bytes_get_data (xml, NULL),
                                                         g_bytes_get_size (xml), name, NULL);
      guint replicas = def != NULL ? lodge_env_def_effective_replicas (def) : LODGE_ENV_DEFAULT_REPLICAS;
      if (!lodge_disk_delete (lodge_store_get_rados (store), name, replicas, &local)
          && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                      "environment %s is stopped and still defined, but its disk "
                                      "could not be removed: ", name);
          return FALSE;
        }
    }
  /* The definition last, only at the version read: a concurrent redefine
   * wins (the VE stays defined, stopped). */
  if (!lodge_store_delete (store, LODGE_STORE_ENV, name, env_version, &local))
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                     "environment %s was redefined meanwhile; it stays defined (stopped)%s", name,
                     remove_disk ? ", without its old disk" : "");
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* Its addresses are free for others. */
  g_autoptr (LodgeEnvDef) was = lodge_env_def_parse (g_bytes_get_data (xml, NULL),
                                                     g_bytes_get_size (xml), name, NULL);
  g_autoptr (GPtrArray) addresses = was != NULL ? lodge_addresses_of (was, NULL) : NULL;
  lodge_addresses_release (store, name, addresses);
  return TRUE;
}

guint
lodge_define_claim_all (LodgeCtl *ctl, LodgeDefineLog log, gpointer user_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autoptr (GPtrArray) names = lodge_store_list (store, LODGE_STORE_ENV, error);
  if (names == NULL)
    return 0;
  guint claimed = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      G_GNUC_UNUSED g_autoptr (GMutexLocker) locked = g_mutex_locker_new (&define_lock);
      g_autoptr (GError) local = NULL;
      g_autoptr (GBytes) xml = lodge_store_get (store, LODGE_STORE_ENV, name, NULL, &local);
      g_autoptr (LodgeEnvDef) def =
        xml != NULL ? lodge_env_def_parse (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml), name, &local)
                    : NULL;
      g_autoptr (GPtrArray) taken = g_ptr_array_new_with_free_func (g_free);
      if (def != NULL && lodge_addresses_claim (store, def, taken, &local))
        {
          claimed += taken->len;
          if (taken->len > 0)
            {
              g_autofree char *line = g_strdup_printf (
                "environment %s: claimed %u of its addresses (defined before claims)", name, taken->len);
              log (line, user_data);
            }
          continue;
        }
      /* Gone meanwhile: nothing to claim. */
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        continue;
      g_autofree char *line = g_strdup_printf ("environment %s: its addresses are not all its own: %s; "
                                               "redefine it with addresses of its own",
                                               name, local->message);
      log (line, user_data);
    }
  return claimed;
}
