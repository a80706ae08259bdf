#include "lodge-liveness.h"

typedef struct {
  gint64 heartbeat;     /* the value last seen in the record */
  gint64 first_seen_us; /* when this controller first saw it */
  gint64 last_seen_us;  /* when it last saw it */
  gint64 written_after; /* the value before it was still there then; -1: unknown */
} Seen;

struct _LodgeLiveness {
  GMutex lock;
  GHashTable *nodes; /* name -> Seen */
};

LodgeLiveness *
lodge_liveness_new (void)
{
  LodgeLiveness *l = g_new0 (LodgeLiveness, 1);
  g_mutex_init (&l->lock);
  l->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return l;
}

void
lodge_liveness_free (LodgeLiveness *l)
{
  if (l == NULL)
    return;
  g_hash_table_unref (l->nodes);
  g_mutex_clear (&l->lock);
  g_free (l);
}

gint64
lodge_liveness_observe (LodgeLiveness *l, const char *node, gint64 heartbeat, gint64 now_us)
{
  g_return_val_if_fail (node != NULL, 0);
  g_mutex_lock (&l->lock);
  Seen *s = g_hash_table_lookup (l->nodes, node);
  if (s == NULL)
    {
      s = g_new0 (Seen, 1);
      s->heartbeat = heartbeat;
      s->first_seen_us = s->last_seen_us = now_us;
      s->written_after = -1;
      g_hash_table_insert (l->nodes, g_strdup (node), s);
    }
  else if (s->heartbeat != heartbeat)
    {
      s->written_after = s->last_seen_us;
      s->heartbeat = heartbeat;
      s->first_seen_us = now_us;
    }
  s->last_seen_us = MAX (s->last_seen_us, now_us);
  gint64 age = MAX (now_us - s->first_seen_us, 0);
  g_mutex_unlock (&l->lock);
  return age;
}

gboolean
lodge_liveness_written_after (LodgeLiveness *l, const char *node, gint64 since_us)
{
  g_return_val_if_fail (node != NULL, FALSE);
  g_mutex_lock (&l->lock);
  Seen *s = g_hash_table_lookup (l->nodes, node);
  gboolean after = s != NULL && s->written_after >= 0 && s->written_after >= since_us;
  g_mutex_unlock (&l->lock);
  return after;
}
