/* For the storage layer's own modules (and tests): the raw librados handles,
 * the mon_host parser. */
#pragma once

#include <rados/librados.h>

#include "lodge-rados.h"

G_BEGIN_DECLS

rados_t lodge_rados_handle (LodgeRados *rados);

/* A client set up from @config (ceph.conf read, keyring and timeouts set)
 * but not connected: lodge_rados_connect()'s first half, for tests of what
 * is read from the configuration. */
LodgeRados *lodge_rados_new (const LodgeCephConfig *config, GError **error);

/* An I/O context on @pool (and RADOS namespace @ns, NULL for none). */
typedef struct {
  rados_ioctx_t io;
} LodgeIoctx;

LodgeIoctx *lodge_ioctx_open (LodgeRados *rados, const char *pool, const char *ns, GError **error);
void lodge_ioctx_free (LodgeIoctx *ioctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeIoctx, lodge_ioctx_free)

/* The monitors of a mon_host value (Ceph's syntax: "[v2:H:3300,v1:H:6789]
 * [v2:...]", "H1:6789,H2", "v2:H:3300", DNS names, bracketed IPv6) as
 * "host:port" or "[v6addr]:port", one per monitor: its v1 address, or its
 * v2 one when it has no v1 (Ceph reads a bare "HOST:3300" as v2), in the
 * order given. LODGE_STORAGE_ERROR_INVALID, naming the text, if a part is
 * not an address. What lodge_rados_monitors() returns; here for tests. */
GStrv lodge_ceph_parse_mon_host (const char *mon_host, GError **error);

G_END_DECLS
