#include "lodge-lifecycle-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-app-plan.h"
#include "lodge-claim.h"
#include "lodge-disk.h"
#include "lodge-domain.h"
#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-guest-config.h"
#include "lodge-libvirt.h"
#include "lodge-node-rpc.h"
#include "lodge-rbd.h"
#include "lodge-restart.h"
#include "lodge-scheduler.h"
#include "lodge-storage-error.h"
#include "lodge-template.h"
#include "lodge-tier.h"

void
lodge_lifecycle_progress_say (LodgeProgress progress, gpointer user_data, const char *fmt, ...)
{
  if (progress == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  progress (msg, user_data);
}

gboolean
lodge_lifecycle_save_runtime (LodgeStore *store, LodgeRuntimeRecord *rt, guint64 *version,
                              GError **error)
{
  g_autoptr (GBytes) json = lodge_runtime_record_to_json (rt);
  return lodge_store_update (store, LODGE_STORE_RUNTIME, rt->name, *version, json, version, error);
}

const char *
lodge_lifecycle_place (LodgeCtl *ctl, GPtrArray *nodes, const LodgeEnvDef *def,
                       const char *exclude_node, GError **error)
{
  g_autoptr (GPtrArray) runtimes = lodge_ctl_list (ctl, error);
  if (runtimes == NULL)
    return NULL;
  g_autoptr (GArray) sched_nodes = g_array_new (FALSE, TRUE, sizeof (LodgeSchedNode));
  for (guint i = 0; i < nodes->len; i++)
    {
      LodgeNodeRecord *n = nodes->pdata[i];
      LodgeSchedNode s = { n->name, n->state, n->cpus, n->memory, n->memory_ratio, n->cpu_ratio };
      g_array_append_val (sched_nodes, s);
    }
  g_autoptr (GArray) placed = g_array_new (FALSE, TRUE, sizeof (LodgeSchedVe));
  g_autoptr (GPtrArray) defs = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_def_free);
  for (guint i = 0; i < runtimes->len; i++)
    {
      LodgeRuntimeRecord *rt = runtimes->pdata[i];
      if (rt->node == NULL || (rt->phase != LODGE_PHASE_RUNNING && rt->phase != LODGE_PHASE_STARTING
                               && rt->phase != LODGE_PHASE_MIGRATING))
        continue;
      LodgeEnvDef *other = lodge_ctl_definition (ctl, rt->name, NULL);
      if (other == NULL)
        continue;
      g_ptr_array_add (defs, other);
      LodgeSchedVe v = { other->name, rt->node, other->vcpus, other->memory,
                         lodge_env_def_effective_current_memory (other) };
      g_array_append_val (placed, v);
    }
  LodgeSchedVe want = { def->name, NULL, def->vcpus, def->memory,
                        lodge_env_def_effective_current_memory (def) };
  return lodge_scheduler_place ((LodgeSchedNode *) sched_nodes->data, sched_nodes->len,
                                (LodgeSchedVe *) placed->data, placed->len, &want, exclude_node,
                                error);
}

static gboolean
ensure_disk (LodgeCtl *ctl, const LodgeEnvDef *def, LodgeRuntimeRecord *rt, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  LodgeRados *rados = lodge_store_get_rados (store);
  guint replicas = lodge_env_def_effective_replicas (def);
  g_auto (LodgeDiskRef) ref = { 0 };
  lodge_disk_ref_init (&ref, def->name, replicas);
  gboolean exists = FALSE;
  if (!lodge_tier_ensure (rados, replicas, error)
      || !lodge_rbd_exists (rados, ref.pool, ref.image, &exists, error))
    return FALSE;
  if (!exists)
    {
      g_autoptr (LodgeTemplate) tmpl =
        lodge_template_get_kind (store, def->template_name, LODGE_TEMPLATE_KIND_OS, error);
      const LodgeTemplateVersion *v =
        tmpl != NULL ? lodge_template_find_version (tmpl, def->template_version, error) : NULL;
      if (v == NULL
          || !lodge_disk_create (rados, def->name, replicas, tmpl->pool, tmpl->image, v->snapshot,
                                 def->disk, error))
        return FALSE;
      g_free (rt->template_version);
      rt->template_version = g_strdup (v->version);
    }
  g_free (rt->disk_pool);
  rt->disk_pool = g_strdup (ref.pool);
  g_free (rt->disk_image);
  rt->disk_image = g_strdup (ref.image);
  return TRUE;
}

/* Asks @node's agent for the guest's ready line until @deadline_us (the
 * console log is the node's: its virtlogd writes it there). */
