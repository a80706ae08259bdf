#include "lodge-libvirt.h"

#include <string.h>
#include <libvirt/virterror.h>

#include "lodge-domain.h"
#include "lodge-libvirt-private.h"

#include "lodge-strings.h"
#include "lodge-xml.h"

G_DEFINE_QUARK (lodge-libvirt-error-quark, lodge_libvirt_error)


G_DEFINE_AUTOPTR_CLEANUP_FUNC (virSecret, virSecretFree)

static void
silence (void *user_data, virErrorPtr error)
{
  /* Errors are turned into GErrors; libvirt must not print them. */
}

/* libvirt's own event loop (events, keepalives) runs in one thread of the
 * process for as long as it lives. */
static gpointer
event_thread (gpointer data)
{
  for (;;)
    virEventRunDefaultImpl ();
  return NULL;
}

static void
ensure_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      virInitialize ();
      virSetErrorFunc (NULL, silence);
      virEventRegisterDefaultImpl ();
      g_thread_unref (g_thread_new ("libvirt-events", event_thread, NULL));
      g_once_init_leave (&once, 1);
    }
}

static void set_error_from (virErrorPtr err, GError **error, const char *context);

static LodgeLibvirtGuard action_guard;
static gpointer action_guard_data;

void
lodge_libvirt_set_action_guard (LodgeLibvirtGuard guard, gpointer user_data)
{
  action_guard_data = user_data;
  action_guard = guard;
}

/* Whether this process may change domain @name now. */
static gboolean
may_act (LodgeLibvirt *lv, const char *what, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (action_guard == NULL || action_guard (action_guard_data, &local))
    return TRUE;
  g_set_error (error, local->domain, local->code, "%s: not %s %s: %s", lv->uri, what,
               name != NULL ? name : "?", local->message);
  return FALSE;
}

/* The one place virGetLastError() is read. */
gboolean
lodge_libvirt_fail (LodgeLibvirt *lv, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *context = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  set_error_from (virGetLastError (), error, context);
  virResetLastError ();
  return FALSE;
}

static void
set_error_from (virErrorPtr err, GError **error, const char *context)
{
  LodgeLibvirtErrorCode code = LODGE_LIBVIRT_ERROR_FAILED;
  if (err != NULL)
    switch (err->code)
      {
      case VIR_ERR_NO_DOMAIN:
      case VIR_ERR_NO_SECRET:
        code = LODGE_LIBVIRT_ERROR_NOT_FOUND;
        break;
      case VIR_ERR_OPERATION_INVALID:
        code = LODGE_LIBVIRT_ERROR_STATE;
        break;
      case VIR_ERR_XML_ERROR:
      case VIR_ERR_XML_DETAIL:
      case VIR_ERR_CONFIG_UNSUPPORTED:
      case VIR_ERR_INVALID_ARG:
        code = LODGE_LIBVIRT_ERROR_INVALID;
        break;
      case VIR_ERR_AGENT_UNRESPONSIVE:
      case VIR_ERR_AGENT_UNSYNCED:
        code = LODGE_LIBVIRT_ERROR_AGENT;
        break;
      case VIR_ERR_SYSTEM_ERROR:
      case VIR_ERR_RPC:
      case VIR_ERR_NO_CONNECT:
      case VIR_ERR_INVALID_CONN:
        code = LODGE_LIBVIRT_ERROR_UNREACHABLE;
        break;
      default:
        break;
      }
  g_set_error (error, LODGE_LIBVIRT_ERROR, code, "%s: %s", context,
               err != NULL && err->message != NULL ? err->message : "unknown libvirt error");
}

/* virConnectOpen() has no deadline: a frozen libvirtd accepts the TCP
 * connection and never answers. So it runs in a thread of its own, which
 * is abandoned (and cleans up after itself) when the deadline passes. */
typedef struct {
  gint refs;
  char *uri;
  GMutex lock;
  GCond cond;
  gboolean done, abandoned;
  virConnectPtr conn;
  virErrorPtr error;
} Opening;

static void
opening_unref (Opening *o)
{
  if (!g_atomic_int_dec_and_test (&o->refs))
    return;
  if (o->conn != NULL)
    virConnectClose (o->conn);
  virFreeError (o->error);
  g_free (o->uri);
  g_mutex_clear (&o->lock);
  g_cond_clear (&o->cond);
  g_free (o);
}

