/* Templates: a golden RBD image holding an ext4 filesystem with exactly the
 * imported tree, built with libguestfs on the image itself (never mounted
 * on the host). Each version is a protected snapshot "v-<version>"; VE
 * disks are clones of one. What templates and versions exist is a record
 * in the state store (lodge-template-record.h), which this keeps in step
 * with the images. */
#pragma once

#include <glib.h>

#include "lodge-store.h"
#include "lodge-template-record.h"

G_BEGIN_DECLS

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
/* "pool/image" of the disks cloned from @version. */
GPtrArray *lodge_template_clones (LodgeStore *store, const LodgeTemplate *tmpl,
                                  const char *version, GError **error);
/* Deletes one version, or with @version NULL the whole template; refused
 * (LODGE_STORAGE_ERROR_BUSY, naming them) while clones exist. */
gboolean lodge_template_delete (LodgeStore *store, const char *name, const char *version,
                                GError **error);

G_END_DECLS
