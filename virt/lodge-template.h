/* Templates: a golden RBD image holding an ext4 filesystem with exactly the
 * imported tree, built with libguestfs on the image itself (never mounted
 * on the host). Each version is a protected snapshot "v-<version>"; VE
 * disks are clones of one. Metadata lives in the state store (kind
 * "template"), so `template list` needs no scan of RBD. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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

void lodge_template_free (LodgeTemplate *tmpl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTemplate, lodge_template_free)

/* The stages of an import, for progress lines. */
typedef enum {
  LODGE_IMPORT_CHECK,    /* checking a tar archive and writing it again (done/total: its bytes) */
  LODGE_IMPORT_ARCHIVE,  /* packing a directory (done/total: bytes) */
  LODGE_IMPORT_IMAGE,    /* creating or growing the RBD image */
  LODGE_IMPORT_LAUNCH,   /* starting the libguestfs appliance */
  LODGE_IMPORT_COPY,     /* formatting and unpacking the tree in it */
  LODGE_IMPORT_SNAPSHOT, /* taking and protecting the version's snapshot */
  LODGE_IMPORT_LAST
} LodgeImportStage;
LODGE_ENUM_DECL (lodge_import_stage);

typedef void (*LodgeImportProgress) (LodgeImportStage stage, guint64 done, guint64 total,
                                     gpointer user_data);

/* Imports the directory or tar archive (plain or gzip) at @source as
 * version @version (NULL: one more than the highest numeric version) of
 * template @name, which is created on first import. A tarball with an
 * absolute or ".." entry, devices and the like is refused before anything
 * is written. Two imports of one template are serialised by a lease. On
 * failure nothing new stays behind: no image, no snapshot, no record. */
LodgeTemplateVersion *lodge_template_import (LodgeStore *store, const char *client_id,
                                             const char *name, const char *source,
                                             const char *version, LodgeImportProgress progress,
                                             gpointer user_data, GError **error);
/* The same for an application template: @source is a directory whose
 * lodge-app.xml is read and checked first (every copied path and config
 * file template must be in the tree, none may leave it through a
 * symlink); then the tree is imported as above. A name already used by an
 * OS template is refused, and the other way round. */
LodgeTemplateVersion *lodge_template_import_application (LodgeStore *store, const char *client_id,
                                                         const char *name, const char *source,
                                                         const char *version,
                                                         LodgeImportProgress progress,
                                                         gpointer user_data, GError **error);
void lodge_template_version_free (LodgeTemplateVersion *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeTemplateVersion, lodge_template_version_free)

/* LODGE_STORAGE_ERROR_NOT_FOUND names an unknown template. */
LodgeTemplate *lodge_template_get (LodgeStore *store, const char *name, GError **error);
/* The same, refused (LODGE_STORAGE_ERROR_INVALID) when it is not of @kind. */
LodgeTemplate *lodge_template_get_kind (LodgeStore *store, const char *name, LodgeTemplateKind kind,
                                        GError **error);
GPtrArray *lodge_template_list (LodgeStore *store, GError **error); /* LodgeTemplate */
/* The version to clone: @version, or the newest when NULL. */
const LodgeTemplateVersion *lodge_template_find_version (const LodgeTemplate *tmpl,
                                                         const char *version, GError **error);
/* "pool/image" of the disks cloned from @version. */
GPtrArray *lodge_template_clones (LodgeStore *store, const LodgeTemplate *tmpl,
                                  const char *version, GError **error);
/* Deletes one version, or with @version NULL the whole template; refused
 * (LODGE_STORAGE_ERROR_BUSY, naming them) while clones exist. */
gboolean lodge_template_delete (LodgeStore *store, const char *name, const char *version,
                                GError **error);

/* The members describing @v, into an object being built (the record, and
 * the CLI's -o json). */
void lodge_template_version_add_json (JsonBuilder *b, const LodgeTemplateVersion *v);

/* Template names are DNS labels; versions 1-63 of [A-Za-z0-9._-]. */
gboolean lodge_template_check_name (const char *name, GError **error);
gboolean lodge_template_check_version (const char *version, GError **error);

G_END_DECLS
