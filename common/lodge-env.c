#include "lodge-env.h"

#include <arpa/inet.h>
#include <string.h>

#include "lodge-error.h"
#include "lodge-units.h"
#include "lodge-xml.h"

LODGE_ENUM_IMPL (lodge_restart_policy, LODGE_RESTART_LAST,
                 "default", "always", "on-failure", "never");
LODGE_ENUM_IMPL (lodge_ip_family, LODGE_IP_LAST, "ipv4", "ipv6");

/* Memory and disk sizes are whole MiB: QEMU and RBD both want that. */
#define SIZE_ALIGN (1ULL << 20)

static void
lodge_env_ip_free (LodgeEnvIp *ip)
{
  if (ip == NULL)
    return;
  g_free (ip->address);
  g_free (ip);
}

void
lodge_env_param_free (LodgeEnvParam *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  g_free (p->value);
  g_free (p);
}

static void
lodge_env_interface_free (LodgeEnvInterface *iface)
{
  if (iface == NULL)
    return;
  g_free (iface->name);
  g_free (iface->mac);
  g_ptr_array_unref (iface->ips);
  g_ptr_array_unref (iface->gateways);
  g_free (iface);
}

void
lodge_env_application_free (LodgeEnvApplication *app)
{
  if (app == NULL)
    return;
  g_free (app->name);
  g_free (app->source_template);
  g_free (app->source_version);
  g_ptr_array_unref (app->params);
  g_free (app->launch);
  g_free (app);
}

LodgeEnvApplication *
lodge_env_application_new (const char *name)
{
  LodgeEnvApplication *app = g_new0 (LodgeEnvApplication, 1);
  app->name = g_strdup (name);
  app->params = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_param_free);
  return app;
}

void
lodge_env_application_set_param (LodgeEnvApplication *app, const char *name, const char *value)
{
  for (guint i = 0; i < app->params->len; i++)
    {
      LodgeEnvParam *p = app->params->pdata[i];
      if (strcmp (p->name, name) == 0)
        {
          g_free (p->value);
          p->value = g_strdup (value);
          return;
        }
    }
  LodgeEnvParam *p = g_new0 (LodgeEnvParam, 1);
  p->name = g_strdup (name);
  p->value = g_strdup (value);
  g_ptr_array_add (app->params, p);
}

LodgeEnvApplication *
lodge_env_def_find_application (const LodgeEnvDef *def, const char *name)
{
  for (guint i = 0; i < def->applications->len; i++)
    if (strcmp (((LodgeEnvApplication *) def->applications->pdata[i])->name, name) == 0)
      return def->applications->pdata[i];
  return NULL;
}

LodgeEnvDef *
lodge_env_def_new (void)
{
  LodgeEnvDef *def = g_new0 (LodgeEnvDef, 1);
  def->authorized_keys = g_ptr_array_new_with_free_func (g_free);
  def->dns_servers = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_ip_free);
  def->dns_search = g_ptr_array_new_with_free_func (g_free);
  def->sysctls = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_param_free);
  def->interfaces = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_interface_free);
  def->applications =
    g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_application_free);
  return def;
}

void
lodge_env_def_free (LodgeEnvDef *def)
{
  if (def == NULL)
    return;
  g_free (def->name);
  g_free (def->description);
  g_free (def->owner);
  g_free (def->template_name);
  g_free (def->template_version);
  g_free (def->root_password_hash);
  g_ptr_array_unref (def->authorized_keys);
  g_free (def->hostname);
  g_free (def->timezone);
  g_ptr_array_unref (def->dns_servers);
  g_ptr_array_unref (def->dns_search);
  g_ptr_array_unref (def->sysctls);
  g_ptr_array_unref (def->interfaces);
  g_ptr_array_unref (def->applications);
  g_free (def);
}

