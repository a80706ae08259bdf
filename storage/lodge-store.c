#include "lodge-store.h"

#include <errno.h>
#include <string.h>

#include "lodge-rados-private.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"

LODGE_ENUM_IMPL (lodge_store_kind, LODGE_STORE_LAST,
                 "env", "runtime", "node", "operation", "template", "lease", "node-decision",
                 "user", "address", "join-token", "pki");

/* Each namespace holds one object that nothing stores in: writers notify
 * on it, watchers watch it. Names starting with '_' are refused for
 * records, so it cannot clash. */
#define CHANGES_OBJECT "_changes"
#define NOTIFY_TIMEOUT_MS 2000
/* Most records are small: read this much first, and the rest only if the
 * record is larger. */
#define FIRST_READ (64 * 1024)

struct _LodgeStore {
  LodgeRados *rados;
  char *pool;
  GThreadPool *notifier; /* of Notice: change notifications, sent in order */
  guint64 fence;         /* the writer's generation, or 0 */
  LodgeStoreFenceCheck fence_check;
  gpointer fence_data;
};

/* The stamp on each record a leader writes: fixed width, so that RADOS'
 * string comparison of xattrs orders generations as numbers. */
#define FENCE_XATTR "lodge.generation"
#define FENCE_FORMAT "%020" G_GUINT64_FORMAT

typedef struct {
  LodgeStoreKind kind;
  char *name;
} Notice;

static void send_notice (gpointer data, gpointer user_data);

struct _LodgeStoreWatch {
  LodgeIoctx *ioctx;
  LodgeStoreKind kind;
  guint64 cookie;
  LodgeStoreChangeFunc func;
  gpointer user_data;
};

static const char *
kind_namespace (LodgeStoreKind kind)
{
  const char *ns = lodge_store_kind_to_string (kind);
  g_return_val_if_fail (ns != NULL, "invalid");
  return ns;
}

/* One I/O context per call: librados keeps the version of the last
 * operation in the context, so contexts are not shared between threads. */
static LodgeIoctx *
open_kind (LodgeStore *store, LodgeStoreKind kind, GError **error)
{
  return lodge_ioctx_open (store->rados, store->pool, kind_namespace (kind), error);
}

LodgeStore *
lodge_store_open (LodgeRados *rados, const char *pool, GError **error)
{
  g_return_val_if_fail (rados != NULL, NULL);

  g_autoptr (LodgeStore) store = g_new0 (LodgeStore, 1);
  store->rados = rados;
  store->pool = g_strdup (pool != NULL ? pool : LODGE_STATE_POOL);
  store->notifier = g_thread_pool_new (send_notice, store, 1, FALSE, NULL);
  if (!lodge_rados_ensure_pool (rados, store->pool, 3, 2, "lodge", error))
    {
      g_prefix_error (error, "cannot set up the state store: ");
      return NULL;
    }
  for (int kind = 0; kind < LODGE_STORE_LAST; kind++)
    {
      g_autoptr (LodgeIoctx) ioctx = open_kind (store, kind, error);
      if (ioctx == NULL)
        return NULL;
      rados_write_op_t op = rados_create_write_op ();
      rados_write_op_create (op, LIBRADOS_CREATE_IDEMPOTENT, NULL);
      int r = rados_write_op_operate (op, ioctx->io, CHANGES_OBJECT, NULL, 0);
      rados_release_write_op (op);
      /* A client whose caps cover only part of the store (a node's: its
       * own records) may not make them: whoever set the store up did. */
      if (r == -EPERM || r == -EACCES)
        continue;
      if (r < 0)
        return lodge_storage_set_error (error, r, "cannot create %s/%s/%s", store->pool,
                                        kind_namespace (kind), CHANGES_OBJECT),
               NULL;
    }
  return g_steal_pointer (&store);
}

void
lodge_store_free (LodgeStore *store)
{
  if (store == NULL)
    return;
  if (store->notifier != NULL)
    g_thread_pool_free (store->notifier, FALSE, TRUE); /* what was written is announced */
  g_free (store->pool);
  g_free (store);
}

