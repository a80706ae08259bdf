#include "lodge-rados-private.h"

#include <errno.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-storage-error.h"

struct _LodgeRados {
  rados_t cluster;
  char *conf_path;
  guint timeout_s;
};

LodgeCephConfig *
lodge_ceph_config_new_default (void)
{
  LodgeCephConfig *c = g_new0 (LodgeCephConfig, 1);
  const char *dir = g_getenv ("LODGE_CLUSTER_DIR");
  if (dir == NULL || *dir == '\0')
    dir = LODGE_CLUSTER_DEFAULT_DIR;
  const char *conf = g_getenv ("CEPH_CONF");
  c->conf_path = conf != NULL && *conf != '\0' ? g_strdup (conf)
                                               : g_build_filename (dir, "ceph.conf", NULL);
  const char *user = g_getenv ("LODGE_CEPH_USER");
  c->client_id = g_strdup (user != NULL && *user != '\0' ? user : "lodge");
  const char *keyring_env = g_getenv ("LODGE_CEPH_KEYRING");
  g_autofree char *conf_dir = g_path_get_dirname (c->conf_path);
  g_autofree char *keyring_name = g_strdup_printf ("ceph.client.%s.keyring", c->client_id);
  g_autofree char *keyring = g_build_filename (conf_dir, keyring_name, NULL);
  if (keyring_env != NULL && *keyring_env != '\0')
    c->keyring = g_strdup (keyring_env);
  else if (g_file_test (keyring, G_FILE_TEST_EXISTS))
    c->keyring = g_steal_pointer (&keyring);
  c->timeout_s = LODGE_CEPH_DEFAULT_TIMEOUT;
  return c;
}

char *
lodge_ceph_config_read_key (const LodgeCephConfig *c, GError **error)
{
  if (c->keyring == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "no keyring for client.%s next to %s (set LODGE_CEPH_KEYRING)", c->client_id,
                   c->conf_path);
      return NULL;
    }
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (c->keyring, &text, NULL, &local))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_PERMISSION, "%s",
                   local->message);
      return NULL;
    }
  /* [client.NAME] then "key = AQ..." (ceph-authtool's format). */
  g_autofree char *section = g_strdup_printf ("[client.%s]", c->client_id);
  gboolean in_section = FALSE;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (line[0] == '[')
        in_section = strcmp (line, section) == 0;
      else if (in_section && g_str_has_prefix (line, "key"))
        {
          const char *eq = strchr (line, '=');
          if (eq != NULL)
            return g_strstrip (g_strdup (eq + 1));
        }
    }
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
               "%s has no key for client.%s", c->keyring, c->client_id);
  return NULL;
}

void
lodge_ceph_config_free (LodgeCephConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->conf_path);
  g_free (c->client_id);
  g_free (c->keyring);
  g_free (c);
}

void
lodge_rados_free (LodgeRados *rados)
{
  if (rados == NULL)
    return;
  if (rados->cluster != NULL)
    rados_shutdown (rados->cluster);
  g_free (rados->conf_path);
  g_free (rados);
}

rados_t
lodge_rados_handle (LodgeRados *rados)
{
  return rados->cluster;
}

LodgeRados *
lodge_rados_connect (const LodgeCephConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL && config->conf_path != NULL, NULL);
  g_return_val_if_fail (config->client_id != NULL, NULL);

  if (!g_file_test (config->conf_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE,
                   "no Ceph configuration at %s (is the local cluster up? "
                   "tools/lodge-cluster up; or set CEPH_CONF)",
                   config->conf_path);
      return NULL;
    }

  g_autoptr (LodgeRados) rados = g_new0 (LodgeRados, 1);
  rados->conf_path = g_strdup (config->conf_path);
  rados->timeout_s = config->timeout_s != 0 ? config->timeout_s : LODGE_CEPH_DEFAULT_TIMEOUT;
  g_autofree char *name = g_strconcat ("client.", config->client_id, NULL);
  int r = rados_create2 (&rados->cluster, "ceph", name, 0);
  if (r < 0)
    {
      rados->cluster = NULL;
      lodge_storage_set_error (error, r, "cannot create a RADOS client %s", name);
      return NULL;
    }
  r = rados_conf_read_file (rados->cluster, config->conf_path);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot read %s", config->conf_path);
      return NULL;
    }
  if (config->keyring != NULL)
    rados_conf_set (rados->cluster, "keyring", config->keyring);

  g_autofree char *timeout = g_strdup_printf ("%u", rados->timeout_s);
  rados_conf_set (rados->cluster, "client_mount_timeout", timeout);
  rados_conf_set (rados->cluster, "rados_mon_op_timeout", timeout);
  /* Daemons and tools do not log to the terminal. */
  rados_conf_set (rados->cluster, "log_to_stderr", "false");
  rados_conf_set (rados->cluster, "err_to_stderr", "false");

  r = rados_connect (rados->cluster);
  if (r < 0)
    {
      char mons[512] = "";
      rados_conf_get (rados->cluster, "mon_host", mons, sizeof mons);
      lodge_storage_set_error (error, r,
                               "cannot connect to the Ceph cluster of %s (monitors %s) as %s "
                               "within %u s",
                               config->conf_path, *mons ? mons : "unknown", name,
                               rados->timeout_s);
      /* librados wants shutdown even after a failed connect. */
      return NULL;
    }
  return g_steal_pointer (&rados);
}

