/* Defining and undefining environments: the definition in the state
 * store, checked first (its template and applications must exist, every
 * configuration value must fit), and the runtime record beside it. */
#pragma once

#include <glib.h>

#include "lodge-ctl.h"
#include "lodge-env.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_DEFINE_CREATE_OR_REPLACE, /* virsh define: new, or a redefinition */
  LODGE_DEFINE_CREATE,            /* new only: a taken name is LODGE_STORAGE_ERROR_EXISTS */
  LODGE_DEFINE_CREATE_OR_REPLACE_OWN, /* a customer's: replaces only a VE of the same
                                       * <owner> (another's: LODGE_STORAGE_ERROR_EXISTS) */
} LodgeDefineMode;

/* Whether @def is of VE @expected_name (the name in a URL; NULL: any). */
gboolean lodge_define_check_name (const LodgeEnvDef *def, const char *expected_name, GError **error);

/* Validates @xml and stores it as the definition of its VE (created, or
 * replaced: a running VE gets it at its next start). The template must
 * exist. With @expected_name (the name in a URL), the XML's name must be
 * it. Sets *ret_name and *ret_created. */
gboolean lodge_define_env (LodgeCtl *ctl, const char *xml, gsize len, LodgeDefineMode mode,
                           const char *expected_name, char **ret_name, gboolean *ret_created,
                           GError **error);
/* Removes a VE; refused (LODGE_STORAGE_ERROR_BUSY) unless it is stopped
 * and no repair claims it. With @remove_disk its root disk goes too. */
gboolean lodge_define_undefine (LodgeCtl *ctl, const char *name, gboolean remove_disk,
                                GError **error);

/* A line for the daemon's log (the reconciler's kind of callback). */
typedef void (*LodgeDefineLog) (const char *message, gpointer user_data);

/* Claims the addresses of every stored definition that does not hold its
 * own yet (VEs defined before address claims existed: lodge-addresses.h),
 * one definition at a time under the define lock. A definition whose
 * address another VE holds is logged and left as it is. Returns how many
 * addresses it claimed. The active controller runs it once, at start. */
guint lodge_define_claim_all (LodgeCtl *ctl, LodgeDefineLog log, gpointer user_data, GError **error);

G_END_DECLS
