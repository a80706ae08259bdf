#include "lodge-guest-config.h"

#include "lodge-domain.h"
#include "lodge-error.h"

static void
line (GString *out, const char *key, const char *value)
{
  /* The schema keeps line breaks out of every value; a definition built by
   * hand that has one anyway must not smuggle in a line of its own. */
  g_string_append_printf (out, "%s ", key);
  for (const char *p = value; *p != '\0'; p++)
    g_string_append_c (out, *p == '\n' || *p == '\r' ? ' ' : *p);
  g_string_append_c (out, '\n');
}

char *
lodge_guest_config_format (const LodgeEnvDef *def, GError **error)
{
  g_return_val_if_fail (def != NULL, NULL);

  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "lodge-config %d\n", LODGE_GUEST_CONFIG_VERSION);
  line (out, "name", def->name);
  line (out, "hostname", lodge_env_def_effective_hostname (def));
  if (def->root_password_hash != NULL)
    line (out, "root-password-hash", def->root_password_hash);
  for (guint i = 0; i < def->authorized_keys->len; i++)
    line (out, "authorized-key", def->authorized_keys->pdata[i]);
  if (def->timezone != NULL)
    line (out, "timezone", def->timezone);
  for (guint i = 0; i < def->dns_servers->len; i++)
    line (out, "dns-server", ((LodgeEnvIp *) def->dns_servers->pdata[i])->address);
  for (guint i = 0; i < def->dns_search->len; i++)
    line (out, "dns-search", def->dns_search->pdata[i]);
  for (guint i = 0; i < def->sysctls->len; i++)
    {
      LodgeEnvParam *p = def->sysctls->pdata[i];
      g_autofree char *v = g_strdup_printf ("%s %s", p->name, p->value);
      line (out, "sysctl", v);
    }
  for (guint i = 0; i < def->interfaces->len; i++)
    {
      LodgeEnvInterface *iface = def->interfaces->pdata[i];
      g_autofree char *mac = lodge_domain_interface_mac (def, iface);
      g_autofree char *v = g_strdup_printf ("%s %s", iface->name, mac);
      line (out, "interface", v);
      for (guint j = 0; j < iface->ips->len; j++)
        {
          LodgeEnvIp *ip = iface->ips->pdata[j];
          g_autofree char *a = g_strdup_printf ("%s %s/%u", iface->name, ip->address, ip->prefix);
          line (out, "address", a);
        }
      for (guint j = 0; j < iface->gateways->len; j++)
        {
          LodgeEnvIp *gw = iface->gateways->pdata[j];
          g_autofree char *g = g_strdup_printf ("%s %s", iface->name, gw->address);
          line (out, "gateway", g);
        }
    }
  for (guint i = 0; i < def->applications->len; i++)
    {
      LodgeEnvApplication *app = def->applications->pdata[i];
      g_autofree char *v = g_strdup_printf ("%s %s%s%s", app->name, app->autostart ? "yes" : "no",
                                            app->launch != NULL ? " " : "",
                                            app->launch != NULL ? app->launch : "");
      line (out, "application", v);
    }
  g_string_append (out, "end\n");

  if (out->len > LODGE_GUEST_CONFIG_MAX)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                   "the configuration of VE %s is %" G_GSIZE_FORMAT " bytes; the limit is %d "
                   "(fewer authorized keys or sysctls?)",
                   def->name, out->len, LODGE_GUEST_CONFIG_MAX);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
