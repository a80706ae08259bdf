/* For the modules of virt/ built on LodgeGuestfs (repair): the raw handle,
 * and the one function that turns guestfs_last_error() into a GError. */
#pragma once

#include <guestfs.h>

#include "lodge-guestfs.h"

G_BEGIN_DECLS

/* Valid from a successful lodge_guestfs_launch() on: a launch that falls
 * back to TCG replaces the handle. */
guestfs_h *lodge_guestfs_handle (LodgeGuestfs *g);
/* Sets @error to "@fmt: <libguestfs's last error>"; returns FALSE. */
G_GNUC_PRINTF (3, 4) gboolean lodge_guestfs_fail (LodgeGuestfs *g, GError **error,
                                                   const char *fmt, ...);

G_END_DECLS