#define LABEL "a DNS label (1-63 of a-z, 0-9 and '-', not starting or ending with '-')"
#define VERSION "1-63 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
#define SIZE "a whole number (of the unit= attribute; KiB for memory, bytes for disk)"
#define UNIT "bytes, KiB, MiB, GiB or TiB (or K, M, G, T; KB, MB, GB, TB are powers of 1000)"
#define ONE_LINE "one line of text (no line breaks, at most 4096 characters)"
#define ADDRESS "an IPv4 or IPv6 address"
#define HOSTNAME "a host name (dot-separated DNS labels, at most 253 characters)"

static const LodgeXmlHint env_hints[] = {
  { "name", NULL, LABEL },
  { "description", NULL, "text of at most 1024 characters" },
  { "owner", NULL, "a user name (1 to 32 of a-z, 0-9 and '-', starting with a letter or a digit)" },
  { "template", "name", LABEL },
  { "template", "version", VERSION },
  { "vcpus", NULL, "a whole number from 1 to 256" },
  { "memory", NULL, SIZE },
  { "memory", "unit", UNIT },
  { "currentMemory", NULL, SIZE },
  { "currentMemory", "unit", UNIT },
  { "disk", NULL, SIZE },
  { "disk", "unit", UNIT },
  { "weight", NULL, "a whole number from 1 to 10000" },
  { "limit", NULL, "a whole number of percent of one host CPU, from 1 to 100 per vCPU" },
  { "iops", NULL, "a whole number from 1 to 1000000 (operations per second)" },
  { "bandwidth", NULL, "a whole number (per second, of the unit= attribute; MiB without one)" },
  { "bandwidth", "unit", UNIT },
  { "password", "hash",
    "a crypt(5) hash starting with $6$ (SHA-512) or $y$ (yescrypt), never a clear-text "
    "password" },
  { "authorizedKey", NULL, "one OpenSSH public key line: TYPE BASE64 [COMMENT]" },
  { "hostname", NULL, HOSTNAME },
  { "timezone", NULL, "a tz database name such as UTC or Europe/Berlin" },
  { "server", "address", ADDRESS },
  { "search", "domain", HOSTNAME },
  { "sysctl", "name", "a sysctl key such as net.ipv4.ip_forward (lower case, dot-separated)" },
  { "sysctl", "value", "one line of text (at most 256 characters)" },
  { "interface", "name", "an interface name (a lower-case letter, then up to 14 of a-z, 0-9)" },
  { "mac", "address", "a MAC address such as 52:54:00:12:34:56" },
  { "ip", "address", ADDRESS },
  { "ip", "prefix", "a prefix length (1-32 for IPv4, 1-128 for IPv6)" },
  { "gateway", "address", ADDRESS },
  { "replicas", NULL, "1, 2 or 3" },
  { "restart", NULL, "always, on-failure or never" },
  { "priority", NULL, "a whole number from 0 to 1000" },
  { "application", "name", LABEL },
  { "application", "autostart", "yes or no" },
  { "source", "template", LABEL },
  { "source", "version", VERSION },
  { "param", "name", "a letter or '_', then up to 63 of letters, digits, '_', '.', '-'" },
  { "param", "value", ONE_LINE },
  { "launch", NULL, ONE_LINE },
  { NULL, NULL, NULL }
};

/* ---- typed reading (the document is already schema-valid) ---- */

typedef struct {
  const char *origin;
  GError **error;
} Reader;

G_GNUC_PRINTF (3, 4) static gboolean
reader_fail (Reader *r, xmlNode *node, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (r->error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s:%u: <%s>: %s", r->origin,
               lodge_xml_line (node), (const char *) node->name, msg);
  return FALSE;
}

static gboolean
read_uint (Reader *r, xmlNode *node, guint min, guint max, guint *ret)
{
  g_autofree char *text = lodge_xml_text (node);
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &v, NULL))
    return reader_fail (r, node, "%s is out of range (%u to %u)", text, min, max);
  *ret = (guint) v;
  return TRUE;
}

