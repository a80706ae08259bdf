#include "lodge-failover.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-env.h"
#include "lodge-libvirt.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"

static void
say (LodgeFailoverLog log, gpointer user_data, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
say (LodgeFailoverLog log, gpointer user_data, const char *fmt, ...)
{
  if (log == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  log (msg, user_data);
}

static gboolean
on_node (const LodgeRuntimeRecord *rt, const char *node)
{
  return g_strcmp0 (rt->node, node) == 0
         && (rt->phase == LODGE_PHASE_RUNNING || rt->phase == LODGE_PHASE_STARTING
             || rt->phase == LODGE_PHASE_STOPPING || rt->phase == LODGE_PHASE_MIGRATING);
}

gboolean
lodge_failover_needed (const LodgeNodeRecord *node, GPtrArray *runtimes)
{
  if (node->state != LODGE_NODE_DOWN && node->state != LODGE_NODE_FENCED)
    return FALSE;
  for (guint i = 0; i < runtimes->len; i++)
    if (on_node (runtimes->pdata[i], node->name))
      return TRUE;
  return FALSE;
}

static char *
fence_record_name (const char *node)
{
  return g_strdup_printf ("fence-%s", node);
}

/* The "fence-NODE" operation record: what was blocklisted, and when. */
static gboolean
save_fence_record (LodgeStore *store, const LodgeNodeRecord *node, GPtrArray *addrs, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "node");
  json_builder_add_string_value (b, node->name);
  json_builder_set_member_name (b, "fenced_us");
  json_builder_add_int_value (b, g_get_real_time ());
  /* The node's last heartbeat value (its own clock): it is back once the
   * value changes, whatever its clock says. */
  json_builder_set_member_name (b, "heartbeat_at_fence");
  json_builder_add_int_value (b, node->heartbeat_us);
  json_builder_set_member_name (b, "blocklisted");
  json_builder_begin_array (b);
  for (guint i = 0; i < addrs->len; i++)
    json_builder_add_string_value (b, addrs->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  gsize len = 0;
  char *text = json_to_string (root, FALSE);
  len = strlen (text);
  g_autoptr (GBytes) value = g_bytes_new_take (text, len);
  g_autofree char *name = fence_record_name (node->name);
  /* A previous controller may have written one already: replace it. */
  lodge_store_delete (store, LODGE_STORE_OPERATION, name, 0, NULL);
  return lodge_store_create (store, LODGE_STORE_OPERATION, name, value, NULL, error);
}

static gboolean
fence (LodgeCtl *ctl, const LodgeNodeRecord *node, GPtrArray *victims, LodgeFailoverLog log,
       gpointer user_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  LodgeRados *rados = lodge_store_get_rados (store);
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < victims->len; i++)
    {
      LodgeRuntimeRecord *rt = victims->pdata[i];
      if (rt->disk_pool == NULL || rt->disk_image == NULL)
        continue; /* never got a disk: nothing of it can write */
      g_autoptr (GError) local = NULL;
      g_autoptr (GPtrArray) clients = lodge_rbd_clients (rados, rt->disk_pool, rt->disk_image, &local);
      if (clients == NULL)
        {
          if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
            continue;
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "fencing %s: ", node->name);
          return FALSE;
        }
      for (guint j = 0; j < clients->len; j++)
        if (!g_ptr_array_find_with_equal_func (addrs, clients->pdata[j], g_str_equal, NULL))
          g_ptr_array_add (addrs, g_strdup (clients->pdata[j]));
    }
  if (node->rados_addr != NULL
      && !g_ptr_array_find_with_equal_func (addrs, node->rados_addr, g_str_equal, NULL))
    g_ptr_array_add (addrs, g_strdup (node->rados_addr));

  for (guint i = 0; i < addrs->len; i++)
    if (!lodge_rados_blocklist_add (rados, addrs->pdata[i], LODGE_FAILOVER_BLOCKLIST_S, error))
      {
        g_prefix_error (error, "fencing %s: ", node->name);
        return FALSE;
      }
  /* With their owners blocklisted, the locks can be taken over. */
  for (guint i = 0; i < victims->len; i++)
    {
      LodgeRuntimeRecord *rt = victims->pdata[i];
      g_autoptr (GError) local = NULL;
      if (rt->disk_pool != NULL && rt->disk_image != NULL
          && !lodge_rbd_break_lock (rados, rt->disk_pool, rt->disk_image, &local)
          && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        say (log, user_data, "fencing %s: the lock of %s/%s: %s", node->name, rt->disk_pool,
             rt->disk_image, local->message);
    }
  if (!save_fence_record (store, node, addrs, error)
      || !lodge_ctl_set_node_state (ctl, node->name, LODGE_NODE_FENCED, error))
    return FALSE;
  g_autoptr (GString) list = g_string_new (NULL);
  for (guint i = 0; i < addrs->len; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) addrs->pdata[i]);
  say (log, user_data, "%s fenced: %u RADOS clients blocklisted for %d s (%s)", node->name,
       addrs->len, LODGE_FAILOVER_BLOCKLIST_S, list->str);
  return TRUE;
}

