#include "lodge-rados-private.h"

#include <errno.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "lodge-json.h"
#include "lodge-storage-error.h"

/* The longest configuration value read (mon_host of many monitors). */
#define CONF_VALUE_MAX (1 << 20)

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
  /* An INI file (ceph-authtool's format): [client.NAME], then "key = AQ...". */
  g_autoptr (GKeyFile) keyring = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (keyring, c->keyring, G_KEY_FILE_NONE, &local))
    {
      /* Unreadable (as before), or not an INI file. */
      g_set_error (error, LODGE_STORAGE_ERROR,
                   local->domain == G_FILE_ERROR ? LODGE_STORAGE_ERROR_PERMISSION
                                                 : LODGE_STORAGE_ERROR_INVALID,
                   "keyring %s: %s", c->keyring, local->message);
      return NULL;
    }
  g_autofree char *section = g_strconcat ("client.", c->client_id, NULL);
  g_autofree char *key = g_key_file_get_string (keyring, section, "key", NULL);
  if (key == NULL || *g_strstrip (key) == '\0')
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "%s has no key for client.%s", c->keyring, c->client_id);
      return NULL;
    }
  return g_steal_pointer (&key);
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

/* A configuration value of any length (librados wants a buffer, and says
 * -ENAMETOOLONG when it is too short). */
static char *
conf_get (LodgeRados *rados, const char *option, GError **error)
{
  for (gsize size = 1024;; size *= 2)
    {
      g_autofree char *buf = g_malloc0 (size);
      int r = rados_conf_get (rados->cluster, option, buf, size);
      if (r == 0)
        return g_steal_pointer (&buf);
      if (r != -ENAMETOOLONG || size >= CONF_VALUE_MAX)
        {
          lodge_storage_set_error (error, r, "cannot read %s from %s", option, rados->conf_path);
          return NULL;
        }
    }
}

static LodgeRados *
lodge_rados_new (const LodgeCephConfig *config, GError **error)
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
  g_autofree char *op_timeout = g_strdup_printf (
    "%u", config->op_timeout_s != 0 ? config->op_timeout_s : LODGE_CEPH_DEFAULT_OP_TIMEOUT);
  rados_conf_set (rados->cluster, "rados_osd_op_timeout", op_timeout);
  /* Daemons and tools do not log to the terminal. */
  rados_conf_set (rados->cluster, "log_to_stderr", "false");
  rados_conf_set (rados->cluster, "err_to_stderr", "false");
  return g_steal_pointer (&rados);
}

LodgeRados *
lodge_rados_connect (const LodgeCephConfig *config, GError **error)
{
  g_autoptr (LodgeRados) rados = lodge_rados_new (config, error);
  if (rados == NULL)
    return NULL;
  int r = rados_connect (rados->cluster);
  if (r < 0)
    {
      g_autofree char *mons = conf_get (rados, "mon_host", NULL);
      lodge_storage_set_error (error, r,
                               "cannot connect to the Ceph cluster of %s (monitors %s) as "
                               "client.%s within %u s",
                               config->conf_path, mons != NULL && *mons ? mons : "unknown",
                               config->client_id, rados->timeout_s);
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

/* ---- the monitors ---- */

/* One monitor of a monmap's "mons": its v1 address (what QEMU's librbd
 * talks by default), else its v2 one (Ceph reads a bare "HOST:3300" as
 * v2). Pacific gives "public_addrs": {"addrvec": [{"type", "addr",
 * "nonce"}]}, with "addr" already "IP:PORT" or "[IPv6]:PORT". */
static JsonNode *
member_of_type (JsonObject *o, const char *name, JsonNodeType type)
{
  JsonNode *node = json_object_get_member (o, name);
  return node != NULL && JSON_NODE_TYPE (node) == type ? node : NULL;
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *node = member_of_type (o, name, JSON_NODE_VALUE);
  return node != NULL && json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node)
           : NULL;
}

static const char *
monitor_address (JsonObject *mon)
{
  JsonNode *addrs = member_of_type (mon, "public_addrs", JSON_NODE_OBJECT);
  JsonNode *vec = addrs != NULL
                    ? member_of_type (json_node_get_object (addrs), "addrvec", JSON_NODE_ARRAY)
                    : NULL;
  JsonArray *list = vec != NULL ? json_node_get_array (vec) : NULL;
  const char *v2 = NULL;
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      const char *type = string_member (json_node_get_object (node), "type");
      const char *addr = string_member (json_node_get_object (node), "addr");
      if (type == NULL || addr == NULL || *addr == '\0')
        continue;
      if (strcmp (type, "v1") == 0)
        return addr;
      if (strcmp (type, "v2") == 0 && v2 == NULL)
        v2 = addr;
    }
  return v2;
}

