/* The accelerator decision: KVM only where QEMU itself runs a guest under
 * it. Fake QEMUs stand for the failures seen on machines of this kind (an
 * abort on an MSR, a guest that hangs); the real QEMU is probed too. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-accel-private.h"

typedef struct {
  char *dir;
  char *qemu; /* the fake */
  char *argv_log;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("lodge-accel-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->qemu = g_build_filename (f->dir, "qemu-system-x86_64", NULL);
  f->argv_log = g_build_filename (f->dir, "argv", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unlink (f->qemu);
  g_unlink (f->argv_log);
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->qemu);
  g_free (f->argv_log);
}

/* A fake QEMU: logs its arguments (one run a line), then runs @body. */
static void
fake_qemu (Fixture *f, const char *body)
{
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\necho \"$*\" >> '%s'\n%s\n", f->argv_log, body);
  g_assert_true (g_file_set_contents (f->qemu, script, -1, NULL));
  g_assert_cmpint (g_chmod (f->qemu, 0755), ==, 0);
}

static char **
runs (Fixture *f)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (f->argv_log, &text, NULL, NULL))
    return g_new0 (char *, 1);
  g_strchomp (text);
  return g_strsplit (text, "\n", -1);
}

static void
test_works (Fixture *f, gconstpointer data)
{
  /* The guest's write to isa-debug-exit: QEMU exits with 0x2a << 1 | 1. */
  fake_qemu (f, "exit 85");
  g_autofree char *reason = NULL;
  g_assert_true (lodge_accel_probe_qemu (f->qemu, 5000, &reason));
  g_assert_null (reason);
  g_auto (GStrv) argv = runs (f);
  /* Both CPU models Lodge runs under KVM, on the VEs' machine type, with
   * the exit device and a disk to boot. */
  g_assert_cmpuint (g_strv_length (argv), ==, 2);
  g_assert_nonnull (strstr (argv[0], "-machine q35,accel=kvm -cpu host,migratable=on"));
  g_assert_nonnull (strstr (argv[1], "-machine q35,accel=kvm -cpu max"));
  for (int i = 0; i < 2; i++)
    {
      g_assert_nonnull (strstr (argv[i], "isa-debug-exit,iobase=0xf4"));
      g_assert_nonnull (strstr (argv[i], "format=raw,if=ide"));
    }
}

static void
test_aborts (Fixture *f, gconstpointer data)
{
  /* What QEMU 7.2 printed on a machine whose KVM refuses an MSR. */
  fake_qemu (f, "echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2\n"
                "echo \"qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: "
                "Assertion \\`ret == cpu->kvm_msr_buf->nmsrs' failed.\" >&2\n"
                "kill -ABRT $$");
  g_autofree char *reason = NULL;
  g_assert_false (lodge_accel_probe_qemu (f->qemu, 5000, &reason));
  g_test_message ("reason: %s", reason);
  g_assert_nonnull (strstr (reason, "QEMU under KVM died of signal"));
  g_assert_nonnull (strstr (reason, "failed to set MSR 0x10a to 0x69"));
  g_assert_nonnull (strstr (reason, "host-passthrough"));
  /* The first failure decides: no second run. */
  g_auto (GStrv) argv = runs (f);
  g_assert_cmpuint (g_strv_length (argv), ==, 1);
}

static void
test_hangs (Fixture *f, gconstpointer data)
{
  fake_qemu (f, "exec sleep 120");
  g_autofree char *reason = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_false (lodge_accel_probe_qemu (f->qemu, 500, &reason));
  gint64 took_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("reason: %s (after %" G_GINT64_FORMAT " ms)", reason, took_ms);
  g_assert_nonnull (strstr (reason, "did not finish under KVM within"));
  g_assert_nonnull (strstr (reason, "hangs"));
  /* Killed at the deadline, not at the guest's end. */
  g_assert_cmpint (took_ms, <, 60000);
}

