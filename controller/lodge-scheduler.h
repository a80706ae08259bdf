/* Placement: which node runs a VE. A pure function of the nodes' capacity
 * and what already runs where, so it is tested without a cluster.
 *
 * Memory is overcommitted, not dedicated: a node admits VEs while the
 * memory their guests see stays within its RAM times its overcommit
 * ratio, and the memory the host commits at start (currentMemory) stays
 * within its RAM. vCPUs are overcommitted by their own ratio. Among nodes
 * that fit, the one with the most committed memory left wins (spreading
 * VEs, so a node failure restarts fewer of them); ties go to the name. */
#pragma once

#include <glib.h>

#include "lodge-records.h"

G_BEGIN_DECLS


typedef struct {
  const char *name;
  LodgeNodeState state;
  guint cpus;
  guint64 memory;        /* bytes of RAM for guests */
  double memory_ratio;   /* overcommit of guest-visible memory, >= 1 */
  double cpu_ratio;      /* overcommit of vCPUs, >= 1 */
} LodgeSchedNode;

typedef struct {
  const char *name;
  const char *node;
  guint vcpus;
  guint64 memory;         /* guest-visible */
  guint64 current_memory; /* committed at start */
} LodgeSchedVe;

/* Picks a node for @ve among @nodes given the VEs in @placed (a VE of the
 * same name in @placed is ignored: it is being moved or restarted).
 * Returns the node's name (owned by @nodes), or NULL with an error that
 * names every node and why it does not fit. */
const char *lodge_scheduler_place (const LodgeSchedNode *nodes, guint n_nodes,
                                   const LodgeSchedVe *placed, guint n_placed,
                                   const LodgeSchedVe *ve, const char *exclude_node,
                                   GError **error);

G_END_DECLS
