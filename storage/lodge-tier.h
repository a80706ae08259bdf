/* Fault-tolerance tiers: a VE's <replicas> (1-3) chooses the pool its root
 * disk lives in, and the pool's replication size keeps that many copies. */
#pragma once

#include <glib.h>

#include "lodge-rados.h"

G_BEGIN_DECLS

#define LODGE_TIER_MIN 1
#define LODGE_TIER_MAX 3
#define LODGE_TEMPLATE_POOL "lodge-templates"

/* "lodge-r1", "lodge-r2", "lodge-r3". */
char *lodge_tier_pool (guint replicas);
/* min_size: the copies that must be up for writes. With 3 copies 2 (one
 * OSD may fail without stopping I/O, and no write lands on one copy only);
 * with 2 copies 1 (else one failure would stop every VE of the tier); with
 * 1 copy 1. */
guint lodge_tier_min_size (guint replicas);

/* Creates the tier's pool (an RBD pool) if it does not exist; idempotent,
 * and free when it exists. */
gboolean lodge_tier_ensure (LodgeRados *rados, guint replicas, GError **error);
/* The pool that holds template images (3 copies). */
gboolean lodge_tier_ensure_templates (LodgeRados *rados, GError **error);

G_END_DECLS
