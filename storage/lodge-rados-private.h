/* For the storage layer's own modules (and tests): the raw librados handles,
 * the monitor map reader. */
#pragma once

#include <rados/librados.h>

#include "lodge-rados.h"

G_BEGIN_DECLS

rados_t lodge_rados_handle (LodgeRados *rados);

/* An I/O context on @pool (and RADOS namespace @ns, NULL for none). */
typedef struct {
  rados_ioctx_t io;
} LodgeIoctx;

LodgeIoctx *lodge_ioctx_open (LodgeRados *rados, const char *pool, const char *ns, GError **error);
void lodge_ioctx_free (LodgeIoctx *ioctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeIoctx, lodge_ioctx_free)

/* The monitors of a "mon dump" answer (JSON), one "host:port" or
 * "[v6addr]:port" per monitor: its v1 address, or its v2 one when it has
 * no v1. LODGE_STORAGE_ERROR_INVALID when it is not a monitor map. What
 * lodge_rados_monitors() returns; here for tests. */
GStrv lodge_ceph_monitors_from_monmap (const char *json, gsize len, GError **error);
/* The pools an "osd dump" answer (JSON) flags full (the pool's "full" flag,
 * or the whole map's); LODGE_STORAGE_ERROR_INVALID when it is not an OSD
 * map. What lodge_rados_full_pools() returns; here for tests. */
GStrv lodge_ceph_full_pools_from_osdmap (const char *json, gsize len, GError **error);

G_END_DECLS
