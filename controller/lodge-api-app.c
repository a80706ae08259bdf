/* The guest's side of the API:
 *   GET  /v1/environments/NAME/apps                  each application and its state
 *   POST /v1/environments/NAME/apps/APP/install      {template, version, autostart, params}
 *   POST /v1/environments/NAME/apps/APP/configure    {params}
 *   POST /v1/environments/NAME/apps/APP/remove
 *   POST /v1/environments/NAME/exec                  {argv, input (base64), timeout}
 *   POST /v1/environments/NAME/passwd                {password_hash}
 * install, configure and remove stream like repairs; the others answer one JSON
 * object. Every call is logged with who asked. */
#include <string.h>

#include "lodge-api-private.h"
#include "lodge-apps-guest.h"

typedef enum { APP_INSTALL, APP_CONFIGURE, APP_REMOVE } AppVerb;

typedef struct {
  const char *app;
  JsonObject *args;
  const char *who;
  AppVerb verb;
} AppCall;

static char *
app_job (Request *r, const char *name, gpointer data, LodgeRepairOutput out, gpointer out_data,
         LodgeProgress progress, gpointer progress_data, GError **error)
{
  AppCall *c = data;
  LodgeApps *apps = &r->api->apps;
  switch (c->verb)
    {
    case APP_INSTALL:
      return lodge_apps_install (apps, name, c->app, c->args, c->who, out, out_data, progress,
                                 progress_data, error);
    case APP_CONFIGURE:
      return lodge_apps_guest_configure (apps, name, c->app, c->args, c->who, out, out_data,
                                         progress, progress_data, error);
    default:
      return lodge_apps_remove (apps, name, c->app, c->who, out, out_data, progress, progress_data,
                                error);
    }
}

static void
respond_result (Request *r, char *result, GError *error)
{
  if (result == NULL)
    return lodge_api_respond_error (r, error);
  lodge_api_respond_json (r, 200, g_bytes_new_take (g_strconcat (result, "\n", NULL),
                                                    strlen (result) + 1));
}

void
lodge_api_route_guest (Request *r, const char *name, const char *action)
{
  guint n = g_strv_length (r->parts);
  gboolean post = strcmp (r->method, "POST") == 0;
  g_autoptr (GError) error = NULL;
  if (strcmp (action, "apps") == 0 && n == 4 && strcmp (r->method, "GET") == 0)
    {
      g_autofree char *result = lodge_apps_guest_list (&r->api->apps, name, &error);
      return respond_result (r, result, error);
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *args = NULL;
  if (post && !lodge_api_body_object (r, parser, &args))
    return;
  g_autofree char *who = lodge_api_requester (r);
  static const char *const verbs[] = { "install", "configure", "remove" };
  for (guint v = 0; strcmp (action, "apps") == 0 && n == 6 && post && v < G_N_ELEMENTS (verbs); v++)
    {
      if (strcmp (r->parts[5], verbs[v]) != 0)
        continue;
      AppCall call = { r->parts[4], args, who, (AppVerb) v };
      g_message ("app %s %s %s by %s", r->parts[5], name, call.app, who);
      g_autofree char *what = g_strdup_printf ("app %s %s %s", r->parts[5], name, call.app);
      return lodge_api_run_job (r, name, what, app_job, &call);
    }
  if (strcmp (action, "exec") == 0 && n == 4 && post)
    {
      g_autofree char *result = lodge_apps_guest_exec (&r->api->apps, name, args, who, &error);
      return respond_result (r, result, error);
    }
  if (strcmp (action, "passwd") == 0 && n == 4 && post)
    {
      g_autofree char *result = lodge_apps_guest_passwd (&r->api->apps, name, args, who, &error);
      return respond_result (r, result, error);
    }
  lodge_api_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}
