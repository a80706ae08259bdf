/* `lodge define|undefine|list|show|status|node ...`: API clients. */
#pragma once

#include "lodge-cli.h"

extern const LodgeCommand lodge_ve_commands[];
extern const guint lodge_ve_n_commands;
