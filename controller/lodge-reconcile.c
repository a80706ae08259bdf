#include "lodge-reconcile.h"

#include <string.h>

#include "lodge-failover.h"
#include "lodge-lifecycle.h"
#include "lodge-node-store.h"
#include "lodge-storage-error.h"

#define MAX_REPAIRS 4
/* How often node liveness is checked: failover starts within this of a
 * node's grace period running out. */
#define LIVENESS_CHECK_US (G_USEC_PER_SEC / 2)
/* Failover jobs in the repair pool are named "node:NAME" (a VE name has
 * no ':'). */
#define NODE_JOB "node:"
#define STRAY_JOB "stray:" /* "stray:NODE/VE" */

struct _LodgeReconciler {
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *opts;
  guint sweep_s;
  LodgeReconcileLog log;
  gpointer log_data;

  LodgeStoreWatch *watch;          /* agents' reports */
  LodgeStoreWatch *decision_watch; /* the control center's decisions */
  GThread *thread;
  GThreadPool *repairs; /* of char *name */

  GMutex lock; /* guards the fields below */
  GCond wake;
  gboolean stop;
  gboolean kicked;
  GHashTable *changed_nodes; /* names reported by the watch, to look at */
  GHashTable *late_nodes;    /* name -> monotonic µs until which a late node is not failed over */
};

/* A node whose agent was late but whose libvirt answered is given this
 * long before it is probed again. */
#define LATE_NODE_RESPITE_US (5 * G_USEC_PER_SEC)

