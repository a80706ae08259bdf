#include "lodge-users.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "lodge-error.h"
#include "lodge-json.h"
#include "lodge-storage-error.h"

#define SECRET_BYTES 32

struct _LodgeUsers {
  LodgeStore *store;
  GMutex lock;
  GHashTable *by_name; /* name -> LodgeUser */
};

void
lodge_user_free (LodgeUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->token_sha256);
  g_free (user->created_by);
  g_free (user);
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
  LodgeUser *user = g_new0 (LodgeUser, 1);
  user->name = g_strdup (name);
  user->role = (LodgeRole) r;
  user->token_sha256 = g_strdup (hash);
  user->created_by = g_strdup (json_object_get_string_member_with_default (o, "created_by", ""));
  user->created_us = json_object_get_int_member_with_default (o, "created_us", 0);
  return user;
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
lodge_users_add (LodgeUsers *users, const char *name, LodgeRole role, const char *by,
                 char **ret_token, GError **error)
{
  if (!lodge_access_check_user_name (name, error))
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
  LodgeUser user = {
    .name = (char *) name,
    .role = role,
    .token_sha256 = sha256_hex (token),
    .created_by = (char *) by,
    .created_us = g_get_real_time (),
  };
  g_autoptr (GBytes) json = lodge_user_to_json (&user);
  g_free (user.token_sha256);
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
