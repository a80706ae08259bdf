/* guest-file-open, -close, -read, -write, -seek and -flush: at most
 * AGENT_MAX_FILES open handles (numbered from 1000), each an fd opened
 * O_CLOEXEC|O_NONBLOCK (a FIFO must not stall the single-threaded agent);
 * reads are capped at 4 MiB per request (more than 48 MiB is refused). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-private.h"

#define FILE_READ_MAX (48 * 1024 * 1024)
#define FILE_READ_CAP (4 * 1024 * 1024)

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

static const json_t *
get_arg (const json_t *args, const char *name)
{
  const json_t *v = json_object_get (args, name);
  return json_is_null (v) ? NULL : v;
}

static AgentFile *
file_of (Agent *a, const json_t *args, char *err, size_t err_len)
{
  int64_t h;
  if (lodge_agent_arg_int (args, "handle", 1, 0, &h, err, err_len) < 0)
    return NULL;
  for (int i = 0; i < AGENT_MAX_FILES; i++)
    if (a->files[i].handle != 0 && a->files[i].handle == h)
      return &a->files[i];
  snprintf (err, err_len, "handle '%lld' has not been found", (long long) h);
  return NULL;
}

int
lodge_agent_file_open (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  const char *path, *mode;
  if (lodge_agent_arg_str (args, "path", 1, NULL, &path, err, err_len) < 0
      || lodge_agent_arg_str (args, "mode", 0, "r", &mode, err, err_len) < 0)
    return -1;
  char m[4] = "";
  size_t ml = 0;
  for (const char *p = mode; *p != '\0' && ml < sizeof m - 1; p++)
    if (*p != 'b')
      m[ml++] = *p;
  m[ml] = '\0';
  static const struct {
    const char *mode;
    int flags;
  } modes[] = {
    { "r", O_RDONLY },
    { "r+", O_RDWR },
    { "w", O_WRONLY | O_CREAT | O_TRUNC },
    { "w+", O_RDWR | O_CREAT | O_TRUNC },
    { "a", O_WRONLY | O_CREAT | O_APPEND },
    { "a+", O_RDWR | O_CREAT | O_APPEND },
  };
  int flags = -1;
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp (m, modes[i].mode) == 0 && strlen (mode) <= 3)
      flags = modes[i].flags;
  if (flags < 0)
    return fail (err, err_len, "Invalid parameter 'mode': '%.16s'", mode);
  AgentFile *slot = NULL;
  for (int i = 0; i < AGENT_MAX_FILES && slot == NULL; i++)
    if (a->files[i].handle == 0)
      slot = &a->files[i];
  if (slot == NULL)
    return fail (err, err_len, "too many open files (at most %s)", "64");
  /* Non-blocking: a FIFO must not stall the agent. */
  int fd = open (path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
  if (fd < 0)
    {
      snprintf (err, err_len, "failed to open file '%.256s' (mode: '%s'): %s", path, mode,
                strerror (errno));
      return -1;
    }
  slot->fd = fd;
  slot->handle = a->next_handle++;
  *ret = json_integer (slot->handle);
  return 0;
}

int
lodge_agent_file_close (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  AgentFile *f = file_of (a, args, err, err_len);
  if (f == NULL)
    return -1;
  int rc = close (f->fd);
  int e = errno;
  f->handle = 0;
  f->fd = -1;
  if (rc < 0 && e != EINTR)
    {
      snprintf (err, err_len, "failed to close the handle: %s", strerror (e));
      return -1;
    }
  *ret = json_object ();
  return 0;
}

int
lodge_agent_file_flush (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  /* Writes are unbuffered: they reached the kernel already. */
  if (file_of (a, args, err, err_len) == NULL)
    return -1;
  *ret = json_object ();
  return 0;
}

