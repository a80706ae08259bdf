#include "lodge-accelerator.h"

LODGE_ENUM_IMPL (lodge_accel, LODGE_ACCEL_LAST, "kvm", "tcg");