static gpointer
open_thread (gpointer data)
{
  Opening *o = data;
  virConnectPtr conn = virConnectOpen (o->uri);
  g_mutex_lock (&o->lock);
  o->conn = conn;
  if (conn == NULL)
    o->error = virSaveLastError ();
  o->done = TRUE;
  g_cond_signal (&o->cond);
  g_mutex_unlock (&o->lock);
  opening_unref (o);
  return NULL;
}

/* @uri, with libvirt's pkipath=$LODGE_LIBVIRT_PKIPATH for a qemu+tls://
 * URI that names none: where this program's client certificate and the
 * cluster CA are, when not in /etc/pki (a second controller on a test's
 * host). */
static char *
uri_with_pkipath (const char *uri)
{
  const char *pki = g_getenv ("LODGE_LIBVIRT_PKIPATH");
  if (pki == NULL || *pki == '\0' || !g_str_has_prefix (uri, "qemu+tls:")
      || strstr (uri, "pkipath=") != NULL)
    return g_strdup (uri);
  g_autofree char *escaped = g_uri_escape_string (pki, "/", FALSE);
  return g_strconcat (uri, strchr (uri, '?') != NULL ? "&" : "?", "pkipath=", escaped, NULL);
}

LodgeLibvirt *
lodge_libvirt_open (const char *uri, GError **error)
{
  return lodge_libvirt_open_within (uri, LODGE_LIBVIRT_TIMEOUT_S * 1000, error);
}

LodgeLibvirt *
lodge_libvirt_open_within (const char *uri, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (uri != NULL, NULL);
  ensure_init ();
  Opening *o = g_new0 (Opening, 1);
  o->refs = 2;
  o->uri = uri_with_pkipath (uri);
  g_mutex_init (&o->lock);
  g_cond_init (&o->cond);
  g_thread_unref (g_thread_new ("libvirt-open", open_thread, o));
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_mutex_lock (&o->lock);
  while (!o->done)
    if (!g_cond_wait_until (&o->cond, &o->lock, deadline))
      break;
  virConnectPtr conn = g_steal_pointer (&o->conn);
  gboolean done = o->done;
  if (!done)
    o->abandoned = TRUE;
  if (done && conn == NULL)
    {
      g_autofree char *context = g_strdup_printf ("cannot connect to libvirt at %s", uri);
      set_error_from (o->error, error, context);
    }
  g_mutex_unlock (&o->lock);
  opening_unref (o);
  if (!done)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_UNREACHABLE,
                   "libvirt at %s does not answer (waited %.1f s)", uri, timeout_ms / 1000.0);
      return NULL;
    }
  if (conn == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->code == LODGE_LIBVIRT_ERROR_FAILED)
        (*error)->code = LODGE_LIBVIRT_ERROR_UNREACHABLE;
      return NULL;
    }
  /* Calls on a node that stops answering fail after a few seconds. */
  virConnectSetKeepAlive (conn, 2, 2);
  virResetLastError ();
  LodgeLibvirt *lv = g_new0 (LodgeLibvirt, 1);
  lv->conn = conn;
  lv->uri = g_strdup (uri);
  return lv;
}

void
lodge_libvirt_free (LodgeLibvirt *lv)
{
  if (lv == NULL)
    return;
  if (lv->conn != NULL)
    virConnectClose (lv->conn);
  g_free (lv->uri);
  g_free (lv);
}

const char *
lodge_libvirt_uri (LodgeLibvirt *lv)
{
  return lv->uri;
}

virDomainPtr
lodge_libvirt_lookup (LodgeLibvirt *lv, const char *name, GError **error)
{
  virDomainPtr dom = virDomainLookupByName (lv->conn, name);
  if (dom == NULL)
    lodge_libvirt_fail (lv, error, "%s: domain %s", lv->uri, name);
  return dom;
}

static char *
domain_name_of (const char *xml)
{
  g_autoptr (xmlDoc) doc = lodge_xml_parse (xml, strlen (xml), "domain", NULL);
  xmlNode *root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  return root != NULL ? lodge_xml_text (lodge_xml_child (root, "name")) : NULL;
}

