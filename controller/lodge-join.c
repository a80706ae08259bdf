#include "lodge-join.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <json-glib/json-glib.h>

#include "lodge-json.h"
#include "lodge-pki.h"
#include "lodge-storage-error.h"
#include "lodge-tier.h"

LODGE_ENUM_IMPL (lodge_join_role, LODGE_JOIN_LAST, "node", "controller");

#define CA_RECORD "ca"
#define ID_BYTES 4
#define SECRET_BYTES 16
/* What every refused token gets, whatever the reason (unknown, used,
 * expired, wrong secret, role or name): a guesser learns nothing. */
#define TOKEN_REFUSED "the join token is not valid (unknown, used, expired, or for another role or host)"

void
lodge_join_token_free (LodgeJoinToken *token)
{
  if (token == NULL)
    return;
  g_free (token->id);
  g_free (token->name);
  g_free (token->created_by);
  g_free (token);
}

void
lodge_join_request_clear (LodgeJoinRequest *request)
{
  g_clear_pointer (&request->name, g_free);
  g_clear_pointer (&request->address, g_free);
  g_clear_pointer (&request->request, g_free);
}

void
lodge_join_grant_free (LodgeJoinGrant *grant)
{
  if (grant == NULL)
    return;
  g_free (grant->name);
  g_free (grant->certificate);
  g_free (grant->ca);
  g_free (grant->ceph_user);
  if (grant->ceph_key != NULL)
    memset (grant->ceph_key, 0, strlen (grant->ceph_key));
  g_free (grant->ceph_key);
  g_strfreev (grant->monitors);
  g_free (grant);
}

/* ---- the CA ---- */

gboolean
lodge_join_save_ca (LodgeStore *store, const char *cert_pem, const char *key_pem, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cert");
  json_builder_add_string_value (b, cert_pem);
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, key_pem);
  json_builder_end_object (b);
  g_autoptr (GBytes) json = lodge_json_to_bytes (b);
  return lodge_store_create (store, LODGE_STORE_PKI, CA_RECORD, json, NULL, error);
}

gboolean
lodge_join_load_ca (LodgeStore *store, char **ret_cert_pem, char **ret_key_pem, GError **error)
{
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_PKI, CA_RECORD, NULL, error);
  if (json == NULL)
    return g_prefix_error (error, "the cluster CA: "), FALSE;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = lodge_json_parse_object (json, parser, "the cluster CA", error);
  if (o == NULL)
    return FALSE;
  const char *cert = json_object_get_string_member_with_default (o, "cert", NULL);
  const char *key = json_object_get_string_member_with_default (o, "key", NULL);
  if (cert == NULL || key == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the cluster CA's record lacks its certificate or key");
      return FALSE;
    }
  *ret_cert_pem = g_strdup (cert);
  if (ret_key_pem != NULL)
    *ret_key_pem = g_strdup (key);
  return TRUE;
}

/* ---- tokens ---- */

static char *
random_hex (gsize n, GError **error)
{
  guint8 bytes[32];
  g_return_val_if_fail (n <= sizeof bytes, NULL);
  if (getrandom (bytes, n, 0) != (ssize_t) n)
    {
      int saved = errno;
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "no random bytes for a join token: %s", g_strerror (saved));
      return NULL;
    }
  GString *hex = g_string_sized_new (2 * n);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (hex, "%02x", bytes[i]);
  memset (bytes, 0, sizeof bytes);
  return g_string_free (hex, FALSE);
}

void
lodge_join_token_build (JsonBuilder *b, const LodgeJoinToken *t)
{
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, lodge_join_role_to_string (t->role));
  if (t->name != NULL)
    {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, t->name);
    }
  json_builder_set_member_name (b, "expires_us");
  json_builder_add_int_value (b, t->expires_us);
  json_builder_set_member_name (b, "created_by");
  json_builder_add_string_value (b, t->created_by);
  json_builder_set_member_name (b, "created_us");
  json_builder_add_int_value (b, t->created_us);
}

static GBytes *
token_to_json (const LodgeJoinToken *t, const char *secret_sha256)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  lodge_join_token_build (b, t);
  json_builder_set_member_name (b, "secret_sha256");
  json_builder_add_string_value (b, secret_sha256);
  json_builder_end_object (b);
  return lodge_json_to_bytes (b);
}

