/* What a node keeps for the VEs it runs, under the agent's state
 * directory, one directory per VE:
 *   NAME/config       the config blob QEMU hands the guest through fw_cfg
 *                     (the root password hash is in it: 0600, only here;
 *                     removed when the VE leaves the node: the control
 *                     center asks, and a sweep removes what it could not)
 *   NAME/console.log  the serial console, written by the node's virtlogd
 *
 * and the requests the control center makes about them (lodge-rpc.h),
 * each a JSON object with "op" and "ve":
 *   put-config  {"config": TEXT, "fresh_log": BOOL}
 *               -> {"config_file": PATH, "console_log": PATH}
 *   ready       -> {"line": "lodge-ready name=NAME ..."} or {} (not yet)
 *   console     {"lines": N} (the last N lines) or {"offset": BYTES}
 *               -> {"size": BYTES, "from": BYTES, "data": BASE64}
 *   forget      (removes the config) -> {}
 * Every answer is bounded; text from the guest is returned as bytes
 * (console) or with anything but printable ASCII escaped (ready). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The most of the console one answer carries. */
#define LODGE_AGENT_CONSOLE_CHUNK (128 * 1024)

/* A LodgeRpcHandler; @state_dir is the agent's state directory. */
GBytes *lodge_agent_ve_handle (GBytes *request, gpointer state_dir, GError **error);

/* Removes @ve's config blob (its domain left this node). */
void lodge_agent_ve_forget (const char *state_dir, const char *ve);

/* Removes the config blobs older than @min_age_s of VEs not in @defined
 * (names of the domains libvirt has here). */
void lodge_agent_ve_sweep (const char *state_dir, GPtrArray *defined, guint min_age_s);

G_END_DECLS
