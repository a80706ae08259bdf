/* lodge-init: PID 1 of a Lodge VE (kernel command line init=/sbin/lodge-init).
 *
 * Mounts the basics, reads the per-VE configuration the control center
 * passed through QEMU fw_cfg, applies it (hostname, root credential, keys,
 * sysctls, network, DNS, time zone), prints one ready line on the console,
 * then execs the template's own /sbin/init, or, for templates without one,
 * stays PID 1: reaps orphans, keeps the autostart applications and a
 * console login running, and powers off on request. A missing or corrupt
 * configuration never stops the boot: it is reported, and the VE comes up
 * with its template's defaults.
 *
 * When the VE has a guest agent port (virtio-serial org.qemu.guest_agent.0),
 * the supervisor also keeps "lodge-init --agent" running (agent.c).
 *
 *   lodge-init --check FILE   parses FILE as a configuration and prints it
 *   lodge-init --agent ...    the guest agent (agent.h)
 *
 * Application status files. For every supervised application, lodge-init
 * keeps /run/lodge/apps/<name>.json, rewritten (temporary file + rename)
 * at every start and every exit; the host reads it over the guest agent
 * (guest-file-open/guest-file-read). One JSON object on one line:
 *
 *   {"name":"web","state":"running","pid":123,"restarts":2,
 *    "started":1767225600,"last_exit":"exited with status 1",
 *    "command":"/usr/bin/web --port 80"}
 *
 *   name       the application's name from the configuration
 *   state      "running"; "restarting" (exited, started again after the
 *              backoff delay: 1 s doubling to 30 s, back to 1 s after a
 *              minute of running); "failed-to-start" (as "restarting", but
 *              the last attempt could not fork, or the shell exited 126 or
 *              127: command not executable or not found)
 *   pid        the running process (its own session), null when none
 *   restarts   starts after the first one
 *   started    CLOCK_REALTIME seconds of the last start
 *   last_exit  "exited with status N", "killed by signal N", or null before
 *              the first exit
 *   command    the shell command line (run with /bin/sh -c)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "apply.h"
#include "appstatus.h"
#include "config.h"
#include "net.h"

#define CONFIG_PATH "/sys/firmware/qemu_fw_cfg/by_name/opt/lodge/config/raw"
#define MAX_RESTART_DELAY_MS 30000
#define SHUTDOWN_GRACE_MS 5000

static char config_buf[LODGE_CFG_MAX_BYTES + 1];

static long
uptime_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_BOOTTIME, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
mount_basics (void)
{
  static const struct {
    const char *source, *target, *type;
    unsigned long flags;
    const char *data;
  } mounts[] = {
    { "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
    { "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
    { "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
    { "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666" },
    { "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
    { "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
  };
  for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++)
    {
      mkdir (mounts[i].target, 0755);
      if (mount (mounts[i].source, mounts[i].target, mounts[i].type, mounts[i].flags,
                 mounts[i].data)
            < 0
          && errno != EBUSY)
        lodge_say ("cannot mount %s: %s", mounts[i].target, strerror (errno));
    }
}

/* Reads and parses the blob; returns "ok", "none" or "error". */
static const char *
load_config (const char *path, struct lodge_cfg *cfg)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      lodge_say ("config: none passed (%s: %s); booting with the template's defaults", path,
                 strerror (errno));
      return "none";
    }
  size_t len = 0;
  ssize_t n;
  /* Read one byte more than the limit to see an oversized blob. */
  while (len <= LODGE_CFG_MAX_BYTES
         && (n = read (fd, config_buf + len, LODGE_CFG_MAX_BYTES + 1 - len)) > 0)
    len += n;
  close (fd);
  char err[256];
  if (lodge_cfg_parse (config_buf, len, cfg, err, sizeof err) < 0)
    {
      lodge_say ("config: %s; booting with the template's defaults", err);
      return "error";
    }
  return "ok";
}

