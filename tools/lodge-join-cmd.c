/* `lodge node join` and `lodge controller join`: a host joins with a token
 * an admin made; its key is made here and never leaves it; the controller
 * is trusted only once its CA matches the token's pin. */
#include "lodge-join-cmd.h"

#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-pki.h"
#include "lodge-strings.h"
#include "lodge-ve-cmd.h"

/* The most a controller's answer may weigh: a CA, a certificate, a key,
 * a few monitors. Read before the controller is known to be the one the
 * token names, so bounded. */
#define ANSWER_MAX (256 * 1024)
#define JOIN_TIMEOUT_S 60

typedef enum { ROLE_NODE, ROLE_CONTROLLER } Role;

typedef struct {
  Role role;
  const char *url;  /* https://HOST:PORT of a controller */
  char *token;
  char *name;
  char *address;
  char *root;       /* where / is (tests write into a host's tree) */
  gboolean force;
  gboolean no_start;
  /* the answer */
  char *certificate, *ca, *ceph_user, *ceph_key;
  GStrv monitors;
  char *key, *request;
} Join;

static void
join_clear (Join *j)
{
  g_free (j->token);
  g_free (j->name);
  g_free (j->address);
  g_free (j->root);
  g_free (j->certificate);
  g_free (j->ca);
  g_free (j->ceph_user);
  if (j->ceph_key != NULL)
    memset (j->ceph_key, 0, strlen (j->ceph_key));
  g_free (j->ceph_key);
  g_strfreev (j->monitors);
  if (j->key != NULL)
    memset (j->key, 0, strlen (j->key));
  g_free (j->key);
  g_free (j->request);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Join, join_clear)

static void
progress (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
static void
progress (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("lodge: %s\n", line);
}

static int
join_fail (const char *what, const GError *error)
{
  g_autofree char *shown = g_strescape (error->message, NULL);
  g_printerr ("lodge: %s: %s\n", what, shown);
  /* A bad argument or answer 1; the cluster unreachable 5; a refusal
   * (the token, the CA pin) and the rest 6. */
  return error->domain == LODGE_PKI_ERROR && error->code == LODGE_PKI_ERROR_INVALID ? LODGE_EXIT_INVALID
         : error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ? LODGE_EXIT_UNREACHABLE
                                                                            : LODGE_EXIT_FAILED;
}

/* ---- talking to the controller ---- */

static gboolean
accept_any (SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer data)
{
  return TRUE; /* what it sends is checked against the token's pin */
}

/* Sends @msg and reads at most ANSWER_MAX bytes of the answer. */
static GBytes *
send_capped (SoupSession *session, SoupMessage *msg, GError **error)
{
  g_autoptr (GInputStream) in = soup_session_send (session, msg, NULL, error);
  if (in == NULL)
    return NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[8192];
  for (;;)
    {
      gssize n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      if (buf->len + (gsize) n > ANSWER_MAX)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "the controller's answer is larger than %d KiB", ANSWER_MAX / 1024);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/* The API's error message in @body, or the HTTP status. */
static char *
answer_error (SoupMessage *msg, GBytes *body)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (body != NULL && json_parser_load_from_data (p, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      JsonObject *e = json_object_has_member (o, "error") ? json_object_get_object_member (o, "error") : NULL;
      const char *m = e != NULL ? json_object_get_string_member_with_default (e, "message", NULL) : NULL;
      if (m != NULL)
        return g_strdup (m);
    }
  return g_strdup_printf ("HTTP %u %s", soup_message_get_status (msg),
                          soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg) : "");
}

/* The cluster CA the controller at @url serves, taken only if its SHA-256
 * is @pin. */
static char *
fetch_ca (const char *url, const char *pin, GError **error)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout", JOIN_TIMEOUT_S, NULL);
  g_autofree char *where = g_strconcat (url, "/v1/join/ca", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", where);
  if (msg == NULL)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID, "'%s' is not a URL", url);
      return NULL;
    }
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any), NULL);
  g_autoptr (GBytes) body = send_capped (session, msg, error);
  if (body == NULL)
    return NULL;
  if (soup_message_get_status (msg) != 200)
    {
      g_autofree char *why = answer_error (msg, body);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not give its CA: %s", url, why);
      return NULL;
    }
  g_autofree char *ca = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_autofree char *fp = lodge_pki_fingerprint (ca, error);
  if (fp == NULL)
    return g_prefix_error (error, "the CA %s gave: ", url), NULL;
  if (strcmp (fp, pin) != 0)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_REFUSED,
                   "the CA %s gave is not the one the token names (SHA-256 %s, not %s): another "
                   "cluster, or someone between this host and the controller", url, fp, pin);
      return NULL;
    }
  return g_steal_pointer (&ca);
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

