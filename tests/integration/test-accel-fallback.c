/* A libguestfs appliance whose QEMU aborts under KVM, on a host where the
 * probe proved KVM: the launch falls back to TCG, says why, and the rest
 * of the process uses TCG. Real libguestfs and a real QEMU; the failure is
 * injected: a QEMU on $PATH that passes the probe, and a
 * $LIBGUESTFS_HV that aborts as QEMU 7.2 does on a KVM that refuses an
 * MSR (`failed to set MSR 0x10a`) and runs the real QEMU otherwise. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-accel.h"
#include "lodge-guestfs.h"

static char *dir;

static void
write_script (const char *name, const char *body)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

static void
test_appliance_falls_back (void)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  if (qemu == NULL)
    {
      g_test_skip ("qemu-system-x86_64 is missing");
      return;
    }
  dir = g_dir_make_tmp ("lodge-accel-fallback-XXXXXX", NULL);
  /* The probe's QEMU: its guest "ran" (the isa-debug-exit status). */
  write_script ("qemu-system-x86_64", "exit 85");
  /* libguestfs's QEMU: aborts when it boots the appliance under KVM (as
   * the real one does where KVM refuses the MSR); its queries (-help,
   * -device ?) and a TCG boot go to the real one. */
  g_autofree char *hv_body = g_strdup_printf (
    "case \"$*\" in *-kernel*accel=kvm*|*accel=kvm*-kernel*)\n"
    "  echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2\n"
    "  kill -ABRT $$ ;;\n"
    "esac\n"
    "exec '%s' \"$@\"", qemu);
  write_script ("hv", hv_body);
  g_autofree char *path = g_strdup_printf ("%s:%s", dir, g_getenv ("PATH"));
  g_setenv ("PATH", path, TRUE);
  g_autofree char *hv = g_build_filename (dir, "hv", NULL);
  g_setenv ("LIBGUESTFS_HV", hv, TRUE);
  g_unsetenv ("LODGE_ACCEL");
  /* /dev/kvm is needed for the probe to get as far as QEMU. */
  if (access ("/dev/kvm", R_OK | W_OK) != 0)
    {
      g_test_skip ("no usable /dev/kvm: the probe answers TCG before QEMU runs");
      return;
    }
  g_assert_cmpint (lodge_accel_probe (NULL), ==, LODGE_ACCEL_KVM);

  g_autofree char *disk = g_build_filename (dir, "disk.img", NULL);
  g_assert_true (g_file_set_contents (disk, "", 0, NULL));
  g_assert_cmpint (truncate (disk, 16 << 20), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeGuestfs) g = lodge_guestfs_new (&error);
  g_assert_no_error (error);
  g_assert_true (lodge_guestfs_add_file (g, disk, FALSE, &error));
  gboolean launched = lodge_guestfs_launch (g, &error);
  g_assert_no_error (error);
  g_assert_true (launched);
  /* It runs: the appliance formats the disk. */
  g_assert_true (lodge_guestfs_mkfs_ext4 (g, lodge_guestfs_disk (g), "probe", &error));
  g_assert_no_error (error);

  /* The process is on TCG now, with the appliance's own words. */
  g_autofree char *reason = NULL;
  g_assert_cmpint (lodge_accel_probe (&reason), ==, LODGE_ACCEL_TCG);
  g_test_message ("reason: %s", reason);
  g_assert_nonnull (strstr (reason, "the libguestfs appliance failed under KVM"));
  g_assert_nonnull (strstr (reason, "failed to set MSR 0x10a to 0x69"));
  g_assert_true (lodge_guestfs_shutdown (g, &error));

  g_unlink (disk);
  g_autofree char *s1 = g_build_filename (dir, "qemu-system-x86_64", NULL);
  g_unlink (s1);
  g_unlink (hv);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/accel/appliance-falls-back-to-tcg", test_appliance_falls_back);
  return g_test_run ();
}
