/* Customers: users of the customer role, each the owner of its VEs (the
 * <owner> of their definitions), within what an admin allowed it (its
 * user record: quotas, templates, applications; lodge-users.h).
 *
 * What a customer may define: a VE it owns (an <owner> of its own or none,
 * which becomes its own), from a template and applications of its lists,
 * without <priority> (the provider's to set), within its quotas:
 *
 *   environments  its VEs defined, this one included
 *   disk          the sum of their <disk>
 *   vcpus         the sum of <vcpus> of its VEs that run (or are asked to),
 *   memory        and of their <memory>, checked at each start; at define,
 *                 the VE alone must fit them.
 *
 * The API runs a customer's define and start under lodge_customer_lock()
 * so that two requests of one customer cannot both take the last of a
 * quota. The checks apply to what customers ask; an admin may define and
 * start past a customer's quotas. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-env.h"
#include "lodge-users.h"

G_BEGIN_DECLS

/* What a customer's VEs take, counted as the quotas count. */
typedef struct {
  gint64 used[LODGE_QUOTA_LAST];
} LodgeUsage;

/* Whether VE @name exists and is @owner's. A VE of another, or none,
 * sets LODGE_STORAGE_ERROR_NOT_FOUND with the words of a VE that does not
 * exist ("unknown environment 'NAME'"): a customer learns nothing of
 * others' VEs. */
gboolean lodge_customer_owns (LodgeCtl *ctl, const char *owner, const char *name,
                              GError **error);

/* The names of @owner's VEs, sorted. */
GPtrArray *lodge_customer_environments (LodgeCtl *ctl, const char *owner, GError **error);

/* What @owner's VEs take, leaving out VE @except (NULL: none). */
gboolean lodge_customer_usage (LodgeCtl *ctl, const char *owner, const char *except,
                               LodgeUsage *ret_usage, GError **error);

/* Checks a definition @customer sends, and makes @def its own (sets
 * <owner>). LODGE_ERROR_FORBIDDEN for another's <owner>, a template or an
 * application not allowed, a <priority>; LODGE_ERROR_QUOTA when the VE
 * would take the customer past a quota (the message says which, what is
 * used and what is allowed). */
gboolean lodge_customer_check_define (LodgeCtl *ctl, const LodgeUser *customer, LodgeEnvDef *def,
                                      GError **error);

/* Whether @customer may start its VE @name now: its running VEs' vCPUs
 * and memory with this one's fit the quotas. LODGE_ERROR_QUOTA if not. */
gboolean lodge_customer_check_start (LodgeCtl *ctl, const LodgeUser *customer, const char *name,
                                     GError **error);

/* The lock of customer @owner's defines and starts (never freed: one per
 * customer that ever asked). */
GMutex *lodge_customer_lock (const char *owner);

G_END_DECLS
