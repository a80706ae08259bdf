/* Which QEMU accelerator VEs run under, with its one string table ("kvm",
 * "tcg") for the edges: domain XML, node records, the CLI, logs. Which one
 * really works on a host is virt/lodge-accel.h's probe. */
#pragma once

#include <glib.h>

#include "lodge-enum.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_ACCEL_KVM,
  LODGE_ACCEL_TCG,
  LODGE_ACCEL_LAST
} LodgeAccel;
LODGE_ENUM_DECL (lodge_accel);

G_END_DECLS
