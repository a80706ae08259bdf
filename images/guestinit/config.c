#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__ ((format (printf, 4, 5))) static int
fail (char *err, size_t err_len, int line, const char *fmt, ...)
{
  char msg[200];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (line > 0)
    snprintf (err, err_len, "line %d: %s", line, msg);
  else
    snprintf (err, err_len, "%s", msg);
  return -1;
}

int
lodge_cfg_safe_path_part (const char *s)
{
  if (s == NULL || *s == '\0' || *s == '/' || strstr (s, "..") != NULL)
    return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || strchr ("._+/-", *p) != NULL))
      return 0;
  return 1;
}

/* Splits "A REST" at the first space: *rest points after it (or to ""). */
static char *
split (char *s, char **rest)
{
  char *sp = strchr (s, ' ');
  if (sp == NULL)
    {
      *rest = s + strlen (s);
      return s;
    }
  *sp = '\0';
  *rest = sp + 1;
  return s;
}

static int
known_iface (const struct lodge_cfg *cfg, const char *name)
{
  for (int i = 0; i < cfg->n_ifaces; i++)
    if (strcmp (cfg->ifaces[i].name, name) == 0)
      return 1;
  return 0;
}

#define ADD(array, count, max, what) \
  do \
    { \
      if ((count) >= (max)) \
        return fail (err, err_len, lineno, "more than %d %s", (max), (what)); \
    } \
  while (0)