int
lodge_agent_file_read (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  AgentFile *f = file_of (a, args, err, err_len);
  int64_t count;
  if (f == NULL || lodge_agent_arg_int (args, "count", 0, 4096, &count, err, err_len) < 0)
    return -1;
  if (count < 0 || count > FILE_READ_MAX)
    return fail (err, err_len, "Invalid parameter 'count': at most %s bytes",
                     "50331648");
  if (count > FILE_READ_CAP)
    count = FILE_READ_CAP;
  char *buf = malloc ((size_t) count + 1);
  if (buf == NULL)
    return fail (err, err_len, "%s", "out of memory");
  size_t got = 0;
  int eof = 0;
  while (got < (size_t) count)
    {
      ssize_t n = read (f->fd, buf + got, (size_t) count - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        {
          snprintf (err, err_len, "failed to read the file: %s", strerror (errno));
          free (buf);
          return -1;
        }
      if (n == 0)
        {
          eof = 1;
          break;
        }
      got += (size_t) n;
    }
  *ret = json_pack ("{s:I,s:o,s:b}", "count", (json_int_t) got, "buf-b64",
                    lodge_json_base64 (buf, got), "eof", eof);
  free (buf);
  return 0;
}

int
lodge_agent_file_write (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  AgentFile *f = file_of (a, args, err, err_len);
  const char *b64;
  if (f == NULL || lodge_agent_arg_str (args, "buf-b64", 1, NULL, &b64, err, err_len) < 0)
    return -1;
  size_t len;
  unsigned char *data = lodge_base64_decode (b64, strlen (b64), &len);
  if (data == NULL)
    return fail (err, err_len, "%s", "Parameter 'buf-b64' is not valid base64");
  int64_t count;
  if (lodge_agent_arg_int (args, "count", 0, (int64_t) len, &count, err, err_len) < 0
      || count < 0 || (uint64_t) count > len)
    {
      free (data);
      if (count < 0 || (uint64_t) count > len)
        snprintf (err, err_len, "Invalid parameter 'count'");
      return -1;
    }
  size_t done = 0;
  while (done < (size_t) count)
    {
      ssize_t n = write (f->fd, data + done, (size_t) count - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (size_t) n;
    }
  int e = errno;
  free (data);
  if (done == 0 && count > 0)
    {
      snprintf (err, err_len, "failed to write to the file: %s", strerror (e));
      return -1;
    }
  *ret = json_pack ("{s:I,s:b}", "count", (json_int_t) done, "eof", 0);
  return 0;
}

int
lodge_agent_file_seek (Agent *a, const json_t *args, json_t **ret, char *err, size_t err_len)
{
  AgentFile *f = file_of (a, args, err, err_len);
  int64_t offset;
  if (f == NULL || lodge_agent_arg_int (args, "offset", 1, 0, &offset, err, err_len) < 0)
    return -1;
  const json_t *w = get_arg (args, "whence");
  int whence = -1;
  if (w == NULL)
    return fail (err, err_len, "Parameter '%s' is missing", "whence");
  json_int_t wi = json_integer_value (w);
  const char *ws = json_string_value (w);
  if (json_is_integer (w) && wi >= 0 && wi <= 2)
    whence = wi == 0 ? SEEK_SET : wi == 1 ? SEEK_CUR : SEEK_END;
  else if (ws != NULL)
    whence = strcmp (ws, "set") == 0   ? SEEK_SET
             : strcmp (ws, "cur") == 0 ? SEEK_CUR
             : strcmp (ws, "end") == 0 ? SEEK_END
                                       : -1;
  if (whence < 0)
    return fail (err, err_len, "Invalid parameter '%s'", "whence");
  off_t pos = lseek (f->fd, (off_t) offset, whence);
  if (pos < 0)
    {
      snprintf (err, err_len, "failed to seek the file: %s", strerror (errno));
      return -1;
    }
  *ret = json_pack ("{s:I,s:b}", "position", (json_int_t) pos, "eof", 0);
  return 0;
}