GStrv
lodge_ceph_monitors_from_monmap (const char *json, gsize len, GError **error)
{
  g_return_val_if_fail (json != NULL, NULL);

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GBytes) bytes = g_bytes_new (json, len);
  JsonObject *root = lodge_json_parse_object (bytes, parser, "monitor map", error);
  if (root == NULL)
    return NULL;
  JsonNode *mons = member_of_type (root, "mons", JSON_NODE_ARRAY);
  if (mons == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the monitor map has no list of monitors (\"mons\")");
      return NULL;
    }
  JsonArray *list = json_node_get_array (mons);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      const char *addr = JSON_NODE_HOLDS_OBJECT (node) ? monitor_address (json_node_get_object (node))
                                                       : NULL;
      if (addr == NULL)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                       "monitor %u of the monitor map has no v1 or v2 address", i);
          return NULL;
        }
      g_strv_builder_add (b, addr);
      n++;
    }
  if (n == 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the monitor map names no monitor");
      return NULL;
    }
  return g_strv_builder_end (b);
}

GStrv
lodge_rados_monitors (LodgeRados *rados, GError **error)
{
  /* The cluster's own monitor map, not ceph.conf's mon_host: it has every
   * monitor with its typed addresses, however the configuration named them
   * (v1, v2 only, DNS names, DNS SRV records). */
  g_autofree char *json
    = lodge_rados_mon_command (rados, "{\"prefix\": \"mon dump\", \"format\": \"json\"}", error);
  if (json == NULL)
    return NULL;
  return lodge_ceph_monitors_from_monmap (json, strlen (json), error);
}

static gboolean
has_flag (const char *flags, const char *flag)
{
  g_auto (GStrv) each = g_strsplit (flags != NULL ? flags : "", ",", -1);
  return g_strv_contains ((const char *const *) each, flag);
}

GStrv
lodge_ceph_full_pools_from_osdmap (const char *json, gsize len, GError **error)
{
  g_return_val_if_fail (json != NULL, NULL);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GBytes) bytes = g_bytes_new (json, len);
  JsonObject *root = lodge_json_parse_object (bytes, parser, "OSD map", error);
  if (root == NULL)
    return NULL;
  JsonNode *pools = member_of_type (root, "pools", JSON_NODE_ARRAY);
  if (pools == NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the OSD map has no list of pools (\"pools\")");
      return NULL;
    }
  JsonNode *map_flags = member_of_type (root, "flags", JSON_NODE_VALUE);
  gboolean all = map_flags != NULL && has_flag (json_node_get_string (map_flags), "full");
  JsonArray *list = json_node_get_array (pools);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *pool = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonNode *name = pool != NULL ? member_of_type (pool, "pool_name", JSON_NODE_VALUE) : NULL;
      JsonNode *flags = pool != NULL ? member_of_type (pool, "flags_names", JSON_NODE_VALUE) : NULL;
      if (name == NULL || json_node_get_value_type (name) != G_TYPE_STRING)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                       "pool %u of the OSD map has no name", i);
          return NULL;
        }
      const char *f = flags != NULL && json_node_get_value_type (flags) == G_TYPE_STRING
                        ? json_node_get_string (flags)
                        : NULL;
      if (all || has_flag (f, "full") || has_flag (f, "full_quota"))
        g_strv_builder_add (b, json_node_get_string (name));
    }
  return g_strv_builder_end (b);
}

