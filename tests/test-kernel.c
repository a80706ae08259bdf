/* Choosing the guest kernel: the minimal one, else the distro's newest
 * kernel that has an initrd, with a warning. */
#include <string.h>
#include <glib/gstdio.h>

#include "lodge-error.h"
#include "lodge-kernel.h"

static void
touch (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, "", 0, NULL));
}

static void
test_find (void)
{
  g_autofree char *dir = g_dir_make_tmp ("lodge-kernel-XXXXXX", NULL);
  g_autofree char *boot = g_build_filename (dir, "boot", NULL);
  g_autofree char *minimal = g_build_filename (dir, "vmlinuz-lodge", NULL);
  g_assert_cmpint (g_mkdir (boot, 0755), ==, 0);
  g_autoptr (GError) error = NULL;

  g_auto (LodgeGuestKernel) none = { 0 };
  g_assert_false (lodge_guest_kernel_find (minimal, boot, &none, &error));
  g_assert_error (error, LODGE_ERROR, LODGE_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "no guest kernel: neither "));
  g_clear_error (&error);

  touch (boot, "vmlinuz-6.1.0-9-amd64");
  touch (boot, "initrd.img-6.1.0-9-amd64");
  touch (boot, "vmlinuz-6.1.0-10-amd64");
  touch (boot, "initrd.img-6.1.0-10-amd64");
  touch (boot, "vmlinuz-6.1.0-11-amd64"); /* no initrd: not bootable here */
  g_auto (LodgeGuestKernel) distro = { 0 };
  g_assert_true (lodge_guest_kernel_find (minimal, boot, &distro, &error));
  g_assert_no_error (error);
  g_assert_false (distro.minimal);
  g_autofree char *want_kernel = g_build_filename (boot, "vmlinuz-6.1.0-10-amd64", NULL);
  g_autofree char *want_initrd = g_build_filename (boot, "initrd.img-6.1.0-10-amd64", NULL);
  g_assert_cmpstr (distro.kernel, ==, want_kernel);
  g_assert_cmpstr (distro.initrd, ==, want_initrd);
  g_assert_nonnull (distro.warning);
  g_assert_nonnull (strstr (distro.warning, "is missing"));

  touch (dir, "vmlinuz-lodge");
  g_auto (LodgeGuestKernel) small = { 0 };
  g_assert_true (lodge_guest_kernel_find (minimal, boot, &small, &error));
  g_assert_true (small.minimal);
  g_assert_cmpstr (small.kernel, ==, minimal);
  g_assert_null (small.initrd);
  g_assert_null (small.warning);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernel/find", test_find);
  return g_test_run ();
}
