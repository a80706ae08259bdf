/* lodge-agent: one per node. Registers the node in the state store (its
 * libvirt URI, CPUs, memory, overcommit ratios, the accelerator that
 * really works there, the guest kernel), heartbeats, keeps the Ceph
 * client's key in the node's libvirt as a secret, reports what its
 * domains do from libvirt's lifecycle events (no polling), and shares the
 * node's memory among its VEs by their balloons (virt/lodge-balloon.h).
 *
 * It keeps no state of its own: killed and started again it registers
 * again from what libvirt and the store say. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "lodge-accel.h"
#include "lodge-balloon.h"
#include "lodge-agent-ve.h"
#include "lodge-kernel.h"
#include "lodge-nwfilter.h"
#include "lodge-libvirt.h"
#include "lodge-node-store.h"
#include "lodge-notify.h"
#include "lodge-rpc.h"
#include "lodge-storage-error.h"
#include "lodge-store.h"
#include "lodge-strings.h"

#define AGENT_VERSION "0.1.0"
/* The libvirt secret holding client.lodge's key, named by every VE disk. */
#define DEFAULT_SECRET_UUID "6c0d6a36-1b6a-4f4e-9a55-0d9e1f3c1a01"
/* Where the lodge-guest package puts it. */
#define DEFAULT_KERNEL LODGE_GUEST_DIR "/vmlinuz-lodge"
#define DEFAULT_STATE_DIR "/var/lib/lodge/ve"
/* Leftover config blobs are looked for every SWEEP_BEATS heartbeats. */
#define SWEEP_BEATS 10
#define SWEEP_MIN_AGE_S 120
/* The balloons are looked at this often (the guests report every 2 s). */
#define BALLOON_PERIOD_S 2

typedef struct {
  /* options */
  char *name;
  char *libvirt_uri;
  char *address;
  char *kernel;
  char *boot_dir;
  char *secret_uuid;
  char *bridge;
  char *state_dir;
  int cpus;
  gint64 memory_mib;
  double memory_ratio;
  double cpu_ratio;
  int heartbeat_s;
  gint64 memory_reserve_mib;
  gboolean no_cpu_tuning;
  gboolean ksm;
  gboolean once;

  /* state */
  GMainLoop *loop;
  LodgeCephConfig *config;
  LodgeRados *rados;
  LodgeStore *store;
  LodgeRpcServer *rpc; /* the control center's requests (lodge-agent-ve.h) */
  LodgeLibvirt *lv;
  LodgeAccel accel;
  char *accel_reason; /* why not KVM (NULL with KVM) */
  LodgeGuestKernel guest_kernel;
  int watch;
  guint failures;
  guint beats;
  gboolean fenced;  /* the control center's decision: it fenced this node */
  gboolean cpu_tuning; /* a CPU cgroup is there for libvirt */
  LodgeNodeReport *report; /* what this agent reports; only it writes that */
  guint64 report_version;  /* of the agent's last write of it (0: none) */
  gboolean report_unsure;  /* another wrote it: read it again before writing */
} LodgeAgent;

static void
agent_clear (LodgeAgent *a)
{
  if (a->lv != NULL)
    lodge_libvirt_unwatch (a->lv, a->watch);
  g_clear_pointer (&a->lv, lodge_libvirt_free);
  g_clear_pointer (&a->rpc, lodge_rpc_server_free);
  g_clear_pointer (&a->store, lodge_store_free);
  g_clear_pointer (&a->rados, lodge_rados_free);
  g_clear_pointer (&a->config, lodge_ceph_config_free);
  g_clear_pointer (&a->loop, g_main_loop_unref);
  lodge_guest_kernel_clear (&a->guest_kernel);
  g_clear_pointer (&a->report, lodge_node_report_free);
  g_free (a->accel_reason);
  g_free (a->name);
  g_free (a->libvirt_uri);
  g_free (a->address);
  g_free (a->kernel);
  g_free (a->boot_dir);
  g_free (a->secret_uuid);
  g_free (a->bridge);
  g_free (a->state_dir);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeAgent, agent_clear)

