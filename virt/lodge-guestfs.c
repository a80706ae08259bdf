#include "lodge-guestfs.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <guestfs.h>
#include <glib/gstdio.h>

#include "lodge-accel.h"
#include "lodge-guestfs-private.h"
#include "lodge-strings.h"

G_DEFINE_QUARK (lodge-guestfs-error-quark, lodge_guestfs_error)

/* What is kept of the appliance's console (QEMU's and the appliance
 * kernel's words) for a launch that fails: its last bytes. */
#define CONSOLE_TAIL_MAX 8192

struct _LodgeGuestfs {
  guestfs_h *g;
  gboolean launched;
  gboolean tcg;       /* force_tcg is set */
  GString *console;   /* the tail of the appliance's console */
  GPtrArray *drives;  /* Drive: what was added, for a handle made anew */
  gboolean durable; /* writable drives flush to the disk when asked */
  char *mountpoint_device;
};

/* A drive as it was added: a handle whose launch failed cannot launch
 * again (its socket stays bound), so the TCG retry adds them to a new one. */
typedef struct {
  char *name;
  gboolean rbd;
  char *username;
  gboolean readonly;
  gboolean durable;
} Drive;

static void
drive_free (Drive *d)
{
  g_free (d->name);
  g_free (d->username);
  g_free (d);
}

/* The one place guestfs_last_error() is read. */
G_GNUC_PRINTF (3, 4) static gboolean
fail (LodgeGuestfs *g, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *context = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  const char *msg = g->g != NULL ? guestfs_last_error (g->g) : NULL;
  g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_FAILED, "%s: %s", context,
               msg != NULL ? msg : "unknown libguestfs error");
  return FALSE;
}

guestfs_h *
lodge_guestfs_handle (LodgeGuestfs *g)
{
  return g->g;
}

gboolean
lodge_guestfs_fail (LodgeGuestfs *g, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *context = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return fail (g, error, "%s", context);
}

static void
on_console (guestfs_h *h, void *data, uint64_t event, int event_handle, int flags,
            const char *buf, size_t buf_len, const uint64_t *array, size_t array_len)
{
  LodgeGuestfs *g = data;
  g_string_append_len (g->console, buf, (gssize) MIN (buf_len, CONSOLE_TAIL_MAX));
  if (g->console->len > CONSOLE_TAIL_MAX)
    g_string_erase (g->console, 0, (gssize) (g->console->len - CONSOLE_TAIL_MAX));
}

/* The last few lines of the appliance's console, printable, for an error. */
static char *
console_tail (LodgeGuestfs *g)
{
  g_auto (GStrv) lines = g_strsplit (g->console->str, "\n", -1);
  g_autoptr (GPtrArray) shown = g_ptr_array_new_with_free_func (g_free);
  for (guint i = g_strv_length (lines); i > 0 && shown->len < 4; i--)
    {
      g_strstrip (lines[i - 1]);
      if (*lines[i - 1] == '\0')
        continue;
      char *escaped = g_strescape (lines[i - 1], NULL);
      if (strlen (escaped) > 200)
        escaped[200] = '\0';
      g_ptr_array_insert (shown, 0, escaped);
    }
  if (shown->len == 0)
    return NULL;
  g_ptr_array_add (shown, NULL);
  return g_strjoinv (" / ", (char **) shown->pdata);
}

static gboolean
force_tcg (LodgeGuestfs *g, GError **error)
{
  char *settings[] = { (char *) "force_tcg", NULL };
  if (guestfs_set_backend_settings (g->g, settings) < 0)
    return fail (g, error, "cannot force TCG");
  g->tcg = TRUE;
  return TRUE;
}

/* Lodge's appliance (lodge_guestfs_use_appliance), for every handle. */
static char *appliance_dir;
static char *appliance_cachedir;

/* A name for what the appliance is built from: the kernel's and the
 * init's sizes and times. */