static gboolean
read_size (Reader *r, xmlNode *node, const char *default_unit, guint64 min, guint64 max,
           guint64 *ret, guint *ret_line)
{
  g_autofree char *text = lodge_xml_text (node);
  g_autofree char *unit = lodge_xml_prop (node, "unit");
  g_autoptr (GError) local = NULL;
  guint64 bytes;

  if (!lodge_units_scale (text, unit, default_unit, &bytes, &local))
    return reader_fail (r, node, "%s", local->message);

  g_autofree char *min_s = lodge_units_format (min);
  g_autofree char *max_s = lodge_units_format (max);
  if (bytes < min || bytes > max)
    return reader_fail (r, node, "%s %s is out of range (%s to %s)", text,
                        unit != NULL ? unit : default_unit, min_s, max_s);
  if (bytes % SIZE_ALIGN != 0)
    return reader_fail (r, node, "%s %s is not a whole number of MiB", text,
                        unit != NULL ? unit : default_unit);
  *ret = bytes;
  *ret_line = lodge_xml_line (node);
  return TRUE;
}

static gboolean
is_v4_unusable (const guint8 *b)
{
  return b[0] == 0 || b[0] == 127 || b[0] >= 224; /* this-net, loopback, multicast/reserved */
}

static gboolean
is_v6_unusable (const guint8 *b)
{
  static const guint8 zero[16] = { 0 };
  static const guint8 loopback[16] = { [15] = 1 };
  return memcmp (b, zero, 16) == 0 || memcmp (b, loopback, 16) == 0 || b[0] == 0xff;
}

/* Reads attribute @attr of @node as an IP address; @with_prefix also reads
 * "prefix". */
static LodgeEnvIp *
read_ip (Reader *r, xmlNode *node, const char *attr, gboolean with_prefix)
{
  g_autofree char *text = lodge_xml_prop (node, attr);
  LodgeEnvIp ip = { 0 };

  if (inet_pton (AF_INET, text, ip.bytes) == 1)
    ip.family = LODGE_IP_V4;
  else if (inet_pton (AF_INET6, text, ip.bytes) == 1)
    ip.family = LODGE_IP_V6;
  else
    {
      reader_fail (r, node, "'%s' is not an IPv4 or IPv6 address", text);
      return NULL;
    }
  if (ip.family == LODGE_IP_V4 ? is_v4_unusable (ip.bytes) : is_v6_unusable (ip.bytes))
    {
      reader_fail (r, node, "%s is an unspecified, loopback or multicast address", text);
      return NULL;
    }

  char buf[INET6_ADDRSTRLEN];
  inet_ntop (ip.family == LODGE_IP_V4 ? AF_INET : AF_INET6, ip.bytes, buf, sizeof buf);

  if (with_prefix)
    {
      g_autofree char *prefix = lodge_xml_prop (node, "prefix");
      guint max = ip.family == LODGE_IP_V4 ? 32 : 128;
      guint64 v;
      if (!g_ascii_string_to_unsigned (prefix, 10, 1, max, &v, NULL))
        {
          reader_fail (r, node, "prefix %s of %s is out of range (1 to %u)", prefix, text, max);
          return NULL;
        }
      ip.prefix = (guint) v;
    }

  LodgeEnvIp *out = g_new0 (LodgeEnvIp, 1);
  *out = ip;
  out->address = g_strdup (buf);
  out->line = lodge_xml_line (node);
  return out;
}

static LodgeEnvParam *
read_param (xmlNode *node)
{
  LodgeEnvParam *p = g_new0 (LodgeEnvParam, 1);
  p->name = lodge_xml_prop (node, "name");
  p->value = lodge_xml_prop (node, "value");
  p->line = lodge_xml_line (node);
  return p;
}