static void
test_appliance_cpu_only (Fixture *f, gconstpointer data)
{
  /* host-passthrough runs, -cpu max does not: libguestfs would die. */
  fake_qemu (f, "case \"$*\" in *'-cpu max'*) echo 'qemu-system-x86_64: error: max: feature refused' >&2; exit 1;; esac\n"
                "exit 85");
  g_autofree char *reason = NULL;
  g_assert_false (lodge_accel_probe_qemu (f->qemu, 5000, &reason));
  g_assert_nonnull (strstr (reason, "exited with status 1: qemu-system-x86_64: error: max: feature refused"));
  g_assert_nonnull (strstr (reason, "libguestfs appliance"));
}

static void
test_qemu_error (Fixture *f, gconstpointer data)
{
  /* QEMU's own failure exits 1: never taken for the guest's exit. */
  fake_qemu (f, "printf 'Could not access KVM kernel module: Permission denied\\n\\033]0;x\\007' >&2; exit 1");
  g_autofree char *reason = NULL;
  g_assert_false (lodge_accel_probe_qemu (f->qemu, 5000, &reason));
  g_assert_nonnull (strstr (reason, "exited with status 1"));
  /* What QEMU printed is escaped before a terminal sees it. */
  g_assert_null (strchr (reason, '\033'));
  g_assert_null (strchr (reason, '\007'));
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autofree char *reason = NULL;
  g_assert_false (lodge_accel_probe_qemu (f->qemu, 5000, &reason)); /* never written */
  g_assert_nonnull (strstr (reason, "cannot run"));
}

static void
test_real_qemu (void)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  if (qemu == NULL || access ("/dev/kvm", R_OK | W_OK) != 0)
    {
      g_test_skip ("no qemu-system-x86_64 or no usable /dev/kvm here");
      return;
    }
  g_autofree char *reason = NULL;
  gboolean kvm = lodge_accel_probe_qemu (qemu, LODGE_ACCEL_PROBE_TIMEOUT_MS, &reason);
  g_test_message ("this host: %s%s%s", kvm ? "kvm" : "tcg", reason ? ": " : "", reason ? reason : "");
  /* Either answer is right somewhere; a refusal always says why. */
  g_assert_true (kvm ? reason == NULL : reason != NULL && *reason != '\0');
}

static void
test_override_and_demote (void)
{
  g_setenv ("LODGE_ACCEL", "tcg", TRUE);
  g_autofree char *forced = NULL;
  g_assert_cmpint (lodge_accel_probe (&forced), ==, LODGE_ACCEL_TCG);
  g_assert_cmpstr (forced, ==, "LODGE_ACCEL=tcg");
  g_unsetenv ("LODGE_ACCEL");

  /* A QEMU that failed later under KVM turns the process to TCG. */
  lodge_accel_demote ("the appliance aborted under KVM");
  g_autofree char *reason = NULL;
  g_assert_cmpint (lodge_accel_probe (&reason), ==, LODGE_ACCEL_TCG);
  g_assert_cmpstr (reason, ==, "the appliance aborted under KVM");

  /* ... unless KVM is forced. */
  g_setenv ("LODGE_ACCEL", "kvm", TRUE);
  g_assert_cmpint (lodge_accel_probe (NULL), ==, LODGE_ACCEL_KVM);
  g_unsetenv ("LODGE_ACCEL");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("LODGE_ACCEL");
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/accel/probe/works", test_works);
  ADD ("/accel/probe/aborts", test_aborts);
  ADD ("/accel/probe/hangs", test_hangs);
  ADD ("/accel/probe/appliance-cpu-only", test_appliance_cpu_only);
  ADD ("/accel/probe/qemu-error", test_qemu_error);
  ADD ("/accel/probe/missing", test_missing);
#undef ADD
  g_test_add_func ("/accel/probe/real-qemu", test_real_qemu);
  g_test_add_func ("/accel/override-and-demote", test_override_and_demote);
  return g_test_run ();
}