static void
say_as (const char *name, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* One line of the log (from any thread: one printf each). */
static void
say_as (const char *name, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *line = lodge_line_safe (msg); /* no control bytes in the log */
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format (now, "%H:%M:%S");
  printf ("%s lodge-agent[%s]: %s\n", ts, name, line);
  fflush (stdout);
}

#define say(a, ...) say_as ((a)->name, __VA_ARGS__)

/* ---- this node's report ---- */

/* What is stored of this node's report: its version (0: none), and the
 * control center's part that a record of the old code carries (NULL:
 * none). */
static gboolean
read_stored (LodgeAgent *a, guint64 *ret_version, LodgeNodeDecision **ret_legacy, GError **error)
{
  g_autoptr (GError) local = NULL;
  guint64 version = 0;
  g_autoptr (LodgeNodeReport) stored = lodge_node_report_load (a->store, a->name, &version, &local);
  if (stored == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *ret_version = stored != NULL ? version : 0;
  *ret_legacy = stored != NULL ? g_steal_pointer (&stored->legacy_decision) : NULL;
  return TRUE;
}

/* Writes this node's report as the agent holds it, whole. The agent is its
 * only writer, so the write expects the version of its own last one; when
 * another wrote meanwhile (a controller of the old code during an upgrade,
 * a second agent under this name), the next write reads it again first. */
static gboolean
save_report (LodgeAgent *a, GError **error)
{
  if (a->store == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE,
                   "not connected to the cluster (fenced, reconnecting)");
      return FALSE;
    }
  if (a->report_unsure)
    {
      LodgeNodeDecision *legacy = NULL;
      if (!read_stored (a, &a->report_version, &legacy, error))
        return FALSE;
      lodge_node_decision_free (a->report->legacy_decision);
      a->report->legacy_decision = legacy;
      a->report_unsure = FALSE;
    }
  g_autoptr (GError) local = NULL;
  if (lodge_node_report_save (a->store, a->report, &a->report_version, &local))
    return TRUE;
  if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT)
      || g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS)
      || g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    a->report_unsure = TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* What the control center decided about this node: whether it fenced it.
 * Once it keeps a decision record of its own, the part a record of the
 * old code carried is no longer written back. */
static gboolean
read_decision (LodgeAgent *a, GError **error)
{
  guint64 version = 0;
  g_autoptr (LodgeNodeDecision) d = lodge_node_decision_load (a->store, a->report, &version, error);
  if (d == NULL)
    return FALSE;
  a->fenced = d->state == LODGE_NODE_FENCED;
  if (version != 0)
    g_clear_pointer (&a->report->legacy_decision, lodge_node_decision_free);
  return TRUE;
}

/* This node as the agent found it at start, registered now. */
static LodgeNodeReport *
report_new (LodgeAgent *a)
{
  LodgeNodeReport *r = lodge_node_report_new (a->name);
  r->libvirt_uri = g_strdup (a->libvirt_uri);
  r->address = g_strdup (a->address);
  r->accel = a->accel;
  r->accel_reason = g_strdup (a->accel_reason);
  r->kernel = g_strdup (a->guest_kernel.kernel);
  r->initrd = g_strdup (a->guest_kernel.initrd);
  /* qboot, where QEMU's data has it (Debian's qemu-system-data does). */
  if (g_file_test (LODGE_FIRMWARE_QBOOT, G_FILE_TEST_IS_REGULAR))
    r->firmware = g_strdup (LODGE_FIRMWARE_QBOOT);
  r->bridge = g_strdup (a->bridge);
  r->secret_uuid = g_strdup (a->secret_uuid);
  r->ceph_id = g_strdup (a->config->client_id); /* whose key the secret holds */
  r->cpu_tuning = a->cpu_tuning;
  r->ksm = a->ksm;
  r->cpus = a->cpus;
  r->memory = (guint64) a->memory_mib << 20;
  r->memory_ratio = a->memory_ratio;
  r->cpu_ratio = a->cpu_ratio;
  r->registered_us = r->heartbeat_us = g_get_real_time ();
  r->agent = g_strdup_printf ("lodge-agent %s pid %d", AGENT_VERSION, getpid ());
  r->rados_addr = lodge_rados_client_address (a->rados);
  /* The node's Ceph configuration, for its VEs' disks too (a client
   * address of the node's own, say). */
  const char *conf = g_getenv ("CEPH_CONF");
  r->ceph_conf = conf != NULL && g_path_is_absolute (conf) ? g_strdup (conf) : NULL;
  return r;
}

