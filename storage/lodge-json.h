/* JSON plumbing shared by the records kept in the state store. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The finished builder's document as compact JSON bytes. */
GBytes *lodge_json_to_bytes (JsonBuilder *b);
/* Parses @json with @parser (which owns the result); NULL with an error
 * naming @what when it is not a JSON object. */
JsonObject *lodge_json_parse_object (GBytes *json, JsonParser *parser, const char *what,
                                     GError **error);

G_END_DECLS
