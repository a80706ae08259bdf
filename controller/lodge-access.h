/* Who may do what through the API: the roles of the people the platform
 * serves, the verbs of its routes, and which role may use which verb
 * (docs/security.md has the table).
 *
 *   admin     everything
 *   operator  read, console, start/stop/restart/migrate, drain/undrain
 *   support   read, console, repair, exec, passwd
 *   viewer    read
 *   customer  its own VEs only (lodge_access_customer_may): list, show,
 *             status, console, start/stop/restart, exec, passwd, an
 *             application's configure, define and undefine, within the
 *             quotas and templates of its user record (lodge-users.h)
 *
 * A request's identity is authenticated (a user's token, the cluster's
 * token, or root on the UNIX socket), never a header the client sets. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_ROLE_VIEWER,
  LODGE_ROLE_SUPPORT,
  LODGE_ROLE_OPERATOR,
  LODGE_ROLE_ADMIN,
  LODGE_ROLE_CUSTOMER, /* none of the verbs: lodge_access_customer_may */
  LODGE_ROLE_LAST
} LodgeRole;
LODGE_ENUM_DECL (lodge_role);

typedef enum {
  LODGE_VERB_READ,    /* lists, status, definitions (secrets hidden), nodes, templates, metrics */
  LODGE_VERB_CONSOLE, /* a VE's serial console */
  LODGE_VERB_OPERATE, /* start, stop, restart, migrate */
  LODGE_VERB_NODES,   /* drain, undrain */
  LODGE_VERB_SUPPORT, /* repair, exec, passwd */
  LODGE_VERB_ADMIN,   /* define, undefine, templates, applications, users */
  LODGE_VERB_LAST
} LodgeVerb;
LODGE_ENUM_DECL (lodge_verb);

/* Who asks. */
typedef struct {
  char *name;
  LodgeRole role;
} LodgeIdentity;

LodgeIdentity *lodge_identity_new (const char *name, LodgeRole role);
LodgeIdentity *lodge_identity_copy (const LodgeIdentity *identity);
void lodge_identity_free (LodgeIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeIdentity, lodge_identity_free)

/* The verb of @method on the API path @path ("/v1/environments/web1/start");
 * LODGE_VERB_ADMIN for what it does not know (nothing is open by default). */
LodgeVerb lodge_access_verb (const char *method, const char *path);

/* Whether @role may use @verb. */
gboolean lodge_role_may (LodgeRole role, LodgeVerb verb);

/* Whether a customer may send @method @path: the routes of its own VEs
 * (which of them are its own, the API checks: another's is 404), defining
 * one, and whoami. Nothing of nodes, templates, users or metrics. */
gboolean lodge_access_customer_may (const char *method, const char *path);

/* Whether @role may send @method @path: lodge_role_may() of its verb, or
 * for a customer lodge_access_customer_may(). */
gboolean lodge_access_allows (LodgeRole role, const char *method, const char *path);

/* The roles that may use @verb, for a refusal: "operator or admin". */
const char *lodge_access_roles_for (LodgeVerb verb);

/* Whether @name is a user name: 1 to 32 of [a-z0-9-], starting with a
 * letter or a digit; "root" and "cluster" are Lodge's own. */
gboolean lodge_access_check_user_name (const char *name, GError **error);

G_END_DECLS
