/* lodged: the Lodge control center.
 *
 * One lodged is active at a time: it holds the "leader" lease in RADOS and
 * serves the API. Others wait as standbys and take over when the lease
 * lapses. Everything the control center knows is in the state store, so a
 * new leader starts from there. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <glib-unix.h>

#include "lodge-api.h"
#include "lodge-cluster-init.h"
#include "lodge-ctl.h"
#include "lodge-define.h"
#include "lodge-guestfs.h"
#include "lodge-join.h"
#include "lodge-lease.h"
#include "lodge-notify.h"
#include "lodge-reconcile.h"
#include "lodge-services.h"
#include "lodge-standby.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"
#include "lodge-tier.h"

#define LEADER_LEASE "leader"

typedef struct {
  char *socket_path;
  char *token_file;
  char *tls_cert_file; /* --tls-cert, --tls-key */
  char *tls_key_file;
  GTlsCertificate *tls;
  int tcp_port;
  char *listen;    /* --listen HOST:PORT */
  char *advertise; /* --advertise URL */
  GSocketAddress *listen_address; /* from either, or NULL */
  char *url;                      /* where clients reach this one's TCP API, or NULL */
  int lease_s;
  int node_grace_s;
  int sweep_s;
  char *id;
  char *old_state_dir; /* --state-dir, ignored */
  LodgeLifecycleOptions lifecycle;
  LodgeHttpLimits limits; /* of the API's connections */

  GMainLoop *loop;
  LodgeCephConfig *config;
  LodgeRados *rados;
  LodgeStore *store;
  LodgeCtl *ctl;
  LodgeServices *services; /* the leader's */
  LodgeApi *api;
  LodgeStandby *standby; /* a standby's listener: where the leader is */
  LodgeReconciler *reconciler;
  LodgeCephWatch *ceph_watch;
  gboolean leader;
  int exit_code;

  /* The lease, kept by a thread of its own: a main loop busy with
   * requests, or a slow Ceph call, neither delays a renewal nor hides that
   * one failed. */
  GThread *lease_thread;
  GMutex lease_lock;
  GCond lease_cond;
  gboolean lease_stop;
  gint64 lease_valid_until; /* monotonic µs; read by every thread (atomic) */
  guint64 generation;       /* of the lease, while this one leads */
} LodgeController;

static void
controller_clear (LodgeController *c)
{
  if (c->lease_thread != NULL)
    {
      g_mutex_lock (&c->lease_lock);
      c->lease_stop = TRUE;
      g_cond_signal (&c->lease_cond);
      g_mutex_unlock (&c->lease_lock);
      g_thread_join (c->lease_thread);
    }
  g_clear_pointer (&c->api, lodge_api_free);
  g_clear_pointer (&c->standby, lodge_standby_free);
  g_clear_object (&c->listen_address);
  g_free (c->listen);
  g_free (c->advertise);
  g_free (c->url);
  g_clear_pointer (&c->reconciler, lodge_reconciler_free);
  g_clear_pointer (&c->services, lodge_services_free);
  g_clear_pointer (&c->ceph_watch, lodge_ceph_watch_free);
  if (c->leader && c->store != NULL)
    lodge_lease_release (c->store, LEADER_LEASE, c->id, NULL);
  g_clear_pointer (&c->ctl, lodge_ctl_free);
  g_clear_pointer (&c->store, lodge_store_free);
  g_clear_pointer (&c->rados, lodge_rados_free);
  g_clear_pointer (&c->config, lodge_ceph_config_free);
  g_clear_pointer (&c->loop, g_main_loop_unref);
  g_free (c->socket_path);
  g_free (c->token_file);
  g_free (c->tls_cert_file);
  g_free (c->tls_key_file);
  g_clear_object (&c->tls);
  g_free (c->id);
  g_free (c->old_state_dir);
  g_free (c->lifecycle.client_id);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeController, controller_clear)

static void
say (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  /* Messages quote guests (agent errors, application states, file names
   * from repairs): the log never gets their control bytes, and a line end
   * in one cannot forge the next line. */
  g_autofree char *line = lodge_line_safe (msg);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format (now, "%H:%M:%S");
  printf ("%s.%03d lodged: %s\n", ts, g_date_time_get_microsecond (now) / 1000, line);
  fflush (stdout);
}