char *
lodge_rados_client_address (LodgeRados *rados)
{
  char *addrs = NULL;
  if (rados_getaddrs (rados->cluster, &addrs) < 0 || addrs == NULL)
    return NULL;
  /* "[v2:127.0.0.1:0/123,v1:127.0.0.1:0/123]" or a bare address: take the
   * legacy form, which blocklisting accepts. */
  g_autofree char *copy = g_strdup (addrs);
  free (addrs);
  char *start = copy;
  if (*start == '[')
    start++;
  char *end = start + strcspn (start, ",]");
  *end = '\0';
  const char *colon = strchr (start, ':');
  if (g_str_has_prefix (start, "v2:") || g_str_has_prefix (start, "v1:"))
    start = (char *) colon + 1;
  return g_strdup (start);
}

guint64
lodge_rados_instance_id (LodgeRados *rados)
{
  return rados_get_instance_id (rados->cluster);
}

GStrv
lodge_rados_monitors (LodgeRados *rados, GError **error)
{
  char buf[1024] = "";
  int r = rados_conf_get (rados->cluster, "mon_host", buf, sizeof buf);
  if (r < 0)
    {
      lodge_storage_set_error (error, r, "cannot read mon_host");
      return NULL;
    }
  /* "[v2:127.0.0.1:3300,v1:127.0.0.1:6789] [v2:...]" or "10.0.0.1:6789,10.0.0.2" */
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) groups = g_strsplit_set (buf, " ;", -1);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      char *g = g_strstrip (groups[i]);
      if (*g == '\0')
        continue;
      if (*g == '[')
        {
          g_auto (GStrv) addrs = g_strsplit_set (g + 1, ",]", -1);
          for (guint j = 0; addrs[j] != NULL; j++)
            if (g_str_has_prefix (addrs[j], "v1:"))
              g_strv_builder_add (b, addrs[j] + 3);
        }
      else
        {
          g_auto (GStrv) addrs = g_strsplit (g, ",", -1);
          for (guint j = 0; addrs[j] != NULL; j++)
            {
              const char *a = g_str_has_prefix (addrs[j], "v1:") ? addrs[j] + 3 : addrs[j];
              if (*a == '\0' || g_str_has_prefix (a, "v2:"))
                continue;
              if (strchr (a, ':') == NULL)
                {
                  g_autofree char *with_port = g_strconcat (a, ":6789", NULL);
                  g_strv_builder_add (b, with_port);
                }
              else
                g_strv_builder_add (b, a);
            }
        }
    }
  GStrv mons = g_strv_builder_end (b);
  if (mons[0] == NULL)
    {
      g_strfreev (mons);
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "no v1 monitor address in mon_host '%s'", buf);
      return NULL;
    }
  return mons;
}

char *
lodge_rados_mon_command (LodgeRados *rados, const char *json, GError **error)
{
  const char *cmd[] = { json };
  char *outbuf = NULL, *outs = NULL;
  size_t outbuf_len = 0, outs_len = 0;
  int r = rados_mon_command (rados->cluster, cmd, 1, "", 0, &outbuf, &outbuf_len, &outs,
                             &outs_len);
  g_autofree char *status = g_strndup (outs != NULL ? outs : "", outs_len);
  char *out = g_strndup (outbuf != NULL ? outbuf : "", outbuf_len);
  rados_buffer_free (outbuf);
  rados_buffer_free (outs);
  if (r < 0)
    {
      g_free (out);
      if (*status != '\0')
        lodge_storage_set_error (error, r, "monitor command %s failed (%s)", json, status);
      else
        lodge_storage_set_error (error, r, "monitor command %s failed", json);
      return NULL;
    }
  return out;
}

