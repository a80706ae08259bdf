#include "lodge-template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-app.h"
#include "lodge-error.h"
#include "lodge-guestfs.h"
#include "lodge-lease.h"
#include "lodge-rbd.h"
#include "lodge-storage-error.h"
#include "lodge-tar.h"
#include "lodge-tier.h"
#include "lodge-xml.h"

LODGE_ENUM_IMPL (lodge_import_stage, LODGE_IMPORT_LAST,
                 "check", "archive", "image", "launch", "copy", "snapshot");

#define MIN_IMAGE_SIZE (64ULL << 20)
/* ext4 makes one inode per 16 KiB by default: leave room for 1.5 inodes
 * per entry, and 20% plus 32 MiB over the content for metadata and the
 * journal. */
#define BYTES_PER_ENTRY (24ULL << 10)
#define IMPORT_LEASE_SECONDS 3600

/* ---- clones ---- */

GPtrArray *
lodge_template_clones (LodgeStore *store, const LodgeTemplate *t, const char *version,
                       GError **error)
{
  const LodgeTemplateVersion *v = lodge_template_find_version (t, version, error);
  if (v == NULL)
    return NULL;
  return lodge_rbd_snap_children (lodge_store_get_rados (store), t->pool, t->image, v->snapshot,
                                  error);
}

/* ---- import ---- */

typedef struct {
  LodgeImportProgress func;
  gpointer user_data;
} Progress;

static void
report (Progress *p, LodgeImportStage stage, guint64 done, guint64 total)
{
  if (p->func != NULL)
    p->func (stage, done, total, p->user_data);
}

static void
archive_progress (guint64 done, guint64 total, gpointer user_data)
{
  report (user_data, LODGE_IMPORT_ARCHIVE, done, total);
}

static void
check_progress (guint64 done, guint64 total, gpointer user_data)
{
  report (user_data, LODGE_IMPORT_CHECK, done, total);
}

static char *
next_version (const LodgeTemplate *t)
{
  guint64 max = 0;
  for (guint i = 0; t != NULL && i < t->versions->len; i++)
    {
      guint64 n;
      const char *v = ((LodgeTemplateVersion *) t->versions->pdata[i])->version;
      if (g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT32, &n, NULL) && n > max)
        max = n;
    }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, max + 1);
}

static char *
lease_holder (void)
{
  return g_strdup_printf ("import-%d-%08x", getpid (), g_random_int ());
}

/* Packs @source, or checks it and writes it again, into an archive
 * guestfs can unpack: the appliance only unpacks what was checked. */
