/* Applying a parsed configuration to the guest's files. Every function
 * works below @root ("" in the guest, a scratch directory in unit tests),
 * returns 0 or -1, and on -1 has said why on stderr (the console). One
 * failing step does not stop the others. */
#pragma once

#include "config.h"

int lodge_apply_hostname_files (const char *root, const char *hostname);
int lodge_apply_root_hash (const char *root, const char *hash);
/* Sets the hash of an existing @user in /etc/shadow (root's is added when
 * missing, by lodge_apply_root_hash; other users' are not). Returns 0, -1
 * (said why), or -2 when @user has no line (nothing written). */
int lodge_apply_user_hash (const char *root, const char *user, const char *hash);
int lodge_apply_authorized_keys (const char *root, const char *const *keys, int n_keys);
int lodge_apply_sysctls (const char *root, const struct lodge_cfg *cfg);
int lodge_apply_dns (const char *root, const struct lodge_cfg *cfg);
int lodge_apply_timezone (const char *root, const char *tz);
/* For a template that boots systemd: one runtime unit per application
 * with a launch command, /run/systemd/system/lodge-app-NAME.service
 * (Restart=always), wanted by multi-user.target when it autostarts. */
int lodge_apply_systemd_units (const char *root, const struct lodge_cfg *cfg);

/* Writes @len bytes to @path through a temporary file and rename(), with
 * @mode and owner (uid/gid; -1 keeps root). */
int lodge_write_file (const char *path, const char *data, size_t len, unsigned mode, int uid,
                      int gid);

void lodge_say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