static gboolean post_join (Join *j, GTlsDatabase *db, GError **error);

/* POST /v1/join, the controller checked against @j->ca. */
static gboolean
ask_to_join (Join *j, GError **error)
{
  /* GIO takes a CA from a file only (read at the handshake): a private
   * one, removed when the request is done. */
  g_autofree char *ca_path = NULL;
  int fd = g_file_open_tmp ("lodge-join-ca-XXXXXX.pem", &ca_path, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  g_autoptr (GTlsDatabase) db = g_file_set_contents (ca_path, j->ca, -1, error)
                                  ? g_tls_file_database_new (ca_path, error) : NULL;
  gboolean ok = db != NULL && post_join (j, db, error);
  g_unlink (ca_path);
  return ok;
}

static gboolean
post_join (Join *j, GTlsDatabase *db, GError **error)
{
  g_autoptr (SoupSession) session
    = soup_session_new_with_options ("timeout", JOIN_TIMEOUT_S, "tls-database", db, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, j->token);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, j->role == ROLE_NODE ? "node" : "controller");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, j->name);
  json_builder_set_member_name (b, "address");
  json_builder_add_string_value (b, j->address);
  json_builder_set_member_name (b, "request");
  json_builder_add_string_value (b, j->request);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autofree char *where = g_strconcat (j->url, "/v1/join", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", where);
  g_autoptr (GBytes) sent = g_bytes_new (text, strlen (text));
  soup_message_set_request_body_from_bytes (msg, "application/json", sent);
  g_autoptr (GBytes) body = send_capped (session, msg, error);
  memset (text, 0, strlen (text));
  if (body == NULL)
    return FALSE;
  if (soup_message_get_status (msg) != 200)
    {
      g_autofree char *why = answer_error (msg, body);
      g_set_error (error, LODGE_PKI_ERROR, soup_message_get_status (msg) == 403 ? LODGE_PKI_ERROR_REFUSED
                                                                                  : LODGE_PKI_ERROR_INVALID,
                   "%s", why);
      return FALSE;
    }
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o = NULL;
  if (json_parser_load_from_data (p, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    o = json_node_get_object (json_parser_get_root (p));
  JsonObject *ceph = o != NULL && json_object_has_member (o, "ceph") ? json_object_get_object_member (o, "ceph") : NULL;
  JsonArray *mons = ceph != NULL && json_object_has_member (ceph, "monitors")
                      ? json_object_get_array_member (ceph, "monitors") : NULL;
  const char *cert = string_member (o, "certificate");
  const char *user = string_member (ceph, "user");
  const char *key = string_member (ceph, "key");
  if (cert == NULL || user == NULL || key == NULL || mons == NULL || json_array_get_length (mons) == 0)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                   "the controller's answer lacks the certificate, the Ceph identity or the monitors");
      return FALSE;
    }
  /* What it gave is checked as if it came from anyone. */
  for (const char *c = user; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      {
        g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID, "the Ceph identity given is not a name");
        return FALSE;
      }
  for (const char *c = key; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/' && *c != '=')
      {
        g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID, "the Ceph key given is not base64");
        return FALSE;
      }
  g_autofree char *cn = lodge_pki_common_name (cert, error);
  if (cn == NULL || !lodge_pki_verify (j->ca, cert, error))
    return g_prefix_error (error, "the certificate given: "), FALSE;
  if (strcmp (cn, j->name) != 0)
    {
      g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID,
                   "the certificate given is for '%s', not '%s'", cn, j->name);
      return FALSE;
    }
  g_autoptr (GStrvBuilder) mb = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (mons); i++)
    {
      JsonNode *m = json_array_get_element (mons, i);
      const char *s = JSON_NODE_HOLDS_VALUE (m) && json_node_get_value_type (m) == G_TYPE_STRING
                        ? json_node_get_string (m) : "";
      for (const char *c = s; *c; c++)
        if (!g_ascii_isalnum (*c) && strchr ("[]:.,/", *c) == NULL)
          s = "";
      if (*s == '\0')
        {
          g_set_error (error, LODGE_PKI_ERROR, LODGE_PKI_ERROR_INVALID, "a monitor address given is not one");
          return FALSE;
        }
      g_strv_builder_add (mb, s);
    }
  j->certificate = g_strdup (cert);
  j->ceph_user = g_strdup (user);
  j->ceph_key = g_strdup (key);
  j->monitors = g_strv_builder_end (mb);
  return TRUE;
}

