/* Static network configuration over rtnetlink: the NIC with a listed MAC
 * gets its name, addresses and default routes. */
#pragma once

#include "config.h"

/* Brings up lo, then each interface of @cfg; returns the number of
 * failures (each said on the console). */
int lodge_net_apply (const struct lodge_cfg *cfg);