LodgeRados *
lodge_store_get_rados (LodgeStore *store)
{
  return store->rados;
}

const char *
lodge_store_get_pool (LodgeStore *store)
{
  return store->pool;
}

static gboolean
check_record_name (const char *name, GError **error)
{
  return lodge_storage_check_name (name, "record name", error);
}

GBytes *
lodge_store_get (LodgeStore *store, LodgeStoreKind kind, const char *name, guint64 *ret_version,
                 GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  if (!check_record_name (name, error))
    return NULL;
  g_autoptr (LodgeIoctx) ioctx = open_kind (store, kind, error);
  if (ioctx == NULL)
    return NULL;

  gsize want = FIRST_READ;
  for (int attempt = 0; attempt < 4; attempt++)
    {
      g_autofree char *buf = g_malloc (want);
      uint64_t size = 0;
      size_t got = 0;
      int stat_rval = 0, read_rval = 0;
      rados_read_op_t op = rados_create_read_op ();
      rados_read_op_stat (op, &size, NULL, &stat_rval);
      rados_read_op_read (op, 0, want, buf, &got, &read_rval);
      int r = rados_read_op_operate (op, ioctx->io, name, 0);
      rados_release_read_op (op);
      if (r < 0)
        {
          lodge_storage_set_error (error, r, "cannot read %s/%s", kind_namespace (kind), name);
          return NULL;
        }
      if (size <= want)
        {
          if (ret_version != NULL)
            *ret_version = rados_get_last_version (ioctx->io);
          return g_bytes_new_take (g_steal_pointer (&buf), got);
        }
      if (size > LODGE_STORE_MAX_VALUE)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_FAILED,
                       "record %s/%s is %" G_GUINT64_FORMAT " bytes, over the limit",
                       kind_namespace (kind), name, (guint64) size);
          return NULL;
        }
      want = size; /* it grew between stat and read at worst: go again */
    }
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
               "record %s/%s kept changing while being read", kind_namespace (kind), name);
  return NULL;
}

/* In the notifier thread. A notify waits for every watcher's ack, and a
 * watcher that died (a killed controller) holds it for NOTIFY_TIMEOUT_MS
 * until its watch expires: writers must not wait for that (a heartbeat
 * late by seconds makes a live node look dead). */
static void
send_notice (gpointer data, gpointer user_data)
{
  Notice *n = data;
  LodgeStore *store = user_data;
  g_autoptr (LodgeIoctx) ioctx = open_kind (store, n->kind, NULL);
  /* Best effort: a watcher that missed this sees the record at its next
   * sweep. */
  if (ioctx != NULL)
    rados_notify2 (ioctx->io, CHANGES_OBJECT, n->name, (int) strlen (n->name), NOTIFY_TIMEOUT_MS,
                   NULL, NULL);
  g_free (n->name);
  g_free (n);
}

static void
notify_change (LodgeStore *store, LodgeStoreKind kind, const char *name)
{
  if (g_thread_pool_unprocessed (store->notifier) > 256)
    return; /* notifications are stuck on a dead watcher: watchers sweep anyway */
  Notice *n = g_new0 (Notice, 1);
  n->kind = kind;
  n->name = g_strdup (name);
  g_thread_pool_push (store->notifier, n, NULL);
}

static gboolean
check_value (GBytes *value, GError **error)
{
  if (g_bytes_get_size (value) > LODGE_STORE_MAX_VALUE)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "a record value is at most %d bytes", LODGE_STORE_MAX_VALUE);
      return FALSE;
    }
  return TRUE;
}

void
lodge_store_set_fence (LodgeStore *store, guint64 generation, LodgeStoreFenceCheck check,
                       gpointer user_data)
{
  store->fence = generation;
  store->fence_check = check;
  store->fence_data = user_data;
}

guint64
lodge_store_get_fence (LodgeStore *store)
{
  return store->fence;
}

gboolean
lodge_store_check_fence (LodgeStore *store, GError **error)
{
  return store->fence_check == NULL || store->fence_check (store->fence_data, error);
}

