/* The API's users: a name, a role and a token each, in the state store
 * (kind "user": {"name", "role", "token_sha256", "created_by",
 * "created_us"}; the token itself is shown once, when the user is added,
 * and kept nowhere). A token is "NAME.SECRET" (SECRET: 64 hex digits of
 * getrandom(2)), so that it names its record.
 *
 * The controller keeps the users in memory and reads them again every
 * LODGE_USERS_REFRESH_S seconds and after each change it makes, so that
 * authenticating a request reads nothing from Ceph (it runs in the main
 * loop, before the request's body). */
#pragma once

#include <glib.h>

#include "lodge-access.h"
#include "lodge-store.h"

G_BEGIN_DECLS

#define LODGE_USERS_REFRESH_S 5

typedef struct {
  char *name;
  LodgeRole role;
  char *token_sha256; /* hex */
  char *created_by;
  gint64 created_us; /* wall clock */
} LodgeUser;

void lodge_user_free (LodgeUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeUser, lodge_user_free)

typedef struct _LodgeUsers LodgeUsers;

LodgeUsers *lodge_users_new (LodgeStore *store);
void lodge_users_free (LodgeUsers *users);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeUsers, lodge_users_free)

/* Reads every user from the store into memory (blocking: a worker thread,
 * or at start). */
gboolean lodge_users_refresh (LodgeUsers *users, GError **error);

/* Adds user @name with @role, made by @by; its token in *@ret_token.
 * LODGE_STORAGE_ERROR_EXISTS if the name is taken. */
gboolean lodge_users_add (LodgeUsers *users, const char *name, LodgeRole role, const char *by,
                          char **ret_token, GError **error);
/* Removes user @name (LODGE_STORAGE_ERROR_NOT_FOUND if there is none);
 * its token no longer works from now on. */
gboolean lodge_users_remove (LodgeUsers *users, const char *name, GError **error);
/* Every user, by name (from the store). */
GPtrArray *lodge_users_list (LodgeUsers *users, GError **error);

/* The identity @token authenticates (from memory), or NULL. */
LodgeIdentity *lodge_users_authenticate (LodgeUsers *users, const char *token);

/* For tests: a user's record as JSON, and back. */
GBytes *lodge_user_to_json (const LodgeUser *user);
LodgeUser *lodge_user_from_json (GBytes *json, GError **error);

G_END_DECLS
