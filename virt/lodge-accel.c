#include "lodge-accel-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

/* The probe's guest: a boot sector that writes 0x2a to isa-debug-exit
 * (QEMU then exits with status 0x2a << 1 | 1), then halts for good. An
 * exit with that status proves QEMU set the vCPU up under KVM, ran the
 * firmware and ran guest code; QEMU's own failures exit 1. */
static const guint8 boot_code[] = {
  0xb0, 0x2a,       /* mov al, 0x2a */
  0xe6, 0xf4,       /* out 0xf4, al */
  0xfa,             /* cli */
  0xf4,             /* hlt */
  0xeb, 0xfd,       /* jmp back to hlt */
};
#define PROBE_EXIT_STATUS ((0x2a << 1) | 1)
/* SeaBIOS reads no boot sector from a disk smaller than a cylinder. */
#define PROBE_DISK_SIZE (1024 * 1024)
/* How much of QEMU's stderr is kept for the reason. */
#define PROBE_STDERR_MAX 4096

/* The CPU models Lodge runs QEMU with under KVM: the VEs' domains
 * (<cpu mode='host-passthrough' migratable='on'>, common/lodge-domain.c)
 * and libguestfs's appliance (-cpu max). The machine type is the VEs'. */
static const struct {
  const char *what;
  const char *cpu;
} probes[] = {
  { "the VEs' CPU model (host-passthrough)", "host,migratable=on" },
  { "the libguestfs appliance's CPU model (max)", "max" },
};

static char *
write_boot_disk (GError **error)
{
  char *path = NULL;
  int fd = g_file_open_tmp ("lodge-kvm-probe-XXXXXX.img", &path, error);
  if (fd < 0)
    return NULL;
  guint8 sector[512] = { 0 };
  memcpy (sector, boot_code, sizeof boot_code);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  gboolean ok = write (fd, sector, sizeof sector) == (ssize_t) sizeof sector
                && ftruncate (fd, PROBE_DISK_SIZE) == 0;
  int saved = errno;
  close (fd);
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot write %s: %s", path,
                   g_strerror (saved));
      g_unlink (path);
      g_free (path);
      return NULL;
    }
  return path;
}

/* The last line QEMU wrote on stderr, printable, at most 300 bytes. */
static char *
last_words (GBytes *err)
{
  if (err == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (err, &len);
  if (data == NULL || len == 0)
    return NULL;
  g_autofree char *text = g_strndup (data, MIN (len, PROBE_STDERR_MAX));
  g_strchomp (text);
  const char *last = strrchr (text, '\n');
  last = last != NULL ? last + 1 : text;
  /* QEMU's own "error:" line says more than the assertion that follows. */
  const char *error_line = strstr (text, "error: ");
  if (error_line != NULL)
    {
      while (error_line > text && error_line[-1] != '\n')
        error_line--;
      last = error_line;
    }
  g_autofree char *line = g_strndup (last, strcspn (last, "\n"));
  if (*line == '\0')
    return NULL;
  g_autofree char *escaped = g_strescape (line, NULL);
  if (strlen (escaped) > 300)
    escaped[300] = '\0';
  return g_steal_pointer (&escaped);
}

typedef struct {
  gboolean done;
  GBytes *err;
} Communicated;

static void
communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Communicated *c = data;
  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, NULL, &c->err, NULL);
  c->done = TRUE;
}

static gboolean
timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* One QEMU run. TRUE when its guest ran to the exit port; else FALSE with
 * *ret_reason. */
