/* The records the control center and the node agents keep in the state
 * store (kinds "node", "node-decision" and "runtime"), as typed values with
 * one JSON form each. Unknown members are ignored on reading, so a newer
 * writer can add some. */
#pragma once

#include <glib.h>

#include "lodge-accelerator.h"
#include "lodge-enum.h"

G_BEGIN_DECLS

typedef enum {
  LODGE_NODE_UP,
  LODGE_NODE_DOWN,     /* stopped heartbeating */
  LODGE_NODE_DRAINING, /* up, but takes no new VEs */
  LODGE_NODE_FENCED,   /* failed over; back only when cleared */
  LODGE_NODE_STATE_LAST
} LodgeNodeState;
LODGE_ENUM_DECL (lodge_node_state);

/* A domain as its node's libvirt sees it. */
typedef enum {
  LODGE_DOMAIN_STATE_SHUTOFF,
  LODGE_DOMAIN_STATE_RUNNING,
  LODGE_DOMAIN_STATE_PAUSED,
  LODGE_DOMAIN_STATE_SHUTTING_DOWN,
  LODGE_DOMAIN_STATE_CRASHED,
  LODGE_DOMAIN_STATE_OTHER,
  LODGE_DOMAIN_STATE_LAST
} LodgeDomainState;
LODGE_ENUM_DECL (lodge_domain_state);

typedef struct {
  char *name;
  LodgeDomainState state;
} LodgeNodeDomain;

/* What the control center decided about a node (kind "node-decision"):
 * written by controllers only. */
typedef struct {
  char *name;
  LodgeNodeState state; /* up, draining or fenced; down is no decision but
                         * what liveness finds (controller/lodge-ctl.h) */
  gint64 fenced_us;     /* when the control center fenced it (0: not fenced) */
  /* QEMU failed under KVM there although the agent had proven KVM: VEs go
   * there under TCG, for this reason, until the agent registers again
   * (its report's registered_us is no longer tcg_registration). */
  char *tcg_reason;
  gint64 tcg_registration;
} LodgeNodeDecision;

/* What a node's agent reports (kind "node"): written by that agent only,
 * whole, when it registers, at every heartbeat and at libvirt's events. */
typedef struct {
  char *name;
  char *libvirt_uri;
  char *address;
  LodgeAccel accel;     /* what really works there */
  char *accel_reason;   /* why not KVM, for people (NULL with KVM) */
  char *kernel, *initrd; /* the guest kernel the node boots VEs with */
  char *firmware;       /* the firmware ROM it boots them with (qboot); NULL:
                         * QEMU's default (SeaBIOS), or an agent before it */
  char *bridge;         /* where VE NICs attach */
  char *secret_uuid;    /* the libvirt secret holding the Ceph key */
  char *ceph_id;        /* the cephx id whose key that secret holds (NULL: an
                         * agent before it was reported; the controller's) */
  char *ceph_conf;      /* the Ceph configuration VE disks use there (NULL: none) */
  gboolean cpu_tuning;  /* its libvirt has a CPU cgroup: VEs get <cputune> */
  gboolean ksm;         /* it merges its VEs' identical pages (lodge-agent --ksm) */
  guint cpus;
  guint64 memory;       /* bytes of RAM for guests */
  double memory_ratio;  /* overcommit of guest-visible memory */
  double cpu_ratio;
  gint64 heartbeat_us;  /* the agent's wall clock at its last heartbeat; only its
                         * changes count (controller/lodge-liveness.h) */
  gint64 registered_us; /* its wall clock when it registered: names the
                         * registration, compared for equality only */
  char *agent;          /* agent version and pid, for people */
  char *rados_addr;     /* the agent's RADOS client, what fencing blocklists */
  GPtrArray *domains;   /* LodgeNodeDomain: what runs there, as libvirt's events told */
  /* A record written before reports and decisions were split holds the
   * control center's part too ("state", "fenced_us"): read here, and
   * written back unchanged, until the control center has a decision
   * record of its own for the node (NULL: none). */
  LodgeNodeDecision *legacy_decision;
} LodgeNodeReport;

/* A node as readers see it: its agent's report with the control center's
 * decision (lodge_node_record_combine()). Its JSON form is the API's, and
 * the one record that code before the split kept for a node. */
typedef struct {
  char *name;
  char *libvirt_uri;
  char *address;
  LodgeAccel accel;     /* the report's, or TCG as the decision says */
  char *accel_reason;
  char *kernel, *initrd;
  char *firmware;
  char *bridge;
  char *secret_uuid;
  char *ceph_id;
  char *ceph_conf;
  gboolean cpu_tuning;
  gboolean ksm;
  guint cpus;
  guint64 memory;
  double memory_ratio;
  double cpu_ratio;
  LodgeNodeState state; /* the decision's (controllers make it effective) */
  gint64 heartbeat_us;
  char *agent;
  char *rados_addr;
  gint64 fenced_us;
  GPtrArray *domains;   /* LodgeNodeDomain */
} LodgeNodeRecord;

typedef enum {
  LODGE_DESIRED_STOPPED,
  LODGE_DESIRED_RUNNING,
  LODGE_DESIRED_LAST
} LodgeDesiredState;
LODGE_ENUM_DECL (lodge_desired_state);

typedef enum {
  LODGE_PHASE_STOPPED,
  LODGE_PHASE_STARTING,
  LODGE_PHASE_RUNNING,
  LODGE_PHASE_STOPPING,
  LODGE_PHASE_MIGRATING,
  LODGE_PHASE_FAILED,   /* could not start or place; last_error says why */
  LODGE_PHASE_LAST
} LodgePhase;
LODGE_ENUM_DECL (lodge_phase);

