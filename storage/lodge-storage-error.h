/* Errors of the storage layer (RADOS, RBD). librados and librbd return
 * -errno; lodge_storage_set_error() is the one place that turns one into a
 * GError. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LODGE_STORAGE_ERROR (lodge_storage_error_quark ())
GQuark lodge_storage_error_quark (void);

typedef enum {
  LODGE_STORAGE_ERROR_FAILED,
  LODGE_STORAGE_ERROR_UNREACHABLE, /* cluster down or too slow: a timeout */
  LODGE_STORAGE_ERROR_NOT_FOUND,
  LODGE_STORAGE_ERROR_EXISTS,
  LODGE_STORAGE_ERROR_CONFLICT,    /* a compare-and-set lost the race */
  LODGE_STORAGE_ERROR_BUSY,        /* locked, or in use (clones, watchers) */
  LODGE_STORAGE_ERROR_INVALID,     /* a bad name or argument */
  LODGE_STORAGE_ERROR_PERMISSION,
  LODGE_STORAGE_ERROR_FENCED,      /* this client is blocklisted: it was fenced */
  LODGE_STORAGE_ERROR_FULL,        /* the cluster or the pool is full (or over its quota) */
  LODGE_STORAGE_ERROR_SUPERSEDED,  /* a newer leader's generation holds the record */
} LodgeStorageErrorCode;

/* Sets @error from librados/librbd's @r (a negative errno) with a message
 * "<printf>: <strerror>"; always returns FALSE. */
gboolean lodge_storage_set_error (GError **error, int r, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

/* Checks a name used in RADOS object or RBD image names: 1-128 of
 * [A-Za-z0-9._-], not starting with '.', '_' or '-'. @what names it in the
 * error ("template name"). */
gboolean lodge_storage_check_name (const char *name, const char *what, GError **error);

G_END_DECLS
