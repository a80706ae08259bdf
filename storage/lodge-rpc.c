#include "lodge-rpc.h"

#include <errno.h>
#include <string.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"

#define RPC_NAMESPACE "rpc"
/* Seconds the OSDs keep a watch whose client went silent: a dead agent
 * stops holding callers this long after it died. */
#define WATCH_TIMEOUT_S 10
/* An answer's first byte: it was answered, or refused with a message. */
#define ANSWER_OK 'O'
#define ANSWER_REFUSED 'E'

struct _LodgeRpcServer {
  LodgeIoctx *ioctx;
  char *object;
  guint64 cookie;
  gboolean watching;
  LodgeRpcHandler handler;
  gpointer user_data;
};

static char *
rpc_object (const char *node)
{
  return g_strdup_printf ("rpc.%s", node);
}

static void
on_request (void *arg, uint64_t notify_id, uint64_t handle, uint64_t notifier_id, void *data,
            size_t data_len)
{
  LodgeRpcServer *server = arg;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  if (data_len > LODGE_RPC_MAX_REQUEST)
    g_set_error (&error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                 "request of %zu bytes refused (at most %d)", data_len, LODGE_RPC_MAX_REQUEST);
  else
    {
      g_autoptr (GBytes) request = g_bytes_new (data, data_len);
      answer = server->handler (request, server->user_data, &error);
      if (answer != NULL && g_bytes_get_size (answer) + 1 > LODGE_RPC_MAX_REPLY)
        {
          g_set_error (&error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                       "answer of %zu bytes not sent (at most %d)", g_bytes_get_size (answer),
                       LODGE_RPC_MAX_REPLY - 1);
          g_clear_pointer (&answer, g_bytes_unref);
        }
    }
  GByteArray *reply = g_byte_array_new ();
  if (answer != NULL)
    {
      g_byte_array_append (reply, (const guint8 *) "O", 1);
      g_byte_array_append (reply, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
    }
  else
    {
      const char *message = error != NULL ? error->message : "refused";
      g_byte_array_append (reply, (const guint8 *) "E", 1);
      g_byte_array_append (reply, (const guint8 *) message, strlen (message));
    }
  rados_notify_ack (server->ioctx->io, server->object, notify_id, server->cookie,
                    (const char *) reply->data, reply->len);
  g_byte_array_unref (reply);
}

/* The watch was lost (the client reconnected, or stalled past the
 * timeout): lodge_rpc_server_check watches again. */
static void
on_watch_error (void *arg, uint64_t cookie, int err)
{
  LodgeRpcServer *server = arg;
  g_atomic_int_set (&server->watching, FALSE);
}

static gboolean
watch (LodgeRpcServer *server, GError **error)
{
  rados_write_op_t op = rados_create_write_op ();
  rados_write_op_create (op, LIBRADOS_CREATE_IDEMPOTENT, NULL);
  int r = rados_write_op_operate (op, server->ioctx->io, server->object, NULL, 0);
  rados_release_write_op (op);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot create %s", server->object);
  r = rados_watch3 (server->ioctx->io, server->object, &server->cookie, on_request, on_watch_error,
                    WATCH_TIMEOUT_S, server);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot watch %s", server->object);
  g_atomic_int_set (&server->watching, TRUE);
  return TRUE;
}

LodgeRpcServer *
lodge_rpc_serve (LodgeStore *store, const char *node, LodgeRpcHandler handler, gpointer user_data,
                 GError **error)
{
  g_return_val_if_fail (store != NULL && node != NULL && handler != NULL, NULL);
  if (!lodge_storage_check_name (node, "node name", error))
    return NULL;
  g_autoptr (LodgeRpcServer) server = g_new0 (LodgeRpcServer, 1);
  server->object = rpc_object (node);
  server->handler = handler;
  server->user_data = user_data;
  server->ioctx = lodge_ioctx_open (lodge_store_get_rados (store), lodge_store_get_pool (store),
                                    RPC_NAMESPACE, error);
  if (server->ioctx == NULL || !watch (server, error))
    return NULL;
  return g_steal_pointer (&server);
}

gboolean
lodge_rpc_server_check (LodgeRpcServer *server, GError **error)
{
  if (g_atomic_int_get (&server->watching) && rados_watch_check (server->ioctx->io, server->cookie) >= 0)
    return TRUE;
  if (server->cookie != 0)
    rados_unwatch2 (server->ioctx->io, server->cookie);
  server->cookie = 0;
  return watch (server, error);
}

void
lodge_rpc_server_free (LodgeRpcServer *server)
{
  if (server == NULL)
    return;
  if (server->ioctx != NULL)
    {
      if (server->cookie != 0)
        rados_unwatch2 (server->ioctx->io, server->cookie);
      /* Wait for a handler already running. */
      rados_watch_flush (rados_ioctx_get_cluster (server->ioctx->io));
      lodge_ioctx_free (server->ioctx);
    }
  g_free (server->object);
  g_free (server);
}

/* The first acknowledgement with an answer in @reply (several agents may
 * serve a name for a moment, one stopping while the next starts: each
 * would answer alike). */
static GBytes *
first_answer (const char *node, char *reply, size_t reply_len, GError **error)
{
  struct notify_ack_t *acks = NULL;
  struct notify_timeout_t *timeouts = NULL;
  size_t n_acks = 0, n_timeouts = 0;
  int r = rados_decode_notify_response (reply, reply_len, &acks, &n_acks, &timeouts, &n_timeouts);
  if (r < 0)
    return lodge_storage_set_error (error, r, "%s's agent: an answer that does not decode", node), NULL;
  GBytes *answer = NULL;
  for (size_t i = 0; i < n_acks && answer == NULL; i++)
    {
      const char *p = acks[i].payload;
      size_t len = acks[i].payload_len;
      if (p == NULL || len == 0 || len > LODGE_RPC_MAX_REPLY)
        continue; /* not an agent's answer */
      if (p[0] == ANSWER_OK)
        answer = g_bytes_new (p + 1, len - 1);
      else if (p[0] == ANSWER_REFUSED)
        {
          g_autofree char *message = g_strndup (p + 1, len - 1);
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED, "%s's agent: %s",
                       node, g_utf8_validate (message, -1, NULL) ? message : "(a message not in UTF-8)");
          break;
        }
    }
  if (answer == NULL && (error == NULL || *error == NULL))
    g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE,
                 n_timeouts > 0 ? "%s's agent did not answer in time"
                                : "%s's agent is not listening (is it running?)",
                 node);
  rados_free_notify_response (acks, n_acks, timeouts);
  return answer;
}