/* Why a guest stopped that Lodge did not stop, as libvirt tells it. */
typedef enum {
  LODGE_STOP_NONE,      /* Lodge stopped it, or it runs */
  LODGE_STOP_SHUTDOWN,  /* shut down from inside */
  LODGE_STOP_CRASHED,   /* the guest crashed or its QEMU was killed */
  LODGE_STOP_PANICKED,  /* the guest kernel panicked (pvpanic) */
  LODGE_STOP_FAILED,    /* its QEMU failed */
  LODGE_STOP_DESTROYED, /* destroyed outside Lodge */
  LODGE_STOP_GONE,      /* its domain was undefined outside Lodge */
  LODGE_STOP_OTHER,
  LODGE_STOP_LAST
} LodgeStopReason;
LODGE_ENUM_DECL (lodge_stop_reason);

/* Automatic restarts after a crash: at most this many in the window, then
 * the VE is left failed. */
#define LODGE_CRASH_LOOP_MAX 3
#define LODGE_CRASH_LOOP_WINDOW_S 600

/* A writing repair's hold on a VE's disk: starts are refused while it
 * stands. */
typedef struct {
  char *op;        /* the repair: "revert", "shell", "app install" */
  char *who;       /* on whose behalf: "alice (uid 1000)"; NULL in an old record whose
                    * sentence did not read as "OP by WHO since TIME" (op has it whole) */
  gint64 since_us; /* when it was taken (wall clock) */
  char *owner;     /* the controller that holds it */
  char *snapshot;  /* what to roll back to should that controller die mid-repair (or NULL) */
} LodgeRepairClaim;

LodgeRepairClaim *lodge_repair_claim_new (const char *op, const char *who, gint64 since_us,
                                          const char *owner, const char *snapshot);
void lodge_repair_claim_free (LodgeRepairClaim *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRepairClaim, lodge_repair_claim_free)
/* "OP by WHO since TIME" (UTC, to the second), for people. */
char *lodge_repair_claim_describe (const LodgeRepairClaim *c);

/* One per VE, written by the control center. */
typedef struct {
  char *name;
  LodgeDesiredState desired;
  LodgePhase phase;
  char *node;           /* where it runs or last ran; NULL: never placed */
  guint64 generation;   /* +1 at every placement: a stale actor can tell */
  gint64 since_us;      /* when the phase began */
  char *last_error;
  char *disk_pool, *disk_image;
  char *template_version; /* the version the disk was cloned from */
  char *target_node;    /* migrating: where to */
  LodgeRepairClaim *repair; /* NULL: no repair holds the disk */
  /* The last live migration: when it ended, its total time and downtime. */
  gint64 migrated_us;
  guint64 migration_ms, downtime_ms;
  /* The last stop Lodge did not make, and the automatic restarts after
   * such stops: how many in all, and when the latest ones were (at most
   * LODGE_CRASH_LOOP_MAX, oldest first, µs of the controller's clock). */
  LodgeStopReason stop_reason;
  guint restarts;
  gint64 recent_restarts_us[LODGE_CRASH_LOOP_MAX];
  guint n_recent_restarts;
} LodgeRuntimeRecord;

LodgeNodeDecision *lodge_node_decision_new (const char *name); /* up */
void lodge_node_decision_free (LodgeNodeDecision *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeNodeDecision, lodge_node_decision_free)
LodgeNodeDecision *lodge_node_decision_copy (const LodgeNodeDecision *d);
GBytes *lodge_node_decision_to_json (const LodgeNodeDecision *d);
LodgeNodeDecision *lodge_node_decision_from_json (GBytes *json, GError **error);
/* The decision in force about @report's node: a copy of @stored (its
 * decision record; NULL: it has none), else of the part @report carries
 * from before the split, else a new one (up). */
LodgeNodeDecision *lodge_node_decision_in_force (const LodgeNodeDecision *stored,
                                                 const LodgeNodeReport *report);

LodgeNodeReport *lodge_node_report_new (const char *name);
void lodge_node_report_free (LodgeNodeReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeNodeReport, lodge_node_report_free)
GBytes *lodge_node_report_to_json (const LodgeNodeReport *r);
/* Reads a report, or a record written before the split (its control
 * center's part then goes to legacy_decision). */
LodgeNodeReport *lodge_node_report_from_json (GBytes *json, GError **error);
/* Sets (adds, updates) the state of domain @name in @r; removes it. */
void lodge_node_report_set_domain (LodgeNodeReport *r, const char *name, LodgeDomainState state);
void lodge_node_report_remove_domain (LodgeNodeReport *r, const char *name);

/* The view of @report's node with @decision (NULL: none yet, so up). */
LodgeNodeRecord *lodge_node_record_combine (const LodgeNodeReport *report,
                                            const LodgeNodeDecision *decision);
LodgeNodeRecord *lodge_node_record_new (void);
void lodge_node_record_free (LodgeNodeRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeNodeRecord, lodge_node_record_free)
GBytes *lodge_node_record_to_json (const LodgeNodeRecord *r);
/* Sets (adds, updates) the state of domain @name in @r. */
void lodge_node_record_set_domain (LodgeNodeRecord *r, const char *name, LodgeDomainState state);
LodgeNodeRecord *lodge_node_record_from_json (GBytes *json, GError **error);

LodgeRuntimeRecord *lodge_runtime_record_new (const char *name);
void lodge_runtime_record_free (LodgeRuntimeRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeRuntimeRecord, lodge_runtime_record_free)
GBytes *lodge_runtime_record_to_json (const LodgeRuntimeRecord *r);
LodgeRuntimeRecord *lodge_runtime_record_from_json (GBytes *json, GError **error);

G_END_DECLS
