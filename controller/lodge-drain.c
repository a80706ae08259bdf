#include "lodge-drain.h"

#include "lodge-migrate.h"

#define DRAIN_PARALLEL 2

typedef struct {
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *opts;
} Drain;

void
lodge_drain_outcome_free (LodgeDrainOutcome *o)
{
  if (o == NULL)
    return;
  g_free (o->name);
  g_free (o->to);
  g_free (o->error);
  g_free (o);
}

/* In a pool thread. */
static void
drain_one (gpointer data, gpointer user_data)
{
  LodgeDrainOutcome *o = data;
  Drain *d = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = lodge_ctl_begin (d->ctl, o->name, LODGE_OP_MIGRATE, d->opts->migrate_timeout_s + 60,
                                 &error);
  if (ok)
    {
      ok = lodge_migrate_ve (d->ctl, d->opts, o->name, NULL, 0, NULL, NULL, &error);
      lodge_ctl_end (d->ctl, o->name);
    }
  if (!ok)
    {
      o->error = g_strdup (error->message);
      return;
    }
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (d->ctl, o->name, NULL);
  o->to = g_strdup (rt != NULL && rt->node != NULL ? rt->node : "?");
  o->migration_ms = rt != NULL ? rt->migration_ms : 0;
  o->downtime_ms = rt != NULL ? rt->downtime_ms : 0;
}

GPtrArray *
lodge_drain_node (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *node, GError **error)
{
  if (!lodge_ctl_set_node_state (ctl, node, LODGE_NODE_DRAINING, error))
    return NULL;
  g_autoptr (GPtrArray) list = lodge_ctl_list (ctl, error);
  if (list == NULL)
    return NULL;
  g_autoptr (GPtrArray) outcomes =
    g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_drain_outcome_free);
  for (guint i = 0; i < list->len; i++)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      if (g_strcmp0 (rt->node, node) != 0 || rt->phase != LODGE_PHASE_RUNNING)
        continue;
      LodgeDrainOutcome *o = g_new0 (LodgeDrainOutcome, 1);
      o->name = g_strdup (rt->name);
      g_ptr_array_add (outcomes, o);
    }
  Drain d = { ctl, opts };
  GThreadPool *pool = g_thread_pool_new (drain_one, &d, DRAIN_PARALLEL, FALSE, NULL);
  for (guint i = 0; i < outcomes->len; i++)
    g_thread_pool_push (pool, outcomes->pdata[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE); /* waits for every migration */
  return g_steal_pointer (&outcomes);
}
