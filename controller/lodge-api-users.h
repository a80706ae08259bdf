/* The API's users and who asks (controller/lodge-access.h, lodge-users.h):
 *   GET    /v1/users          [{name, role, created_by, created_us, LIMITS}] (admin)
 *   POST   /v1/users          {name, role, LIMITS} -> {name, role, token}     (admin)
 *   PATCH  /v1/users/NAME     {LIMITS} -> {name, role, LIMITS}                (admin)
 *   DELETE /v1/users/NAME                                                     (admin)
 *   GET    /v1/whoami         {name, role, LIMITS, used}
 * LIMITS, a customer's only: "quota" {"environments", "vcpus", "memory",
 * "disk": N}, "templates" and "applications" [NAME]. PATCH changes the
 * members it gives (a quota of null: no limit) and keeps the rest.
 * and a definition as one who is not an admin sees it. */
#pragma once

#include "lodge-ctl.h"
#include "lodge-http.h"
#include "lodge-users.h"

G_BEGIN_DECLS

/* In a worker thread: a request for /v1/users[/NAME]. */
void lodge_api_users_route (LodgeHttpRequest *r, LodgeUsers *users);
/* In a worker thread: GET /v1/whoami. */
void lodge_api_whoami_route (LodgeHttpRequest *r, LodgeUsers *users, LodgeCtl *ctl);

/* A definition without its secrets (the root password hash, the
 * authorized keys), with a comment saying they are hidden. */
GBytes *lodge_api_redacted_definition (GBytes *xml, GError **error);

G_END_DECLS