static gboolean
wait_ready (LodgeStore *store, const LodgeNodeRecord *node, const char *name, LodgeLibvirt *lv,
            gint64 deadline_us, char **ret_line, GError **error)
{
  g_autoptr (GError) last = NULL;
  while (g_get_monotonic_time () < deadline_us)
    {
      g_clear_error (&last);
      if (lodge_node_rpc_ready (store, node->name, name, ret_line, &last) && *ret_line != NULL)
        return TRUE;
      LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
      if (lodge_libvirt_state (lv, name, &state, NULL) && state != LODGE_DOMAIN_STATE_RUNNING)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_FAILED,
                       "the guest stopped (%s) before it was ready; see 'lodge console %s'",
                       lodge_domain_state_to_string (state), name);
          return FALSE;
        }
      g_usleep (200 * 1000); /* asking again, with a deadline */
    }
  g_autofree char *why = last != NULL ? g_strdup_printf (" (%s)", last->message) : g_strdup ("");
  g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT,
               "no ready line from the guest before the deadline%s; see 'lodge console %s'", why,
               name);
  return FALSE;
}

/* The guest's ready line, or no domain left behind. */
static gboolean
await_guest (LodgeStore *store, LodgeLibvirt *lv, const LodgeNodeRecord *node, const char *name,
             gint64 deadline, LodgeProgress progress, gpointer user_data, GError **error)
{
  g_autofree char *ready = NULL;
  if (!wait_ready (store, node, name, lv, deadline, &ready, error))
    {
      lodge_libvirt_destroy (lv, name, NULL);
      lodge_libvirt_undefine (lv, name, NULL);
      return FALSE;
    }
  lodge_lifecycle_progress_say (progress, user_data, "%s", ready);
  return TRUE;
}

/* The domain failed to start under KVM on @node, whose agent had proven
 * KVM there: tries TCG. When that starts it, the failure was KVM's, and
 * the node is marked TCG (with the reason) for the VEs after this one. */
static gboolean
start_under_tcg (LodgeCtl *ctl, const LodgeEnvDef *def, const LodgeNodeRecord *node,
                 LodgePlacement *p, LodgeLibvirt *lv, const GError *kvm_error,
                 LodgeProgress progress, gpointer user_data)
{
  lodge_placement_set_accel (p, LODGE_ACCEL_TCG);
  g_autoptr (GError) local = NULL;
  g_autofree char *xml = lodge_domain_xml_generate (def, p, &local);
  if (xml == NULL || !lodge_libvirt_define_and_start (lv, xml, &local))
    {
      g_message ("%s: under TCG on %s too: %s", def->name, node->name, local->message);
      return FALSE;
    }
  g_autofree char *reason = g_strdup_printf ("QEMU failed under KVM (%s)", kvm_error->message);
  lodge_lifecycle_progress_say (progress, user_data,
                                "%s; started under TCG, and %s takes VEs under TCG from now on",
                                reason, node->name);
  if (!lodge_ctl_set_node_tcg (ctl, node->name, reason, &local))
    g_warning ("cannot record that %s runs VEs under TCG: %s", node->name, local->message);
  return TRUE;
}

LodgePlacement *
lodge_lifecycle_node_placement (LodgeCtl *ctl, const LodgeLifecycleOptions *opts,
                                const LodgeNodeRecord *node, const LodgeEnvDef *def,
                                const LodgeRuntimeRecord *rt, gboolean fresh_log, GError **error)
{
  g_autoptr (LodgePlacement) p = lodge_placement_new ();
  lodge_placement_set_accel (p, node->accel);
  p->kernel = g_strdup (node->kernel);
  p->initrd = g_strdup (node->initrd);
  p->firmware = g_strdup (node->firmware);
  p->cmdline = g_strdup (LODGE_GUEST_CMDLINE);
  p->rbd_pool = g_strdup (rt->disk_pool);
  p->rbd_image = g_strdup (rt->disk_image);
  p->ceph_monitors = lodge_rados_monitors (lodge_store_get_rados (lodge_ctl_get_store (ctl)), error);
  if (p->ceph_monitors == NULL)
    return NULL;
  /* The node's own cephx id, whose key its libvirt secret holds (an agent
   * too old to report it used the controller's). */
  p->ceph_user = g_strdup (node->ceph_id != NULL ? node->ceph_id : opts->client_id);
  p->ceph_secret_uuid = g_strdup (node->secret_uuid);
  p->ceph_conf = g_strdup (node->ceph_conf);
  p->cpu_tuning = node->cpu_tuning;
  p->ksm = node->ksm;
  p->bridge = g_strdup (node->bridge != NULL ? node->bridge : "lodgebr0");
  /* The blob holds the root password hash: the node's agent writes it
   * there (0600); nothing of it stays on this host. */
  g_autofree char *blob = lodge_guest_config_format (def, error);
  if (blob == NULL
      || !lodge_node_rpc_put_config (lodge_ctl_get_store (ctl), node->name, def->name, blob,
                                     fresh_log, &p->config_file, &p->console_log, error))
    return NULL;
  return g_steal_pointer (&p);
}

