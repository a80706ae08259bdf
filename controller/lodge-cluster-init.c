#include "lodge-cluster-init.h"

#include <string.h>

#include "lodge-join.h"
#include "lodge-pki.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"
#include "lodge-tier.h"
#include "lodge-users.h"

void
lodge_cluster_init_result_clear (LodgeClusterInitResult *result)
{
  g_clear_pointer (&result->admin_token, g_free);
  g_clear_pointer (&result->join_token, g_free);
  g_clear_pointer (&result->ca_fingerprint, g_free);
  g_clear_pointer (&result->files, g_ptr_array_unref);
}

/* Node identities' osd caps, as lodge_join_node_caps() makes them, with
 * any name: what the controllers may give a node, and nothing else. */
#define NAME_RE "[A-Za-z0-9][A-Za-z0-9._-]*"
#define NODE_OSD_CAPS_RE \
  "^profile rbd pool=lodge-r1, profile rbd pool=lodge-r2, profile rbd pool=lodge-r3, " \
  "profile rbd-read-only pool=lodge-templates, " \
  "allow rw pool=lodge-state namespace=node object_prefix " NAME_RE ", " \
  "allow r pool=lodge-state namespace=node object_prefix _changes, " \
  "allow r pool=lodge-state namespace=node-decision object_prefix " NAME_RE ", " \
  "allow rwx pool=lodge-state namespace=rpc object_prefix rpc[.]" NAME_RE "$"

/* Reading the maps, blocklisting a fenced node's clients, and making a
 * node's identity: named client.lodge-..., with exactly a node's caps of
 * each type (the monitor checks each argument; one a constraint names
 * must be given, so none can be added: a node identity with the MDS's or
 * the manager's every right would otherwise be the controllers' to make). */
#define LODGE_CLUSTER_CONTROLLER_AUTH_CAPS \
  "allow command \"auth get-or-create\" with entity prefix client.lodge- caps_mon=\"allow r\" " \
  "caps_osd regex \"" NODE_OSD_CAPS_RE "\" caps_mgr=\"%s\" caps_mds=\"" LODGE_JOIN_NODE_MDS_CAPS "\""

GStrv
lodge_cluster_controller_caps (void)
{
  g_autoptr (GString) osd = g_string_new (NULL);
  g_string_append_printf (osd, "allow rwx pool=%s, profile rbd pool=%s", LODGE_STATE_POOL, LODGE_TEMPLATE_POOL);
  for (guint r = LODGE_TIER_MIN; r <= LODGE_TIER_MAX; r++)
    {
      g_autofree char *pool = lodge_tier_pool (r);
      g_string_append_printf (osd, ", profile rbd pool=%s", pool);
    }
  g_autofree char *rbd = lodge_join_node_rbd_pools ();
  g_autofree char *auth = g_strdup_printf (LODGE_CLUSTER_CONTROLLER_AUTH_CAPS, rbd);
  g_autofree char *mon = g_strdup_printf ("allow r, allow command \"osd blocklist\", %s, "
                                          "allow command \"auth del\" with entity prefix client.lodge-",
                                          auth);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_add_many (b, "mon", mon, "osd", osd->str, NULL);
  return g_strv_builder_end (b);
}

gboolean
lodge_cluster_init_storage (LodgeRados *rados, GError **error)
{
  if (!lodge_tier_ensure_templates (rados, error))
    return FALSE;
  for (guint n = LODGE_TIER_MIN; n <= LODGE_TIER_MAX; n++)
    if (!lodge_tier_ensure (rados, n, error))
      return FALSE;
  return TRUE;
}

