#include "lodge-app.h"

#include <string.h>

#include "lodge-error.h"
#include "lodge-strings.h"
#include "lodge-units.h"
#include "lodge-xml.h"

/* /proc, /sys, /dev and /run are mounted over the VE's disk at boot: a
 * file put there would be hidden, or would write into the kernel. */
static const char *const ve_forbidden[] = { "/proc", "/sys", "/dev", "/run" };

/* At most 100 characters of @text, control characters escaped, so a
 * hostile value cannot forge lines of a message. */
static char *
show (const char *text)
{
  GString *out = g_string_new (NULL);
  const char *p = text;
  for (guint n = 0; *p != '\0' && n < 100; n++)
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_unichar (out, c);
      p = g_utf8_next_char (p);
    }
  if (*p != '\0')
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static gboolean
has_control (const char *s)
{
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

/* ---- paths ---- */

/* What is wrong with the components of @rel (a path without its leading
 * '/'), or NULL. */
static const char *
bad_component (const char *rel)
{
  const char *start = rel;
  for (;;)
    {
      const char *end = strchr (start, '/');
      if (end == NULL)
        end = start + strlen (start);
      gsize len = end - start;
      if (len == 0)
        return "an empty component ('//' or a trailing '/')";
      if (len == 1 && start[0] == '.')
        return "a '.' component";
      if (len == 2 && start[0] == '.' && start[1] == '.')
        return "a '..' component";
      if (*end == '\0')
        return NULL;
      start = end + 1;
    }
}

G_GNUC_PRINTF (3, 4) static gboolean
path_fail (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *shown = show (path);
  g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "'%s' %s", shown, msg);
  return FALSE;
}

gboolean
lodge_app_check_tree_path (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);

  if (*path == '\0')
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "the template path is empty");
      return FALSE;
    }
  if (has_control (path))
    return path_fail (error, path, "has a control character");
  if (path[0] == '/')
    return path_fail (error, path,
                      "is absolute; a template path is relative to the template's root");
  const char *bad = bad_component (path);
  if (bad != NULL)
    return path_fail (error, path, "has %s; a template path stays inside the template", bad);
  return TRUE;
}

gboolean
lodge_app_check_ve_path (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);

  if (*path == '\0')
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "the VE path is empty");
      return FALSE;
    }
  if (has_control (path))
    return path_fail (error, path, "has a control character");
  if (path[0] != '/')
    return path_fail (error, path, "is not an absolute path in the VE");
  if (path[1] == '\0')
    return path_fail (error, path, "is the VE's root; name something below it");
  const char *bad = bad_component (path + 1);
  if (bad != NULL)
    return path_fail (error, path, "is not normalised: it has %s", bad);
  for (guint i = 0; i < G_N_ELEMENTS (ve_forbidden); i++)
    {
      gsize n = strlen (ve_forbidden[i]);
      if (strncmp (path, ve_forbidden[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
        return path_fail (error, path,
                          "is in %s; /proc, /sys, /dev and /run are not on the VE's disk",
                          ve_forbidden[i]);
    }
  return TRUE;
}

/* ---- values ---- */

/* The keys of @table (may be NULL), sorted, borrowed from it. */
static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new ();
  if (table != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, table);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (keys, key);
    }
  g_ptr_array_sort (keys, lodge_compare_strings);
  return keys;
}

/* @pattern must match the whole value. It is compiled alone first, so an
 * unbalanced pattern ("a)|(b") cannot escape the anchoring group. */
static GRegex *
compile_pattern (const LodgeAppParam *p, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GRegex) alone = g_regex_new (p->pattern, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT,
                                          &local);
  if (alone == NULL)
    {
      g_autofree char *shown = show (p->pattern);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "pattern '%s' of '%s' is not a regular expression: %s", shown, p->name,
                   local->message);
      return NULL;
    }
  g_autofree char *anchored = g_strdup_printf ("\\A(?:%s)\\z", p->pattern);
  return g_regex_new (anchored, G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, error);
}