/* The address of this host that the controller at @url is reached from
 * (the route's source): a UDP socket "connected" there sends nothing. */
static char *
local_address (const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, error);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_prefix_error (error, "'%s': ", url), NULL;
  int port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443;
  g_autoptr (GSocketConnectable) where = g_network_address_new (g_uri_get_host (uri), (guint16) port);
  g_autoptr (GSocketAddressEnumerator) e = g_socket_connectable_enumerate (where);
  g_autoptr (GSocketAddress) addr = g_socket_address_enumerator_next (e, NULL, error);
  if (addr == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s has no address", g_uri_get_host (uri));
      return NULL;
    }
  g_autoptr (GSocket) s = g_socket_new (g_socket_address_get_family (addr), G_SOCKET_TYPE_DATAGRAM,
                                        G_SOCKET_PROTOCOL_UDP, error);
  if (s == NULL || !g_socket_connect (s, addr, NULL, error))
    return NULL;
  g_autoptr (GSocketAddress) mine = g_socket_get_local_address (s, error);
  if (mine == NULL)
    return NULL;
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (mine)));
}

/* ---- the files ---- */

typedef struct {
  char *path; /* under the root */
  char *contents;
  int mode;
} File;

static void
file_free (File *f)
{
  if (f->contents != NULL)
    memset (f->contents, 0, strlen (f->contents));
  g_free (f->contents);
  g_free (f->path);
  g_free (f);
}

static void
add_file (GPtrArray *files, const char *path, char *contents, int mode)
{
  File *f = g_new0 (File, 1);
  f->path = g_strdup (path);
  f->contents = contents;
  f->mode = mode;
  g_ptr_array_add (files, f);
}

/* What a host's libvirt and QEMU find under /etc/pki: the CA, and its
 * certificate and key as server and client. */
static void
add_libvirt_pki (GPtrArray *files, const Join *j)
{
  add_file (files, "/etc/pki/CA/cacert.pem", g_strdup (j->ca), 0644);
  add_file (files, "/etc/pki/qemu/ca-cert.pem", g_strdup (j->ca), 0644);
  for (int i = 0; i < 2; i++)
    {
      const char *role = i == 0 ? "server" : "client";
      g_autofree char *a = g_strdup_printf ("/etc/pki/libvirt/%scert.pem", role);
      g_autofree char *b = g_strdup_printf ("/etc/pki/libvirt/private/%skey.pem", role);
      g_autofree char *c = g_strdup_printf ("/etc/pki/qemu/%s-cert.pem", role);
      g_autofree char *d = g_strdup_printf ("/etc/pki/qemu/%s-key.pem", role);
      add_file (files, a, g_strdup (j->certificate), 0644);
      add_file (files, b, g_strdup (j->key), 0600);
      add_file (files, c, g_strdup (j->certificate), 0644);
      add_file (files, d, g_strdup (j->key), 0600);
    }
}

static char *
ceph_conf (const Join *j, gboolean node)
{
  g_autofree char *mons = g_strjoinv (",", j->monitors);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
  return g_strdup_printf (
    "# Written by 'lodge %s join' (%s joined %s, %s): Ceph as Lodge on this\n"
    "# host uses it. Its key is ceph.client.%s.keyring beside it.\n"
    "[global]\n"
    "mon host = %s\n"
    "auth cluster required = cephx\n"
    "auth service required = cephx\n"
    "auth client required = cephx\n\n"
    "[client]\n"
    "keyring = /etc/lodge/ceph.$name.keyring\n"
    "public addr = %s\n"
    "ms bind before connect = true\n"
    "%s",
    node ? "node" : "controller", j->name, j->url, when, j->ceph_user, mons, j->address,
    node ? "# The controller fenced a dead node before its disks move: QEMU's\n"
           "# librbd must not blocklist the old lock owner itself.\n"
           "rbd blocklist on break lock = false\n"
         : "");
}