static char *
appliance_key (const char *kernel, const char *init, GError **error)
{
  GStatBuf k, i;
  if (g_stat (kernel, &k) != 0 || !S_ISREG (k.st_mode) || k.st_size == 0)
    {
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID,
                   "no appliance kernel %s (images/kernel/build.sh makes it)", kernel);
      return NULL;
    }
  if (g_stat (init, &i) != 0 || !S_ISREG (i.st_mode))
    {
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID,
                   "no appliance init %s", init);
      return NULL;
    }
  g_autofree char *id = g_strdup_printf ("%jd %jd %jd %jd", (intmax_t) k.st_size, (intmax_t) k.st_mtime,
                                         (intmax_t) i.st_size, (intmax_t) i.st_mtime);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
  sum[16] = '\0';
  return g_steal_pointer (&sum);
}

gboolean
lodge_guestfs_use_appliance (const char *dir, GError **error)
{
  g_autofree char *kernel = g_build_filename (dir, "vmlinuz", NULL);
  g_autofree char *modules_dir = g_build_filename (dir, "modules", NULL);
  g_autofree char *modules = g_build_filename (modules_dir, "modules.dep", NULL);
  g_autofree char *inputs = g_build_filename (dir, "supermin.d", NULL);
  g_autofree char *init = g_build_filename (inputs, "init.tar.gz", NULL);
  g_autofree char *daemon = g_build_filename (inputs, "daemon.tar.gz", NULL);
  g_autofree char *key = appliance_key (kernel, init, error);
  if (key == NULL)
    return FALSE;
  const char *missing = !g_file_test (modules, G_FILE_TEST_IS_REGULAR)  ? modules
                        : !g_file_test (daemon, G_FILE_TEST_IS_REGULAR) ? daemon
                                                                        : NULL;
  if (missing != NULL)
    {
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID,
                   "the appliance in %s lacks %s", dir, missing);
      return FALSE;
    }
  const char *base = g_getenv ("LIBGUESTFS_CACHEDIR");
  g_autofree char *name = g_strconcat ("lodge-appliance-", key, NULL);
  g_autofree char *cachedir = g_build_filename (base != NULL && *base ? base : "/var/tmp", name, NULL);
  if (g_mkdir_with_parents (cachedir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_FAILED,
                   "cannot make the appliance's cache directory %s: %s", cachedir, g_strerror (e));
      return FALSE;
    }
  g_setenv ("SUPERMIN_KERNEL", kernel, TRUE);
  g_setenv ("SUPERMIN_MODULES", modules_dir, TRUE);
  g_free (appliance_dir);
  g_free (appliance_cachedir);
  appliance_dir = g_strdup (dir);
  appliance_cachedir = g_steal_pointer (&cachedir);
  return TRUE;
}

/* A new libguestfs handle in @g (closing any earlier one): the direct
 * backend, errors as GErrors, the console followed, TCG when @tcg. */
static gboolean
make_handle (LodgeGuestfs *g, gboolean tcg, GError **error)
{
  if (g->g != NULL)
    guestfs_close (g->g);
  g->tcg = FALSE;
  g->g = guestfs_create ();
  if (g->g == NULL)
    {
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_FAILED,
                   "cannot create a libguestfs handle: %s", g_strerror (errno));
      return FALSE;
    }
  /* Errors come back as GErrors, not on stderr. */
  guestfs_set_error_handler (g->g, NULL, NULL);
  if (guestfs_set_backend (g->g, "direct") < 0)
    return fail (g, error, "cannot select libguestfs's direct backend");
  if (guestfs_set_event_callback (g->g, on_console, GUESTFS_EVENT_APPLIANCE, 0, g) < 0)
    return fail (g, error, "cannot follow the appliance's console");
  /* acpi=noirq: PCI interrupts routed by the chipset's router, not by
   * ACPI's link devices, whose methods cost about 0.2 s each under TCG
   * (bench/run-appliance.sh). Only for Lodge's kernel. */
  if (appliance_dir != NULL
      && (guestfs_set_path (g->g, appliance_dir) < 0
          || guestfs_set_cachedir (g->g, appliance_cachedir) < 0
          || guestfs_set_append (g->g, "acpi=noirq") < 0))
    return fail (g, error, "cannot use the appliance in %s", appliance_dir);
  return !tcg || force_tcg (g, error);
}

