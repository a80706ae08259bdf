/* The lodge CLI's side of the control center's API: one request, one
 * answer, over the UNIX socket (default) or TCP with a bearer token. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LODGE_CLIENT_ERROR (lodge_client_error_quark ())
GQuark lodge_client_error_quark (void);

/* Codes follow the API's error codes. */
typedef enum {
  LODGE_CLIENT_ERROR_FAILED,
  LODGE_CLIENT_ERROR_UNREACHABLE, /* no control center answers */
  LODGE_CLIENT_ERROR_INVALID,
  LODGE_CLIENT_ERROR_UNAUTHORIZED,
  LODGE_CLIENT_ERROR_NOT_FOUND,
  LODGE_CLIENT_ERROR_CONFLICT,
  LODGE_CLIENT_ERROR_CAPACITY,
} LodgeClientErrorCode;

typedef struct _LodgeClient LodgeClient;

/* @target: the control centers to try, comma-separated, each
 * "unix:/path/to/lodged.sock" or "http://HOST:PORT"; NULL: $LODGE_URL,
 * else the controllers of the configuration file ($LODGE_CONFIG, else
 * /etc/lodge/client.conf: [client] controllers=URL;URL), else the local
 * cluster's socket. A request goes to the first that answers as the
 * leader: one that cannot be reached is passed over, and a standby's
 * answer (503 with the header Lodge-Leader) sends it to the leader it
 * names, so that a takeover needs no reconfiguration. @token (or
 * $LODGE_TOKEN) goes with every request. */
LodgeClient *lodge_client_new (const char *target, const char *token, GError **error);
void lodge_client_free (LodgeClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeClient, lodge_client_free)

/* Sends @method @path with @body (may be NULL) and returns the answer's
 * body on 2xx; else an error with the API's message. */
GBytes *lodge_client_request (LodgeClient *client, const char *method, const char *path,
                              const char *content_type, GBytes *body, GError **error);

/* The same, also giving the answer's @header (NULL if absent) in *@ret_header. */
GBytes *lodge_client_request_full (LodgeClient *client, const char *method, const char *path,
                                   const char *content_type, GBytes *body, const char *header,
                                   char **ret_header, GError **error);

/* A lifecycle operation, with its steps as they happen: @on_step gets each
 * one (and the ms since the request arrived) while the control center
 * works; the answer (the same as without streaming) is returned at the end. */
typedef void (*LodgeClientStepFunc) (const char *step, gint64 ms, gpointer user_data);
GBytes *lodge_client_request_steps (LodgeClient *client, const char *method, const char *path,
                                    LodgeClientStepFunc on_step, gpointer user_data, GError **error);

/* The same with a request @body, and the output of the operation (a
 * repair's: file contents, listings) to @on_data as it comes; @on_data
 * returns FALSE to stop. */
typedef gboolean (*LodgeClientDataFunc) (const char *data, gsize len, gpointer user_data);
GBytes *lodge_client_request_stream (LodgeClient *client, const char *method, const char *path,
                                     const char *content_type, GBytes *body,
                                     LodgeClientStepFunc on_step, LodgeClientDataFunc on_data,
                                     gpointer user_data, GError **error);

/* Uploads the file at @file (its bytes as they are, @content_type) with
 * @method @path, streamed from the disk, and follows the operation's
 * steps as lodge_client_request_steps does; @on_sent (may be NULL) is
 * told the bytes sent so far. */
typedef void (*LodgeClientSentFunc) (guint64 sent, guint64 total, gpointer user_data);
GBytes *lodge_client_upload (LodgeClient *client, const char *method, const char *path,
                             const char *content_type, const char *file, LodgeClientSentFunc on_sent,
                             LodgeClientStepFunc on_step, gpointer user_data, GError **error);

G_END_DECLS
