/* `lodge repair NAME OPERATION ...`: an API client of the control center's
 * repair jobs. */
#pragma once

#include "lodge-cli.h"

int lodge_repair_cmd (int argc, char **argv);
