/* The control center's requests to a node's agent about the VEs it runs
 * (nodeagent/lodge-agent-ve.h says what each does), over lodge-rpc.h:
 * the node keeps a VE's config blob and console log; nothing of them is
 * on the controller's disks. */
#pragma once

#include <glib.h>

#include "lodge-store.h"

G_BEGIN_DECLS

/* How long one request may take: an agent answers in milliseconds; one
 * that died holds a caller until its watch expires. */
#define LODGE_NODE_RPC_TIMEOUT_MS 10000

/* Writes @ve's config blob on @node (0600); with @fresh_log the console
 * log of an earlier boot goes too. The paths on the node, for the
 * domain, in @ret_config_file and @ret_console_log. */
gboolean lodge_node_rpc_put_config (LodgeStore *store, const char *node, const char *ve,
                                    const char *config, gboolean fresh_log, char **ret_config_file,
                                    char **ret_console_log, GError **error);

/* The guest's ready line (escaped, one line) in @ret_line, or NULL while
 * it has not written it. */
gboolean lodge_node_rpc_ready (LodgeStore *store, const char *node, const char *ve, char **ret_line,
                               GError **error);

/* A piece of @ve's console log on @node: from @offset, or the last @lines
 * lines when @offset is negative. Where it ends in @ret_end. */
GBytes *lodge_node_rpc_console (LodgeStore *store, const char *node, const char *ve, guint64 lines,
                                gint64 offset, guint64 *ret_end, GError **error);

/* Removes @ve's config blob from @node. */
gboolean lodge_node_rpc_forget (LodgeStore *store, const char *node, const char *ve, GError **error);

G_END_DECLS
