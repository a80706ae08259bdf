#include "lodge-xml.h"

#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <gio/gio.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlsave.h>

#include "lodge-error.h"
#include "lodge-units.h"

/* Generated from schemas/schemas.gresource.xml. */
GResource *lodge_schemas_get_resource (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)

static void
lodge_xml_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      xmlInitParser ();
      g_once_init_leave (&once, 1);
    }
}

char *
lodge_xml_read_file (const char *path, gsize max_bytes, gsize *ret_len, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved));
      return NULL;
    }

  /* Read at most max_bytes + 1 so a larger file (or an endless one, such
   * as a pipe or /dev/zero) is refused without reading it all. */
  g_autofree char *buf = g_malloc (max_bytes + 2);
  gsize len = 0;
  while (len <= max_bytes)
    {
      ssize_t n = read (fd, buf + len, max_bytes + 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: cannot read: %s", path,
                       g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
    }
  close (fd);

  if (len > max_bytes)
    {
      g_autofree char *limit = lodge_units_format (max_bytes);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                   "%s: file too large (the limit is %s)", path, limit);
      return NULL;
    }
  buf[len] = '\0';
  if (ret_len != NULL)
    *ret_len = len;
  return g_steal_pointer (&buf);
}

static guint
line_of_offset (const char *data, gsize offset)
{
  guint line = 1;
  for (gsize i = 0; i < offset; i++)
    if (data[i] == '\n')
      line++;
  return line;
}

/* A DOCTYPE is never needed by Lodge's formats, and it is where XXE and
 * entity-expansion attacks live: stop the parser as soon as one starts. */
typedef struct {
  internalSubsetSAXFunc orig_internal_subset;
  gboolean doctype_seen;
  guint doctype_line;
} ParseGuard;

static void
refuse_internal_subset (void *ctx, const xmlChar *name, const xmlChar *external_id,
                        const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;
  ParseGuard *guard = ctxt->_private;

  guard->doctype_seen = TRUE;
  guard->doctype_line = xmlSAX2GetLineNumber (ctxt);
  xmlStopParser (ctxt);
}

static char *
strip_message (const char *msg)
{
  char *s = g_strdup (msg != NULL ? msg : "unknown error");
  return g_strstrip (s);
}

xmlDoc *
lodge_xml_parse (const char *data, gsize len, const char *origin, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (origin != NULL, NULL);

  lodge_xml_init ();

  if (len > LODGE_XML_MAX_BYTES)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                   "%s: document too large (%" G_GSIZE_FORMAT " bytes; the limit is %d)",
                   origin, len, LODGE_XML_MAX_BYTES);
      return NULL;
    }
  if (len == 0)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED, "%s: empty document", origin);
      return NULL;
    }
  const char *nul = memchr (data, '\0', len);
  if (nul != NULL)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED,
                   "%s:%u: NUL byte at offset %td; a definition is UTF-8 text", origin,
                   line_of_offset (data, nul - data), nul - data);
      return NULL;
    }
  const char *bad = NULL;
  if (!g_utf8_validate_len (data, len, &bad))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED,
                   "%s:%u: invalid UTF-8 at offset %td", origin,
                   line_of_offset (data, bad - data), bad - data);
      return NULL;
    }

  g_autoptr (xmlParserCtxt) ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL)
    g_error ("out of memory");
  ParseGuard guard = { 0 };
  ctxt->_private = &guard;
  ctxt->sax->internalSubset = refuse_internal_subset;

  /* No XML_PARSE_NOENT (no entity substitution), no DTDLOAD/DTDATTR, no
   * HUGE (keeps libxml2's depth and size limits), no network. The bytes
   * are UTF-8 (checked above) whatever the declaration claims. */
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES | XML_PARSE_IGNORE_ENC;
  xmlDoc *doc = xmlCtxtReadMemory (ctxt, data, (int) len, origin, "UTF-8", options);

  if (guard.doctype_seen)
    {
      xmlFreeDoc (doc);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED,
                   "%s:%u: DOCTYPE declarations are not allowed (no DTDs, no entities)",
                   origin, guard.doctype_line);
      return NULL;
    }
  if (doc == NULL || !ctxt->wellFormed)
    {
      xmlErrorPtr err = xmlCtxtGetLastError (ctxt);
      g_autofree char *msg = strip_message (err != NULL ? err->message : NULL);
      xmlFreeDoc (doc);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED, "%s:%d: malformed XML: %s",
                   origin, err != NULL ? err->line : 0, msg);
      return NULL;
    }
  if (xmlDocGetRootElement (doc) == NULL)
    {
      xmlFreeDoc (doc);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_MALFORMED, "%s: no root element", origin);
      return NULL;
    }
  return doc;
}

