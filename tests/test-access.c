/* Who may do what (lodge-access.c): each route's verb, each role's verbs,
 * user names; a user record's JSON (lodge-users.c). No daemons. */
#include <string.h>

#include "lodge-access.h"
#include "lodge-storage-error.h"
#include "lodge-users.h"

static void
test_verbs (void)
{
  const struct {
    const char *method, *path;
    LodgeVerb verb;
  } cases[] = {
    { "GET", "/v1/environments", LODGE_VERB_READ },
    { "GET", "/v1/environments/web1", LODGE_VERB_READ },
    { "GET", "/v1/environments/web1/status", LODGE_VERB_READ },
    { "GET", "/v1/environments/web1/apps", LODGE_VERB_READ },
    { "GET", "/v1/nodes", LODGE_VERB_READ },
    { "GET", "/v1/templates", LODGE_VERB_READ },
    { "GET", "/v1/templates/busybox", LODGE_VERB_READ },
    { "GET", "/metrics", LODGE_VERB_READ },
    { "GET", "/v1/whoami", LODGE_VERB_READ },
    { "GET", "/v1/environments/web1/console", LODGE_VERB_CONSOLE },
    { "POST", "/v1/environments/web1/start", LODGE_VERB_OPERATE },
    { "POST", "/v1/environments/web1/stop", LODGE_VERB_OPERATE },
    { "POST", "/v1/environments/web1/restart", LODGE_VERB_OPERATE },
    { "POST", "/v1/environments/web1/migrate", LODGE_VERB_OPERATE },
    { "POST", "/v1/nodes/node1/drain", LODGE_VERB_NODES },
    { "POST", "/v1/nodes/node1/undrain", LODGE_VERB_NODES },
    { "POST", "/v1/environments/web1/repair/diff", LODGE_VERB_SUPPORT },
    { "POST", "/v1/environments/web1/exec", LODGE_VERB_SUPPORT },
    { "POST", "/v1/environments/web1/passwd", LODGE_VERB_SUPPORT },
    { "POST", "/v1/environments", LODGE_VERB_ADMIN },
    { "PUT", "/v1/environments/web1", LODGE_VERB_ADMIN },
    { "DELETE", "/v1/environments/web1", LODGE_VERB_ADMIN },
    { "POST", "/v1/templates/busybox", LODGE_VERB_ADMIN },
    { "DELETE", "/v1/templates/busybox", LODGE_VERB_ADMIN },
    { "POST", "/v1/environments/web1/apps/site/install", LODGE_VERB_ADMIN },
    { "POST", "/v1/environments/web1/apps/site/configure", LODGE_VERB_ADMIN },
    { "GET", "/v1/users", LODGE_VERB_ADMIN },
    { "POST", "/v1/users", LODGE_VERB_ADMIN },
    { "DELETE", "/v1/users/alice", LODGE_VERB_ADMIN },
    { "PATCH", "/v1/users/alice", LODGE_VERB_ADMIN },
    /* What is not known is an admin's, whatever its method. */
    { "POST", "/v1/environments/web1/status", LODGE_VERB_ADMIN },
    { "POST", "/v1/environments/web1/console", LODGE_VERB_ADMIN },
    { "PATCH", "/v1/environments/web1/start", LODGE_VERB_ADMIN },
    { "POST", "/v1/nodes/node1/reboot", LODGE_VERB_ADMIN },
    { "POST", "/v1/secrets", LODGE_VERB_ADMIN },
    { "DELETE", "/metrics", LODGE_VERB_ADMIN },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      LodgeVerb got = lodge_access_verb (cases[i].method, cases[i].path);
      if (got != cases[i].verb)
        g_error ("%s %s: verb %s, expected %s", cases[i].method, cases[i].path, lodge_verb_to_string (got),
                 lodge_verb_to_string (cases[i].verb));
    }
}