static gboolean
read_resources (Reader *r, xmlNode *res, LodgeEnvDef *def)
{
  xmlNode *n = lodge_xml_child (res, "vcpus");
  if (!read_uint (r, n, 1, LODGE_ENV_MAX_VCPUS, &def->vcpus))
    return FALSE;
  n = lodge_xml_child (res, "memory");
  if (!read_size (r, n, "KiB", LODGE_ENV_MIN_MEMORY, LODGE_ENV_MAX_MEMORY, &def->memory,
                  &def->memory_line))
    return FALSE;
  n = lodge_xml_child (res, "currentMemory");
  if (n != NULL && !read_size (r, n, "KiB", LODGE_ENV_MIN_MEMORY, LODGE_ENV_MAX_MEMORY,
                               &def->current_memory, &def->current_memory_line))
    return FALSE;
  n = lodge_xml_child (res, "disk");
  if (!read_size (r, n, "bytes", LODGE_ENV_MIN_DISK, LODGE_ENV_MAX_DISK, &def->disk,
                  &def->disk_line))
    return FALSE;

  xmlNode *cpu = lodge_xml_child (res, "cpu");
  if (cpu != NULL)
    {
      n = lodge_xml_child (cpu, "weight");
      if (n != NULL && !read_uint (r, n, 1, LODGE_ENV_MAX_CPU_WEIGHT, &def->cpu_weight))
        return FALSE;
      n = lodge_xml_child (cpu, "limit");
      if (n != NULL)
        {
          if (!read_uint (r, n, 1, LODGE_ENV_MAX_VCPUS * 100, &def->cpu_limit))
            return FALSE;
          def->cpu_limit_line = lodge_xml_line (n);
        }
    }
  xmlNode *io = lodge_xml_child (res, "io");
  if (io != NULL)
    {
      n = lodge_xml_child (io, "iops");
      if (n != NULL && !read_uint (r, n, 1, LODGE_ENV_MAX_IOPS, &def->io_iops))
        return FALSE;
      n = lodge_xml_child (io, "bandwidth");
      guint line;
      if (n != NULL && !read_size (r, n, "MiB", LODGE_ENV_MIN_BANDWIDTH, LODGE_ENV_MAX_BANDWIDTH,
                                   &def->io_bandwidth, &line))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_root (Reader *r, xmlNode *root, LodgeEnvDef *def)
{
  def->root_password_hash = lodge_xml_prop (lodge_xml_child (root, "password"), "hash");
  LODGE_XML_FOREACH_CHILD (key, root, "authorizedKey")
    {
      g_autofree char *text = lodge_xml_text (key);
      g_auto (GStrv) fields = g_strsplit (text, " ", 3);
      gsize decoded_len = 0;
      g_autofree guchar *decoded = NULL;
      if (g_strv_length (fields) >= 2 && strlen (fields[1]) % 4 == 0)
        decoded = g_base64_decode (fields[1], &decoded_len);
      /* The blob starts with the key type again, length-prefixed. */
      gsize type_len = strlen (fields[0]);
      guint32 be_len = 0;
      if (decoded != NULL && decoded_len >= 4)
        memcpy (&be_len, decoded, 4);
      if (decoded == NULL || decoded_len < 4 + type_len || GUINT32_FROM_BE (be_len) != type_len
          || memcmp (decoded + 4, fields[0], type_len) != 0)
        return reader_fail (r, key, "the key data is not a valid %s public key", fields[0]);
      g_ptr_array_add (def->authorized_keys, g_steal_pointer (&text));
    }
  return TRUE;
}

static gboolean
read_os (Reader *r, xmlNode *os, LodgeEnvDef *def)
{
  def->hostname = lodge_xml_text (lodge_xml_child (os, "hostname"));
  def->timezone = lodge_xml_text (lodge_xml_child (os, "timezone"));
  xmlNode *dns = lodge_xml_child (os, "dns");
  if (dns != NULL)
    {
      LODGE_XML_FOREACH_CHILD (server, dns, "server")
        {
          LodgeEnvIp *ip = read_ip (r, server, "address", FALSE);
          if (ip == NULL)
            return FALSE;
          g_ptr_array_add (def->dns_servers, ip);
        }
      LODGE_XML_FOREACH_CHILD (search, dns, "search")
        g_ptr_array_add (def->dns_search, lodge_xml_prop (search, "domain"));
    }
  LODGE_XML_FOREACH_CHILD (sysctl, os, "sysctl")
    g_ptr_array_add (def->sysctls, read_param (sysctl));
  return TRUE;
}

static gboolean
read_network (Reader *r, xmlNode *net, LodgeEnvDef *def)
{
  LODGE_XML_FOREACH_CHILD (node, net, "interface")
    {
      LodgeEnvInterface *iface = g_new0 (LodgeEnvInterface, 1);
      iface->ips = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_ip_free);
      iface->gateways = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_ip_free);
      iface->name = lodge_xml_prop (node, "name");
      iface->line = lodge_xml_line (node);
      g_ptr_array_add (def->interfaces, iface);

      xmlNode *mac = lodge_xml_child (node, "mac");
      if (mac != NULL)
        {
          g_autofree char *text = lodge_xml_prop (mac, "address");
          iface->mac = g_ascii_strdown (text, -1);
          guint first = g_ascii_xdigit_value (iface->mac[0]) * 16
                        + g_ascii_xdigit_value (iface->mac[1]);
          if (first & 1)
            return reader_fail (r, mac, "%s is a multicast MAC address", text);
          if (strcmp (iface->mac, "00:00:00:00:00:00") == 0)
            return reader_fail (r, mac, "%s is not a usable MAC address", text);
        }
      LODGE_XML_FOREACH_CHILD (ipn, node, "ip")
        {
          LodgeEnvIp *ip = read_ip (r, ipn, "address", TRUE);
          if (ip == NULL)
            return FALSE;
          g_ptr_array_add (iface->ips, ip);
        }
      LODGE_XML_FOREACH_CHILD (gwn, node, "gateway")
        {
          LodgeEnvIp *ip = read_ip (r, gwn, "address", FALSE);
          if (ip == NULL)
            return FALSE;
          g_ptr_array_add (iface->gateways, ip);
        }
    }
  return TRUE;
}

