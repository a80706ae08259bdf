/* lodge-init --agent: the QGA protocol on the guest agent's channel.
 *
 * Framing, as qemu-ga does it: a request is one JSON object; it ends where
 * its braces balance (or, for anything that is not an object, at the end
 * of its line). A 0xFF byte drops whatever was read so far (libvirt sends
 * one before guest-sync-delimited to resynchronise). A request over 8 MiB
 * gets an error reply and everything up to the next newline or 0xFF is
 * dropped. Every reply is one line:
 *   {"return":VALUE[,"id":ID]}   or
 *   {"error":{"class":"GenericError"|"CommandNotFound","desc":"..."}[,"id":ID]}
 * guest-sync-delimited's reply is preceded by a 0xFF byte; guest-shutdown
 * sends none, as qemu-ga. While the root file system is frozen
 * (guest-fsfreeze-freeze), only queries and guest-fsfreeze-thaw are
 * accepted: anything that could write would stall the agent itself. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent-private.h"
#include "apply.h"

#ifndef LODGE_VERSION
#define LODGE_VERSION "0"
#endif

#define HUP_PAUSE_NS (200 * 1000000L)

long
lodge_agent_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
lodge_agent_find_port (char *path, size_t len)
{
  DIR *d = opendir ("/sys/class/virtio-ports");
  struct dirent *de;
  int found = 0;
  while (d != NULL && !found && (de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      char name_path[512], name[128] = "";
      snprintf (name_path, sizeof name_path, "/sys/class/virtio-ports/%s/name", de->d_name);
      int fd = open (name_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      ssize_t n = read (fd, name, sizeof name - 1);
      close (fd);
      name[n > 0 ? n : 0] = '\0';
      name[strcspn (name, "\n")] = '\0';
      if (strcmp (name, LODGE_AGENT_PORT_NAME) == 0)
        {
          snprintf (path, len, "/dev/%s", de->d_name);
          found = access (path, F_OK) == 0;
        }
    }
  if (d != NULL)
    closedir (d);
  if (found)
    return 0;
  snprintf (path, len, "/dev/virtio-ports/%s", LODGE_AGENT_PORT_NAME);
  return access (path, F_OK) == 0 ? 0 : -1;
}

/* ---- arguments ---- */

static int arg_fail (char *err, size_t err_len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

static int
arg_fail (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
  return -1;
}

static const json_t *
arg_get (const json_t *args, const char *name)
{
  const json_t *v = json_object_get (args, name);
  return json_is_null (v) ? NULL : v;
}

int
lodge_agent_arg_int (const json_t *args, const char *name, int required, int64_t def,
                     int64_t *ret, char *err, size_t err_len)
{
  const json_t *v = arg_get (args, name);
  *ret = def;
  if (v == NULL)
    return required ? arg_fail (err, err_len, "Parameter '%s' is missing", name) : 1;
  if (!json_is_integer (v))
    return arg_fail (err, err_len, "Parameter '%s' expects an integer", name);
  *ret = json_integer_value (v);
  return 0;
}

int
lodge_agent_arg_str (const json_t *args, const char *name, int required, const char *def,
                     const char **ret, char *err, size_t err_len)
{
  const json_t *v = arg_get (args, name);
  *ret = def;
  if (v == NULL)
    return required ? arg_fail (err, err_len, "Parameter '%s' is missing", name) : 1;
  if (!json_is_string (v))
    return arg_fail (err, err_len, "Parameter '%s' expects a string", name);
  *ret = json_string_value (v);
  return 0;
}

int
lodge_agent_arg_bool (const json_t *args, const char *name, int required, int def, int *ret,
                      char *err, size_t err_len)
{
  const json_t *v = arg_get (args, name);
  *ret = def;
  if (v == NULL)
    return required ? arg_fail (err, err_len, "Parameter '%s' is missing", name) : 1;
  if (!json_is_boolean (v))
    return arg_fail (err, err_len, "Parameter '%s' expects a boolean", name);
  *ret = json_is_true (v);
  return 0;
}

/* ---- simple commands ---- */

static int
cmd_sync (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  int64_t id;
  if (lodge_agent_arg_int (args, "id", 1, 0, &id, err, err_len) < 0)
    return -1;
  *ret = json_integer (id);
  return 0;
}

static int
cmd_ping (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  *ret = json_object ();
  return 0;
}

static int
cmd_host_name (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  char name[256];
  if (gethostname (name, sizeof name) < 0)
    {
      snprintf (err, err_len, "cannot get the host name: %s", strerror (errno));
      return -1;
    }
  name[sizeof name - 1] = '\0';
  *ret = json_pack ("{s:o}", "host-name", lodge_json_str (name));
  return 0;
}

/* Sets @key of @obj; 0, or -1 when memory is short. */
static int
put_member (json_t *obj, const char *key, const char *value, size_t len)
{
  return json_object_set_new (obj, key, lodge_json_text (value, len));
}

static int
cmd_osinfo (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  static const char *const keys[][2] = {
    { "ID", "id" },           { "NAME", "name" },
    { "PRETTY_NAME", "pretty-name" }, { "VERSION", "version" },
    { "VERSION_ID", "version-id" },   { "VARIANT", "variant" },
    { "VARIANT_ID", "variant-id" },
  };
  json_t *info = json_object ();
  int failed = info == NULL;
  struct utsname u;
  if (uname (&u) == 0)
    {
      failed |= put_member (info, "kernel-release", u.release, strlen (u.release)) < 0;
      failed |= put_member (info, "kernel-version", u.version, strlen (u.version)) < 0;
      failed |= put_member (info, "machine", u.machine, strlen (u.machine)) < 0;
    }
  char path[4096];
  snprintf (path, sizeof path, "%s/etc/os-release", a->root);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    {
      snprintf (path, sizeof path, "%s/usr/lib/os-release", a->root);
      f = fopen (path, "re");
    }
  char line[1024];
  while (f != NULL && fgets (line, sizeof line, f) != NULL)
    {
      line[strcspn (line, "\r\n")] = '\0';
      char *eq = strchr (line, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      char *value = eq + 1;
      size_t vlen = strlen (value);
      if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0])
        {
          value++;
          vlen -= 2;
        }
      for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp (line, keys[i][0]) == 0)
          failed |= put_member (info, keys[i][1], value, vlen) < 0;
    }
  if (f != NULL)
    fclose (f);
  if (failed)
    json_decref (info);
  *ret = failed ? NULL : info;
  return 0;
}

