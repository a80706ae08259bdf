/* `lodge define|undefine|list|show|status|node ...`: API clients. */
#pragma once

#include "lodge-cli.h"
#include "lodge-client.h"

/* An option context with the connection options (--connect), and the
 * client they name: for every command that talks to the control center. */
GOptionContext *lodge_ve_cmd_context (const char *name, const char *params, const char *summary,
                                      const char *description, GOptionEntry *entries);
LodgeClient *lodge_ve_cmd_client (GError **error);
#define LODGE_CONNECT_HELP \
  "The control centers are found through --connect, $LODGE_URL (comma-separated),\n" \
  "controllers= in $LODGE_CONFIG (default /etc/lodge/client.conf), or a socket at\n" \
  "$LODGE_CLUSTER_DIR/run/lodged.sock. Over TCP the token is $LODGE_TOKEN, or the\n" \
  "config's token-file; https controllers are checked against $LODGE_CA or the\n" \
  "config's ca-file (else the system's CAs). The token is never sent over plain\n" \
  "HTTP except to a loopback address.\n\n"

extern const LodgeCommand lodge_ve_commands[];
extern const guint lodge_ve_n_commands;
