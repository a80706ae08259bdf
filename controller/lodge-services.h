/* What the active controller does, one context for the API and the
 * reconciler: lodged builds it when it becomes the leader. It holds the
 * controller's operations, the lifecycle options, the disk jobs (whose
 * idle appliances it closes every few seconds) and the applications; and
 * the rules that go with a request, so that no route makes them: a start
 * settles a repair claim first, one operation runs per VE at a time (a
 * second waits for the first), an undefine closes the VE's kept
 * appliance, a fenced node is not undrained. */
#pragma once

#include <glib.h>

#include "lodge-apps.h"
#include "lodge-ctl.h"
#include "lodge-disk-job.h"
#include "lodge-lifecycle.h"

G_BEGIN_DECLS

typedef struct _LodgeServices LodgeServices;

/* In the main loop (its timer closing idle appliances runs there). */
LodgeServices *lodge_services_new (LodgeCtl *ctl, const LodgeLifecycleOptions *lifecycle);
/* Closes every kept appliance (releasing their claims). */
void lodge_services_free (LodgeServices *svc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeServices, lodge_services_free)

LodgeCtl *lodge_services_get_ctl (LodgeServices *svc);
const LodgeLifecycleOptions *lodge_services_get_lifecycle (LodgeServices *svc);
LodgeDiskJobs *lodge_services_get_jobs (LodgeServices *svc);
LodgeApps *lodge_services_get_apps (LodgeServices *svc);

/* The lifecycle actions the API offers (POST .../NAME/ACTION). */
typedef enum {
  LODGE_LIFECYCLE_START,
  LODGE_LIFECYCLE_STOP,
  LODGE_LIFECYCLE_RESTART,
  LODGE_LIFECYCLE_MIGRATE,
  LODGE_LIFECYCLE_ACTION_LAST
} LodgeLifecycleAction;
LODGE_ENUM_DECL (lodge_lifecycle_action);

/* The operation in flight while @action runs. */
LodgeOp lodge_lifecycle_action_op (LodgeLifecycleAction action);

/* Runs @action on VE @name once no other operation runs on it (waiting
 * as long as one may take): a start (or restart) settles a repair claim
 * first; a stop is forced (the plug at once) with @force; a migration
 * goes to @to (NULL: the scheduler's choice) with a pause of at most
 * @max_downtime_ms (0: the default). */
gboolean lodge_services_lifecycle (LodgeServices *svc, const char *name,
                                   LodgeLifecycleAction action, gboolean force, const char *to,
                                   guint max_downtime_ms, LodgeProgress progress,
                                   gpointer progress_data, GError **error);

/* The lifecycle actions run so far: how many, how many failed, seconds
 * spent (from the moment each had the VE to itself). */
typedef struct {
  guint64 count[LODGE_LIFECYCLE_ACTION_LAST];
  guint64 failed[LODGE_LIFECYCLE_ACTION_LAST];
  double seconds[LODGE_LIFECYCLE_ACTION_LAST];
} LodgeActionStats;

void lodge_services_get_action_stats (LodgeServices *svc, LodgeActionStats *ret);

/* Removes stopped VE @name (with its disk, @remove_disk): its kept
 * reading appliance is closed first, and a claim a dead controller left
 * settled. */
gboolean lodge_services_undefine (LodgeServices *svc, const char *name, gboolean remove_disk,
                                  GError **error);
/* Node @node takes VEs again after a drain; refused (conflict) for a
 * fenced node: the control center clears that itself. */
gboolean lodge_services_undrain (LodgeServices *svc, const char *node, GError **error);

G_END_DECLS