typedef struct {
  LodgeRuntimeRecord *rt;
  LodgeEnvDef *def;
} Victim;

static gint
by_priority (gconstpointer a, gconstpointer b)
{
  const Victim *va = *(Victim *const *) a, *vb = *(Victim *const *) b;
  guint pa = lodge_env_def_effective_priority (va->def), pb = lodge_env_def_effective_priority (vb->def);
  return pa != pb ? (pa > pb ? -1 : 1) : strcmp (va->rt->name, vb->rt->name);
}

static void
victim_free (Victim *v)
{
  lodge_runtime_record_free (v->rt);
  lodge_env_def_free (v->def);
  g_free (v);
}

typedef struct {
  LodgeFailoverLog log;
  gpointer user_data;
  const char *prefix;
} StepLog;

/* A restart's steps go to the log, for the record of a failover. */
static void
step_log (const char *what, gpointer data)
{
  StepLog *s = data;
  say (s->log, s->user_data, "%s%s", s->prefix, what);
}

/* Moves @name's record off the dead node (exactly once: compare-and-set),
 * then starts it elsewhere if its policy says so. */
static void
restart_one (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *node, Victim *v,
             LodgeFailoverLog log, gpointer user_data)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  const char *name = v->rt->name;
  guint64 version = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, &version, &error);
  g_autoptr (LodgeRuntimeRecord) rt = json != NULL ? lodge_runtime_record_from_json (json, &error) : NULL;
  if (rt == NULL || !on_node (rt, node))
    return; /* gone, or done by someone else */
  LodgeRestartPolicy policy = lodge_env_def_effective_restart (v->def);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%H:%M:%S UTC");
  gboolean restart = policy != LODGE_RESTART_NEVER;
  rt->phase = LODGE_PHASE_STOPPED;
  rt->desired = restart ? LODGE_DESIRED_RUNNING : LODGE_DESIRED_STOPPED;
  rt->since_us = g_get_real_time ();
  g_free (rt->last_error);
  rt->last_error = g_strdup_printf ("its node %s failed at %s and was fenced%s", node, when,
                                    restart ? "" : "; restart policy never: left stopped");
  g_clear_pointer (&rt->target_node, g_free);
  g_autoptr (GBytes) out = lodge_runtime_record_to_json (rt);
  if (!lodge_store_update (store, LODGE_STORE_RUNTIME, name, version, out, NULL, &error))
    {
      say (log, user_data, "%s: not restarted by this pass: %s", name, error->message);
      return;
    }
  if (!restart)
    {
      say (log, user_data, "%s: stopped (restart policy never)", name);
      return;
    }
  g_autofree char *prefix = g_strdup_printf ("%s: ", name);
  StepLog steps = { log, user_data, prefix };
  if (lodge_lifecycle_start (ctl, opts, name, step_log, &steps, &error))
    {
      g_autoptr (LodgeRuntimeRecord) after = lodge_ctl_runtime (ctl, name, NULL);
      say (log, user_data, "%s: restarted on %s after %s failed", name,
           after != NULL && after->node != NULL ? after->node : "?", node);
    }
  else
    say (log, user_data, "%s: not restarted: %s", name, error->message);
}