static int
cmd_shutdown (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  const char *mode;
  if (lodge_agent_arg_str (args, "mode", 0, "powerdown", &mode, err, err_len) < 0)
    return -1;
  /* The signals lodge-init's supervise() (and busybox init) understand. */
  int sig = strcmp (mode, "powerdown") == 0 ? SIGUSR2
            : strcmp (mode, "halt") == 0    ? SIGUSR1
            : strcmp (mode, "reboot") == 0  ? SIGTERM
                                            : 0;
  if (sig == 0)
    return arg_fail (err, err_len, "Invalid parameter 'mode': '%s'", mode);
  if (a->test_mode)
    return arg_fail (err, err_len, "guest-shutdown is refused in %s mode", "--stdio/--root");
  if (kill (1, sig) < 0)
    {
      snprintf (err, err_len, "cannot signal init: %s", strerror (errno));
      return -1;
    }
  return 1; /* no reply, as qemu-ga */
}

static int
cmd_fsfreeze_status (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  *ret = json_string (a->frozen ? "frozen" : "thawed");
  return 0;
}

static int
freeze_root (Agent *a, int freeze, char *err, size_t err_len)
{
  if (a->test_mode)
    return arg_fail (err, err_len, "file system freezing is refused in %s mode",
                     "--stdio/--root");
  int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ioctl (fd, freeze ? FIFREEZE : FITHAW, 0) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      /* Thawing what is not frozen is no error; nothing was thawed. */
      if (!freeze && e == EINVAL)
        return 0;
      snprintf (err, err_len, "cannot %s /: %s", freeze ? "freeze" : "thaw", strerror (e));
      return -1;
    }
  close (fd);
  return 1;
}

static int
cmd_fsfreeze_freeze (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  if (a->frozen)
    return arg_fail (err, err_len, "%s", "the file systems are already frozen");
  int n = freeze_root (a, 1, err, err_len);
  if (n < 0)
    return -1;
  a->frozen = 1;
  *ret = json_integer (n);
  return 0;
}

static int
cmd_fsfreeze_thaw (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  int n = freeze_root (a, 0, err, err_len);
  if (n < 0)
    return -1;
  a->frozen = 0;
  *ret = json_integer (n);
  return 0;
}

