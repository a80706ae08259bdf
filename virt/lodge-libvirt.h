/* libvirt, for what Lodge does to a node: define and run VE domains, stop
 * them, read their state, keep the Ceph secret. virGetLastError() is read
 * here and nowhere else. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "lodge-records.h"

G_BEGIN_DECLS

#define LODGE_LIBVIRT_ERROR (lodge_libvirt_error_quark ())
GQuark lodge_libvirt_error_quark (void);

typedef enum {
  LODGE_LIBVIRT_ERROR_FAILED,
  LODGE_LIBVIRT_ERROR_UNREACHABLE, /* the node's libvirtd does not answer */
  LODGE_LIBVIRT_ERROR_NOT_FOUND,   /* no such domain or secret */
  LODGE_LIBVIRT_ERROR_STATE,       /* the domain is not in a state that allows it */
  LODGE_LIBVIRT_ERROR_INVALID,     /* libvirt refused the XML */
  LODGE_LIBVIRT_ERROR_TIMEOUT,     /* a deadline passed */
  LODGE_LIBVIRT_ERROR_AGENT,       /* the guest agent does not answer */
} LodgeLibvirtErrorCode;


typedef struct _LodgeLibvirt LodgeLibvirt;

/* Seconds a node's libvirtd has to answer a connection; after that, calls
 * on a connection fail once keepalives go unanswered for about 6 s. */
#define LODGE_LIBVIRT_TIMEOUT_S 5

/* Connects to @uri ("qemu+tls://10.0.0.11/system", "test:///default"),
 * with the deadlines above. A qemu+tls:// URI without libvirt's pkipath=
 * gets pkipath=$LODGE_LIBVIRT_PKIPATH when that is set (else libvirt's
 * /etc/pki). */
LodgeLibvirt *lodge_libvirt_open (const char *uri, GError **error);
/* The same with a deadline of @timeout_ms to connect (a liveness probe). */
LodgeLibvirt *lodge_libvirt_open_within (const char *uri, guint timeout_ms, GError **error);

/* The process' guard on what changes a domain (define and start, shut
 * down, destroy, undefine, migrate): asked before each, and its FALSE
 * (with the reason) refuses the change. The control center's says whether
 * its leader lease still holds, so that a controller paused past its lease
 * does not act on a node after it resumes. Set once, before any thread
 * acts; NULL (the default, and agents') allows everything. */
typedef gboolean (*LodgeLibvirtGuard) (gpointer user_data, GError **error);
void lodge_libvirt_set_action_guard (LodgeLibvirtGuard guard, gpointer user_data);
void lodge_libvirt_free (LodgeLibvirt *lv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeLibvirt, lodge_libvirt_free)

const char *lodge_libvirt_uri (LodgeLibvirt *lv);

/* Defines @xml persistently and starts it. When the start fails the
 * definition is removed again: no half-made domain stays. */
gboolean lodge_libvirt_define_and_start (LodgeLibvirt *lv, const char *xml, GError **error);
gboolean lodge_libvirt_state (LodgeLibvirt *lv, const char *name, LodgeDomainState *ret_state,
                              GError **error);
/* The state, and for a guest that is off or crashed why, as libvirt keeps
 * it (LODGE_STOP_NONE otherwise). */
gboolean lodge_libvirt_state_reason (LodgeLibvirt *lv, const char *name,
                                     LodgeDomainState *ret_state, LodgeStopReason *ret_reason,
                                     GError **error);
/* Names of every domain, defined or running, sorted. */
GPtrArray *lodge_libvirt_list (LodgeLibvirt *lv, GError **error);

/* Asks the guest to shut down (its ACPI power button, never its agent)
 * and waits up to @timeout_s for it to be off; then, with @force, pulls
 * the plug (at once with @timeout_s 0). Sets *ret_forced. */
gboolean lodge_libvirt_shutdown (LodgeLibvirt *lv, const char *name, guint timeout_s,
                                 gboolean force, gboolean *ret_forced, GError **error);
/* Pulls the plug at once (fencing, failover); a stopped domain is fine. */
gboolean lodge_libvirt_destroy (LodgeLibvirt *lv, const char *name, GError **error);
/* Whether the running domain @name carries Lodge's metadata (a VE's, not
 * a domain someone else runs on the node). */
gboolean lodge_libvirt_is_lodge_domain (LodgeLibvirt *lv, const char *name);
/* Removes the definition; refused (STATE) while it runs. */
gboolean lodge_libvirt_undefine (LodgeLibvirt *lv, const char *name, GError **error);

/* Live migration, memory only (the disk is shared on RBD). */
typedef struct {
  guint64 total_ms;     /* from start to the guest running on the destination */
  guint64 downtime_ms;  /* the guest paused for the switch-over */
  guint64 data_bytes;   /* memory sent */
} LodgeMigrationStats;

/* Progress while migrating, from the source's job info (in the calling
 * thread, about twice a second): bytes of memory sent, left, and the
 * transfer rate in bytes per second. */
typedef void (*LodgeMigrationProgress) (guint64 processed, guint64 remaining, guint64 bps,
                                        gpointer user_data);