static gboolean
prepare_archive (const char *source, Progress *p, char **ret_tarfile, gboolean *ret_temporary,
                 LodgeTarCompression *ret_compression, LodgeTarStats *ret_stats, GError **error)
{
  GStatBuf st;
  if (g_stat (source, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: %s", source, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s is neither a directory nor a tar archive", source);
      return FALSE;
    }
  int fd = g_file_open_tmp ("lodge-import-XXXXXX.tar", ret_tarfile, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  *ret_temporary = TRUE;
  *ret_compression = LODGE_TAR_COMPRESSION_NONE;
  if (S_ISDIR (st.st_mode))
    return lodge_tar_write_tree (source, *ret_tarfile, archive_progress, p, ret_stats, error);
  return lodge_tar_rewrite (source, *ret_tarfile, check_progress, p, NULL, ret_stats, error);
}

static guint64
image_size_for (const LodgeTarStats *s)
{
  guint64 entries = s->files + s->directories + s->symlinks + s->hardlinks + s->fifos;
  guint64 size = s->bytes + s->bytes / 5 + entries * BYTES_PER_ENTRY + (32ULL << 20);
  size = (size + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
  return MAX (size, MIN_IMAGE_SIZE);
}

/* Formats the image's head and unpacks the tree into it, inside the
 * appliance. */
static gboolean
fill_image (const char *client_id, const LodgeTemplate *t, const char *tarfile,
            LodgeTarCompression compression, Progress *p, GError **error)
{
  g_autoptr (LodgeGuestfs) g = lodge_guestfs_new (error);
  if (g == NULL || !lodge_guestfs_add_rbd (g, t->pool, t->image, NULL, client_id, FALSE, error))
    return FALSE;
  report (p, LODGE_IMPORT_LAUNCH, 0, 1);
  if (!lodge_guestfs_launch (g, error))
    return FALSE;
  report (p, LODGE_IMPORT_COPY, 0, 1);
  const char *dev = lodge_guestfs_disk (g);
  if (!lodge_guestfs_mkfs_ext4 (g, dev, "lodge-root", error)
      || !lodge_guestfs_mount (g, dev, FALSE, error)
      || !lodge_guestfs_tar_in (g, tarfile,
                                compression == LODGE_TAR_COMPRESSION_GZIP ? "gzip" : NULL, error)
      || !lodge_guestfs_shutdown (g, error))
    return FALSE;
  report (p, LODGE_IMPORT_COPY, 1, 1);
  return TRUE;
}

static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* What an import made so far, to undo on failure. */
typedef struct {
  char *pool, *image;
  gboolean created_image;
  char *snapshot;
  char *tarfile;
  gboolean temporary;
} ImportState;

/* What an application template adds to a version. */
typedef struct {
  LodgeTemplateKind kind;
  char *manifest;
  GHashTable *config_templates;
} ImportKind;

static LodgeTemplateVersion *
import_locked (LodgeStore *store, const char *client_id, const char *name, const char *source,
               const char *version, const ImportKind *kind, Progress *p, ImportState *st,
               GError **error)
{
  LodgeRados *rados = lodge_store_get_rados (store);
  g_autoptr (GError) local = NULL;
  guint64 record_version = 0;
  g_autoptr (LodgeTemplate) t = lodge_template_load (store, name, &record_version, &local);
  if (t == NULL && !g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  gboolean is_new = t == NULL;
  if (is_new)
    {
      t = lodge_template_new (name);
      t->kind = kind->kind;
    }
  else if (t->kind != kind->kind)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID,
                   "template %s is an %s template; import the %s under another name", name,
                   t->kind == LODGE_TEMPLATE_KIND_OS ? "OS" : "application",
                   kind->kind == LODGE_TEMPLATE_KIND_OS ? "OS tree" : "application");
      return NULL;
    }
  st->pool = g_strdup (t->pool);
  st->image = g_strdup (t->image);

  g_autofree char *ver = version != NULL ? g_strdup (version) : next_version (t);
  if (lodge_template_find_version (t, ver, NULL) != NULL)
    {
      g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_EXISTS,
                   "template %s already has version %s", name, ver);
      return NULL;
    }

  LodgeTarStats stats = { 0 };
  LodgeTarCompression compression = LODGE_TAR_COMPRESSION_NONE;
  if (!prepare_archive (source, p, &st->tarfile, &st->temporary, &compression, &stats, error))
    return NULL;

  guint64 size = image_size_for (&stats);
  report (p, LODGE_IMPORT_IMAGE, 0, size);
  gboolean exists = FALSE;
  if (!lodge_tier_ensure_templates (rados, error)
      || !lodge_rbd_exists (rados, t->pool, t->image, &exists, error))
    return NULL;
  if (!exists)
    {
      if (!lodge_rbd_create (rados, t->pool, t->image, size, error))
        return NULL;
      st->created_image = TRUE;
    }
  else if (!lodge_rbd_grow (rados, t->pool, t->image, size, &local))
    {
      /* An image larger than needed stays as it is. */
      if (!g_error_matches (local, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      g_clear_error (&local);
    }

  if (!fill_image (client_id, t, st->tarfile, compression, p, error))
    return NULL;

  g_autofree char *snap = g_strconcat ("v-", ver, NULL);
  report (p, LODGE_IMPORT_SNAPSHOT, 0, 1);
  if (!lodge_rbd_snap_create (rados, t->pool, t->image, snap, TRUE, error))
    return NULL;
  st->snapshot = g_strdup (snap);

  g_auto (LodgeRbdInfo) info = { 0 };
  if (!lodge_rbd_stat (rados, t->pool, t->image, &info, error))
    return NULL;

  LodgeTemplateVersion *v = g_new0 (LodgeTemplateVersion, 1);
  v->version = g_strdup (ver);
  v->snapshot = g_strdup (snap);
  v->created = now_iso8601 ();
  v->source = g_strdup (source);
  v->bytes = stats.bytes;
  v->files = stats.files;
  v->image_size = info.size;
  v->manifest = g_strdup (kind->manifest);
  v->config_templates = kind->config_templates != NULL ? g_hash_table_ref (kind->config_templates)
                                                        : NULL;
  g_ptr_array_add (t->versions, v);

  if (!lodge_template_save (store, t, is_new ? 0 : record_version, error))
    return NULL;
  report (p, LODGE_IMPORT_SNAPSHOT, 1, 1);
  return lodge_template_version_copy (v);
}

static LodgeTemplateVersion *
import_kind (LodgeStore *store, const char *client_id, const char *name, const char *source,
             const char *version, const ImportKind *kind, LodgeImportProgress progress,
             gpointer user_data, GError **error)
{
  g_return_val_if_fail (store != NULL && source != NULL && client_id != NULL, NULL);
  if (!lodge_template_check_name (name, error)
      || (version != NULL && !lodge_template_check_version (version, error)))
    return NULL;

  Progress p = { progress, user_data };
  g_autofree char *lease = g_strconcat ("template-", name, NULL);
  g_autofree char *holder = lease_holder ();
  g_autofree char *desc = g_strdup_printf ("import of %s, pid %d", source, getpid ());
  if (!lodge_lease_acquire (store, lease, holder, desc, IMPORT_LEASE_SECONDS, error))
    {
      g_prefix_error (error, "template %s is being changed by another command: ", name);
      return NULL;
    }

  ImportState st = { 0 };
  LodgeTemplateVersion *result =
    import_locked (store, client_id, name, source, version, kind, &p, &st, error);
  if (result == NULL)
    {
      /* Nothing new stays behind. */
      LodgeRados *rados = lodge_store_get_rados (store);
      if (st.snapshot != NULL)
        lodge_rbd_snap_remove (rados, st.pool, st.image, st.snapshot, NULL);
      if (st.created_image)
        lodge_rbd_remove (rados, st.pool, st.image, TRUE, NULL);
    }
  if (st.temporary && st.tarfile != NULL)
    g_unlink (st.tarfile);
  g_free (st.pool);
  g_free (st.image);
  g_free (st.snapshot);
  g_free (st.tarfile);
  lodge_lease_release (store, lease, holder, NULL);
  return result;
}

LodgeTemplateVersion *
lodge_template_import (LodgeStore *store, const char *client_id, const char *name,
                       const char *source, const char *version, LodgeImportProgress progress,
                       gpointer user_data, GError **error)
{
  ImportKind kind = { LODGE_TEMPLATE_KIND_OS, NULL, NULL };
  return import_kind (store, client_id, name, source, version, &kind, progress, user_data, error);
}

/* @rel inside directory @top, which no symlink may lead out of; its real
 * path, or NULL with @error naming @rel. */
static char *
tree_path (const char *top_real, const char *top, const char *rel, GError **error)
{
  g_autofree char *joined = g_build_filename (top, rel, NULL);
  g_autofree char *real = realpath (joined, NULL);
  if (real == NULL)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, saved == ENOENT ? LODGE_ERROR_INVALID : LODGE_ERROR_IO,
                   "%s: %s is not in the tree: %s", LODGE_APP_MANIFEST_NAME, rel,
                   g_strerror (saved));
      return NULL;
    }
  gsize n = strlen (top_real);
  if (strncmp (real, top_real, n) != 0 || (real[n] != '/' && real[n] != '\0'))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: %s leads out of the tree (to %s) through a symlink",
                   LODGE_APP_MANIFEST_NAME, rel, real);
      return NULL;
    }
  return g_steal_pointer (&real);
}

