#include "lodge-ctl.h"

#include <string.h>

#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-liveness.h"
#include "lodge-node-store.h"
#include "lodge-storage-error.h"

struct _LodgeCtl {
  LodgeStore *store;
  guint node_grace_s;
  LodgeLiveness *liveness; /* heartbeats, on this controller's monotonic clock */
  GMutex lock;       /* guards busy */
  GCond done;        /* signalled when an operation ends */
  GHashTable *busy;  /* VE name -> Running */
  LodgeCephWatch *ceph; /* borrowed, or NULL */
};

LODGE_ENUM_IMPL (lodge_op, LODGE_OP_LAST, "start", "stop", "restart", "migrate", "failover",
                 "reconciliation", "repair", "repair shell", "app configure");

/* What runs on a VE: "start", "repair write", "app configure site". */
typedef struct {
  LodgeOp op;
  char *detail;
  GCancellable *yields; /* guest work: cancelled by a lifecycle operation that waits */
} Running;

static Running *
running_new (LodgeOp op, const char *detail)
{
  Running *r = g_new0 (Running, 1);
  r->op = op;
  r->detail = g_strdup (detail);
  return r;
}

static void
running_free (Running *r)
{
  g_free (r->detail);
  g_clear_object (&r->yields);
  g_free (r);
}

static char *
running_describe (const Running *r)
{
  const char *op = lodge_op_to_string (r->op);
  return r->detail != NULL ? g_strdup_printf ("%s %s", op, r->detail) : g_strdup (op);
}

LodgeCtl *
lodge_ctl_new (LodgeStore *store, guint node_grace_s)
{
  LodgeCtl *ctl = g_new0 (LodgeCtl, 1);
  ctl->store = store;
  ctl->node_grace_s = node_grace_s != 0 ? node_grace_s : LODGE_CTL_DEFAULT_NODE_GRACE_S;
  ctl->liveness = lodge_liveness_new ();
  g_mutex_init (&ctl->lock);
  g_cond_init (&ctl->done);
  ctl->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) running_free);
  return ctl;
}

void
lodge_ctl_free (LodgeCtl *ctl)
{
  if (ctl == NULL)
    return;
  g_hash_table_unref (ctl->busy);
  lodge_liveness_free (ctl->liveness);
  g_cond_clear (&ctl->done);
  g_mutex_clear (&ctl->lock);
  g_free (ctl);
}

/* How long a user's operation waits for the reconciler to let go of a VE. */
#define BACKGROUND_WAIT_S 60

static gboolean
try_begin (LodgeCtl *ctl, const char *name, LodgeOp op, const char *detail, GCancellable *yields,
           GError **error)
{
  g_return_val_if_fail (op < LODGE_OP_LAST, FALSE);
  g_mutex_lock (&ctl->lock);
  /* Background work gives way to a user's: the reconciler holds a VE
   * only while it looks at it, so a user's operation waits for that
   * (at most BACKGROUND_WAIT_S) rather than being refused. */
  gint64 deadline = g_get_monotonic_time () + BACKGROUND_WAIT_S * G_USEC_PER_SEC;
  const Running *running;
  while ((running = g_hash_table_lookup (ctl->busy, name)) != NULL && running->op == LODGE_OP_RECONCILE
         && op != LODGE_OP_RECONCILE && g_cond_wait_until (&ctl->done, &ctl->lock, deadline))
    ;
  running = g_hash_table_lookup (ctl->busy, name);
  g_autofree char *what = running != NULL ? running_describe (running) : NULL;
  if (running == NULL)
    {
      Running *r = running_new (op, detail);
      r->yields = yields != NULL ? g_object_ref (yields) : NULL;
      g_hash_table_insert (ctl->busy, g_strdup (name), r);
    }
  g_mutex_unlock (&ctl->lock);
  if (what != NULL)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                 "environment %s is busy (%s); try again when that is done", name, what);
  return what == NULL;
}

gboolean
lodge_ctl_try_begin (LodgeCtl *ctl, const char *name, LodgeOp op, const char *detail,
                     GError **error)
{
  return try_begin (ctl, name, op, detail, NULL, error);
}