static GPtrArray *
node_files (const Join *j)
{
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) file_free);
  add_libvirt_pki (files, j);
  add_file (files, "/etc/lodge/ca-cert.pem", g_strdup (j->ca), 0644);
  add_file (files, "/etc/lodge/ceph.conf", ceph_conf (j, TRUE), 0644);
  g_autofree char *keyring = g_strdup_printf ("/etc/lodge/ceph.client.%s.keyring", j->ceph_user);
  add_file (files, keyring, g_strdup_printf ("[client.%s]\n\tkey = %s\n", j->ceph_user, j->ceph_key), 0600);
  add_file (files, "/etc/lodge/lodge-agent.env",
            g_strdup_printf ("# Written by 'lodge node join': what lodge-agent.service runs with.\n"
                             "CEPH_CONF=/etc/lodge/ceph.conf\n"
                             "LODGE_CEPH_USER=%s\n"
                             "LODGE_CEPH_KEYRING=%s\n"
                             "LODGE_AGENT_OPTIONS=--name %s --address %s --libvirt qemu+tls://%s/system\n",
                             j->ceph_user, keyring, j->name, j->address, j->address),
            0644);
  return files;
}

static GPtrArray *
controller_files (const Join *j)
{
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) file_free);
  add_file (files, "/etc/lodge/ca-cert.pem", g_strdup (j->ca), 0644);
  add_file (files, "/etc/lodge/tls/ca-cert.pem", g_strdup (j->ca), 0644);
  add_file (files, "/etc/lodge/tls/cert.pem", g_strdup (j->certificate), 0644);
  add_file (files, "/etc/lodge/tls/key.pem", g_strdup (j->key), 0640);
  /* libvirt's client side (pkipath=): the controller connects to nodes. */
  add_file (files, "/etc/lodge/pki/cacert.pem", g_strdup (j->ca), 0644);
  add_file (files, "/etc/lodge/pki/clientcert.pem", g_strdup (j->certificate), 0644);
  add_file (files, "/etc/lodge/pki/clientkey.pem", g_strdup (j->key), 0640);
  add_file (files, "/etc/lodge/ceph.conf", ceph_conf (j, FALSE), 0644);
  g_autofree char *keyring = g_strdup_printf ("/etc/lodge/ceph.client.%s.keyring", j->ceph_user);
  add_file (files, keyring, g_strdup_printf ("[client.%s]\n\tkey = %s\n", j->ceph_user, j->ceph_key), 0640);
  const char *host = strstr (j->url, "://") != NULL ? strstr (j->url, "://") + 3 : j->url;
  const char *colon = strrchr (host, ':');
  const char *port = colon != NULL && strchr (colon, ']') == NULL ? colon + 1 : "8443";
  add_file (files, "/etc/lodge/lodged.env",
            g_strdup_printf ("# Written by 'lodge controller join': what lodged.service runs with.\n"
                             "CEPH_CONF=/etc/lodge/ceph.conf\n"
                             "LODGE_CEPH_USER=%s\n"
                             "LODGE_CEPH_KEYRING=%s\n"
                             "LODGE_LIBVIRT_PKIPATH=/etc/lodge/pki\n"
                             "LODGED_OPTIONS=--id %s --socket /run/lodge/lodged.sock --listen %s:%s "
                             "--tls-cert /etc/lodge/tls/cert.pem --tls-key /etc/lodge/tls/key.pem\n",
                             j->ceph_user, keyring, j->name, j->address, port),
            0640);
  return files;
}

static char *
rooted (const Join *j, const char *path)
{
  return g_build_filename (j->root, path, NULL);
}

/* Writes every file (each replaced whole, with its mode); the first that
 * cannot be written stops it, and says which. */