void
lodge_lifecycle_forget_config (LodgeCtl *ctl, const char *node, const char *name)
{
  g_autoptr (GError) error = NULL;
  if (!lodge_node_rpc_forget (lodge_ctl_get_store (ctl), node, name, &error))
    g_message ("%s: its config blob stays on %s until the agent's sweep: %s", name, node,
               error->message);
}

/* Clears the way for a start of @name on @node: a leftover domain of an
 * earlier run there is destroyed and undefined, and the start fails when
 * it cannot be (a define over it would be refused, or two would run).
 * With @resume (a start another controller left half done), a domain that
 * runs is that start's: *@ret_adopt says so; one that libvirt is still
 * starting (paused, or in its start job) is waited for until
 * @adopt_deadline, then treated as a leftover. */
static gboolean
clear_leftover (LodgeLibvirt *lv, const LodgeNodeRecord *node, const char *name, gboolean resume,
                gint64 adopt_deadline, gint64 deadline, gboolean *ret_adopt, GError **error)
{
  *ret_adopt = FALSE;
  g_autoptr (GError) last = NULL;
  for (;;)
    {
      LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
      g_clear_error (&last);
      if (!lodge_libvirt_state (lv, name, &state, &last))
        {
          if (g_error_matches (last, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
            return TRUE;
        }
      else if (resume && state == LODGE_DOMAIN_STATE_RUNNING)
        {
          *ret_adopt = TRUE;
          return TRUE;
        }
      else if (resume && g_get_monotonic_time () < adopt_deadline
               && (state == LODGE_DOMAIN_STATE_PAUSED || state == LODGE_DOMAIN_STATE_OTHER))
        g_set_error (&last, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE,
                     "libvirt is still starting it (%s)", lodge_domain_state_to_string (state));
      else
        {
          g_autoptr (GError) gone = NULL;
          if (!lodge_libvirt_destroy (lv, name, &gone)
              && !g_error_matches (gone, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
            g_propagate_error (&last, g_steal_pointer (&gone));
          else if (lodge_libvirt_undefine (lv, name, &gone)
                   || g_error_matches (gone, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
            return TRUE;
          else
            g_propagate_error (&last, g_steal_pointer (&gone));
        }
      /* Refused for good (this controller no longer leads). */
      if (g_error_matches (last, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED))
        break;
      if (g_get_monotonic_time () >= deadline)
        break;
      g_usleep (500 * 1000); /* libvirt's job on the domain ends; asking again, with a deadline */
    }
  g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE,
               "a domain of %s is on %s already and cannot be cleared away: %s", name, node->name,
               last != NULL ? last->message : "it stays");
  return FALSE;
}

/* Starts the domain on @node and waits for the guest's ready line. With
 * @resume (a start another controller left half done), a domain of the VE
 * already running there is this start's: only its ready line is awaited. */
static gboolean
run_on_node (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const LodgeEnvDef *def,
             const LodgeNodeRecord *node, const LodgeRuntimeRecord *rt, gboolean resume,
             LodgeProgress progress, gpointer user_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  gint64 now = g_get_monotonic_time ();
  gint64 deadline = now + (gint64) opts->ready_timeout_s * G_USEC_PER_SEC;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (node->libvirt_uri, error);
  if (lv == NULL)
    return FALSE;
  /* A leftover of an earlier run on this node goes first (before its
   * console log does: the ready line must be this boot's). */
  gboolean adopt = FALSE;
  if (!clear_leftover (lv, node, def->name, resume, now + (deadline - now) / 2, deadline, &adopt,
                       error))
    return FALSE;
  if (adopt)
    {
      lodge_lifecycle_progress_say (progress, user_data,
                                    "domain already started on %s; waiting for the guest", node->name);
      return await_guest (store, lv, node, def->name, deadline, progress, user_data, error);
    }

  g_autoptr (LodgePlacement) p = lodge_lifecycle_node_placement (ctl, opts, node, def, rt, TRUE, error);
  if (p == NULL)
    return FALSE;
  g_autofree char *xml = lodge_domain_xml_generate (def, p, error);
  if (xml == NULL)
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (!lodge_libvirt_define_and_start (lv, xml, &local))
    {
      if (p->accel != LODGE_ACCEL_KVM || !start_under_tcg (ctl, def, node, p, lv, local, progress, user_data))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  lodge_lifecycle_progress_say (progress, user_data, "domain started on %s; waiting for the guest",
                                node->name);
  return await_guest (store, lv, node, def->name, deadline, progress, user_data, error);
}

LodgeRuntimeRecord *
lodge_lifecycle_load_runtime (LodgeStore *store, const char *name, guint64 *version,
                              GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, version, &local);
  if (json != NULL)
    return lodge_runtime_record_from_json (json, error);
  if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_new (name);
  rt->since_us = g_get_real_time ();
  g_autoptr (GBytes) fresh = lodge_runtime_record_to_json (rt);
  if (!lodge_store_create (store, LODGE_STORE_RUNTIME, name, fresh, version, error))
    return NULL;
  return g_steal_pointer (&rt);
}

/* Clones the disk if need be, runs the VE on @node, records the outcome. */
static gboolean
finish_start (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, LodgeEnvDef *def,
              LodgeRuntimeRecord *rt, guint64 *version, const LodgeNodeRecord *node,
              gboolean resume, LodgeProgress progress, gpointer user_data, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autoptr (GError) local = NULL;
  gboolean ok = ensure_disk (ctl, def, rt, &local)
                && (lodge_lifecycle_progress_say (progress, user_data, "disk %s/%s ready",
                                                  rt->disk_pool, rt->disk_image), TRUE)
                && lodge_app_plan_prepare_start (store, opts->client_id, def, rt->disk_pool,
                                                 rt->disk_image, progress, user_data, &local)
                && run_on_node (ctl, opts, def, node, rt, resume, progress, user_data, &local);
  rt->phase = ok ? LODGE_PHASE_RUNNING : LODGE_PHASE_FAILED;
  rt->since_us = g_get_real_time ();
  if (!ok)
    {
      rt->desired = LODGE_DESIRED_STOPPED;
      g_free (rt->last_error);
      rt->last_error = g_strdup (local->message);
    }
  g_autoptr (GError) save_error = NULL;
  if (!lodge_lifecycle_save_runtime (store, rt, version, &save_error))
    g_warning ("cannot record the outcome of starting %s: %s", def->name, save_error->message);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

/* A start needs space: its records, its disk's clone, and the guest's own
 * writes (which would hang in QEMU on a full pool). Refused with the reason
 * while Ceph has the state store's pool or @def's disk pool flagged full. */
static gboolean
check_space (LodgeCtl *ctl, const LodgeEnvDef *def, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_auto (GStrv) full = lodge_rados_full_pools (lodge_store_get_rados (store), error);
  if (full == NULL)
    {
      g_prefix_error (error, "cannot tell whether Ceph has space for %s: ", def->name);
      return FALSE;
    }
  g_autofree char *disk_pool = lodge_tier_pool (lodge_env_def_effective_replicas (def));
  const char *pools[] = { lodge_store_get_pool (store), disk_pool };
  for (guint i = 0; i < G_N_ELEMENTS (pools); i++)
    if (g_strv_contains ((const char *const *) full, pools[i]))
      {
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FULL,
                     "not starting %s: Ceph has pool %s flagged full (an OSD passed its full "
                     "ratio); running VEs go on, and starts are refused until space is freed",
                     def->name, pools[i]);
        return FALSE;
      }
  return TRUE;
}

/* Starts VE @name; on @prefer_node (where it ran, for a restart after a
 * crash) when that node can take it, else where the scheduler says. */
static gboolean
start_preferring (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                  const char *prefer_node, LodgeProgress progress, gpointer user_data,
                  GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (ctl, name, error);
  if (def == NULL)
    return FALSE;
  guint64 version = 0;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_lifecycle_load_runtime (store, name, &version, error);
  if (rt == NULL)
    return FALSE;
  if (rt->phase == LODGE_PHASE_RUNNING || rt->phase == LODGE_PHASE_STARTING)
    {
      lodge_lifecycle_progress_say (progress, user_data, "%s is already %s on %s", name,
                                    lodge_phase_to_string (rt->phase), rt->node);
      return TRUE;
    }
  if (rt->phase == LODGE_PHASE_STOPPING || rt->phase == LODGE_PHASE_MIGRATING)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
                   "environment %s is %s on %s; start it when that is done", name,
                   lodge_phase_to_string (rt->phase), rt->node);
      return FALSE;
    }
  if (!lodge_claim_check_start (rt, error) || !check_space (ctl, def, error)
      || !lodge_lifecycle_confirm_gone (ctl, rt, error))
    return FALSE;

  /* Started again after its crash loop left it failed: the count of
   * automatic restarts begins anew. */
  if (rt->phase == LODGE_PHASE_FAILED)
    rt->n_recent_restarts = 0;

  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return FALSE;
  const char *node_name = NULL;
  LodgeNodeRecord *preferred = prefer_node != NULL ? lodge_ctl_find_node (nodes, prefer_node) : NULL;
  if (preferred != NULL)
    {
      /* The scheduler's checks, on that node alone; elsewhere if it says no. */
      g_autoptr (GPtrArray) only = g_ptr_array_new ();
      g_ptr_array_add (only, preferred);
      node_name = lodge_lifecycle_place (ctl, only, def, NULL, NULL);
    }
  if (node_name == NULL)
    node_name = lodge_lifecycle_place (ctl, nodes, def, NULL, error);
  if (node_name == NULL)
    return FALSE;
  LodgeNodeRecord *node = lodge_ctl_find_node (nodes, node_name);

  /* Claim: exactly one start proceeds. */
  rt->desired = LODGE_DESIRED_RUNNING;
  rt->phase = LODGE_PHASE_STARTING;
  g_free (rt->node);
  rt->node = g_strdup (node_name);
  rt->generation++;
  rt->since_us = g_get_real_time ();
  g_clear_pointer (&rt->last_error, g_free);
  g_autoptr (GError) local = NULL;
  if (!lodge_lifecycle_save_runtime (store, rt, &version, &local))
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        {
          lodge_lifecycle_progress_say (progress, user_data,
                                        "%s is being started by another request", name);
          return TRUE;
        }
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown environment '%s' (undefined meanwhile)", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  lodge_lifecycle_progress_say (progress, user_data, "placed on %s", node_name);
  return finish_start (ctl, opts, def, rt, &version, node, FALSE, progress, user_data, error);
}

gboolean
lodge_lifecycle_start (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                       LodgeProgress progress, gpointer user_data, GError **error)
{
  return start_preferring (ctl, opts, name, NULL, progress, user_data, error);
}

/* A guest that is not running where its record says it runs. */
static gboolean
record_gone (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, LodgeRuntimeRecord *rt,
             guint64 version, LodgeLibvirt *lv, const char *what, GError **error)
{
  if (lv != NULL)
    lodge_libvirt_undefine (lv, rt->name, NULL);
  if (lv != NULL && rt->node != NULL) /* its node answers */
    lodge_lifecycle_forget_config (ctl, rt->node, rt->name);
  rt->phase = LODGE_PHASE_STOPPED;
  rt->desired = LODGE_DESIRED_STOPPED;
  rt->since_us = g_get_real_time ();
  g_free (rt->last_error);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M:%S UTC");
  rt->last_error = g_strdup_printf ("%s on %s at %s", what, rt->node, when);
  return lodge_lifecycle_save_runtime (lodge_ctl_get_store (ctl), rt, &version, error);
}

/* A running VE's guest stopped, and Lodge did not stop it: recorded with
 * the reason libvirt gives, then started again (on the same node when it
 * can take it) if the VE's restart policy says so, unless it already was
 * LODGE_CRASH_LOOP_MAX times in LODGE_CRASH_LOOP_WINDOW_S: then failed. */
static LodgeResumeOutcome
after_unplanned_stop (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, LodgeRuntimeRecord *rt,
                      guint64 version, LodgeLibvirt *lv, LodgeStopReason why, GError **error)
{
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (ctl, rt->name, NULL);
  LodgeRestartPolicy policy = def != NULL ? lodge_env_def_effective_restart (def) : LODGE_RESTART_NEVER;
  gint64 now_us = g_get_real_time ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M:%S UTC");
  g_autofree char *what = g_strdup_printf ("%s on %s at %s", lodge_restart_describe (why), rt->node, when);
  rt->stop_reason = why;
  /* A panicked guest's domain stays, crashed (on_crash preserve): it goes
   * now, whatever comes next. */
  if (lv != NULL && why == LODGE_STOP_PANICKED)
    lodge_libvirt_destroy (lv, rt->name, NULL);
  /* Its QEMU is gone (libvirt says so), and with it the disk's exclusive
   * lock holder: break the lock, or the next QEMU's I/O waits until Ceph
   * times the dead client out (about 25 s here). */
  g_autoptr (GError) lock_error = NULL;
  if (rt->disk_pool != NULL && rt->disk_image != NULL
      && !lodge_rbd_break_lock (lodge_store_get_rados (lodge_ctl_get_store (ctl)), rt->disk_pool,
                                rt->disk_image, &lock_error)
      && !g_error_matches (lock_error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    g_message ("%s: the lock of %s/%s: %s", rt->name, rt->disk_pool, rt->disk_image, lock_error->message);
  if (!lodge_restart_wanted (policy, why))
    return record_gone (ctl, opts, rt, version, lv, lodge_restart_describe (why), error)
             ? LODGE_RESUME_RECORDED_GONE
             : LODGE_RESUME_FAILED;

  if (lv != NULL)
    lodge_libvirt_undefine (lv, rt->name, NULL);
  rt->since_us = now_us;
  g_free (rt->last_error);
  if (!lodge_restart_count (rt, now_us))
    {
      rt->phase = LODGE_PHASE_FAILED;
      rt->desired = LODGE_DESIRED_STOPPED;
      rt->last_error = g_strdup_printf ("%s; restarted %u times in the last %u minutes already, so "
                                        "not again: start it when its cause is fixed",
                                        what, rt->n_recent_restarts, LODGE_CRASH_LOOP_WINDOW_S / 60);
      return lodge_lifecycle_save_runtime (lodge_ctl_get_store (ctl), rt, &version, error)
               ? LODGE_RESUME_CRASH_LOOP
               : LODGE_RESUME_FAILED;
    }
  rt->phase = LODGE_PHASE_STOPPED;
  rt->desired = LODGE_DESIRED_RUNNING;
  rt->last_error = g_steal_pointer (&what);
  g_autofree char *prev_node = g_strdup (rt->node);
  if (!lodge_lifecycle_save_runtime (lodge_ctl_get_store (ctl), rt, &version, error))
    return LODGE_RESUME_FAILED;
  return start_preferring (ctl, opts, rt->name, prev_node, NULL, NULL, error) ? LODGE_RESUME_RESTARTED
                                                                               : LODGE_RESUME_FAILED;
}

gboolean
lodge_lifecycle_runs_on (const LodgeNodeRecord *node, const char *name)
{
  if (node == NULL)
    return FALSE;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (node->libvirt_uri, NULL);
  LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
  return lv != NULL && lodge_libvirt_state (lv, name, &state, NULL)
         && (state == LODGE_DOMAIN_STATE_RUNNING || state == LODGE_DOMAIN_STATE_PAUSED);
}

static LodgeDomainState
state_on (const LodgeNodeRecord *node, const char *name)
{
  LodgeDomainState state = LODGE_DOMAIN_STATE_SHUTOFF;
  g_autoptr (LodgeLibvirt) lv = node != NULL ? lodge_libvirt_open (node->libvirt_uri, NULL) : NULL;
  if (lv == NULL || !lodge_libvirt_state (lv, name, &state, NULL))
    return LODGE_DOMAIN_STATE_SHUTOFF; /* none there, or none that answers */
  return state;
}

LodgeMigrationOutcome
lodge_lifecycle_migration_outcome (const LodgeNodeRecord *src, const LodgeNodeRecord *dst,
                                   const char *name, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  for (;;)
    {
      gboolean late = g_get_monotonic_time () >= deadline;
      LodgeDomainState d = state_on (dst, name);
      LodgeDomainState s = state_on (src, name);
      gboolean at_source = s == LODGE_DOMAIN_STATE_RUNNING || s == LODGE_DOMAIN_STATE_PAUSED;
      /* Moved once the destination runs it and libvirt has torn the
       * source down (it does at the end of the migration, the source
       * paused meanwhile); one still there at the deadline is left to the
       * sweep, which destroys what no record accounts for. */
      if (d == LODGE_DOMAIN_STATE_RUNNING && (!at_source || late))
        return LODGE_MIGRATION_MOVED;
      if (at_source && d != LODGE_DOMAIN_STATE_PAUSED && d != LODGE_DOMAIN_STATE_RUNNING)
        return LODGE_MIGRATION_STAYED;
      if (late)
        return at_source ? LODGE_MIGRATION_STAYED : LODGE_MIGRATION_NEITHER;
      g_usleep (500 * 1000); /* libvirt finishing the migration or cleaning up; with a deadline */
    }
}

/* A migration whose controller died: the record follows where the guest
 * runs (libvirt moved it whole, or not at all). */
static gboolean
settle_migration (LodgeCtl *ctl, LodgeRuntimeRecord *rt, guint64 version, GError **error)
{
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return FALSE;
  LodgeNodeRecord *src = lodge_ctl_find_node (nodes, rt->node);
  LodgeNodeRecord *dst = rt->target_node != NULL ? lodge_ctl_find_node (nodes, rt->target_node) : NULL;
  switch (lodge_lifecycle_migration_outcome (src, dst, rt->name, 30))
    {
    case LODGE_MIGRATION_MOVED:
      g_free (rt->node);
      rt->node = g_strdup (rt->target_node);
      rt->generation++;
      break;
    case LODGE_MIGRATION_STAYED:
      break;
    case LODGE_MIGRATION_NEITHER:
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND,
                   "%s was migrating from %s to %s and runs on neither", rt->name, rt->node,
                   rt->target_node != NULL ? rt->target_node : "?");
      return FALSE;
    }
  rt->phase = LODGE_PHASE_RUNNING;
  g_clear_pointer (&rt->target_node, g_free);
  return lodge_lifecycle_save_runtime (lodge_ctl_get_store (ctl), rt, &version, error);
}

LodgeResumeOutcome
lodge_lifecycle_resume (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                        GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  guint64 version = 0;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, &version, &local);
  if (json == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        return LODGE_RESUME_NOTHING;
      g_propagate_error (error, g_steal_pointer (&local));
      return LODGE_RESUME_FAILED;
    }
  g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_from_json (json, error);
  if (rt == NULL)
    return LODGE_RESUME_FAILED;
  /* Meant to run, and stopped: a failover moved it off a dead node and its
   * controller died before starting it again. */
  if (rt->phase == LODGE_PHASE_STOPPED && rt->desired == LODGE_DESIRED_RUNNING)
    return lodge_lifecycle_start (ctl, opts, name, NULL, NULL, error) ? LODGE_RESUME_FINISHED_START
                                                                      : LODGE_RESUME_FAILED;
  if (rt->node == NULL
      || (rt->phase != LODGE_PHASE_STARTING && rt->phase != LODGE_PHASE_STOPPING
          && rt->phase != LODGE_PHASE_RUNNING && rt->phase != LODGE_PHASE_MIGRATING))
    return LODGE_RESUME_NOTHING;
  if (rt->phase == LODGE_PHASE_MIGRATING)
    return settle_migration (ctl, rt, version, error) ? LODGE_RESUME_FINISHED_MIGRATION
                                                      : LODGE_RESUME_FAILED;

  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return LODGE_RESUME_FAILED;
  LodgeNodeRecord *node = lodge_ctl_find_node (nodes, rt->node);
  if (node != NULL && (node->state == LODGE_NODE_DOWN || node->state == LODGE_NODE_FENCED))
    return LODGE_RESUME_NOTHING; /* a dead node is failover's business */

  if (rt->phase == LODGE_PHASE_STOPPING)
    return lodge_lifecycle_stop (ctl, opts, name, FALSE, error) ? LODGE_RESUME_FINISHED_STOP
                                                                 : LODGE_RESUME_FAILED;

  g_autoptr (LodgeLibvirt) lv = node != NULL ? lodge_libvirt_open (node->libvirt_uri, &local) : NULL;
  if (node != NULL && lv == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "node %s: ", node->name);
      return LODGE_RESUME_FAILED;
    }
  if (rt->phase == LODGE_PHASE_RUNNING)
    {
      /* Confirmed with the node's libvirt, not just its agent's report. */
      LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
      LodgeStopReason why = LODGE_STOP_OTHER;
      gboolean known = lv != NULL && lodge_libvirt_state_reason (lv, name, &state, &why, &local);
      if (!known && lv != NULL && !g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "node %s: ", node->name);
          return LODGE_RESUME_FAILED;
        }
      if (known && (state == LODGE_DOMAIN_STATE_RUNNING || state == LODGE_DOMAIN_STATE_PAUSED
                    || state == LODGE_DOMAIN_STATE_SHUTTING_DOWN || state == LODGE_DOMAIN_STATE_OTHER))
        return LODGE_RESUME_NOTHING;
      return after_unplanned_stop (ctl, opts, rt, version, lv, known ? why : LODGE_STOP_GONE, error);
    }

  /* Starting, and no start of it runs in this controller: the controller
   * that began it died. Claim it (the generation stays: same placement). */
  g_autoptr (LodgeEnvDef) def = lodge_ctl_definition (ctl, name, error);
  if (def == NULL)
    return LODGE_RESUME_FAILED;
  if (node == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "node %s of %s is not registered", rt->node, name);
      return LODGE_RESUME_FAILED;
    }
  rt->since_us = g_get_real_time ();
  if (!lodge_lifecycle_save_runtime (store, rt, &version, &local))
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        return LODGE_RESUME_NOTHING; /* someone else acts on it */
      g_propagate_error (error, g_steal_pointer (&local));
      return LODGE_RESUME_FAILED;
    }
  return finish_start (ctl, opts, def, rt, &version, node, TRUE, NULL, NULL, error)
           ? LODGE_RESUME_FINISHED_START
           : LODGE_RESUME_FAILED;
}