LodgeIoctx *
lodge_ioctx_open (LodgeRados *rados, const char *pool, const char *ns, GError **error)
{
  LodgeIoctx *ioctx = g_new0 (LodgeIoctx, 1);
  int r = rados_ioctx_create (rados->cluster, pool, &ioctx->io);
  if (r < 0)
    {
      g_free (ioctx);
      lodge_storage_set_error (error, r, "cannot open pool %s", pool);
      return NULL;
    }
  if (ns != NULL)
    rados_ioctx_set_namespace (ioctx->io, ns);
  return ioctx;
}

void
lodge_ioctx_free (LodgeIoctx *ioctx)
{
  if (ioctx == NULL)
    return;
  rados_ioctx_destroy (ioctx->io);
  g_free (ioctx);
}

static gboolean
pool_set (LodgeRados *rados, const char *pool, const char *var, guint value, GError **error)
{
  g_autofree char *json = g_strdup_printf (
    "{\"prefix\": \"osd pool set\", \"pool\": \"%s\", \"var\": \"%s\", \"val\": \"%u\", "
    "\"yes_i_really_mean_it\": true}",
    pool, var, value);
  g_autofree char *out = lodge_rados_mon_command (rados, json, error);
  return out != NULL;
}

gboolean
lodge_rados_pool_size (LodgeRados *rados, const char *pool, guint *ret_size, guint *ret_min_size,
                       GError **error)
{
  if (!lodge_storage_check_name (pool, "pool name", error))
    return FALSE;
  const char *vars[] = { "size", "min_size" };
  guint *rets[] = { ret_size, ret_min_size };
  for (guint i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"prefix\": \"osd pool get\", \"pool\": \"%s\", \"var\": \"%s\", \"format\": \"json\"}",
        pool, vars[i]);
      g_autofree char *out = lodge_rados_mon_command (rados, json, error);
      if (out == NULL)
        return FALSE;
      g_autoptr (JsonParser) parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, out, -1, NULL)
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                       "unexpected answer to 'osd pool get %s %s': %s", pool, vars[i], out);
          return FALSE;
        }
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      *rets[i] = (guint) json_object_get_int_member_with_default (o, vars[i], 0);
    }
  return TRUE;
}

gboolean
lodge_rados_ensure_pool (LodgeRados *rados, const char *pool, guint size, guint min_size,
                         const char *application, GError **error)
{
  g_return_val_if_fail (size >= 1 && min_size >= 1 && min_size <= size, FALSE);
  if (!lodge_storage_check_name (pool, "pool name", error))
    return FALSE;

  /* "osd pool create" succeeds when the pool exists, so racing creators
   * are harmless; the sizes are then set to what we want either way. */
  int64_t id = rados_pool_lookup (rados->cluster, pool);
  if (id == -ENOENT)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"prefix\": \"osd pool create\", \"pool\": \"%s\", \"pg_num\": 16, "
        "\"pgp_num\": 16, \"pool_type\": \"replicated\", \"size\": %u}",
        pool, size);
      g_autofree char *out = lodge_rados_mon_command (rados, json, error);
      if (out == NULL)
        return FALSE;
    }
  else if (id < 0)
    return lodge_storage_set_error (error, (int) id, "cannot look up pool %s", pool);

  guint cur_size = 0, cur_min = 0;
  if (!lodge_rados_pool_size (rados, pool, &cur_size, &cur_min, error))
    return FALSE;
  /* min_size must stay <= size at every step. */
  if (cur_size != size)
    {
      if (cur_min > size && !pool_set (rados, pool, "min_size", min_size, error))
        return FALSE;
      if (!pool_set (rados, pool, "size", size, error))
        return FALSE;
    }
  if (cur_min != min_size && !pool_set (rados, pool, "min_size", min_size, error))
    return FALSE;

  if (application != NULL)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"prefix\": \"osd pool application enable\", \"pool\": \"%s\", \"app\": \"%s\", "
        "\"yes_i_really_mean_it\": true}",
        pool, application);
      g_autofree char *out = lodge_rados_mon_command (rados, json, error);
      if (out == NULL)
        return FALSE;
    }
  /* The monitor may not have published the new pool to this client yet. */
  int r = rados_wait_for_latest_osdmap (rados->cluster);
  if (r < 0)
    return lodge_storage_set_error (error, r, "waiting for the OSD map with pool %s", pool);
  return TRUE;
}
