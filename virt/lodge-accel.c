#include "lodge-accel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 3000

/* Exit codes of the probe child. */
enum {
  PROBE_OK = 0,
  PROBE_NO_DEVICE = 10,
  PROBE_IOCTL = 11,
  PROBE_WRONG_EXIT = 12,
};

/* In the child: a VM with one page of memory holding HLT at 0x1000, one
 * vCPU in real mode pointed at it. */
static int
probe_child (void)
{
  int kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0)
    return PROBE_NO_DEVICE;
  if (ioctl (kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
    return PROBE_IOCTL;
  int vm = ioctl (kvm, KVM_CREATE_VM, 0);
  if (vm < 0)
    return PROBE_IOCTL;
  void *mem = mmap (NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return PROBE_IOCTL;
  ((unsigned char *) mem)[0] = 0xf4; /* hlt */
  struct kvm_userspace_memory_region region = {
    .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000,
    .userspace_addr = (unsigned long) mem,
  };
  if (ioctl (vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return PROBE_IOCTL;
  int vcpu = ioctl (vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0)
    return PROBE_IOCTL;
  int run_size = ioctl (kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0)
    return PROBE_IOCTL;
  struct kvm_run *run = mmap (NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED)
    return PROBE_IOCTL;

  struct kvm_sregs sregs;
  if (ioctl (vcpu, KVM_GET_SREGS, &sregs) < 0)
    return PROBE_IOCTL;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (ioctl (vcpu, KVM_SET_SREGS, &sregs) < 0)
    return PROBE_IOCTL;
  struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
  if (ioctl (vcpu, KVM_SET_REGS, &regs) < 0)
    return PROBE_IOCTL;
  if (ioctl (vcpu, KVM_RUN, 0) < 0)
    return PROBE_IOCTL;
  return run->exit_reason == KVM_EXIT_HLT ? PROBE_OK : PROBE_WRONG_EXIT;
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

  char *reason = NULL;
  LodgeAccel accel = LODGE_ACCEL_TCG;
  if (access ("/dev/kvm", R_OK | W_OK) != 0)
    reason = g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
  else
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          alarm ((PROBE_TIMEOUT_MS + 999) / 1000); /* a hanging KVM_RUN dies here */
          _exit (probe_child ());
        }
      if (pid < 0)
        reason = g_strdup_printf ("fork: %s", g_strerror (errno));
      else
        {
          int status = 0;
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          if (WIFEXITED (status) && WEXITSTATUS (status) == PROBE_OK)
            accel = LODGE_ACCEL_KVM;
          else if (WIFSIGNALED (status) && WTERMSIG (status) == SIGALRM)
            reason = g_strdup ("a KVM guest did not halt within the deadline (hangs here)");
          else if (WIFSIGNALED (status))
            reason = g_strdup_printf ("a KVM guest aborted (%s)", g_strsignal (WTERMSIG (status)));
          else if (WEXITSTATUS (status) == PROBE_WRONG_EXIT)
            reason = g_strdup ("a KVM guest did not halt as it should");
          else
            reason = g_strdup ("KVM refused to create or run a guest");
        }
    }
  if (ret_reason != NULL)
    *ret_reason = reason;
  else
    g_free (reason);
  return accel;
}
