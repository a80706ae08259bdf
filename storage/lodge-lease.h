/* Leases: an exclusive RADOS lock with a duration, held by one named holder
 * at a time (the active control center holds "leader"). A holder renews
 * before the duration runs out; when it stops renewing (crashed, frozen,
 * cut off) the lease lapses and another holder can take it. */
#pragma once

#include <glib.h>

#include "lodge-store.h"

G_BEGIN_DECLS

/* Takes @lease for @holder for @duration_s seconds, or renews it when this
 * client already holds it. Fails with LODGE_STORAGE_ERROR_BUSY naming the
 * current holder when someone else holds it. @description is shown to
 * others ("lodged on node1, pid 4242"). */
gboolean lodge_lease_acquire (LodgeStore *store, const char *lease, const char *holder,
                              const char *description, guint duration_s, GError **error);
/* A new generation of @lease for its holder, who has just taken it: the
 * number on the lease object, grown by one (the first is 1). Each holder
 * that takes the lease over gets a larger one than all before it; it
 * fences the state store (lodge_store_set_fence) and the nodes with it. */
gboolean lodge_lease_next_generation (LodgeStore *store, const char *lease, guint64 *ret_generation,
                                      GError **error);
/* The generation of @lease's latest holder (0: none yet). */
gboolean lodge_lease_get_generation (LodgeStore *store, const char *lease, guint64 *ret_generation,
                                     GError **error);

/* Gives the lease up at once (a clean shutdown); FALSE if not held. */
gboolean lodge_lease_release (LodgeStore *store, const char *lease, const char *holder,
                              GError **error);
/* Who holds @lease: sets *ret_holder (and *ret_description) to NULL when
 * nobody does. */
gboolean lodge_lease_get_holder (LodgeStore *store, const char *lease, char **ret_holder,
                                 char **ret_description, GError **error);

G_END_DECLS