static void
test_roles (void)
{
  /* role: the verbs it has, in LodgeVerb order (read console operate nodes support admin) */
  const char *want[LODGE_ROLE_LAST] = {
    [LODGE_ROLE_VIEWER] = "100000",
    [LODGE_ROLE_SUPPORT] = "110010",
    [LODGE_ROLE_OPERATOR] = "111100",
    [LODGE_ROLE_ADMIN] = "111111",
    [LODGE_ROLE_CUSTOMER] = "000000", /* its routes: test_customer */
  };
  for (int role = 0; role < LODGE_ROLE_LAST; role++)
    for (int verb = 0; verb < LODGE_VERB_LAST; verb++)
      {
        gboolean expected = want[role][verb] == '1';
        if (lodge_role_may (role, verb) != expected)
          g_error ("%s %s %s", lodge_role_to_string (role), expected ? "may not, but should:" : "may, but should not:",
                   lodge_verb_to_string (verb));
        /* The refusal's text names exactly the roles that may. */
        const char *names = lodge_access_roles_for (verb);
        g_assert_true ((strstr (names, lodge_role_to_string (role)) != NULL) == expected);
      }
  g_assert_cmpint (lodge_role_from_string ("operator"), ==, LODGE_ROLE_OPERATOR);
  g_assert_cmpint (lodge_role_from_string ("root"), ==, -1);
}

static void
test_names (void)
{
  const char *good[] = { "alice", "a", "ops-team-2", "0day", "abcdefghijklmnopqrstuvwxyz012345" };
  const char *bad[] = { "", "Alice", "-x", "a.b", "a b", "a/b", "root", "cluster",
                        "abcdefghijklmnopqrstuvwxyz0123456", "caf\xc3\xa9", "a\nb" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (lodge_access_check_user_name (good[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (lodge_access_check_user_name (bad[i], &error));
      g_assert_nonnull (error);
      g_assert_null (strchr (error->message, '\n')); /* escaped */
    }
}

static void
test_user_json (void)
{
  LodgeUser user = { "alice", LODGE_ROLE_SUPPORT,
                     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "cluster (admin)",
                     1765000000000000, { LODGE_QUOTA_NONE, LODGE_QUOTA_NONE, LODGE_QUOTA_NONE,
                                         LODGE_QUOTA_NONE }, NULL, NULL };
  g_autoptr (GBytes) json = lodge_user_to_json (&user);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeUser) back = lodge_user_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "alice");
  g_assert_cmpint (back->role, ==, LODGE_ROLE_SUPPORT);
  g_assert_cmpstr (back->token_sha256, ==, user.token_sha256);
  g_assert_cmpstr (back->created_by, ==, "cluster (admin)");
  g_assert_cmpint (back->created_us, ==, user.created_us);
  /* Never the token itself. */
  g_assert_null (strstr (g_bytes_get_data (json, NULL), "\"token\""));

  const char *broken[] = { "{}", "[]", "{\"name\":\"a\",\"role\":\"root\",\"token_sha256\":\"00\"}",
                           "{\"name\":\"a\",\"role\":\"admin\",\"token_sha256\":\"00\"}", "not json" };
  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (GBytes) b = g_bytes_new_static (broken[i], strlen (broken[i]));
      g_autoptr (LodgeUser) u = lodge_user_from_json (b, &e);
      g_assert_null (u);
      g_assert_nonnull (e);
    }
}

/* What a customer may send: its VEs' routes, define, whoami; nothing of
 * nodes, templates, users, metrics, migrate, repair or installing. */
static void
test_customer (void)
{
  const char *yes[] = {
    "GET /v1/whoami", "GET /v1/environments", "POST /v1/environments",
    "PUT /v1/environments/web1", "GET /v1/environments/web1", "DELETE /v1/environments/web1",
    "GET /v1/environments/web1/status", "GET /v1/environments/web1/console",
    "GET /v1/environments/web1/apps", "POST /v1/environments/web1/start",
    "POST /v1/environments/web1/stop", "POST /v1/environments/web1/restart",
    "POST /v1/environments/web1/exec", "POST /v1/environments/web1/passwd",
    "POST /v1/environments/web1/apps/site/configure",
  };
  const char *no[] = {
    "GET /v1/nodes", "POST /v1/nodes/node1/drain", "GET /v1/templates", "GET /v1/templates/busybox",
    "POST /v1/templates/busybox", "GET /metrics", "GET /v1/users", "POST /v1/users",
    "PATCH /v1/users/alice", "DELETE /v1/users/alice", "POST /v1/environments/web1/migrate",
    "POST /v1/environments/web1/repair/diff", "POST /v1/environments/web1/apps/site/install",
    "POST /v1/environments/web1/apps/site/remove", "POST /v1/environments/web1/apps//configure",
    "POST /v1/environments/web1/status", "PATCH /v1/environments/web1", "GET /v1/environments/",
    "POST /v1/environments/web1/start/x", "GET /v1/whoami/x", "POST /v1/whoami", "GET /v2/environments",
  };
  for (guint i = 0; i < G_N_ELEMENTS (yes) + G_N_ELEMENTS (no); i++)
    {
      gboolean want = i < G_N_ELEMENTS (yes);
      g_auto (GStrv) req = g_strsplit (want ? yes[i] : no[i - G_N_ELEMENTS (yes)], " ", 2);
      if (lodge_access_allows (LODGE_ROLE_CUSTOMER, req[0], req[1]) != want)
        g_error ("customer %s %s: %s", req[0], req[1], want ? "refused, but should pass" : "passes, but should not");
    }
  /* The staff's roles are as before: an admin may all of these. */
  g_assert_true (lodge_access_allows (LODGE_ROLE_ADMIN, "GET", "/v1/nodes"));
  g_assert_false (lodge_access_allows (LODGE_ROLE_VIEWER, "POST", "/v1/environments"));
}