static gboolean
write_files (const Join *j, GPtrArray *files, GError **error)
{
  for (guint i = 0; i < files->len; i++)
    {
      const File *f = files->pdata[i];
      g_autofree char *path = rooted (j, f->path);
      /* /etc/pki/libvirt/private: root's only, as libvirt's packaging makes it. */
      if (strstr (f->path, "/private/") != NULL)
        {
          g_autofree char *dir = g_path_get_dirname (path);
          g_mkdir_with_parents (dir, 0700);
        }
      /* A controller's keys are lodged's group's (it runs as lodge under
       * systemd); a node's are root's alone. */
      if (!lodge_file_replace (path, f->contents, f->mode, error)
          || (f->mode == 0640 && !lodge_file_set_group (path, "lodge", error)))
        return FALSE;
    }
  return TRUE;
}

/* ---- the service manager ---- */

static gboolean
systemd_call (GDBusConnection *bus, const char *method, GVariant *args, GError **error)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
    bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
    method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 90 * 1000, NULL, error);
  return r != NULL;
}

/* Enables and starts @unit (and a node's libvirtd TLS socket) through
 * systemd's D-Bus API. */
static gboolean
start_service (const char *unit, gboolean node, GError **error)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (bus == NULL)
    return FALSE;
  const char *node_units[] = { "libvirtd-tls.socket", unit, NULL };
  const char *ctl_units[] = { unit, NULL };
  const char *const *units = node ? node_units : ctl_units;
  if (!systemd_call (bus, "EnableUnitFiles", g_variant_new ("(^asbb)", units, FALSE, TRUE), error)
      || !systemd_call (bus, "Reload", NULL, error))
    return FALSE;
  /* libvirtd listens on TLS by its socket unit: started again with it. */
  if (node && (!systemd_call (bus, "StopUnit", g_variant_new ("(ss)", "libvirtd.service", "replace"), error)
               || !systemd_call (bus, "StartUnit", g_variant_new ("(ss)", "libvirtd-tls.socket", "replace"), error)))
    return FALSE;
  return systemd_call (bus, "RestartUnit", g_variant_new ("(ss)", unit, "replace"), error);
}

/* ---- the command ---- */

