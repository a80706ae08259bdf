/* lodge_shadow_set_hash: the one edit of /etc/shadow, as lodge-init makes
 * it at boot (root, added when missing) and for guest-set-user-password
 * (an existing user only), and as a repair session's reset-root makes it
 * (root, added when missing). The callers' own tests: /guestinit/root-hash,
 * /guestinit/user-hash, /guestagent/password and /repair/shadow-root-hash. */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "lodge-shadow.h"

#define TODAY 20000
#define ROOT_ADD 1 /* lodge_apply_root_hash, lodge_repair_reset_root */
#define USER_ONLY 0 /* lodge_apply_user_hash (guest-set-user-password) */

typedef struct {
  const char *in, *user;
  int add_missing;
  LodgeShadowStatus status;
  const char *out; /* OK: the new text; REFUSED: part of the reason */
} Case;

static void
run_cases (const Case *cases, guint n, const char *hash)
{
  for (guint i = 0; i < n; i++)
    {
      const Case *c = &cases[i];
      char *out = (char *) "unset";
      size_t out_len = 42;
      char err[256] = "";
      LodgeShadowStatus st = lodge_shadow_set_hash (c->in, strlen (c->in), c->user, hash,
                                                    c->add_missing, TODAY, &out, &out_len, err,
                                                    sizeof err);
      g_test_message ("case %u: %s for '%s'", i, c->user, c->in);
      g_assert_cmpint (st, ==, c->status);
      if (st == LODGE_SHADOW_OK)
        {
          g_assert_cmpstr (out, ==, c->out);
          g_assert_cmpuint (out_len, ==, strlen (c->out));
        }
      else
        {
          g_assert_null (out);
          g_assert_cmpuint (out_len, ==, 0);
        }
      if (st == LODGE_SHADOW_REFUSED && strstr (err, c->out) == NULL)
        g_error ("case %u: '%s' does not say '%s'", i, err, c->out);
      free (out);
    }
}

static void
test_root (void)
{
  static const Case cases[] = {
    /* An existing root line: only its password field changes. */
    { "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", "root", ROOT_ADD,
      LODGE_SHADOW_OK, "root:$6$s$H:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n" },
    /* Root not first, no line break at the end: the others stay, one is added. */
    { "daemon:*:1::\nroot:old:2::", "root", ROOT_ADD, LODGE_SHADOW_OK,
      "daemon:*:1::\nroot:$6$s$H:2::\n" },
    /* No root line: one is added first, dated today. */
    { "daemon:*:1::\nbin:*:1::\n", "root", ROOT_ADD, LODGE_SHADOW_OK,
      "root:$6$s$H:20000:0:99999:7:::\ndaemon:*:1::\nbin:*:1::\n" },
    /* No fields after the hash: the usual ones, dated today. */
    { "root:x\n", "root", ROOT_ADD, LODGE_SHADOW_OK, "root:$6$s$H:20000:0:99999:7:::\n" },
    { "root:\n", "root", ROOT_ADD, LODGE_SHADOW_OK, "root:$6$s$H:20000:0:99999:7:::\n" },
    /* "rootkit" is not root; "root" without ':' is no line of root's. */
    { "rootkit:*:1::\n", "root", ROOT_ADD, LODGE_SHADOW_OK,
      "root:$6$s$H:20000:0:99999:7:::\nrootkit:*:1::\n" },
    /* No file (or an empty one). */
    { "", "root", ROOT_ADD, LODGE_SHADOW_OK, "root:$6$s$H:20000:0:99999:7:::\n" },
    /* Only the first root line changes; blank lines and odd bytes stay. */
    { "root:a:1:\n\nroot:b:2:\nx:\xff\t\r:\n", "root", ROOT_ADD, LODGE_SHADOW_OK,
      "root:$6$s$H:1:\n\nroot:b:2:\nx:\xff\t\r:\n" },
  };
  run_cases (cases, G_N_ELEMENTS (cases), "$6$s$H");
}

static void
test_user (void)
{
  static const Case cases[] = {
    { "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\nbobby:!:1::::::\n", "bob", USER_ONLY,
      LODGE_SHADOW_OK,
      "root:*:19000:0:99999:7:::\nbob:$6$s$H:19000:0:99999:7:::\nbobby:!:1::::::\n" },
    /* A prefix of a name is not that name; a missing user is never added. */
    { "bobby:!:1::::::\n", "bob", USER_ONLY, LODGE_SHADOW_NO_ENTRY, NULL },
    { "root:*:1::\n", "alice", USER_ONLY, LODGE_SHADOW_NO_ENTRY, NULL },
    { "", "bob", USER_ONLY, LODGE_SHADOW_NO_ENTRY, NULL },
    { "bob:old\n", "bob", USER_ONLY, LODGE_SHADOW_OK, "bob:$6$s$H:20000:0:99999:7:::\n" },
  };
  run_cases (cases, G_N_ELEMENTS (cases), "$6$s$H");
}