static gboolean
read_availability (Reader *r, xmlNode *avail, LodgeEnvDef *def)
{
  xmlNode *n = lodge_xml_child (avail, "replicas");
  if (n != NULL && !read_uint (r, n, 1, 3, &def->replicas))
    return FALSE;
  n = lodge_xml_child (avail, "restart");
  if (n != NULL)
    {
      g_autofree char *text = lodge_xml_text (n);
      int policy = lodge_restart_policy_from_string (text);
      /* the schema admits only always, on-failure and never; "default" is
       * the absence of the element, never a value */
      if (policy <= LODGE_RESTART_DEFAULT)
        return reader_fail (r, n, "invalid value '%s'; expected always, on-failure or never",
                            text);
      def->restart = policy;
    }
  n = lodge_xml_child (avail, "priority");
  if (n != NULL)
    {
      if (!read_uint (r, n, 0, LODGE_ENV_MAX_PRIORITY, &def->priority))
        return FALSE;
      def->has_priority = TRUE;
    }
  return TRUE;
}

static void
read_applications (Reader *r, xmlNode *apps, LodgeEnvDef *def)
{
  LODGE_XML_FOREACH_CHILD (node, apps, "application")
    {
      LodgeEnvApplication *app = g_new0 (LodgeEnvApplication, 1);
      app->params = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_env_param_free);
      app->name = lodge_xml_prop (node, "name");
      app->line = lodge_xml_line (node);
      g_autofree char *autostart = lodge_xml_prop (node, "autostart");
      app->autostart = g_strcmp0 (autostart, "yes") == 0;
      xmlNode *source = lodge_xml_child (node, "source");
      app->source_template = lodge_xml_prop (source, "template");
      app->source_version = lodge_xml_prop (source, "version");
      xmlNode *config = lodge_xml_child (node, "config");
      if (config != NULL)
        LODGE_XML_FOREACH_CHILD (param, config, "param")
          g_ptr_array_add (app->params, read_param (param));
      app->launch = lodge_xml_text (lodge_xml_child (node, "launch"));
      g_ptr_array_add (def->applications, app);
    }
}

