/* lodge-notify: what the daemons say to their service manager, read from a
 * datagram socket standing in for systemd's ($NOTIFY_SOCKET). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "lodge-notify.h"

typedef struct {
  char *dir;
  int fd;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("lodge-notify-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (f->dir, "notify", NULL);
  f->fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (f->fd, >=, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_assert_cmpuint (strlen (path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  g_assert_cmpint (bind (f->fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  g_unsetenv ("WATCHDOG_USEC");
  g_unsetenv ("WATCHDOG_PID");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unsetenv ("NOTIFY_SOCKET");
  g_unsetenv ("WATCHDOG_USEC");
  g_unsetenv ("WATCHDOG_PID");
  close (f->fd);
  g_autofree char *path = g_build_filename (f->dir, "notify", NULL);
  g_unlink (path);
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* The next datagram, waiting at most @timeout_ms; NULL when none came. */
static char *
next_message (Fixture *f, int timeout_ms)
{
  struct pollfd p = { .fd = f->fd, .events = POLLIN };
  if (poll (&p, 1, timeout_ms) <= 0)
    return NULL;
  char buf[512];
  ssize_t n = recv (f->fd, buf, sizeof buf - 1, 0);
  g_assert_cmpint (n, >=, 0);
  buf[n] = '\0';
  return g_strdup (buf);
}

static void
test_ready_status_stopping (Fixture *f, gconstpointer data)
{
  lodge_notify_ready ("standby");
  g_autofree char *ready = next_message (f, 1000);
  g_assert_cmpstr (ready, ==, "READY=1\nSTATUS=standby");
  lodge_notify_ready (NULL);
  g_autofree char *bare = next_message (f, 1000);
  g_assert_cmpstr (bare, ==, "READY=1");
  lodge_notify_status ("leading");
  g_autofree char *status = next_message (f, 1000);
  g_assert_cmpstr (status, ==, "STATUS=leading");
  lodge_notify_stopping ();
  g_autofree char *stopping = next_message (f, 1000);
  g_assert_cmpstr (stopping, ==, "STOPPING=1");
}

/* With a watchdog of 200 ms for this process, the main loop pings it at
 * half that: two pings arrive while the loop runs, none while it does not. */
static void
test_watchdog (Fixture *f, gconstpointer data)
{
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_setenv ("WATCHDOG_PID", pid, TRUE);
  guint id = lodge_notify_watchdog_start ();
  g_assert_cmpuint (id, !=, 0);
  g_autofree char *none = next_message (f, 300);
  g_assert_null (none); /* the loop has not run: no ping */
  for (int pings = 0; pings < 2;)
    {
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < deadline)
        {
          g_main_context_iteration (NULL, FALSE);
          g_autofree char *msg = next_message (f, 10);
          if (msg != NULL)
            {
              g_assert_cmpstr (msg, ==, "WATCHDOG=1");
              pings++;
              break;
            }
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  g_source_remove (id);
}

/* A watchdog asked for another process (WATCHDOG_PID), or none: no pings. */
static void
test_no_watchdog (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (lodge_notify_watchdog_start (), ==, 0);
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_autofree char *other = g_strdup_printf ("%d", (int) getpid () + 1);
  g_setenv ("WATCHDOG_PID", other, TRUE);
  g_assert_cmpuint (lodge_notify_watchdog_start (), ==, 0);
}

/* Without a service manager, nothing is sent and nothing fails. */
static void
test_no_manager (Fixture *f, gconstpointer data)
{
  g_unsetenv ("NOTIFY_SOCKET");
  lodge_notify_ready ("leading");
  lodge_notify_stopping ();
  g_autofree char *none = next_message (f, 100);
  g_assert_null (none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/notify/ready-status-stopping", Fixture, NULL, fixture_set_up,
              test_ready_status_stopping, fixture_tear_down);
  g_test_add ("/notify/watchdog", Fixture, NULL, fixture_set_up, test_watchdog, fixture_tear_down);
  g_test_add ("/notify/no-watchdog", Fixture, NULL, fixture_set_up, test_no_watchdog, fixture_tear_down);
  g_test_add ("/notify/no-manager", Fixture, NULL, fixture_set_up, test_no_manager, fixture_tear_down);
  return g_test_run ();
}