GCancellable *
lodge_ctl_try_begin_guest (LodgeCtl *ctl, const char *name, LodgeOp op, const char *detail,
                           GError **error)
{
  g_autoptr (GCancellable) yields = g_cancellable_new ();
  if (!try_begin (ctl, name, op, detail, yields, error))
    return NULL;
  return g_steal_pointer (&yields);
}

gboolean
lodge_ctl_begin (LodgeCtl *ctl, const char *name, LodgeOp op, guint timeout_s, GError **error)
{
  g_return_val_if_fail (op < LODGE_OP_LAST, FALSE);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  g_mutex_lock (&ctl->lock);
  const Running *running;
  while ((running = g_hash_table_lookup (ctl->busy, name)) != NULL)
    {
      /* Guest work gives way: it ends at its next agent call. */
      if (running->yields != NULL)
        g_cancellable_cancel (running->yields);
      if (g_cond_wait_until (&ctl->done, &ctl->lock, deadline)
          || (running = g_hash_table_lookup (ctl->busy, name)) == NULL)
        continue;
      g_autofree char *what = running_describe (running);
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "a %s of %s is still in progress after %u s; try again later", what, name,
                   timeout_s);
      g_mutex_unlock (&ctl->lock);
      return FALSE;
    }
  g_hash_table_insert (ctl->busy, g_strdup (name), running_new (op, NULL));
  g_mutex_unlock (&ctl->lock);
  return TRUE;
}

void
lodge_ctl_end (LodgeCtl *ctl, const char *name)
{
  g_mutex_lock (&ctl->lock);
  g_hash_table_remove (ctl->busy, name);
  g_cond_broadcast (&ctl->done);
  g_mutex_unlock (&ctl->lock);
}

gboolean
lodge_ctl_is_busy (LodgeCtl *ctl, const char *name)
{
  g_mutex_lock (&ctl->lock);
  gboolean busy = g_hash_table_contains (ctl->busy, name);
  g_mutex_unlock (&ctl->lock);
  return busy;
}

LodgeStore *
lodge_ctl_get_store (LodgeCtl *ctl)
{
  return ctl->store;
}

guint
lodge_ctl_get_node_grace_s (LodgeCtl *ctl)
{
  return ctl->node_grace_s;
}

static LodgeRuntimeRecord *
load_runtime (LodgeCtl *ctl, const char *name, guint64 *ret_version, GError **error)
{
  g_autoptr (GBytes) json = lodge_store_get (ctl->store, LODGE_STORE_RUNTIME, name, ret_version, error);
  if (json == NULL)
    return NULL;
  return lodge_runtime_record_from_json (json, error);
}

GBytes *
lodge_ctl_get_definition (LodgeCtl *ctl, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  GBytes *xml = lodge_store_get (ctl->store, LODGE_STORE_ENV, name, NULL, &local);
  if (xml == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown environment '%s'", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
    }
  return xml;
}

GPtrArray *
lodge_ctl_list (LodgeCtl *ctl, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (ctl->store, LODGE_STORE_ENV, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_runtime_record_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) local = NULL;
      LodgeRuntimeRecord *rt = load_runtime (ctl, names->pdata[i], NULL, &local);
      if (rt == NULL)
        {
          if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          rt = lodge_runtime_record_new (names->pdata[i]); /* defined, never started */
        }
      g_ptr_array_add (out, rt);
    }
  return g_steal_pointer (&out);
}

LodgeEnvDef *
lodge_ctl_definition (LodgeCtl *ctl, const char *name, GError **error)
{
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (ctl, name, error);
  if (xml == NULL)
    return NULL;
  return lodge_env_def_load (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml), name, error);
}

LodgeLibvirt *
lodge_ctl_node_libvirt (LodgeCtl *ctl, const char *node, const char *ve, GError **error)
{
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return NULL;
  LodgeNodeRecord *n = lodge_ctl_find_node (nodes, node);
  if (n == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "node %s of %s is not registered", node, ve);
      return NULL;
    }
  return lodge_libvirt_open (n->libvirt_uri, error);
}

