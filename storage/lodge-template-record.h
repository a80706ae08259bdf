/* Template records: what the state store keeps of each template (kind
 * "template"), so `template list` needs no scan of RBD. The golden images
 * and their snapshots are virt/lodge-template.h's work; this is their
 * metadata, its one JSON form, and reading and writing it. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-enum.h"
#include "lodge-store.h"

G_BEGIN_DECLS

/* An OS template is what a VE's root disk is cloned from; an application
 * template is a tree (with a lodge-app.xml manifest) laid into VE disks
 * by lodge_app_install(). */
typedef enum {
  LODGE_TEMPLATE_KIND_OS,
  LODGE_TEMPLATE_KIND_APPLICATION,
  LODGE_TEMPLATE_KIND_LAST
} LodgeTemplateKind;
LODGE_ENUM_DECL (lodge_template_kind); /* "os", "application" */

typedef struct {
  char *version;
  char *snapshot;    /* "v-<version>" */
  char *created;     /* ISO 8601, UTC */
  char *source;      /* what was imported */
  guint64 bytes;     /* content of the tree */
  guint64 files;     /* regular files */
  guint64 image_size;
  /* Application templates: the manifest as imported, and the config file
   * templates it names (tree path -> GBytes), so configuring a VE needs
   * no appliance. NULL for OS templates. */
  char *manifest;
  GHashTable *config_templates;
} LodgeTemplateVersion;

typedef struct {
  char *name;
  char *pool;
  char *image; /* "tmpl-<name>" */
  LodgeTemplateKind kind;
  GPtrArray *versions; /* LodgeTemplateVersion, oldest first */
} LodgeTemplate;

/* A template of no version yet, in LODGE_TEMPLATE_POOL as "tmpl-<name>". */
LodgeTemplate *lodge_template_new (const char *name);
void lodge_template_free (LodgeTemplate *tmpl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTemplate, lodge_template_free)

LodgeTemplateVersion *lodge_template_version_copy (const LodgeTemplateVersion *v);
void lodge_template_version_free (LodgeTemplateVersion *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTemplateVersion, lodge_template_version_free)

/* An empty table for LodgeTemplateVersion.config_templates. */
GHashTable *lodge_template_config_templates_new (void);

/* Template names are DNS labels; versions 1-63 of [A-Za-z0-9._-]. */
gboolean lodge_template_check_name (const char *name, GError **error);
gboolean lodge_template_check_version (const char *version, GError **error);

/* The version to clone: @version, or the newest when NULL. */
const LodgeTemplateVersion *lodge_template_find_version (const LodgeTemplate *tmpl,
                                                         const char *version, GError **error);

/* The members describing @v, into an object being built (the record, and
 * the CLI's -o json). */
void lodge_template_version_add_json (JsonBuilder *b, const LodgeTemplateVersion *v);

/* The record's JSON form. Reading takes the name from the record's key
 * (@name); an unknown kind is refused, missing members take defaults. */
GBytes *lodge_template_to_json (const LodgeTemplate *tmpl);
LodgeTemplate *lodge_template_from_json (const char *name, GBytes *json, GError **error);

/* The record of template @name and its version (@ret_version may be
 * NULL); LODGE_STORAGE_ERROR_NOT_FOUND names an unknown template. */
LodgeTemplate *lodge_template_load (LodgeStore *store, const char *name, guint64 *ret_version,
                                    GError **error);
/* Writes @tmpl's record: created when @version is 0 (EXISTS if there is
 * one), else replaced if still at @version (CONFLICT otherwise). */
gboolean lodge_template_save (LodgeStore *store, const LodgeTemplate *tmpl, guint64 version,
                              GError **error);
/* Removes the record of template @name, if @version is not 0 only at
 * that version. Its image is the caller's to remove. */
gboolean lodge_template_remove_record (LodgeStore *store, const char *name, guint64 version,
                                       GError **error);

/* The same as lodge_template_load() after checking @name. */
LodgeTemplate *lodge_template_get (LodgeStore *store, const char *name, GError **error);
/* The same, refused (LODGE_STORAGE_ERROR_INVALID) when it is not of @kind. */
LodgeTemplate *lodge_template_get_kind (LodgeStore *store, const char *name, LodgeTemplateKind kind,
                                        GError **error);
GPtrArray *lodge_template_list (LodgeStore *store, GError **error); /* LodgeTemplate */

G_END_DECLS
