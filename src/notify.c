#include "notify.h"

#include "config.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

#include "dynload.h"

#define SYSTEMD_LIBRARY "libsystemd.so.0"

typedef struct {
  __typeof__ (sd_notify) *notify;
  __typeof__ (sd_watchdog_enabled) *watchdog_enabled;
} SystemdFunctions;

static gpointer
load_systemd (gpointer data)
{
  static SystemdFunctions functions;
  void *library;

  /* Nobody to notify: not started by systemd.  libsystemd is loaded only
   * then, which keeps it (and its libraries) off every other start-up. */
  if (g_getenv ("NOTIFY_SOCKET") == NULL)
    return NULL;
  library = dlopen (SYSTEMD_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL ||
      !VB_DYNLOAD (library, "sd_notify", &functions.notify) ||
      !VB_DYNLOAD (library, "sd_watchdog_enabled", &functions.watchdog_enabled))
    {
      g_warning ("cannot tell systemd about the service: %s", dlerror ());
      return NULL;
    }
  return &functions;
}

static const SystemdFunctions *
systemd_functions (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, load_systemd, NULL);
}

static void
send_state (const char *state)
{
  const SystemdFunctions *systemd = systemd_functions ();

  /* A failure to reach the manager must not stop the service: it still
   * serves its callers, and systemd will say what went wrong. */
  if (systemd != NULL && systemd->notify (0, state) < 0)
    g_debug ("sd_notify (%s) failed", state);
}

static guint64
watchdog_interval_usec (void)
{
  const SystemdFunctions *systemd = systemd_functions ();
  uint64_t usec = 0;

  if (systemd == NULL)
    return 0;
  return systemd->watchdog_enabled (0, &usec) > 0 ? usec : 0;
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