/* What libvirt runs or has defined now, into @r's domain list. */
static gboolean
list_domains (LodgeAgent *a, LodgeNodeReport *r, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_libvirt_list (a->lv, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      LodgeDomainState state = LODGE_DOMAIN_STATE_OTHER;
      lodge_libvirt_state (a->lv, names->pdata[i], &state, NULL);
      lodge_node_report_set_domain (r, names->pdata[i], state);
    }
  return TRUE;
}

/* The control center fenced this node and restarted its VEs elsewhere:
 * every guest here is a stale copy. Destroy them all, never resume one. */
static void
destroy_stale_guests (LodgeAgent *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = lodge_libvirt_list (a->lv, &error);
  if (names == NULL)
    {
      say (a, "fenced, but cannot list the guests to destroy: %s", error->message);
      return;
    }
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_clear_error (&error);
      if (!lodge_libvirt_destroy (a->lv, name, &error) || !lodge_libvirt_undefine (a->lv, name, &error))
        say (a, "fenced: cannot destroy stale guest %s: %s", name, error->message);
      else
        {
          say (a, "fenced: destroyed stale guest %s (it runs elsewhere now)", name);
          lodge_agent_ve_forget (a->state_dir, name);
        }
    }
}

static gboolean register_node (LodgeAgent *a, GError **error);

/* This agent's RADOS client was blocklisted: the node was fenced. Its
 * guests go, then a new client registers again (the control center
 * clears the fence once the node is back and empty). */
static void
recover_from_fence (LodgeAgent *a)
{
  say (a, "this node was fenced (its RADOS client is blocklisted)");
  destroy_stale_guests (a);
  g_clear_pointer (&a->rpc, lodge_rpc_server_free);
  g_clear_pointer (&a->store, lodge_store_free);
  g_clear_pointer (&a->rados, lodge_rados_free);
  g_autoptr (GError) error = NULL;
  a->rados = lodge_rados_connect (a->config, &error);
  a->store = a->rados != NULL ? lodge_store_open (a->rados, NULL, &error) : NULL;
  a->report_unsure = TRUE; /* written by the fenced client at best */
  if (a->store == NULL || !register_node (a, &error))
    say (a, "cannot register again yet: %s", error->message);
  else if ((a->rpc = lodge_rpc_serve (a->store, a->name, lodge_agent_ve_handle, a->state_dir,
                                      &error)) == NULL)
    say (a, "cannot take the control center's requests yet: %s", error->message);
}

typedef struct {
  LodgeAgent *agent;
  char *domain;
  LodgeDomainState state;
  gboolean gone;
} DomainEvent;

static gboolean
report_domain (gpointer data)
{
  DomainEvent *ev = data;
  LodgeAgent *a = ev->agent;
  g_autoptr (GError) error = NULL;
  say (a, "domain %s: %s", ev->domain, ev->gone ? "undefined" : lodge_domain_state_to_string (ev->state));
  if (ev->gone)
    lodge_node_report_remove_domain (a->report, ev->domain);
  else
    lodge_node_report_set_domain (a->report, ev->domain, ev->state);
  if (!save_report (a, &error))
    say (a, "cannot record it: %s", error->message);
  g_free (ev->domain);
  g_free (ev);
  return G_SOURCE_REMOVE;
}

/* In libvirt's event thread: hand over to the main loop. */
static void
on_domain_event (const char *domain, LodgeDomainState state, gboolean gone, gpointer user_data)
{
  DomainEvent *ev = g_new0 (DomainEvent, 1);
  ev->agent = user_data;
  ev->domain = g_strdup (domain);
  ev->state = state;
  ev->gone = gone;
  g_main_context_invoke (NULL, report_domain, ev);
}

