#include "lodge-users.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "lodge-error.h"
#include "lodge-json.h"
#include "lodge-storage-error.h"
#include "lodge-template-record.h"

#define SECRET_BYTES 32

LODGE_ENUM_IMPL (lodge_quota, LODGE_QUOTA_LAST, "environments", "vcpus", "memory", "disk");

struct _LodgeUsers {
  LodgeStore *store;
  GMutex lock;
  GHashTable *by_name; /* name -> LodgeUser */
};

LodgeUser *
lodge_user_new (const char *name, LodgeRole role)
{
  LodgeUser *user = g_new0 (LodgeUser, 1);
  user->name = g_strdup (name);
  user->role = role;
  for (int q = 0; q < LODGE_QUOTA_LAST; q++)
    user->quota[q] = LODGE_QUOTA_NONE;
  return user;
}

LodgeUser *
lodge_user_copy (const LodgeUser *user)
{
  LodgeUser *copy = lodge_user_new (user->name, user->role);
  copy->token_sha256 = g_strdup (user->token_sha256);
  copy->created_by = g_strdup (user->created_by);
  copy->created_us = user->created_us;
  memcpy (copy->quota, user->quota, sizeof copy->quota);
  copy->templates = g_strdupv (user->templates);
  copy->applications = g_strdupv (user->applications);
  return copy;
}

void
lodge_user_free (LodgeUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->token_sha256);
  g_free (user->created_by);
  g_strfreev (user->templates);
  g_strfreev (user->applications);
  g_free (user);
}

static gboolean
check_names (GStrv names, const char *what, GError **error)
{
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      if (!lodge_template_check_name (names[i], error))
        {
          g_prefix_error (error, "%s: ", what);
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        if (strcmp (names[i], names[j]) == 0)
          {
            g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: %s is given twice", what,
                         names[i]);
            return FALSE;
          }
    }
  return TRUE;
}

gboolean
lodge_user_check_limits (const LodgeUser *user, GError **error)
{
  gboolean customer = user->role == LODGE_ROLE_CUSTOMER;
  for (int q = 0; q < LODGE_QUOTA_LAST; q++)
    {
      gint64 v = user->quota[q];
      if (v != LODGE_QUOTA_NONE && !customer)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "a quota (%s) is a customer's; %s is %s", lodge_quota_to_string (q), user->name,
                       lodge_role_to_string (user->role));
          return FALSE;
        }
      if (v != LODGE_QUOTA_NONE && (v < 0 || v > LODGE_QUOTA_MAX))
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "quota %s: %" G_GINT64_FORMAT " is not 0 to 2^60", lodge_quota_to_string (q), v);
          return FALSE;
        }
    }
  if (!customer && (user->templates != NULL || user->applications != NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "allowed templates and applications are a customer's; %s is %s", user->name,
                   lodge_role_to_string (user->role));
      return FALSE;
    }
  return check_names (user->templates, "templates", error)
         && check_names (user->applications, "applications", error);
}

static void
add_names (JsonBuilder *b, const char *member, GStrv names)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    json_builder_add_string_value (b, names[i]);
  json_builder_end_array (b);
}

/* A member @member of @o: an array of strings, or absent (NULL). */
static gboolean
read_names (JsonObject *o, const char *member, GStrv *ret, GError **error)
{
  JsonNode *node = json_object_get_member (o, member);
  *ret = NULL;
  if (node == NULL)
    return TRUE;
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          a = NULL;
          break;
        }
      g_strv_builder_add (out, json_node_get_string (e));
    }
  if (a == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s must be a list of template names",
                   member);
      return FALSE;
    }
  *ret = g_strv_builder_end (out);
  return TRUE;
}

/* The members of "quota" into @quota: a number, or (@patch) null for no
 * limit; members left out are left as they are. */
