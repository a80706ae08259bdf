#include "lodge-ceph-health.h"

#include <json-glib/json-glib.h>

#include "lodge-storage-error.h"

struct _LodgeCephWatch {
  LodgeRados *rados;
  guint interval_s;
  GThread *thread;
  GMutex lock;
  GCond wake;
  gboolean stop;
  LodgeCephHealth now; /* under lock */
};

void
lodge_ceph_health_clear (LodgeCephHealth *h)
{
  g_clear_pointer (&h->members, g_free);
  g_clear_pointer (&h->problem, g_free);
}

char *
lodge_ceph_quorum_members (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *names = o != NULL ? json_object_get_member (o, "quorum_names") : NULL;
  if (names == NULL || !JSON_NODE_HOLDS_ARRAY (names))
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "the monitors' quorum status has no list of members (\"quorum_names\")");
      return NULL;
    }
  JsonArray *list = json_node_get_array (names);
  g_autoptr (GString) out = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *n = json_array_get_element (list, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                       "member %u of the monitors' quorum is not a name", i);
          return NULL;
        }
      g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", json_node_get_string (n));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
probe (LodgeCephWatch *w)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = lodge_rados_mon_command (
    w->rados, "{\"prefix\": \"quorum_status\", \"format\": \"json\"}", &error);
  g_autofree char *members = json != NULL ? lodge_ceph_quorum_members (json, strlen (json), &error)
                                          : NULL;
  gboolean quorum = members != NULL && *members != '\0';
  gint64 now = g_get_real_time ();
  g_mutex_lock (&w->lock);
  if (!w->now.known || w->now.quorum != quorum)
    w->now.since_us = now;
  w->now.known = TRUE;
  w->now.quorum = quorum;
  w->now.checked_us = now;
  g_free (w->now.members);
  w->now.members = g_steal_pointer (&members);
  g_free (w->now.problem);
  w->now.problem = quorum ? NULL
                   : error != NULL ? g_strdup (error->message)
                                   : g_strdup ("the monitors answered without a quorum");
  g_mutex_unlock (&w->lock);
}

static gpointer
run (gpointer data)
{
  LodgeCephWatch *w = data;
  g_mutex_lock (&w->lock);
  while (!w->stop)
    {
      g_mutex_unlock (&w->lock);
      probe (w);
      g_mutex_lock (&w->lock);
      gint64 wake = g_get_monotonic_time () + (gint64) w->interval_s * G_USEC_PER_SEC;
      while (!w->stop && g_cond_wait_until (&w->wake, &w->lock, wake))
        ;
    }
  g_mutex_unlock (&w->lock);
  return NULL;
}

LodgeCephWatch *
lodge_ceph_watch_new (LodgeRados *rados, guint interval_s)
{
  LodgeCephWatch *w = g_new0 (LodgeCephWatch, 1);
  w->rados = rados;
  w->interval_s = MAX (interval_s, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->wake);
  w->thread = g_thread_new ("ceph-watch", run, w);
  return w;
}

void
lodge_ceph_watch_free (LodgeCephWatch *w)
{
  if (w == NULL)
    return;
  g_mutex_lock (&w->lock);
  w->stop = TRUE;
  g_cond_signal (&w->wake);
  g_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  lodge_ceph_health_clear (&w->now);
  g_cond_clear (&w->wake);
  g_mutex_clear (&w->lock);
  g_free (w);
}

void
lodge_ceph_watch_get (LodgeCephWatch *w, LodgeCephHealth *ret)
{
  g_mutex_lock (&w->lock);
  *ret = w->now;
  ret->members = g_strdup (w->now.members);
  ret->problem = g_strdup (w->now.problem);
  g_mutex_unlock (&w->lock);
}