/* A customer's limits: their JSON both ways, and what is refused. */
static void
test_customer_limits (void)
{
  const char *text = "{\"name\":\"acme\",\"role\":\"customer\",\"token_sha256\":"
                     "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
                     "\"quota\":{\"environments\":2,\"memory\":1073741824},"
                     "\"templates\":[\"busybox\"],\"applications\":[]}";
  g_autoptr (GBytes) in = g_bytes_new_static (text, strlen (text));
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeUser) acme = lodge_user_from_json (in, &error);
  g_assert_no_error (error);
  g_assert_cmpint (acme->role, ==, LODGE_ROLE_CUSTOMER);
  g_assert_cmpint (acme->quota[LODGE_QUOTA_ENVIRONMENTS], ==, 2);
  g_assert_cmpint (acme->quota[LODGE_QUOTA_VCPUS], ==, LODGE_QUOTA_NONE);
  g_assert_cmpint (acme->quota[LODGE_QUOTA_MEMORY], ==, 1 << 30);
  g_assert_cmpint (acme->quota[LODGE_QUOTA_DISK], ==, LODGE_QUOTA_NONE);
  g_assert_cmpstr (acme->templates[0], ==, "busybox");
  g_assert_null (acme->templates[1]);
  g_assert_nonnull (acme->applications);
  g_assert_null (acme->applications[0]);
  /* Back to JSON and in again: the same. */
  g_autoptr (GBytes) out = lodge_user_to_json (acme);
  g_autoptr (LodgeUser) again = lodge_user_from_json (out, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (again->quota, sizeof again->quota, acme->quota, sizeof acme->quota);
  g_assert_true (g_strv_equal ((const char *const *) again->templates,
                               (const char *const *) acme->templates));

  const char *refused[] = {
    /* limits for a role that is not a customer's */
    "{\"role\":\"operator\",\"quota\":{\"vcpus\":4}}",
    "{\"role\":\"viewer\",\"templates\":[\"busybox\"]}",
    /* impossible or unknown quotas, bad lists */
    "{\"role\":\"customer\",\"quota\":{\"vcpus\":-1}}",
    "{\"role\":\"customer\",\"quota\":{\"vcpus\":2000000000000000000}}",
    "{\"role\":\"customer\",\"quota\":{\"vcpus\":\"4\"}}",
    "{\"role\":\"customer\",\"quota\":{\"vcpus\":null}}",
    "{\"role\":\"customer\",\"quota\":{\"cpus\":4}}",
    "{\"role\":\"customer\",\"quota\":[4]}",
    "{\"role\":\"customer\",\"templates\":\"busybox\"}",
    "{\"role\":\"customer\",\"templates\":[1]}",
    "{\"role\":\"customer\",\"templates\":[\"Bad_Name\"]}",
    "{\"role\":\"customer\",\"applications\":[\"site\",\"site\"]}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, refused[i], -1, NULL));
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      g_autoptr (LodgeUser) u
        = lodge_user_new ("u1", lodge_role_from_string (json_object_get_string_member (o, "role")));
      g_autoptr (GError) e = NULL;
      gboolean ok = lodge_user_limits_from_json (o, u, &e) && lodge_user_check_limits (u, &e);
      if (ok)
        g_error ("accepted: %s", refused[i]);
      g_assert_null (strchr (e->message, '\n'));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/access/verbs", test_verbs);
  g_test_add_func ("/access/roles", test_roles);
  g_test_add_func ("/access/names", test_names);
  g_test_add_func ("/access/user-json", test_user_json);
  g_test_add_func ("/access/customer", test_customer);
  g_test_add_func ("/access/customer-limits", test_customer_limits);
  return g_test_run ();
}