LodgeTemplateVersion *
lodge_template_import_application (LodgeStore *store, const char *client_id, const char *name,
                                   const char *source, const char *version,
                                   LodgeImportProgress progress, gpointer user_data,
                                   GError **error)
{
  if (!g_file_test (source, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "%s: an application template is imported from a directory (with %s at "
                   "its top)", source, LODGE_APP_MANIFEST_NAME);
      return NULL;
    }
  g_autofree char *top_real = realpath (source, NULL);
  if (top_real == NULL)
    {
      int saved = errno;
      g_set_error (error, LODGE_ERROR, LODGE_ERROR_IO, "%s: %s", source, g_strerror (saved));
      return NULL;
    }
  g_autofree char *manifest_path = tree_path (top_real, source, LODGE_APP_MANIFEST_NAME, error);
  gsize len = 0;
  g_autofree char *xml = manifest_path != NULL
                           ? lodge_xml_read_file (manifest_path, LODGE_XML_MAX_BYTES, &len, error)
                           : NULL;
  if (xml == NULL)
    return NULL;
  g_autofree char *origin = g_build_filename (source, LODGE_APP_MANIFEST_NAME, NULL);
  g_autoptr (LodgeAppManifest) m = lodge_app_manifest_parse (xml, len, origin, error);
  if (m == NULL)
    return NULL;
  for (guint i = 0; i < m->copies->len; i++)
    {
      const LodgeAppCopy *c = m->copies->pdata[i];
      g_autofree char *real = tree_path (top_real, source, c->from, error);
      if (real == NULL)
        return NULL;
    }
  g_autoptr (GHashTable) templates = lodge_template_config_templates_new ();
  for (guint i = 0; i < m->files->len; i++)
    {
      const LodgeAppFile *f = m->files->pdata[i];
      g_autofree char *real = tree_path (top_real, source, f->template_path, error);
      char *data = NULL;
      gsize size = 0;
      if (real == NULL || !g_file_get_contents (real, &data, &size, error))
        return NULL;
      if (size > LODGE_APP_MAX_TEMPLATE_BYTES)
        {
          g_free (data);
          g_set_error (error, LODGE_ERROR, LODGE_ERROR_INVALID,
                       "%s: config file template %s is %" G_GSIZE_FORMAT " bytes; at most %d are "
                       "allowed", LODGE_APP_MANIFEST_NAME, f->template_path, size,
                       LODGE_APP_MAX_TEMPLATE_BYTES);
          return NULL;
        }
      g_hash_table_insert (templates, g_strdup (f->template_path), g_bytes_new_take (data, size));
    }
  ImportKind kind = { LODGE_TEMPLATE_KIND_APPLICATION, xml, templates };
  return import_kind (store, client_id, name, source, version, &kind, progress, user_data, error);
}

