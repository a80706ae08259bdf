#include "lodge-storage-error.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK (lodge-storage-error-quark, lodge_storage_error)

static LodgeStorageErrorCode
code_for_errno (int err)
{
  switch (err)
    {
    case ENOENT:
      return LODGE_STORAGE_ERROR_NOT_FOUND;
    case EEXIST:
      return LODGE_STORAGE_ERROR_EXISTS;
    case ERANGE:    /* rados_write_op_assert_version: older than expected */
    case EOVERFLOW: /* ... newer than expected */
    case ECANCELED:
      return LODGE_STORAGE_ERROR_CONFLICT;
    case EBUSY:
    case ENOTEMPTY:
      return LODGE_STORAGE_ERROR_BUSY;
    case ETIMEDOUT:
    case ENOTCONN:
    case ECONNREFUSED:
      return LODGE_STORAGE_ERROR_UNREACHABLE;
    case ESHUTDOWN: /* EBLOCKLISTED */
      return LODGE_STORAGE_ERROR_FENCED;
    case ENOSPC:
    case EDQUOT:
      return LODGE_STORAGE_ERROR_FULL;
    case EACCES:
    case EPERM:
      return LODGE_STORAGE_ERROR_PERMISSION;
    case EINVAL:
      return LODGE_STORAGE_ERROR_INVALID;
    default:
      return LODGE_STORAGE_ERROR_FAILED;
    }
}

gboolean
lodge_storage_set_error (GError **error, int r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *context = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  int err = r < 0 ? -r : r;
  /* strerror's words alone mislead here: a full Ceph is not a full local
   * disk, and a timeout is Ceph's, not the network's. */
  const char *what = err == ENOSPC  ? "the Ceph cluster is full (an OSD passed its full ratio); "
                                      "writes that need space are refused until space is freed"
                     : err == EDQUOT ? "the Ceph pool is over its quota"
                     : err == ETIMEDOUT ? "Ceph did not answer in time (OSDs down, placement "
                                          "groups inactive, or the cluster overloaded)"
                                        : g_strerror (err);
  g_set_error (error, LODGE_STORAGE_ERROR, code_for_errno (err), "%s: %s", context, what);
  return FALSE;
}

gboolean
lodge_storage_check_name (const char *name, const char *what, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gboolean ok = len >= 1 && len <= 128 && name[0] != '.' && name[0] != '_' && name[0] != '-';
  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_isalnum (name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
  if (!ok)
    {
      g_autofree char *shown = name != NULL ? g_strescape (name, NULL) : g_strdup ("(null)");
      if (strlen (shown) > 64)
        strcpy (shown + 61, "...");
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "invalid %s '%s': use 1-128 of A-Z, a-z, 0-9, '.', '_' and '-', "
                   "not starting with '.', '_' or '-'",
                   what, shown);
    }
  return ok;
}
