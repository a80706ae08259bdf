#include "lodge-agent-ve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "lodge-json.h"
#include "lodge-storage-error.h"
#include "lodge-strings.h"

/* The ready line is looked for in the first MiB a boot writes, and is
 * returned at most this long. */
#define READY_SCAN (1024 * 1024)
#define READY_LINE_MAX 512
#define CONFIG_MAX (64 * 1024)

static char *
ve_path (const char *state_dir, const char *ve, const char *file)
{
  return g_build_filename (state_dir, ve, file, NULL);
}

static gboolean
refuse (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, LODGE_STORAGE_ERROR, LODGE_STORAGE_ERROR_INVALID, message);
  return FALSE;
}

static GBytes *
answer (JsonBuilder *b)
{
  return lodge_json_to_bytes (b);
}

/* Reads up to @max bytes of @path from @from; the file's size in
 * @ret_size. A missing file is empty. */
static GBytes *
read_range (const char *path, guint64 from, gsize max, guint64 *ret_size, GError **error)
{
  *ret_size = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return g_bytes_new (NULL, 0);
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a regular file", path);
      return NULL;
    }
  *ret_size = (guint64) st.st_size;
  if (from >= *ret_size)
    {
      close (fd);
      return g_bytes_new (NULL, 0);
    }
  gsize want = MIN (max, *ret_size - from);
  char *buf = g_malloc (want);
  ssize_t n = pread (fd, buf, want, (off_t) from);
  int saved = errno;
  close (fd);
  if (n < 0)
    {
      g_free (buf);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  return g_bytes_new_take (buf, (gsize) n);
}

static GBytes *
put_config (const char *state_dir, const char *ve, JsonObject *o, GError **error)
{
  const char *config = json_object_get_string_member_with_default (o, "config", NULL);
  if (config == NULL)
    return refuse (error, "put-config without a config"), NULL;
  if (strlen (config) > CONFIG_MAX)
    return refuse (error, "a config of %zu bytes (at most %d)", strlen (config), CONFIG_MAX), NULL;
  g_autofree char *dir = g_build_filename (state_dir, ve, NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  g_autofree char *config_file = ve_path (state_dir, ve, "config");
  g_autofree char *console_log = ve_path (state_dir, ve, "console.log");
  /* The blob holds the root password hash: 0600, written whole or not. */
  if (!g_file_set_contents_full (config_file, config, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;
  /* A start's ready line must be that boot's. */
  if (json_object_get_boolean_member_with_default (o, "fresh_log", FALSE) && unlink (console_log) < 0
      && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", console_log,
                   g_strerror (saved));
      return NULL;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "config_file");
  json_builder_add_string_value (b, config_file);
  json_builder_set_member_name (b, "console_log");
  json_builder_add_string_value (b, console_log);
  json_builder_end_object (b);
  return answer (b);
}

static GBytes *
ready (const char *state_dir, const char *ve, GError **error)
{
  g_autofree char *log = ve_path (state_dir, ve, "console.log");
  guint64 size = 0;
  g_autoptr (GBytes) text = read_range (log, 0, READY_SCAN, &size, error);
  if (text == NULL)
    return NULL;
  g_autofree char *needle = g_strdup_printf ("lodge-ready name=%s ", ve);
  gsize len = 0;
  const char *data = g_bytes_get_data (text, &len);
  const char *hit = data != NULL ? g_strstr_len (data, (gssize) len, needle) : NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (hit != NULL)
    {
      gsize rest = len - (gsize) (hit - data), n = 0;
      while (n < rest && n < READY_LINE_MAX && hit[n] != '\n' && hit[n] != '\r' && hit[n] != '\0')
        n++;
      g_autofree char *line = g_strndup (hit, n);
      g_autofree char *quoted = lodge_terminal_safe (line, n); /* the guest wrote it */
      json_builder_set_member_name (b, "line");
      json_builder_add_string_value (b, quoted);
    }
  json_builder_end_object (b);
  return answer (b);
}

/* From where the last @lines lines of @path (@size bytes) start (a last
 * unfinished line counts), looking back over one chunk at most. */
static guint64
last_lines_start (const char *path, guint64 size, guint64 lines, GError **error, gboolean *ok)
{
  *ok = FALSE;
  guint64 base = size > LODGE_AGENT_CONSOLE_CHUNK ? size - LODGE_AGENT_CONSOLE_CHUNK : 0;
  g_autoptr (GBytes) tail = read_range (path, base, LODGE_AGENT_CONSOLE_CHUNK, &size, error);
  if (tail == NULL)
    return 0;
  gsize len = 0;
  const char *text = g_bytes_get_data (tail, &len);
  /* Back over @lines line ends, the log's last one not counted. */
  gsize from = len;
  guint64 seen = 0;
  if (lines == 0)
    {
      *ok = TRUE;
      return base + len;
    }
  if (from > 0 && text[from - 1] == '\n')
    from--;
  while (from > 0)
    {
      if (text[from - 1] == '\n' && ++seen == lines)
        break;
      from--;
    }
  *ok = TRUE;
  return base + from;
}

static GBytes *
console (const char *state_dir, const char *ve, JsonObject *o, GError **error)
{
  g_autofree char *log = ve_path (state_dir, ve, "console.log");
  gint64 offset = json_object_get_int_member_with_default (o, "offset", -1);
  gint64 lines = json_object_get_int_member_with_default (o, "lines", 100);
  if (lines < 0 || (offset < -1))
    return refuse (error, "lines and offset must not be negative"), NULL;
  /* Its size first (a missing log is empty; no symlink is followed). */
  guint64 size = 0;
  g_autoptr (GBytes) none = read_range (log, 0, 0, &size, error);
  if (none == NULL)
    return NULL;
  guint64 from = (guint64) offset;
  if (offset < 0)
    {
      gboolean ok;
      from = last_lines_start (log, size, (guint64) lines, error, &ok);
      if (!ok)
        return NULL;
    }
  if (from > size)
    from = 0; /* a new log (another boot) shorter than the old: from its start */
  g_autoptr (GBytes) data = read_range (log, from, LODGE_AGENT_CONSOLE_CHUNK, &size, error);
  if (data == NULL)
    return NULL;
  gsize len = 0;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  g_autofree char *encoded = g_base64_encode (bytes, len);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) size);
  json_builder_set_member_name (b, "from");
  json_builder_add_int_value (b, (gint64) from);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, encoded);
  json_builder_end_object (b);
  return answer (b);
}