static int
join_run (Role role, int argc, char **argv)
{
  g_auto (Join) j = { 0 };
  j.role = role;
  const char *what = role == ROLE_NODE ? "node" : "controller";
  GOptionEntry entries[] = {
    { "token", 't', 0, G_OPTION_ARG_STRING, &j.token, "The join token an admin made (lodge join-token create)", "TOKEN" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &j.name, "This host's name in the cluster (default: its host name)", "NAME" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &j.address,
      "The address the cluster reaches this host at (default: the one the controller is reached from)", "ADDR" },
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &j.root, "Write the files under DIR instead of / (an image being prepared)", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &j.force, "Join again over an earlier join's files", NULL },
    { "no-start", 0, 0, G_OPTION_ARG_NONE, &j.no_start, "Write the files, start nothing", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autofree char *name = g_strdup_printf ("%s join", what);
  g_autofree char *summary = g_strdup_printf ("Join this host to a Lodge cluster as a %s.", what);
  g_autofree char *description = g_strdup_printf (
    "CONTROLLER is the https:// URL of a controller's API. The token says which\n"
    "cluster CA to expect: the controller is trusted only once the CA it sends\n"
    "has that SHA-256, so nothing but the token needs to come here safely.\n\n"
    "This host makes its own key and a certificate request (the key never\n"
    "leaves it); the controller signs it with the cluster CA and gives this\n"
    "host its Ceph identity. Then it writes:\n"
    "%s"
    "and, under systemd, enables and starts %s.\n"
    "Nothing is written when the join is refused. A token is used once.\n\n"
    LODGE_EXIT_CODES_HELP,
    role == ROLE_NODE
      ? "  /etc/pki/{CA,libvirt,qemu}/...  libvirt's and QEMU's TLS certificates\n"
        "  /etc/lodge/ceph.conf, ceph.client.lodge-NAME.keyring  its Ceph identity\n"
        "  /etc/lodge/lodge-agent.env   the agent's options\n"
      : "  /etc/lodge/tls/..., /etc/lodge/pki/...  the API's and libvirt's certificates\n"
        "  /etc/lodge/ceph.conf, ceph.client.lodge.keyring  the controllers' Ceph identity\n"
        "  /etc/lodge/lodged.env        lodged's options\n",
    role == ROLE_NODE ? "libvirtd's TLS socket and lodge-agent.service" : "lodged.service");
  g_autoptr (GOptionContext) ctx = lodge_cli_context (name, "CONTROLLER --token TOKEN", summary, description, entries);
  int rc;
  if (!lodge_cli_parse (ctx, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return lodge_cli_usage_error (argc < 2 ? "no CONTROLLER given (https://HOST:PORT)" : "only one CONTROLLER");
  j.url = argv[1];
  if (!g_str_has_prefix (j.url, "https://"))
    return lodge_cli_usage_error ("CONTROLLER must be an https:// URL, not '%s'", j.url);
  if (j.token == NULL)
    return lodge_cli_usage_error ("no --token given");
  g_auto (GStrv) parts = g_strsplit (j.token, ".", 4);
  if (g_strv_length (parts) != 3 || strlen (parts[2]) != 64)
    return lodge_cli_usage_error ("the token is not one of 'lodge join-token create' (ID.SECRET.CA-SHA256)");
  if (j.root == NULL)
    j.root = g_strdup ("/");
  if (j.name == NULL)
    j.name = g_strdup (g_get_host_name ());
  g_autoptr (GError) error = NULL;
  if (j.address == NULL && (j.address = local_address (j.url, &error)) == NULL)
    return join_fail ("finding this host's address (give --address)", error);
  const char *marker = role == ROLE_NODE ? "/etc/lodge/lodge-agent.env" : "/etc/lodge/lodged.env";
  g_autofree char *marker_path = rooted (&j, marker);
  if (!j.force && g_file_test (marker_path, G_FILE_TEST_EXISTS))
    {
      g_printerr ("lodge: this host has joined a cluster before (%s exists); --force joins again\n", marker_path);
      return LODGE_EXIT_CONFLICT;
    }

  progress ("making this host's key and certificate request (%s)", j.name);
  if (!lodge_pki_make_request (j.name, &j.key, &j.request, &error))
    return join_fail ("the host's key", error);
  progress ("checking the CA of %s against the token", j.url);
  if ((j.ca = fetch_ca (j.url, parts[2], &error)) == NULL)
    return join_fail ("the controller", error);
  progress ("asking to join as %s '%s' at %s", what, j.name, j.address);
  if (!ask_to_join (&j, &error))
    return join_fail ("the join was refused", error);
  g_autoptr (GPtrArray) files = role == ROLE_NODE ? node_files (&j) : controller_files (&j);
  if (!write_files (&j, files, &error))
    return join_fail ("writing this host's files", error);
  progress ("joined: certificate for '%s', Ceph identity client.%s; %u files written under %s", j.name,
            j.ceph_user, files->len, j.root);
  const char *unit = role == ROLE_NODE ? "lodge-agent.service" : "lodged.service";
  if (j.no_start)
    progress ("not started (--no-start): systemctl enable --now %s", unit);
  else if (!g_file_test ("/run/systemd/system", G_FILE_TEST_IS_DIR) || strcmp (j.root, "/") != 0)
    progress ("no systemd runs here: start %s with the settings in %s", role == ROLE_NODE ? "lodge-agent" : "lodged",
              marker);
  else if (!start_service (unit, role == ROLE_NODE, &error))
    return join_fail ("starting the service (the files are written; systemctl start it)", error);
  else
    progress ("started %s", unit);
  return LODGE_EXIT_OK;
}

int
lodge_node_join_cmd (int argc, char **argv)
{
  return join_run (ROLE_NODE, argc, argv);
}

static int
cmd_controller_join (int argc, char **argv)
{
  return join_run (ROLE_CONTROLLER, argc, argv);
}

static const LodgeCommand controller_commands[] = {
  { "join", "CONTROLLER --token TOKEN", "Join this host as a standby controller", cmd_controller_join },
};

int
lodge_controller_cmd (int argc, char **argv)
{
  return lodge_cli_dispatch ("controller", controller_commands, G_N_ELEMENTS (controller_commands), argc, argv);
}