gboolean
lodge_failover_node (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *node_name,
                     LodgeFailoverLog log, gpointer user_data, gboolean *ret_alive, GError **error)
{
  *ret_alive = FALSE;
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return FALSE;
  LodgeNodeRecord *node = lodge_ctl_find_node (nodes, node_name);
  if (node == NULL || (node->state != LODGE_NODE_DOWN && node->state != LODGE_NODE_FENCED))
    return TRUE; /* back meanwhile, or gone */
  g_autoptr (GPtrArray) list = lodge_ctl_list (ctl, error);
  if (list == NULL)
    return FALSE;
  g_autoptr (GPtrArray) victims = g_ptr_array_new_with_free_func ((GDestroyNotify) victim_free);
  for (guint i = 0; i < list->len; i++)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      if (!on_node (rt, node_name))
        continue;
      g_autoptr (GBytes) xml = lodge_ctl_get_definition (ctl, rt->name, NULL);
      LodgeEnvDef *def = xml != NULL ? lodge_env_def_load (g_bytes_get_data (xml, NULL),
                                                           g_bytes_get_size (xml), rt->name, NULL)
                                     : NULL;
      if (def == NULL)
        continue; /* undefined meanwhile */
      Victim *v = g_new0 (Victim, 1);
      v->rt = g_steal_pointer (&list->pdata[i]);
      v->def = def;
      g_ptr_array_add (victims, v);
    }
  if (node->state != LODGE_NODE_FENCED)
    {
      /* A second opinion before fencing: is its hypervisor there? */
      g_autoptr (LodgeLibvirt) probe = node->libvirt_uri != NULL
                                         ? lodge_libvirt_open_within (node->libvirt_uri,
                                                                      LODGE_FAILOVER_PROBE_MS, NULL)
                                         : NULL;
      g_autoptr (GPtrArray) domains = probe != NULL ? lodge_libvirt_list (probe, NULL) : NULL;
      if (domains != NULL)
        {
          say (log, user_data, "%s: its agent is late (no heartbeat for over %u s) but its libvirt "
                               "answers: not failing it over",
               node_name, lodge_ctl_get_node_grace_s (ctl));
          *ret_alive = TRUE;
          return TRUE;
        }
      say (log, user_data, "%s is down (no heartbeat for over %u s): fencing it, then restarting "
                           "its %u environments",
           node_name, lodge_ctl_get_node_grace_s (ctl), victims->len);
      g_autoptr (GPtrArray) records = g_ptr_array_new ();
      for (guint i = 0; i < victims->len; i++)
        g_ptr_array_add (records, ((Victim *) victims->pdata[i])->rt);
      if (!fence (ctl, node, records, log, user_data, error))
        return FALSE; /* no restart without a complete fence */
    }
  g_ptr_array_sort (victims, by_priority);
  for (guint i = 0; i < victims->len; i++)
    {
      Victim *v = victims->pdata[i];
      /* An operation on it (a reconciliation, an admin's stop) ends soon:
       * calls to the dead node's libvirt have deadlines. */
      g_autoptr (GError) busy = NULL;
      if (!lodge_ctl_begin (ctl, v->rt->name, LODGE_OP_FAILOVER, LODGE_LIBVIRT_TIMEOUT_S * 2, &busy))
        {
          say (log, user_data, "%s: not restarted by this pass: %s", v->rt->name, busy->message);
          continue; /* the next pass looks again */
        }
      restart_one (ctl, opts, node_name, v, log, user_data);
      lodge_ctl_end (ctl, v->rt->name);
    }
  return TRUE;
}

gboolean
lodge_failover_try_rejoin (LodgeCtl *ctl, const LodgeNodeRecord *node, LodgeFailoverLog log,
                           gpointer user_data, GError **error)
{
  if (node->state != LODGE_NODE_FENCED)
    return FALSE;
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autofree char *name = fence_record_name (node->name);
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_OPERATION, name, NULL, &local);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = NULL;
  if (json != NULL
      && json_parser_load_from_data (parser, g_bytes_get_data (json, NULL),
                                     (gssize) g_bytes_get_size (json), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    o = json_node_get_object (json_parser_get_root (parser));
  /* Back: a heartbeat after the fence (its value changed since), recent on
   * this controller's clock, and no guest left. A fence record written
   * before heartbeat_at_fence existed compares clocks, as it used to. */
  gboolean beat_since;
  if (o != NULL && json_object_has_member (o, "heartbeat_at_fence"))
    beat_since = node->heartbeat_us != json_object_get_int_member (o, "heartbeat_at_fence");
  else
    beat_since = node->heartbeat_us
                 > (o != NULL ? json_object_get_int_member_with_default (o, "fenced_us", 0) : 0);
  gint64 silence_us = lodge_ctl_node_silence_us (ctl, node);
  if (!beat_since || silence_us > (gint64) lodge_ctl_get_node_grace_s (ctl) * G_USEC_PER_SEC
      || node->domains->len > 0)
    return FALSE;
  JsonArray *addrs = o != NULL && json_object_has_member (o, "blocklisted")
                       ? json_object_get_array_member (o, "blocklisted")
                       : NULL;
  for (guint i = 0; addrs != NULL && i < json_array_get_length (addrs); i++)
    {
      g_clear_error (&local);
      if (!lodge_rados_blocklist_remove (lodge_store_get_rados (store),
                                         json_array_get_string_element (addrs, i), &local)
          && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "letting %s back in: ", node->name);
          return FALSE;
        }
    }
  if (!lodge_ctl_set_node_state (ctl, node->name, LODGE_NODE_UP, error))
    return FALSE;
  lodge_store_delete (store, LODGE_STORE_OPERATION, name, 0, NULL);
  say (log, user_data, "%s is back and empty: blocklist entries cleared, schedulable again", node->name);
  return TRUE;
}