static int
cmd_set_user_password (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  const char *user, *b64;
  int crypted;
  if (lodge_agent_arg_str (args, "username", 1, NULL, &user, err, err_len) < 0
      || lodge_agent_arg_str (args, "password", 1, NULL, &b64, err, err_len) < 0
      || lodge_agent_arg_bool (args, "crypted", 1, 0, &crypted, err, err_len) < 0)
    return -1;
  if (!crypted)
    return arg_fail (err, err_len, "%s",
                     "plain text passwords are not supported; send a crypt(5) hash with "
                     "crypted=true");
  if (user[0] == '\0' || strlen (user) > 64 || strpbrk (user, ":\n/") != NULL)
    return arg_fail (err, err_len, "Invalid parameter 'username': '%.64s'", user);
  size_t len;
  char *hash = (char *) lodge_base64_decode (b64, strlen (b64), &len);
  if (hash == NULL)
    return arg_fail (err, err_len, "%s", "Parameter 'password' is not valid base64");
  int ok = len > 1 && len < 512 && hash[0] == '$' && memchr (hash, ':', len) == NULL
           && memchr (hash, '\n', len) == NULL && memchr (hash, '\0', len) == NULL;
  int rc = ok ? lodge_apply_user_hash (a->root, user, hash) : -1;
  free (hash);
  if (!ok)
    return arg_fail (err, err_len, "%s",
                     "Parameter 'password' is not a crypt(5) hash ('$id$...', no ':' or "
                     "line break)");
  if (rc == -2)
    return arg_fail (err, err_len, "user '%s' does not exist in /etc/shadow", user);
  if (rc < 0)
    return arg_fail (err, err_len, "cannot update the password of '%s' in /etc/shadow", user);
  *ret = json_object ();
  return 0;
}

/* ---- dispatch ---- */

static int cmd_info (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len);

static const struct {
  const char *name;
  AgentCommand fn;
  int while_frozen; /* allowed while frozen: nothing that writes */
} commands[] = {
  { "guest-sync", cmd_sync, 1 },
  { "guest-sync-delimited", cmd_sync, 1 },
  { "guest-ping", cmd_ping, 1 },
  { "guest-info", cmd_info, 1 },
  { "guest-exec", lodge_agent_exec, 0 },
  { "guest-exec-status", lodge_agent_exec_status, 1 },
  { "guest-file-open", lodge_agent_file_open, 0 },
  { "guest-file-close", lodge_agent_file_close, 0 },
  { "guest-file-read", lodge_agent_file_read, 0 },
  { "guest-file-write", lodge_agent_file_write, 0 },
  { "guest-file-seek", lodge_agent_file_seek, 0 },
  { "guest-file-flush", lodge_agent_file_flush, 0 },
  { "guest-set-user-password", cmd_set_user_password, 0 },
  { "guest-get-host-name", cmd_host_name, 1 },
  { "guest-get-osinfo", cmd_osinfo, 1 },
  { "guest-shutdown", cmd_shutdown, 0 },
  { "guest-fsfreeze-status", cmd_fsfreeze_status, 1 },
  { "guest-fsfreeze-freeze", cmd_fsfreeze_freeze, 0 },
  { "guest-fsfreeze-thaw", cmd_fsfreeze_thaw, 1 },
};

static int
cmd_info (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  json_t *list = json_array ();
  int failed = list == NULL;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    failed |= json_array_append_new (
                list, json_pack ("{s:s,s:b,s:b}", "name", commands[i].name, "enabled", 1,
                                 "success-response",
                                 strcmp (commands[i].name, "guest-shutdown") != 0))
              < 0;
  if (failed)
    json_decref (list);
  *ret = failed ? NULL
                : json_pack ("{s:s,s:o}", "version", "lodge-" LODGE_VERSION, "supported_commands",
                             list);
  return 0;
}