LodgeGuestfs *
lodge_guestfs_new (GError **error)
{
  g_autoptr (LodgeGuestfs) g = g_new0 (LodgeGuestfs, 1);
  g->console = g_string_new (NULL);
  g->drives = g_ptr_array_new_with_free_func ((GDestroyNotify) drive_free);
  if (!make_handle (g, lodge_accel_probe (NULL) == LODGE_ACCEL_TCG, error))
    return NULL;
  return g_steal_pointer (&g);
}

void
lodge_guestfs_free (LodgeGuestfs *g)
{
  if (g == NULL)
    return;
  if (g->g != NULL)
    guestfs_close (g->g); /* also stops a running appliance */
  g_free (g->mountpoint_device);
  if (g->console != NULL)
    g_string_free (g->console, TRUE);
  if (g->drives != NULL)
    g_ptr_array_unref (g->drives);
  g_free (g);
}

static gboolean
add_drive (LodgeGuestfs *g, const Drive *d, GError **error)
{
  int r = d->rbd ? guestfs_add_drive_opts (g->g, d->name, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                           GUESTFS_ADD_DRIVE_OPTS_PROTOCOL, "rbd",
                                           GUESTFS_ADD_DRIVE_OPTS_USERNAME, d->username,
                                           GUESTFS_ADD_DRIVE_OPTS_READONLY, d->readonly,
                                           GUESTFS_ADD_DRIVE_OPTS_CACHEMODE,
                                           d->durable ? "writeback" : "unsafe", -1)
                 : guestfs_add_drive_opts (g->g, d->name, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                           GUESTFS_ADD_DRIVE_OPTS_READONLY, d->readonly, -1);
  if (r < 0)
    return fail (g, error, "cannot add %s %s", d->rbd ? "RBD image" : "disk image", d->name);
  return TRUE;
}

static gboolean
add_and_keep (LodgeGuestfs *g, Drive *d, GError **error)
{
  if (!add_drive (g, d, error))
    {
      drive_free (d);
      return FALSE;
    }
  g_ptr_array_add (g->drives, d);
  return TRUE;
}

gboolean
lodge_guestfs_add_rbd (LodgeGuestfs *g, const char *pool, const char *image, const char *snap,
                       const char *client_id, gboolean readonly, GError **error)
{
  Drive *d = g_new0 (Drive, 1);
  d->name = snap != NULL ? g_strdup_printf ("%s/%s@%s", pool, image, snap)
                         : g_strdup_printf ("%s/%s", pool, image);
  d->rbd = TRUE;
  d->username = g_strdup (client_id);
  d->readonly = readonly || snap != NULL;
  d->durable = g->durable;
  return add_and_keep (g, d, error);
}

void
lodge_guestfs_set_durable (LodgeGuestfs *g, gboolean durable)
{
  g->durable = durable;
}

gboolean
lodge_guestfs_add_file (LodgeGuestfs *g, const char *path, gboolean readonly, GError **error)
{
  Drive *d = g_new0 (Drive, 1);
  d->name = g_strdup (path);
  d->readonly = readonly;
  return add_and_keep (g, d, error);
}

static gboolean
launch_failed (LodgeGuestfs *g, GError **error, const char *context)
{
  g_autoptr (GError) local = NULL;
  fail (g, &local, "%s", context);
  /* libguestfs's first line says what happened; the rest of it is advice
   * on debugging, which QEMU's own last words replace. */
  local->message[strcspn (local->message, "\n")] = '\0';
  g_autofree char *tail = console_tail (g);
  g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_LAUNCH, "%s%s%s", local->message,
               tail != NULL ? "; the appliance's last words: " : "", tail != NULL ? tail : "");
  return FALSE;
}