static gboolean
read_quota (JsonObject *o, gint64 quota[LODGE_QUOTA_LAST], gboolean patch, GError **error)
{
  JsonNode *node = json_object_get_member (o, "quota");
  if (node == NULL)
    return TRUE;
  JsonObject *qo = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (qo == NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "quota must be an object: {\"environments\": N, \"vcpus\": N, \"memory\": BYTES, "
                   "\"disk\": BYTES}");
      return FALSE;
    }
  g_autoptr (GList) members = json_object_get_members (qo);
  for (GList *l = members; l != NULL; l = l->next)
    {
      int q = lodge_quota_from_string (l->data);
      JsonNode *v = json_object_get_member (qo, l->data);
      if (q < 0)
        {
          g_autofree char *shown = g_strescape (l->data, NULL);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "unknown quota '%s' (environments, vcpus, memory or disk)", shown);
          return FALSE;
        }
      if (patch && JSON_NODE_HOLDS_NULL (v))
        {
          quota[q] = LODGE_QUOTA_NONE;
          continue;
        }
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_INT64
          || json_node_get_int (v) < 0 || json_node_get_int (v) > LODGE_QUOTA_MAX)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "quota %s must be a whole number from 0 to 2^60%s", (const char *) l->data,
                       patch ? ", or null for no limit" : "");
          return FALSE;
        }
      quota[q] = json_node_get_int (v);
    }
  return TRUE;
}

/* The limits @o gives, onto @user; with @patch, null quotas too. */
static gboolean
apply_limits (JsonObject *o, LodgeUser *user, gboolean patch, GError **error)
{
  g_auto (GStrv) templates = NULL, applications = NULL;
  if (!read_quota (o, user->quota, patch, error) || !read_names (o, "templates", &templates, error)
      || !read_names (o, "applications", &applications, error))
    return FALSE;
  if (json_object_has_member (o, "templates"))
    {
      g_strfreev (user->templates);
      user->templates = g_steal_pointer (&templates);
    }
  if (json_object_has_member (o, "applications"))
    {
      g_strfreev (user->applications);
      user->applications = g_steal_pointer (&applications);
    }
  return TRUE;
}

void
lodge_user_limits_to_json (JsonBuilder *b, const LodgeUser *user)
{
  if (user->role != LODGE_ROLE_CUSTOMER)
    return;
  json_builder_set_member_name (b, "quota");
  json_builder_begin_object (b);
  for (int q = 0; q < LODGE_QUOTA_LAST; q++)
    if (user->quota[q] != LODGE_QUOTA_NONE)
      {
        json_builder_set_member_name (b, lodge_quota_to_string (q));
        json_builder_add_int_value (b, user->quota[q]);
      }
  json_builder_end_object (b);
  add_names (b, "templates", user->templates);
  add_names (b, "applications", user->applications);
}

gboolean
lodge_user_limits_from_json (JsonObject *o, LodgeUser *user, GError **error)
{
  g_strfreev (g_steal_pointer (&user->templates));
  g_strfreev (g_steal_pointer (&user->applications));
  for (int q = 0; q < LODGE_QUOTA_LAST; q++)
    user->quota[q] = LODGE_QUOTA_NONE;
  return apply_limits (o, user, FALSE, error);
}

GBytes *
lodge_user_to_json (const LodgeUser *user)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, user->name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, lodge_role_to_string (user->role));
  json_builder_set_member_name (b, "token_sha256");
  json_builder_add_string_value (b, user->token_sha256);
  json_builder_set_member_name (b, "created_by");
  json_builder_add_string_value (b, user->created_by != NULL ? user->created_by : "");
  json_builder_set_member_name (b, "created_us");
  json_builder_add_int_value (b, user->created_us);
  lodge_user_limits_to_json (b, user);
  json_builder_end_object (b);
  return lodge_json_to_bytes (b);
}