gboolean
lodge_cluster_init_ca (LodgeStore *store, const char *cert_file, const char *key_file, gboolean reuse,
                       char **ret_cert_pem, char **ret_key_pem, GError **error)
{
  g_return_val_if_fail ((cert_file == NULL) == (key_file == NULL), FALSE);
  g_autofree char *given_cert = NULL, *given_key = NULL;
  if (cert_file != NULL
      && (!g_file_get_contents (cert_file, &given_cert, NULL, error)
          || !g_file_get_contents (key_file, &given_key, NULL, error)))
    return FALSE;
  if (given_cert != NULL)
    {
      /* A pair that belongs together: a certificate it signs verifies. */
      g_autofree char *probe = NULL, *probe_key = NULL;
      if (!lodge_pki_issue (given_cert, given_key, "lodge-ca-check", NULL, 1, &probe, &probe_key, error)
          || !lodge_pki_verify (given_cert, probe, error))
        return g_prefix_error (error, "the CA in %s and %s: ", cert_file, key_file), FALSE;
    }
  g_autofree char *stored_cert = NULL, *stored_key = NULL;
  g_autoptr (GError) local = NULL;
  if (lodge_join_load_ca (store, &stored_cert, &stored_key, &local))
    {
      g_autofree char *stored_fp = lodge_pki_fingerprint (stored_cert, error);
      g_autofree char *given_fp = given_cert != NULL ? lodge_pki_fingerprint (given_cert, NULL) : NULL;
      if (stored_fp == NULL)
        return FALSE;
      if (g_strcmp0 (stored_fp, given_fp) != 0 && !reuse)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                       "this Ceph holds a Lodge cluster already (its CA's SHA-256 is %s): join it "
                       "with 'lodge controller join' instead", stored_fp);
          return FALSE;
        }
      *ret_cert_pem = g_steal_pointer (&stored_cert);
      *ret_key_pem = g_steal_pointer (&stored_key);
      return TRUE;
    }
  if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
  if (given_cert == NULL && !lodge_pki_make_ca ("Lodge cluster CA", LODGE_JOIN_CA_DAYS, &given_cert, &given_key, error))
    return FALSE;
  if (!lodge_join_save_ca (store, given_cert, given_key, error))
    return FALSE;
  *ret_cert_pem = g_steal_pointer (&given_cert);
  *ret_key_pem = g_steal_pointer (&given_key);
  return TRUE;
}

/* Writes @contents to @name under the options' etc_dir, and lists it. */
static gboolean
put (const LodgeClusterInit *o, LodgeClusterInitResult *result, const char *name, const char *contents,
     int mode, GError **error)
{
  g_autofree char *path = g_build_filename (o->etc_dir, name, NULL);
  /* What lodged reads is its group's (it runs as lodge under systemd). */
  if (!lodge_file_replace (path, contents, mode, error)
      || ((mode & 0040) != 0 && !lodge_file_set_group (path, "lodge", error)))
    return FALSE;
  g_ptr_array_add (result->files, g_steal_pointer (&path));
  return TRUE;
}