/* Errors read "value '...' for 'name' ...", for the caller to prefix. */
static gboolean
check_value (const LodgeAppParam *p, GRegex *regex, const char *value, GError **error)
{
  g_autofree char *shown = show (value);
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "value '%s' for '%s' is not valid UTF-8", shown, p->name);
      return FALSE;
    }
  if (has_control (value))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "value '%s' for '%s' has a line break or other control character", shown,
                   p->name);
      return FALSE;
    }
  if (regex != NULL && !g_regex_match (regex, value, G_REGEX_MATCH_DEFAULT, NULL))
    {
      g_autofree char *pattern = show (p->pattern);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "value '%s' for '%s' does not match its pattern '%s'", shown, p->name,
                   pattern);
      return FALSE;
    }
  return TRUE;
}

static char *
declared_names (const LodgeAppManifest *m)
{
  if (m->params->len == 0)
    return g_strdup ("the template declares none");
  GString *out = g_string_new ("the template declares: ");
  for (guint i = 0; i < m->params->len; i++)
    {
      const LodgeAppParam *p = m->params->pdata[i];
      g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", p->name);
    }
  return g_string_free (out, FALSE);
}

const LodgeAppParam *
lodge_app_manifest_find_param (const LodgeAppManifest *m, const char *name)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < m->params->len; i++)
    {
      const LodgeAppParam *p = m->params->pdata[i];
      if (strcmp (p->name, name) == 0)
        return p;
    }
  return NULL;
}

GHashTable *
lodge_app_manifest_values (const LodgeAppManifest *m, GHashTable *given, const char *app,
                           GError **error)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_return_val_if_fail (app != NULL, NULL);

  if (given != NULL)
    {
      g_autoptr (GPtrArray) keys = sorted_keys (given);
      for (guint i = 0; i < keys->len; i++)
        if (lodge_app_manifest_find_param (m, keys->pdata[i]) == NULL)
          {
            g_autofree char *shown = show (keys->pdata[i]);
            g_autofree char *declared = declared_names (m);
            g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                         "application %s: no configuration key '%s'; %s", app, shown, declared);
            return NULL;
          }
    }

  g_autoptr (GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < m->params->len; i++)
    {
      const LodgeAppParam *p = m->params->pdata[i];
      const char *value = given != NULL ? g_hash_table_lookup (given, p->name) : NULL;
      if (value == NULL)
        value = p->default_value;
      if (value == NULL)
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "application %s: configuration key '%s' is required (the template "
                       "gives no default)",
                       app, p->name);
          return NULL;
        }
      /* compile_pattern() does not fail on a parsed manifest's pattern */
      g_autoptr (GError) local = NULL;
      g_autoptr (GRegex) regex = p->pattern != NULL ? compile_pattern (p, &local) : NULL;
      if (local != NULL || !check_value (p, regex, value, &local))
        {
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID, "application %s: %s", app,
                       local->message);
          return NULL;
        }
      g_hash_table_insert (values, g_strdup (p->name), g_strdup (value));
    }
  return g_steal_pointer (&values);
}

/* ---- rendering ---- */

static char *
parameter_names (GHashTable *values)
{
  g_autoptr (GPtrArray) keys = sorted_keys (values);
  if (keys->len == 0)
    return g_strdup ("there are none");
  GString *out = g_string_new ("the parameters are: ");
  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", (const char *) keys->pdata[i]);
  return g_string_free (out, FALSE);
}

/* "WHAT" for a one-line text, "WHAT:LINE" for a file. */
static char *
where (const char *what, const char *text, const char *at)
{
  if (strchr (text, '\n') == NULL)
    return g_strdup (what);
  guint line = 1;
  for (const char *p = text; p < at; p++)
    line += *p == '\n';
  return g_strdup_printf ("%s:%u", what, line);
}

static void
append_shell_quoted (GString *out, const char *value)
{
  g_string_append_c (out, '\'');
  for (const char *p = value; *p != '\0'; p++)
    if (*p == '\'')
      g_string_append (out, "'\\''");
    else
      g_string_append_c (out, *p);
  g_string_append_c (out, '\'');
}

