#include "lodge-api-repair.h"

#include "lodge-error.h"
#include "lodge-repairs.h"

typedef struct {
  LodgeDiskJobs *jobs;
  const char *name;
  const char *op;
  JsonObject *args;
  const char *who;
} RepairCall;

static char *
repair_job (gpointer data, LodgeRepairOutput out, gpointer out_data, LodgeProgress progress,
            gpointer progress_data, GError **error)
{
  RepairCall *c = data;
  return lodge_repairs_run (c->jobs, c->name, c->op, c->args, c->who, out, out_data, progress,
                            progress_data, error);
}

void
lodge_api_repair_route (LodgeHttpRequest *r, LodgeServices *svc, const char *name, const char *op)
{
  g_autoptr (GError) error = NULL;
  if (!lodge_repairs_is_op (op))
    {
      g_set_error (&error, LODGE_ERROR, LODGE_ERROR_INVALID,
                   "unknown repair operation '%s' (ls, cat, find, log, df, diff, write, revert, "
                   "rm, chmod, reset-root, fsck, undo, history, shell, close)", op);
      return lodge_http_respond_error (r, error);
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *args = NULL;
  if (!lodge_http_body_object (r, parser, &args))
    return;
  g_autofree char *who = lodge_http_requester (r);
  g_message ("repair %s %s by %s", name, op, who);
  g_autofree char *what = g_strdup_printf ("repair %s %s", name, op);
  RepairCall call = { lodge_services_get_jobs (svc), name, op, args, who };
  lodge_http_run_job (r, what, repair_job, &call);
}
