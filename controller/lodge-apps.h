/* Applications in VEs on request (lodge-app-plan.h resolves them and lays
 * them in at a start): `lodge app install` into a stopped VE's disk,
 * reconfigured offline or live through the guest agent, and their state
 * as the guest reports it. */
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

/* `lodge app install|configure|list`, `lodge exec`, `lodge passwd`: each
 * returns a JSON object (text), or NULL with @error. @who is logged. */
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