char *
lodge_app_render (const char *text, GHashTable *values, gboolean shell_quote, const char *what,
                  GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  gsize len = strlen (text);
  if (len > LODGE_APP_MAX_TEMPLATE_BYTES)
    {
      g_autofree char *limit = lodge_units_format (LODGE_APP_MAX_TEMPLATE_BYTES);
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                   "%s: template too large (%" G_GSIZE_FORMAT " bytes; the limit is %s)", what,
                   len, limit);
      return NULL;
    }

  g_autoptr (GString) out = g_string_sized_new (len);
  const char *p = text;
  const char *dollar;
  while ((dollar = strchr (p, '$')) != NULL)
    {
      g_string_append_len (out, p, dollar - p);
      if (dollar[1] != '{')
        {
          /* "$$" is one '$'; a lone '$' ("$(cat x)", "$1") stays */
          g_string_append_c (out, '$');
          p = dollar[1] == '$' ? dollar + 2 : dollar + 1;
          continue;
        }
      const char *close = strchr (dollar + 2, '}');
      if (close == NULL)
        {
          g_autofree char *at = where (what, text, dollar);
          g_autofree char *shown = show (dollar);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: '%s' has no closing '}' (write $$ for a literal '$')", at, shown);
          return NULL;
        }
      g_autofree char *name = g_strndup (dollar + 2, close - dollar - 2);
      const char *value = values != NULL ? g_hash_table_lookup (values, name) : NULL;
      if (value == NULL)
        {
          g_autofree char *at = where (what, text, dollar);
          g_autofree char *shown = show (name);
          g_autofree char *keys = parameter_names (values);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: '${%s}' is not a parameter of the template (%s; write $$ for a "
                       "literal '$')",
                       at, shown, keys);
          return NULL;
        }
      if (shell_quote)
        append_shell_quoted (out, value);
      else
        g_string_append (out, value);
      if (out->len > LODGE_APP_MAX_RENDERED_BYTES)
        {
          g_autofree char *limit = lodge_units_format (LODGE_APP_MAX_RENDERED_BYTES);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_TOO_LARGE,
                       "%s: the rendered text is over %s", what, limit);
          return NULL;
        }
      p = close + 1;
    }
  g_string_append (out, p);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- the manifest ---- */

static void
lodge_app_copy_free (LodgeAppCopy *c)
{
  if (c == NULL)
    return;
  g_free (c->from);
  g_free (c->to);
  g_free (c);
}

static void
lodge_app_param_free (LodgeAppParam *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  g_free (p->default_value);
  g_free (p->pattern);
  g_free (p);
}

static void
lodge_app_file_free (LodgeAppFile *f)
{
  if (f == NULL)
    return;
  g_free (f->path);
  g_free (f->template_path);
  g_free (f);
}

LodgeAppManifest *
lodge_app_manifest_new (void)
{
  LodgeAppManifest *m = g_new0 (LodgeAppManifest, 1);
  m->copies = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_app_copy_free);
  m->params = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_app_param_free);
  m->files = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_app_file_free);
  return m;
}

void
lodge_app_manifest_free (LodgeAppManifest *m)
{
  if (m == NULL)
    return;
  g_free (m->description);
  g_ptr_array_unref (m->copies);
  g_ptr_array_unref (m->params);
  g_ptr_array_unref (m->files);
  g_free (m->launch);
  g_free (m->reload);
  g_free (m->health);
  g_free (m);
}

#define TREE_PATH "a path in the template tree, relative (at most 1024 characters, one line)"
#define VE_PATH "an absolute path in the VE (at most 1024 characters, one line)"
#define COMMAND "a command of one line (1 to 4096 characters)"

static const LodgeXmlHint app_hints[] = {
  { "description", NULL, "one line of at most 200 characters" },
  { "copy", "from", TREE_PATH },
  { "copy", "to", VE_PATH },
  { "param", "name", "a letter or '_', then up to 63 of letters, digits, '_', '.', '-'" },
  { "param", "default", "one line of text (at most 4096 characters)" },
  { "param", "pattern", "a regular expression of one line (1 to 1024 characters)" },
  { "file", "path", VE_PATH },
  { "file", "template", TREE_PATH },
  { "file", "mode", "octal permission bits, 3 or 4 digits such as 0644" },
  { "file", "owner", "numeric UID:GID such as 33:33" },
  { "launch", NULL, COMMAND },
  { "reload", NULL, COMMAND },
  { "health", NULL, COMMAND },
  { NULL, NULL, NULL }
};