LodgeUser *
lodge_user_from_json (GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = lodge_json_parse_object (json, parser, "user record", error);
  if (o == NULL)
    return NULL;
  const char *name = json_object_get_string_member_with_default (o, "name", NULL);
  const char *role = json_object_get_string_member_with_default (o, "role", NULL);
  const char *hash = json_object_get_string_member_with_default (o, "token_sha256", NULL);
  int r = role != NULL ? lodge_role_from_string (role) : -1;
  if (name == NULL || r < 0 || hash == NULL || strlen (hash) != 64)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "a user record without a name, a known role and a token hash");
      return NULL;
    }
  g_autoptr (LodgeUser) user = lodge_user_new (name, (LodgeRole) r);
  user->token_sha256 = g_strdup (hash);
  user->created_by = g_strdup (json_object_get_string_member_with_default (o, "created_by", ""));
  user->created_us = json_object_get_int_member_with_default (o, "created_us", 0);
  if (!lodge_user_limits_from_json (o, user, error) || !lodge_user_check_limits (user, error))
    {
      g_prefix_error (error, "user record of %s: ", name);
      return NULL;
    }
  return g_steal_pointer (&user);
}

LodgeUsers *
lodge_users_new (LodgeStore *store)
{
  LodgeUsers *users = g_new0 (LodgeUsers, 1);
  users->store = store;
  g_mutex_init (&users->lock);
  users->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) lodge_user_free);
  return users;
}

void
lodge_users_free (LodgeUsers *users)
{
  if (users == NULL)
    return;
  g_hash_table_unref (users->by_name);
  g_mutex_clear (&users->lock);
  g_free (users);
}

GPtrArray *
lodge_users_list (LodgeUsers *users, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (users->store, LODGE_STORE_USER, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_user_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (GBytes) json = lodge_store_get (users->store, LODGE_STORE_USER, names->pdata[i], NULL,
                                                 &local);
      if (json == NULL && g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        continue; /* removed meanwhile */
      LodgeUser *user = json != NULL ? lodge_user_from_json (json, &local) : NULL;
      if (user == NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "user %s: ",
                                      (const char *) names->pdata[i]);
          return NULL;
        }
      g_ptr_array_add (list, user);
    }
  return g_steal_pointer (&list);
}

gboolean
lodge_users_refresh (LodgeUsers *users, GError **error)
{
  g_autoptr (GPtrArray) list = lodge_users_list (users, error);
  if (list == NULL)
    return FALSE;
  g_autoptr (GHashTable) fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) lodge_user_free);
  for (guint i = 0; i < list->len; i++)
    {
      LodgeUser *user = list->pdata[i];
      g_hash_table_insert (fresh, g_strdup (user->name), user);
      list->pdata[i] = NULL;
    }
  g_mutex_lock (&users->lock);
  GHashTable *old = users->by_name;
  users->by_name = g_steal_pointer (&fresh);
  g_mutex_unlock (&users->lock);
  g_hash_table_unref (old);
  return TRUE;
}

static char *
sha256_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

gboolean
lodge_users_add (LodgeUsers *users, const LodgeUser *spec, const char *by, char **ret_token,
                 GError **error)
{
  const char *name = spec->name;
  if (!lodge_access_check_user_name (name, error) || !lodge_user_check_limits (spec, error))
    return FALSE;
  guint8 bytes[SECRET_BYTES];
  if (getrandom (bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "no random bytes for a token: %s",
                   g_strerror (saved));
      return FALSE;
    }
  GString *secret = g_string_new (NULL);
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (secret, "%02x", bytes[i]);
  memset (bytes, 0, sizeof bytes);
  g_autofree char *token = g_strdup_printf ("%s.%s", name, secret->str);
  g_string_free (secret, TRUE);
  g_autoptr (LodgeUser) user = lodge_user_copy (spec);
  user->token_sha256 = sha256_hex (token);
  user->created_by = g_strdup (by);
  user->created_us = g_get_real_time ();
  g_autoptr (GBytes) json = lodge_user_to_json (user);
  if (!lodge_store_create (users->store, LODGE_STORE_USER, name, json, NULL, error))
    {
      if (g_error_matches (*error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS))
        {
          g_clear_error (error);
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                       "there is a user %s already (remove it first to give it a new token)", name);
        }
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  if (!lodge_users_refresh (users, &local))
    g_warning ("user %s added; reading the users again failed: %s", name, local->message);
  *ret_token = g_steal_pointer (&token);
  return TRUE;
}