/* Adds the fence to @op: refused (ECANCELED) where a newer generation
 * wrote, and, with @stamp_it, stamped with ours. An exclusive create has
 * nothing to compare (RADOS compares before the create takes effect:
 * ENOENT). @stamp holds the text until the op is sent. */
static void
fence_op (LodgeStore *store, rados_write_op_t op, gboolean create, gboolean stamp_it, char stamp[32])
{
  if (store->fence == 0)
    return;
  g_snprintf (stamp, 32, FENCE_FORMAT, store->fence);
  if (!create)
    rados_write_op_cmpxattr (op, FENCE_XATTR, LIBRADOS_CMPXATTR_OP_GTE, stamp, strlen (stamp));
  if (stamp_it)
    rados_write_op_setxattr (op, FENCE_XATTR, stamp, strlen (stamp));
}

static gboolean
superseded (LodgeStore *store, int r, LodgeStoreKind kind, const char *name, GError **error)
{
  if (r != -ECANCELED || store->fence == 0)
    return FALSE;
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_SUPERSEDED,
               "%s/%s was written by a newer leader than this controller (generation %" G_GUINT64_FORMAT
               "): it no longer leads, and changes nothing",
               kind_namespace (kind), name, store->fence);
  return TRUE;
}

/* create or update in one write op. */
static gboolean
write_record (LodgeStore *store, LodgeStoreKind kind, const char *name, gboolean create,
              guint64 expected_version, GBytes *value, guint64 *ret_version, GError **error)
{
  g_return_val_if_fail (store != NULL && value != NULL, FALSE);
  if (!check_record_name (name, error) || !check_value (value, error)
      || !lodge_store_check_fence (store, error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_kind (store, kind, error);
  if (ioctx == NULL)
    return FALSE;

  gsize len = 0;
  const char *data = g_bytes_get_data (value, &len);
  char stamp[32];
  rados_write_op_t op = rados_create_write_op ();
  if (create)
    rados_write_op_create (op, LIBRADOS_CREATE_EXCLUSIVE, NULL);
  else
    rados_write_op_assert_exists (op); /* NOT_FOUND rather than a conflict */
  /* The fence before the version: a superseded writer learns that it is,
   * rather than that it lost a race. */
  fence_op (store, op, create, TRUE, stamp);
  if (!create)
    rados_write_op_assert_version (op, expected_version);
  rados_write_op_write_full (op, data != NULL ? data : "", len);
  int r = rados_write_op_operate (op, ioctx->io, name, NULL, 0);
  rados_release_write_op (op);
  if (r < 0)
    {
      if (superseded (store, r, kind, name, error))
        return FALSE;
      if (create)
        return lodge_storage_set_error (error, r, "cannot create %s/%s", kind_namespace (kind),
                                        name);
      if (r == -ERANGE || r == -EOVERFLOW)
        {
          g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                       "%s/%s changed since version %" G_GUINT64_FORMAT
                       " was read (another writer won)",
                       kind_namespace (kind), name, expected_version);
          return FALSE;
        }
      return lodge_storage_set_error (error, r, "cannot update %s/%s", kind_namespace (kind),
                                      name);
    }
  if (ret_version != NULL)
    *ret_version = rados_get_last_version (ioctx->io);
  notify_change (store, kind, name);
  return TRUE;
}

gboolean
lodge_store_create (LodgeStore *store, LodgeStoreKind kind, const char *name, GBytes *value,
                    guint64 *ret_version, GError **error)
{
  return write_record (store, kind, name, TRUE, 0, value, ret_version, error);
}

gboolean
lodge_store_update (LodgeStore *store, LodgeStoreKind kind, const char *name,
                    guint64 expected_version, GBytes *value, guint64 *ret_version, GError **error)
{
  return write_record (store, kind, name, FALSE, expected_version, value, ret_version, error);
}

gboolean
lodge_store_delete (LodgeStore *store, LodgeStoreKind kind, const char *name,
                    guint64 expected_version, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (!check_record_name (name, error) || !lodge_store_check_fence (store, error))
    return FALSE;
  g_autoptr (LodgeIoctx) ioctx = open_kind (store, kind, error);
  if (ioctx == NULL)
    return FALSE;

  char stamp[32];
  rados_write_op_t op = rados_create_write_op ();
  rados_write_op_assert_exists (op);
  fence_op (store, op, FALSE, FALSE, stamp);
  if (expected_version != 0)
    rados_write_op_assert_version (op, expected_version);
  rados_write_op_remove (op);
  int r = rados_write_op_operate (op, ioctx->io, name, NULL, 0);
  rados_release_write_op (op);
  if (superseded (store, r, kind, name, error))
    return FALSE;
  if (r == -ERANGE || r == -EOVERFLOW)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_CONFLICT,
                   "%s/%s changed since version %" G_GUINT64_FORMAT " was read (another writer won)",
                   kind_namespace (kind), name, expected_version);
      return FALSE;
    }
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot delete %s/%s", kind_namespace (kind), name);
  notify_change (store, kind, name);
  return TRUE;
}