/* ---- typed reading and checks (the document is already schema-valid) ---- */

typedef struct {
  const char *origin;
  GError **error;
} Reader;

G_GNUC_PRINTF (4, 5) static gboolean
reader_fail (Reader *r, const char *element, guint line, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (r->error, LODGE_ERROR, LODGE_ERROR_INVALID, "%s:%u: <%s>: %s", r->origin, line,
               element, msg);
  return FALSE;
}

static gboolean
check_path (Reader *r, const char *element, guint line, const char *path, gboolean in_ve)
{
  g_autoptr (GError) local = NULL;
  if (in_ve ? lodge_app_check_ve_path (path, &local) : lodge_app_check_tree_path (path, &local))
    return TRUE;
  return reader_fail (r, element, line, "%s", local->message);
}

/* Each destination in the VE is written once: by one <copy> or one <file>. */
static gboolean
claim_destination (Reader *r, GHashTable *claimed, const char *element, guint line,
                   const char *path)
{
  const char *prev = g_hash_table_lookup (claimed, path);
  if (prev != NULL)
    {
      g_autofree char *shown = show (path);
      return reader_fail (r, element, line, "'%s' is already the destination of the %s",
                          shown, prev);
    }
  g_hash_table_insert (claimed, (char *) path,
                       g_strdup_printf ("<%s> on line %u", element, line));
  return TRUE;
}

