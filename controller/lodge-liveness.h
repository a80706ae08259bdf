/* Whether nodes are alive, judged on this controller's own monotonic
 * clock. An agent's heartbeat is its record's heartbeat value changing;
 * what clock the agent stamps it with does not matter, so a node whose
 * wall clock is minutes off is judged like any other (hosts' clocks are
 * never compared). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LodgeLiveness LodgeLiveness;

LodgeLiveness *lodge_liveness_new (void);
void lodge_liveness_free (LodgeLiveness *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeLiveness, lodge_liveness_free)

/* Notes that node @node's record holds @heartbeat at @now_us (this
 * controller's monotonic clock, µs). Returns how long ago, in µs, this
 * controller first saw that value: 0 for a new value, and for a node it
 * had not seen before (a controller that just started gives every node a
 * full grace period). Thread-safe. */
gint64 lodge_liveness_observe (LodgeLiveness *l, const char *node, gint64 heartbeat, gint64 now_us);

/* Whether the value @node's record holds was, by what this controller saw,
 * written after @since_us (monotonic): it saw the value before it still
 * there at or after @since_us. A value seen only since this controller
 * started may be older than anything: FALSE. */
gboolean lodge_liveness_written_after (LodgeLiveness *l, const char *node, gint64 since_us);

G_END_DECLS