gboolean
lodge_guestfs_launch (LodgeGuestfs *g, GError **error)
{
  g_string_truncate (g->console, 0);
  if (guestfs_launch (g->g) < 0)
    {
      g_autoptr (GError) kvm_error = NULL;
      launch_failed (g, &kvm_error, "cannot start the libguestfs appliance");
      /* KVM was proven by a probe, but this QEMU failed under it: TCG,
       * for this handle and for every later one in this process. Not when
       * KVM is forced: then the failure is the answer. */
      if (g->tcg || g_strcmp0 (g_getenv ("LODGE_ACCEL"), "kvm") == 0)
        {
          g_propagate_error (error, g_steal_pointer (&kvm_error));
          return FALSE;
        }
      g_autofree char *reason = g_strdup_printf ("the libguestfs appliance failed under KVM: %s",
                                                 kvm_error->message);
      if (!make_handle (g, TRUE, error))
        return FALSE;
      for (guint i = 0; i < g->drives->len; i++)
        if (!add_drive (g, g->drives->pdata[i], error))
          return FALSE;
      g_string_truncate (g->console, 0);
      if (guestfs_launch (g->g) < 0)
        return launch_failed (g, error, "cannot start the libguestfs appliance (under KVM, then TCG)");
      g_message ("%s; it runs under TCG, as every appliance of this process will", reason);
      lodge_accel_demote (reason);
    }
  g->launched = TRUE;
  return TRUE;
}

const char *
lodge_guestfs_disk (LodgeGuestfs *g)
{
  return "/dev/sda";
}

gboolean
lodge_guestfs_mkfs_ext4 (LodgeGuestfs *g, const char *device, const char *label, GError **error)
{
  if (guestfs_mkfs_opts (g->g, "ext4", device, GUESTFS_MKFS_OPTS_LABEL, label, -1) < 0)
    return fail (g, error, "cannot make an ext4 filesystem on %s", device);
  return TRUE;
}

gboolean
lodge_guestfs_mount (LodgeGuestfs *g, const char *device, gboolean readonly, GError **error)
{
  int r = readonly ? guestfs_mount_ro (g->g, device, "/") : guestfs_mount (g->g, device, "/");
  if (r < 0)
    return fail (g, error, "cannot mount %s", device);
  return TRUE;
}

gboolean
lodge_guestfs_tar_in (LodgeGuestfs *g, const char *tarfile, const char *compress, GError **error)
{
  int r;
  if (compress != NULL)
    r = guestfs_tar_in_opts (g->g, tarfile, "/", GUESTFS_TAR_IN_OPTS_COMPRESS, compress,
                             GUESTFS_TAR_IN_OPTS_XATTRS, 1, -1);
  else
    r = guestfs_tar_in_opts (g->g, tarfile, "/", GUESTFS_TAR_IN_OPTS_XATTRS, 1, -1);
  if (r < 0)
    return fail (g, error, "cannot unpack the tree into the filesystem");
  return TRUE;
}

gboolean
lodge_guestfs_shutdown (LodgeGuestfs *g, GError **error)
{
  if (!g->launched)
    return TRUE;
  if (guestfs_umount_all (g->g) < 0)
    return fail (g, error, "cannot unmount");
  if (guestfs_sync (g->g) < 0)
    return fail (g, error, "cannot sync");
  if (guestfs_shutdown (g->g) < 0)
    return fail (g, error, "the appliance did not shut down cleanly");
  g->launched = FALSE;
  return TRUE;
}

/* ---- manifest ---- */

void
lodge_file_entry_free (LodgeFileEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->path);
  g_free (e->link);
  g_free (e->sha256);
  g_clear_pointer (&e->xattrs, g_hash_table_unref);
  g_free (e);
}

static LodgeFileType
type_of_mode (guint64 mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFDIR:
      return LODGE_FILE_DIRECTORY;
    case S_IFLNK:
      return LODGE_FILE_SYMLINK;
    case S_IFIFO:
      return LODGE_FILE_FIFO;
    case S_IFSOCK:
      return LODGE_FILE_SOCKET;
    case S_IFCHR:
      return LODGE_FILE_CHAR;
    case S_IFBLK:
      return LODGE_FILE_BLOCK;
    default:
      return LODGE_FILE_REGULAR;
    }
}