static void
flush_output (Agent *a)
{
  while (a->out.len > 0)
    {
      ssize_t n = write (a->out_fd, a->out.data, a->out.len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* EAGAIN: poll says when; other errors: HUP handling */
      lodge_buf_consume (&a->out, (size_t) n);
    }
}

/* Queues and sends {"return":@ret} (@ret is taken) or, with @class,
 * {"error":{"class":@class,"desc":@desc}}, with the request's @id. */
static void
reply (Agent *a, int delimited, const char *class, const char *desc, json_t *ret, json_t *id)
{
  json_t *r = class != NULL ? json_pack ("{s:{s:s,s:o}}", "error", "class", class, "desc",
                                         lodge_json_str (desc))
                            : json_pack ("{s:o}", "return", ret);
  if (r != NULL && id != NULL && json_object_set (r, "id", id) < 0)
    {
      json_decref (r);
      r = NULL;
    }
  if (delimited)
    lodge_buf_add (&a->out, "\xff", 1);
  if (r == NULL || lodge_json_dump (&a->out, r) < 0)
    a->out.failed = 1;
  lodge_buf_add (&a->out, "\n", 1);
  json_decref (r);
  if (a->out.failed)
    {
      /* Out of memory: drop the queue rather than send half a reply. */
      lodge_buf_clear (&a->out);
      lodge_say ("agent: out of memory; replies dropped");
    }
  flush_output (a);
}

static void
reset_input (Agent *a)
{
  a->in.len = 0;
  a->in_depth = a->in_string = a->in_escape = a->in_discarding = 0;
  if (a->in.cap > 1024 * 1024)
    lodge_buf_clear (&a->in);
}

static void
process (Agent *a)
{
  char err[512];
  json_t *req = lodge_json_load (a->in.data, a->in.len, err, sizeof err);
  reset_input (a);
  if (req == NULL)
    {
      char desc[600];
      snprintf (desc, sizeof desc, "Invalid JSON: %s", err);
      reply (a, 0, "GenericError", desc, NULL, NULL);
      return;
    }
  json_t *id = json_object_get (req, "id");
  const char *execute = json_string_value (json_object_get (req, "execute"));
  json_t *args = json_object_get (req, "arguments");
  if (!json_is_object (req))
    reply (a, 0, "GenericError", "Expected a JSON object", NULL, NULL);
  else if (execute == NULL)
    reply (a, 0, "GenericError", "Missing or invalid 'execute'", NULL, id);
  else if (args != NULL && !json_is_object (args) && !json_is_null (args))
    reply (a, 0, "GenericError", "'arguments' must be an object", NULL, id);
  else
    {
      size_t i = 0;
      while (i < sizeof commands / sizeof commands[0] && strcmp (commands[i].name, execute) != 0)
        i++;
      if (i == sizeof commands / sizeof commands[0])
        {
          snprintf (err, sizeof err, "The command %.128s has not been found", execute);
          reply (a, 0, "CommandNotFound", err, NULL, id);
        }
      else if (a->frozen && !commands[i].while_frozen)
        reply (a, 0, "GenericError",
               "the file systems are frozen: only guest-fsfreeze-thaw and queries until then",
               NULL, id);
      else
        {
          json_t *ret = NULL;
          err[0] = '\0';
          int rc = commands[i].fn (a, json_is_object (args) ? args : NULL, &ret, err, sizeof err);
          int delimited = strcmp (execute, "guest-sync-delimited") == 0;
          if (rc == 0 && ret == NULL)
            reply (a, delimited, "GenericError", "out of memory", NULL, id);
          else if (rc == 0)
            reply (a, delimited, NULL, NULL, ret, id);
          else if (rc < 0)
            reply (a, delimited, "GenericError", err, NULL, id);
          if (rc != 0)
            json_decref (ret);
        }
    }
  json_decref (req);
}

static void
feed (Agent *a, const unsigned char *data, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = data[i];
      if (c == 0xFF)
        {
          reset_input (a);
          continue;
        }
      if (a->in_discarding)
        {
          if (c == '\n')
            reset_input (a);
          continue;
        }
      if (a->in.len == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
        continue;
      if (a->in.len >= AGENT_MAX_REQUEST)
        {
          reset_input (a);
          a->in_discarding = c != '\n';
          reply (a, 0, "GenericError",
                 "request larger than 8 MiB: dropped up to the next line break or 0xFF", NULL,
                 NULL);
          continue;
        }
      lodge_buf_add (&a->in, &c, 1);
      if (a->in.failed)
        {
          reset_input (a);
          lodge_buf_clear (&a->in);
          a->in_discarding = 1;
          reply (a, 0, "GenericError", "out of memory: request dropped", NULL, NULL);
          continue;
        }
      if (a->in_string)
        {
          if (a->in_escape)
            a->in_escape = 0;
          else if (c == '\\')
            a->in_escape = 1;
          else if (c == '"')
            a->in_string = 0;
          if (c != '\n')
            continue;
          a->in_string = a->in_escape = 0; /* no raw line break in a JSON string */
        }
      if (c == '"')
        a->in_string = 1;
      else if (c == '{' || c == '[')
        a->in_depth++;
      else if ((c == '}' || c == ']') && --a->in_depth <= 0)
        process (a);
      else if (c == '\n' && a->in_depth <= 0)
        process (a);
    }
}

static void
pause_after_hup (void)
{
  struct timespec ts = { 0, HUP_PAUSE_NS };
  nanosleep (&ts, NULL);
}

static int
run (Agent *a)
{
  sigset_t mask;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  int sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    {
      lodge_say ("agent: signalfd: %s", strerror (errno));
      return 1;
    }
  signal (SIGPIPE, SIG_IGN);

  for (;;)
    {
      struct pollfd fds[3 + 2 * AGENT_MAX_EXECS];
      AgentExec *owner[3 + 2 * AGENT_MAX_EXECS];
      int nfds = 0;
      fds[nfds++] = (struct pollfd) { sfd, POLLIN, 0 };
      int in_at = nfds;
      fds[nfds++] = (struct pollfd) { a->in_fd, POLLIN, 0 };
      int out_at = in_at;
      if (a->out_fd != a->in_fd)
        {
          out_at = nfds;
          /* Only while something waits: a closed stdout would wake us. */
          fds[nfds++] = (struct pollfd) { a->out.len > 0 ? a->out_fd : -1, POLLOUT, 0 };
        }
      else if (a->out.len > 0)
        fds[out_at].events |= POLLOUT;
      for (int i = 0; i < AGENT_MAX_EXECS; i++)
        {
          AgentExec *e = &a->execs[i];
          if (e->pid != 0 && e->out_fd >= 0)
            {
              owner[nfds] = e;
              fds[nfds++] = (struct pollfd) { e->out_fd, POLLIN, 0 };
            }
          if (e->pid != 0 && e->err_fd >= 0)
            {
              owner[nfds] = e;
              fds[nfds++] = (struct pollfd) { e->err_fd, POLLIN, 0 };
            }
        }
      if (poll (fds, (nfds_t) nfds, -1) < 0)
        {
          if (errno != EINTR)
            pause_after_hup ();
          continue;
        }
      if (fds[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
            ;
          lodge_agent_exec_reap (a);
        }
      for (int i = (out_at == in_at ? 2 : 3); i < nfds; i++)
        if (fds[i].revents != 0)
          lodge_agent_exec_drain (owner[i], fds[i].fd);
      if (fds[out_at].revents & POLLOUT)
        flush_output (a);

      short rev = fds[in_at].revents;
      if (rev & POLLIN)
        {
          static unsigned char chunk[65536];
          ssize_t n = read (a->in_fd, chunk, sizeof chunk);
          if (n > 0)
            feed (a, chunk, (size_t) n);
          else if (n == 0 && a->stdio)
            {
              flush_output (a); /* stdout is blocking */
              return 0;
            }
          else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            rev |= POLLHUP;
        }
      if ((rev & (POLLHUP | POLLERR | POLLNVAL)) && !(rev & POLLIN))
        {
          if (a->stdio)
            return 0;
          /* virtio-serial with no host side: POLLHUP until one connects;
           * whatever was half read or unsent belongs to the gone peer. */
          reset_input (a);
          a->out.len = 0;
          pause_after_hup ();
        }
    }
}

int
lodge_agent_main (int argc, char **argv)
{
  const char *device = NULL;
  Agent a = { .in_fd = -1, .out_fd = -1, .root = "", .next_handle = 1000 };
  for (int i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "--stdio") == 0)
        a.stdio = 1;
      else if (strcmp (argv[i], "--device") == 0 && i + 1 < argc)
        device = argv[++i];
      else if (strcmp (argv[i], "--root") == 0 && i + 1 < argc)
        a.root = argv[++i];
      else
        {
          fprintf (stderr, "Usage: lodge-init --agent [--device PATH | --stdio] [--root DIR]\n");
          return 2;
        }
    }
  a.test_mode = a.stdio || a.root[0] != '\0';
  for (int i = 0; i < AGENT_MAX_EXECS; i++)
    a.execs[i].out_fd = a.execs[i].err_fd = -1;
  for (int i = 0; i < AGENT_MAX_FILES; i++)
    a.files[i].fd = -1;

  if (a.stdio)
    {
      a.in_fd = 0;
      a.out_fd = 1;
    }
  else
    {
      char path[512];
      if (device == NULL && lodge_agent_find_port (path, sizeof path) < 0)
        {
          fprintf (stderr, "lodge-init: no guest agent port (%s) in /sys/class/virtio-ports "
                           "or /dev/virtio-ports\n",
                   LODGE_AGENT_PORT_NAME);
          return 1;
        }
      if (device == NULL)
        device = path;
      a.in_fd = a.out_fd = open (device, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (a.in_fd < 0)
        {
          fprintf (stderr, "lodge-init: cannot open %s: %s\n", device, strerror (errno));
          return 1;
        }
    }
  int rc = run (&a);
  lodge_buf_clear (&a.in);
  lodge_buf_clear (&a.out);
  for (int i = 0; i < AGENT_MAX_EXECS; i++)
    {
      lodge_buf_clear (&a.execs[i].out);
      lodge_buf_clear (&a.execs[i].err);
    }
  return rc;
}
