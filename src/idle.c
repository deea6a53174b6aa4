#include "idle.h"

#include "bus.h"
#include "streams.h"

/* bus.c counts calls in flight without telling when the count changes:
 * while calls from departed clients are still running, look again this
 * often. */
#define IN_FLIGHT_POLL_MS 1000

struct _VbIdle {
  guint timeout_ms;
  VbIdleFunc on_idle;
  gpointer user_data;
  guint clients;
  guint timer_id;
  gint64 quiet_since;        /* monotonic µs: when last seen busy */
  guint calls_seen;          /* vb_bus_calls_received() then */
};

static gboolean on_timer (gpointer data);

static void
arm (VbIdle *idle, guint delay_ms)
{
  g_clear_handle_id (&idle->timer_id, g_source_remove);
  idle->timer_id = g_timeout_add (delay_ms, on_timer, idle);
}

static void
restart_clock (VbIdle *idle)
{
  idle->quiet_since = g_get_monotonic_time ();
  idle->calls_seen = vb_bus_calls_received ();
}

static gboolean
is_busy (const VbIdle *idle)
{
  return idle->clients > 0 || vb_bus_calls_in_flight () > 0 || vb_streams_active () > 0
         || vb_bus_calls_received () != idle->calls_seen;
}

static gboolean
on_timer (gpointer data)
{
  VbIdle *idle = data;
  gint64 quiet_ms;

  idle->timer_id = 0;
  if (idle->clients > 0)
    return G_SOURCE_REMOVE;
  if (is_busy (idle))
    {
      restart_clock (idle);
      arm (idle, vb_bus_calls_in_flight () > 0 || vb_streams_active () > 0
                     ? IN_FLIGHT_POLL_MS : idle->timeout_ms);
      return G_SOURCE_REMOVE;
    }

  quiet_ms = (g_get_monotonic_time () - idle->quiet_since) / 1000;
  if (quiet_ms >= idle->timeout_ms)
    idle->on_idle (idle->user_data);
  else
    arm (idle, idle->timeout_ms - (guint) quiet_ms);
  return G_SOURCE_REMOVE;
}

VbIdle *
vb_idle_new (guint timeout_seconds, VbIdleFunc on_idle, gpointer user_data)
{
  VbIdle *idle;

  g_return_val_if_fail (timeout_seconds > 0, NULL);
  idle = g_new0 (VbIdle, 1);
  idle->timeout_ms = timeout_seconds * 1000;
  idle->on_idle = on_idle;
  idle->user_data = user_data;
  restart_clock (idle);
  arm (idle, idle->timeout_ms);
  return idle;
}

void
vb_idle_set_clients (VbIdle *idle, guint count)
{
  idle->clients = count;
  if (count > 0)
    {
      g_clear_handle_id (&idle->timer_id, g_source_remove);
      return;
    }
  restart_clock (idle);
  arm (idle, idle->timeout_ms);
}

void
vb_idle_free (VbIdle *idle)
{
  g_clear_handle_id (&idle->timer_id, g_source_remove);
  g_free (idle);
}
