/* Telling the service manager how the service is doing (sd_notify):
 * ready once the bus name is owned, a status line, stopping, and a
 * watchdog ping from the main loop.  Each is a no-op when virtbusd was
 * not started by systemd ($NOTIFY_SOCKET unset) or was built without
 * libsystemd. */
#pragma once

#include <glib.h>

void vb_notify_ready (const char *status);
void vb_notify_status (const char *status);
void vb_notify_stopping (const char *status);

/* When the unit sets WatchdogSec=, sends WATCHDOG=1 from the main loop
 * at half that interval, so that a main loop stuck for longer gets the
 * service restarted.  Returns the source to remove, or 0 when there is
 * no watchdog. */
guint vb_notify_watchdog_start (void);