LodgeEnvDef *
lodge_env_def_parse (const char *xml, gsize len, const char *origin, GError **error)
{
  g_return_val_if_fail (origin != NULL, NULL);

  g_autoptr (xmlDoc) doc = lodge_xml_parse (xml, len, origin, error);
  if (doc == NULL)
    return NULL;
  if (!lodge_xml_validate (doc, "environment.rng", env_hints, origin, error))
    return NULL;

  Reader r = { origin, error };
  xmlNode *top = xmlDocGetRootElement (doc);
  g_autoptr (LodgeEnvDef) def = lodge_env_def_new ();

  def->name = lodge_xml_text (lodge_xml_child (top, "name"));
  def->description = lodge_xml_text (lodge_xml_child (top, "description"));
  def->owner = lodge_xml_text (lodge_xml_child (top, "owner"));
  xmlNode *tmpl = lodge_xml_child (top, "template");
  def->template_name = lodge_xml_prop (tmpl, "name");
  def->template_version = lodge_xml_prop (tmpl, "version");

  if (!read_resources (&r, lodge_xml_child (top, "resources"), def))
    return NULL;
  xmlNode *n;
  if ((n = lodge_xml_child (top, "root")) != NULL && !read_root (&r, n, def))
    return NULL;
  if ((n = lodge_xml_child (top, "os")) != NULL && !read_os (&r, n, def))
    return NULL;
  if ((n = lodge_xml_child (top, "network")) != NULL && !read_network (&r, n, def))
    return NULL;
  if ((n = lodge_xml_child (top, "availability")) != NULL && !read_availability (&r, n, def))
    return NULL;
  if ((n = lodge_xml_child (top, "applications")) != NULL)
    read_applications (&r, n, def);

  return g_steal_pointer (&def);
}

LodgeEnvDef *
lodge_env_def_load (const char *xml, gsize len, const char *origin, GError **error)
{
  g_autoptr (LodgeEnvDef) def = lodge_env_def_parse (xml, len, origin, error);
  if (def == NULL || !lodge_env_def_validate (def, origin, error))
    return NULL;
  return g_steal_pointer (&def);
}

LodgeEnvDef *
lodge_env_def_load_file (const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *xml = lodge_xml_read_file (path, LODGE_XML_MAX_BYTES, &len, error);
  if (xml == NULL)
    return NULL;
  return lodge_env_def_load (xml, len, path, error);
}

/* ---- formatting ---- */

static void
add_size (xmlNode *parent, const char *name, guint64 bytes)
{
  const char *unit;
  guint64 value = lodge_units_canonical (bytes, &unit);
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, value);
  xmlNode *n = lodge_xml_add (parent, name, text);
  lodge_xml_set (n, "unit", unit);
}

static void
add_uint (xmlNode *parent, const char *name, guint value)
{
  g_autofree char *text = g_strdup_printf ("%u", value);
  lodge_xml_add (parent, name, text);
}

