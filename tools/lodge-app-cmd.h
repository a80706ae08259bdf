/* `lodge app list|install|configure`, `lodge exec`, `lodge passwd`: API
 * clients of the control center's guest side. */
#pragma once

#include "lodge-cli.h"

int lodge_app_cmd (int argc, char **argv);
int lodge_exec_cmd (int argc, char **argv);
int lodge_passwd_cmd (int argc, char **argv);
