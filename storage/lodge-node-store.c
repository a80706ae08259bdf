#include "lodge-node-store.h"

#include "lodge-storage-error.h"

LodgeNodeReport *
lodge_node_report_load (LodgeStore *store, const char *name, guint64 *ret_version, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_NODE, name, ret_version, &local);
  if (json == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown node '%s'", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return lodge_node_report_from_json (json, error);
}

gboolean
lodge_node_report_save (LodgeStore *store, const LodgeNodeReport *report, guint64 *version,
                        GError **error)
{
  g_autoptr (GBytes) json = lodge_node_report_to_json (report);
  if (*version == 0)
    return lodge_store_create (store, LODGE_STORE_NODE, report->name, json, version, error);
  return lodge_store_update (store, LODGE_STORE_NODE, report->name, *version, json, version, error);
}

LodgeNodeDecision *
lodge_node_decision_load (LodgeStore *store, const LodgeNodeReport *report, guint64 *ret_version,
                          GError **error)
{
  g_autoptr (GError) local = NULL;
  guint64 version = 0;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_NODE_DECISION, report->name,
                                             &version, &local);
  if (json == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_autoptr (LodgeNodeDecision) stored = json != NULL ? lodge_node_decision_from_json (json, error)
                                                      : NULL;
  if (json != NULL && stored == NULL)
    return NULL;
  if (ret_version != NULL)
    *ret_version = stored != NULL ? version : 0;
  return lodge_node_decision_in_force (stored, report);
}

gboolean
lodge_node_decision_save (LodgeStore *store, const LodgeNodeDecision *decision, guint64 version,
                          GError **error)
{
  g_autoptr (GBytes) json = lodge_node_decision_to_json (decision);
  if (version == 0)
    return lodge_store_create (store, LODGE_STORE_NODE_DECISION, decision->name, json, NULL, error);
  return lodge_store_update (store, LODGE_STORE_NODE_DECISION, decision->name, version, json, NULL,
                             error);
}

gboolean
lodge_node_decide (LodgeStore *store, const char *name, LodgeNodeDecideFunc decide,
                   gconstpointer data, GError **error)
{
  g_autoptr (LodgeNodeReport) report = lodge_node_report_load (store, name, NULL, error);
  if (report == NULL)
    return FALSE;
  guint64 version = 0;
  g_autoptr (LodgeNodeDecision) decision = lodge_node_decision_load (store, report, &version, error);
  if (decision == NULL)
    return FALSE;
  if (!decide (decision, report, data))
    return TRUE;
  if (!lodge_node_decision_save (store, decision, version, error))
    {
      g_prefix_error (error, "deciding about node %s: ", name);
      return FALSE;
    }
  return TRUE;
}

static LodgeNodeRecord *
combine (LodgeStore *store, const LodgeNodeReport *report, GError **error)
{
  g_autoptr (LodgeNodeDecision) decision = lodge_node_decision_load (store, report, NULL, error);
  if (decision == NULL)
    return NULL;
  return lodge_node_record_combine (report, decision);
}

LodgeNodeRecord *
lodge_node_record_load (LodgeStore *store, const char *name, GError **error)
{
  g_autoptr (LodgeNodeReport) report = lodge_node_report_load (store, name, NULL, error);
  return report != NULL ? combine (store, report, error) : NULL;
}

GPtrArray *
lodge_node_record_load_all (LodgeStore *store, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (store, LODGE_STORE_NODE, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_node_record_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_NODE, names->pdata[i], NULL, NULL);
      if (json == NULL)
        continue; /* removed meanwhile */
      g_autoptr (LodgeNodeReport) report = lodge_node_report_from_json (json, error);
      LodgeNodeRecord *r = report != NULL ? combine (store, report, error) : NULL;
      if (r == NULL)
        return NULL;
      g_ptr_array_add (out, r);
    }
  return g_steal_pointer (&out);
}
