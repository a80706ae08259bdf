#define _GNU_SOURCE /* nftw */
#include "lodge-api-template.h"

#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "lodge-error.h"
#include "lodge-storage-error.h"
#include "lodge-tar.h"
#include "lodge-template.h"

#define UPLOAD_KEY LODGE_HTTP_SPOOLED

/* A POST's body on its way to a spool file. */
typedef struct {
  int fd;
  char *path;
  guint64 bytes;
  int error; /* errno of a failed write, or EFBIG */
} Upload;

static void
upload_free (gpointer data)
{
  Upload *up = data;
  if (up->fd >= 0)
    close (up->fd);
  if (up->path != NULL)
    g_unlink (up->path);
  g_free (up->path);
  g_free (up);
}

static void
respond_now (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  char *text = lodge_http_error_text (code, message);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

/* In the main loop, as each piece of the body comes. */
static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  Upload *up = data;
  gsize len = 0;
  const char *p = g_bytes_get_data (chunk, &len);
  if (up->error != 0)
    return;
  if (up->bytes + len > LODGE_API_MAX_UPLOAD)
    {
      up->error = EFBIG;
      return;
    }
  up->bytes += len;
  while (len > 0)
    {
      ssize_t n = write (up->fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          up->error = errno;
          return;
        }
      p += n;
      len -= (gsize) n;
    }
}

void
lodge_api_template_early (SoupServerMessage *msg)
{
  if (strcmp (soup_server_message_get_method (msg), "POST") != 0)
    return;
  Upload *up = g_new0 (Upload, 1);
  g_autoptr (GError) error = NULL;
  up->fd = g_file_open_tmp ("lodge-upload-XXXXXX", &up->path, &error); /* 0600 */
  if (up->fd < 0)
    {
      upload_free (up);
      return respond_now (msg, 500, "failed", error->message);
    }
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_object_set_data_full (G_OBJECT (msg), UPLOAD_KEY, up, upload_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), up);
}


/* ---- list, show, delete ---- */

static void
add_version (JsonBuilder *b, const LodgeTemplateVersion *v, GPtrArray *clones)
{
  json_builder_begin_object (b);
  lodge_template_version_add_json (b, v);
  if (clones != NULL)
    {
      json_builder_set_member_name (b, "clones");
      json_builder_begin_array (b);
      for (guint i = 0; i < clones->len; i++)
        json_builder_add_string_value (b, clones->pdata[i]);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

static void
route_list (LodgeHttpRequest *r, LodgeStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) templates = lodge_template_list (store, &error);
  if (templates == NULL)
    return lodge_http_respond_error (r, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < templates->len; i++)
    {
      LodgeTemplate *t = templates->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, t->name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, lodge_template_kind_to_string (t->kind));
      json_builder_set_member_name (b, "versions");
      json_builder_begin_array (b);
      for (guint j = 0; j < t->versions->len; j++)
        add_version (b, t->versions->pdata[j], NULL);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  lodge_http_respond_built (r, 200, b);
}

static void
route_show (LodgeHttpRequest *r, LodgeStore *store, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LodgeTemplate) t = lodge_template_get (store, name, &error);
  if (t == NULL)
    return lodge_http_respond_error (r, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, t->name);
  json_builder_set_member_name (b, "image");
  g_autofree char *image = g_strdup_printf ("%s/%s", t->pool, t->image);
  json_builder_add_string_value (b, image);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, lodge_template_kind_to_string (t->kind));
  json_builder_set_member_name (b, "versions");
  json_builder_begin_array (b);
  for (guint i = 0; i < t->versions->len; i++)
    {
      LodgeTemplateVersion *v = t->versions->pdata[i];
      g_autoptr (GPtrArray) clones = lodge_template_clones (store, t, v->version, &error);
      if (clones == NULL)
        return lodge_http_respond_error (r, error);
      add_version (b, v, clones);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

static void
route_delete (LodgeHttpRequest *r, LodgeStore *store, const char *name)
{
  g_autoptr (GError) error = NULL;
  const char *version = lodge_http_query (r, "version");
  g_autofree char *who = lodge_http_requester (r);
  if (!lodge_template_delete (store, name, version, &error))
    return lodge_http_respond_error (r, error);
  g_message ("template %s%s%s deleted by %s", name, version != NULL ? "@" : "",
             version != NULL ? version : "", who);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "deleted");
  json_builder_add_string_value (b, version != NULL ? version : "all");
  json_builder_end_object (b);
  lodge_http_respond_built (r, 200, b);
}

/* ---- import ---- */

typedef struct {
  LodgeStore *store;
  const char *client_id;
  const char *name;
  const char *version;
  LodgeTemplateKind kind;
  const char *archive;
  LodgeProgress progress;
  gpointer progress_data;
  LodgeImportStage last_stage;
  guint last_percent;
} ImportCall;

