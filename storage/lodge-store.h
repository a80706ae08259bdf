/* The cluster state store: small records in RADOS, one namespace per kind,
 * with versioned compare-and-set and change notification. Nothing else in
 * Lodge keeps state a crash could lose.
 *
 * Every record has the RADOS object version of its last write. An update
 * names the version it read; when another writer got there first it fails
 * with LODGE_STORAGE_ERROR_CONFLICT and changes nothing. A write is one
 * RADOS write op: it lands whole or not at all. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"
#include "lodge-rados.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_STORE_ENV,       /* environment definitions, the XML as defined */
  LODGE_STORE_RUNTIME,   /* desired state, node, generation, last transition */
  LODGE_STORE_NODE,      /* what nodes' agents report (lodge-node-store.h) */
  LODGE_STORE_OPERATION, /* operations in flight */
  LODGE_STORE_TEMPLATE,  /* template metadata */
  LODGE_STORE_LEASE,     /* leases (see lodge-lease.h) */
  LODGE_STORE_NODE_DECISION, /* what the control center decided about nodes */
  LODGE_STORE_USER,      /* the API's users (controller/lodge-users.h) */
  LODGE_STORE_ADDRESS,   /* which VE has each IP and MAC address (controller/lodge-addresses.h) */
  LODGE_STORE_JOIN_TOKEN, /* tokens a host joins the cluster with (controller/lodge-join.h) */
  LODGE_STORE_PKI,       /* the cluster CA's certificate and key: controllers' only */
  LODGE_STORE_LAST
} LodgeStoreKind;
LODGE_ENUM_DECL (lodge_store_kind);

#define LODGE_STATE_POOL "lodge-state"
/* A record's value is at most this large. */
#define LODGE_STORE_MAX_VALUE (4 * 1024 * 1024)

typedef struct _LodgeStore LodgeStore;

/* Opens the store in @pool (NULL: LODGE_STATE_POOL), creating the pool
 * (3 copies) on first use. The store borrows @rados, which must outlive it. */
LodgeStore *lodge_store_open (LodgeRados *rados, const char *pool, GError **error);
void lodge_store_free (LodgeStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeStore, lodge_store_free)

LodgeRados *lodge_store_get_rados (LodgeStore *store);
const char *lodge_store_get_pool (LodgeStore *store);

/* Fencing. A leader's store carries the generation of its lease
 * (lodge_lease_next_generation): each record it writes is stamped with
 * it, and a write is refused (LODGE_STORAGE_ERROR_SUPERSEDED) where a
 * newer generation's stamp is, in the same RADOS operation. Before each
 * write, @check says whether this process may still act (its lease has not
 * lapsed); FALSE with its reason refuses the write before it is sent. Set
 * once, before any thread writes; 0 (the default) writes unstamped, as
 * agents and tools do. */
typedef gboolean (*LodgeStoreFenceCheck) (gpointer user_data, GError **error);
void lodge_store_set_fence (LodgeStore *store, guint64 generation, LodgeStoreFenceCheck check,
                            gpointer user_data);
guint64 lodge_store_get_fence (LodgeStore *store);
/* Whether this store's writer may act now (its @check); TRUE without a
 * fence. For actions outside the store (a node's libvirt) that must not
 * outlive the lease. */
gboolean lodge_store_check_fence (LodgeStore *store, GError **error);

/* The value and version of a record; LODGE_STORAGE_ERROR_NOT_FOUND if none. */
GBytes *lodge_store_get (LodgeStore *store, LodgeStoreKind kind, const char *name,
                         guint64 *ret_version, GError **error);
/* Creates a record; LODGE_STORAGE_ERROR_EXISTS if it exists. */
gboolean lodge_store_create (LodgeStore *store, LodgeStoreKind kind, const char *name,
                             GBytes *value, guint64 *ret_version, GError **error);
/* Replaces a record if it is still at @expected_version;
 * LODGE_STORAGE_ERROR_CONFLICT otherwise (NOT_FOUND if it is gone). */
gboolean lodge_store_update (LodgeStore *store, LodgeStoreKind kind, const char *name,
                             guint64 expected_version, GBytes *value, guint64 *ret_version,
                             GError **error);
/* Removes a record, if @expected_version is not 0 only at that version. */
gboolean lodge_store_delete (LodgeStore *store, LodgeStoreKind kind, const char *name,
                             guint64 expected_version, GError **error);
/* Names of the records of @kind, sorted. */
GPtrArray *lodge_store_list (LodgeStore *store, LodgeStoreKind kind, GError **error);

/* Change notification. @func runs in a librados thread (marshal it into a
 * main loop with g_main_context_invoke when needed) with the name of the
 * record that changed, or NULL when the watch was interrupted and changes
 * may have been missed: the watcher should then re-read everything. */
typedef void (*LodgeStoreChangeFunc) (LodgeStoreKind kind, const char *name, gpointer user_data);
typedef struct _LodgeStoreWatch LodgeStoreWatch;

LodgeStoreWatch *lodge_store_watch (LodgeStore *store, LodgeStoreKind kind,
                                    LodgeStoreChangeFunc func, gpointer user_data,
                                    GError **error);
/* Stops the watch; when it returns, @func is not running and won't run. */
void lodge_store_watch_free (LodgeStoreWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeStoreWatch, lodge_store_watch_free)

G_END_DECLS
