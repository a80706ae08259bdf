/* The repair shell: a writable appliance kept on a stopped VE's disk,
 * under its claim, for "sh" commands until "exit" (or 10 minutes idle).
 * The operations of lodge-repairs.c's table "shell", "sh" and "exit". */
#pragma once

#include "lodge-disk-job.h"

G_BEGIN_DECLS

/* "shell": claims the VE and takes a snapshot as a writing repair would,
 * and keeps the appliance; the result's "shell" is its id. */
gboolean lodge_repairs_shell_open (LodgeDiskJob *j, GError **error);
/* "sh": runs "command" in shell "shell". */
gboolean lodge_repairs_shell_sh (LodgeDiskJob *j, GError **error);
/* "exit": closes shell "shell" (every change on the disk). */
gboolean lodge_repairs_shell_exit (LodgeDiskJob *j, GError **error);

G_END_DECLS
