#include "lodge-access.h"

#include <string.h>

#include "lodge-error.h"

LODGE_ENUM_IMPL (lodge_role, LODGE_ROLE_LAST, "viewer", "support", "operator", "admin",
                 "customer");
LODGE_ENUM_IMPL (lodge_verb, LODGE_VERB_LAST, "read", "console", "operate", "nodes", "support",
                 "admin");

LodgeIdentity *
lodge_identity_new (const char *name, LodgeRole role)
{
  LodgeIdentity *identity = g_new0 (LodgeIdentity, 1);
  identity->name = g_strdup (name);
  identity->role = role;
  return identity;
}

LodgeIdentity *
lodge_identity_copy (const LodgeIdentity *identity)
{
  return identity != NULL ? lodge_identity_new (identity->name, identity->role) : NULL;
}

void
lodge_identity_free (LodgeIdentity *identity)
{
  if (identity == NULL)
    return;
  g_free (identity->name);
  g_free (identity);
}

/* Rows: roles; columns: verbs. */
static const gboolean may[LODGE_ROLE_LAST][LODGE_VERB_LAST] = {
  /*                      read  console operate nodes support admin */
  [LODGE_ROLE_VIEWER] = { TRUE, FALSE, FALSE, FALSE, FALSE, FALSE },
  [LODGE_ROLE_SUPPORT] = { TRUE, TRUE, FALSE, FALSE, TRUE, FALSE },
  [LODGE_ROLE_OPERATOR] = { TRUE, TRUE, TRUE, TRUE, FALSE, FALSE },
  [LODGE_ROLE_ADMIN] = { TRUE, TRUE, TRUE, TRUE, TRUE, TRUE },
  [LODGE_ROLE_CUSTOMER] = { FALSE, FALSE, FALSE, FALSE, FALSE, FALSE },
};

gboolean
lodge_role_may (LodgeRole role, LodgeVerb verb)
{
  g_return_val_if_fail (role < LODGE_ROLE_LAST && verb < LODGE_VERB_LAST, FALSE);
  return may[role][verb];
}

const char *
lodge_access_roles_for (LodgeVerb verb)
{
  static const char *const roles[LODGE_VERB_LAST] = {
    [LODGE_VERB_READ] = "viewer, support, operator or admin",
    [LODGE_VERB_CONSOLE] = "support, operator or admin",
    [LODGE_VERB_OPERATE] = "operator or admin",
    [LODGE_VERB_NODES] = "operator or admin",
    [LODGE_VERB_SUPPORT] = "support or admin",
    [LODGE_VERB_ADMIN] = "admin",
  };
  g_return_val_if_fail (verb < LODGE_VERB_LAST, "admin");
  return roles[verb];
}

LodgeVerb
lodge_access_verb (const char *method, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", 8);
  guint n = g_strv_length (parts);
  gboolean get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
  gboolean post = strcmp (method, "POST") == 0;
  if (n == 1 && strcmp (parts[0], "metrics") == 0)
    return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN;
  if (n < 2 || strcmp (parts[0], "v1") != 0)
    return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN; /* answered 404 */
  const char *what = parts[1];
  if (strcmp (what, "whoami") == 0 && n == 2)
    return LODGE_VERB_READ;
  if (strcmp (what, "users") == 0 || strcmp (what, "join-tokens") == 0)
    return LODGE_VERB_ADMIN;
  if (strcmp (what, "nodes") == 0)
    {
      if (n == 4 && post && (strcmp (parts[3], "drain") == 0 || strcmp (parts[3], "undrain") == 0))
        return LODGE_VERB_NODES;
      return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN;
    }
  if (strcmp (what, "templates") == 0)
    return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN;
  if (strcmp (what, "environments") != 0)
    return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN;
  const char *action = n >= 4 ? parts[3] : NULL;
  if (action == NULL)
    return get ? LODGE_VERB_READ : LODGE_VERB_ADMIN; /* list, show; define, undefine */
  if (strcmp (action, "console") == 0 && get)
    return LODGE_VERB_CONSOLE;
  if (n == 4 && post
      && (strcmp (action, "start") == 0 || strcmp (action, "stop") == 0
          || strcmp (action, "restart") == 0 || strcmp (action, "migrate") == 0))
    return LODGE_VERB_OPERATE;
  if (post && (strcmp (action, "repair") == 0 || strcmp (action, "exec") == 0
               || strcmp (action, "passwd") == 0))
    return LODGE_VERB_SUPPORT;
  if (get && (strcmp (action, "status") == 0 || strcmp (action, "apps") == 0))
    return LODGE_VERB_READ;
  return LODGE_VERB_ADMIN; /* application install, configure, remove; the unknown */
}

gboolean
lodge_access_customer_may (const char *method, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", 8);
  guint n = g_strv_length (parts);
  gboolean get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
  gboolean post = strcmp (method, "POST") == 0;
  if (n < 2 || strcmp (parts[0], "v1") != 0)
    return FALSE;
  if (n == 2 && strcmp (parts[1], "whoami") == 0)
    return get;
  if (strcmp (parts[1], "environments") != 0)
    return FALSE;
  if (n == 2)
    return get || post; /* its own VEs; define */
  if (parts[2][0] == '\0')
    return FALSE;
  if (n == 3)
    return get || strcmp (method, "PUT") == 0 || strcmp (method, "DELETE") == 0;
  const char *action = parts[3];
  if (n == 4 && get)
    return strcmp (action, "status") == 0 || strcmp (action, "console") == 0
           || strcmp (action, "apps") == 0;
  if (n == 4 && post)
    return strcmp (action, "start") == 0 || strcmp (action, "stop") == 0
           || strcmp (action, "restart") == 0 || strcmp (action, "exec") == 0
           || strcmp (action, "passwd") == 0;
  /* An application's settings, not what is installed. */
  return n == 6 && post && strcmp (action, "apps") == 0 && parts[4][0] != '\0'
         && strcmp (parts[5], "configure") == 0;
}

gboolean
lodge_access_allows (LodgeRole role, const char *method, const char *path)
{
  if (role == LODGE_ROLE_CUSTOMER)
    return lodge_access_customer_may (method, path);
  return lodge_role_may (role, lodge_access_verb (method, path));
}

gboolean
lodge_access_check_user_name (const char *name, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gboolean ok = len >= 1 && len <= 32 && g_ascii_isalnum (name[0]);
  for (gsize i = 0; ok && i < len; i++)
    ok = (g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '-');
  if (!ok)
    {
      g_autofree char *shown = name != NULL ? g_strescape (name, NULL) : g_strdup ("");
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "'%s' is not a user name: 1 to 32 of a-z, 0-9 and '-', starting with a letter or "
                   "a digit", shown);
      return FALSE;
    }
  if (strcmp (name, "root") == 0 || strcmp (name, "cluster") == 0)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "'%s' is Lodge's own (the UNIX socket's root, the cluster's token): choose another "
                   "user name", name);
      return FALSE;
    }
  return TRUE;
}