static gboolean
read_files (Reader *r, xmlNode *files, LodgeAppManifest *m, GHashTable *claimed)
{
  LODGE_XML_FOREACH_CHILD (node, files, "copy")
    {
      LodgeAppCopy *c = g_new0 (LodgeAppCopy, 1);
      c->from = lodge_xml_prop (node, "from");
      c->to = lodge_xml_prop (node, "to");
      c->line = lodge_xml_line (node);
      g_ptr_array_add (m->copies, c);
      if (!check_path (r, "copy", c->line, c->from, FALSE)
          || !check_path (r, "copy", c->line, c->to, TRUE)
          || !claim_destination (r, claimed, "copy", c->line, c->to))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_param (Reader *r, xmlNode *node, LodgeAppManifest *m)
{
  LodgeAppParam *p = g_new0 (LodgeAppParam, 1);
  p->name = lodge_xml_prop (node, "name");
  p->default_value = lodge_xml_prop (node, "default");
  p->pattern = lodge_xml_prop (node, "pattern");
  p->line = lodge_xml_line (node);

  const LodgeAppParam *prev = lodge_app_manifest_find_param (m, p->name);
  g_ptr_array_add (m->params, p);
  if (prev != NULL)
    return reader_fail (r, "param", p->line, "parameter '%s' is declared twice (also on line %u)",
                        p->name, prev->line);

  g_autoptr (GError) local = NULL;
  g_autoptr (GRegex) regex = NULL;
  if (p->pattern != NULL && (regex = compile_pattern (p, &local)) == NULL)
    return reader_fail (r, "param", p->line, "%s", local->message);
  if (p->default_value != NULL && !check_value (p, regex, p->default_value, &local))
    return reader_fail (r, "param", p->line, "default %s", local->message);
  return TRUE;
}

static gboolean
read_owner (Reader *r, xmlNode *node, LodgeAppFile *f)
{
  g_autofree char *owner = lodge_xml_prop (node, "owner");
  if (owner == NULL)
    return TRUE; /* 0:0 */
  g_auto (GStrv) ids = g_strsplit (owner, ":", 2);
  guint *ret[2] = { &f->uid, &f->gid };
  for (guint i = 0; i < 2; i++)
    {
      guint64 v;
      /* (uid_t) -1 means "unchanged" to chown(2), never an owner */
      if (!g_ascii_string_to_unsigned (ids[i], 10, 0, G_MAXUINT32 - 1, &v, NULL))
        return reader_fail (r, "file", f->line, "owner '%s': %s %s is out of range (0 to %u)",
                            owner, i == 0 ? "UID" : "GID", ids[i], G_MAXUINT32 - 1);
      *ret[i] = (guint) v;
    }
  return TRUE;
}

static gboolean
read_file (Reader *r, xmlNode *node, LodgeAppManifest *m, GHashTable *claimed)
{
  LodgeAppFile *f = g_new0 (LodgeAppFile, 1);
  f->path = lodge_xml_prop (node, "path");
  f->template_path = lodge_xml_prop (node, "template");
  f->mode = LODGE_APP_DEFAULT_MODE;
  f->line = lodge_xml_line (node);
  g_ptr_array_add (m->files, f);

  g_autofree char *mode = lodge_xml_prop (node, "mode");
  guint64 v;
  if (mode != NULL)
    {
      if (!g_ascii_string_to_unsigned (mode, 8, 0, 07777, &v, NULL))
        return reader_fail (r, "file", f->line, "mode '%s' is not octal permission bits",
                            mode);
      f->mode = (guint) v;
    }
  return read_owner (r, node, f) && check_path (r, "file", f->line, f->path, TRUE)
         && check_path (r, "file", f->line, f->template_path, FALSE)
         && claim_destination (r, claimed, "file", f->line, f->path);
}

static gboolean
read_config (Reader *r, xmlNode *config, LodgeAppManifest *m, GHashTable *claimed)
{
  LODGE_XML_FOREACH_CHILD (node, config, "param")
    if (!read_param (r, node, m))
      return FALSE;
  LODGE_XML_FOREACH_CHILD (node, config, "file")
    if (!read_file (r, node, m, claimed))
      return FALSE;
  return TRUE;
}

/* A <file> is a regular file: no destination can lie below it. */
static gboolean
check_nothing_below_files (Reader *r, const LodgeAppManifest *m, GHashTable *claimed)
{
  g_autoptr (GPtrArray) destinations = sorted_keys (claimed);
  for (guint i = 0; i < m->files->len; i++)
    {
      const LodgeAppFile *f = m->files->pdata[i];
      gsize n = strlen (f->path);
      for (guint j = 0; j < destinations->len; j++)
        {
          const char *d = destinations->pdata[j];
          if (strncmp (d, f->path, n) == 0 && d[n] == '/')
            {
              g_autofree char *shown = show (f->path);
              g_autofree char *below = show (d);
              return reader_fail (r, "file", f->line,
                                  "'%s' is a file, but the %s puts '%s' below it", shown,
                                  (const char *) g_hash_table_lookup (claimed, d), below);
            }
        }
    }
  return TRUE;
}

/* Reads the command <@name> into *@ret (NULL when absent) and checks that
 * its placeholders name declared parameters. */
static gboolean
read_command (Reader *r, xmlNode *top, const char *name, const LodgeAppManifest *m,
              char **ret)
{
  xmlNode *node = lodge_xml_child (top, name);
  if (node == NULL)
    return TRUE;
  *ret = lodge_xml_text (node);
  guint line = lodge_xml_line (node);
  g_autofree char *stripped = g_strstrip (g_strdup (*ret));
  if (*stripped == '\0')
    return reader_fail (r, name, line, "the command is blank");

  g_autoptr (GHashTable) declared = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < m->params->len; i++)
    {
      const LodgeAppParam *p = m->params->pdata[i];
      g_hash_table_insert (declared, p->name, (char *) "");
    }
  g_autofree char *what = g_strdup_printf ("%s:%u: <%s>", r->origin, line, name);
  g_autofree char *rendered = lodge_app_render (*ret, declared, TRUE, what, r->error);
  return rendered != NULL;
}

LodgeAppManifest *
lodge_app_manifest_parse (const char *xml, gsize len, const char *origin, GError **error)
{
  g_return_val_if_fail (origin != NULL, NULL);

  g_autoptr (xmlDoc) doc = lodge_xml_parse (xml, len, origin, error);
  if (doc == NULL)
    return NULL;
  if (!lodge_xml_validate (doc, "application.rng", app_hints, origin, error))
    return NULL;

  Reader r = { origin, error };
  xmlNode *top = xmlDocGetRootElement (doc);
  g_autoptr (LodgeAppManifest) m = lodge_app_manifest_new ();
  /* destination path -> "<element> on line N" */
  g_autoptr (GHashTable) claimed = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  m->description = lodge_xml_text (lodge_xml_child (top, "description"));
  xmlNode *n;
  if ((n = lodge_xml_child (top, "files")) != NULL && !read_files (&r, n, m, claimed))
    return NULL;
  if ((n = lodge_xml_child (top, "config")) != NULL && !read_config (&r, n, m, claimed))
    return NULL;
  if (!check_nothing_below_files (&r, m, claimed))
    return NULL;
  if (!read_command (&r, top, "launch", m, &m->launch)
      || !read_command (&r, top, "reload", m, &m->reload)
      || !read_command (&r, top, "health", m, &m->health))
    return NULL;
  return g_steal_pointer (&m);
}

/* ---- formatting ---- */

char *
lodge_app_manifest_format (const LodgeAppManifest *m)
{
  g_return_val_if_fail (m != NULL, NULL);

  g_autoptr (xmlDoc) doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *top = xmlNewNode (NULL, (const xmlChar *) "application-template");
  xmlDocSetRootElement (doc, top);

  if (m->description != NULL)
    lodge_xml_add (top, "description", m->description);
  if (m->copies->len > 0)
    {
      xmlNode *files = lodge_xml_add (top, "files", NULL);
      for (guint i = 0; i < m->copies->len; i++)
        {
          const LodgeAppCopy *c = m->copies->pdata[i];
          xmlNode *cn = lodge_xml_add (files, "copy", NULL);
          lodge_xml_set (cn, "from", c->from);
          lodge_xml_set (cn, "to", c->to);
        }
    }
  if (m->params->len > 0 || m->files->len > 0)
    {
      xmlNode *config = lodge_xml_add (top, "config", NULL);
      for (guint i = 0; i < m->params->len; i++)
        {
          const LodgeAppParam *p = m->params->pdata[i];
          xmlNode *pn = lodge_xml_add (config, "param", NULL);
          lodge_xml_set (pn, "name", p->name);
          lodge_xml_set (pn, "default", p->default_value);
          lodge_xml_set (pn, "pattern", p->pattern);
        }
      for (guint i = 0; i < m->files->len; i++)
        {
          const LodgeAppFile *f = m->files->pdata[i];
          xmlNode *fn = lodge_xml_add (config, "file", NULL);
          g_autofree char *mode = g_strdup_printf ("%04o", f->mode);
          g_autofree char *owner = g_strdup_printf ("%u:%u", f->uid, f->gid);
          lodge_xml_set (fn, "path", f->path);
          lodge_xml_set (fn, "template", f->template_path);
          lodge_xml_set (fn, "mode", mode);
          lodge_xml_set (fn, "owner", owner);
        }
    }
  lodge_xml_add (top, "launch", m->launch);
  if (m->reload != NULL)
    lodge_xml_add (top, "reload", m->reload);
  if (m->health != NULL)
    lodge_xml_add (top, "health", m->health);

  return lodge_xml_format_doc (doc);
}

LODGE_ENUM_IMPL (lodge_app_disk, LODGE_APP_DISK_LAST, "installed", "no-disk", "not-installed",
                 "config-pending", "other-version");

const char *
lodge_app_disk_describe (LodgeAppDisk disk)
{
  static const char *const words[] = {
    "installed",
    "not installed (the first start lays it in)",
    "not installed (the next start lays it in)",
    "installed, configuration pending (the next start writes it)",
    "another version installed (the next start lays this one in)",
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (words) == LODGE_APP_DISK_LAST);
  g_return_val_if_fail (disk < LODGE_APP_DISK_LAST, NULL);
  return words[disk];
}
