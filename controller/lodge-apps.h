/* Applications in VEs: what `<application>` of a definition asks for,
 * resolved against its application template (manifest, parameter values,
 * launch command), laid into the VE's disk offline with libguestfs (at
 * first start, or `lodge app install` on a stopped VE), reconfigured
 * offline or live through the guest agent, and their state as the guest
 * reports it.
 *
 * Which version and configuration a disk holds is recorded in the RBD
 * image's metadata ("lodge.app.NAME" = "template@version values=DIGEST"),
 * so a start knows without an appliance whether anything is to be done. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-app.h"
#include "lodge-ctl.h"
#include "lodge-env.h"
#include "lodge-lifecycle.h"
#include "lodge-repairs.h"
#include "lodge-template.h"

G_BEGIN_DECLS

/* The RBD metadata key that says what the disk holds of application @app. */
char *lodge_app_meta_key (const char *app);

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

void lodge_app_plan_free (LodgeAppPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeAppPlan, lodge_app_plan_free)

/* Every application of @def resolved (LodgeAppPlan, in order). Errors
 * name the application: an unknown template or version, an OS template,
 * an undeclared configuration key, a required one missing, a value that
 * does not fit. */
GPtrArray *lodge_apps_plan (LodgeStore *store, const LodgeEnvDef *def, GError **error);

/* For a start, after the VE's disk exists: lays in the applications whose
 * version the disk does not hold (one appliance for all of them; on
 * failure the disk is rolled back and the start fails), writes the config
 * files of those whose values changed, and sets each application's
 * launch command in @def for the boot configuration. */
gboolean lodge_apps_prepare_start (LodgeStore *store, const char *client_id, LodgeEnvDef *def,
                                   const char *pool, const char *image,
                                   LodgeProgress progress, gpointer user_data,
                                   GError **error);

/* `lodge app install|configure|list`, `lodge exec`, `lodge passwd`: each
 * returns a JSON object (text), or NULL with @error. @who is logged. */
typedef struct {
  LodgeCtl *ctl;
  LodgeRepairs *repairs;
  const LodgeLifecycleOptions *opts;
} LodgeApps;

/* Adds application @app to the definition when it has none of that name
 * (from template @template, default @app, @version, @autostart), with
 * @params (name -> value) over its configuration, and lays it into the
 * stopped VE's disk (a repair snapshot first: a failed install changes
 * nothing). */
char *lodge_apps_install (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                          const char *who, LodgeRepairOutput out, gpointer out_data,
                          LodgeProgress progress, gpointer progress_data,
                          GError **error);
/* Takes application @app out of the stopped VE: what it copied and
 * rendered is removed from the disk (a repair snapshot first), and the
 * definition no longer has it. */
char *lodge_apps_remove (LodgeApps *a, const char *name, const char *app, const char *who,
                         LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
                         gpointer progress_data, GError **error);
/* Sets @params of application @app: on a stopped VE its config files on
 * the disk are rewritten; on a running one they are written through the
 * guest agent and the application reloaded (its reload command, or a
 * restart). The definition keeps the values. */
char *lodge_apps_configure (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                            const char *who, LodgeRepairOutput out, gpointer out_data,
                            LodgeProgress progress, gpointer progress_data,
                            GError **error);
/* Each application: source, installed or not, autostart, values; for a
 * running VE its state from inside the guest and its health check. */
char *lodge_apps_list (LodgeApps *a, const char *name, GError **error);
/* Runs a command in the running VE through its guest agent. */
char *lodge_apps_exec (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                       GError **error);
/* Sets root's password in the running VE and in its definition. */
char *lodge_apps_passwd (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                         GError **error);

G_END_DECLS