/* g_message and g_warning of the modules (repairs, ...), in the same
 * timestamped lines as the rest of the log. */
static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_DEBUG) || (level & G_LOG_LEVEL_INFO))
    return;
  say ("%s%s", (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
                  ? "warning: " : "", message);
}

/* The reconciler's lines, and the address claims' at start. */
static void
log_line (const char *message, gpointer user_data)
{
  say ("%s", message);
}

/* The TCP address of --listen (or --tcp-port), and the URL to publish. */
static gboolean
listen_address (LodgeController *c, GError **error)
{
  g_autofree char *spec = c->listen != NULL     ? g_strdup (c->listen)
                          : c->tcp_port != 0    ? g_strdup_printf ("127.0.0.1:%d", c->tcp_port)
                                                : NULL;
  if (spec == NULL)
    {
      const char *needs = c->advertise != NULL       ? "--advertise"
                          : c->tls_cert_file != NULL ? "--tls-cert"
                          : c->tls_key_file != NULL  ? "--tls-key"
                                                     : NULL;
      if (needs != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "%s needs a TCP listener (--listen)", needs);
      return needs == NULL;
    }
  g_autoptr (GSocketConnectable) na = g_network_address_parse (spec, 0, NULL);
  const char *host = na != NULL ? g_network_address_get_hostname (G_NETWORK_ADDRESS (na)) : NULL;
  guint16 port = na != NULL ? g_network_address_get_port (G_NETWORK_ADDRESS (na)) : 0;
  g_autoptr (GInetAddress) ip = host != NULL ? g_inet_address_new_from_string (host) : NULL;
  if (ip == NULL || port == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--listen '%s': give an IP address and a port (10.0.0.5:8080, [fd00::5]:8080)", spec);
      return FALSE;
    }
  c->listen_address = g_inet_socket_address_new (ip, port);
  if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "give both --tls-cert and --tls-key, or neither");
      return FALSE;
    }
  if (c->tls_cert_file != NULL)
    {
      c->tls = g_tls_certificate_new_from_files (c->tls_cert_file, c->tls_key_file, error);
      if (c->tls == NULL)
        {
          g_prefix_error (error, "--tls-cert %s, --tls-key %s: ", c->tls_cert_file, c->tls_key_file);
          return FALSE;
        }
    }
  else if (!g_inet_address_get_is_loopback (ip))
    {
      /* The token would cross the network in clear text. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--listen '%s' is not a loopback address: give --tls-cert and --tls-key (plain "
                   "HTTP is served on loopback addresses only)", spec);
      return FALSE;
    }
  const char *scheme = c->tls != NULL ? "https" : "http";
  if (c->advertise != NULL)
    {
      /* As the standbys will read it back. */
      g_autofree char *probe = lodge_leader_description ("", 0, c->advertise);
      g_autofree char *readable = lodge_leader_url (probe);
      if (readable == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--advertise '%s': give an http:// or https:// URL with a host", c->advertise);
          return FALSE;
        }
      c->url = g_strdup (c->advertise);
    }
  else if (!g_inet_address_get_is_any (ip))
    {
      g_autofree char *text = g_inet_address_to_string (ip);
      c->url = g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6
                 ? g_strdup_printf ("%s://[%s]:%u", scheme, text, port)
                 : g_strdup_printf ("%s://%s:%u", scheme, text, port);
    }
  return TRUE;
}

/* --init-storage: the pools, with their sizes and applications (the
 * state store's were made as it opened), and the cluster CA of
 * --ca-cert and --ca-key in the store, when given. */
static gboolean
prepare_storage (LodgeRados *rados, LodgeStore *store, const char *ca_cert, const char *ca_key)
{
  g_autoptr (GError) error = NULL;
  if (!lodge_cluster_init_storage (rados, &error))
    {
      g_printerr ("lodged: %s\n", error->message);
      return FALSE;
    }
  g_print ("lodged: storage ready: pools %s, %s, lodge-r%u to lodge-r%u\n", LODGE_STATE_POOL,
           LODGE_TEMPLATE_POOL, LODGE_TIER_MIN, LODGE_TIER_MAX);
  g_autofree char *cert = NULL, *key = NULL;
  if (ca_cert != NULL && !lodge_cluster_init_ca (store, ca_cert, ca_key, FALSE, &cert, &key, &error))
    {
      g_printerr ("lodged: %s\n", error->message);
      return FALSE;
    }
  if (key != NULL)
    memset (key, 0, strlen (key));
  return TRUE;
}

