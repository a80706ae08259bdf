#include "lodge-json.h"

#include "lodge-storage-error.h"

GBytes *
lodge_json_to_bytes (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  gsize len = 0;
  char *text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

JsonObject *
lodge_json_parse_object (GBytes *json, JsonParser *parser, const char *what, GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (json, &len);
  /* (an empty GBytes may hold NULL, which json-glib refuses outright) */
  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) len, NULL)
      || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                   "a %s record is not a JSON object", what);
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}