static const char *
stage_text (LodgeImportStage stage)
{
  switch (stage)
    {
    case LODGE_IMPORT_CHECK:
      return "checking the archive";
    case LODGE_IMPORT_ARCHIVE:
      return "packing the tree";
    case LODGE_IMPORT_IMAGE:
      return "creating the RBD image";
    case LODGE_IMPORT_LAUNCH:
      return "starting the libguestfs appliance";
    case LODGE_IMPORT_COPY:
      return "formatting and copying the tree";
    case LODGE_IMPORT_SNAPSHOT:
      return "snapshotting the version";
    default:
      return "working";
    }
}

/* Each stage once, and a long one's progress every 10 % (its end is the
 * next stage). */
static void
import_progress (LodgeImportStage stage, guint64 done, guint64 total, gpointer data)
{
  ImportCall *c = data;
  if (c->progress == NULL)
    return;
  guint percent = total > 0 ? (guint) (done * 100 / total) : 0;
  if (stage != c->last_stage)
    {
      c->last_stage = stage;
      c->last_percent = 0;
      c->progress (stage_text (stage), c->progress_data);
    }
  else if (total > 0 && percent < 100 && percent >= c->last_percent + 10)
    {
      c->last_percent = percent - percent % 10;
      g_autofree char *what = g_strdup_printf ("%s: %u%%", stage_text (stage), c->last_percent);
      c->progress (what, c->progress_data);
    }
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  remove (path); /* best effort: the rest of the tree goes on */
  return 0;
}

static char *
import_job (gpointer data, LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
            gpointer progress_data, GError **error)
{
  ImportCall *c = data;
  c->progress = progress;
  c->progress_data = progress_data;
  c->last_stage = LODGE_IMPORT_LAST;
  g_autoptr (LodgeTemplateVersion) v = NULL;
  if (c->kind == LODGE_TEMPLATE_KIND_OS)
    v = lodge_template_import (c->store, c->client_id, c->name, c->archive, c->version,
                               import_progress, c, error);
  else
    {
      /* An application's manifest and config file templates are read from
       * the tree: unpacked into a private directory first. */
      g_autofree char *dir = g_dir_make_tmp ("lodge-app-XXXXXX", error);
      if (dir == NULL)
        return NULL;
      if (progress != NULL)
        progress ("unpacking the tree", progress_data);
      if (lodge_tar_extract (c->archive, dir, error))
        v = lodge_template_import_application (c->store, c->client_id, c->name, dir, c->version,
                                               import_progress, c, error);
      nftw (dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
  if (v == NULL)
    return NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, lodge_template_kind_to_string (c->kind));
  lodge_template_version_add_json (b, v);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
route_import (LodgeHttpRequest *r, LodgeStore *store, const char *client_id, const char *name)
{
  Upload *up = g_object_get_data (G_OBJECT (r->msg), UPLOAD_KEY);
  if (up == NULL)
    return lodge_http_respond_error_code (r, 400, "invalid", "no archive was uploaded");
  if (up->error == EFBIG)
    return lodge_http_respond_error_code (r, 413, "invalid", "the upload is over the size limit");
  if (up->error != 0)
    {
      g_autofree char *message = g_strdup_printf ("cannot keep the upload: %s", g_strerror (up->error));
      return lodge_http_respond_error_code (r, 500, "failed", message);
    }
  if (up->bytes == 0)
    return lodge_http_respond_error_code (r, 400, "invalid", "the upload is empty: send a tar archive");
  const char *kind_s = lodge_http_query (r, "kind");
  int kind = kind_s != NULL ? lodge_template_kind_from_string (kind_s) : LODGE_TEMPLATE_KIND_OS;
  if (kind < 0)
    {
      g_autofree char *message = g_strdup_printf ("unknown kind '%s' (os or application)", kind_s);
      return lodge_http_respond_error_code (r, 400, "invalid", message);
    }
  g_autoptr (GError) error = NULL;
  const char *version = lodge_http_query (r, "version");
  if (!lodge_template_check_name (name, &error)
      || (version != NULL && !lodge_template_check_version (version, &error)))
    return lodge_http_respond_error (r, error);
  g_autofree char *who = lodge_http_requester (r);
  g_message ("template import %s (%s, %" G_GUINT64_FORMAT " bytes uploaded) by %s", name,
             lodge_template_kind_to_string (kind), up->bytes, who);
  ImportCall call = { .store = store, .client_id = client_id, .name = name, .version = version,
                      .kind = kind, .archive = up->path };
  g_autofree char *what = g_strdup_printf ("template import %s", name);
  lodge_http_run_job (r, what, import_job, &call);
}

void
lodge_api_template_route (LodgeHttpRequest *r, LodgeStore *store, const char *client_id)
{
  guint n = g_strv_length (r->parts);
  const char *name = n == 3 ? r->parts[2] : NULL;
  if (n == 2 && strcmp (r->method, "GET") == 0)
    return route_list (r, store);
  if (name != NULL && strcmp (r->method, "GET") == 0)
    return route_show (r, store, name);
  if (name != NULL && strcmp (r->method, "DELETE") == 0)
    return route_delete (r, store, name);
  if (name != NULL && strcmp (r->method, "POST") == 0)
    return route_import (r, store, client_id, name);
  lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}
