/* Applications in VEs on request (lodge-app-plan.h resolves them and lays
 * them in at a start): `lodge app install`, `configure` and `remove` on a
 * stopped VE's disk and definition (lodge-apps-guest.h: a running VE's). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-app-plan.h"
#include "lodge-ctl.h"
#include "lodge-env.h"
#include "lodge-lifecycle.h"
#include "lodge-disk-job.h"
#include "lodge-template.h"

G_BEGIN_DECLS

/* `lodge app install|configure|remove`, and what lodge-apps-guest.h
 * does with a running VE: each returns a JSON object (text), or NULL with
 * @error. @who is logged. */
typedef struct {
  LodgeCtl *ctl;
  LodgeDiskJobs *jobs;
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
/* A change of one application of a definition: the new definition (text
 * and parsed), every plan of it, and the one changed. */
typedef struct {
  LodgeEnvDef *def;
  char *xml;
  GPtrArray *plans;
  LodgeAppPlan *plan;     /* in plans */
  const char *drives[2];  /* plan's template disk, NULL: for LodgeRepairDisks.apps */
} LodgeAppChange;

void lodge_app_change_free (LodgeAppChange *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeAppChange, lodge_app_change_free)

/* @current with application @app added (@install, when it has none of
 * that name) or changed by @args ("template", "version", "autostart",
 * "params": {name: value}), checked as a definition and planned. */
LodgeAppChange *lodge_app_change_new (LodgeStore *store, const LodgeEnvDef *current,
                                      const char *app, JsonObject *args, gboolean install,
                                      GError **error);
/* Stores the new definition, then records the plan on disk @pool/@image
 * (NULL: none yet). */
gboolean lodge_app_change_commit (LodgeCtl *ctl, LodgeAppChange *c, const char *pool,
                                  const char *image, GError **error);

/* Ends the object @b was building and returns it as text. */
char *lodge_app_result (JsonBuilder *b);
/* {"application": @app, "source": @source (if any), "deferred": true (if)}. */
char *lodge_app_result_new (const char *app, const char *source, gboolean deferred);

/* lodge_apps_guest_configure() of a VE that does not run: its config
 * files rewritten on the disk. */
char *lodge_apps_configure_offline (LodgeApps *a, const char *name, const char *app,
                                    JsonObject *args, const char *who, LodgeRepairOutput out,
                                    gpointer out_data, LodgeProgress progress,
                                    gpointer progress_data, GError **error);

G_END_DECLS
