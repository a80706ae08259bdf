#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lodge-shadow.h"

#define MANAGED_BEGIN "# lodge-managed keys begin: edited by Lodge at every boot\n"
#define MANAGED_END "# lodge-managed keys end\n"

void
lodge_say (const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  fprintf (stderr, "lodge: %s\n", msg);
}

static char *
path_of (const char *root, const char *rel)
{
  size_t n = strlen (root) + strlen (rel) + 1;
  char *p = malloc (n);
  if (p != NULL)
    snprintf (p, n, "%s%s", root, rel);
  return p;
}

/* The whole file, NUL-terminated; NULL (errno set) when it cannot be
 * read. Files over 4 MiB are refused: nothing we edit is that large. */
static char *
read_file (const char *path, size_t *ret_len)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat (fd, &st) < 0 || st.st_size > 4 * 1024 * 1024)
    {
      close (fd);
      errno = EFBIG;
      return NULL;
    }
  char *buf = malloc (st.st_size + 1);
  size_t len = 0;
  ssize_t n;
  while (buf != NULL && (n = read (fd, buf + len, st.st_size - len)) > 0)
    len += n;
  close (fd);
  if (buf != NULL)
    buf[len] = '\0';
  if (ret_len != NULL)
    *ret_len = len;
  return buf;
}

int
lodge_write_file (const char *path, const char *data, size_t len, unsigned mode, int uid, int gid)
{
  size_t n = strlen (path) + 16;
  char *tmp = malloc (n);
  if (tmp == NULL)
    return -1;
  snprintf (tmp, n, "%s.lodge-new", path);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  int ok = fd >= 0;
  for (size_t done = 0; ok && done < len;)
    {
      ssize_t w = write (fd, data + done, len - done);
      ok = w > 0;
      done += ok ? (size_t) w : 0;
    }
  ok = ok && fchmod (fd, mode) == 0;
  if (ok && (uid >= 0 || gid >= 0))
    ok = fchown (fd, uid, gid) == 0;
  ok = ok && fsync (fd) == 0;
  if (fd >= 0)
    ok = close (fd) == 0 && ok;
  ok = ok && rename (tmp, path) == 0;
  if (!ok)
    {
      lodge_say ("cannot write %s: %s", path, strerror (errno));
      unlink (tmp);
    }
  free (tmp);
  return ok ? 0 : -1;
}

int
lodge_apply_hostname_files (const char *root, const char *hostname)
{
  char line[300];
  int rc = 0;
  char *path = path_of (root, "/etc/hostname");
  snprintf (line, sizeof line, "%s\n", hostname);
  rc |= lodge_write_file (path, line, strlen (line), 0644, -1, -1);
  free (path);

  /* 127.0.1.1 names this host, as Debian's installer does. */
  path = path_of (root, "/etc/hosts");
  size_t len = 0;
  char *hosts = read_file (path, &len);
  char short_name[64];
  snprintf (short_name, sizeof short_name, "%.*s", (int) strcspn (hostname, "."), hostname);
  size_t cap = len + 1024;
  char *out = malloc (cap);
  size_t o = 0;
  int replaced = 0;
  for (char *l = hosts; l != NULL && *l != '\0';)
    {
      char *nl = strchr (l, '\n');
      size_t ll = nl != NULL ? (size_t) (nl - l) : strlen (l);
      if (strncmp (l, "127.0.1.1", 9) == 0 && (l[9] == ' ' || l[9] == '\t'))
        {
          if (!replaced)
            o += snprintf (out + o, cap - o, "127.0.1.1\t%s %s\n", hostname, short_name);
          replaced = 1;
        }
      else
        {
          memcpy (out + o, l, ll);
          o += ll;
          out[o++] = '\n';
        }
      l = nl != NULL ? nl + 1 : NULL;
    }
  if (!replaced)
    {
      if (hosts == NULL)
        o += snprintf (out + o, cap - o, "127.0.0.1\tlocalhost\n::1\t\tlocalhost\n");
      o += snprintf (out + o, cap - o, "127.0.1.1\t%s %s\n", hostname, short_name);
    }
  rc |= lodge_write_file (path, out, o, 0644, -1, -1);
  free (out);
  free (hosts);
  free (path);
  return rc;
}

/* Sets @user's hash field in <root>/etc/shadow (lodge-shadow.h says how).
 * A missing line (and a missing file) is added when @add_missing, else -2
 * is returned and nothing written. */
