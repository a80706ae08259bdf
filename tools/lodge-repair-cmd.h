/* `lodge repair NAME OPERATION ...`: an API client of the control center's
 * repair jobs. */
#pragma once

#include "lodge-cli.h"

int lodge_repair_cmd (int argc, char **argv);

/* A SHA-512 crypt(5) hash of a password: asked twice on the terminal
 * (not echoed) with @ask, else the first line of standard input. The
 * clear text is wiped. */
char *lodge_cli_hash_password (gboolean ask, GError **error);