/* --init-cluster: `lodge cluster init`. */
static int
init_cluster (LodgeRados *rados, LodgeStore *store, const LodgeClusterInit *o)
{
  g_auto (LodgeClusterInitResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_print ("lodged: creating a Lodge cluster on the Ceph of %s, as client.%s\n", g_getenv ("CEPH_CONF"),
           g_getenv ("LODGE_CEPH_USER"));
  if (!lodge_cluster_init (rados, store, o, &result, &error))
    {
      g_printerr ("lodged: cluster init: %s\n", error->message);
      return g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS) ? 4 : 1;
    }
  gboolean v6 = strchr (o->address, ':') != NULL;
  g_autofree char *url = g_strdup_printf ("https://%s%s%s:%u", v6 ? "[" : "", o->address, v6 ? "]" : "", o->port);
  g_print ("lodged: cluster created: pools ready, the controllers' Ceph identity client.%s, the cluster CA "
           "(SHA-256 %s), %s's certificate\n",
           o->ceph_user, result.ca_fingerprint, o->name);
  for (guint i = 0; i < result.files->len; i++)
    g_print ("  wrote %s\n", (const char *) result.files->pdata[i]);
  g_print ("\nThe first admin is '%s'; its token (in %s/admin-token, shown this once):\n  %s\n",
           o->admin_user, o->etc_dir, result.admin_token);
  g_print ("\nStart the control center: systemctl enable --now lodged (without systemd: lodged with the "
           "settings of %s/lodged.env)\n", o->etc_dir);
  g_print ("\nAdd a node: on it, as root, within the hour (the token works once):\n"
           "  lodge node join %s --token %s\n"
           "More tokens: lodge join-token create [--role node|controller]\n",
           url, result.join_token);
  return 0;
}

/* Enough descriptors for @want connections (the soft limit up to the
 * hard one); lodged works with fewer, and refuses connections past them. */
static void
raise_file_limit (rlim_t want)
{
  struct rlimit l;
  if (getrlimit (RLIMIT_NOFILE, &l) < 0 || l.rlim_cur >= want)
    return;
  l.rlim_cur = l.rlim_max == RLIM_INFINITY || l.rlim_max > want ? want : l.rlim_max;
  setrlimit (RLIMIT_NOFILE, &l);
}

static gboolean
become_leader (LodgeController *c, GError **error)
{
  g_autofree char *token = NULL;
  if (c->token_file != NULL)
    {
      if (!g_file_get_contents (c->token_file, &token, NULL, error))
        return FALSE;
      g_strstrip (token);
    }
  /* The standby's server, still listening, becomes the API's: what it
   * accepted meanwhile is answered by the API. */
  LodgeHttpGuard *guard = NULL;
  SoupServer *server = c->standby != NULL ? lodge_standby_release_server (c->standby, &guard) : NULL;
  g_clear_pointer (&c->standby, lodge_standby_free);
  c->services = lodge_services_new (c->ctl, &c->lifecycle);
  c->api = lodge_api_new (c->services, c->socket_path, c->listen_address, c->tls, token, &c->limits,
                          server, guard, error);
  if (c->api == NULL)
    return FALSE;
  g_autofree char *ceph_key = lodge_ceph_config_read_key (c->config, NULL);
  lodge_api_set_join_identity (c->api, c->config->client_id, ceph_key);
  if (ceph_key != NULL)
    memset (ceph_key, 0, strlen (ceph_key));
  c->leader = TRUE;
  g_autofree char *where = c->listen_address != NULL
                             ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (c->listen_address))
                             : NULL;
  say ("active: serving the API on %s%s%s%s%s%s", c->socket_path, where != NULL ? " and " : "",
       where != NULL ? where : "",
       where == NULL ? "" : c->tls != NULL ? " (HTTPS, token required)" : " (HTTP, token required)",
       c->url != NULL ? "; published as " : "", c->url != NULL ? c->url : "");

  /* What runs now is adopted as it is: nothing is stopped or started
   * again; the reconciler finishes what a predecessor left half done. */
  g_autoptr (GPtrArray) list = lodge_ctl_list (c->ctl, NULL);
  guint running = 0, unfinished = 0;
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      LodgeRuntimeRecord *rt = list->pdata[i];
      running += rt->phase == LODGE_PHASE_RUNNING;
      unfinished += rt->phase == LODGE_PHASE_STARTING || rt->phase == LODGE_PHASE_STOPPING;
    }
  say ("adopted %u running environments; %u operations left unfinished to finish", running, unfinished);
  /* Definitions older than address claims get theirs (lodge-addresses.h). */
  g_autoptr (GError) local = NULL;
  guint claimed = lodge_define_claim_all (c->ctl, log_line, c, &local);
  if (local != NULL)
    say ("could not look for definitions without address claims: %s", local->message);
  else if (claimed > 0)
    say ("claimed %u addresses of definitions older than address claims", claimed);
  c->reconciler = lodge_reconciler_new (c->services, c->sweep_s, log_line, c, error);
  return c->reconciler != NULL;
}

