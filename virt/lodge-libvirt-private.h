/* For the modules of virt/ built on a LodgeLibvirt connection
 * (lodge-libvirt.c, lodge-libvirt-agent.c): the raw handles, and the one
 * function that turns virGetLastError() into a GError. */
#pragma once

#include <libvirt/libvirt.h>

#include "lodge-libvirt.h"

G_BEGIN_DECLS

struct _LodgeLibvirt {
  virConnectPtr conn;
  char *uri;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)

/* Sets @error to "@fmt: <libvirt's last error>" and resets that error;
 * returns FALSE. */
G_GNUC_PRINTF (3, 4) gboolean lodge_libvirt_fail (LodgeLibvirt *lv, GError **error,
                                                   const char *fmt, ...);
/* Domain @name of @lv's node; NULL with LODGE_LIBVIRT_ERROR_NOT_FOUND. */
virDomainPtr lodge_libvirt_lookup (LodgeLibvirt *lv, const char *name, GError **error);

/* The timeout of one agent call (seconds, at most @max_s, at least 1) of
 * an operation that must end by @deadline_us; 0 when it has passed
 * (lodge-libvirt-agent.c). */
guint lodge_agent_call_timeout (gint64 now_us, gint64 deadline_us, guint max_s);

G_END_DECLS
