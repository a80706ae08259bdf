/* Applications in a running VE, through its guest agent: live
 * configuration, their state as the guest reports it, `lodge exec` and
 * `lodge passwd`. Each returns a JSON object (text), or NULL with @error;
 * @who is logged. */
#pragma once

#include "lodge-apps.h"

G_BEGIN_DECLS

/* Sets @params of application @app: on a stopped VE its config files on
 * the disk are rewritten; on a running one they are written through the
 * guest agent and the application reloaded (its reload command, or a
 * restart). The definition keeps the values. */
char *lodge_apps_guest_configure (LodgeApps *a, const char *name, const char *app, JsonObject *args,
                                  const char *who, LodgeRepairOutput out, gpointer out_data,
                                  LodgeProgress progress, gpointer progress_data,
                                  GError **error);
/* Each application: source, installed or not, autostart, values; for a
 * running VE its state from inside the guest and its health check. */
char *lodge_apps_guest_list (LodgeApps *a, const char *name, GError **error);
/* Runs a command in the running VE through its guest agent. */
char *lodge_apps_guest_exec (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                             GError **error);
/* Sets root's password in the running VE and in its definition. */
char *lodge_apps_guest_passwd (LodgeApps *a, const char *name, JsonObject *args, const char *who,
                               GError **error);

G_END_DECLS