static void
test_refused (void)
{
  static const Case not_shadow[] = {
    { "root:*:1::\nthis is no shadow line\n", "root", ROOT_ADD, LODGE_SHADOW_REFUSED,
      "line 2 is not NAME:FIELDS" },
    { ":*:1::\n", "root", ROOT_ADD, LODGE_SHADOW_REFUSED, "line 1 is not NAME:FIELDS" },
    { "root:*:1::\n<html>", "bob", USER_ONLY, LODGE_SHADOW_REFUSED, "not a shadow file" },
    /* Bad user names, from whatever caller. */
    { "root:*:1::\n", "", USER_ONLY, LODGE_SHADOW_REFUSED, "user name" },
    { "root:*:1::\n", "ro:ot", USER_ONLY, LODGE_SHADOW_REFUSED, "user name" },
    { "root:*:1::\n", "bob\nroot", USER_ONLY, LODGE_SHADOW_REFUSED, "user name" },
  };
  run_cases (not_shadow, G_N_ELEMENTS (not_shadow), "$6$s$H");

  /* A hash that would add a field or a line. */
  static const Case bad_hash[] = {
    { "root:*:1::\n", "root", ROOT_ADD, LODGE_SHADOW_REFUSED, "no ':' and no line break" },
  };
  run_cases (bad_hash, 1, "$6$s$H:0:0");
  run_cases (bad_hash, 1, "$6$s$H\nevil::0:0:::::");
  /* Other odd hashes are the caller's to judge (lodge-init's config parser
   * wants $6$ or $y$, the guest agent '$'): they are written as they are. */
  static const Case odd_hash[] = {
    { "root:*:1::\n", "root", ROOT_ADD, LODGE_SHADOW_OK, "root:!*\t $x\\:1::\n" },
  };
  run_cases (odd_hash, 1, "!*\t $x\\");

  /* A NUL byte, and more than a shadow file holds. */
  char *out = NULL;
  size_t out_len = 0;
  char err[256];
  g_assert_cmpint (lodge_shadow_set_hash ("root:*:1::\n\0x:y\n", 16, "root", "$6$s$H", 1, TODAY,
                                          &out, &out_len, err, sizeof err),
                   ==, LODGE_SHADOW_REFUSED);
  g_assert_null (out);
  g_assert_nonnull (strstr (err, "NUL"));
  gsize big = LODGE_SHADOW_MAX_BYTES + 1;
  g_autofree char *huge = g_malloc (big);
  for (gsize i = 0; i < big; i++)
    huge[i] = (i + 1) % 32 == 0 ? '\n' : i % 32 == 0 ? 'u' : ':';
  g_assert_cmpint (lodge_shadow_set_hash (huge, big, "root", "$6$s$H", 1, TODAY, &out, &out_len,
                                          err, sizeof err),
                   ==, LODGE_SHADOW_REFUSED);
  g_assert_null (out);
  g_assert_nonnull (strstr (err, "more than a shadow file holds"));
  /* One byte less is a shadow file. */
  g_assert_cmpint (lodge_shadow_set_hash (huge, big - 1, "root", "$6$s$H", 1, TODAY, &out,
                                          &out_len, err, sizeof err),
                   ==, LODGE_SHADOW_OK);
  g_assert_true (g_str_has_prefix (out, "root:$6$s$H:20000:"));
  free (out);
}

static void
test_today (void)
{
  /* Both callers date a new line with this: days since the epoch, UTC. */
  long before = (long) (time (NULL) / 86400);
  long today = lodge_shadow_today ();
  long after = (long) (time (NULL) / 86400);
  g_assert_cmpint (today, >=, before);
  g_assert_cmpint (today, <=, after);
  g_assert_cmpint (today, >, 19000); /* 2022-01-08: this clock is not at the epoch */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shadow/root", test_root);
  g_test_add_func ("/shadow/user", test_user);
  g_test_add_func ("/shadow/refused", test_refused);
  g_test_add_func ("/shadow/today", test_today);
  return g_test_run ();
}
