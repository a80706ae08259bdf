/* The per-VE configuration blob handed to the guest through QEMU fw_cfg
 * (docs/guest-config.md): identity, root credential, OS parameters,
 * network, applications. The guest's init shim parses it. */
#pragma once

#include <glib.h>

#include "lodge-env.h"

G_BEGIN_DECLS

#define LODGE_GUEST_CONFIG_VERSION 1
#define LODGE_GUEST_CONFIG_MAX (64 * 1024)

/* The blob for @def; FALSE (LODGE_ERROR_TOO_LARGE) when it would exceed
 * LODGE_GUEST_CONFIG_MAX. */
char *lodge_guest_config_format (const LodgeEnvDef *def, GError **error);

G_END_DECLS