gboolean
lodge_libvirt_define_and_start (LodgeLibvirt *lv, const char *xml, GError **error)
{
  /* The name comes from the XML, not from virDomainGetName(): every libvirt
   * call resets the thread's last error, and an argument of
   * lodge_libvirt_fail() is evaluated before it reads that error (which
   * made "unknown libvirt error" of QEMU's own words). */
  g_autofree char *name = domain_name_of (xml);
  if (!may_act (lv, "starting", name, error))
    return FALSE;
  g_autoptr (virDomain) dom = virDomainDefineXML (lv->conn, xml);
  if (dom == NULL)
    return lodge_libvirt_fail (lv, error, "%s: cannot define domain %s", lv->uri, name != NULL ? name : "?");
  if (virDomainCreate (dom) < 0)
    {
      lodge_libvirt_fail (lv, error, "%s: cannot start domain %s", lv->uri, name != NULL ? name : "?");
      virDomainUndefine (dom);
      virResetLastError ();
      return FALSE;
    }
  return TRUE;
}

static LodgeDomainState
map_state (int state)
{
  switch (state)
    {
    case VIR_DOMAIN_RUNNING:
      return LODGE_DOMAIN_STATE_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
      return LODGE_DOMAIN_STATE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
      return LODGE_DOMAIN_STATE_SHUTTING_DOWN;
    case VIR_DOMAIN_SHUTOFF:
      return LODGE_DOMAIN_STATE_SHUTOFF;
    case VIR_DOMAIN_CRASHED:
      return LODGE_DOMAIN_STATE_CRASHED;
    default:
      return LODGE_DOMAIN_STATE_OTHER;
    }
}

static LodgeStopReason
map_stop_reason (int state, int reason)
{
  if (state == VIR_DOMAIN_CRASHED)
    return reason == VIR_DOMAIN_CRASHED_PANICKED ? LODGE_STOP_PANICKED : LODGE_STOP_CRASHED;
  if (state != VIR_DOMAIN_SHUTOFF)
    return LODGE_STOP_NONE;
  switch (reason)
    {
    case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
      return LODGE_STOP_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF_CRASHED: /* also a QEMU killed by a signal */
      return LODGE_STOP_CRASHED;
    case VIR_DOMAIN_SHUTOFF_FAILED:
      return LODGE_STOP_FAILED;
    case VIR_DOMAIN_SHUTOFF_DESTROYED:
      return LODGE_STOP_DESTROYED;
    default:
      return LODGE_STOP_OTHER;
    }
}

gboolean
lodge_libvirt_state_reason (LodgeLibvirt *lv, const char *name, LodgeDomainState *ret_state,
                            LodgeStopReason *ret_reason, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  int state = 0, reason = 0;
  if (virDomainGetState (dom, &state, &reason, 0) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot read the state of %s", lv->uri, name);
  *ret_state = map_state (state);
  if (ret_reason != NULL)
    *ret_reason = map_stop_reason (state, reason);
  return TRUE;
}

gboolean
lodge_libvirt_state (LodgeLibvirt *lv, const char *name, LodgeDomainState *ret_state,
                     GError **error)
{
  return lodge_libvirt_state_reason (lv, name, ret_state, NULL, error);
}

GPtrArray *
lodge_libvirt_list (LodgeLibvirt *lv, GError **error)
{
  virDomainPtr *doms = NULL;
  int n = virConnectListAllDomains (lv->conn, &doms, 0);
  if (n < 0)
    {
      lodge_libvirt_fail (lv, error, "%s: cannot list domains", lv->uri);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n; i++)
    {
      g_ptr_array_add (names, g_strdup (virDomainGetName (doms[i])));
      virDomainFree (doms[i]);
    }
  free (doms);
  g_ptr_array_sort (names, lodge_compare_strings);
  return names;
}

gboolean
lodge_libvirt_shutdown (LodgeLibvirt *lv, const char *name, guint timeout_s, gboolean force,
                        gboolean *ret_forced, GError **error)
{
  if (ret_forced != NULL)
    *ret_forced = FALSE;
  if (!may_act (lv, "stopping", name, error))
    return FALSE;
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  if (!virDomainIsActive (dom))
    return TRUE;
  /* The guest's power button, never its agent: the agent is the guest's
   * to replace, and libvirt's guest-shutdown waits up to 60 s for an
   * agent that does not answer (and for any agent call in flight). With
   * no time to shut down, the guest is not asked at all. */
  if (timeout_s > 0 || !force)
    {
      /* A driver without the choice (libvirt's test driver) has no agent. */
      if (virDomainShutdownFlags (dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0
          && (virGetLastErrorCode () != VIR_ERR_INVALID_ARG || virDomainShutdown (dom) < 0))
        return lodge_libvirt_fail (lv, error, "%s: cannot ask %s to shut down", lv->uri, name);
      /* Poll the domain's state until it is off or the deadline passes. */
      gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
      while (virDomainIsActive (dom) == 1 && g_get_monotonic_time () < deadline)
        g_usleep (100 * 1000);
      if (virDomainIsActive (dom) != 1)
        return TRUE;
      if (!force)
        {
          g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_TIMEOUT,
                       "%s: %s did not shut down within %u s", lv->uri, name, timeout_s);
          return FALSE;
        }
    }
  if (ret_forced != NULL)
    *ret_forced = TRUE;
  if (virDomainDestroy (dom) < 0 && virDomainIsActive (dom) == 1)
    return lodge_libvirt_fail (lv, error, "%s: cannot stop %s", lv->uri, name);
  virResetLastError ();
  return TRUE;
}

gboolean
lodge_libvirt_destroy (LodgeLibvirt *lv, const char *name, GError **error)
{
  if (!may_act (lv, "destroying", name, error))
    return FALSE;
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  if (virDomainIsActive (dom) == 1 && virDomainDestroy (dom) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot destroy %s", lv->uri, name);
  return TRUE;
}

gboolean
lodge_libvirt_is_lodge_domain (LodgeLibvirt *lv, const char *name)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, NULL);
  if (dom == NULL)
    return FALSE;
  g_autofree char *meta = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, LODGE_METADATA_NS,
                                                VIR_DOMAIN_AFFECT_LIVE);
  virResetLastError ();
  return meta != NULL;
}

