/* Semantic validation of an environment definition: rules that span more
 * than one value. Single values were checked while reading. */
#include <string.h>

#include "lodge-env.h"
#include "lodge-error.h"
#include "lodge-units.h"

static const char *const sysctl_roots[] = {
  "abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm",
};

G_GNUC_PRINTF (4, 5) static gboolean
fail (GError **error, const char *origin, guint line, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (line == 0)
    g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s: %s", origin, msg);
  else
    g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s:%u: %s", origin, line, msg);
  return FALSE;
}

static gboolean
validate_resources (const LodgeEnvDef *def, const char *origin, GError **error)
{
  if (def->current_memory > def->memory)
    {
      g_autofree char *cur = lodge_units_format (def->current_memory);
      g_autofree char *mem = lodge_units_format (def->memory);
      return fail (error, origin, def->current_memory_line,
                   "<currentMemory> (%s) is larger than <memory> (%s); the host cannot "
                   "commit more than the guest sees",
                   cur, mem);
    }
  if (def->cpu_limit > def->vcpus * 100)
    return fail (error, origin, def->cpu_limit_line,
                 "<limit> %u%% is more than the VE's %u vCPUs can use (at most %u%%)",
                 def->cpu_limit, def->vcpus, def->vcpus * 100);
  return TRUE;
}

static gboolean
validate_os (const LodgeEnvDef *def, const char *origin, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < def->sysctls->len; i++)
    {
      LodgeEnvParam *p = def->sysctls->pdata[i];
      g_autofree char *root = g_strndup (p->name, strcspn (p->name, "."));
      gboolean known = FALSE;
      for (guint j = 0; j < G_N_ELEMENTS (sysctl_roots); j++)
        known |= strcmp (root, sysctl_roots[j]) == 0;
      if (!known)
        return fail (error, origin, p->line,
                     "sysctl '%s': '%s' is not a sysctl tree (abi, crypto, debug, dev, fs, "
                     "kernel, net, sunrpc, user, vm)",
                     p->name, root);
      LodgeEnvParam *prev = g_hash_table_lookup (seen, p->name);
      if (prev != NULL)
        return fail (error, origin, p->line, "sysctl '%s' is set twice (also on line %u)",
                     p->name, prev->line);
      g_hash_table_insert (seen, p->name, p);
    }

  for (guint i = 0; i < def->dns_servers->len; i++)
    for (guint j = 0; j < i; j++)
      {
        LodgeEnvIp *a = def->dns_servers->pdata[i], *b = def->dns_servers->pdata[j];
        if (strcmp (a->address, b->address) == 0)
          return fail (error, origin, a->line, "DNS server %s is listed twice", a->address);
      }
  return TRUE;
}

static gboolean
validate_interface (const LodgeEnvInterface *iface, const char *origin, GError **error)
{
  for (guint i = 0; i < iface->gateways->len; i++)
    {
      LodgeEnvIp *gw = iface->gateways->pdata[i];
      gboolean has_family = FALSE;
      for (guint j = 0; j < iface->ips->len; j++)
        {
          LodgeEnvIp *ip = iface->ips->pdata[j];
          has_family |= ip->family == gw->family;
          if (strcmp (ip->address, gw->address) == 0)
            return fail (error, origin, gw->line,
                         "interface %s: gateway %s is the interface's own address", iface->name,
                         gw->address);
        }
      if (!has_family)
        return fail (error, origin, gw->line,
                     "interface %s: gateway %s needs an %s address on the interface",
                     iface->name, gw->address, gw->family == LODGE_IP_V4 ? "IPv4" : "IPv6");
    }
  return TRUE;
}

static gboolean
validate_network (const LodgeEnvDef *def, const char *origin, GError **error)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) macs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) addrs = g_hash_table_new (g_str_hash, g_str_equal);
  LodgeEnvIp *default_gw[LODGE_IP_LAST] = { NULL };

  for (guint i = 0; i < def->interfaces->len; i++)
    {
      LodgeEnvInterface *iface = def->interfaces->pdata[i];
      LodgeEnvInterface *other = g_hash_table_lookup (names, iface->name);
      if (other != NULL)
        return fail (error, origin, iface->line, "interface %s is defined twice (also on line %u)",
                     iface->name, other->line);
      g_hash_table_insert (names, iface->name, iface);

      if (iface->mac != NULL)
        {
          other = g_hash_table_lookup (macs, iface->mac);
          if (other != NULL)
            return fail (error, origin, iface->line,
                         "interface %s: MAC address %s is already used by interface %s",
                         iface->name, iface->mac, other->name);
          g_hash_table_insert (macs, iface->mac, iface);
        }

      for (guint j = 0; j < iface->ips->len; j++)
        {
          LodgeEnvIp *ip = iface->ips->pdata[j];
          other = g_hash_table_lookup (addrs, ip->address);
          if (other != NULL)
            return fail (error, origin, ip->line,
                         "interface %s: address %s is already used by interface %s",
                         iface->name, ip->address, other->name);
          g_hash_table_insert (addrs, ip->address, iface);
        }

      for (guint j = 0; j < iface->gateways->len; j++)
        {
          LodgeEnvIp *gw = iface->gateways->pdata[j];
          if (default_gw[gw->family] != NULL)
            return fail (error, origin, gw->line,
                         "a second %s default gateway (%s); the first is %s on line %u",
                         gw->family == LODGE_IP_V4 ? "IPv4" : "IPv6", gw->address,
                         default_gw[gw->family]->address, default_gw[gw->family]->line);
          default_gw[gw->family] = gw;
        }

      if (!validate_interface (iface, origin, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
validate_applications (const LodgeEnvDef *def, const char *origin, GError **error)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < def->applications->len; i++)
    {
      LodgeEnvApplication *app = def->applications->pdata[i];
      LodgeEnvApplication *other = g_hash_table_lookup (names, app->name);
      if (other != NULL)
        return fail (error, origin, app->line,
                     "application %s is defined twice (also on line %u)", app->name,
                     other->line);
      g_hash_table_insert (names, app->name, app);

      for (guint j = 0; j < app->params->len; j++)
        for (guint k = 0; k < j; k++)
          {
            LodgeEnvParam *a = app->params->pdata[j], *b = app->params->pdata[k];
            if (strcmp (a->name, b->name) == 0)
              return fail (error, origin, a->line,
                           "application %s: parameter '%s' is set twice (also on line %u)",
                           app->name, a->name, b->line);
          }
    }
  return TRUE;
}

static gboolean
validate_root (const LodgeEnvDef *def, const char *origin, GError **error)
{
  for (guint i = 0; i < def->authorized_keys->len; i++)
    for (guint j = 0; j < i; j++)
      {
        /* Compare type and key data; comments may differ. */
        g_auto (GStrv) a = g_strsplit (def->authorized_keys->pdata[i], " ", 3);
        g_auto (GStrv) b = g_strsplit (def->authorized_keys->pdata[j], " ", 3);
        if (g_strcmp0 (a[1], b[1]) == 0)
          return fail (error, origin, 0, "root: authorized key %u repeats key %u", i + 1, j + 1);
      }
  return TRUE;
}

gboolean
lodge_env_def_validate (const LodgeEnvDef *def, const char *origin, GError **error)
{
  g_return_val_if_fail (def != NULL, FALSE);
  g_return_val_if_fail (origin != NULL, FALSE);

  return validate_resources (def, origin, error) && validate_root (def, origin, error)
         && validate_os (def, origin, error) && validate_network (def, origin, error)
         && validate_applications (def, origin, error);
}
