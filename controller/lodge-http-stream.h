/* Responses streamed as newline-delimited JSON: lines queued from worker
 * threads, written by the main loop, with flow control so a slow or
 * vanished client costs a bounded amount of memory. The response begins
 * (200, chunked, application/x-ndjson) at the first line. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _LodgeHttpStream LodgeHttpStream;

/* For @msg, whose client asked for a stream (Accept: application/x-ndjson). */
LodgeHttpStream *lodge_http_stream_new (SoupServerMessage *msg);
LodgeHttpStream *lodge_http_stream_ref (LodgeHttpStream *st);
void lodge_http_stream_unref (LodgeHttpStream *st);
/* Whether the client of @st went away (its message is finished). */
gboolean lodge_http_stream_is_gone (LodgeHttpStream *st);
/* In the main loop: whether a line was written (the status is sent). */
gboolean lodge_http_stream_is_started (LodgeHttpStream *st);
/* In the main loop: appends @line (taken) to the streamed response. */
void lodge_http_stream_write (LodgeHttpStream *st, char *line);
/* From a worker: queues @line (taken) for the client, first waiting while
 * more than a few MiB are queued; FALSE when the client is gone. */
gboolean lodge_http_stream_post (LodgeHttpStream *st, char *line);

G_END_DECLS