static void
format_os (xmlNode *top, const LodgeEnvDef *def)
{
  if (def->hostname == NULL && def->timezone == NULL && def->dns_servers->len == 0
      && def->sysctls->len == 0)
    return;
  xmlNode *os = lodge_xml_add (top, "os", NULL);
  if (def->hostname != NULL)
    lodge_xml_add (os, "hostname", def->hostname);
  if (def->timezone != NULL)
    lodge_xml_add (os, "timezone", def->timezone);
  if (def->dns_servers->len > 0)
    {
      xmlNode *dns = lodge_xml_add (os, "dns", NULL);
      for (guint i = 0; i < def->dns_servers->len; i++)
        {
          LodgeEnvIp *ip = def->dns_servers->pdata[i];
          lodge_xml_set (lodge_xml_add (dns, "server", NULL), "address", ip->address);
        }
      for (guint i = 0; i < def->dns_search->len; i++)
        lodge_xml_set (lodge_xml_add (dns, "search", NULL), "domain", def->dns_search->pdata[i]);
    }
  for (guint i = 0; i < def->sysctls->len; i++)
    {
      LodgeEnvParam *p = def->sysctls->pdata[i];
      xmlNode *n = lodge_xml_add (os, "sysctl", NULL);
      lodge_xml_set (n, "name", p->name);
      lodge_xml_set (n, "value", p->value);
    }
}

static void
format_network (xmlNode *top, const LodgeEnvDef *def)
{
  if (def->interfaces->len == 0)
    return;
  xmlNode *net = lodge_xml_add (top, "network", NULL);
  for (guint i = 0; i < def->interfaces->len; i++)
    {
      LodgeEnvInterface *iface = def->interfaces->pdata[i];
      xmlNode *n = lodge_xml_add (net, "interface", NULL);
      lodge_xml_set (n, "name", iface->name);
      if (iface->mac != NULL)
        lodge_xml_set (lodge_xml_add (n, "mac", NULL), "address", iface->mac);
      for (guint j = 0; j < iface->ips->len; j++)
        {
          LodgeEnvIp *ip = iface->ips->pdata[j];
          xmlNode *ipn = lodge_xml_add (n, "ip", NULL);
          g_autofree char *prefix = g_strdup_printf ("%u", ip->prefix);
          lodge_xml_set (ipn, "address", ip->address);
          lodge_xml_set (ipn, "prefix", prefix);
        }
      for (guint j = 0; j < iface->gateways->len; j++)
        {
          LodgeEnvIp *gw = iface->gateways->pdata[j];
          lodge_xml_set (lodge_xml_add (n, "gateway", NULL), "address", gw->address);
        }
    }
}

static void
format_applications (xmlNode *top, const LodgeEnvDef *def)
{
  if (def->applications->len == 0)
    return;
  xmlNode *apps = lodge_xml_add (top, "applications", NULL);
  for (guint i = 0; i < def->applications->len; i++)
    {
      LodgeEnvApplication *app = def->applications->pdata[i];
      xmlNode *n = lodge_xml_add (apps, "application", NULL);
      lodge_xml_set (n, "name", app->name);
      lodge_xml_set (n, "autostart", app->autostart ? "yes" : "no");
      xmlNode *src = lodge_xml_add (n, "source", NULL);
      lodge_xml_set (src, "template", app->source_template);
      lodge_xml_set (src, "version", app->source_version);
      if (app->params->len > 0)
        {
          xmlNode *config = lodge_xml_add (n, "config", NULL);
          for (guint j = 0; j < app->params->len; j++)
            {
              LodgeEnvParam *p = app->params->pdata[j];
              xmlNode *pn = lodge_xml_add (config, "param", NULL);
              lodge_xml_set (pn, "name", p->name);
              lodge_xml_set (pn, "value", p->value);
            }
        }
      if (app->launch != NULL)
        lodge_xml_add (n, "launch", app->launch);
    }
}

