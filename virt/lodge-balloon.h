/* A node's memory among its VEs (docs/security.md, Memory): each VE is
 * promised its floor (<currentMemory>: the scheduler never promises a
 * node more floors than its memory), and grows above it only when the
 * node agent deflates its balloon out of the node's free memory. The
 * guest itself cannot take more (no autodeflate): a guest that fills its
 * memory meets its own kernel's OOM killer, never the host's.
 *
 * lodge_balloon_plan() is the policy, pure: what each guest's balloon
 * should be next, from what each has and needs and the node's budget.
 * The agent runs it every few seconds with what libvirt says. */
#pragma once

#include <glib.h>

#include "lodge-libvirt.h"

G_BEGIN_DECLS

/* Grants are at least this, at most half of what the guest has. */
#define LODGE_BALLOON_MIN_STEP (64ULL << 20)

typedef struct {
  char *name;
  guint64 floor;   /* bytes promised: the balloon never takes it below */
  guint64 ceiling; /* bytes the guest sees (<memory>) */
  guint64 actual;  /* bytes the balloon leaves the guest now */
  guint64 usable;  /* bytes the guest could still use; G_MAXUINT64: unknown */
  guint64 next;    /* the plan: what to set (== actual: no change) */
  const char *why; /* the plan's reason, for the log (NULL: no change) */
} LodgeBalloonGuest;

void lodge_balloon_guest_free (LodgeBalloonGuest *g);

/* Sets each guest's next (and why) so that, as far as the guests give
 * memory back, the sum of what they have stays within @budget bytes:
 * first guests above their floor give back while the sum is over the
 * budget (the most grown first); idle guests above their floor give back
 * half of what they do not use; then guests under pressure (less than an
 * eighth usable) grow by half of what they have, at least
 * LODGE_BALLOON_MIN_STEP, up to their ceiling and within the budget
 * left. Never below a floor or above a ceiling. Returns how many change. */
guint lodge_balloon_plan (GPtrArray *guests, guint64 budget);

/* The running domains of @lv that are VEs (with Lodge's metadata), as
 * LodgeBalloonGuest with next == actual. */
GPtrArray *lodge_libvirt_balloon_guests (LodgeLibvirt *lv, GError **error);
/* Sets domain @name's balloon target (live only). */
gboolean lodge_libvirt_balloon_set (LodgeLibvirt *lv, const char *name, guint64 bytes,
                                    GError **error);

G_END_DECLS