/* The first schema error, made readable: libxml2 says "Error validating
 * datatype string" or "failed to validate attributes"; the user needs the
 * value and what was expected. */
typedef struct {
  const LodgeXmlHint *hints;
  GString *message;
} SchemaErrors;

static const char *
find_hint (const LodgeXmlHint *hints, const char *element, const char *attribute)
{
  for (const LodgeXmlHint *h = hints; h != NULL && h->element != NULL; h++)
    if (strcmp (h->element, element) == 0 && g_strcmp0 (h->attribute, attribute) == 0)
      return h->expected;
  return NULL;
}

/* A value as shown in a message: at most 60 characters, control
 * characters escaped, so a hostile value cannot forge output lines. */
static char *
shorten (const char *text)
{
  GString *out = g_string_new (NULL);
  glong n = 0;
  for (const char *p = text; *p != '\0' && n < 60; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);
      if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_unichar (out, c);
    }
  if (g_utf8_strlen (text, -1) > 60)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static gboolean
has_element_children (xmlNode *node)
{
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return TRUE;
  return FALSE;
}

static void
describe_attributes (GString *out, xmlNode *node, const LodgeXmlHint *hints)
{
  const char *element = (const char *) node->name;
  g_string_append (out, "invalid attribute value in");
  for (xmlAttr *a = node->properties; a != NULL; a = a->next)
    {
      g_autofree char *value = lodge_xml_prop (node, (const char *) a->name);
      g_autofree char *shown = shorten (value);
      g_string_append_printf (out, " %s='%s'", (const char *) a->name, shown);
    }
  for (xmlAttr *a = node->properties; a != NULL; a = a->next)
    {
      const char *hint = find_hint (hints, element, (const char *) a->name);
      if (hint != NULL)
        g_string_append_printf (out, "; %s: %s", (const char *) a->name, hint);
    }
}

static void
collect_schema_error (void *user_data, xmlErrorPtr err)
{
  SchemaErrors *errors = user_data;
  if (errors->message != NULL || err == NULL)
    return;

  xmlNode *node = err->node;
  gboolean is_element = node != NULL && node->type == XML_ELEMENT_NODE;
  g_autofree char *msg = strip_message (err->message);
  int line = is_element ? (int) lodge_xml_line (node) : err->line;

  GString *out = errors->message = g_string_new (NULL);
  g_string_append_printf (out, "%s:%d: ", err->file != NULL ? err->file : "?", line);
  if (!is_element)
    {
      g_string_append (out, msg);
      return;
    }

  const char *element = (const char *) node->name;
  g_string_append_printf (out, "<%s>: ", element);
  if (strstr (msg, "attribute") != NULL && node->properties != NULL)
    describe_attributes (out, node, errors->hints);
  else if (g_str_has_prefix (msg, "Error validating") && !has_element_children (node))
    {
      g_autofree char *text = lodge_xml_text (node);
      g_autofree char *shown = shorten (text);
      const char *hint = find_hint (errors->hints, element, NULL);
      g_string_append_printf (out, "invalid value '%s'", shown);
      if (hint != NULL)
        g_string_append_printf (out, "; expected %s", hint);
    }
  else
    g_string_append (out, msg);
}

/* The schemas are compiled in: an error in one is a build bug, not bad
 * input. libxml2 reports regular expression errors of <param
 * name="pattern"> through the (thread-local) generic handler only. */
G_GNUC_PRINTF (2, 3) static void
schema_bug (void *user_data, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_string_append (user_data, msg);
}

static void
schema_bug_structured (void *user_data, xmlErrorPtr err)
{
  g_string_append (user_data, err->message);
}

