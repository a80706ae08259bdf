#include "lodge-api-app.h"

#include <string.h>

#include "lodge-apps-guest.h"

typedef enum { APP_INSTALL, APP_CONFIGURE, APP_REMOVE } AppVerb;

typedef struct {
  LodgeApps *apps;
  const char *name;
  const char *app;
  JsonObject *args;
  const char *who;
  AppVerb verb;
} AppCall;

static char *
app_job (gpointer data, LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
         gpointer progress_data, GError **error)
{
  AppCall *c = data;
  switch (c->verb)
    {
    case APP_INSTALL:
      return lodge_apps_install (c->apps, c->name, c->app, c->args, c->who, out, out_data,
                                 progress, progress_data, error);
    case APP_CONFIGURE:
      return lodge_apps_guest_configure (c->apps, c->name, c->app, c->args, c->who, out, out_data,
                                         progress, progress_data, error);
    default:
      return lodge_apps_remove (c->apps, c->name, c->app, c->who, out, out_data, progress,
                                progress_data, error);
    }
}

/* @result (taken), or @error. */
static void
respond_result (LodgeHttpRequest *r, char *result, GError *error)
{
  if (result == NULL)
    return lodge_http_respond_error (r, error);
  lodge_http_respond_json (r, 200, result);
}

void
lodge_api_app_route (LodgeHttpRequest *r, LodgeServices *svc, const char *name,
                     const char *action)
{
  LodgeApps *apps = lodge_services_get_apps (svc);
  guint n = g_strv_length (r->parts);
  gboolean post = strcmp (r->method, "POST") == 0;
  g_autoptr (GError) error = NULL;
  char *result;
  if (strcmp (action, "apps") == 0 && n == 4 && strcmp (r->method, "GET") == 0)
    {
      result = lodge_apps_guest_list (apps, name, &error);
      return respond_result (r, result, error);
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *args = NULL;
  if (post && !lodge_http_body_object (r, parser, &args))
    return;
  g_autofree char *who = lodge_http_requester (r);
  static const char *const verbs[] = { "install", "configure", "remove" };
  for (guint v = 0; strcmp (action, "apps") == 0 && n == 6 && post && v < G_N_ELEMENTS (verbs); v++)
    {
      if (strcmp (r->parts[5], verbs[v]) != 0)
        continue;
      AppCall call = { apps, name, r->parts[4], args, who, (AppVerb) v };
      g_message ("app %s %s %s by %s", r->parts[5], name, call.app, who);
      g_autofree char *what = g_strdup_printf ("app %s %s %s", r->parts[5], name, call.app);
      return lodge_http_run_job (r, what, app_job, &call);
    }
  if (strcmp (action, "exec") == 0 && n == 4 && post)
    {
      result = lodge_apps_guest_exec (apps, name, args, who, &error);
      return respond_result (r, result, error);
    }
  if (strcmp (action, "passwd") == 0 && n == 4 && post)
    {
      result = lodge_apps_guest_passwd (apps, name, args, who, &error);
      return respond_result (r, result, error);
    }
  lodge_http_respond_error_code (r, 404, "not-found", "no such method or path in the API");
}