/* Whether this controller may still act: its last renewal began less than
 * a lease ago. Asked before every write to the state store and every
 * change to a domain; after a pause (SIGSTOP, a frozen VM, a swap storm)
 * it says no at once, before the lease thread has even run again. */
static gboolean
lease_holds (gpointer data, GError **error)
{
  LodgeController *c = data;
  gint64 until = __atomic_load_n (&c->lease_valid_until, __ATOMIC_ACQUIRE);
  gint64 now = g_get_monotonic_time ();
  if (now < until)
    return TRUE;
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED,
               "this controller's leader lease (generation %" G_GUINT64_FORMAT ") was last renewed "
               "%.1f s ago, more than its %d s: another controller may lead now",
               c->generation, (double) (now - (until - (gint64) c->lease_s * G_USEC_PER_SEC)) / G_USEC_PER_SEC,
               c->lease_s);
  return FALSE;
}

/* The lease is gone, or cannot be shown to be held: another controller
 * may lead. Nothing of this one may act after this: it exits at once,
 * workers and all, in the middle of whatever they did (operations are
 * recorded as they go; the new leader finishes them). A supervisor starts
 * it again as a standby. */
static void G_GNUC_NORETURN
lease_lost (LodgeController *c, const char *why)
{
  __atomic_store_n (&c->lease_valid_until, 0, __ATOMIC_RELEASE);
  say ("lost the leader lease (generation %" G_GUINT64_FORMAT "): %s; exiting now, status 3",
       c->generation, why);
  fflush (stdout);
  _exit (3);
}

static gboolean
lead_on_main (gpointer data)
{
  LodgeController *c = data;
  g_autoptr (GError) error = NULL;
  if (!become_leader (c, &error))
    {
      say ("cannot serve: %s", error->message);
      c->exit_code = 1;
      g_main_loop_quit (c->loop);
    }
  else
    lodge_notify_status ("leading");
  return G_SOURCE_REMOVE;
}

typedef enum { LEASE_STANDBY, LEASE_HELD, LEASE_TAKEN } LeaseStep;

/* One renewal (@leading) or attempt. Taking the lease counts a new
 * generation and fences the state store and the nodes with it before
 * anything else runs as leader. */
static LeaseStep
lease_step (LodgeController *c, gboolean leading)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *desc = lodge_leader_description (g_get_host_name (), getpid (), c->url);
  gint64 began = g_get_monotonic_time ();
  gboolean held = lodge_lease_acquire (c->store, LEADER_LEASE, c->id, desc, c->lease_s, &error);
  if (held && !leading)
    {
      guint64 generation = 0;
      if (!lodge_lease_next_generation (c->store, LEADER_LEASE, &generation, &error))
        {
          say ("took the leader lease but cannot count its generation: %s; giving it back",
               error->message);
          lodge_lease_release (c->store, LEADER_LEASE, c->id, NULL);
          return LEASE_STANDBY;
        }
      c->generation = generation;
      lodge_store_set_fence (c->store, generation, lease_holds, c);
      lodge_libvirt_set_action_guard (lease_holds, c);
      say ("took the leader lease: generation %" G_GUINT64_FORMAT, generation);
    }
  if (held)
    {
      __atomic_store_n (&c->lease_valid_until, began + (gint64) c->lease_s * G_USEC_PER_SEC,
                        __ATOMIC_RELEASE);
      return leading ? LEASE_HELD : LEASE_TAKEN;
    }
  if (!leading)
    {
      if (!g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY))
        say ("cannot reach the lease: %s", error->message);
      return LEASE_STANDBY;
    }
  if (g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY))
    lease_lost (c, error->message);
  if (g_get_monotonic_time () >= __atomic_load_n (&c->lease_valid_until, __ATOMIC_ACQUIRE))
    {
      g_autofree char *why = g_strdup_printf ("not renewed within its %d s (%s)", c->lease_s,
                                              error->message);
      lease_lost (c, why);
    }
  say ("cannot renew the leader lease yet (trying again): %s", error->message);
  return LEASE_HELD;
}

