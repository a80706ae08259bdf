#include "lodge-addresses.h"

#include <string.h>

#include "lodge-domain.h"
#include "lodge-storage-error.h"

GPtrArray *
lodge_addresses_of (const LodgeEnvDef *def, GPtrArray **ret_shown)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *shown = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < def->interfaces->len; i++)
    {
      const LodgeEnvInterface *iface = def->interfaces->pdata[i];
      g_autofree char *mac = lodge_domain_interface_mac (def, iface);
      GString *key = g_string_new ("mac-");
      for (const char *c = mac; *c != '\0'; c++)
        if (*c != ':')
          g_string_append_c (key, g_ascii_tolower (*c));
      g_ptr_array_add (names, g_string_free (key, FALSE));
      g_ptr_array_add (shown, g_strdup_printf ("MAC %s (%s)", mac, iface->name));
      for (guint j = 0; j < iface->ips->len; j++)
        {
          const LodgeEnvIp *ip = iface->ips->pdata[j];
          if (ip->family == LODGE_IP_V4)
            g_ptr_array_add (names, g_strdup_printf ("ip4-%s", ip->address));
          else
            {
              GString *hex = g_string_new ("ip6-");
              for (guint b = 0; b < 16; b++)
                g_string_append_printf (hex, "%02x", ip->bytes[b]);
              g_ptr_array_add (names, g_string_free (hex, FALSE));
            }
          g_ptr_array_add (shown, g_strdup_printf ("%s (%s)", ip->address, iface->name));
        }
    }
  if (ret_shown != NULL)
    *ret_shown = shown;
  else
    g_ptr_array_unref (shown);
  return names;
}

/* Whether VE @holder's definition has the address stored as @key: a claim
 * of a VE that is gone or changed its addresses is stale. */
static gboolean
holds (LodgeStore *store, const char *holder, const char *key, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) xml = lodge_store_get (store, LODGE_STORE_ENV, holder, NULL, &local);
  if (xml == NULL)
    {
      if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_autoptr (LodgeEnvDef) def = lodge_env_def_parse (g_bytes_get_data (xml, NULL),
                                                     g_bytes_get_size (xml), holder, NULL);
  if (def == NULL)
    return FALSE;
  g_autoptr (GPtrArray) keys = lodge_addresses_of (def, NULL);
  return g_ptr_array_find_with_equal_func (keys, key, g_str_equal, NULL);
}

static void
set_taken (GError **error, const char *shown, const char *holder, gboolean name_holder)
{
  if (name_holder)
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                 "address %s is taken: environment %s has it; addresses are one VE's in the "
                 "whole cluster", shown, holder);
  else
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                 "address %s is taken by another environment; choose another", shown);
}

/* Claim @key for @ve, or check it (@claim FALSE): TRUE when @ve has it
 * now (*@ret_new: it did not before) or, checking, could. */
static gboolean
claim_one (LodgeStore *store, const char *ve, const char *key, const char *shown, gboolean claim,
           gboolean name_holder, gboolean *ret_new, GError **error)
{
  *ret_new = FALSE;
  g_autoptr (GBytes) value = g_bytes_new (ve, strlen (ve));
  g_autoptr (GError) local = NULL;
  guint64 version = 0;
  g_autoptr (GBytes) held = lodge_store_get (store, LODGE_STORE_ADDRESS, key, &version, &local);
  if (held == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_clear_error (&local);
  if (held == NULL)
    {
      if (!claim)
        return TRUE;
      if (!lodge_store_create (store, LODGE_STORE_ADDRESS, key, value, NULL, &local))
        {
          if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS))
            g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                         "address %s was claimed meanwhile; nothing was changed", shown);
          else
            g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      *ret_new = TRUE;
      return TRUE;
    }
  g_autofree char *holder = g_strndup (g_bytes_get_data (held, NULL), g_bytes_get_size (held));
  if (strcmp (holder, ve) == 0)
    return TRUE;
  if (holds (store, holder, key, &local))
    {
      set_taken (error, shown, holder, name_holder);
      return FALSE;
    }
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!claim)
    return TRUE;
  /* Stale: taken over at the version read. */
  if (!lodge_store_update (store, LODGE_STORE_ADDRESS, key, version, value, NULL, &local))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                   "address %s changed hands meanwhile (%s); nothing was changed", shown,
                   local->message);
      return FALSE;
    }
  g_message ("address %s: %s's claim was stale, now %s's", shown, holder, ve);
  *ret_new = TRUE;
  return TRUE;
}

static gboolean
walk (LodgeStore *store, const LodgeEnvDef *def, gboolean claim, gboolean name_holder,
      GPtrArray *ret_taken, GError **error)
{
  g_autoptr (GPtrArray) shown = NULL;
  g_autoptr (GPtrArray) keys = lodge_addresses_of (def, &shown);
  g_autoptr (GPtrArray) taken = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < keys->len; i++)
    {
      gboolean fresh = FALSE;
      if (!claim_one (store, def->name, keys->pdata[i], shown->pdata[i], claim, name_holder, &fresh,
                      error))
        {
          lodge_addresses_release (store, def->name, taken);
          return FALSE;
        }
      if (fresh)
        g_ptr_array_add (taken, g_strdup (keys->pdata[i]));
    }
  for (guint i = 0; ret_taken != NULL && i < taken->len; i++)
    g_ptr_array_add (ret_taken, g_strdup (taken->pdata[i]));
  return TRUE;
}

gboolean
lodge_addresses_check (LodgeStore *store, const LodgeEnvDef *def, gboolean name_holder,
                       GError **error)
{
  return walk (store, def, FALSE, name_holder, NULL, error);
}

gboolean
lodge_addresses_claim (LodgeStore *store, const LodgeEnvDef *def, GPtrArray *ret_taken,
                       GError **error)
{
  return walk (store, def, TRUE, TRUE, ret_taken, error);
}

void
lodge_addresses_release (LodgeStore *store, const char *name, GPtrArray *names)
{
  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *key = names->pdata[i];
      g_autoptr (GError) error = NULL;
      guint64 version = 0;
      g_autoptr (GBytes) held = lodge_store_get (store, LODGE_STORE_ADDRESS, key, &version, &error);
      if (held == NULL)
        {
          if (!g_error_matches (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
            g_warning ("releasing address %s of %s: %s", key, name, error->message);
          continue;
        }
      if (g_bytes_get_size (held) != strlen (name)
          || memcmp (g_bytes_get_data (held, NULL), name, strlen (name)) != 0)
        continue; /* another's now */
      if (!lodge_store_delete (store, LODGE_STORE_ADDRESS, key, version, &error))
        g_warning ("releasing address %s of %s: %s (the claim is stale now)", key, name,
                   error->message);
    }
}
