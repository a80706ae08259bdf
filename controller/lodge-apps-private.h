/* What lodge-apps.c (planning, laying in, offline configuration) and
 * lodge-apps-guest.c (the running VE: live configuration, state, exec,
 * passwd) share. */
#pragma once

#include "lodge-apps.h"
#include "lodge-repair.h"

G_BEGIN_DECLS

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

typedef struct {
  LodgeApps *apps;
  const char *app;
  LodgeAppChange *change;
} LodgeAppJob;

/* Ends the object @b was building and returns it as text. */
char *lodge_app_result (JsonBuilder *b);
/* {"application": @app, "source": @source (if any), "deferred": true (if)}. */
char *lodge_app_result_new (const char *app, const char *source, gboolean deferred);

char *lodge_apps_configure_offline (LodgeApps *a, const char *name, const char *app,
                                    JsonObject *args, const char *who, LodgeRepairOutput out,
                                    gpointer out_data, LodgeProgress progress,
                                    gpointer progress_data, GError **error);

G_END_DECLS