/* Every third of the lease: the leader renews, a standby tries. */
static gpointer
lease_thread (gpointer data)
{
  LodgeController *c = data;
  gboolean leading = c->leader;
  g_mutex_lock (&c->lease_lock);
  while (!c->lease_stop)
    {
      gint64 wake = g_get_monotonic_time () + (gint64) c->lease_s * G_USEC_PER_SEC / 3;
      while (!c->lease_stop && g_cond_wait_until (&c->lease_cond, &c->lease_lock, wake))
        ;
      if (c->lease_stop)
        break;
      g_mutex_unlock (&c->lease_lock);
      if (lease_step (c, leading) == LEASE_TAKEN)
        {
          leading = TRUE;
          g_idle_add (lead_on_main, c);
        }
      g_mutex_lock (&c->lease_lock);
    }
  g_mutex_unlock (&c->lease_lock);
  return NULL;
}

static gboolean
on_signal (gpointer data)
{
  LodgeController *c = data;
  say ("stopping");
  lodge_notify_stopping ();
  g_main_loop_quit (c->loop);
  return G_SOURCE_REMOVE;
}

/* Lodge's appliance from --appliance DIR (an error when DIR is not one),
 * else from LODGE_APPLIANCE_DIR when it holds a kernel, else libguestfs's
 * own (said in the log). */