static gboolean
run_probe (const char *qemu, const char *cpu, const char *disk, guint timeout_ms,
           char **ret_reason)
{
  g_autofree char *drive = g_strdup_printf ("file=%s,format=raw,if=ide", disk);
  const char *argv[] = {
    qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-machine", "q35,accel=kvm", "-cpu", cpu, "-m", "16", "-smp", "1",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-drive", drive, NULL,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                    | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                    &error);
  if (proc == NULL)
    {
      *ret_reason = g_strdup_printf ("cannot run %s: %s", qemu, error->message);
      return FALSE;
    }

  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Communicated c = { 0 };
  gboolean expired = FALSE;
  g_subprocess_communicate_async (proc, NULL, cancel, communicated, &c);
  g_autoptr (GSource) timer = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timer, timed_out, &expired, NULL);
  g_source_attach (timer, ctx);
  while (!c.done && !expired)
    g_main_context_iteration (ctx, TRUE);
  if (!c.done)
    {
      g_subprocess_force_exit (proc);
      g_cancellable_cancel (cancel);
      while (!c.done)
        g_main_context_iteration (ctx, TRUE);
    }
  g_source_destroy (timer);
  /* The child is reaped by GLib's worker; wait for its status here. */
  g_subprocess_wait (proc, NULL, NULL);
  g_main_context_pop_thread_default (ctx);

  g_autofree char *words = last_words (c.err);
  g_clear_pointer (&c.err, g_bytes_unref);
  if (expired)
    {
      *ret_reason = g_strdup_printf ("QEMU's guest did not finish under KVM within %.1f s "
                                     "(KVM hangs here)", timeout_ms / 1000.0);
      return FALSE;
    }
  if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == PROBE_EXIT_STATUS)
    return TRUE;
  g_autofree char *how = g_subprocess_get_if_signaled (proc)
                             ? g_strdup_printf ("died of signal %d (%s)", g_subprocess_get_term_sig (proc),
                                                g_strsignal (g_subprocess_get_term_sig (proc)))
                             : g_strdup_printf ("exited with status %d",
                                                g_subprocess_get_exit_status (proc));
  *ret_reason = g_strdup_printf ("QEMU under KVM %s%s%s", how, words != NULL ? ": " : "",
                                 words != NULL ? words : "");
  return FALSE;
}

gboolean
lodge_accel_probe_qemu (const char *qemu, guint timeout_ms, char **ret_reason)
{
  g_return_val_if_fail (qemu != NULL, FALSE);
  g_return_val_if_fail (ret_reason != NULL, FALSE);
  *ret_reason = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *disk = write_boot_disk (&error);
  if (disk == NULL)
    {
      *ret_reason = g_strdup_printf ("cannot make the probe's boot disk: %s", error->message);
      return FALSE;
    }
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < G_N_ELEMENTS (probes); i++)
    {
      g_autofree char *why = NULL;
      ok = run_probe (qemu, probes[i].cpu, disk, timeout_ms, &why);
      if (!ok)
        *ret_reason = g_strdup_printf ("%s, with %s", why, probes[i].what);
    }
  g_unlink (disk);
  return ok;
}

static char *
find_qemu (void)
{
  char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  return qemu != NULL ? qemu : g_strdup ("/usr/bin/qemu-system-x86_64");
}

/* The process's answer, a fact of the host: probed once (a probe costs
 * QEMU starts), then kept until a demotion. */
static GMutex cache_lock;
static gboolean cache_valid;
static LodgeAccel cache_accel;
static char *cache_reason;

static void
probe_now (LodgeAccel *ret_accel, char **ret_reason)
{
  *ret_accel = LODGE_ACCEL_TCG;
  *ret_reason = NULL;
  if (access ("/dev/kvm", R_OK | W_OK) != 0)
    {
      *ret_reason = g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
      return;
    }
  g_autofree char *qemu = find_qemu ();
  if (lodge_accel_probe_qemu (qemu, LODGE_ACCEL_PROBE_TIMEOUT_MS, ret_reason))
    *ret_accel = LODGE_ACCEL_KVM;
}

LodgeAccel
lodge_accel_probe (char **ret_reason)
{
  const char *forced = g_getenv ("LODGE_ACCEL");
  if (forced != NULL && lodge_accel_from_string (forced) >= 0)
    {
      if (ret_reason != NULL)
        *ret_reason = g_strdup_printf ("LODGE_ACCEL=%s", forced);
      return lodge_accel_from_string (forced);
    }
  g_mutex_lock (&cache_lock);
  if (!cache_valid)
    {
      probe_now (&cache_accel, &cache_reason);
      cache_valid = TRUE;
    }
  LodgeAccel accel = cache_accel;
  if (ret_reason != NULL)
    *ret_reason = g_strdup (cache_reason);
  g_mutex_unlock (&cache_lock);
  return accel;
}

void
lodge_accel_demote (const char *reason)
{
  g_return_if_fail (reason != NULL);
  g_mutex_lock (&cache_lock);
  cache_valid = TRUE;
  cache_accel = LODGE_ACCEL_TCG;
  g_free (cache_reason);
  cache_reason = g_strdup (reason);
  g_mutex_unlock (&cache_lock);
}