int
lodge_cfg_parse (char *buf, size_t len, struct lodge_cfg *cfg, char *err, size_t err_len)
{
  memset (cfg, 0, sizeof *cfg);
  if (len == 0)
    return fail (err, err_len, 0, "empty");
  if (len > LODGE_CFG_MAX_BYTES)
    return fail (err, err_len, 0, "%zu bytes, over the limit of %d", len, LODGE_CFG_MAX_BYTES);
  if (memchr (buf, '\0', len) != NULL)
    return fail (err, err_len, 0, "contains a NUL byte");
  if (buf[len - 1] != '\n')
    return fail (err, err_len, 0, "cut short (no final line break)");
  buf[len - 1] = '\0';

  int lineno = 0, ended = 0;
  char *next = buf;
  while (next != NULL)
    {
      char *line = next;
      char *nl = strchr (line, '\n');
      if (nl != NULL)
        *nl = '\0';
      next = nl != NULL ? nl + 1 : NULL;
      lineno++;
      if (ended)
        return fail (err, err_len, lineno, "text after 'end'");

      char *value;
      char *key = split (line, &value);
      if (lineno == 1)
        {
          if (strcmp (key, "lodge-config") != 0)
            return fail (err, err_len, 1, "not a Lodge configuration");
          if (strcmp (value, "1") != 0)
            return fail (err, err_len, 1, "format version '%.20s' is not supported (1 is)", value);
          continue;
        }
      if (strcmp (key, "end") == 0)
        {
          ended = 1;
          continue;
        }
      if (strcmp (key, "name") == 0)
        cfg->name = value;
      else if (strcmp (key, "hostname") == 0)
        cfg->hostname = value;
      else if (strcmp (key, "root-password-hash") == 0)
        {
          if (strncmp (value, "$6$", 3) != 0 && strncmp (value, "$y$", 3) != 0)
            return fail (err, err_len, lineno, "root password hash is not $6$ or $y$");
          if (strchr (value, ':') != NULL)
            return fail (err, err_len, lineno, "root password hash contains ':'");
          cfg->root_hash = value;
        }
      else if (strcmp (key, "authorized-key") == 0)
        {
          ADD (cfg->keys, cfg->n_keys, LODGE_CFG_MAX_KEYS, "authorized keys");
          cfg->keys[cfg->n_keys++] = value;
        }
      else if (strcmp (key, "timezone") == 0)
        {
          if (!lodge_cfg_safe_path_part (value))
            return fail (err, err_len, lineno, "unsafe time zone name");
          cfg->timezone = value;
        }
      else if (strcmp (key, "dns-server") == 0)
        {
          ADD (cfg->dns_servers, cfg->n_dns_servers, LODGE_CFG_MAX_DNS, "DNS servers");
          cfg->dns_servers[cfg->n_dns_servers++] = value;
        }
      else if (strcmp (key, "dns-search") == 0)
        {
          ADD (cfg->dns_search, cfg->n_dns_search, LODGE_CFG_MAX_DNS, "search domains");
          cfg->dns_search[cfg->n_dns_search++] = value;
        }
      else if (strcmp (key, "sysctl") == 0)
        {
          ADD (cfg->sysctls, cfg->n_sysctls, LODGE_CFG_MAX_SYSCTLS, "sysctls");
          char *v;
          char *name = split (value, &v);
          if (!lodge_cfg_safe_path_part (name) || strchr (name, '/') != NULL)
            return fail (err, err_len, lineno, "unsafe sysctl name");
          cfg->sysctls[cfg->n_sysctls++] = (struct lodge_cfg_sysctl) { name, v };
        }
      else if (strcmp (key, "interface") == 0)
        {
          ADD (cfg->ifaces, cfg->n_ifaces, LODGE_CFG_MAX_IFACES, "interfaces");
          char *mac;
          char *name = split (value, &mac);
          if (!lodge_cfg_safe_path_part (name) || strchr (name, '/') != NULL || strlen (name) > 15)
            return fail (err, err_len, lineno, "bad interface name");
          if (strlen (mac) != 17)
            return fail (err, err_len, lineno, "bad MAC address");
          cfg->ifaces[cfg->n_ifaces++] = (struct lodge_cfg_iface) { name, mac };
        }
      else if (strcmp (key, "address") == 0 || strcmp (key, "gateway") == 0)
        {
          int is_gw = key[0] == 'g';
          char *addr;
          char *iface = split (value, &addr);
          if (!known_iface (cfg, iface))
            return fail (err, err_len, lineno, "%s of an unlisted interface", key);
          int prefix = -1;
          if (!is_gw)
            {
              char *slash = strchr (addr, '/');
              char *end = NULL;
              if (slash == NULL)
                return fail (err, err_len, lineno, "address without /prefix");
              *slash = '\0';
              long p = strtol (slash + 1, &end, 10);
              if (*end != '\0' || p < 0 || p > 128)
                return fail (err, err_len, lineno, "bad prefix length");
              prefix = (int) p;
              ADD (cfg->addrs, cfg->n_addrs, LODGE_CFG_MAX_ADDRS, "addresses");
              cfg->addrs[cfg->n_addrs++] = (struct lodge_cfg_addr) { iface, addr, prefix };
            }
          else
            {
              ADD (cfg->gateways, cfg->n_gateways, LODGE_CFG_MAX_GATEWAYS, "gateways");
              cfg->gateways[cfg->n_gateways++] = (struct lodge_cfg_addr) { iface, addr, -1 };
            }
          if (*addr == '\0')
            return fail (err, err_len, lineno, "%s without an address", key);
        }
      else if (strcmp (key, "application") == 0)
        {
          ADD (cfg->apps, cfg->n_apps, LODGE_CFG_MAX_APPS, "applications");
          char *rest, *command;
          char *name = split (value, &rest);
          char *flag = split (rest, &command);
          if (*name == '\0' || (strcmp (flag, "yes") != 0 && strcmp (flag, "no") != 0))
            return fail (err, err_len, lineno, "application needs NAME yes|no [COMMAND]");
          cfg->apps[cfg->n_apps++] = (struct lodge_cfg_app) { name, flag[0] == 'y', command };
        }
      /* Unknown keywords: a newer control center's additions; ignored. */
    }
  if (!ended)
    return fail (err, err_len, 0, "cut short (no 'end' line)");
  if (cfg->name == NULL || cfg->hostname == NULL)
    return fail (err, err_len, 0, "'name' or 'hostname' is missing");
  return 0;
}
