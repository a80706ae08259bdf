/* Safe reading of untrusted XML, RelaxNG validation against Lodge's
 * embedded schemas, and small tree helpers shared by the definition
 * parsers and formatters. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

/* Definitions larger than this are refused before parsing. */
#define LODGE_XML_MAX_BYTES (1024 * 1024)

char *lodge_xml_read_file (const char *path, gsize max_bytes, gsize *ret_len, GError **error);

/* Parses @data (UTF-8, at most LODGE_XML_MAX_BYTES) with network access,
 * DTDs and entity expansion off; a DOCTYPE is refused outright. @origin
 * names the input in error messages ("web1.xml"). */
xmlDoc *lodge_xml_parse (const char *data, gsize len, const char *origin, GError **error);

/* What a value of an element (@attribute NULL) or attribute should be, for
 * error messages; arrays end with { NULL }. */
typedef struct {
  const char *element;
  const char *attribute;
  const char *expected;
} LodgeXmlHint;

/* Validates @doc against the embedded schema @schema ("environment.rng").
 * The error names origin:line, the element, the offending value and,
 * from @hints, what was expected. */
gboolean lodge_xml_validate (xmlDoc *doc, const char *schema, const LodgeXmlHint *hints,
                             const char *origin, GError **error);

/* Tree helpers. */
xmlNode *lodge_xml_child (xmlNode *parent, const char *name);
char *lodge_xml_text (xmlNode *node);
char *lodge_xml_prop (xmlNode *node, const char *name);
guint lodge_xml_line (xmlNode *node);
#define LODGE_XML_FOREACH_CHILD(child, parent, name_) \
  for (xmlNode *child = (parent)->children; child != NULL; child = child->next) \
    if (child->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) child->name, (name_)) == 0)

xmlNode *lodge_xml_add (xmlNode *parent, const char *name, const char *text);
void lodge_xml_set (xmlNode *node, const char *name, const char *value);
/* Serialises @doc indented, with an XML declaration; the caller frees. */
char *lodge_xml_format_doc (xmlDoc *doc);

G_END_DECLS