static int
apply_config (const struct lodge_cfg *cfg)
{
  int failures = 0;
  if (sethostname (cfg->hostname, strlen (cfg->hostname)) < 0)
    {
      lodge_say ("cannot set the hostname: %s", strerror (errno));
      failures++;
    }
  failures += lodge_apply_hostname_files ("", cfg->hostname) < 0;
  if (cfg->root_hash != NULL)
    failures += lodge_apply_root_hash ("", cfg->root_hash) < 0;
  if (cfg->n_keys > 0)
    failures += lodge_apply_authorized_keys ("", cfg->keys, cfg->n_keys) < 0;
  failures += lodge_apply_sysctls ("", cfg) < 0;
  failures += lodge_net_apply (cfg);
  failures += lodge_apply_dns ("", cfg) < 0;
  if (cfg->timezone != NULL)
    failures += lodge_apply_timezone ("", cfg->timezone) < 0;
  sync ();
  return failures;
}

/* ---- staying PID 1 ---- */

typedef struct {
  const char *name;
  char *const *argv;
  pid_t pid;
  long next_start_ms;
  int delay_ms;
  long started_ms;
  const char *command; /* applications only: they get a status file */
  int restarts;
  long started_real;
  int failed_to_start;
  char last_exit[48];
} Service;

/* /run/lodge/apps/<name>.json; see the top of this file. */
static void
write_app_status (const Service *s)
{
  if (s->command == NULL)
    return;
  struct lodge_app_status st = {
    .name = s->name,
    .command = s->command,
    .state = s->pid > 0          ? LODGE_APP_RUNNING
             : s->failed_to_start ? LODGE_APP_FAILED_TO_START
                                  : LODGE_APP_RESTARTING,
    .pid = (int) s->pid,
    .restarts = s->restarts,
    .started = s->started_real,
    .last_exit = s->last_exit[0] != '\0' ? s->last_exit : NULL,
  };
  lodge_app_status_write (LODGE_APP_STATUS_DIR, &st);
}

static pid_t
spawn (Service *s)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      setsid ();
      chdir ("/");
      execv (s->argv[0], s->argv);
      lodge_say ("%s: cannot run %s: %s", s->name, s->argv[0], strerror (errno));
      _exit (127);
    }
  if (pid < 0)
    lodge_say ("%s: cannot fork: %s", s->name, strerror (errno));
  if (s->started_real != 0)
    s->restarts++;
  s->pid = pid > 0 ? pid : 0;
  s->started_ms = uptime_ms ();
  s->started_real = (long) time (NULL);
  s->failed_to_start = pid < 0;
  if (pid < 0)
    {
      /* Tried again after the delay, as after an exit. */
      s->next_start_ms = s->started_ms + s->delay_ms;
      s->delay_ms = s->delay_ms * 2 > MAX_RESTART_DELAY_MS ? MAX_RESTART_DELAY_MS : s->delay_ms * 2;
    }
  write_app_status (s);
  return pid;
}

static void
shutdown_now (int how)
{
  lodge_say ("%s", how == RB_POWER_OFF ? "powering off" : how == RB_AUTOBOOT ? "rebooting" : "halting");
  kill (-1, SIGTERM);
  long deadline = uptime_ms () + SHUTDOWN_GRACE_MS;
  while (uptime_ms () < deadline)
    {
      pid_t p = waitpid (-1, NULL, WNOHANG);
      if (p < 0 && errno == ECHILD)
        break;
      if (p == 0)
        {
          struct timespec ts = { 0, 50 * 1000000L }; /* PID 1 polls its own children */
          nanosleep (&ts, NULL);
        }
    }
  kill (-1, SIGKILL);
  sync ();
  mount (NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
  sync ();
  reboot (how);
  _exit (1);
}

/* /dev/input/event* devices, for the ACPI power button. */
static int
open_inputs (struct pollfd *fds, int max)
{
  int n = 0;
  for (int i = 0; i < 32 && n < max; i++)
    {
      char path[64];
      snprintf (path, sizeof path, "/dev/input/event%d", i);
      int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd >= 0)
        fds[n++] = (struct pollfd) { fd, POLLIN, 0 };
    }
  return n;
}

