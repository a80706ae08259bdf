/* Templates through the API, so that the CLI needs no Ceph key, no
 * libguestfs and no QEMU (the controller builds the images):
 *   GET    /v1/templates              [{name, kind, versions: [...]}]
 *   GET    /v1/templates/NAME         {name, image, kind, versions: [{..., clones}]}
 *   DELETE /v1/templates/NAME[?version=V]      (refused while clones exist)
 *   POST   /v1/templates/NAME?kind=os|application[&version=V]
 *          body: a tar archive of the tree (plain or gzip), streamed to a
 *          spool file as it arrives, at most LODGE_API_MAX_UPLOAD bytes;
 *          the import's steps stream back; the answer
 *          {name, version, kind, files, bytes}.
 * An upload is taken only from a client the API authorizes, before its
 * body is read. */
#pragma once

#include <libsoup/soup.h>

#include "lodge-http.h"

G_BEGIN_DECLS

#define LODGE_API_MAX_UPLOAD ((guint64) 64 << 30)

/* In the main loop, when the headers of a request for /v1/templates came
 * and the API has taken it (authorized, its size within
 * LODGE_API_MAX_UPLOAD): a POST's body goes to a spool file from now on. */
void lodge_api_template_early (SoupServerMessage *msg);

/* In a worker thread: a request for /v1/templates[/NAME]. */
void lodge_api_template_route (LodgeHttpRequest *r, LodgeStore *store, const char *client_id);

G_END_DECLS
