#include "appstatus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apply.h"
#include "config.h"
#include "json.h"

static const char *const state_names[LODGE_APP_STATE_LAST] = {
  [LODGE_APP_RUNNING] = "running",
  [LODGE_APP_RESTARTING] = "restarting",
  [LODGE_APP_FAILED_TO_START] = "failed-to-start",
};

static int
mkdir_p (const char *dir)
{
  char path[4096];
  if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
    return -1;
  for (char *p = path + 1; *p != '\0'; p++)
    if (*p == '/')
      {
        *p = '\0';
        mkdir (path, 0755);
        *p = '/';
      }
  return mkdir (path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int
lodge_app_status_write (const char *dir, const struct lodge_app_status *st)
{
  if (!lodge_cfg_safe_path_part (st->name) || strchr (st->name, '/') != NULL
      || (unsigned) st->state >= LODGE_APP_STATE_LAST)
    {
      lodge_say ("%s: no status file for an application of that name", st->name);
      return -1;
    }
  if (mkdir_p (dir) < 0)
    {
      lodge_say ("cannot create %s: %s", dir, strerror (errno));
      return -1;
    }
  json_t *v = json_pack ("{s:s,s:s,s:o,s:i,s:I,s:o,s:o}",
                         "name", st->name,
                         "state", state_names[st->state],
                         "pid", st->pid > 0 ? json_integer (st->pid) : json_null (),
                         "restarts", st->restarts,
                         "started", (json_int_t) st->started,
                         "last_exit",
                         st->last_exit != NULL ? lodge_json_str (st->last_exit) : json_null (),
                         "command", lodge_json_str (st->command));
  struct lodge_buf b = { 0 };
  if (v == NULL || lodge_json_dump (&b, v) < 0)
    b.failed = 1;
  lodge_buf_add (&b, "\n", 1);
  json_decref (v);
  char path[4096];
  int rc = -1;
  if (b.failed)
    lodge_say ("%s: status file: out of memory", st->name);
  else if (snprintf (path, sizeof path, "%s/%s.json", dir, st->name) < (int) sizeof path)
    rc = lodge_write_file (path, b.data, b.len, 0644, -1, -1);
  lodge_buf_clear (&b);
  return rc;
}
