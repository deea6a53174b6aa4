#include "notify.h"

#include "config.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static void
send_state (const char *state)
{
  /* A failure to reach the manager must not stop the service: it still
   * serves its callers, and systemd will say what went wrong. */
  if (sd_notify (0, state) < 0)
    g_debug ("sd_notify (%s) failed", state);
}

static guint64
watchdog_interval_usec (void)
{
  uint64_t usec = 0;

  return sd_watchdog_enabled (0, &usec) > 0 ? usec : 0;
}
#else
static void
send_state (const char *state)
{
}

static guint64
watchdog_interval_usec (void)
{
  return 0;
}
#endif

static void
send_with_status (const char *state, const char *status)
{
  g_autofree char *message = status != NULL ? g_strdup_printf ("%s\nSTATUS=%s", state, status)
                                            : g_strdup (state);

  send_state (message);
}

void
vb_notify_ready (const char *status)
{
  send_with_status ("READY=1", status);
}

void
vb_notify_status (const char *status)
{
  g_autofree char *message = g_strdup_printf ("STATUS=%s", status);

  send_state (message);
}

void
vb_notify_stopping (const char *status)
{
  send_with_status ("STOPPING=1", status);
}

static gboolean
on_watchdog_tick (gpointer data)
{
  send_state ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

guint
vb_notify_watchdog_start (void)
{
  guint64 interval_usec = watchdog_interval_usec ();

  if (interval_usec == 0)
    return 0;
  send_state ("WATCHDOG=1");
  return g_timeout_add ((guint) CLAMP (interval_usec / 2 / 1000, 1, G_MAXUINT),
                        on_watchdog_tick, NULL);
}