GBytes *
lodge_rpc_call (LodgeStore *store, const char *node, GBytes *request, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (store != NULL && node != NULL && request != NULL, NULL);
  if (!lodge_storage_check_name (node, "node name", error))
    return NULL;
  if (g_bytes_get_size (request) > LODGE_RPC_MAX_REQUEST)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "a request of %zu bytes for %s's agent (at most %d)", g_bytes_get_size (request),
                   node, LODGE_RPC_MAX_REQUEST);
      return NULL;
    }
  g_autoptr (LodgeIoctx) ioctx = lodge_ioctx_open (lodge_store_get_rados (store),
                                                   lodge_store_get_pool (store), RPC_NAMESPACE, error);
  if (ioctx == NULL)
    return NULL;
  g_autofree char *object = rpc_object (node);
  char *reply = NULL;
  size_t reply_len = 0;
  gsize len = 0;
  const char *data = g_bytes_get_data (request, &len);
  int r = rados_notify2 (ioctx->io, object, data, (int) len, timeout_ms, &reply, &reply_len);
  if (r == -ENOENT)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_UNREACHABLE,
                   "%s's agent has never listened (an agent too old, or none yet)", node);
      return NULL;
    }
  if (reply == NULL)
    return lodge_storage_set_error (error, r, "asking %s's agent", node), NULL;
  /* On a timeout too: the acks of those that answered are there. */
  GBytes *answer = first_answer (node, reply, reply_len, error);
  rados_buffer_free (reply);
  return answer;
}