static gboolean
beat (LodgeAgent *a, GError **error)
{
  a->report->heartbeat_us = g_get_real_time ();
  return save_report (a, error) && read_decision (a, error);
}

/* Config blobs of VEs whose domain is not here (the control center asks
 * for their removal when a VE leaves; this catches what it could not
 * ask, a controller that died between the two). A blob younger than
 * SWEEP_MIN_AGE_S may belong to a start whose domain is not defined yet. */
static void
sweep_configs (LodgeAgent *a)
{
  g_autoptr (GPtrArray) names = lodge_libvirt_list (a->lv, NULL);
  if (names != NULL)
    lodge_agent_ve_sweep (a->state_dir, names, SWEEP_MIN_AGE_S);
}

static gboolean
heartbeat (gpointer data)
{
  LodgeAgent *a = data;
  g_autoptr (GError) error = NULL;
  if (a->store == NULL)
    {
      recover_from_fence (a);
      return G_SOURCE_CONTINUE;
    }
  if (!beat (a, &error))
    {
      a->failures++;
      say (a, "heartbeat failed (%u in a row): %s", a->failures, error->message);
      if (g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FENCED))
        recover_from_fence (a);
    }
  else
    a->failures = 0;
  if (a->store != NULL && a->rpc == NULL)
    a->rpc = lodge_rpc_serve (a->store, a->name, lodge_agent_ve_handle, a->state_dir, NULL);
  g_clear_error (&error);
  if (a->rpc != NULL && !lodge_rpc_server_check (a->rpc, &error))
    say (a, "not taking the control center's requests: %s", error->message);
  if (a->fenced)
    destroy_stale_guests (a);
  if (++a->beats % SWEEP_BEATS == 0)
    sweep_configs (a);
  return G_SOURCE_CONTINUE;
}

/* Memory above the VEs' floors, out of the node's free memory only; what
 * a guest does not use goes back (virt/lodge-balloon.h). In a thread of
 * its own, with a libvirt connection of its own: a QEMU that does not
 * answer its balloon statistics holds this thread, never the heartbeat. */
typedef struct {
  char *name;
  char *libvirt_uri;
  guint64 budget; /* bytes */
} BalloonKeeper;

static gpointer
balloon_thread (gpointer data)
{
  BalloonKeeper *k = data;
  g_autoptr (LodgeLibvirt) lv = NULL;
  for (;; g_usleep (BALLOON_PERIOD_S * G_USEC_PER_SEC))
    {
      g_autoptr (GError) error = NULL;
      if (lv == NULL && (lv = lodge_libvirt_open (k->libvirt_uri, NULL)) == NULL)
        continue; /* libvirtd away: the heartbeat says so */
      g_autoptr (GPtrArray) guests = lodge_libvirt_balloon_guests (lv, &error);
      if (guests == NULL)
        {
          g_clear_pointer (&lv, lodge_libvirt_free);
          continue;
        }
      if (lodge_balloon_plan (guests, k->budget) == 0)
        continue;
      for (guint i = 0; i < guests->len; i++)
        {
          LodgeBalloonGuest *g = guests->pdata[i];
          if (g->next == g->actual)
            continue;
          if (!lodge_libvirt_balloon_set (lv, g->name, g->next, &error))
            {
              say_as (k->name, "%s: %s", g->name, error->message);
              g_clear_error (&error);
              continue;
            }
          say_as (k->name, "%s: memory %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                           " MiB (%s; floor %" G_GUINT64_FORMAT ", ceiling %" G_GUINT64_FORMAT " MiB)",
                  g->name, g->actual >> 20, g->next >> 20, g->why, g->floor >> 20, g->ceiling >> 20);
        }
    }
  return NULL;
}

static void
balloons_start (LodgeAgent *a)
{
  BalloonKeeper *k = g_new0 (BalloonKeeper, 1); /* the thread's for as long as the process lives */
  k->name = g_strdup (a->name);
  k->libvirt_uri = g_strdup (a->libvirt_uri);
  k->budget = (guint64) MAX (a->memory_mib - a->memory_reserve_mib, 0) << 20;
  g_thread_unref (g_thread_new ("balloons", balloon_thread, k));
}