/* Token @id's record, and the hash of its secret. */
static LodgeJoinToken *
token_load (LodgeStore *store, const char *id, char **ret_secret_sha256, guint64 *ret_version,
            GBytes **ret_json, GError **error)
{
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_JOIN_TOKEN, id, ret_version, error);
  if (json == NULL)
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = lodge_json_parse_object (json, parser, "join token", error);
  if (o == NULL)
    return NULL;
  g_autoptr (LodgeJoinToken) t = g_new0 (LodgeJoinToken, 1);
  t->id = g_strdup (id);
  int role = lodge_join_role_from_string (json_object_get_string_member_with_default (o, "role", ""));
  if (role < 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "join token %s has no known role", id);
      return NULL;
    }
  t->role = role;
  t->name = g_strdup (json_object_get_string_member_with_default (o, "name", NULL));
  t->expires_us = json_object_get_int_member_with_default (o, "expires_us", 0);
  t->created_by = g_strdup (json_object_get_string_member_with_default (o, "created_by", ""));
  t->created_us = json_object_get_int_member_with_default (o, "created_us", 0);
  if (ret_secret_sha256 != NULL)
    *ret_secret_sha256 = g_strdup (json_object_get_string_member_with_default (o, "secret_sha256", ""));
  if (ret_json != NULL)
    *ret_json = g_steal_pointer (&json);
  return g_steal_pointer (&t);
}

LodgeJoinToken *
lodge_join_token_create (LodgeStore *store, LodgeJoinRole role, const char *name, guint ttl_s,
                         const char *by, char **ret_text, GError **error)
{
  g_return_val_if_fail (role < LODGE_JOIN_LAST && by != NULL, NULL);
  if (name != NULL && !lodge_storage_check_name (name, "host name", error))
    return NULL;
  if (ttl_s < 1 || ttl_s > LODGE_JOIN_MAX_TTL_S)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "a join token lives 1 to %d seconds, not %u", LODGE_JOIN_MAX_TTL_S, ttl_s);
      return NULL;
    }
  g_autofree char *ca = NULL;
  if (!lodge_join_load_ca (store, &ca, NULL, error))
    return NULL;
  g_autofree char *pin = lodge_pki_fingerprint (ca, error);
  g_autofree char *id = pin != NULL ? random_hex (ID_BYTES, error) : NULL;
  g_autofree char *secret = id != NULL ? random_hex (SECRET_BYTES, error) : NULL;
  if (secret == NULL)
    return NULL;
  g_autoptr (LodgeJoinToken) t = g_new0 (LodgeJoinToken, 1);
  t->id = g_strdup (id);
  t->role = role;
  t->name = g_strdup (name);
  t->created_by = g_strdup (by);
  t->created_us = g_get_real_time ();
  t->expires_us = t->created_us + (gint64) ttl_s * G_USEC_PER_SEC;
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1);
  g_autoptr (GBytes) json = token_to_json (t, hash);
  if (!lodge_store_create (store, LODGE_STORE_JOIN_TOKEN, id, json, NULL, error))
    return NULL;
  *ret_text = g_strdup_printf ("%s.%s.%s", id, secret, pin);
  memset (secret, 0, strlen (secret));
  return g_steal_pointer (&t);
}

GPtrArray *
lodge_join_token_list (LodgeStore *store, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (store, LODGE_STORE_JOIN_TOKEN, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GPtrArray) tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_join_token_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) local = NULL;
      LodgeJoinToken *t = token_load (store, names->pdata[i], NULL, NULL, NULL, &local);
      if (t != NULL)
        g_ptr_array_add (tokens, t);
      else if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        return g_propagate_error (error, g_steal_pointer (&local)), NULL;
    }
  return g_steal_pointer (&tokens);
}

gboolean
lodge_join_token_delete (LodgeStore *store, const char *id, GError **error)
{
  if (!lodge_storage_check_name (id, "join token", error))
    return FALSE;
  return lodge_store_delete (store, LODGE_STORE_JOIN_TOKEN, id, 0, error);
}

/* ---- joining ---- */

