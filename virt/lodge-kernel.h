/* Which kernel a node boots its VEs with: Lodge's minimal kernel when it
 * is installed, else the distro's kernel and initrd, loudly. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *kernel;
  char *initrd;  /* NULL for the minimal kernel */
  gboolean minimal;
  char *warning; /* set when falling back: say it where an operator sees it */
} LodgeGuestKernel;

void lodge_guest_kernel_clear (LodgeGuestKernel *k);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeGuestKernel, lodge_guest_kernel_clear)

/* Looks for @minimal_path (vmlinuz-lodge); failing that, for the newest
 * vmlinuz-VERSION in @boot_dir that has an initrd.img-VERSION. FALSE with
 * an error naming both places when there is neither. */
gboolean lodge_guest_kernel_find (const char *minimal_path, const char *boot_dir,
                                  LodgeGuestKernel *ret, GError **error);

G_END_DECLS
