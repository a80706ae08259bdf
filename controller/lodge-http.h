/* The HTTP side of the API that its routes share: a request as a worker
 * thread sees it, the answers (JSON built with json-glib; errors as
 *   {"error": {"code": "not-found", "message": "unknown environment 'x'"}}
 * with the code and status of the error's domain), who asks, and jobs with
 * output and progress, streamed as newline-delimited JSON when the client
 * asks for that (Accept: application/x-ndjson). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "lodge-ctl.h"
#include "lodge-http-stream.h"
#include "lodge-repair.h"

G_BEGIN_DECLS

typedef struct {
  SoupServerMessage *msg;
  char *method;
  char **parts; /* the path split at '/', without the leading "" */
  GHashTable *query;
  GBytes *body;
  gint64 start_us;
  LodgeHttpStream *stream; /* NULL unless the client asked for progress as it happens */
  /* the response */
  guint status;
  const char *content_type;
  GBytes *response;
} LodgeHttpRequest;

/* In the main loop: the request of @msg (paused until it is sent) for
 * @path and @query. */
LodgeHttpRequest *lodge_http_request_new (SoupServerMessage *msg, const char *path,
                                          GHashTable *query);
/* The key of the data a handler sets on a message whose body it spools
 * itself (an upload): that body is not taken in memory. */
#define LODGE_HTTP_SPOOLED "lodge-spooled"

/* In the main loop: takes the body (its size was bounded before it was
 * read: lodge_http_guard_limit_body) unless it is spooled, and the stream
 * the client asks for. FALSE after answering. */
gboolean lodge_http_request_read (LodgeHttpRequest *r);
/* In the main loop: hands the response to the client; a streamed one
 * ends with {"result": ...} or the {"error": ...} line. */
void lodge_http_request_send (LodgeHttpRequest *r);
void lodge_http_request_free (LodgeHttpRequest *r);

/* The value of query parameter @key, or NULL. */
const char *lodge_http_query (LodgeHttpRequest *r, const char *key);
/* Whether query parameter @key is "yes" or "1". */
gboolean lodge_http_query_yes (LodgeHttpRequest *r, const char *key);

void lodge_http_respond (LodgeHttpRequest *r, guint status, const char *content_type, GBytes *body);
void lodge_http_respond_error_code (LodgeHttpRequest *r, guint status, const char *code,
                                    const char *message);
/* {"error": {"code": @code, "message": @message}}, as JSON text. */
char *lodge_http_error_text (const char *code, const char *message);
void lodge_http_respond_error (LodgeHttpRequest *r, const GError *error);
/* @json: JSON text (taken), without its final newline. */
void lodge_http_respond_json (LodgeHttpRequest *r, guint status, char *json);
/* The value @b built (its root), as JSON. */
void lodge_http_respond_built (LodgeHttpRequest *r, guint status, JsonBuilder *b);
/* @json (a record's JSON) as a node for a builder. */
JsonNode *lodge_http_json_node (GBytes *json);

/* The key of a request's LodgeIdentity (lodge-access.h) on its message:
 * who it was authenticated as, before its body was read. */
#define LODGE_HTTP_IDENTITY "lodge-identity"

/* Who asks, as audit lines and repair claims name it: the authenticated
 * identity and its role ("alice (operator)"), never what the client says. */
char *lodge_http_requester (LodgeHttpRequest *r);
/* The request's body as a JSON object (NULL without a body); FALSE after
 * answering 400. */
gboolean lodge_http_body_object (LodgeHttpRequest *r, JsonParser *parser, JsonObject **ret_args);
/* A step of the operation @r asked for: streamed as {"step": @what, "ms"}
 * when the client asked for a stream; @ms since the request came. */
void lodge_http_post_step (LodgeHttpRequest *r, const char *what, gint64 ms);

/* A job with output and progress (a repair, an application's install):
 * returns a JSON object (text). */
typedef char *(*LodgeHttpJobFunc) (gpointer data, LodgeRepairOutput out, gpointer out_data,
                                   LodgeProgress progress, gpointer progress_data, GError **error);
/* Runs @job: streamed when the client asked for it, else its output is
 * collected into the result object's "output" (base64, at most 16 MiB);
 * @what names it in the log on failure. */
void lodge_http_run_job (LodgeHttpRequest *r, const char *what, LodgeHttpJobFunc job,
                         gpointer data);

G_END_DECLS
