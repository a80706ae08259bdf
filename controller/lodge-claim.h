/* Repair claims (LodgeRepairClaim in a VE's runtime record): a writing
 * repair holds a stopped VE's disk, taken with compare-and-set; a start
 * is refused while the claim stands, naming the repair and who holds it;
 * the claim names the snapshot a successor rolls back to should the
 * controller holding it die mid-repair. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-records.h"

G_BEGIN_DECLS

/* Claims VE @name for repair @op on behalf of @who, held by controller
 * @owner: the VE must be stopped and unclaimed (or, with @renew, claimed
 * by @owner already). A claim another controller left with a snapshot is
 * rolled back first (said through @progress): its controller is gone, or
 * its claim would have been settled before. */
gboolean lodge_claim_take (LodgeCtl *ctl, const char *name, const char *op, const char *who,
                           const char *owner, const char *snapshot, gboolean renew,
                           LodgeProgress progress, gpointer progress_data, GError **error);
/* Clears the claim on @name if @owner holds it (a warning when the
 * record cannot be written). */
void lodge_claim_release (LodgeCtl *ctl, const char *name, const char *owner);
/* FALSE (LODGE_STORAGE_ERROR_BUSY, naming the repair and who holds it)
 * while a repair claims @rt's VE: it cannot start. */
gboolean lodge_claim_check_start (const LodgeRuntimeRecord *rt, GError **error);

G_END_DECLS