void
lodge_agent_ve_forget (const char *state_dir, const char *ve)
{
  if (!lodge_storage_check_name (ve, "environment name", NULL))
    return;
  g_autofree char *config_file = ve_path (state_dir, ve, "config");
  if (unlink (config_file) < 0 && errno != ENOENT)
    g_warning ("cannot remove %s: %s", config_file, g_strerror (errno));
}

void
lodge_agent_ve_sweep (const char *state_dir, GPtrArray *defined, guint min_age_s)
{
  g_autoptr (GDir) dir = g_dir_open (state_dir, 0, NULL);
  if (dir == NULL)
    return;
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC; /* this host's clock against its files' */
  const char *ve;
  while ((ve = g_dir_read_name (dir)) != NULL)
    {
      if (g_ptr_array_find_with_equal_func (defined, ve, g_str_equal, NULL))
        continue;
      g_autofree char *config_file = ve_path (state_dir, ve, "config");
      struct stat st;
      if (lstat (config_file, &st) == 0 && now_s - st.st_mtime >= (gint64) min_age_s)
        lodge_agent_ve_forget (state_dir, ve);
    }
}

/* The newest leader generation a request carried (0: none yet). */
static gint64 newest_generation;

/* A request of a leader older than one already heard from is refused: that
 * leader was paused or cut off past its lease, and another leads. */
static gboolean
check_generation (JsonObject *o, GError **error)
{
  gint64 gen = json_object_get_int_member_with_default (o, "generation", 0);
  if (gen <= 0)
    return TRUE; /* tools, and controllers before generations */
  gint64 seen = __atomic_load_n (&newest_generation, __ATOMIC_ACQUIRE);
  while (gen > seen)
    if (__atomic_compare_exchange_n (&newest_generation, &seen, gen, FALSE, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
      return TRUE;
  if (gen == seen)
    return TRUE;
  refuse (error, "a request of leader generation %" G_GINT64_FORMAT ", older than generation %"
          G_GINT64_FORMAT " that this node has heard from: that controller no longer leads",
          gen, seen);
  return FALSE;
}

GBytes *
lodge_agent_ve_handle (GBytes *request, gpointer user_data, GError **error)
{
  const char *state_dir = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (request, &len);
  if (len == 0 || !json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return refuse (error, "a request that is not a JSON object"), NULL;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (!check_generation (o, error))
    return NULL;
  const char *op = json_object_get_string_member_with_default (o, "op", "");
  const char *ve = json_object_get_string_member_with_default (o, "ve", NULL);
  if (ve == NULL)
    return refuse (error, "request '%s' without an environment name", op), NULL;
  if (!lodge_storage_check_name (ve, "environment name", error))
    return NULL;
  if (strcmp (op, "put-config") == 0)
    return put_config (state_dir, ve, o, error);
  if (strcmp (op, "ready") == 0)
    return ready (state_dir, ve, error);
  if (strcmp (op, "console") == 0)
    return console (state_dir, ve, o, error);
  if (strcmp (op, "forget") == 0)
    {
      lodge_agent_ve_forget (state_dir, ve);
      return g_bytes_new_static ("{}", 2);
    }
  return refuse (error, "unknown request '%s'", op), NULL;
}
