#include "lodge-notify.h"

#include <systemd/sd-daemon.h>

void
lodge_notify_ready (const char *status)
{
  if (status != NULL)
    sd_notifyf (0, "READY=1\nSTATUS=%s", status);
  else
    sd_notify (0, "READY=1");
}

void
lodge_notify_status (const char *status)
{
  g_return_if_fail (status != NULL);
  sd_notifyf (0, "STATUS=%s", status);
}

void
lodge_notify_stopping (void)
{
  sd_notify (0, "STOPPING=1");
}

static gboolean
watchdog_ping (gpointer data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

guint
lodge_notify_watchdog_start (void)
{
  uint64_t usec = 0;
  if (sd_watchdog_enabled (0, &usec) <= 0 || usec == 0)
    return 0;
  guint interval_ms = (guint) MAX (usec / 2000, 1);
  GSource *source = g_timeout_source_new (interval_ms);
  g_source_set_callback (source, watchdog_ping, NULL, NULL);
  g_source_set_name (source, "lodge watchdog");
  guint id = g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
  return id;
}
