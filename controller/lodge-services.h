/* What the control center does on request, one context for the API and
 * the reconciler. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"

G_BEGIN_DECLS

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

G_END_DECLS