static int
edit_shadow_hash (const char *root, const char *user, const char *hash, int add_missing)
{
  char *path = path_of (root, "/etc/shadow");
  struct stat st;
  int have = stat (path, &st) == 0;
  size_t len = 0;
  char *shadow = have ? read_file (path, &len) : NULL;
  char *out = NULL;
  size_t out_len = 0;
  char err[256];
  int rc = -1;
  if (have && shadow == NULL)
    lodge_say ("cannot read %s: %s", path, strerror (errno));
  else
    switch (lodge_shadow_set_hash (shadow != NULL ? shadow : "", len, user, hash, add_missing,
                                   lodge_shadow_today (), &out, &out_len, err, sizeof err))
      {
      case LODGE_SHADOW_OK:
        rc = lodge_write_file (path, out, out_len, have ? st.st_mode & 07777 : 0600,
                               have ? (int) st.st_uid : 0, have ? (int) st.st_gid : 0);
        break;
      case LODGE_SHADOW_NO_ENTRY:
        rc = -2;
        break;
      case LODGE_SHADOW_REFUSED:
      case LODGE_SHADOW_NO_MEMORY:
        lodge_say ("%s: %s", path, err);
        break;
      }
  free (out);
  free (shadow);
  free (path);
  return rc;
}

int
lodge_apply_root_hash (const char *root, const char *hash)
{
  return edit_shadow_hash (root, "root", hash, 1);
}

int
lodge_apply_user_hash (const char *root, const char *user, const char *hash)
{
  return edit_shadow_hash (root, user, hash, 0);
}

int
lodge_apply_authorized_keys (const char *root, const char *const *keys, int n_keys)
{
  char *dir = path_of (root, "/root/.ssh");
  char *root_home = path_of (root, "/root");
  mkdir (root_home, 0700);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      lodge_say ("cannot create %s: %s", dir, strerror (errno));
      free (dir);
      free (root_home);
      return -1;
    }
  chmod (dir, 0700);
  char *path = path_of (root, "/root/.ssh/authorized_keys");
  size_t len = 0;
  char *old = read_file (path, &len);

  size_t cap = len + 64 + strlen (MANAGED_BEGIN) + strlen (MANAGED_END);
  for (int i = 0; i < n_keys; i++)
    cap += strlen (keys[i]) + 1;
  char *out = malloc (cap);
  size_t o = 0;
  /* The customer's own keys stay; the managed block is replaced. */
  int in_block = 0;
  for (char *l = old; l != NULL && *l != '\0';)
    {
      char *nl = strchr (l, '\n');
      size_t ll = nl != NULL ? (size_t) (nl - l) + 1 : strlen (l);
      if (strncmp (l, MANAGED_BEGIN, strlen (MANAGED_BEGIN) - 1) == 0)
        in_block = 1;
      else if (strncmp (l, MANAGED_END, strlen (MANAGED_END) - 1) == 0)
        in_block = 0;
      else if (!in_block)
        {
          memcpy (out + o, l, ll);
          o += ll;
          if (out[o - 1] != '\n')
            out[o++] = '\n';
        }
      l = nl != NULL ? nl + 1 : NULL;
    }
  if (n_keys > 0)
    {
      o += snprintf (out + o, cap - o, "%s", MANAGED_BEGIN);
      for (int i = 0; i < n_keys; i++)
        o += snprintf (out + o, cap - o, "%s\n", keys[i]);
      o += snprintf (out + o, cap - o, "%s", MANAGED_END);
    }
  int rc = lodge_write_file (path, out, o, 0600, 0, 0);
  free (out);
  free (old);
  free (path);
  free (dir);
  free (root_home);
  return rc;
}