/* Migrates the running domain @name from @lv's node to @dest_uri
 * (peer to peer: the source libvirtd connects to the destination), live,
 * with auto-converge for busy guests and @max_downtime_ms of pause
 * allowed; the definition moves too (persistent there, undefined here).
 * @migrate_uri ("tcp://ADDR") is where QEMU's stream goes, NULL for the
 * destination's own choice. @dest_xml is the domain as the destination
 * is to run it (lodge_domain_xml_retarget() of lodge_libvirt_migratable_xml()),
 * NULL to keep the source's. To a qemu+tls:// destination the guest's
 * memory goes over TLS as well (VIR_MIGRATE_TLS). Gives up after
 * @timeout_s; on failure the guest still runs here. */
gboolean lodge_libvirt_migrate (LodgeLibvirt *lv, const char *name, const char *dest_uri,
                                const char *migrate_uri, const char *dest_xml,
                                guint max_downtime_ms, guint timeout_s,
                                LodgeMigrationProgress progress, gpointer user_data,
                                LodgeMigrationStats *ret_stats, GError **error);

/* The XML of the running domain @name in the form libvirt accepts from
 * another host (VIR_DOMAIN_XML_MIGRATABLE). */
char *lodge_libvirt_migratable_xml (LodgeLibvirt *lv, const char *name, GError **error);

/* Defines (or updates) the Ceph secret @uuid holding @client_id's key
 * (base64, as in the keyring), which RBD disks name in their <auth>. The
 * secret is private: libvirt never shows its value. */
gboolean lodge_libvirt_set_ceph_secret (LodgeLibvirt *lv, const char *uuid, const char *client_id,
                                        const char *key_base64, GError **error);

/* Lifecycle events of @lv's domains: @func runs in libvirt's event thread
 * (marshal it with g_main_context_invoke) with the domain's new state, or
 * @gone set when it was undefined. Returns a handle for
 * lodge_libvirt_unwatch, or -1 with @error set. */
typedef void (*LodgeDomainEventFunc) (const char *domain, LodgeDomainState state, gboolean gone,
                                      gpointer user_data);
int lodge_libvirt_watch (LodgeLibvirt *lv, LodgeDomainEventFunc func, gpointer user_data,
                         GError **error);
void lodge_libvirt_unwatch (LodgeLibvirt *lv, int handle);

/* ---- the guest agent (lodge-libvirt-agent.c) ----
 *
 * The VE's virtio-serial channel org.qemu.guest_agent.0, through
 * libvirt: an agent that speaks the QEMU guest agent protocol answers in
 * the guest (lodge-init --agent in the busybox template, qemu-guest-agent
 * in Debian's). LODGE_LIBVIRT_ERROR_AGENT when none answers.
 *
 * The agent is the guest's, and the guest may be hostile: each of these
 * operations ends within its @timeout_s as a whole, whatever the agent
 * does (LODGE_LIBVIRT_ERROR_TIMEOUT: "guest agent of web1: guest-file-read
 * of /x did not finish within 30 s"), plus at most the 10 s libvirt may
 * spend resynchronising with an agent that fell out of step; no agent
 * call waits longer than 10 s, so a @cancellable (may be NULL) ends an
 * operation within that. What the guest returns is capped as said. */

/* Waits up to @timeout_s for the guest's agent to answer a ping (it
 * starts a moment after the guest's ready line). */
gboolean lodge_libvirt_guest_ping (LodgeLibvirt *lv, const char *domain, guint timeout_s,
                                   GError **error);

/* What a command run in the guest did. */
typedef struct {
  gboolean timed_out;  /* killed at the deadline (with its process group) */
  int exit_code;       /* -1 when killed by a signal */
  int signal;          /* 0 when it exited */
  GBytes *out, *err;   /* what it wrote, at most 16 MiB of each */
  gboolean out_truncated, err_truncated;
  guint64 pid;         /* in the guest */
} LodgeGuestExec;

void lodge_guest_exec_free (LodgeGuestExec *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LodgeGuestExec, lodge_guest_exec_free)

/* Runs @argv (argv[0] a path, or a name looked up in the guest's PATH) in
 * the guest with @input (may be NULL) on its standard input, and waits for
 * it up to @timeout_s; then kills it: the whole within @timeout_s + 10 s. */
LodgeGuestExec *lodge_libvirt_guest_exec (LodgeLibvirt *lv, const char *domain,
                                          const char *const *argv, GBytes *input,
                                          guint timeout_s, GCancellable *cancellable,
                                          GError **error);
/* The whole of file @path in the guest, at most @max bytes (more is an
 * error) within @timeout_s; LODGE_LIBVIRT_ERROR_NOT_FOUND when it does not
 * exist. */
GBytes *lodge_libvirt_guest_read (LodgeLibvirt *lv, const char *domain, const char *path,
                                  gsize max, guint timeout_s, GCancellable *cancellable,
                                  GError **error);
/* Replaces file @path in the guest with @data (created with the agent's
 * umask when missing) within @timeout_s. */
gboolean lodge_libvirt_guest_write (LodgeLibvirt *lv, const char *domain, const char *path,
                                    GBytes *data, guint timeout_s, GCancellable *cancellable,
                                    GError **error);
/* Sets @user's password in the guest to the crypt(5) hash @hash within
 * @timeout_s. */
gboolean lodge_libvirt_guest_set_password (LodgeLibvirt *lv, const char *domain, const char *user,
                                           const char *hash, guint timeout_s, GError **error);

G_END_DECLS
