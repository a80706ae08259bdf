/* What the parts of the HTTP API share: lodge-api.c (the server, the
 * environments, nodes and metrics) and lodge-api-repair.c (repairs). */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-api.h"
#include "lodge-apps.h"
#include "lodge-disk-job.h"
#include "lodge-repairs.h"
#include "lodge-services.h"

G_BEGIN_DECLS

struct _LodgeApi {
  SoupServer *server;
  LodgeCtl *ctl;
  const LodgeLifecycleOptions *lifecycle;
  char *socket_path;
  char *token;
  GMutex lock; /* guards the figures below */
  guint64 requests;
  guint64 errors;
  double latency_sum_s;
  /* Lifecycle operations: count, failures and seconds, by kind. */
  guint64 op_count[LODGE_LIFECYCLE_ACTION_LAST], op_failed[LODGE_LIFECYCLE_ACTION_LAST];
  double op_sum_s[LODGE_LIFECYCLE_ACTION_LAST];
  LodgeDiskJobs *jobs;
  LodgeApps apps;
  guint expire_source;
  gint expiring; /* a thread closes idle repair appliances */
};

typedef struct _Stream Stream;

typedef struct {
  LodgeApi *api;
  SoupServerMessage *msg;
  char *method;
  char **parts; /* the path split at '/', without the leading "" */
  GHashTable *query;
  GBytes *body;
  gint64 start_us;
  Stream *stream; /* NULL unless the client asked for progress as it happens */
  /* response */
  guint status;
  const char *content_type;
  GBytes *response;
} Request;

/* A response streamed as newline-delimited JSON: one {"step", "ms"} line
 * per step as it happens, then {"result": ...} or {"error": ...}. Only
 * touched in the main loop; steps come from the worker thread through
 * g_main_context_invoke. */
struct _Stream {
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

/* For @msg, whose client asked for a stream (Accept: application/x-ndjson). */
Stream *lodge_api_stream_new (SoupServerMessage *msg);
Stream *lodge_api_stream_ref (Stream *st);
void lodge_api_stream_unref (Stream *st);
/* Whether the client of @st went away (its message is finished). */
gboolean lodge_api_stream_is_gone (Stream *st);
/* In the main loop: appends @line (taken) to the streamed response. */
void lodge_api_stream_write (Stream *st, char *line);
/* From a worker: queues @line (taken) for the client, first waiting while
 * more than a few MiB are queued; FALSE when the client is gone. */
gboolean lodge_api_stream_post (Stream *st, char *line);

void lodge_api_respond (Request *r, guint status, const char *content_type, GBytes *body);
void lodge_api_respond_error_code (Request *r, guint status, const char *code, const char *message);
void lodge_api_respond_error (Request *r, const GError *error);
void lodge_api_respond_json (Request *r, guint status, GBytes *json);
char *lodge_api_json_escape (const char *s);

/* Who asks: X-Lodge-User, and the peer's uid on the UNIX socket. */
char *lodge_api_requester (Request *r);
/* The request's body as a JSON object (NULL without a body); FALSE after
 * answering 400. */
gboolean lodge_api_body_object (Request *r, JsonParser *parser, JsonObject **ret_args);

/* A job with output and progress (a repair, an application's install):
 * streamed when the client asked for it, else collected into the result
 * object's "output" (base64); @what names it in the log on failure. */
typedef char *(*LodgeApiJobFunc) (Request *r, const char *name, gpointer data,
                                  LodgeRepairOutput out, gpointer out_data,
                                  LodgeProgress progress, gpointer progress_data,
                                  GError **error);
void lodge_api_run_job (Request *r, const char *name, const char *what, LodgeApiJobFunc job,
                        gpointer data);

/* POST /v1/environments/NAME/repair/OP */
void lodge_api_route_repair (Request *r, const char *name, const char *op);
/* GET .../apps, POST .../apps/APP/install|configure, POST .../exec,
 * POST .../passwd (lodge-api-app.c) */
void lodge_api_route_guest (Request *r, const char *name, const char *action);

G_END_DECLS