int
lodge_apply_sysctls (const char *root, const struct lodge_cfg *cfg)
{
  int rc = 0;
  for (int i = 0; i < cfg->n_sysctls; i++)
    {
      char rel[300];
      snprintf (rel, sizeof rel, "/proc/sys/%s", cfg->sysctls[i].name);
      for (char *p = rel + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      char *path = path_of (root, rel);
      int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      const char *v = cfg->sysctls[i].value;
      if (fd < 0 || write (fd, v, strlen (v)) != (ssize_t) strlen (v))
        {
          lodge_say ("sysctl %s: %s", cfg->sysctls[i].name, strerror (errno));
          rc = -1;
        }
      if (fd >= 0)
        close (fd);
      free (path);
    }
  return rc;
}

int
lodge_apply_dns (const char *root, const struct lodge_cfg *cfg)
{
  if (cfg->n_dns_servers == 0 && cfg->n_dns_search == 0)
    return 0;
  char out[4096];
  size_t o = snprintf (out, sizeof out, "# Written by Lodge at boot from the VE's definition.\n");
  for (int i = 0; i < cfg->n_dns_servers && o < sizeof out; i++)
    o += snprintf (out + o, sizeof out - o, "nameserver %s\n", cfg->dns_servers[i]);
  if (cfg->n_dns_search > 0 && o < sizeof out)
    {
      o += snprintf (out + o, sizeof out - o, "search");
      for (int i = 0; i < cfg->n_dns_search && o < sizeof out; i++)
        o += snprintf (out + o, sizeof out - o, " %s", cfg->dns_search[i]);
      o += snprintf (out + o, sizeof out - o, "\n");
    }
  if (o >= sizeof out)
    {
      lodge_say ("resolv.conf would be too long");
      return -1;
    }
  char *path = path_of (root, "/etc/resolv.conf");
  unlink (path); /* may be a symlink to a resolver's file; it becomes ours */
  int rc = lodge_write_file (path, out, o, 0644, -1, -1);
  free (path);
  return rc;
}

int
lodge_apply_timezone (const char *root, const char *tz)
{
  char rel[300];
  snprintf (rel, sizeof rel, "/usr/share/zoneinfo/%s", tz);
  char *zone = path_of (root, rel);
  struct stat st;
  int have_zone = stat (zone, &st) == 0 && S_ISREG (st.st_mode);
  free (zone);
  char line[128];
  snprintf (line, sizeof line, "%s\n", tz);
  char *tz_path = path_of (root, "/etc/timezone");
  int rc = lodge_write_file (tz_path, line, strlen (line), 0644, -1, -1);
  free (tz_path);
  if (!have_zone)
    {
      lodge_say ("time zone %s: the template has no /usr/share/zoneinfo/%s; /etc/localtime "
                 "left as it is",
                 tz, tz);
      return -1;
    }
  char *localtime = path_of (root, "/etc/localtime");
  char *tmp = path_of (root, "/etc/localtime.lodge-new");
  unlink (tmp);
  if (symlink (rel, tmp) < 0 || rename (tmp, localtime) < 0)
    {
      lodge_say ("cannot link /etc/localtime: %s", strerror (errno));
      unlink (tmp);
      rc = -1;
    }
  free (tmp);
  free (localtime);
  return rc;
}

/* @s in double quotes for a systemd unit: '\\' and '"' escaped, '%' and
 * '$' doubled, so systemd expands neither specifiers nor variables. */
static void
unit_quote (char *out, size_t size, const char *s)
{
  size_t n = 0;
  if (n + 1 < size)
    out[n++] = '"';
  for (const char *p = s; *p != '\0' && n + 3 < size; p++)
    {
      if (*p == '\\' || *p == '"')
        out[n++] = '\\';
      else if (*p == '%' || *p == '$')
        out[n++] = *p;
      out[n++] = *p;
    }
  if (n + 1 < size)
    out[n++] = '"';
  out[n] = '\0';
}

int
lodge_apply_systemd_units (const char *root, const struct lodge_cfg *cfg)
{
  int rc = 0;
  char *dir = path_of (root, "/run/systemd/system");
  char *wants = path_of (root, "/run/systemd/system/multi-user.target.wants");
  char *run = path_of (root, "/run");
  char *run_systemd = path_of (root, "/run/systemd");
  mkdir (run, 0755);
  mkdir (run_systemd, 0755);
  mkdir (dir, 0755);
  mkdir (wants, 0755);
  for (int i = 0; i < cfg->n_apps; i++)
    {
      const struct lodge_cfg_app *app = &cfg->apps[i];
      if (app->command[0] == '\0')
        continue;
      static char quoted[LODGE_CFG_MAX_BYTES * 2 + 3];
      static char unit[LODGE_CFG_MAX_BYTES * 2 + 512];
      unit_quote (quoted, sizeof quoted, app->command);
      int len = snprintf (unit, sizeof unit,
                          "# Generated by lodge-init at boot from the VE's definition.\n"
                          "[Unit]\nDescription=Lodge application %s\nAfter=network.target\n\n"
                          "[Service]\nExecStart=/bin/sh -c %s\nRestart=always\nRestartSec=1\n",
                          app->name, quoted);
      char path[512], link[512];
      snprintf (path, sizeof path, "%s/lodge-app-%s.service", dir, app->name);
      snprintf (link, sizeof link, "%s/lodge-app-%s.service", wants, app->name);
      if (len < 0 || (size_t) len >= sizeof unit
          || lodge_write_file (path, unit, (size_t) len, 0644, -1, -1) < 0)
        {
          rc = -1;
          continue;
        }
      unlink (link);
      if (app->autostart && symlink (path + strlen (root), link) < 0)
        {
          lodge_say ("cannot enable lodge-app-%s.service: %s", app->name, strerror (errno));
          rc = -1;
        }
    }
  free (run);
  free (run_systemd);
  free (dir);
  free (wants);
  return rc;
}
