#include "lodge-migrate.h"

#include <string.h>

#include "lodge-domain.h"
#include "lodge-error.h"
#include "lodge-libvirt.h"
#include "lodge-lifecycle-private.h"
#include "lodge-storage-error.h"

typedef struct {
  LodgeProgress progress;
  gpointer user_data;
  gint64 last_us;
} MigrationProgress;

static void
migration_progress (guint64 processed, guint64 remaining, guint64 bps, gpointer user_data)
{
  MigrationProgress *mp = user_data;
  gint64 now = g_get_monotonic_time ();
  if (now - mp->last_us < G_USEC_PER_SEC)
    return; /* one line a second is plenty */
  mp->last_us = now;
  lodge_lifecycle_progress_say (mp->progress, mp->user_data,
                                "migrating: %" G_GUINT64_FORMAT " MiB sent, %" G_GUINT64_FORMAT
                                " MiB left, %.1f MiB/s",
                                processed >> 20, remaining >> 20, bps / 1048576.0);
}

/* A definition of VE @name left shut off on @dst (by a start or a
 * migration cut short): libvirt would refuse the migration ("already
 * exists with uuid"). The VE runs on the source, under this operation:
 * such a domain is no copy of it, and goes. */
static void
drop_leftover (const LodgeNodeRecord *dst, const char *name, LodgeProgress progress,
               gpointer user_data)
{
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (dst->libvirt_uri, NULL);
  LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
  if (lv == NULL || !lodge_libvirt_state (lv, name, &state, NULL)
      || state != LODGE_DOMAIN_STATE_SHUTOFF)
    return;
  g_autoptr (GError) error = NULL;
  if (lodge_libvirt_undefine (lv, name, &error))
    lodge_lifecycle_progress_say (progress, user_data, "removed a leftover definition of %s on %s",
                                  name, dst->name);
  else
    g_message ("%s: a leftover definition of it on %s stays: %s", name, dst->name, error->message);
}

gboolean
lodge_migrate_ve (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                  const char *to_node, guint max_downtime_ms, LodgeProgress progress,
                  gpointer user_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (ctl, name, error);
  if (def == NULL)
    return FALSE;
  guint64 version = 0;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_lifecycle_load_runtime (store, name, &version, error);
  if (rt == NULL)
    return FALSE;
  if (rt->phase != LODGE_PHASE_RUNNING || rt->node == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is %s; only a running environment migrates", name,
                   lodge_phase_to_string (rt->phase));
      return FALSE;
    }
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return FALSE;
  LodgeNodeRecord *src = lodge_ctl_find_node (nodes, rt->node);
  if (src == NULL || src->state == LODGE_NODE_DOWN || src->state == LODGE_NODE_FENCED)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_UNREACHABLE,
                   "node %s of %s is %s; a live migration needs it up", rt->node, name,
                   src != NULL ? lodge_node_state_to_string (src->state) : "not registered");
      return FALSE;
    }
  const char *target_name;
  if (to_node != NULL)
    {
      if (strcmp (to_node, src->name) == 0)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s already runs on %s", name, to_node);
          return FALSE;
        }
      if (lodge_ctl_find_node (nodes, to_node) == NULL)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                       "unknown node '%s'", to_node);
          return FALSE;
        }
      /* The scheduler's checks, on that node alone. */
      g_autoptr (GPtrArray) only = g_ptr_array_new ();
      g_ptr_array_add (only, lodge_ctl_find_node (nodes, to_node));
      target_name = lodge_lifecycle_place (ctl, only, def, NULL, error);
    }
  else
    target_name = lodge_lifecycle_place (ctl, nodes, def, src->name, error);
  if (target_name == NULL)
    return FALSE;
  LodgeNodeRecord *dst = lodge_ctl_find_node (nodes, target_name);

  rt->phase = LODGE_PHASE_MIGRATING;
  g_free (rt->target_node);
  rt->target_node = g_strdup (dst->name);
  g_autoptr (GError) local = NULL;
  if (!lodge_lifecycle_save_runtime (store, rt, &version, &local))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s changed meanwhile: ", name);
      return FALSE;
    }
  lodge_lifecycle_progress_say (progress, user_data, "migrating from %s to %s", src->name,
                                dst->name);

  drop_leftover (dst, name, progress, user_data);
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (src->libvirt_uri, &local);
  g_autofree char *stream = g_strdup_printf ("tcp://%s", dst->address);
  MigrationProgress mp = { progress, user_data, g_get_monotonic_time () };
  LodgeMigrationStats stats = { 0 };
  /* The destination runs the guest as it is, with what is the node's own
   * (kernel, Ceph secret and configuration, bridge) taken from its record. */
  g_autoptr (LodgePlacement) dst_placement =
    lv != NULL ? lodge_lifecycle_node_placement (ctl, opts, dst, def, rt, FALSE, &local) : NULL;
  g_autofree char *running_xml = dst_placement != NULL
                                   ? lodge_libvirt_migratable_xml (lv, name, &local)
                                   : NULL;
  g_autofree char *dest_xml = running_xml != NULL
                                ? lodge_domain_xml_retarget (running_xml, strlen (running_xml),
                                                             dst_placement, &local)
                                : NULL;
  gboolean ok = dest_xml != NULL
                && lodge_libvirt_migrate (lv, name, dst->libvirt_uri, dst->address != NULL ? stream : NULL,
                                          dest_xml,
                                          max_downtime_ms != 0 ? max_downtime_ms : opts->migrate_downtime_ms,
                                          opts->migrate_timeout_s, migration_progress,
                                          &mp, &stats, &local);
  /* A migration that failed may still have moved the guest (the
   * confirmation was lost); a paused destination is not a move. */
  gboolean moved = ok || lodge_lifecycle_migration_outcome (src, dst, name, 30) == LODGE_MIGRATION_MOVED;
  if (moved)
    {
      g_free (rt->node);
      rt->node = g_strdup (dst->name);
      rt->generation++;
      rt->migrated_us = g_get_real_time ();
      rt->migration_ms = stats.total_ms;
      rt->downtime_ms = stats.downtime_ms;
    }
  else
    {
      g_free (rt->last_error);
      rt->last_error = g_strdup_printf ("migration to %s failed: %s", dst->name, local->message);
    }
  /* The config blob stays only where the VE runs now. */
  if (moved)
    lodge_lifecycle_forget_config (ctl, src->name, name);
  else if (dst_placement != NULL)
    lodge_lifecycle_forget_config (ctl, dst->name, name);
  rt->phase = LODGE_PHASE_RUNNING;
  g_clear_pointer (&rt->target_node, g_free);
  g_autoptr (GError) save_error = NULL;
  if (!lodge_lifecycle_save_runtime (store, rt, &version, &save_error))
    g_warning ("cannot record the outcome of migrating %s: %s", name, save_error->message);
  if (!moved)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s still runs on %s: ", name,
                                  src->name);
      return FALSE;
    }
  lodge_lifecycle_progress_say (progress, user_data,
                                "migrated to %s in %" G_GUINT64_FORMAT " ms (downtime %"
                                G_GUINT64_FORMAT " ms, %" G_GUINT64_FORMAT " MiB sent)",
                                dst->name, stats.total_ms, stats.downtime_ms,
                                stats.data_bytes >> 20);
  return TRUE;
}
