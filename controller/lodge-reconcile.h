/* The active controller's reconciler: brings what runs on the nodes back
 * in line with the runtime records, for the VEs no operation of this
 * controller is working on.
 *
 * It is driven by the node agents' reports (a watch on the node records: a
 * sweep runs when a node's domain list or state changed), by a periodic
 * safety sweep, and by kicks (a new leader kicks it at once). A sweep
 * finishes starts and stops that a dead controller left half done, and
 * records guests that stopped outside Lodge (confirmed with the node's
 * libvirt). The repairs run in worker threads, at most a few at a time,
 * never two on one VE. */
#pragma once

#include <glib.h>

#include "lodge-services.h"

G_BEGIN_DECLS

typedef struct _LodgeReconciler LodgeReconciler;

/* What the reconciler did, for the daemon's log (called from its threads). */
typedef void (*LodgeReconcileLog) (const char *message, gpointer user_data);

LodgeReconciler *lodge_reconciler_new (LodgeServices *services, guint sweep_s,
                                       LodgeReconcileLog log, gpointer user_data, GError **error);
/* Asks for a sweep now (any thread). */
void lodge_reconciler_kick (LodgeReconciler *r);
/* Stops watching and sweeping; waits for repairs in progress. */
void lodge_reconciler_free (LodgeReconciler *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeReconciler, lodge_reconciler_free)

G_END_DECLS