GStrv
lodge_join_node_caps (const char *name)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *rbd = lodge_join_node_rbd_pools ();
  g_autofree char *osd = g_strdup_printf (
    "%s, profile rbd-read-only pool=%s, "
    "allow rw pool=%s namespace=node object_prefix %s, "
    "allow r pool=%s namespace=node object_prefix _changes, "
    "allow r pool=%s namespace=node-decision object_prefix %s, "
    "allow rwx pool=%s namespace=rpc object_prefix rpc.%s",
    rbd, LODGE_TEMPLATE_POOL, LODGE_STATE_POOL, name, LODGE_STATE_POOL, LODGE_STATE_POOL, name,
    LODGE_STATE_POOL, name);
  g_strv_builder_add_many (b, "mon", "allow r", "osd", osd, "mgr", rbd, "mds", LODGE_JOIN_NODE_MDS_CAPS, NULL);
  return g_strv_builder_end (b);
}

char *
lodge_join_node_rbd_pools (void)
{
  g_autoptr (GString) rbd = g_string_new (NULL);
  for (guint r = LODGE_TIER_MIN; r <= LODGE_TIER_MAX; r++)
    {
      g_autofree char *pool = lodge_tier_pool (r);
      g_string_append_printf (rbd, "%sprofile rbd pool=%s", rbd->len > 0 ? ", " : "", pool);
    }
  return g_string_free (g_steal_pointer (&rbd), FALSE);
}

/* Ceph's caps give a node the objects whose names start with its name: a
 * node named as the start of another's ("node1", "node10") would reach its
 * records. Such a name is refused. */
static gboolean
check_node_name_free (LodgeStore *store, const char *name, GError **error)
{
  g_autoptr (GPtrArray) nodes = lodge_store_list (store, LODGE_STORE_NODE, error);
  if (nodes == NULL)
    return FALSE;
  for (guint i = 0; i < nodes->len; i++)
    {
      const char *other = nodes->pdata[i];
      if (strcmp (other, name) != 0 && (g_str_has_prefix (other, name) || g_str_has_prefix (name, other)))
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                       "node name '%s' begins or is the beginning of node '%s''s: Ceph's caps "
                       "(by object name prefix) would let one reach the other's records; "
                       "choose another name", name, other);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_request (const LodgeJoinRequest *request, GError **error)
{
  if (!lodge_storage_check_name (request->name, "host name", error))
    return FALSE;
  if (strlen (request->name) > 63)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "host name '%s' is longer than 63 characters", request->name);
      return FALSE;
    }
  if (request->address == NULL || !g_hostname_is_ip_address (request->address))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the joining host's address must be an IP address");
      return FALSE;
    }
  return TRUE;
}

/* Whether @token_text names a token for @request that is good now; its
 * record's version and value in *@ret_version, *@ret_json. */