GPtrArray *
lodge_guestfs_find (LodgeGuestfs *g, const char *dir, gboolean skip_lost_found, GError **error)
{
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp ("lodge-find0-XXXXXX", &tmp, NULL);
  if (fd < 0)
    {
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_FAILED,
                   "cannot create a temporary file");
      return NULL;
    }
  close (fd);
  int r = guestfs_find0 (g->g, dir, tmp);
  GStatBuf st;
  if (r >= 0 && g_stat (tmp, &st) == 0 && st.st_size > LODGE_GUESTFS_FIND_MAX_BYTES)
    {
      g_unlink (tmp);
      g_set_error (error, LODGE_GUESTFS_ERROR, LODGE_GUESTFS_ERROR_INVALID,
                   "the list of the files under %s is %" G_GINT64_FORMAT " MiB, over the %d MiB "
                   "held at once: name a smaller directory",
                   dir, (gint64) st.st_size >> 20, LODGE_GUESTFS_FIND_MAX_BYTES >> 20);
      return NULL;
    }
  g_autofree char *data = NULL;
  gsize len = 0;
  gboolean ok = r >= 0 && g_file_get_contents (tmp, &data, &len, NULL);
  g_unlink (tmp);
  if (!ok)
    return fail (g, error, "cannot list the files under %s", dir), NULL;

  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < len;)
    {
      const char *name = data + i;
      gsize n = strnlen (name, len - i);
      i += n + 1;
      while (n > 0 && name[0] == '/') /* find0 may start names with the '/' after @dir */
        name++, n--;
      if (n == 0)
        continue;
      gboolean lost = g_str_has_prefix (name, "lost+found") && (name[10] == '\0' || name[10] == '/');
      if (!(skip_lost_found && lost))
        g_ptr_array_add (paths, g_strndup (name, n));
    }
  g_ptr_array_sort (paths, lodge_compare_strings);
  return paths;
}

GPtrArray *
lodge_guestfs_manifest (LodgeGuestfs *g, gboolean checksums, GError **error)
{
  g_autoptr (GPtrArray) paths = lodge_guestfs_find (g, "/", TRUE, error);
  if (paths == NULL)
    return NULL;

  g_autoptr (GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) lodge_file_entry_free);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *path = g_strconcat ("/", (const char *) paths->pdata[i], NULL);
      struct guestfs_statns *st = guestfs_lstatns (g->g, path);
      if (st == NULL)
        return fail (g, error, "cannot lstat %s in the guest", path), NULL;

      g_autoptr (LodgeFileEntry) e = g_new0 (LodgeFileEntry, 1);
      e->path = g_strdup (path);
      e->type = type_of_mode (st->st_mode);
      e->mode = st->st_mode & 07777;
      e->uid = st->st_uid;
      e->gid = st->st_gid;
      e->size = st->st_size;
      e->nlink = st->st_nlink;
      e->ino = st->st_ino;
      guestfs_free_statns (st);

      if (e->type == LODGE_FILE_SYMLINK && (e->link = guestfs_readlink (g->g, path)) == NULL)
        return fail (g, error, "cannot read the link %s in the guest", path), NULL;
      if (checksums && e->type == LODGE_FILE_REGULAR
          && (e->sha256 = guestfs_checksum (g->g, "sha256", path)) == NULL)
        return fail (g, error, "cannot checksum %s in the guest", path), NULL;

      struct guestfs_xattr_list *xl = guestfs_lgetxattrs (g->g, path);
      if (xl == NULL)
        return fail (g, error, "cannot read the extended attributes of %s", path), NULL;
      for (guint32 j = 0; j < xl->len; j++)
        {
          if (e->xattrs == NULL)
            e->xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_bytes_unref);
          g_hash_table_insert (e->xattrs, g_strdup (xl->val[j].attrname),
                               g_bytes_new (xl->val[j].attrval, xl->val[j].attrval_len));
        }
      guestfs_free_xattr_list (xl);
      g_ptr_array_add (entries, g_steal_pointer (&e));
    }
  return g_steal_pointer (&entries);
}