static gboolean
setup_appliance (const char *dir)
{
  g_autoptr (GError) error = NULL;
  if (g_strcmp0 (dir, "none") == 0)
    {
      say ("libguestfs's own appliance (--appliance none)");
      return TRUE;
    }
  const char *chosen = dir != NULL ? dir : LODGE_APPLIANCE_DIR;
  if (lodge_guestfs_use_appliance (chosen, &error))
    {
      say ("Lodge's libguestfs appliance: %s", chosen);
      return TRUE;
    }
  if (dir != NULL)
    {
      g_printerr ("lodged: --appliance %s: %s\n", dir, error->message);
      return FALSE;
    }
  say ("libguestfs's own appliance: %s", error->message);
  return TRUE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_log_set_default_handler (log_handler, NULL);
  g_auto (LodgeController) c = { 0 };
  c.lease_s = 6;
  c.node_grace_s = LODGE_CTL_DEFAULT_NODE_GRACE_S;
  c.sweep_s = 10;
  const LodgeHttpLimits defaults = LODGE_HTTP_LIMITS_DEFAULT;
  c.limits = defaults;
  int max_conn = (int) defaults.total, max_client = (int) defaults.per_client;
  int idle_s = (int) defaults.idle_s;
  gboolean init_storage = FALSE, init = FALSE, version = FALSE;
  g_autofree char *ca_cert = NULL, *ca_key = NULL, *etc_dir = NULL, *admin_user = NULL, *init_name = NULL,
                  *init_address = NULL;
  int init_port = 8443;
  g_autofree char *print_caps = NULL, *appliance = NULL;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &c.socket_path,
      "The API's UNIX socket (default $LODGE_CLUSTER_DIR/run/lodged.sock)", "PATH" },
    { "tcp-port", 'p', 0, G_OPTION_ARG_INT, &c.tcp_port,
      "Also serve on 127.0.0.1:PORT, with a bearer token (as --listen 127.0.0.1:PORT)", "PORT" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &c.listen,
      "Also serve on this TCP address (an IP address and port: 10.0.0.5:8080, [fd00::5]:8080), "
      "with a bearer token; HTTPS with --tls-cert and --tls-key, which any address but a "
      "loopback one needs; a standby answers there with where the leader is", "ADDR:PORT" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &c.tls_cert_file,
      "PEM certificate (chain) of the TCP listener: it serves HTTPS", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &c.tls_key_file,
      "PEM private key of --tls-cert", "FILE" },
    { "advertise", 'A', 0, G_OPTION_ARG_STRING, &c.advertise,
      "The URL clients reach this controller's TCP API at, published while it leads (default "
      "https://ADDR:PORT of --listen with TLS, else http://, unless ADDR is a wildcard)", "URL" },
    { "token-file", 't', 0, G_OPTION_ARG_FILENAME, &c.token_file,
      "File holding the API token for TCP clients", "FILE" },
    { "lease", 0, 0, G_OPTION_ARG_INT, &c.lease_s,
      "Seconds of the leader lease; a standby takes over this long after the leader stops "
      "(default 6)", "S" },
    { "node-grace", 0, 0, G_OPTION_ARG_INT, &c.node_grace_s,
      "Seconds without a heartbeat after which a node is down (default 3)", "S" },
    { "sweep", 0, 0, G_OPTION_ARG_INT, &c.sweep_s,
      "Seconds between safety sweeps that compare every VE's record with its node's libvirt "
      "(default 10); agents' reports trigger sweeps in between", "S" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &c.id, "This controller's name in the lease", "ID" },
    /* Ignored: VE config blobs and console logs are the nodes' now
     * (nodeagent/lodge-agent-ve.h); accepted so that old command lines
     * still start. */
    { "state-dir", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &c.old_state_dir,
      "Ignored (config blobs and console logs are kept on the nodes)", "DIR" },
    { "ready-timeout", 0, 0, G_OPTION_ARG_INT, &c.lifecycle.ready_timeout_s,
      "Seconds a starting guest has to print its ready line (default 120)", "S" },
    { "stop-timeout", 0, 0, G_OPTION_ARG_INT, &c.lifecycle.stop_timeout_s,
      "Seconds a stopping guest has to shut down before it is powered off (default 30)", "S" },
    { "migrate-timeout", 0, 0, G_OPTION_ARG_INT, &c.lifecycle.migrate_timeout_s,
      "Seconds a live migration may take before it is aborted (default 300)", "S" },
    { "max-downtime", 0, 0, G_OPTION_ARG_INT, &c.lifecycle.migrate_downtime_ms,
      "Milliseconds a live migration may pause a guest, unless the request says (default 300)",
      "MS" },
    { "init-storage", 0, 0, G_OPTION_ARG_NONE, &init_storage,
      "Create Lodge's pools (the state store, the templates, a disk pool per fault-tolerance "
      "level) where they are missing, and exit. Needs a Ceph identity that may create pools "
      "(client.admin at setup); lodged's own may not. With --ca-cert and --ca-key, also keeps "
      "that CA as the cluster's (refused if the store has another)", NULL },
    { "init-cluster", 0, 0, G_OPTION_ARG_NONE, &init,
      "Create a Lodge cluster on an existing Ceph, as its admin ($CEPH_CONF, default "
      "/etc/ceph/ceph.conf; $LODGE_CEPH_USER, default admin), and exit: the pools, the "
      "controllers' Ceph identity, the cluster CA (or --ca-cert's), this controller's "
      "certificate, the first admin user, a node join token, and this host's --etc files. "
      "What 'lodge cluster init' runs", NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &init_name, "With --init-cluster: this controller's name "
      "(default: the host name)", "NAME" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &init_address, "With --init-cluster: this controller's IP "
      "address, where the API listens", "ADDR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &init_port, "With --init-cluster: the API's port (default 8443)", "PORT" },
    { "etc", 0, 0, G_OPTION_ARG_FILENAME, &etc_dir, "With --init-cluster: where this host's files go "
      "(default /etc/lodge)", "DIR" },
    { "admin-user", 0, 0, G_OPTION_ARG_STRING, &admin_user, "With --init-cluster: the first admin's name "
      "(default admin)", "NAME" },
    { "ca-cert", 0, 0, G_OPTION_ARG_FILENAME, &ca_cert, "With --init-cluster or --init-storage: a CA "
      "certificate (PEM) to use as the cluster's instead of a new one", "FILE" },
    { "ca-key", 0, 0, G_OPTION_ARG_FILENAME, &ca_key, "The key of --ca-cert (PEM)", "FILE" },
    { "print-caps", 0, 0, G_OPTION_ARG_STRING, &print_caps,
      "Print the Ceph caps of the controllers' identity (controller) or of node NAME's "
      "(node:NAME), one word a line as 'ceph auth' takes them (TYPE, then CAPS), and exit",
      "WHO" },
    { "appliance", 0, 0, G_OPTION_ARG_FILENAME, &appliance,
      "Lodge's libguestfs appliance for repairs and imports: its kernel, modules and supermin inputs "
      "(default " LODGE_APPLIANCE_DIR " when it holds a kernel; none: libguestfs's own)", "DIR" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_conn,
      "Connections the API holds in all; one past it is answered 503 (default 1024)", "N" },
    { "max-client-connections", 0, 0, G_OPTION_ARG_INT, &max_client,
      "Connections the API holds from one address; one past it is answered 503 (default 64)", "N" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_s,
      "Seconds a connection may be idle, and a request's headers and body may take (an "
      "upload's body: 6 hours), before it is closed (default 60)", "S" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_option_context_set_summary (ctx, "The Lodge control center: holds the leader lease, serves "
                                     "the API, runs environments on the nodes.");
  g_option_context_set_description (
    ctx, "The Ceph cluster is found as the lodge CLI finds it ($CEPH_CONF, or the local\n"
         "cluster's ceph.conf); run it inside the cluster's network namespace. Several\n"
         "may run: one is active, the others wait.\n\n"
         "Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start, 2 on wrong usage,\n"
         "3 when it lost the leader lease; --init-cluster: 4 when the Ceph holds a Lodge\n"
         "cluster already.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 1)
    {
      g_printerr ("lodged: %s\nTry 'lodged --help'.\n", error != NULL ? error->message : "no arguments expected");
      return 2;
    }
  if (version)
    {
      g_print ("lodged %s\n", LODGE_VERSION);
      return 0;
    }
  if (c.lease_s < 3 || c.node_grace_s < 1 || c.sweep_s < 1 || c.tcp_port < 0 || c.tcp_port > 65535)
    {
      g_printerr ("lodged: --lease must be >= 3, --node-grace and --sweep >= 1, --tcp-port 1-65535\n");
      return 2;
    }
  if (max_conn < 1 || max_client < 1 || idle_s < 1 || max_conn > 1000000 || max_client > max_conn
      || idle_s > 86400)
    {
      g_printerr ("lodged: --max-connections must be 1-1000000, --max-client-connections 1 to it, "
                  "--idle-timeout 1-86400\n");
      return 2;
    }
  c.limits.total = (guint) max_conn;
  c.limits.per_client = (guint) max_client;
  c.limits.idle_s = c.limits.read_s = (guint) idle_s;
  raise_file_limit (2 * c.limits.total + 256);
  if (c.listen != NULL && c.tcp_port != 0)
    {
      g_printerr ("lodged: give --listen or --tcp-port, not both\n");
      return 2;
    }
  if (!listen_address (&c, &error))
    {
      g_printerr ("lodged: %s\nTry 'lodged --help'.\n", error->message);
      return 2;
    }
  if (c.socket_path == NULL)
    {
      const char *dir = g_getenv ("LODGE_CLUSTER_DIR");
      c.socket_path = g_build_filename (dir != NULL && *dir ? dir : LODGE_CLUSTER_DEFAULT_DIR, "run",
                                        "lodged.sock", NULL);
    }
  if (c.lifecycle.ready_timeout_s == 0)
    c.lifecycle.ready_timeout_s = 120;
  if (c.lifecycle.stop_timeout_s == 0)
    c.lifecycle.stop_timeout_s = 30;
  if (c.lifecycle.migrate_timeout_s == 0)
    c.lifecycle.migrate_timeout_s = 300;
  if (c.lifecycle.migrate_downtime_ms == 0)
    c.lifecycle.migrate_downtime_ms = 300;
  if (c.id == NULL)
    c.id = g_strdup_printf ("lodged-%s-%d", g_get_host_name (), getpid ());

  if (print_caps != NULL)
    {
      g_auto (GStrv) caps = NULL;
      if (strcmp (print_caps, "controller") == 0)
        caps = lodge_cluster_controller_caps ();
      else if (g_str_has_prefix (print_caps, "node:") && lodge_storage_check_name (print_caps + 5, "node name", &error))
        caps = lodge_join_node_caps (print_caps + 5);
      if (caps == NULL)
        {
          g_printerr ("lodged: --print-caps takes controller or node:NAME%s%s\n", error != NULL ? ": " : "",
                      error != NULL ? error->message : "");
          return 2;
        }
      for (char **cap = caps; *cap != NULL; cap++)
        g_print ("%s\n", *cap);
      return 0;
    }
  if ((ca_cert == NULL) != (ca_key == NULL))
    {
      g_printerr ("lodged: --ca-cert and --ca-key go together\n");
      return 2;
    }
  if (init && (init_address == NULL || init_port < 1 || init_port > 65535))
    {
      g_printerr ("lodged: --init-cluster needs --address (this controller's IP address) and a --port of 1-65535\n");
      return 2;
    }
  /* Before any thread: it sets supermin's environment. */
  if (!init && !init_storage && !setup_appliance (appliance))
    return 2;
  /* The cluster is made as Ceph's admin, from Ceph's own configuration. */
  if (init && g_getenv ("CEPH_CONF") == NULL)
    g_setenv ("CEPH_CONF", "/etc/ceph/ceph.conf", TRUE);
  if (init && g_getenv ("LODGE_CEPH_USER") == NULL)
    g_setenv ("LODGE_CEPH_USER", "admin", TRUE);
  c.config = lodge_ceph_config_new_default ();
  c.rados = lodge_rados_connect (c.config, &error);
  c.store = c.rados != NULL ? lodge_store_open (c.rados, NULL, &error) : NULL;
  if (c.store == NULL)
    {
      g_printerr ("lodged: %s\n", error->message);
      return 1;
    }
  if (init_storage)
    return prepare_storage (c.rados, c.store, ca_cert, ca_key) ? 0 : 1;
  if (init)
    {
      LodgeClusterInit o = {
        .name = init_name != NULL ? init_name : g_get_host_name (),
        .address = init_address,
        .port = (guint) init_port,
        .etc_dir = etc_dir != NULL ? etc_dir : "/etc/lodge",
        .ca_cert_file = ca_cert,
        .ca_key_file = ca_key,
        .admin_user = admin_user != NULL ? admin_user : "admin",
        .ceph_user = "lodge",
      };
      return init_cluster (c.rados, c.store, &o);
    }
  c.ctl = lodge_ctl_new (c.store, c.node_grace_s);
  c.ceph_watch = lodge_ceph_watch_new (c.rados, 5);
  lodge_ctl_set_ceph_watch (c.ctl, c.ceph_watch);
  c.lifecycle.client_id = g_strdup (c.config->client_id);
  c.loop = g_main_loop_new (NULL, FALSE);

  g_mutex_init (&c.lease_lock);
  g_cond_init (&c.lease_cond);
  if (lease_step (&c, FALSE) == LEASE_TAKEN && !become_leader (&c, &error))
    {
      say ("cannot serve: %s", error->message);
      return 1;
    }
  if (!c.leader)
    {
      g_autofree char *holder = NULL;
      lodge_lease_get_holder (c.store, LEADER_LEASE, &holder, NULL, NULL);
      if (c.listen_address != NULL
          && (c.standby = lodge_standby_new (c.store, LEADER_LEASE, c.id, c.listen_address, c.tls,
                                             &c.limits, &error)) == NULL)
        {
          g_printerr ("lodged: %s\n", error->message);
          return 1;
        }
      say ("standby: %s is active; taking over when its lease lapses%s", holder ? holder : "another controller",
           c.standby != NULL ? " (meanwhile its TCP listener says where the leader is)" : "");
    }
  c.lease_thread = g_thread_new ("lease", lease_thread, &c);
  g_unix_signal_add (SIGTERM, on_signal, &c);
  g_unix_signal_add (SIGINT, on_signal, &c);
  lodge_notify_ready (c.leader ? "leading" : "standby");
  lodge_notify_watchdog_start ();
  g_main_loop_run (c.loop);
  return c.exit_code;
}