static int
power_button_pressed (int fd)
{
  struct input_event ev[16];
  ssize_t n = read (fd, ev, sizeof ev);
  for (ssize_t i = 0; n > 0 && i < n / (ssize_t) sizeof ev[0]; i++)
    if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
      return 1;
  return 0;
}

static void
supervise (const struct lodge_cfg *cfg, int have_cfg)
{
  static char *sh_argv[LODGE_CFG_MAX_APPS][4];
  static char *getty_argv[] = { "/sbin/getty", "-L", "115200", "ttyS0", "vt100", NULL };
  static char *agent_argv[] = { "/sbin/lodge-init", "--agent", NULL };
  Service services[LODGE_CFG_MAX_APPS + 2];
  int n = 0;

  for (int i = 0; have_cfg && i < cfg->n_apps; i++)
    if (cfg->apps[i].autostart && cfg->apps[i].command[0] != '\0')
      {
        sh_argv[i][0] = "/bin/sh";
        sh_argv[i][1] = "-c";
        sh_argv[i][2] = (char *) cfg->apps[i].command;
        sh_argv[i][3] = NULL;
        services[n++] = (Service) { .name = cfg->apps[i].name, .argv = sh_argv[i],
                                    .delay_ms = 1000, .command = cfg->apps[i].command };
      }
  if (access ("/sbin/getty", X_OK) == 0)
    services[n++] = (Service) { .name = "console login", .argv = getty_argv, .delay_ms = 1000 };
  char port[512];
  if (lodge_agent_find_port (port, sizeof port) == 0)
    services[n++] = (Service) { .name = "guest agent", .argv = agent_argv, .delay_ms = 1000 };

  sigset_t mask;
  sigemptyset (&mask);
  int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset (&mask, sigs[i]);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  int sfd = signalfd (-1, &mask, SFD_CLOEXEC);

  struct pollfd fds[33];
  fds[0] = (struct pollfd) { sfd, POLLIN, 0 };
  int nfds = 1 + open_inputs (fds + 1, 32);

  for (int i = 0; i < n; i++)
    spawn (&services[i]);

  for (;;)
    {
      long now = uptime_ms (), wait_ms = -1;
      for (int i = 0; i < n; i++)
        if (services[i].pid == 0)
          {
            if (services[i].next_start_ms <= now)
              spawn (&services[i]);
            else if (wait_ms < 0 || services[i].next_start_ms - now < wait_ms)
              wait_ms = services[i].next_start_ms - now;
          }
      if (poll (fds, nfds, (int) wait_ms) < 0 && errno != EINTR)
        continue;
      for (int i = 1; i < nfds; i++)
        if ((fds[i].revents & POLLIN) && power_button_pressed (fds[i].fd))
          shutdown_now (RB_POWER_OFF);
      if (!(fds[0].revents & POLLIN))
        continue;

      struct signalfd_siginfo si;
      if (read (sfd, &si, sizeof si) != sizeof si)
        continue;
      if (si.ssi_signo == SIGUSR2)
        shutdown_now (RB_POWER_OFF); /* busybox poweroff */
      if (si.ssi_signo == SIGUSR1)
        shutdown_now (RB_HALT_SYSTEM); /* busybox halt */
      if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
        shutdown_now (RB_AUTOBOOT); /* busybox reboot, ctrl-alt-del */

      pid_t pid;
      int status;
      while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        for (int i = 0; i < n; i++)
          if (services[i].pid == pid)
            {
              Service *s = &services[i];
              now = uptime_ms ();
              /* Ran a minute: it was healthy; start again soon. */
              if (now - s->started_ms > 60000)
                s->delay_ms = 1000;
              if (WIFEXITED (status))
                snprintf (s->last_exit, sizeof s->last_exit, "exited with status %d",
                          WEXITSTATUS (status));
              else
                snprintf (s->last_exit, sizeof s->last_exit, "killed by signal %d",
                          WTERMSIG (status));
              /* sh -c: 126 not executable, 127 not found */
              s->failed_to_start = WIFEXITED (status)
                                   && (WEXITSTATUS (status) == 126 || WEXITSTATUS (status) == 127);
              if (WIFEXITED (status))
                lodge_say ("%s exited with status %d; starting it again in %d s", s->name,
                           WEXITSTATUS (status), s->delay_ms / 1000);
              else
                lodge_say ("%s was killed by signal %d; starting it again in %d s", s->name,
                           WTERMSIG (status), s->delay_ms / 1000);
              s->pid = 0;
              s->next_start_ms = now + s->delay_ms;
              s->delay_ms = s->delay_ms * 2 > MAX_RESTART_DELAY_MS ? MAX_RESTART_DELAY_MS
                                                                   : s->delay_ms * 2;
              write_app_status (s);
            }
    }
}

