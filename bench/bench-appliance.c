/* bench-appliance: one libguestfs appliance, as lodged makes it
 * (lodge_guestfs_new, the VE's disk read-only), launched and asked what a
 * repair's first command asks: mount, list /, read /etc/passwd. Prints one
 * line, "launch_ms first_ms accelerator", for bench/run-appliance.sh, which runs it
 * alternately with Lodge's appliance and libguestfs's own.
 *
 * Usage: bench-appliance APPLIANCE-DIR|none DISK-IMAGE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lodge-accel.h"
#include "lodge-guestfs-private.h"

static void
die (const char *what, GError *error)
{
  g_printerr ("bench-appliance: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      g_printerr ("usage: bench-appliance APPLIANCE-DIR|none DISK-IMAGE\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  if (strcmp (argv[1], "none") != 0 && !lodge_guestfs_use_appliance (argv[1], &error))
    die (argv[1], error);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (LodgeGuestfs) g = lodge_guestfs_new (&error);
  if (g == NULL || !lodge_guestfs_add_file (g, argv[2], TRUE, &error) || !lodge_guestfs_launch (g, &error))
    die ("launch", error);
  gint64 t1 = g_get_monotonic_time ();
  if (!lodge_guestfs_mount (g, lodge_guestfs_disk (g), TRUE, &error))
    die ("mount", error);
  guestfs_h *h = lodge_guestfs_handle (g);
  char **names = guestfs_ls (h, "/");
  size_t size = 0;
  char *passwd = names != NULL ? guestfs_read_file (h, "/etc/passwd", &size) : NULL;
  if (names == NULL || passwd == NULL || size == 0)
    {
      lodge_guestfs_fail (g, &error, "ls / and cat /etc/passwd");
      die ("first command", error);
    }
  gint64 t2 = g_get_monotonic_time ();
  g_strfreev (names);
  free (passwd);
  printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s\n", (t1 - t0) / 1000, (t2 - t1) / 1000,
          lodge_accel_probe (NULL) == LODGE_ACCEL_TCG ? "TCG" : "KVM");
  return 0;
}
