/* POST /v1/environments/NAME/repair/OP: a repair job (lodge-repairs.h)
 * with its arguments as a JSON object in the body.
 *
 * Asked for as a stream (Accept: application/x-ndjson), the answer is
 * one line per progress step {"step", "ms"}, the operation's output as it
 * comes in {"data": BASE64} lines (file contents are bytes, not text),
 * then {"result": {...}} or {"error": {...}}. Otherwise the result object
 * carries the whole output in "output" (at most 16 MiB). */
#pragma once

#include "lodge-http.h"
#include "lodge-services.h"

G_BEGIN_DECLS

/* In a worker thread. */
void lodge_api_repair_route (LodgeHttpRequest *r, LodgeServices *svc, const char *name,
                             const char *op);

G_END_DECLS
