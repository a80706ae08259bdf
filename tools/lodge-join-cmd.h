/* Joining a host to a cluster, and the tokens for it (docs/deploy.md):
 *   lodge node join URL --token T         on a new node        (lodge-join-cmd.c)
 *   lodge controller join URL --token T   on a new standby controller
 *   lodge join-token create|list|delete   an admin's           (lodge-cluster-cmd.c)
 *   lodge cluster init                    on the first controller (runs
 *                                         lodged --init-cluster) */
#pragma once

#include "lodge-cli.h"

int lodge_node_join_cmd (int argc, char **argv);
int lodge_controller_cmd (int argc, char **argv);
int lodge_join_token_cmd (int argc, char **argv);
int lodge_cluster_cmd (int argc, char **argv);