static xmlRelaxNG *
compile_schema (const char *schema)
{
  g_autofree char *path = g_strconcat ("/org/lodge/schemas/", schema, NULL);
  g_autoptr (GBytes) rng = g_resource_lookup_data (lodge_schemas_get_resource (), path,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (rng == NULL)
    g_error ("schema %s is not compiled in", schema); /* a build error, not input */

  gsize rng_len = 0;
  const char *rng_data = g_bytes_get_data (rng, &rng_len);
  g_autoptr (xmlRelaxNGParserCtxt) pctxt = xmlRelaxNGNewMemParserCtxt (rng_data, (int) rng_len);
  g_autoptr (GString) bugs = g_string_new (NULL);
  xmlRelaxNGSetParserStructuredErrors (pctxt, schema_bug_structured, bugs);
  xmlSetGenericErrorFunc (bugs, schema_bug);
  xmlRelaxNG *compiled = xmlRelaxNGParse (pctxt);
  xmlSetGenericErrorFunc (NULL, NULL);
  if (compiled == NULL || bugs->len > 0)
    g_error ("schema %s does not compile: %s", schema, bugs->str);
  return compiled;
}

/* Compiling a schema costs ~20 times the validation of a definition, so
 * each thread keeps its compiled schemas (libxml2 does not promise that a
 * compiled RelaxNG may be shared between threads). */
static void
free_thread_schemas (gpointer table)
{
  g_hash_table_unref (table);
}

static GPrivate thread_schemas = G_PRIVATE_INIT (free_thread_schemas);

static xmlRelaxNG *
schema_for_thread (const char *schema)
{
  GHashTable *table = g_private_get (&thread_schemas);
  if (table == NULL)
    {
      table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) xmlRelaxNGFree);
      g_private_set (&thread_schemas, table);
    }
  xmlRelaxNG *compiled = g_hash_table_lookup (table, schema);
  if (compiled == NULL)
    {
      compiled = compile_schema (schema);
      g_hash_table_insert (table, g_strdup (schema), compiled);
    }
  return compiled;
}

gboolean
lodge_xml_validate (xmlDoc *doc, const char *schema, const LodgeXmlHint *hints,
                    const char *origin, GError **error)
{
  g_return_val_if_fail (doc != NULL, FALSE);
  g_return_val_if_fail (schema != NULL, FALSE);

  lodge_xml_init ();
  xmlRelaxNG *compiled = schema_for_thread (schema);

  g_autoptr (xmlRelaxNGValidCtxt) vctxt = xmlRelaxNGNewValidCtxt (compiled);
  SchemaErrors errors = { hints, NULL };
  xmlRelaxNGSetValidStructuredErrors (vctxt, collect_schema_error, &errors);
  int r = xmlRelaxNGValidateDoc (vctxt, doc);
  if (r == 0)
    return TRUE;

  if (errors.message == NULL)
    errors.message = g_string_new (origin);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_SCHEMA, "%s", errors.message->str);
  g_string_free (errors.message, TRUE);
  return FALSE;
}

xmlNode *
lodge_xml_child (xmlNode *parent, const char *name)
{
  if (parent == NULL)
    return NULL;
  LODGE_XML_FOREACH_CHILD (child, parent, name)
    return child;
  return NULL;
}

char *
lodge_xml_text (xmlNode *node)
{
  if (node == NULL)
    return NULL;
  xmlChar *content = xmlNodeGetContent (node);
  char *text = g_strdup ((const char *) content);
  xmlFree (content);
  return text;
}

char *
lodge_xml_prop (xmlNode *node, const char *name)
{
  if (node == NULL)
    return NULL;
  xmlChar *value = xmlGetNoNsProp (node, (const xmlChar *) name);
  char *copy = g_strdup ((const char *) value);
  xmlFree (value);
  return copy;
}

guint
lodge_xml_line (xmlNode *node)
{
  long line = node != NULL ? xmlGetLineNo (node) : -1;
  return line > 0 ? (guint) line : 0;
}

xmlNode *
lodge_xml_add (xmlNode *parent, const char *name, const char *text)
{
  /* xmlNewTextChild escapes @text. */
  return xmlNewTextChild (parent, NULL, (const xmlChar *) name, (const xmlChar *) text);
}

void
lodge_xml_set (xmlNode *node, const char *name, const char *value)
{
  if (value != NULL)
    xmlSetProp (node, (const xmlChar *) name, (const xmlChar *) value);
}

char *
lodge_xml_format_doc (xmlDoc *doc)
{
  xmlChar *buf = NULL;
  int len = 0;
  xmlDocDumpFormatMemoryEnc (doc, &buf, &len, "UTF-8", 1);
  GString *out = g_string_new_len ((const char *) buf, len);
  xmlFree (buf);
  if (out->len == 0 || out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}