char *
lodge_env_def_format (const LodgeEnvDef *def)
{
  g_return_val_if_fail (def != NULL, NULL);

  g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *top = xmlNewNode (NULL, (const xmlChar *) "environment");
  xmlDocSetRootElement (doc, top);

  lodge_xml_add (top, "name", def->name);
  if (def->description != NULL)
    lodge_xml_add (top, "description", def->description);
  if (def->owner != NULL)
    lodge_xml_add (top, "owner", def->owner);
  xmlNode *tmpl = lodge_xml_add (top, "template", NULL);
  lodge_xml_set (tmpl, "name", def->template_name);
  lodge_xml_set (tmpl, "version", def->template_version);

  xmlNode *res = lodge_xml_add (top, "resources", NULL);
  add_uint (res, "vcpus", def->vcpus);
  add_size (res, "memory", def->memory);
  if (def->current_memory != 0)
    add_size (res, "currentMemory", def->current_memory);
  add_size (res, "disk", def->disk);
  if (def->cpu_weight != 0 || def->cpu_limit != 0)
    {
      xmlNode *cpu = lodge_xml_add (res, "cpu", NULL);
      if (def->cpu_weight != 0)
        add_uint (cpu, "weight", def->cpu_weight);
      if (def->cpu_limit != 0)
        add_uint (cpu, "limit", def->cpu_limit);
    }
  if (def->io_iops != 0 || def->io_bandwidth != 0)
    {
      xmlNode *io = lodge_xml_add (res, "io", NULL);
      if (def->io_iops != 0)
        add_uint (io, "iops", def->io_iops);
      if (def->io_bandwidth != 0)
        add_size (io, "bandwidth", def->io_bandwidth);
    }

  if (def->root_password_hash != NULL || def->authorized_keys->len > 0)
    {
      xmlNode *root = lodge_xml_add (top, "root", NULL);
      if (def->root_password_hash != NULL)
        lodge_xml_set (lodge_xml_add (root, "password", NULL), "hash", def->root_password_hash);
      for (guint i = 0; i < def->authorized_keys->len; i++)
        lodge_xml_add (root, "authorizedKey", def->authorized_keys->pdata[i]);
    }

  format_os (top, def);
  format_network (top, def);

  if (def->replicas != 0 || def->restart != LODGE_RESTART_DEFAULT || def->has_priority)
    {
      xmlNode *avail = lodge_xml_add (top, "availability", NULL);
      if (def->replicas != 0)
        add_uint (avail, "replicas", def->replicas);
      if (def->restart != LODGE_RESTART_DEFAULT)
        lodge_xml_add (avail, "restart", lodge_restart_policy_to_string (def->restart));
      if (def->has_priority)
        add_uint (avail, "priority", def->priority);
    }

  format_applications (top, def);

  return lodge_xml_format_doc (doc);
}

/* ---- defaults ---- */

guint64
lodge_env_def_effective_current_memory (const LodgeEnvDef *def)
{
  return def->current_memory != 0 ? def->current_memory : def->memory;
}

guint
lodge_env_def_effective_cpu_weight (const LodgeEnvDef *def)
{
  if (def->cpu_weight != 0)
    return def->cpu_weight;
  return MIN (def->vcpus * LODGE_ENV_CPU_WEIGHT_PER_VCPU, LODGE_ENV_MAX_CPU_WEIGHT);
}

guint
lodge_env_def_effective_iops (const LodgeEnvDef *def)
{
  return def->io_iops != 0 ? def->io_iops : LODGE_ENV_DEFAULT_IOPS;
}

guint64
lodge_env_def_effective_bandwidth (const LodgeEnvDef *def)
{
  return def->io_bandwidth != 0 ? def->io_bandwidth : LODGE_ENV_DEFAULT_BANDWIDTH;
}

guint
lodge_env_def_effective_replicas (const LodgeEnvDef *def)
{
  return def->replicas != 0 ? def->replicas : LODGE_ENV_DEFAULT_REPLICAS;
}

LodgeRestartPolicy
lodge_env_def_effective_restart (const LodgeEnvDef *def)
{
  return def->restart != LODGE_RESTART_DEFAULT ? def->restart : LODGE_RESTART_ALWAYS;
}

guint
lodge_env_def_effective_priority (const LodgeEnvDef *def)
{
  return def->has_priority ? def->priority : LODGE_ENV_DEFAULT_PRIORITY;
}

const char *
lodge_env_def_effective_hostname (const LodgeEnvDef *def)
{
  return def->hostname != NULL ? def->hostname : def->name;
}