static void
say (LodgeReconciler *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
say (LodgeReconciler *r, const char *fmt, ...)
{
  if (r->log == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  r->log (msg, r->log_data);
}

/* In a pool thread; the VE is marked busy in the controller. */
static void
failover_log (const char *message, gpointer user_data)
{
  say (user_data, "%s", message);
}

static void
repair (gpointer data, gpointer user_data)
{
  g_autofree char *name = data;
  LodgeReconciler *r = user_data;
  g_autoptr (GError) error = NULL;
  if (g_str_has_prefix (name, STRAY_JOB))
    {
      g_auto (GStrv) parts = g_strsplit (name + strlen (STRAY_JOB), "/", 2);
      g_autofree char *report = NULL;
      if (!lodge_lifecycle_clear_stray (r->ctl, parts[0], parts[1], &report, &error))
        say (r, "%s: a domain on %s that its record may not account for: %s (trying again)",
             parts[1], parts[0], error->message);
      else if (report != NULL)
        say (r, "%s", report);
      lodge_ctl_end (r->ctl, parts[1]);
      return;
    }
  if (g_str_has_prefix (name, NODE_JOB))
    {
      const char *node = name + strlen (NODE_JOB);
      gboolean alive = FALSE;
      if (!lodge_failover_node (r->ctl, r->opts, node, failover_log, r, &alive, &error))
        say (r, "failover of %s: %s (trying again)", node, error->message);
      if (alive)
        {
          g_mutex_lock (&r->lock);
          gint64 *until = g_new (gint64, 1);
          *until = g_get_monotonic_time () + LATE_NODE_RESPITE_US;
          g_hash_table_replace (r->late_nodes, g_strdup (node), until);
          g_mutex_unlock (&r->lock);
        }
      lodge_ctl_end (r->ctl, name);
      return;
    }
  switch (lodge_lifecycle_resume (r->ctl, r->opts, name, &error))
    {
    case LODGE_RESUME_NOTHING:
      break;
    case LODGE_RESUME_FINISHED_START:
      say (r, "%s: finished the start a previous controller began (or a failover's restart); running",
           name);
      break;
    case LODGE_RESUME_FINISHED_STOP:
      say (r, "%s: finished the stop a previous controller began; stopped", name);
      break;
    case LODGE_RESUME_FINISHED_MIGRATION:
      {
        g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (r->ctl, name, NULL);
        say (r, "%s: a migration was cut short; it runs on %s", name, rt != NULL ? rt->node : "?");
        break;
      }
    case LODGE_RESUME_RECORDED_GONE:
      {
        g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (r->ctl, name, NULL);
        say (r, "%s: recorded as stopped: %s", name,
             rt != NULL && rt->last_error != NULL ? rt->last_error : "not running on its node");
        break;
      }
    case LODGE_RESUME_RESTARTED:
      {
        g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (r->ctl, name, NULL);
        say (r, "%s: stopped (%s); restarted on %s (restart %u)", name,
             rt != NULL ? lodge_stop_reason_to_string (rt->stop_reason) : "?",
             rt != NULL && rt->node != NULL ? rt->node : "?", rt != NULL ? rt->restarts : 0);
        break;
      }
    case LODGE_RESUME_CRASH_LOOP:
      {
        g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (r->ctl, name, NULL);
        say (r, "%s: failed: %s", name, rt != NULL && rt->last_error != NULL ? rt->last_error : "?");
        break;
      }
    case LODGE_RESUME_FAILED:
      say (r, "%s: cannot reconcile: %s", name, error->message);
      break;
    }
  lodge_ctl_end (r->ctl, name);
}

/* Whether @node's agent, in a report newer than @since_us, says the domain
 * @name is not running there. */
static gboolean
agent_says_not_running (LodgeCtl *ctl, const LodgeNodeRecord *node, const char *name, gint64 since_us)
{
  if (!lodge_ctl_node_reported_since (ctl, node, since_us))
    return FALSE; /* the report may predate the start */
  for (guint i = 0; i < node->domains->len; i++)
    {
      const LodgeNodeDomain *d = node->domains->pdata[i];
      if (strcmp (d->name, name) == 0)
        return d->state == LODGE_DOMAIN_STATE_SHUTOFF || d->state == LODGE_DOMAIN_STATE_CRASHED;
    }
  return TRUE;
}

/* Domains that the nodes' agents report running or paused where no record
 * says the VE is: each is confirmed with its record and the node's libvirt,
 * holding the VE, before it is destroyed (lodge_lifecycle_clear_stray).
 * Nodes that are down or fenced are failover's. */
static void
sweep_strays (LodgeReconciler *r, GPtrArray *list, GPtrArray *nodes)
{
  g_autoptr (GHashTable) records = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < list->len; i++)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      g_hash_table_insert (records, rt->name, rt);
    }
  for (guint i = 0; i < nodes->len; i++)
    {
      LodgeNodeRecord *node = nodes->pdata[i];
      if (node->state == LODGE_NODE_DOWN || node->state == LODGE_NODE_FENCED)
        continue;
      for (guint j = 0; j < node->domains->len; j++)
        {
          const LodgeNodeDomain *d = node->domains->pdata[j];
          if ((d->state != LODGE_DOMAIN_STATE_RUNNING && d->state != LODGE_DOMAIN_STATE_PAUSED)
              || lodge_lifecycle_accounts_for (g_hash_table_lookup (records, d->name), node->name)
              || !lodge_ctl_try_begin (r->ctl, d->name, LODGE_OP_RECONCILE, NULL, NULL))
            continue;
          g_autofree char *job = g_strdup_printf ("%s%s/%s", STRAY_JOB, node->name, d->name);
          if (!g_thread_pool_push (r->repairs, g_steal_pointer (&job), NULL))
            lodge_ctl_end (r->ctl, d->name);
        }
    }
}