typedef struct {
  virDomainPtr dom;
  const char *dest_uri;
  virTypedParameterPtr params;
  int n_params;
  unsigned int flags;
  gboolean ok;
  virErrorPtr error;   /* copied in the migrating thread */
  gboolean done;
  GMutex lock;
  GCond cond;
} Migration;

static gpointer
migrate_thread (gpointer data)
{
  Migration *m = data;
  int r = virDomainMigrateToURI3 (m->dom, m->dest_uri, m->params, m->n_params, m->flags);
  g_mutex_lock (&m->lock);
  m->ok = r == 0;
  if (r < 0)
    m->error = virSaveLastError ();
  m->done = TRUE;
  g_cond_signal (&m->cond);
  g_mutex_unlock (&m->lock);
  return NULL;
}

char *
lodge_libvirt_migratable_xml (LodgeLibvirt *lv, const char *name, GError **error)
{
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return NULL;
  char *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_MIGRATABLE);
  if (xml == NULL)
    {
      lodge_libvirt_fail (lv, error, "%s: cannot read the XML of %s", lv->uri, name);
      return NULL;
    }
  char *copy = g_strdup (xml);
  free (xml);
  return copy;
}

gboolean
lodge_libvirt_migrate (LodgeLibvirt *lv, const char *name, const char *dest_uri,
                       const char *migrate_uri, const char *dest_xml, guint max_downtime_ms,
                       guint timeout_s,
                       LodgeMigrationProgress progress, gpointer user_data,
                       LodgeMigrationStats *ret_stats, GError **error)
{
  g_return_val_if_fail (dest_uri != NULL, FALSE);
  if (!may_act (lv, "migrating", name, error))
    return FALSE;
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  if (virDomainIsActive (dom) != 1)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE,
                   "%s: domain %s is not running", lv->uri, name);
      return FALSE;
    }
  if (max_downtime_ms > 0 && virDomainMigrateSetMaxDowntime (dom, max_downtime_ms, 0) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot set the maximum downtime of %s", lv->uri, name);

  Migration m = { 0 };
  m.dom = dom;
  m.dest_uri = dest_uri;
  int max_params = 0;
  if (migrate_uri != NULL
      && virTypedParamsAddString (&m.params, &m.n_params, &max_params, VIR_MIGRATE_PARAM_URI,
                                  migrate_uri) < 0)
    return lodge_libvirt_fail (lv, error, "cannot prepare the migration of %s", name);
  if (dest_xml != NULL
      && virTypedParamsAddString (&m.params, &m.n_params, &max_params, VIR_MIGRATE_PARAM_DEST_XML,
                                  dest_xml) < 0)
    {
      virTypedParamsFree (m.params, m.n_params);
      return lodge_libvirt_fail (lv, error, "cannot prepare the migration of %s", name);
    }
  m.flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST
            | VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_AUTO_CONVERGE | VIR_MIGRATE_ABORT_ON_ERROR;
  /* Between nodes that speak TLS, the guest's memory goes over TLS too
   * (QEMU's own x509 credentials on both nodes, qemu.conf). */
  if (g_str_has_prefix (dest_uri, "qemu+tls:"))
    m.flags |= VIR_MIGRATE_TLS;
  g_mutex_init (&m.lock);
  g_cond_init (&m.cond);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) timeout_s * G_USEC_PER_SEC;
  GThread *thread = g_thread_new ("lodge-migrate", migrate_thread, &m);

  /* Progress (and the deadline) from the source's job info meanwhile. */
  gboolean aborted = FALSE;
  g_mutex_lock (&m.lock);
  while (!m.done)
    {
      g_cond_wait_until (&m.cond, &m.lock, g_get_monotonic_time () + G_USEC_PER_SEC / 2);
      if (m.done)
        break;
      g_mutex_unlock (&m.lock);
      virDomainJobInfo info;
      if (progress != NULL && virDomainGetJobInfo (dom, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE)
        {
          guint64 elapsed_ms = MAX (info.timeElapsed, 1);
          progress (info.memProcessed, info.memRemaining, info.memProcessed * 1000 / elapsed_ms,
                    user_data);
        }
      virResetLastError ();
      if (!aborted && g_get_monotonic_time () > deadline)
        {
          virDomainAbortJob (dom); /* the migrating thread then fails */
          virResetLastError ();
          aborted = TRUE;
        }
      g_mutex_lock (&m.lock);
    }
  g_mutex_unlock (&m.lock);
  g_thread_join (thread);
  virTypedParamsFree (m.params, m.n_params);
  g_mutex_clear (&m.lock);
  g_cond_clear (&m.cond);

  if (!m.ok)
    {
      LodgeLibvirtErrorCode code = aborted ? LODGE_LIBVIRT_ERROR_TIMEOUT : LODGE_LIBVIRT_ERROR_FAILED;
      g_set_error (error, LODGE_LIBVIRT_ERROR, code, "%s: migrating %s to %s %s: %s", lv->uri, name,
                   dest_uri, aborted ? "took too long and was aborted" : "failed",
                   m.error != NULL && m.error->message != NULL ? m.error->message : "unknown error");
      virFreeError (m.error);
      return FALSE;
    }
  if (ret_stats != NULL)
    {
      memset (ret_stats, 0, sizeof *ret_stats);
      ret_stats->total_ms = (g_get_monotonic_time () - start) / 1000;
      virTypedParameterPtr params = NULL;
      int n = 0, type = 0;
      unsigned long long v = 0;
      /* The source forgets the domain (it was undefined there); the
       * destination keeps the completed job's statistics. */
      g_autoptr (LodgeLibvirt) dest = lodge_libvirt_open (dest_uri, NULL);
      g_autoptr (virDomain) moved = dest != NULL ? virDomainLookupByName (dest->conn, name) : NULL;
      if (moved != NULL
          && virDomainGetJobStats (moved, &type, &params, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0)
        {
          if (virTypedParamsGetULLong (params, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &v) == 1)
            ret_stats->total_ms = v;
          if (virTypedParamsGetULLong (params, n, VIR_DOMAIN_JOB_DOWNTIME, &v) == 1)
            ret_stats->downtime_ms = v;
          if (virTypedParamsGetULLong (params, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &v) == 1)
            ret_stats->data_bytes = v;
          virTypedParamsFree (params, n);
        }
      virResetLastError ();
    }
  return TRUE;
}

gboolean
lodge_libvirt_undefine (LodgeLibvirt *lv, const char *name, GError **error)
{
  if (!may_act (lv, "undefining", name, error))
    return FALSE;
  g_autoptr (virDomain) dom = lodge_libvirt_lookup (lv, name, error);
  if (dom == NULL)
    return FALSE;
  if (virDomainIsActive (dom) == 1)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_STATE,
                   "%s: %s is running; stop it first", lv->uri, name);
      return FALSE;
    }
  if (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM) < 0
      && virDomainUndefine (dom) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot undefine %s", lv->uri, name);
  return TRUE;
}

