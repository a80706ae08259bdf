/* For the storage layer's own modules: the raw librados handles. */
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

G_END_DECLS