gboolean
lodge_cluster_init (LodgeRados *rados, LodgeStore *store, const LodgeClusterInit *o,
                    LodgeClusterInitResult *result, GError **error)
{
  g_return_val_if_fail (o->name != NULL && o->address != NULL && o->etc_dir != NULL, FALSE);
  result->files = g_ptr_array_new_with_free_func (g_free);
  if (!lodge_storage_check_name (o->name, "controller name", error))
    return FALSE;
  if (!g_hostname_is_ip_address (o->address))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "--address must be this controller's IP address, not '%s'", o->address);
      return FALSE;
    }
  /* Everything that can be refused is checked before anything is made. */
  g_autoptr (LodgeUsers) users = lodge_users_new (store);
  if (!lodge_users_refresh (users, error))
    return FALSE;
  g_autofree char *ca = NULL, *ca_key = NULL;
  if (!lodge_cluster_init_ca (store, o->ca_cert_file, o->ca_key_file, FALSE, &ca, &ca_key, error))
    return FALSE;
  result->ca_fingerprint = lodge_pki_fingerprint (ca, error);
  if (result->ca_fingerprint == NULL || !lodge_cluster_init_storage (rados, error))
    return FALSE;
  g_auto (GStrv) caps = lodge_cluster_controller_caps ();
  g_autofree char *entity = g_strdup_printf ("client.%s", o->ceph_user);
  g_autofree char *ceph_key = lodge_rados_auth_get_or_create (rados, entity, (const char *const *) caps, error);
  if (ceph_key == NULL)
    return g_prefix_error (error, "the controllers' Ceph identity %s: ", entity), FALSE;
  g_auto (GStrv) monitors = lodge_rados_monitors (rados, error);
  if (monitors == NULL)
    return FALSE;
  g_autofree char *cert = NULL, *key = NULL;
  if (!lodge_pki_issue (ca, ca_key, o->name, o->address, LODGE_JOIN_CERT_DAYS, &cert, &key, error))
    return FALSE;
  memset (ca_key, 0, strlen (ca_key));

  g_autoptr (LodgeUser) admin = lodge_user_new (o->admin_user, LODGE_ROLE_ADMIN);
  if (!lodge_users_add (users, admin, "lodge cluster init", &result->admin_token, error))
    return g_prefix_error (error, "the first admin: "), FALSE;
  g_autoptr (LodgeJoinToken) t = lodge_join_token_create (store, LODGE_JOIN_NODE, NULL, LODGE_JOIN_DEFAULT_TTL_S,
                                                          "lodge cluster init", &result->join_token, error);
  if (t == NULL)
    return FALSE;

  g_autofree char *mons = g_strjoinv (",", monitors);
  g_autofree char *conf = g_strdup_printf (
    "# Written by 'lodge cluster init': Ceph as Lodge's controllers see it.\n"
    "[global]\nmon host = %s\n"
    "auth cluster required = cephx\nauth service required = cephx\nauth client required = cephx\n\n"
    "[client]\nkeyring = %s/ceph.$name.keyring\n",
    mons, o->etc_dir);
  g_autofree char *keyring_name = g_strdup_printf ("ceph.client.%s.keyring", o->ceph_user);
  g_autofree char *keyring = g_strdup_printf ("[client.%s]\n\tkey = %s\n", o->ceph_user, ceph_key);
  g_autofree char *env = g_strdup_printf (
    "# Written by 'lodge cluster init': what lodged.service runs with.\n"
    "CEPH_CONF=%s/ceph.conf\nLODGE_CEPH_USER=%s\nLODGE_CEPH_KEYRING=%s/%s\n"
    "LODGE_LIBVIRT_PKIPATH=%s/pki\n"
    "LODGED_OPTIONS=--id %s --socket /run/lodge/lodged.sock --listen %s:%u "
    "--tls-cert %s/tls/cert.pem --tls-key %s/tls/key.pem\n",
    o->etc_dir, o->ceph_user, o->etc_dir, keyring_name, o->etc_dir, o->name, o->address, o->port,
    o->etc_dir, o->etc_dir);
  gboolean v6 = strchr (o->address, ':') != NULL;
  g_autofree char *client = g_strdup_printf (
    "# Written by 'lodge cluster init': the lodge CLI on this host.\n"
    "[client]\ncontrollers=https://%s%s%s:%u\nca-file=%s/ca-cert.pem\ntoken-file=%s/admin-token\n",
    v6 ? "[" : "", o->address, v6 ? "]" : "", o->port, o->etc_dir, o->etc_dir);
  g_autofree char *admin_token = g_strdup_printf ("%s\n", result->admin_token);
  gboolean ok = put (o, result, "ceph.conf", conf, 0644, error)
                && put (o, result, keyring_name, keyring, 0640, error)
                && put (o, result, "ca-cert.pem", ca, 0644, error)
                && put (o, result, "tls/ca-cert.pem", ca, 0644, error)
                && put (o, result, "tls/cert.pem", cert, 0644, error)
                && put (o, result, "tls/key.pem", key, 0640, error)
                && put (o, result, "pki/cacert.pem", ca, 0644, error)
                && put (o, result, "pki/clientcert.pem", cert, 0644, error)
                && put (o, result, "pki/clientkey.pem", key, 0640, error)
                && put (o, result, "admin-token", admin_token, 0600, error)
                && put (o, result, "client.conf", client, 0644, error)
                && put (o, result, "lodged.env", env, 0640, error);
  memset (keyring, 0, strlen (keyring));
  memset (key, 0, strlen (key));
  memset (admin_token, 0, strlen (admin_token));
  return ok;
}
