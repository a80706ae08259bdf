/* guest-exec and guest-exec-status. A child runs in its own session
 * (setsid: the host may kill the whole group with kill -9 -PID), reads
 * input-data (through a memfd) or /dev/null, and writes to pipes that the
 * agent's poll loop drains, up to AGENT_MAX_OUTPUT bytes per stream (the
 * rest is read and dropped, and the stream reported truncated). An exited
 * child's status is kept until guest-exec-status returned it once with
 * "exited":true. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-private.h"

#define EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXEC_MAX_ARGS 4096
/* A child that exited while a grandchild still holds its pipes open is
 * reported exited this long after it was reaped. */
#define EXEC_PIPE_GRACE_MS 1000

extern char **environ;

static int fail (char *err, size_t err_len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

static int
fail (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
  return -1;
}

/* The array @name of strings as a NULL-terminated vector after @first
 * (if not NULL); NULL with @err set when it is not one. */
static char **
string_vector (const json_t *args, const char *name, char *first, char *err, size_t err_len)
{
  const json_t *v = json_object_get (args, name);
  size_t n = json_array_size (v);
  if (v != NULL && !json_is_array (v) && !json_is_null (v))
    {
      fail (err, err_len, "Parameter '%s' expects an array of strings", name);
      return NULL;
    }
  if (n > EXEC_MAX_ARGS)
    {
      fail (err, err_len, "Parameter '%s' has too many elements", name);
      return NULL;
    }
  char **vec = calloc (n + 2, sizeof *vec);
  if (vec == NULL)
    {
      fail (err, err_len, "%s", "out of memory");
      return NULL;
    }
  size_t o = 0;
  if (first != NULL)
    vec[o++] = first;
  for (size_t i = 0; i < n; i++)
    {
      const char *s = json_string_value (json_array_get (v, i));
      if (s == NULL)
        {
          free (vec);
          fail (err, err_len, "Parameter '%s' expects an array of strings", name);
          return NULL;
        }
      vec[o++] = (char *) s;
    }
  return vec;
}

/* @path itself when it has a '/', else the first executable along
 * EXEC_PATH (in @buf); NULL when there is none. */
static const char *
resolve (const char *path, char *buf, size_t len)
{
  if (strchr (path, '/') != NULL)
    return path;
  for (const char *dir = EXEC_PATH; *dir != '\0';)
    {
      size_t dl = strcspn (dir, ":");
      snprintf (buf, len, "%.*s/%s", (int) dl, dir, path);
      if (access (buf, X_OK) == 0)
        return buf;
      dir += dl + (dir[dl] == ':');
    }
  return NULL;
}

static int
input_fd (const json_t *args, char *err, size_t err_len)
{
  const json_t *in = json_object_get (args, "input-data");
  if (in == NULL || json_is_null (in))
    return open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (!json_is_string (in))
    return fail (err, err_len, "Parameter '%s' expects a string", "input-data");
  size_t len;
  unsigned char *data = lodge_base64_decode (json_string_value (in), json_string_length (in), &len);
  if (data == NULL)
    return fail (err, err_len, "Parameter '%s' is not valid base64", "input-data");
  int fd = memfd_create ("lodge-exec-input", MFD_CLOEXEC);
  size_t done = 0;
  while (fd >= 0 && done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (size_t) n;
    }
  free (data);
  if (fd < 0 || done < len || lseek (fd, 0, SEEK_SET) < 0)
    {
      snprintf (err, err_len, "cannot store input-data: %s", strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static void
child (const char *path, char **argv, char **envp, int in, int out[2], int errs[2], int report)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  setsid ();
  int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2 (in, 0);
  dup2 (out[1] >= 0 ? out[1] : null, 1);
  dup2 (errs[1] >= 0 ? errs[1] : null, 2);
  execve (path, argv, envp != NULL ? envp : environ);
  int e = errno;
  ssize_t unused = write (report, &e, sizeof e);
  (void) unused;
  _exit (127);
}

static void
close_pair (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close (p[i]);
}

int
lodge_agent_exec (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  const char *path;
  int capture;
  if (lodge_agent_arg_str (args, "path", 1, NULL, &path, err, err_len) < 0
      || lodge_agent_arg_bool (args, "capture-output", 0, 0, &capture, err, err_len) < 0)
    return -1;
  AgentExec *e = NULL;
  for (int i = 0; i < AGENT_MAX_EXECS && e == NULL; i++)
    if (a->execs[i].pid == 0)
      e = &a->execs[i];
  if (e == NULL)
    return fail (err, err_len, "too many processes (at most %s not yet collected)", "64");
  char resolved[4096];
  const char *exe = resolve (path, resolved, sizeof resolved);
  if (exe == NULL)
    return fail (err, err_len, "cannot run '%.256s': not found", path);

  char **argv = string_vector (args, "arg", (char *) path, err, err_len);
  char **envp = NULL;
  const json_t *env = json_object_get (args, "env");
  if (argv != NULL && env != NULL && !json_is_null (env))
    envp = string_vector (args, "env", NULL, err, err_len);
  int in = argv != NULL && (envp != NULL || env == NULL || json_is_null (env))
             ? input_fd (args, err, err_len)
             : -1;
  int out[2] = { -1, -1 }, errs[2] = { -1, -1 }, report[2] = { -1, -1 };
  int rc = -1;
  if (in < 0)
    goto out;
  if ((capture && (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errs, O_CLOEXEC) < 0))
      || pipe2 (report, O_CLOEXEC) < 0)
    {
      snprintf (err, err_len, "cannot make pipes: %s", strerror (errno));
      goto out;
    }
  pid_t pid = fork ();
  if (pid == 0)
    child (exe, argv, envp, in, out, errs, report[1]);
  if (pid < 0)
    {
      snprintf (err, err_len, "cannot fork: %s", strerror (errno));
      goto out;
    }
  close (report[1]);
  report[1] = -1;
  int exec_errno = 0;
  ssize_t n;
  while ((n = read (report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
    ;
  if (n == (ssize_t) sizeof exec_errno)
    {
      waitpid (pid, NULL, 0);
      snprintf (err, err_len, "cannot run '%.256s': %s", path, strerror (exec_errno));
      goto out;
    }
  *e = (AgentExec) { .pid = pid, .capture = capture, .out_fd = out[0], .err_fd = errs[0] };
  for (int i = 0; i < 2; i++)
    {
      int fd = i ? e->err_fd : e->out_fd;
      if (fd >= 0)
        fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
    }
  out[0] = errs[0] = -1; /* now the slot's */
  *ret = json_pack ("{s:i}", "pid", (int) pid);
  rc = 0;

out:
  close_pair (out);
  close_pair (errs);
  close_pair (report);
  if (in >= 0)
    close (in);
  free (argv);
  free (envp);
  return rc;
}

void
lodge_agent_exec_drain (AgentExec *e, int fd)
{
  int is_err = fd == e->err_fd;
  struct lodge_buf *b = is_err ? &e->err : &e->out;
  int *truncated = is_err ? &e->err_truncated : &e->out_truncated;
  char chunk[65536];
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        break;
      size_t room = b->len < AGENT_MAX_OUTPUT ? AGENT_MAX_OUTPUT - b->len : 0;
      size_t take = (size_t) n < room ? (size_t) n : room;
      lodge_buf_add (b, chunk, take);
      if (take < (size_t) n || b->failed)
        *truncated = 1;
    }
  close (fd);
  if (is_err)
    e->err_fd = -1;
  else
    e->out_fd = -1;
}

void
lodge_agent_exec_reap (Agent *a)
{
  pid_t pid;
  int status;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    for (int i = 0; i < AGENT_MAX_EXECS; i++)
      if (a->execs[i].pid == pid && !a->execs[i].reaped)
        {
          a->execs[i].reaped = 1;
          a->execs[i].status = status;
          a->execs[i].reaped_ms = lodge_agent_now_ms ();
        }
}

/* Sets @key of @st; 0, or -1 when memory is short. */
static int
set (json_t *st, const char *key, json_t *value)
{
  return json_object_set_new (st, key, value);
}

int
lodge_agent_exec_status (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  int64_t pid;
  if (lodge_agent_arg_int (args, "pid", 1, 0, &pid, err, err_len) < 0)
    return -1;
  AgentExec *e = NULL;
  for (int i = 0; i < AGENT_MAX_EXECS && e == NULL; i++)
    if (pid > 0 && a->execs[i].pid == pid)
      e = &a->execs[i];
  if (e == NULL)
    return fail (err, err_len, "Invalid parameter '%s'", "pid");
  lodge_agent_exec_reap (a);
  if (e->reaped)
    {
      /* Whatever is in the pipes now; a grandchild holding them open
       * does not keep the child's status back for long. */
      int expired = lodge_agent_now_ms () - e->reaped_ms > EXEC_PIPE_GRACE_MS;
      if (e->out_fd >= 0)
        lodge_agent_exec_drain (e, e->out_fd);
      if (e->err_fd >= 0)
        lodge_agent_exec_drain (e, e->err_fd);
      for (int i = 0; expired && i < 2; i++)
        {
          int *fd = i ? &e->err_fd : &e->out_fd;
          if (*fd >= 0)
            close (*fd);
          *fd = -1;
        }
    }
  int exited = e->reaped && e->out_fd < 0 && e->err_fd < 0;
  json_t *st = json_object ();
  int ok = set (st, "exited", json_boolean (exited)) == 0;
  if (exited)
    {
      if (WIFEXITED (e->status))
        ok = ok && set (st, "exitcode", json_integer (WEXITSTATUS (e->status))) == 0;
      else if (WIFSIGNALED (e->status))
        ok = ok && set (st, "signal", json_integer (WTERMSIG (e->status))) == 0;
      if (e->capture)
        {
          ok = ok && set (st, "out-data", lodge_json_base64 (e->out.data, e->out.len)) == 0;
          ok = ok && set (st, "err-data", lodge_json_base64 (e->err.data, e->err.len)) == 0;
          if (e->out_truncated)
            ok = ok && set (st, "out-truncated", json_true ()) == 0;
          if (e->err_truncated)
            ok = ok && set (st, "err-truncated", json_true ()) == 0;
        }
      /* Forgotten once told; kept for the next request when memory was short. */
      if (ok)
        {
          lodge_buf_clear (&e->out);
          lodge_buf_clear (&e->err);
          *e = (AgentExec) { .out_fd = -1, .err_fd = -1 };
        }
    }
  if (!ok)
    json_decref (st);
  *ret = ok ? st : NULL;
  return 0;
}
