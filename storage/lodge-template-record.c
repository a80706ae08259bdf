#include "lodge-template-record.h"

#include <string.h>

#include "lodge-json.h"
#include "lodge-storage-error.h"
#include "lodge-tier.h"

LODGE_ENUM_IMPL (lodge_template_kind, LODGE_TEMPLATE_KIND_LAST, "os", "application");

void
lodge_template_version_free (LodgeTemplateVersion *v)
{
  if (v == NULL)
    return;
  g_free (v->version);
  g_free (v->snapshot);
  g_free (v->created);
  g_free (v->source);
  g_free (v->manifest);
  g_clear_pointer (&v->config_templates, g_hash_table_unref);
  g_free (v);
}

LodgeTemplateVersion *
lodge_template_version_copy (const LodgeTemplateVersion *v)
{
  LodgeTemplateVersion *c = g_new0 (LodgeTemplateVersion, 1);
  *c = *v;
  c->version = g_strdup (v->version);
  c->snapshot = g_strdup (v->snapshot);
  c->created = g_strdup (v->created);
  c->source = g_strdup (v->source);
  c->manifest = g_strdup (v->manifest);
  c->config_templates = v->config_templates != NULL ? g_hash_table_ref (v->config_templates) : NULL;
  return c;
}

void
lodge_template_free (LodgeTemplate *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t->pool);
  g_free (t->image);
  g_clear_pointer (&t->versions, g_ptr_array_unref);
  g_free (t);
}

LodgeTemplate *
lodge_template_new (const char *name)
{
  LodgeTemplate *t = g_new0 (LodgeTemplate, 1);
  t->name = g_strdup (name);
  t->pool = g_strdup (LODGE_TEMPLATE_POOL);
  t->image = g_strconcat ("tmpl-", name, NULL);
  t->versions = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_template_version_free);
  return t;
}

gboolean
lodge_template_check_name (const char *name, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gboolean ok = len >= 1 && len <= 63 && name[0] != '-' && name[len - 1] != '-';
  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '-';
  if (!ok)
    {
      g_autofree char *shown = g_strescape (name != NULL ? name : "", NULL);
      if (strlen (shown) > 64)
        strcpy (shown + 61, "...");
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "invalid template name '%s': use a DNS label (1-63 of a-z, 0-9 and '-', "
                   "not starting or ending with '-')",
                   shown);
    }
  return ok;
}

gboolean
lodge_template_check_version (const char *version, GError **error)
{
  gsize len = version != NULL ? strlen (version) : 0;
  gboolean ok = len >= 1 && len <= 63 && g_ascii_isalnum (version[0]);
  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_isalnum (version[i]) || strchr ("._-", version[i]) != NULL;
  if (!ok)
    {
      g_autofree char *shown = g_strescape (version != NULL ? version : "", NULL);
      if (strlen (shown) > 64)
        strcpy (shown + 61, "...");
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "invalid template version '%s': use 1-63 of A-Z, a-z, 0-9, '.', '_' and '-', "
                   "starting with a letter or digit",
                   shown);
    }
  return ok;
}

/* ---- JSON ---- */

void
lodge_template_version_add_json (JsonBuilder *b, const LodgeTemplateVersion *v)
{
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, v->version);
  json_builder_set_member_name (b, "snapshot");
  json_builder_add_string_value (b, v->snapshot);
  json_builder_set_member_name (b, "created");
  json_builder_add_string_value (b, v->created);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, v->source);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64) v->bytes);
  json_builder_set_member_name (b, "files");
  json_builder_add_int_value (b, (gint64) v->files);
  json_builder_set_member_name (b, "image_size");
  json_builder_add_int_value (b, (gint64) v->image_size);
}

/* What only the record holds: the manifest and the config file templates. */
static void
version_add_app_json (JsonBuilder *b, const LodgeTemplateVersion *v)
{
  if (v->manifest == NULL)
    return;
  json_builder_set_member_name (b, "manifest");
  json_builder_add_string_value (b, v->manifest);
  json_builder_set_member_name (b, "config_templates");
  json_builder_begin_object (b);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, v->config_templates);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      gsize len = 0;
      const guchar *data = g_bytes_get_data (value, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, b64);
    }
  json_builder_end_object (b);
}

GHashTable *
lodge_template_config_templates_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
}