gboolean
lodge_libvirt_set_ceph_secret (LodgeLibvirt *lv, const char *uuid, const char *client_id,
                               const char *key_base64, GError **error)
{
  g_return_val_if_fail (g_uuid_string_is_valid (uuid), FALSE);
  gsize key_len = 0;
  g_autofree guchar *key = g_base64_decode (key_base64, &key_len);
  if (key_len == 0)
    {
      g_set_error (error, LODGE_LIBVIRT_ERROR, LODGE_LIBVIRT_ERROR_INVALID,
                   "the Ceph key of client.%s is not base64", client_id);
      return FALSE;
    }
  /* Built with libxml2 so the client name is escaped. */
  g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *secret = xmlNewNode (NULL, (const xmlChar *) "secret");
  xmlDocSetRootElement (doc, secret);
  lodge_xml_set (secret, "ephemeral", "no");
  lodge_xml_set (secret, "private", "yes");
  lodge_xml_add (secret, "uuid", uuid);
  g_autofree char *desc = g_strdup_printf ("Ceph key of client.%s (Lodge)", client_id);
  lodge_xml_add (secret, "description", desc);
  xmlNode *usage = lodge_xml_add (secret, "usage", NULL);
  lodge_xml_set (usage, "type", "ceph");
  g_autofree char *usage_name = g_strdup_printf ("client.%s lodge", client_id);
  lodge_xml_add (usage, "name", usage_name);
  g_autofree char *xml = lodge_xml_format_doc (doc);

  g_autoptr (virSecret) s = virSecretDefineXML (lv->conn, xml, 0);
  if (s == NULL)
    return lodge_libvirt_fail (lv, error, "%s: cannot define the Ceph secret %s", lv->uri, uuid);
  if (virSecretSetValue (s, key, key_len, 0) < 0)
    return lodge_libvirt_fail (lv, error, "%s: cannot store the Ceph key in secret %s", lv->uri, uuid);
  return TRUE;
}