/* ---- delete ---- */

static gboolean
refuse_if_cloned (LodgeStore *store, const LodgeTemplate *t, const char *version, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < t->versions->len; i++)
    {
      LodgeTemplateVersion *v = t->versions->pdata[i];
      if (version != NULL && strcmp (v->version, version) != 0)
        continue;
      g_autoptr (GPtrArray) clones = lodge_template_clones (store, t, v->version, error);
      if (clones == NULL)
        return FALSE;
      for (guint j = 0; j < clones->len; j++)
        g_ptr_array_add (all, g_strdup_printf ("%s (from %s)", (char *) clones->pdata[j],
                                               v->version));
    }
  if (all->len == 0)
    return TRUE;
  g_autoptr (GString) list = g_string_new (NULL);
  for (guint i = 0; i < all->len; i++)
    g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) all->pdata[i]);
  g_set_error (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_BUSY,
               "template %s%s%s is in use by %u disk%s: %s", t->name, version ? "@" : "",
               version ? version : "", all->len, all->len == 1 ? "" : "s", list->str);
  return FALSE;
}

gboolean
lodge_template_delete (LodgeStore *store, const char *name, const char *version, GError **error)
{
  if (!lodge_template_check_name (name, error)
      || (version != NULL && !lodge_template_check_version (version, error)))
    return FALSE;
  LodgeRados *rados = lodge_store_get_rados (store);
  g_autofree char *lease = g_strconcat ("template-", name, NULL);
  g_autofree char *holder = lease_holder ();
  if (!lodge_lease_acquire (store, lease, holder, "template delete", 600, error))
    {
      g_prefix_error (error, "template %s is being changed by another command: ", name);
      return FALSE;
    }

  g_autoptr (GError) local = NULL;
  guint64 record_version = 0;
  g_autoptr (LodgeTemplate) t = lodge_template_load (store, name, &record_version, &local);
  gboolean ok = t != NULL && (version == NULL || lodge_template_find_version (t, version, &local))
                && refuse_if_cloned (store, t, version, &local);
  if (ok && version != NULL)
    {
      const LodgeTemplateVersion *v = lodge_template_find_version (t, version, NULL);
      g_autofree char *snap = g_strdup (v->snapshot);
      ok = lodge_rbd_snap_remove (rados, t->pool, t->image, snap, &local);
      for (guint i = 0; ok && i < t->versions->len; i++)
        if (strcmp (((LodgeTemplateVersion *) t->versions->pdata[i])->version, version) == 0)
          g_ptr_array_remove_index (t->versions, i);
      ok = ok && lodge_template_save (store, t, record_version, &local);
    }
  else if (ok)
    {
      gboolean exists = FALSE;
      ok = lodge_rbd_exists (rados, t->pool, t->image, &exists, &local)
           && (!exists || lodge_rbd_remove (rados, t->pool, t->image, TRUE, &local))
           && lodge_template_remove_record (store, name, record_version, &local);
    }
  lodge_lease_release (store, lease, holder, NULL);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}
