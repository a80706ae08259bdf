/* The guest's side of the API:
 *   GET  /v1/environments/NAME/apps                  each application and its state
 *   POST /v1/environments/NAME/apps/APP/install      {template, version, autostart, params}
 *   POST /v1/environments/NAME/apps/APP/configure    {params}
 *   POST /v1/environments/NAME/apps/APP/remove
 *   POST /v1/environments/NAME/exec                  {argv, input (base64), timeout}
 *   POST /v1/environments/NAME/passwd                {password_hash}
 * install, configure and remove stream like repairs; the others answer one JSON
 * object. Every call is logged with who asked. */
#pragma once

#include "lodge-http.h"
#include "lodge-services.h"

G_BEGIN_DECLS

/* In a worker thread: @action is "apps", "exec" or "passwd". */
void lodge_api_app_route (LodgeHttpRequest *r, LodgeServices *svc, const char *name,
                          const char *action);

G_END_DECLS