gboolean
lodge_users_patch_limits (LodgeUsers *users, const char *name, JsonObject *patch, GError **error)
{
  g_autoptr (GList) members = patch != NULL ? json_object_get_members (patch) : NULL;
  for (GList *l = members; l != NULL; l = l->next)
    if (strcmp (l->data, "quota") != 0 && strcmp (l->data, "templates") != 0
        && strcmp (l->data, "applications") != 0)
      {
        g_autofree char *shown = g_strescape (l->data, NULL);
        g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                     "unknown member '%s' (quota, templates or applications)", shown);
        return FALSE;
      }
  guint64 version = 0;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (users->store, LODGE_STORE_USER, name, &version, &local);
  if (json == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND, "no user %s", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_autoptr (LodgeUser) user = lodge_user_from_json (json, error);
  if (user == NULL || (patch != NULL && !apply_limits (patch, user, TRUE, error))
      || !lodge_user_check_limits (user, error))
    return FALSE;
  g_autoptr (GBytes) updated = lodge_user_to_json (user);
  if (!lodge_store_update (users->store, LODGE_STORE_USER, name, version, updated, NULL, error))
    {
      if (g_error_matches (*error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT))
        g_prefix_error (error, "user %s changed meanwhile; nothing was changed: ", name);
      return FALSE;
    }
  if (!lodge_users_refresh (users, &local))
    g_warning ("user %s changed; reading the users again failed: %s", name, local->message);
  return TRUE;
}

LodgeUser *
lodge_users_get (LodgeUsers *users, const char *name)
{
  g_mutex_lock (&users->lock);
  LodgeUser *user = g_hash_table_lookup (users->by_name, name);
  LodgeUser *copy = user != NULL ? lodge_user_copy (user) : NULL;
  g_mutex_unlock (&users->lock);
  return copy;
}

gboolean
lodge_users_remove (LodgeUsers *users, const char *name, GError **error)
{
  if (!lodge_store_delete (users->store, LODGE_STORE_USER, name, 0, error))
    {
      if (g_error_matches (*error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        {
          g_clear_error (error);
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND, "no user %s", name);
        }
      return FALSE;
    }
  /* At once, whatever the store says next. */
  g_mutex_lock (&users->lock);
  g_hash_table_remove (users->by_name, name);
  g_mutex_unlock (&users->lock);
  g_autoptr (GError) local = NULL;
  if (!lodge_users_refresh (users, &local))
    g_warning ("user %s removed; reading the users again failed: %s", name, local->message);
  return TRUE;
}

LodgeIdentity *
lodge_users_authenticate (LodgeUsers *users, const char *token)
{
  const char *dot = token != NULL ? strchr (token, '.') : NULL;
  if (dot == NULL || dot == token || dot - token > 32)
    return NULL;
  g_autofree char *name = g_strndup (token, (gsize) (dot - token));
  g_autofree char *hash = sha256_hex (token);
  LodgeIdentity *identity = NULL;
  g_mutex_lock (&users->lock);
  LodgeUser *user = g_hash_table_lookup (users->by_name, name);
  if (user != NULL)
    {
      /* Hashes of equal length, compared in constant time. */
      guint diff = 0;
      for (gsize i = 0; i < 64; i++)
        diff |= (guchar) hash[i] ^ (guchar) user->token_sha256[i];
      if (diff == 0)
        identity = lodge_identity_new (user->name, user->role);
    }
  g_mutex_unlock (&users->lock);
  return identity;
}