GBytes *
lodge_template_to_json (const LodgeTemplate *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, t->name);
  json_builder_set_member_name (b, "pool");
  json_builder_add_string_value (b, t->pool);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, t->image);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, lodge_template_kind_to_string (t->kind));
  json_builder_set_member_name (b, "versions");
  json_builder_begin_array (b);
  for (guint i = 0; i < t->versions->len; i++)
    {
      json_builder_begin_object (b);
      lodge_template_version_add_json (b, t->versions->pdata[i]);
      version_add_app_json (b, t->versions->pdata[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return lodge_json_to_bytes (b);
}

LodgeTemplate *
lodge_template_from_json (const char *name, GBytes *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = lodge_json_parse_object (json, parser, "template", error);
  if (o == NULL)
    return NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_new (name);
  g_free (t->pool);
  t->pool = g_strdup (json_object_get_string_member_with_default (o, "pool", LODGE_TEMPLATE_POOL));
  char *image = g_strdup (json_object_get_string_member_with_default (o, "image", t->image));
  g_free (t->image);
  t->image = image;
  int kind = lodge_template_kind_from_string (
    json_object_get_string_member_with_default (o, "kind", "os"));
  if (kind < 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "template %s: unknown kind '%s' in its record", name,
                   json_object_get_string_member (o, "kind"));
      return NULL;
    }
  t->kind = kind;
  JsonNode *versions_node = json_object_get_member (o, "versions");
  JsonArray *versions = versions_node != NULL && JSON_NODE_HOLDS_ARRAY (versions_node)
                          ? json_node_get_array (versions_node) : NULL;
  for (guint i = 0; versions != NULL && i < json_array_get_length (versions); i++)
    {
      JsonNode *element = json_array_get_element (versions, i);
      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      JsonObject *vo = json_node_get_object (element);
      LodgeTemplateVersion *v = g_new0 (LodgeTemplateVersion, 1);
      v->version = g_strdup (json_object_get_string_member_with_default (vo, "version", "?"));
      v->snapshot = g_strdup (json_object_get_string_member_with_default (vo, "snapshot", "?"));
      v->created = g_strdup (json_object_get_string_member_with_default (vo, "created", ""));
      v->source = g_strdup (json_object_get_string_member_with_default (vo, "source", ""));
      v->bytes = json_object_get_int_member_with_default (vo, "bytes", 0);
      v->files = json_object_get_int_member_with_default (vo, "files", 0);
      v->image_size = json_object_get_int_member_with_default (vo, "image_size", 0);
      const char *manifest = json_object_get_string_member_with_default (vo, "manifest", NULL);
      JsonNode *files_node = json_object_get_member (vo, "config_templates");
      JsonObject *files = files_node != NULL && JSON_NODE_HOLDS_OBJECT (files_node)
                            ? json_node_get_object (files_node) : NULL;
      if (manifest != NULL)
        {
          v->manifest = g_strdup (manifest);
          v->config_templates = lodge_template_config_templates_new ();
          GList *members = files != NULL ? json_object_get_members (files) : NULL;
          for (GList *l = members; l != NULL; l = l->next)
            {
              gsize len = 0;
              guchar *data = g_base64_decode (
                json_object_get_string_member_with_default (files, l->data, ""), &len);
              g_hash_table_insert (v->config_templates, g_strdup (l->data),
                                   g_bytes_new_take (data, len));
            }
          g_list_free (members);
        }
      g_ptr_array_add (t->versions, v);
    }
  return g_steal_pointer (&t);
}

LodgeTemplate *
lodge_template_load (LodgeStore *store, const char *name, guint64 *ret_version, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) json = lodge_store_get (store, LODGE_STORE_TEMPLATE, name, ret_version, &local);
  if (json == NULL)
    {
      if (g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                     "unknown template '%s'", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return lodge_template_from_json (name, json, error);
}

gboolean
lodge_template_save (LodgeStore *store, const LodgeTemplate *t, guint64 version, GError **error)
{
  g_autoptr (GBytes) json = lodge_template_to_json (t);
  if (version == 0)
    return lodge_store_create (store, LODGE_STORE_TEMPLATE, t->name, json, NULL, error);
  return lodge_store_update (store, LODGE_STORE_TEMPLATE, t->name, version, json, NULL, error);
}

gboolean
lodge_template_remove_record (LodgeStore *store, const char *name, guint64 version, GError **error)
{
  return lodge_store_delete (store, LODGE_STORE_TEMPLATE, name, version, error);
}

LodgeTemplate *
lodge_template_get_kind (LodgeStore *store, const char *name, LodgeTemplateKind kind,
                         GError **error)
{
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, error);
  if (t != NULL && t->kind != kind)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "template '%s' is an %s template, not an %s template", name,
                   t->kind == LODGE_TEMPLATE_KIND_OS ? "OS" : "application",
                   kind == LODGE_TEMPLATE_KIND_OS ? "OS" : "application");
      return NULL;
    }
  return g_steal_pointer (&t);
}

LodgeTemplate *
lodge_template_get (LodgeStore *store, const char *name, GError **error)
{
  if (!lodge_template_check_name (name, error))
    return NULL;
  return lodge_template_load (store, name, NULL, error);
}

GPtrArray *
lodge_template_list (LodgeStore *store, GError **error)
{
  g_autoptr (GPtrArray) names = lodge_store_list (store, LODGE_STORE_TEMPLATE, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_template_free);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) local = NULL;
      LodgeTemplate *t = lodge_template_load (store, names->pdata[i], NULL, &local);
      if (t != NULL)
        g_ptr_array_add (out, t);
      else if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        } /* deleted between list and get: not there any more */
    }
  return g_steal_pointer (&out);
}

const LodgeTemplateVersion *
lodge_template_find_version (const LodgeTemplate *t, const char *version, GError **error)
{
  if (t->versions->len == 0)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
                   "template %s has no version", t->name);
      return NULL;
    }
  if (version == NULL)
    return t->versions->pdata[t->versions->len - 1];
  for (guint i = 0; i < t->versions->len; i++)
    {
      LodgeTemplateVersion *v = t->versions->pdata[i];
      if (strcmp (v->version, version) == 0)
        return v;
    }
  g_autoptr (GString) known = g_string_new (NULL);
  for (guint i = 0; i < t->versions->len; i++)
    g_string_append_printf (known, "%s%s", i ? ", " : "",
                            ((LodgeTemplateVersion *) t->versions->pdata[i])->version);
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND,
               "template %s has no version '%s' (it has %s)", t->name, version, known->str);
  return NULL;
}