typedef struct {
  LodgeDomainEventFunc func;
  gpointer user_data;
} Watch;

static int
lifecycle_cb (virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
  Watch *w = opaque;
  gboolean gone = FALSE;
  LodgeDomainState state;
  switch (event)
    {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
      state = LODGE_DOMAIN_STATE_RUNNING;
      break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
      state = LODGE_DOMAIN_STATE_PAUSED;
      break;
    case VIR_DOMAIN_EVENT_STOPPED:
      state = detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? LODGE_DOMAIN_STATE_CRASHED
                                                         : LODGE_DOMAIN_STATE_SHUTOFF;
      break;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
      state = detail == VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED ? LODGE_DOMAIN_STATE_SHUTOFF
                                                            : LODGE_DOMAIN_STATE_SHUTTING_DOWN;
      break;
    case VIR_DOMAIN_EVENT_CRASHED:
      state = LODGE_DOMAIN_STATE_CRASHED;
      break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
      state = LODGE_DOMAIN_STATE_SHUTOFF;
      gone = TRUE;
      break;
    case VIR_DOMAIN_EVENT_DEFINED:
      {
        int s = 0, reason = 0;
        state = virDomainGetState (dom, &s, &reason, 0) == 0 ? map_state (s)
                                                             : LODGE_DOMAIN_STATE_OTHER;
        break;
      }
    default:
      return 0;
    }
  w->func (virDomainGetName (dom), state, gone, w->user_data);
  return 0;
}

int
lodge_libvirt_watch (LodgeLibvirt *lv, LodgeDomainEventFunc func, gpointer user_data,
                     GError **error)
{
  Watch *w = g_new0 (Watch, 1);
  w->func = func;
  w->user_data = user_data;
  int id = virConnectDomainEventRegisterAny (lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK (lifecycle_cb), w, g_free);
  if (id < 0)
    {
      g_free (w);
      lodge_libvirt_fail (lv, error, "%s: cannot watch domain events", lv->uri);
    }
  return id;
}

void
lodge_libvirt_unwatch (LodgeLibvirt *lv, int handle)
{
  if (handle >= 0)
    virConnectDomainEventDeregisterAny (lv->conn, handle);
}
