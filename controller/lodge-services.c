#include "lodge-services.h"

#include "lodge-define.h"
#include "lodge-migrate.h"
#include "lodge-storage-error.h"

/* Idle seconds a repair appliance is kept for the next operation. */
#define REPAIR_IDLE_S 60

struct _LodgeServices {
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *lifecycle;
  LodgeDiskJobs *jobs;
  LodgeApps apps;
  guint expire_source;
  gint expiring; /* a thread closes idle repair appliances */
  GMutex lock;   /* guards stats */
  LodgeActionStats stats;
};

LODGE_ENUM_IMPL (lodge_lifecycle_action, LODGE_LIFECYCLE_ACTION_LAST, "start", "stop", "restart",
                 "migrate");

LodgeOp
lodge_lifecycle_action_op (LodgeLifecycleAction action)
{
  switch (action)
    {
    case LODGE_LIFECYCLE_START:
      return LODGE_OP_START;
    case LODGE_LIFECYCLE_STOP:
      return LODGE_OP_STOP;
    case LODGE_LIFECYCLE_RESTART:
      return LODGE_OP_RESTART;
    case LODGE_LIFECYCLE_MIGRATE:
      return LODGE_OP_MIGRATE;
    case LODGE_LIFECYCLE_ACTION_LAST:
      break;
    }
  g_return_val_if_reached (LODGE_OP_MIGRATE);
}

static void
expire_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LodgeServices *svc = data;
  lodge_disk_jobs_expire (svc->jobs);
  g_atomic_int_set (&svc->expiring, 0);
  g_task_return_boolean (task, TRUE);
}

/* Idle repair appliances are closed in a thread: a shutdown takes a
 * second or so, the main loop never waits for it. */
static gboolean
expire_cb (gpointer data)
{
  LodgeServices *svc = data;
  if (!g_atomic_int_compare_and_exchange (&svc->expiring, 0, 1))
    return G_SOURCE_CONTINUE;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, svc, NULL);
  g_task_run_in_thread (task, expire_thread);
  return G_SOURCE_CONTINUE;
}

LodgeServices *
lodge_services_new (LodgeCtl *ctl, const LodgeLifecycleOptions *lifecycle)
{
  g_return_val_if_fail (ctl != NULL && lifecycle != NULL, NULL);
  LodgeServices *svc = g_new0 (LodgeServices, 1);
  svc->ctl = ctl;
  svc->lifecycle = lifecycle;
  svc->jobs = lodge_disk_jobs_new (ctl, lifecycle, REPAIR_IDLE_S);
  svc->apps = (LodgeApps) { ctl, svc->jobs, lifecycle };
  g_mutex_init (&svc->lock);
  svc->expire_source = g_timeout_add_seconds (5, expire_cb, svc);
  return svc;
}

void
lodge_services_free (LodgeServices *svc)
{
  if (svc == NULL)
    return;
  if (svc->expire_source != 0)
    g_source_remove (svc->expire_source);
  while (g_atomic_int_get (&svc->expiring))
    g_usleep (10000); /* the expiry thread uses the jobs */
  lodge_disk_jobs_free (svc->jobs);
  g_mutex_clear (&svc->lock);
  g_free (svc);
}

LodgeCtl *
lodge_services_get_ctl (LodgeServices *svc)
{
  return svc->ctl;
}

const LodgeLifecycleOptions *
lodge_services_get_lifecycle (LodgeServices *svc)
{
  return svc->lifecycle;
}

LodgeDiskJobs *
lodge_services_get_jobs (LodgeServices *svc)
{
  return svc->jobs;
}

LodgeApps *
lodge_services_get_apps (LodgeServices *svc)
{
  return &svc->apps;
}

gboolean
lodge_services_lifecycle (LodgeServices *svc, const char *name, LodgeLifecycleAction action,
                          gboolean force, const char *to, guint max_downtime_ms,
                          LodgeProgress progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (action < LODGE_LIFECYCLE_ACTION_LAST, FALSE);
  const LodgeLifecycleOptions *opts = svc->lifecycle;
  gboolean starts = action == LODGE_LIFECYCLE_START || action == LODGE_LIFECYCLE_RESTART;
  gboolean stops = action == LODGE_LIFECYCLE_STOP || action == LODGE_LIFECYCLE_RESTART;
  /* One operation per VE at a time in this controller: a second request
   * waits for the first, then acts on what it left (a second start of a
   * running VE does nothing). */
  guint wait_s = opts->ready_timeout_s + opts->stop_timeout_s + opts->migrate_timeout_s + 30;
  if (starts && !lodge_disk_jobs_settle (svc->jobs, name, error))
    return FALSE;
  if (!lodge_ctl_begin (svc->ctl, name, lodge_lifecycle_action_op (action), wait_s, error))
    return FALSE;
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = TRUE;
  if (stops)
    ok = lodge_lifecycle_stop (svc->ctl, opts, name, force, error);
  if (ok && starts)
    ok = lodge_lifecycle_start (svc->ctl, opts, name, progress, progress_data, error);
  if (action == LODGE_LIFECYCLE_MIGRATE)
    ok = lodge_migrate_ve (svc->ctl, opts, name, to, max_downtime_ms, progress, progress_data,
                           error);
  lodge_ctl_end (svc->ctl, name);
  g_mutex_lock (&svc->lock);
  svc->stats.count[action]++;
  svc->stats.failed[action] += !ok;
  svc->stats.seconds[action] += (g_get_monotonic_time () - t0) / 1e6;
  g_mutex_unlock (&svc->lock);
  return ok;
}

void
lodge_services_get_action_stats (LodgeServices *svc, LodgeActionStats *ret)
{
  g_mutex_lock (&svc->lock);
  *ret = svc->stats;
  g_mutex_unlock (&svc->lock);
}

gboolean
lodge_services_undefine (LodgeServices *svc, const char *name, gboolean remove_disk,
                         GError **error)
{
  lodge_disk_jobs_release (svc->jobs, name); /* its snapshot goes with the disk */
  /* A claim a dead controller left is settled first, as for a start. */
  return lodge_disk_jobs_settle (svc->jobs, name, error)
         && lodge_define_undefine (svc->ctl, name, remove_disk, error);
}

gboolean
lodge_services_undrain (LodgeServices *svc, const char *node, GError **error)
{
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (svc->ctl, error);
  if (nodes == NULL)
    return FALSE;
  LodgeNodeRecord *found = lodge_ctl_find_node (nodes, node);
  if (found == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND, "unknown node");
      return FALSE;
    }
  if (found->state == LODGE_NODE_FENCED)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                   "the node is fenced; the control center clears that when its agent is back "
                   "and has destroyed its stale guests");
      return FALSE;
    }
  return lodge_ctl_set_node_state (svc->ctl, node, LODGE_NODE_UP, error);
}