GStrv
lodge_rados_full_pools (LodgeRados *rados, GError **error)
{
  g_autofree char *json
    = lodge_rados_mon_command (rados, "{\"prefix\": \"osd dump\", \"format\": \"json\"}", error);
  if (json == NULL)
    return NULL;
  return lodge_ceph_full_pools_from_osdmap (json, strlen (json), error);
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

char *
lodge_rados_auth_get_or_create (LodgeRados *rados, const char *entity, const char *const *caps,
                                GError **error)
{
  g_return_val_if_fail (entity != NULL && caps != NULL, NULL);
  g_return_val_if_fail (g_strv_length ((GStrv) caps) % 2 == 0, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prefix");
  json_builder_add_string_value (b, "auth get-or-create");
  json_builder_set_member_name (b, "entity");
  json_builder_add_string_value (b, entity);
  json_builder_set_member_name (b, "caps");
  json_builder_begin_array (b);
  for (const char *const *c = caps; *c != NULL; c++)
    json_builder_add_string_value (b, *c);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "json");
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);
  g_autofree char *out = lodge_rados_mon_command (rados, json, error);
  if (out == NULL)
    return NULL;
  /* [{"entity": "client.NAME", "key": "AQ...", "caps": {...}}] */
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *answer = json_parser_load_from_data (parser, out, -1, NULL) ? json_parser_get_root (parser) : NULL;
  JsonArray *entries = answer != NULL && JSON_NODE_HOLDS_ARRAY (answer) ? json_node_get_array (answer) : NULL;
  JsonNode *first = entries != NULL && json_array_get_length (entries) == 1
                      ? json_array_get_element (entries, 0) : NULL;
  const char *key = first != NULL && JSON_NODE_HOLDS_OBJECT (first)
                      ? json_object_get_string_member_with_default (json_node_get_object (first), "key", NULL)
                      : NULL;
  if (key == NULL || *key == '\0')
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "unexpected answer to 'auth get-or-create %s'", entity);
      return NULL;
    }
  return g_strdup (key);
}

gboolean
lodge_rados_auth_del (LodgeRados *rados, const char *entity, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prefix");
  json_builder_add_string_value (b, "auth del");
  json_builder_set_member_name (b, "entity");
  json_builder_add_string_value (b, entity);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);
  g_autoptr (GError) local = NULL;
  g_autofree char *out = lodge_rados_mon_command (rados, json, &local);
  if (out == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
  return TRUE;
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
  /* On a full pool a write waits (until the operation timeout) by
   * default; with "full try" one that needs no new space goes through
   * (renewing a lease, rewriting a record as long) and one that does fails
   * at once with ENOSPC: Lodge keeps its leader and heartbeats while Ceph
   * is full, and refuses what needs space with the reason. */
  rados_set_pool_full_try (ioctx->io);
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

/* The answer to monitor command @json (@what, for errors) as a JSON object
 * (@parser owns it). */
static JsonObject *
mon_command_object (LodgeRados *rados, const char *json, const char *what, JsonParser *parser,
                    GError **error)
{
  g_autofree char *out = lodge_rados_mon_command (rados, json, error);
  if (out == NULL)
    return NULL;
  if (!json_parser_load_from_data (parser, out, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "unexpected answer to '%s': %s", what, out);
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
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
      g_autofree char *what = g_strdup_printf ("osd pool get %s %s", pool, vars[i]);
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *o = mon_command_object (rados, json, what, parser, error);
      if (o == NULL)
        return FALSE;
      *rets[i] = (guint) json_object_get_int_member_with_default (o, vars[i], 0);
    }
  return TRUE;
}

/* Whether @pool is tagged for @application ("osd pool application get":
 * a read, which a client without the right to change pools may do). */
static gboolean
pool_has_application (LodgeRados *rados, const char *pool, const char *application,
                      gboolean *ret_has, GError **error)
{
  g_autofree char *json = g_strdup_printf (
    "{\"prefix\": \"osd pool application get\", \"pool\": \"%s\", \"format\": \"json\"}", pool);
  g_autofree char *what = g_strdup_printf ("osd pool application get %s", pool);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = mon_command_object (rados, json, what, parser, error);
  if (o == NULL)
    return FALSE;
  *ret_has = json_object_has_member (o, application);
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

  gboolean has_app = FALSE;
  if (application != NULL && !pool_has_application (rados, pool, application, &has_app, error))
    return FALSE;
  if (application != NULL && !has_app)
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
