#include "lodge-services.h"

LODGE_ENUM_IMPL (lodge_lifecycle_action, LODGE_LIFECYCLE_ACTION_LAST, "start", "stop", "restart",
                 "migrate");

LodgeOp
lodge_lifecycle_action_op (LodgeLifecycleAction action)
{
  switch (action)
    {
    case LODGE_LIFECYCLE_START:
      return LODGE_OP_START;
    case LODGE_LIFECYCLE_STOP:
      return LODGE_OP_STOP;
    case LODGE_LIFECYCLE_RESTART:
      return LODGE_OP_RESTART;
    case LODGE_LIFECYCLE_MIGRATE:
      return LODGE_OP_MIGRATE;
    case LODGE_LIFECYCLE_ACTION_LAST:
      break;
    }
  g_return_val_if_reached (LODGE_OP_MIGRATE);
}
