#include "lodge-http-stream.h"

#include <string.h>

struct _LodgeHttpStream {
  gint refs;
  SoupServerMessage *msg;
  gboolean started;
  /* Flow control for output streamed from a worker: bytes handed to the
   * main loop and not yet written to the client; gone once the client
   * is. Guarded by lock. */
  GMutex lock;
  GCond cond;
  gsize queued;
  gboolean gone;
};

LodgeHttpStream *
lodge_http_stream_ref (LodgeHttpStream *st)
{
  g_atomic_int_inc (&st->refs);
  return st;
}

void
lodge_http_stream_unref (LodgeHttpStream *st)
{
  if (st != NULL && g_atomic_int_dec_and_test (&st->refs))
    {
      g_signal_handlers_disconnect_by_data (st->msg, st);
      g_object_unref (st->msg);
      g_mutex_clear (&st->lock);
      g_cond_clear (&st->cond);
      g_free (st);
    }
}

/* In the main loop, as the client takes the response. */
static void
stream_wrote_cb (SoupServerMessage *msg, guint size, gpointer data)
{
  LodgeHttpStream *st = data;
  g_mutex_lock (&st->lock);
  st->queued -= MIN (st->queued, size);
  g_cond_broadcast (&st->cond);
  g_mutex_unlock (&st->lock);
}

static void
stream_gone_cb (SoupServerMessage *msg, gpointer data)
{
  LodgeHttpStream *st = data;
  g_mutex_lock (&st->lock);
  st->gone = TRUE;
  g_cond_broadcast (&st->cond);
  g_mutex_unlock (&st->lock);
}

LodgeHttpStream *
lodge_http_stream_new (SoupServerMessage *msg)
{
  LodgeHttpStream *st = g_new0 (LodgeHttpStream, 1);
  st->refs = 1;
  st->msg = g_object_ref (msg);
  g_mutex_init (&st->lock);
  g_cond_init (&st->cond);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (stream_wrote_cb), st);
  g_signal_connect (msg, "finished", G_CALLBACK (stream_gone_cb), st);
  g_signal_connect (msg, "disconnected", G_CALLBACK (stream_gone_cb), st);
  return st;
}

gboolean
lodge_http_stream_is_gone (LodgeHttpStream *st)
{
  g_mutex_lock (&st->lock);
  gboolean gone = st->gone;
  g_mutex_unlock (&st->lock);
  return gone;
}

gboolean
lodge_http_stream_is_started (LodgeHttpStream *st)
{
  return st->started;
}

/* In the main loop: the response begins (200, chunked) at the first line. */
void
lodge_http_stream_write (LodgeHttpStream *st, char *line)
{
  if (lodge_http_stream_is_gone (st))
    {
      g_free (line); /* the client went away: nobody to write to */
      return;
    }
  if (!st->started)
    {
      st->started = TRUE;
      soup_server_message_set_status (st->msg, 200, NULL);
      SoupMessageHeaders *h = soup_server_message_get_response_headers (st->msg);
      soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
      soup_message_headers_set_content_type (h, "application/x-ndjson", NULL);
      /* Written chunks are freed: a long output costs only what is queued. */
      soup_message_body_set_accumulate (soup_server_message_get_response_body (st->msg), FALSE);
    }
  soup_message_body_append (soup_server_message_get_response_body (st->msg), SOUP_MEMORY_TAKE, line,
                            strlen (line));
  soup_server_message_unpause (st->msg);
}

typedef struct {
  LodgeHttpStream *stream;
  char *line;
} StreamLine;

static gboolean
stream_line_cb (gpointer data)
{
  StreamLine *sl = data;
  lodge_http_stream_write (sl->stream, g_steal_pointer (&sl->line));
  lodge_http_stream_unref (sl->stream);
  g_free (sl);
  return G_SOURCE_REMOVE;
}

/* At most this much output waits for a slow client. */
#define STREAM_QUEUE_MAX (4 << 20)

gboolean
lodge_http_stream_post (LodgeHttpStream *st, char *line)
{
  gsize len = strlen (line);
  g_mutex_lock (&st->lock);
  gint64 deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;
  while (!st->gone && st->queued > STREAM_QUEUE_MAX)
    if (!g_cond_wait_until (&st->cond, &st->lock, deadline))
      {
        st->gone = TRUE; /* a client that reads nothing for 5 minutes */
        break;
      }
  gboolean gone = st->gone;
  if (!gone)
    st->queued += len;
  g_mutex_unlock (&st->lock);
  if (gone)
    {
      g_free (line);
      return FALSE;
    }
  StreamLine *sl = g_new0 (StreamLine, 1);
  sl->stream = lodge_http_stream_ref (st);
  sl->line = line;
  g_main_context_invoke (NULL, stream_line_cb, sl);
  return TRUE;
}