static int
check_mode (const char *path)
{
  struct lodge_cfg cfg;
  const char *state = load_config (path, &cfg);
  if (strcmp (state, "ok") != 0)
    return 1;
  printf ("name %s\nhostname %s\nroot-password-hash %s\nauthorized-keys %d\ntimezone %s\n",
          cfg.name, cfg.hostname, cfg.root_hash ? "set" : "-", cfg.n_keys,
          cfg.timezone ? cfg.timezone : "-");
  for (int i = 0; i < cfg.n_sysctls; i++)
    printf ("sysctl %s=%s\n", cfg.sysctls[i].name, cfg.sysctls[i].value);
  for (int i = 0; i < cfg.n_ifaces; i++)
    printf ("interface %s %s\n", cfg.ifaces[i].name, cfg.ifaces[i].mac);
  for (int i = 0; i < cfg.n_addrs; i++)
    printf ("address %s %s/%d\n", cfg.addrs[i].iface, cfg.addrs[i].address, cfg.addrs[i].prefix);
  for (int i = 0; i < cfg.n_gateways; i++)
    printf ("gateway %s %s\n", cfg.gateways[i].iface, cfg.gateways[i].address);
  for (int i = 0; i < cfg.n_apps; i++)
    printf ("application %s autostart=%d command=%s\n", cfg.apps[i].name, cfg.apps[i].autostart,
            cfg.apps[i].command);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--check") == 0)
    return check_mode (argv[2]);
  if (argc >= 2 && strcmp (argv[1], "--agent") == 0)
    return lodge_agent_main (argc, argv);
  if (getpid () != 1)
    {
      fprintf (stderr, "Usage: lodge-init (as PID 1: init=/sbin/lodge-init)\n"
                       "       lodge-init --check FILE\n"
                       "       lodge-init --agent [--device PATH | --stdio] [--root DIR]\n");
      return 2;
    }

  mount_basics ();
  setenv ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  struct lodge_cfg cfg;
  const char *state = load_config (CONFIG_PATH, &cfg);
  int have_cfg = strcmp (state, "ok") == 0;
  int failures = have_cfg ? apply_config (&cfg) : 0;

  printf ("lodge-ready name=%s boot_ms=%ld config=%s failures=%d\n",
          have_cfg ? cfg.name : "-", uptime_ms (), state, failures);
  fflush (stdout);

  if (access ("/sbin/init", X_OK) == 0)
    {
      /* systemd starts the applications; lodge-init, not being PID 1 any
       * more, cannot. */
      char init_target[256];
      ssize_t n = readlink ("/sbin/init", init_target, sizeof init_target - 1);
      init_target[n > 0 ? n : 0] = '\0';
      if (have_cfg && cfg.n_apps > 0 && strstr (init_target, "systemd") != NULL)
        lodge_apply_systemd_units ("", &cfg);
      char *init_argv[] = { "/sbin/init", NULL };
      execv ("/sbin/init", init_argv);
      lodge_say ("cannot run /sbin/init: %s; staying PID 1", strerror (errno));
    }
  supervise (&cfg, have_cfg);
  return 0;
}