gboolean
lodge_lifecycle_stop (LodgeCtl *ctl, const LodgeLifecycleOptions *opts, const char *name,
                      gboolean force, GError **error)
{
  LodgeStore *store = lodge_ctl_get_store (ctl);
  guint64 version = 0;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_RUNTIME, name, &version, &local);
  if (json == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown environment '%s'", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_autoptr (LodgeRuntimeRecord) rt = lodge_runtime_record_from_json (json, error);
  if (rt == NULL)
    return FALSE;
  if (rt->phase == LODGE_PHASE_STOPPED || rt->phase == LODGE_PHASE_FAILED || rt->node == NULL)
    {
      if (rt->phase == LODGE_PHASE_FAILED || rt->desired == LODGE_DESIRED_RUNNING)
        {
          rt->phase = LODGE_PHASE_STOPPED;
          rt->desired = LODGE_DESIRED_STOPPED;
          lodge_lifecycle_save_runtime (store, rt, &version, NULL);
        }
      return TRUE;
    }
  rt->desired = LODGE_DESIRED_STOPPED;
  rt->phase = LODGE_PHASE_STOPPING;
  rt->since_us = g_get_real_time ();
  if (!lodge_lifecycle_save_runtime (store, rt, &version, error))
    return FALSE;

  g_autoptr (LodgeLibvirt) lv = lodge_ctl_node_libvirt (ctl, rt->node, name, error);
  if (lv == NULL)
    return FALSE;
  gboolean forced = FALSE;
  if (!lodge_libvirt_shutdown (lv, name, force ? 0 : opts->stop_timeout_s, TRUE, &forced, &local)
      && !g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  lodge_libvirt_undefine (lv, name, NULL);
  lodge_lifecycle_forget_config (ctl, rt->node, name);
  rt->phase = LODGE_PHASE_STOPPED;
  rt->since_us = g_get_real_time ();
  if (forced)
    rt->last_error = g_strdup_printf ("did not shut down within %u s; powered off", opts->stop_timeout_s);
  return lodge_lifecycle_save_runtime (store, rt, &version, error);
}

gboolean
lodge_lifecycle_accounts_for (const LodgeRuntimeRecord *rt, const char *node)
{
  if (rt == NULL)
    return FALSE;
  switch (rt->phase)
    {
    case LODGE_PHASE_RUNNING:
    case LODGE_PHASE_STARTING:
    case LODGE_PHASE_STOPPING:
      return g_strcmp0 (rt->node, node) == 0;
    case LODGE_PHASE_MIGRATING:
      return g_strcmp0 (rt->node, node) == 0 || g_strcmp0 (rt->target_node, node) == 0;
    default:
      return FALSE;
    }
}

gboolean
lodge_lifecycle_clear_stray (LodgeCtl *ctl, const char *node, const char *name, char **ret_report,
                             GError **error)
{
  *ret_report = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (LodgeRuntimeRecord) rt = lodge_ctl_runtime (ctl, name, &local);
  if (rt == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (lodge_lifecycle_accounts_for (rt, node))
    return TRUE;
  g_autoptr (LodgeLibvirt) lv = lodge_ctl_node_libvirt (ctl, node, name, error);
  if (lv == NULL)
    return FALSE;
  LodgeDomainState state = LODGE_DOMAIN_STATE_SHUTOFF;
  g_clear_error (&local);
  if (!lodge_libvirt_state (lv, name, &state, &local))
    {
      if (g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (state == LODGE_DOMAIN_STATE_SHUTOFF)
    return TRUE; /* a definition only: the next start there clears it */
  if (!lodge_libvirt_is_lodge_domain (lv, name))
    return TRUE; /* not a VE's: not Lodge's to judge */
  if (!lodge_libvirt_destroy (lv, name, error))
    return FALSE;
  lodge_libvirt_undefine (lv, name, NULL);
  g_autofree char *says = rt == NULL ? g_strdup ("there is no such VE")
                          : rt->node == NULL || rt->phase == LODGE_PHASE_STOPPED
                                                || rt->phase == LODGE_PHASE_FAILED
                            ? g_strdup_printf ("its record says %s", lodge_phase_to_string (rt->phase))
                            : g_strdup_printf ("its record says %s on %s", lodge_phase_to_string (rt->phase),
                                               rt->node);
  *ret_report = g_strdup_printf ("destroyed a domain of %s on %s that was %s: %s", name, node,
                                 lodge_domain_state_to_string (state), says);
  return TRUE;
}

gboolean
lodge_lifecycle_confirm_gone (LodgeCtl *ctl, const LodgeRuntimeRecord *rt, GError **error)
{
  /* A VE Lodge stopped, or found stopped, was confirmed gone then; a failed
   * one may have left its domain (a start or a stop that failed midway). */
  if (rt->node == NULL || rt->phase != LODGE_PHASE_FAILED)
    return TRUE;
  g_autoptr (GPtrArray) nodes = lodge_ctl_nodes (ctl, error);
  if (nodes == NULL)
    return FALSE;
  LodgeNodeRecord *node = lodge_ctl_find_node (nodes, rt->node);
  if (node == NULL || node->state == LODGE_NODE_FENCED)
    return TRUE; /* removed from the cluster, or cut off from the disks */
  g_autoptr (GError) local = NULL;
  g_autoptr (LodgeLibvirt) lv = lodge_libvirt_open (node->libvirt_uri, &local);
  LodgeDomainState state = LODGE_DOMAIN_STATE_SHUTOFF;
  if (lv != NULL && !lodge_libvirt_state (lv, rt->name, &state, &local)
      && g_error_matches (local, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_NOT_FOUND))
    return TRUE;
  if (lv == NULL || local != NULL)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_UNREACHABLE,
                   "cannot confirm that %s no longer runs on %s, where it ran last (%s): it can "
                   "start elsewhere, or be repaired, once %s answers or is fenced",
                   rt->name, node->name, local->message, node->name);
      return FALSE;
    }
  if (state == LODGE_DOMAIN_STATE_SHUTOFF)
    return TRUE;
  g_message ("%s: a domain of it was still %s on %s, where its record says %s; destroying it",
             rt->name, lodge_domain_state_to_string (state), node->name, lodge_phase_to_string (rt->phase));
  if (!lodge_libvirt_destroy (lv, rt->name, error))
    return FALSE;
  lodge_libvirt_undefine (lv, rt->name, NULL);
  return TRUE;
}