/* Turns the kernel's same-page merging on (KSM_RUN; writing 1 starts
 * ksmd), for --ksm: VEs' memory is then merged where pages are equal. */
#define KSM_RUN "/sys/kernel/mm/ksm/run"
static gboolean
ksm_start (GError **error)
{
  int fd = open (KSM_RUN, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "1", 1) != 1)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   "--ksm: cannot start merging pages: %s: %s (a kernel without "
                   "CONFIG_KSM, or /sys mounted read-only)",
                   KSM_RUN, g_strerror (e));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Whether libvirt finds a CPU cgroup controller here, as it looks for one:
 * a cgroup v1 hierarchy with "cpu", or a cgroup v2 one offering "cpu". */
static gboolean
have_cpu_cgroup (void)
{
  g_autofree char *mounts = NULL;
  if (!g_file_get_contents ("/proc/self/mountinfo", &mounts, NULL, NULL))
    return FALSE;
  g_auto (GStrv) lines = g_strsplit (mounts, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS */
      g_auto (GStrv) f = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (f), dash = 0;
      while (dash < n && strcmp (f[dash], "-") != 0)
        dash++;
      if (dash < 5 || dash + 3 >= n)
        continue;
      const char *type = f[dash + 1], *opts = f[dash + 3];
      if (strcmp (type, "cgroup") == 0)
        {
          g_auto (GStrv) o = g_strsplit (opts, ",", -1);
          if (g_strv_contains ((const char *const *) o, "cpu"))
            return TRUE;
        }
      else if (strcmp (type, "cgroup2") == 0)
        {
          g_autofree char *path = g_build_filename (f[4], "cgroup.controllers", NULL);
          g_autofree char *ctl = NULL;
          if (g_file_get_contents (path, &ctl, NULL, NULL))
            {
              g_auto (GStrv) c = g_strsplit_set (g_strstrip (ctl), " ", -1);
              if (g_strv_contains ((const char *const *) c, "cpu"))
                return TRUE;
            }
        }
    }
  return FALSE;
}

