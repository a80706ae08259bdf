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
  "The control center is found through --connect, $LODGE_URL, or the local\n" \
  "cluster's socket ($LODGE_CLUSTER_DIR/run/lodged.sock); over TCP the token\n" \
  "is taken from $LODGE_TOKEN.\n\n"

extern const LodgeCommand lodge_ve_commands[];
extern const guint lodge_ve_n_commands;
