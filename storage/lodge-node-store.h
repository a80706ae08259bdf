/* Nodes in the state store, as two records a node each, so that neither
 * of their writers races the other:
 *
 *   - its agent's report (kind "node", LodgeNodeReport): written by that
 *     agent only, whole, at every heartbeat; nothing else writes it;
 *   - the control center's decision about it (kind "node-decision",
 *     LodgeNodeDecision): draining, fenced, TCG after KVM failed there;
 *     written by controllers only, and only when they decide.
 *
 * Readers that need both get the combined view, LodgeNodeRecord, from
 * lodge_node_record_load() and lodge_node_record_load_all().
 *
 * Upgrades: code before the split kept one record of kind "node" holding
 * both parts. It reads as a report whose legacy_decision holds the
 * control center's part ("state", "fenced_us"); that part is in force
 * while the node has no decision record, and an agent writes it back
 * unchanged with its report until the node has one (then it drops it).
 * The first decision a controller makes about such a node starts from
 * it. Upgrade controllers before agents: a controller of the old code
 * cannot read a report that never was a one-record node. */
#pragma once

#include <glib.h>

#include "lodge-records.h"
#include "lodge-store.h"

G_BEGIN_DECLS

/* The report of node @name and its version (@ret_version may be NULL);
 * LODGE_STORAGE_ERROR_NOT_FOUND names a node that never registered. */
LodgeNodeReport *lodge_node_report_load (LodgeStore *store, const char *name,
                                         guint64 *ret_version, GError **error);
/* Writes @report: created when *@version is 0, else replaced if still at
 * *@version (CONFLICT otherwise: someone else wrote it); *@version is
 * then the new one. For the node's agent only. */
gboolean lodge_node_report_save (LodgeStore *store, const LodgeNodeReport *report,
                                 guint64 *version, GError **error);

/* The decision in force about @report's node: its decision record, with
 * its version in *@ret_version; else a copy of the part @report carries
 * from before the split, else a new one (up), both with *@ret_version 0
 * (saving it creates the record). @ret_version may be NULL. */
LodgeNodeDecision *lodge_node_decision_load (LodgeStore *store, const LodgeNodeReport *report,
                                             guint64 *ret_version, GError **error);
/* Writes @decision: created when @version is 0, else replaced if still at
 * @version. For controllers only. */
gboolean lodge_node_decision_save (LodgeStore *store, const LodgeNodeDecision *decision,
                                   guint64 version, GError **error);

/* Changes what @decision says about the node of @report; FALSE when there
 * is nothing to change. */
typedef gboolean (*LodgeNodeDecideFunc) (LodgeNodeDecision *decision,
                                         const LodgeNodeReport *report, gconstpointer data);
/* Reads node @name's report and the decision in force, lets @decide change
 * it and saves it. Agents never write decisions, so this is tried once: a
 * conflict means another controller decided meanwhile
 * (LODGE_STORAGE_ERROR_CONFLICT or EXISTS), and the caller decides again
 * from what is there now. NOT_FOUND names an unknown node. */
gboolean lodge_node_decide (LodgeStore *store, const char *name, LodgeNodeDecideFunc decide,
                            gconstpointer data, GError **error);

/* Node @name's report with the decision in force. */
LodgeNodeRecord *lodge_node_record_load (LodgeStore *store, const char *name, GError **error);
/* The same for every node that registered, by name. */
GPtrArray *lodge_node_record_load_all (LodgeStore *store, GError **error);

G_END_DECLS
