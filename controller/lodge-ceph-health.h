/* Ceph's monitors as the control center sees them: a thread asks them for
 * their quorum every few seconds (a monitor command, bounded by the
 * client's monitor timeout), so that `lodge node list` and /metrics can say
 * when there is none. Without a quorum the OSDs go on serving what Lodge
 * reads and writes, heartbeats included, so nothing fails over; what needs
 * the monitors (fencing a node, telling whether a pool is full) fails and
 * is tried again. */
#pragma once

#include <glib.h>

#include "lodge-rados.h"

G_BEGIN_DECLS

typedef struct {
  gboolean known;      /* asked at least once */
  gboolean quorum;     /* the monitors answered with a quorum */
  char *members;       /* "a,b,c": the quorum's monitors */
  char *problem;       /* why there is none, or NULL */
  gint64 since_us;     /* wall clock: since when it is so */
  gint64 checked_us;   /* wall clock: the last answer or timeout */
} LodgeCephHealth;

void lodge_ceph_health_clear (LodgeCephHealth *h);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LodgeCephHealth, lodge_ceph_health_clear)

typedef struct _LodgeCephWatch LodgeCephWatch;

/* Starts asking every @interval_s seconds. @rados must outlive it. */
LodgeCephWatch *lodge_ceph_watch_new (LodgeRados *rados, guint interval_s);
void lodge_ceph_watch_free (LodgeCephWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeCephWatch, lodge_ceph_watch_free)
/* A copy of what is known now. */
void lodge_ceph_watch_get (LodgeCephWatch *w, LodgeCephHealth *ret);

/* The quorum's members ("a,b") in a "quorum_status" answer (JSON), or NULL
 * with @error when it is not one; here for tests. */
char *lodge_ceph_quorum_members (const char *json, gsize len, GError **error);

G_END_DECLS
