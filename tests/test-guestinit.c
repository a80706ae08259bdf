/* The guest init shim's config parser and file editing, on the host: the
 * blob the control center formats is parsed back; truncated, oversized,
 * garbage and hostile blobs are refused whole; edits of /etc/shadow (root's
 * and other users' hashes), authorized_keys, hosts, resolv.conf and the
 * time zone, and the application status files, happen in a scratch root. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "appstatus.h"
#include "apply.h"
#include "config.h"
#include "lodge-env.h"
#include "lodge-guest-config.h"
#include "lodge-shadow.h"

static char *
example_blob (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples", name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeEnvDef) def = lodge_env_def_load_file (path, &error);
  g_assert_no_error (error);
  char *blob = lodge_guest_config_format (def, &error);
  g_assert_no_error (error);
  return blob;
}

static int
parse (char *buf, struct lodge_cfg *cfg, char *err)
{
  return lodge_cfg_parse (buf, strlen (buf), cfg, err, 256);
}

static void
test_round_trip (void)
{
  g_autofree char *blob = example_blob ("maximal.xml");
  struct lodge_cfg cfg;
  char err[256] = "";
  g_assert_cmpint (parse (blob, &cfg, err), ==, 0);
  g_assert_cmpstr (cfg.name, ==, "shop-db-01");
  g_assert_cmpstr (cfg.hostname, ==, "db01.shop.example.org");
  g_assert_true (g_str_has_prefix (cfg.root_hash, "$y$j9T$"));
  g_assert_cmpint (cfg.n_keys, ==, 2);
  g_assert_true (g_str_has_suffix (cfg.keys[1], " ops@example.org"));
  g_assert_cmpstr (cfg.timezone, ==, "Europe/Berlin");
  g_assert_cmpint (cfg.n_dns_servers, ==, 2);
  g_assert_cmpstr (cfg.dns_servers[1], ==, "2001:db8::53");
  g_assert_cmpint (cfg.n_dns_search, ==, 1);
  g_assert_cmpint (cfg.n_sysctls, ==, 3);
  g_assert_cmpstr (cfg.sysctls[0].name, ==, "vm.swappiness");
  g_assert_cmpstr (cfg.sysctls[0].value, ==, "10");
  g_assert_cmpint (cfg.n_ifaces, ==, 2);
  g_assert_cmpstr (cfg.ifaces[0].mac, ==, "52:54:00:12:34:56");
  g_assert_cmpint (cfg.n_addrs, ==, 3);
  g_assert_cmpstr (cfg.addrs[1].address, ==, "2001:db8::20");
  g_assert_cmpint (cfg.addrs[1].prefix, ==, 64);
  g_assert_cmpint (cfg.n_gateways, ==, 2);
  g_assert_cmpint (cfg.n_apps, ==, 2);
  g_assert_true (cfg.apps[0].autostart);
  g_assert_cmpstr (cfg.apps[0].command, ==,
                   "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main");
  g_assert_false (cfg.apps[1].autostart);
  g_assert_cmpstr (cfg.apps[1].command, ==, "");
}

static void
assert_refused (const char *blob, gsize len, const char *reason)
{
  g_autofree char *copy = g_memdup2 (blob, len + 1);
  struct lodge_cfg cfg;
  char err[256] = "";
  g_assert_cmpint (lodge_cfg_parse (copy, len, &cfg, err, sizeof err), ==, -1);
  if (strstr (err, reason) == NULL)
    g_test_fail_printf ("refused with '%s', expected '%s'", err, reason);
}

static void
test_refused (void)
{
  g_autofree char *blob = example_blob ("web.xml");
  gsize len = strlen (blob);

  /* Cut short: without "end", without the last line break, mid-line. */
  assert_refused (blob, len - 4, "no 'end' line");
  assert_refused (blob, len - 1, "no final line break");
  assert_refused (blob, len / 2, "no final line break");
  assert_refused ("", 0, "empty");

  g_autofree char *big = g_strnfill (LODGE_CFG_MAX_BYTES + 1, 'x');
  assert_refused (big, strlen (big), "over the limit");
  const char nul[] = "lodge-config 1\nname a\0b\nend\n";
  assert_refused (nul, sizeof nul - 1, "NUL byte");
  const char *bad[][2] = {
    { "hello world\n", "not a Lodge configuration" },
    { "lodge-config 2\nname x\nend\n", "format version '2' is not supported" },
    { "lodge-config 1\nname x\nend\n", "'name' or 'hostname' is missing" },
    { "lodge-config 1\nname x\nhostname x\nend\nname y\n", "text after 'end'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_refused (bad[i][0], strlen (bad[i][0]), bad[i][1]);

  /* Values that would become paths or break files. */
  const char *hostile[][2] = {
    { "sysctl ../../etc/shadow 1", "unsafe sysctl name" },
    { "sysctl kernel/core_pattern |x", "unsafe sysctl name" },
    { "timezone ../../etc/shadow", "unsafe time zone name" },
    { "timezone /etc/shadow", "unsafe time zone name" },
    { "root-password-hash secret", "is not $6$ or $y$" },
    { "root-password-hash $6$a:b", "contains ':'" },
    { "address eth9 192.0.2.1/24", "address of an unlisted interface" },
    { "interface ../x 52:54:00:00:00:01", "bad interface name" },
    { "interface eth0 nonsense", "bad MAC address" },
    { "application x maybe cmd", "application needs NAME yes|no" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autofree char *b = g_strdup_printf ("lodge-config 1\nname x\nhostname x\n%s\nend\n",
                                            hostile[i][0]);
      assert_refused (b, strlen (b), hostile[i][1]);
    }

  g_autoptr (GString) many = g_string_new ("lodge-config 1\nname x\nhostname x\n");
  for (int i = 0; i <= LODGE_CFG_MAX_KEYS; i++)
    g_string_append (many, "authorized-key ssh-ed25519 AAAA\n");
  g_string_append (many, "end\n");
  assert_refused (many->str, many->len, "more than 64 authorized keys");
}

static void
test_unknown_keywords (void)
{
  char blob[] = "lodge-config 1\nname x\nhostname x\nfuture-thing 42\nend\n";
  struct lodge_cfg cfg;
  char err[256] = "";
  g_assert_cmpint (parse (blob, &cfg, err), ==, 0);
  g_assert_cmpstr (cfg.name, ==, "x");
}

static void
test_mutations (void)
{
  g_autofree char *seed = example_blob ("maximal.xml");
  gsize seed_len = strlen (seed);
  g_autoptr (GRand) rand = g_rand_new_with_seed (4242);
  for (int round = 0; round < 5000; round++)
    {
      g_autofree char *buf = g_malloc (seed_len + 1);
      memcpy (buf, seed, seed_len + 1);
      gsize len = seed_len;
      for (int e = g_rand_int_range (rand, 1, 6); e > 0 && len > 0; e--)
        {
          gsize at = g_rand_int_range (rand, 0, len);
          if (g_rand_boolean (rand))
            buf[at] = (char) g_rand_int_range (rand, 0, 256);
          else
            len = at;
        }
      struct lodge_cfg cfg;
      char err[256];
      int r = lodge_cfg_parse (buf, len, &cfg, err, sizeof err);
      g_assert_true (r == 0 || r == -1);
      if (r == 0)
        {
          g_assert_nonnull (cfg.name);
          g_assert_nonnull (cfg.hostname);
        }
    }
}

/* ---- applying, in a scratch root ---- */

typedef struct {
  char *root;
} Root;

static void
root_setup (Root *r, gconstpointer data)
{
  r->root = g_dir_make_tmp ("lodge-guestinit-XXXXXX", NULL);
  const char *dirs[] = { "/etc", "/usr/share/zoneinfo/Europe", "/proc/sys/vm", "/proc/sys/net/core" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_strconcat (r->root, dirs[i], NULL);
      g_assert_cmpint (g_mkdir_with_parents (p, 0755), ==, 0);
    }
}

static void
rm_rf (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *n;
      while (d != NULL && (n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *c = g_build_filename (path, n, NULL);
          rm_rf (c);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
root_teardown (Root *r, gconstpointer data)
{
  rm_rf (r->root);
  g_free (r->root);
}

static char *
read_rel (Root *r, const char *rel)
{
  g_autofree char *p = g_strconcat (r->root, rel, NULL);
  char *data = NULL;
  g_assert_true (g_file_get_contents (p, &data, NULL, NULL));
  return data;
}

static void
write_rel (Root *r, const char *rel, const char *data, int mode)
{
  g_autofree char *p = g_strconcat (r->root, rel, NULL);
  g_assert_true (g_file_set_contents (p, data, -1, NULL));
  g_assert_cmpint (chmod (p, mode), ==, 0);
}

static void
test_root_hash (Root *r, gconstpointer data)
{
  write_rel (r, "/etc/shadow",
             "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0640);
  g_assert_cmpint (lodge_apply_root_hash (r->root, "$6$salt$HASH"), ==, 0);
  g_autofree char *shadow = read_rel (r, "/etc/shadow");
  g_assert_cmpstr (shadow, ==, "root:$6$salt$HASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
  g_autofree char *p = g_strconcat (r->root, "/etc/shadow", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640); /* kept */

  /* No root line, no file: both made. */
  g_unlink (p);
  g_assert_cmpint (lodge_apply_root_hash (r->root, "$y$j9T$s$H"), ==, 0);
  g_autofree char *fresh = read_rel (r, "/etc/shadow");
  g_assert_true (g_str_has_prefix (fresh, "root:$y$j9T$s$H:"));
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

/* The file is there without a root line: one is added first, dated today
 * (lodge_shadow_set_hash, as a repair session's reset-root does); a file
 * that is no shadow file is left alone. */
static void
test_root_hash_added (Root *r, gconstpointer data)
{
  write_rel (r, "/etc/shadow", "daemon:*:19000:0:99999:7:::\n", 0640);
  long first_day = lodge_shadow_today (); /* the test may run across midnight */
  g_assert_cmpint (lodge_apply_root_hash (r->root, "$6$salt$HASH"), ==, 0);
  g_autofree char *shadow = read_rel (r, "/etc/shadow");
  g_assert_true (g_str_has_prefix (shadow, "root:$6$salt$HASH:"));
  long day = strtol (shadow + strlen ("root:$6$salt$HASH:"), NULL, 10);
  g_assert_cmpint (day, >=, first_day);
  g_assert_cmpint (day, <=, lodge_shadow_today ());
  g_autofree char *expected = g_strdup_printf ("root:$6$salt$HASH:%ld:0:99999:7:::\n"
                                               "daemon:*:19000:0:99999:7:::\n",
                                               day);
  g_assert_cmpstr (shadow, ==, expected);

  const char *garbage = "<html>not a shadow file</html>\n";
  write_rel (r, "/etc/shadow", garbage, 0640);
  g_assert_cmpint (lodge_apply_root_hash (r->root, "$6$salt$HASH"), ==, -1);
  g_assert_cmpint (lodge_apply_user_hash (r->root, "bob", "$6$salt$HASH"), ==, -1);
  g_autofree char *same = read_rel (r, "/etc/shadow");
  g_assert_cmpstr (same, ==, garbage);
}

static void
test_user_hash (Root *r, gconstpointer data)
{
  const char *before = "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\nbobby:!:1::::::\n";
  write_rel (r, "/etc/shadow", before, 0640);
  g_assert_cmpint (lodge_apply_user_hash (r->root, "bob", "$6$s$B"), ==, 0);
  g_autofree char *shadow = read_rel (r, "/etc/shadow");
  g_assert_cmpstr (shadow, ==,
                   "root:*:19000:0:99999:7:::\nbob:$6$s$B:19000:0:99999:7:::\nbobby:!:1::::::\n");
  /* Another user's line is never added, and the file is left alone. */
  g_assert_cmpint (lodge_apply_user_hash (r->root, "bo", "$6$s$X"), ==, -2);
  g_assert_cmpint (lodge_apply_user_hash (r->root, "alice", "$6$s$X"), ==, -2);
  g_autofree char *same = read_rel (r, "/etc/shadow");
  g_assert_cmpstr (same, ==, shadow);
  /* A line without fields after the hash gets the usual ones. */
  write_rel (r, "/etc/shadow", "bob:old\n", 0600);
  g_assert_cmpint (lodge_apply_user_hash (r->root, "bob", "$y$j$H"), ==, 0);
  g_autofree char *filled = read_rel (r, "/etc/shadow");
  g_assert_true (g_str_has_prefix (filled, "bob:$y$j$H:"));
  g_assert_true (g_str_has_suffix (filled, ":0:99999:7:::\n"));
  /* No file: nothing to set, nothing made. */
  g_autofree char *p = g_strconcat (r->root, "/etc/shadow", NULL);
  g_unlink (p);
  g_assert_cmpint (lodge_apply_user_hash (r->root, "bob", "$6$s$B"), ==, -2);
  g_assert_false (g_file_test (p, G_FILE_TEST_EXISTS));
}

static void
test_app_status (Root *r, gconstpointer data)
{
  g_autofree char *dir = g_strconcat (r->root, "/run/lodge/apps", NULL);
  struct lodge_app_status st = {
    .name = "web",
    .command = "/usr/bin/web --title \"a\\b\"\t",
    .state = LODGE_APP_RUNNING,
    .pid = 123,
    .restarts = 0,
    .started = 1767225600,
  };
  g_assert_cmpint (lodge_app_status_write (dir, &st), ==, 0);
  g_autofree char *running = read_rel (r, "/run/lodge/apps/web.json");
  g_assert_cmpstr (running, ==,
                   "{\"name\":\"web\",\"state\":\"running\",\"pid\":123,\"restarts\":0,"
                   "\"started\":1767225600,\"last_exit\":null,"
                   "\"command\":\"/usr/bin/web --title \\\"a\\\\b\\\"\\t\"}\n");

  st.state = LODGE_APP_RESTARTING;
  st.pid = 0;
  st.restarts = 2;
  st.last_exit = "killed by signal 9";
  g_assert_cmpint (lodge_app_status_write (dir, &st), ==, 0);
  g_autofree char *restarting = read_rel (r, "/run/lodge/apps/web.json");
  g_assert_nonnull (strstr (restarting, "\"state\":\"restarting\",\"pid\":null,\"restarts\":2,"));
  g_assert_nonnull (strstr (restarting, "\"last_exit\":\"killed by signal 9\""));
  st.state = LODGE_APP_FAILED_TO_START;
  g_assert_cmpint (lodge_app_status_write (dir, &st), ==, 0);
  g_autofree char *failed = read_rel (r, "/run/lodge/apps/web.json");
  g_assert_nonnull (strstr (failed, "\"state\":\"failed-to-start\""));

  /* A name that is no plain file name gets no file. */
  st.name = "../../etc/passwd";
  g_assert_cmpint (lodge_app_status_write (dir, &st), ==, -1);
  st.name = "a/b";
  g_assert_cmpint (lodge_app_status_write (dir, &st), ==, -1);
  g_autofree char *passwd = g_strconcat (r->root, "/run/etc/passwd.json", NULL);
  g_assert_false (g_file_test (passwd, G_FILE_TEST_EXISTS));
}

static void
test_authorized_keys (Root *r, gconstpointer data)
{
  g_autofree char *ssh = g_strconcat (r->root, "/root/.ssh", NULL);
  g_assert_cmpint (g_mkdir_with_parents (ssh, 0755), ==, 0);
  write_rel (r, "/root/.ssh/authorized_keys", "ssh-ed25519 CUSTOMER own@laptop\n", 0644);
  const char *keys[] = { "ssh-ed25519 AAAA admin@lodge", "ssh-rsa BBBB ops@lodge" };
  g_assert_cmpint (lodge_apply_authorized_keys (r->root, keys, 2), ==, 0);
  g_autofree char *once = read_rel (r, "/root/.ssh/authorized_keys");
  /* Applied again (every boot), nothing doubles. */
  g_assert_cmpint (lodge_apply_authorized_keys (r->root, keys, 2), ==, 0);
  g_autofree char *twice = read_rel (r, "/root/.ssh/authorized_keys");
  g_assert_cmpstr (once, ==, twice);
  g_assert_true (g_str_has_prefix (once, "ssh-ed25519 CUSTOMER own@laptop\n"));
  g_assert_nonnull (strstr (once, "ssh-ed25519 AAAA admin@lodge\nssh-rsa BBBB ops@lodge\n"));

  /* A key removed from the definition goes; the customer's stays. */
  g_assert_cmpint (lodge_apply_authorized_keys (r->root, keys + 1, 1), ==, 0);
  g_autofree char *after = read_rel (r, "/root/.ssh/authorized_keys");
  g_assert_null (strstr (after, "admin@lodge"));
  g_assert_nonnull (strstr (after, "own@laptop"));
  GStatBuf st;
  g_autofree char *p = g_strconcat (r->root, "/root/.ssh/authorized_keys", NULL);
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (g_stat (ssh, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
}

static void
test_hosts_dns_timezone_sysctl (Root *r, gconstpointer data)
{
  write_rel (r, "/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\told-name\n", 0644);
  g_assert_cmpint (lodge_apply_hostname_files (r->root, "db01.shop.example.org"), ==, 0);
  g_autofree char *hosts = read_rel (r, "/etc/hosts");
  g_assert_cmpstr (hosts, ==, "127.0.0.1\tlocalhost\n127.0.1.1\tdb01.shop.example.org db01\n");
  g_autofree char *hostname = read_rel (r, "/etc/hostname");
  g_assert_cmpstr (hostname, ==, "db01.shop.example.org\n");

  char blob[] = "lodge-config 1\nname x\nhostname x\ndns-server 192.0.2.53\n"
                "dns-server 2001:db8::53\ndns-search example.org\ntimezone Europe/Berlin\n"
                "sysctl vm.swappiness 10\nsysctl net.core.somaxconn 4096\n"
                "sysctl kernel.nonexistent 1\nend\n";
  struct lodge_cfg cfg;
  char err[256] = "";
  g_assert_cmpint (parse (blob, &cfg, err), ==, 0);

  g_assert_cmpint (lodge_apply_dns (r->root, &cfg), ==, 0);
  g_autofree char *resolv = read_rel (r, "/etc/resolv.conf");
  g_assert_nonnull (strstr (resolv, "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.org\n"));

  /* No zone file in the template: /etc/timezone is written, localtime
   * left alone, and the failure reported. */
  g_assert_cmpint (lodge_apply_timezone (r->root, cfg.timezone), ==, -1);
  write_rel (r, "/usr/share/zoneinfo/Europe/Berlin", "TZif", 0644);
  g_assert_cmpint (lodge_apply_timezone (r->root, cfg.timezone), ==, 0);
  g_autofree char *lt = g_strconcat (r->root, "/etc/localtime", NULL);
  g_autofree char *target = g_file_read_link (lt, NULL);
  g_assert_cmpstr (target, ==, "/usr/share/zoneinfo/Europe/Berlin");

  write_rel (r, "/proc/sys/vm/swappiness", "60", 0644);
  write_rel (r, "/proc/sys/net/core/somaxconn", "128", 0644);
  /* kernel.nonexistent has no file: one failure, the others applied. */
  g_assert_cmpint (lodge_apply_sysctls (r->root, &cfg), ==, -1);
  g_autofree char *swappiness = read_rel (r, "/proc/sys/vm/swappiness");
  g_assert_cmpstr (swappiness, ==, "10");
  g_autofree char *somaxconn = read_rel (r, "/proc/sys/net/core/somaxconn");
  g_assert_cmpstr (somaxconn, ==, "4096");
}

static void
test_systemd_units (Root *r, gconstpointer data)
{
  char blob[] = "lodge-config 1\nname x\nhostname x\n"
                "application web yes httpd -f -p 80 -h \"/srv/$HOME\" 100%\n"
                "application batch no /usr/bin/batch\n"
                "application plain yes\nend\n";
  struct lodge_cfg cfg;
  char err[256] = "";
  g_assert_cmpint (parse (blob, &cfg, err), ==, 0);
  g_assert_cmpint (lodge_apply_systemd_units (r->root, &cfg), ==, 0);
  g_autofree char *web = read_rel (r, "/run/systemd/system/lodge-app-web.service");
  /* Quotes escaped, $ and % doubled: systemd passes the command to sh as it is. */
  g_assert_nonnull (strstr (web, "ExecStart=/bin/sh -c \"httpd -f -p 80 -h \\\"/srv/$$HOME\\\" 100%%\"\n"));
  g_assert_nonnull (strstr (web, "Restart=always\n"));
  g_autofree char *link = g_strconcat (r->root, "/run/systemd/system/multi-user.target.wants/lodge-app-web.service", NULL);
  g_autofree char *target = g_file_read_link (link, NULL);
  g_assert_cmpstr (target, ==, "/run/systemd/system/lodge-app-web.service");
  /* Not autostart: a unit, not wanted; no launch command: no unit. */
  g_autofree char *batch = read_rel (r, "/run/systemd/system/lodge-app-batch.service");
  g_assert_nonnull (strstr (batch, "ExecStart=/bin/sh -c \"/usr/bin/batch\"\n"));
  g_autofree char *batch_link = g_strconcat (r->root, "/run/systemd/system/multi-user.target.wants/lodge-app-batch.service", NULL);
  g_assert_false (g_file_test (batch_link, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK));
  g_autofree char *plain = g_strconcat (r->root, "/run/systemd/system/lodge-app-plain.service", NULL);
  g_assert_false (g_file_test (plain, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guestinit/round-trip", test_round_trip);
  g_test_add_func ("/guestinit/refused", test_refused);
  g_test_add_func ("/guestinit/unknown-keywords", test_unknown_keywords);
  g_test_add_func ("/guestinit/mutations", test_mutations);
  g_test_add ("/guestinit/root-hash", Root, NULL, root_setup, test_root_hash, root_teardown);
  g_test_add ("/guestinit/root-hash-added", Root, NULL, root_setup, test_root_hash_added,
              root_teardown);
  g_test_add ("/guestinit/user-hash", Root, NULL, root_setup, test_user_hash, root_teardown);
  g_test_add ("/guestinit/app-status", Root, NULL, root_setup, test_app_status, root_teardown);
  g_test_add ("/guestinit/authorized-keys", Root, NULL, root_setup, test_authorized_keys,
              root_teardown);
  g_test_add ("/guestinit/systemd-units", Root, NULL, root_setup, test_systemd_units,
              root_teardown);
  g_test_add ("/guestinit/hosts-dns-timezone-sysctl", Root, NULL, root_setup,
              test_hosts_dns_timezone_sysctl, root_teardown);
  return g_test_run ();
}
