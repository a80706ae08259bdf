/* The API's users: a name, a role and a token each, in the state store
 * (kind "user": {"name", "role", "token_sha256", "created_by",
 * "created_us"}; the token itself is shown once, when the user is added,
 * and kept nowhere). A token is "NAME.SECRET" (SECRET: 64 hex digits of
 * getrandom(2)), so that it names its record.
 *
 * A customer's record also holds what an admin allows it: "quota"
 * {"environments", "vcpus", "memory", "disk"} (bytes for memory and disk;
 * a member left out is no limit), and the "templates" and "applications"
 * its VEs may be defined from (lodge-customers.h checks them).
 *
 * The controller keeps the users in memory and reads them again every
 * LODGE_USERS_REFRESH_S seconds and after each change it makes, so that
 * authenticating a request reads nothing from Ceph (it runs in the main
 * loop, before the request's body). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lodge-access.h"
#include "lodge-store.h"

G_BEGIN_DECLS

#define LODGE_USERS_REFRESH_S 5

typedef enum {
  LODGE_QUOTA_ENVIRONMENTS, /* VEs defined */
  LODGE_QUOTA_VCPUS,        /* of the VEs running */
  LODGE_QUOTA_MEMORY,       /* bytes, of the VEs running */
  LODGE_QUOTA_DISK,         /* bytes, of the VEs defined */
  LODGE_QUOTA_LAST
} LodgeQuota;
LODGE_ENUM_DECL (lodge_quota);

#define LODGE_QUOTA_NONE (-1) /* no limit */
/* A quota's largest value: no sum of VEs' resources comes near it. */
#define LODGE_QUOTA_MAX ((gint64) 1 << 60)

typedef struct {
  char *name;
  LodgeRole role;
  char *token_sha256; /* hex */
  char *created_by;
  gint64 created_us; /* wall clock */
  /* A customer's; a member of quota is LODGE_QUOTA_NONE or 0 to
   * LODGE_QUOTA_MAX, and the lists are NULL for other roles. */
  gint64 quota[LODGE_QUOTA_LAST];
  GStrv templates;    /* the OS templates its VEs may be defined from */
  GStrv applications; /* the application templates its VEs may have */
} LodgeUser;

LodgeUser *lodge_user_new (const char *name, LodgeRole role);
LodgeUser *lodge_user_copy (const LodgeUser *user);
void lodge_user_free (LodgeUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeUser, lodge_user_free)

/* Whether @user's customer settings fit its role: quotas, templates and
 * applications only for a customer; each quota none or 0 to
 * LODGE_QUOTA_MAX, each name a template's. The error names the bad one. */
gboolean lodge_user_check_limits (const LodgeUser *user, GError **error);

typedef struct _LodgeUsers LodgeUsers;

LodgeUsers *lodge_users_new (LodgeStore *store);
void lodge_users_free (LodgeUsers *users);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeUsers, lodge_users_free)

/* Reads every user from the store into memory (blocking: a worker thread,
 * or at start). */
gboolean lodge_users_refresh (LodgeUsers *users, GError **error);

/* Adds the user @spec describes (its name, role and, a customer, its
 * limits; the rest is ignored), made by @by; its token in *@ret_token.
 * LODGE_STORAGE_ERROR_EXISTS if the name is taken. */
gboolean lodge_users_add (LodgeUsers *users, const LodgeUser *spec, const char *by,
                          char **ret_token, GError **error);
/* Changes customer @name's limits by @patch ({"quota": {"vcpus": 8,
 * "memory": null}, "templates": [...], "applications": [...]}: what it
 * gives replaces, a null quota is no limit, the rest stays), atomically: a
 * concurrent change makes this fail with LODGE_STORAGE_ERROR_CONFLICT and
 * change nothing. */
gboolean lodge_users_patch_limits (LodgeUsers *users, const char *name, JsonObject *patch,
                                   GError **error);
/* A copy of user @name's record (from memory), or NULL. */
LodgeUser *lodge_users_get (LodgeUsers *users, const char *name);
/* Removes user @name (LODGE_STORAGE_ERROR_NOT_FOUND if there is none);
 * its token no longer works from now on. */
gboolean lodge_users_remove (LodgeUsers *users, const char *name, GError **error);
/* Every user, by name (from the store). */
GPtrArray *lodge_users_list (LodgeUsers *users, GError **error);

/* The identity @token authenticates (from memory), or NULL. */
LodgeIdentity *lodge_users_authenticate (LodgeUsers *users, const char *token);

/* A customer's "quota", "templates" and "applications" members, into @b
 * (nothing for other roles), and back from @o (absent: no limit, none). */
void lodge_user_limits_to_json (JsonBuilder *b, const LodgeUser *user);
gboolean lodge_user_limits_from_json (JsonObject *o, LodgeUser *user, GError **error);

/* For tests: a user's record as JSON, and back. */
GBytes *lodge_user_to_json (const LodgeUser *user);
LodgeUser *lodge_user_from_json (GBytes *json, GError **error);

G_END_DECLS