GPtrArray *
lodge_store_list (LodgeStore *store, LodgeStoreKind kind, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (LodgeIoctx) ioctx = open_kind (store, kind, error);
  if (ioctx == NULL)
    return NULL;

  rados_list_ctx_t list = NULL;
  int r = rados_nobjects_list_open (ioctx->io, &list);
  if (r < 0)
    return lodge_storage_set_error (error, r, "cannot list %s", kind_namespace (kind)), NULL;

  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry = NULL;
  while ((r = rados_nobjects_list_next (list, &entry, NULL, NULL)) == 0)
    if (entry[0] != '_')
      g_ptr_array_add (names, g_strdup (entry));
  rados_nobjects_list_close (list);
  if (r != -ENOENT)
    return lodge_storage_set_error (error, r, "cannot list %s", kind_namespace (kind)), NULL;
  g_ptr_array_sort (names, lodge_compare_strings);
  return g_steal_pointer (&names);
}

static void
watch_notified (void *arg, uint64_t notify_id, uint64_t handle, uint64_t notifier_id, void *data,
                size_t data_len)
{
  LodgeStoreWatch *watch = arg;
  /* Ack first: the writer waits for it. */
  rados_notify_ack (watch->ioctx->io, CHANGES_OBJECT, notify_id, watch->cookie, NULL, 0);
  g_autofree char *name = g_strndup (data, data_len);
  watch->func (watch->kind, name, watch->user_data);
}

static void
watch_failed (void *arg, uint64_t cookie, int err)
{
  LodgeStoreWatch *watch = arg;
  watch->func (watch->kind, NULL, watch->user_data);
}

LodgeStoreWatch *
lodge_store_watch (LodgeStore *store, LodgeStoreKind kind, LodgeStoreChangeFunc func,
                   gpointer user_data, GError **error)
{
  g_return_val_if_fail (store != NULL && func != NULL, NULL);
  LodgeStoreWatch *watch = g_new0 (LodgeStoreWatch, 1);
  watch->kind = kind;
  watch->func = func;
  watch->user_data = user_data;
  watch->ioctx = open_kind (store, kind, error);
  if (watch->ioctx == NULL)
    {
      g_free (watch);
      return NULL;
    }
  int r = rados_watch2 (watch->ioctx->io, CHANGES_OBJECT, &watch->cookie, watch_notified,
                        watch_failed, watch);
  if (r < 0)
    {
      lodge_ioctx_free (watch->ioctx);
      g_free (watch);
      lodge_storage_set_error (error, r, "cannot watch %s", kind_namespace (kind));
      return NULL;
    }
  return watch;
}

void
lodge_store_watch_free (LodgeStoreWatch *watch)
{
  if (watch == NULL)
    return;
  rados_unwatch2 (watch->ioctx->io, watch->cookie);
  /* Wait for callbacks already dispatched. */
  rados_watch_flush (rados_ioctx_get_cluster (watch->ioctx->io));
  lodge_ioctx_free (watch->ioctx);
  g_free (watch);
}
