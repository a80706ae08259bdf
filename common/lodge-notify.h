/* The service manager's readiness and watchdog protocol (sd_notify(3)):
 * a daemon says when it is ready, what it is doing, when it stops, and
 * pings the watchdog from its main loop. Without a service manager
 * ($NOTIFY_SOCKET unset: the local cluster, a shell) every call does
 * nothing. Built as its own library (lodge-notify): common itself links
 * GLib and libxml2 only. */
#pragma once

#include <glib.h>

/* READY=1 with STATUS=@status (may be NULL). */
void lodge_notify_ready (const char *status);
/* STATUS=@status. */
void lodge_notify_status (const char *status);
/* STOPPING=1. */
void lodge_notify_stopping (void);
/* When the manager asked for a watchdog ($WATCHDOG_USEC for this
 * process), pings it at half its interval from the thread-default main
 * context, so that a wedged main loop stops the pings; returns the source's
 * id, or 0 when no watchdog was asked for. */
guint lodge_notify_watchdog_start (void);
