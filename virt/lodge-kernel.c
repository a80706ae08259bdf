#define _GNU_SOURCE /* strverscmp */
#include "lodge-kernel.h"

#include <string.h>

#include "lodge-error.h"

void
lodge_guest_kernel_clear (LodgeGuestKernel *k)
{
  g_clear_pointer (&k->kernel, g_free);
  g_clear_pointer (&k->initrd, g_free);
  g_clear_pointer (&k->warning, g_free);
  k->minimal = FALSE;
}

/* Orders "6.1.0-9-amd64" before "6.1.0-10-amd64". */
static int
compare_versions (gconstpointer a, gconstpointer b)
{
  return strverscmp (*(char *const *) a, *(char *const *) b);
}

gboolean
lodge_guest_kernel_find (const char *minimal_path, const char *boot_dir, LodgeGuestKernel *ret,
                         GError **error)
{
  memset (ret, 0, sizeof *ret);
  if (g_file_test (minimal_path, G_FILE_TEST_IS_REGULAR))
    {
      ret->kernel = g_strdup (minimal_path);
      ret->minimal = TRUE;
      return TRUE;
    }

  g_autoptr (GDir) dir = g_dir_open (boot_dir, 0, NULL);
  g_autoptr (GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (!g_str_has_prefix (name, "vmlinuz-"))
        continue;
      g_autofree char *initrd = g_strdup_printf ("%s/initrd.img-%s", boot_dir, name + 8);
      if (g_file_test (initrd, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (versions, g_strdup (name + 8));
    }
  if (versions->len == 0)
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_FAILED,
                   "no guest kernel: neither %s (images/kernel/build.sh builds it) nor a "
                   "vmlinuz with its initrd.img in %s",
                   minimal_path, boot_dir);
      return FALSE;
    }
  g_ptr_array_sort (versions, compare_versions);
  const char *newest = versions->pdata[versions->len - 1];
  ret->kernel = g_strdup_printf ("%s/vmlinuz-%s", boot_dir, newest);
  ret->initrd = g_strdup_printf ("%s/initrd.img-%s", boot_dir, newest);
  ret->warning = g_strdup_printf ("the minimal guest kernel %s is missing: VEs boot the distro "
                                  "kernel %s with its initrd, several times slower",
                                  minimal_path, ret->kernel);
  return TRUE;
}