static gboolean
quit (gpointer data)
{
  LodgeAgent *a = data;
  say (a, "stopping");
  lodge_notify_stopping ();
  g_main_loop_quit (a->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
start (LodgeAgent *a, GError **error)
{
  a->config = lodge_ceph_config_new_default ();
  a->rados = lodge_rados_connect (a->config, error);
  if (a->rados == NULL)
    return FALSE;
  a->store = lodge_store_open (a->rados, NULL, error);
  if (a->store == NULL)
    return FALSE;
  a->lv = lodge_libvirt_open (a->libvirt_uri, error);
  if (a->lv == NULL)
    return FALSE;

  g_autofree char *reason = NULL;
  a->accel = lodge_accel_probe (&reason);
  if (a->accel == LODGE_ACCEL_TCG)
    a->accel_reason = g_strdup (reason != NULL ? reason : "KVM was not proven to work");
  say (a, "accelerator: %s%s%s%s", lodge_accel_to_string (a->accel), reason ? " (" : "",
       reason ? reason : "", reason ? ")" : "");
  if (!lodge_guest_kernel_find (a->kernel, a->boot_dir, &a->guest_kernel, error))
    return FALSE;
  if (a->guest_kernel.warning != NULL)
    say (a, "WARNING: %s", a->guest_kernel.warning);
  a->cpu_tuning = !a->no_cpu_tuning && have_cpu_cgroup ();
  if (a->ksm)
    {
      if (!ksm_start (error))
        return FALSE;
      say (a, "memory: identical pages of VEs merged (KSM, " KSM_RUN " = 1)");
    }
  if (!a->cpu_tuning)
    say (a, "CPU limits: none (%s): VEs here get no <cputune>",
         a->no_cpu_tuning ? "--no-cpu-tuning" : "no CPU cgroup controller is mounted here");

  g_autofree char *key = lodge_ceph_config_read_key (a->config, error);
  if (key == NULL || !lodge_libvirt_set_ceph_secret (a->lv, a->secret_uuid, a->config->client_id,
                                                     key, error))
    return FALSE;
  /* Before any VE starts here: their interfaces need them. */
  if (!lodge_libvirt_define_filters (a->lv, error))
    return FALSE;

  /* Watch first, then read: no event falls between the two. */
  a->watch = lodge_libvirt_watch (a->lv, on_domain_event, a, error);
  if (a->watch < 0)
    return FALSE;
  if (g_mkdir_with_parents (a->state_dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", a->state_dir,
                   g_strerror (saved));
      return FALSE;
    }
  a->rpc = lodge_rpc_serve (a->store, a->name, lodge_agent_ve_handle, a->state_dir, error);
  if (a->rpc == NULL)
    return FALSE;
  return register_node (a, error);
}

/* Registers the node with what its libvirt has now; a node the control
 * center fenced first loses its stale guests. */
static gboolean
register_node (LodgeAgent *a, GError **error)
{
  guint64 version = 0;
  g_autoptr (LodgeNodeDecision) legacy = NULL;
  if (!read_stored (a, &version, &legacy, error))
    return FALSE;
  g_autoptr (LodgeNodeReport) r = report_new (a);
  /* Draining and fencing are the control center's; a node that was down
   * (as code of old could record) is up again. */
  if (legacy != NULL && legacy->state == LODGE_NODE_DOWN)
    legacy->state = LODGE_NODE_UP;
  r->legacy_decision = g_steal_pointer (&legacy);
  g_autoptr (LodgeNodeDecision) decision = lodge_node_decision_load (a->store, r, NULL, error);
  if (decision == NULL)
    return FALSE;
  a->fenced = decision->state == LODGE_NODE_FENCED;
  if (a->fenced)
    destroy_stale_guests (a);
  if (!list_domains (a, r, error))
    return FALSE;
  lodge_node_report_free (a->report);
  a->report = g_steal_pointer (&r);
  a->report_version = version;
  a->report_unsure = FALSE;
  if (!save_report (a, error))
    return FALSE;
  say (a, "registered: %s, %d CPUs, %" G_GINT64_FORMAT " MiB (overcommit %.1fx memory, %.1fx "
          "CPU), %u domains%s",
       a->libvirt_uri, a->cpus, a->memory_mib, a->memory_ratio, a->cpu_ratio,
       a->report->domains->len,
       a->fenced ? "; fenced: waiting for the control center to clear it" : "");
  return TRUE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_auto (LodgeAgent) a = { 0 };
  a.cpus = (int) g_get_num_processors ();
  a.memory_ratio = 1.5;
  a.cpu_ratio = 4.0;
  a.heartbeat_s = 1;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &a.name, "Node name (default: the host name)", "NAME" },
    { "libvirt", 'c', 0, G_OPTION_ARG_STRING, &a.libvirt_uri,
      "The node's libvirt URI, as the control center reaches it (default qemu:///system)", "URI" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &a.address, "The node's address (migrations)", "ADDR" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &a.cpus, "CPUs for guests (default: all)", "N" },
    { "memory", 'm', 0, G_OPTION_ARG_INT64, &a.memory_mib, "MiB of RAM for guests (default: all)", "MIB" },
    { "memory-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &a.memory_ratio,
      "Memory overcommit: guest memory may sum to RAM times this (default 1.5)", "R" },
    { "cpu-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &a.cpu_ratio, "vCPU overcommit (default 4)", "R" },
    { "heartbeat", 0, 0, G_OPTION_ARG_INT, &a.heartbeat_s, "Seconds between heartbeats (default 1)", "S" },
    { "memory-reserve", 0, 0, G_OPTION_ARG_INT64, &a.memory_reserve_mib,
      "MiB of --memory that balloons never give to guests above their floors (default 0)", "MIB" },
    { "no-cpu-tuning", 0, 0, G_OPTION_ARG_NONE, &a.no_cpu_tuning,
      "Give VEs no CPU weight or limit (<cputune>): for a libvirt without the CPU cgroup", NULL },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &a.kernel, "The minimal guest kernel (default " DEFAULT_KERNEL ")", "PATH" },
    { "boot-dir", 0, 0, G_OPTION_ARG_FILENAME, &a.boot_dir,
      "Where the distro kernel and initrd are, for the fallback (default /boot)", "DIR" },
    { "secret-uuid", 0, 0, G_OPTION_ARG_STRING, &a.secret_uuid,
      "UUID of the libvirt secret with the Ceph key (default " DEFAULT_SECRET_UUID ")", "UUID" },
    { "bridge", 'b', 0, G_OPTION_ARG_STRING, &a.bridge, "The bridge VE NICs attach to (default lodgebr0)", "BRIDGE" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &a.state_dir,
      "Where this node keeps its VEs' config blobs and console logs (default " DEFAULT_STATE_DIR ")", "DIR" },
    { "ksm", 0, 0, G_OPTION_ARG_NONE, &a.ksm,
      "Merge identical memory pages of this node's VEs (the kernel's KSM: denser, at "
      "some CPU; a VE can then tell by timing whether another VE holds a page it knows). "
      "Without it, VEs started here ask QEMU not to share their memory", NULL },
    { "once", 0, 0, G_OPTION_ARG_NONE, &a.once, "Register, then exit (for checks)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_option_context_set_summary (ctx, "The Lodge node agent: registers this node, heartbeats, "
                                     "keeps the Ceph secret, reports domain events, and shares "
                                     "the node's memory among its VEs by their balloons.");
  g_option_context_set_description (
    ctx, "The Ceph cluster is found as the lodge CLI finds it ($CEPH_CONF, or the local\n"
         "cluster's ceph.conf). Run it inside the cluster's network namespace.\n\n"
         "Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when it cannot start,\n"
         "2 on wrong usage.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1)
    {
      g_printerr ("lodge-agent: %s\nTry 'lodge-agent --help'.\n",
                  error != NULL ? error->message : "no arguments expected");
      return 2;
    }
  if (version)
    {
      g_print ("lodge-agent %s\n", LODGE_VERSION);
      return 0;
    }
  if (a.heartbeat_s < 1 || a.cpus < 1 || a.memory_ratio < 1.0 || a.cpu_ratio < 1.0
      || a.memory_reserve_mib < 0)
    {
      g_printerr ("lodge-agent: --heartbeat and --cpus must be >= 1, the ratios >= 1.0, "
                  "--memory-reserve >= 0\n");
      return 2;
    }
  if (a.name == NULL)
    a.name = g_strdup (g_get_host_name ());
  if (a.libvirt_uri == NULL)
    a.libvirt_uri = g_strdup ("qemu:///system");
  if (a.address == NULL)
    a.address = g_strdup ("127.0.0.1");
  if (a.kernel == NULL)
    a.kernel = g_strdup (DEFAULT_KERNEL);
  if (a.boot_dir == NULL)
    a.boot_dir = g_strdup ("/boot");
  if (a.bridge == NULL)
    a.bridge = g_strdup ("lodgebr0");
  if (a.state_dir == NULL)
    a.state_dir = g_strdup (DEFAULT_STATE_DIR);
  if (a.secret_uuid == NULL)
    a.secret_uuid = g_strdup (DEFAULT_SECRET_UUID);
  if (a.memory_mib == 0)
    a.memory_mib = (gint64) (sysconf (_SC_PHYS_PAGES) / 256 * (sysconf (_SC_PAGE_SIZE) / 4096));

  /* The agent's state (its report above all) is this thread's: libvirt's
   * events wait in the main context, never run in libvirt's thread. */
  g_main_context_acquire (NULL);
  if (!start (&a, &error))
    {
      g_printerr ("lodge-agent[%s]: %s\n", a.name, error->message);
      return 1;
    }
  if (a.once)
    return 0;
  a.loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds (a.heartbeat_s, heartbeat, &a);
  balloons_start (&a);
  g_unix_signal_add (SIGTERM, quit, &a);
  g_unix_signal_add (SIGINT, quit, &a);
  lodge_notify_ready ("registered");
  lodge_notify_watchdog_start ();
  g_main_loop_run (a.loop);
  return 0;
}