static void
sweep (LodgeReconciler *r, gboolean full)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = lodge_ctl_list (r->ctl, &error);
  g_autoptr (GPtrArray) nodes = list != NULL ? lodge_ctl_nodes (r->ctl, &error) : NULL;
  if (nodes == NULL)
    {
      say (r, "sweep: cannot read the state store: %s", error->message);
      return;
    }
  for (guint i = 0; i < list->len; i++)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      if (rt->node == NULL)
        continue;
      LodgeNodeRecord *node = lodge_ctl_find_node (nodes, rt->node);
      gboolean look;
      switch (rt->phase)
        {
        case LODGE_PHASE_STOPPED:
          look = rt->desired == LODGE_DESIRED_RUNNING; /* a failover's restart cut short */
          break;
        case LODGE_PHASE_STARTING:
        case LODGE_PHASE_STOPPING:
        case LODGE_PHASE_MIGRATING:
          look = TRUE; /* orphaned unless an operation of ours runs on it */
          break;
        case LODGE_PHASE_RUNNING:
          /* The agents' reports say where to look; a full sweep asks every
           * node's libvirt in case a report was lost. */
          look = node != NULL && node->state != LODGE_NODE_DOWN && node->state != LODGE_NODE_FENCED
                 && (full || agent_says_not_running (r->ctl, node, rt->name, rt->since_us));
          break;
        default:
          look = FALSE;
          break;
        }
      if (!look || !lodge_ctl_try_begin (r->ctl, rt->name, LODGE_OP_RECONCILE, NULL, NULL))
        continue;
      if (!g_thread_pool_push (r->repairs, g_strdup (rt->name), &error))
        {
          say (r, "%s: cannot queue its reconciliation: %s", rt->name, error->message);
          g_clear_error (&error);
          lodge_ctl_end (r->ctl, rt->name);
        }
    }
  if (full)
    sweep_strays (r, list, nodes);
}

/* Nodes that stopped heartbeating: fail them over; fenced nodes that are
 * back and empty: let them in again. */
static void
check_nodes (LodgeReconciler *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (r->ctl, &error);
  if (nodes == NULL)
    return;
  g_autoptr (GPtrArray) list = NULL;
  for (guint i = 0; i < nodes->len; i++)
    {
      LodgeNodeRecord *node = nodes->pdata[i];
      if (node->state != LODGE_NODE_DOWN && node->state != LODGE_NODE_FENCED)
        continue;
      if (list == NULL && (list = lodge_ctl_list (r->ctl, &error)) == NULL)
        return;
      if (!lodge_failover_needed (node, list))
        {
          g_clear_error (&error);
          if (!lodge_failover_try_rejoin (r->ctl, node, failover_log, r, &error) && error != NULL)
            say (r, "%s: %s", node->name, error->message);
          continue;
        }
      g_mutex_lock (&r->lock);
      gint64 *until = g_hash_table_lookup (r->late_nodes, node->name);
      gboolean respite = until != NULL && *until > g_get_monotonic_time ();
      g_mutex_unlock (&r->lock);
      if (respite)
        continue;
      g_autofree char *job = g_strconcat (NODE_JOB, node->name, NULL);
      if (!lodge_ctl_try_begin (r->ctl, job, LODGE_OP_FAILOVER, NULL, NULL))
        continue; /* in progress */
      if (!g_thread_pool_push (r->repairs, g_strdup (job), NULL))
        lodge_ctl_end (r->ctl, job);
    }
}

static gpointer
run (gpointer data)
{
  LodgeReconciler *r = data;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 next_full = 0; /* a full sweep first */
  gint64 next_check = 0;
  g_mutex_lock (&r->lock);
  while (!r->stop)
    {
      gint64 now = g_get_monotonic_time ();
      if (now >= next_check)
        {
          g_mutex_unlock (&r->lock);
          check_nodes (r);
          next_check = g_get_monotonic_time () + LIVENESS_CHECK_US;
          g_mutex_lock (&r->lock);
          continue;
        }
      if (now < next_full && !r->kicked && g_hash_table_size (r->changed_nodes) == 0)
        {
          g_cond_wait_until (&r->wake, &r->lock, MIN (next_full, next_check));
          continue;
        }
      gboolean full = now >= next_full || r->kicked;
      r->kicked = FALSE;
      g_autoptr (GHashTable) changed = r->changed_nodes;
      r->changed_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_mutex_unlock (&r->lock);

      /* A node's report changes at every heartbeat: sweep only when its
       * state (the decision in force) or its domains changed. */
      gboolean partial = FALSE;
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, changed);
      while (!full && g_hash_table_iter_next (&it, &key, NULL))
        {
          g_autoptr (LodgeNodeRecord) n = lodge_node_record_load (lodge_ctl_get_store (r->ctl), key, NULL);
          g_autoptr (GString) print = g_string_new (n != NULL ? lodge_node_state_to_string (n->state) : "gone");
          for (guint i = 0; n != NULL && i < n->domains->len; i++)
            {
              LodgeNodeDomain *d = n->domains->pdata[i];
              g_string_append_printf (print, " %s=%s", d->name, lodge_domain_state_to_string (d->state));
            }
          const char *before = g_hash_table_lookup (seen, key);
          if (g_strcmp0 (before, print->str) != 0)
            {
              partial = TRUE;
              g_hash_table_replace (seen, g_strdup (key), g_string_free (g_steal_pointer (&print), FALSE));
            }
        }
      if (full || partial)
        sweep (r, full);
      if (full)
        next_full = g_get_monotonic_time () + (gint64) r->sweep_s * G_USEC_PER_SEC;
      g_mutex_lock (&r->lock);
    }
  g_mutex_unlock (&r->lock);
  return NULL;
}

