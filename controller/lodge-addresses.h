/* A VE's addresses are its own in the whole cluster: each IP address and
 * MAC address of a definition is claimed in the state store (kind
 * "address", a record per address whose value is the VE's name), so that
 * defining a VE with an address another VE has is refused, naming that
 * VE, at the cost of one read per address and without a race: a claim is
 * an exclusive create.
 *
 * A claim outlives its VE's use of it only after a crash between the
 * steps of a define or undefine: a claim whose holder's definition lacks
 * the address (or is gone) is stale, and the next VE that wants the
 * address takes it over (at the version read). Defines run one at a time
 * in the active controller (lodge_define_env holds a lock around claim
 * and store), so that a claim of a define under way is never taken for a
 * stale one.
 *
 * The nodes' network filters (lodge-nwfilter.h) then hold each VE to the
 * addresses of its definition. */
#pragma once

#include <glib.h>

#include "lodge-env.h"
#include "lodge-store.h"

G_BEGIN_DECLS

/* The store's name of each address of @def ("ip4-10.77.0.10",
 * "ip6-<32 hex digits>", "mac-525400123456"), with what to call it in a
 * message ("10.77.0.10 (eth0)") in *@ret_shown (same order). */
GPtrArray *lodge_addresses_of (const LodgeEnvDef *def, GPtrArray **ret_shown);

/* Whether each address of @def is free or already VE @def->name's;
 * LODGE_STORAGE_ERROR_EXISTS naming the address and (with @name_holder)
 * the VE that has it. Reads only. */
gboolean lodge_addresses_check (LodgeStore *store, const LodgeEnvDef *def, gboolean name_holder,
                                GError **error);

/* Claims every address of @def for VE @def->name; those it did not hold
 * before are added to @ret_taken (store names), for
 * lodge_addresses_release() if what follows fails. On failure, releases
 * what it took and sets the error of lodge_addresses_check(). */
gboolean lodge_addresses_claim (LodgeStore *store, const LodgeEnvDef *def, GPtrArray *ret_taken,
                                GError **error);

/* Releases VE @name's claims of the store names @names (those another VE
 * holds stay). Failures are logged: a claim left behind is stale. */
void lodge_addresses_release (LodgeStore *store, const char *name, GPtrArray *names);

G_END_DECLS