static gboolean
check_token (LodgeStore *store, const char *token_text, const LodgeJoinRequest *request,
             guint64 *ret_version, GBytes **ret_json, GError **error)
{
  g_auto (GStrv) parts = token_text != NULL ? g_strsplit (token_text, ".", 4) : NULL;
  gboolean well_formed = parts != NULL && g_strv_length (parts) == 3
                         && strlen (parts[0]) == 2 * ID_BYTES && strlen (parts[1]) == 2 * SECRET_BYTES;
  for (int i = 0; well_formed && i < 2; i++)
    for (const char *p = parts[i]; *p; p++)
      well_formed &= g_ascii_isxdigit (*p) && !g_ascii_isupper (*p);
  g_autofree char *hash = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (LodgeJoinToken) t
    = well_formed ? token_load (store, parts[0], &hash, ret_version, ret_json, &local) : NULL;
  if (t == NULL && local != NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
  g_autofree char *given = well_formed ? g_compute_checksum_for_string (G_CHECKSUM_SHA256, parts[1], -1) : NULL;
  /* The hashes compared in constant time. */
  guint diff = t == NULL || hash == NULL || given == NULL || strlen (hash) != strlen (given);
  if (diff == 0)
    for (gsize i = 0; hash[i] != '\0'; i++)
      diff |= (guchar) hash[i] ^ (guchar) given[i];
  if (diff != 0 || t->role != request->role || (t->name != NULL && strcmp (t->name, request->name) != 0)
      || g_get_real_time () >= t->expires_us)
    {
      g_set_error_literal (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_PERMISSION, TOKEN_REFUSED);
      return FALSE;
    }
  return TRUE;
}

LodgeJoinGrant *
lodge_join_grant (LodgeStore *store, LodgeRados *rados, const char *token_text,
                  const LodgeJoinRequest *request, const char *controller_user,
                  const char *controller_key, GError **error)
{
  g_return_val_if_fail (request != NULL && request->role < LODGE_JOIN_LAST, NULL);
  guint64 version = 0;
  g_autoptr (GBytes) token_json = NULL;
  if (!check_request (request, error)
      || !check_token (store, token_text, request, &version, &token_json, error))
    return NULL;
  if (request->role == LODGE_JOIN_NODE && !check_node_name_free (store, request->name, error))
    return NULL;
  g_autofree char *ca = NULL, *ca_key = NULL;
  if (!lodge_join_load_ca (store, &ca, &ca_key, error))
    return NULL;
  g_autoptr (GError) pki_error = NULL;
  g_autofree char *cert = lodge_pki_sign_request (ca, ca_key, request->request, request->name,
                                                  request->address, LODGE_JOIN_CERT_DAYS, &pki_error);
  memset (ca_key, 0, strlen (ca_key));
  if (cert == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR,
                   pki_error->code == LODGE_PKI_ERROR_FAILED ? LODGE_STORAGE_ERROR_FAILED
                                                             : LODGE_STORAGE_ERROR_INVALID,
                   "%s", pki_error->message);
      return NULL;
    }
  g_auto (GStrv) monitors = lodge_rados_monitors (rados, error);
  if (monitors == NULL)
    return NULL;
  /* Used up: of two joins with one token, one deletes it at this version. */
  g_autoptr (GError) used = NULL;
  g_autofree char *token_id = g_strndup (token_text, 2 * ID_BYTES);
  if (!lodge_store_delete (store, LODGE_STORE_JOIN_TOKEN, token_id, version, &used))
    {
      if (g_error_matches (used, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT)
          || g_error_matches (used, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error_literal (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_PERMISSION, TOKEN_REFUSED);
      else
        g_propagate_error (error, g_steal_pointer (&used));
      return NULL;
    }
  g_autoptr (LodgeJoinGrant) grant = g_new0 (LodgeJoinGrant, 1);
  grant->name = g_strdup (request->name);
  grant->certificate = g_steal_pointer (&cert);
  grant->ca = g_steal_pointer (&ca);
  grant->monitors = g_steal_pointer (&monitors);
  if (request->role == LODGE_JOIN_CONTROLLER)
    {
      grant->ceph_user = g_strdup (controller_user);
      grant->ceph_key = g_strdup (controller_key);
    }
  else
    {
      grant->ceph_user = g_strdup_printf ("lodge-%s", request->name);
      g_autofree char *entity = g_strdup_printf ("client.%s", grant->ceph_user);
      g_auto (GStrv) caps = lodge_join_node_caps (request->name);
      grant->ceph_key = lodge_rados_auth_get_or_create (rados, entity, (const char *const *) caps, error);
    }
  if (grant->ceph_key == NULL || grant->ceph_user == NULL)
    {
      /* The token back, as it was: nothing was given. */
      g_autoptr (GError) restore = NULL;
      if (!lodge_store_create (store, LODGE_STORE_JOIN_TOKEN, token_id, token_json, NULL, &restore))
        g_prefix_error (error, "(and the token could not be put back: %s) ", restore->message);
      if (grant->ceph_user == NULL && error != NULL && *error == NULL)
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                     "this controller has no Ceph identity to give a controller");
      return NULL;
    }
  return g_steal_pointer (&grant);
}

static gboolean
delete_if_there (LodgeStore *store, LodgeStoreKind kind, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (lodge_store_delete (store, kind, name, 0, &local)
      || g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
lodge_join_forget_node (LodgeStore *store, LodgeRados *rados, const char *name, GError **error)
{
  if (!lodge_storage_check_name (name, "node name", error))
    return FALSE;
  g_autofree char *entity = g_strdup_printf ("client.lodge-%s", name);
  /* The identity first: a node that cannot reach Ceph cannot come back. */
  return lodge_rados_auth_del (rados, entity, error)
         && delete_if_there (store, LODGE_STORE_NODE_DECISION, name, error)
         && delete_if_there (store, LODGE_STORE_NODE, name, error);
}
