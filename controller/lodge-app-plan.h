/* Applications in VEs, as a definition's `<application>` asks for them:
 * each resolved against its application template (manifest, parameter
 * values, launch command), and, at a start, laid into the VE's disk
 * offline with libguestfs when the disk does not hold it yet.
 *
 * Which version and configuration a disk holds is recorded in the RBD
 * image's metadata ("lodge.app.NAME" = "template@version values=DIGEST"),
 * so a start knows without an appliance whether anything is to be done. */
#pragma once

#include <glib.h>

#include "lodge-app.h"
#include "lodge-ctl.h"
#include "lodge-env.h"
#include "lodge-repair.h"
#include "lodge-template.h"

G_BEGIN_DECLS

/* The RBD metadata key that says what the disk holds of application @app. */
char *lodge_app_plan_meta_key (const char *app);

/* One application of a definition, resolved. */
typedef struct {
  const LodgeEnvApplication *app; /* in the definition it was made from */
  LodgeTemplate *tmpl;
  const LodgeTemplateVersion *version; /* in tmpl */
  LodgeAppManifest *manifest;
  GHashTable *values; /* every parameter's value */
  char *launch;       /* the definition's, or the manifest's rendered */
  char *source;       /* "template@version" */
  char *disk;         /* "pool/image@snap" of the template version */
  char *stamp;        /* what the VE disk's metadata holds once it is laid in */
} LodgeAppPlan;

/* One application resolved (lodge_app_plan_all() does every one). */
LodgeAppPlan *lodge_app_plan_new (LodgeStore *store, const LodgeEnvApplication *app, GError **error);
void lodge_app_plan_free (LodgeAppPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeAppPlan, lodge_app_plan_free)

/* Every application of @def resolved (LodgeAppPlan, in order). Errors
 * name the application: an unknown template or version, an OS template,
 * an undeclared configuration key, a required one missing, a value that
 * does not fit. */
GPtrArray *lodge_app_plan_all (LodgeStore *store, const LodgeEnvDef *def, GError **error);

/* What the appliance needs of @plan (its template disk attached as drive
 * @app_index). */
void lodge_app_plan_repair_app (const LodgeAppPlan *plan, guint app_index, LodgeRepairApp *ret);
/* Whether laying in (@install) or configuring the plan writes files. */
gboolean lodge_app_plan_writes_disk (const LodgeAppPlan *plan, gboolean install);

/* For a start, after the VE's disk exists: lays in the applications whose
 * version the disk does not hold (one appliance for all of them; on
 * failure the disk is rolled back and the start fails), writes the config
 * files of those whose values changed, and sets each application's
 * launch command in @def for the boot configuration. */
gboolean lodge_app_plan_prepare_start (LodgeStore *store, const char *client_id, LodgeEnvDef *def,
                                       const char *pool, const char *image, LodgeProgress progress,
                                       gpointer user_data, GError **error);

G_END_DECLS