LodgeRuntimeRecord *
lodge_ctl_runtime (LodgeCtl *ctl, const char *name, GError **error)
{
  g_autoptr (GBytes) xml = lodge_ctl_get_definition (ctl, name, error);
  if (xml == NULL)
    return NULL;
  g_autoptr (GError) local = NULL;
  LodgeRuntimeRecord *rt = load_runtime (ctl, name, NULL, &local);
  if (rt == NULL && g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    return lodge_runtime_record_new (name);
  if (rt == NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return rt;
}

LodgeNodeState
lodge_ctl_effective_node_state (LodgeCtl *ctl, const LodgeNodeRecord *node)
{
  if (node->state == LODGE_NODE_FENCED)
    return node->state;
  /* A draining node that stops heartbeating is down like any other. */
  gint64 age = lodge_ctl_node_silence_us (ctl, node);
  return age > (gint64) ctl->node_grace_s * G_USEC_PER_SEC ? LODGE_NODE_DOWN : node->state;
}

gint64
lodge_ctl_node_silence_us (LodgeCtl *ctl, const LodgeNodeRecord *node)
{
  return lodge_liveness_observe (ctl->liveness, node->name, node->heartbeat_us,
                                 g_get_monotonic_time ());
}

gboolean
lodge_ctl_node_reported_since (LodgeCtl *ctl, const LodgeNodeRecord *node, gint64 since_real_us)
{
  /* @since_real_us is a controller's wall clock (the VE's runtime record):
   * as a time on this one's monotonic clock. The node's own clock plays
   * no part. */
  gint64 since_mono = g_get_monotonic_time () - (g_get_real_time () - since_real_us);
  lodge_ctl_node_silence_us (ctl, node);
  return lodge_liveness_written_after (ctl->liveness, node->name, since_mono);
}

LodgeNodeRecord *
lodge_ctl_find_node (GPtrArray *nodes, const char *name)
{
  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    if (g_strcmp0 (((LodgeNodeRecord *) nodes->pdata[i])->name, name) == 0)
      return nodes->pdata[i];
  return NULL;
}

static gboolean
edit_state (LodgeNodeDecision *d, const LodgeNodeReport *report, gconstpointer data)
{
  LodgeNodeState state = GPOINTER_TO_INT (data);
  if (d->state == state)
    return FALSE;
  d->state = state;
  d->fenced_us = state == LODGE_NODE_FENCED ? g_get_real_time () : 0;
  return TRUE;
}

gboolean
lodge_ctl_set_node_state (LodgeCtl *ctl, const char *name, LodgeNodeState state, GError **error)
{
  g_return_val_if_fail (state != LODGE_NODE_DOWN, FALSE);
  return lodge_node_decide (ctl->store, name, edit_state, GINT_TO_POINTER (state), error);
}

static gboolean
edit_tcg (LodgeNodeDecision *d, const LodgeNodeReport *report, gconstpointer data)
{
  if (report->accel == LODGE_ACCEL_TCG
      || (d->tcg_reason != NULL && d->tcg_registration == report->registered_us))
    return FALSE;
  g_free (d->tcg_reason);
  d->tcg_reason = g_strdup (data);
  d->tcg_registration = report->registered_us;
  return TRUE;
}

gboolean
lodge_ctl_set_node_tcg (LodgeCtl *ctl, const char *name, const char *reason, GError **error)
{
  g_return_val_if_fail (reason != NULL, FALSE);
  return lodge_node_decide (ctl->store, name, edit_tcg, reason, error);
}

GPtrArray *
lodge_ctl_nodes (LodgeCtl *ctl, GError **error)
{
  g_autoptr (GPtrArray) out = lodge_node_record_load_all (ctl->store, error);
  for (guint i = 0; out != NULL && i < out->len; i++)
    {
      LodgeNodeRecord *r = out->pdata[i];
      r->state = lodge_ctl_effective_node_state (ctl, r);
    }
  return g_steal_pointer (&out);
}

void
lodge_ctl_set_ceph_watch (LodgeCtl *ctl, LodgeCephWatch *watch)
{
  ctl->ceph = watch;
}

gboolean
lodge_ctl_ceph_health (LodgeCtl *ctl, LodgeCephHealth *ret)
{
  if (ctl->ceph == NULL)
    return FALSE;
  lodge_ceph_watch_get (ctl->ceph, ret);
  return TRUE;
}
