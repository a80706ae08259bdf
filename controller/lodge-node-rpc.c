#include "lodge-node-rpc.h"

#include <json-glib/json-glib.h>

#include "lodge-json.h"
#include "lodge-rpc.h"
#include "lodge-storage-error.h"

/* Sends @request (its root object, ended) and parses the answer. */
static JsonParser *
call (LodgeStore *store, const char *node, JsonBuilder *request, GError **error)
{
  /* Nothing of a controller whose lease lapsed reaches a node. */
  if (!lodge_store_check_fence (store, error))
    return NULL;
  g_autoptr (GBytes) bytes = lodge_json_to_bytes (request);
  g_autoptr (GBytes) answer = lodge_rpc_call (store, node, bytes, LODGE_NODE_RPC_TIMEOUT_MS, error);
  if (answer == NULL)
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize alen = 0;
  const char *adata = g_bytes_get_data (answer, &alen);
  if (alen == 0 || !json_parser_load_from_data (parser, adata, (gssize) alen, NULL)
      || json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "%s's agent answered something that is not a JSON object", node);
      return NULL;
    }
  return g_steal_pointer (&parser);
}

/* A request carries the generation of the leader that sends it: the agent
 * refuses one older than the newest it has seen. */
static JsonBuilder *
request (LodgeStore *store, const char *op, const char *ve)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  if (lodge_store_get_fence (store) != 0)
    {
      json_builder_set_member_name (b, "generation");
      json_builder_add_int_value (b, (gint64) lodge_store_get_fence (store));
    }
  json_builder_set_member_name (b, "op");
  json_builder_add_string_value (b, op);
  json_builder_set_member_name (b, "ve");
  json_builder_add_string_value (b, ve);
  return b;
}

static JsonObject *
answer_object (JsonParser *parser)
{
  return json_node_get_object (json_parser_get_root (parser));
}

gboolean
lodge_node_rpc_put_config (LodgeStore *store, const char *node, const char *ve, const char *config,
                           gboolean fresh_log, char **ret_config_file, char **ret_console_log,
                           GError **error)
{
  g_autoptr (JsonBuilder) b = request (store, "put-config", ve);
  json_builder_set_member_name (b, "config");
  json_builder_add_string_value (b, config);
  json_builder_set_member_name (b, "fresh_log");
  json_builder_add_boolean_value (b, fresh_log);
  json_builder_end_object (b);
  g_autoptr (JsonParser) parser = call (store, node, b, error);
  if (parser == NULL)
    return FALSE;
  JsonObject *o = answer_object (parser);
  const char *config_file = json_object_get_string_member_with_default (o, "config_file", NULL);
  const char *console_log = json_object_get_string_member_with_default (o, "console_log", NULL);
  if (config_file == NULL || console_log == NULL || !g_path_is_absolute (config_file)
      || !g_path_is_absolute (console_log))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "%s's agent did not say where it wrote %s's config", node, ve);
      return FALSE;
    }
  *ret_config_file = g_strdup (config_file);
  *ret_console_log = g_strdup (console_log);
  return TRUE;
}

gboolean
lodge_node_rpc_ready (LodgeStore *store, const char *node, const char *ve, char **ret_line,
                      GError **error)
{
  *ret_line = NULL;
  g_autoptr (JsonBuilder) b = request (store, "ready", ve);
  json_builder_end_object (b);
  g_autoptr (JsonParser) parser = call (store, node, b, error);
  if (parser == NULL)
    return FALSE;
  *ret_line = g_strdup (json_object_get_string_member_with_default (answer_object (parser), "line", NULL));
  return TRUE;
}

GBytes *
lodge_node_rpc_console (LodgeStore *store, const char *node, const char *ve, guint64 lines,
                        gint64 offset, guint64 *ret_end, GError **error)
{
  g_autoptr (JsonBuilder) b = request (store, "console", ve);
  json_builder_set_member_name (b, offset >= 0 ? "offset" : "lines");
  json_builder_add_int_value (b, offset >= 0 ? offset : (gint64) MIN (lines, (guint64) G_MAXINT64));
  json_builder_end_object (b);
  g_autoptr (JsonParser) parser = call (store, node, b, error);
  if (parser == NULL)
    return NULL;
  JsonObject *o = answer_object (parser);
  const char *data = json_object_get_string_member_with_default (o, "data", NULL);
  gint64 from = json_object_get_int_member_with_default (o, "from", -1);
  if (data == NULL || from < 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "%s's agent answered no console for %s", node, ve);
      return NULL;
    }
  gsize len = 0;
  guchar *bytes = g_base64_decode (data, &len);
  *ret_end = (guint64) from + len;
  return g_bytes_new_take (bytes, len);
}

gboolean
lodge_node_rpc_forget (LodgeStore *store, const char *node, const char *ve, GError **error)
{
  g_autoptr (JsonBuilder) b = request (store, "forget", ve);
  json_builder_end_object (b);
  g_autoptr (JsonParser) parser = call (store, node, b, error);
  return parser != NULL;
}