/* In a librados thread. */
static void
on_node_change (LodgeStoreKind kind, const char *name, gpointer user_data)
{
  LodgeReconciler *r = user_data;
  g_mutex_lock (&r->lock);
  if (name == NULL)
    r->kicked = TRUE; /* changes may have been missed */
  else
    g_hash_table_add (r->changed_nodes, g_strdup (name));
  g_cond_signal (&r->wake);
  g_mutex_unlock (&r->lock);
}

LodgeReconciler *
lodge_reconciler_new (LodgeServices *services, guint sweep_s, LodgeReconcileLog log,
                      gpointer user_data, GError **error)
{
  g_return_val_if_fail (services != NULL && sweep_s > 0, NULL);
  LodgeReconciler *r = g_new0 (LodgeReconciler, 1);
  r->ctl = lodge_services_get_ctl (services);
  r->opts = lodge_services_get_lifecycle (services);
  r->sweep_s = sweep_s;
  r->log = log;
  r->log_data = user_data;
  g_mutex_init (&r->lock);
  g_cond_init (&r->wake);
  r->changed_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->late_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r->repairs = g_thread_pool_new (repair, r, MAX_REPAIRS, FALSE, error);
  if (r->repairs == NULL)
    {
      lodge_reconciler_free (r);
      return NULL;
    }
  r->watch = lodge_store_watch (lodge_ctl_get_store (r->ctl), LODGE_STORE_NODE, on_node_change, r,
                               error);
  r->decision_watch = r->watch != NULL ? lodge_store_watch (lodge_ctl_get_store (r->ctl),
                                                            LODGE_STORE_NODE_DECISION,
                                                            on_node_change, r, error)
                                       : NULL;
  if (r->decision_watch == NULL)
    {
      lodge_reconciler_free (r);
      return NULL;
    }
  r->thread = g_thread_new ("lodge-reconcile", run, r);
  return r;
}

void
lodge_reconciler_kick (LodgeReconciler *r)
{
  g_mutex_lock (&r->lock);
  r->kicked = TRUE;
  g_cond_signal (&r->wake);
  g_mutex_unlock (&r->lock);
}

void
lodge_reconciler_free (LodgeReconciler *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->watch, lodge_store_watch_free);
  g_clear_pointer (&r->decision_watch, lodge_store_watch_free);
  if (r->thread != NULL)
    {
      g_mutex_lock (&r->lock);
      r->stop = TRUE;
      g_cond_signal (&r->wake);
      g_mutex_unlock (&r->lock);
      g_thread_join (r->thread);
    }
  if (r->repairs != NULL)
    g_thread_pool_free (r->repairs, TRUE, TRUE); /* queued ones are dropped */
  g_hash_table_unref (r->changed_nodes);
  g_hash_table_unref (r->late_nodes);
  g_cond_clear (&r->wake);
  g_mutex_clear (&r->lock);
  g_free (r);
}
